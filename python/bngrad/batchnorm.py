"""The batch-norm layer as a forward/backward pair (cs231n style).

Normalises over every axis but the last: an (n, h, w, f) volume is
normalised per feature f over n*h*w values, as in the first seed.
"""
import numpy as np

from . import checks
from .checks import real_array


def batchnorm_forward(x, gamma, beta, eps=1e-5, ddof=0):
    """out = gamma * (x - mean) / sqrt(var + eps) + beta, per last-axis feature.

    x: (..., f) with at least 2 axes; gamma, beta: length f.
    Returns (out, cache); cache is what batchnorm_backward needs.
    """
    x = real_array("x", x, range(2, 33))
    f = x.shape[-1]
    n = x.size // f if f else 0
    gamma = real_array("gamma", gamma, (0, 1)).reshape(-1)
    beta = real_array("beta", beta, (0, 1)).reshape(-1)
    for name, v in (("gamma", gamma), ("beta", beta)):
        if v.size != f:
            raise ValueError(f"{name} must have length {f} (the last axis of x), got {v.size}")
    eps, ddof = checks.eps_ddof(eps, ddof)
    if f == 0:
        raise ValueError(f"x must have at least one feature (its last axis), got shape {x.shape}")
    if n < 2:
        raise ValueError(f"x must hold at least 2 values per feature, got {n}")
    axes = tuple(range(x.ndim - 1))
    with np.errstate(over="ignore", invalid="ignore"):
        mean = x.mean(axis=axes)
        var = ((x - mean) ** 2).sum(axis=axes) / (n - ddof)
    checks.variance_finite(var, "x", "x")
    checks.spread(var, eps, x.reshape(n, f), "x")
    inv_sd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_sd
    # (gamma copied: the caller's array, changed in place before the
    # backward, changed dx)
    cache = (xhat, gamma.copy(), inv_sd, ddof)
    return gamma * xhat + beta, cache


def batchnorm_backward(dout, cache):
    """Gradients (dx, dgamma, dbeta) of the layer, given dLoss/dout.

    dx = gamma/sd * (dout - mean(dout) - xhat * sum(dout * xhat) / (n - ddof))
    """
    if not (isinstance(cache, tuple) and len(cache) == 4
            and all(isinstance(a, np.ndarray) for a in cache[:3])):
        got = (f"a tuple of {len(cache)}" if isinstance(cache, tuple) and len(cache) != 4
               else type(cache).__name__)
        raise TypeError("cache must be the cache batchnorm_forward returned "
                        f"(a tuple of 4 arrays and ddof), got {got}")
    xhat, gamma, inv_sd, ddof = cache
    dout = real_array("dout", dout, (xhat.ndim,))
    if dout.shape != xhat.shape:
        raise ValueError(f"dout must have shape {xhat.shape} (the forward's x), got {dout.shape}")
    axes = tuple(range(xhat.ndim - 1))
    n = xhat.size // xhat.shape[-1]
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * xhat).sum(axis=axes)
    dx = (gamma * inv_sd) * (dout - dbeta / n - xhat * (dgamma / (n - ddof)))
    return dx, dgamma, dbeta
