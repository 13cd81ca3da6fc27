"""The default fit's last step: the nets blended with a ridge linear model by
leave-one-out error (stacking).

On small noisy data the best predictor is often nearly linear, and a net of
saturating units extrapolates flat where a linear trend continues (the
batch-normalised inputs of a test row far outside the training rows).  So
the Bayesian fit's averaged nets are blended, output by output, with a
ridge regression on the same standardised inputs:

    yhat = (1 - w) nets(x) + w (x'beta + c)

where the ridge penalty and w are both chosen by leave-one-out error on the
training rows, with no rows held out and nothing refitted.  What is left
out is an observation, given as `copy`, the weight each row's leave-one-out
removes.  Where repeats are copies (fit._design: a column of X, or y, takes
many values), rows that repeat one another in X and y (a bootstrap sample's,
or a row of weight k) are one observation, left out whole (distinct): a
twin left in makes any fit look good.  Where they are replicates (a factor
design's cells, X and y of few values), one copy is left out (min(w, 1):
counting them as one left half a cell out).

* the ridge regression's leave-one-out residuals are exact,
  e_i / (1 - h_ii), for each penalty of a grid;
* each net's are those of its Gauss-Newton linearisation at the fitted
  weights, with its own decay (the evidence's alpha / beta): the same
  formula with the leverage h_ii = J_i (J'WJ + decay I)^-1 J_i'.  The
  nets' average has the average of their residuals (weighted as the
  members are: fit._member_weights);
* w minimises the Huber loss of the blend's leave-one-out residuals (a scale
  from their median absolute deviation), so one wild row cannot choose it.

The blend is itself one batch-normalised net (embed): the nets' output
weights shrink by 1 - w, and each output with w > 0 gains one unit whose
column of G1 is the ridge direction, with a gamma so small (and a beta where
the activation is linear) that the unit is linear: to rounding for relu,
leaky relu, softplus and identity, to about 1e-8 of its part at 10 standard
deviations from the training rows for sigmoid and tanh.  Frequency
weights count as repeated rows throughout: a row of weight k is k rows.
"""
import numpy as np

from . import engine
from .kernels import bayes
from .kernels.activations import LEAKY_RELU, RELU, SOFTPLUS, act_and_slope
from .model import Params
from .sums import total

LAMBDAS = 10.0 ** np.arange(-6.0, 4.01, 0.25)   # ridge penalties, on standardised inputs
WEIGHTS = np.linspace(0.0, 1.0, 21)              # the linear model's share
HUBER = 1.345                                    # the Huber loss's corner, in scale units
GAMMA = 1e-5                                     # the linear unit's gamma
LEVERAGE_MAX = 1.0 - 1e-3                        # a row no fit can leave out is capped here


def _row_keys(A):
    """A's rows as keys of bytes, one per row (-0.0 made 0.0 first)."""
    A = np.ascontiguousarray(A, dtype=np.float64) + 0.0
    return A.view(np.dtype((np.void, A.dtype.itemsize * A.shape[1]))).ravel()


def unique_rows(A):
    """(first, inverse) of np.unique over A's rows, each row one key of
    bytes (several times faster than np.unique's axis=0)."""
    _, first, inverse = np.unique(_row_keys(A), return_index=True, return_inverse=True)
    return first, inverse.ravel()


def count_rows(A):
    """How many distinct rows A (finite, one column or more) has, as
    len(np.unique(A, axis=0)) counts them (-0.0 and 0.0 alike), at a third
    to a tenth of its cost."""
    return np.unique(_row_keys(A)).size


def distinct(Xs, Ys, w):
    """The observations leave-one-out leaves out: the distinct rows of
    (Xs, Ys) in their first order, each with its rows' total weight.  Xs,
    Ys and w themselves where no row repeats another."""
    first, inverse = unique_rows(np.hstack([Xs, Ys]))
    if len(first) == len(Xs):
        return Xs, Ys, w
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    keep = first[order]
    return (np.ascontiguousarray(Xs[keep]), np.ascontiguousarray(Ys[keep]),
            np.bincount(rank[inverse], weights=w, minlength=keep.size))


def ridge_loo(Xs, Ys, w, copy):
    """Ridge regression of each column of Ys on Xs (weights w), the penalty
    of LAMBDAS with the least leave-one-out error per column, a row's
    leave-one-out removing the weight `copy` of it: (coef p1 x q, intercept
    q, leave-one-out residuals N x q, penalties q).

    Each residual and each 1 - leverage is its value at no penalty plus a
    term in the penalty, each term computed as such: with as many inputs as
    rows a small penalty fits every row (both tend to 0 with it, their ratio
    does not), and 1 - h from h rounded to 1, or held at 1 - LEVERAGE_MAX as
    the nets' is, made a penalty of 1e-6 look best where the exact
    leave-one-out chose 1e4."""
    W = total(w)
    xm, ym = w @ Xs / W, w @ Ys / W
    Xc, Yc = Xs - xm, Ys - ym
    sw = np.sqrt(w)
    U, S, Vt = np.linalg.svd(sw[:, None] * Xc, full_matrices=False)
    live = S > S[0] * max(Xc.shape) * np.finfo(float).eps if S.size else S > 0
    U, S, Vt = U[:, live], S[live], Vt[live]     # numerically null directions fit nothing
    XV = Xc @ Vt.T                               # each row's coordinates on the singular vectors
    UtY = U.T @ (sw[:, None] * Yc)
    S2 = S * S
    E0 = Yc - XV @ (UtY / S[:, None])            # the residuals at no penalty
    H0 = 1.0 - copy * ((XV * XV) @ (1.0 / S2) + 1.0 / W)   # 1 - leverage at no penalty
    H0 = np.maximum(H0, 0.0)

    def loo(lam, j=slice(None)):
        """Leave-one-out residuals (penalties x N x columns) of the columns j
        of Ys, and their coefficients on the singular vectors, under each
        penalty of lam."""
        D = lam[:, None] / (S2 * (S2 + lam[:, None]))               # penalties x directions
        C = UtY[:, j] / S[:, None] - (S * D)[:, :, None] * UtY[:, j]
        e = E0[:, j] + XV @ ((S * D)[:, :, None] * UtY[:, j])
        one_minus_h = H0 + copy * ((XV * XV) @ D.T).T
        return e / np.maximum(one_minus_h, 1e-300)[:, :, None], C

    # every penalty at once, in blocks that keep the residuals to ~8 MB (a
    # Python loop over the 41 penalties cost more than a small net's fit)
    N, q = Ys.shape
    block = max(1, 2 ** 20 // (N * q))
    score = np.concatenate([np.einsum("i,kij->kj", w, loo(LAMBDAS[k:k + block])[0] ** 2)
                            for k in range(0, LAMBDAS.size, block)])
    chosen = LAMBDAS[np.argmin(score, axis=0)]   # the smallest on a tie
    coef, E = np.empty((Xs.shape[1], q)), np.empty((N, q))
    for j in range(q):
        e, C = loo(chosen[j:j + 1], [j])
        E[:, j], coef[:, j] = e[0, :, 0], Vt.T @ C[0, :, 0]
    return coef, ym - xm @ coef, E, chosen


def net_loo(v, decay, Xs, Ys, w, copy, hidden, code, eps, ddof):
    """Leave-one-out residuals (N x q) of the net with weights v (V-coordinates)
    and ridge penalty `decay` (one, or one per weight), from its linearisation at v, a row's
    leave-one-out removing the weight `copy` of it (kernels/bayes.py:
    net_loo_rows)."""
    e = np.empty(Ys.shape)
    decay = np.full(v.size, decay) if np.ndim(decay) == 0 else decay
    if not engine.ready(bayes.net_loo_rows)(Xs, w, Ys, v, hidden, code, eps, ddof, decay,
                                            copy, LEVERAGE_MAX, e):
        raise np.linalg.LinAlgError("the Gauss-Newton matrix J'J + decay I has no Cholesky "
                                    "factor even with a jitter of 1e-6 of its scale")
    return e


def _weighted_median(x, w):
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    return x[order][np.searchsorted(cw, 0.5 * cw[-1])]


def blend_weights(e_net, e_lin, w):
    """Per output, the linear model's share of WEIGHTS whose blend has the
    least Huber loss of its leave-one-out residuals."""
    q = e_net.shape[1]
    out = np.zeros(q)
    for k in range(q):
        a, d = e_net[:, k], e_lin[:, k] - e_net[:, k]
        scale = 1.4826 * _weighted_median(np.abs(a - _weighted_median(a, w)), w)
        c = HUBER * max(scale, 1e-12 * (np.abs(a).max() + 1e-300))
        E = np.abs(a[None, :] + WEIGHTS[:, None] * d[None, :])
        loss = np.where(E <= c, 0.5 * E * E, c * E - 0.5 * c * c) @ w
        out[k] = WEIGHTS[np.argmin(loss)]
    return out


def linear_unit(code):
    """(beta, act(beta), act'(beta)) of the linear unit: where the
    activation is linear (relu's kink kept well away; softplus is a + 4e-18
    at 40) or odd about it (sigmoid, tanh: no square term)."""
    b0 = {RELU: 1.0, LEAKY_RELU: 1.0, SOFTPLUS: 40.0}.get(code, 0.0)
    a0, slope = act_and_slope(b0, code)
    return b0, a0, slope


def embed(params, share, coef, c0, Xs, w, code, eps, ddof):
    """The net (1 - share) params(x) + share (x'coef + c0), per output, as one
    batch-normalised net: one more unit per output with share > 0."""
    G1, gamma, beta, G2, b = (np.array(a, dtype=float) for a in params)
    G2 = G2 * (1.0 - share)
    b = b * (1.0 - share)
    b0, a0, slope = linear_unit(code)
    W = total(w)
    cols, gam, bet, rows = [], [], [], []
    for k in np.flatnonzero(share > 0):
        norm = np.sqrt(coef[:, k] @ coef[:, k])
        b[k] += share[k] * c0[k]
        if norm == 0.0:
            continue
        u = coef[:, k] / norm
        z = Xs @ u
        m = w @ z / W
        sd = np.sqrt(w @ (z - m) ** 2 / (W - ddof) + eps)
        # the unit adds a0 + slope GAMMA Zh to G2's row: scaled to share * norm * z
        g2 = np.zeros(len(share))
        g2[k] = share[k] * norm * sd / (slope * GAMMA)
        b[k] += share[k] * norm * m - g2[k] * a0
        cols.append(u)
        gam.append(GAMMA)
        bet.append(b0)
        rows.append(g2)
    if not cols:
        return Params(G1, gamma, beta, G2, b)
    return Params(np.hstack([G1, np.array(cols).T]), np.concatenate([gamma, gam]),
                  np.concatenate([beta, bet]), np.vstack([G2, np.array(rows)]), b)
