"""Issue 13: what a fit iteration costs, in gradient calls, with the default
environment and with single-threaded BLAS (OPENBLAS_NUM_THREADS=1).

    make bench-fit-speed     (or: python bench/bench_fit_speed.py)

BNRegressor(hidden=16, activation="sigmoid", optimizer="lbfgs") on N x 10
data (L-BFGS is what "auto" runs at N >= 1e4 here; early stopping on, as by
default): time per L-BFGS iteration (whole fit / iterations, so the fit's
fixed work is included) over the time of one gradients() call on the same
standardised data.  The iterations are every L-BFGS run's: at N = 1000 the
net has a weight for every 10 values of y or fewer, and the fit runs decays
0.1, 1 and 10 besides the undecayed run (fit.py: _lbfgs_decays), whose
iterations alone n_iter_ reports.

This VM's speed drifts by up to 1.8x over minutes: in a process, each fit
comes right after a batch of gradient calls and is divided by that batch's
median (the median of those ratios is reported).  default / single-thread
compares two processes, which no ordering makes immune to the drift: the
environments run in fresh processes taken in turns (default, single,
default, single), and it is the median of each adjacent pair's ratio.
"""
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

SIZES = [1_000, 10_000, 100_000, 1_000_000]
ROUNDS = 2                                     # pairs of processes


def child():
    import numpy as np
    import bngrad
    from bngrad.fit import BNRegressor
    warnings.simplefilter("ignore")
    done = []                                  # each L-BFGS run's iterations
    minimize = BNRegressor._minimize

    def counted(self, *args, **kwargs):
        member = minimize(self, *args, **kwargs)
        done.append(member.n_iter)
        return member
    BNRegressor._minimize = counted
    out = []
    for N in SIZES:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((N, 10))
        y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.3 * rng.standard_normal(N)
        Xs = (X - X.mean(0)) / X.std(0)
        ys = (y - y.mean()) / y.std()
        p = bngrad.init_params(10, 16, seed=0)
        bngrad.gradients(Xs, ys, p, "sigmoid")
        reps = max(5, int(1e6 // N))
        est = bngrad.BNRegressor(hidden=16, activation="sigmoid", optimizer="lbfgs", max_iter=5)
        est.fit(X[:2000], y[:2000])                               # warm: imports, pools
        grads, iters, ratios = [], [], []
        for seed in range(3 if N < 1_000_000 else 1):
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                bngrad.gradients(Xs, ys, p, "sigmoid")
                times.append(time.perf_counter() - t0)
            grad = statistics.median(times)
            done.clear()
            t0 = time.perf_counter()
            est = bngrad.BNRegressor(hidden=16, activation="sigmoid", optimizer="lbfgs",
                                     max_iter=100, tol=1e-12, seed=seed).fit(X, y)
            it = (time.perf_counter() - t0) / sum(done)
            grads.append(grad)
            iters.append(it)
            ratios.append(it / grad)
        out.append({"N": N, "grad": statistics.median(grads), "iter": statistics.median(iters),
                    "ratio": statistics.median(ratios), "runs": len(done)})
    print(json.dumps(out))


def run(env):
    full = dict(os.environ, **env)
    res = subprocess.run([sys.executable, __file__, "--child"], env=full, capture_output=True,
                         text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    runs = []
    for _ in range(ROUNDS):
        runs.append((run({}), run({"OPENBLAS_NUM_THREADS": "1"})))
    lines = ["| N | L-BFGS runs | gradient (ms) | iteration (ms) | iteration / gradient | "
             "iteration / gradient, OPENBLAS_NUM_THREADS=1 | default / single-thread iteration |",
             "|---|---|---|---|---|---|---|"]
    for i, N in enumerate(SIZES):
        d = [r[0][i] for r in runs]
        s = [r[1][i] for r in runs]
        med = lambda rows, key: statistics.median(r[key] for r in rows)
        pair = statistics.median(dr["iter"] / sr["iter"] for dr, sr in zip(d, s))
        lines.append(f"| {N:,} | {d[0]['runs']} | {med(d, 'grad') * 1e3:.3f} | "
                     f"{med(d, 'iter') * 1e3:.3f} | {med(d, 'ratio'):.2f} | "
                     f"{med(s, 'ratio'):.2f} | {pair:.2f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
