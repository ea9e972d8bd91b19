"""Recurrent layers: stacks of any cell, one or two directions, PyTorch's conventions.

Every cell runs one layer in one direction per compiled kernel call; this module stacks
them (num_layers, bidirectional, dropout between layers) and keeps PyTorch's parameter
names (weight_ih_l0, weight_hh_l1_reverse, ...) so that a state_dict loads unchanged.
The maths of each cell is DESIGN.md §3.
"""
import contextlib
import numbers
import os
import sys
import threading
import warnings

import numpy as np

from . import _core
from ._checks import (check_shape, choice, float_array, float_dtype, load_params, make_rng, positive_int,
                      shape_str)
from .scan import MODES

CANDIDATES = {"g": 0, "identity": 1, "tanh": 2}
_CELL_IDS = {"rnn_tanh": 0, "rnn_relu": 1, "lstm": 2, "gru": 3, "gru_reset_before": 4, "mgu": 5}
_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3, "gru_reset_before": 3, "mgu": 2,
          "mingru": 2, "minlstm": 3}


@contextlib.contextmanager
def training_call(obj):
    """Refuses a second training call (forward(train=True) or backward) on the same object
    while one runs in another thread: their saved state would mix. Inference calls need no
    guard (they keep nothing)."""
    lock = obj.__dict__.setdefault("_training_lock", threading.Lock())
    if not lock.acquire(blocking=False):
        raise RuntimeError(f"{type(obj).__name__} is already training in another thread; "
                           "training keeps state in the object, so use one object per thread "
                           "(inference calls may share one)")
    try:
        yield
    finally:
        lock.release()


def _caller_level():
    """warnings.warn's stacklevel for the first frame outside this package."""
    level, frame = 2, sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("minrnn"):
        level, frame = level + 1, frame.f_back
    return level


def _physical_memory():
    """Bytes of RAM, or effectively unbounded where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 2**62


class _Recurrent:
    """Shared machinery; see the subclasses for the cells."""
    _has_c = False      # LSTM carries a cell state c beside h
    _minimal = False    # MinGRU / MinLSTM: no weight_hh, the scan kernels

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=True,
                 dropout=0.0, bidirectional=False, seed=None, dtype=np.float32):
        self.input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
        self.dropout = float(dropout)
        if self.dropout and self.num_layers == 1:  # as torch.nn.RNN/GRU/LSTM warn
            warnings.warn(f"dropout={self.dropout} acts between layers; with num_layers=1 it has "
                          "no effect", UserWarning, stacklevel=_caller_level())
        self.bidirectional = bool(bidirectional)
        self.dtype = float_dtype("dtype", dtype)
        self._dirs = 2 if self.bidirectional else 1
        self._rng = make_rng(seed)  # weights, then dropout masks
        G, H = _GATES[self._cell], self.hidden_size
        k = 1.0 / np.sqrt(H)
        # weights and gradients, before any is made: a typo in a size must not run for minutes
        count = self._dirs * G * H * (self.input_size + (self.num_layers - 1) * H * self._dirs
                                      + self.num_layers * ((0 if self._minimal else H) + 2))
        need = 2 * count * self.dtype.itemsize
        if need > _physical_memory():
            raise MemoryError(f"{type(self).__name__}(input_size={self.input_size}, hidden_size={H}, "
                              f"num_layers={self.num_layers}) needs {need / 2**30:.1f} GiB for its "
                              f"weights and gradients, more than this machine's memory")
        self._params = {}
        for layer in range(self.num_layers):
            d_in = self.input_size if layer == 0 else H * self._dirs
            for sfx in self._suffixes(layer):
                # PyTorch's default: uniform(-1/sqrt(H), 1/sqrt(H)), drawn in float64, cast
                shapes = [("weight_ih", (G * H, d_in))]
                if not self._minimal:
                    shapes.append(("weight_hh", (G * H, H)))
                if self.bias:
                    shapes += [("bias_ih", (G * H,))] + ([] if self._minimal else [("bias_hh", (G * H,))])
                for name, shape in shapes:
                    self._params[name + sfx] = self._rng.uniform(-k, k, shape).astype(self.dtype)
        self.grads = {n: np.zeros_like(p) for n, p in self._params.items()}
        self._cache = None

    def _suffixes(self, layer):
        return [f"_l{layer}"] + ([f"_l{layer}_reverse"] if self.bidirectional else [])

    def __repr__(self):
        opts = f"num_layers={self.num_layers}, bias={self.bias}, batch_first={self.batch_first}"
        if self.dropout:
            opts += f", dropout={self.dropout}"
        if self.bidirectional:
            opts += ", bidirectional=True"
        return (f"{type(self).__name__}({self.input_size}, {self.hidden_size}, {opts}{self._extra_repr()}, "
                f"dtype={self.dtype.name})")

    def _extra_repr(self):
        return ""

    def config(self):
        """What the constructor needs to rebuild this layer (weights aside)."""
        c = {"type": type(self).__name__, "input_size": self.input_size,
             "hidden_size": self.hidden_size, "num_layers": self.num_layers, "bias": self.bias,
             "batch_first": self.batch_first, "dropout": self.dropout,
             "bidirectional": self.bidirectional, "dtype": self.dtype.name}
        c.update(self._options())
        return c

    def _options(self):
        return {}

    def save(self, path):
        """Write configuration and weights to one file (read by minrnn.load_layer and by
        the C++ API's minrnn::load_recurrent)."""
        from .checkpoint import save_layer
        save_layer(path, self)

    # ---- parameters ----
    def parameters(self):
        """The live parameter arrays by PyTorch name (an optimizer may update them in place)."""
        return dict(self._params)

    def state_dict(self):
        return {n: p.copy() for n, p in self._params.items()}

    def load_state_dict(self, state_dict):
        """Load weights by PyTorch name (NumPy arrays, torch tensors or anything np.asarray takes).

        Refuses a missing, extra, mis-shaped or non-finite entry and then changes nothing."""
        load_params(type(self).__name__, self._params, state_dict, self.dtype)

    # ---- shapes ----
    def _input(self, x):
        x = float_array("x", x, self.dtype)
        D = self.input_size
        layout = "(B, T, input_size)" if self.batch_first else "(T, B, input_size)"
        if x.ndim == 2:
            check_shape("x", x, (x.shape[0], D), "(T, input_size) for one sequence")
            return x[None], False
        if x.ndim != 3:
            raise ValueError(f"x must be {layout} or (T, input_size), got shape {shape_str(x.shape)}")
        check_shape("x", x, x.shape[:2] + (D,), layout)
        if not self.batch_first:
            x = np.ascontiguousarray(x.transpose(1, 0, 2))
        return x, True

    def _state(self, name, h, B, batched):
        """(layers*dirs, B, H) or (layers*dirs, H) -> (layers*dirs, B, H) contiguous, or None."""
        if h is None:
            return None
        h = float_array(name, h, self.dtype)
        L = self.num_layers * self._dirs
        want = (L, B, self.hidden_size) if batched else (L, self.hidden_size)
        check_shape(name, h, want, "(num_layers * directions, batch, hidden_size)" if batched else
                    "(num_layers * directions, hidden_size) for one sequence")
        return h.reshape(L, B, self.hidden_size)

    def _output(self, y, batched):
        if not batched:
            return y[0]
        return y if self.batch_first else np.ascontiguousarray(y.transpose(1, 0, 2))

    def _state_out(self, h, batched):
        return h if batched else h[:, 0]

    def _split_state(self, h0, c0):
        """LSTM accepts forward(x, (h0, c0)) as PyTorch does."""
        if isinstance(h0, tuple):
            if not self._has_c:
                raise TypeError(f"h0 must be an array for {type(self).__name__}, got a tuple of "
                                f"{len(h0)} (a (h0, c0) pair is LSTM's state)")
            if c0 is not None or len(h0) != 2:
                raise ValueError("pass the LSTM state as (h0, c0) or as h0=..., c0=..., not both")
            h0, c0 = h0
        if self._has_c and (h0 is None) != (c0 is None):
            raise ValueError("LSTM needs both h0 and c0, or neither; got only "
                             + ("h0" if c0 is None else "c0"))
        if not self._has_c and c0 is not None:
            raise ValueError(f"c0 is only for LSTM; {type(self).__name__} has no cell state")
        return h0, c0

    # ---- compute ----
    def __call__(self, x, h0=None, c0=None):
        return self.forward(x, h0, c0)

    def forward(self, x, h0=None, c0=None, train=False):
        """Run the stack over a sequence: returns (y, h_n), for LSTM (y, (h_n, c_n)).

        x: (B, T, input_size) if batch_first (the default), (T, B, input_size) if not, or
        (T, input_size) for one sequence. h0 (and c0): (num_layers * directions, B, H), or
        (num_layers * directions, H) for one sequence; zeros if None. y has x's layout with
        H * directions features. train=True keeps what backward needs and applies dropout
        between layers, and y comes back read-only (backward reads it; copy it to change it;
        x must not change before backward either). Non-finite inputs propagate, unchecked.
        """
        if train:
            with training_call(self):
                return self._forward(x, h0, c0, True)
        return self._forward(x, h0, c0, False)

    def _forward(self, x, h0=None, c0=None, train=False):
        h0, c0 = self._split_state(h0, c0)
        xb, batched = self._input(x)
        B, T, _ = xb.shape
        h0b = self._state("h0", h0, B, batched)
        c0b = self._state("c0", c0, B, batched)
        L, H = self.num_layers * self._dirs, self.hidden_size
        hn = np.empty((L, B, H), self.dtype)
        cn = np.empty((L, B, H), self.dtype) if self._has_c else None
        caches, masks = [], []
        inp = xb
        for layer in range(self.num_layers):
            outs = []
            for d, sfx in enumerate(self._suffixes(layer)):
                i = layer * self._dirs + d
                y, h, c, cache = self._unit_forward(sfx, d == 1, inp,
                                                    None if h0b is None else h0b[i],
                                                    None if c0b is None else c0b[i], train)
                hn[i] = h
                if cn is not None:
                    cn[i] = c
                outs.append(y)
                caches.append(cache)
            out = outs[0] if self._dirs == 1 else np.concatenate(outs, axis=2)
            if train and self.dropout and layer + 1 < self.num_layers:
                mask = (self._rng.random(out.shape) >= self.dropout).astype(self.dtype) / (1 - self.dropout)
                out = out * mask
                masks.append(mask)
            else:
                masks.append(None)
            inp = out
        if train:  # an inference call in between leaves the last training call's state
            self._cache = (batched, B, T, caches, masks)
        y = self._output(inp, batched)
        if train:  # backward reads y: changing it in place would change the gradients
            y = y.view()
            y.flags.writeable = False
        if self._has_c:
            return y, (self._state_out(hn, batched), self._state_out(cn, batched))
        return y, self._state_out(hn, batched)

    def backward(self, dy, dh_n=None, dc_n=None):
        """Gradients of the last forward(train=True): returns (dx, dh0), for LSTM
        (dx, (dh0, dc0)); fills self.grads (overwriting). dy is shaped like y, dh_n (and
        dc_n) like h_n (and c_n); None for zero."""
        with training_call(self):
            return self._backward(dy, dh_n, dc_n)

    def _backward(self, dy, dh_n=None, dc_n=None):
        if self._cache is None:
            raise RuntimeError("backward needs a preceding forward(..., train=True)")
        if isinstance(dh_n, tuple) and self._has_c:
            dh_n, dc_n = dh_n
        batched, B, T, caches, masks = self._cache
        H, D2 = self.hidden_size, self.hidden_size * self._dirs
        dy = float_array("dy", dy, self.dtype)
        want = (B, T, D2) if self.batch_first else (T, B, D2)
        check_shape("dy", dy, want if batched else (T, D2), "(the shape of y)")
        if not batched:
            dy = dy[None]
        elif not self.batch_first:
            dy = np.ascontiguousarray(dy.transpose(1, 0, 2))
        dhn = self._state("dh_n", dh_n, B, batched)
        dcn = self._state("dc_n", dc_n, B, batched) if self._has_c else None
        L = self.num_layers * self._dirs
        dh0 = np.empty((L, B, H), self.dtype)
        dc0 = np.empty((L, B, H), self.dtype) if self._has_c else None
        d_out = dy
        for layer in reversed(range(self.num_layers)):
            if masks[layer] is not None:
                d_out = d_out * masks[layer]
            d_in = None
            for d, sfx in enumerate(self._suffixes(layer)):
                i = layer * self._dirs + d
                dyd = np.ascontiguousarray(d_out[:, :, d * H:(d + 1) * H]) if self._dirs == 2 else d_out
                dx, dh, dc = self._unit_backward(sfx, d == 1, caches[i], dyd,
                                                 None if dhn is None else dhn[i],
                                                 None if dcn is None else dcn[i])
                dh0[i] = dh
                if dc0 is not None:
                    dc0[i] = dc
                d_in = dx if d_in is None else d_in + dx
            d_out = d_in
        dx = self._output(d_out, batched)
        if self._has_c:
            return dx, (self._state_out(dh0, batched), self._state_out(dc0, batched))
        return dx, self._state_out(dh0, batched)

    def initial_state(self, batch=None):
        """Zeros shaped as h0: (layers * dirs, batch, H), or (layers * dirs, H) when batch is
        None; for LSTM a pair (h0, c0)."""
        L = self.num_layers * self._dirs
        shape = (L, self.hidden_size) if batch is None else (L, positive_int("batch", batch), self.hidden_size)
        z = np.zeros(shape, self.dtype)
        return (z, z.copy()) if self._has_c else z

    def step(self, x_t, state=None):
        """One time step for streaming inference: x_t (B, input_size) or (input_size,).

        state is shaped like h0 (for LSTM the pair (h, c)); returns (y_t, new_state).
        Only unidirectional stacks stream: a reverse direction needs the whole sequence."""
        if self.bidirectional:
            raise ValueError("step needs a unidirectional layer: the reverse direction reads the "
                             "sequence from its end")
        x_t = float_array("x_t", x_t, self.dtype)
        if x_t.ndim not in (1, 2) or x_t.shape[-1] != self.input_size:
            raise ValueError(f"x_t has shape {shape_str(x_t.shape)}, expected (B, {self.input_size}) "
                             f"or ({self.input_size},)")
        batched = x_t.ndim == 2
        B = x_t.shape[0] if batched else 1
        if self._has_c and state is not None:
            if not isinstance(state, tuple) or len(state) != 2:
                raise TypeError(f"the LSTM state is a pair (h, c), got {type(state).__name__}")
            h0 = self._state("state[0]", state[0], B, batched)
            c0 = self._state("state[1]", state[1], B, batched)
        else:
            h0, c0 = self._state("state", state, B, batched), None
        # Layer by layer, straight to the kernels with T = 1 (the layout of a whole
        # sequence, batch_first or not, plays no part in one step).
        L, H = self.num_layers, self.hidden_size
        hn = np.empty((L, B, H), self.dtype)
        cn = np.empty((L, B, H), self.dtype) if self._has_c else None
        inp = x_t.reshape(B, self.input_size)
        for layer in range(L):
            inp, c = self._unit_step(f"_l{layer}", inp, None if h0 is None else h0[layer],
                                     None if c0 is None else c0[layer])
            hn[layer] = inp
            if cn is not None:
                cn[layer] = c
        y_t = inp if batched else inp[0]
        new = self._state_out(hn, batched)
        return y_t, ((new, self._state_out(cn, batched)) if self._has_c else new)


class _ClassicRecurrent(_Recurrent):
    def _unit_forward(self, sfx, reverse, x, h0, c0, train):
        p = self._params
        y, hn, cn, store = _core.recurrent_forward(
            _CELL_IDS[self._cell], x, p["weight_ih" + sfx], p["weight_hh" + sfx],
            p.get("bias_ih" + sfx), p.get("bias_hh" + sfx), h0, c0, reverse, train)
        cache = (x, h0, c0, store, y) if train else None
        return y, hn, cn, cache

    def _unit_step(self, sfx, x, h, c):
        """One step of one unit: x (B, D), h and c (B, H) or None -> (h', c' or None)."""
        p = self._params
        out = _core.cell_step(_CELL_IDS[self._cell], x, p["weight_ih" + sfx], p["weight_hh" + sfx],
                              p.get("bias_ih" + sfx), p.get("bias_hh" + sfx), h, c)
        return out if self._has_c else (out, None)

    def _unit_backward(self, sfx, reverse, cache, dy, dhn, dcn):
        x, h0, c0, store, y = cache
        p = self._params
        dx, dwi, dwh, dbi, dbh, dh0, dc0 = _core.recurrent_backward(
            _CELL_IDS[self._cell], x, p["weight_ih" + sfx], p["weight_hh" + sfx], h0, c0, store,
            y, dy, dhn, dcn, reverse, self.bias)
        self.grads["weight_ih" + sfx] = dwi
        self.grads["weight_hh" + sfx] = dwh
        if self.bias:
            self.grads["bias_ih" + sfx] = dbi
            self.grads["bias_hh" + sfx] = dbh
        return dx, dh0, dc0


class _MinRecurrent(_Recurrent):
    _minimal = True

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, candidate="g",
                 batch_first=True, scan="auto", dropout=0.0, bidirectional=False, seed=None,
                 dtype=np.float32):
        self.candidate = candidate
        self._candidate = choice("candidate", candidate, CANDIDATES)
        self.scan = scan
        self._mode = choice("scan", scan, MODES)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, seed, dtype)

    def _extra_repr(self):
        return f", candidate={self.candidate!r}, scan={self.scan!r}"

    def _options(self):
        return {"candidate": self.candidate, "scan": self.scan}

    # The reverse direction runs the same kernel on the time-reversed sequence.
    def _unit_forward(self, sfx, reverse, x, h0, c0, train):
        xr = np.ascontiguousarray(x[:, ::-1]) if reverse else x
        y, proj = self._kernels[0](xr, self._params["weight_ih" + sfx], self._params.get("bias_ih" + sfx),
                                   h0, self._candidate, self._mode, train)
        T = x.shape[1]
        hn = y[:, -1].copy() if T else (h0.copy() if h0 is not None else np.zeros((x.shape[0], self.hidden_size), self.dtype))
        cache = (xr, h0, proj, y) if train else None
        if reverse:
            y = np.ascontiguousarray(y[:, ::-1])
        return y, hn, None, cache

    def _unit_step(self, sfx, x, h, c):
        y, _ = self._kernels[0](x[:, None], self._params["weight_ih" + sfx],
                                self._params.get("bias_ih" + sfx), h, self._candidate, 0, False)
        return y[:, 0], None

    def _unit_backward(self, sfx, reverse, cache, dy, dhn, dcn):
        xr, h0, proj, y = cache
        if reverse:
            dy = np.ascontiguousarray(dy[:, ::-1])
        dx, dw, db, dh0 = self._kernels[1](xr, self._params["weight_ih" + sfx], self._params.get("bias_ih" + sfx),
                                           h0, proj, y, dy, dhn, self._candidate, self._mode)
        self.grads["weight_ih" + sfx] = dw
        if self.bias:
            self.grads["bias_ih" + sfx] = db
        if reverse:
            dx = np.ascontiguousarray(dx[:, ::-1])
        return dx, dh0, None


class RNN(_ClassicRecurrent):
    """Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = tanh or relu.

    As torch.nn.RNN (but batch_first defaults to True): parameters weight_ih_l{k}
    (H, D), weight_hh_l{k} (H, H), bias_ih_l{k}, bias_hh_l{k}, '_reverse' for the reverse
    direction."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=True, dropout=0.0, bidirectional=False, seed=None, dtype=np.float32):
        self.nonlinearity = nonlinearity
        self._cell = "rnn_" + ("tanh" if choice("nonlinearity", nonlinearity, {"tanh": 0, "relu": 1}) == 0 else "relu")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, seed, dtype)

    def _extra_repr(self):
        return f", nonlinearity={self.nonlinearity!r}"

    def _options(self):
        return {"nonlinearity": self.nonlinearity}


class GRU(_ClassicRecurrent):
    """GRU, gates r, z, n; h_t = (1 - z) n + z h_{t-1}.

    reset_after=True (PyTorch's, the default): n = tanh(W_in x + b_in + r (W_hn h + b_hn));
    reset_after=False (Cho et al. 2014): n = tanh(W_in x + b_in + W_hn (r h) + b_hn).
    Parameters as torch.nn.GRU: weight_ih_l{k} (3H, D) blocks [r; z; n], weight_hh_l{k}
    (3H, H), bias_ih_l{k}, bias_hh_l{k}."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=True,
                 dropout=0.0, bidirectional=False, reset_after=True, seed=None, dtype=np.float32):
        self.reset_after = bool(reset_after)
        self._cell = "gru" if self.reset_after else "gru_reset_before"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, seed, dtype)

    def _extra_repr(self):
        return "" if self.reset_after else ", reset_after=False"

    def _options(self):
        return {"reset_after": self.reset_after}


class LSTM(_ClassicRecurrent):
    """LSTM, gates i, f, g, o: c_t = f c_{t-1} + i g, h_t = o tanh(c_t).

    forward(x, h0=None, c0=None) (or forward(x, (h0, c0))) returns (y, (h_n, c_n)).
    Parameters as torch.nn.LSTM: weight_ih_l{k} (4H, D) blocks [i; f; g; o], ..."""
    _cell = "lstm"
    _has_c = True


class MGU(_ClassicRecurrent):
    """Minimal gated unit (Zhou et al. 2016), gates f, n:
    f = sigmoid(W_if x + b_if + W_hf h + b_hf), n = tanh(W_in x + b_in + W_hn (f h) + b_hn),
    h_t = (1 - f) h_{t-1} + f n. Parameters weight_ih_l{k} (2H, D) blocks [f; n], ..."""
    _cell = "mgu"


class MinGRU(_MinRecurrent):
    """MinGRU: z = sigmoid(W_z x + b_z), h~ = act(W_h x + b_h), h_t = (1 - z) h_{t-1} + z h~.

    Parameters (PyTorch names): weight_ih_l{k} (2H, D) with blocks [z; h~], bias_ih_l{k}
    (2H). candidate: "g" (the paper's g(x) = x + 0.5 for x >= 0, sigmoid(x) otherwise;
    default), "identity" or "tanh". scan: "auto", "sequential" or "parallel" (see
    minrnn.scan.choose)."""
    _cell = "mingru"
    _kernels = (_core.mingru_forward, _core.mingru_backward)


class MinLSTM(_MinRecurrent):
    """MinLSTM: f, i = sigmoid(.), h~ = act(.), h_t = f/(f+i) h_{t-1} + i/(f+i) h~.

    Parameters (PyTorch names): weight_ih_l{k} (3H, D) with blocks [f; i; h~], bias_ih_l{k}
    (3H). Options as for MinGRU."""
    _cell = "minlstm"
    _kernels = (_core.minlstm_forward, _core.minlstm_backward)


LAYERS = {c.__name__: c for c in (RNN, GRU, LSTM, MGU, MinGRU, MinLSTM)}


class _Cell:
    """One step of a cell, as PyTorch's *Cell classes: parameters weight_ih, weight_hh,
    bias_ih, bias_hh (no layer suffix); cell(x, h) -> h' (LSTMCell: cell(x, (h, c)) ->
    (h', c')), with x (B, input_size) or (input_size,) and h (B, H) or (H,)."""
    _layer_cls = None

    def __init__(self, input_size, hidden_size, bias=True, seed=None, dtype=np.float32, **options):
        self._layer = self._layer_cls(input_size, hidden_size, bias=bias, seed=seed, dtype=dtype, **options)
        self.input_size, self.hidden_size = self._layer.input_size, self._layer.hidden_size
        self.bias, self.dtype = self._layer.bias, self._layer.dtype

    def __repr__(self):
        return repr(self._layer).replace(type(self._layer).__name__, type(self).__name__, 1)

    def parameters(self):
        return {k[:-3]: v for k, v in self._layer.parameters().items()}

    def state_dict(self):
        return {k[:-3]: v for k, v in self._layer.state_dict().items()}

    def load_state_dict(self, state_dict):
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"state_dict must be a mapping, got {type(state_dict).__name__}")
        try:
            self._layer.load_state_dict({k + "_l0": v for k, v in state_dict.items()})
        except (TypeError, ValueError) as exc:  # in the cell's names, not the layer's
            msg = str(exc).replace("_l0'", "'").replace(type(self._layer).__name__, type(self).__name__)
            raise type(exc)(msg) from None

    def __call__(self, x, state=None):
        return self.forward(x, state)

    def forward(self, x, state=None):
        layer = self._layer
        x = float_array("x", x, self.dtype)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"x has shape {shape_str(x.shape)}, expected (B, {self.input_size}) "
                             f"or ({self.input_size},)")
        batched = x.ndim == 2
        want = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        if layer._has_c:
            if state is None:
                h = c = None
            elif isinstance(state, tuple) and len(state) == 2:
                h = self._state_arg("h", state[0], want, batched)
                c = self._state_arg("c", state[1], want, batched)
            else:
                raise TypeError(f"{type(self).__name__} state must be a pair (h, c)")
        else:
            if isinstance(state, tuple):
                if len(state) != 1:
                    raise TypeError(f"{type(self).__name__} state must be one array h")
                state = state[0]
            h, c = None if state is None else self._state_arg("h", state, want, batched), None
        if not batched:
            x = x[None]
        # one layer, one step: straight to the kernel (this is the hot path of streaming)
        h, c = layer._unit_step("_l0", x, h, c)
        if layer._has_c:
            return (h, c) if batched else (h[0], c[0])
        return h if batched else h[0]

    def _state_arg(self, name, s, want, batched):
        s = float_array(name, s, self.dtype)
        check_shape(name, s, want)
        return s if batched else s[None]


class RNNCell(_Cell):
    """torch.nn.RNNCell: h' = act(W_ih x + b_ih + W_hh h + b_hh); nonlinearity="tanh"|"relu"."""
    _layer_cls = RNN


class GRUCell(_Cell):
    """torch.nn.GRUCell (reset_after=False for the Cho 2014 form)."""
    _layer_cls = GRU


class LSTMCell(_Cell):
    """torch.nn.LSTMCell: cell(x, (h, c)) -> (h', c')."""
    _layer_cls = LSTM


class MGUCell(_Cell):
    """One step of MGU."""
    _layer_cls = MGU


class MinGRUCell(_Cell):
    """One step of MinGRU (parameters weight_ih, bias_ih)."""
    _layer_cls = MinGRU


class MinLSTMCell(_Cell):
    """One step of MinLSTM (parameters weight_ih, bias_ih)."""
    _layer_cls = MinLSTM
