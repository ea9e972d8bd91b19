"""Threads, memory and numerics under stress (issue 7): the contracts in the README's
Reliability section."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import minrnn as mr


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# Resident memory is only meaningful without AddressSanitizer (it quarantines freed memory).
needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/statm") or "asan" in os.environ.get("LD_PRELOAD", ""),
                                reason="needs /proc, and no AddressSanitizer")


# ---- threads ----
@pytest.mark.parametrize("make", [lambda: mr.GRU(8, 32, num_layers=2, seed=0),
                                  lambda: mr.LSTM(8, 32, bidirectional=True, seed=0),
                                  lambda: mr.MinGRU(8, 32, seed=0)])
def test_shared_layer_inference_from_four_threads(rng, make):
    m = make()
    xs = [rng.standard_normal((3, 200, 8), dtype=np.float32) for _ in range(4)]
    want = [m(x)[0] for x in xs]
    got, errors = [None] * 4, []

    def work(i):
        try:
            for _ in range(5):
                got[i] = m(xs[i])[0]
                y, s = m.step(xs[i][:, 0], None) if not m.bidirectional else (None, None)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    for g, w in zip(got, want):
        assert np.array_equal(g, w)


def test_simultaneous_training_on_one_layer_raises():
    m = mr.GRU(64, 256, seed=0)
    x = np.ones((8, 400, 64), np.float32)
    outcomes = []
    start = threading.Barrier(2)

    def work():
        start.wait()
        try:
            for _ in range(3):
                m.forward(x, train=True)
            outcomes.append("ok")
        except RuntimeError as exc:
            outcomes.append(str(exc))

    ts = [threading.Thread(target=work) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert any("already training in another thread" in o for o in outcomes), outcomes


def test_set_num_threads_while_another_thread_computes(rng):
    m = mr.LSTM(32, 64, seed=0)
    x = rng.standard_normal((4, 300, 32), dtype=np.float32)
    want = m(x)[0]
    stop, errors = threading.Event(), []

    def compute():
        try:
            while not stop.is_set():
                y = m(x)[0]
                np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
        except Exception as exc:
            errors.append(exc)

    t = threading.Thread(target=compute)
    t.start()
    for n in [1, 2, 3, 4, 1, 2] * 20:
        mr.set_num_threads(n)
    stop.set()
    t.join()
    assert not errors


# ---- memory ----
@needs_proc
def test_ten_thousand_training_calls_leave_memory_flat(rng):
    m = mr.GRU(8, 16, seed=0)
    x = rng.standard_normal((2, 8, 8), dtype=np.float32)
    dy = np.ones((2, 8, 16), np.float32)

    def calls(n):
        for _ in range(n):
            m.forward(x, train=True)
            m.backward(dy)
    calls(1000)
    before = rss_mb()
    calls(10_000)
    assert rss_mb() - before < 4, (before, rss_mb())


@needs_proc
def test_million_step_mingru_streams_in_bounded_memory(rng):
    m = mr.MinGRU(4, 16, seed=0)
    chunk = rng.standard_normal((1, 10_000, 4), dtype=np.float32)
    h, peak = None, 0.0
    _ = m(chunk)
    before = rss_mb()
    for _ in range(100):  # 1 000 000 steps
        y, h = m(chunk, h)
        peak = max(peak, rss_mb())
    assert np.all(np.isfinite(h))
    assert peak - before < 16, (before, peak)


def test_huge_requests_raise_memory_error():
    code = r"""
import numpy as np, minrnn as mr
cases = [lambda: mr.GRU(4, 10**6),
         lambda: mr.Embedding(4, 3)(np.broadcast_to(np.zeros(1, np.int64), (10**11,))),
         lambda: mr.LanguageModel(5, 2, 3).sample_ids([1], 10**13),
         lambda: mr.MinGRU(1, 4)(np.broadcast_to(np.zeros((1, 1, 1), np.float32), (1, 10**12, 1)))]
for f in cases:
    try:
        f()
        raise SystemExit("no error")
    except MemoryError:
        pass
print("ok")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


# ---- numerics ----
@pytest.mark.parametrize("cls", [mr.RNN, mr.GRU, mr.LSTM, mr.MGU, mr.MinGRU, mr.MinLSTM])
def test_large_inputs_give_no_nan(rng, cls):
    m = cls(8, 16, seed=0)
    x = 1e4 * rng.standard_normal((2, 50, 8)).astype(np.float32)
    y, _ = m.forward(x, train=True)
    dx, _ = m.backward(np.ones_like(y))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    assert all(np.all(np.isfinite(g)) for g in m.grads.values())


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_training_is_bit_identical_run_to_run(rng, threads):
    mr.set_num_threads(threads)
    m = mr.LanguageModel(30, 16, 128, cell="gru", num_layers=2, seed=0)
    ids = rng.integers(0, 30, (8, 65))
    out = []
    for _ in range(2):
        loss, _ = m.loss(ids[:, :-1], ids[:, 1:], train=True)
        m.backward()
        out.append((loss, {k: v.copy() for k, v in m.grads.items()}))
    assert out[0][0] == out[1][0]
    for k in out[0][1]:
        assert np.array_equal(out[0][1][k], out[1][1][k])


def test_fuzz_every_entry_point_in_a_subprocess():
    """tests/fuzz_entry_points.py calls every public entry point with random arguments;
    run apart, so that a crash fails this test instead of ending the run."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_entry_points.py")
    r = subprocess.run([sys.executable, script, "--cases", "3000", "--seed", "0"], capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, (r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    assert "3000 cases" in r.stdout


# ---- nothing a caller does with a returned array changes what comes later ----
@pytest.mark.parametrize("cls,kw", [(mr.GRU, {}), (mr.LSTM, {"batch_first": False}), (mr.MinGRU, {}),
                                    (mr.RNN, {"bidirectional": True})])
def test_training_output_is_read_only(rng, cls, kw):
    layer = cls(4, 6, seed=0, **kw)
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    y, _ = layer.forward(x, train=True)
    dy = np.ones_like(y)
    layer.backward(dy)
    ref = {k: v.copy() for k, v in layer.grads.items()}
    y, _ = layer.forward(x, train=True)
    with pytest.raises(ValueError, match="read-only"):
        y += 1.0  # backward reads y: this would change the gradients
    layer.backward(dy)
    for k in ref:
        np.testing.assert_array_equal(layer.grads[k], ref[k])
    y2, _ = layer(x)  # inference output is the caller's to change
    y2 += 1.0


def test_cross_entropy_gradient_is_handed_over(rng):
    ce = mr.CrossEntropyLoss()
    logits = rng.standard_normal((6, 5)).astype(np.float32)
    ce.forward(logits, rng.integers(0, 5, 6), grad=True)
    d1 = ce.backward()
    ref = d1.copy()
    d1 *= 10.0
    # computed again (the fused pass and backward round differently, by an ulp)
    np.testing.assert_allclose(ce.backward(), ref, rtol=1e-6, atol=1e-9)


def test_optimizer_step_checks_everything_before_updating():
    p = {"a": np.zeros(3), "z": np.zeros(2)}
    opt = mr.SGD(p, lr=1.0)
    with pytest.raises(ValueError, match=r"grads\['z'\] has shape"):
        opt.step({"a": np.ones(3), "z": np.ones(5)})
    assert opt.t == 0 and not p["a"].any()


def test_checkpoint_with_a_huge_configuration_is_refused_before_building(tmp_path):
    import json
    for kind in ("layer", "model"):
        path = tmp_path / f"{kind}.ckpt"
        if kind == "layer":
            mr.GRU(3, 4).save(path)
        else:
            mr.LanguageModel(5, 3, 4, cell="lstm").save(path)
        z = dict(np.load(path))
        meta = json.loads(z["meta"].tobytes())
        meta["config"]["hidden_size"] = 100_000  # 10^10 weights if it were built
        z["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
        with open(path, "wb") as f:
            np.savez(f, **z)
        load = mr.load_layer if kind == "layer" else mr.LanguageModel.load
        with pytest.raises(mr.CheckpointError, match="does not match the weights"):
            load(path)


def test_saving_to_one_path_from_many_threads(tmp_path):
    layer = mr.GRU(3, 4, seed=0)
    path = tmp_path / "g.ckpt"
    errors = []

    def save():
        try:
            for _ in range(10):
                layer.save(path)
        except Exception as exc:  # noqa: BLE001 - any failure is the test's failure
            errors.append(exc)
    threads = [threading.Thread(target=save) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and mr.load_layer(path).state_dict().keys() == layer.state_dict().keys()
    assert os.listdir(tmp_path) == ["g.ckpt"]  # no temporary file left behind


def _lm():
    v = mr.Vocab.from_text("abcdef")
    return mr.LanguageModel(len(v), 4, 8, cell="gru", seed=0, vocab=v)


@pytest.mark.parametrize("call,exc,words", [
    (lambda: mr.GRU(4, 8, seed=-1), ValueError, ["seed", "-1"]),
    (lambda: mr.Linear(4, 8, seed=1.5), TypeError, ["seed", "1.5"]),
    (lambda: mr.GRU(4, 8, num_layers=10**9), MemoryError, ["num_layers=1000000000", "GiB"]),
    (lambda: _lm().sample_ids([1], 10.0), ValueError, ["n", "10.0"]),
    (lambda: _lm().sample_ids([1], 3, seed=2**64), ValueError, ["seed", "2**64", "18446744073709551616"]),
    (lambda: _lm().sample_ids([1], 3, seed=2**64 - 1), None, []),
    (lambda: _lm().nll(np.array([3])), ValueError, ["at least 2 tokens", "1"]),
    (lambda: mr.Trainer(_lm()).evaluate("abcdefabc", batch_size=-1), ValueError, ["batch_size", "-1"]),
    (lambda: mr.Trainer(_lm()).evaluate("abcdefabc", seq_len=2.0), ValueError, ["seq_len", "2.0"]),
    (lambda: mr.Trainer(_lm(), batch_size=2).fit("abcdefabcabc", steps=1, eval_every=-1), ValueError,
     ["eval_every", "-1"]),
    (lambda: mr.scan.choose(-5, 10, 1), ValueError, ["batch", "-5"]),
    (lambda: mr.scan.choose(1, 1.5, 1), TypeError, ["steps", "1.5"]),
    (lambda: mr.SGD({"a": np.zeros(2)}, lr=1).load_state_dict(None), TypeError, ["state_dict", "NoneType"]),
    (lambda: mr.SGD({"a": np.zeros(2)}, lr=1).load_state_dict({"type": "SGD"}), ValueError, ["hyper"]),
    (lambda: mr.GRUCell(3, 4).load_state_dict({}), ValueError, ["GRUCell", "'weight_ih'"]),
    (lambda: mr.GRU(3, 4)(np.zeros((1, 2, 3), np.float32), (np.zeros((1, 1, 4), np.float32),)),
     TypeError, ["h0", "tuple"]),
    (lambda: mr.Embedding(5, 2)(np.array([2**63 + 5], np.uint64)), ValueError, ["ids", "9223372036854775813"]),
    (lambda: mr.Vocab.from_text("abc", min_count=-1), ValueError, ["min_count", "-1"]),
    (lambda: mr.MinGRU(16, 60000), None, []),  # no weight_hh: ~8 MB, not refused
    (lambda: mr.GRU(3, 4, seed=[1, 2]), None, []),  # what numpy's default_rng takes
    (lambda: mr.GRU(3, 4, seed=np.random.default_rng(0)), None, []),
])
def test_argument_checks(call, exc, words):
    if exc is None:  # accepted
        call()
        return
    with pytest.raises(exc) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_empty_lists_and_numpy_integers():
    assert mr.Vocab.from_text("abc").decode([]) == ""
    assert len(mr.Vocab.from_text("aabbc", max_size=np.int64(3))) == 3
