"""Random configurations of every layer against the float64 references (hypothesis)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import minrnn

from minrnn import reference as ref

CELLS = ["rnn_tanh", "rnn_relu", "lstm", "gru", "gru_reset_before", "mgu", "mingru", "minlstm"]


def build(cell, D, H, **kw):
    if cell.startswith("rnn"):
        return minrnn.RNN(D, H, nonlinearity=cell[4:], **kw)
    if cell == "gru_reset_before":
        return minrnn.GRU(D, H, reset_after=False, **kw)
    cls = {"lstm": minrnn.LSTM, "gru": minrnn.GRU, "mgu": minrnn.MGU, "mingru": minrnn.MinGRU,
           "minlstm": minrnn.MinLSTM}[cell]
    return cls(D, H, **kw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cell=st.sampled_from(CELLS), layers=st.integers(1, 2), bidir=st.booleans(),
       batch_first=st.booleans(), bias=st.booleans(), B=st.integers(0, 3), T=st.integers(0, 6),
       D=st.integers(1, 5), H=st.integers(1, 9), with_h0=st.booleans(), threads=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_random_configurations(cell, layers, bidir, batch_first, bias, B, T, D, H, with_h0,
                               threads, seed):
    minrnn.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    m = build(cell, D, H, num_layers=layers, bidirectional=bidir, batch_first=batch_first,
              bias=bias, seed=seed, dtype=np.float64)
    L = layers * (2 if bidir else 1)
    x = rng.normal(size=(B, T, D))
    h0 = rng.uniform(0.1, 0.9, (L, B, H)) if with_h0 else None
    c0 = rng.normal(size=(L, B, H)) if with_h0 and cell == "lstm" else None
    xin = x if batch_first else x.transpose(1, 0, 2)
    y, hn = m.forward(xin, h0, c0, train=True)
    if cell == "lstm":
        hn, cn = hn
    if T == 0:  # an empty sequence leaves the state where it was
        np.testing.assert_array_equal(hn, h0 if with_h0 else np.zeros((L, B, H)))
    elif B:
        wy, whn, wcn = ref.stack(m, x, h0, c0)
        np.testing.assert_allclose(y if batch_first else y.transpose(1, 0, 2), wy, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(hn, whn, rtol=1e-9, atol=1e-11)
        if cell == "lstm":
            np.testing.assert_allclose(cn, wcn, rtol=1e-9, atol=1e-11)
    assert y.shape == xin.shape[:2] + (H * (2 if bidir else 1),)
    assert hn.shape == (L, B, H)
    dx = m.backward(np.ones_like(y))[0]
    assert dx.shape == xin.shape and np.all(np.isfinite(dx))
    for name, g in m.grads.items():
        assert g.shape == m.parameters()[name].shape and np.all(np.isfinite(g)), name


def arrays():
    dtypes = st.sampled_from([np.float32, np.float64, np.float16, np.int32, np.bool_, np.complex64])
    shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4)
    return st.builds(lambda shape, dt: np.ones(shape, dtype=dt), shapes, dtypes)


LAYERS = [lambda: minrnn.GRU(3, 4, num_layers=2), lambda: minrnn.LSTM(3, 4, bidirectional=True),
          lambda: minrnn.MinGRU(3, 4, batch_first=False), lambda: minrnn.RNN(3, 4),
          lambda: minrnn.MGU(3, 4), lambda: minrnn.GRUCell(3, 4), lambda: minrnn.LSTMCell(3, 4)]


@settings(max_examples=300, deadline=None)
@given(which=st.integers(0, len(LAYERS) - 1), x=arrays(), h=st.one_of(st.none(), arrays()),
       dy=arrays())
def test_bad_input_raises_only_documented_errors(which, x, h, dy):
    """Whatever arrays arrive, the answer is a result or a TypeError / ValueError."""
    layer = LAYERS[which]()
    try:
        layer(x, h) if not isinstance(layer, minrnn.LSTMCell) else layer(x, None if h is None else (h, h))
    except (TypeError, ValueError):
        pass
    if hasattr(layer, "backward"):
        try:
            layer.forward(x, h, (h if isinstance(layer, minrnn.LSTM) else None), train=True)
            layer.backward(dy)
        except (TypeError, ValueError):
            pass
        try:
            layer.step(x, h)
        except (TypeError, ValueError):
            pass
    try:
        minrnn.scan.linear(x, dy, h)
    except (TypeError, ValueError):
        pass
