"""numba's njit as every kernel uses it: nogil (engine.py runs kernels on
its own threads), and cached on disk where numba can write a cache.

Where no cache location is writable (a read-only install and HOME), the
kernels still import and run; they compile in every process instead, which
the warning says, with the remedy.
"""
import warnings

from numba import njit
from numba.core.caching import FunctionCache


def _probe():
    """A function in this directory, for numba to find a cache location for."""


def _cache_writable():
    try:
        FunctionCache(_probe)
    except RuntimeError as err:
        warnings.warn(
            f"bngrad: numba finds no writable cache location ({err}); the kernels will be "
            "compiled in every process (seconds each). Set NUMBA_CACHE_DIR to a writable "
            "directory to keep them.", RuntimeWarning, stacklevel=2)
        return False
    return True


CACHE = _cache_writable()


def jit(**options):
    return njit(cache=CACHE, nogil=True, error_model="numpy", **options)
