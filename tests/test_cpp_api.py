"""The C++ API as a native program uses it: examples/cpp built against the installed CMake
package (find_package(minrnn)), run on models saved from Python, compared with Python."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import minrnn as mr

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)


def cmake_dir():
    if os.environ.get("MINRNN_CMAKE_DIR"):  # a development tree: point at a CMake install
        return os.environ["MINRNN_CMAKE_DIR"]
    try:
        return mr.get_cmake_dir()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory):
    cmake = shutil.which("cmake")
    if cmake is None:
        pytest.skip("cmake is not installed")
    build = tmp_path_factory.mktemp("examples")
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    r = subprocess.run([cmake, "-S", os.path.join(ROOT, "examples", "cpp"), "-B", str(build), *gen,
                        f"-Dminrnn_DIR={cmake_dir()}", f"-DPython_EXECUTABLE={sys.executable}"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([cmake, "--build", str(build)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return build


def run(prog, *args, stdin=None):
    return subprocess.run([str(prog), *map(str, args)], input=stdin, capture_output=True, timeout=300)


TEXT = "the quick brown fox jumps over the lazy dog. a journey of a thousand miles. " * 20


@pytest.mark.parametrize("cell,layers,level,options", [
    ("gru", 1, "char", {}), ("lstm", 2, "char", {}), ("mingru", 2, "char", {}),
    ("rnn", 1, "word", {"nonlinearity": "relu"}), ("gru", 1, "word", {"reset_after": False}),
    ("mgu", 1, "char", {}), ("minlstm", 1, "char", {"candidate": "tanh"})])
def test_generate_samples_what_python_samples(bin_dir, tmp_path, cell, layers, level, options):
    v = mr.Vocab.from_text(TEXT + " ñ€𝄞", level=level)  # non-ASCII tokens travel as JSON escapes
    m = mr.LanguageModel(len(v), 8, 24, cell=cell, num_layers=layers, seed=0, vocab=v, **options)
    mr.Trainer(m, batch_size=4, seq_len=16).fit(TEXT, steps=30, progress=False, log=lambda s: None)
    path = tmp_path / "lm.ckpt"
    m.save(path)
    for prime, kw in [("the ", dict(seed=3)), ("a journey", dict(seed=7, temperature=0.6, top_k=5)),
                      ("t", dict(seed=1, temperature=0))]:
        args = ["--prime", prime, "-n", 40, "--seed", kw["seed"]]
        if "temperature" in kw:
            args += ["--temperature", kw["temperature"]]
        if "top_k" in kw:
            args += ["--top-k", kw["top_k"]]
        r = run(bin_dir / "generate", path, *args)
        assert r.returncode == 0, r.stderr
        assert r.stdout.decode().rstrip("\n") == m.sample(prime, 40, **kw)


def test_generate_arguments(bin_dir, tmp_path):
    v = mr.Vocab.from_text(TEXT)
    m = mr.LanguageModel(len(v), 8, 16, cell="gru", seed=0, vocab=v)
    sd = m.state_dict()
    sd["head.bias"][0] = 30.0  # the unknown token would win every draw: it is never drawn
    m.load_state_dict(sd)
    path = tmp_path / "lm.ckpt"
    m.save(path)
    greedy = m.sample("the ", 30, temperature=0)
    assert v.unk not in greedy
    for t in ["0", "1e-320", "5e-324"]:  # a tiny temperature is greedy, not an overflow
        r = run(bin_dir / "generate", path, "--prime", "the ", "-n", 30, "--temperature", t)
        assert r.returncode == 0 and r.stdout.decode().rstrip("\n") == greedy, (t, r.stdout)
    r = run(bin_dir / "generate", path, "--prime", "the ", "-n", 100, "--seed", 2)
    assert r.stdout.decode().rstrip("\n") == m.sample("the ", 100, seed=2)
    for opt, value in [("--temperature", "-1"), ("--temperature", "nan"), ("--temperature", "inf"),
                       ("--top-k", "-1"), ("--threads", "-1"), ("-n", "-2"), ("--seed", "-1"),
                       ("--seed", " -1"), ("--seed", str(2**64)), ("--seed", "1__0"), ("--seed", "0x10")]:
        r = run(bin_dir / "generate", path, opt, value)
        assert r.returncode == 2 and f"bad value {value} for {opt}".encode() in r.stderr, (opt, value)
    # seeds as Python's int() reads them, up to 2**64 - 1 (the sampler refuses larger ones)
    for value in [str(2**64 - 1), " +1_000 ", "-0"]:
        r = run(bin_dir / "generate", path, "--prime", "the ", "-n", 30, "--seed", value)
        assert r.returncode == 0 and r.stdout.decode().rstrip("\n") == m.sample("the ", 30, seed=int(value)), value
    r = run(bin_dir / "generate", path, "--prime", "the ", "-n", 30, "--top-k", 0, "--threads", 0,
            "--seed", 2)  # 0: all tokens, the default thread count
    assert r.returncode == 0 and r.stdout.decode().rstrip("\n") == m.sample("the ", 30, seed=2)
    r = run(bin_dir / "generate", "--help")
    assert r.returncode == 0 and r.stdout.startswith(b"usage: generate")


@pytest.mark.parametrize("cls,options", [(mr.GRU, {}), (mr.LSTM, {"num_layers": 2}),
                                         (mr.MinGRU, {}), (mr.RNN, {"nonlinearity": "relu"})])
def test_stream_matches_python(bin_dir, tmp_path, cls, options):
    layer = cls(6, 9, seed=2, **options)
    path = tmp_path / "layer.ckpt"
    layer.save(path)
    x = np.random.default_rng(0).standard_normal((50, 6)).astype(np.float32)
    r = run(bin_dir / "gru_stream", path, stdin=x.tobytes())
    assert r.returncode == 0, r.stderr
    y = np.frombuffer(r.stdout, np.float32).reshape(50, 9)
    ref, _ = layer(x)
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())


def test_bad_files_are_errors_not_crashes(bin_dir, tmp_path):
    m = mr.LanguageModel(5, 3, 4, vocab=mr.Vocab.from_text("abcd"))
    good = tmp_path / "good.ckpt"
    m.save(good)
    data = good.read_bytes()
    cases = {"missing.ckpt": None, "truncated.ckpt": data[:len(data) // 2],
             "flipped.ckpt": data[:300] + bytes([data[300] ^ 0x55]) + data[301:],
             "text.ckpt": b"hello, not a model\n" * 10}
    for name, blob in cases.items():
        if blob is not None:
            (tmp_path / name).write_bytes(blob)
        r = run(bin_dir / "generate", tmp_path / name, "-n", 3)
        assert r.returncode == 1, (name, r.returncode, r.stderr)  # not a signal
        assert name.encode() in r.stderr and b"error" in r.stderr
    # a layer file is not a language model, and the other way round
    g = tmp_path / "g.ckpt"
    mr.GRU(2, 3).save(g)
    r = run(bin_dir / "generate", g)
    assert r.returncode == 1 and b"not a language model" in r.stderr
    r = run(bin_dir / "gru_stream", good, stdin=b"")
    assert r.returncode == 1 and b"not a recurrent layer" in r.stderr
    # a frame cut short
    r = run(bin_dir / "gru_stream", g, stdin=np.zeros(3, np.float32).tobytes())
    assert r.returncode == 1 and b"inside a frame" in r.stderr


def test_mismatched_shape_is_refused(bin_dir, tmp_path):
    import json
    g = tmp_path / "g.ckpt"
    mr.GRU(2, 3).save(g)
    z = dict(np.load(g))
    z["model/weight_hh_l0"] = np.zeros((9, 4), np.float32)
    meta = json.loads(z["meta"].tobytes())
    meta["arrays"]["model/weight_hh_l0"] = [[9, 4], "<f4"]
    z["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    bad = tmp_path / "bad.ckpt"
    with open(bad, "wb") as f:  # (a path would get ".npz" appended)
        np.savez(f, **z)
    r = run(bin_dir / "gru_stream", bad, stdin=b"")
    assert r.returncode == 1 and b"weight_hh_l0' has shape (9, 4), expected (9, 3)" in r.stderr


def _edit(src, dst, meta_edit=None, extra=None, listed=True):
    """A copy of checkpoint src with its meta changed by meta_edit(meta) and arrays added."""
    import json
    z = dict(np.load(src))
    meta = json.loads(z["meta"].tobytes())
    if meta_edit:
        meta_edit(meta)
    for k, v in (extra or {}).items():
        z[k] = v
        if listed:
            meta["arrays"][k] = [list(v.shape), v.dtype.str]
    z["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    with open(dst, "wb") as f:
        np.savez(f, **z)


def _set(*path_and_value):
    *path, value = path_and_value

    def edit(meta):
        d = meta
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
    return edit


@pytest.mark.parametrize("kind,edit,extra,listed", [
    ("layer", _set("config", "input_size", 10**11), None, True),
    ("layer", _set("config", "type", "gru"), None, True),
    ("layer", _set("config", "foo", 1), None, True),
    ("layer", _set("config", "bias", None), None, True),  # bool(None): a layer without biases
    ("layer", _set("config", "reset_after", 0), None, True),
    ("layer", None, {"model/extra": np.zeros(2, np.float32)}, False),
    ("layer", None, {"model/extra": np.zeros(2, np.float32)}, True),
    ("lm", _set("config", "embed_size", 10**11), None, True),
    ("lm", _set("config", "options", [1, 2]), None, True),
    ("lm", _set("config", "options", {"reset_after": False}), None, True),
    ("lm", _set("config", "reset_after", False), None, True),
    ("lm", _set("vocab", "level", "byte"), None, True),
    ("lm", _set("vocab", "tokens", ["a", "b", "a", "d"]), None, True),
    ("lm", _set("vocab", "unk", None), None, True),
    ("lm", _set("rng", None), None, True),
    ("lm", None, {"optim/w/m": np.zeros(2, np.float32)}, True),
], ids=["input_size 1e11", "type gru", "unknown key", "bias None", "reset_after 0", "unlisted array",
        "extra model array", "embed_size 1e11", "options a list", "options", "option in config",
        "level byte", "token twice", "unk None", "no rng", "optimizer array"])
def test_reader_loads_what_python_loads(bin_dir, tmp_path, kind, edit, extra, listed):
    """The C++ reader loads a file exactly when Python's does."""
    src, dst = tmp_path / "src.ckpt", tmp_path / "dst.ckpt"
    if kind == "layer":
        mr.GRU(3, 4, seed=0).save(src)
    else:
        mr.LanguageModel(5, 3, 4, cell="gru", seed=0, vocab=mr.Vocab(["a", "b", "c", "d"])).save(src)
    _edit(src, dst, edit, extra, listed)
    try:
        (mr.load_layer if kind == "layer" else mr.LanguageModel.load)(dst)
        python_loads = True
    except mr.CheckpointError:
        python_loads = False
    if kind == "layer":
        r = run(bin_dir / "gru_stream", dst, stdin=b"")
    else:
        r = run(bin_dir / "generate", dst, "-n", 3)
    assert (r.returncode == 0) == python_loads, (python_loads, r.returncode, r.stderr)
    if not python_loads:
        assert r.returncode == 1 and str(dst).encode() in r.stderr
