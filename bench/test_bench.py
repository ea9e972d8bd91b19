"""pytest-benchmark suite: pytest bench/ --benchmark-only [--threads N].

Each benchmark checks its result before timing. Peers (torch, minGRU-pytorch) are
skipped when not installed. Ratios between rows are what count; see compare.py for a
single table with ratios computed in one run.
"""
import numpy as np
import pytest

import minrnn

from minrnn.__main__ import train_step  # forward(train=True), then backward

LAYER_SHAPES = [(1, 1024, 256, 256), (16, 512, 256, 256), (16, 1024, 256, 256)]
SCAN_SHAPES = [(1, 1_000_000, 1), (1, 250_000, 64), (16, 1024, 256)]


@pytest.mark.parametrize("shape", SCAN_SHAPES, ids=str)
@pytest.mark.parametrize("mode", ["sequential", "parallel", "auto"])
def test_scan(benchmark, rng, shape, mode):
    a = rng.uniform(0.5, 1.0, shape).astype(np.float32)
    b = rng.standard_normal(shape, dtype=np.float32)
    out = np.empty_like(a)
    want = minrnn.scan.linear(a, b, mode="sequential")
    np.testing.assert_allclose(minrnn.scan.linear(a, b, mode=mode), want, rtol=1e-3, atol=1e-3)
    benchmark(minrnn.scan.linear, a, b, mode=mode, out=out)


@pytest.mark.parametrize("shape", LAYER_SHAPES, ids=str)
@pytest.mark.parametrize("cell", ["MinGRU", "MinLSTM"])
@pytest.mark.parametrize("what", ["forward", "forward+backward", "projection GEMM"])
def test_layer(benchmark, rng, shape, cell, what):
    B, T, D, H = shape
    m = getattr(minrnn, cell)(D, H, seed=0)
    x = rng.standard_normal((B, T, D), dtype=np.float32)
    y, _ = m(x)
    assert np.all(np.isfinite(y))
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


@pytest.mark.parametrize("H", [256, 1024])
@pytest.mark.parametrize("cell", ["MinGRU", "MinLSTM"])
def test_step(benchmark, rng, cell, H):
    m = getattr(minrnn, cell)(H, H, seed=0)
    x = rng.standard_normal((1, H), dtype=np.float32)
    state = m.initial_state(batch=1)
    benchmark(m.step, x, state)


CLASSIC_SHAPES = [(1, 1024, 256), (64, 256, 512)]


@pytest.mark.parametrize("shape", CLASSIC_SHAPES, ids=str)
@pytest.mark.parametrize("cell", ["GRU", "LSTM", "RNN", "MGU"])
@pytest.mark.parametrize("what", ["forward", "forward+backward"])
def test_classic(benchmark, rng, shape, cell, what):
    B, T, H = shape
    m = getattr(minrnn, cell)(H, H, seed=0)
    x = rng.standard_normal((B, T, H), dtype=np.float32)
    assert np.all(np.isfinite(m(x)[0]))
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
    benchmark(m, x, state)


@pytest.mark.parametrize("cell", ["GRUCell", "LSTMCell", "RNNCell"])
def test_torch_cell_step(benchmark, rng, cell):
    torch = pytest.importorskip("torch")
    m = getattr(torch.nn, cell)(256, 256)
    x = torch.from_numpy(rng.standard_normal((1, 256), dtype=np.float32))
    with torch.inference_mode():
        state = m(x)
        benchmark(m, x, state)
