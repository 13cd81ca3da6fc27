"""Compile every kernel into numba's on-disk cache: python -m bngrad.warmup

Each kernel has one signature (read-only arrays of any layout; see
engine.py), so this compiles each once; a cache made by it serves every
layout, dtype and path a user's call can take.  Where the cache lives is
numba's choice: next to the source if writable, else NUMBA_CACHE_DIR or the
user's cache directory.
"""
import time

from . import engine


def warm():
    """Compile or load every kernel; returns {kernel name: seconds}."""
    took = {}
    for kernel in engine.kernels_used():
        t = time.perf_counter()
        engine.ready(kernel)
        took[kernel.__name__] = time.perf_counter() - t
    return took


if __name__ == "__main__":
    t = time.perf_counter()
    took = warm()
    detail = ", ".join(f"{k} {v:.1f} s" for k, v in took.items())
    print(f"bngrad: {len(took)} numba kernels cached in {time.perf_counter() - t:.1f} s ({detail})")
