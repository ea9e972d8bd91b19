"""Training, checkpoints and the command line."""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import minrnn as mr

TEXT = ("the quick brown fox jumps over the lazy dog. " * 40 +
        "a journey of a thousand miles begins with a single step. " * 40)


def make(cell="gru", seed=0, dropout=0.0, layers=1, opt=mr.Adam, **kw):
    v = mr.Vocab.from_text(TEXT)
    m = mr.LanguageModel(len(v), 8, 32, cell=cell, num_layers=layers, dropout=dropout, seed=seed,
                         vocab=v)
    return mr.Trainer(m, opt(m.parameters(), lr=0.01), batch_size=4, seq_len=16, **kw)


@pytest.mark.parametrize("cell", sorted(mr.model.CELLS))
def test_training_drives_loss_below_uniform(cell):
    tr = make(cell, layers=2 if cell.startswith("min") else 1, clip_norm=5.0)
    tr.fit(TEXT, steps=150, progress=False, log=lambda s: None)
    uniform = math.log(len(tr.model.vocab))
    assert np.mean(tr.losses[:5]) > 0.8 * uniform
    assert np.mean(tr.losses[-10:]) < 0.4 * uniform, (cell, tr.losses[-10:])


def test_streams_and_carried_state():
    tr = make()
    ids = tr.model.vocab.encode(TEXT)
    S = (len(ids) - 1) // 4
    tr.fit(ids, steps=3, progress=False, log=lambda s: None)
    assert tr.pos == 48 and tr.state is not None and tr.state.shape == (1, 4, 32)
    # run to the end of the streams: position and state start over, epoch counts
    steps_per_epoch = math.ceil(S / 16)
    tr.fit(ids, steps=steps_per_epoch, progress=False, log=lambda s: None)
    assert tr.pos == 0 and tr.state is None and tr.epoch == 1


def test_validation_is_reported(capsys):
    tr = make()
    tr.fit(TEXT[:-400], val=TEXT[-400:], steps=20, eval_every=10, progress=False)
    out = capsys.readouterr().out
    assert out.count("val perplexity") == 2 and len(tr.val) == 2
    assert tr.val[1][1] == pytest.approx(math.exp(tr.evaluate(TEXT[-400:])))


@pytest.mark.parametrize("cell,dropout,opt", [("gru", 0.0, mr.Adam), ("lstm", 0.3, mr.Adagrad),
                                              ("mingru", 0.3, mr.SGD)])
def test_resume_equals_uninterrupted(tmp_path, cell, dropout, opt):
    path = tmp_path / "run.ckpt"
    a = make(cell, dropout=dropout, layers=2, opt=opt, clip_norm=1.0)
    a.fit(TEXT, steps=25, progress=False, log=lambda s: None)
    b = make(cell, dropout=dropout, layers=2, opt=opt, clip_norm=1.0)
    b.fit(TEXT, steps=11, progress=False, log=lambda s: None, checkpoint=path)
    del b
    c = mr.Trainer.load(path)
    assert c.step == 11
    c.fit(TEXT, steps=25, progress=False, log=lambda s: None)
    assert c.losses == a.losses  # bit for bit
    for k, v in a.model.parameters().items():
        np.testing.assert_array_equal(c.model.parameters()[k], v)


def test_resume_refuses_other_data(tmp_path):
    path = tmp_path / "run.ckpt"
    make().fit(TEXT, steps=3, progress=False, log=lambda s: None, checkpoint=path)
    with pytest.raises(ValueError, match="same data"):
        mr.Trainer.load(path).fit(TEXT[::-1], steps=5, progress=False, log=lambda s: None)


def test_model_checkpoint_round_trip(tmp_path):
    tr = make("lstm", layers=2)
    tr.fit(TEXT, steps=5, progress=False, log=lambda s: None)
    path = tmp_path / "m.ckpt"
    tr.model.save(path)
    m = mr.LanguageModel.load(path)
    assert m.vocab == tr.model.vocab and m.config() == tr.model.config()
    ids = m.vocab.encode("the quick")
    np.testing.assert_array_equal(m(ids)[0], tr.model(ids)[0])
    assert m.sample("the", 20, seed=3) == tr.model.sample("the", 20, seed=3)
    assert [p.name for p in tmp_path.iterdir()] == ["m.ckpt"]  # no temporary file left
    with pytest.raises(mr.CheckpointError, match="model only"):
        mr.Trainer.load(path)


def test_corrupt_and_mismatched_checkpoints(tmp_path):
    tr = make()
    tr.fit(TEXT, steps=2, progress=False, log=lambda s: None)
    good = tmp_path / "good.ckpt"
    tr.save(good)
    data = good.read_bytes()
    cases = {"truncated": data[:len(data) // 2], "empty": b"", "noise": os.urandom(3000),
             "flipped": data[:200] + bytes([data[200] ^ 0xFF]) + data[201:]}
    for name, blob in cases.items():
        p = tmp_path / name
        p.write_bytes(blob)
        with pytest.raises(mr.CheckpointError, match=name):
            mr.LanguageModel.load(p)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(mr.CheckpointError, match="no meta"):
        mr.LanguageModel.load(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError, match="missing.ckpt"):
        mr.LanguageModel.load(tmp_path / "missing.ckpt")
    # a well-formed file whose weights do not fit its configuration
    z = dict(np.load(good))
    z["model/head.bias"] = np.zeros(3, np.float32)
    import json
    meta = json.loads(z["meta"].tobytes())
    meta["arrays"]["model/head.bias"] = [[3], "<f4"]
    z["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(tmp_path / "mismatch.npz", **z)
    with pytest.raises(mr.CheckpointError, match=r"head.bias.*\(3,\)"):
        mr.LanguageModel.load(tmp_path / "mismatch.npz")


def test_non_finite_loss_stops_and_keeps_last_checkpoint(tmp_path):
    path = tmp_path / "run.ckpt"
    tr = make()
    tr.fit(TEXT, steps=4, progress=False, log=lambda s: None, checkpoint=path, checkpoint_every=2)
    saved = path.read_bytes()
    tr.model.parameters()["head.bias"][0] = np.nan
    with pytest.raises(mr.TrainingError, match="step 5"):
        tr.fit(TEXT, steps=8, progress=False, log=lambda s: None, checkpoint=path, checkpoint_every=1)
    assert path.read_bytes() == saved and tr.step == 4
    resumed = mr.Trainer.load(path)
    assert resumed.step == 4 and np.all(np.isfinite(resumed.model.parameters()["head.bias"]))


def test_unwritable_checkpoint_path_fails_before_training(tmp_path):
    tr = make()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tr.fit(TEXT, steps=5, progress=False, checkpoint=tmp_path / "no" / "such" / "dir.ckpt")
    assert tr.step == 0
    with pytest.raises(IsADirectoryError):
        tr.model.save(tmp_path)
    (tmp_path / "t.txt").write_text(TEXT)
    r = run("train", str(tmp_path / "t.txt"), "--out", str(tmp_path / "missing" / "m.ckpt"), "--no-progress")
    assert r.returncode == 1 and "does not exist" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "val perplexity" not in r.stdout  # refused before any training step


def test_trainer_bad_arguments():
    tr = make()
    with pytest.raises(ValueError, match="too few"):
        tr.fit("ab", steps=1, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        mr.Trainer(tr.model, batch_size=0)
    with pytest.raises(ValueError, match="clip_norm"):
        mr.Trainer(tr.model, clip_norm=-1)
    with pytest.raises(ValueError, match="optimizer must hold"):
        mr.Trainer(tr.model, mr.SGD({"x": np.zeros(2)}))


# ---- command line ----
def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "minrnn", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def test_cli_train_sample_perplexity(tmp_path):
    txt = tmp_path / "t.txt"
    txt.write_text(TEXT)
    ck = tmp_path / "m.ckpt"
    r = run("train", str(txt), "--steps", "30", "--hidden", "32", "--batch", "4", "--seq-len", "16",
            "--eval-every", "10", "--out", str(ck), "--no-progress", "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("val perplexity") == 3 and ck.exists()
    r = run("sample", str(ck), "--prime", "the ", "-n", "40", "--seed", "1")
    assert r.returncode == 0 and r.stdout.startswith("the ") and len(r.stdout) >= 44
    assert r.stdout == run("sample", str(ck), "--prime", "the ", "-n", "40", "--seed", "1").stdout
    r = run("perplexity", str(ck), str(txt))
    assert r.returncode == 0 and r.stdout.startswith("perplexity ")
    ppl = float(r.stdout.split()[1])
    assert 1 < ppl < len(set(TEXT)) + 1
    r = run("train", str(txt), "--steps", "40", "--resume", str(ck), "--out", str(ck), "--no-progress",
            "--eval-every", "10")
    assert r.returncode == 0 and "resuming" in r.stdout and "step     40" in r.stdout
    # resuming keeps the model, vocabulary, batch and optimizer: a different one is an error
    for opt in [["--hidden", "64"], ["--cell", "lstm"], ["--batch", "8"], ["--optimizer", "sgd"],
                ["--level", "word"]]:
        r = run("train", str(txt), "--steps", "50", "--resume", str(ck), "--out", str(ck), *opt)
        assert r.returncode == 1 and f"{opt[0]} {opt[1]} conflicts with" in r.stderr, (opt, r.stderr)
    before = ck.read_bytes()
    r = run("train", str(txt), "--steps", "40", "--resume", str(ck), "--out", str(ck), "--hidden", "32")
    assert r.returncode == 0 and "already at step 40: nothing to do" in r.stdout
    assert ck.read_bytes() == before and "saved" not in r.stdout  # not rewritten
    # ... while the learning rate, BPTT length and clipping may change
    r = run("train", str(txt), "--steps", "45", "--resume", str(ck), "--out", str(ck), "--no-progress",
            "--lr", "0.01", "--seq-len", "8", "--clip-norm", "1")
    assert r.returncode == 0 and "now with lr 0.01, seq-len 8, clip-norm 1" in r.stdout, r.stdout
    tr = mr.Trainer.load(ck)
    assert tr.step == 45 and tr.optimizer.lr == 0.01 and tr.seq_len == 8 and tr.clip_norm == 1


def test_cli_small_things(tmp_path):
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"minrnn {mr.__version__}"
    txt = tmp_path / "t.txt"
    txt.write_text(TEXT + "x")  # 4081 tokens: (4081 - 1) // 4 = 1020 per stream
    # the header gives the BPTT length a step really has on a short text
    r = run("train", str(txt), "--steps", "1", "--batch", "4", "--seq-len", "100000", "--hidden", "8",
            "--val-fraction", "0", "--out", str(tmp_path / "m.ckpt"), "--no-progress", "--dropout", "0.2")
    n = mr.data.stream_batches(np.arange(len(TEXT) + 1), 4).shape[1] - 1
    assert r.returncode == 0 and f"batch 4 x {n} tokens per step" in r.stdout, r.stdout
    assert "with --layers 1 it has no effect" in r.stdout and "Warning" not in r.stderr
    # options abbreviated as argparse allows still count as given
    r = run("train", str(txt), "--steps", "1", "--resume", str(tmp_path / "m.ckpt"), "--hid", "16",
            "--out", str(tmp_path / "m.ckpt"))
    assert r.returncode == 1 and "--hidden 16 conflicts with" in r.stderr, r.stderr
    # a closed pipe ends the program quietly
    p = subprocess.Popen([sys.executable, "-m", "minrnn", "sample", str(tmp_path / "m.ckpt"), "-n", "100000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.read(10)
    p.stdout.close()
    assert p.wait(timeout=300) in (0, 1) and p.stderr.read() == b""


@pytest.mark.parametrize("args,message", [
    (["train", "nonexistent.txt"], "nonexistent.txt: no such file"),
    (["train", "empty.txt"], "empty"),
    (["train", "spaces.txt"], "too few to hold out"),      # whitespace is text: 3 tokens
    (["train", "t.txt", "--nonlinearity", "relu"], "--nonlinearity is for --cell rnn"),
    (["sample", "t.txt"], "not a minrnn checkpoint (the file is not a zip archive)"),
    (["perplexity", "missing.ckpt", "t.txt"], "does not exist"),
])
def test_cli_errors_are_one_line(tmp_path, args, message):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "spaces.txt").write_text("  \n")
    (tmp_path / "t.txt").write_text(TEXT)
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 1 and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize("args", [["train", "t.txt", "--hidden", "0"], ["train", "t.txt", "--cell", "xyz"],
                                  ["demo", "--lr", "nan"], ["sample", "x", "-n", "-3"], ["bogus"],
                                  ["sample", "x", "--seed", str(2**64)], ["bench", "--threads", "1025"]])
def test_cli_bad_options(tmp_path, args):
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_cli_demo_is_deterministic(tmp_path):
    args = ["demo", "--steps", "12", "--chars", "40000", "--hidden", "32", "--batch", "4",
            "--eval-every", "6", "--sample", "50", "--no-progress", "--seed", "7"]
    a, b = run(*args), run(*args)
    assert a.returncode == 0, a.stderr
    keep = [ln for ln in a.stdout.splitlines() if "tokens/s" not in ln]
    assert keep == [ln for ln in b.stdout.splitlines() if "tokens/s" not in ln]
    assert a.stdout.count("val perplexity") == 2 and "sample" in a.stdout


@pytest.mark.parametrize("cmd", ["demo", "train", "sample", "perplexity", "info", "bench"])
def test_cli_help(cmd):
    r = run(cmd, "--help")
    assert r.returncode == 0 and "usage: minrnn " + cmd in r.stdout


def test_cli_bench_table(tmp_path):
    import json

    import minrnn.__main__
    out = tmp_path / "table.json"
    r = run("bench", "--table", "--quick", "--repeat", "1", "--threads", "1", "--json", str(out))
    assert r.returncode == 0, r.stderr
    rows = json.loads(out.read_text())["rows"]
    cells = {c for c, _, _ in mr.__main__.TABLE_CELLS}
    layer_rows = [x for x in rows if "forward_ms" in x]
    step_rows = [x for x in rows if "step_us" in x]
    assert {x["cell"] for x in layer_rows} == cells == {x["cell"] for x in step_rows}
    assert len(layer_rows) == len(cells) * len(mr.__main__.TABLE_SHAPES)
    assert len(step_rows) == len(cells) * len(mr.__main__.TABLE_STEPS)
    assert all(x["forward_ms"] > 0 and x["forward_backward_ms"] > 0 for x in layer_rows)
    assert r.stdout.count("\n| ") == len(rows) + 2  # two header rows
