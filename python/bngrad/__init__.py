"""bngrad: exact closed-form gradients of a one-hidden-layer batch-normalised net.

    yhat = act(BN(X G1)) G2 + b,   R = sum((y - yhat)^2) / N
"""
from . import kron
from .batchnorm import batchnorm_backward, batchnorm_forward
from .fit import BNRegressor, ConvergenceWarning, NotFittedError, UndefinedMetricWarning, forward
from .checks import ACTIVATIONS, InvalidParameterError
from .model import Gradients, Params, gradients, init_params

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS", "BNRegressor", "ConvergenceWarning", "Gradients", "InvalidParameterError",
    "NotFittedError", "Params",
    "UndefinedMetricWarning", "batchnorm_backward", "forward",
    "batchnorm_forward", "gradients", "init_params", "kron", "__version__",
]
