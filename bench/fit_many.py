"""docs/fitting.md's check on 444 data sets: the default BNRegressor(hidden=8)
on each data set bench/fit_many.R wrote (R's designs, the panel's 5 splits,
nnet's test MSE per split at each of its four decays), against nnet with the
decay chosen on each split's test rows (the oracle of issue 10).

    make fit-many        (or: python bench/fit_many.py [DIR] [options])

Per data set the ratio is the median over the splits of the fit's test MSE
over the median of the oracle's, as bench/fit_panel.R's; split s's fit has
seed s + --seed-offset (the starts' draw: 0, 100 and 200 were the three
draws of docs/fitting.md).  Prints how many ratios are within 1.05, their
geometric mean (each ratio at least 1e-12, as bench/fit_sweep.R's: a fit to
rounding is no better than one to 1e-12) and how many are above 1.5; --out
writes every ratio (TSV), --against a TSV written before lists the data sets
(of those in both) that came within 1.05 or left it.  The fits run in --jobs
processes of one thread each; the total of the fits' times is printed (each
fit timed alone, but two run at once).
"""
import argparse
import glob
import json
import os
import sys
import time
import warnings
from multiprocessing import get_context

import numpy as np

WITHIN, FAR, FLOOR = 1.05, 1.5, 1e-12


def ratio_of(path, offset):
    """(name, rows, inputs, ratio, seconds of the 5 fits) of one data set."""
    import bngrad
    with open(path) as fh:
        d = json.load(fh)
    X = np.array(d["x"], dtype=float).reshape(len(d["y"]), -1)
    y = np.array(d["y"], dtype=float)
    bn, took = [], 0.0
    for s, train in enumerate(d["train"], start=1):
        train = np.array(train, dtype=int) - 1            # R's rows count from 1
        test = np.setdiff1d(np.arange(len(y)), train)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = bngrad.BNRegressor(hidden=8, seed=s + offset).fit(X[train], y[train])
        took += time.perf_counter() - t0
        bn.append(np.mean((y[test] - est.predict(X[test])) ** 2))
    oracle = [min(m) for m in d["nnet_mse"]]
    return d["name"], len(y), X.shape[1], float(np.median(bn) / np.median(oracle)), took


def _worker(args):
    return ratio_of(*args)


def _one_thread():
    os.environ["BNGRAD_NUM_THREADS"] = "1"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", nargs="?", default="build/fit_many",
                        help="what bench/fit_many.R wrote (default build/fit_many)")
    parser.add_argument("--seed-offset", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", help="write every data set's ratio here (TSV)")
    parser.add_argument("--against", help="a TSV --out wrote before: what came in and out")
    a = parser.parse_args(argv)
    files = sorted(glob.glob(os.path.join(a.dir, "*.json")))
    if not files:
        sys.exit(f"bench/fit_many.py: no data sets in {a.dir}: run Rscript bench/fit_many.R first")
    # (each process one thread: the processes are the parallelism; spawned,
    # not forked, so that no worker inherits a parent's threads or BLAS state)
    before = None
    if a.against:                      # (read first: it may be the file --out rewrites)
        with open(a.against) as fh:
            before = {line.split("\t")[0]: float(line.split("\t")[3])
                      for line in fh.read().splitlines()[1:]}
    with get_context("spawn").Pool(a.jobs, initializer=_one_thread) as pool:
        rows = pool.map(_worker, [(f, a.seed_offset) for f in files], chunksize=1)
    ratio = np.array([r[3] for r in rows])
    print(f"{len(rows)} data sets, seeds {1 + a.seed_offset}-{5 + a.seed_offset}: within "
          f"{WITHIN} of nnet's oracle on {np.sum(ratio <= WITHIN)}, geometric mean "
          f"{np.exp(np.mean(np.log(np.maximum(ratio, FLOOR)))):.4f}, above {FAR} on "
          f"{np.sum(ratio > FAR)}; "
          f"the fits took {sum(r[4] for r in rows):.0f} s in all")
    if a.out:
        with open(a.out, "w") as fh:
            fh.write("name\tn\tp\tratio\tseconds\n")
            for r in rows:
                fh.write(f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]:.6g}\t{r[4]:.4g}\n")
    if before is not None:
        for word, moved in (("in", lambda b, n: b > WITHIN >= n),
                            ("out", lambda b, n: n > WITHIN >= b)):
            names = [f"{r[0]} {before[r[0]]:.3f} to {r[3]:.3f}" for r in rows
                     if r[0] in before and moved(before[r[0]], r[3])]
            print(f"{word} ({len(names)}): " + "; ".join(names))


if __name__ == "__main__":
    main()
