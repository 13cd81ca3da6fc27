"""BNRegressor: scikit-learn conventions, fit quality, reproducibility, the
prediction statistics, and bad input."""
import warnings

import numpy as np
import pytest
from scipy import optimize

import bngrad
from bngrad import fit as fitmod


def data(N=600, p1=4, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (N, p1)) * [1, 10, 0.1, 100][:p1] + [0, 50, 0, -300][:p1]
    Xu = (X - [0, 50, 0, -300][:p1]) / [1, 10, 0.1, 100][:p1]
    y = np.sin(2 * Xu[:, 0]) + Xu[:, 1] ** 2 / 2 - Xu[:, 2] * Xu[:, 3] + noise * rng.standard_normal(N)
    return X, 1000 + 50 * y


def test_check_estimator():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.utils.estimator_checks import check_estimator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(bngrad.BNRegressor(), on_fail=None)
    failed = [(r["check_name"], r["exception"]) for r in results if r["status"] == "failed"]
    assert not failed
    assert sklearn.base.clone(bngrad.BNRegressor(hidden=5)).hidden == 5


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_fits_a_nonlinear_function_with_defaults(optimizer):
    X, y = data()
    Xt, yt = data(seed=1)
    est = bngrad.BNRegressor(hidden=16, optimizer=optimizer,
                             max_iter=None if optimizer == "lbfgs" else 150).fit(X, y)
    assert est.score(Xt, yt) > 0.9
    assert est.n_iter_ >= 1 and len(est.loss_curve_) >= 1
    assert est.loss_curve_[-1] < est.loss_curve_[0]


def test_same_seed_same_fit_bit_for_bit():
    X, y = data(N=300)
    for optimizer in ("lbfgs", "adam"):
        a = bngrad.BNRegressor(hidden=6, optimizer=optimizer, max_iter=20, seed=3).fit(X, y)
        b = bngrad.BNRegressor(hidden=6, optimizer=optimizer, max_iter=20, seed=3).fit(X, y)
        c = bngrad.BNRegressor(hidden=6, optimizer=optimizer, max_iter=20, seed=4).fit(X, y)
        assert all(np.array_equal(u, v) for u, v in zip(a.params_, b.params_))
        assert not np.array_equal(a.params_.G1, c.params_.G1)
        assert np.array_equal(a.predict(X), b.predict(X))


def test_lbfgs_predicts_with_exact_training_statistics():
    """After full-batch training, predicting the training set reproduces the
    training forward pass exactly (batch stats = population stats)."""
    X, y = data(N=200)
    est = bngrad.BNRegressor(hidden=5, max_iter=50, ddof=1, eps=1e-3).fit(X, y)
    Xs = (X - est.x_center_) / est.x_scale_
    Z = Xs @ est.params_.G1
    np.testing.assert_allclose(est.running_mean_, Z.mean(axis=0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(est.running_var_, Z.var(axis=0, ddof=1), rtol=1e-12)
    ys = (y - est.y_center_) / est.y_scale_
    g = bngrad.gradients(Xs, ys, est.params_, est.activation, eps=1e-3, ddof=1)
    resid = (y - est.predict(X)) / est.y_scale_
    assert np.mean(resid ** 2) == pytest.approx(g.loss, rel=1e-10)
    one = est.predict(X[:1])
    assert one.shape == (1,) and one[0] == pytest.approx(est.predict(X)[0], rel=1e-12)


def test_adam_keeps_running_statistics_like_pytorch():
    X, y = data(N=256)
    est = bngrad.BNRegressor(hidden=4, optimizer="adam", batch_size=256, max_iter=1,
                             momentum=0.25).fit(X, y)
    Xs = (X - est.x_center_) / est.x_scale_
    # one full batch, one step: running = 0.75 * init + 0.25 * batch stats at the initial weights
    p0 = bngrad.init_params(4, 4, 1, seed=0)
    Z = Xs @ p0.G1
    np.testing.assert_allclose(est.running_mean_, 0.25 * Z.mean(axis=0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(est.running_var_, 0.75 + 0.25 * Z.var(axis=0, ddof=1), rtol=1e-12)


def test_objective_gradient_with_decay_matches_finite_differences():
    X, y = data(N=80)
    est = bngrad.BNRegressor(hidden=3, decay=0.7, activation="tanh")
    s = est._settings()
    Xs = (X - X.mean(0)) / X.std(0)
    Ys = ((y - y.mean()) / y.std())[:, None]
    p0 = bngrad.init_params(4, 3, 1, seed=0)
    f = est._objective(Xs, Ys, p0, s)
    theta = fitmod._flatten(p0) + 0.1
    err = optimize.check_grad(lambda t: f(t)[0], lambda t: f(t)[1], theta)
    assert err < 1e-6 * np.linalg.norm(f(theta)[1])


def test_decay_shrinks_weights():
    X, y = data(N=300)
    small = bngrad.BNRegressor(hidden=8, max_iter=200).fit(X, y)
    big = bngrad.BNRegressor(hidden=8, max_iter=200, decay=50.0).fit(X, y)
    norm = lambda e: np.sum(e.params_.G1 ** 2) + np.sum(e.params_.G2 ** 2)
    assert norm(big) < norm(small)


def test_multi_output_and_shapes():
    X, y = data(N=150)
    Y = np.c_[y, -y, y / 2]
    est = bngrad.BNRegressor(hidden=5, max_iter=30).fit(X, Y)
    assert est.predict(X).shape == (150, 3)
    assert est.params_.G2.shape == (5, 3)


@pytest.mark.parametrize("kw,Xy,match", [
    ({}, "y_text", "y must be numeric"),
    ({}, "rows", "y has 9 rows but X has 10"),
    ({}, "nan", "X contains NaN"),
    ({"hidden": 0}, None, "hidden"),
    ({"hidden": 2.5}, None, "hidden"),
    ({"optimizer": "sgd"}, None, "optimizer"),
    ({"activation": "elu"}, None, "activation"),
    ({"decay": -1}, None, "decay"),
    ({"eps": -1}, None, "eps"),
    ({"ddof": 3}, None, "ddof"),
    ({}, "one_row", "1 sample"),
])
def test_bad_input(kw, Xy, match):
    X, y = data(N=10)
    if Xy == "y_text":
        y = np.array(["a"] * 10)
    elif Xy == "rows":
        y = y[:9]
    elif Xy == "nan":
        X = X.copy()
        X[3, 1] = np.nan
    elif Xy == "one_row":
        X, y = X[:1], y[:1]
    with pytest.raises(ValueError, match=match):
        bngrad.BNRegressor(**kw).fit(X, y)


def test_predict_checks_columns_and_fit():
    X, y = data(N=50)
    with pytest.raises(ValueError, match="not fitted"):
        bngrad.BNRegressor().predict(X)
    est = bngrad.BNRegressor(hidden=3, max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but BNRegressor is expecting 4"):
        est.predict(X[:, :3])
    with pytest.raises(ValueError, match="X must be numeric"):
        est.predict(np.array([["a", "b", "c", "d"]]))
    with pytest.raises(ValueError, match="X must be numeric"):
        bngrad.BNRegressor().fit(np.array([["1", "x"]] * 5), np.arange(5.0))


def test_fit_fixture_is_what_the_core_fits():
    """The weights testthat holds bn_fit to are the ones Python fits now."""
    import json
    import os
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "fixtures"))
    from make_fit_fixture import SETTINGS, example
    with open(os.path.join(here, "..", "fixtures", "fit_example.json")) as fh:
        d = json.load(fh)
    x, y = example()
    assert np.array_equal(x, np.array(d["x"])) and np.array_equal(y, np.array(d["y"]))
    est = bngrad.BNRegressor(**SETTINGS).fit(np.asfortranarray(x), y)   # R's layout
    for k, v in est.params_._asdict().items():
        np.testing.assert_allclose(v, d["expected"][k], rtol=1e-10, atol=1e-12)
