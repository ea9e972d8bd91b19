import threading

import numpy as np
import pytest

import minrnn


def test_set_and_get():
    minrnn.set_num_threads(3)
    assert minrnn.get_num_threads() == (3 if minrnn._core.openmp else 1)
    for bad, exc in [(0, ValueError), (-2, ValueError), (1025, ValueError), (10**9, ValueError), (1.5, TypeError),
                     ("2", TypeError)]:
        with pytest.raises(exc, match="n"):
            minrnn.set_num_threads(bad)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_results_do_not_depend_on_thread_count_beyond_rounding(rng, threads):
    x = rng.standard_normal((3, 700, 8), dtype=np.float32)
    m = minrnn.MinGRU(8, 40, seed=1)
    minrnn.set_num_threads(1)
    want, _ = m(x)
    minrnn.set_num_threads(threads)
    got, _ = m(x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    again, _ = m(x)
    assert np.array_equal(got, again)  # bit-identical run to run at a fixed thread count


def test_concurrent_inference_from_python_threads(rng):
    """The GIL is released inside kernels: four Python threads run one layer at once."""
    m = minrnn.MinLSTM(16, 32, seed=2)
    xs = [rng.standard_normal((2, 300, 16), dtype=np.float32) for _ in range(4)]
    want = [m(x)[0] for x in xs]
    got = [None] * 4

    def work(i):
        for _ in range(5):
            got[i] = m(xs[i])[0]

    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for g, w in zip(got, want):
        assert np.array_equal(g, w)


def test_release_workspace_keeps_results(rng):
    m = minrnn.GRU(8, 16, seed=0)
    x = rng.standard_normal((2, 30, 8), dtype=np.float32)
    m.forward(x, train=True)
    a = m.backward(np.ones((2, 30, 16), np.float32))[0]
    minrnn.release_workspace()
    m.forward(x, train=True)
    b = m.backward(np.ones((2, 30, 16), np.float32))[0]
    assert np.array_equal(a, b)
