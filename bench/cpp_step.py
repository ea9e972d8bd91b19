"""One streaming step at batch 1 from C++ and from Python, measured in the same run.

    python bench/cpp_step.py [--cells gru lstm rnn mingru] [--hidden 256 1024] [--threads 1 2]

Builds bench/cpp against the installed CMake package (find_package(minrnn); the
environment variable MINRNN_CMAKE_DIR overrides where it is) with cmake and a C++ compiler,
in a build directory kept under the system's temporary directory between runs. Runs its
`bench_step` (Recurrent::step and the raw kernel), then times the Python calls that do the
same step, `layer.step(x, state)` and the `*Cell` classes, each checked against one step
of minrnn.reference first (the C++ step is checked against Python's by the tests,
tests/test_cpp_api.py). Prints a Markdown table.
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

import minrnn as mr
from minrnn import reference as ref
from minrnn.__main__ import cpu_model
from options import count

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = {"gru": (mr.GRU, mr.GRUCell), "lstm": (mr.LSTM, mr.LSTMCell), "rnn": (mr.RNN, mr.RNNCell),
           "mingru": (mr.MinGRU, mr.MinGRUCell)}


def build(cmake_dir):
    cmake = shutil.which("cmake")
    if cmake is None:
        sys.exit("cpp_step.py: cmake is not installed (pip install cmake ninja)")
    # One build directory per user, reused (and rebuilt as needed) by later runs.
    out = os.path.join(tempfile.gettempdir(), f"minrnn_bench_cpp_{os.getuid() if hasattr(os, 'getuid') else 0}")
    gen = ["-G", "Ninja"] if shutil.which("ninja") and not os.path.exists(os.path.join(out, "Makefile")) else []
    for cmd in ([cmake, "-S", os.path.join(HERE, "cpp"), "-B", out, *gen, f"-Dminrnn_DIR={cmake_dir}",
                 f"-DPython_EXECUTABLE={sys.executable}"], [cmake, "--build", out]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"cpp_step.py: building bench/cpp failed ({' '.join(cmd[:2])} ...):\n{r.stdout}{r.stderr}")
    return os.path.join(out, "bench_step")


def median_us(fn, repeat):
    for _ in range(repeat // 10 + 10):
        fn()
    times = []
    for _ in range(repeat // 50):
        t0 = time.perf_counter()
        for _ in range(50):
            fn()
        times.append((time.perf_counter() - t0) / 50)
    return 1e6 * float(np.median(times))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", nargs="+", default=["gru", "lstm", "rnn", "mingru"], choices=sorted(CLASSES))
    ap.add_argument("--hidden", nargs="+", type=count(1, 1 << 14), default=[256, 1024])
    ap.add_argument("--threads", nargs="+", type=count(1, 1024), default=[1, 2])
    ap.add_argument("--repeat", type=count(50), default=10000, help="calls per row, timed 50 at a time (>= 50)")
    args = ap.parse_args()
    exe = build(os.environ.get("MINRNN_CMAKE_DIR") or mr.get_cmake_dir())
    print(f"{cpu_model()}, {mr.simd_level()}, minrnn {mr.__version__}, {time.strftime('%Y-%m-%d')}")
    print("\n| cell | H | threads | C++ Recurrent::step µs | raw kernel µs | API overhead | "
          "Python layer.step µs | Python *Cell µs | C++ / Python step |")
    print("|---|---|---|---|---|---|---|---|---|")
    for cell in args.cells:
        layer_cls, cell_cls = CLASSES[cell]
        for H in args.hidden:
            for nt in args.threads:
                r = json.loads(subprocess.run([exe, cell, str(H), str(nt), str(args.repeat)], check=True,
                                              capture_output=True, text=True).stdout)
                mr.set_num_threads(nt)
                layer, one = layer_cls(H, H, seed=0), cell_cls(H, H, seed=0)
                x = np.random.default_rng(0).standard_normal(H).astype(np.float32)
                state = layer.step(x, layer.initial_state())[1]  # a state that is not zero
                ref.check_step(layer, x[None], state, layer.step(x, state)[0])
                py_step = median_us(lambda: layer.step(x, state), args.repeat)
                hc = one(x)
                ref.check_step(one, x[None], hc, one(x, hc)[0] if isinstance(hc, tuple) else one(x, hc))
                py_cell = median_us(lambda: one(x, hc), args.repeat)
                raw = f"{r['raw_us']:.1f}" if r["raw_us"] else "—"
                over = f"{100 * (r['api_us'] / r['raw_us'] - 1):+.1f}%" if r["raw_us"] else "—"
                print(f"| {cell} | {H} | {nt} | {r['api_us']:.1f} | {raw} | {over} | {py_step:.1f} | "
                      f"{py_cell:.1f} | {r['api_us'] / py_step:.2f} |")


if __name__ == "__main__":
    main()
