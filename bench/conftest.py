import numpy as np
import pytest

import minrnn


def _threads(text):
    import argparse
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int, got {text!r}") from None
    if not 1 <= n <= 1024:
        raise argparse.ArgumentTypeError(f"expected an int in [1, 1024], got {n}")
    return n


def pytest_addoption(parser):
    parser.addoption("--threads", type=_threads, default=1, help="minrnn (and torch) thread budget")


@pytest.fixture(autouse=True)
def threads(request):
    n = request.config.getoption("--threads")
    minrnn.set_num_threads(n)
    try:
        import torch
        torch.set_num_threads(n)
    except ImportError:
        pass
    return n


@pytest.fixture
def rng():
    return np.random.default_rng(0)
