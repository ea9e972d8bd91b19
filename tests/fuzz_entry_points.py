"""Random calls into every public entry point of minrnn, valid and invalid.

    python tests/fuzz_entry_points.py [--cases N] [--seed S]

Each case builds an object with random options and calls it with random arrays (any
dtype, rank, size, stride, with NaN, inf and huge values) or right-shaped ones. The only
exceptions allowed out are the documented ones (ValueError, TypeError, IndexError, and
RuntimeError for calls out of order); anything else is printed and the exit code is 1.
A crash kills this process, not the test run that started it (tests/test_reliability.py).
"""
import argparse
import traceback
import warnings

import numpy as np

import minrnn as mr

ALLOWED = (ValueError, TypeError, IndexError, RuntimeError)
DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.bool_, np.complex64, object]


class Fuzz:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def pick(self, options):
        return options[int(self.rng.integers(len(options)))]

    def pick_mostly(self, good, bad, p_bad=0.05):
        """One of the valid options, or (rarely) one of the invalid ones."""
        return self.pick(bad) if self.coin(p_bad) else self.pick(good)

    def coin(self, p=0.5):
        return self.rng.random() < p

    def size(self, hi=5):
        return int(self.rng.integers(0, hi + 1))

    def array(self, shape=None, dtype=None, ids=None):
        """A random array: the given shape/dtype or random ones, sometimes strided, with
        special values; ids=(lo, hi) for integer ids."""
        if shape is None:
            shape = tuple(self.size() for _ in range(self.size(4)))
        if dtype is None:
            dtype = self.pick(DTYPES) if self.coin(0.1) else (np.float32 if ids is None else np.int64)
        if ids is not None:
            a = self.rng.integers(ids[0], ids[1], shape)
        else:
            a = self.rng.standard_normal(shape) * self.pick([1.0, 1e-3, 1e4, 1e30])
            if a.size and self.coin(0.1):
                a.flat[int(self.rng.integers(a.size))] = self.pick([np.nan, np.inf, -np.inf])
        a = np.asarray(a).astype(dtype)
        if a.ndim and self.coin(0.2):  # a non-contiguous view of a bigger array
            a = np.repeat(a, 2, axis=-1)[..., ::2]
        if a.ndim > 1 and self.coin(0.1):
            a = np.swapaxes(a, 0, 1)
        return a

    def maybe(self, value, p=0.5):
        return value if self.coin(p) else None

    # ---- one case for each family of entry points ----
    def layer(self):
        cls = self.pick([mr.RNN, mr.GRU, mr.LSTM, mr.MGU, mr.MinGRU, mr.MinLSTM])
        D, H = self.size(4) + (0 if self.coin(0.05) else 1), self.size(6) + (0 if self.coin(0.05) else 1)
        opts = dict(num_layers=self.pick_mostly([1, 2], [0, -1, 1.5]), bidirectional=self.coin(), bias=self.coin(),
                    batch_first=self.coin(), dropout=self.pick_mostly([0.0, 0.3], [1.5, -0.1, "x"]), seed=self.size())
        if cls in (mr.MinGRU, mr.MinLSTM):
            opts.update(candidate=self.pick_mostly(["g", "tanh", "identity"], ["relu", None]),
                        scan=self.pick_mostly(["auto", "sequential", "parallel"], ["fast", 1]))
        m = cls(D, H, **opts)
        B, T, L = self.size(3), self.size(6), m.num_layers * (2 if m.bidirectional else 1)
        good = (B, T, D) if m.batch_first else (T, B, D)
        x = self.array(good if self.coin(0.7) else None)
        h0 = self.maybe(self.array((L, B, H) if self.coin(0.7) else None))
        train = self.coin()
        if cls is mr.LSTM and self.coin():
            y, _ = m.forward(x, (h0, self.array((L, B, H))) if h0 is not None else None, train=train)
        else:
            y, _ = m.forward(x, h0, train=train)
        if train and self.coin(0.8):
            m.backward(self.array(y.shape if self.coin(0.8) else None), self.maybe(self.array((L, B, H))))
        if self.coin(0.3):
            m.step(self.array((B, D) if self.coin() else None), self.maybe(m.initial_state(max(B, 1))))
        if self.coin(0.2):
            sd = m.state_dict()
            if sd and self.coin():
                k = self.pick(sorted(sd))
                sd[k] = self.array()
            m.load_state_dict(sd)

    def cell(self):
        cls = self.pick([mr.RNNCell, mr.GRUCell, mr.LSTMCell, mr.MGUCell, mr.MinGRUCell, mr.MinLSTMCell])
        D, H = self.size(4) + 1, self.size(5) + 1
        c = cls(D, H, bias=self.coin())
        B = self.size(3)
        state = None
        if self.coin():
            state = (self.array((B, H)), self.array((B, H))) if cls is mr.LSTMCell and self.coin() \
                else self.array((B, H) if self.coin() else None)
        c(self.array((B, D) if self.coin(0.7) else None), state)

    def scan(self):
        B, T, C = self.size(2), self.size(8), self.size(4)
        shape = (B, T, C) if self.coin(0.7) else None
        mode = self.pick_mostly(["auto", "sequential", "parallel"], [3, None, "x"])
        a, b = self.array(shape), self.array(shape)
        which = self.size(3)
        if which == 0:
            mr.scan.linear(a, b, self.maybe(self.array((B, C))), mode=mode,
                           out=self.maybe(self.array(shape), 0.2))
        elif which == 1:
            mr.scan.linear_backward(a, b, self.array(shape), self.maybe(self.array((B, C))), mode=mode)
        elif which == 2:
            mr.scan.choose(self.pick([B, -1, 2**40]), T, C)
        else:
            fn = self.pick([mr.scan.mingru, mr.scan.minlstm])
            G = 2 if fn is mr.scan.mingru else 3
            fn(self.array((B, T, G * C) if self.coin(0.7) else None),
               bias=self.maybe(self.array((G * C,))), h0=self.maybe(self.array((B, C))),
               candidate=self.pick(["g", "tanh", "x"]), mode=mode)

    def layers_and_losses(self):
        which = self.size(3)
        if which == 0:
            V, E = self.size(5) + self.pick([0, 1]), self.size(4) + 1
            emb = mr.Embedding(V, E)
            ids = self.array(ids=(-2, V + 2)) if self.coin(0.7) else self.array()
            out = emb.forward(ids, train=True)
            emb.backward(self.array(out.shape if self.coin(0.8) else None))
        elif which == 1:
            K, N = self.size(4) + 1, self.size(4) + 1
            lin = mr.Linear(K, N, bias=self.coin())
            y = lin.forward(self.array((self.size(3), K) if self.coin(0.7) else None), train=True)
            lin.backward(self.array(y.shape if self.coin(0.8) else None))
        elif which == 2:
            V = self.size(5) + self.pick([0, 1])
            shape = (self.size(4), V)
            ce = mr.CrossEntropyLoss(ignore_index=self.pick([-100, 0, -1]))
            ce.forward(self.array(shape if self.coin(0.7) else None),
                       self.array((shape[0],), ids=(-3, V + 2)) if self.coin(0.7) else self.array(),
                       grad=self.coin())
            ce.backward(self.pick([1.0, 0.5, np.nan]))
        else:
            shape = tuple(self.size() for _ in range(self.size(3)))
            m = mr.MSELoss()
            m.forward(self.array(shape), self.array(shape if self.coin(0.7) else None))
            m.backward()

    def language_model(self):
        text = "".join(self.pick(list("ab cdé\n€")) for _ in range(self.size(40) + (0 if self.coin(0.1) else 3)))
        level = self.pick_mostly(["char", "word"], ["byte"])
        v = mr.Vocab.from_text(text, level=level)
        m = mr.LanguageModel(len(v), self.size(4) + 1, self.size(6) + 1,
                             cell=self.pick_mostly(["gru", "lstm", "mingru", "rnn", "mgu", "minlstm"], ["xl", 3]),
                             num_layers=self.pick([1, 2]), vocab=v if self.coin(0.8) else None)
        which = self.size(4)
        if which == 0:
            ids = self.array(ids=(-1, len(v) + 1)) if self.coin(0.8) else self.array()
            loss, _ = m.loss(ids, self.array(ids.shape, ids=(0, len(v))) if hasattr(ids, "shape") else ids,
                             train=self.coin())
            m.backward()
        elif which == 1:
            m.sample(self.pick([text[:3], "", None, "zzz"]), self.pick([0, 5, -1]),
                     temperature=self.pick([1.0, 0.0, -1.0, np.nan]), top_k=self.pick([None, 1, 3, 0]),
                     seed=self.pick([None, 3, -1]))
        elif which == 2:
            m.perplexity(self.pick([text, "a", self.array(ids=(0, len(v))), self.array()]))
        elif which == 3:
            m.predict_next(self.pick([text[:4], "", self.array(ids=(0, len(v)))]))
        else:
            v.decode(self.array(ids=(-1, len(v) + 1)) if self.coin() else self.array())

    def optimizer(self):
        params = {f"p{i}": self.rng.standard_normal(self.size(3) + 1) for i in range(self.size(3))}
        cls = self.pick([mr.SGD, mr.Adagrad, mr.Adam, mr.AdamW])
        lr = self.pick_mostly([0.1, 0.01, 1.0], [0.0, -1.0, np.inf, "x"])
        opt = cls(params, lr=lr) if not self.coin(0.05) else cls(self.array(), lr=lr)
        grads = {k: (v.copy() if self.coin(0.9) else self.array()) for k, v in params.items()}
        if self.coin(0.1) and grads:
            grads.pop(self.pick(sorted(grads)))
        mr.clip_grad_norm(grads, self.pick_mostly([1.0, 5.0], [0.0, -1.0])) if self.coin(0.3) else None
        opt.step(grads)
        opt.load_state_dict(opt.state_dict())

    def threads(self):
        mr.set_num_threads(self.pick_mostly([1, 2, 3, 4], [0, -1, 10**30, 2.5, "2"], 0.3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    fz = Fuzz(args.seed)
    families = [fz.layer, fz.cell, fz.scan, fz.layers_and_losses, fz.language_model, fz.optimizer, fz.threads]
    warnings.simplefilter("ignore")  # casts of huge values to small dtypes are intended
    counts = {"ok": 0, "refused": 0}
    per = {f.__name__: [0, 0] for f in families}
    bad = []
    for i in range(args.cases):
        fn = families[i % len(families)]
        try:
            fn()
            counts["ok"] += 1
            per[fn.__name__][0] += 1
        except ALLOWED:
            counts["refused"] += 1
            per[fn.__name__][1] += 1
        except Exception as exc:  # an undocumented error: report it
            bad.append((i, fn.__name__, type(exc).__name__, traceback.format_exc()))
    mr.set_num_threads(2)
    print(f"{args.cases} cases: {counts['ok']} ran, {counts['refused']} refused with documented errors, "
          f"{len(bad)} undocumented")
    print("ran / refused by family: " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in per.items()))
    for i, name, kind, tb in bad[:10]:
        print(f"--- case {i} ({name}): {kind}\n{tb}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
