"""Compile every kernel into numba's on-disk cache: python -m bngrad.warmup

Each kernel has one signature (read-only arrays of any layout; see
engine.py), so this compiles each once; a cache made by it serves every
layout, dtype and path a user's call can take.  Where the cache lives is
numba's choice: NUMBA_CACHE_DIR where it is set (and usable), else next to
the source if writable, else the user's cache directory (~/.cache/numba);
cache_location() says which, and so does this command's last line.
"""
import argparse
import glob
import os
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


def cache_location():
    """The directory numba caches the kernels in, or None where none is
    writable (they compile in every process then)."""
    from numba.core.caching import FunctionCache
    from .kernels import _jit
    return FunctionCache(_jit._probe)._cache_path if _jit.CACHE else None


def clear():
    """Remove the kernels' cached code (numba's .nbi and .nbc files in
    cache_location()); returns how many files.  numba checks a cached kernel
    against its own source file only, and a helper from another file
    (activations.py's act_and_slope) is compiled into it: after editing the
    source in place, the cache must go."""
    where = cache_location()
    files = glob.glob(os.path.join(glob.escape(where), "*.nb[ic]")) if where else []
    for f in files:
        try:
            os.remove(f)
        except FileNotFoundError:              # another --fresh got there first
            pass
    return len(files)


if __name__ == "__main__":
    # (a description of its own: under python -OO there is no __doc__)
    parser = argparse.ArgumentParser(prog="python -m bngrad.warmup",
                                     description="Compile every kernel into numba's on-disk cache.",
                                     epilog="Run it once after installing.")
    parser.add_argument("--fresh", action="store_true",
                        help="first remove what the cache holds (after editing the source in "
                             "place: numba checks a kernel against its own file only)")
    if parser.parse_args().fresh:
        print(f"bngrad: removed {clear()} cached files")
    t = time.perf_counter()
    took = warm()
    detail = ", ".join(f"{k} {v:.1f} s" for k, v in took.items())
    print(f"bngrad: {len(took)} numba kernels cached in {time.perf_counter() - t:.1f} s ({detail})")
    where = cache_location()
    print(f"bngrad: numba's cache: {where}" if where else
          "bngrad: no writable numba cache: the kernels compile in every process "
          "(set NUMBA_CACHE_DIR to a writable directory)")
