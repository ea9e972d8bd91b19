"""Classic cells and stacks of every cell: references, gradients, streaming, bad input."""
import numpy as np
import pytest

import minrnn

from minrnn import reference as ref

CELLS = {
    "rnn_tanh": lambda D, H, **kw: minrnn.RNN(D, H, nonlinearity="tanh", **kw),
    "rnn_relu": lambda D, H, **kw: minrnn.RNN(D, H, nonlinearity="relu", **kw),
    "lstm": lambda D, H, **kw: minrnn.LSTM(D, H, **kw),
    "gru": lambda D, H, **kw: minrnn.GRU(D, H, **kw),
    "gru_reset_before": lambda D, H, **kw: minrnn.GRU(D, H, reset_after=False, **kw),
    "mgu": lambda D, H, **kw: minrnn.MGU(D, H, **kw),
    "mingru": lambda D, H, **kw: minrnn.MinGRU(D, H, **kw),
    "minlstm": lambda D, H, **kw: minrnn.MinLSTM(D, H, **kw),
}


def make(cell, D, H, **kw):
    kw.setdefault("seed", 3)
    kw.setdefault("dtype", np.float64)
    return CELLS[cell](D, H, **kw)


def states(rng, m, B):
    L = m.num_layers * (2 if m.bidirectional else 1)
    h0 = rng.uniform(0.1, 0.9, (L, B, m.hidden_size))
    c0 = rng.normal(size=(L, B, m.hidden_size)) if isinstance(m, minrnn.LSTM) else None
    return h0, c0


def run(m, x, h0, c0, train=False):
    y, hn = m.forward(x, h0, c0, train=train)
    if isinstance(m, minrnn.LSTM):
        hn, cn = hn
        return y, hn, cn
    return y, hn, None


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("layers,bidir", [(1, False), (2, True), (3, False)])
@pytest.mark.parametrize("bias", [True, False])
def test_forward_matches_reference(rng, cell, layers, bidir, bias):
    m = make(cell, 3, 4, num_layers=layers, bidirectional=bidir, bias=bias)
    x = rng.normal(size=(2, 6, 3))
    h0, c0 = states(rng, m, 2)
    y, hn, cn = run(m, x, h0, c0)
    wy, whn, wcn = ref.stack(m, x, h0, c0)
    np.testing.assert_allclose(y, wy, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hn, whn, rtol=1e-10, atol=1e-12)
    if cn is not None:
        np.testing.assert_allclose(cn, wcn, rtol=1e-10, atol=1e-12)
    # without an initial state: zeros
    y0, _, _ = run(m, x, None, None)
    wy0, _, _ = ref.stack(m, x)
    np.testing.assert_allclose(y0, wy0, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", list(CELLS))
def test_float32_matches_reference(rng, cell):
    m = make(cell, 8, 16, num_layers=2, bidirectional=True, dtype=np.float32)
    x = rng.normal(size=(3, 40, 8)).astype(np.float32)
    y, _, _ = run(m, x, None, None)
    wy, _, _ = ref.stack(m, x)
    np.testing.assert_allclose(y, wy, rtol=1e-4, atol=1e-4)


numeric_grad = ref.numeric_grad


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("layers,bidir,bias,with_h0", [(1, False, True, True), (1, False, False, False),
                                                        (2, True, True, True)])
def test_gradients_finite_differences(rng, cell, layers, bidir, bias, with_h0):
    m = make(cell, 3, 3, num_layers=layers, bidirectional=bidir, bias=bias)
    B, T = 2, 4
    x = rng.normal(size=(B, T, 3))
    h0, c0 = states(rng, m, B) if with_h0 else (None, None)
    dirs = 2 if bidir else 1
    wy = rng.normal(size=(B, T, 3 * dirs))
    whn = rng.normal(size=(layers * dirs, B, 3))
    wcn = rng.normal(size=(layers * dirs, B, 3))
    lstm = isinstance(m, minrnn.LSTM)

    def loss():
        y, hn, cn = run(m, x, h0, c0)
        return float(np.sum(wy * y) + np.sum(whn * hn) + (np.sum(wcn * cn) if lstm else 0))

    run(m, x, h0, c0, train=True)
    if lstm:
        dx, (dh0, dc0) = m.backward(wy, whn, wcn)
    else:
        dx, dh0 = m.backward(wy, whn)
    np.testing.assert_allclose(dx, numeric_grad(loss, x), rtol=1e-5, atol=1e-7)
    if with_h0:
        np.testing.assert_allclose(dh0, numeric_grad(loss, h0), rtol=1e-5, atol=1e-7)
        if lstm:
            np.testing.assert_allclose(dc0, numeric_grad(loss, c0), rtol=1e-5, atol=1e-7)
    for name, p in m.parameters().items():
        np.testing.assert_allclose(m.grads[name], numeric_grad(loss, p), rtol=1e-5, atol=1e-7,
                                   err_msg=name)


@pytest.mark.parametrize("cell", list(CELLS))
def test_step_equals_forward(rng, cell):
    m = make(cell, 5, 6, num_layers=2, dtype=np.float32)
    x = rng.normal(size=(3, 9, 5)).astype(np.float32)
    y, hn, cn = run(m, x, None, None)
    state = m.initial_state(batch=3)
    for t in range(9):
        yt, state = m.step(x[:, t], state)
        np.testing.assert_allclose(yt, y[:, t], rtol=1e-5, atol=1e-6)
    h_last = state[0] if cn is not None else state
    np.testing.assert_allclose(h_last, hn, rtol=1e-5, atol=1e-6)
    state = m.initial_state()  # one sequence, no batch axis
    for t in range(9):
        yt, state = m.step(x[1, t], state)
    np.testing.assert_allclose(yt, y[1, -1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", list(CELLS))
def test_layouts_and_unbatched(rng, cell):
    m = make(cell, 4, 5, num_layers=2, bidirectional=True)
    mt = make(cell, 4, 5, num_layers=2, bidirectional=True, batch_first=False)
    x = rng.normal(size=(3, 7, 4))
    y, hn, _ = run(m, x, None, None)
    yt, hnt, _ = run(mt, x.transpose(1, 0, 2), None, None)
    np.testing.assert_allclose(yt, y.transpose(1, 0, 2), rtol=1e-12)
    np.testing.assert_allclose(hnt, hn, rtol=1e-12)
    yu, hnu, _ = run(m, x[2], None, None)
    np.testing.assert_allclose(yu, y[2], rtol=1e-12)
    assert hnu.shape == (4, 5)


@pytest.mark.parametrize("cell", list(CELLS))
def test_empty_sequence(rng, cell):
    m = make(cell, 4, 5, num_layers=2)
    h0, c0 = states(rng, m, 2)
    y, hn, cn = run(m, np.zeros((2, 0, 4)), h0, c0, train=True)
    assert y.shape == (2, 0, 5)
    np.testing.assert_array_equal(hn, h0)
    if cn is not None:
        np.testing.assert_array_equal(cn, c0)


def test_dropout_only_in_training(rng):
    m = make("gru", 4, 8, num_layers=3, dropout=0.5)
    x = rng.normal(size=(2, 5, 4))
    a, _ = m(x)
    b, _ = m(x)
    np.testing.assert_array_equal(a, b)
    t1, _ = m.forward(x, train=True)
    assert not np.allclose(t1, a)
    # backward goes through the same mask: compare with the masks applied by hand
    dx, _ = m.backward(np.ones_like(t1))
    assert np.all(np.isfinite(dx))
    same = make("gru", 4, 8, num_layers=3, dropout=0.5, seed=11)
    other = make("gru", 4, 8, num_layers=3, dropout=0.5, seed=11)
    np.testing.assert_array_equal(same.forward(x, train=True)[0], other.forward(x, train=True)[0])


def test_state_dict_names_and_refusals():
    m = minrnn.LSTM(3, 4, num_layers=2, bidirectional=True)
    names = set(m.state_dict())
    for k in range(2):
        for sfx in ["", "_reverse"]:
            for p in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]:
                assert f"{p}_l{k}{sfx}" in names
    assert m.state_dict()["weight_ih_l1"].shape == (16, 8)
    assert m.state_dict()["weight_hh_l0_reverse"].shape == (16, 4)
    sd = m.state_dict()
    sd["weight_hh_l1_reverse"] = np.zeros((16, 5))
    before = m.state_dict()
    with pytest.raises(ValueError, match=r"weight_hh_l1_reverse.*\(16, 5\).*\(16, 4\)"):
        m.load_state_dict(sd)
    for k, v in before.items():
        np.testing.assert_array_equal(m.state_dict()[k], v)
    assert set(minrnn.MinGRU(3, 4, num_layers=2).state_dict()) == {
        "weight_ih_l0", "bias_ih_l0", "weight_ih_l1", "bias_ih_l1"}


@pytest.mark.parametrize("call,exc,words", [
    (lambda: minrnn.LSTM(3, 4)(np.ones((2, 5, 3)), np.zeros((1, 2, 4))), ValueError, ["c0"]),
    (lambda: minrnn.LSTM(3, 4)(np.ones((2, 5, 3)), None, np.zeros((1, 2, 4))), ValueError, ["h0"]),
    (lambda: minrnn.GRU(3, 4)(np.ones((2, 5, 3)), None, np.zeros((1, 2, 4))), ValueError, ["c0", "LSTM"]),
    (lambda: minrnn.GRU(3, 4, num_layers=2)(np.ones((2, 5, 3)), np.zeros((1, 2, 4))), ValueError, ["h0", "(1, 2, 4)", "(2, 2, 4)"]),
    (lambda: minrnn.GRU(3, 4, bidirectional=True)(np.ones((2, 5, 3)), np.zeros((1, 2, 4))), ValueError, ["h0", "(2, 2, 4)"]),
    (lambda: minrnn.RNN(3, 4)(np.ones((2, 5, 2))), ValueError, ["x", "(2, 5, 2)"]),
    (lambda: minrnn.RNN(3, 4)(np.ones((2, 5, 3), np.int8)), TypeError, ["x", "int8"]),
    (lambda: minrnn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, ["nonlinearity", "sigmoid"]),
    (lambda: minrnn.GRU(3, 4, dropout=1.0), ValueError, ["dropout"]),
    (lambda: minrnn.GRU(3, 4, num_layers=0), ValueError, ["num_layers"]),
    (lambda: minrnn.GRU(3, 4, bidirectional=True).step(np.ones(3)), ValueError, ["unidirectional"]),
    (lambda: minrnn.LSTM(3, 4).step(np.ones(3), np.zeros((1, 4))), TypeError, ["pair"]),
    (lambda: minrnn.MGU(3, 4).backward(np.ones((1, 2, 4))), RuntimeError, ["train=True"]),
])
def test_bad_input(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for w in words:
        assert w in str(info.value), str(info.value)


CELL_CLASSES = [
    (minrnn.RNNCell, minrnn.RNN, {"nonlinearity": "relu"}), (minrnn.GRUCell, minrnn.GRU, {}),
    (minrnn.GRUCell, minrnn.GRU, {"reset_after": False}), (minrnn.LSTMCell, minrnn.LSTM, {}),
    (minrnn.MGUCell, minrnn.MGU, {}), (minrnn.MinGRUCell, minrnn.MinGRU, {}),
    (minrnn.MinLSTMCell, minrnn.MinLSTM, {"candidate": "tanh"}),
]


@pytest.mark.parametrize("cell_cls,layer_cls,kw", CELL_CLASSES)
def test_cells_equal_one_layer_modules(rng, cell_cls, layer_cls, kw):
    cell = cell_cls(4, 6, seed=1, dtype=np.float64, **kw)
    layer = layer_cls(4, 6, dtype=np.float64, **kw)
    layer.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    assert all(not k.endswith("_l0") for k in cell.state_dict())
    x = rng.normal(size=(3, 5, 4))
    y, _ = layer(x)
    lstm = cell_cls is minrnn.LSTMCell
    state = None
    for t in range(5):
        state = cell(x[:, t], state)
        h = state[0] if lstm else state
        np.testing.assert_allclose(h, y[:, t], rtol=1e-12)
    out = cell(x[0, 0])  # unbatched
    assert (out[0] if lstm else out).shape == (6,)
    with pytest.raises(ValueError, match="x"):
        cell(np.ones((2, 5)))
    with pytest.raises(ValueError, match="h"):
        cell(np.ones((2, 4)), (np.ones((3, 6)), np.ones((3, 6))) if lstm else np.ones((3, 6)))


@pytest.mark.parametrize("name", ["RNNCell", "GRUCell", "LSTMCell"])
def test_cells_match_torch(rng, name):
    torch = pytest.importorskip("torch")
    t_cell = getattr(torch.nn, name)(4, 6).double()
    ours = getattr(minrnn, name)(4, 6, dtype=np.float64)
    ours.load_state_dict(t_cell.state_dict())
    x = rng.normal(size=(3, 4))
    h = rng.normal(size=(3, 6))
    with torch.no_grad():
        if name == "LSTMCell":
            c = rng.normal(size=(3, 6))
            th, tc = t_cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
            oh, oc = ours(x, (h, c))
            np.testing.assert_allclose(oc, tc.numpy(), rtol=1e-10)
        else:
            th = t_cell(torch.from_numpy(x), torch.from_numpy(h))
            oh = ours(x, h)
    np.testing.assert_allclose(oh, th.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru", "gru_reset_before", "mgu"])
@pytest.mark.parametrize("threads,H", [(2, 136), (3, 200), (4, 300)])
def test_small_batch_team_walk(rng, cell, threads, H):
    """Small batches walk time with one team of threads, each on a slice of channels."""
    minrnn.set_num_threads(threads)
    m = make(cell, 8, H, num_layers=2, bidirectional=True)
    x = rng.normal(size=(2, 7, 8))
    h0, c0 = states(rng, m, 2)
    y, hn, cn = run(m, x, h0, c0, train=True)
    wy, whn, wcn = ref.stack(m, x, h0, c0)
    np.testing.assert_allclose(y, wy, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hn, whn, rtol=1e-10, atol=1e-12)
    if cn is not None:
        np.testing.assert_allclose(cn, wcn, rtol=1e-10, atol=1e-12)
    dy = rng.normal(size=y.shape)
    out = m.backward(dy)
    minrnn.set_num_threads(1)
    run(m, x, h0, c0, train=True)
    again = m.backward(dy)
    np.testing.assert_allclose(out[0], again[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell_cls,layer_cls,kw", CELL_CLASSES)
@pytest.mark.parametrize("bias", [True, False])
def test_cells_with_team_threads(rng, cell_cls, layer_cls, kw, bias):
    """A streaming step with 2+ threads splits channels across the team, input product too."""
    minrnn.set_num_threads(2)
    cell = cell_cls(12, 136, bias=bias, seed=4, dtype=np.float64, **kw)
    layer = layer_cls(12, 136, bias=bias, dtype=np.float64, **kw)
    layer.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    x = rng.normal(size=(2, 3, 12))
    y, _ = layer(x)
    state = None
    for t in range(3):
        state = cell(x[:, t], state)
    h = state[0] if cell_cls is minrnn.LSTMCell else state
    np.testing.assert_allclose(h, y[:, -1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn_relu", "lstm", "gru", "gru_reset_before", "mgu"])
@pytest.mark.parametrize("B,H", [(33, 256), (100, 96)])
def test_large_batch_threads(rng, cell, B, H):
    """Large batches: a team over channels (H >= 64 per thread), or else each step's GEMM
    and elementwise pass split per call (rows across threads when B*H is large)."""
    m = make(cell, 8, H)
    x = rng.normal(size=(B, 3, 8))
    h0, c0 = states(rng, m, B)
    dy = rng.normal(size=(B, 3, H))
    out = []
    for threads in [1, 2, 3]:
        minrnn.set_num_threads(threads)
        y, hn, cn = run(m, x, h0, c0, train=True)
        dx = m.backward(dy)[0]
        out.append((y, hn, dx, m.grads["weight_hh_l0"].copy()))
    for other in out[1:]:
        for a, b in zip(out[0], other):
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    wy, _, _ = ref.stack(m, x, h0, c0)
    np.testing.assert_allclose(out[0][0], wy, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", [c for c in CELLS if c != "rnn_relu"])
def test_large_inputs_stay_finite(rng, cell):
    """Saturating gates (inputs ~1e4) give no NaN or inf, forward or backward (float32)."""
    m = make(cell, 6, 16, num_layers=2, dtype=np.float32)
    x = (rng.normal(size=(2, 20, 6)) * 1e4).astype(np.float32)
    y, _ = m.forward(x, train=True)
    assert np.all(np.isfinite(y))
    dx = m.backward(np.ones_like(y))[0]
    assert np.all(np.isfinite(dx))
    assert all(np.all(np.isfinite(g)) for g in m.grads.values())


@pytest.mark.parametrize("cell", list(CELLS))
def test_step_with_time_first_layers(rng, cell):
    """step takes (B, D) whatever the layer's sequence layout."""
    m = make(cell, 3, 4, num_layers=2, batch_first=False)
    x = rng.normal(size=(5, 2, 3))  # (T, B, D)
    y, hn, _ = run(m, x, None, None)
    state = m.initial_state(batch=2)
    for t in range(5):
        yt, state = m.step(x[t], state)
        np.testing.assert_allclose(yt, y[t], rtol=1e-12)
    np.testing.assert_allclose(state[0] if isinstance(state, tuple) else state, hn, rtol=1e-12)


def test_inference_between_forward_and_backward_keeps_the_training_state(rng):
    m = make("gru", 3, 4)
    x = rng.normal(size=(2, 5, 3))
    y, _ = m.forward(x, train=True)
    dx = m.backward(np.ones_like(y))[0]
    m.forward(x, train=True)
    m(rng.normal(size=(1, 2, 3)))  # inference on something else
    np.testing.assert_array_equal(m.backward(np.ones_like(y))[0], dx)


@pytest.mark.parametrize("cls", [minrnn.GRU, minrnn.LSTM, minrnn.RNN, minrnn.MGU])
def test_float32_small_batches_match_float64(rng, cls):
    """Batches 1..9 take different product kernels (row kernels up to 8, the BLAS above);
    H = 160 also runs the two-thread team that splits the channels."""
    minrnn.set_num_threads(2)
    for B, D, H in [(b, 37, 45) for b in range(1, 10)] + [(b, 24, 160) for b in (1, 2, 3, 5, 8, 9)]:
        m32 = cls(D, H, num_layers=2, seed=B)
        m64 = cls(D, H, num_layers=2, seed=B, dtype=np.float64)
        m64.load_state_dict(m32.state_dict())
        x = rng.standard_normal((B, 13, D))
        y32, _ = m32.forward(x.astype(np.float32), train=True)
        y64, _ = m64.forward(x, train=True)
        np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=1e-5)
        dy = rng.standard_normal(y64.shape)
        dx32, _ = m32.backward(dy.astype(np.float32))
        dx64, _ = m64.backward(dy)
        np.testing.assert_allclose(dx32, dx64, rtol=1e-4, atol=1e-4)
        for k in m64.grads:
            np.testing.assert_allclose(m32.grads[k], m64.grads[k], rtol=1e-3, atol=1e-3, err_msg=k)


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru", "gru_reset_before", "mgu"])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_float32_packed_step_products_match_float64(rng, cell, threads):
    """From batch 3 on, float32 step products (forward and backward) run on W_hh packed once
    per walk into panels of 16 columns (gemm_packed.cpp), in blocks of 6 rows and 256 of
    depth: batches and widths that fill no block exactly, depth past one block, teams of 2
    and 3 threads."""
    minrnn.set_num_threads(threads)
    for B, H in [(3, 16), (4, 160), (5, 45), (8, 136), (13, 45), (40, 160), (10, 300)]:
        m64 = make(cell, 7, H, num_layers=2)
        m32 = make(cell, 7, H, num_layers=2, dtype=np.float32)
        m32.load_state_dict(m64.state_dict())
        x = rng.standard_normal((B, 6, 7))
        h0, c0 = states(rng, m64, B)
        y64, hn64, cn64 = run(m64, x, h0, c0, train=True)
        y32, hn32, cn32 = run(m32, x.astype(np.float32), h0.astype(np.float32),
                              None if c0 is None else c0.astype(np.float32), train=True)
        np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=2e-5, err_msg=f"B={B} H={H}")
        np.testing.assert_allclose(hn32, hn64, rtol=1e-4, atol=2e-5)
        if cn64 is not None:
            np.testing.assert_allclose(cn32, cn64, rtol=1e-4, atol=2e-5)
        dy = rng.standard_normal(y64.shape)
        dx64, dh64 = m64.backward(dy)
        dx32, dh32 = m32.backward(dy.astype(np.float32))
        np.testing.assert_allclose(dx32, dx64, rtol=1e-3, atol=1e-4, err_msg=f"dx, B={B} H={H}")
        for a, b in zip(dh32 if isinstance(dh32, tuple) else (dh32,), dh64 if isinstance(dh64, tuple) else (dh64,)):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4, err_msg=f"dh0, B={B} H={H}")
        for k in m64.grads:
            np.testing.assert_allclose(m32.grads[k], m64.grads[k], rtol=1e-3, atol=1e-3, err_msg=k)


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru", "gru_reset_before", "mgu"])
@pytest.mark.parametrize("threads", [1, 2])
def test_long_walks_match_reference_and_directional_derivatives(rng, cell, threads):
    """Walks of 16+ steps below the packed batch (and every float64 walk) stream a copy of
    W_hh kept in the workspace, by thread in a team (H = 160 on 2 threads): forward against
    the reference, and backward against central differences along random directions."""
    minrnn.set_num_threads(threads)
    for B in (1, 2, 4):
        m = make(cell, 24, 160)
        x = rng.standard_normal((B, 20, 24))
        h0, c0 = states(rng, m, B)
        y, hn, cn = run(m, x, h0, c0, train=True)
        wy, whn, wcn = ref.stack(m, x, h0, c0)
        np.testing.assert_allclose(y, wy, rtol=1e-10, atol=1e-12, err_msg=f"B={B}")
        np.testing.assert_allclose(hn, whn, rtol=1e-10, atol=1e-12)
        dy = rng.standard_normal(y.shape)
        dx, _ = m.backward(dy)
        grads = {k: v.copy() for k, v in m.grads.items()}
        params = m.state_dict()

        def loss(x, params):
            m.load_state_dict(params)
            return float(np.sum(run(m, x, h0, c0)[0] * dy))

        eps = 1e-6
        v = rng.standard_normal(x.shape)
        want = (loss(x + eps * v, params) - loss(x - eps * v, params)) / (2 * eps)
        np.testing.assert_allclose(np.sum(dx * v), want, rtol=1e-6, err_msg=f"dx, B={B}")
        for k in ("weight_hh_l0", "weight_ih_l0"):
            v = rng.standard_normal(params[k].shape)
            up, down = dict(params), dict(params)
            up[k], down[k] = params[k] + eps * v, params[k] - eps * v
            want = (loss(x, up) - loss(x, down)) / (2 * eps)
            np.testing.assert_allclose(np.sum(grads[k] * v), want, rtol=1e-6, err_msg=f"{k}, B={B}")
        m.load_state_dict(params)
        # float32 takes the same copies (and the packed panels from B = 3)
        m32 = make(cell, 24, 160, dtype=np.float32)
        m32.load_state_dict(params)
        y32, _, _ = run(m32, x.astype(np.float32), h0.astype(np.float32),
                        None if c0 is None else c0.astype(np.float32), train=True)
        np.testing.assert_allclose(y32, y, rtol=1e-4, atol=2e-5, err_msg=f"float32, B={B}")
        dx32, _ = m32.backward(dy.astype(np.float32))
        np.testing.assert_allclose(dx32, dx, rtol=1e-3, atol=1e-4, err_msg=f"float32 dx, B={B}")
        np.testing.assert_allclose(m32.grads["weight_hh_l0"], grads["weight_hh_l0"], rtol=1e-3, atol=1e-3)
