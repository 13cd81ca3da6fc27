"""Params, Gradients and gradients(): check once, call the engine once."""
import sys
from typing import NamedTuple

import numpy as np

from . import checks, engine, kernels
from .checks import ACTIVATIONS


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


def init_params(n_inputs, n_hidden, n_outputs=1, seed=0):
    """Random starting weights: G1 and G2 He/Glorot-scaled normals, gamma = 1,
    beta = 0, b = 0 (so BN starts as plain standardisation).  The draws are
    NumPy's (default_rng(seed)): R's bn_params draws with R's generator, so
    the same seed gives different weights there; to compare the languages
    on one net, make it in one and pass it to the other.  (A fit's seed,
    BNRegressor's and bn_fit's, gives the same net in both: its draws are
    the core's.)"""
    p1 = checks.whole("n_inputs", n_inputs)
    p2 = checks.whole("n_hidden", n_hidden)
    q = checks.whole("n_outputs", n_outputs)
    rng = np.random.default_rng(None if seed is None else checks.whole("seed", seed, 0))
    return Params(
        G1=rng.standard_normal((p1, p2)) * np.sqrt(2.0 / p1),
        gamma=np.ones(p2),
        beta=np.zeros(p2),
        G2=rng.standard_normal((p2, q)) / np.sqrt(p2),
        b=np.zeros(q),
    )


_F64 = np.dtype(np.float64)
_ndarray = np.ndarray
_empty = np.empty
_small = None          # engine's small kernel, once loaded


def gradients(X, y, params, activation="relu", eps=1e-5, ddof=0, weights=None):
    """Exact gradients of R = sum((y - yhat)^2) / N for the batch-normalised net.

    Parameters
    ----------
    X : array, N x p1
        Any real dtype or memory layout; never copied when float64, never written.
        A Dask array goes to bngrad.dask.gradients (one pass over its blocks
        for X's statistics, one for the gradient).
    y : array, N or N x q
    params : Params
        (G1, gamma, beta, G2, b); G2 may be a length-p2 vector (q = 1).
    activation : str
        One of ACTIVATIONS.
    eps, ddof : float, int
        Batch norm's variance is sum((z - mean)^2) / (N - ddof) + eps.
        eps = 0 needs every column of X @ G1 to vary, by more than rounding
        at its magnitude and with a variance above float64's smallest
        normal number (values near 1e-160 are too small): else a ValueError.
    weights : array of N, optional
        Frequency weights: an integer weight k counts a row k times, in the
        loss and in the batch statistics alike (W = sum(weights) stands for
        N).  None: every row counts once.

    Returns
    -------
    Gradients
        The loss and each gradient, shaped like its parameter.  Bad input
        raises ValueError or TypeError naming the argument.
    """
    global _small
    # Small X: the checks below would cost more than the gradient, so float64
    # arrays go straight to a kernel that checks its own arguments and
    # declines (NOT_SMALL) whatever it does not take; the general path then
    # checks everything and names what is wrong.  Only cheap tests of type
    # here: a call numba cannot match costs ~0.2 ms to refuse.
    G1, G2 = (params[0], params[3]) if type(params) is Params else (None, None)
    if (weights is None and type(X) is _ndarray and X.dtype is _F64 and X.ndim == 2
            and type(y) is _ndarray and y.dtype is _F64 and 1 <= y.ndim <= 2 and type(params) is Params
            and type(G1) is _ndarray and G1.ndim == 2 and type(G2) is _ndarray
            and 1 <= G2.ndim <= 2               # (a 0-d G2, one unit's one weight: the general path)
            and engine.takes_small(X.shape[0], X.shape[1], G1.shape[1])
            and type(activation) is str and type(eps) is float and type(ddof) is int):
        code = ACTIVATIONS.get(activation)
        vector = G2.ndim == 1
        if code is not None:
            if _small is None:
                _small = engine.ready(engine.small.gradient_small)
            p1, p2 = G1.shape
            q = 1 if vector else G2.shape[1]
            # the results, made here: a new array from numba costs more
            dG1, dgamma, dbeta, dG2, db = (_empty((p1, p2)), _empty(p2), _empty(p2),
                                           _empty((p2, q)), _empty(q))
            try:
                status, index, loss = _small(
                    X, y if y.ndim == 2 else y.reshape(-1, 1), engine.NO_WEIGHTS, G1,
                    params[1], params[2], G2.reshape(-1, 1) if vector else G2, params[4], code,
                    eps, ddof, engine.SMALL_MAX, dG1, dgamma, dbeta, dG2, db)
            except TypeError:                  # not float64 arrays of the dimensions it takes
                status = kernels.NOT_SMALL
            if status == kernels.OK:
                # no call of Gradients' __new__: its checks cost more than the tuple
                return tuple.__new__(Gradients, (loss, dG1, dgamma, dbeta,
                                                 dG2.reshape(-1) if vector else dG2, db))
            if status != kernels.NOT_SMALL:
                engine.raise_status(status, index, (y, *params))
    if is_dask(X):                   # X in chunks, maybe out of core: bngrad.dask
        from . import dask
        return dask.gradients(X, y, params, activation, eps, ddof, weights)
    checked = checks.net(X, y, params, activation, eps, ddof, weights)
    loss, *grads = engine.gradient(*checked)
    return Gradients(float(loss), *(g.reshape(np.shape(p)) for g, p in zip(grads, params)))


def is_dask(x):
    """Whether x is a Dask collection.  Where dask has not been imported, x
    cannot be one, so this never imports it (a tenth of a second)."""
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(x)
