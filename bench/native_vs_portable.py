"""The portable build (what `pip install .` makes) against a -march=native build of the same
source, measured in the same run.

    python bench/native_vs_portable.py [--threads 1 2] [--rounds 5] [--build-dir DIR]

Builds the extension twice from this checkout with CMake, once as the wheel is built (kernels
for baseline, AVX2 and AVX-512, chosen at run time) and once with -DMINRNN_NATIVE=ON (every
file compiled with -march=native, no dispatch). Before any timing, one subprocess per build
checks every case against the NumPy float64 references of minrnn.reference (layers' outputs,
and gradients by central differences where the case runs backward; the scan against its
recurrence; the step and the language model's loss against the reference), and the two
builds' outputs against each other. Then it runs the same cases in alternating subprocesses,
one per build and round, and prints a Markdown table of medians and the ratio portable /
native (above 1: the portable build is slower), also for the fastest call of each, which
other load on the machine disturbs least. Needs cmake, ninja (optional) and pybind11
(`pip install cmake ninja pybind11`).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from options import count

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# ---- the cases, run inside a worker process --------------------------------------------

def cases(mr):
    """name -> (function to time, function returning the output to compare, function that
    raises AssertionError unless the case agrees with minrnn.reference)."""
    from minrnn import reference as ref
    rng = np.random.default_rng(0)
    f32 = np.float32

    def layer_case(cls, B, T, H, backward=False, **kw):
        layer = cls(H, H, seed=0, **kw)
        x = rng.standard_normal((B, T, H)).astype(f32)
        verify = lambda: ref.check_layer(layer, x, np.random.default_rng(1), grad_steps=32 if backward else 0)
        if not backward:
            return (lambda: layer(x)), (lambda: layer(x)[0]), verify
        dy = rng.standard_normal(layer(x)[0].shape).astype(f32)

        def run():
            layer.forward(x, train=True)
            return layer.backward(dy)[0]
        return run, run, verify

    def scan_case(shape, mode):
        a = rng.uniform(0.5, 1.0, shape).astype(f32)
        b = rng.standard_normal(shape).astype(f32)
        out = np.empty_like(b)
        run = lambda: mr.scan.linear(a, b, mode=mode, out=out)

        def verify():
            gap = ref.scan_residual(a, b, run())
            if not gap <= 1e-5:
                raise AssertionError(f"scan.linear {mode}: off its recurrence by {gap:.3g}")
        return run, run, verify

    def cell_case(H):
        cell = mr.GRUCell(H, H, seed=0)
        x = rng.standard_normal((1, H)).astype(f32)
        h = cell(x)
        run = lambda: cell(x, h)
        return run, run, lambda: ref.check_step(cell, x, h, run())

    def lm_case():
        model = mr.LanguageModel(98, embed_size=64, hidden_size=256, cell="gru", seed=0)
        ids = rng.integers(0, 98, (32, 65))

        def run():
            model.loss(ids[:, :-1], ids[:, 1:], train=True)
            model.backward()
            return model.grads["head.weight"]

        def verify():  # the loss: embedding, the reference GRU, the head, cross-entropy
            emb = model.embedding.state_dict()["weight"].astype(np.float64)[ids[:, :-1]]
            head = model.head.state_dict()
            logits = ref.stack(model.rnn, emb)[0] @ head["weight"].T.astype(np.float64) + head["bias"]
            logits -= logits.max(-1, keepdims=True)
            want = float(np.mean(np.log(np.exp(logits).sum(-1)) -
                                 np.take_along_axis(logits, ids[:, 1:, None], -1)[..., 0]))
            got = float(model.loss(ids[:, :-1], ids[:, 1:])[0])
            if not abs(got - want) <= 1e-4 * abs(want):
                raise AssertionError(f"language model loss {got} against the reference's {want}")
        return run, run, verify

    return {
        "GRU forward, B=1, T=1024, H=256": layer_case(mr.GRU, 1, 1024, 256),
        "LSTM forward, B=1, T=1024, H=256": layer_case(mr.LSTM, 1, 1024, 256),
        "RNN forward, B=1, T=1024, H=256": layer_case(mr.RNN, 1, 1024, 256),
        "GRU forward, B=16, T=256, H=256": layer_case(mr.GRU, 16, 256, 256),
        "GRU forward+backward, B=16, T=256, H=256": layer_case(mr.GRU, 16, 256, 256, backward=True),
        "LSTM forward+backward, B=16, T=256, H=256": layer_case(mr.LSTM, 16, 256, 256, backward=True),
        "MGU forward+backward, B=4, T=256, H=256": layer_case(mr.MGU, 4, 256, 256, backward=True),
        "GRU forward, B=64, T=64, H=512": layer_case(mr.GRU, 64, 64, 512),
        "MinGRU forward, B=16, T=1024, H=256": layer_case(mr.MinGRU, 16, 1024, 256),
        "MinGRU forward+backward, B=16, T=1024, H=256": layer_case(mr.MinGRU, 16, 1024, 256, backward=True),
        "MinLSTM forward+backward, B=16, T=512, H=256": layer_case(mr.MinLSTM, 16, 512, 256, backward=True),
        "scan.linear parallel, (1, 1000000, 1)": scan_case((1, 1_000_000, 1), "parallel"),
        "scan.linear sequential, (16, 1024, 256)": scan_case((16, 1024, 256), "sequential"),
        "GRUCell step, B=1, H=256": cell_case(256),
        "LM training step, GRU 256, 32 x 64 tokens": lm_case(),
    }


def worker(threads, repeat):
    """repeat 0: check every case against the reference and print the outputs' checksums."""
    import minrnn as mr
    mr.set_num_threads(threads)
    result = {}
    for name, (run, output, verify) in cases(mr).items():
        check = np.asarray(output(), dtype=np.float64)
        if repeat == 0:
            try:
                verify()
            except AssertionError as exc:
                sys.exit(f"{name}: {exc}")
            result[name] = {"times": [], "check": [float(check.sum()), float(np.abs(check).sum())]}
            continue
        inner = 200 if name.startswith("GRUCell step") else 1  # microseconds: time a loop
        for _ in range(2):
            run()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            for _ in range(inner):
                run()
            times.append((time.perf_counter() - t0) / inner)
        result[name] = {"times": times, "check": [float(check.sum()), float(np.abs(check).sum())]}
    json.dump({"simd": mr.simd_level(), "cases": result}, sys.stdout)


# ---- building and comparing -------------------------------------------------------------

def build(kind, build_dir):
    """Builds _core with CMake; returns a directory holding a minrnn package that uses it."""
    cmake = shutil.which("cmake") or sys.exit("cmake is not installed (pip install cmake ninja)")
    try:
        import pybind11
    except ImportError:
        sys.exit("pybind11 is not installed (pip install pybind11)")
    out = os.path.join(build_dir, kind)
    gen = ["-G", "Ninja"] if shutil.which("ninja") and not os.path.exists(os.path.join(out, "Makefile")) else []
    flags = ["-DCMAKE_BUILD_TYPE=Release", "-DMINRNN_BUILD_PYTHON=ON", "-DBUILD_TESTING=OFF",
             f"-DMINRNN_NATIVE={'ON' if kind == 'native' else 'OFF'}",
             f"-DPython_EXECUTABLE={sys.executable}", f"-Dpybind11_DIR={pybind11.get_cmake_dir()}"]
    print(f"building the {kind} extension in {out} ...", file=sys.stderr, flush=True)
    subprocess.run([cmake, "-S", ROOT, "-B", out, *gen, *flags], check=True, capture_output=True)
    subprocess.run([cmake, "--build", out, "--target", "_core"], check=True, capture_output=True)
    pkg = os.path.join(out, "pkg")
    shutil.rmtree(pkg, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "python", "minrnn"), os.path.join(pkg, "minrnn"),
                    ignore=shutil.ignore_patterns("_core*", "__pycache__"))
    core = [f for f in os.listdir(out) if f.startswith("_core") and f.endswith((".so", ".pyd"))]
    shutil.copy(os.path.join(out, core[0]), os.path.join(pkg, "minrnn"))
    return pkg


def run_worker(pkg, threads, repeat):
    env = dict(os.environ, PYTHONPATH=pkg)
    env.pop("MINRNN_SIMD", None)
    r = subprocess.run([sys.executable, __file__, "--worker", str(threads), str(repeat)], env=env,
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"native_vs_portable: a worker failed:\n{r.stderr.strip()}")
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", nargs="+", type=count(1, 1024), default=[1, 2])
    ap.add_argument("--rounds", type=count(1), default=5, help="alternating subprocesses per build")
    ap.add_argument("--repeat", type=count(1), default=5, help="timed calls per case in each subprocess")
    ap.add_argument("--build-dir", default=os.path.join(tempfile.gettempdir(), "minrnn_native_vs_portable"))
    ap.add_argument("--worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(*args.worker)

    pkgs = {kind: build(kind, args.build_dir) for kind in ("portable", "native")}
    sys.path.insert(0, pkgs["portable"])
    from minrnn.__main__ import cpu_model
    print(f"{cpu_model()}, {time.strftime('%Y-%m-%d')}, {args.rounds} rounds x {args.repeat} calls, "
          "median of all calls")
    print("\n| case | threads | portable ms | native ms | portable / native | same, of the fastest calls |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for nt in args.threads:
        # first, nothing timed: each build against the reference, and the two against each other
        checks = {kind: run_worker(pkg, nt, 0)["cases"] for kind, pkg in pkgs.items()}
        for name in checks["portable"]:
            p, n = (checks[k][name]["check"] for k in ("portable", "native"))
            if not np.allclose(p, n, rtol=1e-3, atol=1e-3):
                sys.exit(f"{name}: the two builds disagree (checksums {p} and {n})")
        times = {kind: {} for kind in pkgs}
        for _ in range(args.rounds):
            for kind, pkg in pkgs.items():
                r = run_worker(pkg, nt, args.repeat)
                for name, c in r["cases"].items():
                    times[kind].setdefault(name, []).extend(c["times"])
        for name in times["portable"]:
            tp, tn = (1e3 * float(np.median(times[k][name])) for k in ("portable", "native"))
            mp, mn = (min(times[k][name]) for k in ("portable", "native"))
            worst = max(worst, tp / tn)
            print(f"| {name} | {nt} | {tp:.3g} | {tn:.3g} | {tp / tn:.3f} | {mp / mn:.3f} |", flush=True)
    print(f"\nlargest ratio: {worst:.3f} (portable is at most {100 * (worst - 1):+.1f}% against native)")


if __name__ == "__main__":
    main()
