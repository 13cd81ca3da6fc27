"""Small X: the whole gradient in one call.

Below engine.SMALL_MAX values of X and Z together a call's fixed costs are
the time: every allocation, boxed result and Python-level check is a
visible share of it.  gradient_small therefore checks its own arguments
(returning NOT_SMALL for anything it will not take, so that the general
path, which names the bad argument, runs instead), writes into arrays the
caller made, and does its two products by BLAS (kernels/blas.py) only where
they are small enough (N p1 p2 <= SMALL_PRODUCT) for OpenBLAS to run them
on the calling thread: no thread pool is ever woken for a small product,
and none needs holding.

It works on transposed arrays (X', Z', S': one row per column of X or Z),
so that every loop runs along N contiguous values with the column's
constants in registers, and X is shifted by its first row (of a weight near
the largest: engine.shift_row) before anything else (eq. shift), so the
result does not depend on where the data sit.
"""
import numpy as np
from ._jit import jit

from . import (FLAT_COLUMN, NOT_FINITE, NOT_SMALL, OK, OVERFLOW, OVERFLOW_X, OVERFLOW_Z,
               UNDERFLOW_Z)
from .activations import IDENTITY, LEAKY_RELU, LEAKY_SLOPE, RELU, act_and_slope
from .blas import gemm

# Reassociation lets the reductions vectorise; 'contract' allows FMA; 'arcp'
# keeps reassociation from turning x * (1 / s) back into a division per
# element.  None of them assumes away NaN or Inf, which the checks rely on.
# The same compiled kernel always takes the same path through the data, so
# results stay the same bit for bit from call to call and thread to thread.
_FAST = {"reassoc", "contract", "arcp"}
_ULP = 2.220446049250313e-16
_TINY = 2.2250738585072014e-308          # the smallest normal float64
# the shift row: the first of weight >= SHIFT_WEIGHT times the largest (engine.shift_row)
SHIFT_WEIGHT = 2.0 ** -10
# OpenBLAS runs a product on the calling thread below 65536 * 4 multiply-adds;
# half that, to be clear of it.
SMALL_PRODUCT = 1 << 17


@jit(fastmath=_FAST)
def gradient_small(X, Y, wt, G1, gamma, beta, G2, b, code, eps, ddof, small_max, dG1, dgamma,
                   dbeta, dG2, db):
    """(status, index, R) for small X, with dR/dG1 ... dR/db written into
    dG1 (p1 x p2), dgamma, dbeta (p2), dG2 (p2 x q), db (q); or NOT_SMALL
    when N (p1 + p2) > small_max, N p1 p2 > SMALL_PRODUCT or an argument is
    off.  Y and G2 are 2-D (the caller reshapes vectors).  wt: case weights
    (checks.weights), or empty for none.  NOT_FINITE with index -1: y or a
    parameter holds NaN or Inf (the caller finds which; an error path need
    not be fast)."""
    N, p1 = X.shape
    p2 = G1.shape[1]
    q = G2.shape[1]
    if not (N >= 2 and p1 > 0 and p2 > 0 and q > 0 and N * (p1 + p2) <= small_max
            and N * p1 * p2 <= SMALL_PRODUCT
            and G1.shape[0] == p1 and gamma.size == p2 and beta.size == p2
            and G2.shape[0] == p2 and b.size == q and Y.shape[0] == N and Y.shape[1] == q
            and 0.0 <= eps < np.inf and (ddof == 0 or ddof == 1) and 0 <= code <= IDENTITY
            and (wt.size == 0 or wt.size == N) and dG1.shape[0] == p1
            and dG1.shape[1] == p2 and dgamma.size == p2 and dbeta.size == p2
            and dG2.shape[0] == p2 and dG2.shape[1] == q and db.size == q):
        return NOT_SMALL, 0, 0.0
    # Frequency weights: W = sum(wt) stands for N, and each row counts wt_i
    # times (eq. weights); without weights every wt_i is 1.
    weighted = wt.size > 0
    W = float(N)
    if weighted:
        W = 0.0
        for i in range(N):
            W += wt[i]
    # D' = (X - 1x0')' centred: the shift is exact where an offset dwarfs
    # the spread, and centring D (not X) leaves only the spread's rounding
    # (x0 engine.shift_row's: one of weight 0 far away put its offset in D).
    # NaN or Inf in X makes a column's sum NaN or Inf (so does overflow;
    # the end tells them apart).
    DT = np.empty((p1, N))
    status = OK
    first = 0                                  # the shift: engine.shift_row's row
    if weighted:
        wmax = 0.0
        for i in range(N):
            wmax = max(wmax, wt[i])
        while first < N - 1 and not wt[first] >= wmax * SHIFT_WEIGHT:
            first += 1
    for k in range(p1):
        x0 = X[first, k]
        s = 0.0
        for i in range(N):
            dv = X[i, k] - x0
            DT[k, i] = dv
            s += dv
        if weighted:                           # the weighted mean, in its own loop
            s = 0.0
            for i in range(N):
                s += DT[k, i] * wt[i]
        if not np.isfinite(s):
            status = NOT_FINITE
        m = s / W
        for i in range(N):
            DT[k, i] -= m
    if status != OK:
        return _x_status(X), 0, 0.0
    G1c = np.empty((p1, p2))                   # contiguous, for the product
    pg = 0.0                                   # NaN if G1, gamma or beta holds NaN or Inf
    for k in range(p1):
        for j in range(p2):
            g = G1[k, j]
            G1c[k, j] = g
            pg += g * 0.0
    # (zeroed by loops, here and for F: np.zeros's overloads are compiled
    # apart from np.empty's, 0.4 s more of a cold first gradient)
    bound = np.empty(p2)                       # |G1|' max|D_c|: rounding scale of Z's columns
    for j in range(p2):
        bound[j] = 0.0
    if eps == 0.0:
        for k in range(p1):
            t = 0.0
            for i in range(N):
                if not weighted or wt[i] > 0.0:     # (a row of weight 0 is not there)
                    t = max(t, abs(DT[k, i]))
            for j in range(p2):
                bound[j] += abs(G1c[k, j]) * t
    ZT = np.empty((p2, N))                     # Z' = G1' D', then Zh'
    gemm(True, False, p2, N, p1, 1.0, G1c, p2, DT, N, 0.0, ZT, N)
    H = np.empty((p2, N))
    S = np.empty((p2, N))                      # act'(A)', then S', then dZ'
    F = np.empty((q, N))                       # (H G2)', then E' = (dR/dyhat)'
    for k in range(q):
        for i in range(N):
            F[k, i] = 0.0
    sd = np.empty(p2)
    status = OK
    index = 0
    simple = code == RELU or code == LEAKY_RELU or code == IDENTITY
    neg = 0.0 if code == RELU else (LEAKY_SLOPE if code == LEAKY_RELU else 1.0)
    for j in range(p2):
        # Z's columns are G1' times centred columns of D: their means are 0
        # but for rounding, so one pass of sums and squares loses nothing
        s1 = 0.0
        s2 = 0.0
        if weighted:
            for i in range(N):
                if wt[i] > 0.0:                # a row of weight 0 far away: inf * 0
                    z = ZT[j, i]
                    s1 += z * wt[i]
                    s2 += z * z * wt[i]
        else:
            for i in range(N):
                z = ZT[j, i]
                s1 += z
                s2 += z * z
        m = s1 / W
        var = max(s2 - s1 * m, 0.0) / (W - ddof)   # a flat column can round below 0
        if not (np.isfinite(var) and np.isfinite(m)):
            if status == OK:
                status, index = OVERFLOW_Z, j
            var = 1.0
        elif eps == 0.0 and np.sqrt(var) <= 64 * _ULP * bound[j]:
            if status == OK:                   # a flat column divides by zero
                status, index = FLAT_COLUMN, j
            var = 1.0
        elif eps == 0.0 and var < _TINY:
            # a spread, but a variance below the normal range: digits lost
            if status == OK:
                status, index = UNDERFLOW_Z, j
            var = 1.0
        sdj = np.sqrt(var + eps)
        sd[j] = sdj
        inv = 1.0 / sdj
        if weighted:
            for i in range(N):
                if not wt[i] > 0.0:            # not there: far away, its Z overflowed
                    ZT[j, i] = m
        g = gamma[j]
        bt = beta[j]
        pg += g * 0.0 + bt * 0.0
        fused = q == 1                         # H G2 summed in the same loop
        w2 = G2[j, 0]
        if simple:
            for i in range(N):
                zh = (ZT[j, i] - m) * inv
                ZT[j, i] = zh
                a = g * zh + bt
                w = 1.0 if a > 0.0 else neg    # act'(0) = 0 for relu
                h = a * w
                H[j, i] = h
                S[j, i] = w
                if fused:                      # loop-invariant: LLVM unswitches it
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
    c = -2.0 / W
    rss = 0.0
    for k in range(q):
        bk = b[k]
        acc = 0.0
        if weighted:
            for i in range(N):
                e = 0.0
                if wt[i] > 0.0:
                    e = Y[i, k] - bk - F[k, i]
                    rss += e * e * wt[i]
                    e *= c * wt[i]
                F[k, i] = e
                acc += e
        else:
            for i in range(N):
                e = Y[i, k] - bk - F[k, i]
                rss += e * e
                e *= c
                F[k, i] = e
                acc += e
        db[k] = acc
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
            for i in range(N):                 # H' row j becomes (E G2')' row j
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
        # dZ = (S - w mean(S) - w Zh c) gamma / sd, c = sum(S Zh) / (W - ddof)  (eq. dZ)
        mS = sb / W
        cS = sg / (W - ddof)
        sc = gamma[j] / sd[j]
        if weighted:
            for i in range(N):
                S[j, i] = (S[j, i] - wt[i] * (mS + ZT[j, i] * cS)) * sc
        else:
            for i in range(N):
                S[j, i] = (S[j, i] - mS - ZT[j, i] * cS) * sc
    # dG1 = D_c' dZ: 1'dZ = 0 lets centred D stand for X
    gemm(False, True, p1, p2, N, 1.0, DT, N, S, N, 0.0, dG1, p2)
    pd = 0.0                                   # NaN if a gradient is not finite
    for k in range(p1):
        for j in range(p2):
            pd += dG1[k, j] * 0.0
    for j in range(p2):
        pd += dgamma[j] * 0.0 + dbeta[j] * 0.0
        for k in range(q):
            pd += dG2[j, k] * 0.0
    for k in range(q):
        pd += db[k] * 0.0
    loss = rss / W
    pd += loss * 0.0
    # y, G2 and b reach the loss; G1, gamma and beta are in pg (tanh and
    # sigmoid saturate at an infinite gamma or beta, leaving the loss finite).
    # NaN or Inf in an input explains any other status, so it goes first.
    if pg != 0.0 or (status == OK and (loss != loss or abs(loss) == np.inf)):
        status, index = NOT_FINITE, -1
    elif status == OK and pd != 0.0:
        status = OVERFLOW
    if status == OVERFLOW_Z or status == OVERFLOW:
        # a spread of X whose square overflows is X's fault, not G1's
        for k in range(p1):
            for i in range(N):
                if abs(DT[k, i]) > 1e150:
                    return OVERFLOW_X, k, loss
    return status, index, loss


@jit()
def _x_status(X):
    """NOT_FINITE where X holds NaN or Inf, else OVERFLOW_X (a column's sum
    overflows): an error path."""
    N, p1 = X.shape
    for k in range(p1):
        for i in range(N):
            if not np.isfinite(X[i, k]):
                return NOT_FINITE
    return OVERFLOW_X
