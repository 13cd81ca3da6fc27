"""Time bngrad.gradients beside its baselines, in one process.

    make bench          (or: python bench/bench_gradients.py [--quick])

Baselines: the closed form in plain NumPy, PyTorch autograd, JAX jit(grad),
and the GEMM floor (X @ G1 and X.T @ dZ with NumPy's BLAS, the two products
any exact gradient must do).  float64, relu, q = 1; a case's contenders
timed in turns, batch by batch (interleaved_times), median of the batches.
Prints a table with ratios, writes bench/results.json and bench/gradients.png.
Then two more tables: cold start (fresh processes with an empty numba cache)
and concurrent calls (several threads calling gradients() at once).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

import bngrad

CASES = [(64, 8, 16), (4096, 32, 64), (65536, 64, 128), (1_000_000, 10, 16)]
HERE = os.path.dirname(os.path.abspath(__file__))


def median_time(f, budget=2.0, min_reps=5, max_reps=2000):
    # Let the previous contender's thread pools (torch's OpenMP, JAX's, the
    # BLAS ones) stop spinning, since on two cores they would take one from
    # this one; busy, not asleep, so that the clock stays up.
    settle(0.5)
    f()                                            # warm: compile, allocate, spin up pools
    t0 = time.perf_counter()
    f()
    one = max(time.perf_counter() - t0, 1e-7)
    reps = int(min(max_reps, max(min_reps, budget / one)))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def settle(seconds):
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        pass


def interleaved_times(fs, budget, batch=0.1, pause=0.1):
    """Median seconds per call of each of fs (name -> f): batches of about
    `batch` seconds (one call at least), the contenders' taken in turn,
    round after round, in an order that rotates, until each has had about
    `budget` seconds (and at least 5 batches).  A drift in the machine's
    speed (this VM's came and went over seconds: 1.2-2.2 ms for the same
    call at N = 4096 in runs minutes apart) then hits every contender alike,
    so the ratios hold.  Before each batch, `pause` seconds busy (settle)
    for the last one's pools to stop spinning."""
    reps, left = {}, {}
    for name, f in fs.items():
        f()                                        # warm: compile, allocate, spin up pools
        t0 = time.perf_counter()
        f()
        one = max(time.perf_counter() - t0, 1e-7)
        reps[name] = max(1, int(batch / one))
        left[name] = max(5, int(budget / (reps[name] * one)))
    times = {name: [] for name in fs}
    order = list(fs)
    while any(left.values()):
        for name in order:
            if not left[name]:
                continue
            left[name] -= 1
            settle(pause)
            t0 = time.perf_counter()
            for _ in range(reps[name]):
                fs[name]()
            times[name].append((time.perf_counter() - t0) / reps[name])
        order = order[1:] + order[:1]
    return {name: float(np.median(t)) for name, t in times.items()}


def case(N, p1, p2):
    """A case's data, the same in every bench that times it: X, y (N x 1),
    the net's params and dZ (N x p2, the floor's second product's)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, p1))
    y = rng.standard_normal((N, 1))
    p = bngrad.init_params(p1, p2, 1, seed=0)
    return X, y, p, rng.standard_normal((N, p2))


def numpy_closed_form(X, y, G1, gamma, beta, G2, b, eps=1e-5):
    N = X.shape[0]
    Z = X @ G1
    mu = Z.mean(axis=0)
    sd = np.sqrt(Z.var(axis=0) + eps)
    Zh = (Z - mu) / sd
    A = gamma * Zh + beta
    H = np.maximum(A, 0)
    E = -2.0 / N * (y - (H @ G2 + b))
    S = (E @ G2.T) * (A > 0)
    dgamma = (S * Zh).sum(axis=0)
    dZ = gamma / sd * (S - S.mean(axis=0) - Zh * dgamma / N)
    return X.T @ dZ, dgamma, S.sum(axis=0), H.T @ E, E.sum(axis=0)


def torch_fn(X, y, p):
    import torch
    torch.set_num_threads(os.cpu_count())
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    P = [torch.from_numpy(np.array(v)).requires_grad_() for v in p]

    def run():
        G1, gamma, beta, G2, b = P
        Z = Xt @ G1
        A = torch.nn.functional.batch_norm(Z, None, None, gamma, beta, training=True, eps=1e-5)
        loss = ((yt - (torch.relu(A) @ G2 + b)) ** 2).mean()
        return torch.autograd.grad(loss, P)
    return run


def jax_fn(X, y, p):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)

    def loss(P, X, y):
        G1, gamma, beta, G2, b = P
        Z = X @ G1
        mu = Z.mean(axis=0)
        Zh = (Z - mu) / jnp.sqrt(((Z - mu) ** 2).mean(axis=0) + 1e-5)
        return jnp.mean((y - (jax.nn.relu(gamma * Zh + beta) @ G2 + b)) ** 2)
    g = jax.jit(jax.value_and_grad(loss))
    P = tuple(jnp.asarray(v) for v in p)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    return lambda: jax.block_until_ready(g(P, Xj, yj))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small budget, for a smoke run")
    ap.add_argument("--skip", default="", help="comma list of baselines to skip: torch,jax")
    args = ap.parse_args()
    budget = 0.3 if args.quick else 3.0
    skip = set(filter(None, args.skip.split(",")))
    from threadpoolctl import threadpool_info
    blas = {os.path.basename(os.path.dirname(i["filepath"])): (i["architecture"], i["num_threads"])
            for i in threadpool_info() if i["user_api"] == "blas"}
    print(f"CPU {cpu_model()}; numpy {np.__version__}, BLAS {blas}, cores {os.cpu_count()}")
    t_end = time.perf_counter() + 2.0          # let the cores reach their clock before timing
    while time.perf_counter() < t_end:
        np.ones((256, 256)) @ np.ones((256, 256))
    # (the contenders of a case are timed in turns: interleaved_times)
    rows = []
    for N, p1, p2 in CASES:
        X, y, p, dZ = case(N, p1, p2)
        row = {"N": N, "p1": p1, "p2": p2}
        Xf = np.asfortranarray(X)
        Xf.flags.writeable = False
        fs = {"bngrad": lambda: bngrad.gradients(X, y, p),
              "bngrad_R_layout": lambda: bngrad.gradients(Xf, y, p),
              "numpy": lambda: numpy_closed_form(X, y, *p),
              "floor": lambda: (X @ p.G1, X.T @ dZ)}
        if "torch" not in skip:
            fs["torch"] = torch_fn(X, y, p)
        if "jax" not in skip:
            fs["jax"] = jax_fn(X, y, p)
        row.update(interleaved_times(fs, budget))
        rows.append(row)
        print(format_row(row), flush=True)
    print()
    print(table(rows))
    import scipy.linalg.cython_blas  # noqa: F401  (the BLAS the kernels call, now loaded)
    kernels_blas = {i["filepath"].split("/")[-2]: (i["architecture"], i["num_threads"])
                    for i in threadpool_info() if i["user_api"] == "blas"}
    print(f"(BLAS libraries after the kernels ran: {kernels_blas})")
    cold = cold_start()
    print()
    print(cold_table(cold))
    conc = concurrent(budget)
    print()
    print(concurrent_table(conc))
    with open(os.path.join(HERE, "results.json"), "w") as fh:
        json.dump({"cpu": cpu_model(), "gradients": rows, "cold_start": cold,
                   "concurrent": conc}, fh, indent=1)
    plot(rows, os.path.join(HERE, "gradients.png"))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or "unknown"


COLD = """
import time; t0 = time.perf_counter()
import numpy as np, bngrad
X = np.random.default_rng(0).standard_normal(({N}, 10)); y = X[:, 0].copy()
t1 = time.perf_counter(); bngrad.gradients(X, y, bngrad.init_params(10, 16))
print(time.perf_counter() - t1, time.perf_counter() - t0)
"""


def cold_start():
    """Fresh processes, each with an empty numba cache: the first gradient at
    small and large N, a first default fit, and the whole warm-up."""
    rows = []
    for what, code in (("first gradient, N = 64", COLD.format(N=64)),
                       ("first gradient, N = 100,000", COLD.format(N=100_000)),
                       ("first default fit (N = 200)", COLD.format(N=200).replace(
                           "bngrad.gradients(X, y, bngrad.init_params(10, 16))",
                           "bngrad.BNRegressor(hidden=8).fit(X, y)"))):
        with tempfile.TemporaryDirectory() as cache:
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 env=dict(os.environ, NUMBA_CACHE_DIR=cache), check=True)
        first, total = map(float, out.stdout.split())
        rows.append({"what": what, "call": first, "process": total})
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bngrad.warmup"], capture_output=True, check=True,
                       env=dict(os.environ, NUMBA_CACHE_DIR=cache))
        rows.append({"what": "python -m bngrad.warmup (every kernel)", "call": None,
                     "process": time.perf_counter() - t0})
    return rows


def cold_table(rows):
    out = ["| empty numba cache | the call (s) | whole process (s) | goal (s) |", "|---|---|---|---|"]
    for r in rows:
        goal = "60" if r["call"] is None else ("5" if "gradient" in r["what"] else "-")
        call = "-" if r["call"] is None else f"{r['call']:.2f}"
        out.append(f"| {r['what']} | {call} | {r['process']:.2f} | {goal} |")
    return "\n".join(out)


def concurrent(budget):
    """Calls per second with 1, 2 and 4 threads calling gradients() at once
    (each its own data), and whether every thread got the single-thread bits."""
    out = []
    for N, p1, p2 in [(64, 8, 16), (4096, 32, 64), (100_000, 10, 16)]:
        rng = np.random.default_rng(1)
        X = rng.standard_normal((N, p1))
        y = rng.standard_normal(N)
        p = bngrad.init_params(p1, p2)
        want = bngrad.gradients(X, y, p)
        per_call = median_time(lambda: bngrad.gradients(X, y, p), budget / 3)
        calls = max(4, int(budget / 3 / per_call))
        row = {"N": N, "p1": p1, "p2": p2}
        for T in (1, 2, 4):
            same = []

            def work():
                for _ in range(calls):
                    g = bngrad.gradients(X, y, p)
                same.append(all(np.array_equal(a, b) for a, b in zip(g, want)))
            threads = [threading.Thread(target=work) for _ in range(T)]
            t0 = time.perf_counter()
            [t.start() for t in threads]
            [t.join() for t in threads]
            row[f"{T} threads"] = T * calls / (time.perf_counter() - t0)
            row[f"{T} same"] = all(same)
        out.append(row)
    return out


def concurrent_table(rows):
    out = ["| N, p1, p2 | calls/s, 1 thread | 2 threads | 4 threads | 4 threads / 1 | same bits |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['N']:,}, {r['p1']}, {r['p2']} | {r['1 threads']:,.0f} | "
                   f"{r['2 threads']:,.0f} | {r['4 threads']:,.0f} | "
                   f"{r['4 threads'] / r['1 threads']:.2f} | "
                   f"{'yes' if all(r[f'{T} same'] for T in (1, 2, 4)) else 'NO'} |")
    return "\n".join(out)


def us(t):
    return f"{t * 1e6:,.1f}" if t < 1e-3 else f"{t * 1e6:,.0f}"


def format_row(r):
    return " ".join(f"{k}={us(v) if isinstance(v, float) else v}" for k, v in r.items())


def table(rows):
    cols = [c for c in ("bngrad", "bngrad_R_layout", "numpy", "torch", "jax", "floor") if c in rows[0]]
    head = "| N, p1, p2 | " + " | ".join(f"{c} (us)" for c in cols) + " | bngrad / floor | JAX / bngrad |"
    out = [head, "|" + "---|" * (len(cols) + 3)]
    for r in rows:
        jax = f"{r['jax'] / r['bngrad']:.1f}" if "jax" in r else "-"
        out.append(f"| {r['N']:,}, {r['p1']}, {r['p2']} | " + " | ".join(us(r[c]) for c in cols)
                   + f" | {r['bngrad'] / r['floor']:.2f} | {jax} |")
    return "\n".join(out)


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    Ns = [r["N"] for r in rows]
    for c, style in (("bngrad", "o-"), ("numpy", "s--"), ("torch", "^--"), ("jax", "v--"),
                     ("floor", "k:")):
        if c in rows[0]:
            ax.loglog(Ns, [r[c] * 1e6 for r in rows], style, label=c)
    ax.set_xlabel("N (rows; p1, p2 as in the table)")
    ax.set_ylabel("median time per gradient (us)")
    ax.set_title("bngrad.gradients vs baselines (float64, relu, one process)")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
