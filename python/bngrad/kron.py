"""The net's Jacobians as explicit vec/Kronecker matrices (for small N).

Column-major vec throughout (vec stacks columns, as in Magnus & Neudecker),
so vec(A X B) = (B' kron A) vec(X).  Every factor of the chain rule is its own
dense matrix here; `gradients` multiplies them and nothing else.  The fast
core (model.gradients) computes the same numbers in broadcast Hadamard form;
docs/derivation.md shows why the two are one.

    Z = X G1,  Zh = (Z - 1 mu') / sd,  A = Zh diag(gamma) + 1 beta',
    H = act(A),  yhat = H G2 + 1 b',  R = sum((y - yhat)^2) / N
"""
import numpy as np

from . import checks, engine, kernels
from .checks import real_array
from .kernels.activations import act_and_slope
from .model import Gradients

MAX_DENSE = 4096
"""Largest N * p2 (and N * q) for which dense Jacobians are built: the BN
Jacobian alone is (N p2)^2 doubles, 128 MiB at this limit."""


def vec(M):
    """Stack the columns of M."""
    return np.asarray(M).reshape(-1, order="F")


def _check_size(N, width, what):
    if N * width > MAX_DENSE:
        raise ValueError(
            f"N * {what} = {N * width} is too large for dense Jacobians "
            f"(limit bngrad.kron.MAX_DENSE = {MAX_DENSE}); use bngrad.gradients")


def _check_weights_jacobians(N, p1, p2, q):
    """The weights' Jacobians, I_p2 kron Zh (N p2 x p2^2), I_p2 kron X
    (N p2 x p1 p2) and I_q kron H (N q x p2 q), within the BN Jacobian's
    budget, MAX_DENSE^2 doubles: N p2 <= MAX_DENSE alone let p2 = 512 at
    N = 8 ask for 8 GiB."""
    size = max(N * p2 * p2 * max(p1, p2), N * q * q * p2)
    if size > MAX_DENSE ** 2:
        raise ValueError(
            f"the weights' Jacobians would hold {size} values, too many for dense Jacobians "
            f"(limit bngrad.kron.MAX_DENSE^2 = {MAX_DENSE ** 2}: N p2^2 max(p1, p2) and "
            "N p2 q^2 at most); use fewer hidden units or outputs, or bngrad.gradients")


def _stats(Z, eps, ddof, what="Z", change="Z", rescale="Z"):
    """Zh and sd of Z's columns; errors name Z as `what`, and what to change
    or rescale (the core's words for X @ G1: "X / G1", "X or G1")."""
    N = Z.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):
        mu = Z.mean(axis=0)
        var = ((Z - mu) ** 2).sum(axis=0) / (N - ddof)
    checks.variance_finite(var, what, rescale)
    checks.spread(var, eps, Z, what, change, rescale)
    sd = np.sqrt(var + eps)
    return (Z - mu) / sd, sd


def bn_jacobian(Z, gamma, eps=1e-5, ddof=0):
    """d vec(A) / d vec(Z)' for A = Zh diag(gamma) + 1 beta', (N p2) x (N p2).

    Block diagonal (column j of A depends on column j of Z only); block j is
    (gamma_j / sd_j) (I - 11'/N - zh_j zh_j' / (N - ddof)).  The middle term
    is the batch mean's dependence on Z, the last the batch variance's.
    """
    Z = real_array("Z", Z, (2,))
    N, p2 = Z.shape
    if N < 2:
        raise ValueError(f"Z must have at least 2 rows, got {N}")
    _check_size(N, p2, "p2")
    gamma = real_array("gamma", gamma, (0, 1)).reshape(-1)
    if gamma.size != p2:
        raise ValueError(f"gamma must have length {p2} (the columns of Z), got {gamma.size}")
    eps, ddof = checks.eps_ddof(eps, ddof)
    Zh, sd = _stats(Z, eps, ddof)
    J = np.zeros((N * p2, N * p2))
    centre = np.eye(N) - np.ones((N, N)) / N
    for j in range(p2):
        block = centre - np.outer(Zh[:, j], Zh[:, j]) / (N - ddof)
        J[j * N:(j + 1) * N, j * N:(j + 1) * N] = gamma[j] / sd[j] * block
    return J


def dZ_dG1(X, p2):
    """d vec(Z) / d vec(G1)' = I_p2 kron X, since vec(X G1 I) = (I kron X) vec(G1)."""
    return np.kron(np.eye(p2), X)


def selection_matrix(p2):
    """K, p2^2 x p2, with K e_j = vec(e_j e_j'): vec(diag(gamma)) = K gamma."""
    K = np.zeros((p2 * p2, p2))
    K[np.arange(p2) * (p2 + 1), np.arange(p2)] = 1.0
    return K


def dA_dgamma(Zh):
    """d vec(A) / d gamma' = (I_p2 kron Zh) K, from vec(Zh diag(gamma) I) = (I kron Zh) vec(diag(gamma))."""
    p2 = Zh.shape[1]
    return np.kron(np.eye(p2), Zh) @ selection_matrix(p2)


def dA_dbeta(N, p2):
    """d vec(A) / d beta' = I_p2 kron 1_N, since vec(1 beta') = (I kron 1) beta."""
    return np.kron(np.eye(p2), np.ones((N, 1)))


def _act(A, activation):
    """act(A) and act'(A) elementwise, from the core's own scalar definition."""
    code = checks.activation_code(activation)
    A = real_array("A", A, (2,))
    pairs = np.array([act_and_slope(a, code) for a in A.reshape(-1)])
    return pairs[:, 0].reshape(A.shape), pairs[:, 1].reshape(A.shape)


def dH_dA(A, activation):
    """d vec(H) / d vec(A)' = diag(vec(act'(A))): the activation acts elementwise."""
    return np.diag(vec(_act(A, activation)[1]))


def dyhat_dH(G2, N):
    """d vec(yhat) / d vec(H)' = G2' kron I_N, since vec(I H G2) = (G2' kron I) vec(H)."""
    return np.kron(np.asarray(G2).T, np.eye(N))


def dyhat_dG2(H, q):
    """d vec(yhat) / d vec(G2)' = I_q kron H, since vec(H G2 I) = (I kron H) vec(G2)."""
    return np.kron(np.eye(q), H)


def dyhat_db(N, q):
    """d vec(yhat) / d b' = I_q kron 1_N, since vec(1 b') = (I kron 1) b."""
    return np.kron(np.eye(q), np.ones((N, 1)))


def gradients(X, y, params, activation="relu", eps=1e-5, ddof=0):
    """The core's Gradients, computed only by multiplying explicit Jacobians."""
    checked = checks.net(X, y, params, activation, eps, ddof)
    X, Y, _, G1, gamma, beta, G2, b, _, eps, ddof = checked
    checks.finite_all(("X", "y", "G1", "gamma", "beta", "G2", "b"), (X, Y, G1, gamma, beta, G2, b))
    N, p2, q = X.shape[0], G1.shape[1], G2.shape[1]
    _check_size(N, p2, "p2")
    _check_size(N, q, "q")
    _check_weights_jacobians(N, X.shape[1], p2, q)
    Z = X @ G1
    Zh, _ = _stats(Z, eps, ddof, "X @ G1", "X / G1", "X or G1")
    A = Zh * gamma + beta
    H = _act(A, activation)[0]
    yhat = H @ G2 + b
    with np.errstate(over="ignore", invalid="ignore"):     # said below, as the core says it
        loss = ((Y - yhat) ** 2).sum() / N
    # The chain rule, row vector by Jacobian, from the loss back to each weight.
    g_yhat = -2.0 / N * vec(Y - yhat)                  # dR / d vec(yhat)'
    dG2 = g_yhat @ dyhat_dG2(H, q)
    db = g_yhat @ dyhat_db(N, q)
    g_A = g_yhat @ dyhat_dH(G2, N) @ dH_dA(A, activation)
    dgamma = g_A @ dA_dgamma(Zh)
    dbeta = g_A @ dA_dbeta(N, p2)
    g_Z = g_A @ bn_jacobian(Z, gamma, eps, ddof)
    dG1 = g_Z @ dZ_dG1(X, p2)
    if not all(np.isfinite(a).all() for a in (loss, dG1, dgamma, dbeta, dG2, db)):
        raise ValueError(engine.MESSAGES[kernels.OVERFLOW])
    shape = [np.shape(p) for p in params]
    return Gradients(
        float(loss), dG1.reshape(G1.shape, order="F"), dgamma.reshape(shape[1]),
        dbeta.reshape(shape[2]), dG2.reshape(G2.shape, order="F").reshape(shape[3]),
        db.reshape(shape[4]))
