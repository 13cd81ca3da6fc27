"""A law with errors (BNRegressor._law): where most rows follow an exact law
and a few are gross errors in it, the default fit refits with a t
distribution's weights and keeps that fit only where the rows it fits then
agree to LAW_SCALE of the first fit's robust sd; elsewhere the fit is the
first one, untouched."""
import warnings

import numpy as np
import pytest

import bngrad
from bngrad import fit as fitmod

ERRORS = np.array([8.0, -6.0, 10.0, 5.0])


def law(X):
    return np.exp(X[:, 0] / 2) + X[:, 1] - 0.5 * X[:, 2]


def law_data(N=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (N, 3))
    y = law(X)
    y[:4] += ERRORS
    return X, y


def test_a_law_with_errors_is_found_and_its_errors_downweighted():
    X, y = law_data()
    est = bngrad.BNRegressor(random_state=0).fit(X, y)
    w = est.robust_weights_
    assert w.shape == (100,)
    assert np.all(w[:4] < 0.01) and np.all(w[4:] > 0.2)
    assert abs(w.mean() - 1.0) < 1e-12               # the same total weight as the rows
    Xt = np.random.default_rng(1).uniform(-2, 2, (500, 3))
    err = np.mean((est.predict(Xt) - law(Xt)) ** 2)
    assert err < 1e-4 * np.var(law(Xt))


def test_the_first_fit_alone_takes_the_errors_as_noise(monkeypatch):
    # what the refit is for: without it the law is smoothed by a noise
    # variance the four errors set
    X, y = law_data()
    Xt = np.random.default_rng(1).uniform(-2, 2, (500, 3))
    with_law = bngrad.BNRegressor(random_state=0).fit(X, y)
    monkeypatch.setattr(fitmod, "LAW_Z", np.inf)
    first = bngrad.BNRegressor(random_state=0).fit(X, y)
    assert first.robust_weights_ is None
    assert (np.mean((first.predict(Xt) - law(Xt)) ** 2)
            > 100 * np.mean((with_law.predict(Xt) - law(Xt)) ** 2))


def test_noise_is_not_a_law_and_leaves_the_fit_as_it_was(monkeypatch):
    rng = np.random.default_rng(2)
    X = rng.uniform(-2, 2, (100, 3))
    y = law(X) + 0.3 * rng.standard_normal(100)
    y[:4] += ERRORS                           # gross errors, but in noise: no law to find
    refits = []
    fit_rows = fitmod.BNRegressor._fit_rows
    monkeypatch.setattr(fitmod.BNRegressor, "_fit_rows",
                        lambda est, *a, **k: refits.append(k) or fit_rows(est, *a, **k))
    est = bngrad.BNRegressor(random_state=0).fit(X, y)
    assert est.robust_weights_ is None
    assert len(refits) == 2                                     # it looked, one step
    monkeypatch.setattr(fitmod, "LAW_Z", np.inf)
    first = bngrad.BNRegressor(random_state=0).fit(X, y)
    assert np.array_equal(est.predict(X), first.predict(X))


def test_fewer_than_law_min_rows_of_weight_above_0_are_not_searched(monkeypatch):
    # where it found none and cost the most; a row counts once whatever its
    # weight, a row of weight 0 not at all
    refits = []
    fit_rows = fitmod.BNRegressor._fit_rows
    monkeypatch.setattr(fitmod.BNRegressor, "_fit_rows",
                        lambda est, *a, **k: refits.append(k) or fit_rows(est, *a, **k))

    def searched(X, y, w=None):
        refits.clear()
        bngrad.BNRegressor(random_state=0).fit(X, y, sample_weight=w)
        return len(refits) > 1

    n = fitmod.LAW_MIN_ROWS
    assert searched(*law_data(n))                         # (gross errors: it looks)
    assert not searched(*law_data(n - 1))
    X, y = law_data(n + 5)
    w = np.full(n + 5, 2.0)
    w[-5:] = 0.0
    assert searched(X, y, w)
    w[-6] = 0.0
    assert not searched(X, y, w)


def test_a_factor_designs_cells_are_not_searched_for_a_law():
    # replicates in few cells: the first fit's cell means stand
    rng = np.random.default_rng(3)
    X = np.repeat(np.arange(5.0), 12)[:, None]
    y = X[:, 0] ** 2 + 0.01 * rng.standard_normal(60)
    y[:3] += 20.0
    est = bngrad.BNRegressor(random_state=0).fit(X, y)
    assert est.robust_weights_ is None


def test_sample_weight_counts_with_the_t_weights():
    # rows of weight 0 are not the law's errors or its rows: with the errors
    # at weight 0 there is no error left to find, and the fit is the law's
    X, y = law_data()
    w = np.ones(100)
    w[:4] = 0.0
    est = bngrad.BNRegressor(random_state=0).fit(X, y, sample_weight=w)
    assert est.robust_weights_ is None
    twice = bngrad.BNRegressor(random_state=0).fit(X, y, sample_weight=np.full(100, 2.0))
    once = bngrad.BNRegressor(random_state=0).fit(X, y)
    np.testing.assert_allclose(twice.robust_weights_, once.robust_weights_, rtol=1e-6)


def test_each_output_of_a_law_counts():
    X, y = law_data()
    Y = np.c_[y, 2.0 * law(X) + X[:, 0]]
    est = bngrad.BNRegressor(random_state=0).fit(X, Y)
    assert est.robust_weights_.shape == (100,)
    assert np.all(est.robust_weights_[:4] < 0.01)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_other_optimisers_and_a_fixed_decay_fit_as_asked(optimizer):
    X, y = law_data()
    est = bngrad.BNRegressor(optimizer=optimizer, max_iter=20, random_state=0)
    with pytest.warns(Warning):
        est.fit(X, y)
    assert est.robust_weights_ is None
    assert bngrad.BNRegressor(decay=0.01, random_state=0).fit(X, y).robust_weights_ is None


def test_a_refit_replaces_the_robust_weights():
    X, y = law_data()
    est = bngrad.BNRegressor(random_state=0).fit(X, y)
    assert est.robust_weights_ is not None
    rng = np.random.default_rng(4)
    est.fit(X, law(X) + 0.3 * rng.standard_normal(100))
    assert est.robust_weights_ is None


def test_pandas_names_stay_with_a_law_found():
    pd = pytest.importorskip("pandas")
    X, y = law_data()
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    est = bngrad.BNRegressor(random_state=0).fit(df, y)
    assert est.robust_weights_ is not None
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # names that match: no warning
        est.predict(df)


def test_rows_of_weight_0_are_not_fitted_or_predicted_and_weigh_nan():
    # a row of weight 0 far out (its square would overflow) is left out of
    # the fit; the search for a law neither predicts it nor weights it
    X, y = law_data()
    X = np.r_[X, [[1.5e308, 0.0, 0.0]]]
    y = np.r_[y, 0.0]
    w = np.r_[np.ones(100), 0.0]
    with np.errstate(all="raise"):
        est = bngrad.BNRegressor(random_state=0).fit(X, y, sample_weight=w)
    assert np.isnan(est.robust_weights_[100])
    assert np.all(est.robust_weights_[:4] < 0.01)
    assert abs(np.mean(est.robust_weights_[:100]) - 1.0) < 1e-12


def test_a_refit_that_fails_leaves_the_previous_fit_whole(monkeypatch):
    X, y = law_data()
    est = bngrad.BNRegressor(random_state=0).fit(X, y)
    before = dict(vars(est))
    fit_rows = fitmod.BNRegressor._fit_rows

    calls = []

    def fail_in_refit(self, *a):
        calls.append(a)
        if len(calls) > 1:                   # the first refit
            raise KeyboardInterrupt
        return fit_rows(self, *a)
    monkeypatch.setattr(fitmod.BNRegressor, "_fit_rows", fail_in_refit)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, 2.0 * y)
    assert vars(est).keys() == before.keys()
    assert all(vars(est)[k] is v for k, v in before.items())


def test_the_fits_are_quiet_and_fit_warns_once_where_the_caller_is():
    # the fits themselves give no ConvergenceWarning: fit gives one, of the
    # fit it keeps, however many refits ran
    X, y = law_data()
    est = bngrad.BNRegressor(max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est._fit_rows(X, y, np.ones(100))
    assert est.convergence_ == 1
    with pytest.warns(bngrad.ConvergenceWarning) as caught:
        est.fit(X, y)
    assert est.convergence_ == 1
    assert [c.filename for c in caught
            if issubclass(c.category, bngrad.ConvergenceWarning)] == [__file__]
