"""The gradient's pass over X in row chunks (docs/derivation.md, "the one-pass form").

* X's statistics come first (engine.stats_sums, NumPy): every row is shifted
  by X's first row x0, an exact subtraction wherever a column's offset
  dwarfs its spread, so nothing below depends on where the data sit
  (eq. shift).  With D = X - 1x0', d = mean(D) and Cn = D'D - N dd'
  (= Xc'Xc), the columns of Z = X G1 have variance diag(G1' Cn G1) / (N - ddof)
  (eq. var).  Case weights w (frequency weights) make these weighted sums,
  with W = sum(w) in place of N (eq. weights).
* The gradient is then one pass: per tile of rows, B = (X - 1x0') - 1d'
  (centred X), Zc = B G1, the forward and S = dR/dA row by row, and B'S
  summed.  The batch-norm backward needs no second pass (eq. dG1-onepass):
      dG1 = (B'S - Cn G1 diag(c / sd)) diag(gamma / sd),  c = sum(S Zh) / (N - ddof)
* Rows are cut into chunks whose size depends on p1 and p2 only; each chunk
  writes its own partial sums, and the reduction adds them in chunk order.
  Which thread ran a chunk, and how many threads there were, cannot change
  a bit of the result.  The tile products are BLAS calls (numba's np.dot,
  SciPy's OpenBLAS), which engine.py holds to one thread while these run.
* No fastmath: the same arithmetic must give the same bits whichever kernel
  a helper is inlined into.  No slice assignment or array expressions
  either: each costs seconds of compiling (broadcast checks with their
  error strings), where a loop costs nothing.  Every product is np.dot of
  two C-ordered arrays, one implementation to compile (a Fortran-ordered
  view, B.T, made another: most of a second more of a cold first call).
* What is O(p1^2 p2), the reductions and the finish, is engine.py's (NumPy).
"""
import numpy as np

from ._jit import jit
from .activations import IDENTITY, LEAKY_RELU, LEAKY_SLOPE, RELU, act_and_slope


def tile_rows(p1, p2):
    """Rows per tile: X's and Z's rows of a tile together about 128 KiB,
    which stays in any x86 L2 of the last decade (256 KiB and up).  A
    constant of the shapes only, never of the machine: chunks are whole
    tiles, and the result's last bits depend on where chunks end."""
    return max(8, min(1024, 16384 // (p1 + p2)))


TILES_PER_CHUNK = 16
# At least this many chunks where N has tiles enough, of equal size, so that
# 2, 4 or 8 threads finish together (one 16-tile chunk and a short one left
# a thread idle for a third of the pass at N = 4096).
MIN_CHUNKS = 8


def chunk_rows(p1, p2, N=None):
    """Rows per chunk (a unit of work); depends on the shapes only.  Given
    N, the chunks are as equal as rows allow: at most TILES_PER_CHUNK
    tiles each, and at least MIN_CHUNKS of them where N has that many tiles."""
    tile = tile_rows(p1, p2)
    if N is None:
        return tile * TILES_PER_CHUNK
    tiles = max(1, -(-N // tile))
    nchunks = max(-(-tiles // TILES_PER_CHUNK), min(MIN_CHUNKS, tiles))
    return -(-N // nchunks)


def even_tile(chunk, tile):
    """Tile rows of at most `tile` that cut `chunk` rows into equal tiles
    (no short tile with arrays of its own in every chunk)."""
    return -(-chunk // -(-chunk // tile))


@jit()
def _pack(X, lo, hi, x0, d, B, BT):
    """B = (X[lo:hi] - x0) - d, C-ordered (rows lo..hi-1 of X), and BT = B'.
    NaN or Inf in X were found by the statistics pass (its sums)."""
    p1 = X.shape[1]
    if X.strides[0] >= X.strides[1]:          # C order: rows are contiguous
        # BT in blocks of 8 rows, a cache line per column: written row by
        # row, BT's columns are a tile apart, which for 512 rows (4 KiB)
        # made every write miss.
        for i0 in range(lo, hi, 8):
            i1 = min(i0 + 8, hi)
            for i in range(i0, i1):
                for k in range(p1):
                    B[i - lo, k] = (X[i, k] - x0[k]) - d[k]
            for k in range(p1):
                for i in range(i0, i1):
                    BT[k, i - lo] = B[i - lo, k]
    else:                                     # Fortran order (R): columns are
        for k in range(p1):
            s, m = x0[k], d[k]
            for i in range(lo, hi):
                u = (X[i, k] - s) - m
                B[i - lo, k] = u
                BT[k, i - lo] = u


@jit()
def grad_chunks(X, x0, d, G1, sd, gamma, beta, G2, b, Y, wt, W, code, chunk, tile, c_lo, c_hi,
                XS, dG2, db, sumS, sumSZc, rss):
    """Chunks c_lo..c_hi-1 of the gradient's sums, each into its own slot:
    XS[c] = B'S, dG2[c] = H'E, db[c] = 1'E, sumS[c] = 1'S,
    sumSZc[c] = 1'(S * Zc), rss[c] = sum of squared residuals.
    G1 and G2 are C-ordered (engine.py makes them so).  wt: case weights
    summing to W (eq. weights), or empty for none (W = N)."""
    N = X.shape[0]
    p1, p2 = G1.shape
    q = G2.shape[1]
    scale = np.empty(p2)                       # gamma / sd: Zc -> A in one multiply-add
    for j in range(p2):
        scale[j] = gamma[j] / sd[j]
    simple = code == RELU or code == LEAKY_RELU or code == IDENTITY
    neg = 0.0 if code == RELU else (LEAKY_SLOPE if code == LEAKY_RELU else 1.0)
    c2 = -2.0 / W
    weighted = wt.size > 0
    B = np.empty((tile, p1))
    BT = np.empty((p1, tile))
    H = np.empty((tile, p2))                   # A, then act(A)
    S = np.empty((tile, p2))                   # act'(A), then S
    for ch in range(c_lo, c_hi):
        lo = ch * chunk
        hi = min(lo + chunk, N)
        XSc = np.zeros((p1, p2))
        dG2t = np.zeros((p2, q))
        dbc = np.zeros(q)
        sS = np.zeros(p2)
        sSZ = np.zeros(p2)
        rs = 0.0
        for t0 in range(lo, hi, tile):
            n = min(t0 + tile, hi) - t0
            if B.shape[0] != n:                # a short tile: its own, exactly sized, arrays
                B = np.empty((n, p1))
                BT = np.empty((p1, n))
                H = np.empty((n, p2))
                S = np.empty((n, p2))
            _pack(X, t0, t0 + n, x0, d, B, BT)  # centred X
            Zc = np.dot(B, G1)
            if simple:                         # one plain loop that vectorises
                for r in range(n):
                    for j in range(p2):
                        a = Zc[r, j] * scale[j] + beta[j]
                        w = 1.0 if a > 0.0 else neg    # act'(0) = 0 for relu
                        H[r, j] = a * w
                        S[r, j] = w
            else:
                for r in range(n):
                    for j in range(p2):
                        H[r, j], S[r, j] = act_and_slope(Zc[r, j] * scale[j] + beta[j], code)
            E = np.dot(H, G2)                 # yhat - 1b', then dR/dyhat
            for r in range(n):
                for k in range(q):
                    e = Y[t0 + r, k] - E[r, k] - b[k]
                    if weighted:
                        rs += e * e * wt[t0 + r]
                        e *= c2 * wt[t0 + r]
                    else:
                        rs += e * e
                        e *= c2
                    E[r, k] = e
                    dbc[k] += e
            if q == 1:                         # H'E, S = (E G2') * act'(A), S's sums: one sweep
                for r in range(n):
                    e = E[r, 0]
                    for j in range(p2):
                        dG2t[j, 0] += H[r, j] * e
                        sj = S[r, j] * (e * G2[j, 0])
                        S[r, j] = sj
                        sS[j] += sj
                        sSZ[j] += sj * Zc[r, j]
            else:
                for k in range(q):
                    for r in range(n):
                        e = E[r, k]
                        for j in range(p2):
                            dG2t[j, k] += H[r, j] * e
                for r in range(n):
                    for j in range(p2):
                        acc = 0.0
                        for k in range(q):
                            acc += E[r, k] * G2[j, k]
                        sj = S[r, j] * acc
                        S[r, j] = sj
                        sS[j] += sj
                        sSZ[j] += sj * Zc[r, j]
            BS = np.dot(BT, S)
            for k in range(p1):
                for j in range(p2):
                    XSc[k, j] += BS[k, j]
        for k in range(p1):                    # this chunk's slot
            for j in range(p2):
                XS[ch, k, j] = XSc[k, j]
        for j in range(p2):
            sumS[ch, j] = sS[j]
            sumSZc[ch, j] = sSZ[j]
            for k in range(q):
                dG2[ch, j, k] = dG2t[j, k]
        for k in range(q):
            db[ch, k] = dbc[k]
        rss[ch] = rs

