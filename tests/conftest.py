import numpy as np
import pytest

import minrnn


@pytest.fixture(autouse=True)
def _restore_threads():
    n = minrnn.get_num_threads()
    yield
    minrnn.set_num_threads(n)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
