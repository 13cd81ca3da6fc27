"""Start-up: a fresh process that loads bngrad and returns its first gradient.

    python bench/bench_startup.py [--rscript]

Python: `python -c "import bngrad; <one gradient>"`; R: `Rscript -e
"library(bngrad); bn_grad(...)"` through reticulate (RETICULATE_PYTHON must
name the project's venv).  The numba cache is warm (make does that), so
neither waits on a compile.  Median wall time of 7 fresh processes.
"""
import os
import statistics
import subprocess
import sys
import time

PY = ("import numpy as np, bngrad; rng = np.random.default_rng(0); "
      "g = bngrad.gradients(rng.standard_normal((64, 8)), rng.standard_normal(64), "
      "bngrad.init_params(8, 16)); assert np.isfinite(g.loss)")
R = ("library(bngrad); g <- bn_grad(matrix(rnorm(512), 64), rnorm(64), bn_params(8, 16)); "
     "stopifnot(is.finite(g$loss))")


def wall(cmd, reps=7):
    subprocess.run(cmd, check=True, capture_output=True)      # page cache, numba cache
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    rows = [("python: import bngrad + first gradient", wall([sys.executable, "-c", PY]), 1.0),
            ("python: import numpy only (for scale)", wall([sys.executable, "-c", "import numpy"]), None)]
    if "--rscript" in sys.argv:
        if not os.environ.get("RETICULATE_PYTHON"):
            sys.exit("set RETICULATE_PYTHON to the venv's python for the R start-up")
        rows.append(("Rscript: library(bngrad) + first bn_grad", wall(["Rscript", "-e", R]), 2.5))
        rows.append(("Rscript: R alone (for scale)", wall(["Rscript", "-e", "invisible(1)"]), None))
    print("| fresh process | median wall time (s) | goal (s) |")
    print("|---|---|---|")
    for name, t, goal in rows:
        print(f"| {name} | {t:.2f} | {goal if goal else '-'} |")


if __name__ == "__main__":
    main()
