"""Optimizers and gradient clipping over {name: array} dictionaries.

An optimizer holds the live parameter arrays of a model (model.parameters()) and updates
them in place from a dictionary of gradients with the same names (model.grads). The
update rules are PyTorch's (torch.optim.SGD, Adagrad, Adam, AdamW), so a model trained
with the same hyperparameters follows the same path."""
import math
import numbers

import numpy as np


def _number(name, v, low=0.0, low_open=False, high=None):
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
        raise TypeError(f"{name} must be a finite number, got {v!r}")
    if (v <= low if low_open else v < low) or (high is not None and v >= high):
        rng = f"{'(' if low_open else '['}{low}, {high if high is not None else 'inf'})"
        raise ValueError(f"{name} must be in {rng}, got {v}")
    return float(v)


class Optimizer:
    """Base class: step(grads), state_dict(), load_state_dict()."""
    _slots = ()

    def __init__(self, params, **hyper):
        if not hasattr(params, "items"):
            raise TypeError("params must be a dict {name: array}, as model.parameters() gives, "
                            f"got {type(params).__name__}")
        for name, p in params.items():
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f" or not p.flags.writeable:
                raise TypeError(f"params[{name!r}] must be a writeable float array")
        self.params = dict(params)
        self.hyper = hyper
        self.t = 0  # steps taken
        self.state = {s: {n: np.zeros_like(p) for n, p in self.params.items()} for s in self._slots}

    def __repr__(self):
        h = ", ".join(f"{k}={v}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({h})"

    @property
    def lr(self):
        return self.hyper["lr"]

    @lr.setter
    def lr(self, value):
        self.hyper["lr"] = _number("lr", value, low_open=True)

    def step(self, grads):
        """Update every parameter in place from grads (same names and shapes)."""
        if not hasattr(grads, "keys") or set(grads.keys()) != set(self.params):
            got = set(grads.keys()) if hasattr(grads, "keys") else set()
            raise ValueError(f"grads must have the parameters' names: missing "
                             f"{sorted(set(self.params) - got)}, unexpected {sorted(got - set(self.params))}")
        gs = {}
        for name, p in self.params.items():  # every check before any update
            g = np.asarray(grads[name])
            if g.shape != p.shape:
                raise ValueError(f"grads[{name!r}] has shape {g.shape}, expected {p.shape}")
            gs[name] = g.astype(p.dtype, copy=False)
        self.t += 1
        for name, p in self.params.items():
            self._update(name, p, gs[name])

    def state_dict(self):
        """Hyperparameters, step count and every slot array (copies)."""
        return {"type": type(self).__name__, "hyper": dict(self.hyper), "t": self.t,
                "state": {s: {n: a.copy() for n, a in d.items()} for s, d in self.state.items()}}

    def load_state_dict(self, sd):
        """Restore from state_dict(); refuses another optimizer's or other shapes, changing nothing."""
        if not hasattr(sd, "get"):
            raise TypeError(f"state_dict must be a dict from state_dict(), got {type(sd).__name__}")
        missing = [k for k in ("type", "hyper", "t", "state") if k not in sd]
        if missing:
            raise ValueError(f"optimizer state_dict lacks {missing}")
        if sd.get("type") != type(self).__name__:
            raise ValueError(f"optimizer state is for {sd.get('type')!r}, not {type(self).__name__}")
        state = sd.get("state", {})
        if set(state) != set(self._slots):
            raise ValueError(f"optimizer state has slots {sorted(state)}, expected {sorted(self._slots)}")
        new = {}
        for s in self._slots:
            if set(state[s]) != set(self.params):
                raise ValueError(f"optimizer state {s!r} does not name the same parameters")
            new[s] = {}
            for n, p in self.params.items():
                a = np.asarray(state[s][n])
                if a.shape != p.shape:
                    raise ValueError(f"optimizer state {s}[{n!r}] has shape {a.shape}, expected {p.shape}")
                new[s][n] = np.array(a, dtype=p.dtype)
        probe = type(self)({}, **sd["hyper"])  # validates the hyperparameters
        self.hyper, self.t, self.state = probe.hyper, int(sd["t"]), new


class SGD(Optimizer):
    """p -= lr * g, with optional momentum (buf = momentum * buf + g; PyTorch's form,
    nesterov optional) and L2 weight decay (g += weight_decay * p)."""

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0, nesterov=False):
        self._slots = ("momentum_buffer",) if momentum else ()
        super().__init__(params, lr=_number("lr", lr, low_open=True),
                         momentum=_number("momentum", momentum, high=1.0),
                         weight_decay=_number("weight_decay", weight_decay),
                         nesterov=bool(nesterov))
        if self.hyper["nesterov"] and not momentum:
            raise ValueError("nesterov needs momentum > 0")

    def _update(self, name, p, g):
        h = self.hyper
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        if h["momentum"]:
            buf = self.state["momentum_buffer"][name]
            if self.t == 1:
                buf[...] = g
            else:
                buf *= h["momentum"]
                buf += g
            g = g + h["momentum"] * buf if h["nesterov"] else buf
        p -= h["lr"] * g


class Adagrad(Optimizer):
    """sum += g^2; p -= lr * g / (sqrt(sum) + eps) — the char-RNN notebooks' optimizer."""
    _slots = ("sum",)

    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0, initial_accumulator_value=0.0):
        super().__init__(params, lr=_number("lr", lr, low_open=True), eps=_number("eps", eps),
                         weight_decay=_number("weight_decay", weight_decay),
                         initial_accumulator_value=_number("initial_accumulator_value",
                                                           initial_accumulator_value))
        for a in self.state["sum"].values():
            a.fill(self.hyper["initial_accumulator_value"])

    def _update(self, name, p, g):
        h = self.hyper
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        s = self.state["sum"][name]
        s += g * g
        p -= h["lr"] * g / (np.sqrt(s) + h["eps"])


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction; weight_decay is L2 added to the gradient
    (for decoupled decay use AdamW)."""
    _slots = ("exp_avg", "exp_avg_sq")
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
        super().__init__(params, lr=_number("lr", lr, low_open=True),
                         betas=(_number("betas[0]", b1, high=1.0), _number("betas[1]", b2, high=1.0)),
                         eps=_number("eps", eps), weight_decay=_number("weight_decay", weight_decay))

    def _update(self, name, p, g):
        h = self.hyper
        lr, (b1, b2), wd = h["lr"], h["betas"], h["weight_decay"]
        if wd and self._decoupled:
            p *= 1 - lr * wd
        elif wd:
            g = g + wd * p
        m, v = self.state["exp_avg"][name], self.state["exp_avg_sq"][name]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        p -= (lr / c1) * m / (np.sqrt(v / c2) + h["eps"])


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step."""
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas, eps, weight_decay)


def clip_grad_value(grads, clip_value):
    """Clip every gradient into [-clip_value, clip_value], in place (min-char-rnn's ±5)."""
    c = _number("clip_value", clip_value, low_open=True)
    for g in grads.values():
        np.clip(g, -c, c, out=g)


def global_norm(grads):
    """The L2 norm of all gradients together, summed in float64. (No BLAS call: NumPy's
    own BLAS threads would spin against minrnn's on the same cores.)"""
    return math.sqrt(sum(float(np.square(g, dtype=np.float64).sum()) for g in grads.values()))


def clip_grad_norm(grads, max_norm):
    """Scale all gradients together, in place, so that their global L2 norm is at most
    max_norm; returns the norm before clipping (as torch.nn.utils.clip_grad_norm_)."""
    m = _number("max_norm", max_norm, low_open=True)
    total = global_norm(grads)
    scale = m / (total + 1e-6)
    if scale < 1:
        for g in grads.values():
            g *= g.dtype.type(scale)
    return total
