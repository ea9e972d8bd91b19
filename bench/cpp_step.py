"""One streaming step at batch 1 from C++ and from Python, measured in the same run.

    python bench/cpp_step.py [--cells gru lstm rnn mingru] [--hidden 256 1024] [--threads 1 2]

Builds bench/cpp against the installed CMake package (find_package(minrnn)), runs its
`bench_step` (Recurrent::step and the raw kernel), then times the Python calls that do the
same step: `layer.step(x, state)` and the `*Cell` classes. Prints a Markdown table.
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
from minrnn.__main__ import cpu_model

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = {"gru": (mr.GRU, mr.GRUCell), "lstm": (mr.LSTM, mr.LSTMCell), "rnn": (mr.RNN, mr.RNNCell),
           "mingru": (mr.MinGRU, mr.MinGRUCell)}


def build(cmake_dir):
    cmake = shutil.which("cmake")
    if cmake is None:
        sys.exit("cmake is not installed (pip install cmake ninja)")
    out = tempfile.mkdtemp(prefix="minrnn_bench_cpp_")
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run([cmake, "-S", os.path.join(HERE, "cpp"), "-B", out, *gen, f"-Dminrnn_DIR={cmake_dir}",
                    f"-DPython_EXECUTABLE={sys.executable}"], check=True, capture_output=True)
    subprocess.run([cmake, "--build", out], check=True, capture_output=True)
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
    ap.add_argument("--hidden", nargs="+", type=int, default=[256, 1024])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--repeat", type=int, default=10000)
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
                state = layer.initial_state()
                py_step = median_us(lambda: layer.step(x, state), args.repeat)
                hc = one(x)
                py_cell = median_us(lambda: one(x, hc), args.repeat)
                raw = f"{r['raw_us']:.1f}" if r["raw_us"] else "—"
                over = f"{100 * (r['api_us'] / r['raw_us'] - 1):+.1f}%" if r["raw_us"] else "—"
                print(f"| {cell} | {H} | {nt} | {r['api_us']:.1f} | {raw} | {over} | {py_step:.1f} | "
                      f"{py_cell:.1f} | {r['api_us'] / py_step:.2f} |")


if __name__ == "__main__":
    main()
