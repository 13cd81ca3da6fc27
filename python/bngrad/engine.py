"""Running the kernels: which path, which threads, which BLAS, which errors.

* Paths.  Small X (N (p1 + p2) <= SMALL_MAX) takes kernels.small in one
  call.  Otherwise X's statistics (one pass) and the gradient (one more)
  run over fixed row chunks (kernels.tiled) and are reduced in chunk order.
* Threads.  Chunks go to a pool of plain Python threads running nogil
  kernels, the calling thread included; each thread takes an equal
  contiguous run of chunks in one kernel call.  The chunks, and the order
  their sums are added in, depend on the shapes only, so every thread count
  gives the same bits.
  No OpenMP or TBB runtime is started, so a process may fork at any time
  (the pool is dropped in the child).
* BLAS.  The tiled kernels' products call SciPy's OpenBLAS (through numba's
  np.dot).  While any kernel runs it is held to one thread (SingleBlas), so
  its pool never competes with ours and its results never depend on a
  thread count; fits hold every BLAS in the process to one thread.
* Compiling.  Each kernel has one signature, read-only 'A' layout arrays,
  to which numba converts any float64 array without compiling; it is
  compiled (or loaded from the cache) on first use, once, under a lock.
"""
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from . import kernels
from .kernels import bayes, small, tiled
from .kernels.activations import activate as _activate

# Up to this many values of X and Z together, kernels.small (no BLAS,
# measured faster there); above, the tiled pass.
SMALL_MAX = 1 << 15
# From this many values of X and Z together, chunks go to several threads.
PARALLEL_MIN = 200_000


# --- compiling on first use ---------------------------------------------------

def _signatures():
    from numba import types as nt
    i64, f64 = nt.int64, nt.float64
    R1 = nt.Array(f64, 1, "A", readonly=True)
    R2 = nt.Array(f64, 2, "A", readonly=True)
    C1, C2 = (nt.Array(f64, d, "C", readonly=True) for d in (1, 2))
    W1, W2, W3 = (nt.Array(f64, d, "C") for d in (1, 2, 3))
    return {
        small.gradient_small: (R2, R2, R1, R2, R1, R1, R2, R1, i64, f64, i64, i64),
        tiled.grad_chunks: (R2, R1, R1, C2, R1, R1, R1, C2, R1, R2, R1, f64, i64, i64, i64, i64,
                            i64, W3, W3, W2, W2, W2, W1),
        _activate: (W2, i64),
        bayes.fit_bayes: (C2, C1, C2, C1, i64, i64, f64, i64, f64, i64, i64, f64, i64, W1, W1, W1),
    }


_compile_lock = threading.Lock()
_ready = set()


def ready(kernel):
    """`kernel` with its one signature compiled or loaded, compiling nothing
    later: numba then converts any float64 layout to it.  Thread-safe."""
    if kernel not in _ready:
        with _compile_lock:
            if kernel not in _ready:
                kernel.compile(_signatures()[kernel])
                kernel.disable_compile()
                _ready.add(kernel)
    return kernel


def kernels_used():
    """Every kernel with a signature (what warmup compiles)."""
    return list(_signatures())


# --- BLAS held to one thread ----------------------------------------------------

class SingleBlas:
    """A context in which the process's BLAS libraries run on one thread.

    Counted, not nested blindly: the first thread in saves each library's
    setting and sets 1, the last one out restores it, so concurrent callers
    never restore a setting under each other's feet.  which="scipy" holds
    only SciPy's OpenBLAS (what the kernels call); "all" every BLAS that is
    loaded (a fit, whose optimiser and array work use NumPy's and SciPy's).
    """

    def __init__(self, which):
        self.which = which
        self.lock = threading.Lock()
        self.depth = 0
        self.libs = None
        self.saved = []

    def _find(self):
        import scipy.linalg.cython_blas  # noqa: F401  (loads the BLAS numba's np.dot calls)
        from threadpoolctl import ThreadpoolController
        libs = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        if self.which == "scipy":
            libs = [c for c in libs
                    if os.path.basename(os.path.dirname(c.filepath)).startswith("scipy")]
        return libs

    def __enter__(self):
        with self.lock:
            if self.depth == 0:
                if self.libs is None:
                    self.libs = self._find()
                self.saved = [c.get_num_threads() for c in self.libs]
                for c, n in zip(self.libs, self.saved):
                    if n != 1:
                        c.set_num_threads(1)
            self.depth += 1
        return self

    def __exit__(self, *exc):
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                for c, n in zip(self.libs, self.saved):
                    if n != 1:
                        c.set_num_threads(n)

    def held(self, f):
        """f run inside this context: one hold for a whole call, where the
        contexts inside it then cost a counter (threadpoolctl's hold and
        release cost ~10 us; a tiled gradient took three)."""
        @functools.wraps(f)
        def run(*args, **kwargs):
            with self:
                return f(*args, **kwargs)
        return run

    def _after_fork(self):
        self.lock = threading.Lock()
        if self.depth:
            self.depth = 1
            self.__exit__()


kernel_blas = SingleBlas("scipy")
fit_blas = SingleBlas("all")


# --- threads ------------------------------------------------------------------

_pool = None
_pool_lock = threading.Lock()


def num_threads():
    """Threads for one call: BNGRAD_NUM_THREADS, else the cores this process
    may run on (NUMBA_NUM_THREADS caps it, as numba users expect)."""
    n = os.environ.get("BNGRAD_NUM_THREADS") or os.environ.get("NUMBA_NUM_THREADS")
    if n:
        try:
            return max(1, int(n))
        except ValueError:
            pass
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                     # not on Linux
        return os.cpu_count() or 1


def _get_pool(workers):
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < workers:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bngrad")
        return _pool


def _after_fork_in_child():
    global _pool, _pool_lock, _compile_lock
    _pool = None                               # its threads did not come along
    _pool_lock = threading.Lock()
    _compile_lock = threading.Lock()
    kernel_blas._after_fork()
    fit_blas._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def run_chunks(kernel, nchunks, threads, args, outs):
    """kernel(*args, c_lo, c_hi, *outs) over chunks 0..nchunks-1, on up to
    `threads` threads; each chunk writes only its own slot of outs.

    Each thread gets one contiguous run of chunks, in one kernel call: a
    call per chunk took the GIL back once per chunk, and on a busy or
    virtual machine each hand-over of the GIL cost more than a chunk."""
    threads = min(threads, nchunks)
    if threads <= 1:
        kernel(*args, 0, nchunks, *outs)
        return
    cuts = [nchunks * t // threads for t in range(threads + 1)]
    pool = _get_pool(threads - 1)
    futures = [pool.submit(kernel, *args, cuts[t], cuts[t + 1], *outs)
               for t in range(1, threads)]
    try:
        kernel(*args, cuts[0], cuts[1], *outs)
    finally:
        for f in futures:
            f.result()


def _threads_for(N, p1, p2, threads):
    if threads is None:
        threads = num_threads() if N * (p1 + p2) >= PARALLEL_MIN else 1
    return threads


# --- the gradient -------------------------------------------------------------

NO_WEIGHTS = np.empty(0)           # the kernels' "every row counts once"
NO_WEIGHTS.flags.writeable = False

class XStats(NamedTuple):
    """What the batch statistics of X G1 need from X alone (kernels.tiled)."""
    x0: np.ndarray    # X's first row: the shift
    d: np.ndarray     # mean(X - 1x0'), weighted by w if there are weights
    Cn: np.ndarray    # centred cross-products Xc' diag(w) Xc
    W: float          # sum(w), or N


def _gemm(A, B):
    """A @ B by SciPy's BLAS (call inside kernel_blas: one thread, fixed bits)."""
    from scipy.linalg.blas import dgemm
    return dgemm(1.0, A, B)


# Overflow is found by the isfinite checks that follow and named there: no
# numpy warning before the error (errstate is per thread, hence each worker's own).
def _quiet(f):
    @functools.wraps(f)
    def quiet(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return f(*args, **kwargs)
    return quiet


# Rows per chunk of the statistics pass: about 2 MiB of X per chunk, so a
# chunk's shifted copy stays small beside X; a constant of p1 only.
def stats_rows(p1):
    return max(64, (1 << 18) // p1)


@_quiet
def _stats_chunk(X, w, x0, lo, hi, S, C, c):
    """Chunk c of X's statistics: S[c] = column sums of D = X[lo:hi] - x0,
    C[c] = D'D, each row weighted by w if w is not empty."""
    from scipy.linalg.blas import dgemv, dsyrk
    D = X[lo:hi] - x0                          # NumPy releases the GIL here; f2py's BLAS does not
    if w.size:
        sw = np.sqrt(w[lo:hi])[:, None]
        S[c] = (sw * sw * D).sum(axis=0)
        D *= sw
    else:
        S[c] = dgemv(1.0, D.T, np.ones(hi - lo))    # D.T: Fortran order, no copy
    U = dsyrk(1.0, D.T)                        # D'D, upper triangle: half a GEMM
    G = np.triu(U)
    C[c] = G + np.triu(G, 1).T


def stats_sums(X, w, x0, threads=1):
    """Per-chunk sums of X's statistics: S[c] = column sums and C[c] = D'D
    of D = X[rows of c] - 1x0' over fixed row chunks (shapes only), rows
    weighted by w (empty for none), on up to `threads` threads.  bngrad.dask
    calls this on its blocks.

    NumPy and SciPy's BLAS (held to one thread), not a kernel: a cold first
    call then compiles only the gradient's kernel (a statistics kernel cost
    two seconds more of it)."""
    N, p1 = X.shape
    rows = stats_rows(p1)
    nchunks = -(-N // rows)
    S = np.empty((nchunks, p1))
    C = np.empty((nchunks, p1, p1))

    def run(c_lo, c_hi):
        for c in range(c_lo, c_hi):
            _stats_chunk(X, w, x0, c * rows, min((c + 1) * rows, N), S, C, c)
    with kernel_blas:
        run_chunks(run, nchunks, threads, (), ())
    return S, C


@_quiet
def x_stats(X, threads=None, w=None):
    """XStats of a checked float64 X (any layout) with case weights w
    (checked; None or empty for none); errors for NaN, Inf or overflow."""
    N, p1 = X.shape
    x0 = np.array(X[0], dtype=np.float64)
    w = NO_WEIGHTS if w is None else w
    W = float(w.sum()) if w.size else float(N)
    S, C = stats_sums(X, w, x0, _threads_for(N, p1, 0, threads))
    return stats_from_sums(x0, S, C, W, lambda: np.isfinite(X).all())


@_quiet
def stats_from_sums(x0, S, C, W, x_finite):
    """XStats from the chunks' sums S[c], C[c] (as stats_sums gives them),
    added here in chunk order; x_finite() tells NaN or Inf in X from
    overflow, asked only when the sums are not finite.  bngrad.dask calls
    this with its blocks' sums."""
    s = S.sum(axis=0)                          # chunk order: the same bits for any threads
    if not np.isfinite(s).all():
        if not x_finite():
            raise_status(kernels.NOT_FINITE, 0)
        raise_status(kernels.OVERFLOW_X, 0)
    d = s / W
    Cn = C.sum(axis=0) - W * np.outer(d, d)
    if not np.isfinite(Cn).all():
        raise_status(kernels.OVERFLOW_X, 0)
    return XStats(x0, d, Cn, W)


@_quiet
def _sd(Cn, G1, eps, ddof, W):
    """sd of the columns of Z = X G1 from Cn (eq. var); with eps = 0 a
    column whose variance is zero to rounding is FLAT_COLUMN."""
    with kernel_blas:
        CG = _gemm(Cn, G1)
        bound = (np.abs(G1) * _gemm(np.abs(Cn), np.abs(G1))).sum(axis=0)   # rounding scale
    v = (G1 * CG).sum(axis=0)
    if not (np.isfinite(v).all() and np.isfinite(bound).all()):
        raise_status(kernels.OVERFLOW_Z, int(np.flatnonzero(~np.isfinite(v + bound))[0]))
    if eps == 0.0:
        flat = v <= 64 * np.finfo(np.float64).eps * bound
        if flat.any():
            raise_status(kernels.FLAT_COLUMN, int(np.flatnonzero(flat)[0]))
    sd = np.sqrt(np.maximum(v, 0.0) / (W - ddof) + eps)
    if not np.isfinite(sd).all():
        raise_status(kernels.OVERFLOW_Z, int(np.flatnonzero(~np.isfinite(sd))[0]))
    return sd, CG


@_quiet
@kernel_blas.held
def tiled_gradient(X, Y, w, G1, gamma, beta, G2, b, code, eps, ddof, stats=None, threads=None):
    """(R, dG1, dgamma, dbeta, dG2, db) by the tiled pass; Y and G2 2-D,
    w case weights or empty.  `stats` (XStats of X and w) may be given, as a
    fit does once for all calls."""
    N, p1 = X.shape
    p2, q = G1.shape[1], G2.shape[1]
    threads = _threads_for(N, p1, p2, threads)
    if stats is None:
        stats = x_stats(X, threads, w)
    W = stats.W
    inputs = (Y, G1, gamma, beta, G2, b)
    for name, a in zip(kernels.INPUTS[1:], inputs):
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or Inf")
    sd, CG = _sd(stats.Cn, G1, eps, ddof, W)
    chunk = tiled.chunk_rows(p1, p2, N)
    tile = tiled.even_tile(chunk, tiled.tile_rows(p1, p2))
    nchunks = -(-N // chunk)
    outs = (
        np.empty((nchunks, p1, p2)), np.empty((nchunks, p2, q)), np.empty((nchunks, q)),
        np.empty((nchunks, p2)), np.empty((nchunks, p2)), np.empty(nchunks))
    G1c, G2c = np.ascontiguousarray(G1), np.ascontiguousarray(G2)
    with kernel_blas:
        run_chunks(ready(tiled.grad_chunks), nchunks, threads,
                    (X, stats.x0, stats.d, G1c, sd, gamma, beta, G2c, b, Y, w, W, code, chunk,
                     tile),
                    outs)
    return finish_gradient(outs, CG, sd, gamma, W, ddof)


@_quiet
def finish_gradient(sums, CG, sd, gamma, W, ddof):
    """(R, dG1, dgamma, dbeta, dG2, db) from the chunks' sums (XS, dG2, db,
    sumS, sumSZc, rss as grad_chunks writes them), added in chunk order, then
    eq. dG1-onepass; CG, sd from _sd.  bngrad.dask calls this with its
    blocks' sums."""
    XS, dG2, db, sumS, sumSZc, rss = sums
    dgamma = sumSZc.sum(axis=0) / sd           # 1'(S * Zh)
    c = dgamma / (W - ddof)
    dG1 = (XS.sum(axis=0) - CG * (c / sd)) * (gamma / sd)
    values = (rss.sum() / W, dG1, dgamma, sumS.sum(axis=0), dG2.sum(axis=0), db.sum(axis=0))
    if not all(np.isfinite(v).all() for v in values):
        raise_status(kernels.OVERFLOW, 0)
    return values


def small_gradient(X, Y, w, G1, gamma, beta, G2, b, code, eps, ddof):
    """(status, index, values) of kernels.small; NOT_SMALL if it declines."""
    return ready(small.gradient_small)(X, Y, w, G1, gamma, beta, G2, b, code, eps, ddof,
                                       SMALL_MAX)


def gradient(X, Y, w, G1, gamma, beta, G2, b, code, eps, ddof, stats=None, threads=None):
    """(R, dG1, dgamma, dbeta, dG2, db) of checked arguments (checks.net)."""
    if stats is None and X.shape[0] * (X.shape[1] + G1.shape[1]) <= SMALL_MAX:
        status, index, values = small_gradient(X, Y, w, G1, gamma, beta, G2, b, code, eps,
                                               ddof)
        if status != kernels.NOT_SMALL:
            raise_status(status, index, (Y, G1, gamma, beta, G2, b))
            return values
    return tiled_gradient(X, Y, w, G1, gamma, beta, G2, b, code, eps, ddof, stats, threads)


def activate(A, code):
    """A -> act(A) in place (A C-ordered, writeable, 2-D)."""
    ready(_activate)(A, code)


MESSAGES = {
    kernels.FLAT_COLUMN: "column {index} of X @ G1 has zero variance, and eps = 0 divides by it; "
                         "use eps > 0 or change X / G1",
    kernels.OVERFLOW_X: "X is too large for float64: the spread of its columns, squared, "
                        "overflows (rescale X, e.g. standardise its columns)",
    kernels.OVERFLOW_Z: "X @ G1 is too large for float64: column {index} has a variance that "
                        "overflows (rescale X or G1)",
    kernels.OVERFLOW: "the loss or a gradient overflows float64 although X, y and the parameters "
                      "are finite (rescale X, y or the parameters)",
}


def raise_status(status, index, inputs=None):
    """The ValueError a kernel's status code stands for (none for OK).
    NOT_FINITE with index -1: the first of `inputs` (y, G1, gamma, beta,
    G2, b) that holds NaN or Inf, or overflow if none does."""
    if status == kernels.OK:
        return
    if status == kernels.NOT_FINITE and index < 0:
        for name, a in zip(kernels.INPUTS[1:], inputs):
            if not np.isfinite(a).all():
                raise ValueError(f"{name} contains NaN or Inf")
        status = kernels.OVERFLOW
    if status == kernels.NOT_FINITE:
        raise ValueError(f"{kernels.INPUTS[index]} contains NaN or Inf")
    raise ValueError(MESSAGES[status].format(index=index))
