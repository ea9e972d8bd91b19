"""Train the same character-level language model in minrnn and in PyTorch, side by side.

    python bench/lm_compare.py                  # GRU and MinGRU, 300 steps each (~1 minute)
    python bench/lm_compare.py --quick          # a smoke run (~15 s)
    python bench/lm_compare.py --cells gru --steps 1000 --threads 1

Same architecture (Embedding -> one recurrent layer -> Linear), same initial weights
(copied from the minrnn model), data (the demo corpus, last 5% held out), stream batching
with the state carried between chunks, Adam, global-norm clipping at 5, evaluation
procedure and thread count. Checks that the two agree before timing anything. The two
trainings take turns (--block steps each) so that a slow spell of a noisy machine falls on
both. Reports training time and tokens/s, the final validation loss of each and sampling
tokens/s, and writes bench/results/lm_compare.{md,json}.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import sys
import time

import numpy as np

import minrnn
from minrnn.__main__ import cpu_model, demo_corpus, split_text
from minrnn.data import stream_batches
from options import count, writable_dir

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def schedule(S, L, steps):
    """[(start, length)] of each training chunk, as Trainer.fit walks streams of S tokens:
    a chunk starting at 0 starts from zero state."""
    out, pos = [], 0
    for _ in range(steps):
        n = min(L, S - pos)
        out.append((pos, n))
        pos = 0 if pos + n >= S else pos + n
    return out


def minrnn_steps(tr, streams, chunks):
    """Trainer.fit's loop (without its logging) over these chunks; check() verifies that
    it matches fit. Timed in blocks, it avoids fit's per-call setup of the streams."""
    for p, n in chunks:
        if p == 0:
            tr.state = None
        tr.train_step(streams[:, p:p + n], streams[:, p + 1:p + n + 1])


def torch_modules(torch):
    nn, F = torch.nn, torch.nn.functional

    def g(x):
        return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))

    def log_g(x):
        return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))

    class MinGRU(nn.Module):
        """minrnn's MinGRU: weight_ih_l0 (2H, D) with blocks [z; h~], bias_ih_l0 (2H).
        mode "loop": a Python loop of lerps over time; "log": the log-space parallel scan
        (Heinsen; as minGRU-pytorch), exact up to rounding since h > 0 always."""

        def __init__(self, D, H, mode):
            super().__init__()
            self.weight_ih_l0 = nn.Parameter(torch.empty(2 * H, D))
            self.bias_ih_l0 = nn.Parameter(torch.empty(2 * H))
            self.mode = mode

        def forward(self, x, h0=None):
            kz, kh = F.linear(x, self.weight_ih_l0, self.bias_ih_l0).chunk(2, dim=-1)
            h = None if h0 is None else h0[0]
            if self.mode == "log" and x.shape[1] > 1:
                log_a = -F.softplus(kz)                    # log(1 - z)
                log_b = -F.softplus(-kz) + log_g(kh)       # log(z * h~)
                if h is not None:
                    log_a = F.pad(log_a, (0, 0, 1, 0))
                    log_b = torch.cat([h.log()[:, None], log_b], dim=1)
                a_star = log_a.cumsum(dim=1)
                y = (a_star + (log_b - a_star).logcumsumexp(dim=1)).exp()
                y = y if h is None else y[:, 1:]
            else:
                z, ht = torch.sigmoid(kz), g(kh)
                hs = []
                for t in range(x.shape[1]):
                    h = z[:, t] * ht[:, t] if h is None else torch.lerp(h, ht[:, t], z[:, t])
                    hs.append(h)
                y = torch.stack(hs, dim=1)
            return y, y[:, -1][None]

    class LM(nn.Module):
        def __init__(self, V, E, H, cell, mode):
            super().__init__()
            self.embedding = nn.Embedding(V, E)
            self.rnn = nn.GRU(E, H, batch_first=True) if cell == "gru" else MinGRU(E, H, mode)
            self.head = nn.Linear(H, V)

        def forward(self, x, h=None):
            y, h = self.rnn(self.embedding(x), h)
            return self.head(y), h

    return LM, MinGRU


class TorchRun:
    """The PyTorch mirror of minrnn.Trainer: same chunks, carried (detached) state, Adam,
    clip_grad_norm_, and evaluate() as Trainer.evaluate."""

    def __init__(self, torch, LM, init, cell, mode, args):
        self.torch, self.F = torch, torch.nn.functional
        V, E = init["embedding.weight"].shape
        self.model = LM(V, E, init["head.weight"].shape[1], cell, mode)
        self.model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in init.items()})
        self.opt = torch.optim.Adam(self.model.parameters(), lr=args.lr)
        self.args, self.losses, self.h = args, [], None

    def loss(self, x, y, h):
        logits, h = self.model(self.torch.from_numpy(np.ascontiguousarray(x)), h)
        return self.F.cross_entropy(logits.flatten(0, 1), self.torch.from_numpy(np.ascontiguousarray(y)).flatten()), h

    def fit(self, streams, chunks):
        for p, n in chunks:
            loss, h = self.loss(streams[:, p:p + n], streams[:, p + 1:p + n + 1], None if p == 0 else self.h)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
            self.opt.step()
            self.h = h.detach()
            self.losses.append(loss.item())

    def evaluate(self, ids):
        B = min(self.args.batch, len(ids) - 1)
        streams, L = stream_batches(ids, B), 4 * self.args.seq_len
        S, h, total = streams.shape[1] - 1, None, 0.0
        with self.torch.no_grad():
            for p in range(0, S, L):
                y = streams[:, p + 1:p + L + 1]
                loss, h = self.loss(streams[:, p:p + y.shape[1]], y, h)
                total += loss.item() * y.size
        return total / (B * S)

    def sample_ids(self, prime, n, temperature=1.0, seed=0):
        """As LanguageModel.sample_ids, the torch way: softmax + torch.multinomial."""
        torch = self.torch
        gen, out = torch.Generator().manual_seed(seed), []
        with torch.no_grad():
            h = None if len(prime) < 2 else self.model(torch.from_numpy(prime[None, :-1]))[1]
            tok = torch.tensor([[int(prime[-1])]])
            for _ in range(n):
                logits, h = self.model(tok, h)
                tok = torch.multinomial(torch.softmax(logits[0, -1] / temperature, -1), 1, generator=gen)[None]
                out.append(tok)
        return torch.cat(out).flatten().numpy()


def minrnn_trainer(init, cell, vocab, args):
    V, E = init["embedding.weight"].shape
    m = minrnn.LanguageModel(V, E, init["head.weight"].shape[1], cell=cell, seed=args.seed, vocab=vocab)
    m.load_state_dict(init)
    return minrnn.Trainer(m, minrnn.Adam(m.parameters(), lr=args.lr), batch_size=args.batch,
                          seq_len=args.seq_len, clip_norm=5.0)


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-30)


def pick_mingru_mode(torch, MinGRU, args):
    """Check both torch MinGRU forms against minrnn.MinGRU, then time forward+backward on
    one training chunk and return the faster."""
    B, L, E, H = args.batch, args.seq_len, args.embed, args.hidden
    ref = minrnn.MinGRU(E, H, seed=1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, L, E), dtype=np.float32)
    h0 = rng.uniform(0.1, 1.5, (1, B, H)).astype(np.float32)
    want = ref(x, h0)[0]
    times = {}
    for mode in ("loop", "log"):
        m = MinGRU(E, H, mode)
        m.load_state_dict({k: torch.from_numpy(v) for k, v in ref.state_dict().items()})
        xt, ht = torch.from_numpy(x).requires_grad_(), torch.from_numpy(h0)
        err = float(np.max(np.abs(m(xt, ht)[0].detach().numpy() - want)) / np.max(np.abs(want)))
        if err > 1e-4:
            sys.exit(f"torch MinGRU ({mode}) disagrees with minrnn.MinGRU: rel err {err:.1e}")
        ts = []
        for _ in range(7):
            t0 = time.perf_counter()
            m(xt, ht)[0].sum().backward()
            ts.append(time.perf_counter() - t0)
        times[mode] = float(np.median(ts[2:]))
    best = min(times, key=times.get)
    print(f"torch MinGRU: Python loop over time {times['loop'] * 1e3:.1f} ms, log-space parallel scan "
          f"{times['log'] * 1e3:.1f} ms (fwd+bwd, B={B} T={L}) -> using {best!r}")
    return best, times


def check(torch, LM, init, cell, mode, vocab, train_ids, val_ids, streams, chunks, args, steps=5):
    """Same first-batch loss, same validation loss at init, same losses for a few steps
    (Trainer.fit, the timed loop minrnn_steps, and torch)."""
    tr, tt = minrnn_trainer(init, cell, vocab, args), TorchRun(torch, LM, init, cell, mode, args)
    tl = minrnn_trainer(init, cell, vocab, args)
    x, y = streams[:, :args.seq_len], streams[:, 1:args.seq_len + 1]
    l0m = tr.model.loss(x, y)[0]
    with torch.no_grad():
        l0t = tt.loss(x, y, None)[0].item()
    v0m, v0t = tr.evaluate(val_ids), tt.evaluate(val_ids)
    tr.fit(train_ids, None, steps=steps, progress=False, log=lambda s: None)
    minrnn_steps(tl, streams, chunks[:steps])
    tt.fit(streams, chunks[:steps])
    dl = max(rel(a, b) for a, b in zip(tr.losses, tt.losses))
    dfit = max(rel(a, b) for a, b in zip(tr.losses, tl.losses))
    sd = tr.model.state_dict()
    dw = max(float(np.max(np.abs(sd[k] - p.detach().numpy()))) for k, p in tt.model.state_dict().items())
    print(f"check {cell}: first-batch loss minrnn {l0m:.6f} torch {l0t:.6f} (rel {rel(l0m, l0t):.1e}); "
          f"val loss at init {v0m:.6f} / {v0t:.6f} (rel {rel(v0m, v0t):.1e}); after {steps} steps: "
          f"losses rel <= {dl:.1e}, weights max |diff| {dw:.1e}; timed loop vs Trainer.fit {dfit:.1e}")
    ok = rel(l0m, l0t) < 1e-4 and rel(v0m, v0t) < 1e-4 and dl < 1e-3 and dfit < 1e-6
    if not ok:
        sys.exit(f"check {cell}: FAILED, not timing a comparison of different computations")
    return {"first_loss": [l0m, l0t], "init_val": [v0m, v0t], "steps": steps, "loss_rel": dl,
            "weight_diff": dw, "fit_vs_loop_rel": dfit}


def timed_sample(fn, prime, n, repeat=3):
    """Median tokens/s of a few runs, and the last sample."""
    fn(prime, 20)  # warm up
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(prime, n)
        rates.append(n / (time.perf_counter() - t0))
    return float(np.median(rates)), out


def run_cell(torch, LM, MinGRU, cell, vocab, train_ids, val_ids, args):
    init = minrnn.LanguageModel(len(vocab), args.embed, args.hidden, cell=cell, seed=args.seed).state_dict()
    mode, mode_times = pick_mingru_mode(torch, MinGRU, args) if cell == "mingru" else ("nn.GRU", None)
    streams = stream_batches(train_ids, args.batch)
    chunks = schedule(streams.shape[1] - 1, args.seq_len, args.steps)
    chk = check(torch, LM, init, cell, mode, vocab, train_ids, val_ids, streams, chunks, args)
    tokens = args.batch * sum(n for _, n in chunks)
    tr, tt = minrnn_trainer(init, cell, vocab, args), TorchRun(torch, LM, init, cell, mode, args)
    train = {"minrnn": lambda c: minrnn_steps(tr, streams, c), "torch": lambda c: tt.fit(streams, c)}
    blocks = {"minrnn": [], "torch": []}
    # Taking turns; the train time of each is the sum of its blocks.
    for b in range(0, len(chunks), args.block):
        for side, run in train.items():
            t0 = time.perf_counter()
            run(chunks[b:b + args.block])
            blocks[side].append(time.perf_counter() - t0)
    prime = vocab.encode("def ")
    sample = {"minrnn": lambda p, n: tr.model.sample_ids(p, n, temperature=1.0, seed=args.seed),
              "torch": lambda p, n: tt.sample_ids(p, n, temperature=1.0, seed=args.seed)}
    res = {"cell": cell, "steps": args.steps, "tokens": tokens, "torch_impl": mode,
           "torch_mingru_fwd_bwd_s": mode_times, "check": chk}
    for side, run in (("minrnn", tr), ("torch", tt)):
        dt, val = sum(blocks[side]), run.evaluate(val_ids)
        sps, text = timed_sample(sample[side], prime, args.sample)
        res[side] = {"train_s": dt, "tokens_per_s": tokens / dt, "block_s": blocks[side],
                     "val_loss": val, "sample_tokens_per_s": sps, "losses": run.losses,
                     "sample": vocab.decode(prime) + vocab.decode(np.asarray(text, np.int64))}
        print(f"  {side:6s} {cell}: {dt:7.1f} s  {tokens / dt:9,.0f} tokens/s  final train loss "
              f"{run.losses[-1]:.4f}  val loss {val:.4f}  sampling {sps:,.0f} tokens/s", flush=True)
    res["speed_ratio"] = res["torch"]["train_s"] / res["minrnn"]["train_s"]
    res["val_diff_pct"] = 100 * (res["minrnn"]["val_loss"] - res["torch"]["val_loss"]) / res["torch"]["val_loss"]
    return res


HEADER = ["cell", "steps", "minrnn train s (tokens/s)", "torch train s (tokens/s)", "speed ratio",
          "minrnn val loss", "torch val loss", "difference %", "minrnn sample tokens/s",
          "torch sample tokens/s"]


def table(results):
    rows = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in results:
        m, t = r["minrnn"], r["torch"]
        name = r["cell"] + ("" if r["cell"] == "gru" else f" (torch: {r['torch_impl']})")
        rows.append(f"| {name} | {r['steps']} | {m['train_s']:.1f} ({m['tokens_per_s']:,.0f}) | "
                    f"{t['train_s']:.1f} ({t['tokens_per_s']:,.0f}) | {r['speed_ratio']:.2f}x | "
                    f"{m['val_loss']:.4f} | {t['val_loss']:.4f} | {r['val_diff_pct']:+.2f} | "
                    f"{m['sample_tokens_per_s']:,.0f} | {t['sample_tokens_per_s']:,.0f} |")
    return rows


def learning_rate(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (v > 0 and np.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", nargs="+", choices=["gru", "mingru"], default=["gru", "mingru"])
    ap.add_argument("--steps", type=count(1), default=300, help="training steps of each library (default 300)")
    ap.add_argument("--threads", type=count(1, 1024), default=2, help="threads of both libraries (default 2)")
    ap.add_argument("--hidden", type=count(1), default=256, help="hidden size (default 256)")
    ap.add_argument("--embed", type=count(1), default=64, help="embedding size (default 64)")
    ap.add_argument("--batch", type=count(1), default=32, help="sequences per batch (default 32)")
    ap.add_argument("--seq-len", type=count(1), default=64, help="steps of truncated BPTT (default 64)")
    ap.add_argument("--lr", type=learning_rate, default=3e-3, help="Adam's learning rate (default 3e-3)")
    ap.add_argument("--chars", type=count(1000), default=1_000_000, help="corpus size (default 1e6)")
    ap.add_argument("--sample", type=count(1), default=1000,
                    help="tokens sampled for the speed figure (default 1000; 300 with --quick)")
    ap.add_argument("--seed", type=count(0), default=0)
    ap.add_argument("--block", type=count(1), default=25, help="steps per turn of the alternating trainings")
    ap.add_argument("--quick", action="store_true",
                    help="at most 60 steps on at most 200k characters, 300 sampled tokens unless --sample")
    ap.add_argument("--out", type=pathlib.Path, default=RESULTS, help="directory for lm_compare.{md,json}")
    args = ap.parse_args(argv)
    writable_dir(ap, args.out)
    if args.quick:
        sample_given = any(a == "--sample" or a.startswith("--sample=") for a in (sys.argv[1:] if argv is None else argv))
        args.steps, args.chars = min(args.steps, 60), min(args.chars, 200_000)
        args.sample = args.sample if sample_given else 300
    try:
        import torch
    except ImportError:
        print("lm_compare: PyTorch is not installed; nothing to compare against "
              "(pip install torch==2.13.0). Skipped.")
        return 0
    minrnn.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    LM, MinGRU = torch_modules(torch)

    text = demo_corpus(args.chars)
    vocab = minrnn.Vocab.from_text(text, level="char")
    train_ids, val_ids = split_text(vocab, text, 0.05)
    if len(train_ids) < 2 * args.batch * (args.seq_len + 1) or len(val_ids) < args.seq_len + 1:
        print(f"lm_compare: error: {len(text):,} characters are too few for --batch {args.batch} x "
              f"--seq-len {args.seq_len}; give more --chars", file=sys.stderr)
        return 2
    head = [f"minrnn {minrnn.__version__} ({minrnn.simd_level()}), torch {torch.__version__}, "
            f"NumPy {np.__version__}, Python {platform.python_version()}",
            f"{cpu_model()}, {args.threads} thread(s), {datetime.datetime.now().isoformat(timespec='seconds')}",
            f"data: {len(text):,} chars of stdlib source, {len(vocab)} tokens, {len(train_ids):,} train / "
            f"{len(val_ids):,} validation; model: embed {args.embed}, hidden {args.hidden}, 1 layer; "
            f"batch {args.batch} x {args.seq_len}, Adam lr {args.lr}, clip norm 5, seed {args.seed}",
            f"load average before the run: {os.getloadavg()[0]:.2f} (other processes skew the times)"]
    print("\n".join(head), flush=True)

    try:
        results = [run_cell(torch, LM, MinGRU, c, vocab, train_ids, val_ids, args) for c in args.cells]
    except KeyboardInterrupt:  # nothing half-measured is written
        print("lm_compare: interrupted; nothing written", file=sys.stderr)
        return 130
    notes = [f"speed ratio = torch train time / minrnn train time (target >= 3x); difference % = "
             f"(minrnn - torch) / torch validation loss (target within 2%). Train time excludes "
             f"evaluation; the two trainings take turns, {args.block} steps at a time. Sampling: "
             f"{args.sample} tokens one at a time from the trained model, temperature 1, median of 3 "
             f"runs; minrnn sample_ids vs torch softmax + multinomial.",
             f"load average after the run: {os.getloadavg()[0]:.2f} (this run keeps about "
             f"{args.threads} cores busy)."]
    lines = head + [""] + table(results) + [""] + notes
    print("\n" + "\n".join(table(results) + [""] + notes))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "lm_compare.md").write_text("\n".join(lines) + "\n")
    (args.out / "lm_compare.json").write_text(json.dumps(
        {"header": head, "config": {k: (str(v) if isinstance(v, pathlib.Path) else v) for k, v in vars(args).items()},
         "results": results}, indent=1))
    print(f"\nwrote {args.out / 'lm_compare.md'} and lm_compare.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
