"""Command line: python -m minrnn {demo,train,sample,perplexity,info,bench} (also the
minrnn console script); --help on each."""
import argparse
import math
import os
import platform
import sys
import time
import warnings

import numpy as np

import minrnn


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def median_ms(fn, repeat):
    t_end = time.perf_counter() + 0.05
    while True:  # warm up: caches, page faults, thread pools
        fn()
        if time.perf_counter() > t_end:
            break
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    _SPREADS.append(float(np.median(times) / min(times)))
    return 1e3 * float(np.median(times))


_SPREADS = []  # median / fastest repeat of each row timed by median_ms


def train_step(layer, x, dy):
    layer.forward(x, train=True)
    layer.backward(dy)


def cmd_info(args):
    import scipy_openblas32
    print(f"minrnn {minrnn.__version__} on {cpu_model()}, Python {platform.python_version()}")
    print(f"threads: {minrnn.get_num_threads()} (OpenMP: {minrnn._core.openmp}), "
          f"instruction set: {minrnn.simd_level()}")
    print(f"BLAS: {scipy_openblas32.get_openblas_config()}")
    return 0


# The fixed table of `minrnn bench --table`: every cell at these (B, T, H) (D = H), and one
# streaming step at batch 1 at these H.
TABLE_SHAPES = [(1, 1024, 256), (16, 512, 256), (64, 256, 512), (16, 1024, 256)]
TABLE_STEPS = [256, 1024]
TABLE_CELLS = [("MinGRU", "MinGRU", {}), ("MinLSTM", "MinLSTM", {}), ("MGU", "MGU", {}),
               ("GRU", "GRU", {}), ("GRU reset-before", "GRU", {"reset_after": False}),
               ("LSTM", "LSTM", {}), ("RNN", "RNN", {})]


def bench_table(args):
    """Every cell, forward, forward+backward and one step, on the fixed table of shapes, on
    1 thread and on all of them; a Markdown table, and JSON with --json."""
    import json
    from . import reference as ref
    rng = np.random.default_rng(0)
    shrink = 8 if args.quick else 1  # --quick: the same table at 1/8 of each size
    threads = sorted({1, args.threads})
    rows = []
    print(f"minrnn {minrnn.__version__} | {cpu_model()} | {minrnn.simd_level()} | float32 | "
          f"median of {args.repeat}\n")
    print("| cell | B, T, H | threads | forward ms | forward+backward ms | forward tokens/s |")
    print("|---|---|---|---|---|---|")
    for nt in threads:
        minrnn.set_num_threads(nt)
        for name, cls, kw in TABLE_CELLS:
            for B, T, H in TABLE_SHAPES:
                T, H = max(1, T // shrink), max(1, H // shrink)
                m = getattr(minrnn, cls)(H, H, seed=0, **kw)
                x = rng.standard_normal((B, T, H), dtype=np.float32)
                checked(ref.check_layer, m, x, rng, name=name)
                dy = np.ones((B, T, H), np.float32)
                t_f = median_ms(lambda: m(x), args.repeat)
                t_fb = median_ms(lambda: train_step(m, x, dy), args.repeat)
                rows.append({"cell": name, "B": B, "T": T, "H": H, "threads": nt, "forward_ms": t_f,
                             "forward_backward_ms": t_fb, "tokens_per_s": B * T / t_f * 1e3})
                print(f"| {name} | {B}, {T}, {H} | {nt} | {t_f:.2f} | {t_fb:.2f} | {B * T / t_f * 1e3:,.0f} |",
                      flush=True)
    print("\n| one step, B=1 | H | threads | µs |")
    print("|---|---|---|---|")
    for nt in threads:
        minrnn.set_num_threads(nt)
        for name, cls, kw in TABLE_CELLS:
            for H in TABLE_STEPS:
                H = max(1, H // shrink)
                m = getattr(minrnn, cls)(H, H, seed=0, **kw)
                x_t = rng.standard_normal(H, dtype=np.float32)
                state = m.step(x_t, m.initial_state())[1]  # a state that is not zero
                checked(ref.check_step, m, x_t[None], state, m.step(x_t, state)[0], name=name)
                t = median_ms(lambda: [m.step(x_t, state) for _ in range(100)], args.repeat) * 10
                rows.append({"cell": name, "step_H": H, "threads": nt, "step_us": t})
                print(f"| {name} | {H} | {nt} | {t:.1f} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": cpu_model(), "simd": minrnn.simd_level(), "version": minrnn.__version__,
                       "date": time.strftime("%Y-%m-%d"), "repeat": args.repeat, "quick": args.quick,
                       "rows": rows}, f, indent=1)
        print(f"\nwrote {args.json}")
    noise_note()
    return 0


def checked(check, *args, **kw):
    """A check of minrnn.reference before a row is timed; then a pause, for the threads of
    NumPy's own BLAS (which the reference's products wake) to go back to sleep."""
    try:
        check(*args, **kw)
    except AssertionError as exc:
        raise RuntimeError(f"result check failed, nothing timed: {exc}") from None
    time.sleep(0.3)


def cmd_bench(args):
    """A quick look at speed: MinGRU/MinLSTM layers against their own input-projection GEMM,
    the classic cells at batch 1, and the scan's two schedules; with --table, every cell on
    the fixed table of shapes. Every row checks its result against minrnn.reference before
    it is timed. The full suite with its peers is bench/ (see the README)."""
    from . import reference as ref
    if args.json and not args.table:
        raise ValueError("--json writes the rows of --table; give both")
    if args.json:  # refuse an unwritable path now, not after minutes of timing
        where = os.path.dirname(os.path.abspath(args.json))
        if os.path.isdir(args.json) or not os.path.isdir(where) or not os.access(where, os.W_OK) or (
                os.path.exists(args.json) and not os.access(args.json, os.W_OK)):
            raise ValueError(f"--json {args.json}: cannot write a file there")
    if args.table:
        return bench_table(args)
    rng = np.random.default_rng(0)
    minrnn.set_num_threads(args.threads)
    rep = args.repeat
    print(f"minrnn {minrnn.__version__} | {cpu_model()} | {minrnn.simd_level()} | "
          f"{args.threads} thread(s) | float32 | median of {rep}")
    # Let the threads of NumPy's own BLAS, started at import, go back to sleep first.
    time.sleep(0.3)
    B, T, D, H = (4, 256, 128, 128) if args.quick else (16, 1024, 256, 256)
    x = rng.standard_normal((B, T, D), dtype=np.float32)
    print(f"\nlayer  B={B} T={T} D=H={H}        ms   x GEMM   tokens/s")
    for cls, G in [(minrnn.MinGRU, 2), (minrnn.MinLSTM, 3)]:
        m = cls(D, H, seed=0)
        w = m.state_dict()["weight_ih_l0"]
        x2 = x.reshape(B * T, D)
        checked(ref.check_layer, m, x, rng)
        t_gemm = median_ms(lambda: minrnn._core.linear_forward(x2, w, None), rep)
        t_f = median_ms(lambda: m(x), rep)
        dy = np.ones((B, T, H), np.float32)
        t_fb = median_ms(lambda: train_step(m, x, dy), rep)
        name = cls.__name__
        print(f"{name:8s} projection GEMM    {t_gemm:8.2f}   1.00")
        print(f"{name:8s} forward            {t_f:8.2f}   {t_f / t_gemm:4.2f}   {B * T / t_f * 1e3:10.0f}")
        print(f"{name:8s} forward+backward   {t_fb:8.2f}   {t_fb / t_gemm:4.2f}   {B * T / t_fb * 1e3:10.0f}")
    B, T, H = (1, 256, 128) if args.quick else (1, 1024, 256)
    print(f"\nclassic cells, B={B} T={T} D=H={H}     forward ms  fwd+bwd ms   tokens/s (forward)")
    x = rng.standard_normal((B, T, H), dtype=np.float32)
    for cls in [minrnn.GRU, minrnn.LSTM, minrnn.MGU, minrnn.RNN]:
        m = cls(H, H, seed=0)
        checked(ref.check_layer, m, x, rng)
        t_f = median_ms(lambda: m(x), rep)
        dy = np.ones((B, T, H), np.float32)
        t_fb = median_ms(lambda: train_step(m, x, dy), rep)
        print(f"{cls.__name__:36s} {t_f:10.2f} {t_fb:11.2f} {B * T / t_f * 1e3:10.0f}")
    T = 200_000 if args.quick else 4_000_000
    print(f"\nscan.linear (B, T, C)          sequential ms  parallel ms  auto ms  auto picks")
    for shape in [(1, T, 1), (1, T // 4, 64)]:
        a = rng.uniform(0.5, 1.0, shape).astype(np.float32)
        b = rng.standard_normal(shape, dtype=np.float32)
        for mode in ("sequential", "parallel", "auto"):
            gap = ref.scan_residual(a, b, minrnn.scan.linear(a, b, mode=mode))
            if not gap <= 1e-5:
                raise RuntimeError(f"result check failed, nothing timed: scan.linear {mode} {shape} is "
                                   f"off its recurrence by {gap:.3g}")
        ts = median_ms(lambda: minrnn.scan.linear(a, b, mode="sequential"), rep)
        tp = median_ms(lambda: minrnn.scan.linear(a, b, mode="parallel"), rep)
        ta = median_ms(lambda: minrnn.scan.linear(a, b, mode="auto"), rep)
        pick = minrnn.scan.choose(*shape)
        print(f"{str(shape):30s} {ts:12.2f} {tp:12.2f} {ta:8.2f}  {pick}")
    noise_note()
    return 0


def noise_note():
    if _SPREADS and max(_SPREADS) > 1.5:
        print(f"\nnote: some rows' median was up to {max(_SPREADS):.1f}x their fastest repeat: other work "
              "is running on this machine, so these times are not reliable (with busy cores, "
              "--threads 1 is also the faster setting)")



# ---- language models ----
DEMO_MODULES = ["argparse.py", "collections/__init__.py", "contextlib.py", "dataclasses.py",
                "functools.py", "inspect.py", "random.py", "shutil.py", "string.py", "textwrap.py",
                "typing.py", "subprocess.py", "threading.py", "tarfile.py", "enum.py", "ast.py"]


def demo_corpus(max_chars):
    """The running interpreter's own standard library sources: a fixed list of modules (in
    that order), then other top-level modules in sorted order, up to max_chars."""
    import sysconfig
    root = sysconfig.get_paths()["stdlib"]
    names = list(DEMO_MODULES)
    try:
        names += sorted(n for n in os.listdir(root) if n.endswith(".py") and n not in names)
    except OSError:
        pass
    parts, total = [], 0
    for name in names:
        path = os.path.join(root, name)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        parts.append(text)
        total += len(text)
        if total >= max_chars:
            break
    text = "".join(parts)[:max_chars]
    if len(text) < min(max_chars, 10_000):
        raise ValueError(f"found only {len(text)} characters of standard-library source under "
                         f"{root!r}; pass a text file to 'minrnn train' instead")
    return text


def read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a directory, expected a text file") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror})") from None
    if not text:
        raise ValueError(f"{path}: the file is empty")
    return text


def split_text(vocab, text, val_fraction):
    """Token ids of text, the last val_fraction of them held out for validation."""
    ids = vocab.encode(text)
    n_val = int(len(ids) * val_fraction)
    if val_fraction > 0 and n_val < 2:
        raise ValueError(f"the text has {len(ids)} tokens: too few to hold out "
                         f"{val_fraction:.0%} for validation (use --val-fraction 0)")
    return (ids[:len(ids) - n_val], ids[len(ids) - n_val:]) if n_val else (ids, None)


def train_model(args, text, log=print):
    """Build (or resume) a model and a trainer from the options, then fit. Returns the trainer."""
    minrnn.set_num_threads(args.threads)
    if args.resume:
        tr = minrnn.Trainer.load(args.resume)
        vocab = tr.model.vocab
        log(f"resuming {args.resume} at step {tr.step}" + resume_options(args, tr))
        if tr.step >= args.steps:
            log(f"the checkpoint is already at step {tr.step}: nothing to do (--steps {args.steps}; "
                "give a larger --steps to train on)")
            args.out = None
            return tr
    else:
        vocab = minrnn.Vocab.from_text(text, level=args.level)
        options = {}
        if args.cell == "rnn":
            options["nonlinearity"] = args.nonlinearity
        elif args.nonlinearity != "tanh":
            raise ValueError(f"--nonlinearity is for --cell rnn, not --cell {args.cell}")
        if args.dropout > 0 and args.layers == 1:
            log("note: --dropout acts between layers; with --layers 1 it has no effect")
        with warnings.catch_warnings():  # the note above says it in the log's words
            warnings.simplefilter("ignore", UserWarning)
            model = minrnn.LanguageModel(len(vocab), args.embed, args.hidden, cell=args.cell,
                                         num_layers=args.layers, dropout=args.dropout, seed=args.seed,
                                         vocab=vocab, **options)
        opt_cls = minrnn.train.OPTIMIZERS[args.optimizer]
        opt = opt_cls(model.parameters(), lr=args.lr)
        tr = minrnn.Trainer(model, opt, batch_size=args.batch, seq_len=args.seq_len,
                            clip_value=args.clip, clip_norm=args.clip_norm)
    train_ids, val_ids = split_text(vocab, text, args.val_fraction)
    if len(train_ids) < tr.batch_size + 1:
        raise ValueError(f"the training text has {len(train_ids)} tokens, too few for {tr.batch_size} "
                         f"parallel streams (use --batch {max(1, len(train_ids) - 1)} or less)")
    m = tr.model
    steps_len = min(tr.seq_len, (len(train_ids) - 1) // tr.batch_size)  # a stream may be shorter
    log(f"{m.cell} language model: {m.num_layers} layer(s), hidden {m.hidden_size}, embedding "
        f"{m.embed_size}, {len(vocab)} {vocab.level} tokens, {m.num_parameters():,} parameters")
    log(f"data: {len(train_ids):,} training tokens, "
        f"{0 if val_ids is None else len(val_ids):,} validation tokens; batch {tr.batch_size} x "
        f"{steps_len} tokens per step; {minrnn.get_num_threads()} thread(s)")
    if val_ids is not None:
        log(f"uniform baseline: loss {math.log(len(vocab)):.3f}, perplexity {len(vocab)}")
    t0 = time.perf_counter()
    first, tokens = tr.step, tr.tokens
    tr.fit(train_ids, val_ids, steps=args.steps, eval_every=args.eval_every,
           progress=not args.no_progress, checkpoint=args.out, log=log)
    dt = time.perf_counter() - t0
    done = tr.step - first
    if done:
        log(f"trained {done} steps in {dt:.1f} s: {(tr.tokens - tokens) / dt:,.0f} tokens/s")
    return tr


# Options a resumed run keeps from its checkpoint (an explicit, different value is an error),
# by dest: a function of the trainer giving the checkpoint's value.
KEPT_ON_RESUME = {
    "cell": lambda tr: tr.model.cell, "hidden": lambda tr: tr.model.hidden_size,
    "embed": lambda tr: tr.model.embed_size, "layers": lambda tr: tr.model.num_layers,
    "dropout": lambda tr: tr.model.dropout, "level": lambda tr: tr.model.vocab.level,
    "nonlinearity": lambda tr: tr.model.options.get("nonlinearity", "tanh"),
    "batch": lambda tr: tr.batch_size,
    "optimizer": lambda tr: type(tr.optimizer).__name__.lower(),
}


def resume_options(args, tr):
    """Checks the options given with --resume against the checkpoint; applies the ones a
    resumed run may change (--lr, --seq-len, --clip, --clip-norm). Returns a note for the log."""
    for dest, kept in KEPT_ON_RESUME.items():
        if dest in args.given and getattr(args, dest) != kept(tr):
            flag = "--" + dest.replace("_", "-")
            raise ValueError(f"{flag} {getattr(args, dest)} conflicts with {args.resume}, which has "
                             f"{dest} {kept(tr)}: a resumed run keeps the checkpoint's model, "
                             f"vocabulary, batch and optimizer")
    changed = []
    if "lr" in args.given:
        tr.optimizer.lr = args.lr
        changed.append(f"lr {args.lr:g}")
    if "seq_len" in args.given:
        tr.seq_len = args.seq_len
        changed.append(f"seq-len {args.seq_len}")
    if "clip" in args.given:
        tr.clip_value = args.clip
        changed.append(f"clip {args.clip:g}")
    if "clip_norm" in args.given:
        tr.clip_norm = args.clip_norm
        changed.append(f"clip-norm {args.clip_norm:g}")
    return f", now with {', '.join(changed)}" if changed else ""


def cmd_train(args):
    text = read_text(args.textfile)
    train_model(args, text)
    if args.out:
        print(f"saved {args.out}")
    return 0


def cmd_demo(args):
    text = demo_corpus(args.chars)
    print(f"demo: a character-level language model on {len(text):,} characters of this "
          f"Python's standard library source")
    tr = train_model(args, text)
    m = tr.model
    print(f"\nsample (temperature {args.temperature}, seed {args.seed}):")
    t0 = time.perf_counter()
    out = m.sample("def ", args.sample, temperature=args.temperature, seed=args.seed)
    dt = time.perf_counter() - t0
    print(out)
    print(f"\n({args.sample} tokens sampled in {dt:.2f} s: {args.sample / dt:,.0f} tokens/s)")
    if args.out:
        print(f"saved {args.out}: try 'python -m minrnn sample {args.out}'")
    return 0


def load_text_model(args, purpose):
    """The checkpoint's model, which must carry a vocabulary (for text in or out)."""
    minrnn.set_num_threads(args.threads)
    m = minrnn.LanguageModel.load(args.checkpoint)
    if m.vocab is None:
        raise ValueError(f"{args.checkpoint}: the model has no vocabulary to {purpose}")
    return m


def cmd_sample(args):
    m = load_text_model(args, "sample text with")
    print(m.sample(args.prime, args.n, temperature=args.temperature, top_k=args.top_k, seed=args.seed))
    return 0


def cmd_perplexity(args):
    m = load_text_model(args, "read text with")
    text = read_text(args.textfile)
    ids = m.vocab.encode(text)
    if len(ids) < 2:
        raise ValueError(f"{args.textfile}: needs at least 2 tokens, has {len(ids)}")
    nll = m.nll(ids)
    unknown = int(np.count_nonzero(ids == 0))
    print(f"perplexity {minrnn.model.perplexity_of(nll):.4f}  (mean NLL {nll:.4f} nats over {len(ids) - 1:,} tokens"
          + (f"; {unknown:,} tokens not in the vocabulary" if unknown else "") + ")")
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not a usage dump
        self.exit(2, f"{self.prog}: error: {message}\n")


def given_options(parser, argv):
    """The dests of the options written out in argv (not left at their defaults), whole
    or abbreviated to a unique prefix as argparse allows."""
    flags = {flag: action.dest for action in parser._actions for flag in action.option_strings}
    given = set()
    for a in argv:
        if not a.startswith("--"):
            continue
        name = a.split("=", 1)[0]
        hits = [name] if name in flags else [f for f in flags if f.startswith(name)]
        if len(hits) == 1:
            given.add(flags[hits[0]])
    return given


def _positive(kind):
    def parse(s):
        try:
            v = kind(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {s!r}") from None
        if not (v > 0 and math.isfinite(v)):
            raise argparse.ArgumentTypeError(f"must be > 0, got {s}")
        return v
    return parse


def _threads(s):
    n = _positive(int)(s)
    if n > 1024:
        raise argparse.ArgumentTypeError(f"must be at most 1024, got {n}")
    return n


def _fraction(s):
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {s!r}") from None
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {s}")
    return v


def _nonneg_int(s):
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int, got {s!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {s}")
    return v


def _seed(s):
    v = _nonneg_int(s)
    if v >= 1 << 64:  # the samplers' SplitMix64 takes 64 bits (as the C++ generate)
        raise argparse.ArgumentTypeError(f"expected an integer in [0, 2^64), got {s}")
    return v


def _model_options(p, cell, hidden, layers, steps, lr, batch, seq_len, eval_every):
    pi, pf = _positive(int), _positive(float)
    g = p.add_argument_group("model")
    g.add_argument("--cell", choices=sorted(minrnn.model.CELLS), default=cell, help=f"recurrent cell (default {cell})")
    g.add_argument("--hidden", type=pi, default=hidden, help=f"hidden size (default {hidden})")
    g.add_argument("--embed", type=pi, default=64, help="embedding size (default 64)")
    g.add_argument("--layers", type=pi, default=layers, help=f"recurrent layers (default {layers})")
    g.add_argument("--dropout", type=_fraction, default=0.0, help="dropout between layers (default 0)")
    g.add_argument("--nonlinearity", choices=["tanh", "relu"], default="tanh", help="for --cell rnn")
    g.add_argument("--level", choices=["char", "word"], default="char", help="tokens (default char)")
    g = p.add_argument_group("training")
    g.add_argument("--steps", type=_nonneg_int, default=steps, help=f"train until this step (default {steps})")
    g.add_argument("--batch", type=pi, default=batch, help=f"parallel streams (default {batch})")
    g.add_argument("--seq-len", type=pi, default=seq_len, help=f"BPTT length (default {seq_len})")
    g.add_argument("--optimizer", choices=sorted(minrnn.train.OPTIMIZERS), default="adam",
                   help="default adam")
    g.add_argument("--lr", type=pf, default=lr, help=f"learning rate (default {lr})")
    g.add_argument("--clip", type=pf, default=None, help="clip each gradient to [-CLIP, CLIP]")
    g.add_argument("--clip-norm", type=pf, default=5.0, help="clip the global gradient norm (default 5)")
    g.add_argument("--val-fraction", type=_fraction, default=0.05,
                   help="held out from the end of the text for validation (default 0.05)")
    g.add_argument("--eval-every", type=pi, default=eval_every, help="steps between reports")
    g.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    g.add_argument("--threads", type=_threads, default=minrnn.get_num_threads(), help="thread budget")
    g.add_argument("--resume", metavar="CKPT", default=None, help="continue from a checkpoint")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")


def build_parser():
    parser = _Parser(prog="minrnn", description="Train, sample and measure recurrent language "
                     "models; --help on each command.")
    parser.add_argument("--version", action="version", version=f"minrnn {minrnn.__version__}")
    # Handled in main before parsing; listed here for --help.
    parser.add_argument("--cmakedir", action="store_true",
                        help="print the directory of the CMake package (find_package(minrnn)) and exit")
    parser.add_argument("--include", action="store_true", help="print the C++ include directory and exit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    parser.commands = sub.choices
    p = sub.add_parser("demo", help="train a character-level model on the standard library's "
                       "source, about a minute; the README's main job",
                       description="Train a small character-level language model on the Python "
                       "standard library's own source files (read from this interpreter), "
                       "printing the loss, the validation perplexity and a sample.")
    _model_options(p, "gru", 256, 1, 1200, 3e-3, 32, 64, 100)
    p.add_argument("--chars", type=_positive(int), default=1_000_000, help="corpus size (default 1e6)")
    p.add_argument("--sample", type=_nonneg_int, default=400, help="characters to sample (default 400)")
    p.add_argument("--temperature", type=float, default=0.7, help="sampling temperature (default 0.7)")
    p.add_argument("--out", metavar="CKPT", default=None, help="save the model here")
    p.set_defaults(fn=cmd_demo)

    p = sub.add_parser("train", help="train a language model on a text file",
                       description="Train a language model on TEXTFILE (UTF-8) and save it.")
    p.add_argument("textfile")
    _model_options(p, "gru", 256, 1, 2000, 3e-3, 32, 64, 200)
    p.add_argument("--out", metavar="CKPT", default="model.ckpt",
                   help="checkpoint file (default model.ckpt), written at each report")
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("sample", help="generate text from a checkpoint")
    p.add_argument("checkpoint")
    p.add_argument("--prime", default=None, help="text to start from (default: the most frequent token)")
    p.add_argument("-n", type=_nonneg_int, default=500, help="tokens to generate (default 500)")
    p.add_argument("--temperature", type=float, default=1.0, help="0 = greedy (default 1)")
    p.add_argument("--top-k", type=_positive(int), default=None, help="sample from the k most likely")
    p.add_argument("--seed", type=_seed, default=None, help="random seed")
    p.add_argument("--threads", type=_threads, default=minrnn.get_num_threads(), help="thread budget")
    p.set_defaults(fn=cmd_sample)

    p = sub.add_parser("perplexity", help="per-token perplexity of a text under a checkpoint")
    p.add_argument("checkpoint")
    p.add_argument("textfile")
    p.add_argument("--threads", type=_threads, default=minrnn.get_num_threads(), help="thread budget")
    p.set_defaults(fn=cmd_perplexity)

    p = sub.add_parser("info", help="version, threads and BLAS")
    p.set_defaults(fn=cmd_info)
    p = sub.add_parser("bench", help="a quick speed check (the full suite is in bench/)")
    p.add_argument("--threads", type=_threads, default=minrnn.get_num_threads(), help="thread budget")
    p.add_argument("--repeat", type=_positive(int), default=5, help="timed repeats per row (median reported)")
    p.add_argument("--quick", action="store_true", help="small shapes, a few seconds")
    p.add_argument("--table", action="store_true",
                   help="every cell, forward, forward+backward and one step, on the fixed table of "
                        "shapes, on 1 thread and on --threads (minutes; with --quick, 1/8 size)")
    p.add_argument("--json", metavar="PATH", default=None, help="with --table: also write the rows here")
    p.set_defaults(fn=cmd_bench)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv in (["--cmakedir"], ["--include"]):  # for build scripts: print a path, nothing else
        try:
            print(minrnn.get_cmake_dir() if argv[0] == "--cmakedir" else minrnn.get_include())
        except FileNotFoundError as exc:
            print(f"minrnn: error: {exc}", file=sys.stderr)
            return 1
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    args.given = given_options(parser.commands[args.command], argv)
    try:
        return args.fn(args)
    except BrokenPipeError:  # the reader went away (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (ValueError, TypeError, OSError, minrnn.TrainingError) as exc:
        print(f"minrnn {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"minrnn {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
