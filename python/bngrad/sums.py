"""Sums over rows whose bits do not depend on NumPy's version.

R's side of the package runs on numpy<2 (reticulate 1.28 refuses NumPy 2)
and Python users have NumPy 2, so one fit runs under both.  NumPy 1.x adds
a run of more than 8192 values one buffer of 8192 at a time (each buffer
pairwise, the buffers' sums in order); NumPy 2 takes the whole run
pairwise.  At 20,000 rows y's mean, a single input's, or the weights' total
then differed in the last bit, and L-BFGS grew that over hundreds of
iterations into a different net (predictions 0.35 apart, y's sd 1.2).
These sums are NumPy 1.x's in either version, so the numbers R users have
always had do not move (the fit's own arrays are C-ordered; see
column_sums).  A C-ordered matrix of several columns is summed over its
rows one row at a time by both versions: column_sums leaves it to NumPy.
"""
import numpy as np

BLOCK = 8192                                   # NumPy 1.x's buffer (NPY_BUFSIZE)


def total(x):
    """The sum of a 1-d array's values, as NumPy 1.x adds them."""
    if x.ndim != 1:
        raise ValueError(f"sums.total takes a 1-d array, got {x.ndim} dimensions")
    n = x.size
    if n <= BLOCK:
        return x.sum()
    m = n - n % BLOCK
    parts = x[:m].reshape(-1, BLOCK).sum(axis=1)     # a buffer each, pairwise
    s = parts[0]
    for part in parts[1:]:                     # the buffers in order
        s = s + part
    return s + x[m:].sum() if m < n else s


def weights_total(w, N):
    """The weights' total as a float; N where there are none (the kernels'
    empty w: every row counts once)."""
    return float(total(w)) if w.size else float(N)


def column_sums(M):
    """M.sum(axis=0) of a 2-d array, as NumPy 1.x adds each column of M in
    C order (row after row, in both versions).  A Fortran-ordered M is made
    C-ordered first, so any layout gives these bits (NumPy 1 itself summed
    a Fortran M's columns pairwise: score() of such a y moved by an ulp)."""
    if M.shape[1] == 1:
        return np.array([total(M[:, 0])])
    return np.ascontiguousarray(M).sum(axis=0)


def average(A, w):
    """np.average(A, axis=0, weights=w) of a 2-d A, as NumPy 1.x computes it."""
    return column_sums(A * w[:, None]) / total(w)
