"""MinGRU and MinLSTM layers (Feng et al. 2024, "Were RNNs All We Needed?").

Their gates read x_t only, so a whole sequence is one GEMM for the projections and one
fused gate + scan pass in the compiled core; see DESIGN.md §3 for the maths.
"""
import numpy as np

from . import _core
from ._checks import check_shape, choice, float_array, float_dtype, positive_int, shape_str
from .scan import MODES

CANDIDATES = {"g": 0, "identity": 1, "tanh": 2}


def _to_numpy(name, value):
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch tensor, without importing torch
        value = value.detach().cpu()
    try:
        return np.asarray(value)
    except Exception as exc:
        raise TypeError(f"state_dict[{name!r}] cannot be converted to an array: {exc}") from None


class _MinLayer:
    _gates = 0          # gate blocks stacked in weight_ih
    _gate_names = ""
    _forward = None     # compiled kernels
    _backward = None

    def __init__(self, input_size, hidden_size, bias=True, candidate="g", batch_first=True,
                 scan="auto", seed=None, dtype=np.float32):
        self.input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.bias = bool(bias)
        self.candidate = candidate
        self._candidate = choice("candidate", candidate, CANDIDATES)
        self.batch_first = bool(batch_first)
        self.scan = scan
        self._mode = choice("scan", scan, MODES)
        self.dtype = float_dtype("dtype", dtype)
        self.num_layers = 1
        G, H, D = self._gates, self.hidden_size, self.input_size
        # PyTorch's default: uniform(-1/sqrt(H), 1/sqrt(H)), drawn in float64 then cast.
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(H)
        self._params = {"weight_ih_l0": rng.uniform(-k, k, (G * H, D)).astype(self.dtype)}
        if self.bias:
            self._params["bias_ih_l0"] = rng.uniform(-k, k, (G * H,)).astype(self.dtype)
        self.grads = {n: np.zeros_like(p) for n, p in self._params.items()}
        self._cache = None

    def __repr__(self):
        return (f"{type(self).__name__}({self.input_size}, {self.hidden_size}, bias={self.bias}, "
                f"candidate={self.candidate!r}, batch_first={self.batch_first}, scan={self.scan!r}, "
                f"dtype={self.dtype.name})")

    # ---- parameters ----
    def parameters(self):
        """The live parameter arrays by PyTorch name (an optimizer may update them in place)."""
        return dict(self._params)

    def state_dict(self):
        return {n: p.copy() for n, p in self._params.items()}

    def load_state_dict(self, state_dict):
        """Load weights by PyTorch name (NumPy arrays, torch tensors or anything np.asarray takes).

        Refuses a missing, extra, mis-shaped or non-finite entry and then changes nothing."""
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"state_dict must be a mapping, got {type(state_dict).__name__}")
        expected = set(self._params)
        got = set(state_dict.keys())
        if got != expected:
            missing, extra = sorted(expected - got), sorted(got - expected)
            raise ValueError(f"state_dict does not match {type(self).__name__}: "
                             f"missing keys {missing}, unexpected keys {extra}")
        new = {}
        for name, cur in self._params.items():
            arr = _to_numpy(name, state_dict[name])
            if arr.dtype.kind not in "fiu":
                raise TypeError(f"state_dict[{name!r}] must be a float array, got dtype {arr.dtype}")
            if arr.shape != cur.shape:
                raise ValueError(f"state_dict[{name!r}] has shape {shape_str(arr.shape)}, "
                                 f"expected {shape_str(cur.shape)}")
            arr = np.array(arr, dtype=self.dtype, order="C", copy=True)
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"state_dict[{name!r}] contains non-finite values")
            new[name] = arr
        for name, arr in new.items():  # all checked: now replace, in place so views stay valid
            self._params[name][...] = arr

    # ---- shapes ----
    def _input(self, x):
        x = float_array("x", x, self.dtype)
        D = self.input_size
        if x.ndim == 2:
            check_shape("x", x, (x.shape[0], D), "(T, input_size) for one sequence")
            return x[None], False
        if x.ndim != 3:
            layout = "(B, T, input_size)" if self.batch_first else "(T, B, input_size)"
            raise ValueError(f"x must be {layout} or (T, input_size), got shape {shape_str(x.shape)}")
        if not self.batch_first:
            x = np.ascontiguousarray(x.transpose(1, 0, 2))
        check_shape("x", x if self.batch_first else x.transpose(1, 0, 2),
                    (x.shape[0], x.shape[1], D) if self.batch_first else (x.shape[1], x.shape[0], D),
                    "(last dimension must be input_size)")
        return x, True

    def _state(self, name, h, B, batched):
        """(layers, B, H) or (layers, H) -> (B, H) contiguous, or None."""
        if h is None:
            return None
        h = float_array(name, h, self.dtype)
        want = (self.num_layers, B, self.hidden_size) if batched else (self.num_layers, self.hidden_size)
        check_shape(name, h, want, "(num_layers, batch, hidden_size)" if batched else
                    "(num_layers, hidden_size) for one sequence")
        return h.reshape(B, self.hidden_size)

    def _output(self, y, batched):
        if not batched:
            return y[0]
        return y if self.batch_first else np.ascontiguousarray(y.transpose(1, 0, 2))

    def _state_out(self, h, batched):
        return h[None] if batched else h.reshape(1, self.hidden_size)

    # ---- compute ----
    def __call__(self, x, h0=None):
        return self.forward(x, h0)

    def forward(self, x, h0=None, train=False):
        """Run the layer over a sequence: returns (y, h_n).

        x: (B, T, input_size) if batch_first (the default), (T, B, input_size) if not, or
        (T, input_size) for one sequence. h0: (1, B, H), or (1, H) for one sequence; zeros
        if None. y has x's layout with hidden_size features; h_n is shaped like h0.
        train=True keeps what backward needs. Non-finite inputs propagate, unchecked.
        """
        xb, batched = self._input(x)
        B, T, _ = xb.shape
        h0b = self._state("h0", h0, B, batched)
        w = self._params["weight_ih_l0"]
        b = self._params.get("bias_ih_l0")
        y, proj = type(self)._forward(xb, w, b, h0b, self._candidate, self._mode)
        if T > 0:
            hn = y[:, -1].copy()
        else:
            hn = h0b.copy() if h0b is not None else np.zeros((B, self.hidden_size), self.dtype)
        self._cache = (xb, h0b, proj, y, batched) if train else None
        return self._output(y, batched), self._state_out(hn, batched)

    def backward(self, dy, dh_n=None):
        """Gradients of the last forward(train=True): returns (dx, dh0) and fills self.grads.

        dy is shaped like y; dh_n like h_n (None for zero). Gradients overwrite self.grads.
        """
        if self._cache is None:
            raise RuntimeError("backward needs a preceding forward(..., train=True)")
        xb, h0b, proj, y, batched = self._cache
        B, T, _ = xb.shape
        dy = float_array("dy", dy, self.dtype)
        want = self._output(y, batched).shape
        check_shape("dy", dy, want, "(the shape of y)")
        if batched and not self.batch_first:
            dy = np.ascontiguousarray(dy.transpose(1, 0, 2))
        dy = dy.reshape(B, T, self.hidden_size)
        dhn = self._state("dh_n", dh_n, B, batched)
        w = self._params["weight_ih_l0"]
        b = self._params.get("bias_ih_l0")
        dx, dw, db, dh0 = type(self)._backward(xb, w, b, h0b, proj, y, dy, dhn, self._candidate,
                                               self._mode)
        self.grads["weight_ih_l0"] = dw
        if b is not None:
            self.grads["bias_ih_l0"] = db
        return self._output(dx, batched), self._state_out(dh0, batched)

    def initial_state(self, batch=None):
        """Zeros shaped as h0: (1, batch, H), or (1, H) when batch is None."""
        if batch is None:
            return np.zeros((self.num_layers, self.hidden_size), self.dtype)
        return np.zeros((self.num_layers, positive_int("batch", batch), self.hidden_size), self.dtype)

    def step(self, x_t, state=None):
        """One time step for streaming inference: x_t (B, input_size) or (input_size,).

        state is shaped like h0 ((1, B, H) or (1, H)); returns (y_t, new_state)."""
        x_t = float_array("x_t", x_t, self.dtype)
        if x_t.ndim not in (1, 2) or x_t.shape[-1] != self.input_size:
            raise ValueError(f"x_t has shape {shape_str(x_t.shape)}, expected (B, {self.input_size}) "
                             f"or ({self.input_size},)")
        batched = x_t.ndim == 2
        B = x_t.shape[0] if batched else 1
        h = self._state("state", state, B, batched)
        w = self._params["weight_ih_l0"]
        b = self._params.get("bias_ih_l0")
        y, _ = type(self)._forward(x_t.reshape(B, 1, self.input_size), w, b, h, self._candidate, 0)
        y = y.reshape(B, self.hidden_size)
        if batched:
            return y, y[None].copy()
        return y[0], y.reshape(1, self.hidden_size).copy()


class MinGRU(_MinLayer):
    """MinGRU: z = sigmoid(W_z x + b_z), h~ = act(W_h x + b_h), h_t = (1 - z) h_{t-1} + z h~.

    Parameters (PyTorch names): weight_ih_l0 (2H, D) with blocks [z; h~], bias_ih_l0 (2H).
    candidate: "g" (the paper's g(x) = x + 0.5 for x >= 0, sigmoid(x) otherwise; default),
    "identity" or "tanh". scan: "auto", "sequential" or "parallel" (see minrnn.scan.choose).
    """
    _gates = 2
    _forward = staticmethod(_core.mingru_forward)
    _backward = staticmethod(_core.mingru_backward)


class MinLSTM(_MinLayer):
    """MinLSTM: f, i = sigmoid(.), h~ = act(.), h_t = f/(f+i) h_{t-1} + i/(f+i) h~.

    Parameters (PyTorch names): weight_ih_l0 (3H, D) with blocks [f; i; h~], bias_ih_l0 (3H).
    Options as for MinGRU.
    """
    _gates = 3
    _forward = staticmethod(_core.minlstm_forward)
    _backward = staticmethod(_core.minlstm_backward)
