"""Plain NumPy float64 references written straight from the equations (DESIGN.md §3, §4):
loops over time, no tricks, slow and obviously right. The tests and the benchmarks (`minrnn
bench` included) check minrnn's kernels against them; no layer or model calls them."""
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


def classic(cell, x, w_ih, w_hh, b_ih=None, b_hh=None, h0=None, c0=None, reverse=False):
    """One layer, one direction of the classic cells (DESIGN.md §3), PyTorch's layout.

    cell: "rnn_tanh", "rnn_relu", "lstm", "gru" (reset after the product, PyTorch),
    "gru_reset_before" (Cho 2014), "mgu". x (B, T, D). Returns y (B, T, H), h_n, c_n."""
    x = np.asarray(x, np.float64)
    w_ih, w_hh = np.asarray(w_ih, np.float64), np.asarray(w_hh, np.float64)
    H = w_hh.shape[1]
    GH = w_ih.shape[0]
    b_ih = np.zeros(GH) if b_ih is None else np.asarray(b_ih, np.float64)
    b_hh = np.zeros(GH) if b_hh is None else np.asarray(b_hh, np.float64)
    B, T, _ = x.shape
    h = np.zeros((B, H)) if h0 is None else np.asarray(h0, np.float64).copy()
    c = np.zeros((B, H)) if c0 is None else np.asarray(c0, np.float64).copy()
    y = np.zeros((B, T, H))
    blk = lambda v, k: v[..., k * H:(k + 1) * H]
    for t in (reversed(range(T)) if reverse else range(T)):
        xi = x[:, t] @ w_ih.T + b_ih
        if cell in ("rnn_tanh", "rnn_relu"):
            pre = xi + h @ w_hh.T + b_hh
            h = np.tanh(pre) if cell == "rnn_tanh" else np.maximum(pre, 0)
        elif cell == "lstm":
            g = xi + h @ w_hh.T + b_hh
            i, f, gg, o = sigmoid(blk(g, 0)), sigmoid(blk(g, 1)), np.tanh(blk(g, 2)), sigmoid(blk(g, 3))
            c = f * c + i * gg
            h = o * np.tanh(c)
        elif cell == "gru":
            hh = h @ w_hh.T + b_hh
            r = sigmoid(blk(xi, 0) + blk(hh, 0))
            z = sigmoid(blk(xi, 1) + blk(hh, 1))
            n = np.tanh(blk(xi, 2) + r * blk(hh, 2))
            h = (1 - z) * n + z * h
        elif cell == "gru_reset_before":
            r = sigmoid(blk(xi, 0) + h @ blk(w_hh.T, 0) + blk(b_hh, 0))
            z = sigmoid(blk(xi, 1) + h @ blk(w_hh.T, 1) + blk(b_hh, 1))
            n = np.tanh(blk(xi, 2) + (r * h) @ blk(w_hh.T, 2) + blk(b_hh, 2))
            h = (1 - z) * n + z * h
        elif cell == "mgu":
            f = sigmoid(blk(xi, 0) + h @ blk(w_hh.T, 0) + blk(b_hh, 0))
            n = np.tanh(blk(xi, 1) + (f * h) @ blk(w_hh.T, 1) + blk(b_hh, 1))
            h = (1 - f) * h + f * n
        else:
            raise ValueError(cell)
        y[:, t] = h
    return y, h, c


def stack(layer, x, h0=None, c0=None):
    """A minrnn layer's whole stack (layers, directions) from its state_dict, in float64,
    by the single-layer references. x (B, T, D). Returns y, h_n (L*dirs, B, H), c_n."""
    sd = layer.state_dict()
    cell = layer._cell
    dirs = 2 if layer.bidirectional else 1
    inp = np.asarray(x, np.float64)
    hs, cs = [], []
    for k in range(layer.num_layers):
        outs = []
        for d, sfx in enumerate([f"_l{k}", f"_l{k}_reverse"][:dirs]):
            i = k * dirs + d
            h_init = None if h0 is None else h0[i]
            c_init = None if c0 is None else c0[i]
            if cell in ("mingru", "minlstm"):
                xi = inp[:, ::-1] if d else inp
                fn = mingru if cell == "mingru" else minlstm
                y = fn(xi, sd["weight_ih" + sfx], sd.get("bias_ih" + sfx), h_init, layer.candidate)
                h, c = y[:, -1], None
                y = y[:, ::-1] if d else y
            else:
                y, h, c = classic(cell, inp, sd["weight_ih" + sfx], sd["weight_hh" + sfx],
                                  sd.get("bias_ih" + sfx), sd.get("bias_hh" + sfx), h_init, c_init,
                                  reverse=bool(d))
            outs.append(y)
            hs.append(h)
            cs.append(c)
        inp = np.concatenate(outs, axis=2)
    return inp, np.stack(hs), (np.stack(cs) if cell == "lstm" else None)


def numeric_grad(f, arr, eps=1e-6):
    """Central finite differences of the scalar f() with respect to arr (changed in place
    and restored)."""
    g = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + eps
        lp = f()
        arr[idx] = old - eps
        lm = f()
        arr[idx] = old
        g[idx] = (lp - lm) / (2 * eps)
    return g


def scan_residual(a, b, h, h0=None):
    """The largest |h_t - (a_t h_{t-1} + b_t)| over (B, T, C), relative to the largest
    |a_t h_{t-1}| + |b_t|: checks a scan's output against its recurrence in one vectorised
    pass, however long the sequence (a loop over millions of steps would take minutes).
    Rounding leaves ~1e-7 in float32 (a few ulp more where a parallel schedule meets)."""
    a, b, h = (np.asarray(v, np.float64) for v in (a, b, h))
    prev = np.concatenate([np.zeros_like(h[:, :1]) if h0 is None else
                           np.asarray(h0, np.float64)[:, None], h[:, :-1]], axis=1)
    step = a * prev
    scale = float(np.max(np.abs(step) + np.abs(b), initial=0.0))
    return float(np.max(np.abs(h - step - b), initial=0.0)) / max(scale, 1e-300)


def layer_gradient_gaps(layer, x, dy, rng, eps=(1e-6, 1e-8, 1e-10)):
    """How far a batch-first minrnn layer's backward is from central differences of the
    reference forward.

    Runs layer.forward(x, train=True) and layer.backward(dy); then for dx and for every
    parameter's gradient g, draws a standard normal direction v and compares sum(g * v)
    with (L(p + e v) - L(p - e v)) / (2 e), where L = sum(stack(...) * dy) in float64.
    Returns {name: |difference| / |g|}, the smaller over the steps e in eps: the candidate
    g (and ReLU) has a kink at 0, and a pre-activation within e |dp| of it spoils that
    step's difference (with 16k candidates, one lies within 1e-5 of 0 about a quarter of
    the time); a smaller step then misses the kink, with rounding still below ~1e-5 of |g|.
    A correct layer lands near 1e-6 (float32 up to ~1e-2, see check_layer), a wrong
    gradient near 1."""
    y, _ = layer.forward(x, train=True)
    dx, _ = layer.backward(np.asarray(dy, y.dtype))
    grads = {"x": dx, **layer.grads}
    x64, dy = np.asarray(x, np.float64), np.asarray(dy, np.float64)
    params = {k: np.asarray(v, np.float64) for k, v in layer.state_dict().items()}

    def loss(name, step):  # L with x, or one parameter, moved by step
        moved = dict(params)
        if name != "x":
            moved[name] = params[name] + step
        return float(np.sum(_stack_with(layer, moved, x64 + step if name == "x" else x64)[0] * dy))

    gaps = {}
    for name, g in grads.items():
        g = np.asarray(g, np.float64)
        v = rng.standard_normal(g.shape)
        got, norm = float(np.sum(g * v)), max(float(np.linalg.norm(g)), 1e-30)
        gaps[name] = min(abs(got - (loss(name, e * v) - loss(name, -e * v)) / (2 * e)) / norm for e in eps)
    return gaps


def _stack_with(layer, params, x):
    """stack() of layer's structure with other (float64) parameters."""
    class View:
        pass
    view = View()
    view.state_dict = lambda: params
    for attr in ("_cell", "bidirectional", "num_layers", "candidate"):
        setattr(view, attr, getattr(layer, attr, None))
    return stack(view, x)


def check_layer(layer, x, rng=None, grad_steps=32, name=None):
    """What the benchmarks run before timing a layer: layer(x) against stack() in float64 at
    x's full size, then backward against central differences (layer_gradient_gaps) on the
    first grad_steps steps of x (0: forward only). x is batch-first. Raises AssertionError
    naming what differs (an explicit raise: it still checks under python -O); returns the
    forward's largest difference relative to max |y| and the largest gradient gap."""
    name = name or type(layer).__name__
    if not getattr(layer, "batch_first", True):
        raise ValueError(f"check_layer takes batch-first layers; {name} has batch_first=False")
    f32 = np.dtype(layer.dtype) == np.float32
    y = np.asarray(layer(x)[0], np.float64)
    want = stack(layer, x)[0]
    err = float(np.max(np.abs(y - want), initial=0.0)) / max(1.0, float(np.max(np.abs(want), initial=0.0)))
    tol = 1e-3 if f32 else 1e-9
    if not err <= tol:
        raise AssertionError(f"{name}: the forward output differs from the NumPy float64 reference by "
                             f"{err:.3g} (relative to max |y|), more than {tol:g}")
    gap = 0.0
    if grad_steps:
        rng = np.random.default_rng(0) if rng is None else rng
        xs = np.ascontiguousarray(np.asarray(x)[:, :grad_steps])
        gaps = layer_gradient_gaps(layer, xs, rng.standard_normal(xs.shape[:2] + y.shape[2:]), rng)
        worst = max(gaps, key=gaps.get)
        gap = gaps[worst]
        # float32: the candidate g's slope jumps from 1/4 to 1 at 0, and a pre-activation
        # within rounding of 0 can land on the other side of the kink than in float64: one
        # such element moves a gradient by up to ~1e-2 of its norm. A wrong gradient: ~1.
        tol = 3e-2 if f32 else 1e-6
        if not gap <= tol:
            raise AssertionError(f"{name}: the gradient of {worst} is off from central differences of "
                                 f"the reference by {gap:.3g} (relative to its norm), more than {tol:g}")
    return err, gap


def check_step(layer, x_t, state, got, name=None):
    """A layer's (or a *Cell's) one-step output `got` for x_t (B, D) and state against
    stack() over one step. Raises AssertionError naming what differs."""
    name = name or type(layer).__name__
    inner = getattr(layer, "_layer", layer)  # a *Cell wraps a one-layer module
    h0, c0 = (state if isinstance(state, tuple) else (state, None))
    L = inner.num_layers
    if h0 is not None:
        h0 = np.asarray(h0, np.float64).reshape(L, -1, inner.hidden_size)
    if c0 is not None:
        c0 = np.asarray(c0, np.float64).reshape(L, -1, inner.hidden_size)
    want = stack(inner, np.asarray(x_t, np.float64).reshape(-1, 1, inner.input_size), h0, c0)[0][:, 0]
    got = np.asarray(got, np.float64).reshape(want.shape)
    err = float(np.max(np.abs(got - want), initial=0.0)) / max(1.0, float(np.max(np.abs(want), initial=0.0)))
    tol = 1e-4 if np.dtype(inner.dtype) == np.float32 else 1e-10
    if not err <= tol:
        raise AssertionError(f"{name}: one step differs from the NumPy float64 reference by {err:.3g}, "
                             f"more than {tol:g}")
    return err
