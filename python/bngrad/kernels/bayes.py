"""Levenberg-Marquardt with Bayesian regularisation (docs/derivation.md, section 4).

The net is fitted in V-coordinates: V = G1 diag(gamma), so that G1 = V / |V|
column by column and gamma = |V|.  Batch norm makes the output invariant to
the scale of G1's columns; in V the invariance is gone, and a Gaussian prior
on v = (V, beta, G2, b) is a prior on the function (|V_j| is how sharply
unit j bends), which is what MacKay's evidence framework needs.

    F(v) = beta_ * SSE(v) + alpha * |v|^2,  SSE = sum_i w_i |y_i - yhat_i|^2

(or one alpha per group of weights: ARD, _ard_update)
LM steps minimise F at fixed (alpha, beta_) on the exact Gauss-Newton
matrix J'WJ of the batch-normalised net (every row of J depends on every
row of X through the batch statistics); between blocks of steps the
evidence re-estimates them:

    A = beta_ J'WJ + alpha I,  g = P - alpha tr(A^-1)  (well-determined weights)
    alpha = g / (2 |v|^2),     beta_ = (W - g) / (2 SSE)

and the state of highest evidence seen is the one returned (the iteration
can drift from it into over-fitting where P approaches W).

Rows of J and of the residual r are observation-major (row i q + k) and
scaled by sqrt(w_i), so J'J and J'r are the weighted products.
"""
import numpy as np

from ._jit import jit
from .activations import act_and_slope
from .blas import syrk

CONVERGED, MAX_ITER = 0, 1
# inputs, and rows per input, from which fit_bayes goes on from the Gamma
# hyperprior's fit with the pull _ard_update estimates from the inputs' spread
SPREAD_MIN_INPUTS = 20
SPREAD_MIN_ROWS_PER_INPUT = 2.0
# a near-exact fit (fit_bayes) has stopped when a block of LM steps lowers its
# SSE by less than this share of it
NEAR_EXACT = 0.03


@jit()
def net_eval(X, w, sw, Y, v, p2, code, eps, ddof, want_jac, r, J):
    """Weighted residuals sqrt(w)(y - yhat) into r, sqrt(w) d yhat / d v into
    J (if want_jac), for the net with batch statistics of X; returns SSE."""
    N, p1 = X.shape
    Xc, W = _centred(X, w)
    G1, gam, sd = np.empty((p1, p2)), np.empty(p2), np.empty(p2)
    Zc, Zh, H, S = np.empty((N, p2)), np.empty((N, p2)), np.empty((N, p2)), np.empty((N, p2))
    sse = _forward(Xc, W, w, sw, Y, v, p2, code, eps, ddof, G1, gam, sd, Zc, Zh, H, S, r)
    if want_jac:
        _jacobian(Xc, W, w, sw, v, p2, Y.shape[1], eps, ddof, G1, sd, Zh, H, S, J)
    return sse


@jit()
def _centred(X, w):
    """X less its weighted column means, and the weights' total: the same
    for every v, so fit_bayes takes them once."""
    N, p1 = X.shape
    W = 0.0
    for i in range(N):
        W += w[i]
    m = np.zeros(p1)
    for i in range(N):
        for l in range(p1):
            m[l] += w[i] * X[i, l]
    for l in range(p1):
        m[l] /= W
    Xc = np.empty((N, p1))
    for i in range(N):
        for l in range(p1):
            Xc[i, l] = X[i, l] - m[l]
    return Xc, W


@jit()
def _forward(Xc, W, w, sw, Y, v, p2, code, eps, ddof, G1, gam, sd, Zc, Zh, H, S, r):
    """The forward pass at v: residuals sqrt(w)(y - yhat) into r, and what
    its Jacobian (_jacobian) needs into G1 (V / |V|), gam (|V|), sd, Zh, H
    and S (Zc is room for X G1); returns SSE.  The pieces are kept, not
    recomputed with the Jacobian: an accepted LM step's trial forward pass
    is the next Jacobian's."""
    N, p1 = Xc.shape
    q = Y.shape[1]
    for j in range(p2):
        s = 0.0
        for l in range(p1):
            s += v[l * p2 + j] ** 2
        gam[j] = np.sqrt(s)
        inv = 1.0 / gam[j] if gam[j] > 0.0 else 0.0
        for l in range(p1):
            G1[l, j] = v[l * p2 + j] * inv
    np.dot(Xc, G1, Zc)
    for j in range(p2):
        s = 0.0
        for i in range(N):
            s += w[i] * Zc[i, j] ** 2
        sd[j] = np.sqrt(s / (W - ddof) + eps)
    ob = p1 * p2                   # offsets of beta, G2, b in v
    og = ob + p2
    oc = og + p2 * q
    for i in range(N):
        for j in range(p2):
            zh = Zc[i, j] / sd[j]
            Zh[i, j] = zh
            H[i, j], S[i, j] = act_and_slope(gam[j] * zh + v[ob + j], code)
    sse = 0.0
    for i in range(N):
        for k in range(q):
            yh = v[oc + k]
            for j in range(p2):
                yh += H[i, j] * v[og + j * q + k]
            e = sw[i] * (Y[i, k] - yh)
            r[i * q + k] = e
            sse += e * e
    return sse


@jit()
def _jacobian(Xc, W, w, sw, v, p2, q, eps, ddof, G1, sd, Zh, H, S, J):
    """sqrt(w) d yhat / d v into J, from _forward's pieces at v."""
    N, p1 = Xc.shape
    ob = p1 * p2
    og = ob + p2
    oc = og + p2 * q
    # U[j, l] = sum_m w_m Zh_mj Xc_ml / (W - ddof): how Zh_.j moves with G1_lj through sd_j
    WZh = np.empty((N, p2))
    for i in range(N):
        for j in range(p2):
            WZh[i, j] = w[i] * Zh[i, j]
    U = np.dot(WZh.T, Xc)
    for j in range(p2):
        for l in range(p1):
            U[j, l] /= W - ddof
    J[:, :] = 0.0
    for i in range(N):
        s = sw[i]
        for k in range(q):
            row = i * q + k
            for j in range(p2):
                g = S[i, j] * v[og + j * q + k]          # d yhat_ik / d A_ij
                zh = Zh[i, j]
                cg = g / sd[j]
                radial = g * zh * (1.0 - eps / (sd[j] * sd[j]))
                # d yhat / d V_lj (eq. J): through G1 = V/|V| (the batch-norm backward)
                # and gamma = |V|
                for l in range(p1):
                    J[row, l * p2 + j] = s * (cg * (Xc[i, l] - zh * U[j, l]) + radial * G1[l, j])
                J[row, ob + j] = s * g
                J[row, og + j * q + k] = s * H[i, j]
            J[row, oc + k] = s


@jit()
def net_loo_rows(X, w, Y, v, p2, code, eps, ddof, decay, copy, lev_max, e):
    """Leave-one-out residuals (N x q, into e) of the net at v from its
    Gauss-Newton linearisation with ridge penalty `decay` (one per weight;
    blend.net_loo):
    e_ik = r_ik / (1 - h_ik), h the leverage of row i, output k, with a
    row's leave-one-out removing the weight copy[i] of it, capped at
    lev_max; 0 where w is 0.  False where J'WJ + decay I has no Cholesky
    factor even with a jitter of 1e-6 of its scale.  One kernel, called
    from Python: the scipy calls between kernels cost more than a small
    net's fit."""
    N, q = Y.shape
    P = v.size
    sw = np.sqrt(w)
    r = np.empty(N * q)
    J = np.empty((N * q, P))
    net_eval(X, w, sw, Y, v, p2, code, eps, ddof, True, r, J)   # rows scaled by sqrt(w)
    hw = np.empty(N * q)
    # J'WJ + diag(decay) is diag(decay)^1/2 (J~'J~ + I) diag(decay)^1/2 with
    # J~ = J diag(decay)^-1/2, of the same leverages
    uniform = True
    for d in range(P):
        uniform = uniform and decay[d] == decay[0]
    if not leverage(J if uniform else J / np.sqrt(decay), decay[0] if uniform else 1.0, hw):
        return False
    for i in range(N):
        for k in range(q):
            row = i * q + k
            e[i, k] = 0.0
            if w[i] > 0.0:
                h = min(hw[row] / w[i] * copy[i], lev_max)
                e[i, k] = r[row] / sw[i] / (1.0 - h)
    return True


@jit()
def leverage(J, decay, h):
    """h = diag(J (J'J + decay I)^-1 J') in the smaller of the weights' and
    the rows' spaces (there diag(I - decay (JJ' + decay I)^-1)), from the
    inverse Cholesky factor; False where rounding leaves the matrix without
    a factor even with a jitter of 1e-6 of its scale."""
    rows, P = J.shape
    primal = P <= rows
    small = _gram(J, not primal)
    n = small.shape[0]
    for d in range(n):
        small[d, d] += decay
    L = _cholesky_jittered(small)
    if L.shape[0] == 0:
        return False
    Li = _lower_inverse(L)               # A^-1 = Li' Li
    if primal:
        Z = np.dot(J, Li.T)                    # row i: L^-1 J_i'
        for i in range(rows):
            s = 0.0
            for k in range(n):
                s += Z[i, k] * Z[i, k]
            h[i] = s
    else:
        ss = _column_squares(Li)
        for i in range(rows):
            h[i] = 1.0 - decay * ss[i]
    return True


@jit()
def _gram(J, dual):
    """J'J, or JJ' where dual: by syrk, half of np.dot's work (which took
    most of an LM step's time at a few hundred weights), mirrored whole.
    (syrk's sizes are 32-bit: the Bayesian fit's J is far smaller.)"""
    J = np.ascontiguousarray(J)
    rows, P = J.shape
    n, k = (rows, P) if dual else (P, rows)
    if n == 0 or k == 0:                       # BLAS refuses a leading dimension of 0
        return np.zeros((n, n))
    C = np.empty((n, n))
    syrk(not dual, n, k, 1.0, J, P, 0.0, C, n)
    for i in range(n):
        for j in range(i + 1, n):
            C[i, j] = C[j, i]
    return C


@jit()
def _column_squares(M):
    """The sums of squares of M's columns, by rows (along memory), each
    column's sum taken down its rows in order (a triangular M's zeros add
    nothing, not even a bit)."""
    rows, cols = M.shape
    s = np.zeros(cols)
    for k in range(rows):
        for d in range(cols):
            s[d] += M[k, d] * M[k, d]
    return s


@jit()
def _cholesky(A):
    """A's Cholesky factor, or an empty array where rounding has left A
    (positive definite in exact arithmetic) without one."""
    try:
        return np.linalg.cholesky(A)
    except Exception:
        return np.empty((0, 0))


@jit()
def _chol_solve(L, g):
    """A^-1 g from A's Cholesky factor L (own substitutions: O(n^2))."""
    n = g.size
    x = g.copy()
    for i in range(n):
        s = x[i]
        for k in range(i):
            s -= L[i, k] * x[k]
        x[i] = s / L[i, i]
    for i in range(n - 1, -1, -1):
        s = x[i]
        for k in range(i + 1, n):
            s -= L[k, i] * x[k]
        x[i] = s / L[i, i]
    return x


@jit()
def _cholesky_jittered(A):
    """_cholesky of A, or of A with a jitter of 1e-12 to 1e-6 of its mean
    diagonal where rounding leaves it without one; empty if none has."""
    n = A.shape[0]
    tr = 0.0
    for d in range(n):
        tr += A[d, d]
    scale = tr / n
    for jitter in (0.0, 1e-12, 1e-9, 1e-6):
        B = A.copy()
        for d in range(n):
            B[d, d] += jitter * scale
        L = _cholesky(B)
        if L.shape[0] > 0:
            return L
    return np.empty((0, 0))


@jit()
def _ard_step(J, JtJ, g, c, beta_, dual):
    """The LM step (beta_ J'J + diag(c))^-1 g, c the weights' precisions
    plus the damping; with more weights than rows by Woodbury in the rows'
    space: c^-1 g - c^-1 J' (I + beta_ J c^-1 J')^-1 beta_ J c^-1 g.
    Empty where the matrix has no Cholesky factor."""
    if not dual:
        Hm = beta_ * JtJ
        for d in range(Hm.shape[0]):
            Hm[d, d] += c[d]
        L = _cholesky(Hm)
        if L.shape[0] == 0:
            return np.empty(0)
        return _chol_solve(L, g)
    Jc = J / c                          # J c^-1, column by column
    M = beta_ * np.dot(Jc, J.T)
    for d in range(M.shape[0]):
        M[d, d] += 1.0
    L = _cholesky(M)
    if L.shape[0] == 0:
        return np.empty(0)
    gc = g / c
    return gc - np.dot(Jc.T, _chol_solve(L, beta_ * np.dot(J, gc)))


@jit()
def _ard_update(J, JtJ, v, gid, n_g, al, a, beta_, sse, nobs, spread, al_new):
    """The evidence update of fit_bayes with a precision per group (gid;
    n_g weights in each; al their precisions, a = al[gid]): the log evidence, the
    effective number of parameters, the next noise precision beta_, and the
    groups' next precisions into al_new.  JtJ is J'J where J has no more
    columns than rows (fit_bayes has it), and unused otherwise.

    A = beta_ J'J + diag(al[gid]); its log determinant and the diagonal of
    A^-1 from a Cholesky factor, of A or (more weights than rows) of
    I + beta_ J diag(a)^-1 J' by Woodbury.  Group g's well-determined
    weights are gamma_g = n_g - al_g tr_g(A^-1), and MacKay's update
    al_g = gamma_g / (2 |v_g|^2) for the last group (beta, G2, b).  The
    inputs' groups (rows of V) are pulled towards the inputs' pooled
    precision.  Below SPREAD_MIN_INPUTS inputs by a Gamma hyperprior with
    the pool as its mode and n_g pseudo-weights, as far as the input's own
    weights pull (its precision is then at most twice the pool): without
    it, on 70-row data, the evidence dropped or kept inputs on a few rows'
    say (Cars93 price, longley, stackloss: test MSE 1.26-1.76x a single
    alpha's), and with it the gain where inputs are noise stayed
    (make_friedman1(), five of ten inputs noise: median test R^2 0.62-0.85
    with one alpha, 0.66-0.95 with ARD, over four draws).  But a hyperprior
    of fixed strength holds a useless input near the pool however many
    there are: make_friedman1 with 20-100 inputs (5 of them used), 150-400
    rows, median test R^2 0.36-0.90 (0.67-0.88 for HistGradientBoosting).
    With spread (fit_bayes: from SPREAD_MIN_INPUTS inputs that vary, with
    SPREAD_MIN_ROWS_PER_INPUT rows each, once the hyperprior's fit has
    settled) the pull is estimated from the inputs' spread (empirical
    Bayes on log precisions, below), which can put a useless input's
    precision orders of magnitude above the pool, and is never weaker than
    the hyperprior's.  Applied from the start, it switched off inputs the
    nets take up late, through a curve with no linear trend
    (make_friedman1's x3, 20 (x3 - 0.5)^2, helper-54: 300 rows, 20 inputs,
    test R^2 0.86 where 19 inputs gave 0.86-0.93); after the hyperprior's
    fit, 17 draws of 20-100 inputs on 150-600 rows went from 0.868 to 0.905
    in the mean (from the start: 0.868; the hyperprior alone, 1675c76^:
    0.36-0.90 on ten of them, HistGradientBoosting 0.67-0.88).  From fewer
    inputs the spread's estimate was too rough (its relative error
    ~ sqrt(2 / m)): on make_friedman1's 10, test R^2 moved by -0.13 to
    +0.14 a draw; from fewer rows than twice the inputs the nets overfit
    (60 rows of 100 inputs, 2 used: test R^2 -1.4 to -0.4 against -0.03 to
    0.14 with the hyperprior alone)."""
    rows, P = J.shape
    G = al.size
    logdet = 0.0
    if P <= rows:
        A = beta_ * JtJ
        for d in range(P):
            A[d, d] += a[d]
        L = _cholesky_jittered(A)
        if L.shape[0] == 0:
            return -np.inf, 0.0, beta_
        Li = _lower_inverse(L)
        diag = _column_squares(Li)
        for d in range(P):
            logdet += 2.0 * np.log(L[d, d])
    else:
        Ja = J / a
        M = beta_ * np.dot(Ja, J.T)
        for d in range(rows):
            M[d, d] += 1.0
        L = _cholesky_jittered(M)
        if L.shape[0] == 0:
            return -np.inf, 0.0, beta_
        Z = np.dot(_lower_inverse(L), J)          # L^-1 J
        for d in range(rows):
            logdet += 2.0 * np.log(L[d, d])
        s = _column_squares(Z)
        diag = np.empty(P)
        for d in range(P):
            logdet += np.log(a[d])
            diag[d] = 1.0 / a[d] - beta_ * s[d] / (a[d] * a[d])
    tr = np.zeros(G)
    ssw = np.zeros(G)
    for d in range(P):
        tr[gid[d]] += diag[d]
        ssw[gid[d]] += v[d] * v[d]
    gam = np.empty(G)
    total = 0.0
    prior = 0.0
    log_al = 0.0
    for k in range(G):
        gam[k] = min(max(n_g[k] - al[k] * tr[k], 1e-3), n_g[k])
        total += gam[k]
        prior += al[k] * ssw[k]
        log_al += n_g[k] * np.log(al[k])
    evidence = -(beta_ * sse + prior) - 0.5 * logdet + 0.5 * log_al + 0.5 * nobs * np.log(beta_ / np.pi)
    gamma_eff = min(max(total, 1e-3), min(float(P), nobs - 1.0))
    pooled_gam, pooled_ssw = 0.0, 0.0
    for k in range(G - 1):
        pooled_gam += gam[k]
        pooled_ssw += ssw[k]
    pooled = pooled_gam / (2.0 * max(pooled_ssw, 1e-300))
    if spread:
        # the inputs' mean square deviation about the pool (not about
        # their own mean), from themselves (empirical Bayes on log
        # precisions): each input's own MacKay estimate, whose log has a
        # sampling variance of about 2 / gamma_g, shrunk towards the pool's
        # by that variance against the deviation left when it is taken out
        # (tau2: a moment estimate; an input whose weights are all
        # undetermined, a flat column's, is left out of it)
        lp = np.log(pooled)
        dev = np.empty(G - 1)
        sq_sum, noise_sum, m = 0.0, 0.0, 0
        for k in range(G - 1):
            dev[k] = np.log(min(max(gam[k] / (2.0 * max(ssw[k], 1e-300)), 1e-10), 1e10)) - lp
            if gam[k] > 2e-3:
                sq_sum += dev[k] * dev[k]
                noise_sum += 2.0 / gam[k]
                m += 1
        tau2 = max((sq_sum - noise_sum) / m, 0.0) if m > 0 else 0.0
    for k in range(G - 1):
        hyper = min((gam[k] + n_g[k]) / (2.0 * ssw[k] + n_g[k] / pooled), 1e10)
        if not spread:
            al_new[k] = hyper
            continue
        # the pull never stronger than the hyperprior's: where the
        # deviations look like sampling noise alone (tau2 = 0), the inputs
        # would otherwise share the pool exactly
        pull = tau2 / (tau2 + 2.0 / gam[k]) * dev[k]
        hyper_pull = np.log(hyper) - lp
        al_new[k] = min(np.exp(lp + (pull if abs(pull) > abs(hyper_pull) else hyper_pull)), 1e10)
    al_new[G - 1] = min(gam[G - 1] / (2.0 * max(ssw[G - 1], 1e-300)), 1e10)
    b_new = min((nobs - gamma_eff) / (2.0 * max(sse, 1e-300)), 1e10)
    return evidence, gamma_eff, b_new


@jit()
def _lower_inverse(L):
    """L^-1 of a lower-triangular L (lower-triangular).  Row by row, each
    element's sum taken over k in the same order as the column-by-column
    substitution: its bits, with every inner loop along a row (by columns
    it strode through memory, 2.5 ms of an ARD evidence update's 4.8 at
    217 weights)."""
    n = L.shape[0]
    Li = np.zeros((n, n))
    for i in range(n):
        for k in range(i):
            lik = L[i, k]
            for j in range(k + 1):
                Li[i, j] -= lik * Li[k, j]
        for j in range(i):
            Li[i, j] /= L[i, i]                # (a division, as the substitution's)
        Li[i, i] = 1.0 / L[i, i]
    return Li


@jit()
def evidence_update(lam, rest, alpha, beta_, sse, ssw, P, nobs):
    """At a minimum of F for (alpha, beta_): the log evidence (eq. ev), the
    effective number of parameters, and MacKay's update of (alpha, beta_).
    lam holds eigenvalues of J'WJ, all its non-zero ones (zeros may be among
    them); the other rest of its P are 0, so there A = beta_ J'WJ + alpha I
    has eigenvalue alpha."""
    logdet = rest * np.log(alpha)
    tr = rest / alpha
    for d in range(lam.size):
        a = beta_ * max(lam[d], 0.0) + alpha
        logdet += np.log(a)
        tr += 1.0 / a
    evidence = (-(beta_ * sse + alpha * ssw) - 0.5 * logdet + 0.5 * P * np.log(alpha)
                + 0.5 * nobs * np.log(beta_ / np.pi))
    gamma_eff = min(max(P - alpha * tr, 1e-3), min(P, nobs - 1.0))
    # bounded where a perfect fit (SSE -> 0) or no weights (|v| -> 0)
    # would send them to infinity: a noise and a prior sd of 1e-5 of y's
    a_new = min(gamma_eff / (2.0 * max(ssw, 1e-300)), 1e10)
    b_new = min((nobs - gamma_eff) / (2.0 * max(sse, 1e-300)), 1e10)
    return evidence, gamma_eff, a_new, b_new


@jit()
def linear_evidence(lam, rr, rss, rest, nobs, max_iter, tol):
    """The log evidence of a linear model (weights B, Y ~ A B) under the same
    prior and noise as fit_bayes, (alpha, beta_) set by the same updates to
    their fixed point.  In the eigenbasis of A'WA, where the minimum of F is
    closed: lam its eigenvalues (for each column of Y in turn), rr the
    squares of sqrt(W) Y's projections on their directions, rss what lies
    outside them; rest counts the directions without data.  Each update
    then costs O(lam.size), so the iteration runs to tol (100 NumPy updates
    took 2 ms on 4 rows, short of it)."""
    P = lam.size + rest
    alpha = 1.0
    beta_ = 1.0
    evidence = -np.inf
    for it in range(max_iter):
        # B's coordinates are beta_ lam r / a; the residual's, alpha r / a
        sse = rss
        ssw = 0.0
        for d in range(lam.size):
            a = beta_ * lam[d] + alpha
            ssw += beta_ * beta_ * lam[d] * rr[d] / (a * a)
            sse += alpha * alpha * rr[d] / (a * a)
        evidence, gamma_eff, a_new, b_new = evidence_update(lam, rest, alpha, beta_, sse, ssw,
                                                            P, nobs)
        if abs(np.log(a_new / alpha)) < tol and abs(np.log(b_new / beta_)) < tol:
            break
        alpha, beta_ = a_new, b_new
    return evidence


@jit()
def fit_bayes(X, w, Y, sse0, v0, p2, code, eps, ddof, alpha0, alpha_groups, fixed, max_iter,
              inner_first, inner, tol, patience, gid, v_out, info, curve, alpha_out):
    """LM with Bayesian regularisation from v0; the best-evidence state into
    v_out, and into info: (status, LM iterations, log evidence, effective
    number of parameters, alpha, beta_, the LM iteration of that state, 0 for
    v0) of that state; curve[t] = the
    weighted mean squared error after LM iteration t.  With a fixed
    regulariser info[2] is the objective F (restarts are compared by it).

    sse0 is added to every SSE: the part no weight can change, where X's
    repeated rows come once each with their count as weight and Y's mean
    (sse0 the spread of y about those means), so that the evidence and the
    stopping rule see the whole data's SSE.

    fixed holds the regulariser at alpha0 instead: F = SSE + alpha0 |v|^2 is
    minimised (a user's fixed decay) and converged when a block of `inner` LM
    steps lowers F by less than tol of it.  The first block is inner_first
    steps.  alpha_groups, where not empty, is each group's first precision in
    place of alpha0 (held where fixed: a Bayesian run's decays, its net
    finished at them, BNRegressor._finish).

    gid puts each weight in a group with a prior precision of its own
    (alpha_out[g] that of the state returned, info[4] the last group's):
    one group, gid all 0, is the classic single alpha.  With more, every
    group but the last is an input's row of V (ARD, _ard_update) and the
    last is the rest."""
    N = X.shape[0]
    q = Y.shape[1]
    P = v0.size
    sw = np.sqrt(w)
    nobs = 0.0
    for i in range(N):
        nobs += w[i]
    nobs *= q
    rows = N * q
    r = np.empty(rows)
    r2 = np.empty(rows)
    J = np.empty((rows, P))
    v = v0.copy()
    # the forward pass's pieces at v, and room for a trial step's (swapped
    # when the step is taken); allocated here, as net_eval does, not by a
    # helper or passed as tuples: either cost 5-9 % of a 6-row fit's kernel
    Xc, W = _centred(X, w)
    p1 = X.shape[1]
    G1, gam, sd = np.empty((p1, p2)), np.empty(p2), np.empty(p2)
    Zc, Zh, H, S = np.empty((N, p2)), np.empty((N, p2)), np.empty((N, p2)), np.empty((N, p2))
    G1t, gamt, sdt = np.empty((p1, p2)), np.empty(p2), np.empty(p2)
    Zht, Ht, St = np.empty((N, p2)), np.empty((N, p2)), np.empty((N, p2))
    sse = _forward(Xc, W, w, sw, Y, v, p2, code, eps, ddof, G1, gam, sd, Zc, Zh, H, S, r) + sse0
    _jacobian(Xc, W, w, sw, v, p2, q, eps, ddof, G1, sd, Zh, H, S, J)
    ssw = np.dot(v, v)
    G = alpha_out.size
    ard = G > 1
    # many inputs on enough rows: their spread's pull once the hyperprior's
    # fit has settled (_ard_update), so that an input the nets take up late,
    # through a curve with no linear trend, is not switched off before they do
    # (inputs counted as those that vary: a flat column's weights are all
    # undetermined and tell the spread nothing)
    m_var = 0
    if ard:
        for k in range(G - 1):
            for i in range(1, N):
                if X[i, k] != X[0, k]:
                    m_var += 1
                    break
    spread_later = m_var >= SPREAD_MIN_INPUTS and nobs >= SPREAD_MIN_ROWS_PER_INPUT * q * m_var
    spread = False
    # the groups' precisions, a the weights'
    al = np.full(G, alpha0) if alpha_groups.size == 0 else alpha_groups.copy()
    alpha = al[G - 1]
    a = np.empty(P)
    for d in range(P):
        a[d] = al[gid[d]]
    n_g = np.zeros(G)
    for d in range(P):
        n_g[gid[d]] += 1.0
    beta_ = 1.0
    mu = 1e-2
    nu = 2.0
    best = -np.inf
    since_best = 0
    v_out[:] = v
    alpha_out[:] = al
    it = 0
    info[6] = 0.0
    status = MAX_ITER
    # the Gram matrix of J in the smaller space (J'J, or JJ' with more
    # weights than rows), kept while J has not moved; none with ARD and more
    # weights than rows, whose step and update form J a^-1 J' themselves
    dual = P > rows
    keep_gram = not (dual and ard)
    JJ = np.empty((0, 0))
    gram_fresh = False
    while it < max_iter:
        F = beta_ * sse + (np.dot(a * v, v) if ard else alpha * ssw)
        F_start, sse_start = F, sse
        moved = False
        # the first block takes LM from the start towards a fit; the
        # evidence's updates then need fewer steps between them
        for _ in range(inner_first if it == 0 else inner):
            it += 1
            g = beta_ * np.dot(J.T, r) - a * v
            # (beta J'J + c I) step = g, c = alpha + mu; with more weights
            # than rows, by Woodbury in the rows' space (N q instead of P):
            # step = (g - beta J' (c I + beta J J')^-1 J g) / c.  With ARD
            # c = a + mu is a vector (_ard_step)
            Jg = np.empty(0)
            if keep_gram and not gram_fresh:
                JJ = _gram(J, dual)
                gram_fresh = True
            if dual and not ard:
                Jg = beta_ * np.dot(J, g)
            accepted = False
            rel = 0.0
            while mu < 1e10:
                if ard:
                    step = _ard_step(J, JJ, g, a + mu, beta_, dual)
                    if step.size == 0:         # more damping makes it definite again
                        mu *= nu
                        nu *= 2.0
                        continue
                else:
                    c = alpha + mu
                    Hm = beta_ * JJ
                    for d in range(Hm.shape[0]):
                        Hm[d, d] += c
                    L = _cholesky(Hm)
                    if L.shape[0] == 0:        # more damping makes it definite again
                        mu *= nu
                        nu *= 2.0
                        continue
                    if dual:
                        step = (g - np.dot(J.T, _chol_solve(L, Jg))) / c
                    else:
                        step = _chol_solve(L, g)
                v2 = v + step
                sse2 = _forward(Xc, W, w, sw, Y, v2, p2, code, eps, ddof, G1t, gamt, sdt, Zc,
                                Zht, Ht, St, r2) + sse0
                ssw2 = np.dot(v2, v2)
                F2 = beta_ * sse2 + (np.dot(a * v2, v2) if ard else alpha * ssw2)
                # the reduction the quadratic model promised: step'(g + mu step)
                promised = np.dot(step, g) + mu * np.dot(step, step)
                if F2 < F and promised > 0.0:
                    accepted = True
                    rel = (F - F2) / F
                    v = v2
                    sse, ssw = sse2, ssw2
                    G1, G1t, gam, gamt, sd, sdt = G1t, G1, gamt, gam, sdt, sd
                    Zh, Zht, H, Ht, S, St, r, r2 = Zht, Zh, Ht, H, St, S, r2, r
                    # Nielsen's damping: by how well the model predicted the step
                    rho = (F - F2) / promised
                    F = F2
                    mu = max(mu * max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3), 1e-12)
                    nu = 2.0
                    break
                mu *= nu
                nu *= 2.0
            if not accepted:
                it -= 1                        # iterations count LM steps taken: the curve's
                break
            moved = True
            _jacobian(Xc, W, w, sw, v, p2, q, eps, ddof, G1, sd, Zh, H, S, J)
            gram_fresh = False
            curve[it - 1] = sse / nobs
            if rel < (1e-10 if fixed else 1e-6) or it >= max_iter:
                break
        if fixed:
            info[2], info[3], info[4], info[5], info[6] = F, np.nan, alpha, beta_, it
            v_out[:] = v
            alpha_out[:] = al
            # converged when a block of LM steps lowers F by less than tol of
            # it: Gauss-Newton crawls (linearly) along the near-flat valleys of
            # a product of decayed weights, where predictions no longer move
            if not moved or F_start - F <= tol * F:
                status = CONVERGED
                break
            continue
        # the evidence of (alpha, beta_) at this minimum, then their update.
        # One alpha: log det A and tr A^-1 from the eigenvalues of J'J, or of
        # JJ' where that is smaller (the same non-zero ones; the rest of A's
        # are alpha); ARD's from a Cholesky factor (_ard_update)
        # (J'J, or JJ' with more weights than rows, is the next block's
        # first step's too: J has not moved since)
        if keep_gram and not gram_fresh:
            JJ = _gram(J, dual)
            gram_fresh = True
        if ard:
            al_new = np.empty(G)
            evidence, gamma_eff, b_new = _ard_update(J, JJ, v, gid, n_g, al, a, beta_, sse,
                                                     nobs, spread, al_new)
            done = abs(np.log(b_new / beta_)) < tol
            for k in range(G):
                done = done and abs(np.log(al_new[k] / al[k])) < tol
            a_new = al_new[G - 1]
        else:
            lam = np.linalg.eigvalsh(JJ)
            rest = P - rows if dual else 0
            evidence, gamma_eff, a_new, b_new = evidence_update(lam, rest, alpha, beta_, sse,
                                                                ssw, P, nobs)
            done = abs(np.log(a_new / alpha)) < tol and abs(np.log(b_new / beta_)) < tol
            al_new = np.full(1, a_new)
        since_best += 1
        if evidence > best + tol:
            since_best = 0
        if evidence > best:
            best = evidence
            v_out[:] = v
            alpha_out[:] = al
            info[2], info[3], info[4], info[5], info[6] = evidence, gamma_eff, alpha, beta_, it
        # y fitted to within 1e-4 of its sd (y is standardised): the evidence
        # would go on raising beta_ as LM shaves an SSE no data can tell
        # from 0, step by step up to max_iter (noise-free targets).  (It was
        # 1e-3 before the stop below was relative to the SSE, which now ends
        # the creep; nlme's Remifentanil, near-exact, stopped here.)
        if b_new >= 1e8 and beta_ >= 1e8:
            done = True
        # nearly so (a noise sd under 1% of y's): a block of LM steps that
        # lowered the SSE by less than NEAR_EXACT of it has found the fit; the
        # evidence still rose as the SSE crept down, and a linear truth ran
        # every fit to max_iter, fitted to 2e-3 of y's sd.  (The bound was
        # 1e-5 of y's variance per observation: from a noise sd of 0.3 % of
        # y's that is the whole SSE, and fits of near-exact laws stopped at
        # 5-20x the test MSE they reach: nlme's Remifentanil, LBM ~ Ht, Wt,
        # Sex.  At 0.1 of the SSE LM's noisy rates of 8-20 % a block stopped
        # some noise-free curves where the old bound had (sin x0 + x1^2, 16
        # draws: up to 3.6e-5 of y's variance on new rows, 7.7e-8 at 0.03);
        # 0.01 took 1.4x the steps of 0.03 for no more, and exact linear
        # truths, which the blend's ridge model takes anyway, creep longest.)
        if beta_ >= 1e4 and sse_start - sse < NEAR_EXACT * sse:
            done = True
        alpha, beta_ = a_new, b_new
        al[:] = al_new
        for d in range(P):
            a[d] = al[gid[d]]
        # settled hyperparameters, no step that improves F, or an evidence
        # that has stopped rising: the best state is found
        if done or not moved or since_best >= patience:
            if spread_later and not spread:
                spread = True
                since_best = 0
                continue
            status = CONVERGED
            break
    info[0] = status
    info[1] = it
