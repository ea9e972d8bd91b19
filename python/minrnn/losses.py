"""Losses with a forward that returns a number and a backward that returns the gradient
with respect to the prediction. The arithmetic is in the C++ core (cpp/src/loss.cpp)."""
import numbers

import numpy as np

from . import _core
from ._checks import as_array, float_array, shape_str
from .layers import int_ids


class CrossEntropyLoss:
    """Softmax cross-entropy from logits, averaged over the targets that are not
    ignore_index (as torch.nn.CrossEntropyLoss with reduction="mean"):

        loss = mean_n [ logsumexp(logits_n) - logits_n[target_n] ]

    logits (..., V), targets (...) integer ids in [0, V) or ignore_index. Computed from the
    row maximum, so large logits do not overflow. forward returns the loss (a float);
    backward(dloss=1) returns d loss / d logits."""

    def __init__(self, ignore_index=-100):
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
            raise TypeError(f"ignore_index must be an int, got {ignore_index!r}")
        self.ignore_index = int(ignore_index)
        self._cache = None
        self.count = 0
        self.row_losses = None

    def __call__(self, logits, targets):
        return self.forward(logits, targets)

    def forward(self, logits, targets, grad=False):
        """The mean loss. grad=True also computes d loss / d logits in the same pass (then
        backward() only scales it)."""
        logits = float_array("logits", logits)
        if logits.ndim < 1 or logits.shape[-1] < 1:
            raise ValueError(f"logits must be (..., num_classes) with num_classes >= 1, got "
                             f"shape {shape_str(logits.shape)}")
        V = logits.shape[-1]
        t = _targets(targets, logits.shape[:-1], V, self.ignore_index)
        x2 = logits.reshape(-1, V)
        loss, count, rows, row_max, log_sum, d = _core.cross_entropy_forward(
            x2, t.reshape(-1), self.ignore_index, bool(grad))
        self._cache = (x2, t.reshape(-1), row_max, log_sum, logits.shape, d)
        self.count = count                       # targets that counted
        self.row_losses = rows.reshape(t.shape)  # -log p(target) per position (0 if ignored)
        return loss

    def backward(self, dloss=1.0):
        if self._cache is None:
            raise RuntimeError("backward needs a preceding forward")
        x2, t, row_max, log_sum, shape, d = self._cache
        if d is not None:  # computed by forward(grad=True) for dloss = 1; handed over once
            self._cache = (x2, t, row_max, log_sum, shape, None)
            return (d if dloss == 1 else d * d.dtype.type(dloss)).reshape(shape)
        scale = float(dloss) / self.count if self.count else 0.0
        d = _core.cross_entropy_backward(x2, t, row_max, log_sum, self.ignore_index, scale)
        return d.reshape(shape)


def _targets(targets, shape, V, ignore_index):
    t = as_array("targets", targets, "an integer array")
    if t.dtype.kind not in "iu":
        raise TypeError(f"targets must be an integer array, got dtype {t.dtype}")
    if t.shape != tuple(shape):
        raise ValueError(f"targets has shape {shape_str(t.shape)}, expected {shape_str(shape)} "
                         "(the logits' shape without the class axis)")
    t = np.ascontiguousarray(t, dtype=np.int64)
    keep = t != ignore_index
    if keep.any():
        int_ids("targets", t[keep], V)
    return t


class MSELoss:
    """Mean squared error: mean((pred - target)^2) over every element (as
    torch.nn.MSELoss). forward returns the loss; backward(dloss=1) returns d loss / d pred."""

    def __init__(self):
        self._cache = None

    def __call__(self, pred, target):
        return self.forward(pred, target)

    def forward(self, pred, target):
        pred = float_array("pred", pred)
        target = float_array("target", target, pred.dtype)
        if pred.shape != target.shape:
            raise ValueError(f"target has shape {shape_str(target.shape)}, expected "
                             f"{shape_str(pred.shape)} (the shape of pred)")
        self._cache = (pred, target)
        return _core.mse_forward(pred, target)

    def backward(self, dloss=1.0):
        if self._cache is None:
            raise RuntimeError("backward needs a preceding forward")
        pred, target = self._cache
        scale = float(dloss) / pred.size if pred.size else 0.0
        return _core.mse_backward(pred, target, scale).reshape(pred.shape)


def cross_entropy(logits, targets, ignore_index=-100):
    """The mean softmax cross-entropy (see CrossEntropyLoss)."""
    return CrossEntropyLoss(ignore_index)(logits, targets)


def mse(pred, target):
    """The mean squared error (see MSELoss)."""
    return MSELoss()(pred, target)
