"""LanguageModel: Embedding -> a stack of recurrent layers -> Linear head over the vocabulary."""
import math
import numbers
import os

import numpy as np

from . import _core
from ._checks import float_dtype, positive_int, shape_str
from .data import Vocab
from .layers import Embedding, Linear, int_ids
from .losses import CrossEntropyLoss
from .recurrent import GRU, LSTM, MGU, RNN, MinGRU, MinLSTM, training_call

CELLS = {"mingru": MinGRU, "minlstm": MinLSTM, "mgu": MGU, "gru": GRU, "lstm": LSTM, "rnn": RNN}


class LanguageModel:
    """Next-token model: ids (B, T) -> logits (B, T, vocab_size), carrying a recurrent state.

    cell is one of "mingru", "minlstm", "mgu", "gru", "lstm", "rnn"; extra keyword options
    go to that layer (reset_after for "gru", nonlinearity for "rnn", candidate and scan for
    the min cells). dropout applies between recurrent layers in training. Parameters are
    named "embedding.weight", "rnn.weight_ih_l0", ..., "head.weight", "head.bias". A Vocab
    given as vocab travels with the model (sample and perplexity then take text)."""

    def __init__(self, vocab_size, embed_size=64, hidden_size=256, cell="mingru", num_layers=1,
                 dropout=0.0, bias=True, seed=None, dtype=np.float32, vocab=None, **options):
        self.vocab_size = positive_int("vocab_size", vocab_size)
        self.embed_size = positive_int("embed_size", embed_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        if not isinstance(cell, str) or cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.cell = cell
        self.num_layers = positive_int("num_layers", num_layers)
        self.dtype = float_dtype("dtype", dtype)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise TypeError(f"seed must be a non-negative int or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)
        if vocab is not None:
            if not isinstance(vocab, Vocab):
                raise TypeError(f"vocab must be a minrnn.Vocab, got {type(vocab).__name__}")
            if len(vocab) != self.vocab_size:
                raise ValueError(f"vocab has {len(vocab)} tokens, expected vocab_size = {self.vocab_size}")
        self.vocab = vocab
        for bad in ("batch_first", "bidirectional", "input_size"):
            if bad in options:
                raise TypeError(f"LanguageModel sets {bad} itself; it is not an option")
        self.options = dict(options)
        s_emb, s_rnn, s_head = np.random.SeedSequence(self.seed).spawn(3)
        self.embedding = Embedding(self.vocab_size, self.embed_size, seed=s_emb, dtype=self.dtype)
        self.rnn = CELLS[cell](self.embed_size, self.hidden_size, num_layers=self.num_layers,
                               bias=bias, dropout=dropout, seed=s_rnn, dtype=self.dtype, **options)
        self.head = Linear(self.hidden_size, self.vocab_size, bias=bias, seed=s_head, dtype=self.dtype)
        self.dropout, self.bias = self.rnn.dropout, self.rnn.bias
        self._parts = {"embedding": self.embedding, "rnn": self.rnn, "head": self.head}
        self._train_loss = None

    def __repr__(self):
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return (f"LanguageModel(vocab_size={self.vocab_size}, embed_size={self.embed_size}, "
                f"hidden_size={self.hidden_size}, cell={self.cell!r}, num_layers={self.num_layers}, "
                f"dropout={self.dropout}{opts}, dtype={self.dtype.name})")

    def config(self):
        """What the constructor needs to rebuild this model (weights aside)."""
        return {"vocab_size": self.vocab_size, "embed_size": self.embed_size,
                "hidden_size": self.hidden_size, "cell": self.cell, "num_layers": self.num_layers,
                "dropout": self.dropout, "bias": self.bias, "seed": self.seed,
                "dtype": self.dtype.name, "options": dict(self.options)}

    @classmethod
    def from_config(cls, config, vocab=None):
        c = dict(config)
        options = c.pop("options", {})
        return cls(**c, **options, vocab=vocab)

    # ---- parameters ----
    def parameters(self):
        """Live parameter arrays by name ("embedding.weight", "rnn.weight_ih_l0", ...)."""
        return {f"{p}.{n}": a for p, part in self._parts.items() for n, a in part.parameters().items()}

    @property
    def grads(self):
        """The gradients of the last backward, named as parameters()."""
        return {f"{p}.{n}": a for p, part in self._parts.items() for n, a in part.grads.items()}

    def num_parameters(self):
        return sum(a.size for a in self.parameters().values())

    def state_dict(self):
        return {k: a.copy() for k, a in self.parameters().items()}

    def load_state_dict(self, state_dict):
        """Load every parameter; a missing, extra, mis-shaped or non-finite entry raises
        and leaves the model unchanged."""
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"state_dict must be a mapping, got {type(state_dict).__name__}")
        expected, got = set(self.parameters()), set(state_dict.keys())
        if expected != got:
            raise ValueError(f"state_dict does not match the model: missing keys "
                             f"{sorted(expected - got)}, unexpected keys {sorted(got - expected)}")
        old = self.state_dict()
        for p, part in self._parts.items():
            try:
                part.load_state_dict({k[len(p) + 1:]: v for k, v in state_dict.items()
                                      if k.startswith(p + ".")})
            except (TypeError, ValueError) as exc:
                for q, prev in self._parts.items():  # never keep a half-loaded model
                    prev.load_state_dict({k[len(q) + 1:]: v for k, v in old.items()
                                          if k.startswith(q + ".")})
                # the part names its own keys ("bias"); name them as the model does
                raise type(exc)(str(exc).replace("state_dict['", f"state_dict['{p}.")) from None

    # ---- compute ----
    def initial_state(self, batch=None):
        return self.rnn.initial_state(batch)

    def __call__(self, ids, state=None):
        return self.forward(ids, state)

    def forward(self, ids, state=None, train=False):
        """ids (B, T) or (T,) integers in [0, vocab_size) -> (logits (B, T, V) or (T, V),
        state). state is the recurrent state (as the layer's h0; for LSTM a pair), None for
        zeros; pass the returned one back to continue the sequence."""
        ids = int_ids("ids", ids, self.vocab_size)
        if ids.ndim not in (1, 2):
            raise ValueError(f"ids must be (B, T) or (T,), got shape {shape_str(ids.shape)}")
        x = self.embedding.forward(ids, train)
        y, state = self.rnn.forward(x, state, train=train)
        return self.head.forward(y, train), state

    def loss(self, ids, targets, state=None, train=False, ignore_index=-100):
        """Mean cross-entropy of predicting targets (shaped like ids) -> (loss, state);
        targets equal to ignore_index (padding) do not count. With train=True, backward()
        then takes the gradient of this loss."""
        if not train:
            logits, state = self.forward(ids, state)
            return CrossEntropyLoss(ignore_index).forward(logits, targets), state
        with training_call(self):
            logits, state = self.forward(ids, state, True)
            self._train_loss = CrossEntropyLoss(ignore_index)
            return self._train_loss.forward(logits, targets, grad=True), state

    def backward(self, dlogits=None, dstate=None):
        """Gradients of the last forward/loss(train=True) into self.grads (overwriting).
        dlogits None means the gradient of the last training loss. Returns d state0."""
        with training_call(self):
            if dlogits is None:
                if self._train_loss is None:
                    raise RuntimeError("backward() without dlogits needs a preceding loss(..., train=True)")
                dlogits = self._train_loss.backward()
            dy = self.head.backward(dlogits)
            dx, dstate0 = self.rnn.backward(dy, dstate)
            self.embedding.backward(dx)
            return dstate0

    # ---- use ----
    def _ids(self, name, text_or_ids):
        if isinstance(text_or_ids, str):
            if self.vocab is None:
                raise TypeError(f"{name} is text but the model has no vocab; pass token ids")
            return self.vocab.encode(text_or_ids)
        ids = int_ids(name, text_or_ids, self.vocab_size)
        if ids.ndim != 1:
            raise ValueError(f"{name} must be 1-D token ids, got shape {shape_str(ids.shape)}")
        return ids

    def _prime_state(self, prime):
        """Run all of prime but its last token; returns (state, last id)."""
        state = None
        if len(prime) > 1:
            _, state = self.forward(prime[:-1])
        return state, int(prime[-1])

    def _next_logits(self, token, state):
        x = self.embedding._params["weight"][token]
        y, state = self.rnn.step(x, state)
        logits = _core.linear_forward(y[None], self.head._params["weight"], self.head._params.get("bias"))
        return logits[0], state

    def sample_ids(self, prime, n, temperature=1.0, top_k=None, seed=None):
        """n ids drawn one at a time after the ids of prime (at least one); with a vocab,
        never the unknown token (id 0)."""
        prime = self._ids("prime", prime)
        if len(prime) < 1:
            raise ValueError("prime must hold at least one token")
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"n must be an int >= 0, got {n!r}")
        n = int(n)
        if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) \
                or not np.isfinite(temperature) or temperature < 0:
            raise ValueError(f"temperature must be a finite number >= 0 (0 = greedy), got {temperature!r}")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral)
                                  or top_k < 1):
            raise ValueError(f"top_k must be an int >= 1 or None, got {top_k!r}")
        rng = SplitMix64(seed)
        exclude = None if self.vocab is None else 0    # never the unknown token
        state, token = self._prime_state(prime)
        out = np.empty(n, np.int64)
        for i in range(n):
            logits, state = self._next_logits(token, state)
            token = pick(logits, temperature, top_k, rng, exclude)
            out[i] = token
        return out

    def sample(self, prime=None, n=200, temperature=1.0, top_k=None, seed=None):
        """Text: prime followed by n sampled tokens (needs the model's vocab). prime None
        starts from the most frequent token. temperature 0 is greedy; top_k keeps only the
        k most likely tokens at each step."""
        if self.vocab is None:
            raise TypeError("sample needs a model with a vocab; use sample_ids for token ids")
        if prime is None:
            prime = self.vocab.itos[1] if len(self.vocab) > 1 else self.vocab.itos[0]
        if not isinstance(prime, str):
            raise TypeError(f"prime must be a str, got {type(prime).__name__}")
        ids = self.sample_ids(prime, n, temperature, top_k, seed)
        sep = "" if self.vocab.level == "char" or not prime else " "
        return prime + sep + self.vocab.decode(ids)

    def predict_next(self, context):
        """The most likely next token after context (text with a vocab, else ids); with a
        vocab, the unknown token is never the answer."""
        ids = self._ids("context", context)
        if len(ids) < 1:
            raise ValueError("context must hold at least one token")
        state, token = self._prime_state(ids)
        logits, _ = self._next_logits(token, state)
        best = pick(logits, 0, None, None, None if self.vocab is None else 0)
        return self.vocab.itos[best] if isinstance(context, str) else best

    def perplexity(self, text, chunk=4096):
        """exp(mean negative log-likelihood) per token of text (or ids), each token
        predicted from all the tokens before it (one sequence, state carried between chunks)."""
        ids = self._ids("text", text)
        if len(ids) < 2:
            raise ValueError(f"perplexity needs at least 2 tokens, got {len(ids)}")
        return perplexity_of(self.nll(ids, chunk))

    def nll(self, ids, chunk=4096):
        """Mean negative log-likelihood (nats) of ids[1:] given what precedes each."""
        ids = self._ids("ids", ids)
        if len(ids) < 2:
            raise ValueError(f"nll needs at least 2 tokens (one to predict from), got {len(ids)}")
        # at most 2^24 logits at a time, whatever the vocabulary
        chunk = max(1, min(positive_int("chunk", chunk), 2**24 // self.vocab_size))
        state, total = None, 0.0
        for p in range(0, len(ids) - 1, chunk):
            x, y = ids[p:p + chunk], ids[p + 1:p + chunk + 1]
            x = x[:len(y)]
            loss, state = self.loss(x, y, state)
            total += loss * len(y)
        return total / (len(ids) - 1)

    def save(self, path):
        """Write weights, configuration and vocab to one file (see minrnn.checkpoint)."""
        from .checkpoint import save
        save(path, self)

    @classmethod
    def load(cls, path):
        from .checkpoint import load_model
        return load_model(path)


def perplexity_of(nll):
    """exp(nll), inf where that overflows a double (a model far worse than uniform)."""
    try:
        return math.exp(nll)
    except OverflowError:
        return math.inf


def pick(logits, temperature, top_k, rng, exclude=None):
    """One id from logits: argmax at temperature 0, else a draw from softmax(logits / T)
    restricted to the top_k largest. exclude: an id never drawn (the unknown token)."""
    logits = np.array(logits, dtype=np.float64)
    if exclude is not None and len(logits) > 1:
        logits[exclude] = -np.inf
    if temperature == 0:
        return int(np.argmax(logits))
    # Subtract the maximum before dividing: a tiny temperature then sends every other
    # token to -inf (greedy) instead of overflowing.
    with np.errstate(over="ignore"):
        z = (logits - np.max(logits)) / temperature
    if top_k is not None and top_k < len(z):
        kth = np.partition(z, len(z) - top_k)[len(z) - top_k]
        z = np.where(z >= kth, z, -np.inf)
    z = np.exp(z)
    c = np.cumsum(z)
    return int(min(np.searchsorted(c, rng.uniform() * c[-1], side="right"), len(z) - 1))


class SplitMix64:
    """The sampler's random numbers: SplitMix64 (Steele et al. 2014), a few lines that the
    C++ API repeats exactly (cpp/src/model.cpp), so that a model samples the same tokens for
    the same seed in Python and in C++. seed None draws one from the OS; a seed is below
    2**64, the state's size (as the C++ API's uint64_t seed), not wrapped around."""
    _MASK = (1 << 64) - 1

    def __init__(self, seed=None):
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise TypeError(f"seed must be a non-negative int or None, got {seed!r}")
        if seed > self._MASK:
            raise ValueError(f"seed must be below 2**64, got {seed}")
        self.state = int(seed)

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self._MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self._MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self._MASK
        return z ^ (z >> 31)

    def uniform(self):
        """A double in [0, 1) from the top 53 bits."""
        return (self.next() >> 11) * (1.0 / (1 << 53))
