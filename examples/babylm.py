"""BabyLM: a word-level language model that learns three sentences and finishes them.

    python examples/babylm.py [--cell gru] [--short]

Each sentence is one sequence of a batch; shorter ones are padded, and the padding's
targets are ignored by the loss (ignore_index).
"""
import argparse

import numpy as np

import minrnn as mr

SENTENCES = ["the quick brown fox jumps over the lazy dog",
             "a journey of a thousand miles begins with a single step",
             "to be or not to be that is the question"]
PAD = -100  # targets with this id do not count (the loss's default ignore_index)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", default="gru", choices=sorted(mr.model.CELLS))
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--short", action="store_true", help="fewer steps (for the tests)")
    args = ap.parse_args()
    steps = 150 if args.short else args.steps

    vocab = mr.Vocab.from_text(" ".join(SENTENCES), level="word")
    seqs = [vocab.encode(s) for s in SENTENCES]
    T = max(len(s) for s in seqs) - 1
    x = np.zeros((len(seqs), T), np.int64)            # inputs, padded with id 0
    y = np.full((len(seqs), T), PAD, np.int64)        # targets, padded with PAD
    for i, s in enumerate(seqs):
        x[i, :len(s) - 1], y[i, :len(s) - 1] = s[:-1], s[1:]

    model = mr.LanguageModel(len(vocab), embed_size=16, hidden_size=64, cell=args.cell,
                             seed=0, vocab=vocab)
    opt = mr.Adam(model.parameters(), lr=0.01)
    for step in range(1, steps + 1):
        loss, _ = model.loss(x, y, train=True)
        model.backward()
        opt.step(model.grads)
        if step % 50 == 0:
            print(f"step {step}: loss {loss:.4f}")

    for prompt in ["the quick brown fox", "a journey of a thousand", "to be or not to"]:
        print(f"{prompt} -> {model.predict_next(prompt)}")
    print("greedy:", model.sample("the", 8, temperature=0))


if __name__ == "__main__":
    main()
