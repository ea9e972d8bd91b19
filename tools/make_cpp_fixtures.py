"""Write the small model files the C++ tests read (cpp/tests/fixtures), from Python.

    python tools/make_cpp_fixtures.py

tiny_lm.ckpt: a 2-layer LSTM language model over a word vocabulary with non-ASCII tokens,
trained a few steps; tiny_gru.ckpt: a bidirectional 2-layer GRU layer (reset-before).
"""
import pathlib

import minrnn as mr

OUT = pathlib.Path(__file__).resolve().parents[1] / "cpp" / "tests" / "fixtures"

if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    text = "der schnelle braune fuchs springt über den faulen hund — ∑ 𝄞 " * 8
    v = mr.Vocab.from_text(text, level="word")
    m = mr.LanguageModel(len(v), 4, 6, cell="lstm", num_layers=2, seed=0, vocab=v)
    mr.Trainer(m, batch_size=2, seq_len=8).fit(text, steps=10, progress=False, log=lambda s: None)
    m.save(OUT / "tiny_lm.ckpt")
    mr.GRU(3, 4, num_layers=2, bidirectional=True, reset_after=False, seed=1).save(OUT / "tiny_gru.ckpt")
    print("wrote", *sorted(p.name for p in OUT.iterdir()))
