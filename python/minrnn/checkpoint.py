"""Checkpoints: one file with weights, optimizer state, vocabulary, configuration, step
and random state.

The file is a NumPy .npz archive (a zip, CRC-checked per entry) holding plain arrays and
one JSON document ("meta"); it is read with allow_pickle=False, so loading a file runs no
code from it. Writing goes to a temporary file in the same directory, flushed to disk,
then renamed over the target, so a crash leaves either the old file or the new one."""
import json
import os
import re
import threading
import warnings
import zipfile

import numpy as np

FORMAT = "minrnn-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a readable minrnn checkpoint, or one that does not fit."""


def save(path, model, optimizer=None, trainer=None):
    """Write model (a LanguageModel), optionally its optimizer and a trainer's position
    (a dict with "meta" and "arrays"), to path atomically."""
    from . import __version__
    arrays = {f"model/{k}": v for k, v in model.parameters().items()}
    meta = {"format": FORMAT, "version": VERSION, "minrnn": __version__,
            "kind": "language_model", "config": model.config(),
            "vocab": model.vocab.to_dict() if model.vocab is not None else None,
            "rng": {"rnn_dropout": _jsonable(model.rnn._rng.bit_generator.state)},
            "optimizer": None, "trainer": None}
    if optimizer is not None:
        sd = optimizer.state_dict()
        meta["optimizer"] = {"type": sd["type"], "hyper": sd["hyper"], "t": sd["t"]}
        for slot, d in sd["state"].items():
            arrays.update({f"optim/{slot}/{k}": v for k, v in d.items()})
    if trainer is not None:
        meta["trainer"] = trainer["meta"]
        arrays.update({f"train/{k}": v for k, v in trainer["arrays"].items()})
    _write(path, meta, arrays)


def save_layer(path, layer):
    """Write a recurrent layer (minrnn.GRU, LSTM, ..., MinGRU): its configuration and
    weights by PyTorch name, in the same file format (kind "recurrent")."""
    from . import __version__
    arrays = {f"model/{k}": v for k, v in layer.parameters().items()}
    meta = {"format": FORMAT, "version": VERSION, "minrnn": __version__, "kind": "recurrent",
            "config": layer.config()}
    _write(path, meta, arrays)


def check_writable(path):
    """Raise now, with a clear message, if path's directory cannot take the file."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {path!r}: the directory {folder!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path!r}: it is a directory")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"cannot write {path!r}: the directory {folder!r} is not writable")


def _write(path, meta, arrays):
    meta["arrays"] = {k: [list(v.shape), v.dtype.str] for k, v in arrays.items()}
    check_writable(path)
    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}.{threading.get_ident()}"  # one per writing thread
    try:
        with open(tmp, "wb") as f:
            np.savez(f, meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _jsonable(state):
    return json.loads(json.dumps(state))


def read(path):
    """(meta, arrays) of a checkpoint file, every array read and checked; raises
    FileNotFoundError or CheckpointError, never anything half-read."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {path!r} does not exist")
    try:
        with open(path, "rb") as f:
            if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):  # a zip archive's first bytes
                raise CheckpointError("not a minrnn checkpoint (the file is not a zip archive)")
        with np.load(path, allow_pickle=False) as z:
            if "meta" not in z.files:
                raise CheckpointError("no meta entry")
            meta = json.loads(z["meta"].tobytes().decode())
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise CheckpointError("not a minrnn checkpoint")
            if meta.get("version") != VERSION:
                raise CheckpointError(f"format version {meta.get('version')}, this minrnn reads {VERSION}")
            listed = meta["arrays"]
            if set(listed) != set(z.files) - {"meta"}:
                raise CheckpointError("the arrays in the file are not the ones its meta lists")
            arrays = {}
            for k, (shape, dt) in listed.items():
                a = z[k]
                if list(a.shape) != list(shape) or a.dtype.str != dt:
                    raise CheckpointError(f"array {k!r} is {a.dtype.str}{list(a.shape)}, meta says {dt}{shape}")
                arrays[k] = a
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    except (OSError, ValueError, EOFError, KeyError, TypeError, zipfile.BadZipFile,
            UnicodeDecodeError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: not a readable minrnn checkpoint "
                              f"({type(exc).__name__}: {exc})") from None
    return meta, arrays


def load_layer(path):
    """The recurrent layer saved by save_layer (layer.save)."""
    from .recurrent import LAYERS
    path = os.fspath(path)
    meta, arrays = read(path)
    if meta.get("kind") != "recurrent":
        raise CheckpointError(f"{path}: holds a {meta.get('kind')!r}, not a recurrent layer")
    try:
        c = dict(meta["config"])
        _check_sizes(path, c, arrays, "", c.get("input_size"))
        with warnings.catch_warnings():  # its maker saw them
            warnings.simplefilter("ignore", UserWarning)
            layer = LAYERS[c.pop("type")](**c)
        layer.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("model/")})
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, MemoryError) as exc:
        raise CheckpointError(f"{path}: does not describe a valid layer ({exc})") from None
    return layer


def _check_sizes(path, config, arrays, prefix, input_size):
    """Refuses a configuration larger than the weights the file holds, before anything is
    built from it: a damaged hidden_size must not allocate gigabytes."""
    w = arrays.get(f"model/{prefix}weight_ih_l0")
    layers = sum(1 for k in arrays if re.fullmatch(rf"model/{re.escape(prefix)}weight_ih_l\d+", k))
    H, L = config.get("hidden_size"), config.get("num_layers")
    ok = (w is not None and w.ndim == 2 and type(H) is int and type(L) is int and H >= 1
          and w.shape[0] % H == 0 and 1 <= w.shape[0] // H <= 4 and L == layers
          and w.shape[1] == input_size)
    if not ok:
        raise CheckpointError(f"{path}: the configuration (hidden_size {H!r}, num_layers {L!r}, input "
                              f"{input_size!r}) does not match the weights in the file")


def build_model(meta, arrays, path="checkpoint"):
    """A LanguageModel from read()'s result (weights loaded, dropout random state restored)."""
    from .data import Vocab
    from .model import LanguageModel
    if meta.get("kind") != "language_model":
        raise CheckpointError(f"{path}: holds a {meta.get('kind')!r}, not a language model")
    try:
        c = meta["config"]
        emb = arrays.get("model/embedding.weight")
        if emb is None or emb.ndim != 2 or list(emb.shape) != [c.get("vocab_size"), c.get("embed_size")]:
            raise CheckpointError(f"{path}: the embedding's shape does not match the configuration")
        _check_sizes(path, c, arrays, "rnn.", c.get("embed_size"))
        vocab = Vocab.from_dict(meta["vocab"]) if meta.get("vocab") is not None else None
        with warnings.catch_warnings():  # its maker saw them
            warnings.simplefilter("ignore", UserWarning)
            model = LanguageModel.from_config(c, vocab=vocab)
        model.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("model/")})
        model.rnn._rng.bit_generator.state = meta["rng"]["rnn_dropout"]
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, MemoryError) as exc:
        raise CheckpointError(f"{path}: does not describe a valid model ({exc})") from None
    return model


def load_model(path):
    """The LanguageModel saved in path."""
    meta, arrays = read(path)
    return build_model(meta, arrays, os.fspath(path))
