"""The checks the benchmarks run before timing (minrnn.reference.check_layer, check_step,
scan_residual): they pass on minrnn's layers and catch a wrong output or gradient."""
import numpy as np
import pytest

import minrnn
from minrnn import reference as ref

LAYERS = [lambda: minrnn.GRU(12, 24, seed=1), lambda: minrnn.LSTM(12, 24, seed=1),
          lambda: minrnn.RNN(12, 24, seed=1), lambda: minrnn.MGU(12, 24, seed=1),
          lambda: minrnn.GRU(12, 24, reset_after=False, seed=1),
          lambda: minrnn.MinGRU(12, 24, seed=1), lambda: minrnn.MinLSTM(12, 24, seed=1)]


@pytest.mark.parametrize("make", LAYERS)
def test_check_layer_passes_and_catches_a_wrong_output_or_gradient(rng, make):
    m = make()
    x = rng.standard_normal((3, 40, 12)).astype(np.float32)
    err, gap = ref.check_layer(m, x, rng)
    assert err < 1e-5 and gap < 1e-4

    class WrongOutput(type(m)):
        def __call__(self, *a, **k):
            y, h = super().__call__(*a, **k)
            return y * 1.01, h

    bad = WrongOutput.__new__(WrongOutput)
    bad.__dict__.update(m.__dict__)
    with pytest.raises(AssertionError, match="forward output"):
        ref.check_layer(bad, x, rng)

    class WrongGradient(type(m)):
        def backward(self, *a, **k):
            out = super().backward(*a, **k)
            self.grads["weight_ih_l0"] = self.grads["weight_ih_l0"] * 1.2
            return out

    bad = WrongGradient.__new__(WrongGradient)
    bad.__dict__.update(m.__dict__)
    with pytest.raises(AssertionError, match="weight_ih_l0"):
        ref.check_layer(bad, x, rng)


def test_check_step_matches_a_stack_and_a_cell(rng):
    m = minrnn.LSTM(8, 16, num_layers=2, seed=0)
    x = rng.standard_normal((3, 8)).astype(np.float32)
    state = m.initial_state(batch=3)
    y, state2 = m.step(x, state)
    ref.check_step(m, x, state, y)
    y2, _ = m.step(x, state2)
    ref.check_step(m, x, state2, y2)
    with pytest.raises(AssertionError, match="one step"):
        ref.check_step(m, x, state2, y2 + 1e-2)
    cell = minrnn.GRUCell(8, 16, seed=0)
    h = rng.standard_normal((3, 16)).astype(np.float32)
    ref.check_step(cell, x, h, cell(x, h))


def test_scan_residual_is_rounding_for_every_mode_and_catches_one_wrong_element(rng):
    a = rng.uniform(0.5, 1.0, (2, 5000, 3)).astype(np.float32)
    b = rng.standard_normal((2, 5000, 3)).astype(np.float32)
    for mode in ("sequential", "parallel", "auto"):
        assert ref.scan_residual(a, b, minrnn.scan.linear(a, b, mode=mode)) < 1e-6
    h = minrnn.scan.linear(a, b)
    h[1, 2345, 2] += 1e-3
    assert ref.scan_residual(a, b, h) > 1e-4
