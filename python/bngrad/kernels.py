"""Numba kernels: the elementwise heart of the gradient, and nothing else.

The kernels trust their inputs (model.py validates them): every array is
float64, shapes agree, N >= 2, sd > 0.

The two matrix products of the gradient (Z = X G1 and dG1 = X' dZ) are *not*
done here: numba's np.dot calls SciPy's OpenBLAS, a second thread pool beside
NumPy's, and two pools spinning on two cores made kernels several times
slower on this machine.  The products stay in NumPy; everything between them
(batch statistics, normalisation, activation, output layer, loss and the
batch-norm backward) is fused into two passes over Z here.
"""
import numpy as np
from numba import njit

# Activation codes; the names users pass are mapped in model.ACTIVATIONS.
RELU, LEAKY_RELU, TANH, SIGMOID, SOFTPLUS, IDENTITY = 0, 1, 2, 3, 4, 5
LEAKY_SLOPE = 0.01


@njit(cache=True, inline="always")
def _sigmoid(a):
    # Two branches so exp never overflows.
    if a >= 0.0:
        return 1.0 / (1.0 + np.exp(-a))
    e = np.exp(a)
    return e / (1.0 + e)


@njit(cache=True, inline="always")
def act_and_slope(a, code):
    """Activation h = act(a) and its derivative act'(a), in one call."""
    if code == RELU:
        # act'(0) = 0, the subgradient PyTorch and JAX use.
        if a > 0.0:
            return a, 1.0
        return 0.0, 0.0
    if code == LEAKY_RELU:
        if a > 0.0:
            return a, 1.0
        return LEAKY_SLOPE * a, LEAKY_SLOPE
    if code == TANH:
        t = np.tanh(a)
        return t, 1.0 - t * t
    if code == SIGMOID:
        s = _sigmoid(a)
        return s, s * (1.0 - s)
    if code == SOFTPLUS:
        # log(1 + e^a) without overflow for large a or underflow for small.
        return max(a, 0.0) + np.log1p(np.exp(-abs(a))), _sigmoid(a)
    return a, 1.0


@njit(cache=True)
def column_stats(Z, ddof):
    """Per-column mean and variance (denominator N - ddof) of Z, two-pass."""
    N, p2 = Z.shape
    mu = np.zeros(p2)
    for i in range(N):
        for j in range(p2):
            mu[j] += Z[i, j]
    mu /= N
    var = np.zeros(p2)
    for i in range(N):
        for j in range(p2):
            d = Z[i, j] - mu[j]
            var[j] += d * d
    var /= N - ddof
    return mu, var


@njit(cache=True)
def net_backward(Z, y, mu, sd, gamma, beta, G2, b, code, ddof):
    """Loss and gradients of the net above Z = X G1.

    Z: N x p2, y: N x q, mu/sd/gamma/beta: p2, G2: p2 x q, b: q.
    Returns (R, dZ, dgamma, dbeta, dG2, db), dZ being N x p2.

    Pass 1 runs the forward row by row and builds S = dR/dA in the buffer that
    becomes dZ, with the column sums sum(S) and sum(S * Zh) it needs.
    Pass 2 turns S into dZ = (gamma/sd) (S - mean(S) - Zh sum(S Zh)/(N-ddof)),
    recomputing Zh from Z rather than storing a second N x p2 array.
    """
    N, p2 = Z.shape
    q = G2.shape[1]
    dZ = np.empty((N, p2))
    zh = np.empty(p2)
    h = np.empty(p2)
    r = np.empty(q)
    dgamma = np.zeros(p2)
    dbeta = np.zeros(p2)
    dG2 = np.zeros((p2, q))
    db = np.zeros(q)
    c = -2.0 / N
    rss = 0.0
    for i in range(N):
        for j in range(p2):
            zh[j] = (Z[i, j] - mu[j]) / sd[j]
            h[j], dZ[i, j] = act_and_slope(gamma[j] * zh[j] + beta[j], code)
        for k in range(q):
            yhat = b[k]
            for j in range(p2):
                yhat += h[j] * G2[j, k]
            e = y[i, k] - yhat
            rss += e * e
            r[k] = c * e          # dR/dyhat[i, k]
            db[k] += r[k]
        for j in range(p2):
            dH = 0.0
            for k in range(q):
                dG2[j, k] += h[j] * r[k]
                dH += r[k] * G2[j, k]
            s = dH * dZ[i, j]     # S[i, j] = dR/dH * act'(A)
            dZ[i, j] = s
            dbeta[j] += s
            dgamma[j] += s * zh[j]
    for i in range(N):
        for j in range(p2):
            zhij = (Z[i, j] - mu[j]) / sd[j]
            dZ[i, j] = (gamma[j] / sd[j]) * (
                dZ[i, j] - dbeta[j] / N - zhij * dgamma[j] / (N - ddof))
    return rss / N, dZ, dgamma, dbeta, dG2, db
