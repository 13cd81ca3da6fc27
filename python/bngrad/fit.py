"""Fitting the net: BNRegressor, a scikit-learn estimator.

Every optimiser works in V-coordinates, v = (V, beta, G2, b) with
V = G1 diag(gamma): batch norm makes the net blind to the scale of G1's
columns, so G1 = V / |V| and gamma = |V| column by column, and a penalty
decay * |v|^2 (or the Bayesian prior) acts on the function itself, not on a
scale the output ignores.  The fitted weights are ordinary Params: unit
columns in G1, gamma >= 0.

* optimizer="bayes" (kernels/bayes.py): Levenberg-Marquardt on the exact
  Gauss-Newton matrix, with MacKay's evidence setting the decay.
* "lbfgs": scipy's L-BFGS-B on the exact gradient (model.gradients' engine,
  X's statistics computed once per fit).
* "adam": minibatches, with PyTorch-style running statistics.
* "auto" (the default): "bayes" where its Gauss-Newton matrix is cheap
  (small data, which is where over-fitting is the danger), else "lbfgs".

Several nets (`ensemble`) are averaged; since batch norm acts column by
column, their average is itself one net with all their hidden units (G2
divided by the number of nets), so the fitted object stays one Params.  The
default Bayesian fit (decay chosen by the evidence) then blends that net
with a ridge linear model, by leave-one-out error (blend.py), again as one
net: one near-linear unit more per output that uses it.

Inputs and outputs are standardised inside the fit (params_ belong to the
standardised problem; predict undoes it).
"""
import collections
import copy
import functools
import math
import sys
import threading
import warnings

import numpy as np

from . import blend, checks, engine, sums
from .checks import ACTIVATIONS
from .kernels import bayes
from .model import Params, gradients, is_dask

OPTIMIZERS = ("auto", "bayes", "lbfgs", "adam")
# held while a fit's attributes are set (BNRegressor._publish)
_PUBLISH = threading.Lock()
# "auto" takes the Bayesian fit while N q P^2 (the cost of one Gauss-Newton
# matrix) stays below BAYES_MAX, or below BAYES_BIG where the net has as many
# weights as half the values of y (there a regulariser is not optional), and
# N q P (one Jacobian, whose making and products are most of an LM step
# wherever P < ~250: 20-45 ns a value here) below BAYES_WORK; elsewhere
# L-BFGS, whose iteration costs one gradient.  Within both the Bayesian fit of
# friedman1-like data (2000-6000 rows, 5-20 inputs, 16 hidden) took 1-3 s, a
# fraction of nnet's four decays, with 5-20 % less test MSE than early-stopped
# L-BFGS (over 4x less where most inputs were noise); at N q P = 2^21 it
# takes ~10 s, and more with N (37 s at 150,000 rows, 2 inputs, 8 hidden),
# where L-BFGS takes a few, with rows to spare for early stopping.
BAYES_MAX, BAYES_BIG, BAYES_WORK = 1 << 28, 1 << 30, 1 << 21
# L-BFGS without a decay stops early: on VALIDATION of the rows, held out,
# when PATIENCE_LBFGS iterations in a row have not improved their MSE, but
# not before MIN_ITER_LBFGS, nor while those iterations lowered the training
# objective by PROGRESS_LBFGS of it or more (Prechelt's "training progress":
# a few held-out rows' error wanders while the net is still learning fast).
# Stopping on the error alone kept nets near their start: friedman1, 300
# rows, held-out error lowest at iteration 3 (0.21), 0.23-0.34 over the next
# 60 while the training loss fell tenfold, below 0.21 after 70; stopped at
# 13, test R^2 0.64-0.78 (noise-free), 0.69 (noise 1), for 0.98 and 0.81
# now; R's small data sets (bench/panel.R, optimizer = "lbfgs"): geometric
# mean 1.078 of nnet's test MSE, for 1.120.  The iterate kept is the best.
# Progress is relative to the objective, or to PROGRESS_FLOOR of y's
# variance where it is smaller: a net of many weights on few rows drives
# the training loss towards 0 by factors, and had gone on 70-360
# iterations past a held-out error that no longer moved (the same fits).
# PATIENCE_LBFGS was 10 (scikit-learn's n_iter_no_change, counted there in
# epochs, each many steps): L-BFGS crosses plateaus slower than its held-out
# error shows, and 30,000 rows (L-BFGS is the default there) of smooth
# 6-8-input functions stopped early: test R^2 0.875, 0.111 at 8 units (0.886,
# 0.246 at 16) where 30 got 0.877, 0.273 (0.896, 0.392); friedman1 and #3
# alike (0.957, 0.886), 20-100 % more iterations, under a second each.
VALIDATION, PATIENCE_LBFGS, MIN_ITER_LBFGS, PROGRESS_LBFGS = 0.1, 30, 30, 0.1
PROGRESS_FLOOR = 1e-3
# L-BFGS without a given decay also chooses one on its held-out rows, of
# LBFGS_DECAYS (BNRegressor._lbfgs), where the net has a weight for every
# LBFGS_ROWS_PER_WEIGHT values of y or fewer; with more, the undecayed run
# was as good (friedman1, 8000 rows, 20 inputs, 353 weights: test MSE 1.126,
# the grid's choice 1.129) at a quarter of the time
LBFGS_DECAYS, LBFGS_ROWS_PER_WEIGHT = (0.0, 0.1, 1.0, 10.0), 10
# From this many rows L-BFGS without a decay holds some out; below, it has
# neither early stopping nor a decay chosen, and says so (fit)
LBFGS_MIN_HOLDOUT_ROWS = 20
# Adam stops when PATIENCE_ADAM epochs in a row have not beaten its best loss by tol.
# A run has diverged where its objective on the training rows ends over
# ADAM_MARGIN (of y's variance, or of the start's objective where that is
# larger) above its random start's.
ADAM_MARGIN = 0.1
PATIENCE_ADAM = 20      # scikit-learn waits 10; BN nets sit on plateaus longer (measured)
# LM steps per run as brnn's and MATLAB trainbr's epochs (1000).  At 300 the
# kept nets of two of five default fits on caret's tecator spectra (100
# inputs, 161 rows) stopped there with the evidence still rising (test MSE
# 0.306 and 0.424, converged 0.281 and 0.400); no fit of bench/panel.R's first
# 59 data sets nor of breast cancer's 30 inputs (bench/fit_panel.py) got there.
DEFAULT_ITER = {"bayes": 1000, "lbfgs": 500, "adam": 200}
# With a fixed decay (nnet's habit) LM crawls along the near-flat valleys of
# products of decayed weights before F settles: bootstrap samples of mtcars,
# swiss and stackloss (hidden 3-8, decay 1e-3-0.1) took 40-2000 steps, most of
# mtcars's over 300 (~40 us a step there).
ITER_FIXED_DECAY = 3000
# The evidence's tol (on log alpha, log beta and the log evidence) was 1e-3:
# 1e-2 gave the same median test R^2 (to 3 decimals) on 23 scikit-learn data
# sets and the same test MSE (within 2 %) on 97 of 99 R ones (Mandel, 8
# rows, 7 % worse; forbes 4 %), 15-40 % sooner: fewer LM steps while the
# hyperparameters settle.  (Fewer LM steps between their updates cost R^2:
# INNER below.)
DEFAULT_TOL = {"bayes": 1e-2, "lbfgs": 1e-9, "adam": 1e-4}
# With a fixed decay the Bayesian fit's tol is on F over a block of INNER_FIRST LM
# steps: scikit-learn's MLP tol over its 10 epochs.  Stricter ones ran to
# 1000-4000 steps on the panel's data sets (bench/panel.R), to the same test error.
TOL_FIXED_DECAY = 1e-4
# The Bayesian fit's schedule (kernels/bayes.py): first prior precision;
# LM steps before the first evidence update (and every block of a fixed
# decay's, on which its tol is), and between the later ones; updates
# without a better evidence before it stops; the weak first prior of a
# second run (_SecondRuns).  ARD's precisions settle over more updates than
# one alpha's: at 10 steps and 5 updates it cost 1.5x the time.  On 65 of
# bench/panel.R's data sets (Python, seeds 1-5), 3 steps after a first 10
# and 3 updates took 6.1 ms a fit (geometric mean) against 9.2 ms (7.9 ms
# for one alpha at 10 and 5), with errors alike (0.761 and 0.914 to nnet's
# oracle, the geometric means of the two groups, against 0.767 and 0.932).
# A first block of 3 left a weak-prior second run no time to leave the
# linear regime before the evidence pulled it back (2 x1 + sin 3 x2: test
# R^2 0.88 for 0.99).  After its best the evidence falls slowly, as the
# precisions of V's rows and of the rest trade along the near-symmetry of
# |V| and G2; 2 updates lost some fits (0.938).  3 steps is a trade:
# make_friedman1()'s 100 rows (median test R^2 over 5 splits, random_state
# 0-3) got 0.95, 0.66, 0.90 and 0.94 at 3, and 0.97, 0.95, 0.96 and 0.96 at
# 10 and 5 updates (one alpha: 0.66, 0.62, 0.85, 0.72); ending a block
# where LM's step lowered F by under 1e-3 of it (not 1e-6) kept those at 10
# but lost on the R sets (0.951).
ALPHA0, INNER_FIRST, INNER, PATIENCE = 1.0, 10, 3, 3
ALPHA0_AGAIN = ALPHA0 * 1e-2
# A first run whose log evidence is more than this below the best first run's
# runs again (_SecondRuns): a Bayes factor of e^3 ~ 20, "strong" on Kass and
# Raftery's scale, says it stopped at a worse optimum than the data hold.
EVIDENCE_GAP = 3.0
# A Bayesian net is finished at its evidence's decays (_finish) for at most
# this many times the LM steps its run took: uncapped, the finishing cost
# 3.8x the fits' time on docs/fitting.md's 444 data sets (1.7x with its gate), for
# no more than another draw of the nets' starts moves.
FINISH_STEPS = 1
# A net of the default fit's ensemble is left out of the average where its
# leave-one-out error is this many times the best net's (_member_weights).
# On bench/panel.R's first 59 data sets the largest over a fit's three nets was at most 2
# in 285 of 295 fits and at most 7.2 in all; tecator's stuck net's was 50.
MEMBER_LOO_RATIO = 4.0
# The evidence's Bayesian fit gives each input's row of V a prior precision of
# its own (ARD, kernels/bayes.py: _ard_update); a user's fixed decay is one.
ARD = True
# Below two rows per input, of at least 20 that vary, ARD's hyperprior holds
# every input's decay near the pool (there the inputs' spread's pull overfits:
# kernels/bayes.py) and the nets do about what ridge does, though their decays
# still rank the inputs (make_friedman1's x1, x2 and x4 among the first four
# in 11 of 12 draws of 60-200 inputs).  The default fit then fits again on the
# k inputs ranked first, for each k of SELECT_SIZES with two rows an input,
# and keeps the fit of most evidence less log C(m, k), the prior odds of one
# set of k among m inputs: the ranking has seen the rows, and on the evidence
# alone a set was chosen on nearly every real data set of that shape, often
# worse (lme4's Pastes 1.9x to 4.5x nnet's test MSE).  docs/fitting.md.  (A
# fit on 20 has its two rows an input, and so the spread's pull.)
SELECT_SIZES = (3, 5, 8, 12, 20)
# A law with errors (BNRegressor._law): most rows follow an exact law and a few
# are errors in it (AER's CPS1985, where age is education + experience + 6 on
# every row but one; Electricity1955's costs).  One Gaussian noise variance
# takes the errors as noise and the evidence smooths the law; a t distribution's
# weights (IRLS, LAW_NU degrees of freedom) let the fit find it.  Looked for
# where a residual of the default fit is LAW_Z robust sds (1.4826 MAD) out and
# their rms LAW_TAIL times that sd; kept where, after LAW_ITER reweighted fits,
# the rows' robust sd is under LAW_SCALE of the first fit's; given up after the
# first where that did not fall below LAW_FIRST of it.  docs/fitting.md.
LAW_NU, LAW_Z, LAW_TAIL, LAW_ITER, LAW_FIRST, LAW_SCALE = 4.0, 4.5, 1.3, 3, 0.5, 0.01
# Not looked for on fewer than LAW_MIN_ROWS rows of weight > 0 (rows as its
# robust sds count them: once each, whatever the weight), where it found none
# and cost most: on the 444 data sets' fits of 9-19 rows it ran in
# 54 of 290, found no law, and took each of those 1.7x the fit's time (median);
# the fewest rows it found one on were 22.  docs/fitting.md.
LAW_MIN_ROWS = 20
# The fitted state that fit publishes beside the attributes ending in "_"
_FITTED_PRIVATE = ("_fitted_net", "_y_1d")


def _second_hidden(rows, p1, q, hidden):
    """The units of a second run's smaller net (_SecondRuns): as many as
    hidden, or fewer where the rows are few, so that units times the weights
    of one (a column of G1, gamma, beta, a row of G2) are at most half the
    rows the run sees; at least 2.
    From the weak prior a net of more weights than that fitted the noise,
    and the evidence then preferred the line: y = x1 x2 + 3 inputs of noise,
    60 rows, median test R^2 -0.02 at 16 units, 0.45 at 3; |x1| + x2 / 2 +
    3 of noise, 40 rows, 0.30 against 0.70.  The whole net runs too, and the
    evidence chooses: y = 2 x1 + sin 3 x2 on 80 rows needs more than 6 units
    (the smaller net's noise sd 0.24 for 0.1, evidence -84 against -41)."""
    # (rows may be a sum of scaled weights: 47.99999999 is 48)
    return int(min(max(round(float(rows), 6) // (2 * (p1 + q + 2)), 2), hidden))


def _first_units(v0, p1, p2, q, h):
    """The start v0 of a net of p2 units cut to its first h (G2's entries
    scaled as _start's for that many): a second run's smaller net."""
    if h == p2:
        return v0
    V, beta, G2, b = _split(v0, p1, p2, q)
    return _join(V[:, :h], beta[:h], G2[:h] * np.sqrt(p2 / h), b)


@functools.lru_cache(maxsize=64)
def _groups(p1, p2, q, ard):
    """The prior's groups of v's weights (kernels/bayes.py: fit_bayes): with
    ard, input l's row of V is group l and the rest (beta, G2, b) group
    p1; else one group.  One array per shape, shared: read, never written
    (a fit asks for it a dozen times, its building cost more than a small
    net's LM step)."""
    P = _cuts(p1, p2, q)[2] + q
    if not ard:
        return np.zeros(P, np.int64)
    return np.concatenate((np.repeat(np.arange(p1, dtype=np.int64), p2),
                           np.full(P - p1 * p2, p1, np.int64)))


def _weight_decays(decays, p1, p2, q):
    """Each of v's weights' decay from its group's (decays: one, or p1 + 1
    as _groups)."""
    return np.asarray(decays)[_groups(p1, p2, q, len(decays) > 1)]


def _second_best(done, v0, p1, p2, q):
    """Of a second run's nets (done: units -> (v, info, curve, alphas)), the one of
    higher evidence, as a net of p2 units: a smaller one's other units as
    v0 had them, with their rows of G2 at 0, so that they add nothing."""
    h = min(done)
    full = done[p2]
    if h == p2 or not done[h][1][2] > full[1][2]:
        return full
    v, info, curve, alphas = done[h]
    Vh, beta_h, G2h, bh = _split(v, p1, h, q)
    V, beta, G2, b = _split(v0, p1, p2, q)
    V, beta, G2 = V.copy(), beta.copy(), np.zeros_like(G2)
    V[:, :h], beta[:h], G2[:h] = Vh, beta_h, G2h
    return _join(V, beta, G2, bh), info, curve, alphas


def _progress(curve, k):
    """How much the training objective fell over the last k iterations,
    relative to its value now (or PROGRESS_FLOOR: standardised y's variance
    is 1)."""
    if len(curve) <= k:
        return np.inf
    return (curve[-k - 1] - curve[-1]) / max(abs(curve[-1]), PROGRESS_FLOOR)


def few_rows_unregularised(N, chosen_by, P):
    """Warn where L-BFGS without a decay has too few rows to hold any out:
    then neither early stopping nor a chosen decay regularises the net
    (linnerud's 15 rows: test R^2 -193, -199,000 at 2 units, where the
    default fit had -0.61).  chosen_by: "user" (optimizer "lbfgs"), "auto"
    (the default optimizer chose it, for a net of P weights) or "dask" (a
    Dask fit is L-BFGS); only the first has the default fit for a remedy."""
    if N >= LBFGS_MIN_HOLDOUT_ROWS:
        return
    how = {"user": 'L-BFGS (optimizer "lbfgs")',
           "auto": f"the default optimizer took L-BFGS (a net of {P} weights is too large "
                   f"for the Bayesian fit), which",
           "dask": "a Dask or Parquet fit (L-BFGS only)"}[chosen_by]
    warnings.warn(f"BNRegressor: {how} without a decay holds no rows out below "
                  f"{LBFGS_MIN_HOLDOUT_ROWS} rows ({N} here): neither early stopping nor a "
                  f"chosen decay regularises the net, which may fit the noise; give decay"
                  f"{', or use the default optimizer' if chosen_by == 'user' else ''}",
                  UserWarning, stacklevel=checks.user_level())


def _held_out(N, rng):
    """The rows L-BFGS's early stopping holds out: VALIDATION of N, drawn by rng."""
    held = np.zeros(N, bool)
    held[rng.permutation(N)[:max(2, int(round(VALIDATION * N)))]] = True
    return held


def _lbfgs_decays(N, q, P):
    """The decays L-BFGS without a given one tries (LBFGS_DECAYS)."""
    return LBFGS_DECAYS if N * q <= LBFGS_ROWS_PER_WEIGHT * P else LBFGS_DECAYS[:1]


def _best_decay(run, decays, report):
    """Of run(decay, report) for each decay, early-stopped on the same
    held-out rows (an undecayed run only: run's part), the one of least
    held-out error (the first of equals), in memory and in bngrad.dask
    alike.  With several, report (_live) is given the kept run's
    iterations once it is known: as they came they were four runs' under
    one net's name, ending with a discarded one's."""
    if len(decays) == 1:
        best = run(decays[0], report)
    else:
        best = min((run(decay, None) for decay in decays), key=lambda m: m.criterion)
        if report is not None:
            for it, value in enumerate(best.curve):
                report(it, value)
    best.held_out = True
    return best


class ConvergenceWarning(UserWarning):
    """A fit stopped at max_iter before its stopping rule was met.

    Where scikit-learn is loaded, the warning raised is also scikit-learn's
    ConvergenceWarning, so that its users' filters catch it too."""


class UndefinedMetricWarning(UserWarning):
    """score() of fewer than two rows: R^2 is not defined (NaN), as in
    scikit-learn, whose UndefinedMetricWarning it also is where it is loaded."""


class NotFittedError(ValueError, AttributeError):
    """predict/score before fit (a ValueError and an AttributeError, as in
    scikit-learn; also scikit-learn's NotFittedError where it is loaded)."""


def _sklearn_class(name, ours):
    """ours, or where scikit-learn is loaded already, a subclass of both ours
    and scikit-learn's class of that name: its users catch its types, and
    bngrad's catch ours, whatever was imported first.  Importing scikit-learn
    just for this would slow every start."""
    both = "_sklearn_" + name
    if "sklearn" not in sys.modules:
        return ours
    if both not in globals():
        from sklearn import exceptions
        # shown under its own name; found by pickle as a module attribute
        globals()[both] = type(name, (ours, getattr(exceptions, name)),
                               {"__module__": __name__, "__qualname__": both,
                                "__doc__": ours.__doc__})
    return globals()[both]


def __getattr__(name):
    """A twin class (_sklearn_class) by name in a process that has not made
    it yet: pickle looks one up so, unpickling a warning or error that a
    worker process raised (it had broken joblib's and multiprocessing's
    pools)."""
    base = name[len("_sklearn_"):] if name.startswith("_sklearn_") else None
    ours = {"ConvergenceWarning": ConvergenceWarning, "NotFittedError": NotFittedError,
            "UndefinedMetricWarning": UndefinedMetricWarning}.get(base)
    if ours is not None:
        import sklearn.exceptions  # noqa: F401  (the twin's other parent)
        return _sklearn_class(base, ours)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- V-coordinates ---------------------------------------------------------------

def _cuts(p1, p2, q):
    return p1 * p2, p1 * p2 + p2, p1 * p2 + p2 + p2 * q


def _split(v, p1, p2, q):
    """v = (V, beta, G2, b) as V (p1 x p2), beta, G2 (p2 x q) and b (views;
    np.split's cost is a small fit's)."""
    c1, c2, c3 = _cuts(p1, p2, q)
    return v[:c1].reshape(p1, p2), v[c1:c2], v[c2:c3].reshape(p2, q), v[c3:]


def _to_params(v, p1, p2, q):
    """v = (V, beta, G2, b) -> Params with G1 = V / |V|, gamma = |V|."""
    V, beta, G2, b = _split(v, p1, p2, q)
    gamma = np.sqrt((V * V).sum(axis=0))
    G1 = V / np.where(gamma > 0, gamma, 1.0)
    return Params(G1, gamma, beta.copy(), G2.copy(), b.copy())


def _join(V, beta, G2, b):
    return np.concatenate((V.ravel(), beta, G2.ravel(), b))


def _used(v, p1, p2, q):
    """(v, units) of the net v without the units whose row of G2 is 0: a
    smaller second run's net, embedded in hidden units (_second_best), as it
    was fitted.  Its leave-one-out error is that net's: as the embedded
    net's, the unused units' G2 entries were free weights in J, every row's
    leverage higher (x1 x2 on 60 rows: 74.8 against 35.3), and the blend
    leaned on the line."""
    V, beta, G2, b = _split(v, p1, p2, q)
    used = np.any(G2 != 0, axis=1)
    if used.all() or not used.any():
        return v, p2
    return _join(V[:, used], beta[used], G2[used], b), int(used.sum())


def _finite_params(v, p1, p2, q):
    """_to_params(v), or None where |V| overflows (Adam's steps)."""
    with np.errstate(over="ignore"):
        p = _to_params(v, p1, p2, q)
    return p if np.isfinite(p.gamma).all() else None


def _v_gradient(g, p):
    """dR/dv from dR/d(G1, gamma, beta, G2, b) at p = _to_params(v) (eq. V-grad)."""
    G1, gamma = p.G1, p.gamma
    radial = (g.G1 * G1).sum(axis=0)
    dV = (g.G1 - radial * G1) / np.where(gamma > 0, gamma, 1.0) + g.gamma * G1
    return np.concatenate((dV.ravel(), g.beta, np.ravel(g.G2), np.ravel(g.b)))


def _start(p1, p2, q, rng):
    """A random v: unit columns of V (gamma = 1, plain standardisation), beta = 0,
    G2 ~ N(0, 1/p2), b = 0."""
    V = rng.standard_normal((p1, p2))
    V /= np.sqrt((V * V).sum(axis=0))
    return np.concatenate((V.ravel(), np.zeros(p2), rng.standard_normal(p2 * q) / np.sqrt(p2),
                           np.zeros(q)))


def _affine_design(Xs, w):
    """Whether every function of the rows (of non-zero weight) is affine:
    they take at most p1 + 1 distinct values, affinely independent, as one
    factor's dummies do.  There the weak-prior second run (_SecondRuns),
    which looks for a signal with no linear part, has none to find.  (Three
    doses in two collinear columns are not such a design: y = (dose - 1)^2
    is no affine function of them.)"""
    most = Xs.shape[1] + 1
    # continuous inputs answer in their first rows (a sort of every row took
    # 0.17 s at 84,000 x 25, the Bayesian fit's largest)
    for part in (slice(0, 4 * most), slice(None)):
        rows = Xs[part] if w.size == 0 else Xs[part][w[part] > 0]
        if blend.count_rows(rows) > most:
            return False
    # all the rows (the loop's last part), sorted as np.unique(axis=0) sorts
    # them: the rank is of their differences from the first, whose rounding
    # the order decides
    U = np.unique(rows, axis=0)
    # (one distinct row: every function of it is a constant)
    return len(U) == 1 or np.linalg.matrix_rank(U[1:] - U[0]) == len(U) - 1


def _linear_evidence(Xs, Ys, w, max_iter=10_000, tol=1e-8):
    """The log evidence of the linear model y = c + X B under the Bayesian
    fit's prior and noise (kernels/bayes.py, on the same rows and scale:
    c and B the weights v, their precision and the noise's set by MacKay's
    updates), which a net's evidence is compared with (_SecondRuns): a
    net that is no more probable than a line has found nothing a line has
    not.  (3 nets held in their linear regime by the first prior, at 5.1-5.7
    effective parameters: -138.7 to -137.0 against the line's -136.1 and
    -133.8, where the weak prior's reached -6 to 19; y = 2 x1 + sin 3 x2 on
    80 rows, noise sd 0.7 for 0.1: -42 against -34.  Sound nets of those
    data: 19 to 43 against -138.)"""
    N, p1 = Xs.shape
    q = Ys.shape[1]
    w = np.ones(N) if w.size == 0 else w
    nobs, P = sums.total(w) * q, (p1 + 1) * q
    if not nobs > P + 1:
        # (weights that sum to fewer observations than the line has weights:
        # no evidence to weigh, and no net is held below it)
        return -np.inf
    A = np.column_stack([np.ones(N), Xs])
    sw = np.sqrt(w)[:, None]
    # A'WA's eigenvalues from the thin SVD of sqrt(W) A (wide X too); the
    # directions it lacks have none, and the prior's alpha alone in A
    U, S, _ = np.linalg.svd(sw * A, full_matrices=False)
    r = U.T @ (sw * Ys)
    rss = float(((sw * Ys - U @ r) ** 2).sum())
    # each column of Y is a linear model of its own with the same A'WA
    lam = np.tile(S * S, q)
    rr = np.ascontiguousarray((r * r).T).ravel()
    rest = q * ((p1 + 1) - S.size)
    return float(engine.ready(bayes.linear_evidence)(lam, rr, rss, rest, float(nobs), max_iter,
                                                     tol))


def _grouped(Xs, Ys, w):
    """Where at most half the rows are distinct (factor designs), the data
    as the Bayesian fit can take them at less cost and to the same optimum:
    each distinct row once, with its total weight and its rows' weighted mean
    of Y, and the spread of Y about those means (an SSE no net can change).
    Frequency weights make that exact: the batch statistics, the Gauss-Newton
    matrix J'WJ, J'W r and the SSE are all the same sums.  (warpbreaks: 40
    rows are 6, an LM step ~10x cheaper.)  None elsewhere."""
    N = len(Xs)
    head = Xs[:64]
    seen = blend.count_rows(head)
    if seen > N // 2 or (seen == len(head) < N):
        return None                            # continuous inputs: the first rows differ
    U, inverse = np.unique(Xs, axis=0, return_inverse=True)
    if len(U) > N // 2:
        return None
    inverse = inverse.reshape(-1)
    wt = np.ones(N) if w.size == 0 else w
    Wu = np.bincount(inverse, weights=wt, minlength=len(U))
    live = Wu > 0
    Ybar = np.stack([np.bincount(inverse, weights=wt * Ys[:, k], minlength=len(U))
                     for k in range(Ys.shape[1])], axis=1)
    Ybar[live] /= Wu[live, None]
    sse0 = float(wt @ ((Ys - Ybar[inverse]) ** 2).sum(axis=1))
    return (np.ascontiguousarray(U[live]), np.ascontiguousarray(Ybar[live]),
            np.ascontiguousarray(Wu[live]), sse0)


def _robust_sd(r):
    """Each column's robust sd, 1.4826 MAD: the scale of the law's and the
    finishing's tests for heavy tails (LAW_TAIL)."""
    return 1.4826 * np.median(np.abs(r - np.median(r, axis=0)), axis=0)


def _lm_data(Xs, Ys, w):
    """The data as the Bayesian fit's kernel takes them: (X, Y, a weight
    per row, the SSE no net can change), grouped (_grouped) where that
    saves time: repeated rows once, the same fit.  Made once per fit: the
    unit weights too, not in each of a small fit's nine runs and its
    finishing (_finish)."""
    return _grouped(Xs, Ys, w) or (Xs, Ys, w if w.size else np.ones(len(Xs)), 0.0)


def _design(Xs, Ys, w):
    """(cells, copies, loo) of the rows of non-zero weight, from counts that
    neither the weights' scale nor repeating rows can change (distinct rows
    of X, of (X, y) and of y), so that a row of weight k and k repeated rows
    answer alike:

    * cells: X takes at most half as many values as (X, y) does, a factor
      design whose cells hold replicates (carData's Adler, warpbreaks).
    * copies: not cells, and a column of X, or y, takes more values than
      half of X's (of (X, y)'s): a value no two measurements share by
      chance, so rows repeated in X and y are copies of one observation (a
      bootstrap sample's, a weight of 2).  Where X and y both take few
      values (a rare binary outcome in a few cells, Likert items, counts),
      and in cells (warpbreaks' counts repeat within a cell), repeats are
      replicates.  (A rule that asked y to vary within cells took a rare
      binary outcome's cells for copies and fitted the constant; one that
      asked y alone for many values took Boston's medv, 229 values in 506
      rows, for few; one that took warpbreaks' repeated counts for copies
      lost 4 % of its test error.)
    * loo = (X, Y, w, copy): the observations leave-one-out leaves out, each
      removing the weight copy of its row (blend.py): copies, the distinct
      rows of (X, Y) (blend.distinct, whose rows the counts come from),
      whole; replicates, a row, and one copy of a row of weight k >= 1."""
    Xu, Yu, wu = blend.distinct(Xs, Ys, w)
    live = wu > 0
    X, Y = Xu[live], Yu[live]
    nX, nXY = len(blend.unique_rows(X)[0]), len(X)
    cells = nX <= nXY / 2
    copies = not cells and (any(len(np.unique(X[:, j])) > nX / 2 for j in range(X.shape[1]))
                            or len(blend.unique_rows(Y)[0]) > nXY / 2)
    loo = (Xu, Yu, wu, wu) if copies else (Xs, Ys, w, np.minimum(w, 1.0))
    return cells, copies, loo


def _observations(w, wt, loo, ddof):
    """(w, wt, loo) with the weights scaled to sum to the observations,
    the distinct rows of (X, y) of non-zero weight (loo's, _design's),
    where repeats are copies.  A row repeated in X and y (a bootstrap
    sample's) or weighted 2 is then not a second noisy measurement that
    happened to agree: counted as two, the evidence saw noise-free data
    wherever the net could pass through every distinct row (weights of 2
    everywhere chose a decay of 1e-11 and fitted the rows exactly;
    unweighted, 0.07).  So there the weights' scale is free, as lm's.
    Unchanged, bit for bit, where no row repeats and the weights sum to the
    rows."""
    Xu, Yu, wu, _ = loo                        # (copy is wu: rows left out whole)
    n_obs, W = np.count_nonzero(wu), sums.total(wt)
    if n_obs <= ddof:
        raise ValueError(f"the rows of non-zero weight hold {n_obs} distinct row(s) of (X, y): "
                         f"batch statistics with ddof = {ddof} need more")
    if n_obs == W:
        return w, wt, loo
    ws, wus = wt * (n_obs / W), wu * (n_obs / W)
    return ws, ws, (Xu, Yu, wus, wus)


def _noise_sd(noise, y_scale):
    """The members' noise sd (standardised units) in y's: (members,) for
    one output, (members, outputs) for several, each column on its output's
    scale (one noise level for all, as the evidence has)."""
    return noise * y_scale[0] if y_scale.size == 1 else np.outer(noise, y_scale)


def _selects_inputs(flat_x, W):
    """Whether a default fit compares itself with fits on fewer inputs
    (SELECT_SIZES): at least SPREAD_MIN_INPUTS inputs that vary, and fewer
    than SPREAD_MIN_ROWS_PER_INPUT observations (W) an input, where the
    spread's pull does not take over (kernels/bayes.py)."""
    m = int(np.count_nonzero(~flat_x))
    return ARD and m >= bayes.SPREAD_MIN_INPUTS and W < bayes.SPREAD_MIN_ROWS_PER_INPUT * m


def _log_choose(m, k):
    """log C(m, k)."""
    return math.lgamma(m + 1) - math.lgamma(k + 1) - math.lgamma(m - k + 1)


def _widen(member, cols, p1, p2, q):
    """A net fitted on the inputs cols as one on all p1: rows of V of 0,
    decays of inf (nothing is free to move them), for the others."""
    k = len(cols)
    Vk, beta, G2, b = _split(member.v, k, p2, q)
    V = np.zeros((p1, p2))
    V[cols] = Vk
    decays = np.full(p1 + 1, np.inf)
    decays[cols], decays[p1] = member.decays[:k], member.decays[k]
    wide = copy.copy(member)
    wide.v, wide.decays = _join(V, beta, G2, b), decays
    return wide


def _combine(members, weights):
    """One net that predicts the average of `members` (Params of one shape),
    weighted by `weights` (summing to 1)."""
    K = len(members)
    if np.all(weights == 1.0 / K):
        # (divided, not multiplied by 1 / K: the bits of every fit before weights)
        G2, b = np.vstack([m.G2 for m in members]) / K, np.mean([m.b for m in members], axis=0)
    else:
        G2 = np.vstack([wk * m.G2 for wk, m in zip(weights, members)])
        b = sum(wk * m.b for wk, m in zip(weights, members))
    return Params(np.hstack([m.G1 for m in members]), np.concatenate([m.gamma for m in members]),
                  np.concatenate([m.beta for m in members]), G2, b)


def _member_weights(sse, exact=0.0):
    """The ensemble's weights in the default fit: equal, but 0 for a net
    whose leave-one-out error (sse, one per net) is more than
    MEMBER_LOO_RATIO times the best net's, or than `exact` where that is
    more (an error no data can tell from 0).  A net can end a run held in
    its linear regime while the others found the signal (tecator's
    spectra, 100 inputs: one of three at 16 effective parameters against
    48 and 67, leave-one-out error 50x theirs), and its third of the
    average then took the test error 0.23-0.48 of the others to 2.05.  A
    constant y left nets out on errors of 0 against 3e-132."""
    sse = np.asarray(sse, dtype=float)
    finite = np.isfinite(sse)
    if not finite.any():
        return np.full(sse.size, 1.0 / sse.size)
    keep = finite & (sse <= MEMBER_LOO_RATIO * max(sse[finite].min(), exact))
    return keep / np.count_nonzero(keep)


class _SecondRuns:
    """Which of a Bayesian fit's first runs get a second run from a weak
    prior (ALPHA0_AGAIN), the evidence then choosing between the two: a
    strong first prior can hold a net whose signal is not linear in its
    linear regime (or at the constant) for good.  Decided the same whatever
    the order in which runs end (any thread count gives the same fit).

    * A run with no more well-determined weights than a linear model has
      runs again.
    * A run with no more evidence than the Bayesian linear model's
      (_linear_evidence) has found nothing a line has not: a linear truth
      looks so, and so do nets held in their linear regime (y = sin x1 +
      x2^2 on 100 rows: three at 5.1-5.7 effective parameters, test R^2
      0.15 where the weak prior's reached 0.97).  The fit's first net tells
      them apart: it runs again, and the others below the line run again
      only if its first run beat the line or its second beat its first, or
      if they are far below the best (the last rule) (a
      linear truth: two runs more where each net's had cost 60-140 % more
      time on near-linear data, diabetes and breast cancer).  In a design
      of cells, where leave-one-out error, not the evidence, chooses between
      a net's runs (_by_loo) and runs are cheap (_grouped), every net below
      the line runs again (probe False).
    * Once every first run has ended (first_runs of them), one whose
      evidence is more than EVIDENCE_GAP below the best's runs again: the
      same data hold a better optimum than the one it stopped at (boot's
      aids, counts on 428 rows: nets at a noise sd of 13-15 beside one at
      5; bench/panel.R's Indometh and Boston too).  Where the nets agree,
      as on most data, none does."""

    def __init__(self, p1, q, linear, first_runs, probe=True):
        self.few = (p1 + 1) * q + 1
        self.linear = linear
        # whether the others below the line run again: known at once without a probe
        self.verdict = None if probe else True
        self.waiting = []                    # those below the line, until it is known
        self.first_runs = first_runs
        self.started = set()                 # the (net, restart)s asked to run again

    def after(self, k, r, alpha0, result, runs):
        """The (net, restart)s whose second runs start now that run
        (k, r, alpha0), with info result[1], has ended (runs: those ended)."""
        evidence, gamma_eff = result[1][2], result[1][3]
        if alpha0 != ALPHA0:
            start = []
            if (k, r) == (0, 0) and self.verdict is None:
                start = self._settle(evidence > runs[0, 0, ALPHA0][1][2])
            return self._start(start, runs)
        few, below = gamma_eff < self.few, not evidence > self.linear
        if (k, r) == (0, 0):
            start = ([(0, 0)] if few or below else []) + ([] if below else self._settle(True))
        elif few or (below and self.verdict):
            start = [(k, r)]
        else:
            start = []
            if below and self.verdict is None:
                self.waiting.append((k, r))
        return self._start(start, runs)

    def _settle(self, verdict):
        self.verdict = verdict
        start, self.waiting = (self.waiting if verdict else []), []
        return start

    def _start(self, start, runs):
        """start, and once every first run has ended (runs: those ended) those
        far below the best's evidence, less any asked for already or still
        waiting on the verdict (which may start them first): the same set in
        any order."""
        evidence = {(k, r): result[1][2] for (k, r, alpha0), result in runs.items()
                    if alpha0 == ALPHA0}
        if len(evidence) == self.first_runs:
            # (a NaN evidence, were a run to report one, is no best: max()
            # over it would depend on the order the runs ended in)
            best = max((ev for ev in evidence.values() if not np.isnan(ev)), default=np.nan)
            start = start + [kr for kr, ev in sorted(evidence.items())
                             if ev < best - EVIDENCE_GAP and kr not in start
                             and kr not in self.waiting]
        start = [kr for kr in start if kr not in self.started]
        self.started.update(start)
        return start


class _Member:
    """One fitted net: its v, how the fit ended, and what it learnt of itself."""

    def __init__(self, v, n_iter, converged, curve, criterion, evidence=np.nan,
                 gamma_eff=np.nan, decay=np.nan, noise=np.nan, kept=None, decays=None):
        self.v, self.n_iter, self.converged, self.curve = v, n_iter, converged, curve
        self.criterion, self.evidence, self.gamma_eff = criterion, evidence, gamma_eff
        # its prior's groups' decays (_groups): one, or the inputs' and the rest's
        self.decays = np.array([decay]) if decays is None else decays
        self.noise = noise
        # the iteration whose weights v are: the curve's last, but where
        # early stopping kept an earlier one
        self.kept = len(curve) if kept is None else kept
        self.diverged = None    # Adam's: the error of a run that diverged
        # whether L-BFGS held rows out for it (_best_decay): not below
        # LBFGS_MIN_HOLDOUT_ROWS rows, nor where those drawn all weigh 0
        self.held_out = False

    @property
    def decay(self):
        """The decay of beta, G2 and b (the last group's), or the one decay."""
        return self.decays[-1]


_UNCHANGED = "$UNCHANGED$"        # scikit-learn's word for a request left as it is


class _Requests(dict):
    """Metadata requests by method name; sklearn.clone copies them (it
    clones an estimator's _metadata_request, and clones only estimators
    and containers of them)."""

    def __sklearn_clone__(self):
        return _Requests(self)

    def __getattr__(self, method):
        # scikit-learn < 1.9's scorer for scoring=None reads
        # estimator._metadata_request.score (a MetadataRequest's); without
        # it GridSearchCV scored unweighted whatever set_score_request said
        if method not in ("fit", "score"):
            raise AttributeError(method)
        return getattr(_metadata_request(self), method)


def _metadata_request(made):
    """scikit-learn's MetadataRequest of the requests `made` ({method: alias})."""
    from sklearn.utils.metadata_routing import MetadataRequest
    request = MetadataRequest(owner="BNRegressor")
    for method in ("fit", "score"):
        getattr(request, method).add_request(param="sample_weight", alias=made.get(method))
    return request


class BNRegressor:
    """A one-hidden-layer batch-normalised regression net.

    yhat = act(BN(X G1)) G2 + b, fitted to standardised X and y.  By default
    (``optimizer="auto"`` on small data) three nets are fitted by
    Levenberg-Marquardt with Bayesian regularisation, each choosing its own
    weight decays by MacKay's evidence (one for each input's weights, ARD,
    and one for the rest) and stopping where the evidence stops rising,
    averaged (each net kept finished at its evidence's decays where its
    leave-one-out residuals have no heavy tails), and blended with a ridge linear model where that
    lowers the leave-one-out error (``linear_share_``).

    Parameters
    ----------
    hidden : int, default=8
        Hidden units of each net.
    activation : str, default="sigmoid"
        One of "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "identity".
    optimizer : {"auto", "bayes", "lbfgs", "adam"}, default="auto"
        "bayes": Levenberg-Marquardt with Bayesian regularisation (exact
        Gauss-Newton matrix of the batch-normalised net); "lbfgs": full-batch
        L-BFGS-B on the exact gradient; "adam": minibatch Adam; "auto":
        "bayes" while N * q * P^2 <= 2^28 (P weights per net), or <= 2^30
        where 2 P >= N * q, and N * q * P <= 2^21; else "lbfgs".
    decay : float or None, default=None
        Weight decay: the fit minimises SSE + decay * |v|^2 on standardised
        data, v the weights in V-coordinates (module docstring).  None: chosen
        by the evidence for "bayes"; for "lbfgs", early stopping (10% of the
        rows held out, stop when 30 iterations in a row have not improved
        their error, while they lowered the training
        objective by less than 10% of itself or of 1e-3 of y's variance, and
        keep the best), and where the net has a weight for every 10 values
        of y or fewer, also runs with decays 0.1, 1 and 10 (not stopped
        early: their best iterate kept), the one of least held-out error
        kept (decay_); below 20 rows none are held out, nothing regularises
        the net, and the fit warns; 0 for "adam".
    ensemble : int or None, default=None
        Nets averaged into the fitted net (which then has ensemble * hidden
        units, and one more per output blended with a linear model).  None:
        3 for "bayes", 1 otherwise.
    restarts : int, default=1
        Random starts per net; the best is kept (highest evidence for
        "bayes", least leave-one-out error where a factor design's cells
        hold replicates, lowest objective otherwise).
    max_iter : int or None, default=None
        Iterations per net: LM steps ("bayes", 1000; 3000 with a fixed
        decay, whose steps crawl before its objective settles), L-BFGS iterations
        ("lbfgs", 500) or epochs ("adam", 200).  Reaching it warns
        (ConvergenceWarning) and sets convergence_ to 1, but for an L-BFGS
        run of the decays tried on held-out rows (decay None) whose held-out
        error had not improved for 30 iterations: its best iterate, kept,
        had been found.
    tol : float or None, default=None
        Stopping tolerance: on the change of each log alpha, log beta and
        the log evidence ("bayes", 1e-2; with a fixed decay, on the relative fall of
        SSE + decay |v|^2 over 10 LM steps, 1e-4), L-BFGS-B's ftol ("lbfgs", 1e-9), the
        improvement of the epoch's loss on its best, 20 epochs in a row ("adam",
        1e-4, as scikit-learn's MLPRegressor, which waits 10).
    batch_size : int or None, default=None
        Adam's minibatch (64 if None; at most the rows, with a warning where
        a larger one is given).
    learning_rate : float, default=0.01
        Adam's step size.
    eps : float, default=1e-5
        Batch norm's variance floor.  0 needs an input that varies on the
        rows fitted (a unit's batch variance is divided by).
    ddof : {0, 1}, default=0
        Batch norm's variance divides by N - ddof.
    momentum : float, default=0.1
        Adam's running-statistics momentum, in (0, 1].
    seed : int or None, default=None
        Seed of the starting weights and minibatch order; None means 0, so
        that the same data and settings give the same fit, bit for bit.
    random_state : int, numpy RandomState or Generator, or None, default=None
        scikit-learn's name for it, for meta-estimators that set it
        (BaggingRegressor gives each member its own): an int is the seed; a
        RandomState or Generator draws one at each fit.  Where given, it
        is the seed, whatever seed says (seed is still checked).
    verbose : bool, default=False
        Print progress every 10 iterations (and the last), as nnet's trace:
        as the fit runs where L-BFGS or Adam fits one net at a time from one
        start (restarts=1: their defaults, and every Dask fit); where nets
        are fitted in threads or from several starts, and for the
        Levenberg-Marquardt fit (one compiled call per run), each net's
        lines once the fit has ended.

    Attributes
    ----------
    params_ : Params
        The fitted net on the standardised scale (G1, gamma, beta, G2, b),
        ensemble * hidden units, and one more per output with a linear share.
        A net whose weak-prior second run was kept on few rows used only
        some of its units (_second_hidden): the others' rows of G2 are 0.
    running_mean_, running_var_ : ndarray of shape (n_units,)
        The batch-norm statistics prediction uses (the training set's exact
        ones for "bayes" and "lbfgs", running averages for "adam").
    x_center_, x_scale_ : ndarray of shape (n_features_in_,)
        The (weighted) mean and standard deviation that standardise X.
    y_center_, y_scale_ : ndarray of shape (n_outputs_,)
        The same for y.
    n_features_in_ : int
        Number of columns of X at fit.
    feature_names_in_ : ndarray of str
        Column names of X at fit, where X had string column names.
    n_outputs_ : int
        Columns of y (1 for a 1-D y).
    optimizer_ : str
        The optimiser that ran ("auto" resolved).
    n_iter_ : int
        Iterations of the longest-running net (with its finishing steps,
        kept_iter_).
    convergence_ : int
        0 if every net met its stopping rule, 1 if one reached max_iter
        (nnet's ``$convergence``).
    kept_iter_ : int
        The iteration of the first net in the average (the first of
        member_weights_ > 0) whose weights the fit kept, counted from 1
        (its loss ``loss_curve_[kept_iter_ - 1]``; 0: its start): "bayes"
        with the decay left to the evidence, that of the highest evidence
        (often blocks of LM steps before the last), or, where the net was
        finished at the evidence's decays from there, the last; "lbfgs"
        with early stopping, that of the least held-out error; else the
        last.
    early_stopping_ : ndarray of bool
        Per net, whether L-BFGS held rows out for it (its undecayed run
        stopped early on them, and its decay chosen on them): not with a
        decay given, below 20 rows, or where the rows drawn leave one side
        without weight; False for "bayes" and "adam".
    loss_curve_ : ndarray
        The training loss per iteration (standardised y) of the first net in
        the average:
        "bayes", the weighted mean squared error after each LM step (the
        prior's term left out), and where the net was finished at the
        evidence's decays, after each of those LM steps, from the state the
        evidence kept rather than the run's last (so it may step back);
        "lbfgs", the objective (with the decay's
        term); "adam", each epoch's mean minibatch loss.
    log_evidence_ : ndarray of shape (ensemble,)
        "bayes": each net's log evidence log p(y | alpha, beta), on y's scale
        (where inputs were left out, input_decay_, of its net on the inputs
        kept, without the log C(m, k) their choice was weighed with), at
        the state the evidence kept (a net finished from there, kept_iter_,
        keeps its evidence, effective parameters and decays).
    effective_params_ : ndarray of shape (ensemble,)
        "bayes": each net's well-determined weights, gamma = P - sum_d alpha_d (A^-1)_dd
        (where inputs were left out, of its net on the inputs kept: the
        choice of those is not counted).
    decay_ : ndarray of shape (ensemble,)
        Each net's weight decay (alpha / beta for "bayes"; with the decay
        left to the evidence, that of beta, G2 and b).
    input_decay_ : ndarray of shape (ensemble, n_features_in_)
        "bayes" with the decay left to the evidence: each net's decay of
        each input's weights (its row of V, ARD: an input the net found no
        use for has a larger one: pulled towards the inputs' pooled decay,
        within twice it with fewer than 20 inputs or fewer than twice as
        many rows, as far as their spread says otherwise, kernels/bayes.py);
        inf for an input left out (from 20 inputs, with fewer than two rows
        an input and not in a design of cells, the fit is compared with fits
        again on the 3, 5, 8, 12 or 20 inputs the decays rank first, by the
        evidence less the log of the number of such sets, and the best kept,
        its weights on the others 0: _select_inputs); NaN otherwise, and for
        an input of one value on the rows fitted.
    noise_sd_ : ndarray of shape (ensemble,), or (ensemble, n_outputs_)
        "bayes": each net's estimate of the noise's standard deviation, in
        y's units.  The evidence has one noise level for the standardised
        outputs, so where y has several columns each column here is that
        level on its output's scale; NaN otherwise.
    member_weights_ : ndarray of shape (ensemble,)
        Each net's weight in the average: equal, but in the default fit 0
        for a net whose leave-one-out error is more than MEMBER_LOO_RATIO
        (4) times the best net's (one that ended held in its linear regime
        while the others found the signal).
    n_obs_ : float
        The observations the fit counted: the rows, or the weights' total
        (frequency weights); where repeats are copies (the default fit, a
        column of X or y of many values, no cells of replicates) the
        distinct rows of (X, y), the weights scaled to sum to them.  R's
        nobs().
    linear_share_ : ndarray of shape (n_outputs_,)
        The ridge linear model's share of each output's prediction, chosen
        by leave-one-out error (0 for a fit that is not the default
        Bayesian one, or where the nets alone predict best).
    robust_weights_ : ndarray of shape (n_samples,) or None
        Where the default fit found a law with errors (most rows follow an
        exact law, a few are gross errors in it: _law; looked for on 20
        rows or more, of weight > 0), the factor from a t
        distribution for its residual that the fit kept multiplied each
        row's weight by: near 0 for an error, mean 1 over the rows fitted
        (weighted by sample_weight), NaN for a row of weight 0; one per
        row, shared by every output.  A row the law's fit approximates
        least (at the data's edges, where the law bends most) can be
        weighted down with the errors.  None where the first fit stands,
        which is also where the refit did not fit the rows a hundred times
        better: a law is not always found.
    """

    _params = ("hidden", "activation", "optimizer", "decay", "ensemble", "restarts",
               "max_iter", "tol", "batch_size", "learning_rate", "eps", "ddof", "momentum",
               "seed", "random_state", "verbose")
    # A callable(net, iteration, objective) that the fit reports to, if set (R's trace).
    progress = None

    # hidden = 8, as nnet's size in bench/fit_panel.R, was 16: the Bayesian
    # fit's nets of 16 units predicted worse on small data, and took longer.
    # make_friedman1 (noise 1, seeds 7, 17, 27, 37; 5 splits): median test R^2
    # 0.80, 0.79, 0.91, 0.82 at 8 against 0.75, 0.64, 0.85, 0.76 at 16 (150
    # rows), 0.94, 0.92, 0.94, 0.93 against 0.93, 0.89, 0.89, 0.93 (300 rows);
    # MASS's coop, 1.37x nnet's oracle test MSE at 16, 0.97x at 8 (helper-53);
    # bench/fit_panel.py: as good or better on 20 of 25, within 0.003 on four
    # of the rest, linnerud 0.022 worse (20 rows; still 0.27 above its peers).  Where
    # the function asks for more units than 8 and the rows are many, more do
    # better: hidden is the user's to raise, as nnet's size.
    def __init__(self, hidden=8, activation="sigmoid", optimizer="auto", decay=None,
                 ensemble=None, restarts=1, max_iter=None, tol=None, batch_size=None,
                 learning_rate=1e-2, eps=1e-5, ddof=0, momentum=0.1, seed=None, random_state=None,
                 verbose=False):
        self.hidden = hidden
        self.activation = activation
        self.optimizer = optimizer
        self.decay = decay
        self.ensemble = ensemble
        self.restarts = restarts
        self.max_iter = max_iter
        self.tol = tol
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.eps = eps
        self.ddof = ddof
        self.momentum = momentum
        self.seed = seed
        self.random_state = random_state
        self.verbose = verbose

    def _seed(self):
        """The fit's seed: random_state's where it is given (a draw from a
        generator, as scikit-learn's estimators make one), else seed's.
        (Refusing both had failed every fit of BaggingRegressor(
        BNRegressor(seed=1)), which sets random_state on its members.)"""
        rs = self.random_state
        # (checked where random_state overrides it too: a bad seed is a mistake either way)
        seed = 0 if self.seed is None else checks.whole("seed", self.seed, 0)
        if rs is None:
            return seed
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(np.iinfo(np.int32).max))
        if isinstance(rs, np.random.Generator):
            return int(rs.integers(np.iinfo(np.int64).max))
        try:
            return checks.whole("random_state", rs, 0)
        except checks.InvalidParameterError:
            raise checks.InvalidParameterError(
                f"random_state must be a whole number >= 0, a numpy RandomState or Generator, "
                f"or None, got {rs!r}") from None

    # scikit-learn's estimator protocol ---------------------------------
    def get_params(self, deep=True):
        """The constructor's parameters, as a dict (scikit-learn protocol)."""
        return {k: getattr(self, k) for k in self._params}

    def set_params(self, **params):
        """Set constructor parameters by name; returns self (scikit-learn protocol)."""
        for k, v in params.items():
            if k not in self._params:
                raise checks.InvalidParameterError(
                    f"Invalid parameter {k!r} for estimator BNRegressor. "
                    f"Valid parameters are: {sorted(self._params)!r}.")
            setattr(self, k, v)
        return self

    # scikit-learn's metadata routing: whether a meta-estimator (GridSearchCV,
    # Pipeline) passes sample_weight to fit and score.  Kept as
    # _metadata_request, the attribute sklearn.clone carries over; scikit-learn
    # is imported only when routing is used.
    def set_fit_request(self, *, sample_weight=_UNCHANGED):
        """Request sample_weight for fit when routed by a meta-estimator:
        True, False, None (an error if passed) or an alias; returns self.
        Only with sklearn.set_config(enable_metadata_routing=True)."""
        return self._set_request("fit", sample_weight)

    def set_score_request(self, *, sample_weight=_UNCHANGED):
        """As set_fit_request, for score."""
        return self._set_request("score", sample_weight)

    def _set_request(self, method, alias):
        import sklearn
        if not sklearn.get_config().get("enable_metadata_routing", False):
            raise RuntimeError("This method is only available when metadata routing is enabled. "
                               "You can enable it using "
                               "sklearn.set_config(enable_metadata_routing=True).")
        if alias is not _UNCHANGED:
            self._metadata_request = _Requests(getattr(self, "_metadata_request", {}),
                                               **{method: alias})
        return self

    def get_metadata_routing(self):
        """The requests set_fit_request and set_score_request made, as
        scikit-learn's MetadataRequest."""
        return _metadata_request(getattr(self, "_metadata_request", {}))

    def __repr__(self):
        defaults = dict(zip(self._params, BNRegressor.__init__.__defaults__))
        changed = [f"{k}={v!r}" for k, v in self.get_params().items()
                   if not (type(v) is type(defaults[k]) and v == defaults[k])]
        return "BNRegressor(" + ", ".join(changed) + ")"

    def __sklearn_tags__(self):
        from sklearn.utils import RegressorTags, Tags, TargetTags, InputTags
        return Tags(estimator_type="regressor",
                    target_tags=TargetTags(required=True, multi_output=True,
                                           single_output=True),
                    regressor_tags=RegressorTags(), input_tags=InputTags())

    def _more_tags(self):                    # scikit-learn < 1.6
        return {"preserves_dtype": [np.float64, np.float32], "multioutput": True}

    # settings ----------------------------------------------------------
    def _settings(self, N, p1, q, chunked=False):
        """The settings, checked; chunked (Dask) data takes L-BFGS and is
        not this process's memory to count."""
        checks.activation_code(self.activation)
        if not isinstance(self.optimizer, str) or self.optimizer not in OPTIMIZERS:
            raise checks.InvalidParameterError(
                f"optimizer must be one of {list(OPTIMIZERS)}, got {self.optimizer!r}")
        if not isinstance(self.verbose, (bool, np.bool_, int, np.integer)) or self.verbose < 0:
            # (scikit-learn's verbosity: a flag or a level; "yes" is neither)
            raise checks.InvalidParameterError(
                f"verbose must be True, False or a whole number >= 0, got {self.verbose!r}")
        hidden = checks.whole("hidden", self.hidden, 1, checks.COUNT_MAX)
        P = p1 * hidden + 2 * hidden + hidden * q + q
        opt = self.optimizer
        if chunked:
            if opt not in ("auto", "lbfgs"):
                raise checks.InvalidParameterError(
                    f"optimizer={opt!r} needs the data in memory; Dask data is fitted by "
                    "'lbfgs' (which 'auto' means there)")
            opt = "lbfgs"
        if opt == "auto":
            cost = N * q * P * P
            cheap = cost <= BAYES_MAX or (2 * P >= N * q and cost <= BAYES_BIG)
            opt = "bayes" if cheap and N * q * P <= BAYES_WORK else "lbfgs"
        decay = None if self.decay is None else checks.setting_real("decay", self.decay, 0)
        s = dict(
            hidden=hidden, P=P, optimizer=opt, decay=decay,
            ensemble=(3 if opt == "bayes" else 1) if self.ensemble is None
            else checks.whole("ensemble", self.ensemble, 1, checks.COUNT_MAX),
            restarts=checks.whole("restarts", self.restarts, 1, checks.COUNT_MAX),
            max_iter=(ITER_FIXED_DECAY if opt == "bayes" and decay is not None
                      else DEFAULT_ITER[opt]) if self.max_iter is None
            else checks.whole("max_iter", self.max_iter, 1, checks.COUNT_MAX),
            tol=(TOL_FIXED_DECAY if opt == "bayes" and decay is not None else DEFAULT_TOL[opt])
            if self.tol is None else checks.setting_real("tol", self.tol, 0, open_low=True),
            batch_size=64 if self.batch_size is None
            else checks.whole("batch_size", self.batch_size, 2, checks.COUNT_MAX),
            learning_rate=checks.setting_real("learning_rate", self.learning_rate, 0,
                                              open_low=True),
            momentum=checks.setting_real("momentum", self.momentum, 0, 1, open_low=True),
            seed=self._seed())
        s["eps"], s["ddof"] = checks.eps_ddof(self.eps, self.ddof)
        if not chunked:
            checks.fits_in_memory(N, p1, q, hidden, self._threads(s), opt)
        checks.few_enough_runs(s["ensemble"] * s["restarts"], P)
        return s

    # fitting -----------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fit the net.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real numbers (a pandas DataFrame's column names are kept and
            checked at predict).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,) or a number, optional
            Frequency weights (a number: the same for every row): an
            integer weight k counts a row k times, in the loss, the batch
            statistics and the standardisation alike, so integer weights fit
            what the rows repeated fit, to rounding (their sums run in
            another order, which a fit of many steps carries on), but for
            L-BFGS's held-out rows and Adam's minibatches (drawn from the
            rows, whatever their weights; held-out rows of weight 0 alone
            leave L-BFGS without early stopping).  How much data that is depends on
            the fit: the default (evidence) fit, where a column of X or y
            takes many values (more than half as many as the distinct rows)
            and X is not a factor design's cells, counts the distinct rows of
            (X, y), so the weights' scale does not matter and a bootstrap
            sample's repeats count once; where X and y take few values, in
            cells of replicates and against a fixed decay, weights of 10 count as ten
            times the data (weights summing to fewer than their rows warn
            there).  n_obs_ says what the fit counted.  Rows of weight 0 count
            for nothing; those more than 1e100 of the others' standard
            deviations away are left out altogether (their squares would
            overflow).

        Returns
        -------
        self

        Dask arrays (X, y and sample_weight, row blocks alike) are fitted by
        bngrad.dask.fit: full-batch L-BFGS on the exact gradient, one pass
        over the blocks per gradient.
        """
        if is_dask(X):
            from . import dask
            return dask.fit(self, X, y, sample_weight)
        # each fit into a copy, published whole at the end: the first, and
        # where it finds a law with errors (_law), the fit that downweights them
        names = checks.feature_names(X)
        first = copy.copy(self)
        s, law = first._fit_rows(X, y, sample_weight)
        fitted, robust_weights = self._law(first, *law) if law is not None else (first, None)
        if fitted.convergence_:                  # the fit kept's, once (the fits are quiet)
            _warn_not_converged(s["max_iter"], s["optimizer"])
        state = {k: v for k, v in vars(fitted).items()
                 if k in _FITTED_PRIVATE or (k.endswith("_") and k != "feature_names_in_")}
        state["robust_weights_"] = robust_weights
        self._publish(state, names)
        return self

    def _fit_rows(self, X, y, sample_weight):
        """fit's work, published into self without a ConvergenceWarning (fit
        gives the one of the fit it keeps) or feature names (fit publishes
        X's); (the settings, and (X, Y, w) as checked where the fit is the
        default's (the evidence's, not of a factor design's cells), for
        _law, else None)."""
        X = np.ascontiguousarray(checks.design(X, "X", min_rows=2), dtype=np.float64)
        N = X.shape[0]
        Y = checks.target(y, N)
        X0, Y0 = X, Y                           # for _law, the rows as given
        if N < 2:
            raise ValueError(f"X must have at least 2 rows: batch statistics need more than "
                             f"1 sample, got {N} sample")
        y_1d = Y.ndim == 1
        Y2 = np.ascontiguousarray(Y.reshape(N, -1))
        s = self._settings(N, X.shape[1], Y2.shape[1])
        # the default fit may scale the weights (_observations): their sum
        # against ddof is checked after
        chosen = s["optimizer"] == "bayes" and s["decay"] is None
        w = checks.weights(sample_weight, N, 0 if chosen else s["ddof"], "sample_weight")
        w0 = w
        if w.size:
            far = _far_rows(X, Y2, w)
            if far.any():
                X, Y2, w = X[~far], Y2[~far], w[~far]
                N = X.shape[0]
        if s["optimizer"] == "adam" and self.batch_size is not None and s["batch_size"] > N:
            # as scikit-learn's MLPRegressor: a batch_size asked for is clipped aloud
            warnings.warn(f"BNRegressor: batch_size = {s['batch_size']} is larger than the "
                          f"{N} rows; every minibatch is all {N} (full-batch Adam)",
                          UserWarning, stacklevel=checks.user_level())
        wt = np.ones(N) if w.size == 0 else w
        x_center, x_scale, flat_x = _center_scale(X, wt)
        if s["eps"] == 0 and flat_x.all():
            # every unit's batch variance is 0 then: the Bayesian fit's
            # steps had divided by it and left a net of NaN
            raise ValueError("eps = 0 divides by the batch variance of X @ G1, and every "
                             "column of X takes one value on the rows fitted (of weight > 0): "
                             "use eps > 0, or inputs that vary")
        if s["optimizer"] == "lbfgs" and s["decay"] is None:
            few_rows_unregularised(N, "auto" if self.optimizer == "auto" else "user", s["P"])
        y_center, y_scale, flat_y = _center_scale(Y2, wt)
        Xs = np.ascontiguousarray(_standardised(X, x_center, x_scale))
        Ys = np.ascontiguousarray(_standardised(Y2, y_center, y_scale))
        # Every BLAS in the process on one thread for the whole fit: the
        # optimiser's and the array work's between kernel calls would
        # otherwise wake pools that take the cores the kernels need.
        with engine.single_blas:
            # the default fit: the evidence's count of observations, and
            # leave-one-out's (second runs, the blend)
            cells, copies, loo = _design(Xs, Ys, wt) if chosen else (False, False, None)
            if copies:
                w, wt, loo = _observations(w, wt, loo, s["ddof"])
            elif chosen and w.size:
                checks.weights(w, N, s["ddof"], "sample_weight")     # frequency weights
            W = sums.weights_total(w, N)               # wt's: w, or N ones
            # where the weights count data: the evidence with replicates, a fixed decay
            checks.few_weights(W, np.count_nonzero(w),
                               not copies and (s["optimizer"] == "bayes" or bool(s["decay"])))
            grouped = _lm_data(Xs, Ys, w) if s["optimizer"] == "bayes" else None
            # (the default fit's progress lines are those of the nets kept,
            # once they are chosen and finished)
            select = chosen and not cells and _selects_inputs(flat_x, W)
            members = self._fit_members(Xs, Ys, w, s, grouped, loo, cells, report=not chosen)
            if chosen:
                # (where another fit may be chosen, its nets are finished once it is)
                linear = self._linear_blend(members, Xs, wt, loo, s,
                                            None if cells or select else grouped)
                if select:
                    members, linear = self._select_inputs(Xs, Ys, w, wt, W, s, members, linear,
                                                          flat_x, copies, loo, grouped)
                for k, m in enumerate(members):
                    self._report(k, m.curve)
            else:
                linear = None

            def batch_stats(G1):
                Z = Xs @ G1
                mean = sums.column_sums(Z * wt[:, None]) / W
                return mean, sums.column_sums(wt[:, None] * (Z - mean) ** 2) / (W - s["ddof"])
            # (the count itself where the weights were scaled to it, not their sum)
            self._set_fitted(members, s, X.shape[1], Y2.shape[1], W, None, y_1d,
                             batch_stats, (x_center, x_scale, y_center, y_scale), linear,
                             n_obs=np.count_nonzero(loo[2]) if copies else W,
                             flat=(flat_x, flat_y), quiet=True)
        return s, ((X0, Y0, w0) if chosen and not cells else None)

    def _law(self, first, X, Y, w):
        """(the fit to keep, the rows' robust weights or None): where the
        default fit's training residuals have gross errors (one LAW_Z robust
        sds out, and tails: their rms LAW_TAIL times that sd) on LAW_MIN_ROWS
        rows or more, the fit again
        with each row's weight times a t distribution's (LAW_NU degrees of
        freedom) for its residual, iterated as IRLS is; kept where the rows
        it fits then agree to LAW_SCALE of the first fit's robust sd: a law
        that most rows follow, and a few rows that are errors in it.  The
        weights are those factors, of mean 1 over the rows fitted (weighted
        by w), NaN for a row of weight 0 (not fitted)."""
        Y2 = Y.reshape(len(Y), -1)
        wt = np.ones(len(Y2)) if w.size == 0 else w
        live = wt > 0                    # (rows of weight 0 may be too far out to predict)
        if np.count_nonzero(live) < LAW_MIN_ROWS:
            return first, None
        Xl, Yl, wl = X[live], Y2[live], wt[live]
        ys = first.y_scale_

        def scale(fit):
            # in units of y's sd, each term divided first: y near the double
            # maximum has residuals and squares that overflow in its own
            r = Yl / ys - fit._predict(Xl).reshape(Yl.shape) / ys
            return r, _robust_sd(r)

        r, s0 = scale(first)
        if not np.all(s0 > 0):           # a mass of equal y fitted alike: no law to find
            return first, None
        z = r / s0
        rms = np.sqrt(wl @ r ** 2 / wl.sum())
        if not np.any((np.abs(z).max(axis=0) >= LAW_Z) & (rms >= LAW_TAIL * s0)):
            return first, None
        t = np.ones(len(wt))
        for k in range(LAW_ITER):
            tl = (LAW_NU + Y2.shape[1]) / (LAW_NU + (z * z).sum(axis=1))
            t[live] = tl * wl.sum() / (wl @ tl)     # the same total weight: the data counted alike
            # the first fit's settings, and no progress of its own
            again = copy.copy(first)
            again.progress, again.verbose = None, False
            if k < LAW_ITER - 1:
                again.ensemble = 1       # the weights' steps on one net: a third of the time
            again._fit_rows(X, Y, wt * t)
            r, sd = scale(again)
            # (exact 0: most rows of one y, fitted alike; a first step that did
            # not halve the spread: heavy tails, not a law's few errors)
            if not np.all(sd > 0) or (k == 0 and not np.any(sd < LAW_FIRST * s0)):
                return first, None
            z = r / sd
        if not np.all(sd < LAW_SCALE * s0):
            return first, None
        t[~live] = np.nan
        return again, t

    def _linear_blend(self, members, Xs, w, loo, s, grouped=None, cols=None):
        """(the members' weights in the average, params -> the average
        blended with a ridge linear model and the linear model's share per
        output), all by leave-one-out error (_member_weights, blend.py) on
        the observations loo (_design); where the members were fitted on the
        inputs cols of Xs alone (_select_inputs), loo has those, and so has
        the linear model.  Where grouped (_grouped, the members' data) is
        given, the members in the average are finished (_finish, in place)
        once their weights are chosen, and blended as finished."""
        code = ACTIVATIONS[self.activation]
        Xu, Yu, wu, copy = loo
        E = np.array([self._net_loo(m.v, m.decays, loo, s) for m in members])
        # (y is standardised: an error of 1e-12 of its variance a row is a fit)
        weights = _member_weights([wu @ (e * e).sum(axis=1) for e in E],
                                  exact=1e-12 * sums.total(wu) * Yu.shape[1])
        if grouped is not None:
            # the weights first: finished, a weaker net's leave-one-out error
            # came within MEMBER_LOO_RATIO of the best's and it joined the
            # average (make_friedman1, 30 inputs, 200 rows: test R^2 0.939
            # of the best net alone, 0.894 of the three)
            kept = np.flatnonzero(weights > 0)

            def finish(lo, hi):
                for k in kept[lo:hi]:
                    if self._finish(grouped, s, members[k], E[k], wu):
                        E[k] = self._net_loo(members[k].v, members[k].decays, loo, s)
            engine.run_chunks(finish, kept.size, self._threads(s), (), ())
        # the average's leave-one-out residuals, as its prediction, are the
        # members' weighted average (each net's linearisation)
        e_net = np.tensordot(weights[weights > 0], E[weights > 0], axes=1)
        coef, c0, e_lin, _ = blend.ridge_loo(Xu, Yu, wu, copy)
        if cols is not None:
            B = np.zeros((Xs.shape[1], coef.shape[1]))
            B[cols] = coef
            coef = B
        share = blend.blend_weights(e_net, e_lin, wu)
        return weights, lambda params: (blend.embed(params, share, coef, c0, Xs, w, code,
                                                    s["eps"], s["ddof"]), share)

    def _set_fitted(self, members, s, p1, q, W, names, y_1d, batch_stats, std, linear=None,
                    n_obs=None, flat=None, quiet=False):
        """The fitted attributes from the members, set at once when the fit
        has ended (_publish); std = (x_center, x_scale, y_center, y_scale)
        of the standardisation; batch_stats(G1) gives the
        mean and variance of Xs G1 on the training rows, linear = (the
        members' weights, params -> the blend with a linear model and its
        share) or None (equal weights, no blend), n_obs the observations
        the fit counted (W, the weights' total, if None), flat the inputs
        and outputs of one value on the training rows (masks), or None."""
        p2 = s["hidden"]
        weights, blend_with = linear if linear is not None else (
            np.full(len(members), 1.0 / len(members)), None)
        params = _combine([_to_params(m.v, p1, p2, q) for m in members], weights)
        share = np.zeros(q)
        if blend_with is not None:
            params, share = blend_with(params)
        if s["optimizer"] == "adam":
            mean = np.concatenate([m.running[0] for m in members])
            var = np.concatenate([m.running[1] for m in members])
        else:
            # the training batch's own statistics: prediction of the training
            # rows reproduces the fitted forward pass exactly
            with engine.single_blas:                     # its bits, whatever the BLAS threads
                mean, var = batch_stats(params.G1)
        input_decay = np.array([m.decays[:p1] if len(m.decays) == p1 + 1 else np.full(p1, np.nan)
                                for m in members])
        if flat is not None:
            # An input of one value on the training rows (a factor level no
            # row has, a column flat in a fold) taught the net nothing: its
            # rows of G1, which there meet only zeros, are set to 0, so that
            # a new value of it predicts as that one did, whatever the
            # optimiser left there (L-BFGS left its random start).  An output
            # of one value is that value, not a net's approximation of it.
            params.G1[flat[0]] = 0.0
            # (its decay was the pooled inputs' pull on weights that met no data)
            input_decay[:, flat[0]] = np.nan
            params.G2[:, flat[1]] = 0.0
            params.b[flat[1]] = 0.0
        x_center, x_scale, y_center, y_scale = std
        convergence = int(not all(m.converged for m in members))
        first = int(np.flatnonzero(weights > 0)[0])
        self._publish(dict(
            _fitted_net=(self.activation, s["eps"]),
            x_center_=x_center, x_scale_=x_scale, y_center_=y_center, y_scale_=y_scale,
            params_=params, linear_share_=share,
            member_weights_=weights, running_mean_=mean, running_var_=var,
            n_features_in_=p1, n_outputs_=q, _y_1d=y_1d, optimizer_=s["optimizer"],
            n_iter_=max(m.n_iter for m in members), convergence_=convergence,
            # the first net in the average's: a net left out (weight 0) predicts nothing
            loss_curve_=members[first].curve, kept_iter_=members[first].kept,
            log_evidence_=np.array([m.evidence for m in members])
            - W * float(np.log(y_scale).sum()),
            n_obs_=float(W if n_obs is None else n_obs),
            effective_params_=np.array([m.gamma_eff for m in members]),
            decay_=np.array([m.decay for m in members]),
            early_stopping_=np.array([m.held_out for m in members]),
            input_decay_=input_decay, robust_weights_=None,
            noise_sd_=_noise_sd(np.array([m.noise for m in members]), y_scale)), names)
        if convergence and not quiet:
            _warn_not_converged(s["max_iter"], s["optimizer"])
        return self

    def _publish(self, fitted, names):
        """Replace the fitted state with `fitted` (and feature_names_in_ with
        names, or none), all at once: a fit that fails or is interrupted
        leaves the previous one whole, and of fits of one estimator running
        at once in several threads the last to end is the one it holds."""
        with _PUBLISH:
            self.__dict__.update(fitted)
            if names is not None:
                self.feature_names_in_ = names
            else:
                self.__dict__.pop("feature_names_in_", None)

    def _fit_members(self, Xs, Ys, w, s, grouped=None, loo=None, cells=False,
                     report=True):
        """The ensemble's nets, each the best of its restarts; nets run on
        the engine's threads (they are independent, so any thread count gives
        the same bits).  The Bayesian fit takes the data as grouped
        (_lm_data: given for it, unused by the others), and in a design of cells
        (_design) chooses between a net's two runs, and its restarts, by
        leave-one-out error on loo (_design).  Its nets' progress lines
        are given where report (not while _select_inputs may choose another fit)."""
        p1 = Xs.shape[1]
        q = Ys.shape[1]
        K, R = s["ensemble"], s["restarts"]
        # A task is one optimiser run: (net k, restart r, first prior, units).
        # The Bayesian fit's weak-prior second run (_SecondRuns) is queued as
        # tasks of its own when the first asks for it, one for the whole net
        # and one for the smaller (_second_hidden), so that whichever thread
        # is free takes them: on small data most first runs ask, and as a
        # part of its net's task it left one thread with two nets' pairs of
        # runs while the other idled.
        p2 = s["hidden"]
        tasks = collections.deque((k, r, ALPHA0, p2) for k in range(K) for r in range(R))
        runs, cond = {}, threading.Condition()
        # runs under way, and whether an error or an interrupt ended the fit
        state = {"running": 0, "stopped": False}
        rngs = {(k, r): np.random.default_rng([s["seed"], k, r]) for k in range(K) for r in range(R)}
        starts = {kr: _start(p1, s["hidden"], q, rng) for kr, rng in rngs.items()}
        fit_one = {"lbfgs": self._lbfgs, "adam": self._adam}.get(s["optimizer"])
        affine = fit_one is None and s["decay"] is None and _affine_design(Xs, w)
        shared = self._lbfgs_setup(Xs, Ys, w, s) if s["optimizer"] == "lbfgs" else None
        second = (_SecondRuns(p1, q, _linear_evidence(Xs, Ys, w), K * R, probe=not cells)
                  if fit_one is None and s["decay"] is None and not affine else None)
        # a second run's nets: the whole, and where the rows are few a smaller
        # one of at most half its units (_second_hidden; of more it is the
        # whole net less a few, the prior does the rest: 1000 rows, 50
        # inputs, 8 units, its 7-unit run took a quarter of the fit, and
        # the medians of bench/panel.R's first 59 are the same without such runs)
        h = p2 if second is None else _second_hidden(sums.total(grouped[2]), p1, q, p2)
        units = (p2, h) if 2 * h <= p2 else (p2,)
        parts = {}                       # (k, r) -> {units: result} of its second run

        def run(_lo, _hi):
            try:
                while True:
                    with cond:
                        # a run under way may start second runs: wait for it,
                        # rather than leave them all to the thread that ran it
                        while not tasks and state["running"] and not state["stopped"]:
                            cond.wait()
                        if not tasks or state["stopped"]:
                            return
                        k, r, alpha0, n_units = tasks.popleft()
                        state["running"] += 1
                    if fit_one is not None:      # the rest of its stream: held-out rows, batches
                        result = fit_one(Xs, Ys, w, s, starts[k, r], rngs[k, r], shared,
                                         self._live(k) if live else None)
                        if live:
                            self._report(k, result.curve, live=True)
                    elif alpha0 == ALPHA0:
                        result = self._bayes_run(*grouped, s, starts[k, r], alpha0)
                    else:
                        result = self._bayes_run(*grouped, dict(s, hidden=n_units),
                                                 _first_units(starts[k, r], p1, p2, q, n_units),
                                                 alpha0)
                    with cond:
                        state["running"] -= 1
                        if alpha0 == ALPHA0_AGAIN:
                            done = parts.setdefault((k, r), {})
                            done[n_units] = result
                            # the second run ends when its nets have
                            result = (_second_best(done, starts[k, r], p1, p2, q)
                                      if len(done) == len(units) else None)
                        if result is not None:
                            runs[k, r, alpha0] = result
                            if second is not None and not state["stopped"]:
                                tasks.extend((*kr, ALPHA0_AGAIN, u) for kr in
                                             second.after(k, r, alpha0, result, runs)
                                             for u in units)
                        cond.notify_all()
            except BaseException:
                stop()
                raise

        def stop():
            # an error or an interrupt (R's Esc) ends the fit once the other
            # threads' current runs end: no run queued, or started by one
            # that ends, is begun
            with cond:
                state["stopped"] = True
                tasks.clear()
                cond.notify_all()
        # the fits are nogil kernels; even the shortest run (~0.3 ms) is
        # worth a thread's hand-off (~0.05 ms)
        threads = self._threads(s)
        # L-BFGS's and Adam's iterations reported as they come where every
        # run is the calling thread's (R's progress callback may be called
        # from no other) and each net has one (restarts' lines would mix),
        # as nnet's trace; LM's iterations are a kernel's
        live = threads == 1 and fit_one is not None and R == 1
        engine.run_chunks(run, threads, threads, (), (), cancel=stop)
        out = []
        for k in range(K):
            best = None
            for r in range(R):
                m = runs[k, r, ALPHA0]
                if fit_one is None and cells:
                    # restarts too are compared by leave-one-out error
                    m = self._by_loo([m, runs.get((k, r, ALPHA0_AGAIN))], loo, s, R > 1)
                elif fit_one is None:
                    m = self._bayes_member(s, m, runs.get((k, r, ALPHA0_AGAIN)))
                if best is None or m.criterion < best.criterion:
                    best = m
            if best.diverged is not None:
                raise best.diverged                  # every restart of this net (Adam's)
            out.append(best)
        if report and not live:
            for k, m in enumerate(out):
                self._report(k, m.curve)
        return out

    def _select_inputs(self, Xs, Ys, w, wt, W, s, members, linear, flat_x, copies, loo,
                       grouped):
        """(members, linear) of the default fit on every input, or of one
        again on the k inputs that vary which its nets' decays rank first
        (mean log decay over the nets in the average), whichever has the
        most evidence (its best net's) less log C(m, k) of m inputs
        (SELECT_SIZES); the nets of a fit on fewer inputs as nets of all
        (_widen).  A set of inputs on which _design counts other
        observations than on all (copies, loo: its verdict there), as where
        rows distinct in all inputs repeat in those, is not compared: its
        evidence would be of other data.  linear is _linear_blend's of the
        fit on every input, its nets not finished; the fit kept has its nets
        finished (_finish; grouped, _lm_data, that fit's data)."""
        p1 = Xs.shape[1]
        live = np.flatnonzero(~flat_x)
        m = live.size
        weights = linear[0]
        logd = np.mean([np.log(mb.decays[:p1]) for mb, wk in zip(members, weights) if wk > 0],
                       axis=0)
        rank = live[np.argsort(logd[live], kind="stable")]
        best, chosen = max(mb.evidence for mb in members), None
        n_obs = np.count_nonzero(loo[2])
        for k in SELECT_SIZES:
            if k >= m or bayes.SPREAD_MIN_ROWS_PER_INPUT * k > W:
                break
            cols = np.sort(rank[:k])
            Xk = np.ascontiguousarray(Xs[:, cols])
            cells_k, copies_k, loo_k = _design(Xk, Ys, wt)
            if cells_k or copies_k != copies or np.count_nonzero(loo_k[2]) != n_obs:
                continue
            grouped_k = _lm_data(Xk, Ys, w)
            fit_k = self._fit_members(Xk, Ys, w, s, grouped_k, loo_k, report=False)
            score = max(mb.evidence for mb in fit_k) - _log_choose(m, k)
            if score > best:
                best, chosen = score, (cols, fit_k, loo_k, grouped_k)
        if chosen is None:           # (linear's weights again, the nets then finished)
            return members, self._linear_blend(members, Xs, wt, loo, s, grouped)
        cols, fit_k, loo_k, grouped_k = chosen
        linear = self._linear_blend(fit_k, Xs, wt, loo_k, s, grouped_k, cols=cols)
        return [_widen(mb, cols, p1, s["hidden"], Ys.shape[1]) for mb in fit_k], linear

    @staticmethod
    def _threads(s):
        """How many nets a fit runs at once: one a thread (a second run
        waits for its first)."""
        return min(s["ensemble"] * s["restarts"], engine.num_threads())

    def _report(self, net, curve, live=False):
        """A net's progress lines: every 10th iteration, as nnet, and the
        last (a short fit's only one); where its runs reported their 10th
        ones as they came (live, _live), only a last one not among them."""
        last = len(curve) - 1
        for it in [*range(9, last, 10), last] if last >= 0 else []:
            if not live or (it == last and it % 10 != 9):
                self._line(net, it, curve[it])

    def _line(self, net, it, value):
        if self.progress is not None:
            self.progress(net + 1, it + 1, float(value))
        if self.verbose:
            print(f"net {net + 1} iter {it + 1:4d} value {value:.6f}", flush=True)

    def _live(self, net):
        """report(it, value) for a run of net `net` to call after each
        iteration (its every 10th reported at once), or None where no one asks."""
        if self.progress is None and not self.verbose:
            return None
        return lambda it, value: self._line(net, it, value) if it % 10 == 9 else None

    def _bayes_run(self, Xs, Ys, w, sse0, s, v0, alpha0, decays=None, max_iter=None):
        """One Levenberg-Marquardt run from v0: (v, info, curve, the prior's
        groups' alphas: _groups); alpha0 the
        first prior precision (the evidence moves it), or with a fixed decay
        the decay itself; sse0 the SSE no weight can change (_grouped); w a
        weight per row (never empty: the kernel divides by their total).
        decays, where given, are the groups' decays held fixed (a Bayesian
        run's, its net finished at them: _finish), for at most max_iter LM
        steps (s["max_iter"] if None) to a fixed decay's tol."""
        kernel = engine.ready(bayes.fit_bayes)
        held = decays is not None
        fixed = s["decay"] is not None or held
        groups = np.asarray(decays, dtype=np.float64) if held else np.zeros(0)
        k = 1.0
        if fixed:
            alpha0 = alpha0 if held else s["decay"]
            # SSE + decay |v|^2 with weights of 1e12 per row left LM's damping
            # (capped at 1e10) too weak to find a step: one step, R^2 0.09.
            # Weights and decay divided alike keep the minimiser.
            mean_w = sums.total(w) / max(np.count_nonzero(w), 1)
            if mean_w > 1e6:
                k = mean_w
                w, sse0, alpha0, groups = w / k, sse0 / k, alpha0 / k, groups / k
        p1, q = Xs.shape[1], Ys.shape[1]
        ard = groups.size > 1 if held else ARD and not fixed
        max_iter = s["max_iter"] if max_iter is None else max_iter
        v, info, alphas = np.empty_like(v0), np.zeros(7), np.empty(p1 + 1 if ard else 1)
        curve = np.full(max_iter, np.nan)
        kernel(Xs, w, Ys, sse0, v0, s["hidden"], ACTIVATIONS[self.activation], s["eps"], s["ddof"],
               alpha0, groups, fixed, max_iter, INNER_FIRST, INNER_FIRST if fixed else INNER,
               TOL_FIXED_DECAY if held else s["tol"], PATIENCE,
               _groups(p1, s["hidden"], q, ard), v, info, curve, alphas)
        if k != 1.0:
            info[2] *= k                        # the objective and decay as the user's
            info[4] *= k
            alphas *= k
        # (the LM steps taken: the kernel writes the curve's first info[1] values)
        return v, info, curve[:int(info[1])].copy(), alphas

    def _finish(self, grouped, s, m, e, wu):
        """Whether the Bayesian member m's net was finished at its evidence's
        decays (m.v replaced; its curve goes on with the steps, from the
        state the evidence kept, and n_iter and kept count them): LM goes on
        from that state on the data grouped (_lm_data) with its groups'
        decays held, to a fixed decay's stop (TOL_FIXED_DECAY, not the
        user's tol), for as many steps again as its run took (FINISH_STEPS;
        at least INNER_FIRST, within max_iter in all), where its run
        converged and its leave-one-out residuals e (blend.net_loo, of
        observations of weights wu, as the fit weighs them: a law's fits
        again, _law, weigh its errors down) have no heavy tails (their rms
        below LAW_TAIL robust sds, per output).  The steps' budget spent is
        no failure to converge.  The evidence, effective parameters and
        decays stay those of the state the evidence kept.

        The evidence's run takes INNER LM steps between its updates and
        stops as the evidence stops rising, short of the minimum of its own
        objective, the posterior mode its evidence assumes; finished, the
        444 data sets of docs/fitting.md were within 1.05 of nnet's oracle
        on 348, 349 and 352 (three draws of the starts) against 343, 347
        and 348.  Uncapped and ungated it cost 3.8x the time (1.7x gated);
        ungated, where outliers or heavy tails are, the early stop was the
        better regulariser (robustbase's hbk 2.2 to 16.6)."""
        # (max_iter bounds all of a net's LM steps; a run it stopped is not at
        # its evidence's optimum either)
        budget = min(max(INNER_FIRST, FINISH_STEPS * m.n_iter), s["max_iter"] - m.n_iter)
        if not m.converged or budget <= 0:
            return False
        # (rows of weight 0 are not fitted: their residuals are not the fit's)
        live = wu > 0
        r = e[live]
        sd = _robust_sd(r)
        if not np.all((sd > 0) & (np.sqrt(wu[live] @ (r * r) / sums.total(wu)) < LAW_TAIL * sd)):
            return False
        p1, q, p2 = grouped[0].shape[1], grouped[1].shape[1], s["hidden"]
        V, beta, G2, b = _split(m.v, p1, p2, q)
        # a smaller second run's net is finished as it was fitted (_used):
        # its other units, G2's rows of 0 on their random start, would
        # otherwise come back to life
        used = np.any(G2 != 0, axis=1)
        h = int(used.sum())
        if h == 0:
            return False
        v0 = m.v if h == p2 else _join(V[:, used], beta[used], G2[used], b)
        v, info, curve, _ = self._bayes_run(*grouped, dict(s, hidden=h), v0, ALPHA0,
                                            decays=m.decays, max_iter=budget)
        if h < p2:
            Vh, beta_h, G2h, b = _split(v, p1, h, q)
            V, beta, G2 = V.copy(), beta.copy(), G2.copy()
            V[:, used], beta[used], G2[used] = Vh, beta_h, G2h
            v = _join(V, beta, G2, b)
        m.v = v
        m.curve = np.concatenate([m.curve, curve])
        m.n_iter = m.kept = len(m.curve)
        return True

    def _net_loo(self, v, decays, loo, s):
        """Leave-one-out residuals (blend.net_loo) on loo (_design) of the
        net v as it was fitted, with its groups' decays (_weight_decays): a
        smaller second run's without the units it did not use (_used)."""
        Xu, Yu, wu, copy = loo
        p1, q = Xu.shape[1], Yu.shape[1]
        v, hidden = _used(v, p1, s["hidden"], q)
        return blend.net_loo(v, _weight_decays(decays, p1, hidden, q), Xu, Yu, wu, copy, hidden,
                             ACTIVATIONS[self.activation], s["eps"], s["ddof"])

    def _by_loo(self, runs, loo, s, scored):
        """A factor design's member: of a net's runs (its first, and its
        weak-prior second or None), the one whose net has the least
        leave-one-out error (blend.net_loo), which is its criterion where
        scored (restarts are compared by it).  There the evidence (a Laplace
        approximation for a net of many weights) preferred the constant to a
        net of the cells' means that predicted better (Adler, warpbreaks,
        simulated interactions), and leave-one-out is near exact: the net's
        linearisation is nearly the cells' means."""
        wu = loo[2]
        runs = [run for run in runs if run is not None]
        if len(runs) == 1 and not scored:
            return self._bayes_member(s, runs[0])

        def error(run):
            v, info = run[0], run[1]
            e = self._net_loo(v, run[3] / info[5], loo, s)
            return float(wu @ (e * e).sum(axis=1))
        errors = [error(run) for run in runs]
        m = self._bayes_member(s, runs[int(np.argmin(errors))])
        m.criterion = min(errors)
        return m

    @staticmethod
    def _bayes_member(s, first, again=None):
        """The net of a Bayesian fit's run, or of the better by evidence of
        its two runs."""
        fixed = s["decay"] is not None
        v, info, curve, alphas = first
        if again is not None and again[1][2] > info[2]:
            v, info, curve, alphas = again
        status, n_iter, evidence, gamma_eff, alpha, beta_, kept = info
        # with a fixed decay the kernel's info[2] is the objective, SSE + decay |v|^2
        return _Member(v, int(n_iter), status == bayes.CONVERGED, curve, kept=int(kept),
                       criterion=evidence if fixed else -evidence,
                       evidence=np.nan if fixed else evidence,
                       gamma_eff=np.nan if fixed else gamma_eff, decays=alphas / beta_,
                       noise=np.nan if fixed else 1 / np.sqrt(2 * beta_))

    def _lbfgs_setup(self, Xs, Ys, w, s):
        """X's statistics, shared by every L-BFGS net of a fit (one pass over
        X), or None where the small-X kernel needs none.  Early stopping
        holds rows out per net, so each computes its own."""
        N, p1 = Xs.shape
        if s["decay"] is None or engine.takes_small(N, p1, s["hidden"]):
            return None
        return engine.x_stats(Xs, w=w)

    def _objective(self, Xs, Ys, w, s, stats):
        """v -> (objective, gradient) through the engine with X's statistics
        given: R + decay |v|^2 / W, R the (weighted) mean squared error."""
        N, p1 = Xs.shape
        code = ACTIVATIONS[self.activation]
        return _v_objective(
            lambda p: engine.gradient(Xs, Ys, w, p.G1, p.gamma, p.beta, p.G2, p.b, code,
                                      s["eps"], s["ddof"], stats=stats),
            p1, s["hidden"], Ys.shape[1], (s["decay"] or 0.0) / sums.weights_total(w, N))

    def _lbfgs(self, Xs, Ys, w, s, v0, rng, stats, report=None):
        N, p1 = Xs.shape
        p2, q = s["hidden"], Ys.shape[1]
        wanted = early = s["decay"] is None and N >= LBFGS_MIN_HOLDOUT_ROWS
        if early:
            held = _held_out(N, rng)
            Xt, Yt = np.ascontiguousarray(Xs[~held]), np.ascontiguousarray(Ys[~held])
            wt = w[~held] if w.size else w
            # held-out rows of weight 0 alone have no error to stop on (it
            # was 0/0: NaN, and every fit stopped after PATIENCE_LBFGS
            # iterations); as bngrad.dask does, the fit then runs without
            if wt.size and (np.count_nonzero(wt) < 2 or not np.any(w[held])):
                early, Xt, Yt, wt = False, Xs, Ys, w
        else:
            Xt, Yt, wt = Xs, Ys, w
        if early:
            # the held-out rows are predicted with the training rows' statistics
            vstats = engine.x_stats(Xt, w=wt)
            Xv, Yv = Xs[held], Ys[held]
            wv = w[held] if w.size else np.ones(len(Xv))
            W, mean_x = vstats.W, vstats.x0 + vstats.d
            if not engine.takes_small(len(Xt), p1, p2):
                stats = vstats

        def held_out_error(v):
            p = _to_params(v, p1, p2, q)
            var = (p.G1 * (vstats.Cn @ p.G1)).sum(axis=0) / (W - s["ddof"])
            e = Yv - _forward(Xv, p, mean_x @ p.G1, var, self.activation, s["eps"])
            return float(sums.total((wv[:, None] * e * e).ravel()) / sums.total(wv))
        if not early:
            m = self._minimize(self._objective(Xt, Yt, wt, s, stats), v0, s, None, report)
            if wanted:
                # no held-out error to compare with the restarts' that have
                # one (its training objective, smaller, would win): it loses
                m.criterion = np.inf
            return m
        # the decay too is chosen on the held-out rows: each of LBFGS_DECAYS
        # from v0, the run of least held-out error kept.  Only the undecayed
        # run stops early: with a decay, a net of many weights sat on its
        # start's plateau for hundreds of iterations, then left it (friedman1
        # with 40 inputs of noise, 1500 rows, decay 1: held-out error 0.21
        # from iteration 19 to 329, 0.11 by 486), where stopping kept the
        # plateau (test MSE 6.8, lm's 7.0); early stopping alone had kept
        # iteration 14 (7.2), where decay 1 reaches 2.5
        def run(decay, report):
            sd = dict(s, decay=decay)
            return self._minimize(self._objective(Xt, Yt, wt, sd, stats), v0, sd,
                                  held_out_error, report, stop=decay == 0.0)
        return _best_decay(run, _lbfgs_decays(N, q, s["P"]), report)

    def _minimize(self, f, v0, s, held_out_error=None, report=None, stop=True):
        """L-BFGS-B on f (v -> objective, gradient) from v0.  With
        held_out_error (v -> error of the held-out rows), early stopping:
        stop when PATIENCE_LBFGS iterations in a row have not improved it
        (after MIN_ITER_LBFGS at least, and while they lowered the training
        objective by less than PROGRESS_LBFGS of it), and keep the best
        iterate; with stop False, only keep it (converged where the error
        had settled).  report(iteration, value), if given, is
        called after each iteration (_live)."""
        early = held_out_error is not None
        curve = []
        best = [np.inf, v0, 0, 0]                # error, iterate, stale, iteration
        k = getattr(f, "scale", 1.0)              # the curve and criterion unscaled

        def ripe():
            return best[2] >= PATIENCE_LBFGS and len(curve) >= MIN_ITER_LBFGS and \
                _progress(curve, PATIENCE_LBFGS) < PROGRESS_LBFGS

        def callback(intermediate_result):
            curve.append(float(intermediate_result.fun) / k)
            if report is not None:
                report(len(curve) - 1, curve[-1])
            if not early:
                return
            v = intermediate_result.x
            err = held_out_error(v)
            if err < best[0]:
                best[:] = [err, v.copy(), 0, len(curve)]
            else:
                best[2] += 1
                if stop and ripe():
                    raise StopIteration

        from scipy import optimize        # here, not at import: it is a tenth of start-up
        res = optimize.minimize(f, v0, jac=True, method="L-BFGS-B", callback=callback,
                                options={"maxiter": s["max_iter"], "maxcor": 30,
                                         # (a relative reduction of 1 or more is
                                         # every step's; scipy's tol / machine eps overflowed)
                                         "ftol": min(s["tol"], 1.0), "gtol": 1e-6})
        if not curve:
            curve.append(float(res.fun) / k)
        # without stopping, the held-out error settled (PATIENCE_LBFGS
        # iterations or more without a better one) has chosen its iterate
        stopped = early and (ripe() if stop else best[2] >= PATIENCE_LBFGS)
        kept = early and np.isfinite(best[0])
        v = best[1] if kept else res.x
        return _Member(v, max(len(curve), 1), stopped or res.status != 1, np.array(curve),
                       criterion=best[0] if early else float(res.fun) / k,
                       decay=s["decay"] or 0.0, kept=best[3] if kept else None)

    def _adam(self, Xs, Ys, w, s, v0, rng, shared, report=None):
        N, p1 = Xs.shape
        p2, q = s["hidden"], Ys.shape[1]
        batch = min(N, s["batch_size"])
        lam = (s["decay"] or 0.0) / sums.weights_total(w, N)
        k = _objective_scale(lam)
        v, m1, m2 = v0.copy(), np.zeros_like(v0), np.zeros_like(v0)
        b1, b2, lr, mo = 0.9, 0.999, s["learning_rate"], s["momentum"]
        mean, var = np.zeros(p2), np.ones(p2)
        curve, t, converged, best, stale = [], 0, False, np.inf, 0
        def diverged(how):
            return ValueError(f"Adam diverged ({how}): lower learning_rate (now {lr:g})")
        overflowed = lambda epoch: diverged(                     # noqa: E731
            f"at epoch {epoch} a weight or the loss overflowed float64")
        for epoch in range(1, s["max_iter"] + 1):
            order = rng.permutation(N)
            total, seen = 0.0, 0.0
            for lo in range(0, N - 1, batch):
                idx = order[lo:lo + batch]
                wb = w[idx] if w.size else None
                if idx.size < 2 or (wb is not None and np.count_nonzero(wb) < 2):
                    continue                  # a batch needs two rows for its statistics
                p = _finite_params(v, p1, p2, q)
                if p is None:
                    raise overflowed(epoch)
                Xb = Xs[idx]
                try:
                    g = gradients(Xb, Ys[idx], p, self.activation, s["eps"], s["ddof"], wb)
                except ValueError as e:
                    # in Adam's terms: the batch statistics are a minibatch's,
                    # and an overflow there is the step size's doing
                    if "overflow" in str(e):
                        raise overflowed(epoch) from e
                    if s["eps"] == 0 and "variance" in str(e):
                        raise ValueError(
                            f"with eps = 0 Adam divides by each minibatch's variance of X G1, "
                            f"and a minibatch of {idx.size} rows (epoch {epoch}) had none (or "
                            f"too little for float64) in a column: use eps > 0 or a larger "
                            f"batch_size (now {batch})") from e
                    raise
                grad = _v_gradient(g, p) + 2 * lam * v
                if k != 1.0:
                    grad = grad * k
                t += 1
                m1 = b1 * m1 + (1 - b1) * grad
                m2 = b2 * m2 + (1 - b2) * grad ** 2
                v = v - lr * (m1 / (1 - b1 ** t)) / (np.sqrt(m2 / (1 - b2 ** t)) + 1e-8)
                if not np.isfinite(v).all():
                    raise overflowed(epoch)
                # running statistics of X G1, as PyTorch keeps them (unbiased variance)
                Z = Xb @ p.G1
                if wb is None:
                    mz = sums.column_sums(Z) / len(Z)      # Z.mean, Z.var: in NumPy 1's order
                    ss, n = sums.column_sums((Z - mz) ** 2), len(Z)
                else:
                    # weighted as the batch's own statistics are (a row of weight 0,
                    # however far, had moved every prediction); unbiased by the rows
                    live = wb > 0
                    Wb, n = sums.total(wb), np.count_nonzero(live)
                    Zl, wl = Z[live], wb[live, None]
                    mz = sums.column_sums(Zl * wl) / Wb
                    ss = sums.column_sums(wl * (Zl - mz) ** 2) * (n / Wb)
                mean = (1 - mo) * mean + mo * mz
                var = (1 - mo) * var + mo * ss / (n - 1)
                nb = sums.total(wb) if wb is not None else idx.size
                total += g.loss * nb
                seen += nb
            if seen == 0:
                continue        # no minibatch held two rows of weight (a loss of 0 said it had)
            curve.append(total / seen)
            if report is not None:
                report(len(curve) - 1, curve[-1])
            if not np.isfinite(curve[-1]):
                raise overflowed(epoch)
            # scikit-learn's rule: PATIENCE_ADAM epochs without beating the best by tol
            if len(curve) == 1 or curve[-1] < best - s["tol"] * abs(best):
                best, stale = curve[-1], 0
            else:
                stale += 1
                if stale >= PATIENCE_ADAM:
                    converged = True
                    break
        if not curve:
            raise ValueError(f"no minibatch of batch_size = {batch} rows held two rows of "
                             f"non-zero sample_weight, which its statistics need: Adam fitted "
                             f"nothing (raise batch_size)")
        # A net whose objective on the training rows (the loss and the
        # decay's term, what Adam minimises) ends worse than at its random
        # start, by ADAM_MARGIN of y's variance or of the start's, took steps
        # too large (a learning rate of 3 had ended "converged" on mtcars,
        # its MSE 6,400 for y's variance of 36).  Measured on the whole
        # batch, not by epochs' minibatch losses, which wander by factors
        # between epochs in small batches (a rule on those had flagged
        # healthy fits).  Such a run loses to its net's other restarts;
        # where none is left, the fit is an error (_fit_members).
        end, begin = (self._adam_loss(Xs, Ys, w, s, u) + lam * float(u @ u) for u in (v, v0))
        gone = not end <= begin + ADAM_MARGIN * max(begin, 1.0)
        # the objective, as the other optimisers compare restarts by theirs
        m = _Member(v, len(curve), converged, np.array(curve),
                    criterion=np.inf if gone else curve[-1] + lam * float(v @ v),
                    decay=s["decay"] or 0.0)
        m.running = (mean, var)
        m.diverged = diverged("its objective on the training rows ended above its random "
                              "start's") if gone else None
        return m

    def _adam_loss(self, Xs, Ys, w, s, v):
        """The training rows' loss of the net at v, with their own batch
        statistics (Inf where it overflows)."""
        p = _finite_params(v, Xs.shape[1], s["hidden"], Ys.shape[1])
        if p is None:
            return np.inf
        try:
            return gradients(Xs, Ys, p, self.activation, s["eps"], s["ddof"],
                             w if w.size else None).loss
        except ValueError as e:
            if "overflow" in str(e):
                return np.inf
            raise

    # prediction --------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise _sklearn_class("NotFittedError", NotFittedError)(
                "This BNRegressor instance is not fitted yet. Call 'fit' with appropriate "
                "arguments before using this estimator.")

    def predict(self, X):
        """Predictions for X (each row on its own: batch norm is frozen at the
        fit's statistics).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_in_)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs_)
            float32 for float32 X, else float64.  For a Dask X (array or
            DataFrame), a Dask array with X's row blocks, computed when asked.
        """
        est = self._fitted_state()
        est._check_fitted()
        checks.same_features(X, getattr(est, "feature_names_in_", None))
        if is_dask(X):
            from . import dask
            return dask.predict(est, X)
        return est._predict(X)

    def _fitted_state(self):
        """A shallow copy of the estimator taken under the lock _publish
        holds: one fit's attributes, whole, where another thread refits it
        meanwhile (read one by one, predict had mixed one fit's scaling
        with another's weights).  A fit binds new arrays, never writes into
        those it made before, so the copy's stay as they were."""
        with _PUBLISH:
            return copy.copy(self)

    def _predict(self, X):
        dtype = np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64
        X = checks.design(X, "X", n_features=self.n_features_in_)
        # the fit's activation and eps, whatever set_params has set since
        activation, eps = getattr(self, "_fitted_net", (self.activation, self.eps))
        with np.errstate(over="ignore", invalid="ignore"):
            Xs = _standardised(X, self.x_center_, self.x_scale_)
            out = _forward(Xs, self.params_, self.running_mean_, self.running_var_,
                           activation, eps)
            yhat = out * self.y_scale_ + self.y_center_
        if not np.isfinite(yhat).all():
            # inputs near float64's limit: inf - inf in the products had
            # come back as a NaN prediction, with a RuntimeWarning at most
            i = int(np.flatnonzero(~np.isfinite(yhat).all(axis=1))[0])
            raise ValueError(f"X: row {i}'s prediction overflows float64 (its largest input "
                             f"is {np.abs(X[i]).max():.3g}, past what the net's products hold)")
        over = (np.abs(yhat) > np.finfo(np.float32).max) if dtype == np.float32 else None
        if over is not None and over.any():
            # (cast, it had been inf with a RuntimeWarning at most)
            i, j = np.argwhere(over)[0]
            raise ValueError(f"X is float32, and row {i}'s prediction ({yhat[i, j]:.3g}) "
                             f"overflows float32: give X as float64")
        return (yhat[:, 0] if self._y_1d else yhat).astype(dtype, copy=False)

    def score(self, X, y, sample_weight=None):
        """R^2 of the prediction (uniform average over outputs), as
        scikit-learn's r2_score: 0 (or 1) for a y of one value, and NaN,
        with an UndefinedMetricWarning, for fewer than two rows."""
        yhat = np.asarray(self.predict(X), dtype=float).reshape(len(X), -1)
        Y = checks.target(y, yhat.shape[0]).reshape(yhat.shape[0], -1)
        if Y.shape[1] != yhat.shape[1]:
            # (broadcast, one column against three gave a score of nothing)
            raise ValueError(f"y has {Y.shape[1]} column(s) but the fit has "
                             f"{yhat.shape[1]} output(s): they must match")
        # R^2 is blind to the weights' scale: divided by the largest, their
        # sums neither overflow nor lose digits below float64's normal range
        w = np.ones(len(Y)) if sample_weight is None else \
            checks.weight_values(sample_weight, len(Y), "sample_weight")
        top = w.max()                                  # (predict refused no rows)
        if not top > 0:
            raise ValueError("sample_weight must give at least one row a non-zero weight")
        w = w / top
        if len(Y) < 2:
            # r2_score's answer (a leave-one-out split's score): 0 would
            # read as a score
            warnings.warn("R^2 score is not well-defined with less than two samples.",
                          _sklearn_class("UndefinedMetricWarning", UndefinedMetricWarning),
                          stacklevel=checks.user_level())
            return float("nan")
        # on the fit's scale of y, whose squares are finite (R^2 is blind to it)
        Y, yhat = Y / self.y_scale_, yhat / self.y_scale_
        ss_res = sums.column_sums(w[:, None] * (Y - yhat) ** 2)
        ss_tot = sums.column_sums(w[:, None] * (Y - sums.average(Y, w)) ** 2)
        # a y of one value has no spread, exactly: its rounded mean left one
        # of ~1e-35, and a score of -1.4e36 (scikit-learn's is 0 or 1)
        ok = (ss_tot > 0) & ~_flat(Y, w)[0]
        r2 = np.where(ok, 1 - ss_res / np.where(ok, ss_tot, 1), np.where(ss_res == 0, 1.0, 0.0))
        return float(r2.mean())


def _objective_scale(lam):
    """What the optimisers' objective is multiplied by: 1, or 1 / lam where
    a decay outweighs the weights' total (lam > 1), so that it stays near 1:
    L-BFGS-B squares the gradient and Adam its components, which overflowed
    (NaN) for weights summing to 1e-200 with decay 0.1.  Same minimiser."""
    return 1.0 / lam if lam > 1.0 else 1.0


def _v_objective(gradient, p1, p2, q, lam):
    """v -> (R + lam |v|^2, its gradient) times f.scale (_objective_scale),
    from gradient(params) -> (R, dG1, dgamma, dbeta, dG2, db)."""
    k = _objective_scale(lam)

    def f(v):
        p = _to_params(v, p1, p2, q)
        g = gradient(p)
        grad = _v_gradient(Params(*g[1:]), p)
        loss = g[0]
        if lam:
            loss += lam * (v * v).sum()       # sums, not np.dot: no BLAS between kernels
            grad += 2 * lam * v
        if k != 1.0:
            loss, grad = loss * k, grad * k
        return loss, grad
    f.scale = k
    return f


def _extreme(top, W):
    """Columns whose largest |value| top is so large or so small that their
    weighted squares, summed to W, would overflow or underflow."""
    return (top > 1e150 / np.sqrt(max(W, 1.0))) | ((top > 0) & (top < 1e-150))


def _warn_not_converged(max_iter, optimizer):
    warnings.warn(f"BNRegressor: max_iter = {max_iter} reached before the fit converged "
                  f"({optimizer}); increase max_iter or tol",
                  _sklearn_class("ConvergenceWarning", ConvergenceWarning),
                  stacklevel=checks.user_level())


def _far_rows(X, Y, w):
    """Rows of weight 0 so far from the rows that count (1e100 of their
    standard deviations) that the fit's squares of them overflow, and inf * 0
    made its sums NaN: they count for nothing, and are left out.  (Elsewhere
    rows of weight 0 stay: L-BFGS's held-out rows and Adam's batches are
    drawn from the rows.)"""
    live = w > 0
    far = np.zeros(len(w), bool)
    if live.all():
        return far
    for A in (X, Y):
        # in the units the fit standardises by (a span, widened by a row of
        # tiny weight, kept a row whose standardised value overflowed)
        center, scale, _ = _center_scale(A[live], w[live])
        with np.errstate(over="ignore", invalid="ignore"):
            far |= ~(np.abs(A - center) <= 1e100 * scale).all(axis=1)
    return far & ~live


def _center_scale(A, w):
    """The weighted mean and standard deviation (1 for a constant) of A's
    columns, and which columns hold one value on the rows of non-zero
    weight.  A column whose weighted squares would overflow or underflow is
    divided by its largest value first (only such a column: the division's
    rounding would move the bits of every fit)."""
    top = np.abs(A).max(axis=0)
    W = sums.total(w)
    extreme = _extreme(top, W)
    unit = np.where(extreme, top, 1.0)
    if extreme.any():
        # once: values at most 1 cannot overflow sums of weights that are finite
        A = A / unit
    center = sums.column_sums(A * w[:, None]) / W
    sd = np.sqrt(sums.column_sums(w[:, None] * (A - center) ** 2) / W)
    # a column of one value on the rows that count is centred on that value
    # exactly: its mean, rounded (7 rows of 0.1), left an sd of 1e-17 to
    # divide by, and a new value was standardised to 1e15
    flat, first = _flat(A, w)
    center = np.where(flat, first, center)
    sd = np.where(flat, 0.0, sd)
    return unit * center, unit * np.where(sd > 0, sd, 1.0), flat


def _flat(A, w):
    """Which columns of A hold one value on the rows of weight > 0, and
    their first such row (0 where none has weight)."""
    live = A[w > 0]
    if not len(live):
        return np.zeros(A.shape[1], bool), 0.0
    return (live == live[:1]).all(axis=0), live[0]


def _standardised(A, center, scale):
    """(A - center) / scale; where A - center overflows (values near
    float64's maximum of both signs) as A / scale - center / scale, only
    there (elsewhere its rounding would move every fit's bits)."""
    with np.errstate(over="ignore", invalid="ignore"):
        S = (A - center) / scale
        bad = ~np.isfinite(S)
        if bad.any():                         # value by value: a row's own, whatever the batch
            S = np.where(bad, A / scale - center / scale, S)
    return S


def forward(X, params, mean, var, activation="relu", eps=1e-5):
    """yhat with batch norm frozen at population statistics (mean, var of X G1):
    each row's prediction depends on that row alone, so one row predicts too.

    X (n, p1), params a Params, mean and var p2 numbers ((p2,), or (1, p2)
    as keepdims keeps them), all finite, var >= 0 and var + eps > 0;
    returns (n, q), or (n,) where G2 is a vector.  Every argument is
    checked (a NaN in X came out as relu's 0, a negative var as numbers)."""
    X = checks.real_array("X", X, (2,))
    if X.shape[1] < 1:
        raise ValueError(f"X must have at least 1 column, got shape {X.shape}")
    G1, gamma, beta, G2, b = checks.net_params(params, X.shape[1])
    p2 = G1.shape[1]
    # (statistics kept with keepdims, (1, p2), are p2 numbers too)
    mean, var = (checks.real_array(name, v, (0, 1, 2)) for name, v in
                 (("mean", mean), ("var", var)))
    for name, v in (("mean", mean), ("var", var)):
        if v.size != p2 or (v.ndim == 2 and v.shape[0] != 1):
            raise ValueError(f"{name} must be {p2} numbers (the columns of G1), (p2,) or "
                             f"(1, p2), got shape {v.shape}")
    mean, var = mean.reshape(-1), var.reshape(-1)
    eps, _ = checks.eps_ddof(eps, 0)
    with np.errstate(over="ignore"):
        bad = (var < 0) | ~(var + eps > 0) | ~np.isfinite(var + eps)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ValueError(f"var must be >= 0 with var + eps > 0 and finite (eps = {eps}): "
                         f"var[{j}] is {var[j]}")
    checks.activation_code(activation)
    out = _forward(X, Params(G1, gamma, beta, G2, b), mean, var, activation, eps)
    # one output per row where G2 is a vector, as gradients keeps G2's shape
    return out[:, 0] if np.ndim(params[3]) < 2 else out


def _forward(X, params, mean, var, activation, eps):
    """forward's work on arguments known to be good (the fit's own).  The
    products run with the BLAS on one thread: a BLAS's bits depend on its
    thread count, and a prediction's must not."""
    with engine.single_blas:
        H = np.ascontiguousarray(params.gamma * (X @ params.G1 - mean) / np.sqrt(var + eps)
                                 + params.beta)
        engine.activate(H, ACTIVATIONS[activation])      # A -> act(A) in place
        return H @ params.G2 + params.b
