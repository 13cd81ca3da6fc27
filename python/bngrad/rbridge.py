"""The entry points the R package calls through reticulate.

R checks the arguments (shapes, types, settings) in its own words before it
calls; these functions check nothing twice.  What only a pass over the data
can find (NaN or Inf, a flat column of X G1, overflow) the kernels report,
and the ValueError raised here is already worded for R (1-based columns,
`%*%`), so R passes its message on unchanged.

Results cross the bridge as one float64 vector (one conversion in R):
    c(loss, vec(dG1), dgamma, dbeta, vec(dG2), db)    vec: column-major
inside a one-element tuple: reticulate converts a tuple and the arrays in it
in C++, but an array returned alone through an R method that asks NumPy
whether it holds dates (~0.25 ms, 25 times the gradient at N = 64).
"""
import contextlib
import functools
import warnings

import numpy as np

from . import engine
from .fit import MEMBER_LOO_RATIO
from .model import Params, gradients as _gradients

_R_WORDS = (
    ("contains NaN or Inf", "contains NA, NaN or Inf"),
    ("X @ G1", "X %*% G1"),
)


def _r_message(msg):
    import re
    for a, b in _R_WORDS:
        msg = msg.replace(a, b)
    # column j, row i (0-based in Python) -> column j + 1, row i + 1 (1-based in R)
    return re.sub(r"(column|at row) (\d+)", lambda m: f"{m.group(1)} {int(m.group(2)) + 1}", msg)


def _back_to_r(f):
    """An entry point R calls: its helper threads parked before it returns
    (engine.quiesce: R forks from C)."""
    @functools.wraps(f)
    def entry(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        finally:
            engine.quiesce()
    return entry


@_back_to_r
def gradients(X, Y, G1, gamma, beta, G2, b, activation, eps, ddof, weights=None):
    """The gradients of an R call as one vector, in a tuple (see the module docstring).

    weights: R's case weights as a 1-d float64 array, or None (R then leaves
    the argument out, so the unweighted call converts nothing more)."""
    try:
        g = _gradients(X, Y, Params(G1, gamma, beta, G2, b), activation, float(eps), int(ddof),
                       weights)
    except ValueError as e:
        raise ValueError(_r_message(str(e))) from None
    return (np.concatenate(([g.loss], np.ravel(g.G1, order="F"), g.gamma, g.beta,
                            np.ravel(g.G2, order="F"), np.ravel(g.b))),)


@contextlib.contextmanager
def _warnings_to_r(warn, caller="bn_fit"):
    """Warnings raised inside handed to warn(message) when the block ends
    (R keeps them and signals each with warning() once the call has
    returned), so that R's handlers, suppressWarnings and options(warn) see
    them; Python would only print them to stderr.  R's warning() is never
    called from a fit's worker threads, which R does not allow, nor mid-fit,
    where an R handler that exits would unwind through Python's frames
    (trace = TRUE's progress lines are R's cat(), from the main thread).

    Every UserWarning (ConvergenceWarning is one) is passed on, each fit
    anew (not once per place, Python's default); other categories keep
    Python's filters."""
    said = []

    def show(message, category, filename, lineno, file=None, line=None):
        said.append(str(message).replace("BNRegressor", caller))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", UserWarning)
            warnings.showwarning = show
            yield
    finally:
        for text in said:
            warn(text)


@_back_to_r
def fit(est, X, y, sample_weight, warn):
    """est.fit(X, y, sample_weight=) for R's bn_fit, its warnings given to
    warn (_warnings_to_r)."""
    with _warnings_to_r(warn):
        try:
            est.fit(X, y, sample_weight=sample_weight)
        except ValueError as e:                # in R's words, as fit_parquet's
            raise ValueError(_r_message(str(e))) from None
    return fitted(est)


@_back_to_r
def fit_parquet(est, path, y, x, weights, scheduler, warn):
    """bngrad.dask's fit to Parquet columns for R's bn_fit_parquet, its
    warnings given to warn: (fitted(est), the inputs' names)."""
    from . import dask
    # (its Dask work on a pool of the call's own: dask._own_pool; R's words:
    # rows counted from 1)
    with _warnings_to_r(warn, "bn_fit_parquet"):
        try:
            est = dask.fit_parquet(est, path, y, x, weights, scheduler)
        except ValueError as e:
            raise ValueError(_r_message(str(e))) from None
    return fitted(est), [str(name) for name in est.feature_names_in_]


def fitted(est):
    """What R's bn_fit keeps of a fitted BNRegressor, as (values, lengths,
    names, optimizer): every piece in one float64 vector (vec: column-major)
    with its length and name, so that R converts one array (fetching 17
    attributes one by one cost ~8 ms, more than a small fit)."""
    p = est.params_
    pieces = {"G1": p.G1, "gamma": p.gamma, "beta": p.beta, "G2": p.G2, "b": p.b,
              "running_mean": est.running_mean_, "running_var": est.running_var_,
              "x_center": est.x_center_, "x_scale": est.x_scale_, "y_center": est.y_center_,
              "y_scale": est.y_scale_, "decay": est.decay_, "input_decay": est.input_decay_,
              "loss_curve": est.loss_curve_,
              "n_iter": est.n_iter_, "kept_iter": est.kept_iter_,
              "convergence": est.convergence_,
              "log_evidence": est.log_evidence_, "effective_params": est.effective_params_,
              "linear_share": est.linear_share_, "member_weights": est.member_weights_,
              # the rule behind a weight of 0, for R's print (the fit may outlive the core)
              "member_loo_ratio": MEMBER_LOO_RATIO,
              "n_obs": est.n_obs_, "early_stopping": est.early_stopping_,
              # (none where the fit found no law with errors: BNRegressor._law)
              "robust_weights": np.zeros(0) if est.robust_weights_ is None
              else est.robust_weights_}
    flat = [np.ravel(np.asarray(a, dtype=np.float64), order="F") for a in pieces.values()]
    # the names as one string, which R converts as one value (a list, element by element)
    return np.concatenate(flat), [int(a.size) for a in flat], " ".join(pieces), est.optimizer_
