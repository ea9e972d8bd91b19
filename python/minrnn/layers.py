"""Embedding and Linear layers, with the recurrent layers' conventions: parameters by
PyTorch name, forward(..., train=True) keeps what backward needs, backward fills grads."""
import numpy as np

from . import _core
from ._checks import (as_array, check_shape, float_array, float_dtype, load_params, make_rng, positive_int,
                      shape_str)


def int_ids(name, ids, size):
    """ids as a C-contiguous int64 array with every entry in [0, size)."""
    arr = as_array(name, ids, "an integer array")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} contains {int(arr.max())}, expected ids in [0, {size})")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= size):
        bad = arr[(arr < 0) | (arr >= size)].flat[0]
        raise ValueError(f"{name} contains {int(bad)}, expected ids in [0, {size})")
    return arr


class _Layer:
    def parameters(self):
        """The live parameter arrays by name (an optimizer updates them in place)."""
        return dict(self._params)

    def state_dict(self):
        return {n: p.copy() for n, p in self._params.items()}

    def load_state_dict(self, state_dict):
        """Refuses a missing, extra, mis-shaped or non-finite entry and then changes nothing."""
        load_params(type(self).__name__, self._params, state_dict, self.dtype)


class Embedding(_Layer):
    """A lookup table: ids of any shape -> vectors, shape ids.shape + (embedding_dim,).

    As torch.nn.Embedding: one parameter "weight" (num_embeddings, embedding_dim), drawn
    from N(0, 1)."""

    def __init__(self, num_embeddings, embedding_dim, seed=None, dtype=np.float32):
        self.num_embeddings = positive_int("num_embeddings", num_embeddings)
        self.embedding_dim = positive_int("embedding_dim", embedding_dim)
        self.dtype = float_dtype("dtype", dtype)
        rng = make_rng(seed)
        w = rng.standard_normal((self.num_embeddings, self.embedding_dim)).astype(self.dtype)
        self._params = {"weight": w}
        self.grads = {"weight": np.zeros_like(w)}
        self._cache = None

    def __repr__(self):
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}, dtype={self.dtype.name})"

    def __call__(self, ids):
        return self.forward(ids)

    def forward(self, ids, train=False):
        ids = int_ids("ids", ids, self.num_embeddings)
        out = _core.embedding_forward(ids.reshape(-1), self._params["weight"])
        if train:
            self._cache = ids
        return out.reshape(ids.shape + (self.embedding_dim,))

    def backward(self, dout):
        """Fills grads["weight"] (overwriting) from dout, shaped like the output."""
        if self._cache is None:
            raise RuntimeError("backward needs a preceding forward(..., train=True)")
        ids = self._cache
        dout = float_array("dout", dout, self.dtype)
        check_shape("dout", dout, ids.shape + (self.embedding_dim,), "(the shape of the output)")
        self.grads["weight"] = _core.embedding_backward(
            ids.reshape(-1), dout.reshape(-1, self.embedding_dim), self.num_embeddings)


class Linear(_Layer):
    """y = x W^T + b over the last axis of x (any leading shape).

    As torch.nn.Linear: "weight" (out_features, in_features), "bias" (out_features), both
    drawn from uniform(-1/sqrt(in_features), 1/sqrt(in_features))."""

    def __init__(self, in_features, out_features, bias=True, seed=None, dtype=np.float32):
        self.in_features = positive_int("in_features", in_features)
        self.out_features = positive_int("out_features", out_features)
        self.bias = bool(bias)
        self.dtype = float_dtype("dtype", dtype)
        rng = make_rng(seed)
        k = 1.0 / np.sqrt(self.in_features)
        self._params = {"weight": rng.uniform(-k, k, (self.out_features, self.in_features)).astype(self.dtype)}
        if self.bias:
            self._params["bias"] = rng.uniform(-k, k, self.out_features).astype(self.dtype)
        self.grads = {n: np.zeros_like(p) for n, p in self._params.items()}
        self._cache = None

    def __repr__(self):
        return (f"Linear({self.in_features}, {self.out_features}, bias={self.bias}, "
                f"dtype={self.dtype.name})")

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x, train=False):
        x = float_array("x", x, self.dtype)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"x has shape {shape_str(x.shape)}, expected (..., {self.in_features})")
        x2 = x.reshape(-1, self.in_features)
        y = _core.linear_forward(x2, self._params["weight"], self._params.get("bias"))
        if train:
            self._cache = (x2, x.shape)
        return y.reshape(x.shape[:-1] + (self.out_features,))

    def backward(self, dy):
        """Returns dx (shaped like x) and fills grads (overwriting)."""
        if self._cache is None:
            raise RuntimeError("backward needs a preceding forward(..., train=True)")
        x2, shape = self._cache
        dy = float_array("dy", dy, self.dtype)
        check_shape("dy", dy, shape[:-1] + (self.out_features,), "(the shape of y)")
        dx, dw, db = _core.linear_backward(x2, self._params["weight"], dy.reshape(-1, self.out_features))
        self.grads["weight"] = dw
        if self.bias:
            self.grads["bias"] = db
        return dx.reshape(shape)
