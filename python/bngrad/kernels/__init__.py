"""The numba kernels, one family per module, and nothing else.

    activations.py  act(a) and act'(a)
    tiled.py        the pass over X in row chunks: X's statistics, the
                    gradient's sums, and their fixed-order reduction
    small.py        small X: the whole gradient in one call, no BLAS

Every kernel that reads X takes it as a read-only float64 array of any
layout (numba's 'A'), so one compiled signature serves C, Fortran,
read-only and strided X alike; engine.py compiles or loads each signature
once, on first use.  Kernels report what only a pass over the data can find
(NaN or Inf, a flat column, overflow) as a status code with an index; the
message is the caller's to write.
"""
from .activations import IDENTITY, LEAKY_RELU, LEAKY_SLOPE, RELU, SIGMOID, SOFTPLUS, TANH

# Status codes.  INPUTS names the argument an index of NOT_FINITE points at.
OK, FLAT_COLUMN, NOT_FINITE, OVERFLOW_X, OVERFLOW_Z, OVERFLOW, NOT_SMALL = range(7)
UNDERFLOW_Z = 7
INPUTS = ("X", "y", "G1", "gamma", "beta", "G2", "b")

__all__ = ["RELU", "LEAKY_RELU", "TANH", "SIGMOID", "SOFTPLUS", "IDENTITY", "LEAKY_SLOPE",
           "OK", "FLAT_COLUMN", "NOT_FINITE", "OVERFLOW_X", "OVERFLOW_Z", "OVERFLOW",
           "NOT_SMALL", "UNDERFLOW_Z", "INPUTS"]
