"""Plain NumPy float64 references written straight from DESIGN.md §3 and §4.

Loops over time, no tricks: slow and obviously right."""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def candidate(name, x):
    if name == "g":
        return np.where(x >= 0, x + 0.5, sigmoid(x))
    if name == "tanh":
        return np.tanh(x)
    if name == "identity":
        return x
    raise ValueError(name)


def scan(a, b, h0=None):
    """h_t = a_t h_{t-1} + b_t over axis 1 of (B, T, C)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    B, T, C = a.shape
    h = np.zeros((B, C)) if h0 is None else np.asarray(h0, np.float64).copy()
    out = np.empty((B, T, C))
    for t in range(T):
        h = a[:, t] * h + b[:, t]
        out[:, t] = h
    return out


def scan_backward(a, h, dh, h0=None):
    a, h, dh = (np.asarray(v, np.float64) for v in (a, h, dh))
    B, T, C = a.shape
    hprev = np.concatenate([np.zeros((B, 1, C)) if h0 is None else np.asarray(h0, np.float64)[:, None], h[:, :-1]], 1)
    g = np.zeros((B, C))
    da = np.empty_like(a)
    db = np.empty_like(a)
    for t in reversed(range(T)):
        g = dh[:, t] + (a[:, t + 1] * g if t + 1 < T else 0.0)
        db[:, t] = g
        da[:, t] = g * hprev[:, t]
    dh0 = a[:, 0] * g if T > 0 else np.zeros((B, C))
    return da, db, dh0


def mingru(x, w, b, h0=None, cand="g"):
    """x (B, T, D), w (2H, D) blocks [z; h~], b (2H) or None. Returns y (B, T, H)."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    H = w.shape[0] // 2
    B, T, _ = x.shape
    b = np.zeros(2 * H) if b is None else np.asarray(b, np.float64)
    h = np.zeros((B, H)) if h0 is None else np.asarray(h0, np.float64).copy()
    y = np.empty((B, T, H))
    for t in range(T):
        p = x[:, t] @ w.T + b
        z = sigmoid(p[:, :H])
        ht = candidate(cand, p[:, H:])
        h = (1 - z) * h + z * ht
        y[:, t] = h
    return y


def minlstm(x, w, b, h0=None, cand="g"):
    """x (B, T, D), w (3H, D) blocks [f; i; h~], b (3H) or None. Returns y (B, T, H)."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    H = w.shape[0] // 3
    B, T, _ = x.shape
    b = np.zeros(3 * H) if b is None else np.asarray(b, np.float64)
    h = np.zeros((B, H)) if h0 is None else np.asarray(h0, np.float64).copy()
    y = np.empty((B, T, H))
    for t in range(T):
        p = x[:, t] @ w.T + b
        f = sigmoid(p[:, :H])
        i = sigmoid(p[:, H:2 * H])
        ht = candidate(cand, p[:, 2 * H:])
        h = f / (f + i) * h + i / (f + i) * ht
        y[:, t] = h
    return y
