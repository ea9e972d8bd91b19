"""The linear recurrence h_t = a_t * h_{t-1} + b_t, for building linear-recurrent layers.

Arrays are (B, T, C) (batch, time, channel) or (T, C) for one sequence; h0 is (B, C) or
(C,). float32 and float64; the two inputs are brought to a common float dtype.
"""
import numbers

import numpy as np

from . import _core
from ._checks import check_shape, choice, float_array

MODES = {"sequential": 0, "parallel": 1, "auto": 2}
_MODE_NAMES = {v: k for k, v in MODES.items()}


def choose(batch, steps, channels):
    """The schedule ``mode="auto"`` picks for this shape with the current thread count.

    ``auto`` runs the sequential scan (threads split batch rows and channel ranges, one
    pass over time, reading each input once) unless the recurrence is long (T >= 512)
    and has fewer than 16 channels per row. Then each step's few multiply-adds wait on
    the previous step's (latency-bound), and the parallel scan, which cuts time into
    chunks walked side by side and across threads, is several times faster. With more
    channels the sequential scan already moves data at memory speed and the parallel
    one, which reads its inputs twice, is slower (measured by ``bench/compare.py``).
    """
    for name, v in (("batch", batch), ("steps", steps), ("channels", channels)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v) or v != int(v):
            raise TypeError(f"{name} must be an int, got {type(v).__name__} {v!r}")
        if v < 0:
            raise ValueError(f"{name} must be >= 0, got {v}")
    return _MODE_NAMES[_core.scan_choose(int(batch), int(steps), int(channels))]


def _prepare(names, arrays, h0):
    dtype = np.result_type(*[np.asarray(a).dtype for a in arrays if a is not None])
    if dtype.kind != "f":
        dtype = None  # let float_array name the offending argument
    out = [float_array(n, a, dtype) for n, a in zip(names, arrays)]
    first = out[0]
    if first.ndim not in (2, 3):
        raise ValueError(
            f"{names[0]} must be (B, T, C) or (T, C), got {first.ndim} dimension(s) with shape {first.shape}")
    for n, a in zip(names[1:], out[1:]):
        check_shape(n, a, first.shape, f"(the shape of {names[0]})")
    batched = first.ndim == 3
    if not batched:
        out = [a[None] for a in out]
    B, _, C = out[0].shape
    if h0 is not None:
        h0 = float_array("h0", h0, out[0].dtype)
        check_shape("h0", h0, (B, C) if batched else (C,))
        h0 = h0.reshape(B, C)
    return out, h0, batched


def linear(a, b, h0=None, mode="auto", out=None):
    """h with h_t = a_t * h_{t-1} + b_t elementwise, h_{-1} = h0 (zeros if None).

    mode: "sequential", "parallel" (chunked, work-efficient: each thread reduces its
    chunks of time to one pair, the pairs are scanned, each chunk is re-walked from its
    carry) or "auto" (see :func:`choose`). All modes agree to within float rounding
    while the values stay finite; once h overflows, the parallel mode (which adds the same
    terms in another order) can give NaN where the sequential one gives +-inf.
    out: an optional C-contiguous array of a's shape and the result dtype to write into
    (saves allocating, and faulting in, a new output on every call).
    Non-finite values propagate; they are not checked.
    """
    m = choice("mode", mode, MODES)
    (a, b), h0, batched = _prepare(("a", "b"), (a, b), h0)
    if out is not None:
        if not isinstance(out, np.ndarray) or out.dtype != a.dtype or not out.flags.c_contiguous \
                or not out.flags.writeable:
            raise TypeError(f"out must be a writeable C-contiguous {a.dtype} array, got "
                            f"{type(out).__name__}" + (f" of dtype {out.dtype}" if isinstance(out, np.ndarray) else ""))
        check_shape("out", out, a.shape if batched else a.shape[1:])
        if any(np.shares_memory(out, v) for v in (a, b) + ((h0,) if h0 is not None else ())):
            raise ValueError("out must not share memory with a, b or h0")
        out3 = out if batched else out[None]
        _core.scan_forward(a, b, h0, m, out3)
        return out
    h = _core.scan_forward(a, b, h0, m)
    return h if batched else h[0]


def linear_backward(a, h, dh, h0=None, mode="auto"):
    """Gradients of linear(a, b, h0) given dL/dh: returns (da, db, dh0).

    The reverse scan g_t = dh_t + a_{t+1} g_{t+1}; da_t = g_t h_{t-1}, db_t = g_t,
    dh0 = a_0 g_0. ``h`` is the forward output.
    """
    m = choice("mode", mode, MODES)
    (a, h, dh), h0, batched = _prepare(("a", "h", "dh"), (a, h, dh), h0)
    da, db, dh0 = _core.scan_backward(a, h0, h, dh, m)
    if batched:
        return da, db, dh0
    return da[0], db[0], dh0[0]


def _gated(kernel, G, proj, bias, h0, candidate, mode):
    from .recurrent import CANDIDATES
    m = choice("mode", mode, MODES)
    c = choice("candidate", candidate, CANDIDATES)
    proj = float_array("proj", proj)
    if proj.ndim not in (2, 3) or proj.shape[-1] % G != 0 or proj.shape[-1] == 0:
        raise ValueError(f"proj must be (B, T, {G}*H) or (T, {G}*H), got shape {proj.shape}")
    batched = proj.ndim == 3
    if not batched:
        proj = proj[None]
    B, _, GH = proj.shape
    H = GH // G
    if bias is not None:
        bias = float_array("bias", bias, proj.dtype)
        check_shape("bias", bias, (GH,))
    if h0 is not None:
        h0 = float_array("h0", h0, proj.dtype)
        check_shape("h0", h0, (B, H) if batched else (H,))
        h0 = h0.reshape(B, H)
    y = kernel(proj, bias, h0, c, m)
    return y if batched else y[0]


def mingru(proj, bias=None, h0=None, candidate="g", mode="auto"):
    """MinGRU's recurrence given its projections proj = x W^T, (B, T, 2H) with blocks [z; h~].

    The fused gate + scan pass of a MinGRU layer, for users who compute the projections
    themselves: returns y (B, T, H). bias (2H,) is added to proj first."""
    return _gated(_core.mingru_scan, 2, proj, bias, h0, candidate, mode)


def minlstm(proj, bias=None, h0=None, candidate="g", mode="auto"):
    """MinLSTM's recurrence given proj = x W^T, (B, T, 3H) with blocks [f; i; h~]: y (B, T, H)."""
    return _gated(_core.minlstm_scan, 3, proj, bias, h0, candidate, mode)
