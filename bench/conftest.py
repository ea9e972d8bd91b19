import numpy as np
import pytest

import minrnn
from options import count


def pytest_addoption(parser):
    parser.addoption("--threads", type=count(1, 1024), default=1, help="minrnn (and torch) thread budget")


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
