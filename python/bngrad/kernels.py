"""Numba kernels: the whole gradient, and nothing else.

The kernels trust their inputs (model.py validates them), except that the
pass over X also reports whether X holds NaN or Inf, so X is read only there.

How the gradient is organised (docs/derivation.md has the algebra):

* Batch statistics come from X alone: with m = mean(X) and Cn = Xc'Xc
  (Xc = X - 1m'), the columns of Z = X G1 have mean m G1 and variance
  diag(G1' Cn G1) / (N - ddof).  Cn is one pass over X (`x_stats`) and can be
  kept for a whole fit.
* The gradient is then one more pass over X in tiles of rows that stay in
  cache: Zc = Xc_tile G1, the forward and S = dR/dA row by row, and
  Xc_tile' S accumulated.  The batch-norm backward needs no second pass:
      dG1 = X' dZ = (Xc' S - Cn G1 diag(c / sd)) diag(gamma / sd),
      c = sum(S * Zh) / (N - ddof)
  because 1'Zh = 0 removes the mean(S) term and Xc'Zh = Cn G1 diag(1/sd).
  No N x p2 array is ever made.
* Tiles go to the threads in contiguous chunks (prange), each chunk summing
  its own partial results.  The tile products call BLAS through numba's
  np.dot (SciPy's OpenBLAS); model.py keeps that library single-threaded
  while the chunks run, so the two thread pools never fight over the cores.
* Small X has its own kernel, gradient_small (at the end of this file).
"""
import numpy as np
from numba import njit, prange

# Activation codes; the names users pass are mapped in model.ACTIVATIONS.
RELU, LEAKY_RELU, TANH, SIGMOID, SOFTPLUS, IDENTITY = 0, 1, 2, 3, 4, 5
LEAKY_SLOPE = 0.01

# Status codes of the gradient kernels: OK, a column of X G1 with zero
# variance (and eps = 0), or NaN/Inf in an input (the index names which).
OK, FLAT_COLUMN, NOT_FINITE = 0, 1, 2
INPUTS = ("X", "y", "G1", "gamma", "beta", "G2", "b")


@njit(cache=True, inline="always", error_model="numpy")
def _sigmoid(a):
    # Where exp(-a) overflows to inf this gives 0, the exact limit: no branch needed.
    return 1.0 / (1.0 + np.exp(-a))


@njit(cache=True, inline="always", error_model="numpy")
def act_and_slope(a, code):
    """Activation h = act(a) and its derivative act'(a), in one call."""
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
        return t, 1.0 - t * t
    if code == SIGMOID:
        s = _sigmoid(a)
        return s, s * (1.0 - s)
    if code == SOFTPLUS:
        # log(1 + e^a) without overflow for large a or underflow for small.
        return max(a, 0.0) + np.log1p(np.exp(-abs(a))), _sigmoid(a)
    return a, 1.0


def tile_rows(p1, p2):
    """Rows per tile: tiles of X and Z together near 128 KiB (a quarter of
    L2 here), or of X alone near 64 KiB for the statistics pass (p2 = 0).
    Measured with bench/bench_gradients.py; larger tiles were slower."""
    return max(8, min(1024, (8192 // p1) if p2 == 0 else (16384 // (p1 + p2))))


@njit(cache=True, error_model="numpy")
def _pack(X, lo, hi, shift, colsum):
    """X[lo:hi] - shift as a fresh C-ordered tile, adding its column sums to
    colsum; returns the tile and sum(X[lo:hi] * 0), which is 0 when every
    value is finite and NaN otherwise (a check that vectorises)."""
    p1 = X.shape[1]
    B = np.empty((hi - lo, p1))
    poison = 0.0
    if X.strides[0] >= X.strides[1]:          # C order: rows are contiguous
        for i in range(lo, hi):
            for k in range(p1):
                v = X[i, k]
                poison += v * 0.0
                d = v - shift[k]
                B[i - lo, k] = d
                colsum[k] += d
    else:                                     # Fortran order (R): columns are
        for k in range(p1):
            sk = shift[k]
            acc = 0.0
            for i in range(lo, hi):
                v = X[i, k]
                poison += v * 0.0
                d = v - sk
                B[i - lo, k] = d
                acc += d
            colsum[k] += acc
    return B, poison


@njit(cache=True, error_model="numpy")
def _stats_chunk(X, lo, hi, shift, tile):
    """Shifted column sums and cross-products of X[lo:hi]."""
    p1 = X.shape[1]
    s = np.zeros(p1)
    C = np.zeros((p1, p1))
    poison = 0.0
    for t0 in range(lo, hi, tile):
        B, bad = _pack(X, t0, min(t0 + tile, hi), shift, s)
        poison += bad
        C += np.dot(B.T, B)
    return s, C, poison


@njit(cache=True, error_model="numpy")
def _chunk_bounds(N, nchunks, tile):
    per = -(-N // nchunks)
    per = -(-per // tile) * tile              # chunks start on tile boundaries
    bounds = np.empty(nchunks + 1, dtype=np.int64)
    for c in range(nchunks + 1):
        bounds[c] = min(c * per, N)
    return bounds


@njit(cache=True, error_model="numpy")
def _stats_finish(X, s, C, poison):
    N = X.shape[0]
    d = s / N                                  # mean of X - shift
    m = X[0, :] + d
    Cn = C - N * np.outer(d, d)
    return m, Cn, poison == 0.0


@njit(cache=True, error_model="numpy")
def x_stats(X, tile):
    """(m, Cn, finite): column means, centred cross-products Xc'Xc, and
    whether X is free of NaN and Inf.  One pass; shifting by the first row
    keeps the sums of squares free of cancellation."""
    shift = X[0, :].copy()
    s, C, poison = _stats_chunk(X, 0, X.shape[0], shift, tile)
    return _stats_finish(X, s, C, poison)


@njit(cache=True, parallel=True, error_model="numpy")
def x_stats_parallel(X, tile, nchunks):
    """x_stats, the rows split over nchunks threads."""
    N, p1 = X.shape
    shift = X[0, :].copy()
    bounds = _chunk_bounds(N, nchunks, tile)
    S = np.zeros((nchunks, p1))
    C = np.zeros((nchunks, p1, p1))
    poison = np.zeros(nchunks)
    for c in prange(nchunks):
        S[c], C[c], poison[c] = _stats_chunk(X, bounds[c], bounds[c + 1], shift, tile)
    return _stats_finish(X, S.sum(axis=0), C.sum(axis=0), poison.sum())


@njit(cache=True, error_model="numpy")
def z_sd(Cn, G1, eps, ddof, N):
    """sd of the columns of Z = X G1 from Cn, and the first column whose
    variance is zero to rounding (-1 if none), which matters when eps = 0."""
    p2 = G1.shape[1]
    CG = np.dot(Cn, G1)
    sd = np.empty(p2)
    flat = -1
    for j in range(p2):
        v = 0.0
        bound = 0.0                            # |G1|' |Cn| |G1|: rounding scale of v
        for k in range(G1.shape[0]):
            v += G1[k, j] * CG[k, j]
            for l in range(G1.shape[0]):
                bound += abs(G1[k, j] * Cn[k, l] * G1[l, j])
        sd[j] = np.sqrt(max(v, 0.0) / (N - ddof) + eps)
        if eps == 0.0 and v <= 64 * 2.220446049250313e-16 * bound:
            if flat < 0:
                flat = j
            sd[j] = 1.0                        # a stand-in: the caller raises
    return sd, flat


@njit(cache=True, error_model="numpy")
def activate(A, code):
    """H = act(A) in place of A, and act'(A); one loop per activation so that
    each vectorises."""
    n, p2 = A.shape
    slope = np.empty((n, p2))
    if code == RELU or code == LEAKY_RELU:
        neg = 0.0 if code == RELU else LEAKY_SLOPE   # act'(0) = 0 for relu
        for r in range(n):
            for j in range(p2):
                a = A[r, j]
                g = 1.0 if a > 0.0 else neg
                A[r, j] = a * g
                slope[r, j] = g
    elif code == IDENTITY:
        slope[:] = 1.0
    elif code == SIGMOID:                   # the fit's default: its own tight loop
        for r in range(n):
            for j in range(p2):
                sg = 1.0 / (1.0 + np.exp(-A[r, j]))
                A[r, j] = sg
                slope[r, j] = sg * (1.0 - sg)
    else:
        for r in range(n):
            for j in range(p2):
                A[r, j], slope[r, j] = act_and_slope(A[r, j], code)
    return slope


@njit(cache=True, error_model="numpy")
def _grad_chunk(X, lo, hi, m, G1, sd, gamma, beta, G2, b, Y, code, tile):
    """Loss and gradient sums over rows lo:hi, a tile at a time: products by
    BLAS, each elementwise step one simple loop over the tile in cache."""
    N = X.shape[0]
    p1, p2 = G1.shape
    q = G2.shape[1]
    XS = np.zeros((p1, p2))
    dG2 = np.zeros((p2, q))
    db = np.zeros(q)
    sumS = np.zeros(p2)
    sumSZc = np.zeros(p2)
    scale = gamma / sd
    G2T = np.ascontiguousarray(G2.T)
    c = -2.0 / N
    rss = 0.0
    unused = np.zeros(p1)
    for t0 in range(lo, hi, tile):
        t1 = min(t0 + tile, hi)
        n = t1 - t0
        B, _ = _pack(X, t0, t1, m, unused)   # Xc tile (x_stats checked finiteness)
        Zc = np.dot(B, G1)
        H = np.empty((n, p2))                # A, then H = act(A)
        for r in range(n):
            for j in range(p2):
                H[r, j] = Zc[r, j] * scale[j] + beta[j]
        slope = activate(H, code)
        E = np.dot(H, G2)                    # yhat - b, then dR/dyhat
        for r in range(n):
            for k in range(q):
                e = Y[t0 + r, k] - E[r, k] - b[k]
                rss += e * e
                E[r, k] = c * e
                db[k] += c * e
        dG2 += np.dot(H.T, E)
        if q == 1:                           # S = (E G2') * act'(A), in place of slope
            for r in range(n):
                er = E[r, 0]
                for j in range(p2):
                    slope[r, j] *= er * G2T[0, j]
        else:
            slope *= np.dot(E, G2T)
        S = slope
        for r in range(n):
            for j in range(p2):
                sumS[j] += S[r, j]
                sumSZc[j] += S[r, j] * Zc[r, j]
        XS += np.dot(B.T, S)
    return XS, dG2, db, sumS, sumSZc / sd, rss


@njit(cache=True, error_model="numpy")
def _grad_finish(Cn, G1, sd, gamma, ddof, N, XS, dG2, db, sumS, sumSZh, rss):
    c = sumSZh / (N - ddof)
    dG1 = (XS - np.dot(Cn, G1) * (c / sd)) * (gamma / sd)
    return rss / N, dG1, sumSZh, sumS, dG2, db


@njit(cache=True, error_model="numpy")
def _first_not_finite(Y, G1, gamma, beta, G2, b):
    """Index in INPUTS of the first input holding NaN or Inf, or -1."""
    for idx, poison in enumerate((
            (Y * 0.0).sum(), (G1 * 0.0).sum(), (gamma * 0.0).sum(),
            (beta * 0.0).sum(), (G2 * 0.0).sum(), (b * 0.0).sum())):
        if poison != 0.0:
            return idx + 1
    return -1


@njit(cache=True, error_model="numpy")
def _status(bad, flat):
    if bad >= 0:
        return NOT_FINITE, bad
    if flat >= 0:
        return FLAT_COLUMN, flat
    return OK, 0


@njit(cache=True, error_model="numpy")
def gradient(X, m, Cn, Y, G1, gamma, beta, G2, b, code, eps, ddof, tile):
    """(status, index, (R, dG1, dgamma, dbeta, dG2, db)) on one thread,
    given X's statistics (m, Cn)."""
    N = X.shape[0]
    bad = _first_not_finite(Y, G1, gamma, beta, G2, b)
    sd, flat = z_sd(Cn, G1, eps, ddof, N)
    XS, dG2, db, sumS, sumSZh, rss = _grad_chunk(
        X, 0, N, m, G1, sd, gamma, beta, G2, b, Y, code, tile)
    status, index = _status(bad, flat)
    return status, index, _grad_finish(Cn, G1, sd, gamma, ddof, N, XS, dG2, db, sumS, sumSZh, rss)


@njit(cache=True, error_model="numpy")
def gradient_fresh(X, Y, G1, gamma, beta, G2, b, code, eps, ddof, stats_tile, tile):
    """x_stats and gradient in one call, for small X where a call's fixed
    cost is most of the time."""
    m, Cn, finite = x_stats(X, stats_tile)
    if not finite:
        p1, p2 = G1.shape
        return NOT_FINITE, 0, (0.0, np.zeros((p1, p2)), np.zeros(p2), np.zeros(p2),
                                np.zeros(G2.shape), np.zeros(b.shape))
    return gradient(X, m, Cn, Y, G1, gamma, beta, G2, b, code, eps, ddof, tile)


@njit(cache=True, parallel=True, error_model="numpy")
def gradient_parallel(X, m, Cn, Y, G1, gamma, beta, G2, b, code, eps, ddof, tile, nchunks):
    """gradient, the rows split over nchunks threads."""
    N = X.shape[0]
    p1, p2 = G1.shape
    q = G2.shape[1]
    bad = _first_not_finite(Y, G1, gamma, beta, G2, b)
    sd, flat = z_sd(Cn, G1, eps, ddof, N)
    bounds = _chunk_bounds(N, nchunks, tile)
    XS = np.zeros((nchunks, p1, p2))
    dG2 = np.zeros((nchunks, p2, q))
    db = np.zeros((nchunks, q))
    sumS = np.zeros((nchunks, p2))
    sumSZh = np.zeros((nchunks, p2))
    rss = np.zeros(nchunks)
    for ch in prange(nchunks):
        XS[ch], dG2[ch], db[ch], sumS[ch], sumSZh[ch], rss[ch] = _grad_chunk(
            X, bounds[ch], bounds[ch + 1], m, G1, sd, gamma, beta, G2, b, Y, code, tile)
    status, index = _status(bad, flat)
    return status, index, _grad_finish(
        Cn, G1, sd, gamma, ddof, N, XS.sum(axis=0), dG2.sum(axis=0), db.sum(axis=0),
        sumS.sum(axis=0), sumSZh.sum(axis=0), rss.sum())



# --- Small X: one call, everything in L1/L2 -----------------------------------
#
# Below small_max values of X and Z together, a call's fixed costs are the
# time: every BLAS call, allocation, boxed result and Python-level check is a
# visible share of it.  gradient_small therefore checks its own arguments
# (returning NOT_SMALL for anything it will not take, so that model.py's
# general path, which names the bad argument, runs instead), forms Z whole,
# fuses the elementwise work into few loops and calls BLAS only for the two
# products every exact gradient needs.  Its batch statistics are one pass
# over each column of Z (shifted by its first value), and a column counts as
# flat (eps = 0) by the test R and batchnorm_forward use: sd below 64 ulp of
# max |Z|.
NOT_SMALL = 3
# Reassociation lets the reductions vectorise; 'contract' allows FMA; 'arcp'
# keeps reassociation from turning x * (1 / s) back into a division per
# element (it did: two vdivpd per value of Z, half the kernel's time).
# None of them assumes away NaN or Inf, which the checks rely on.
_FAST = {"reassoc", "contract", "arcp"}


def small_signature(y_ndim, G2_ndim, exact):
    """gradient_small's signature for a y and G2 of these ndims.  Not exact:
    every array read-only 'A' layout, which numba's dispatcher converts any
    float64 array (C, Fortran, strided, writeable or not) to without
    compiling anything.  Exact: every array C-ordered and writeable, what
    numpy users pass; it spares the conversions (~0.2 us of ~7.5)."""
    from numba import types as nt
    layout, readonly = ("C", False) if exact else ("A", True)
    V = nt.Array(nt.float64, 1, layout, readonly=readonly)
    M = nt.Array(nt.float64, 2, layout, readonly=readonly)
    y, G2 = (V if y_ndim == 1 else M), (V if G2_ndim == 1 else M)
    return (M, y, M, V, V, G2, V, nt.int64, nt.float64, nt.int64, nt.int64)


SMALL_SIGNATURES = [(y, G2, exact) for y in (1, 2) for G2 in (2, 1) for exact in (True, False)]


def load_small(y_ndim, G2_ndim, exact):
    """Load (or, on a cold cache, compile) one signature of gradient_small,
    then let its dispatcher only convert, never compile.  Signatures load
    when first needed, not at import: each costs ~0.1 s."""
    gradient_small.disable_compile(False)
    try:
        gradient_small.compile(small_signature(y_ndim, G2_ndim, exact))
    finally:
        gradient_small.disable_compile(True)


@njit(cache=True, error_model="numpy", fastmath=_FAST)
def _poison(a):
    """0 if every value of the C-contiguous a is finite, NaN otherwise.
    (An indexed loop: iterating over a.ravel() was ten times slower.)"""
    v = a.ravel()
    s = 0.0
    for i in range(v.size):
        s += v[i] * 0.0
    return s


@njit(cache=True, error_model="numpy", fastmath=_FAST)
def _small_core(X, Y, G1, gamma, beta, G2, b, code, eps, ddof):
    """(flat, R, (gamma, beta poisons), dG1, dgamma, dbeta, dG2, db) for
    C-ordered inputs.

    Works on Z' (p2 x N), a column of Z per row, so that every inner loop
    runs along N contiguous values with the column's constants in
    registers.  Loops index the 2-D arrays directly: taking row views
    would cost a reference count each."""
    N, p1 = X.shape
    p2 = G1.shape[1]
    q = G2.shape[1]
    ZT = np.dot(G1.T, X.T)                  # Z', then centred, then Zh'
    H = np.empty((p2, N))
    S = np.empty((p2, N))                   # act'(A)', then S', then dZ'
    F = np.zeros((q, N))                    # (H G2)', then E' = (dR/dyhat)'
    sd = np.empty(p2)
    flat = -1
    pgamma = 0.0                            # NaN if gamma (beta) holds NaN or Inf
    pbeta = 0.0
    simple = code == RELU or code == LEAKY_RELU or code == IDENTITY
    neg = 0.0 if code == RELU else (LEAKY_SLOPE if code == LEAKY_RELU else 1.0)
    for j in range(p2):
        # One pass for the mean and variance, shifted by the column's first
        # value so that the sums of squares do not cancel.
        z0 = ZT[j, 0]
        s1 = 0.0
        s2 = 0.0
        for i in range(N):
            d = ZT[j, i] - z0
            s1 += d
            s2 += d * d
        shift = s1 / N
        m = z0 + shift
        s = np.sqrt(max(s2 - s1 * shift, 0.0) / (N - ddof) + eps)
        if eps == 0.0:                      # max |Z| is the rounding scale of the spread
            top = 0.0
            for i in range(N):
                top = max(top, abs(ZT[j, i]))
            if s <= 64 * 2.220446049250313e-16 * top:
                if flat < 0:
                    flat = j
                s = 1.0                     # a stand-in: the caller raises
        sd[j] = s
        inv = 1.0 / s
        g = gamma[j]
        bt = beta[j]
        pgamma += g * 0.0
        pbeta += bt * 0.0
        fused = q == 1                      # H G2 summed in the same loop
        w2 = G2[j, 0]
        if simple:
            for i in range(N):
                zh = (ZT[j, i] - m) * inv
                ZT[j, i] = zh
                a = g * zh + bt
                w = 1.0 if a > 0.0 else neg     # act'(0) = 0 for relu
                h = a * w
                H[j, i] = h
                S[j, i] = w
                if fused:                   # loop-invariant: LLVM unswitches it
                    F[0, i] += h * w2
        else:
            for i in range(N):
                zh = (ZT[j, i] - m) * inv
                ZT[j, i] = zh
                h, S[j, i] = act_and_slope(g * zh + bt, code)
                H[j, i] = h
                if fused:
                    F[0, i] += h * w2
        if not fused:
            for k in range(q):
                w2 = G2[j, k]
                for i in range(N):
                    F[k, i] += H[j, i] * w2
    c = -2.0 / N
    rss = 0.0
    db = np.empty(q)
    for k in range(q):
        bk = b[k]
        acc = 0.0
        for i in range(N):
            e = Y[i, k] - bk - F[k, i]
            rss += e * e
            e *= c
            F[k, i] = e
            acc += e
        db[k] = acc
    dG2 = np.empty((p2, q))
    dgamma = np.empty(p2)
    dbeta = np.empty(p2)
    for j in range(p2):
        if q == 1:
            w2 = G2[j, 0]
            acc = 0.0
            sb = 0.0
            sg = 0.0
            for i in range(N):
                e = F[0, i]
                acc += H[j, i] * e
                s = S[j, i] * e * w2
                S[j, i] = s
                sb += s
                sg += s * ZT[j, i]
            dG2[j, 0] = acc
        else:
            for k in range(q):
                acc = 0.0
                for i in range(N):
                    acc += H[j, i] * F[k, i]
                dG2[j, k] = acc
            for i in range(N):              # H' row j becomes (E G2')' row j
                H[j, i] = 0.0
            for k in range(q):
                w2 = G2[j, k]
                for i in range(N):
                    H[j, i] += F[k, i] * w2
            sb = 0.0
            sg = 0.0
            for i in range(N):
                s = S[j, i] * H[j, i]
                S[j, i] = s
                sb += s
                sg += s * ZT[j, i]
        dbeta[j] = sb
        dgamma[j] = sg
        # dZ = (S - mean(S) - Zh c) gamma / sd, c = sum(S Zh) / (N - ddof)
        mS = sb / N
        cS = sg / (N - ddof)
        sc = gamma[j] / sd[j]
        for i in range(N):
            S[j, i] = (S[j, i] - mS - ZT[j, i] * cS) * sc
    return flat, rss / N, (pgamma, pbeta), np.dot(X.T, S.T), dgamma, dbeta, dG2, db


@njit(cache=True, error_model="numpy", fastmath=_FAST)
def gradient_small(X, y, G1, gamma, beta, G2, b, code, eps, ddof, small_max):
    """(status, index, (R, dG1, dgamma, dbeta, dG2, db)) for a small X, each
    gradient shaped like its parameter; status NOT_SMALL (and empty
    arrays) when N (p1 + p2) > small_max or any argument is off."""
    N, p1 = X.shape
    p2 = G1.shape[1]
    q = G2.size // p2 if p2 > 0 else 0
    if not (N >= 2 and p1 > 0 and p2 > 0 and N * (p1 + p2) <= small_max
            and G1.shape[0] == p1 and gamma.size == p2 and beta.size == p2
            and G2.shape[0] == p2 and q > 0 and G2.size == p2 * q and b.size == q
            and y.shape[0] == N and y.size == N * q
            and 0.0 <= eps < np.inf and (ddof == 0 or ddof == 1) and 0 <= code <= IDENTITY):
        # np.empty(G2.shape) only gives the result its type: never touched.
        return NOT_SMALL, 0, (0.0, np.empty((0, 0)), np.empty(0), np.empty(0),
                              np.empty(G2.shape), np.empty(0))
    Xc = np.ascontiguousarray(X)
    Y = np.ascontiguousarray(y).reshape((N, q))
    G1c = np.ascontiguousarray(G1)
    G2c = np.ascontiguousarray(G2).reshape((p2, q))
    gammac = np.ascontiguousarray(gamma)
    betac = np.ascontiguousarray(beta)
    bc = np.ascontiguousarray(b)
    flat, loss, (pgamma, pbeta), dG1, dgamma, dbeta, dG2, db = _small_core(
        Xc, Y, G1c, gammac, betac, G2c, bc, code, eps, ddof)
    # NaN or Inf in y, G2 or b always reaches the loss, so those are looked at
    # only then.  X, G1, gamma and beta are checked themselves: tanh and
    # sigmoid saturate at an infinite gamma or beta, and a BLAS may skip a
    # product by an exact zero.  Which input it is, the tiled kernels' search
    # says (an error path: its temporaries do not matter).
    bad = -1
    if _poison(Xc) != 0.0:
        bad = 0
    elif not np.isfinite(loss) or _poison(G1c) + pgamma + pbeta != 0.0:
        bad = _first_not_finite(Y, G1c, gammac, betac, G2c, bc)
    status, index = _status(bad, flat)
    return status, index, (loss, dG1, dgamma, dbeta, dG2.reshape(G2.shape), db)
