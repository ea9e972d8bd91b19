"""minrnn: fast CPU kernels for minimal and classic recurrent networks."""
# Load the BLAS (libscipy_openblas) into the process before the extension that links it.
import os

import scipy_openblas32 as _openblas  # noqa: F401

from . import _core, scan
from .checkpoint import CheckpointError, load_layer
from .data import Vocab
from .layers import Embedding, Linear
from .losses import CrossEntropyLoss, MSELoss, cross_entropy, mse
from .model import LanguageModel
from .optim import SGD, Adagrad, Adam, AdamW, clip_grad_norm, clip_grad_value
from .recurrent import (GRU, LSTM, MGU, RNN, GRUCell, LSTMCell, MGUCell, MinGRU, MinGRUCell,
                        MinLSTM, MinLSTMCell, RNNCell)
from .train import Trainer, TrainingError

__version__ = "0.1.0"
__all__ = ["RNN", "GRU", "LSTM", "MGU", "MinGRU", "MinLSTM", "RNNCell", "GRUCell", "LSTMCell",
           "MGUCell", "MinGRUCell", "MinLSTMCell", "Embedding", "Linear", "CrossEntropyLoss",
           "MSELoss", "cross_entropy", "mse", "LanguageModel", "Vocab", "SGD", "Adagrad", "Adam",
           "AdamW", "clip_grad_value", "clip_grad_norm", "Trainer", "TrainingError",
           "CheckpointError", "scan", "set_num_threads", "get_num_threads", "simd_level",
           "release_workspace", "get_include", "get_cmake_dir", "load_layer"]


def get_include():
    """The directory holding minrnn's C++ headers (minrnn/minrnn.h, ...), installed with
    the package."""
    return _installed("include")


def get_cmake_dir():
    """The directory of minrnn's CMake package: pass it as minrnn_DIR (or put it on
    CMAKE_PREFIX_PATH) for find_package(minrnn CONFIG REQUIRED) and the target minrnn::core."""
    return _installed(os.path.join("lib", "cmake", "minrnn"))


def _installed(sub):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), sub)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path} does not exist: this minrnn was not installed with its "
                                "C++ package (install it with pip install .)")
    return path


def set_num_threads(n):
    """Set the one thread budget shared by minrnn's OpenMP kernels and its BLAS calls
    (1 to 1024; more threads than cores only adds waiting, and OpenMP ends the process,
    rather than raising, if the system cannot start that many threads)."""
    from ._checks import positive_int
    n = positive_int("n", n)
    if n > 1024:
        raise ValueError(f"n must be at most 1024, got {n}")
    _core.set_num_threads(n)


def get_num_threads():
    """The thread budget (initially OMP_NUM_THREADS, or the number of cores)."""
    return _core.get_num_threads()


def simd_level():
    """The instruction set the kernels run with: "baseline", "avx2" or "avx512"."""
    return _core.simd_level()


def release_workspace():
    """Free the large scratch buffers minrnn keeps between calls on this thread.

    Backward passes reuse per-thread workspaces (up to a few times the size of the
    sequence's activations) instead of faulting fresh memory in on every call; they are
    held until the thread ends or this is called."""
    _core.release_workspace()
