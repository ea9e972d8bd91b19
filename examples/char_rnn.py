"""A character-level language model in the style of Karpathy's min-char-rnn, with minrnn.

A GRU (Cho et al.'s reset-before form, as in the notebook this grew from) reads a text one
chunk of seq_len characters at a time, carrying its hidden state from chunk to chunk; it is
trained with Adagrad and gradients clipped to [-5, 5], prints a sample now and then, and
saves its weights at the end.

    python examples/char_rnn.py [input.txt] [--steps 2000] [--short]

Without an input file it reads this file itself.
"""
import argparse
import math
import time

import numpy as np

import minrnn as mr


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default=__file__, help="a UTF-8 text file")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--seq-len", type=int, default=25)
    ap.add_argument("--batch", type=int, default=8, help="parallel streams of the text")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--out", default="char_rnn.ckpt")
    ap.add_argument("--short", action="store_true", help="a few seconds (for the tests)")
    args = ap.parse_args()
    if args.short:
        args.steps, args.hidden = 150, 64

    for name in ("hidden", "seq_len", "batch", "steps"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1")
    try:
        with open(args.input, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        ap.error(f"cannot read {args.input}: {exc}")
    B, L = args.batch, args.seq_len
    if len(text) < B * L + 1:
        ap.error(f"{args.input} has {len(text)} characters, too few for --batch {B} streams of "
                 f"--seq-len {L} (needs {B * L + 1})")
    vocab = mr.Vocab.from_text(text)                    # characters, id 0 = unknown
    data = vocab.encode(text)
    print(f"{len(data):,} characters, {len(vocab)} distinct")

    model = mr.LanguageModel(len(vocab), embed_size=len(vocab), hidden_size=args.hidden,
                             cell="gru", reset_after=False, seed=0, vocab=vocab)
    opt = mr.Adagrad(model.parameters(), lr=args.lr)

    # B streams over the text, each read from its start; stream b begins at b * S.
    S = (len(data) - 1) // B
    streams = np.stack([data[b * S:b * S + S + 1] for b in range(B)])
    smooth = math.log(len(vocab))                       # the loss of a uniform guess
    state, p = None, 0
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        if p + L >= S:                                  # back to the start, state forgotten
            state, p = None, 0
        x, y = streams[:, p:p + L], streams[:, p + 1:p + L + 1]
        loss, state = model.loss(x, y, state, train=True)  # state flows on; gradients stop here
        model.backward()
        grads = model.grads
        mr.clip_grad_value(grads, 5.0)                  # against exploding gradients
        opt.step(grads)
        smooth = 0.99 * smooth + 0.01 * loss
        p += L
        if step % max(1, args.steps // 5) == 0 or step == args.steps:
            print(f"step {step}: loss {smooth:.3f}")
            print("  " + repr(model.sample(text[0], 80, seed=step))[1:-1])
    dt = time.perf_counter() - t0
    print(f"{args.steps * B * L / dt:,.0f} characters/s of training")
    print(f"final smoothed loss {smooth:.3f} (uniform guess {math.log(len(vocab)):.3f})")
    model.save(args.out)
    again = mr.LanguageModel.load(args.out)
    assert again.sample(text[0], 40, seed=1) == model.sample(text[0], 40, seed=1)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
