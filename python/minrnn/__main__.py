"""Command line: ``python -m minrnn {info,bench}`` (also the ``minrnn`` console script)."""
import argparse
import platform
import sys
import time

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
    return 1e3 * float(np.median(times))


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


def cmd_bench(args):
    """A quick look at speed: MinGRU/MinLSTM layers against their own input-projection GEMM,
    the classic cells at batch 1, and the scan's two schedules. The full suite is bench/
    (see the README)."""
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
        t_gemm = median_ms(lambda: minrnn._core.linear_forward(x2, w, None), rep)
        # check against NumPy before timing
        y, _ = m(x)
        assert np.all(np.isfinite(y))
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
        assert np.all(np.isfinite(m(x)[0]))
        t_f = median_ms(lambda: m(x), rep)
        dy = np.ones((B, T, H), np.float32)
        t_fb = median_ms(lambda: train_step(m, x, dy), rep)
        print(f"{cls.__name__:36s} {t_f:10.2f} {t_fb:11.2f} {B * T / t_f * 1e3:10.0f}")
    T = 200_000 if args.quick else 4_000_000
    print(f"\nscan.linear (B, T, C)          sequential ms  parallel ms  auto ms  auto picks")
    for shape in [(1, T, 1), (1, T // 4, 64)]:
        a = rng.uniform(0.5, 1.0, shape).astype(np.float32)
        b = rng.standard_normal(shape, dtype=np.float32)
        s = minrnn.scan.linear(a, b, mode="sequential")
        p = minrnn.scan.linear(a, b, mode="parallel")
        err = float(np.max(np.abs(s - p)))
        assert err < 1e-3 * max(1.0, float(np.max(np.abs(s)))), err
        ts = median_ms(lambda: minrnn.scan.linear(a, b, mode="sequential"), rep)
        tp = median_ms(lambda: minrnn.scan.linear(a, b, mode="parallel"), rep)
        ta = median_ms(lambda: minrnn.scan.linear(a, b, mode="auto"), rep)
        pick = minrnn.scan.choose(*shape)
        print(f"{str(shape):30s} {ts:12.2f} {tp:12.2f} {ta:8.2f}  {pick}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="minrnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="version, threads and BLAS")
    p.set_defaults(fn=cmd_info)
    p = sub.add_parser("bench", help="a quick speed check (the full suite is in bench/)")
    p.add_argument("--threads", type=int, default=minrnn.get_num_threads(), help="thread budget")
    p.add_argument("--repeat", type=int, default=5, help="timed repeats per row (median reported)")
    p.add_argument("--quick", action="store_true", help="small shapes, a few seconds")
    p.set_defaults(fn=cmd_bench)
    args = parser.parse_args(argv)
    if getattr(args, "threads", 1) < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    if getattr(args, "repeat", 1) < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
