"""Text to token ids and back: a Vocab of characters or whitespace-separated words."""
import collections
import numbers

import numpy as np

LEVELS = ("char", "word")


class Vocab:
    """Tokens of a text, id 0 the unknown token; encode(text) -> int64 ids, decode(ids) -> text.

    level="char": every character is a token; decode joins them as they are. level="word":
    tokens are the whitespace-separated words; decode joins them with single spaces.
    Tokens are ordered by frequency (ties by first appearance), so the ids of a text do not
    depend on the Python version's set order."""

    def __init__(self, tokens, level="char", unk=None):
        if level not in LEVELS:
            raise ValueError(f"level must be one of {list(LEVELS)}, got {level!r}")
        self.level = level
        self.unk = unk if unk is not None else ("\ufffd" if level == "char" else "<unk>")
        if not isinstance(self.unk, str) or not self.unk:
            raise TypeError(f"unk must be a non-empty str, got {self.unk!r}")
        tokens = list(tokens)
        for t in tokens:
            if not isinstance(t, str) or not t:
                raise TypeError(f"tokens must be non-empty strings, got {t!r}")
            if level == "char" and len(t) != 1:
                raise ValueError(f"a char-level token must be one character, got {t!r}")
            if level == "word" and t != t.strip() or (level == "word" and any(c.isspace() for c in t)):
                raise ValueError(f"a word-level token must not contain whitespace, got {t!r}")
        self.itos = [self.unk] + [t for t in dict.fromkeys(tokens) if t != self.unk]
        self.stoi = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def from_text(cls, text, level="char", min_count=1, max_size=None, unk=None):
        """Build from a text: tokens seen at least min_count times, the max_size most
        frequent (unknown token included) if given."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if level not in LEVELS:
            raise ValueError(f"level must be one of {list(LEVELS)}, got {level!r}")
        parts = list(text) if level == "char" else text.split()
        if not parts:
            raise ValueError("text is empty: no tokens to build a vocabulary from")
        if isinstance(min_count, bool) or not isinstance(min_count, numbers.Integral) or min_count < 0:
            raise ValueError(f"min_count must be an int >= 0, got {min_count!r}")
        counts = collections.Counter(parts)
        order = sorted(counts, key=lambda t: -counts[t])  # stable: ties keep first appearance
        order = [t for t in order if counts[t] >= min_count]
        if max_size is not None:
            if isinstance(max_size, bool) or not isinstance(max_size, numbers.Integral) or max_size < 2:
                raise ValueError(f"max_size must be an int >= 2, got {max_size!r}")
            order = order[:max_size - 1]
        return cls(order, level, unk)

    def __len__(self):
        return len(self.itos)

    def __repr__(self):
        return f"Vocab({len(self)} {self.level} tokens)"

    def __eq__(self, other):
        return isinstance(other, Vocab) and (self.itos, self.level) == (other.itos, other.level)

    def tokenize(self, text):
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return list(text) if self.level == "char" else text.split()

    def encode(self, text):
        """Ids (int64) of the text's tokens; unknown tokens get id 0."""
        get = self.stoi.get
        return np.fromiter((get(t, 0) for t in self.tokenize(text)), dtype=np.int64)

    def decode(self, ids):
        ids = np.asarray(ids)
        if ids.size == 0 and ids.ndim == 1:  # [] comes as float64
            return ""
        if ids.dtype.kind not in "iu" or ids.ndim > 1:
            raise TypeError(f"ids must be a 1-D integer array, got dtype {ids.dtype} shape {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must be in [0, {len(self)}), got {int(ids.min())}..{int(ids.max())}")
        sep = "" if self.level == "char" else " "
        return sep.join(self.itos[i] for i in ids.tolist())

    def to_dict(self):
        return {"level": self.level, "unk": self.unk, "tokens": self.itos[1:]}

    @classmethod
    def from_dict(cls, d):
        try:
            return cls(d["tokens"], d["level"], d["unk"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a vocabulary: {exc}") from None


def stream_batches(ids, batch_size):
    """Cut a long run of ids into batch_size parallel streams, shape (batch_size, S + 1):
    stream b is ids[b*S : b*S + S + 1], so inputs [:, p:p+L] have targets [:, p+1:p+L+1]."""
    ids = np.asarray(ids, dtype=np.int64)
    S = (len(ids) - 1) // batch_size
    if S < 1:
        raise ValueError(f"{len(ids)} tokens are too few for {batch_size} streams: need at least "
                         f"{batch_size + 1}")
    idx = np.arange(batch_size)[:, None] * S + np.arange(S + 1)[None, :]
    return ids[idx]
