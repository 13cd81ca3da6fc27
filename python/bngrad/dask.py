"""Exact full-batch gradients and fits on Dask arrays: data that outgrows
memory, on one machine or a cluster (issue 12).

    from bngrad import dask as bd
    X, y, w, names = bd.read_parquet("data/", y="y")     # or any Dask arrays
    bngrad.gradients(X, y, params)                      # = bd.gradients(...)
    bngrad.BNRegressor().fit(X, y)                      # = bd.fit(est, X, y)

bngrad.gradients and BNRegressor.fit hand Dask arrays (and DataFrames)
here, so the calls a user already makes serve both, and a pipeline or
scikit-learn code need not know where the data live; the work is in this
module, so that the in-memory modules keep only a two-line hook each and
never import dask (a tenth of a second) unless the data are Dask's.

The engine is a map-reduce already (engine.py, kernels/tiled.py,
docs/derivation.md section 3); here its chunks are cut inside Dask's blocks.

* X's statistics, one compute per fit: x0 = the first block's shift row
  (engine.shift_row; the next block's where it has no row of weight > 0),
  then per block
  the column sums and D'D of D = X - 1x0' in the engine's row chunks
  (engine.stats_sums), the same for y, the checks of y and the weights,
  and each early-stopping split's training rows; the driver adds the blocks'
  sums in block order (engine.stats_from_sums).
* A gradient, one compute: per block, the gradient's pass (engine.gradient_sums) with x0, d,
  sd and the parameters broadcast (one key of the graph), its chunks' sums
  added in chunk order; the driver adds the blocks' in block order and
  finishes as the engine does (engine.finish_gradient).

So the numbers are the in-memory kernels' numbers, and differ from an
in-memory call only where sums are cut (to rounding, ~1e-15).  The same
blocks give the same bits on any scheduler and any number of workers, and
after a task is retried on another worker.  A task runs the kernels on its
own thread with the BLAS held to one thread (engine.single_blas), as the
engine's own threads do: Dask's threads are the parallelism, and no BLAS
pool competes with them.  A Parquet row group is read by the task that
uses it (fit_parquet), one task per block and pass.

Fits run full-batch L-BFGS on the driver (scipy) with each gradient a pass
over the blocks, as dask-glm does.  "bayes" needs the N x P Jacobian and
"adam" minibatches in memory: Dask data is fitted by "lbfgs" only.

* Standardisation is folded into the kernel's arguments instead of being a
  copy of X: Xs = (X - c) / s has the statistics x0s = (x0 - c) / s,
  ds = d / s, Cns = Cn / (s s'), and Xs G1 = (X - 1c') (G1 / s), so the
  kernel reads X's blocks as they are, with G1 / s, and dR/dG1 of the
  standardised problem is its X'S sum divided by s.  y (q columns, cheap)
  is standardised per block as the in-memory fit does.
* Early stopping (decay=None, as in memory: stop when 30 iterations in a row
  have not improved the held-out error, while they
  lowered the training objective by less than 10% of itself or of 1e-3 of
  y's variance, keep the best) holds out the rows
  whose splitmix64 hash of (seed, net, restart, row number) falls below
  VALIDATION: about 10% of the rows, the same whatever the chunks, each
  block finding its own without a permutation of N.  Held-out rows get
  weight 0 in the training pass (exactly their absence: every sum they
  enter is multiplied by 0), and their error is summed in the same pass, so
  it costs no pass of its own.  Where no held-out row has weight, the fit
  runs without early stopping.
"""
import contextlib
import copy
import contextvars
import os
import threading
import types
import uuid

import numpy as np

from . import checks, engine
from .checks import ACTIVATIONS
from .model import Gradients, Params, is_dask
from .sums import total

__all__ = ["gradients", "fit", "predict", "read_parquet", "fit_parquet", "held_out"]


# --- the data as row blocks ---------------------------------------------------

class _Data:
    """The rows in blocks: each block's source (its Dask blocks of X, Y and
    w, or a Parquet row group that the task using it reads), the blocks'
    sizes and row offsets, and the shapes."""

    def __init__(self, sources, sizes, p1, q, y_1d, weighted, names=None):
        # a block of no rows adds nothing to any sum (a filtered DataFrame's
        # empty partition, an empty Parquet file): left out, the others keep
        # their row offsets, so held-out rows and bits are unchanged
        kept = [(src, int(n)) for src, n in zip(sources, sizes) if int(n) > 0]
        self.sources, self.sizes = [src for src, _ in kept], tuple(n for _, n in kept)
        self.names = names                      # X's column names, or None
        self.offsets = np.concatenate(([0], np.cumsum(self.sizes))).astype(np.int64)
        self.N, self.p1, self.q, self.y_1d, self.weighted = (
            int(self.offsets[-1]), p1, q, y_1d, weighted)
        if self.N < 2:
            raise ValueError(f"X must have at least 2 rows (batch statistics), got {self.N}")

    @classmethod
    def arrays(cls, X, y, w, wname, fit, names=None):
        """From Dask arrays (y and w cut into X's row blocks), checked; fit
        chooses BNRegressor.fit's words over gradients'; names are X's
        columns' (a DataFrame's), or None."""
        X = _dask_array(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got shape {X.shape}")
        N = X.shape[0]
        if N < 2:
            raise ValueError(f"X must have at least 2 rows (batch statistics), got {N}")
        if X.shape[1] < 1:
            raise ValueError(f"X must have at least 1 column, got shape {X.shape}")
        rows = X.chunks[0]
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None")
        y = _dask_array(y, "y", rows)
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}")
        if y.shape[0] != N:
            raise ValueError(f"y has {y.shape[0]} rows but X has {N}: they must match" if fit
                             else f"y must have {N} rows (the rows of X), got shape {y.shape}")
        if y.ndim == 2 and y.shape[1] == 0:
            raise ValueError("y has no columns: there is nothing to fit")
        Y = y[:, None] if y.ndim == 1 else y
        if w is not None:
            if not is_dask(w) and np.ndim(w) == 0:     # one weight for every row, as in memory
                w = np.full(N, w)
            w = _dask_array(w, wname, rows)
            if w.ndim != 1 or w.shape[0] != N:
                raise ValueError(f"{wname} must have length {N} (the rows of X), got shape "
                                 f"{w.shape}")
            w = w.rechunk((rows,))
        X = X.rechunk((rows, X.shape[1]))          # columns in one block: rows are whole
        Y = Y.rechunk((rows, Y.shape[1]))
        blocks = zip(X.to_delayed().ravel(), Y.to_delayed().ravel(),
                     w.to_delayed().ravel() if w is not None else [None] * len(rows))
        return cls([tuple(b) for b in blocks], rows, X.shape[1], Y.shape[1], y.ndim == 1,
                   w is not None, names)

    def map(self, block_function, *args):
        """block_function(X_b, Y_b, w_b, row offset, *args) on every block,
        computed at once (one pass); the results in block order."""
        import dask
        tasks = [dask.delayed(_on_block)(block_function, src, int(lo), *args)
                 for src, lo in zip(self.sources, self.offsets)]
        return list(_compute(*tasks))


def _on_block(block_function, source, lo, *args):
    """block_function on one block's arrays, as the kernels take them:
    float64, Y 2-D, w or empty."""
    X, Y, w = source.read() if isinstance(source, _RowGroup) else source
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
    w = engine.NO_WEIGHTS if w is None else np.asarray(w, dtype=np.float64).reshape(-1)
    return block_function(X, Y, w, lo, *args)


def predict(est, X):
    """est's predictions for a Dask array or DataFrame X, lazily: a Dask
    array with X's row blocks (each row's prediction is its own, so a block
    is predicted alone; block sizes may stay unknown)."""
    import dask.array as da
    if not isinstance(X, da.Array):
        if not hasattr(X, "to_dask_array"):
            raise TypeError(f"X must be a Dask array or DataFrame, got {type(X).__name__}")
        X = X.to_dask_array()
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}")
    if X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but BNRegressor is expecting "
                         f"{est.n_features_in_} features as input")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must be real numbers, got dtype {X.dtype}")
    X = X.rechunk({1: -1})
    dtype = np.float32 if X.dtype == np.float32 else np.float64
    # the fitted state of now: computed later, the blocks had followed a refit
    # of est (a cross-validation loop's lazy predictions were all the last
    # fold's).  A shallow copy holds it: a fit binds new arrays, never
    # writes into the ones it made before.
    est = copy.copy(est)
    if est._y_1d:
        return X.map_blocks(_predict_block, est, drop_axis=1, dtype=dtype,
                            meta=np.empty(0, dtype))
    return X.map_blocks(_predict_block, est, chunks=(X.chunks[0], (est.n_outputs_,)),
                        dtype=dtype, meta=np.empty((0, 0), dtype))


def _predict_block(X, est):
    """est's predictions for one block; none for a block of no rows (an
    empty partition), which predict() proper refuses."""
    if X.shape[0] == 0:
        dtype = np.float32 if X.dtype == np.float32 else np.float64
        return np.empty((0,) if est._y_1d else (0, est.n_outputs_), dtype)
    return est._predict(X)


def _dask_array(a, name, rows=None):
    """a as a Dask array of real numbers with known block sizes.  A Dask
    DataFrame or Series becomes its array (its lengths cost a pass, below:
    to_dask_array(lengths=True) counts the frame's partitions, and Dask may
    fuse a projection's small partitions into fewer blocks, as it did a
    column of dd.read_parquet's frame of several files, which it then
    refused); an in-memory array, given with a Dask X, takes X's row
    blocks."""
    import dask.array as da
    if is_dask(a) and not isinstance(a, da.Array):
        if not hasattr(a, "to_dask_array"):
            raise TypeError(f"{name} must be a Dask array, DataFrame or Series, got "
                            f"{type(a).__name__}")
        dtypes = getattr(a, "dtypes", None)
        frame = hasattr(dtypes, "items")          # a DataFrame's: the column at fault named
        if frame:
            bad = [c for c, t in dtypes.items() if getattr(t, "kind", "O") not in "biuf"]
            if bad:
                raise TypeError(f"{name} must be real numbers: column {bad[0]!r} is "
                                f"{dtypes[bad[0]]}")
        # pandas' nullable numbers (Int64, boolean) become arrays of objects:
        # as float64 (NA as NaN, named by the statistics pass), as in memory
        kinds = dtypes.values if frame else [getattr(a, "dtype", None)]
        if any(not isinstance(t, np.dtype) for t in kinds):
            a = a.astype(np.float64)
        a = a.to_dask_array()
    elif not is_dask(a):
        arr = np.asarray(a)
        if rows is None or arr.ndim == 0 or arr.shape[0] != sum(rows):
            a = da.from_array(arr, chunks=arr.shape or ())
        else:
            a = da.from_array(arr, chunks=(rows,) + arr.shape[1:])
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers, got dtype {a.dtype}")
    if a.ndim and any(np.isnan(c) for c in a.chunks[0]):
        # (not a.compute_chunk_sizes(): on Dask's global pool, which a
        # forked child then waited on; _compute takes the call's own)
        import dask
        blocks = a.to_delayed().reshape(len(a.chunks[0]), -1)[:, 0]
        rows = tuple(int(n) for n in _compute(*[dask.delayed(len)(b) for b in blocks]))
        a = da.Array(a.dask, a.name, (rows,) + a.chunks[1:], meta=a._meta)
    return a


def _first_rows(X, Y, w, lo, least=None):
    """(x0, y0, its weight): the block's shift row (engine.shift_row), of a
    weight at least `least` where given."""
    i = engine.shift_index(w, least)
    return np.array(X[i], dtype=np.float64), np.array(Y[i], dtype=np.float64), \
        float(w[i]) if w.size else np.inf


# --- early stopping's held-out rows -----------------------------------------------

_M = tuple(np.uint64(m) for m in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB))
_S = tuple(np.uint64(k) for k in (30, 27, 31))


def _split_key(seed, net, restart):
    """The 64-bit key of one net's held-out rows (a seed sequence apart from
    the one its starting weights come from)."""
    return int(np.random.SeedSequence([seed, net, restart, 0xDA5C]).generate_state(
        1, np.uint64)[0])


def held_out(key, lo, n):
    """Rows lo..lo+n-1 of X held out under key: splitmix64(key + row number *
    golden ratio) below VALIDATION * 2^64.  Depends on a row's number only,
    not on the block it is in."""
    from .fit import VALIDATION
    with np.errstate(over="ignore"):               # uint64 arithmetic wraps, as meant
        z = np.arange(lo, lo + n, dtype=np.uint64) * _M[0] + np.uint64(key)
        z = (z ^ (z >> _S[0])) * _M[1]
        z = (z ^ (z >> _S[1])) * _M[2]
        z ^= z >> _S[2]
    return z < np.uint64(int(VALIDATION * 2.0 ** 64))


def _split_weights(w, held):
    """The training rows' weights: 0 where held out."""
    return np.where(held, 0.0, w if w.size else 1.0)


# --- the statistics pass ------------------------------------------------------

def _sums(X, w, x0):
    """[D'WD; w'D] of D = X - 1x0', rows weighted by w, over the engine's row
    chunks of a block, added in chunk order."""
    return engine.stats_sums(X, w, x0).sum(axis=0)


@np.errstate(over="ignore")
def _stats_block(X, Y, w, lo, x0, y0, keys, units=None):
    """One block's part of the statistics pass; with units, of X / x_unit
    and Y / y_unit (x0, y0 divided already).  Its sums may overflow (weights
    whose total does): the pass names the weights, with no numpy warning
    first."""
    if units is not None:
        X, Y = X / units[0], Y / units[1]
    C1 = _sums(X, w, x0)
    live = [A[w > 0] if w.size else A for A in (X, Y)]    # (weight 0: not there)
    out = types.SimpleNamespace(
        x=C1, y=_sums(Y, w, y0), y_finite=bool(np.isfinite(Y).all()),
        # X is read for NaN only where its sums are not finite
        x_bad=_bad_columns(X, C1[-1]), w=None, splits=[],
        # (a row of weight 0 far away had set the units)
        tops=[np.abs(A).max(axis=0, initial=0.0) for A in live],
        ranges=[_range(A) for A in live])
    if w.size:
        neg = np.flatnonzero(w < 0)
        out.w = (bool(np.isfinite(w).all()), total(w), np.count_nonzero(w),
                 (int(lo + neg[0]), float(w[neg[0]])) if neg.size else None,
                 float(w.max(initial=0.0)))
    for key in keys:
        held = held_out(key, lo, len(X))
        wt = _split_weights(w, held)
        out.splits.append((_sums(X, wt, x0), total(wt), np.count_nonzero(wt),
                           total(w[held]) if w.size else float(held.sum())))
    return out


def _range(A):
    """(min, max) of A's columns (+-inf for no rows)."""
    return A.min(axis=0, initial=np.inf), A.max(axis=0, initial=-np.inf)


def _flat(ranges):
    """(flat, value): the columns of one value on the rows that count, from
    the blocks' (min, max) of them, and that value.  (Not a spread of 0:
    where x0 was a row of weight 0, D = X - x0 rounded a column constant on
    the other rows to a spread of 1e-16, which the fit standardised into a
    signal; x0 is now a row of weight > 0, engine.shift_row.)"""
    lo = np.min([r[0] for r in ranges], axis=0)
    hi = np.max([r[1] for r in ranges], axis=0)
    return lo == hi, lo


def _bad_columns(X, colsums):
    """The columns of X holding NaN or Inf (a Parquet null reads as NaN),
    looked for only where their sums are not finite."""
    cols = np.flatnonzero(~np.isfinite(colsums))
    return [int(j) for j in cols if not np.isfinite(X[:, j]).all()]


def _check_x(data, parts):
    """A ValueError naming X's first column that holds NaN or Inf."""
    bad = sorted(set().union(*(p.x_bad for p in parts)))
    if bad:
        j = bad[0]
        if isinstance(data.sources[0], _RowGroup):    # names: the file's columns
            raise ValueError(f"x: column {data.names[j]!r} contains nulls, NaN or Inf")
        if data.names is not None:                 # a DataFrame's, as in memory
            raise ValueError(f"X contains NaN or Inf, first in column {data.names[j]!r}")
        raise ValueError(f"X contains NaN or Inf in column {j}")


def _stats_pass(data, wname, ddof, keys=(), rescale=False):
    """X's (and y's) statistics, the weights' checks and each split's
    training-row statistics, in one compute; errors name what is wrong.

    rescale (a fit's standardisation): where a column's squares would
    overflow or underflow (as fit._center_scale tells), a second compute
    takes the statistics of X / x_unit and Y / y_unit, each such column
    divided by its largest value; x, y and the splits' XStats are then in
    those units, and x_unit, y_unit say what they are (ones otherwise)."""
    import dask

    def blocks(x0, y0, units=None):            # the pass's tasks, shifted by (x0, y0)
        return [dask.delayed(_on_block)(_stats_block, src, int(lo), x0, y0, list(keys), units)
                for src, lo in zip(data.sources, data.offsets)]
    first = int(np.flatnonzero(np.asarray(data.sizes) > 0)[0])
    x0, y0, w0 = dask.delayed(_on_block, nout=3)(_first_rows, data.sources[first],
                                                 int(data.offsets[first]))
    x0, y0, w0, parts = _compute(x0, y0, w0, blocks(x0, y0))
    if data.weighted and all(np.isfinite(p.w[4]) for p in parts):
        least = max(p.w[4] for p in parts) * engine.SHIFT_WEIGHT
        later = [b for b, p in enumerate(parts) if p.w[4] >= least and p.w[4] > 0]
        if not w0 >= least and later:
            # the first block's shift row weighs little against the largest
            # weight (0, or 1e-12): it may lie far from the rows that count
            # (engine.shift_row); the statistics again, shifted by the first
            # row of a weight near the largest
            b = later[0]
            (x0, y0, _), = _compute(dask.delayed(_on_block)(
                _first_rows, data.sources[b], int(data.offsets[b]), least))
            parts = _compute(*blocks(x0, y0))
    _check_x(data, parts)
    # (in X's and y's own units: the rescaled pass below divides them)
    flat_x, flat_y = (_flat([p.ranges[i] for p in parts]) for i in range(2))
    x_unit, y_unit = np.ones(data.p1), np.ones(data.q)
    if not all(p.y_finite for p in parts):
        raise ValueError("y contains NaN or Inf")
    W, nonzero = float(data.N), data.N
    if data.weighted:
        if not all(p.w[0] for p in parts):
            raise ValueError(f"{wname} contains NaN or Inf")
        neg = [p.w[3] for p in parts if p.w[3] is not None]
        if neg:
            raise ValueError(f"{wname} must be >= 0, got {float(neg[0][1])!r} at row {neg[0][0]}")
        with np.errstate(over="ignore"):       # an overflowing total is named below
            W = float(np.sum([p.w[1] for p in parts]))
        nonzero = int(np.sum([p.w[2] for p in parts]))
        checks.weights_sum(W, nonzero, ddof, wname)

    if rescale:
        from .fit import _extreme
        tops = [np.max([p.tops[i] for p in parts], axis=0) for i in range(2)]
        x_unit, y_unit = (np.where(_extreme(top, W), top, 1.0) for top in tops)
        if (x_unit != 1.0).any() or (y_unit != 1.0).any():
            x0, y0 = x0 / x_unit, y0 / y_unit
            parts = _compute(*blocks(x0, y0, (x_unit, y_unit)))
    x = engine.stats_from_sums(x0, np.stack([p.x for p in parts]), W,
                               lambda: not any(p.x_bad for p in parts))
    try:
        y = engine.stats_from_sums(y0, np.stack([p.y for p in parts]), W, lambda: True)
    except ValueError:
        raise ValueError("y is too large for float64: the spread of its columns, squared, "
                         "overflows (rescale y)") from None
    splits = []
    for j in range(len(keys)):
        Wt = float(np.sum([p.splits[j][1] for p in parts]))
        nonzero = int(np.sum([p.splits[j][2] for p in parts]))
        Wv = float(np.sum([p.splits[j][3] for p in parts]))
        stats = None
        if nonzero >= 2 and Wt > ddof and Wv > 0:
            stats = engine.stats_from_sums(x0, np.stack([p.splits[j][0] for p in parts]), Wt,
                                           lambda: True)
        splits.append(stats)
    return types.SimpleNamespace(x=x, y=y, W=W, live=nonzero, splits=splits, x_unit=x_unit,
                                 y_unit=y_unit, flat_x=flat_x, flat_y=flat_y)


# --- the gradient's pass ------------------------------------------------------

def _grad_block(X, Y, w, lo, sh):
    """One block's sums of the gradient's pass (as engine.tiled_gradient's
    chunks, added in chunk order), and of the held-out rows' error."""
    if sh.y_center is not None:
        Y = (Y - sh.y_center) / sh.y_scale
    held = None
    if sh.split is not None:
        held = held_out(sh.split, lo, len(X))
        w_fit = _split_weights(w, held)
    else:
        w_fit = w
    sums = engine.gradient_sums(X, Y, w_fit, sh.W, sh.x0, sh.d, sh.sd, sh.G1, sh.gamma, sh.beta,
                                sh.G2, sh.b, sh.code)
    error = (0.0, 0.0)
    if held is not None and sh.validate is not None and held.any():
        from .fit import _forward
        v = sh.validate
        wv = w[held] if w.size else np.ones(int(held.sum()))
        # NumPy's BLAS too, on one thread: forward's products run in a worker thread
        with engine.single_blas:
            e = Y[held] - _forward((X[held] - v.center) / v.scale, v.params, v.mean, v.var,
                                  v.activation, v.eps)
        error = (float(total((wv[:, None] * e * e).ravel())), float(total(wv)))
    return sums, error


def _pass(data, stats, p, code, eps, ddof, x_scale=None, y_std=None, split=None,
          validate=None):
    """(R, dG1, dgamma, dbeta, dG2, db) at p by one pass over the blocks, and
    the held-out rows' (sum of weighted squared errors, sum of weights).

    stats: XStats of X's rows that count (x0, d raw); with x_scale (the fit's
    s), the gradient is the standardised problem's, stats.Cn standardised
    already (module docstring)."""
    import dask
    Cn = stats.Cn
    G1 = p.G1 if x_scale is None else p.G1 / x_scale[:, None]
    sd, CG = engine.batch_sd(Cn, p.G1, eps, ddof, stats.W,
                             stats.d if x_scale is None else stats.d / x_scale)
    sh = types.SimpleNamespace(
        x0=stats.x0, d=stats.d, G1=np.ascontiguousarray(G1), sd=sd, gamma=p.gamma,
        beta=p.beta, G2=np.ascontiguousarray(p.G2), b=p.b, W=stats.W, code=code,
        y_center=None if y_std is None else y_std[0], y_scale=None if y_std is None else y_std[1],
        split=split, validate=validate)
    # the broadcast values as one key of the graph, not a copy in every task
    shared = dask.delayed(sh, name="bngrad-shared-" + uuid.uuid4().hex)
    parts = data.map(_grad_block, shared)
    sums = [np.stack([s[i] for s, _ in parts]) for i in range(4)]
    if x_scale is not None:                    # B'S rows to the standardised problem's; 1'S stays
        sums[0] = sums[0] / np.append(x_scale, 1.0)[:, None]
    values = engine.finish_gradient(sums, CG, sd, p.G1, p.gamma, stats.W, ddof)
    error = tuple(float(np.sum([e[i] for _, e in parts])) for i in range(2))
    return values, error


def gradients(X, y, params, activation="relu", eps=1e-5, ddof=0, weights=None):
    """bngrad.gradients for Dask arrays: the same arguments and result.

    X is a Dask array (N x p1; a Dask DataFrame is taken as its array); y
    and weights Dask arrays with X's row blocks (rechunked to them if not) or
    in-memory arrays (cut into X's blocks).  Two computes: X's statistics,
    then the gradient's pass.  Equal to the in-memory result to rounding.
    """
    with _own_pool():
        data = _Data.arrays(X, y, weights, "weights", fit=False)
        # the parameters' checks, in checks.net's words, against stand-ins of
        # X's and y's shapes (zero strides: nothing of size N is made)
        y_shape = (data.N,) if data.y_1d else (data.N, data.q)
        _, _, _, G1, gamma, beta, G2, b, code, eps, ddof = checks.net(
            np.broadcast_to(0.0, (data.N, data.p1)), np.broadcast_to(0.0, y_shape), params,
            activation, eps, ddof)
        checks.finite_all(("G1", "gamma", "beta", "G2", "b"), (G1, gamma, beta, G2, b))
        st = _stats_pass(data, "weights", ddof)
        (loss, *grads), _ = _pass(data, st.x, Params(G1, gamma, beta, G2, b), code, eps, ddof)
    return Gradients(float(loss), *(g.reshape(np.shape(p)) for g, p in zip(grads, params)))


# --- fitting ------------------------------------------------------------------

def _standardised(stats, center, scale, unit):
    """XStats of (X - 1c') / s from those of X / unit, with X's shift x0
    kept: the kernel still reads raw X, and x0, d are in X's units (module
    docstring); Cn is divided by (s / unit)(s / unit)', never formed in X's
    units, where its squares may underflow or overflow."""
    return engine.XStats(unit * stats.x0, unit * stats.d,
                         stats.Cn / np.outer(scale / unit, scale / unit), stats.W)


def _center_scale(stats, unit, flat):
    """The mean and standard deviation of the columns of X, from the XStats
    of X / unit; a column of one value (flat: _flat's) is centred on that
    value exactly, with scale 1, as in memory (fit._center_scale)."""
    sd = np.sqrt(np.maximum(np.diag(stats.Cn), 0.0) / stats.W)
    center = np.where(flat[0], unit * (flat[1] / unit), unit * (stats.x0 + stats.d))
    return center, unit * np.where(flat[0] | (sd == 0), 1.0, sd)


def fit(est, X, y, sample_weight=None):
    """BNRegressor.fit for Dask arrays (BNRegressor.fit calls this for them).

    Full-batch L-BFGS on the exact gradient; decay=None stops early on
    about 10% of the rows held out (module docstring).  One compute for the
    statistics (X, y, weights, every net's split), then one per gradient.
    Returns est, fitted as in memory: its attributes and predict are the
    same; a fit of the same data in memory with optimizer="lbfgs" and a
    given decay agrees to rounding, amplified by the optimiser's path.
    """
    names = checks.feature_names(X)
    with _own_pool():
        data = _Data.arrays(X, y, sample_weight, "sample_weight", fit=True, names=names)
        return _fit(est, data, names)


def _fit(est, data, names, wname="sample_weight"):
    from . import fit as fitmod
    N, p1, q = data.N, data.p1, data.q
    s = est._settings(N, p1, q, chunked=True)
    K, R, p2 = s["ensemble"], s["restarts"], s["hidden"]
    early = s["decay"] is None and N >= fitmod.LBFGS_MIN_HOLDOUT_ROWS
    if s["decay"] is None:
        fitmod.few_rows_unregularised(N, "dask", s["P"])
    keys = [_split_key(s["seed"], k, r) for k in range(K) for r in range(R)] if early else []
    st = _stats_pass(data, wname, s["ddof"], keys, rescale=True)
    W = st.W
    checks.few_weights(W, st.live, bool(s["decay"]))      # a decay weighs against the SSE
    center, scale = _center_scale(st.x, st.x_unit, st.flat_x)
    y_std = _center_scale(st.y, st.y_unit, st.flat_y)
    code = ACTIVATIONS[est.activation]
    eps, ddof = s["eps"], s["ddof"]

    def member(v0, key, split, report):
        """One net by L-BFGS, early stopping on key's held-out rows if split
        (and the decay chosen on them too, as in memory: fit._lbfgs); its
        iterations reported as they come (report: est._live)."""
        stats = _standardised(split if split is not None else st.x, center, scale, st.x_unit)
        last = {}
        if split is not None:
            mean_x = (stats.x0 - center) / scale + stats.d / scale

        def gradient(p):
            checks.finite_all(("G1", "gamma", "beta", "G2", "b"), p)
            v = None
            if split is not None:
                var = (p.G1 * (stats.Cn @ p.G1)).sum(axis=0) / (stats.W - ddof)
                v = types.SimpleNamespace(center=center, scale=scale, params=p,
                                          mean=mean_x @ p.G1, var=var,
                                          activation=est.activation, eps=eps)
            values, error = _pass(data, stats, p, code, eps, ddof, scale, y_std,
                                  key if split is not None else None, v)
            last["error"] = error[0] / error[1] if error[1] else np.nan
            return values
        def run(decay, report, held_out=True):
            sd = dict(s, decay=decay)
            f0 = fitmod._v_objective(gradient, p1, p2, q, (decay or 0.0) / stats.W)

            def f(v):
                out = f0(v)
                last["v"] = v.copy()
                return out
            f.scale = f0.scale

            def held_out_error(v):
                # L-BFGS-B's iterate is the point it evaluated last: its error
                # came with that pass, and only otherwise is a pass made for it
                if "v" not in last or not np.array_equal(last["v"], v):
                    f(v)
                return last["error"]
            return est._minimize(f, v0, sd, held_out_error if held_out else None, report,
                                 stop=not decay)
        if split is None:
            return run(s["decay"], report, held_out=False)
        return fitmod._best_decay(run, fitmod._lbfgs_decays(N, q, s["P"]), report)

    members = []
    with engine.single_blas:
        for k in range(K):
            best = None
            for r in range(R):
                rng = np.random.default_rng([s["seed"], k, r])
                v0 = fitmod._start(p1, p2, q, rng)
                j = k * R + r
                split = st.splits[j] if early else None
                # each pass over the blocks is long: a trace as nnet's, as it
                # goes, where the net has one run (restarts' lines would mix)
                m = member(v0, keys[j] if early else None, split,
                           est._live(k) if R == 1 else None)
                if early and split is None:
                    m.criterion = np.inf     # no held-out error to compare: see fit._lbfgs
                if best is None or m.criterion < best.criterion:
                    best = m
            members.append(best)
            est._report(k, best.curve, live=R == 1)
    full = _standardised(st.x, center, scale, st.x_unit)
    mean_x = (full.x0 - center) / scale + full.d / scale

    def batch_stats(G1):
        return mean_x @ G1, (G1 * (full.Cn @ G1)).sum(axis=0) / (W - ddof)
    return est._set_fitted(members, s, p1, q, W, names, data.y_1d, batch_stats,
                           (center, scale, *y_std), flat=(st.flat_x[0], st.flat_y[0]))


# --- files --------------------------------------------------------------------

_footers = {}
_footers_lock = threading.Lock()


def _footer(filesystem, path):
    """A Parquet file's metadata, parsed once per process while the file is
    unchanged: a footer names every row group, so parsing it for each one
    would cost a pass over the footer per block."""
    info = filesystem.get_file_info(path)
    key = (filesystem.type_name, path, info.mtime_ns, info.size)
    with _footers_lock:
        meta = _footers.get(key)
    if meta is None:
        import pyarrow.parquet as pq
        with filesystem.open_input_file(path) as fh:
            meta = pq.ParquetFile(fh).metadata
        with _footers_lock:
            if len(_footers) >= 256:
                _footers.clear()
            _footers[key] = meta
    return meta


def _read_columns(filesystem, path, row_group, columns):
    """One row group's columns as a float64 array (nulls become NaN, which
    the statistics pass names), columns contiguous as Arrow holds them."""
    import pyarrow.parquet as pq
    with filesystem.open_input_file(path) as fh:
        # no Arrow thread pool: the blocks are Dask's to run in parallel
        table = pq.ParquetFile(fh, metadata=_footer(filesystem, path)).read_row_group(
            row_group, columns=columns, use_threads=False)
    out = np.empty((table.num_rows, len(columns)), order="F")
    for j, c in enumerate(columns):
        out[:, j] = table.column(c).to_numpy(zero_copy_only=False)
    return out


class _RowGroup:
    """One row group of a Parquet file, as the source of a block: read by
    the task that uses it, so a pass over the file is one task per row group."""

    def __init__(self, filesystem, path, index, x, y, w):
        self.filesystem, self.path, self.index, self.x, self.y, self.w = (
            filesystem, path, index, x, y, w)

    def read(self):
        A = _read_columns(self.filesystem, self.path, self.index,
                          self.x + self.y + ([self.w] if self.w else []))
        p1, q = len(self.x), len(self.y)
        return A[:, :p1], A[:, p1:p1 + q], A[:, p1 + q] if self.w else None


def _index_columns(schema):
    """The columns pandas' metadata names as the index (RangeIndexes are
    stored as metadata alone, not as columns)."""
    import json
    meta = (schema.metadata or {}).get(b"pandas")
    if meta is None:
        return set()
    try:
        index = json.loads(meta).get("index_columns", [])
    except (ValueError, AttributeError):
        return set()
    return {c for c in index if isinstance(c, str)}


def _parquet(path, y, x, weights):
    """A Parquet file's or directory's row groups as _RowGroup sources, with
    their row counts (from the footers), and the column names; errors name
    the argument that is wrong."""
    import pyarrow.dataset as pads
    import pyarrow.types as pat
    if isinstance(path, os.PathLike):          # pathlib's, as pandas and pyarrow take
        path = os.fspath(path)
    if not isinstance(path, str) or not path:
        raise TypeError(f"path must be a file or directory name, got {path!r}")
    try:
        ds = pads.dataset(path, format="parquet")
    except (FileNotFoundError, OSError, ValueError) as err:
        raise ValueError(f"path {path!r} is not a Parquet file or directory: {err}") from None
    fs = ds.filesystem
    files = sorted(ds.files)
    if not files:
        raise ValueError(f"path {path!r} holds no Parquet files")
    # the dataset's schema is the first file's: every file's columns count,
    # so that a column the first file lacks is not silently left out of x
    metas = [_footer(fs, f) for f in files]
    schemas = [meta.schema.to_arrow_schema() for meta in metas]
    fields = {}
    for sch in schemas:
        for field in sch:
            fields.setdefault(field.name, field)
    names = list(fields)
    ys = [y] if isinstance(y, str) else list(y) if isinstance(y, (list, tuple)) else None
    if not ys:
        raise TypeError(f"y must be a column name or a list of them, got {y!r}")
    if weights is not None and not isinstance(weights, str):
        raise TypeError(f"weights must be a column name, got {weights!r}")
    if x is None:
        # a DataFrame's index, written by pandas or Dask, is not an input
        index = set().union(*(_index_columns(sch) for sch in schemas))
        xs = [c for c in names if c not in ys and c != weights and c not in index]
    else:
        xs = [x] if isinstance(x, str) else list(x) if isinstance(x, (list, tuple)) else None
        if xs is None:
            raise TypeError(f"x must be a column name or a list of them, got {x!r}")
        if not xs:
            raise ValueError("x must name at least one column, got none")
    if not xs:
        raise ValueError("x names no column: the file has only y and weights")
    for arg, cols in (("x", xs), ("y", ys)):
        twice = [c for i, c in enumerate(cols) if c in cols[:i]]
        if twice:
            raise ValueError(f"{arg} names the column {twice[0]!r} twice")
    # (a response among the inputs fits y on itself, with no message)
    for arg, cols, other, theirs in (("x", xs, "y", ys), ("weights", [weights], "y", ys),
                                     ("x", xs, "weights", [weights])):
        both = [c for c in cols if c is not None and c in theirs]
        if both:
            raise ValueError(f"{arg}: column {both[0]!r} is in {other} too")
    def numbers(t):
        return pat.is_integer(t) or pat.is_floating(t) or pat.is_boolean(t)
    for arg, cols in (("y", ys), ("x", xs), ("weights", [] if weights is None else [weights])):
        for c in cols:
            if not isinstance(c, str):
                raise TypeError(f"{arg} must be column names, got {c!r}")
            if c not in fields:
                raise ValueError(f"{arg}: no column {c!r} in {path} (its columns: "
                                 f"{', '.join(names)})")
            # every file's type (a later file's timestamps were read as
            # nanoseconds, its text failed with no column named); the file
            # named where the first one's type was numbers
            if not numbers(fields[c].type):
                raise TypeError(f"{arg}: column {c!r} is {fields[c].type}, not numbers")
            for f, sch in zip(files, schemas):
                if c in sch.names and not numbers(sch.field(c).type):
                    raise TypeError(f"{arg}: column {c!r} is {sch.field(c).type} in file "
                                    f"{f!r}, not numbers")
    groups, sizes = [], []
    wanted = xs + ys + ([] if weights is None else [weights])
    for f, meta, sch in zip(files, metas, schemas):
        missing = [c for c in wanted if c not in sch.names]
        if missing:
            raise ValueError(f"path: file {f!r} has no column {missing[0]!r} (its columns: "
                             f"{', '.join(sch.names)})")
        for i in range(meta.num_row_groups):
            groups.append(_RowGroup(fs, f, i, xs, ys, weights))
            sizes.append(meta.row_group(i).num_rows)
    if not groups:
        raise ValueError(f"path {path!r} holds no rows")
    return groups, sizes, xs, ys


def read_parquet(path, y, x=None, weights=None):
    """Columns of a Parquet file or directory of files as Dask arrays.

    Parameters
    ----------
    path : str or os.PathLike
        A Parquet file, or a directory of them (read in file name order).
    y : str or list of str
        The response column(s).
    x : list of str, optional
        The input columns; None means every column that is not y or weights.
    weights : str, optional
        A column of case weights.

    Returns
    -------
    (X, y, w, x_names)
        Dask arrays with one block per row group (sizes from the files'
        footers: nothing is read until a compute), y 1-D for one column,
        w None without weights.  fit_parquet fits such columns with one
        task per row group instead of three.
    """
    import dask
    import dask.array as da
    groups, sizes, xs, ys = _parquet(path, y, x, weights)

    def array(cols):
        read = dask.delayed(_read_columns, pure=True)
        return da.concatenate([da.from_delayed(read(g.filesystem, g.path, g.index, cols),
                                               (n, len(cols)), np.float64)
                               for g, n in zip(groups, sizes)], axis=0)
    Y = array(ys)
    return (array(xs), Y[:, 0] if isinstance(y, str) else Y,
            None if weights is None else array([weights])[:, 0], xs)


_pool = contextvars.ContextVar("bngrad_dask_pool", default=None)


def _compute(*args):
    """dask.compute(*args), on this call's own pool where _own_pool gave one."""
    import dask
    pool = _pool.get()
    if pool is None:
        return dask.compute(*args)
    return dask.compute(*args, scheduler="threads", pool=pool)


@contextlib.contextmanager
def _own_pool():
    """Dask's threaded scheduler on a pool of this call's own, its threads
    joined before the call returns.  Dask's global pool, once a fit had
    made it, outlived the call, and a process forked afterwards (a fork
    pool's child, R's mclapply) waited forever on its first Dask compute
    for threads it does not have.  A distributed Client, or a scheduler or
    pool the caller chose, is left alone.  (The pool goes to each compute,
    _compute, not into Dask's config: a pool there reached the workers a
    local cluster's nannies started, which could not unpickle it, and every
    thread shares the config, so two fits in two threads shut each other's
    pool.)"""
    import dask
    import dask.threaded
    from concurrent.futures import ThreadPoolExecutor
    from dask.base import get_scheduler
    if get_scheduler() not in (None, dask.threaded.get) or dask.config.get("pool", None) \
            is not None or _pool.get() is not None:
        yield
        return
    with ThreadPoolExecutor(engine.num_threads(), thread_name_prefix="bngrad-dask") as pool:
        token = _pool.set(pool)
        try:
            yield
        finally:
            _pool.reset(token)


_LOCAL_SCHEDULERS = ("threads", "threading", "synchronous", "sync", "single-threaded")


@contextlib.contextmanager
def _scheduler(scheduler):
    """None: Dask's default (a Client already made wins); a local scheduler's
    name (_LOCAL_SCHEDULERS); else a distributed scheduler's address
    (host:port, or with its protocol, tcp://host:port), connected to for the
    call."""
    if scheduler is None:
        yield
        return
    import dask
    if not isinstance(scheduler, str):
        raise TypeError(f"scheduler must be None, a scheduler name or an address, got "
                        f"{scheduler!r}")
    if scheduler in ("processes", "multiprocessing"):
        # Dask's multiprocessing scheduler starts a pool for each compute, and
        # a fit computes once per gradient: 52 s for a 40-row fit (threads 0.14 s)
        raise ValueError(f"scheduler={scheduler!r} starts new processes for every pass over "
                         "the data (one per gradient): use 'threads', or processes of a "
                         "distributed cluster (its scheduler's address, e.g. that of "
                         "distributed.LocalCluster())")
    if scheduler in _LOCAL_SCHEDULERS:
        with dask.config.set(scheduler=scheduler):
            yield
    elif ":" in scheduler:
        from distributed import Client
        try:
            client = Client(scheduler, set_as_default=True)
        except OSError as err:                 # distributed's own says only the address
            raise type(err)(f"scheduler={scheduler!r}: could not connect to a distributed "
                            f"scheduler there ({err})") from err
        with client:
            yield
    else:
        raise ValueError(f"scheduler must be None, one of {list(_LOCAL_SCHEDULERS)} or a "
                         f"distributed scheduler's address (tcp://host:port), got {scheduler!r}")


def fit_parquet(est, path, y, x=None, weights=None, scheduler=None):
    """est fitted to Parquet columns (read_parquet's arguments) on scheduler
    (None: Dask's default; a name; or a distributed address).  Returns est,
    as its fit does; the inputs' columns are its feature_names_in_."""
    groups, sizes, xs, ys = _parquet(path, y, x, weights)
    data = _Data(groups, sizes, len(xs), len(ys), isinstance(y, str), weights is not None,
                 names=xs)
    with _scheduler(scheduler), _own_pool():
        _fit(est, data, np.asarray(xs, dtype=object), f"weights (column {weights!r})")
    return est
