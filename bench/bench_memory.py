"""Peak memory a gradient call adds at N = 1e6, p1 = 10, p2 = 16.

    python bench/bench_memory.py

Each layout runs in a fresh process: X is made and touched, one small call
loads the kernels, then the peak resident size (ru_maxrss) is read before and
after one gradient at full size.  Goal: growth at most a quarter of X's size,
and no copy of R-shaped (Fortran-ordered, read-only) X.
"""
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys
import numpy as np
import bngrad
layout = sys.argv[1]
N, p1, p2 = 1_000_000, 10, 16
rng = np.random.default_rng(0)
X = rng.standard_normal((N, p1))
if layout == "R":
    X = np.asfortranarray(X); X.flags.writeable = False
y = rng.standard_normal(N)
p = bngrad.init_params(p1, p2)
bngrad.gradients(X[:5000], y[:5000], p)          # load the kernels, start the threads
bngrad.gradients(X[:300000], y[:300000], p)
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before = peak()
bngrad.gradients(X, y, p)
print(json.dumps({"layout": layout, "X_bytes": X.nbytes, "growth_bytes": peak() - before}))
"""


def main():
    rows = []
    for layout in ("C", "R"):
        out = subprocess.run([sys.executable, "-c", CHILD, layout], check=True,
                             capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print("| X layout | X size (MB) | peak growth of a call (MB) | growth / X size |")
    print("|---|---|---|---|")
    for r in rows:
        name = "C order" if r["layout"] == "C" else "R-shaped (Fortran, read-only)"
        print(f"| {name} | {r['X_bytes'] / 1e6:.0f} | {r['growth_bytes'] / 1e6:.2f} | "
              f"{r['growth_bytes'] / r['X_bytes']:.3f} |")


if __name__ == "__main__":
    main()
