"""The gradient's passes over X in row tiles (docs/derivation.md, "the one-pass form").

* Statistics first: every row is shifted by X's first row x0 (of a weight
  near the largest: engine.shift_row), an exact
  subtraction wherever a column's offset dwarfs its spread, so nothing
  below depends on where the data sit (eq. shift).  With D = X - 1x0',
  d = mean(D) and Cn = D'D - N dd' (= Xc'Xc), the columns of Z = X G1 have
  variance diag(G1' Cn G1) / (N - ddof) (eq. var).  Per tile, one product
  [D, 1]'[D] gives D'D and the column sums together.  Case weights w
  (frequency weights) make these weighted sums, with W = sum(w) in place of
  N (eq. weights).  A fit knows d and Cn already and skips this pass.
* The gradient is then one pass: per tile of rows, B = D - 1d' (centred X),
  Zc = B G1, the forward and S = dR/dA row by row, and B'S summed.  The
  batch-norm backward needs no second pass (eq. dG1-onepass):
      dG1 = (B'S - Cn G1 diag(c / sd)) diag(gamma / sd),  c = sum(S Zh) / (N - ddof)
  and the sums it needs come out of the products, not out of loops that
  accumulate: a column of ones beside B gives 1'S with B'S, and
  1'(S * Zc) = diag(G1' B'S) (engine.finish_gradient).
* Rows are cut into chunks whose size depends on the shapes only.  Threads
  claim chunks (kernels/sync.py); each chunk writes its own slot, and slots
  are added in chunk order, so which thread ran a chunk, and how many
  threads there were, cannot change a bit of the result.  Between the two
  passes the caller's thread turns the statistics into d and sd
  (engine.py) while the others wait.  The tile products are BLAS calls
  (kernels/blas.py: SciPy's OpenBLAS), which engine.py holds to one thread
  while these run; those with one output column (q = 1) are dgemv's.
* No fastmath: the same arithmetic must give the same bits whichever kernel
  a helper is inlined into.  No slice assignment or array expressions
  either: each costs seconds of compiling (broadcast checks with their
  error strings), where a loop costs nothing.  Elementwise loops run along
  rows of C-ordered scratch arrays with the columns' constants in
  contiguous local copies, so that they vectorise.
"""
import time

import numpy as np

from . import OK
from ._jit import jit
from .activations import IDENTITY, LEAKY_RELU, LEAKY_SLOPE, RELU, act_and_slope
from .blas import gemm, gemv
from .sync import fetch_add, load, wait_for, wait_post

# The shared counters of one call: chunks claimed and done in each pass,
# whether the gradient's pass may start, the status that ends the call
# early, helpers joined and how many may join.
NEXT_STATS, DONE_STATS, READY, NEXT_GRAD, DONE_GRAD, STATUS, JOINED, HELPERS = range(8)
SYNC_SLOTS = 8
# The helpers' mailbox: calls posted so far.  A helper that has done its part
# waits up to HELP_NS for the next call (engine.Helpers) before it sleeps.
POSTED = 0
HELP_NS = 2_000_000
CLOCK = getattr(time, "CLOCK_MONOTONIC", 1)
# What gradient_pass does: X's statistics, the gradient's pass, or both.
STATS, GRAD = 1, 2


def tile_rows(p1, p2):
    """Rows per tile: X's and Z's rows of a tile together about 128 KiB
    (the tile's scratch, [B, 1], act(A) and S, about twice that), which
    stays in any x86 L2 of the last decade (256 KiB and up).  A constant of
    the shapes only, never of the machine: the result's last bits depend
    on where tiles and chunks end."""
    return max(8, min(1024, 16384 // (p1 + p2)))


# Chunks are claimed one at a time, so that a thread that starts late takes
# fewer; but each writes sums of its own, which the caller adds, so there
# are at most MAX_CHUNKS (fewer measured faster at N = 4096), with their
# sums within a quarter of X's size (or 4 MiB).
MAX_CHUNKS = 16


def chunk_rows(p1, p2, N):
    """Rows per chunk (a unit of work); depends on the shapes only, and cuts
    N rows into chunks as equal as rows allow."""
    tiles = max(1, -(-N // tile_rows(p1, p2)))
    room = max(1 << 22, 2 * N * p1) // (8 * (p1 + 1) * max(p1, p2))
    nchunks = max(1, min(tiles, MAX_CHUNKS, room))
    return max(1, -(-N // nchunks))


def even_tile(chunk, tile):
    """Tile rows of at most `tile` that cut `chunk` rows into equal tiles
    (no short tile with arrays of its own in every chunk)."""
    return -(-chunk // -(-chunk // tile))


@jit()
def _columns_alias(X):
    """Whether X is column-major (an R matrix) with more columns starting in
    one set of the L1 cache than its 8 ways hold: there a row's values,
    read one per column, evict each other before the next rows read the
    rest of their lines (N = 4096 or 65536: columns a multiple of 4 KiB
    apart, all in one set; a pass took up to 10x as long as along the
    columns).  Along the columns, though, a tile's B1 is written one value
    per line, which costs more where little aliases (p1 = 10 at N = 1e6:
    twice as long).  64 sets of 64-byte lines: every x86 L1 data cache of
    the last decade (32 KiB of 8 ways, 48 KiB of 12).  The copy is the same
    either way."""
    s0, s1 = abs(X.strides[0]), abs(X.strides[1])
    p1 = X.shape[1]
    if s0 >= s1 or p1 <= 8:
        return False
    count = np.empty(64, np.int64)             # columns starting in each set
    for c in range(64):
        count[c] = 0
    for k in range(p1):
        c = (k * s1 // 64) % 64
        count[c] += 1
        if count[c] > 8:
            return True
    return False


@jit()
def _pack(X, lo, hi, x0, d, B1, by_columns):
    """B1 = [(X[lo:hi] - 1x0') - 1d', 1], C-ordered (x0 and d contiguous),
    X read along its columns where by_columns (_columns_alias(X))."""
    p1 = X.shape[1]
    if by_columns:
        for k in range(p1):
            c, e = x0[k], d[k]
            for i in range(hi - lo):
                B1[i, k] = (X[lo + i, k] - c) - e
        for i in range(hi - lo):
            B1[i, p1] = 1.0
        return
    for i in range(hi - lo):
        x = X[lo + i]
        b = B1[i]
        for k in range(p1):
            b[k] = (x[k] - x0[k]) - d[k]
        b[p1] = 1.0


@jit()
def _stats_chunk(X, wt, x0, zero, lo, hi, tile, by_columns, D1, WD1, C1):
    """C1 = [D'WD; w'D] over rows lo..hi-1 (D = X - 1x0', W = diag(wt), or
    the identity where wt is empty): D's weighted cross-products and column
    sums, by one product per tile of D1 = [D, 1] (and WD1 = W D1)."""
    p1 = X.shape[1]
    for a in range(p1 + 1):
        for k in range(p1):
            C1[a, k] = 0.0
    for t0 in range(lo, hi, tile):
        n = min(t0 + tile, hi) - t0
        _pack(X, t0, t0 + n, x0, zero, D1, by_columns)
        A = D1
        if wt.size:
            A = WD1
            for i in range(n):
                w = wt[t0 + i]
                a = A[i]
                t = D1[i]
                for k in range(p1 + 1):
                    a[k] = t[k] * w
        gemm(True, False, p1 + 1, p1, n, 1.0, A, p1 + 1, D1, p1 + 1, 1.0, C1, p1)


@jit()
def _grad_chunk(X, x0, d, G1, scale, shift, G2, g2, b, Y, wt, c2, code, lo, hi, tile, by_columns,
                B1, H, S, E, XS1, dG2, db):
    """One chunk's sums: XS1 = [B'S; 1'S], dG2 = E'H (q x p2), db = 1'E;
    returns the sum of squared residuals.  scale = gamma / sd, shift =
    beta, x0, d and g2 = G2[:, 0] contiguous; c2 = -2 / W."""
    p1, p2 = G1.shape
    q = G2.shape[1]
    simple = code == RELU or code == LEAKY_RELU or code == IDENTITY
    neg = 0.0 if code == RELU else (LEAKY_SLOPE if code == LEAKY_RELU else 1.0)
    weighted = wt.size > 0
    for a in range(p1 + 1):
        for j in range(p2):
            XS1[a, j] = 0.0
    for k in range(q):
        db[k] = 0.0
        for j in range(p2):
            dG2[k, j] = 0.0
    rs = 0.0
    for t0 in range(lo, hi, tile):
        n = min(t0 + tile, hi) - t0
        _pack(X, t0, t0 + n, x0, d, B1, by_columns)     # [centred X, 1]
        gemm(False, False, n, p2, p1, 1.0, B1, p1 + 1, G1, p2, 0.0, H, p2)   # Zc
        if simple:                             # one plain loop that vectorises
            for r in range(n):
                h = H[r]
                s = S[r]
                for j in range(p2):
                    a = h[j] * scale[j] + shift[j]
                    w = 1.0 if a > 0.0 else neg    # act'(0) = 0 for relu
                    h[j] = a * w
                    s[j] = w
        else:
            for r in range(n):
                h = H[r]
                s = S[r]
                for j in range(p2):
                    h[j], s[j] = act_and_slope(h[j] * scale[j] + shift[j], code)
        if weighted:
            # a row of weight 0 is not there: far away, its act(A) or residual
            # overflowed, and inf * 0 made every sum NaN
            for r in range(n):
                if not wt[t0 + r] > 0.0:
                    for j in range(p2):
                        H[r, j] = 0.0
                        S[r, j] = 0.0
        if q == 1:                             # yhat - 1b' (E zeroed: gemv's docstring)
            for r in range(n):
                E[r, 0] = 0.0
            gemv(False, n, p2, 1.0, H, p2, g2, 0.0, E)
        else:
            gemm(False, False, n, q, p2, 1.0, H, p2, G2, q, 0.0, E, q)
        for r in range(n):                     # E = dR/dyhat
            for k in range(q):
                e = Y[t0 + r, k] - E[r, k] - b[k]
                if weighted:
                    if wt[t0 + r] > 0.0:
                        rs += e * e * wt[t0 + r]
                        e *= c2 * wt[t0 + r]
                    else:
                        e = 0.0
                else:
                    rs += e * e
                    e *= c2
                E[r, k] = e
                db[k] += e
        # dG2 += E'H, then S = (E G2') * act'(A)
        if q == 1:
            gemv(True, n, p2, 1.0, H, p2, E, 1.0, dG2)
            for r in range(n):
                e = E[r, 0]
                s = S[r]
                for j in range(p2):
                    s[j] *= e * g2[j]
        else:
            gemm(True, False, q, p2, n, 1.0, E, q, H, p2, 1.0, dG2, p2)
            for r in range(n):
                for j in range(p2):
                    acc = 0.0
                    for k in range(q):
                        acc += E[r, k] * G2[j, k]
                    S[r, j] *= acc
        gemm(True, False, p1 + 1, p2, n, 1.0, B1, p1 + 1, S, p2, 1.0, XS1, p2)   # += [B'S; 1'S]
    return rs


@jit()
def gradient_pass(X, wt, W, x0, G1, gamma, beta, G2, b, Y, code, chunk, tile, phases, d, sd,
                  C1s, XS1, dG2, db, rss, sync, box, seen, lead):
    """One thread's part of a call of `phases`: the statistics pass (STATS)
    into the chunks' slots C1s, and the gradient's pass (GRAD) into XS1,
    dG2, db and rss with d and sd given.  Chunks are claimed through `sync`
    (SYNC_SLOTS zeros, HELPERS set, at the start of a call).

    lead = 1: the caller's first call.  It posts the call in `box` (for the
    helpers) and returns when the first pass's chunks are all done.  After
    the statistics the caller turns them into d and sd (engine.py) and
    calls again with lead = 2, which lets the helpers into the gradient's
    pass (or ends the call, where sync[STATUS] says so) and returns when
    every chunk is done.  lead = 0: a helper (at most sync[HELPERS] join),
    which returns when no chunk is left and a later call is posted
    (box[POSTED] != seen), or HELP_NS later.

    G1, G2 are C-ordered; wt are case weights summing to W, or empty."""
    nchunks = -(-X.shape[0] // chunk)
    stats = phases & STATS and lead != 2
    grad = phases & GRAD and (lead != 1 or not phases & STATS)
    if lead == 1 and box.size:
        fetch_add(box, POSTED, 1)
    if lead != 0 and grad:
        fetch_add(sync, READY, 1)              # d and sd are written: the gradient's pass may start
    if lead != 0 or fetch_add(sync, JOINED, 1) < sync[HELPERS]:
        _work(X, wt, W, x0, G1, gamma, beta, G2, b, Y, code, chunk, tile, stats, grad, d, sd,
              C1s, XS1, dG2, db, rss, sync)
    if lead != 0 and load(sync, STATUS) == OK:   # the pass's last chunks may be a helper's
        wait_for(sync, DONE_GRAD if grad else DONE_STATS, nchunks)
    elif lead == 0 and box.size:
        wait_post(box, POSTED, seen, HELP_NS, CLOCK)


@jit(inline="always")
def _work(X, wt, W, x0, G1, gamma, beta, G2, b, Y, code, chunk, tile, stats, grad, d, sd, C1s,
          XS1, dG2, db, rss, sync):
    """Claim chunks of the statistics pass (if stats), then of the
    gradient's (if grad, once sync[READY]), until none is left."""
    N, p1 = X.shape
    p2 = G1.shape[1]
    q = G2.shape[1]
    nchunks = -(-N // chunk)
    # every allocation before the first claim: a thread that claims a chunk
    # must not fail before it is done
    n = min(tile, N)
    B1 = np.empty((n, p1 + 1))
    WB1 = np.empty((n if stats and wt.size else 0, p1 + 1))
    H = np.empty((n, p2))
    S = np.empty((n, p2))
    E = np.empty((n, q))
    scale = np.empty(p2)
    shift = np.empty(p2)
    g2 = np.empty(p2)
    zero = np.empty(p1)                        # (not np.zeros: small.py says why)
    by_columns = _columns_alias(X)             # _pack's order of reading X
    x0c = np.empty(p1)                         # contiguous copies: the loops vectorise
    dc = np.empty(p1)
    for k in range(p1):
        zero[k] = 0.0
        x0c[k] = x0[k]
    if stats:
        while True:
            c = fetch_add(sync, NEXT_STATS, 1)
            if c >= nchunks:
                break
            _stats_chunk(X, wt, x0c, zero, c * chunk, min((c + 1) * chunk, N), tile,
                         by_columns, B1, WB1, C1s[c])
            fetch_add(sync, DONE_STATS, 1)
    if not grad:
        return
    wait_for(sync, READY, 1)
    if load(sync, STATUS) != OK:
        return
    for j in range(p2):
        scale[j] = gamma[j] / sd[j]
        shift[j] = beta[j]
        g2[j] = G2[j, 0]
    for k in range(p1):
        dc[k] = d[k]
    c2 = -2.0 / W
    while True:
        c = fetch_add(sync, NEXT_GRAD, 1)
        if c >= nchunks:
            break
        rss[c] = _grad_chunk(X, x0c, dc, G1, scale, shift, G2, g2, b, Y, wt, c2, code,
                             c * chunk, min((c + 1) * chunk, N), tile, by_columns, B1, H, S, E,
                             XS1[c], dG2[c], db[c])
        fetch_add(sync, DONE_GRAD, 1)
