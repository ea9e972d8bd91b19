"""A minimal gated unit (MGU) fitting a sequence regression with mean squared error.

The target at each step is a leaky running sum of the inputs, y_t = 0.8 y_{t-1} + x_t: the
network must learn to remember. Built from the layers directly: MGU -> Linear -> MSELoss.

    python examples/mgu_regression.py [--steps 400] [--short]
"""
import argparse

import numpy as np

import minrnn as mr


def batch(rng, B=32, T=40):
    x = rng.standard_normal((B, T, 1)).astype(np.float32)
    y = np.zeros_like(x)
    for t in range(T):
        y[:, t] = (0.8 * y[:, t - 1] if t else 0) + x[:, t]
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--short", action="store_true", help="fewer steps (for the tests)")
    args = ap.parse_args()
    steps = 250 if args.short else args.steps

    rng = np.random.default_rng(0)
    rnn = mr.MGU(1, 32, seed=0)
    head = mr.Linear(32, 1, seed=1)
    mse = mr.MSELoss()
    params = {**{"rnn." + k: v for k, v in rnn.parameters().items()},
              **{"head." + k: v for k, v in head.parameters().items()}}
    opt = mr.Adam(params, lr=0.01)
    x_val, y_val = batch(np.random.default_rng(1), B=256)

    def val_loss():
        return mse(head(rnn(x_val)[0]), y_val)

    first = val_loss()
    print(f"validation MSE before training: {first:.4f}")
    for step in range(1, steps + 1):
        x, y = batch(rng)
        h, _ = rnn.forward(x, train=True)
        loss = mse(head.forward(h, train=True), y)
        rnn.backward(head.backward(mse.backward()))     # the chain rule, layer by layer
        grads = {**{"rnn." + k: v for k, v in rnn.grads.items()},
                 **{"head." + k: v for k, v in head.grads.items()}}
        mr.clip_grad_norm(grads, 1.0)
        opt.step(grads)
        if step % 50 == 0:
            print(f"step {step}: training MSE {loss:.4f}")
    last = val_loss()
    print(f"validation MSE after training: {last:.4f} ({first / last:.0f}x lower)")


if __name__ == "__main__":
    main()
