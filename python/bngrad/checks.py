"""Every check of what a caller hands in, and its message.

model, fit, kron and batchnorm check their arguments here and nowhere else.
What only a pass over the data can find (NaN or Inf in X, a flat column of
X G1, overflow) the kernels find in the pass they make anyway, and
engine.raise_status words it.
"""
import math
import numbers
import os
import sys
import warnings

import numpy as np

from . import kernels, sums

ACTIVATIONS = {
    "relu": kernels.RELU,
    "leaky_relu": kernels.LEAKY_RELU,
    "tanh": kernels.TANH,
    "sigmoid": kernels.SIGMOID,
    "softplus": kernels.SOFTPLUS,
    "identity": kernels.IDENTITY,
}


def user_level():
    """The stacklevel of warnings.warn, called in bngrad, that points at
    the first caller outside bngrad (whichever path, in memory or Dask,
    led there)."""
    here = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(here):
        frame, level = frame.f_back, level + 1
    return level


def few_weights(total, live, scale_matters):
    """Warn where the weights sum (total) to less than the rows they weigh
    (live, those of non-zero weight): they are frequencies (a weight of k
    counts a row k times), so a fit that counts its data (the evidence, a
    decay against the SSE) sees less data than rows, and relative weights
    that sum to 1 make one observation."""
    if scale_matters and total < live * (1 - 1e-9):
        warnings.warn(
            f"the weights sum to {float(total):.4g} over {live} rows: they are frequency "
            f"weights (a weight of k counts a row k times), so the fit counts "
            f"{float(total):.4g} observations, not {live}; multiply them by {live} / their "
            "sum if they are relative weights", UserWarning, stacklevel=user_level())


# The largest count a setting takes (R's integers): past it a fit's
# arrays or runs would exhaust memory or time before saying why.
COUNT_MAX = 2**31 - 1


class InvalidParameterError(ValueError, TypeError):
    """A setting of the wrong type or value.  Both a ValueError and a
    TypeError, as scikit-learn's own, so that either except clause catches
    it whichever the mistake was (a string for a number, a bool, a value
    out of range)."""


def _finite(value):
    """Whether a real number is finite as a float64 (a Fraction, or an int
    past float64's range, which np.isfinite refuses with its own TypeError)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def whole(name, value, lowest=1, highest=None):
    """A whole number in [lowest, highest] (highest None: no bound); R
    hands whole numbers over as floats."""
    said = f">= {lowest}" if highest is None else f"in [{lowest}, {highest}]"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"{name} must be a whole number {said}, got {value!r}")
    # (an int past int64 is whole and finite: np.isfinite refused it)
    whole = isinstance(value, numbers.Integral) or (_finite(value) and
                                                    float(value) == int(value))
    if not (whole and value >= lowest and (highest is None or value <= highest)):
        raise InvalidParameterError(f"{name} must be a whole number {said}, got {value!r}")
    return int(value)


def _has_text(arr):
    """Whether an object array holds text: a pandas column read as strings
    is a mistake to name, even where its strings are digits."""
    return any(isinstance(v, (str, bytes)) for v in arr.flat)


def _holds(arr):
    """"text" or "complex" where an object array holds the one (the first
    met), else None, in one pass: text as _has_text, and complex numbers,
    whose imaginary parts astype(float64) drops with a warning alone."""
    for v in arr.flat:
        if isinstance(v, (str, bytes)):
            return "text"
        if isinstance(v, (complex, np.complexfloating)):
            return "complex"
    return None


def not_sparse(name, value):
    """TypeError for a scipy.sparse matrix, which np.asarray would make an
    array of one object."""
    # scipy.sparse not yet imported: no sparse matrix (and a first call need
    # not import it, ~0.05 s)
    sparse = sys.modules.get("scipy.sparse")
    if sparse is not None and sparse.issparse(value):
        raise TypeError(f"{name}: sparse input is not supported; pass a dense array")


def real_array(name, value, ndims, finite=True):
    """`value` as a float64 ndarray with ndim in `ndims`, finite unless told.

    Never copies a float64 array (C, Fortran, strided or read-only alike)
    and never writes to it; integer, unsigned, boolean and float32 data are
    converted.
    """
    not_sparse(name, value)
    dtypes = _pandas_dtypes(value)
    if any(getattr(t, "kind", None) in ("m", "M") for t in dtypes):
        raise TypeError(f"{name} must be real numbers, got dates or times (dtypes "
                        f"{sorted(set(map(str, dtypes)))})")
    if any(str(t) in _NULLABLE for t in dtypes):
        # numpy sees pandas' nullable columns as objects; pd.NA becomes NaN
        try:
            value = value.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as err:       # another column of text
            raise TypeError(f"{name} must be real numbers: {err}") from None
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers, got dtype {arr.dtype}")
    if arr.ndim not in ndims:
        d = list(ndims)
        runs = d == list(range(d[0], d[-1] + 1)) and len(d) > 2
        want = f"{d[0]}-D to {d[-1]}-D" if runs else " or ".join(f"{k}-D" for k in d)
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if finite and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or Inf")
    return arr


def _pandas_dtypes(value):
    """A pandas DataFrame's or Series' dtypes (none for anything else)."""
    if not hasattr(value, "to_numpy"):
        return ()
    if hasattr(value, "columns"):
        return tuple(value.dtypes)
    return (getattr(value, "dtype", None),)


def activation_code(activation):
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise InvalidParameterError(
            f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    return ACTIVATIONS[activation]


def eps_ddof(eps, ddof):
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real):
        raise InvalidParameterError(f"eps must be a number >= 0, got {eps!r}")
    if not (_finite(eps) and eps >= 0):
        raise InvalidParameterError(f"eps must be a finite number >= 0, got {eps!r}")
    if (isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, numbers.Real)
            or ddof not in (0, 1)):
        raise InvalidParameterError(f"ddof must be 0 or 1, got {ddof!r}")
    return float(eps), int(ddof)


def variance_finite(var, what, rescale):
    """The core's words where a column's variance overflows float64: there
    sd was Inf, the normalised column 0 and gamma's gradient a silent 0."""
    from .engine import VARIANCE_OVERFLOWS
    bad = ~np.isfinite(var)
    if bad.any():
        raise ValueError(VARIANCE_OVERFLOWS.format(what=what, index=int(np.argmax(bad)),
                                                   rescale=rescale))


def spread(var, eps, Z, what, change=None, rescale=None):
    """With eps = 0 a constant column would divide by zero.

    'Constant' allows for rounding: a column whose spread is below what
    float64 can resolve at its magnitude counts as constant.  A spread whose
    variance is below float64's normal range (values near 1e-160) has lost
    its digits: an error of its own (the kernels').
    """
    if eps > 0:
        return
    scale = np.abs(Z).max(axis=0)
    flat = (np.sqrt(var) <= 64 * np.finfo(np.float64).eps * scale) | (var == 0)
    under = ~flat & (var < np.finfo(np.float64).tiny)
    if (flat | under).any():
        j = int(np.flatnonzero(flat | under)[0])
        if under[j]:
            from .engine import VARIANCE_UNDERFLOWS
            raise ValueError(VARIANCE_UNDERFLOWS.format(what=what, index=j,
                                                        rescale=rescale or change or what))
        raise ValueError(
            f"column {j} of {what} has zero variance, and eps = 0 divides by it; "
            f"use eps > 0 or change {change or what}")


def weights(w, N, ddof, name="weights"):
    """Case weights (frequency weights: a weight of 2 counts a row twice) as
    a float64 vector, or the kernels' empty 'no weights' for None."""
    from .engine import NO_WEIGHTS
    if w is None:
        return NO_WEIGHTS
    w = weight_values(w, N, name)
    with np.errstate(over="ignore"):
        W = float(sums.total(w))
    weights_sum(W, np.count_nonzero(w), ddof, name)
    return w


def weight_values(w, N, name):
    """N weights >= 0 as a float64 vector (one number: every row's, as in
    scikit-learn), their sum not yet judged."""
    w = real_array(name, w, (0, 1))
    if w.ndim == 0:
        w = np.full(N, float(w))
    if w.size != N:
        raise ValueError(f"{name} must have length {N} (the rows of X), got {w.size}")
    if (w < 0).any():
        raise ValueError(f"{name} must be >= 0, got {float(w[w < 0][0])!r} at row {int(np.argmax(w < 0))}")
    return w


def weights_sum(W, nonzero, ddof, name):
    """The weights' total W (of `nonzero` non-zero weights) checked: finite,
    more than ddof over at least 2 rows, and not below float64's normal
    range, where the statistics' sums lose digits (the kernels then said X
    was too large)."""
    if not np.isfinite(W):
        raise ValueError(overflowing_weights(name))
    if nonzero < 2 or W <= ddof:
        raise ValueError(f"{name} must give at least 2 rows a non-zero weight and sum to more "
                         f"than ddof = {ddof} (batch statistics), got {nonzero} "
                         f"non-zero weights summing to {W!r}")
    if W < np.finfo(np.float64).tiny:
        raise ValueError(f"{name} sum to {W!r}, below the smallest normal float64: multiply "
                         "them by a common factor (their scale does not change the loss)")


def overflowing_weights(name):
    return (f"{name} sum past the largest float64; divide them by a common factor such as "
            f"their maximum (a fit with a fixed decay: divide the decay by it too)")


def net_params(params, p1, finite=True):
    """params (G1, gamma, beta, G2, b) checked against p1 inputs and
    converted: float64, G2 2-D; finite unless told."""
    if not isinstance(params, (tuple, list)) or len(params) != 5:
        raise TypeError("params must be a Params (G1, gamma, beta, G2, b)")
    G1 = real_array("G1", params[0], (2,), finite=finite)
    if G1.shape[0] != p1:
        raise ValueError(f"G1 must have {p1} rows (the columns of X), got shape {G1.shape}")
    p2 = G1.shape[1]
    if p2 < 1:
        raise ValueError(f"G1 must have at least 1 column, got shape {G1.shape}")
    gamma = real_array("gamma", params[1], (0, 1), finite=finite).reshape(-1)
    beta = real_array("beta", params[2], (0, 1), finite=finite).reshape(-1)
    for name, v in (("gamma", gamma), ("beta", beta)):
        if v.size != p2:
            raise ValueError(f"{name} must have length {p2} (the columns of G1), got {v.size}")
    G2 = real_array("G2", params[3], (0, 1, 2), finite=finite)
    if G2.ndim < 2:
        G2 = G2.reshape(-1, 1)
    if G2.shape[0] != p2:
        raise ValueError(f"G2 must have {p2} rows (the columns of G1), got shape {G2.shape}")
    q = G2.shape[1]
    if q < 1:
        raise ValueError(f"G2 must have at least 1 column, got shape {G2.shape}")
    b = real_array("b", params[4], (0, 1), finite=finite).reshape(-1)
    if b.size != q:
        raise ValueError(f"b must have length {q} (the columns of G2), got {b.size}")
    return G1, gamma, beta, G2, b


def net(X, y, params, activation, eps, ddof, w=None):
    """The arguments of `gradients`, checked and converted.

    Returns (X, Y, w, G1, gamma, beta, G2, b, code, eps, ddof): float64 arrays,
    Y and G2 2-D, w the case weights (empty for none), X in whatever layout
    it came (the kernels read any), not yet checked for NaN or Inf: the
    kernels find those in their pass.
    """
    X = real_array("X", X, (2,), finite=False)
    N, p1 = X.shape
    if N < 2:
        raise ValueError(f"X must have at least 2 rows (batch statistics), got {N}")
    if p1 < 1:
        raise ValueError(f"X must have at least 1 column, got shape {X.shape}")
    G1, gamma, beta, G2, b = net_params(params, p1, finite=False)
    q = G2.shape[1]
    Y = real_array("y", y, (1, 2), finite=False)
    given = Y.shape                       # (the shape the caller gave, for the messages)
    if Y.ndim == 1:
        Y = Y.reshape(-1, 1)
    if Y.shape[0] != N:
        raise ValueError(f"y must have {N} rows (the rows of X), got shape {given}")
    if Y.shape[1] != q:
        raise ValueError(f"y must have {q} column{'s' * (q != 1)} (the columns of G2), "
                         f"got shape {given}")
    code = activation_code(activation)
    eps, ddof = eps_ddof(eps, ddof)
    return X, Y, weights(w, N, ddof), G1, gamma, beta, G2, b, code, eps, ddof


def finite_all(names, arrays):
    """ValueError naming the first array that holds NaN or Inf."""
    for name, arr in zip(names, arrays):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or Inf")


# --- the estimator's data, in scikit-learn's words ---------------------------

# pandas' nullable numeric dtypes (numpy sees them as objects)
_NULLABLE = {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
             "Float32", "Float64", "boolean"}


def design(X, name="X", n_features=None, estimator="BNRegressor", min_rows=1):
    """X as a finite 2-D float64 array, with scikit-learn's messages; a fit
    asks for min_rows = 2 (batch statistics)."""
    not_sparse(name, X)
    if X is None:
        raise ValueError(f"{name} must be an array, got None")
    columns = None                            # a DataFrame's, to name a column of Inf
    if hasattr(X, "isna") and hasattr(X, "columns"):      # a pandas DataFrame
        columns = list(X.columns)
        missing = np.asarray(X.isna()).any(axis=0)
        if missing.any():
            col = columns[int(np.argmax(missing))]
            raise ValueError(f"{name} contains NaN or missing values (pandas NA), first in "
                             f"column {col!r}")
        kinds = [getattr(t, "kind", "O") for t in X.dtypes]
        for col, t, k in zip(X.columns, X.dtypes, kinds):
            # categories and text by name; numbers held as objects pass below
            # (categories that are numbers pass, Decimals of SQL's too; dates do not)
            text_categories = str(t) == "category" and (
                t.categories.dtype.kind in "mM" or _has_text(np.asarray(t.categories)))
            if (text_categories or str(t) == "string" or str(t).startswith("string[")
                    or k in "mM" or (k == "O" and _has_text(np.asarray(X[col])))):
                raise ValueError(f"{name} must be numeric: column {col!r} has dtype {t} "
                                 "(encode it as numbers, e.g. with OneHotEncoder)")
        if all(k in "biuf" for k in kinds) or any(str(t) in _NULLABLE for t in X.dtypes):
            try:
                X = X.to_numpy(dtype=np.float64)
            except (TypeError, ValueError):
                pass
    arr = np.asarray(X)
    held = _holds(arr) if arr.dtype.kind == "O" else None
    if arr.dtype.kind == "c" or held == "complex":
        raise ValueError(f"{name}: Complex data not supported")
    if arr.dtype.kind in "USV":               # text, even of digits, as scikit-learn
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}: convert it to "
                         "numbers explicitly")
    if arr.dtype.kind == "O":                 # numbers stored as objects pass; text does not
        if held == "text":
            raise ValueError(f"{name} must be numeric, got text in an object array: convert "
                             "it to numbers explicitly")
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as err:
            raise type(err)(f"{name} must be numeric: {err}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        raise ValueError(
            f"Expected 2D array, got 1D array instead: {name}. Reshape your data either using "
            "array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) "
            "if it contains a single sample.")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={arr.shape}) while a minimum of "
                         f"{min_rows} is required: {name} has no rows")
    if arr.shape[1] == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        # the column, as bngrad.dask names it: which of many inputs to look at
        j = int(np.argmin(np.isfinite(arr).all(axis=0)))
        where = f", first in column {columns[j]!r}" if columns is not None else f" in column {j}"
        raise ValueError(f"{name} contains NaN or Inf{where}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"X has {arr.shape[1]} features, but {estimator} is expecting "
                         f"{n_features} features as input")
    return arr


def target(y, N):
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    Y = np.asarray(y)
    if Y.ndim == 0:                            # R sends a one-row y as a number
        Y = Y.reshape(1)
    held = _holds(Y) if Y.dtype.kind == "O" else None
    if Y.dtype.kind in "USV" or held == "text":
        raise ValueError(f"y must be numeric, got dtype {Y.dtype}: convert it to numbers "
                         "explicitly")
    # astype would drop the imaginary parts, with NumPy's warning alone
    if Y.dtype.kind == "c" or held == "complex":
        raise ValueError("y: Complex data not supported")
    try:
        Y = Y.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"y must be numeric, got dtype {Y.dtype}") from None
    if Y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D, got shape {Y.shape}")
    if Y.shape[0] != N:
        raise ValueError(f"y has {Y.shape[0]} rows but X has {N}: they must match")
    if Y.ndim == 2 and Y.shape[1] == 0:
        raise ValueError("y has no columns: there is nothing to fit")
    if not np.isfinite(Y).all():
        raise ValueError("y contains NaN or Inf")
    return Y


# --- the estimator's settings ------------------------------------------------

def setting_real(name, value, low, high=np.inf, open_low=False):
    """A real setting in [low, high] ((low, high] with open_low)."""
    ok = (not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)
          and _finite(value) and (value > low if open_low else value >= low) and value <= high)
    if not ok:
        interval = ("(" if open_low else "[") + f"{low:g}, " + (f"{high:g}]" if np.isfinite(high)
                                                                  else "inf)")
        raise InvalidParameterError(f"{name} must be a finite number in {interval}, got {value!r}")
    return float(value)


def _memory_bytes():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def few_enough_runs(runs, P):
    """Refuse, before any is set up, more runs (ensemble x restarts) than
    this machine's memory holds the bookkeeping of: each keeps its start
    and its result (2 P numbers) and its generator and entries (~1.2 KB,
    measured), made before the first run starts."""
    need = runs * (16.0 * P + 1200.0)
    have = _memory_bytes()
    # (a net too large by itself is fits_in_memory's to name: hidden)
    if have is not None and need > 0.4 * have and runs > 1:
        raise InvalidParameterError(
            f"ensemble x restarts = {runs:,} runs are too many for this machine: setting them "
            f"up needs about {need / 2**30:.1f} GiB, and there are {have / 2**30:.1f} GiB")


def fits_in_memory(N, p1, q, hidden, at_once, optimizer):
    """Refuse, before anything is allocated, a net whose fit cannot fit in
    this machine's memory (`at_once` nets fitted at the same time); warn
    when it has far more weights than rows."""
    P = p1 * hidden + 2 * hidden + hidden * q + q
    per_net = {"bayes": 8.0 * (N * q * P + 3 * P * P),      # J, J'J, the step's matrix, A^-1
               "lbfgs": 8.0 * (2 * 30 * P + N * hidden),     # L-BFGS memory, a tile's Z
               "adam": 8.0 * (5 * P + 64 * hidden)}[optimizer]
    need = per_net * at_once + 8.0 * N * (p1 + q)
    have = _memory_bytes()
    if have is not None and need > 0.8 * have:
        raise InvalidParameterError(
            f"hidden = {hidden} is too large for this machine: fitting {P:,} weights per net by "
            f"{optimizer} needs about {need / 2**30:.1f} GiB, and there are {have / 2**30:.1f} GiB; "
            "use fewer hidden units")
    if P > SLOW_WEIGHTS_PER_ROW * N * q and P > SLOW_WEIGHTS:
        warnings.warn(f"hidden = {hidden} gives {P:,} weights per net for {N} rows: the fit "
                      "will be slow and the net far larger than the data can determine",
                      UserWarning, stacklevel=user_level())


# fits_in_memory warns of a net of more weights than both (R's bn_fit warns
# before it calls the core, by the same rule: its warnings come only once a
# call returns, minutes after)
SLOW_WEIGHTS_PER_ROW, SLOW_WEIGHTS = 100, 100_000


# --- feature names (scikit-learn's feature_names_in_) ------------------------

def feature_names(X):
    """X's column names as an object array where X is a DataFrame whose
    columns are all strings (scikit-learn's rule), else None."""
    cols = getattr(X, "columns", None)
    if cols is None or not hasattr(X, "iloc"):
        return None
    names = np.asarray(list(cols), dtype=object)
    kinds = {type(c) is str for c in names}
    if kinds == {True}:
        return names
    if kinds == {True, False}:
        raise TypeError("Feature names are only supported if all input features have string "
                        f"names, but your input has {sorted({type(c).__name__ for c in names})} "
                        "as feature name / column name types.")
    return None


def same_features(X, fitted):
    """predict's X must have the fit's column names, in the fit's order."""
    names = feature_names(X)
    if fitted is None:
        if names is not None:
            warnings.warn("X has feature names, but BNRegressor was fitted without feature "
                          "names", UserWarning, stacklevel=user_level())
        return
    if names is None:
        warnings.warn("X does not have valid feature names, but BNRegressor was fitted with "
                      "feature names", UserWarning, stacklevel=user_level())
        return
    if len(names) != len(fitted) or (names != fitted).any():
        unseen = [n for n in names if n not in set(fitted)]
        missing = [n for n in fitted if n not in set(names)]
        detail = ""
        if unseen:
            detail += f"\nFeature names unseen at fit time: {unseen}"
        if missing:
            detail += f"\nFeature names seen at fit time, yet now missing: {missing}"
        if not detail:
            detail = "\nFeature names must be in the same order as they were in fit."
        raise ValueError("The feature names should match those that were passed during fit."
                         + detail)
