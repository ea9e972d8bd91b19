"""Training a LanguageModel on a long text: B parallel streams, truncated BPTT over chunks
of L tokens, each stream's recurrent state carried from one chunk to the next."""
import hashlib
import math
import numbers
import os
import sys

import numpy as np

from . import checkpoint as ckpt
from .data import stream_batches
from .model import LanguageModel, perplexity_of
from .optim import SGD, Adagrad, Adam, AdamW, clip_grad_norm, clip_grad_value, global_norm

OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "adam": Adam, "adamw": AdamW}


class TrainingError(FloatingPointError):
    """The loss or the gradients stopped being finite."""


def _fingerprint(ids):
    return hashlib.sha256(np.ascontiguousarray(ids, dtype=np.int64).tobytes()).hexdigest()[:16]


def _opt_number(name, v):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v > 0 or not math.isfinite(v):
        raise ValueError(f"{name} must be a positive number or None, got {v!r}")
    return float(v)


class Trainer:
    """Truncated-BPTT training of a LanguageModel.

    The token stream is cut into batch_size streams of equal length; each step trains on
    the next seq_len tokens of every stream, starting from the state the previous chunk
    ended with (gradients stop at the chunk boundary). After the last chunk the streams
    start again from their beginning with zero state. clip_value clips every gradient
    element into [-clip_value, clip_value]; clip_norm scales the gradients to a global
    norm of at most clip_norm. optimizer defaults to Adam(lr=2e-3)."""

    def __init__(self, model, optimizer=None, batch_size=32, seq_len=64, clip_value=None,
                 clip_norm=None):
        if not isinstance(model, LanguageModel):
            raise TypeError(f"model must be a minrnn.LanguageModel, got {type(model).__name__}")
        self.model = model
        self.optimizer = optimizer if optimizer is not None else Adam(model.parameters(), lr=2e-3)
        if set(self.optimizer.params) != set(model.parameters()):
            raise ValueError("the optimizer must hold this model's parameters (model.parameters())")
        for name in ("batch_size", "seq_len"):
            v = locals()[name]
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        self.batch_size, self.seq_len = int(batch_size), int(seq_len)
        self.clip_value = _opt_number("clip_value", clip_value)
        self.clip_norm = _opt_number("clip_norm", clip_norm)
        self.step = 0        # optimizer steps taken
        self.epoch = 0       # completed passes over the streams
        self.pos = 0         # where the next chunk starts in every stream
        self.state = None    # recurrent state carried between chunks
        self.smooth_loss = None
        self.losses = []     # the training loss of every step
        self.tokens = 0      # target tokens trained on (this process)
        self.val = []        # (step, validation perplexity)
        self._data_id = None

    # ---- data ----
    def _ids(self, name, data):
        if isinstance(data, str):
            if self.model.vocab is None:
                raise TypeError(f"{name} is text but the model has no vocab; pass token ids")
            return self.model.vocab.encode(data)
        return self.model._ids(name, data)

    def evaluate(self, data, batch_size=None, seq_len=None):
        """Mean negative log-likelihood (nats per token) of data, read as batch_size
        streams with their state carried over chunks of seq_len (defaults: the trainer's,
        fewer streams if data is short). Inference only: no gradients, no dropout."""
        ids = self._ids("data", data)
        if len(ids) < 2:
            raise ValueError(f"evaluation data needs at least 2 tokens, got {len(ids)}")
        for name, v in (("batch_size", batch_size), ("seq_len", seq_len)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0):
                raise ValueError(f"{name} must be an int >= 1, or 0 or None for the trainer's, got {v!r}")
        B = min(batch_size or self.batch_size, len(ids) - 1)
        # Inference has no BPTT limit: longer chunks, fewer calls, but logits of at most
        # 2^24 numbers at a time (a large vocabulary makes them big).
        L = max(1, min(4 * (seq_len or self.seq_len), 2**24 // (B * self.model.vocab_size)))
        streams = stream_batches(ids, B)
        S = streams.shape[1] - 1
        state, total = None, 0.0
        for p in range(0, S, L):
            x, y = streams[:, p:p + L], streams[:, p + 1:p + L + 1]
            x = x[:, :y.shape[1]]
            loss, state = self.model.loss(x, y, state)
            total += loss * y.size
        return total / (B * S)

    # ---- training ----
    def train_step(self, x, y):
        """One step on inputs x (B, L) and targets y: forward, backward, clip, update.
        Returns the loss; raises TrainingError if the loss or gradients are not finite."""
        loss, state = self.model.loss(x, y, self.state, train=True)
        if not math.isfinite(loss):
            raise TrainingError(f"the training loss is {loss} at step {self.step + 1}; "
                                "lower the learning rate or clip the gradients")
        self.model.backward()
        grads = self.model.grads
        if self.clip_value is not None:
            clip_grad_value(grads, self.clip_value)
        norm = clip_grad_norm(grads, self.clip_norm) if self.clip_norm is not None else global_norm(grads)
        if not math.isfinite(norm):
            raise TrainingError(f"the gradients are not finite at step {self.step + 1} "
                                f"(norm {norm}); lower the learning rate or clip the gradients")
        self.optimizer.step(grads)
        self.state = state
        self.step += 1
        self.losses.append(loss)
        self.tokens += int(np.size(y))
        self.smooth_loss = loss if self.smooth_loss is None else 0.95 * self.smooth_loss + 0.05 * loss
        return loss

    def fit(self, train, val=None, steps=1000, eval_every=None, progress=True, checkpoint=None,
            checkpoint_every=None, log=None):
        """Train until self.step reaches steps (a resumed trainer continues from its step).

        train, val: text (with the model's vocab) or token ids. Every eval_every steps (and
        at the end) logs the smoothed loss and, with val, the validation perplexity; with a
        checkpoint path, also saves there (every checkpoint_every steps if given, else at
        each evaluation, and at the end). progress shows a tqdm bar. Returns self."""
        ids = self._ids("train", train)
        streams = stream_batches(ids, self.batch_size)
        data_id = _fingerprint(ids)
        if self._data_id is not None and data_id != self._data_id and self.step > 0:
            raise ValueError("train is not the text this trainer was trained on (its checkpoint "
                             "records another); resuming needs the same data")
        self._data_id = data_id
        val_ids = self._ids("val", val) if val is not None else None
        if val_ids is not None and len(val_ids) < 2:
            raise ValueError(f"val needs at least 2 tokens, got {len(val_ids)}")
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
            raise ValueError(f"steps must be an int >= 0, got {steps!r}")
        if checkpoint is not None:
            ckpt.check_writable(checkpoint)  # now, not after the first hour of training
        for name, v in (("eval_every", eval_every), ("checkpoint_every", checkpoint_every)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0):
                raise ValueError(f"{name} must be an int >= 1, or 0 or None for the default, got {v!r}")
        eval_every = eval_every or max(1, steps // 10)
        checkpoint_every = checkpoint_every or eval_every
        log = log or _default_log(progress)
        S = streams.shape[1] - 1
        if self.pos >= S:  # a checkpoint from longer streams: start them over
            self.pos, self.state = 0, None
        bar = _progress(progress, self.step, steps)
        try:
            while self.step < steps:
                L = min(self.seq_len, S - self.pos)
                x = streams[:, self.pos:self.pos + L]
                y = streams[:, self.pos + 1:self.pos + L + 1]
                self.train_step(x, y)
                self.pos += L
                if self.pos >= S:
                    self.pos, self.state, self.epoch = 0, None, self.epoch + 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{self.smooth_loss:.3f}", refresh=False)
                last = self.step == steps
                if self.step % eval_every == 0 or last:
                    msg = f"step {self.step:6d}  loss {self.smooth_loss:.4f}"
                    if val_ids is not None:
                        ppl = perplexity_of(self.evaluate(val_ids))
                        self.val.append((self.step, ppl))
                        msg += f"  val perplexity {ppl:.3f}"
                    log(msg)
                if checkpoint is not None and (self.step % checkpoint_every == 0 or last):
                    self.save(checkpoint)
        finally:
            if bar is not None:
                bar.close()
        return self

    # ---- checkpoints ----
    def save(self, path):
        """Model, optimizer and this trainer's position, atomically, in one file."""
        arrays = {"losses": np.asarray(self.losses, np.float64),
                  "val": np.asarray(self.val, np.float64).reshape(-1, 2)}
        st = self.state
        if st is not None:
            for i, a in enumerate(st if isinstance(st, tuple) else (st,)):
                arrays[f"state{i}"] = a
        meta = {"batch_size": self.batch_size, "seq_len": self.seq_len,
                "clip_value": self.clip_value, "clip_norm": self.clip_norm, "step": self.step,
                "epoch": self.epoch, "pos": self.pos, "smooth_loss": self.smooth_loss,
                "data": self._data_id, "state_parts": 0 if st is None else
                (len(st) if isinstance(st, tuple) else 1)}
        ckpt.save(path, self.model, self.optimizer, {"meta": meta, "arrays": arrays})

    @classmethod
    def load(cls, path):
        """A trainer (with its model and optimizer) that continues where path left off."""
        path = os.fspath(path)
        meta, arrays = ckpt.read(path)
        model = ckpt.build_model(meta, arrays, path)
        try:
            om, tm = meta["optimizer"], meta["trainer"]
            if om is None or tm is None:
                raise ValueError("it holds a model only (no optimizer or trainer state)")
            opt_cls = {c.__name__: c for c in OPTIMIZERS.values()}[om["type"]]
            hyper = dict(om["hyper"])
            opt = opt_cls(model.parameters(), **hyper)
            prefix = "optim/"
            slots = {}
            for k, v in arrays.items():
                if k.startswith(prefix):
                    slot, name = k[len(prefix):].split("/", 1)
                    slots.setdefault(slot, {})[name] = v
            opt.load_state_dict({"type": om["type"], "hyper": hyper, "t": om["t"], "state": slots})
            tr = cls(model, opt, tm["batch_size"], tm["seq_len"], tm["clip_value"], tm["clip_norm"])
            tr.step, tr.epoch, tr.pos = int(tm["step"]), int(tm["epoch"]), int(tm["pos"])
            tr.smooth_loss, tr._data_id = tm["smooth_loss"], tm["data"]
            n = int(tm["state_parts"])
            parts = tuple(np.array(arrays[f"train/state{i}"]) for i in range(n))
            tr.state = None if n == 0 else (parts if n > 1 else parts[0])
            if tr.state is not None:
                model.forward(np.zeros((parts[0].shape[1], 1), np.int64), tr.state)  # shape check
            tr.losses = arrays["train/losses"].tolist()
            tr.val = [tuple(r) for r in arrays["train/val"].tolist()]
        except (KeyError, TypeError, ValueError) as exc:
            raise ckpt.CheckpointError(f"{path}: cannot resume training from it ({exc})") from None
        return tr


def _default_log(progress):
    if progress:
        try:
            from tqdm import tqdm
            return tqdm.write
        except ImportError:
            pass
    return lambda msg: print(msg, flush=True)


def _progress(progress, initial, total):
    if not progress:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    # disable=None: no bar when stderr is not a terminal (logs, CI)
    return tqdm(total=total, initial=initial, unit="step", file=sys.stderr, dynamic_ncols=True,
                disable=None)
