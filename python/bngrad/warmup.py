"""Compile every numba kernel into the on-disk cache: python -m bngrad.warmup

The kernels only ever see fresh C-ordered float64 arrays (model.py makes
them so), so one call compiles the one signature each kernel has; the
layouts R and numpy hand over are exercised too, to prove no other is made.
"""
import time

import numpy as np

from . import kernels
from .model import ACTIVATIONS, Params, gradients


def warm():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 3))
    p = Params(rng.standard_normal((3, 2)), np.ones(2), np.zeros(2),
               rng.standard_normal((2, 1)), np.zeros(1))
    R_like = np.asfortranarray(X)
    R_like.flags.writeable = False
    for x in (X, R_like, X.astype(np.int32)):
        for activation in ACTIVATIONS:
            gradients(x, X[:, 0], p, activation=activation)
    return {k.__name__: len(k.signatures)
            for k in (kernels.column_stats, kernels.net_backward)}


if __name__ == "__main__":
    t = time.perf_counter()
    sigs = warm()
    print(f"bngrad: numba kernels cached ({sigs}) in {time.perf_counter() - t:.1f} s")
