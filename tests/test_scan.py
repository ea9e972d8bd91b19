import numpy as np
import pytest

import minrnn
from minrnn import scan

from minrnn import reference as ref


def make(rng, B, T, C, dtype=np.float64):
    a = rng.uniform(0.5, 1.0, (B, T, C)).astype(dtype)
    b = rng.normal(size=(B, T, C)).astype(dtype)
    h0 = rng.normal(size=(B, C)).astype(dtype)
    return a, b, h0


@pytest.mark.parametrize("mode", ["sequential", "parallel", "auto"])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("with_h0", [False, True])
def test_forward_matches_reference(rng, mode, dtype, tol, with_h0):
    for B, T, C in [(1, 1, 1), (2, 37, 5), (3, 700, 70), (1, 2000, 3)]:
        a, b, h0 = make(rng, B, T, C, dtype)
        h0 = h0 if with_h0 else None
        got = scan.linear(a, b, h0, mode=mode)
        assert got.dtype == dtype and got.shape == (B, T, C)
        want = ref.scan(a, b, h0)
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 10)


@pytest.mark.parametrize("mode", ["sequential", "parallel"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_backward_matches_reference(rng, mode, with_h0):
    for B, T, C in [(1, 1, 1), (2, 9, 4), (2, 1500, 3), (1, 300, 40)]:
        a, b, h0 = make(rng, B, T, C)
        h0 = h0 if with_h0 else None
        h = scan.linear(a, b, h0)
        dh = rng.normal(size=h.shape)
        da, db, dh0 = scan.linear_backward(a, h, dh, h0, mode=mode)
        rda, rdb, rdh0 = ref.scan_backward(a, h, dh, h0)
        np.testing.assert_allclose(da, rda, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(db, rdb, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(dh0, rdh0, rtol=1e-10, atol=1e-10)


def test_backward_finite_differences(rng):
    a, b, h0 = make(rng, 2, 6, 3)
    w = rng.normal(size=(2, 6, 3))

    def loss(a_, b_, h0_):
        return float(np.sum(w * scan.linear(a_, b_, h0_)))

    h = scan.linear(a, b, h0)
    da, db, dh0 = scan.linear_backward(a, h, w, h0)
    for arr, grad in [(a, da), (b, db), (h0, dh0)]:
        num = ref.numeric_grad(lambda: loss(a, b, h0), arr)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_sequential_and_parallel_agree(rng, threads):
    """Property test over the issue's grid: T in {1,2,3,7,64,1000,4099}, B in {1,3}, H in {1,5,64}."""
    minrnn.set_num_threads(threads)
    for T in [1, 2, 3, 7, 64, 1000, 4099]:
        for B in [1, 3]:
            for C in [1, 5, 64]:
                a, b, h0 = make(rng, B, T, C, np.float32)
                s = scan.linear(a, b, h0, mode="sequential")
                p = scan.linear(a, b, h0, mode="parallel")
                np.testing.assert_allclose(p, s, rtol=1e-4, atol=1e-5, err_msg=f"T={T} B={B} C={C}")
                dh = rng.normal(size=s.shape).astype(np.float32)
                gs = scan.linear_backward(a, s, dh, h0, mode="sequential")
                gp = scan.linear_backward(a, s, dh, h0, mode="parallel")
                for x, y in zip(gs, gp):
                    np.testing.assert_allclose(y, x, rtol=1e-4, atol=1e-4, err_msg=f"T={T} B={B} C={C}")


def test_parallel_is_deterministic(rng):
    a, b, h0 = make(rng, 1, 50001, 2, np.float32)
    first = scan.linear(a, b, h0, mode="parallel")
    for _ in range(3):
        assert np.array_equal(first, scan.linear(a, b, h0, mode="parallel"))


def test_long_sequence_stays_finite_and_agrees(rng):
    T = 100_000
    a = rng.uniform(0.9, 1.0, (1, T, 4)).astype(np.float32)
    b = rng.normal(size=(1, T, 4)).astype(np.float32) * 0.1
    s = scan.linear(a, b, mode="sequential")
    p = scan.linear(a, b, mode="parallel")
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(p))
    want = ref.scan(a[:, -2000:], b[:, -2000:], ref.scan(a[:, :-2000], b[:, :-2000])[:, -1])
    np.testing.assert_allclose(s[:, -2000:], want, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(p, s, rtol=1e-3, atol=1e-4)


def test_unbatched_and_h0_shapes(rng):
    a, b, h0 = make(rng, 1, 10, 3)
    h = scan.linear(a[0], b[0], h0[0])
    assert h.shape == (10, 3)
    np.testing.assert_allclose(h, ref.scan(a, b, h0)[0], rtol=1e-12)
    da, db, dh0 = scan.linear_backward(a[0], h, np.ones_like(h), h0[0])
    assert da.shape == (10, 3) and dh0.shape == (3,)


def test_empty_sequence(rng):
    a = np.zeros((2, 0, 3))
    assert scan.linear(a, a).shape == (2, 0, 3)
    da, db, dh0 = scan.linear_backward(a, a, a, np.ones((2, 3)))
    assert da.shape == (2, 0, 3) and np.all(dh0 == 0)


def test_mixed_dtypes_promote(rng):
    a, b, _ = make(rng, 1, 5, 2)
    assert scan.linear(a.astype(np.float32), b).dtype == np.float64
    assert scan.linear(a.astype(np.float32), b.astype(np.float32)).dtype == np.float32


def test_non_contiguous_input(rng):
    a, b, _ = make(rng, 2, 20, 6)
    h = scan.linear(a[:, ::2, ::2], b[:, ::2, ::2])
    np.testing.assert_allclose(h, ref.scan(a[:, ::2, ::2], b[:, ::2, ::2]), rtol=1e-12)


@pytest.mark.parametrize("call,exc,words", [
    (lambda: scan.linear(np.ones((2, 3, 4), np.int64), np.ones((2, 3, 4))), TypeError, ["a", "int64"]),
    (lambda: scan.linear(np.ones((2, 3, 4)), np.ones((2, 3, 5))), ValueError, ["b", "(2, 3, 5)", "(2, 3, 4)"]),
    (lambda: scan.linear(np.ones(4), np.ones(4)), ValueError, ["a", "(B, T, C)"]),
    (lambda: scan.linear(np.ones((2, 3, 4)), np.ones((2, 3, 4)), np.ones((3, 4))), ValueError, ["h0", "(3, 4)", "(2, 4)"]),
    (lambda: scan.linear(np.ones((2, 3, 4)), np.ones((2, 3, 4)), mode="fast"), ValueError, ["mode", "fast"]),
    (lambda: scan.linear(np.array([[1, 2], [3]], dtype=object), np.ones(2)), TypeError, ["a"]),
    (lambda: scan.linear(None, np.ones((1, 2, 3))), TypeError, ["a"]),
])
def test_bad_input(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for w in words:
        assert w in str(info.value)


def test_choose_explains_auto():
    minrnn.set_num_threads(2)
    assert scan.choose(1, 4_000_000, 1) == "parallel"
    assert scan.choose(1, 4_000_000, 15) == "parallel"
    assert scan.choose(16, 1024, 256) == "sequential"
    assert scan.choose(1, 1_000_000, 64) == "sequential"
    assert scan.choose(1, 10, 1) == "sequential"


def test_out_parameter(rng):
    a, b, h0 = make(rng, 2, 50, 3, np.float32)
    out = np.empty_like(a)
    res = scan.linear(a, b, h0, out=out)
    assert res is out
    np.testing.assert_allclose(out, ref.scan(a, b, h0), rtol=2e-5, atol=2e-5)
    out1 = np.empty((50, 3), np.float32)
    assert scan.linear(a[0], b[0], out=out1) is out1
    with pytest.raises(TypeError, match="out"):
        scan.linear(a, b, out=np.empty(a.shape, np.float64))
    with pytest.raises(ValueError, match="out"):
        scan.linear(a, b, out=np.empty((2, 49, 3), np.float32))
    with pytest.raises(TypeError, match="out"):
        scan.linear(a, b, out=np.empty((2, 50, 6), np.float32)[..., ::2])
    with pytest.raises(ValueError, match="share memory"):
        scan.linear(a, b, out=a)


@pytest.mark.parametrize("threads", [1, 2])
def test_overflow_is_inf_in_every_mode(threads):
    """|a| > 1 for thousands of steps overflows float. From a zero state with b > 0 every
    schedule gives the sequential walk's inf, not NaN (a chunk's product is inf, and inf * 0
    would be NaN). With terms of both signs the parallel order can still meet inf - inf."""
    minrnn.set_num_threads(threads)
    a = np.full((1, 4096, 2), 1.5, np.float32)
    b = np.ones_like(a)
    s = minrnn.scan.linear(a, b, mode="sequential")
    assert np.isinf(s[0, -1]).all() and not np.isnan(s).any()
    for mode in ("parallel", "auto"):
        np.testing.assert_array_equal(minrnn.scan.linear(a, b, mode=mode), s)
    minrnn.set_num_threads(2)
