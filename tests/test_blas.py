"""The GEMM wrapper (threaded slices, gemv for a single row or column, empty inner
dimension) through the linear kernels, against NumPy in float64."""
import numpy as np
import pytest

import minrnn
from minrnn import _core


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("M,K,N", [(1, 7, 5), (5, 7, 1), (1, 1, 1), (1, 300, 600), (600, 300, 1),
                                   (37, 0, 11), (0, 5, 4), (130, 70, 90), (2000, 64, 48), (48, 64, 2000)])
def test_linear_forward_backward(rng, threads, M, K, N):
    minrnn.set_num_threads(threads)
    x = rng.normal(size=(M, K))
    w = rng.normal(size=(N, K))
    b = rng.normal(size=N)
    np.testing.assert_allclose(_core.linear_forward(x, w, b), x @ w.T + b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_core.linear_forward(x, w, None), x @ w.T, rtol=1e-12, atol=1e-12)
    dy = rng.normal(size=(M, N))
    dx, dw, db = _core.linear_backward(x, w, dy)
    np.testing.assert_allclose(dx, dy @ w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, dy.T @ x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, dy.sum(0), rtol=1e-12, atol=1e-12)
    xf, wf = x.astype(np.float32), w.astype(np.float32)
    np.testing.assert_allclose(_core.linear_forward(xf, wf, None), x @ w.T, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("N", [1, 7, 8, 9, 64, 101])
@pytest.mark.parametrize("K", [1, 5, 8, 13, 256, 259])
def test_single_row_product_float32(rng, N, K):
    """A single row times a weight matrix takes minrnn's own kernel (8 rows at a time)."""
    x = rng.normal(size=(1, K)).astype(np.float32)
    w = rng.normal(size=(N, K)).astype(np.float32)
    want = x.astype(np.float64) @ w.astype(np.float64).T
    np.testing.assert_allclose(_core.linear_forward(x, w, None), want, rtol=1e-5, atol=1e-5 * np.sqrt(K))
    b = rng.normal(size=N).astype(np.float32)  # the bias is seeded, then accumulated onto
    np.testing.assert_allclose(_core.linear_forward(x, w, b), want + b, rtol=1e-5, atol=1e-5 * np.sqrt(K))
