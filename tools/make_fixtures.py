"""Write the small .npz fixtures that let the parity tests run without torch.

    python tools/make_fixtures.py      (needs torch==2.13.0 and mingru-pytorch==0.2.1)

tests/fixtures/mingru_pytorch.npz: inputs, weights, outputs and gradients of
minGRU-pytorch's minGRU(dim, expansion_factor=1) (candidate g, no bias), for a few
shapes, with and without a (positive) previous hidden state.
tests/fixtures/torch_rnn.npz: the same for torch.nn.RNN / GRU / LSTM over the cases of
tests/test_parity_torch.py.
"""
import pathlib
import sys

import numpy as np
import torch
from minGRU_pytorch.minGRU import minGRU

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "fixtures"
CASES = [(2, 7, 5, False), (1, 1, 3, True), (3, 33, 8, True), (2, 200, 4, False)]


def run_case(rng, B, T, D, with_h0):
    torch.manual_seed(int(rng.integers(1 << 31)))
    model = minGRU(D, expansion_factor=1.0).double()
    x = torch.tensor(rng.standard_normal((B, T, D)), requires_grad=True)
    h0 = torch.tensor(rng.uniform(0.1, 1.0, (B, 1, D)), requires_grad=True) if with_h0 else None
    y, hn = model(x, h0, return_next_prev_hidden=True)
    dy = torch.tensor(rng.standard_normal((B, T, D)))
    (y * dy).sum().backward()
    out = {
        "x": x.detach().numpy(), "weight": model.to_hidden_and_gate.weight.detach().numpy(),
        "y": y.detach().numpy(), "h_n": hn.detach().numpy(), "dy": dy.numpy(),
        "dx": x.grad.numpy(), "dweight": model.to_hidden_and_gate.weight.grad.numpy(),
    }
    if with_h0:
        out["h0"] = h0.detach().numpy()
        out["dh0"] = h0.grad.numpy()
    return out


def main():
    rng = np.random.default_rng(2024)
    arrays = {}
    for k, case in enumerate(CASES):
        for name, v in run_case(rng, *case).items():
            arrays[f"case{k}_{name}"] = v
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "mingru_pytorch.npz", **arrays)
    print(f"wrote {OUT / 'mingru_pytorch.npz'} ({len(CASES)} cases)")

    sys.path.insert(0, str(OUT.parent))
    import test_parity_torch as tp
    arrays = {}
    for i, case in enumerate(tp.CASES):
        for name, v in tp.torch_reference(*case, seed=1000 + i).items():
            arrays[f"c{i}_{name}"] = v
    np.savez_compressed(OUT / "torch_rnn.npz", **arrays)
    print(f"wrote {OUT / 'torch_rnn.npz'} ({len(tp.CASES)} cases)")


if __name__ == "__main__":
    main()
