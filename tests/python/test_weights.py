"""Case weights are frequency weights: an integer weight k counts a row k
times, in the loss and in the batch statistics alike (W = sum(w) stands for
N).  Held against complex-step derivatives of a weighted forward pass and
against the data with rows repeated, on every path."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import bngrad
from bngrad import engine
from bngrad.kernels import tiled
import complex_step
from conftest import rel_err

NAMES = ("loss", "G1", "gamma", "beta", "G2", "b")
ACTS = sorted(bngrad.ACTIVATIONS)


def case(N, p1, p2, q, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, p1)) * 2 + 3
    y = rng.standard_normal((N, q))
    p = bngrad.Params(rng.standard_normal((p1, p2)), rng.uniform(0.5, 2, p2),
                      rng.standard_normal(p2), rng.standard_normal((p2, q)),
                      rng.standard_normal(q))
    return X, y, p


@pytest.fixture(params=["small", "tiled"])
def path(request, monkeypatch):
    if request.param == "tiled":              # tiny tiles and chunks: boundaries everywhere
        monkeypatch.setattr(engine, "SMALL_MAX", 0)
        monkeypatch.setattr(tiled, "tile_rows", lambda p1, p2: 3)
        monkeypatch.setattr(tiled, "chunk_rows", lambda p1, p2, N: 7)
    return request.param


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31), N=st.integers(3, 20), q=st.sampled_from([1, 2]),
       activation=st.sampled_from(ACTS), ddof=st.sampled_from([0, 1]),
       eps=st.sampled_from([1e-5, 0.1]))
def test_weights_against_complex_step(seed, N, q, activation, ddof, eps):
    X, y, p = case(N, 3, 4, q, seed)
    w = np.random.default_rng(seed).uniform(0.1, 3, N)
    w[0] = 0.0                                  # a row that does not count
    g = bngrad.gradients(X, y, p, activation, eps=eps, ddof=ddof, weights=w)
    loss, ref = complex_step.gradients(X, y, p, activation, eps, ddof, w)
    assert abs(g.loss - loss) <= 1e-10 * loss
    scale = max(np.abs(r).max() for r in ref) + loss
    for k, r in zip(NAMES[1:], ref):
        np.testing.assert_allclose(getattr(g, k), r, rtol=1e-8, atol=1e-12 * scale, err_msg=k)


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("ddof", [0, 1])
def test_integer_weights_are_repeated_rows(activation, ddof, path):
    X, y, p = case(23, 4, 5, 2, 7)
    w = np.random.default_rng(1).integers(0, 4, 23)
    w[:2] = 1
    g = bngrad.gradients(X, y, p, activation, ddof=ddof, weights=w)
    rep = np.repeat(np.arange(23), w)
    h = bngrad.gradients(X[rep], y[rep], p, activation, ddof=ddof)
    for k in NAMES:
        assert rel_err(getattr(g, k), getattr(h, k)) < 1e-12, k


def test_unit_weights_change_nothing(path):
    X, y, p = case(17, 3, 4, 1, 3)
    g = bngrad.gradients(X, y, p, "tanh", weights=np.ones(17))
    h = bngrad.gradients(X, y, p, "tanh")
    for k in NAMES:
        assert rel_err(getattr(g, k), getattr(h, k)) < 1e-13, k


def test_weights_scale_free():
    """Frequency weights scaled by 2 with ddof = 0 give the same normalised net."""
    X, y, p = case(15, 3, 4, 1, 4)
    w = np.random.default_rng(2).uniform(0.5, 2, 15)
    g = bngrad.gradients(X, y, p, "sigmoid", weights=w)
    h = bngrad.gradients(X, y, p, "sigmoid", weights=2 * w)
    for k in NAMES:
        assert rel_err(getattr(g, k), getattr(h, k)) < 1e-12, k


@pytest.mark.parametrize("w, match", [
    (np.ones(4), "weights must have length 10"),
    (-np.ones(10), "weights must be >= 0"),
    (np.r_[1.0, np.zeros(9)], "at least 2 rows a non-zero weight"),
    (np.r_[np.nan, np.ones(9)], "weights contains NaN or Inf"),
    (np.full(10, 1e308), "weights sum past the largest float64; divide them"),
    (np.full(10, "a"), "weights must be real numbers"),
    (np.ones((10, 2)), "weights must be 0-D or 1-D"),
])
def test_bad_weights_named(w, match):
    X, y, p = case(10, 3, 4, 1, 0)
    with pytest.raises((ValueError, TypeError), match=match):
        bngrad.gradients(X, y, p, weights=w)


def test_weights_on_the_threaded_path():
    N = engine.PARALLEL_MIN // 8 + 5
    X, y, p = case(N, 3, 5, 1, 9)
    w = np.random.default_rng(3).integers(1, 3, N)
    g = bngrad.gradients(X, y, p, "softplus", weights=w)
    rep = np.repeat(np.arange(N), w)
    h = bngrad.gradients(X[rep], y[rep], p, "softplus")
    for k in NAMES:
        assert rel_err(getattr(g, k), getattr(h, k)) < 1e-11, k


def test_a_flat_column_with_a_weightless_first_row():
    """eps = 0 and a column of X G1 flat on the rows that count (the first
    row, of weight 0, elsewhere): the small kernel's one-pass variance can
    round below zero there, and must still call the column flat."""
    rng = np.random.default_rng(1)
    for trial in range(200):
        N = int(rng.integers(3, 12))
        x = np.full(N, rng.uniform(-10, 10))
        x[0] = rng.uniform(-10, 10)
        X = np.c_[x, rng.standard_normal(N)]
        w = rng.uniform(0.1, 3, N)
        w[0] = 0.0
        G1 = np.zeros((2, 3))
        G1[0] = rng.uniform(0.5, 2, 3)
        p = bngrad.init_params(2, 3, seed=trial)._replace(G1=G1)
        with pytest.raises(ValueError, match="column 0 of X @ G1 has zero variance"):
            bngrad.gradients(X, rng.standard_normal(N), p, "relu", eps=0.0, weights=w)


def test_a_far_first_row_of_weight_zero_changes_nothing(path):
    """A first row of weight 0 far from the others (an outlier left out):
    the statistics' sums shifted X by it, and their centring cancelled its
    offset in rounding (the variance of a column of spread 0.1, 1e6 away,
    2 % wrong; G1's gradient 13 % at N = 20000).  As if the row were not
    there, on every path and in a fit."""
    rng = np.random.default_rng(0)
    N = 200
    X = rng.standard_normal((N, 2)) * 0.1
    X[0] = 1e6
    y = rng.standard_normal(N)
    w = np.r_[0.0, rng.uniform(0.5, 2.0, N - 1)]
    p = bngrad.init_params(2, 3, 1, seed=1)
    for eps in (1e-5, 0.0):
        g = bngrad.gradients(X, y, p, eps=eps, weights=w)
        h = bngrad.gradients(X[1:], y[1:], p, eps=eps, weights=w[1:])
        for k in NAMES:
            assert rel_err(getattr(g, k), getattr(h, k)) < 1e-11, (k, eps)
    # down-weighted rather than left out (helper-31: 9 % off at 1e-12), and a
    # row of weight 0 elsewhere far enough that its squares overflow (inf * 0)
    wt = w.copy()
    wt[0] = 1e-12
    g = bngrad.gradients(X, y, p, weights=wt)
    loss, ref = complex_step.gradients(X, y, p, "relu", 1e-5, 0, wt)
    assert abs(g.loss - loss) <= 1e-10 * loss
    for k, r in zip(NAMES[1:], ref):
        assert rel_err(getattr(g, k), r) < 1e-7, k
    Xo = X.copy()
    Xo[0] = X[1]
    Xo[5, 0] = 1e160
    wo = w.copy()
    wo[0], wo[5] = 1.0, 0.0
    keep = np.arange(N) != 5
    for eps, act in ((1e-5, "tanh"), (0.0, "tanh"), (1e-5, "relu")):
        g = bngrad.gradients(Xo, y, p, act, eps=eps, weights=wo)
        h = bngrad.gradients(Xo[keep], y[keep], p, act, eps=eps, weights=wo[keep])
        for k in NAMES:
            assert rel_err(getattr(g, k), getattr(h, k)) < 1e-11, (k, eps, act)
    # a fit leaves such a row out: its squares had made every sum NaN (L-BFGS
    # predicted NaN, the evidence fit raised numpy's LinAlgError)
    Xf = rng.standard_normal((N, 2)) * 0.1 + 5
    yf = np.sin(3 * Xf[:, 0]) + rng.standard_normal(N) * 0.1
    Xf[7] = 1e155
    for kw in (dict(optimizer="lbfgs", decay=0.1, max_iter=30), dict()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = bngrad.BNRegressor(hidden=3, seed=1, **kw).fit(Xf, yf, sample_weight=wo)
            b = bngrad.BNRegressor(hidden=3, seed=1, **kw).fit(Xf[keep], yf[keep],
                                                              sample_weight=wo[keep])
        assert np.abs(a.predict(Xf[keep]) - b.predict(Xf[keep])).max() < 1e-12, kw
    # far in the fit's standardised units, not the span's: a row of weight
    # 1e-130 at 1e60 widened the span, and one of weight 0 at 1e159 was kept
    # (helper-33); and a Z that overflows only in a row of weight 0
    Xs, ws = Xf.copy(), wo.copy()
    Xs[0, 0], ws[0] = 1e60, 1e-130
    Xs[7, 0] = 1e159
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = bngrad.BNRegressor(hidden=3, seed=1).fit(Xs, yf, sample_weight=ws)
        b = bngrad.BNRegressor(hidden=3, seed=1).fit(Xs[keep], yf[keep], sample_weight=ws[keep])
    assert np.abs(a.predict(Xs[keep]) - b.predict(Xs[keep])).max() < 1e-12
    big = p._replace(G1=p.G1 * 1e9)
    Xo[5, 0] = 1e300
    g = bngrad.gradients(Xo, y, big, "relu", weights=wo)
    h = bngrad.gradients(Xo[keep], y[keep], big, "relu", weights=wo[keep])
    for k in NAMES:
        assert rel_err(getattr(g, k), getattr(h, k)) < 1e-11, k
    kw = dict(hidden=3, optimizer="lbfgs", decay=0.1, seed=1, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = bngrad.BNRegressor(**kw).fit(X, y, sample_weight=w).predict(X[1:])
        b = bngrad.BNRegressor(**kw).fit(X[1:], y[1:], sample_weight=w[1:]).predict(X[1:])
    assert np.abs(a - b).max() < 1e-8


def test_adam_s_running_statistics_are_weighted():
    """Adam's running statistics (what predict uses) took every row of a
    batch alike: a row of weight 0 moved to 1e10 moved the predictions of
    the rows that count by 0.4 (helper-34)."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((50, 2))
    y = np.sin(2 * X[:, 0]) + 0.1 * rng.standard_normal(50)
    w = np.ones(50)
    w[[3, 9]] = 0.0
    got = []
    for v in (0.5, 10.0, 1e10):
        Xv = X.copy()
        Xv[9, 0] = v
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = bngrad.BNRegressor(hidden=3, seed=1, optimizer="adam", max_iter=20)
            got.append(est.fit(Xv, y, sample_weight=w).predict(X[w > 0]))
    assert all(np.array_equal(g, got[0]) for g in got)
