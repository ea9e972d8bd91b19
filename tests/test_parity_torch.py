"""Parity with torch.nn.RNN / GRU / LSTM given the same weights: outputs, final states and
every gradient (input, h0/c0, each parameter). Live when torch imports; otherwise against
tests/fixtures/torch_rnn.npz, written by tools/make_fixtures.py."""
import pathlib
import zlib

import numpy as np
import pytest

import minrnn

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "torch_rnn.npz"
CASES = [  # kind, num_layers, bidirectional, batch_first, with_h0
    ("rnn_tanh", 1, False, True, True), ("rnn_relu", 3, True, False, False),
    ("gru", 1, True, True, True), ("gru", 3, False, False, True), ("gru", 3, True, True, False),
    ("lstm", 1, False, False, True), ("lstm", 3, True, True, True), ("lstm", 1, True, False, False),
]


def case_id(c):
    return f"{c[0]}-L{c[1]}-{'bi' if c[2] else 'uni'}-{'bf' if c[3] else 'tf'}-{'h0' if c[4] else 'noh0'}"


def ours(kind, L, bi, bf):
    D, H = 5, 7
    kw = dict(num_layers=L, bidirectional=bi, batch_first=bf, dtype=np.float64)
    if kind.startswith("rnn"):
        return minrnn.RNN(D, H, nonlinearity=kind[4:], **kw)
    return {"gru": minrnn.GRU, "lstm": minrnn.LSTM}[kind](D, H, **kw)


def torch_reference(kind, L, bi, bf, with_h0, seed):
    """Run torch on random weights and inputs; everything as NumPy float64."""
    import torch
    torch.manual_seed(seed)
    D, H, B, T = 5, 7, 3, 6
    cls = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}.get(kind, torch.nn.RNN)
    kw = dict(num_layers=L, bidirectional=bi, batch_first=bf)
    if kind.startswith("rnn"):
        kw["nonlinearity"] = kind[4:]
    m = cls(D, H, **kw).double()
    dirs = 2 if bi else 1
    x = torch.randn((B, T, D) if bf else (T, B, D), dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(L * dirs, B, H, dtype=torch.float64, requires_grad=True) if with_h0 else None
    c0 = torch.randn(L * dirs, B, H, dtype=torch.float64, requires_grad=True) if with_h0 and kind == "lstm" else None
    hx = (h0, c0) if kind == "lstm" and with_h0 else h0
    y, hn = m(x, hx)
    dy = torch.randn_like(y)
    if kind == "lstm":
        hn, cn = hn
        dcn = torch.randn_like(cn)
    dhn = torch.randn_like(hn)
    loss = (y * dy).sum() + (hn * dhn).sum() + ((cn * dcn).sum() if kind == "lstm" else 0)
    loss.backward()
    out = {"x": x.detach().numpy(), "y": y.detach().numpy(), "h_n": hn.detach().numpy(),
           "dy": dy.numpy(), "dh_n": dhn.numpy(), "dx": x.grad.numpy()}
    for name, p in m.named_parameters():
        out["p_" + name] = p.detach().numpy()
        out["g_" + name] = p.grad.numpy()
    if with_h0:
        out["h0"] = h0.detach().numpy()
        out["dh0"] = h0.grad.numpy()
    if kind == "lstm":
        out["c_n"] = cn.detach().numpy()
        out["dc_n"] = dcn.numpy()
        if with_h0:
            out["c0"] = c0.detach().numpy()
            out["dc0"] = c0.grad.numpy()
    return out


def check(case, ref, rtol=1e-9):
    kind, L, bi, bf, with_h0 = case
    m = ours(kind, L, bi, bf)
    m.load_state_dict({k[2:]: v for k, v in ref.items() if k.startswith("p_")})
    lstm = kind == "lstm"
    y, hn = m.forward(ref["x"], ref.get("h0"), ref.get("c0"), train=True)
    if lstm:
        hn, cn = hn
        np.testing.assert_allclose(cn, ref["c_n"], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(y, ref["y"], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(hn, ref["h_n"], rtol=rtol, atol=rtol)
    if lstm:
        dx, (dh0, dc0) = m.backward(ref["dy"], ref["dh_n"], ref["dc_n"])
    else:
        dx, dh0 = m.backward(ref["dy"], ref["dh_n"])
    np.testing.assert_allclose(dx, ref["dx"], rtol=rtol, atol=rtol)
    if with_h0:
        np.testing.assert_allclose(dh0, ref["dh0"], rtol=rtol, atol=rtol)
        if lstm:
            np.testing.assert_allclose(dc0, ref["dc0"], rtol=rtol, atol=rtol)
    for k in ref:
        if k.startswith("g_"):
            np.testing.assert_allclose(m.grads[k[2:]], ref[k], rtol=rtol, atol=rtol, err_msg=k)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_parity_live(case):
    pytest.importorskip("torch")
    check(case, torch_reference(*case, seed=zlib.crc32(case_id(case).encode()) % 1000))


def fixture_cases():
    if not FIXTURE.exists():
        return []
    data = np.load(FIXTURE)
    out = []
    for i, case in enumerate(CASES):
        prefix = f"c{i}_"
        out.append((case, {k[len(prefix):]: data[k] for k in data.files if k.startswith(prefix)}))
    return out


@pytest.mark.parametrize("case,ref", fixture_cases(), ids=[case_id(c) for c, _ in fixture_cases()])
def test_parity_fixture(case, ref):
    check(case, ref)


def test_fixture_present():
    assert FIXTURE.exists(), "run tools/make_fixtures.py to write tests/fixtures/torch_rnn.npz"
