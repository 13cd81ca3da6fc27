"""Parameters, gradients and the checking of everything a caller hands in.

Validation happens once, here; the kernels trust what they are given.
"""
import contextlib
import numbers
from typing import NamedTuple

import numpy as np
from numba import get_num_threads

from . import kernels

ACTIVATIONS = {
    "relu": kernels.RELU,
    "leaky_relu": kernels.LEAKY_RELU,
    "tanh": kernels.TANH,
    "sigmoid": kernels.SIGMOID,
    "softplus": kernels.SOFTPLUS,
    "identity": kernels.IDENTITY,
}


class Params(NamedTuple):
    """Weights of yhat = act(BN(X G1)) G2 + b."""
    G1: np.ndarray      # p1 x p2
    gamma: np.ndarray   # p2
    beta: np.ndarray    # p2
    G2: np.ndarray      # p2 x q (a length-p2 vector means q = 1)
    b: np.ndarray       # q


class Gradients(NamedTuple):
    """The loss R = sum((y - yhat)^2) / N and dR/d(each parameter)."""
    loss: float
    G1: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    G2: np.ndarray
    b: np.ndarray


def _whole(name, value, lowest=1):
    """A whole number >= lowest; R hands whole numbers over as floats."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a whole number >= {lowest}, got {value!r}")
    if not (np.isfinite(value) and value >= lowest and float(value) == int(value)):
        raise ValueError(f"{name} must be a whole number >= {lowest}, got {value!r}")
    return int(value)


def init_params(n_inputs, n_hidden, n_outputs=1, seed=0):
    """Random starting weights: G1 and G2 He/Glorot-scaled normals, gamma = 1,
    beta = 0, b = 0 (so BN starts as plain standardisation)."""
    p1 = _whole("n_inputs", n_inputs)
    p2 = _whole("n_hidden", n_hidden)
    q = _whole("n_outputs", n_outputs)
    rng = np.random.default_rng(None if seed is None else _whole("seed", seed, 0))
    return Params(
        G1=rng.standard_normal((p1, p2)) * np.sqrt(2.0 / p1),
        gamma=np.ones(p2),
        beta=np.zeros(p2),
        G2=rng.standard_normal((p2, q)) / np.sqrt(p2),
        b=np.zeros(q),
    )


def real_array(name, value, ndims, finite=True):
    """`value` as a float64 array with ndim in `ndims`, finite unless told.

    Never copies a float64 array (C, Fortran or read-only alike) and never
    writes to it; integer, unsigned, boolean and float32 data are converted.
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers, got dtype {arr.dtype}")
    if arr.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if finite and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or Inf")
    return arr


def check_eps_ddof(eps, ddof):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"eps must be a number >= 0, got {eps!r}")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    if isinstance(ddof, bool) or not isinstance(ddof, numbers.Real) or ddof not in (0, 1):
        raise ValueError(f"ddof must be 0 or 1, got {ddof!r}")
    return float(eps), int(ddof)


def check_spread(var, eps, Z, what):
    """With eps = 0 a constant column would divide by zero.

    'Constant' allows for rounding: a column whose spread is below what
    float64 can resolve at its magnitude counts as constant.
    """
    if eps > 0:
        return
    scale = np.abs(Z).max(axis=0)
    flat = np.sqrt(var) <= 64 * np.finfo(np.float64).eps * scale
    flat |= var == 0
    if flat.any():
        j = int(np.flatnonzero(flat)[0])
        raise ValueError(
            f"column {j} of {what} has zero variance, and eps = 0 divides by it; "
            "use eps > 0 or change X / G1")


def _small(name, value, ndims):
    """A parameter or y as a C-ordered, writeable float64 array (copied only
    if it is not one already), so that the kernels compile for that one
    layout whatever R or numpy hands over.  NaN and Inf are the kernels' to
    find (kernels.NOT_FINITE): checking here would cost more than the
    gradient of a small net."""
    arr = real_array(name, value, ndims, finite=False)
    if arr.flags.c_contiguous and arr.flags.writeable and arr.dtype == np.float64:
        return arr
    return np.array(arr, dtype=np.float64, order="C")


def check_net(X, y, params, activation, eps, ddof):
    """Validate and convert the arguments of `gradients`.

    Returns float64 (X, Y, G1, gamma, beta, G2, b) with Y and G2 2-D, the
    activation code, eps and ddof.  X is C or Fortran ordered, not yet
    checked for NaN or Inf: x_stats does that in its pass over X.
    """
    X = real_array("X", X, (2,), finite=False)
    if not (X.flags.c_contiguous or X.flags.f_contiguous):
        X = np.ascontiguousarray(X)          # a strided view: the kernels want rows or columns
    N, p1 = X.shape
    if N < 2:
        raise ValueError(f"X must have at least 2 rows (batch statistics), got {N}")
    if not isinstance(params, (tuple, list)) or len(params) != 5:
        raise TypeError("params must be a Params (G1, gamma, beta, G2, b)")
    G1 = _small("G1", params[0], (2,))
    if G1.shape[0] != p1:
        raise ValueError(f"G1 must have {p1} rows (the columns of X), got shape {G1.shape}")
    p2 = G1.shape[1]
    gamma = _small("gamma", params[1], (0, 1)).reshape(-1)
    beta = _small("beta", params[2], (0, 1)).reshape(-1)
    for name, v in (("gamma", gamma), ("beta", beta)):
        if v.size != p2:
            raise ValueError(f"{name} must have length {p2} (the columns of G1), got {v.size}")
    G2 = _small("G2", params[3], (0, 1, 2))
    if G2.ndim < 2:
        G2 = G2.reshape(-1, 1)
    if G2.shape[0] != p2:
        raise ValueError(f"G2 must have {p2} rows (the columns of G1), got shape {G2.shape}")
    q = G2.shape[1]
    b = _small("b", params[4], (0, 1)).reshape(-1)
    if b.size != q:
        raise ValueError(f"b must have length {q} (the columns of G2), got {b.size}")
    Y = _small("y", y, (1, 2))
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    if Y.shape[0] != N:
        raise ValueError(f"y must have {N} rows (the rows of X), got shape {Y.shape}")
    if Y.shape[1] != q:
        raise ValueError(f"y must have {q} columns (the columns of G2), got shape {Y.shape}")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    eps, ddof = check_eps_ddof(eps, ddof)
    return X, Y, G1, gamma, beta, G2, b, ACTIVATIONS[activation], eps, ddof


class XStats(NamedTuple):
    """What the batch statistics of X G1 need from X alone (see kernels.py)."""
    m: np.ndarray     # column means of X
    Cn: np.ndarray    # centred cross-products (X - 1m')'(X - 1m')


# Below this many values in X and Z together, one thread beats starting two.
PARALLEL_MIN = 200_000


def _threads(X, p2):
    if X.shape[0] * (X.shape[1] + p2) < PARALLEL_MIN:
        return 1
    return get_num_threads()


class _ScipyBlas:
    """Keeps the BLAS that numba's np.dot calls (SciPy's OpenBLAS) on one
    thread while the kernels' own threads run, so that no two thread pools
    compete for the cores; the user's setting is restored afterwards."""
    limiter = None

    @classmethod
    def single(cls):
        if cls.limiter is None:
            import os
            import scipy.linalg.cython_blas  # noqa: F401  (what numba's np.dot loads)
            from threadpoolctl import ThreadpoolController
            ctl = ThreadpoolController()
            paths = [c.filepath for c in ctl.lib_controllers
                     if c.user_api == "blas"
                     and os.path.basename(os.path.dirname(c.filepath)).startswith("scipy")]
            cls.limiter = ctl.select(filepath=paths) if paths else False
        return cls.limiter.limit(limits=1) if cls.limiter else contextlib.nullcontext()


def x_stats(X, nthreads=1):
    """XStats of a validated X; ValueError if X holds NaN or Inf."""
    tile = kernels.tile_rows(X.shape[1], 0)
    if nthreads > 1:
        with _ScipyBlas.single():
            m, Cn, finite = kernels.x_stats_parallel(X, tile, nthreads)
    else:
        m, Cn, finite = kernels.x_stats(X, tile)
    if not finite:
        raise ValueError("X contains NaN or Inf")
    return XStats(m, Cn)


def check_finite(checked):
    """NaN or Inf in any array of check_net's result is an error naming it
    (the fast path leaves this to the kernels; slower paths call this)."""
    for name, arr in zip(kernels.INPUTS, checked[:7]):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or Inf")


# Up to this many values in X and Z together (N (p1 + p2)), gradients first
# tries kernels.gradient_small; measured faster than the tiled kernel there.
SMALL_MAX = 1 << 15
_F64 = np.dtype(np.float64)
_ndarray = np.ndarray
_OK, _NOT_SMALL = kernels.OK, kernels.NOT_SMALL


def _small_kernel(*args):
    """Stands for kernels.gradient_small until _small_first loads it."""
    raise TypeError("gradient_small not loaded")


def _small_first(X, y, params, code, eps, ddof):
    """What gradient_small's dispatcher had no signature for: load the one
    for these ndims of y and G2 and this layout (once per process) and call
    it, or NOT_SMALL if an argument is not a float64 array of an ndim it
    takes."""
    global _small_kernel
    shapes = [(type(a) is _ndarray and a.dtype == _F64, np.ndim(a)) for a in params]
    if (X.ndim != 2 or y.ndim not in (1, 2)
            or shapes[:3] != [(True, 2), (True, 1), (True, 1)]
            or shapes[3] not in ((True, 1), (True, 2)) or shapes[4] != (True, 1)):
        return _NOT_SMALL, 0, None
    exact = all(a.flags.c_contiguous and a.flags.writeable for a in (X, y, *params))
    key = (y.ndim, params[3].ndim, exact)
    if kernels.small_signature(*key) in kernels.gradient_small.signatures:
        return _NOT_SMALL, 0, None           # loaded, yet refused: leave it to the general path
    kernels.load_small(*key)
    _small_kernel = kernels.gradient_small
    try:
        return _small_kernel(X, y, *params, code, eps, ddof, SMALL_MAX)
    except TypeError:
        return _NOT_SMALL, 0, None


def gradients(X, y, params, activation="relu", eps=1e-5, ddof=0):
    """Exact gradients of R = sum((y - yhat)^2) / N for the batch-normalised net.

    X: N x p1 (any real dtype or memory layout), y: N or N x q,
    params: Params.  Returns Gradients, each gradient shaped like its parameter.
    """
    # For small X the checks below would cost more than the gradient, so
    # float64 arrays go straight to a kernel that checks its own arguments
    # and declines (NOT_SMALL) whatever it does not take; the general path
    # then checks everything and names what is wrong.  Only cheap tests of
    # type are made here: a call numba cannot match costs ~0.2 ms to refuse.
    if (type(X) is _ndarray and X.dtype is _F64 and type(y) is _ndarray
            and y.dtype is _F64 and type(params) is Params and type(activation) is str
            and type(eps) is float and type(ddof) is int):
        code = ACTIVATIONS.get(activation)
        if code is not None:
            try:
                status, index, values = _small_kernel(X, y, *params, code, eps, ddof, SMALL_MAX)
            except TypeError:        # a signature not loaded yet, or not a float64 array
                status, index, values = _small_first(X, y, params, code, eps, ddof)
            if status == _OK:
                # values is (loss, dG1, ..., db) already: no call of Gradients' __new__
                return tuple.__new__(Gradients, values)
            if status != _NOT_SMALL:
                _raise(status, index)
    checked = check_net(X, y, params, activation, eps, ddof)
    X, Y, G1, gamma, beta, G2, b, code, eps, ddof = checked
    shape = [np.shape(p) for p in params]
    nthreads = _threads(X, G1.shape[1])
    if nthreads > 1:
        return _gradients(checked, x_stats(X, nthreads), nthreads, shape)
    result = kernels.gradient_fresh(X, Y, G1, gamma, beta, G2, b, code, eps, ddof,
                                    kernels.tile_rows(X.shape[1], 0),
                                    kernels.tile_rows(X.shape[1], G1.shape[1]))
    return _result(result, shape)


def _gradients(checked, stats, nthreads, shape):
    """The kernel call, given checked arguments and X's statistics."""
    X, Y, G1, gamma, beta, G2, b, code, eps, ddof = checked
    tile = kernels.tile_rows(G1.shape[0], G1.shape[1])
    args = (X, stats.m, stats.Cn, Y, G1, gamma, beta, G2, b, code, eps, ddof, tile)
    if nthreads > 1:
        with _ScipyBlas.single():
            return _result(kernels.gradient_parallel(*args, nthreads), shape)
    return _result(kernels.gradient(*args), shape)


def _raise(status, index):
    """The error a kernel's status code stands for."""
    if status == kernels.NOT_FINITE:
        raise ValueError(f"{kernels.INPUTS[index]} contains NaN or Inf")
    if status == kernels.FLAT_COLUMN:
        raise ValueError(
            f"column {index} of X @ G1 has zero variance, and eps = 0 divides by it; "
            "use eps > 0 or change X / G1")


def _result(result, shape):
    """Gradients from a kernel's (status, index, values), or the error."""
    status, index, (loss, dG1, dgamma, dbeta, dG2, db) = result
    _raise(status, index)
    return Gradients(float(loss), dG1, dgamma.reshape(shape[1]), dbeta.reshape(shape[2]),
                     dG2.reshape(shape[3]), db.reshape(shape[4]))
