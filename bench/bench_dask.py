"""Gradients and fits on Dask against the same calls in memory (issue 12).

    python bench/bench_dask.py                 # 1e7 rows, p1 = 10, hidden = 16 (make bench-dask)
    python bench/bench_dask.py --rows 200000   # a quick check that it runs

Rows of the table:
* gradient: bngrad.gradients(X, y, params) -- X's statistics and the
  gradient's pass, two passes either way; best of --repeat.
* fit: BNRegressor(optimizer="lbfgs", decay=1e-3, max_iter=--iters) -- one
  statistics pass, then one pass per L-BFGS evaluation (decay given, so no
  early stopping on either side); one run each.
* small-N gradient: the overhead of a compute, at --small rows in one
  block; median of 30.

Columns: in memory on the engine's threads (all cores) and on one thread;
Dask's threaded scheduler in this process (X a from_array of the same
array); a distributed LocalCluster of 1 and of 2 single-threaded worker
processes, X generated and persisted on the workers (the same numbers: a
seeded dask.array.random).  Ratios are against in memory on all cores.
Run it on a quiet machine: every column shares its cores.
"""
import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np


def data(rows, p1, block, seed=0):
    import dask.array as da
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, p1), chunks=(block, p1))
    y = da.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(rows, chunks=block)
    return X, y


def timed(f, repeat):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def median_time(f, n):
    f()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def measure(X, y, Xs, ys, p, args):
    """(gradient s, fit s, small-N gradient s) for X, y (in memory or Dask)."""
    import bngrad
    est = bngrad.BNRegressor(hidden=args.hidden, optimizer="lbfgs", decay=1e-3,
                             max_iter=args.iters, seed=0)
    grad = timed(lambda: bngrad.gradients(X, y, p), args.repeat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # max_iter reached, as meant
        t = time.perf_counter()
        est.fit(X, y)
        fit = time.perf_counter() - t
    small = median_time(lambda: bngrad.gradients(Xs, ys, p), 30)
    return grad, fit, small, est.n_iter_


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=float, default=1e7)
    ap.add_argument("--p1", type=int, default=10)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--block", type=float, default=1e6, help="rows per Dask block")
    ap.add_argument("--small", type=float, default=1e4)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows, block, small = int(args.rows), int(min(args.block, args.rows)), int(args.small)

    import dask
    import dask.array as da
    from distributed import Client, LocalCluster
    import bngrad

    Xd, yd = data(rows, args.p1, block)
    X, y = dask.compute(Xd, yd, scheduler="threads")
    Xs_d, ys_d = data(small, args.p1, small, seed=1)
    Xs, ys = dask.compute(Xs_d, ys_d, scheduler="threads")
    p = bngrad.init_params(args.p1, args.hidden, seed=0)
    with warnings.catch_warnings():                       # kernels and scipy loaded, once
        warnings.simplefilter("ignore")
        for Xw in (X[:50_000], da.from_array(X[:50_000], chunks=(25_000, args.p1))):
            bngrad.BNRegressor(hidden=args.hidden, optimizer="lbfgs", decay=1e-3,
                               max_iter=2).fit(Xw, y[:50_000])

    cols = {}
    cols["in memory"] = measure(X, y, Xs, ys, p, args)
    os.environ["BNGRAD_NUM_THREADS"] = "1"
    cols["in memory, 1 thread"] = measure(X, y, Xs, ys, p, args)
    del os.environ["BNGRAD_NUM_THREADS"]
    with dask.config.set(scheduler="threads"):
        cols["dask threads"] = measure(da.from_array(X, chunks=(block, args.p1)),
                                       da.from_array(y, chunks=block),
                                       da.from_array(Xs, chunks=(small, args.p1)),
                                       da.from_array(ys, chunks=small), p, args)
    for n in (1, 2):
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                          dashboard_address=":0", silence_logs=40) as cluster, \
                Client(cluster) as client:
            client.run(lambda: __import__("bngrad.dask"))
            Xc, yc, Xsc, ysc = client.persist([Xd, yd, Xs_d, ys_d])
            client.wait_for_workers(n)
            from distributed import wait
            wait([Xc, yc, Xsc, ysc])
            cols[f"dask, {n} worker{'s' if n > 1 else ''}"] = measure(Xc, yc, Xsc, ysc, p, args)

    ref = cols["in memory"]
    names = list(cols)
    print(f"\nbngrad on Dask: N = {rows:,} rows (p1 = {args.p1}, hidden = {args.hidden}), "
          f"Dask blocks of {block:,} rows; small N = {small:,} in one block; "
          f"{os.cpu_count()} cores; Python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"dask {dask.__version__}\n")
    print("| | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    rows_out = [(f"gradient, N = {rows:.0e} (s)", 0, 3),
                (f"fit, {args.iters} L-BFGS iterations (s)", 1, 2),
                (f"gradient, N = {small:.0e} (ms)", 2, 3)]
    for label, i, digits in rows_out:
        scale = 1000 if "ms" in label else 1
        print(f"| {label} | " + " | ".join(f"{cols[c][i] * scale:.{digits}g}" for c in names)
              + " |")
        print(f"| ratio to in memory | " + " | ".join(f"{cols[c][i] / ref[i]:.2f}" for c in names)
              + " |")
    its = {c: cols[c][3] for c in names}
    if len(set(its.values())) > 1:
        print(f"\n(iterations differ: {its})")


if __name__ == "__main__":
    main()
