"""bngrad.dask: gradients and fits on Dask arrays held against the
in-memory ones (which the other tests hold against complex-step and finite
differences), on every chunking, on the default scheduler and on a real
distributed cluster; out of core, and with a worker killed mid-fit.

Under make test (BNGRAD_REQUIRE_DASK set) a missing dask is an error, never
a skip."""
import os
import signal
import sys
import warnings

import numpy as np
import pytest

if not os.environ.get("BNGRAD_REQUIRE_DASK"):
    for module in ("dask", "distributed", "pyarrow"):
        pytest.importorskip(module)

import dask                                     # noqa: E402
import dask.array as da                         # noqa: E402

import bngrad                                   # noqa: E402
from bngrad import dask as bd                   # noqa: E402
from bngrad import fit as fitmod                # noqa: E402
from conftest import rel_err                    # noqa: E402

ACTS = sorted(bngrad.ACTIVATIONS)


def case(N, p1=4, p2=5, q=1, seed=0):
    """Columns on very different scales and offsets, as real data has."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, p1)) * np.geomspace(0.1, 100, p1) + np.linspace(-300, 50, p1)
    y = rng.standard_normal((N, q)) if q > 1 else rng.standard_normal(N)
    p = bngrad.Params(rng.standard_normal((p1, p2)), rng.uniform(0.5, 2, p2),
                      rng.standard_normal(p2), rng.standard_normal((p2, q)),
                      rng.standard_normal(q))
    return X, y, p


def regression(N, p1=4, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    U = rng.uniform(-2, 2, (N, p1))
    X = U * np.geomspace(1, 100, p1) + np.linspace(0, -300, p1)
    y = np.sin(2 * U[:, 0]) + U[:, 1] ** 2 / 2 - U[:, 2] * U[:, -1] + noise * rng.standard_normal(N)
    return X, 1000 + 50 * y


def chunked(a, rows):
    return da.from_array(a, chunks=(rows,) + a.shape[1:])


def worst(a, b):
    return max(rel_err(u, v) for u, v in zip(a, b))


def fitted_gap(a, b):
    """Worst relative difference of two fits' weights and statistics."""
    # the mean of standardised X G1 is 0 to rounding: measured on the scale of the sd
    mean_gap = np.abs(a.running_mean_ - b.running_mean_).max() / np.sqrt(b.running_var_).max()
    return max(worst(a.params_, b.params_), rel_err(a.running_var_, b.running_var_), mean_gap)


def quiet_fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, **kw)


# --- gradients ------------------------------------------------------------------

# one block, ragged last blocks, one-row blocks
@pytest.mark.parametrize("N,rows", [(1037, 1037), (1037, 100), (150, 1), (1037, 7), (1037, 333)])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradients_equal_in_memory_on_any_chunking(N, rows, weighted):
    X, y, p = case(N)
    w = np.random.default_rng(1).integers(0, 3, len(X)).astype(float) if weighted else None
    ref = bngrad.gradients(X, y, p, "tanh", weights=w)
    g = bngrad.gradients(chunked(X, rows), chunked(y, 50), p, "tanh",
                         weights=None if w is None else chunked(w, rows))
    assert type(g) is bngrad.Gradients
    assert worst(g, ref) < 1e-10
    again = bd.gradients(chunked(X, rows), y, p, "tanh", weights=w)   # y, w cut to X's blocks
    assert worst(again, ref) < 1e-10


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("q,ddof,eps", [(1, 0, 1e-5), (3, 1, 0.0), (2, 0, 0.1)])
def test_gradients_every_activation_and_shape(activation, q, ddof, eps):
    X, y, p = case(500, p1=3, p2=4, q=q, seed=q)
    ref = bngrad.gradients(X, y, p, activation, eps, ddof)
    g = bngrad.gradients(chunked(X, 77), chunked(y, 77), p, activation, eps, ddof)
    assert worst(g, ref) < 1e-10


def test_blocks_spanning_several_of_the_engines_chunks():
    # p1 = 64: 4096 rows per statistics chunk and 2048 per gradient chunk,
    # so a 9000-row block is cut into several of each, and the last is ragged
    X, y, p = case(20000, p1=64, p2=6, seed=4)
    ref = bngrad.gradients(X, y, p, "relu")
    assert worst(bngrad.gradients(chunked(X, 9000), y, p, "relu"), ref) < 1e-10


def test_same_blocks_same_bits_on_every_scheduler():
    X, y, p = case(3000)
    w = np.random.default_rng(2).uniform(0, 2, 3000)
    Xd, yd, wd = chunked(X, 256), chunked(y, 256), chunked(w, 256)
    runs = []
    for scheduler in ("synchronous", "threads", "threads"):
        with dask.config.set(scheduler=scheduler):
            runs.append(bngrad.gradients(Xd, yd, p, "softplus", weights=wd))
    for g in runs[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(g, runs[0]))


def test_unknown_block_sizes_and_rechunked_y():
    X, y, p = case(800)
    Xd = chunked(X, 100)
    Xu = Xd[Xd[:, 0] > -np.inf]              # a boolean mask leaves the block sizes unknown
    assert np.isnan(Xu.chunks[0][0])
    ref = bngrad.gradients(X, y, p)
    assert worst(bngrad.gradients(Xu, chunked(y, 300), p), ref) < 1e-10


def test_a_dask_dataframe_is_its_array():
    import pandas as pd
    import dask.dataframe as dd
    X, y = regression(600)
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(y=y),
                           npartitions=4)
    est = quiet_fit(bngrad.BNRegressor(hidden=4, decay=0.1, max_iter=10),
                    frame[["a", "b", "c", "d"]], frame["y"])
    ref = quiet_fit(bngrad.BNRegressor(hidden=4, decay=0.1, max_iter=10, optimizer="lbfgs"),
                    pd.DataFrame(X, columns=["a", "b", "c", "d"]), y)
    assert list(est.feature_names_in_) == ["a", "b", "c", "d"]
    assert fitted_gap(est, ref) < 1e-8
    X[450, 2] = np.nan                         # named as the in-memory fit names it
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b", "c", "d"]), npartitions=4)
    with pytest.raises(ValueError, match="^X contains NaN or Inf, first in column 'c'$"):
        bngrad.BNRegressor(hidden=4, decay=0.1, max_iter=10).fit(frame, y)


def test_one_pass_for_the_statistics_and_one_per_gradient(monkeypatch):
    X, y = regression(900)
    reads = []

    def counted(block, block_info=None):
        reads.append(block_info[0]["chunk-location"][0])
        return block
    Xd = chunked(X, 100).map_blocks(counted, dtype=X.dtype)
    passes = []
    real_pass = bd._pass
    monkeypatch.setattr(bd, "_pass", lambda *a, **k: passes.append(1) or real_pass(*a, **k))
    for decay in (0.1, None):                 # None: early stopping, its error in the same pass
        reads.clear()
        passes.clear()
        est = quiet_fit(bngrad.BNRegressor(hidden=4, decay=decay, max_iter=15), Xd, y)
        assert len(passes) >= est.n_iter_
        # every block read once by the statistics and once per gradient, no more
        assert sorted(reads) == sorted(list(range(9)) * (1 + len(passes)))
    reads.clear()
    bngrad.gradients(Xd, y, bngrad.init_params(4, 3))
    assert sorted(reads) == sorted(list(range(9)) * 2)


# --- fits -----------------------------------------------------------------------

@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("q", [1, 2])
def test_fit_equals_the_in_memory_lbfgs_fit(weighted, q):
    X, y = regression(2000)
    if q == 2:
        y = np.c_[y, np.cos(X[:, 0]) * 10 - 3]
    w = np.random.default_rng(3).integers(0, 3, len(X)).astype(float) if weighted else None
    # 12 iterations: past ~15 this fit's path turns on rounding, in memory too
    # (X * (1 + 1e-15) moves it by 1e-8 at 15 and 3e-7 at 25)
    kw = dict(hidden=6, decay=0.1, seed=3, max_iter=12)
    ref = quiet_fit(bngrad.BNRegressor(optimizer="lbfgs", **kw), X, y, sample_weight=w)
    est = quiet_fit(bngrad.BNRegressor(**kw), chunked(X, 333), chunked(y, 333),
                    sample_weight=None if w is None else chunked(w, 333))
    assert est.optimizer_ == "lbfgs" and est.n_iter_ == ref.n_iter_
    for name in ("x_center_", "x_scale_", "y_center_", "y_scale_"):
        assert rel_err(getattr(est, name), getattr(ref, name)) < 1e-12, name
    assert fitted_gap(est, ref) < 1e-8
    assert rel_err(est.loss_curve_, ref.loss_curve_) < 1e-8
    assert rel_err(est.predict(X), ref.predict(X)) < 1e-8
    assert est.predict(X).shape == ref.predict(X).shape


@pytest.mark.parametrize("weighted", [False, True])
def test_early_stopping_equals_in_memory_on_the_same_held_out_rows(weighted, monkeypatch):
    X = np.random.default_rng(0).standard_normal((400, 3))
    y = np.sin(X[:, 0]) + np.random.default_rng(1).standard_normal(400)    # noisy: stops early
    w = np.random.default_rng(2).integers(0, 3, 400).astype(float) if weighted else None
    kw = dict(hidden=8, seed=5, optimizer="lbfgs")
    est = bngrad.BNRegressor(**kw).fit(chunked(X, 37), chunked(y, 37),
                                       sample_weight=None if w is None else chunked(w, 50))
    assert est.convergence_ == 0 and est.n_iter_ < 100        # stopped by the held-out rows
    key = bd._split_key(5, 0, 0)
    monkeypatch.setattr(fitmod, "_held_out", lambda N, rng: bd.held_out(key, 0, N))
    ref = bngrad.BNRegressor(**kw).fit(X, y, sample_weight=w)
    assert est.n_iter_ == ref.n_iter_
    assert fitted_gap(est, ref) < 1e-8


def test_held_out_rows_are_the_rows_numbers_not_the_blocks():
    key = bd._split_key(0, 0, 0)
    whole = bd.held_out(key, 0, 100_000)
    assert np.array_equal(np.concatenate([bd.held_out(key, lo, 337) for lo in range(0, 100_000, 337)])[:100_000], whole)
    assert abs(whole.mean() - fitmod.VALIDATION) < 0.005
    assert not np.array_equal(bd.held_out(bd._split_key(0, 1, 0), 0, 100_000), whole)
    X, y = regression(500)
    kw = dict(hidden=5, seed=1, max_iter=20)
    a = quiet_fit(bngrad.BNRegressor(**kw), chunked(X, 500), y)
    b = quiet_fit(bngrad.BNRegressor(**kw), chunked(X, 23), chunked(y, 60))
    assert a.n_iter_ == b.n_iter_ and fitted_gap(a, b) < 1e-8


def test_ensembles_and_restarts():
    X, y = regression(600)
    kw = dict(hidden=3, decay=0.5, seed=2, max_iter=15, ensemble=2, restarts=2)
    ref = quiet_fit(bngrad.BNRegressor(optimizer="lbfgs", **kw), X, y)
    est = quiet_fit(bngrad.BNRegressor(**kw), chunked(X, 100), y)
    assert est.params_.G1.shape == (4, 6)
    assert fitted_gap(est, ref) < 1e-8


def test_the_objective_against_central_differences():
    """The fit's gradient folds the standardisation into the kernel's
    arguments: held against the in-memory objective on standardised data
    and against central differences of its own loss."""
    X, y = regression(700)
    Xd, yd = chunked(X, 90), chunked(y, 90)
    est = bngrad.BNRegressor(hidden=4, decay=0.3, seed=0, max_iter=1, activation="tanh")
    grads = []
    real_minimize = est._minimize

    def capture(f, v0, s, held_out_error=None, report=None, stop=True):
        grads.append((f, v0, s))
        return real_minimize(f, v0, s, held_out_error, report, stop)
    est._minimize = capture
    quiet_fit(est, Xd, yd)
    f, v0, s = grads[0]
    Xs = (X - est.x_center_) / est.x_scale_
    Ys = ((y - est.y_center_) / est.y_scale_)[:, None]
    f_mem = est._objective(np.ascontiguousarray(Xs), Ys, bngrad.engine.NO_WEIGHTS, s, None)
    rng = np.random.default_rng(9)
    v = v0 + 0.3 * rng.standard_normal(v0.size)
    loss, g = f(v)
    loss_mem, g_mem = f_mem(v)
    assert abs(loss - loss_mem) < 1e-12 * loss and rel_err(g, g_mem) < 1e-10
    h = 1e-5
    for i in rng.choice(v.size, 12, replace=False):
        e = np.zeros_like(v)
        e[i] = h
        fd = (f(v + e)[0] - f(v - e)[0]) / (2 * h)
        assert abs(fd - g[i]) < 1e-6 * max(1.0, abs(g[i])), i


@pytest.mark.parametrize("optimizer", ["bayes", "adam"])
def test_optimizers_that_need_the_data_in_memory_say_so(optimizer):
    X, y = regression(100)
    with pytest.raises(ValueError, match=f"optimizer='{optimizer}' needs the data in memory"):
        bngrad.BNRegressor(optimizer=optimizer).fit(chunked(X, 30), y)


def test_weights_summing_below_float64_s_normal_range_are_named_as_in_memory():
    X, y = regression(100)
    w = np.full(100, 1e-310)
    for fit in (lambda: bngrad.BNRegressor(max_iter=3).fit(chunked(X, 30), y, sample_weight=w),
                lambda: bngrad.BNRegressor(max_iter=3, optimizer="lbfgs").fit(X, y,
                                                                               sample_weight=w)):
        with pytest.raises(ValueError, match="sample_weight sum to .*smallest normal float64"):
            fit()


def test_too_many_runs_are_refused_before_any_is_set_up():
    X, y = regression(100)
    with pytest.raises(ValueError, match="ensemble x restarts = 10,000,000 runs are too many"):
        bngrad.BNRegressor(restarts=10**7).fit(chunked(X, 30), y)


def test_progress_as_it_goes_with_one_start_and_at_the_end_with_several():
    X, y = regression(300)
    for R in (1, 2):
        seen, at = [], []
        est = bngrad.BNRegressor(hidden=3, decay=0.01, max_iter=25, seed=1, restarts=R)
        est.progress = lambda net, it, value: seen.append((net, it, value))
        real = est._minimize

        def minimize(*a, **k):                 # the lines reported before each run ended
            m = real(*a, **k)
            at.append(len(seen))
            return m
        est._minimize = minimize
        quiet_fit(est, chunked(X, 100), chunked(y, 100))
        assert [(net, it) for net, it, _ in seen] == [(1, 10), (1, 20), (1, 25)]
        assert [v for _, _, v in seen] == [est.loss_curve_[i] for i in (9, 19, 24)]
        assert at == ([2] if R == 1 else [0, 0])


# --- bad input ------------------------------------------------------------------

def _bad(X, y, w, p, what):
    X, y, w, p = X.copy(), y.copy(), w.copy(), p
    if what == "nan_x":
        X[456, 2] = np.nan
    elif what == "inf_y":
        y[3] = np.inf
    elif what == "negative_w":
        w[500] = -1
    elif what == "nan_w":
        w[7] = np.nan
    elif what == "zero_w":
        w[:] = 0
        w[9] = 1
    elif what == "huge_w":                       # each block's sum is finite, the total not
        w[:] = 1e306
    elif what == "huger_w":                      # each block's sums overflow (splits' too)
        w[:] = 1e308
    elif what == "nan_g1":
        p = p._replace(G1=p.G1.copy())
        p.G1[0, 0] = np.nan
    return X, y, w, p


@pytest.mark.parametrize("what,error,match", [
    ("nan_x", ValueError, "^X contains NaN or Inf in column 2$"),
    ("inf_y", ValueError, "^y contains NaN or Inf$"),
    ("negative_w", ValueError, r"^weights must be >= 0, got -1.0 at row 500"),
    ("nan_w", ValueError, "^weights contains NaN or Inf"),
    ("zero_w", ValueError, "^weights must give at least 2 rows a non-zero weight"),
    ("huge_w", ValueError, "^weights sum past the largest float64; divide them"),
    ("huger_w", ValueError, "^weights sum past the largest float64; divide them"),
    ("nan_g1", ValueError, "G1 contains NaN or Inf"),
])
def test_bad_values_named(what, error, match):
    X, y, w, p = _bad(*case(1000)[:2], np.ones(1000), case(1000)[2], what)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)     # the error, and no overflow first
        with pytest.raises(error, match=match):
            bngrad.gradients(chunked(X, 128), chunked(y, 128), p, weights=chunked(w, 128))
        if what != "nan_g1":
            with pytest.raises(error, match=match.replace("^weights", "^sample_weight")):
                bngrad.BNRegressor(hidden=3, max_iter=2).fit(
                    chunked(X, 128), chunked(y, 128), sample_weight=chunked(w, 128))


def test_one_sample_weight_is_every_row_s_as_in_memory():
    X, y, _ = case(200)
    kw = dict(hidden=3, decay=0.1, seed=1, max_iter=5)
    one = quiet_fit(bngrad.BNRegressor(**kw), chunked(X, 50), chunked(y, 50), sample_weight=2.0)
    every = quiet_fit(bngrad.BNRegressor(**kw), chunked(X, 50), chunked(y, 50),
                      sample_weight=np.full(200, 2.0))
    assert np.array_equal(one.predict(X), every.predict(X))


@pytest.mark.parametrize("sx, sy", [(1e-170, 1.0), (1.0, 1e-200), (1e160, 1.0), (1.0, 1e160),
                                    (1e-300, 1e300), (1e300, 1e-300)])
def test_scales_near_float64_s_limits_fit_as_in_memory(sx, sy):
    """Columns whose squares underflow (below 1e-150) or overflow (past
    1e150) are divided by their largest value in a second statistics pass,
    as the in-memory fit divides them: once a constant net (X) or inf (y),
    or an error; now the fit of X and y, to rounding, and one more pass."""
    X, y = regression(300)
    kw = dict(hidden=3, decay=0.1, seed=1, max_iter=10)
    ref = quiet_fit(bngrad.BNRegressor(**kw), chunked(X, 100), chunked(y, 100))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = quiet_fit(bngrad.BNRegressor(**kw), chunked(X * sx, 100), chunked(y * sy, 100))
        mem = quiet_fit(bngrad.BNRegressor(optimizer="lbfgs", **kw), X * sx, y * sy)
    assert rel_err(est.x_scale_, mem.x_scale_) < 1e-12 and rel_err(est.y_scale_, mem.y_scale_) < 1e-12
    assert rel_err(est.predict(X * sx) / sy, ref.predict(X)) < 1e-6
    assert rel_err(est.predict(X * sx), mem.predict(X * sx)) < 1e-6


def test_weights_summing_to_fewer_than_their_rows_warn_where_a_decay_counts_them():
    """As in memory: a decay weighs against the weighted SSE, so weights
    of 1/N make it N times stronger; early stopping ignores their scale."""
    X, y = regression(300)
    w = chunked(np.full(300, 1 / 300), 100)
    with pytest.warns(UserWarning, match="frequency weights") as record:
        warnings.simplefilter("ignore", bngrad.ConvergenceWarning)
        bngrad.BNRegressor(hidden=3, decay=0.1, max_iter=3).fit(chunked(X, 100), y, sample_weight=w)
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        quiet = bngrad.BNRegressor(hidden=3, max_iter=3)
        with pytest.warns(bngrad.ConvergenceWarning):
            quiet.fit(chunked(X, 100), y, sample_weight=w)


def test_bad_shapes_named():
    X, y, p = case(100)
    Xd = chunked(X, 30)
    with pytest.raises(ValueError, match=r"y must have 100 rows \(the rows of X\)"):
        bngrad.gradients(Xd, y[:99], p)
    with pytest.raises(ValueError, match="y has 99 rows but X has 100"):
        bngrad.BNRegressor().fit(Xd, y[:99])
    with pytest.raises(ValueError, match="y has no columns"):
        bngrad.BNRegressor().fit(Xd, np.empty((100, 0)))
    with pytest.raises(ValueError, match=r"weights must have length 100 \(the rows of X\)"):
        bngrad.gradients(Xd, y, p, weights=np.ones(3))
    with pytest.raises(ValueError, match=r"G1 must have 4 rows \(the columns of X\)"):
        bngrad.gradients(Xd, y, p._replace(G1=p.G1[:3]))
    with pytest.raises(ValueError, match=r"y must have 1 column \(the columns of G2\)"):
        bngrad.gradients(Xd, np.c_[y, y], p)
    with pytest.raises(ValueError, match="X must be 2-D"):
        bngrad.gradients(da.from_array(X[:, 0], chunks=30), y, p)
    with pytest.raises(ValueError, match="X must have at least 2 rows"):
        bngrad.gradients(Xd[:1], y[:1], p)
    with pytest.raises(TypeError, match="X must be real numbers"):
        bngrad.gradients(Xd.astype(complex), y, p)
    with pytest.raises(ValueError, match="activation must be one of"):
        bngrad.gradients(Xd, y, p, "elu")
    with pytest.raises(ValueError, match="requires y to be passed"):
        bngrad.BNRegressor().fit(Xd, None)


# --- Parquet --------------------------------------------------------------------

def write_parquet(directory, frames, row_group_size):
    import pyarrow as pa
    import pyarrow.parquet as pq
    os.makedirs(directory, exist_ok=True)
    for i, frame in enumerate(frames):
        pq.write_table(pa.table(frame), os.path.join(directory, f"part-{i:03d}.parquet"),
                       row_group_size=row_group_size, compression="none")


def test_a_dask_fit_on_few_rows_without_a_decay_says_nothing_regularises_it():
    """Below 20 rows a Dask fit holds none out, as in memory: it warns, naming
    decay (not the default optimizer: a Dask fit is L-BFGS); with a decay it
    does not."""
    X, y = regression(15)
    Xd, yd = da.from_array(X, chunks=(5, 4)), da.from_array(y, chunks=5)
    with pytest.warns(UserWarning, match=r"a Dask or Parquet fit \(L-BFGS only\) without a "
                                         r"decay holds no rows out below 20 rows \(15 here\)"
                                         r".*give decay$"):
        few = bngrad.BNRegressor(hidden=2, max_iter=50, tol=0.5, seed=0).fit(Xd, yd)
    assert not few.early_stopping_.any()
    X, y = regression(300)
    held = quiet_fit(bngrad.BNRegressor(hidden=2, max_iter=5, seed=0),
                     da.from_array(X, chunks=(100, 4)), da.from_array(y, chunks=100))
    assert held.early_stopping_.all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", bngrad.ConvergenceWarning)
        bngrad.BNRegressor(hidden=2, decay=0.1, max_iter=5, seed=0).fit(Xd, yd)


def test_read_parquet_and_fit(tmp_path):
    X, y = regression(1500)
    w = np.random.default_rng(4).integers(1, 3, 1500).astype(np.int32)
    cols = {f"x{j}": X[:, j] for j in range(4)}
    frames = [{**{k: v[lo:lo + 500] for k, v in cols.items()}, "y": y[lo:lo + 500],
               "w": w[lo:lo + 500], "label": np.array(["a"] * 500)} for lo in (0, 500, 1000)]
    write_parquet(tmp_path / "data", frames, row_group_size=120)
    Xd, yd, wd, names = bd.read_parquet(str(tmp_path / "data"), "y", x=list(cols), weights="w")
    assert names == list(cols) and Xd.shape == (1500, 4) and len(Xd.chunks[0]) == 15
    assert np.array_equal(Xd.compute(), X) and np.array_equal(wd.compute(), w)
    # a pathlib.Path, as pandas and pyarrow take (it was a TypeError)
    Xp = bd.read_parquet(tmp_path / "data", "y", x=list(cols), weights="w")[0]
    assert np.array_equal(Xp.compute(), X)
    kw = dict(hidden=5, decay=0.2, seed=7, max_iter=20)
    ref = quiet_fit(bngrad.BNRegressor(optimizer="lbfgs", **kw), X, y, sample_weight=w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = bd.fit_parquet(bngrad.BNRegressor(**kw), str(tmp_path / "data"), "y",
                             list(cols), "w", scheduler="synchronous")
    assert fitted_gap(est, ref) < 1e-8
    # a fit's return, as BNRegressor.fit's; the columns are its feature names
    assert list(est.feature_names_in_) == list(cols)
    for x, w, said in ((["x0", "y"], None, "x: column 'y' is in y too"),
                       (["x0"], "y", "weights: column 'y' is in y too"),
                       (["x0", "w"], "w", "x: column 'w' is in weights too")):
        with pytest.raises(ValueError, match=said):
            bd.read_parquet(str(tmp_path / "data"), "y", x=x, weights=w)
    with pytest.raises(ValueError, match="x: no column 'x9'"):
        bd.read_parquet(str(tmp_path / "data"), "y", x=["x0", "x9"])
    with pytest.raises(TypeError, match="x: column 'label' is string, not numbers"):
        bd.read_parquet(str(tmp_path / "data"), "y")
    with pytest.raises(ValueError, match="is not a Parquet file or directory"):
        bd.read_parquet(str(tmp_path / "nothing"), "y")


def test_predict_on_dask_input_is_lazy_with_its_row_blocks():
    import pandas as pd
    import dask.dataframe as dd
    X, y = regression(300)
    frame = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
    est = quiet_fit(bngrad.BNRegressor(hidden=3, seed=1), frame, np.c_[y, -y])
    out = est.predict(dd.from_pandas(frame, npartitions=3))
    assert isinstance(out, da.Array) and out.numblocks == (3, 1)
    assert np.array_equal(out.compute(), est.predict(frame))
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(dd.from_pandas(frame[["b", "a", "c"]], npartitions=2))
    one = quiet_fit(bngrad.BNRegressor(hidden=3, seed=1), X[:, :3], y)
    out = one.predict(da.from_array(X[:, :3].astype(np.float32), chunks=(70, 1)))
    assert out.dtype == np.float32 and out.chunks == ((70, 70, 70, 70, 20),)
    assert np.array_equal(out.compute(), one.predict(X[:, :3].astype(np.float32)))
    with pytest.raises(ValueError, match="X has 2 features, but BNRegressor is expecting 3"):
        one.predict(da.from_array(X[:, :2]))


def test_blocks_of_no_rows_add_nothing():
    """A filtered DataFrame's empty partitions, an empty Parquet file: the
    fit, the gradients and predict are those of the other blocks, bit for
    bit (they crashed in a reshape)."""
    X, y = regression(1000)
    p = case(1000)[2]
    ragged = ((0, 600, 0, 400, 0), (4,))
    whole = ((600, 400), (4,))
    a, b = da.from_array(X, chunks=ragged), da.from_array(X, chunks=whole)
    ya, yb = da.from_array(y, chunks=(ragged[0],)), da.from_array(y, chunks=(whole[0],))
    same = lambda u, v: all(np.array_equal(s, t) for s, t in zip(u, v))   # noqa: E731
    assert same(bngrad.gradients(a, ya, p), bngrad.gradients(b, yb, p))
    kw = dict(hidden=4, optimizer="lbfgs", max_iter=15, seed=2)
    fa = quiet_fit(bngrad.BNRegressor(**kw), a, ya)
    fb = quiet_fit(bngrad.BNRegressor(**kw), b, yb)
    assert same(fa.params_, fb.params_)
    out = fa.predict(a)
    assert out.chunks == ((0, 600, 0, 400, 0),)
    assert np.array_equal(out.compute(), fa.predict(X))


def test_a_dask_fit_leaves_no_pool_a_forked_child_waits_on():
    """After a Dask fit and gradient in a process that had run no other
    Dask work, a fork-started child computes with Dask (it waited forever
    on the threads of the pool the fit had made, which it lacks)."""
    import subprocess
    code = """if True:
        import multiprocessing, warnings
        import numpy as np, dask.array as da, bngrad
        warnings.simplefilter("ignore")
        rng = np.random.default_rng(0)
        X = rng.standard_normal((2000, 4)); y = X @ [1.0, -1.0, 0.5, 0.0]
        Xd, yd = da.from_array(X, chunks=500), da.from_array(y, chunks=500)
        est = bngrad.BNRegressor(hidden=3, optimizer="lbfgs", max_iter=5).fit(Xd, yd)
        bngrad.gradients(Xd, yd, est.params_)
        # a DataFrame's block sizes are counted by a compute of their own,
        # which had run on Dask's global pool
        import pandas as pd, dask.dataframe as dd
        df = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")).assign(y=y), npartitions=4)
        bngrad.BNRegressor(hidden=3, optimizer="lbfgs", max_iter=5).fit(df[list("abcd")], df["y"])
        bngrad.gradients(df[list("abcd")], df["y"], est.params_)
        import dask.threaded
        assert dask.threaded.default_pool is None
        def child(i):
            return est.predict(da.from_array(X, chunks=700)).compute()
        with multiprocessing.get_context("fork").Pool(2) as pool:
            got = pool.map_async(child, range(2)).get(timeout=60)
        assert all(np.array_equal(g, est.predict(X)) for g in got)
        print("ok")
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


@pytest.mark.filterwarnings("ignore::UserWarning")     # catch_warnings is per process
def test_dask_fits_in_threads_at_once_keep_their_own_pools():
    """Fits in several threads at once, each on its own pool: none shuts
    another's (a pool in Dask's shared config did, mid-fit, and left a dead
    one there for every later compute); and a constant input has no say,
    as in memory."""
    import threading
    X, y = regression(3000)
    X[:, 3] = 0.25
    results, errors = {}, []

    def run(i):
        try:
            results[i] = quiet_fit(bngrad.BNRegressor(hidden=3, optimizer="lbfgs",
                                                      max_iter=4 + 6 * i, seed=i),
                                   chunked(X, 400), chunked(y, 400))
        except Exception as err:               # noqa: BLE001 (reported below)
            errors.append(err)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and dask.config.get("pool", None) is None
    for i, est in results.items():
        ref = quiet_fit(bngrad.BNRegressor(hidden=3, optimizer="lbfgs", max_iter=4 + 6 * i,
                                           seed=i), chunked(X, 400), chunked(y, 400))
        assert all(np.array_equal(a, b) for a, b in zip(est.params_, ref.params_))
        assert not est.params_.G1[3].any()
        moved = X[:5].copy()
        moved[:, 3] = 7.0
        assert np.array_equal(est.predict(moved), est.predict(X[:5]))


def test_parquet_nulls_duplicates_and_empty_files(tmp_path):
    X, y = regression(300)
    cols = {"a": X[:, 0], "b": X[:, 1], "y": y}
    write_parquet(tmp_path / "data", [{k: v[:200] for k, v in cols.items()},
                                      {k: v[:0] for k, v in cols.items()},
                                      {k: v[200:] for k, v in cols.items()}], row_group_size=64)
    write_parquet(tmp_path / "whole", [cols], row_group_size=64)
    kw = dict(hidden=3, decay=0.1, seed=1, max_iter=10)
    fits = [quiet_fit(bngrad.BNRegressor(**kw), *bd.read_parquet(str(tmp_path / d), "y")[:2])
            for d in ("data", "whole")]
    assert np.allclose(fits[0].predict(X[:, :2]), fits[1].predict(X[:, :2]), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = bd.fit_parquet(bngrad.BNRegressor(**kw), str(tmp_path / "data"), "y")
    import pandas as pd
    assert np.allclose(est.predict(pd.DataFrame(X[:, :2], columns=["a", "b"])),
                       fits[1].predict(X[:, :2]), rtol=1e-12)
    with pytest.raises(ValueError, match="^x names the column 'a' twice$"):
        bd.fit_parquet(bngrad.BNRegressor(**kw), str(tmp_path / "data"), "y", x=["a", "a"])
    b = cols["b"].copy()
    b[250] = np.nan                            # a null in Parquet
    write_parquet(tmp_path / "nulls", [{**cols, "b": b}], row_group_size=64)
    with pytest.raises(ValueError, match="^x: column 'b' contains nulls, NaN or Inf$"):
        bd.fit_parquet(bngrad.BNRegressor(**kw), str(tmp_path / "nulls"), "y")


# dask's own parquet writer calls set_index(inplace=True), which pandas 3.1 deprecates
@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_parquet_written_by_dataframes_leaves_their_index_out_of_x(tmp_path):
    import pandas as pd
    import dask.dataframe as dd
    X, y = regression(300)
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y})
    # pandas writes a named index as a column; Dask writes its own index too
    frame.set_index(pd.Index(np.arange(300) * 3, name="id")).to_parquet(tmp_path / "pd.parquet")
    dd.from_pandas(frame, npartitions=2).to_parquet(str(tmp_path / "dd"))
    for path in (tmp_path / "pd.parquet", tmp_path / "dd"):
        assert bd.read_parquet(str(path), "y")[3] == ["a", "b"]


# (dask's parquet reader: pandas 3.1 deprecates its reset_index(inplace=True))
@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_a_frame_dask_read_from_several_parquet_files_fits(tmp_path):
    # dd.read_parquet's frame has a partition per file but becomes an array
    # of fewer blocks: to_dask_array(lengths=True) refused it
    import dask.dataframe as dd
    X, y = regression(600)
    cols = {f"x{j}": X[:, j] for j in range(4)}
    write_parquet(tmp_path / "data", [{**{k: v[lo:lo + 200] for k, v in cols.items()},
                                       "y": y[lo:lo + 200]} for lo in (0, 200, 400)],
                  row_group_size=200)
    frame = dd.read_parquet(str(tmp_path / "data"))
    p = bngrad.init_params(4, 5, seed=3)
    g = bngrad.gradients(frame[list(cols)], frame["y"], p)
    assert worst(g, bngrad.gradients(X, y, p)) < 1e-12
    kw = dict(hidden=5, decay=0.2, seed=7, max_iter=20)
    est = quiet_fit(bngrad.BNRegressor(**kw), frame[list(cols)], frame["y"])
    assert fitted_gap(est, quiet_fit(bngrad.BNRegressor(**kw), chunked(X, 200),
                                     chunked(y, 200))) < 1e-8


def test_a_parquet_file_lacking_a_column_is_named(tmp_path):
    X, y = regression(200)
    write_parquet(tmp_path / "data", [{"a": X[:100, 0], "b": X[:100, 1], "y": y[:100]},
                                      {"a": X[100:, 0], "y": y[100:]}], row_group_size=50)
    with pytest.raises(ValueError, match="part-001.parquet' has no column 'b'"):
        bd.read_parquet(str(tmp_path / "data"), "y")
    # the first file lacking it: not an x without b
    write_parquet(tmp_path / "first", [{"a": X[:100, 0], "y": y[:100]},
                                       {"a": X[100:, 0], "b": X[100:, 1], "y": y[100:]}],
                  row_group_size=50)
    for x in (None, ["a", "b"]):
        with pytest.raises(ValueError, match="part-000.parquet' has no column 'b'"):
            bd.read_parquet(str(tmp_path / "first"), "y", x=x)


def test_a_column_flat_on_the_rows_that_count_is_flat_as_in_memory():
    # the first row, of weight 0, differs: D = X - x0 then rounded to a spread
    # of 1e-16, which the Dask fit standardised into a signal
    X, y = regression(200, p1=3)
    X[:, 2] = 0.1
    X[0, 2] = 5.0
    w = np.ones(200)
    w[0] = 0.0
    kw = dict(hidden=3, optimizer="lbfgs", decay=0.01, seed=1, max_iter=50)
    m = quiet_fit(bngrad.BNRegressor(**kw), X, y, sample_weight=w)
    d = quiet_fit(bngrad.BNRegressor(**kw), chunked(X, 50), chunked(y, 50),
                  sample_weight=chunked(w, 50))
    assert d.x_center_[2] == 0.1 and d.x_scale_[2] == 1.0
    assert np.array_equal(d.params_.G1[2], np.zeros(3))
    Z = X[:5].copy()
    Z[:, 2] = 3.0
    assert np.array_equal(d.predict(Z), d.predict(X[:5]))
    assert worst(d.predict(X), m.predict(X)) < 1e-8


def test_a_first_block_of_weight_zero_far_away_changes_nothing():
    # x0 came from the first block, all of weight 0 and 1e6 away: G1's
    # gradient 3 % off, and with eps = 0 a column called flat (helper-31)
    rng = np.random.default_rng(0)
    N = 200
    X = rng.standard_normal((N, 2)) * 0.1
    X[:10] = 1e6
    y = rng.standard_normal(N)
    w = np.r_[np.zeros(10), rng.uniform(0.5, 2.0, N - 10)]
    p = bngrad.init_params(2, 3, 1, seed=1)
    for eps in (1e-5, 0.0):
        g = bngrad.gradients(chunked(X, 10), y, p, eps=eps, weights=w)
        h = bngrad.gradients(X[10:], y[10:], p, eps=eps, weights=w[10:])
        assert worst(g, h) < 1e-11, eps
    # weights of 1e-12 there, or rows so far (1e160) that their squares overflow
    wt = np.r_[np.full(10, 1e-12), w[10:]]
    assert worst(bngrad.gradients(chunked(X, 10), y, p, weights=wt),
                 bngrad.gradients(X, y, p, weights=wt)) < 1e-11
    Xf = X.copy()
    Xf[:10] = 1e160
    assert worst(bngrad.gradients(chunked(Xf, 10), y, p, "relu", weights=w),
                 bngrad.gradients(X[10:], y[10:], p, "relu", weights=w[10:])) < 1e-11
    kw = dict(hidden=3, optimizer="lbfgs", decay=0.1, seed=1, max_iter=20)
    a = quiet_fit(bngrad.BNRegressor(**kw), chunked(X, 10), chunked(y, 10),
                  sample_weight=chunked(w, 10))
    b = quiet_fit(bngrad.BNRegressor(**kw), X[10:], y[10:], sample_weight=w[10:])
    assert worst(a.predict(X[10:]), b.predict(X[10:])) < 1e-8


def test_lazy_predictions_are_of_the_fit_at_the_call():
    X, y = regression(200)
    est = bngrad.BNRegressor(hidden=2, optimizer="lbfgs", decay=0.1, seed=1).fit(X, y)
    lazy, now = est.predict(chunked(X, 50)), est.predict(X)
    est.fit(X, -y)                               # a cross-validation loop's next fold
    assert np.array_equal(lazy.compute(), now)


def test_a_dataframe_column_of_another_type_is_named():
    import pandas as pd
    import dask.dataframe as dd
    frame = pd.DataFrame({"a": np.arange(10.0), "b": pd.Categorical(list("xy") * 5)})
    with pytest.raises(TypeError, match="^X must be real numbers: column 'b' is category"):
        bngrad.BNRegressor().fit(dd.from_pandas(frame, npartitions=2), np.arange(10.0))
    # pandas' nullable integers are numbers, as in memory; their NA is named
    frame = pd.DataFrame({"a": np.arange(40.0), "b": pd.array(np.arange(40) % 3, dtype="Int64")})
    kw = dict(hidden=2, optimizer="lbfgs", decay=0.1, max_iter=3, seed=1)
    got = quiet_fit(bngrad.BNRegressor(**kw), dd.from_pandas(frame, npartitions=2),
                    np.arange(40.0))
    ref = quiet_fit(bngrad.BNRegressor(**kw), frame.astype(float), np.arange(40.0))
    assert worst(got.predict(frame.astype(float)), ref.predict(frame.astype(float))) < 1e-10
    frame.loc[5, "b"] = pd.NA
    with pytest.raises(ValueError, match="^X contains NaN or Inf, first in column 'b'"):
        bngrad.BNRegressor(**kw).fit(dd.from_pandas(frame, npartitions=2), np.arange(40.0))


def test_parquet_types_of_every_file_paths_and_x_checked(tmp_path):
    import pandas as pd
    X, y = regression(100)
    a = {"a": X[:50, 0], "y": y[:50]}
    write_parquet(tmp_path / "time", [a, {"a": pd.to_datetime(np.arange(50), unit="s").values,
                                          "y": y[50:]}], row_group_size=50)
    write_parquet(tmp_path / "text", [a, {"a": np.array(["1.5"] * 50), "y": y[50:]}],
                  row_group_size=50)
    kw = dict(hidden=2, decay=0.1, max_iter=5)
    for d in ("time", "text"):
        with pytest.raises(TypeError, match="^x: column 'a' is .* in file '.*part-001.parquet'"):
            bd.fit_parquet(bngrad.BNRegressor(**kw), str(tmp_path / d), "y")
    os.makedirs(tmp_path / "empty")
    with pytest.raises(ValueError, match="holds no Parquet files"):
        bd.fit_parquet(bngrad.BNRegressor(**kw), str(tmp_path / "empty"), "y")
    write_parquet(tmp_path / "ok", [a], row_group_size=50)
    with pytest.raises(TypeError, match="^x must be a column name or a list of them, got 3"):
        bd.read_parquet(str(tmp_path / "ok"), "y", x=3)
    with pytest.raises(ValueError, match="^x must name at least one column"):
        bd.read_parquet(str(tmp_path / "ok"), "y", x=[])
    for bad, match in (("thread", "^scheduler must be None, one of"),
                       ("distributed", "^scheduler must be None, one of"),
                       ("processes", "^scheduler='processes' starts new processes")):
        with pytest.raises(ValueError, match=match):
            bd.fit_parquet(bngrad.BNRegressor(**kw), str(tmp_path / "ok"), "y", scheduler=bad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = bd.fit_parquet(bngrad.BNRegressor(**kw), str(tmp_path / "ok"), "y",
                             scheduler="sync")
    assert est.n_features_in_ == 1
    # an address where no scheduler answers: an error naming scheduler (distributed's
    # own named only the address), after the connect timeout (30 s by default)
    import dask
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(OSError, match=r"^scheduler='tcp://127.0.0.1:1': could not connect "
                                          r"to a distributed scheduler there \(Timed out"):
            bd.fit_parquet(bngrad.BNRegressor(**kw), tmp_path / "ok", "y",
                           scheduler="tcp://127.0.0.1:1")


# --- a distributed cluster ------------------------------------------------------

@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=40) as c:
        yield c


def test_fit_on_a_cluster_equals_the_threaded_fit(cluster):
    from distributed import Client
    X, y = regression(5000)
    kw = dict(hidden=6, seed=4, max_iter=8)
    Xd, yd = chunked(X, 600), chunked(y, 600)
    p = bngrad.init_params(4, 6, seed=2)
    ref_fit = quiet_fit(bngrad.BNRegressor(**kw), Xd, yd)
    ref_grad = bngrad.gradients(Xd, yd, p)
    with Client(cluster) as client:
        Xc, yc = client.persist([Xd, yd])       # the blocks live on the workers
        est = quiet_fit(bngrad.BNRegressor(**kw), Xc, yc)
        g = bngrad.gradients(Xc, yc, p)
        assert len(client.scheduler_info()["workers"]) == 2
    assert all(np.array_equal(a, b) for a, b in zip(g, ref_grad))
    assert all(np.array_equal(a, b) for a, b in zip(est.params_, ref_fit.params_))
    assert np.array_equal(est.predict(X), ref_fit.predict(X))


def _die_once(block, flag, block_info=None):
    """Block 2 of X, on its pass number read from flag: kill this worker
    (SIGKILL, as the OOM killer would), the first time only."""
    if block_info[0]["chunk-location"][0] == 2 and os.path.exists(flag):
        with open(flag) as fh:
            left = int(fh.read())
        if left == 0:
            os.remove(flag)
            os.kill(os.getpid(), signal.SIGKILL)
        with open(flag, "w") as fh:
            fh.write(str(left - 1))
    return block


def test_a_worker_killed_mid_fit_changes_nothing(cluster, tmp_path):
    import cloudpickle
    from distributed import Client
    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # workers need _die_once
    X, y = regression(4000)
    flag = str(tmp_path / "die-on-pass")
    Xd = chunked(X, 500).map_blocks(_die_once, flag, dtype=X.dtype)
    kw = dict(hidden=5, seed=6, max_iter=8)
    with Client(cluster) as client:
        ref = quiet_fit(bngrad.BNRegressor(**kw), Xd, chunked(y, 500))
        before = set(client.scheduler_info()["workers"])
        with open(flag, "w") as fh:
            fh.write("3")                       # on the fourth read of block 2
        est = quiet_fit(bngrad.BNRegressor(**kw), Xd, chunked(y, 500))
        client.wait_for_workers(2)
        after = set(client.scheduler_info()["workers"])
    assert not os.path.exists(flag)             # it did die
    assert before != after                      # and the nanny started a new worker
    assert all(np.array_equal(a, b) for a, b in zip(est.params_, ref.params_))


def test_out_of_core_fit_on_parquet_larger_than_the_workers_memory(tmp_path):
    """Data three times one worker's memory limit, 1.5 times the cluster's, in a
    directory of Parquet files: the fit streams their row groups.  Pausing
    and spilling are off, so the one memory rule left is the nanny's: a
    worker past 95% of its limit is killed, which would show in the worker
    list.  (The limit is ~2x a worker's own footprint with numba and
    pyarrow loaded, ~210 MB; a pass holds ~100 MB more at its peak.)"""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from distributed import Client, LocalCluster
    limit = 400 * 2**20
    rows, files, groups = 100_000, 4, 0
    directory = tmp_path / "big"
    os.makedirs(directory)
    base = np.random.default_rng(0).uniform(-2, 2, (10, rows))
    writers = [None] * files
    while groups * rows * 11 * 8 < 3 * limit:
        X = base + 1e-3 * groups                # cheap to make, and no two row groups alike
        table = pa.table({**{f"x{j}": X[j] for j in range(10)},
                          "y": np.sin(X[0]) + X[1] * X[2]})
        k = groups % files
        if writers[k] is None:
            writers[k] = pq.ParquetWriter(directory / f"part-{k}.parquet", table.schema,
                                          compression="none", use_dictionary=False,
                                          write_statistics=False)
        writers[k].write_table(table, row_group_size=rows)
        groups += 1
    for w in writers:
        w.close()
    assert sum(f.stat().st_size for f in directory.iterdir()) > 3 * limit
    config = {"distributed.worker.memory.target": False, "distributed.worker.memory.spill": False,
              "distributed.worker.memory.pause": False}
    try:
        with dask.config.set(config), \
                LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                             memory_limit=limit, dashboard_address=":0",
                             silence_logs=40) as c, Client(c) as client:
            before = set(client.scheduler_info()["workers"])
            est = bngrad.BNRegressor(hidden=16, decay=1.0, max_iter=1, seed=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = bd.fit_parquet(est, str(directory), "y")
            assert set(client.scheduler_info()["workers"]) == before
    finally:
        for f in directory.iterdir():
            os.remove(f)
    assert list(est.feature_names_in_) == [f"x{j}" for j in range(10)]
    assert est.n_iter_ == 1 and np.isfinite(est.loss_curve_).all()
    assert np.isfinite(est.params_.G1).all() and est.x_center_.shape == (10,)
