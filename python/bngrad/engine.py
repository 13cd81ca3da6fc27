"""Running the kernels: which path, which threads, which BLAS, which errors.

* Paths.  Small X (N (p1 + p2) <= SMALL_MAX, and N p1 p2 <= SMALL_PRODUCT)
  takes kernels.small in one call.  Otherwise X's statistics (one pass) and the gradient (one more)
  run over fixed row chunks (kernels.tiled), with the statistics turned
  into d and sd here, in NumPy, between the passes, and the chunks' sums
  added in chunk order at the end.
* Threads.  The calling thread and up to num_threads() - 1 helpers (plain
  Python threads running the same nogil kernel call) claim chunks from a
  shared counter (Helpers, kernels/sync.py).  The chunks, and the order
  their sums are added in, depend on the shapes only, so every thread count
  gives the same bits.  No OpenMP or TBB runtime is started, so a process
  may fork at any time (the helpers are dropped in the child; before a call
  from R returns they are put to sleep, quiesce(), since R forks from C).
* BLAS.  The kernels' products call SciPy's OpenBLAS (kernels/blas.py).
  While a tiled kernel runs it is held to one thread (SingleBlas), so its
  pool never competes with ours and its results never depend on a thread
  count; the small kernel's products are too small for OpenBLAS (what
  NumPy's and SciPy's wheels ship) to thread.
  Fits hold every BLAS in the process to one thread.
* Compiling.  Each kernel has one signature, read-only 'A' layout arrays,
  to which numba converts any float64 array without compiling; it is
  compiled (or loaded from the cache) on first use, once, under a lock.
"""
import functools
import math
import os
import threading
import warnings
from typing import NamedTuple

import numpy as np

from . import kernels
from .sums import weights_total
from .kernels import bayes, small, tiled
from .kernels.activations import activate as _activate

# Up to this many values of X and Z together, kernels.small (one call, no
# statistics pass, measured faster there), where its products are small
# enough to run on the calling thread; above, the tiled passes.  Checked
# here too, so that a first call never compiles a kernel that declines.
SMALL_MAX = 1 << 15
SMALL_PRODUCT = small.SMALL_PRODUCT


def takes_small(N, p1, p2):
    """Whether a gradient of N rows, p1 inputs and p2 units takes
    kernels.small (which then needs no statistics of X)."""
    return N * (p1 + p2) <= SMALL_MAX and N * p1 * p2 <= SMALL_PRODUCT
# From this many values of X and Z together, chunks go to several threads
# (measured: a second thread paid from about 50 000).
PARALLEL_MIN = 50_000


# --- compiling on first use ---------------------------------------------------

def _signatures():
    from numba import types as nt
    i64, f64, b1 = nt.int64, nt.float64, nt.boolean
    R1 = nt.Array(f64, 1, "A", readonly=True)
    R2 = nt.Array(f64, 2, "A", readonly=True)
    C1, C2 = (nt.Array(f64, d, "C", readonly=True) for d in (1, 2))
    W1, W2, W3 = (nt.Array(f64, d, "C") for d in (1, 2, 3))
    I1 = nt.Array(i64, 1, "C")
    return {
        small.gradient_small: (R2, R2, R1, R2, R1, R1, R2, R1, i64, f64, i64, i64, W2, W1, W1,
                               W2, W1),
        tiled.gradient_pass: (R2, R1, f64, R1, C2, R1, R1, C2, R1, R2, i64, i64, i64, i64, R1,
                              R1, W3, W3, W3, W2, W1, I1, I1, i64, i64),
        _activate: (W2, i64),
        bayes.fit_bayes: (C2, C1, C2, f64, C1, i64, i64, f64, i64, f64, C1, b1, i64, i64, i64,
                          f64, i64, I1, W1, W1, W1, W1),
        bayes.net_loo_rows: (R2, R1, R2, R1, i64, i64, f64, i64, R1, R1, f64, W2),
        bayes.linear_evidence: (C1, C1, f64, i64, f64, i64, f64),
    }


_compile_lock = threading.Lock()
_ready = set()


def ready(kernel):
    """`kernel` with its one signature compiled or loaded, compiling nothing
    later: numba then converts any float64 layout to it.  Thread-safe."""
    if kernel not in _ready:
        _check_fork()
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
    """A context in which every BLAS library in the process runs on one
    thread: NumPy's and SciPy's (the kernels' products, a fit's optimiser and
    array work between kernel calls).

    One counted hold for the whole process, not nested blindly: the first
    thread in saves each library's setting and sets 1, the last one out
    restores it, so concurrent callers (gradients and fits alike) never
    restore a setting under each other's feet.  (Two holds with counters of
    their own over the same library did: one restored two threads while the
    other's fit ran, and fits in threads lost their bits.)
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.depth = 0
        self.libs = None
        self.saved = []

    def _find(self):
        import scipy.linalg.cython_blas  # noqa: F401  (loads the BLAS the kernels call)
        from threadpoolctl import ThreadpoolController
        return [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]

    @staticmethod
    def _set(c, n):
        """c.set_num_threads(n) from whichever thread holds or releases.
        threadpoolctl >= 3.8 lets only one thread (the first to set it, for
        as long as it lives) set an OpenBLAS pool's size and ignores the
        others silently, so a hold taken in a worker thread after the main
        thread had set one did nothing; this one is the process's only
        setter while it holds, so it takes control for each set and hands it
        back."""
        clear = getattr(type(c), "clear_controlling_thread", None)
        if clear is not None:
            clear(force=True)
        c.set_num_threads(n)
        if clear is not None:
            clear(force=True)

    def __enter__(self):
        _check_fork()
        with self.lock:
            if self.depth == 0:
                if self.libs is None:
                    self.libs = self._find()
                self.saved = [c.get_num_threads() for c in self.libs]
                for c, n in zip(self.libs, self.saved):
                    if n != 1:
                        self._set(c, 1)
            self.depth += 1
        return self

    def __exit__(self, *exc):
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                for c, n in zip(self.libs, self.saved):
                    if n != 1:
                        self._set(c, n)

    def _after_fork(self):
        self.lock = threading.Lock()
        if self.depth:
            self.depth = 1
            self.__exit__()


single_blas = SingleBlas()


# --- threads ------------------------------------------------------------------

def num_threads():
    """Threads for one call: BNGRAD_NUM_THREADS, else the cores this process
    may run on; NUMBA_NUM_THREADS caps either, as numba users expect."""
    n = _threads_setting("BNGRAD_NUM_THREADS")
    if n is None:
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:                 # not on Linux
            n = os.cpu_count() or 1
    cap = _threads_setting("NUMBA_NUM_THREADS")
    return n if cap is None else min(n, cap)


def _threads_setting(name):
    """The environment variable `name` as a whole number >= 1, or None where
    it is unset; any other value warns and counts as unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n >= 1:
        return n
    from .checks import user_level            # (checks imports engine)
    warnings.warn(f"bngrad: {name}={raw!r} is not a whole number >= 1 and is ignored",
                  RuntimeWarning, stacklevel=user_level())
    return None


_pid = os.getpid()


def _check_fork():
    """Reset as after a fork where this process was forked without Python's
    at-fork hooks running: R's mclapply, doParallel and makeForkCluster fork
    from C, and a child waited forever on the parent's helper threads."""
    if os.getpid() != _pid:
        _after_fork_in_child()


def _after_fork_in_child():
    global _compile_lock, _helpers, _pid
    _pid = os.getpid()
    _helpers = Helpers()                       # its threads did not come along
    _compile_lock = threading.Lock()
    single_blas._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def run_chunks(kernel, nchunks, threads, args, outs, cancel=None):
    """kernel(*args, c_lo, c_hi, *outs) over chunks 0..nchunks-1, on up to
    `threads` threads; each chunk writes only its own slot of outs.

    Each thread gets one contiguous run of chunks, in one kernel call: a
    call per chunk took the GIL back once per chunk, and on a busy or
    virtual machine each hand-over of the GIL cost more than a chunk.  The
    threads are started for the call and joined, not pooled: a pool's worker
    still runs Python after it hands back its result, and where R forks
    (mclapply) while that worker waits for the GIL, which R's thread holds,
    the child waited forever for a GIL switch to a thread it does not have.
    Every thread is joined before this returns, an interrupt included
    (cancel(), if given, is called first, to cut their work short)."""
    threads = min(threads, nchunks)
    if threads <= 1:
        kernel(*args, 0, nchunks, *outs)
        return
    _check_fork()
    cuts = [nchunks * t // threads for t in range(threads + 1)]
    errors = [None] * threads

    def part(t):
        try:
            kernel(*args, cuts[t], cuts[t + 1], *outs)
        except BaseException as err:
            errors[t] = err
    others = []
    try:
        for t in range(1, threads):
            others.append(threading.Thread(target=part, args=(t,), name="bngrad", daemon=True))
            others[-1].start()
        # the caller's own error (or interrupt) is the one it sees, whatever
        # the others raise meanwhile; they are waited for all the same
        kernel(*args, cuts[0], cuts[1], *outs)
    except BaseException:
        if cancel is not None:
            cancel()
        raise
    finally:
        _join(others, cancel)
    for err in errors[1:]:
        if err is not None:
            raise err


def _join(threads, cancel=None):
    """Join every started thread; an interrupt meanwhile is raised once they
    all have ended (after cancel())."""
    caught = None
    for t in threads:
        while t.ident is not None and t.is_alive():
            try:
                t.join()
            except BaseException as err:
                caught = caught or err
                if cancel is not None:
                    cancel()
    if caught is not None:
        raise caught


def quiesce():
    """Before the process goes back to R: every helper asleep, none
    spinning or waiting for the GIL.  R's thread holds the GIL while R
    runs, and R forks from C (mclapply, doParallel), where Python's at-fork
    handling never runs; a child forked while a helper waited for the GIL
    found a switch to that thread pending and waited for it forever.
    (Ending and joining the helpers instead, which would also cover a helper
    descheduled for 5 ms between its count and its wait, made bn_grad at
    N = 1e5 on a busy machine 2.3-2.4x its idle time, against 1.6x parked:
    bench_busy.R.)"""
    _check_fork()
    _helpers.park()


class Helpers:
    """Threads that help the caller's thread with a kernel call whose
    threads claim their work from a shared counter (kernels/sync.py,
    kernels.tiled.gradient_pass).

    The caller never waits for a helper: it posts the call, starts on the
    work at once, and returns when all of it is done; a helper that wakes
    late finds less work, or none.  A helper that has done its part waits
    for the next call inside the kernel, without the GIL, for HELP_NS
    (calls in a row find it awake: waking a thread costs 30-80 us on a
    virtual machine, more than a pass at moderate N, and the waker pays
    much of it), then sleeps on a condition until a call is posted.
    """

    def __init__(self):
        self.box = np.zeros(1, np.int64)           # box[POSTED]: calls posted so far
        lock = threading.RLock()
        self.cond = threading.Condition(lock)
        self.parked = threading.Condition(lock)    # a helper fell asleep (park)
        self.job = (0, None, None)                 # (number, kernel, args) of the latest call
        self.count = 0
        self.sleeping = 0                          # helpers in cond.wait ...
        self.waking = 0                            # ... of which notified, not yet running
        self.threads = []

    def run(self, kernel, helpers, args):
        """kernel(*args, box, 0, lead=1) here, with up to `helpers` helpers."""
        if helpers <= 0:
            kernel(*args, _NO_BOX, 0, 1)
            return
        with self.cond:
            self.threads = [t for t in self.threads if t.is_alive()]
            while len(self.threads) < helpers:
                t = threading.Thread(target=self._serve, name="bngrad-helper", daemon=True)
                self.threads.append(t)
                t.start()
            self.count += 1
            number = self.count
            self.job = (number, kernel, args)
            if self.sleeping:
                self.waking = self.sleeping
                self.cond.notify_all()
        try:
            kernel(*args, self.box, 0, 1)
        finally:
            with self.cond:                    # the call's arrays are not the helpers' to keep
                if self.job[0] == number:
                    self.job = (number, None, ())

    def park(self, timeout=0.5):
        """Until every helper sleeps on the condition (see quiesce): a post
        with no work ends their wait in the kernel at once."""
        with self.cond:
            self.threads = [t for t in self.threads if t.is_alive()]
            if self.sleeping - self.waking >= len(self.threads):
                return
            self.count += 1
            self.job = (self.count, None, ())
            # not atomic: a kernel's post lost to it would have woken them alike
            self.box[tiled.POSTED] += 1
            # each sleeper counted has let go of the lock inside cond.wait; a
            # helper that died meanwhile (its failure warned as an error) counts no more
            self.parked.wait_for(lambda: self.sleeping - self.waking >=
                                 sum(t.is_alive() for t in self.threads), timeout)

    def _serve(self):
        last = 0
        while True:
            seen = int(self.box[0])
            job = self.job
            if job[0] > last:
                last = job[0]
                if job[1] is not None:         # else its caller is done already
                    # its part of the call, then (still in the kernel, without
                    # the GIL) wait for the next post
                    try:
                        job[1](*job[2], self.box, seen, 0)
                    except Exception as err:   # its caller does the work; say why
                        warnings.warn(f"bngrad: a helper thread failed: {err!r}",
                                      RuntimeWarning, stacklevel=1)
                job = None                     # a finished call's arrays are not ours to keep
                continue
            job = None
            with self.cond:
                while self.job[0] <= last:
                    self.sleeping += 1
                    self.parked.notify_all()
                    self.cond.wait()
                    self.sleeping -= 1
                    self.waking = max(self.waking - 1, 0)


_helpers = Helpers()
_NO_BOX = np.zeros(0, np.int64)                 # a call without helpers posts nothing


def _threads_for(N, p1, p2, threads):
    if threads is None:
        threads = num_threads() if N * (p1 + p2) >= PARALLEL_MIN else 1
    return threads


# --- the gradient -------------------------------------------------------------

NO_WEIGHTS = np.empty(0)           # the kernels' "every row counts once"
NO_WEIGHTS.flags.writeable = False

class XStats(NamedTuple):
    """What the batch statistics of X G1 need from X alone (kernels.tiled)."""
    x0: np.ndarray    # the shift: X's first row (of a weight near the largest: shift_row)
    d: np.ndarray     # mean(X - 1x0'), weighted by w if there are weights
    Cn: np.ndarray    # centred cross-products Xc' diag(w) Xc
    W: float          # sum(w), or N


# Overflow is found by the isfinite checks that follow and named there: no
# numpy warning before the error (errstate is per thread, hence each worker's own).
def _quiet(f):
    @functools.wraps(f)
    def quiet(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return f(*args, **kwargs)
    return quiet


def _pass(X, w, W, x0, G1, gamma, beta, G2, b, Y, code, phases, d, sd, threads,
          between=None):
    """kernels.tiled.gradient_pass over X on this thread and up to
    threads - 1 helpers: the chunks' slots (C1s, XS1, dG2, db, rss).  With
    phases STATS | GRAD, between(C1s) writes d and sd from the statistics
    (or raises) while the helpers wait."""
    N, p1 = X.shape
    p2, q = G1.shape[1], G2.shape[1]
    chunk = tiled.chunk_rows(p1, p2, N)
    tile = tiled.even_tile(chunk, tiled.tile_rows(p1, p2))
    nchunks = -(-N // chunk)
    grad = nchunks if phases & tiled.GRAD else 0
    slots = (np.empty((nchunks if phases & tiled.STATS else 0, p1 + 1, p1)),
             np.empty((grad, p1 + 1, p2)), np.empty((grad, q, p2)), np.empty((grad, q)),
             np.empty(grad))
    sync = np.zeros(tiled.SYNC_SLOTS, np.int64)
    threads = min(threads, nchunks)
    sync[tiled.HELPERS] = threads - 1
    kernel = ready(tiled.gradient_pass)
    args = (X, w, W, x0, G1, gamma, beta, G2, b, Y, code, chunk, tile, phases, d, sd, *slots,
            sync)
    with single_blas:
        done = False
        try:
            _helpers.run(kernel, threads - 1, args)
            if phases == tiled.STATS | tiled.GRAD:
                between(slots[0])
                kernel(*args, _NO_BOX, 0, 2)
            done = True
        finally:
            # an error (or Ctrl-C) before the gradient's pass was let start:
            # end the call, or helpers that joined would wait for it for good
            if not done and phases & tiled.GRAD and sync[tiled.READY] == 0:
                sync[tiled.STATUS] = 1
                kernel(*args, _NO_BOX, 0, 2)
    return slots


_NONE1, _NONE2 = np.zeros(0), np.zeros((0, 0))
_NONE1.flags.writeable = _NONE2.flags.writeable = False


@_quiet
def stats_sums(X, w, x0, threads=1):
    """The chunks' sums [D'WD; w'D] of X's statistics (D = X - 1x0', rows
    weighted by w, empty for none), over the same fixed row chunks as a
    gradient; bngrad.dask calls this on its blocks and adds them in order."""
    return _pass(X, w, weights_total(w, X.shape[0]), x0, _NONE2, _NONE1, _NONE1, _NONE2,
                 _NONE1, _NONE2, 0, tiled.STATS, _NONE1, _NONE1, threads)[0]


def shift_row(X, w):
    """x0, the row the statistics' sums shift X by: its first row of a weight
    at least 2^-10 of the largest (kernels.small.SHIFT_WEIGHT).  Cn =
    sum(w D D') - W d d' (D = X - 1x0', d its mean) cancels d d' in
    rounding, by about eps W / w0: a first row of weight 0 (or 1e-12) far
    from the others (an outlier left out, or down-weighted) made the variance
    of a column of spread 0.1 2 % wrong, 1e6 away.  A row of weight near
    the others' is within the data's spread of their mean."""
    return np.array(X[shift_index(w)], dtype=np.float64)


SHIFT_WEIGHT = small.SHIFT_WEIGHT


def shift_index(w, least=None):
    """shift_row's row: the first of weight >= least (by default
    SHIFT_WEIGHT times the largest), 0 without weights."""
    if not w.size:
        return 0
    least = w.max() * SHIFT_WEIGHT if least is None else least
    return int(np.argmax(w >= least))


@_quiet
def x_stats(X, threads=None, w=None):
    """XStats of a checked float64 X (any layout) with case weights w
    (checked; None or empty for none); errors for NaN, Inf or overflow."""
    N, p1 = X.shape
    w = NO_WEIGHTS if w is None else w
    x0 = shift_row(X, w)
    return stats_from_sums(x0, stats_sums(X, w, x0, _threads_for(N, p1, 0, threads)),
                           weights_total(w, N), lambda: np.isfinite(X).all())


@_quiet
def stats_from_sums(x0, C1s, W, x_finite):
    """XStats from the chunks' (or blocks') sums [D'WD; w'D], as stats_sums
    gives them, added in order; x_finite() tells NaN or Inf in X from
    overflow, asked only when the sums are not finite.  bngrad.dask calls
    this with its blocks' sums."""
    p1 = x0.size
    C1 = C1s.sum(axis=0)                       # in order: the same bits for any threads
    s = C1[p1]
    if not math.isfinite(s.sum()):
        if not x_finite():
            raise_status(kernels.NOT_FINITE, 0)
        raise_status(kernels.OVERFLOW_X, 0)
    d = s / W
    Cn = C1[:p1] - W * np.outer(d, d)
    if not (math.isfinite(Cn.sum()) or np.isfinite(Cn).all()):
        raise_status(kernels.OVERFLOW_X, 0)
    return XStats(x0, d, Cn, W)


def _gemm(A, B):
    """A @ B by SciPy's BLAS (call inside single_blas: one thread, fixed bits)."""
    from scipy.linalg.blas import dgemm
    return dgemm(1.0, A, B)


@_quiet
def batch_sd(Cn, G1, eps, ddof, W, d):
    """(sd, Cn G1): the sd of the columns of Z = X G1 from Cn (eq. var);
    errors for overflow or, with eps = 0, a column whose variance is zero
    to rounding (FLAT_COLUMN) or, not flat, below float64's normal range
    (UNDERFLOW_Z); d is the mean of X less its shift row x0, in Cn's units.
    bngrad.dask calls this on the driver."""
    with single_blas:
        CG = _gemm(Cn, G1)
    v = (G1 * CG).sum(axis=0)
    if eps == 0.0 or not math.isfinite(v.sum()):
        # the rounding scale of v, for the flat test and to tell overflow
        with single_blas:
            bound = (np.abs(G1) * _gemm(np.abs(Cn), np.abs(G1))).sum(axis=0)
        if not (np.isfinite(v).all() and np.isfinite(bound).all()):
            raise_status(kernels.OVERFLOW_Z, int(np.flatnonzero(~np.isfinite(v + bound))[0]))
        if eps == 0.0:
            f = np.finfo(np.float64)
            # rounding's spread: of the products, and of Cn's centring, sum(w D D')
            # - W d d' (D = X less its shift row, d its mean), which left a
            # column constant on the rows that count a variance of 4e-16
            # where that row, of weight 0, differed
            flat = (v <= 64 * f.eps * bound) | (v <= 64 * f.eps * W * (np.abs(d) @ np.abs(G1)) ** 2)
            # a spread, but a variance below float64's normal range: digits lost
            under = ~flat & (v / (W - ddof) < f.tiny)
            if (flat | under).any():
                j = int(np.flatnonzero(flat | under)[0])
                raise_status(kernels.FLAT_COLUMN if flat[j] else kernels.UNDERFLOW_Z, j)
    return np.sqrt(np.maximum(v, 0.0) / (W - ddof) + eps), CG


@_quiet
def gradient_sums(X, Y, w, W, x0, d, sd, G1, gamma, beta, G2, b, code):
    """The gradient's pass alone, on this thread, with X's statistics (x0,
    d, W) and sd given: the chunks' sums (XS1, dG2, db, rss) added in chunk
    order.  bngrad.dask calls this on its blocks."""
    slots = _pass(X, w, W, x0, G1, gamma, beta, G2, b, Y, code, tiled.GRAD, d, sd, 1)
    return tuple(s.sum(axis=0) for s in slots[1:])


def _check_finite(inputs):
    for name, a in zip(kernels.INPUTS[1:], inputs):
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or Inf")


@_quiet
def tiled_gradient(X, Y, w, G1, gamma, beta, G2, b, code, eps, ddof, stats=None, threads=None):
    """(R, dG1, dgamma, dbeta, dG2, db) by the tiled passes; Y and G2 2-D,
    w case weights or empty.  `stats` (XStats of X and w) may be given, as a
    fit does once for all calls."""
    N, p1 = X.shape
    p2 = G1.shape[1]
    _check_finite((Y, G1, gamma, beta, G2, b))
    G1c, G2c = np.ascontiguousarray(G1), np.ascontiguousarray(G2)
    threads = _threads_for(N, p1, p2, threads)
    if stats is None:
        x0, W = shift_row(X, w), weights_total(w, N)
        d, sd, CG = np.empty(p1), np.empty(p2), [None]

        def between(C1s):                      # d and sd from the statistics pass
            st = stats_from_sums(x0, C1s, W, lambda: np.isfinite(X).all())
            d[:] = st.d
            sd[:], CG[0] = batch_sd(st.Cn, G1c, eps, ddof, W, st.d)
        sums = _pass(X, w, W, x0, G1c, gamma, beta, G2c, b, Y, code, tiled.STATS | tiled.GRAD,
                     d, sd, threads, between)[1:]
        CG = CG[0]
    else:
        x0, d, Cn, W = stats
        sd, CG = batch_sd(Cn, G1c, eps, ddof, W, d)
        sums = _pass(X, w, W, x0, G1c, gamma, beta, G2c, b, Y, code, tiled.GRAD, d, sd,
                     threads)[1:]
    return finish_gradient(sums, CG, sd, G1c, gamma, W, ddof)


@_quiet
def finish_gradient(sums, CG, sd, G1, gamma, W, ddof):
    """(R, dG1, dgamma, dbeta, dG2, db) from the chunks' slots (XS1 =
    [B'S; 1'S], dG2' = E'H, db, rss, as gradient_pass writes them), added
    in chunk order, then eq. dG1-onepass with 1'(S * Zc) = diag(G1' B'S);
    CG, sd from batch_sd.  bngrad.dask calls this with its blocks' sums."""
    XS1, dG2, db, rss = (s.sum(axis=0) for s in sums)   # chunk order: same bits for any threads
    p1 = G1.shape[0]
    XS = XS1[:p1]
    dgamma = (G1 * XS).sum(axis=0) / sd         # 1'(S * Zh)
    c = dgamma / (W - ddof)
    dG1 = (XS - CG * (c / sd)) * (gamma / sd)
    values = (rss.sum() / W, dG1, dgamma, XS1[p1], dG2.T, db)
    if not math.isfinite(sum(float(v.sum()) for v in values)):   # NaN or Inf in any
        if not all(np.isfinite(v).all() for v in values):
            raise_status(kernels.OVERFLOW, 0)
    return values


def small_gradient(X, Y, w, G1, gamma, beta, G2, b, code, eps, ddof):
    """(status, index, (R, dG1, dgamma, dbeta, dG2, db)) of kernels.small;
    NOT_SMALL if it declines."""
    p1, p2 = G1.shape
    out = (np.empty((p1, p2)), np.empty(p2), np.empty(p2), np.empty((p2, G2.shape[1])),
           np.empty(G2.shape[1]))
    status, index, loss = ready(small.gradient_small)(X, Y, w, G1, gamma, beta, G2, b, code,
                                                      eps, ddof, SMALL_MAX, *out)
    return status, index, (loss,) + out


def gradient(X, Y, w, G1, gamma, beta, G2, b, code, eps, ddof, stats=None, threads=None):
    """(R, dG1, dgamma, dbeta, dG2, db) of checked arguments (checks.net)."""
    N, p1 = X.shape
    p2 = G1.shape[1]
    if stats is None and takes_small(N, p1, p2):
        status, index, values = small_gradient(X, Y, w, G1, gamma, beta, G2, b, code, eps,
                                               ddof)
        if status != kernels.NOT_SMALL:
            raise_status(status, index, (Y, G1, gamma, beta, G2, b))
            return values
    return tiled_gradient(X, Y, w, G1, gamma, beta, G2, b, code, eps, ddof, stats, threads)


def activate(A, code):
    """A -> act(A) in place (A C-ordered, writeable, 2-D)."""
    ready(_activate)(A, code)


# (also the references' words, checks.variance_finite)
VARIANCE_OVERFLOWS = ("{what} is too large for float64: column {index} has a variance that "
                      "overflows (rescale {rescale})")
VARIANCE_UNDERFLOWS = ("{what} is too small for float64: column {index} has a variance that "
                       "underflows, and eps = 0 divides by it (rescale {rescale}, or use eps > 0)")
MESSAGES = {
    kernels.FLAT_COLUMN: "column {index} of X @ G1 has zero variance, and eps = 0 divides by it; "
                         "use eps > 0 or change X / G1",
    kernels.OVERFLOW_X: "X is too large for float64: the spread of its columns, squared, "
                        "overflows (rescale X, e.g. standardise its columns)",
    kernels.OVERFLOW_Z: VARIANCE_OVERFLOWS.format(what="X @ G1", rescale="X or G1",
                                                  index="{index}"),
    kernels.UNDERFLOW_Z: VARIANCE_UNDERFLOWS.format(what="X @ G1", rescale="X or G1",
                                                    index="{index}"),
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
