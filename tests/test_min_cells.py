import numpy as np
import pytest

import minrnn

from minrnn import reference as ref

CELLS = [(minrnn.MinGRU, ref.mingru), (minrnn.MinLSTM, ref.minlstm)]
CANDS = ["g", "identity", "tanh"]


def layer(cls, D, H, dtype=np.float64, **kw):
    return cls(D, H, seed=7, dtype=dtype, **kw)


@pytest.mark.parametrize("cls,reference", CELLS)
@pytest.mark.parametrize("cand", CANDS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("scan", ["sequential", "parallel"])
def test_forward_matches_reference(rng, cls, reference, cand, bias, scan):
    m = layer(cls, 5, 7, candidate=cand, bias=bias, scan=scan)
    x = rng.normal(size=(3, 11, 5))
    h0 = rng.uniform(0.1, 1, size=(1, 3, 7))
    sd = m.state_dict()
    y, hn = m(x, h0)
    want = reference(x, sd["weight_ih_l0"], sd.get("bias_ih_l0"), h0[0], cand)
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hn[0], want[:, -1], rtol=1e-12)


@pytest.mark.parametrize("cls,reference", CELLS)
@pytest.mark.parametrize("cand", CANDS)
def test_float32_matches_reference(rng, cls, reference, cand):
    m = layer(cls, 16, 32, dtype=np.float32, candidate=cand)
    x = rng.normal(size=(4, 300, 16)).astype(np.float32) * 2
    y, _ = m(x)
    sd = m.state_dict()
    want = reference(x, sd["weight_ih_l0"], sd["bias_ih_l0"], None, cand)
    np.testing.assert_allclose(y, want, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("shift", [-30.0, -100.0, -140.0])
def test_minlstm_gates_far_below_zero(rng, shift):
    """Both gate pre-activations far below zero: f' = f / (f + i) is still the ratio of two
    tiny numbers, not 1/2 (where float sigmoids alone would stop at their clamp)."""
    H = 6
    m64 = layer(minrnn.MinLSTM, 4, H, candidate="tanh")
    sd = m64.state_dict()
    sd["bias_ih_l0"][:2 * H] = shift + rng.uniform(-12, 12, 2 * H)  # f and i gates
    m64.load_state_dict(sd)
    m32 = layer(minrnn.MinLSTM, 4, H, dtype=np.float32, candidate="tanh")
    m32.load_state_dict(sd)
    x = rng.normal(size=(2, 40, 4))
    h0 = rng.normal(size=(1, 2, H))
    want = ref.minlstm(x, sd["weight_ih_l0"], sd["bias_ih_l0"], h0[0], "tanh")
    y64, _ = m64.forward(x, h0, train=True)
    y32, _ = m32.forward(x.astype(np.float32), h0.astype(np.float32), train=True)
    np.testing.assert_allclose(y64, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y32, want, rtol=1e-5, atol=1e-5)
    dy = rng.normal(size=y64.shape)
    dx64, _ = m64.backward(dy)
    dx32, _ = m32.backward(dy.astype(np.float32))
    np.testing.assert_allclose(dx32, dx64, rtol=1e-4, atol=1e-4 * np.abs(dx64).max())
    for k, g in m64.grads.items():
        np.testing.assert_allclose(m32.grads[k], g, rtol=1e-4, atol=1e-4 * np.abs(g).max(), err_msg=k)


numeric_grad = ref.numeric_grad


@pytest.mark.parametrize("cls", [minrnn.MinGRU, minrnn.MinLSTM])
@pytest.mark.parametrize("cand", CANDS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_h0", [True, False])
@pytest.mark.parametrize("scan", ["sequential", "parallel"])
def test_gradients_finite_differences(rng, cls, cand, bias, with_h0, scan):
    m = layer(cls, 3, 4, candidate=cand, bias=bias, scan=scan)
    x = rng.normal(size=(2, 5, 3))
    h0 = rng.uniform(0.1, 1, size=(1, 2, 4)) if with_h0 else None
    wy = rng.normal(size=(2, 5, 4))
    whn = rng.normal(size=(1, 2, 4))

    def loss():
        y, hn = m.forward(x, h0)
        return float(np.sum(wy * y) + np.sum(whn * hn))

    m.forward(x, h0, train=True)
    dx, dh0 = m.backward(wy, whn)
    np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-6, atol=1e-8)
    if with_h0:
        np.testing.assert_allclose(dh0, numeric_grad(loss, h0), rtol=1e-6, atol=1e-8)
    for name, p in m.parameters().items():
        np.testing.assert_allclose(m.grads[name], numeric_grad(loss, p), rtol=1e-6, atol=1e-8,
                                   err_msg=name)


@pytest.mark.parametrize("cls", [minrnn.MinGRU, minrnn.MinLSTM])
def test_gradients_long_sequence_parallel_matches_sequential(rng, cls):
    x = rng.normal(size=(1, 3000, 4))
    out = []
    for scan in ["sequential", "parallel"]:
        m = layer(cls, 4, 3, scan=scan)
        m.forward(x, train=True)
        dx, dh0 = m.backward(np.ones((1, 3000, 3)))
        out.append((dx, dh0, m.grads["weight_ih_l0"]))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("cls", [minrnn.MinGRU, minrnn.MinLSTM])
def test_step_equals_forward(rng, cls):
    m = layer(cls, 6, 9, dtype=np.float32)
    x = rng.normal(size=(2, 13, 6)).astype(np.float32)
    y, hn = m(x)
    state = m.initial_state(batch=2)
    for t in range(13):
        yt, state = m.step(x[:, t], state)
        np.testing.assert_allclose(yt, y[:, t], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state, hn, rtol=1e-5, atol=1e-6)
    # unbatched stepping
    state = m.initial_state()
    for t in range(13):
        yt, state = m.step(x[0, t], state)
    np.testing.assert_allclose(yt, y[0, -1], rtol=1e-5, atol=1e-6)
    assert state.shape == (1, 9)


@pytest.mark.parametrize("cls", [minrnn.MinGRU, minrnn.MinLSTM])
def test_chunked_forward_equals_whole(rng, cls):
    """Carrying h_n into the next chunk equals running the whole sequence."""
    m = layer(cls, 4, 5)
    x = rng.normal(size=(2, 40, 4))
    y, hn = m(x)
    y1, h1 = m(x[:, :17])
    y2, h2 = m(x[:, 17:], h1)
    np.testing.assert_allclose(np.concatenate([y1, y2], 1), y, rtol=1e-12)
    np.testing.assert_allclose(h2, hn, rtol=1e-12)


@pytest.mark.parametrize("cls", [minrnn.MinGRU, minrnn.MinLSTM])
def test_layouts(rng, cls):
    m = layer(cls, 4, 5)
    mt = layer(cls, 4, 5, batch_first=False)
    x = rng.normal(size=(3, 8, 4))
    h0 = rng.normal(size=(1, 3, 5))
    y, hn = m(x, h0)
    yt, hnt = mt(x.transpose(1, 0, 2), h0)
    np.testing.assert_allclose(yt, y.transpose(1, 0, 2), rtol=1e-12)
    np.testing.assert_allclose(hnt, hn, rtol=1e-12)
    yu, hnu = m(x[1], h0[:, 1])
    np.testing.assert_allclose(yu, y[1], rtol=1e-12)
    assert hnu.shape == (1, 5)
    # backward in the time-first and unbatched layouts
    mt.forward(x.transpose(1, 0, 2), h0, train=True)
    dxt, dh0t = mt.backward(np.ones((8, 3, 5)))
    m.forward(x, h0, train=True)
    dx, dh0 = m.backward(np.ones((3, 8, 5)))
    np.testing.assert_allclose(dxt, dx.transpose(1, 0, 2), rtol=1e-12)
    np.testing.assert_allclose(dh0t, dh0, rtol=1e-12)
    m.forward(x[0], h0[:, 0], train=True)
    dxu, dh0u = m.backward(np.ones((8, 5)))
    assert dxu.shape == (8, 4) and dh0u.shape == (1, 5)


@pytest.mark.parametrize("cls", [minrnn.MinGRU, minrnn.MinLSTM])
def test_empty_sequence_returns_h0(rng, cls):
    m = layer(cls, 4, 5)
    h0 = rng.normal(size=(1, 2, 5))
    y, hn = m.forward(np.zeros((2, 0, 4)), h0, train=True)
    assert y.shape == (2, 0, 5)
    np.testing.assert_array_equal(hn, h0)
    dhn = rng.normal(size=(1, 2, 5))
    dx, dh0 = m.backward(np.zeros((2, 0, 5)), dhn)
    assert dx.shape == (2, 0, 4)
    np.testing.assert_array_equal(dh0, dhn)
    assert np.all(m.grads["weight_ih_l0"] == 0)
    y, hn = m(np.zeros((2, 0, 4)))
    assert np.all(hn == 0) and hn.shape == (1, 2, 5)


@pytest.mark.parametrize("cls", [minrnn.MinGRU, minrnn.MinLSTM])
def test_state_dict_round_trip_and_refusals(rng, cls):
    a = layer(cls, 4, 5)
    b = cls(4, 5, seed=99, dtype=np.float64)
    x = rng.normal(size=(2, 6, 4))
    assert not np.allclose(a(x)[0], b(x)[0])
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(x)[0], b(x)[0])
    before = b.state_dict()
    sd = a.state_dict()
    bad = dict(sd, weight_ih_l0=np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"weight_ih_l0.*\(3, 3\).*expected"):
        b.load_state_dict(bad)
    with pytest.raises(ValueError, match="missing keys"):
        b.load_state_dict({"weight_ih_l0": sd["weight_ih_l0"]})
    with pytest.raises(ValueError, match="unexpected keys"):
        b.load_state_dict(dict(sd, extra=np.ones(2)))
    nan = {k: v.copy() for k, v in sd.items()}
    nan["bias_ih_l0"] = nan["bias_ih_l0"] * 2
    nan["weight_ih_l0"][0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        b.load_state_dict(nan)
    for k, v in before.items():  # nothing half-loaded
        np.testing.assert_array_equal(b.state_dict()[k], v)


def test_seed_is_deterministic():
    a = minrnn.MinGRU(3, 4, seed=5)
    b = minrnn.MinGRU(3, 4, seed=5)
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(v, b.state_dict()[k])
    bound = 1 / np.sqrt(4)
    assert np.all(np.abs(a.state_dict()["weight_ih_l0"]) <= bound)


def test_bias_false_has_no_bias_parameter():
    m = minrnn.MinGRU(3, 4, bias=False)
    assert set(m.state_dict()) == {"weight_ih_l0"}
    assert m.state_dict()["weight_ih_l0"].shape == (8, 3)
    assert minrnn.MinLSTM(3, 4).state_dict()["weight_ih_l0"].shape == (12, 3)


def test_large_inputs_stay_finite(rng):
    for cls in [minrnn.MinGRU, minrnn.MinLSTM]:
        for cand in CANDS:
            m = cls(8, 8, seed=0, candidate=cand)
            y, _ = m(rng.normal(size=(2, 50, 8)).astype(np.float32) * 1e4)
            if cand != "identity" and cand != "g":
                assert np.all(np.isfinite(y))
            else:
                assert not np.any(np.isnan(y))


@pytest.mark.parametrize("cls", [minrnn.MinGRU, minrnn.MinLSTM])
@pytest.mark.parametrize("call,exc,words", [
    (lambda m: m(np.ones((2, 3, 4), np.int32)), TypeError, ["x", "int32"]),
    (lambda m: m(np.ones((2, 3, 5))), ValueError, ["x", "(2, 3, 5)", "(2, 3, 4)"]),
    (lambda m: m(np.ones((2, 3, 4, 1))), ValueError, ["x", "(2, 3, 4, 1)"]),
    (lambda m: m(np.ones(4)), ValueError, ["x", "(4,)"]),
    (lambda m: m(np.ones((2, 3, 4)), np.ones((2, 6))), ValueError, ["h0", "(2, 6)", "(1, 2, 6)"]),
    (lambda m: m(np.ones((2, 3, 4)), np.ones((1, 3, 6))), ValueError, ["h0", "(1, 3, 6)", "(1, 2, 6)"]),
    (lambda m: m(np.array(["a", "b"])), TypeError, ["x", "dtype"]),
    (lambda m: m.backward(np.ones((2, 3, 6))), RuntimeError, ["forward", "train=True"]),
    (lambda m: m.step(np.ones(5)), ValueError, ["x_t", "(5,)"]),
    (lambda m: m.step(np.ones((2, 4)), np.ones((1, 3, 6))), ValueError, ["state", "(1, 3, 6)"]),
])
def test_bad_input(cls, call, exc, words):
    m = cls(4, 6)
    with pytest.raises(exc) as info:
        call(m)
    for w in words:
        assert w in str(info.value), str(info.value)


@pytest.mark.parametrize("kw,exc,words", [
    (dict(input_size=0, hidden_size=4), ValueError, ["input_size", "0"]),
    (dict(input_size=3, hidden_size=-1), ValueError, ["hidden_size", "-1"]),
    (dict(input_size=3.5, hidden_size=4), TypeError, ["input_size"]),
    (dict(input_size=3, hidden_size=4, candidate="relu"), ValueError, ["candidate", "relu"]),
    (dict(input_size=3, hidden_size=4, scan="fast"), ValueError, ["scan", "fast"]),
    (dict(input_size=3, hidden_size=4, dtype=np.int32), TypeError, ["dtype", "int32"]),
])
def test_bad_options(kw, exc, words):
    with pytest.raises(exc) as info:
        minrnn.MinGRU(**kw)
    for w in words:
        assert w in str(info.value)


def test_backward_dy_shape_checked(rng):
    m = minrnn.MinGRU(4, 6)
    m.forward(np.ones((2, 3, 4)), train=True)
    with pytest.raises(ValueError, match=r"dy.*\(2, 3, 5\).*\(2, 3, 6\)"):
        m.backward(np.ones((2, 3, 5)))
    with pytest.raises(ValueError, match="dh_n"):
        m.backward(np.ones((2, 3, 6)), np.ones((2, 6)))


@pytest.mark.parametrize("cls,fn", [(minrnn.MinGRU, minrnn.scan.mingru), (minrnn.MinLSTM, minrnn.scan.minlstm)])
@pytest.mark.parametrize("scan", ["sequential", "parallel"])
def test_scan_of_projections_equals_layer(rng, cls, fn, scan):
    m = layer(cls, 6, 5, candidate="tanh")
    x = rng.normal(size=(2, 30, 6))
    h0 = rng.normal(size=(1, 2, 5))
    sd = m.state_dict()
    y, _ = m(x, h0)
    proj = x @ sd["weight_ih_l0"].T
    np.testing.assert_allclose(fn(proj, sd["bias_ih_l0"], h0[0], candidate="tanh", mode=scan), y, rtol=1e-12)
    np.testing.assert_allclose(fn(proj[1], sd["bias_ih_l0"], h0[0, 1], candidate="tanh"), y[1], rtol=1e-12)
    with pytest.raises(ValueError, match="proj"):
        fn(proj[..., :-1])
    with pytest.raises(ValueError, match="bias"):
        fn(proj, np.ones(3))
