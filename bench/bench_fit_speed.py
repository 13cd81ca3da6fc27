"""Issue 13: what a fit iteration costs, in gradient calls, with the default
environment and with single-threaded BLAS (OPENBLAS_NUM_THREADS=1).

    make bench-fit-speed     (or: python bench/bench_fit_speed.py)

BNRegressor(hidden=16, activation="sigmoid", optimizer="lbfgs") on N x 10
data (L-BFGS is what "auto" runs at N >= 1e4 here; early stopping on, as by
default): time per L-BFGS iteration (whole fit / iterations, so the fit's
fixed work is included) over the time of one gradients() call on the same
standardised data.  Each environment runs in its own fresh process.
"""
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

SIZES = [1_000, 10_000, 100_000, 1_000_000]


def child():
    import numpy as np
    import bngrad
    warnings.simplefilter("ignore")
    out = []
    for N in SIZES:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((N, 10))
        y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.3 * rng.standard_normal(N)
        Xs = (X - X.mean(0)) / X.std(0)
        ys = (y - y.mean()) / y.std()
        p = bngrad.init_params(10, 16, seed=0)
        bngrad.gradients(Xs, ys, p, "sigmoid")
        reps = max(5, int(2e6 // N))
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            bngrad.gradients(Xs, ys, p, "sigmoid")
            times.append(time.perf_counter() - t0)
        grad = statistics.median(times)
        est = bngrad.BNRegressor(hidden=16, activation="sigmoid", optimizer="lbfgs", max_iter=5)
        est.fit(X[:2000], y[:2000])                               # warm: imports, pools
        fits = []
        for seed in range(3 if N < 1_000_000 else 1):
            t0 = time.perf_counter()
            est = bngrad.BNRegressor(hidden=16, activation="sigmoid", optimizer="lbfgs",
                                     max_iter=100, tol=1e-12, seed=seed).fit(X, y)
            fits.append((time.perf_counter() - t0) / est.n_iter_)
        out.append({"N": N, "grad": grad, "iter": statistics.median(fits), "n_iter": est.n_iter_})
    print(json.dumps(out))


def run(env):
    full = dict(os.environ, **env)
    res = subprocess.run([sys.executable, __file__, "--child"], env=full, capture_output=True,
                         text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    default = run({})
    single = run({"OPENBLAS_NUM_THREADS": "1"})
    lines = ["| N | gradient (ms) | iteration (ms) | iteration / gradient | "
             "iteration / gradient, OPENBLAS_NUM_THREADS=1 | default / single-thread iteration |",
             "|---|---|---|---|---|---|"]
    for d, s in zip(default, single):
        lines.append(f"| {d['N']:,} | {d['grad'] * 1e3:.3f} | {d['iter'] * 1e3:.3f} | "
                     f"{d['iter'] / d['grad']:.2f} | {s['iter'] / s['grad']:.2f} | "
                     f"{d['iter'] / s['iter']:.2f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
