"""Compile every numba kernel into the on-disk cache: python -m bngrad.warmup

Each kernel that reads X compiles once per layout numba tells apart: C or
Fortran order, writeable or read-only (what reticulate hands over for an R
matrix), on one thread and on several.  gradient_small is the exception: it
has two signatures per ndim of y and G2 (kernels.small_signature), all
C-ordered and read-only 'A' layout, to which any float64 layout converts.
Everything else the kernels see is a fresh C-ordered float64 array (model.py
makes it so).
"""
import time

import numpy as np

from . import kernels, model
from .model import ACTIVATIONS, Params, gradients


def layouts(X):
    F = np.asfortranarray(X)
    out = [np.ascontiguousarray(X), F]
    for A in (np.ascontiguousarray(X), np.asfortranarray(X)):
        A.flags.writeable = False
        out.append(A)
    return out


def warm():
    rng = np.random.default_rng(0)
    p = Params(rng.standard_normal((3, 2)), np.ones(2), np.zeros(2),
               rng.standard_normal((2, 1)), np.zeros(1))
    small = rng.standard_normal((8, 3))
    # A medium X takes the tiled kernel on one thread, a large one threads;
    # gradient_small's signatures are loaded below (small X uses only some).
    medium = rng.standard_normal((model.SMALL_MAX // 5 + 1, 3))
    large = rng.standard_normal((model.PARALLEL_MIN // 4, 3))
    shape = [np.shape(v) for v in p]
    for X in (small, medium, large):
        for x in layouts(X) + [X.astype(np.int32)]:
            for activation in ACTIVATIONS:
                gradients(x, X[:, 0], p, activation=activation)
            # the path of a fit, which keeps X's statistics between calls
            checked = model.check_net(x, X[:, 0], p, "relu", 1e-5, 0)
            model._gradients(checked, model.x_stats(checked[0]), 1, shape)
    for key in kernels.SMALL_SIGNATURES:
        kernels.load_small(*key)
    for code in ACTIVATIONS.values():
        kernels.activate(np.zeros((2, 2)), code)     # BNRegressor.predict's forward pass
    return signatures()


def signatures():
    """How many signatures each kernel that reads X has compiled."""
    return {k.__name__: len(k.signatures) for k in (
        kernels.gradient_small, kernels.x_stats, kernels.x_stats_parallel,
        kernels.gradient_fresh, kernels.gradient, kernels.gradient_parallel)}


if __name__ == "__main__":
    t = time.perf_counter()
    sigs = warm()
    print(f"bngrad: numba kernels cached ({sigs}) in {time.perf_counter() - t:.1f} s")
