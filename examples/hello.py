"""An Elman RNN and a dense softmax layer learn to spell "hello" one letter at a time.

Inputs are one-hot letters h, e, l, l; the targets are the next letters e, l, l, o. The
same l must be followed once by l and once by o: only the hidden state can tell which.

    python examples/hello.py
"""
import numpy as np

import minrnn as mr

letters = sorted(set("hello"))                          # e, h, l, o
index = {c: i for i, c in enumerate(letters)}
V = len(letters)


def one_hot(word):
    return np.eye(V, dtype=np.float32)[[index[c] for c in word]]   # (T, V)


rnn = mr.RNN(V, 8, nonlinearity="tanh", seed=0)
dense = mr.Linear(8, V, seed=1)
ce = mr.CrossEntropyLoss()
params = {**{"rnn." + k: v for k, v in rnn.parameters().items()},
          **{"dense." + k: v for k, v in dense.parameters().items()}}
opt = mr.Adam(params, lr=0.05)

x = one_hot("hell")                                     # one sequence, (T, V)
targets = np.array([index[c] for c in "ello"])
for step in range(1, 201):
    h, _ = rnn.forward(x, train=True)
    loss = ce(dense.forward(h, train=True), targets)
    rnn.backward(dense.backward(ce.backward()))
    opt.step({**{"rnn." + k: v for k, v in rnn.grads.items()},
              **{"dense." + k: v for k, v in dense.grads.items()}})
    if step % 50 == 0:
        print(f"step {step}: loss {loss:.4f}")

# Spell it: feed "h", then each predicted letter, one step at a time.
word, state = "h", None
for _ in range(4):
    h, state = rnn.step(one_hot(word[-1])[0], state)
    word += letters[int(np.argmax(dense(h)))]
print("spelled:", word)
