"""A gradient right after NumPy's own products, against one on an idle machine.

    python bench/bench_after_numpy.py

NumPy's OpenBLAS keeps a worker thread spinning for about 0.1 s after a
product it ran on several threads.  bngrad's kernels run on SciPy's OpenBLAS
and on threads of their own, so on two cores a gradient called in that window
shares a core with the spinner; OpenBLAS's OPENBLAS_THREAD_TIMEOUT (read once,
when the library loads) sets how long it spins.  Each setting runs in a fresh
process of this Python (its NumPy is the one measured): batches of gradients
alone, batches each right after two NumPy products (X @ G1, X.T @ dZ: the
floor of bench_gradients.py), and the products alone, taken in turns; the
median of each's batches.  Processes run at different times, and this VM's
speed drifts: compare the ratios, which are each taken within one process.
"""
import json
import os
import subprocess
import sys

CASES = [(4096, 32, 64), (65536, 64, 128)]
SETTINGS = [("default", {}), ("OPENBLAS_THREAD_TIMEOUT=4", {"OPENBLAS_THREAD_TIMEOUT": "4"})]


def child():
    import time
    import numpy as np
    import bngrad
    from bench_gradients import case, settle      # (this file's directory is on sys.path)
    out = []
    for N, p1, p2 in CASES:
        X, y, p, dZ = case(N, p1, p2)
        grad = lambda: bngrad.gradients(X, y, p)
        floor = lambda: (X @ p.G1, X.T @ dZ)
        for f in (grad, floor):
            f()
            f()
        t0 = time.perf_counter()
        grad()
        one = time.perf_counter() - t0
        reps = max(3, int(0.02 / one))         # a batch of about 20 ms: inside the spin
        times = {"alone": [], "after": [], "numpy": []}
        for _ in range(15):
            for kind in times:
                settle(0.2)                    # past any spin left by the last batch (~0.12 s)
                if kind == "after":
                    floor()
                t0 = time.perf_counter()
                for _ in range(reps):
                    (floor if kind == "numpy" else grad)()
                times[kind].append((time.perf_counter() - t0) / reps)
        out.append({"N": N, "p1": p1, "p2": p2,
                    **{k: float(np.median(v)) for k, v in times.items()}})
    print(json.dumps({"numpy": np.__version__, "rows": out}))


def run(extra):
    env = dict(os.environ, **extra)
    res = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    results = [(name, run(extra)) for name, extra in SETTINGS]
    print(f"NumPy {results[0][1]['numpy']} ({sys.executable})")
    print()
    print("| N, p1, p2 | OpenBLAS setting | gradient alone (us) | gradient right after "
          "NumPy's products (us) | after / alone | NumPy's two products (us) | "
          "products / gradient alone |")
    print("|---|---|---|---|---|---|---|")
    for name, res in results:
        for r in res["rows"]:
            print(f"| {r['N']:,}, {r['p1']}, {r['p2']} | {name} | {1e6 * r['alone']:,.0f} | "
                  f"{1e6 * r['after']:,.0f} | {r['after'] / r['alone']:.2f} | "
                  f"{1e6 * r['numpy']:,.0f} | {r['numpy'] / r['alone']:.2f} |")


if __name__ == "__main__":
    child() if "--child" in sys.argv else main()
