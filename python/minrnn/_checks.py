"""Argument checks shared by the Python API: every error names the argument, what was
received and what was expected."""
import numbers

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def shape_str(shape):
    return "(" + ", ".join(str(int(s)) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def as_array(name, x, what):
    """x as a NumPy array (a torch tensor too, without importing torch); a TypeError naming
    the argument if it cannot be one (None, ragged lists and the like)."""
    if x is None:
        raise TypeError(f"{name} must be {what}, got None")
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
    try:
        return np.asarray(x)
    except Exception as exc:
        raise TypeError(f"{name} must be {what}, got {type(x).__name__} ({exc})") from None


def float_array(name, x, dtype=None):
    """x as a C-contiguous float32/float64 array (copied only when needed).

    dtype=None keeps float32/float64 as given (other float kinds become float64)."""
    if type(x) is np.ndarray and x.flags.c_contiguous and (
            x.dtype == dtype if dtype is not None else x.dtype in _FLOATS):
        return x  # already what the kernels take (the common case, on every streaming step)
    arr = as_array(name, x, "a float array")
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{name} must be a floating-point array (float32 or float64), got dtype {arr.dtype}")
    if dtype is None:
        dtype = arr.dtype if arr.dtype in _FLOATS else np.dtype(np.float64)
    return np.ascontiguousarray(arr, dtype=dtype)


def check_shape(name, arr, expected, what=""):
    if tuple(arr.shape) != tuple(expected):
        extra = f" {what}" if what else ""
        raise ValueError(
            f"{name} has shape {shape_str(arr.shape)}, expected {shape_str(expected)}{extra}")


def positive_int(name, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(v).__name__} {v!r}")
    if v < 1:
        raise ValueError(f"{name} must be >= 1, got {v}")
    return int(v)


def make_rng(seed):
    """numpy's default_rng(seed) (None, an int >= 0, ints, a SeedSequence or Generator), with
    an error that names seed."""
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"seed must be None or an int >= 0 (or what numpy.random.default_rng "
                        f"takes), got {type(seed).__name__} {seed!r}") from None


def choice(name, v, options):
    if not isinstance(v, str) or v not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {v!r}")
    return options[v]


def float_dtype(name, dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from None
    if dt not in _FLOATS:
        raise TypeError(f"{name} must be float32 or float64, got {dt}")
    return dt


def load_params(owner, params, state_dict, dtype):
    """Copy state_dict into the live arrays params (by name), all or nothing: a missing,
    extra, mis-shaped, non-numeric or non-finite entry raises before anything changes.
    Values may be NumPy arrays, torch tensors (not imported) or anything np.asarray takes."""
    if not hasattr(state_dict, "keys"):
        raise TypeError(f"state_dict must be a mapping, got {type(state_dict).__name__}")
    expected, got = set(params), set(state_dict.keys())
    if got != expected:
        raise ValueError(f"state_dict does not match {owner}: missing keys "
                         f"{sorted(expected - got)}, unexpected keys {sorted(got - expected)}")
    new = {}
    for name, cur in params.items():
        arr = as_array(f"state_dict[{name!r}]", state_dict[name], "a float array")
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"state_dict[{name!r}] must be a float array, got dtype {arr.dtype}")
        check_shape(f"state_dict[{name!r}]", arr, cur.shape)
        arr = np.asarray(arr, dtype=dtype)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"state_dict[{name!r}] contains non-finite values")
        new[name] = arr
    for name, arr in new.items():  # all checked: now replace, in place so views stay valid
        params[name][...] = arr
