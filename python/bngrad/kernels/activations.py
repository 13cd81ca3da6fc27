"""Activations and their derivatives, for the kernels (numba) and predict."""
import numpy as np
from ._jit import jit

# Activation codes; the names users pass are mapped in checks.ACTIVATIONS.
RELU, LEAKY_RELU, TANH, SIGMOID, SOFTPLUS, IDENTITY = 0, 1, 2, 3, 4, 5
LEAKY_SLOPE = 0.01


@jit()
def sigmoid(a):
    # Where exp(-a) overflows to inf this gives 0, the exact limit: no branch needed.
    return 1.0 / (1.0 + np.exp(-a))


@jit()
def act_and_slope(a, code):
    """h = act(a) and act'(a), in one call (eq. H and act' in docs/derivation.md)."""
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
        # expm1 is several times faster than tanh here, and as accurate:
        # tanh(a) = expm1(2a) / (expm1(2a) + 2), saturated where 2a overflows.
        if abs(a) > 20.0:
            t = 1.0 if a > 0.0 else -1.0
        else:
            e = np.expm1(2.0 * a)
            t = e / (e + 2.0)
        # (1 - t)(1 + t), not 1 - t t: LLVM fused the latter into one FMA
        # where this function was compiled as a kernel's callee and not where
        # a Python call (kron, blend) compiled it first, so tanh's bits
        # depended on which call filled numba's cache first; a product of
        # two sums has nothing to fuse (and is the more accurate near |t| = 1)
        return t, (1.0 - t) * (1.0 + t)
    if code == SIGMOID:
        s = sigmoid(a)
        return s, s * (1.0 - s)
    if code == SOFTPLUS:
        # log(1 + e^a) without overflow for large a or underflow for small.
        return max(a, 0.0) + np.log1p(np.exp(-abs(a))), sigmoid(a)
    return a, 1.0


@jit()
def activate(A, code):
    """A -> act(A) in place (A C-ordered, 2-D): predict's forward pass."""
    n, p2 = A.shape
    for r in range(n):
        for j in range(p2):
            A[r, j] = act_and_slope(A[r, j], code)[0]
