"""minrnn against its own limits and against other implementations, in one run.

    python bench/compare.py                 # everything, 1 and 2 threads
    python bench/compare.py --quick         # small shapes, a smoke run
    python bench/compare.py --only layer    # sections: machine layer scan classic peers jax scaling memory

Every timed row checks its result first: minrnn's outputs against the NumPy float64
references of minrnn.reference (layers at the row's full size, and their gradients against
central differences of the reference over the first 32 steps), torch's gradients too where
torch is installed, and each peer's output against minrnn's. Rows report the median and
min of several runs and ratios measured in this same run. Peers (torch, minGRU-pytorch,
ONNX Runtime with onnx, JAX on the CPU, the notebooks' plain NumPy loop) are used when
importable and skipped with a note otherwise. Results go to stdout as Markdown and to
bench/results/compare.{md,json} (--out DIR); an interrupted run writes what it has.
"""
import argparse
import datetime
import json
import pathlib
import platform
import sys
import time

import numpy as np

import minrnn
from minrnn import _core
from minrnn import reference as ref
from options import count, writable_dir

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


SPREADS = []  # median / fastest run of every timed row


def timeit(fn, repeat, warmup=1):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    SPREADS.append(float(np.median(ts) / np.min(ts)))
    return float(np.median(ts)), float(np.min(ts))


class Report:
    """Markdown tables (printed as they grow) and JSON rows. Notes wait for the end of
    their section's table, so that they never split it."""
    def __init__(self):
        self.rows = []
        self.lines = []
        self.notes = []

    def section(self, title, header):
        self.end_section()
        self.lines += ["", f"### {title}", "", "| " + " | ".join(header) + " |",
                       "|" + "---|" * len(header)]
        print("\n".join(self.lines[-4:]), flush=True)

    def row(self, cells, **data):
        self.lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        print(self.lines[-1], flush=True)
        self.rows.append(data)

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    def end_section(self):
        for text in self.notes:
            self.lines += ["", text]
            print(f"\n{text}", flush=True)
        self.notes = []


def verified(layer, x, rng, grad_steps=32, name=None):
    """ref.check_layer (it raises if the layer is off), then a pause: the reference's NumPy
    products wake NumPy's own BLAS threads, which must be asleep again before timing."""
    ref.check_layer(layer, x, rng, grad_steps=grad_steps, name=name)
    time.sleep(0.3)


def check_close(what, got, want, rtol, atol):
    """An explicit check (an assert would vanish under python -O)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol):
        err = np.max(np.abs(got - want)) if got.shape == want.shape else f"shape {got.shape} != {want.shape}"
        raise AssertionError(f"{what}: check failed before timing (largest difference {err})")


def try_torch(threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def machine(rep, args):
    """The machine's own limits, measured here: a large SGEMM and a fused stream."""
    rep.section("Machine peaks (measured by this suite, fastest of the runs)",
                ["threads", "SGEMM GFLOP/s", "stream GB/s"])
    peaks = {}
    n = 1024 if args.quick else 2048
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    m = (1 << 22) if args.quick else (1 << 25)
    x = np.ones(m, np.float32)
    y = np.ones(m, np.float32)
    out = np.empty(m, np.float32)
    want = a.astype(np.float64) @ a.T.astype(np.float64)
    for t in args.threads:
        minrnn.set_num_threads(t)
        check_close("SGEMM", _core.linear_forward(a, a, None), want, 1e-4, 1e-2)
        _core.stream_mul_add(x, y, out)
        check_close("stream", out, np.full(m, 2.0), 0, 0)
        # The peaks are the fastest runs: a ceiling, which a median can overshoot.
        tg = timeit(lambda: _core.linear_forward(a, a, None), args.repeat)[1]
        ts = timeit(lambda: _core.stream_mul_add(x, y, out), args.repeat)[1]
        gflops = 2 * n ** 3 / tg / 1e9
        gbs = 12 * m / ts / 1e9
        peaks[t] = (gflops, gbs)
        rep.row([t, f"{gflops:.1f}", f"{gbs:.1f}"], section="machine", threads=t, sgemm_gflops=gflops,
                stream_gbs=gbs)
    return peaks


def layers(rep, args, peaks):
    """MinGRU / MinLSTM against their own GEMMs and against minGRU-pytorch."""
    B, T, D, H = (4, 256, 128, 128) if args.quick else (16, 1024, 256, 256)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, T, D), dtype=np.float32)
    rep.section(f"MinGRU / MinLSTM layers, B={B} T={T} D=H={H}, float32",
                ["cell", "threads", "what", "median ms", "min ms", "ratio", "target"])
    for cls, G in [(minrnn.MinGRU, 2), (minrnn.MinLSTM, 3)]:
        name = cls.__name__
        for t in args.threads:
            minrnn.set_num_threads(t)
            m = cls(D, H, seed=0)
            sd = m.state_dict()
            w, b = sd["weight_ih_l0"], sd["bias_ih_l0"]
            x2 = x.reshape(B * T, D)
            proj = _core.linear_forward(x2, w, None)
            dproj = rng.standard_normal(proj.shape, dtype=np.float32)
            verified(m, x, rng, name=name)
            check_close("projection GEMM", proj, x2.astype(np.float64) @ w.T.astype(np.float64), 1e-4, 1e-4)
            g1, g1m = timeit(lambda: _core.linear_forward(x2, w, None), args.repeat)
            g2, g2m = timeit(lambda: _core.linear_backward(x2, w, dproj), args.repeat)
            scan_fn = _core.mingru_scan if G == 2 else _core.minlstm_scan
            p3 = proj.reshape(B, T, G * H)
            tp, tpm = timeit(lambda: scan_fn(p3, b, None, 0, 2), args.repeat)
            tf, tfm = timeit(lambda: m(x), args.repeat)
            dy = np.ones((B, T, H), np.float32)

            def fb():
                m.forward(x, train=True)
                m.backward(dy)
            tb, tbm = timeit(fb, args.repeat)
            gbs = B * T * H * (G + 1) * 4 / tp / 1e9
            stream = peaks.get(t, (None, None))[1]
            rows = [
                ("projection GEMM", g1, g1m, "1.00", ""),
                ("fwd (GEMM + fused pass)", tf, tfm, f"{tf / g1:.2f} x GEMM", "<= 1.25" if name == "MinGRU" and t == 1 else ""),
                ("fused gate+scan pass", tp, tpm,
                 f"{gbs:.1f} GB/s = {gbs / stream:.0%} of stream" if stream else f"{gbs:.1f} GB/s",
                 ">= 70%" if name == "MinGRU" else ""),
                ("the 3 GEMMs of fwd+bwd", g1 + g2, g1m + g2m, "1.00", ""),
                ("fwd+bwd", tb, tbm, f"{tb / (g1 + g2):.2f} x 3 GEMMs", "<= 1.4" if name == "MinGRU" and t == 1 else ""),
            ]
            for what, med, mn, ratio, target in rows:
                rep.row([name, t, what, f"{med * 1e3:.2f}", f"{mn * 1e3:.2f}", ratio, target],
                        section="layer", cell=name, threads=t, what=what, median_s=med, min_s=mn, B=B, T=T, D=D, H=H,
                        ratio=ratio, target=target)
            if name != "MinGRU":
                continue
            torch = try_torch(t)
            try:
                from minGRU_pytorch.minGRU import minGRU
            except ImportError:
                minGRU = None
            if torch is None or minGRU is None:
                rep.note("minGRU-pytorch: not installed, skipped (pip install torch==2.13.0 mingru-pytorch)")
                continue
            if H != D:
                continue
            peer = minGRU(D, expansion_factor=1.0)
            with torch.no_grad():
                wt = torch.from_numpy(np.concatenate([w[H:], w[:H]]))
                peer.to_hidden_and_gate.weight.copy_(wt)
                xt = torch.from_numpy(x)
                yt = peer(xt).numpy()
                ours = minrnn.MinGRU(D, H, bias=False, seed=0)
                ours.load_state_dict({"weight_ih_l0": w})
                check_close("minGRU-pytorch", yt, ours(x)[0], 1e-3, 1e-3)
                tt, ttm = timeit(lambda: peer(xt), args.repeat)
                to, tom = timeit(lambda: ours(x), args.repeat)
            ratio = f"minrnn {tt / to:.1f}x faster" if tt >= to else f"minrnn {to / tt:.1f}x slower"
            rep.row([name, t, "minGRU-pytorch forward", f"{tt * 1e3:.2f}", f"{ttm * 1e3:.2f}", ratio, ""],
                    section="layer", cell=name, threads=t, what="minGRU-pytorch forward", median_s=tt,
                    min_s=ttm, ours_s=to, ours_min_s=tom, ratio=ratio)


def scans(rep, args, peaks):
    """The scan where it is latency-bound and where it is bandwidth-bound."""
    rep.section("scan.linear, float32 (bytes moved: a, b read and h written, 12 B per element)",
                ["shape (B, T, C)", "threads", "sequential ms", "parallel ms", "auto ms", "parallel / sequential",
                 "parallel GB/s (of stream)", "auto vs best"])
    rng = np.random.default_rng(2)
    shapes = [(1, 200_000, 1), (1, 50_000, 64)] if args.quick else [(1, 4_000_000, 1), (1, 1_000_000, 64)]
    shapes += [(16, 1024 if not args.quick else 128, 256)]
    for shape in shapes:
        a = rng.uniform(0.5, 1.0, shape).astype(np.float32)
        b = rng.standard_normal(shape, dtype=np.float32)
        for t in args.threads:
            minrnn.set_num_threads(t)
            for mode in ("sequential", "parallel", "auto"):  # each output against its recurrence
                gap = ref.scan_residual(a, b, minrnn.scan.linear(a, b, mode=mode))
                if not gap <= 1e-5:
                    raise AssertionError(f"scan.linear {mode} {shape}: h_t - (a_t h_t-1 + b_t) is off by {gap:.3g}")
            out = np.empty_like(a)  # like the stream, write into an existing array
            ts, tsm = timeit(lambda: minrnn.scan.linear(a, b, mode="sequential", out=out), args.repeat)
            tp, tpm = timeit(lambda: minrnn.scan.linear(a, b, mode="parallel", out=out), args.repeat)
            ta, tam = timeit(lambda: minrnn.scan.linear(a, b, mode="auto", out=out), args.repeat)
            gbs = 12 * a.size / tp / 1e9
            stream = peaks.get(t, (None, None))[1]
            best = min(ts, tp)
            rep.row([shape, t, f"{ts * 1e3:.2f}", f"{tp * 1e3:.2f}", f"{ta * 1e3:.2f}",
                     f"{ts / tp:.2f}x faster" if tp < ts else f"{tp / ts:.2f}x slower",
                     f"{gbs:.1f} ({gbs / stream:.0%})" if stream else f"{gbs:.1f}",
                     f"{ta / best - 1:+.0%} ({minrnn.scan.choose(*shape)})"],
                    section="scan", shape=shape, threads=t, sequential_s=ts, parallel_s=tp, auto_s=ta,
                    sequential_min_s=tsm, parallel_min_s=tpm, auto_min_s=tam, parallel_gbs=gbs,
                    auto_picks=minrnn.scan.choose(*shape))


def check_against_torch(torch, peer, ours, x, rng, name):
    """ours (with peer's weights) against torch: the output, and the gradients of x and of
    every parameter for a random dL/dy."""
    dy = rng.standard_normal(x.shape[:2] + (ours.hidden_size,), dtype=np.float32)
    xg = torch.from_numpy(x).requires_grad_(True)
    y_t, _ = peer(xg)
    y_t.backward(torch.from_numpy(dy))
    y, _ = ours.forward(x, train=True)
    dx, _ = ours.backward(dy)
    pairs = [("output", y, y_t.detach().numpy()), ("dx", dx, xg.grad.numpy())]
    pairs += [(k, ours.grads[k], v.grad.numpy()) for k, v in peer.named_parameters()]
    for what, got, want in pairs:
        scale = max(1.0, float(np.max(np.abs(want))))
        check_close(f"{name} {what} against torch", got, want, 1e-3, 1e-3 * scale)
    time.sleep(0.3)


def classic(rep, args, peaks):
    """RNN, GRU, LSTM, MGU against torch.nn.* (inference mode, and autograd for training)."""
    torch_ok = {t: try_torch(t) is not None for t in args.threads}
    torch_name = f"torch {try_torch(args.threads[0]).__version__}" if any(torch_ok.values()) else "torch (not installed)"
    rep.section(f"Classic cells against {torch_name} (same run, same threads; D = H; GFLOP/s counts the "
                "matrix products, forward 2·B·T·G·H·(D+H), forward+backward 3x that)",
                ["cell", "B, T, H", "threads", "what", "minrnn ms", "torch ms", "minrnn vs torch",
                 "minrnn GFLOP/s (% of SGEMM peak)"])
    gates = {"GRU": 3, "LSTM": 4, "RNN": 1, "MGU": 2}
    shapes = [(1, 128, 64), (8, 64, 128)] if args.quick else [(1, 1024, 256), (4, 256, 256), (64, 256, 512)]
    rng = np.random.default_rng(3)
    for name in ["GRU", "LSTM", "RNN", "MGU"]:
        for B, T, H in shapes:
            x = rng.standard_normal((B, T, H), dtype=np.float32)
            dy = np.ones((B, T, H), np.float32)
            for t in args.threads:
                minrnn.set_num_threads(t)
                torch = try_torch(t)  # sets torch's threads to t as well
                ours = getattr(minrnn, name)(H, H, seed=0)
                peer = None
                if torch is not None and name != "MGU":
                    peer = getattr(torch.nn, name)(H, H, batch_first=True)
                    ours.load_state_dict(peer.state_dict())
                verified(ours, x, rng, name=name)
                if peer is not None:
                    check_against_torch(torch, peer, ours, x, rng, name)

                def fb():
                    ours.forward(x, train=True)
                    ours.backward(dy)
                rows = [("forward", lambda: ours(x), None), ("forward+backward", fb, None)]
                if peer is not None:
                    xt = torch.from_numpy(x)
                    xg = xt.clone().requires_grad_(True)

                    def pf():
                        with torch.inference_mode():
                            peer(xt)

                    def pfb():
                        y, _ = peer(xg)
                        y.backward(torch.ones_like(y))
                    rows = [("forward", lambda: ours(x), pf), ("forward+backward", fb, pfb)]
                reps = args.repeat if B * T * H <= (1 << 20) else args.repeat_slow  # small rows are noisier
                for what, fo, fp in rows:
                    to, tom = timeit(fo, reps)
                    tp, tpm = timeit(fp, reps) if fp else (None, None)
                    flops = 2 * B * T * gates[name] * H * (H + H) * (3 if what != "forward" else 1)
                    gf = flops / to / 1e9
                    pct = gf / peaks[t][0] if t in peaks else None
                    rep.row([name, f"{B}, {T}, {H}", t, what, f"{to * 1e3:.1f}",
                             f"{tp * 1e3:.1f}" if tp else "-",
                             f"{tp / to:.2f}x faster" if tp and tp >= to else (f"{to / tp:.2f}x slower" if tp else "-"),
                             f"{gf:.1f} ({pct:.0%})" if pct else f"{gf:.1f}"],
                            section="classic", cell=name, B=B, T=T, H=H, threads=t, what=what,
                            ours_s=to, ours_min_s=tom, torch_s=tp, torch_min_s=tpm, gflops=gf,
                            fraction_of_sgemm_peak=pct, torch_over_ours=tp / to if tp else None)
    # one step from Python, B = 1
    H = 256
    x1 = rng.standard_normal((1, H), dtype=np.float32)
    for t in args.threads:
        minrnn.set_num_threads(t)
        torch = try_torch(t)
        cell = minrnn.GRUCell(H, H, seed=0)
        h = rng.uniform(-0.5, 0.5, (1, H)).astype(np.float32)
        n = 5000
        tp = None
        if torch is not None:
            pc = torch.nn.GRUCell(H, H)
            cell.load_state_dict(pc.state_dict())
            xt, ht = torch.from_numpy(x1), torch.from_numpy(h)
            with torch.inference_mode():
                check_close("GRUCell against torch", cell(x1, h), pc(xt, ht).numpy(), 1e-4, 1e-5)
        ref.check_step(cell, x1, h, cell(x1, h), name="GRUCell")
        to = timeit(lambda: [cell(x1, h) for _ in range(n)], 5)[0] / n
        if torch is not None:
            with torch.inference_mode():
                tp = timeit(lambda: [pc(xt, ht) for _ in range(n)], 5)[0] / n
        rep.row(["GRUCell", f"1, 1, {H}", t, "one step from Python", f"{to * 1e6:.1f} us",
                 f"{tp * 1e6:.1f} us" if tp else "-", f"{tp / to:.2f}x faster" if tp else "-", "-"],
                section="classic", cell="GRUCell", threads=t, what="step", ours_s=to, torch_s=tp,
                torch_over_ours=tp / to if tp else None)
    if not any(torch_ok.values()):
        rep.note("torch: not installed, peers skipped (pip install torch==2.13.0)")

def onnx_rnn(kind, params, D, H, threads):
    """An ONNX Runtime session running one ONNX GRU (linear_before_reset = 1, PyTorch's
    convention) or LSTM node with these weights, built with onnx.helper (no exporter)."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    order = [1, 0, 2] if kind == "GRU" else [0, 3, 1, 2]  # ONNX gates: z r h / i o f c

    def gates(w):
        blocks = np.split(w, len(order))
        return np.concatenate([blocks[i] for i in order]).astype(np.float32)
    inits = [numpy_helper.from_array(gates(params["weight_ih_l0"])[None], "W"),
             numpy_helper.from_array(gates(params["weight_hh_l0"])[None], "R"),
             numpy_helper.from_array(np.concatenate([gates(params["bias_ih_l0"]),
                                                     gates(params["bias_hh_l0"])])[None], "B")]
    attrs = {"hidden_size": H, **({"linear_before_reset": 1} if kind == "GRU" else {})}
    node = helper.make_node(kind, ["X", "W", "R", "B"], ["Y"], **attrs)
    graph = helper.make_graph([node], "rnn", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["T", "N", D])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    # X is time-major (T, N, D); Y is (T, directions, N, H)
    return lambda x_tbd: sess.run(["Y"], {"X": x_tbd})[0]


def numpy_gru(params, x):
    """The notebooks' GRU: a Python loop over time with NumPy products (batch 1)."""
    wi, wh, bi, bh = (params[k] for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"))
    H = wh.shape[1]
    h = np.zeros(H, np.float32)
    out = np.empty((len(x), H), np.float32)
    for t, xt in enumerate(x):
        gi, gh = wi @ xt + bi, wh @ h + bh
        r = 1 / (1 + np.exp(-(gi[:H] + gh[:H])))
        z = 1 / (1 + np.exp(-(gi[H:2 * H] + gh[H:2 * H])))
        n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
        h = (1 - z) * n + z * h
        out[t] = h
    return out


def peers(rep, args, peaks):
    """GRU and LSTM forward against ONNX Runtime's operators, and GRU against a NumPy loop."""
    rep.section("Classic cells against ONNX Runtime and a NumPy loop (forward, inference; D = H)",
                ["cell", "B, T, H", "threads", "peer", "minrnn ms", "peer ms", "minrnn vs peer"])
    try:
        import onnx  # noqa: F401
        import onnxruntime as ort
        ort_version = ort.__version__
    except ImportError:
        ort = None
        rep.note("onnxruntime / onnx: not installed, skipped (pip install onnxruntime onnx)")
    shapes = [(1, 128, 64), (8, 64, 128)] if args.quick else [(1, 1024, 256), (64, 256, 512)]
    rng = np.random.default_rng(5)
    for name in ["GRU", "LSTM"]:
        for B, T, H in shapes:
            x = rng.standard_normal((B, T, H), dtype=np.float32)
            xt = np.ascontiguousarray(x.transpose(1, 0, 2))
            for t in args.threads:
                minrnn.set_num_threads(t)
                ours = getattr(minrnn, name)(H, H, seed=1)
                verified(ours, x, rng, grad_steps=0, name=name)  # then each peer against it
                want = ours(x)[0]
                cands = []
                if ort is not None:
                    run = onnx_rnn(name, ours.state_dict(), H, H, t)
                    got = run(xt)[:, 0].transpose(1, 0, 2)
                    check_close(f"ONNX Runtime {name}", got, want, 1e-3, 1e-4)
                    cands.append((f"ONNX Runtime {ort_version}", lambda: run(xt)))
                if name == "GRU" and B == 1 and t == 1:
                    p = ours.state_dict()
                    check_close("NumPy GRU loop", numpy_gru(p, x[0]), want[0], 1e-3, 1e-4)
                    cands.append(("NumPy loop (notebook)", lambda: numpy_gru(p, x[0])))
                reps = args.repeat if B * T * H <= (1 << 20) else args.repeat_slow
                for peer, fp in cands:
                    tp, tpm = timeit(fp, reps)
                    time.sleep(0.3)  # let any BLAS threads the peer woke go back to sleep
                    to, tom = timeit(lambda: ours(x), reps)
                    rep.row([name, f"{B}, {T}, {H}", t, peer, f"{to * 1e3:.1f}", f"{tp * 1e3:.1f}",
                             f"{tp / to:.2f}x faster" if tp >= to else f"{to / tp:.2f}x slower"],
                            section="peers", cell=name, B=B, T=T, H=H, threads=t, peer=peer, ours_s=to,
                            ours_min_s=tom, peer_s=tp, peer_min_s=tpm, peer_over_ours=tp / to)


JAX_PROBE = r"""
# Runs in its own process: JAX's thread pool is fixed when it is imported.
import json, os, sys, time
threads = int(sys.argv[2])
if threads == 1:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
import numpy as np
import jax
import jax.numpy as jnp
jax.config.update("jax_platforms", "cpu")
data = dict(np.load(sys.argv[1]))
repeat = int(sys.argv[3])

def combine(l, r):  # (a1, b1) then (a2, b2): h -> a2 (a1 h + b1) + b2
    return l[0] * r[0], r[0] * l[1] + r[1]

@jax.jit
def linear_assoc(a, b):
    return jax.lax.associative_scan(combine, (a, b), axis=1)[1]

@jax.jit
def linear_loop(a, b):
    def step(h, ab):
        h = ab[0] * h + ab[1]
        return h, h
    _, hs = jax.lax.scan(step, jnp.zeros_like(a[:, 0]), (jnp.swapaxes(a, 0, 1), jnp.swapaxes(b, 0, 1)))
    return jnp.swapaxes(hs, 0, 1)

def mingru_gates(x, w, bias):
    H = w.shape[0] // 2
    p = x @ w.T + bias
    z = jax.nn.sigmoid(p[..., :H])
    k = p[..., H:]
    cand = jnp.where(k >= 0, k + 0.5, jax.nn.sigmoid(k))  # g: the paper's candidate
    return 1 - z, z * cand

@jax.jit
def mingru_assoc(x, w, bias):
    return linear_assoc(*mingru_gates(x, w, bias))

@jax.jit
def mingru_loop(x, w, bias):
    return linear_loop(*mingru_gates(x, w, bias))

fns = {"linear_assoc": linear_assoc, "linear_loop": linear_loop,
       "mingru_assoc": mingru_assoc, "mingru_loop": mingru_loop}
out, times = {}, {}
for name in sys.argv[4:]:
    f = fns[name]
    args = [jnp.asarray(data[k]) for k in (("a", "b") if name.startswith("linear") else ("x", "w", "bias"))]
    y = f(*args).block_until_ready()  # compiles
    out[name] = np.asarray(y)
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f(*args).block_until_ready()
        ts.append(time.perf_counter() - t0)
    times[name] = (float(np.median(ts)), float(np.min(ts)))
np.savez(sys.argv[1] + ".out.npz", **out)
print(json.dumps({"version": jax.__version__, "times": times}))
"""


def jax_peer(rep, args, peaks):
    """The scan and the MinGRU layer against JAX on the CPU: jax.lax.associative_scan and
    jax.lax.scan, both under jit (each thread count in its own process, pinned to one core
    for 1 thread)."""
    import importlib.util
    import subprocess
    import tempfile
    rep.section("Scan and MinGRU against JAX on the CPU (forward, float32; JAX under jit, compile excluded)",
                ["what", "shape (B, T, C)", "threads", "minrnn ms", "JAX associative_scan ms",
                 "JAX lax.scan ms", "minrnn vs the faster JAX"])
    if importlib.util.find_spec("jax") is None:
        rep.note("jax: not installed, skipped (pip install jax)")
        return
    rng = np.random.default_rng(6)
    scan_shapes = [(1, 100_000, 1), (4, 128, 64)] if args.quick else [(1, 1_000_000, 1), (16, 1024, 256)]
    B, T, D = (4, 128, 64) if args.quick else (16, 1024, 256)
    cases = [("scan.linear", s) for s in scan_shapes] + [("MinGRU layer", (B, T, D))]
    with tempfile.TemporaryDirectory() as tmp:
        for what, shape in cases:
            path = str(pathlib.Path(tmp) / "in.npz")
            if what == "scan.linear":
                a = rng.uniform(0.5, 1.0, shape).astype(np.float32)
                b = rng.standard_normal(shape, dtype=np.float32)
                np.savez(path, a=a, b=b)
                names = ["linear_assoc", "linear_loop"]
            else:
                layer = minrnn.MinGRU(D, D, seed=0)
                sd = layer.state_dict()
                x = rng.standard_normal(shape, dtype=np.float32)
                np.savez(path, x=x, w=sd["weight_ih_l0"], bias=sd["bias_ih_l0"])
                names = ["mingru_assoc", "mingru_loop"]
            for t in args.threads:
                minrnn.set_num_threads(t)
                if what == "scan.linear":
                    out = np.empty_like(a)
                    want = minrnn.scan.linear(a, b)
                    gap = ref.scan_residual(a, b, want)
                    if not gap <= 1e-5:
                        raise AssertionError(f"scan.linear {shape}: off its recurrence by {gap:.3g}")
                    ours, ours_min = timeit(lambda: minrnn.scan.linear(a, b, out=out), args.repeat)
                else:
                    verified(layer, x, rng, grad_steps=0, name="MinGRU")
                    want = layer(x)[0]
                    ours, ours_min = timeit(lambda: layer(x), args.repeat)
                r = subprocess.run([sys.executable, "-c", JAX_PROBE, path, str(t), str(args.repeat), *names],
                                   capture_output=True, text=True, timeout=1200)
                if r.returncode:
                    rep.note(f"jax failed, skipped: {r.stderr.strip().splitlines()[-1:]}")
                    return
                res = json.loads(r.stdout.strip().splitlines()[-1])
                got = np.load(path + ".out.npz")
                for n in names:
                    check_close(f"JAX {n}", got[n], want, 1e-3, 1e-3)
                ta, tl = (res["times"][n][0] for n in names)
                best = min(ta, tl)
                rep.row([what, shape, t, f"{ours * 1e3:.2f}", f"{ta * 1e3:.2f}", f"{tl * 1e3:.2f}",
                         f"{best / ours:.1f}x faster" if best >= ours else f"{ours / best:.1f}x slower"],
                        section="jax", what=what, shape=shape, threads=t, ours_s=ours, ours_min_s=ours_min,
                        jax_assoc_s=ta, jax_scan_s=tl, jax_assoc_min_s=res["times"][names[0]][1],
                        jax_scan_min_s=res["times"][names[1]][1], jax_version=res["version"],
                        faster_jax_over_ours=best / ours)
    rep.note(f"JAX {res['version']}")


def scaling(rep, args, peaks):
    """How forward time grows with T, B and H (doubling each from a base shape), and with
    threads; tokens/s of minrnn's GRU and MinGRU and torch's GRU, plotted if matplotlib is
    installed (bench/results/scaling.png)."""
    rep.section("Scaling of the forward pass (D = H; growth = log2 of the time ratio per doubling: "
                "1 is linear, 2 quadratic)",
                ["model", "varied", "B, T, H", "threads", "ms", "tokens/s", "growth"])
    base = (2, 128, 64) if args.quick else (4, 256, 256)
    steps = 3 if args.quick else 4
    rng = np.random.default_rng(9)
    curves = {}
    for t in args.threads:
        minrnn.set_num_threads(t)
        torch = try_torch(t)
        for model in ["minrnn GRU", "minrnn MinGRU", "torch GRU"]:
            if model.startswith("torch") and torch is None:
                continue
            for axis in ["T", "B", "H"]:
                prev = None
                for k in range(steps):
                    B, T, H = base
                    B, T, H = (B * 2 ** k, T, H) if axis == "B" else (B, T * 2 ** k, H) if axis == "T" else (B, T, H * 2 ** k)
                    if axis == "H" and k == steps - 1 and not args.quick:
                        break  # H = 2048 adds minutes and nothing new
                    x = rng.standard_normal((B, T, H), dtype=np.float32)
                    if model == "torch GRU":
                        peer = torch.nn.GRU(H, H, batch_first=True)
                        xt = torch.from_numpy(x)
                        twin = minrnn.GRU(H, H)  # checked against the reference, then torch against it
                        twin.load_state_dict(peer.state_dict())
                        verified(twin, x, rng, grad_steps=0, name="GRU")
                        with torch.inference_mode():
                            check_close("torch GRU", peer(xt)[0].numpy(), twin(x)[0], 1e-3, 1e-4)

                        def fn():
                            with torch.inference_mode():
                                peer(xt)
                    else:
                        layer = (minrnn.GRU if model == "minrnn GRU" else minrnn.MinGRU)(H, H, seed=0)
                        verified(layer, x, rng, grad_steps=0, name=model)

                        def fn():
                            layer(x)
                    ms = timeit(fn, max(3, args.repeat // 2))[0] * 1e3
                    growth = f"{np.log2(ms / prev):.2f}" if prev else "-"
                    prev = ms
                    tps = B * T / ms * 1e3
                    curves.setdefault((model, axis, t), []).append((B if axis == "B" else T if axis == "T" else H, tps))
                    rep.row([model, axis, f"{B}, {T}, {H}", t, f"{ms:.2f}", f"{tps:,.0f}", growth],
                            section="scaling", model=model, axis=axis, B=B, T=T, H=H, threads=t, ms=ms,
                            tokens_per_s=tps)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        rep.note("matplotlib: not installed, no plot (pip install matplotlib)")
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, axis, label in [(axes[0], "T", "sequence length T"), (axes[1], "B", "batch B")]:
        for (model, a, t), pts in sorted(curves.items()):
            if a == axis:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, marker="o", label=f"{model}, {t} thread{'s' if t > 1 else ''}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("tokens / s (forward)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_title(f"B = {base[0]}, H = D = {base[2]}")
    axes[1].set_title(f"T = {base[1]}, H = D = {base[2]}")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)  # below, off the data
    fig.suptitle(f"minrnn {minrnn.__version__} on {cpu_model()}, {datetime.date.today().isoformat()}")
    fig.tight_layout(rect=(0, 0.13, 1, 1))
    args.out.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out / "scaling.png", dpi=110)
    rep.note(f"plot: {args.out / 'scaling.png'}")


MEMORY_PROBE = r"""
import sys, threading, time
import numpy as np
lib, cell = sys.argv[1], sys.argv[2]
B, T, H, threads = map(int, sys.argv[3:7])
page = __import__("os").sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
x = np.random.default_rng(0).standard_normal((B, T, H), dtype=np.float32)
if lib == "minrnn":
    import minrnn
    minrnn.set_num_threads(threads)
    m = getattr(minrnn, cell)(H, H, seed=0)
    def run():
        y, _ = m.forward(x, train=True)
        m.backward(np.ones_like(y))
else:
    import torch
    torch.set_num_threads(threads)
    m = getattr(torch.nn, cell)(H, H, batch_first=True)
    def run():
        xt = torch.from_numpy(x).requires_grad_(True)
        y, _ = m(xt)
        y.backward(torch.ones_like(y))
base, peak, stop = rss(), [0], threading.Event()
def poll():
    while not stop.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.0005)
t = threading.Thread(target=poll); t.start()
run()
stop.set(); t.join()
print((max(peak[0], rss()) - base) / 2**20)
"""


def memory(rep, args, peaks):
    """Peak resident memory the first forward+backward call adds, minrnn against torch (each
    in a fresh process with the model built; sampled every 0.5 ms while the call runs; for
    minrnn it includes the scratch it keeps for later calls)."""
    import subprocess
    rep.section("Peak memory of the first forward+backward (MB above the process's memory before "
                "the call)",
                ["cell", "B, T, H", "minrnn MB", "torch MB", "minrnn vs torch"])
    have_torch = try_torch(1) is not None
    shapes = [(4, 64, 64)] if args.quick else [(16, 512, 256), (64, 256, 512)]
    for cell in ["GRU", "LSTM", "RNN"]:
        for B, T, H in shapes:
            def probe(lib):
                r = subprocess.run([sys.executable, "-c", MEMORY_PROBE, lib, cell, str(B), str(T), str(H),
                                    str(args.threads[0])], capture_output=True, text=True, timeout=600)
                if r.returncode:
                    raise RuntimeError(r.stderr)
                return float(r.stdout.split()[-1])
            ours = probe("minrnn")
            theirs = probe("torch") if have_torch else None
            rep.row([cell, f"{B}, {T}, {H}", f"{ours:.1f}", f"{theirs:.1f}" if theirs is not None else "-",
                     (f"{theirs / ours:.2f}x less" if ours <= theirs else f"{ours / theirs:.2f}x more")
                     if theirs else "-"],
                    section="memory", cell=cell, B=B, T=T, H=H, ours_mb=ours, torch_mb=theirs)


# The sections after the machine's peaks, in the order they run.
SECTIONS = {"layer": layers, "scan": scans, "classic": classic, "peers": peers, "jax": jax_peer,
            "scaling": scaling, "memory": memory}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=count(1, 1024), nargs="+", default=[1, 2],
                    help="thread counts to run, each section once per count (default: 1 2)")
    ap.add_argument("--repeat", type=count(1), default=7, help="timed runs per row; the median is reported (default 7)")
    ap.add_argument("--repeat-slow", type=count(1), default=3,
                    help="timed runs for the rows of more than 2^20 elements (B*T*H) (default 3)")
    ap.add_argument("--quick", action="store_true", help="small shapes: a smoke run of every section")
    ap.add_argument("--only", choices=["machine", *SECTIONS], nargs="+",
                    help="run only these sections (the machine's peaks always run first)")
    ap.add_argument("--out", type=pathlib.Path, default=RESULTS,
                    help="directory for compare.md, compare.json and scaling.png (default bench/results)")
    args = ap.parse_args(argv)
    writable_dir(ap, args.out)
    when = datetime.date.today().isoformat()
    head = (f"minrnn {minrnn.__version__}, {cpu_model()}, instruction set {minrnn.simd_level()}, "
            f"Python {platform.python_version()}, NumPy {np.__version__}, {when}")
    settings = {"threads": args.threads, "repeat": args.repeat, "repeat_slow": args.repeat_slow,
                "quick": args.quick, "only": args.only, "command": " ".join(sys.argv)}
    rep = Report()
    rep.lines.append(head)
    status = 0
    try:
        print(head)
        peaks = machine(rep, args)  # the other sections state their figures against these
        for name, section in SECTIONS.items():
            if args.only is None or name in args.only:
                section(rep, args, peaks)
        if SPREADS and max(SPREADS) > 1.5:
            rep.note(f"note: some rows' median was up to {max(SPREADS):.1f}x their fastest run: other "
                     "work was running on this machine, and those rows' times and ratios are not reliable")
        rep.end_section()
    except KeyboardInterrupt:
        rep.note("interrupted: the rows above are all this run measured")
        rep.end_section()
        status = 130
    except BrokenPipeError:  # stdout closed (| head): still write the files, quietly
        sys.stdout = open(__import__("os").devnull, "w")
        status = 1
    (args.out / "compare.md").write_text("\n".join(rep.lines) + "\n")
    (args.out / "compare.json").write_text(json.dumps({"header": head, "settings": settings, "rows": rep.rows},
                                                      indent=1, default=str))
    if status != 1:
        print(f"\nwrote {args.out / 'compare.md'} and compare.json")
    return status


if __name__ == "__main__":
    sys.exit(main())
