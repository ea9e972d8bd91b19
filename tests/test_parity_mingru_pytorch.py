"""MinGRU equals minGRU-pytorch's minGRU(dim, expansion_factor=1): candidate g, no bias.

Their fused weight is [hidden; gate]; ours is [z; h~], so the blocks swap. They compute in
log space (Heinsen's scan); we use the direct recurrence, so agreement is to rounding.
Live when torch and minGRU-pytorch import; the fixture (tools/make_fixtures.py) keeps the
check when they do not.
"""
import pathlib

import numpy as np
import pytest

import minrnn

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "mingru_pytorch.npz"


def ours_from_theirs(w):
    H = w.shape[0] // 2
    return np.concatenate([w[H:], w[:H]])


def check(case, rtol):
    x, w, dy = case["x"], case["weight"], case["dy"]
    B, T, D = x.shape
    layer = minrnn.MinGRU(D, D, bias=False, candidate="g", dtype=np.float64)
    layer.load_state_dict({"weight_ih_l0": ours_from_theirs(w)})
    h0 = case["h0"].transpose(1, 0, 2) if "h0" in case else None
    y, hn = layer.forward(x, h0, train=True)
    np.testing.assert_allclose(y, case["y"], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(hn, case["h_n"].transpose(1, 0, 2), rtol=rtol, atol=rtol)
    dx, dh0 = layer.backward(dy)
    np.testing.assert_allclose(dx, case["dx"], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(layer.grads["weight_ih_l0"], ours_from_theirs(case["dweight"]),
                               rtol=rtol, atol=rtol)
    if "dh0" in case:
        np.testing.assert_allclose(dh0, case["dh0"].transpose(1, 0, 2), rtol=rtol, atol=rtol)


def fixture_cases():
    data = np.load(FIXTURE)
    names = sorted({k.split("_", 1)[0] for k in data.files})
    return [{k.split("_", 1)[1]: data[k] for k in data.files if k.startswith(n + "_")} for n in names]


@pytest.mark.parametrize("case", fixture_cases(), ids=lambda c: "x" + "x".join(map(str, c["x"].shape)))
def test_matches_fixture(case):
    check(case, rtol=1e-9)


def test_matches_live():
    torch = pytest.importorskip("torch")
    mod = pytest.importorskip("minGRU_pytorch.minGRU")
    rng = np.random.default_rng(7)
    for B, T, D, with_h0 in [(2, 50, 16, True), (3, 9, 6, False), (1, 1, 4, True), (4, 300, 32, False)]:
        torch.manual_seed(B * 1000 + T)
        model = mod.minGRU(D, expansion_factor=1.0).double()
        x = torch.tensor(rng.standard_normal((B, T, D)), requires_grad=True)
        h0 = torch.tensor(rng.uniform(0.1, 1, (B, 1, D)), requires_grad=True) if with_h0 else None
        y, hn = model(x, h0, return_next_prev_hidden=True)
        dy = torch.tensor(rng.standard_normal((B, T, D)))
        (y * dy).sum().backward()
        case = {"x": x.detach().numpy(), "weight": model.to_hidden_and_gate.weight.detach().numpy(),
                "y": y.detach().numpy(), "h_n": hn.detach().numpy(), "dy": dy.numpy(),
                "dx": x.grad.numpy(), "dweight": model.to_hidden_and_gate.weight.grad.numpy()}
        if with_h0:
            case["h0"] = h0.detach().numpy()
            case["dh0"] = h0.grad.numpy()
        check(case, rtol=1e-9)


def test_float32_close_to_fixture():
    case = fixture_cases()[2]
    x, w = case["x"], case["weight"]
    D = x.shape[2]
    layer = minrnn.MinGRU(D, D, bias=False, candidate="g")
    layer.load_state_dict({"weight_ih_l0": ours_from_theirs(w)})
    y, _ = layer(x.astype(np.float32), case["h0"].transpose(1, 0, 2))
    np.testing.assert_allclose(y, case["y"], rtol=2e-5, atol=2e-5)
