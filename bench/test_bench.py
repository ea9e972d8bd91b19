"""pytest-benchmark suite: pytest bench/ --benchmark-only [--threads N].

Each benchmark checks its result before timing: minrnn's layers against the NumPy float64
references of minrnn.reference (the output at full size, the gradients against central
differences over the first 32 steps), its steps against one reference step, the scan
against its recurrence, and each peer against minrnn with the same weights. Peers (torch,
minGRU-pytorch, JAX) are skipped when not installed; JAX keeps its own thread pool (all cores) here, so compare.py's
jax section, which runs it in a process per thread count, is the one to quote. Ratios between rows are what count; see compare.py for a
single table with ratios computed in one run.
"""
import numpy as np
import pytest

import minrnn
from minrnn import reference as ref

from minrnn.__main__ import train_step  # forward(train=True), then backward

LAYER_SHAPES = [(1, 1024, 256, 256), (16, 512, 256, 256), (16, 1024, 256, 256)]
SCAN_SHAPES = [(1, 1_000_000, 1), (1, 250_000, 64), (16, 1024, 256)]


@pytest.mark.parametrize("shape", SCAN_SHAPES, ids=str)
@pytest.mark.parametrize("mode", ["sequential", "parallel", "auto"])
def test_scan(benchmark, rng, shape, mode):
    a = rng.uniform(0.5, 1.0, shape).astype(np.float32)
    b = rng.standard_normal(shape, dtype=np.float32)
    out = np.empty_like(a)
    assert ref.scan_residual(a, b, minrnn.scan.linear(a, b, mode=mode)) < 1e-5
    benchmark(minrnn.scan.linear, a, b, mode=mode, out=out)


@pytest.mark.parametrize("shape", LAYER_SHAPES, ids=str)
@pytest.mark.parametrize("cell", ["MinGRU", "MinLSTM"])
@pytest.mark.parametrize("what", ["forward", "forward+backward", "projection GEMM"])
def test_layer(benchmark, rng, shape, cell, what):
    B, T, D, H = shape
    m = getattr(minrnn, cell)(D, H, seed=0)
    x = rng.standard_normal((B, T, D), dtype=np.float32)
    ref.check_layer(m, x, rng, grad_steps=32 if what == "forward+backward" else 0)
    if what == "forward":
        benchmark(m, x)
    elif what == "projection GEMM":
        w = m.state_dict()["weight_ih_l0"]
        benchmark(minrnn._core.linear_forward, x.reshape(B * T, D), w, None)
    else:
        benchmark(train_step, m, x, np.ones((B, T, H), np.float32))


@pytest.mark.parametrize("shape", LAYER_SHAPES, ids=str)
def test_mingru_pytorch_forward(benchmark, rng, shape):
    torch = pytest.importorskip("torch")
    mod = pytest.importorskip("minGRU_pytorch.minGRU")
    B, T, D, H = shape
    peer = mod.minGRU(D, expansion_factor=1.0)
    x = torch.from_numpy(rng.standard_normal((B, T, D), dtype=np.float32))
    with torch.no_grad():
        w = peer.to_hidden_and_gate.weight.numpy()
        ours = minrnn.MinGRU(D, H, bias=False)
        ours.load_state_dict({"weight_ih_l0": np.concatenate([w[H:], w[:H]])})
        np.testing.assert_allclose(ours(x.numpy())[0], peer(x).numpy(), rtol=1e-3, atol=1e-3)
        benchmark(peer, x)


def _jax_scans(jax):
    def combine(l, r):  # (a1, b1) then (a2, b2): h -> a2 (a1 h + b1) + b2
        return l[0] * r[0], r[0] * l[1] + r[1]

    def assoc(a, b):
        return jax.lax.associative_scan(combine, (a, b), axis=1)[1]

    def loop(a, b):
        def step(h, ab):
            h = ab[0] * h + ab[1]
            return h, h
        sw = jax.numpy.swapaxes
        return sw(jax.lax.scan(step, a[:, 0] * 0, (sw(a, 0, 1), sw(b, 0, 1)))[1], 0, 1)
    return {"associative_scan": assoc, "lax.scan": loop}


@pytest.mark.parametrize("shape", SCAN_SHAPES, ids=str)
@pytest.mark.parametrize("how", ["associative_scan", "lax.scan"])
def test_jax_scan(benchmark, rng, shape, how):
    jax = pytest.importorskip("jax")
    a = rng.uniform(0.5, 1.0, shape).astype(np.float32)
    b = rng.standard_normal(shape, dtype=np.float32)
    f = jax.jit(_jax_scans(jax)[how])
    aj, bj = jax.numpy.asarray(a), jax.numpy.asarray(b)
    np.testing.assert_allclose(np.asarray(f(aj, bj)), minrnn.scan.linear(a, b), rtol=1e-3, atol=1e-3)
    benchmark(lambda: f(aj, bj).block_until_ready())


@pytest.mark.parametrize("shape", LAYER_SHAPES, ids=str)
@pytest.mark.parametrize("how", ["associative_scan", "lax.scan"])
def test_jax_mingru_forward(benchmark, rng, shape, how):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    B, T, D, H = shape
    ours = minrnn.MinGRU(D, H, seed=0)
    sd = ours.state_dict()
    scan = _jax_scans(jax)[how]

    @jax.jit
    def forward(x, w, bias):
        p = x @ w.T + bias
        k = p[..., H:]
        z = jax.nn.sigmoid(p[..., :H])
        return scan(1 - z, z * jnp.where(k >= 0, k + 0.5, jax.nn.sigmoid(k)))
    x = rng.standard_normal((B, T, D), dtype=np.float32)
    args = [jnp.asarray(v) for v in (x, sd["weight_ih_l0"], sd["bias_ih_l0"])]
    np.testing.assert_allclose(np.asarray(forward(*args)), ours(x)[0], rtol=1e-3, atol=1e-3)
    benchmark(lambda: forward(*args).block_until_ready())


@pytest.mark.parametrize("H", [256, 1024])
@pytest.mark.parametrize("cell", ["MinGRU", "MinLSTM"])
def test_step(benchmark, rng, cell, H):
    m = getattr(minrnn, cell)(H, H, seed=0)
    x = rng.standard_normal((1, H), dtype=np.float32)
    state = m.step(x, m.initial_state(batch=1))[1]  # a state that is not zero
    ref.check_step(m, x, state, m.step(x, state)[0])
    benchmark(m.step, x, state)


CLASSIC_SHAPES = [(1, 1024, 256), (64, 256, 512)]


@pytest.mark.parametrize("shape", CLASSIC_SHAPES, ids=str)
@pytest.mark.parametrize("cell", ["GRU", "LSTM", "RNN", "MGU"])
@pytest.mark.parametrize("what", ["forward", "forward+backward"])
def test_classic(benchmark, rng, shape, cell, what):
    B, T, H = shape
    m = getattr(minrnn, cell)(H, H, seed=0)
    x = rng.standard_normal((B, T, H), dtype=np.float32)
    ref.check_layer(m, x, rng, grad_steps=32 if what == "forward+backward" else 0)
    if what == "forward":
        benchmark(m, x)
    else:
        benchmark(train_step, m, x, np.ones((B, T, H), np.float32))


@pytest.mark.parametrize("shape", CLASSIC_SHAPES, ids=str)
@pytest.mark.parametrize("cell", ["GRU", "LSTM", "RNN"])
@pytest.mark.parametrize("what", ["forward", "forward+backward"])
def test_torch_classic(benchmark, rng, shape, cell, what):
    torch = pytest.importorskip("torch")
    B, T, H = shape
    peer = getattr(torch.nn, cell)(H, H, batch_first=True)
    x = torch.from_numpy(rng.standard_normal((B, T, H), dtype=np.float32))
    twin = getattr(minrnn, cell)(H, H)  # checked against the reference, then torch against it
    twin.load_state_dict(peer.state_dict())
    ref.check_layer(twin, x.numpy(), rng, grad_steps=0)
    with torch.inference_mode():
        np.testing.assert_allclose(peer(x)[0].numpy(), twin(x.numpy())[0], rtol=1e-3, atol=1e-4)
    if what == "forward":
        def run():
            with torch.inference_mode():
                return peer(x)
        benchmark(run)
    else:
        xg = x.clone().requires_grad_(True)

        def fb():
            y, _ = peer(xg)
            y.backward(torch.ones_like(y))
        benchmark(fb)


@pytest.mark.parametrize("cell", ["GRUCell", "LSTMCell", "RNNCell"])
def test_cell_step(benchmark, rng, cell):
    m = getattr(minrnn, cell)(256, 256, seed=0)
    x = rng.standard_normal((1, 256), dtype=np.float32)
    state = m(x)
    ref.check_step(m, x, state, m(x, state)[0] if isinstance(state, tuple) else m(x, state))
    benchmark(m, x, state)


@pytest.mark.parametrize("cell", ["GRUCell", "LSTMCell", "RNNCell"])
def test_torch_cell_step(benchmark, rng, cell):
    torch = pytest.importorskip("torch")
    m = getattr(torch.nn, cell)(256, 256)
    x = torch.from_numpy(rng.standard_normal((1, 256), dtype=np.float32))
    twin = getattr(minrnn, cell)(256, 256)
    twin.load_state_dict(m.state_dict())
    with torch.inference_mode():
        state = m(x)
        ours = twin(x.numpy(), tuple(s.numpy() for s in state) if isinstance(state, tuple) else state.numpy())
        got = m(x, state)
        ref.check_step(twin, x.numpy(), tuple(s.numpy() for s in state) if isinstance(state, tuple) else state.numpy(),
                       got[0].numpy() if isinstance(got, tuple) else got.numpy())
        np.testing.assert_allclose(ours[0] if isinstance(ours, tuple) else ours,
                                   (got[0] if isinstance(got, tuple) else got).numpy(), rtol=1e-4, atol=1e-5)
        benchmark(m, x, state)
