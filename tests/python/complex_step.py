"""An independent reference for the gradients: complex-step differentiation.

d f / d theta = Im f(theta + i h) / h  is exact to float64 rounding for any f
that is analytic along the step (no subtraction, so no cancellation): it
needs only a forward pass written for complex numbers, and shares no code or
algebra with bngrad's closed forms.  ReLU-type kinks are handled by branching
on the real part, which gives act'(0) = 0 for relu, like the core.
"""
import numpy as np

H = 1e-100


def act(a, name):
    if name == "relu":
        return np.where(a.real > 0, a, 0)
    if name == "leaky_relu":
        return np.where(a.real > 0, a, 0.01 * a)
    if name == "tanh":
        return np.tanh(a)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-a))
    if name == "softplus":
        with np.errstate(over="ignore"):
            return np.where(a.real > 0, a + np.log1p(np.exp(-a)), np.log1p(np.exp(a)))
    if name == "identity":
        return a
    raise ValueError(name)


def loss(X, Y, G1, gamma, beta, G2, b, activation, eps, ddof, w=None):
    """The net's loss, written plainly (works for real and complex weights);
    w: frequency weights (each row counted w_i times), None for ones."""
    w = np.ones(X.shape[0]) if w is None else np.asarray(w, dtype=float)
    W = w.sum()
    Z = X @ G1
    mu = (w[:, None] * Z).sum(axis=0) / W
    var = (w[:, None] * (Z - mu) ** 2).sum(axis=0) / (W - ddof)   # no abs(): stays analytic
    A = gamma * (Z - mu) / np.sqrt(var + eps) + beta
    yhat = act(A, activation) @ G2 + b
    return (w[:, None] * (Y - yhat) ** 2).sum() / W


def gradients(X, y, params, activation, eps, ddof, w=None):
    """(loss, [dG1, dgamma, dbeta, dG2, db]) with every parameter 2-D/1-D as given."""
    X = np.asarray(X, dtype=float)
    Y = np.asarray(y, dtype=float)
    P = [np.asarray(p, dtype=float) for p in params]
    if Y.ndim == 1:
        Y = Y[:, None]
    G2shape = P[3].shape
    Pc = [p.astype(complex).reshape(-1) for p in P]
    shapes = [p.shape for p in P]

    def f(Pc):
        G1, gamma, beta, G2, b = (v.reshape(s) for v, s in zip(Pc, shapes))
        if G2.ndim < 2:
            G2 = G2.reshape(-1, 1)
        return loss(X, Y, G1, gamma, beta, G2, b, activation, eps, ddof, w)

    grads = []
    for k, v in enumerate(Pc):
        g = np.empty(v.size)
        for m in range(v.size):
            v[m] += 1j * H
            g[m] = f(Pc).imag / H
            v[m] -= 1j * H
        grads.append(g.reshape(shapes[k]))
    assert grads[3].shape == G2shape
    return float(f(Pc).real), grads


def closed_form(X, Y, G1, gamma, beta, G2, b, activation, eps, ddof):
    """The textbook closed form with every N x p2 array materialised: a second
    reference, cheap enough for the large N the tiled kernels need tested."""
    N = X.shape[0]
    Z = X @ G1
    mu = Z.mean(axis=0)
    sd = np.sqrt(((Z - mu) ** 2).sum(axis=0) / (N - ddof) + eps)
    Zh = (Z - mu) / sd
    A = gamma * Zh + beta
    Hx = act(A, activation).real
    E = -2.0 / N * (Y - (Hx @ G2 + b))
    slope = act(A + 1j * H, activation).imag / H   # act' elementwise, by complex step
    S = (E @ G2.T) * slope
    dgamma = (S * Zh).sum(axis=0)
    dZ = gamma / sd * (S - S.mean(axis=0) - Zh * dgamma / (N - ddof))
    loss = ((Y - (Hx @ G2 + b)) ** 2).sum() / N
    return loss, [X.T @ dZ, dgamma, S.sum(axis=0), Hx.T @ E, E.sum(axis=0)]

