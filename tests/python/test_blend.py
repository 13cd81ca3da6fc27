"""The default fit's blend with a ridge linear model (bngrad/blend.py): exact
leave-one-out for the ridge, weights as repeated rows, a share that follows
the data and not one wild row, and the blend as one batch-normalised net."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import bngrad
from bngrad.kernels import bayes
from bngrad import blend, fit
from bngrad.checks import ACTIVATIONS


def test_ridge_leave_one_out_is_exact():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4))
    Y = np.c_[X @ [1.0, -2.0, 0.5, 0.0], np.sin(X[:, 0])] + 0.3 * rng.standard_normal((30, 2))
    w = np.ones(30)
    coef, c0, loo, lam = blend.ridge_loo(X, Y, w, np.minimum(w, 1.0))
    for k in range(2):
        for i in range(30):
            keep = np.arange(30) != i
            xm, ym = X[keep].mean(0), Y[keep, k].mean()
            A = (X[keep] - xm).T @ (X[keep] - xm) + lam[k] * np.eye(4)
            b = np.linalg.solve(A, (X[keep] - xm).T @ (Y[keep, k] - ym))
            assert abs((Y[i, k] - (ym + (X[i] - xm) @ b)) - loo[i, k]) < 1e-9


def test_ridge_leave_one_out_is_exact_with_more_inputs_than_rows():
    """With more inputs than rows a small penalty fits every row: residual
    and 1 - leverage both tend to 0, and the penalty must still be the one
    whose exact leave-one-out error is least (a rounded or capped 1 - h
    chose the smallest penalty, and a linear blend of R^2 -1.35 where
    scikit-learn's RidgeCV had -0.42)."""
    rng = np.random.default_rng(3)
    N, p = 14, 40
    X = rng.standard_normal((N, p))
    Y = (X[:, :3].sum(1) + rng.standard_normal(N))[:, None]
    coef, c0, loo, lam = blend.ridge_loo(X, Y, np.ones(N), np.ones(N))

    def exact(L):
        e = np.empty(N)
        for i in range(N):
            keep = np.arange(N) != i
            xm, ym = X[keep].mean(0), Y[keep, 0].mean()
            Xk = X[keep] - xm
            b = np.linalg.solve(Xk.T @ Xk + L * np.eye(p), Xk.T @ (Y[keep, 0] - ym))
            e[i] = Y[i, 0] - (ym + (X[i] - xm) @ b)
        return e
    scores = [exact(L) @ exact(L) for L in blend.LAMBDAS]
    assert lam[0] == blend.LAMBDAS[int(np.argmin(scores))]
    np.testing.assert_allclose(loo[:, 0], exact(lam[0]), rtol=1e-7, atol=1e-9)


def test_ridge_penalties_scored_in_blocks_choose_as_one_by_one():
    """Enough rows that ridge_loo scores the penalties in several blocks: the
    penalty, coefficients and residuals are those of each penalty solved on
    its own."""
    rng = np.random.default_rng(6)
    N = 30_000
    assert N > 2 ** 20 // blend.LAMBDAS.size           # more than one block
    X = rng.standard_normal((N, 3))
    Y = (X @ [0.01, -0.01, 0.01] + rng.standard_normal(N))[:, None]   # weak: a strong penalty wins
    coef, c0, loo, lam = blend.ridge_loo(X, Y, np.ones(N), np.ones(N))
    assert 2 ** 20 // N <= list(blend.LAMBDAS).index(lam[0]) < blend.LAMBDAS.size - 1   # a later block
    Xc, Yc = X - X.mean(0), Y[:, 0] - Y.mean()
    best = None
    for L in blend.LAMBDAS:
        A = Xc.T @ Xc + L * np.eye(3)
        b = np.linalg.solve(A, Xc.T @ Yc)
        h = np.minimum((Xc * np.linalg.solve(A, Xc.T).T).sum(1) + 1.0 / N, blend.LEVERAGE_MAX)
        e = (Yc - Xc @ b) / (1.0 - h)
        if best is None or e @ e < best[0]:
            best = (e @ e, L, b, e)
    assert lam[0] == best[1]
    np.testing.assert_allclose(coef[:, 0], best[2], rtol=1e-9)
    np.testing.assert_allclose(loo[:, 0], best[3], rtol=1e-9, atol=1e-12)


def test_weights_are_repeated_rows():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((25, 3))
    Y = (X @ [1.0, 0.5, -1.0] + 0.5 * rng.standard_normal(25))[:, None]
    w = rng.integers(0, 4, 25).astype(float)
    rows = np.repeat(np.arange(25), w.astype(int))
    coef, c0, loo, lam = blend.ridge_loo(X, Y, w, np.minimum(w, 1.0))
    coef_r, c0_r, loo_r, lam_r = blend.ridge_loo(X[rows], Y[rows], np.ones(rows.size), np.ones(rows.size))
    assert lam == lam_r
    np.testing.assert_allclose(coef, coef_r, rtol=1e-10)
    np.testing.assert_allclose(loo[rows], loo_r, rtol=1e-9, atol=1e-12)
    e = rng.standard_normal((25, 1))
    assert blend.blend_weights(e, loo, w) == blend.blend_weights(e[rows], loo_r, np.ones(rows.size))


def test_the_share_follows_the_data_not_one_wild_row():
    rng = np.random.default_rng(2)
    N = 80
    good = 0.3 * rng.standard_normal((N, 1))           # a model's leave-one-out errors
    bad = 1.0 * rng.standard_normal((N, 1))
    w = np.ones(N)
    assert blend.blend_weights(bad, good, w)[0] >= 0.8    # the linear model predicts better
    assert blend.blend_weights(good, bad, w)[0] <= 0.2    # the nets do
    nets, lin = good.copy(), bad.copy()
    nets[0], lin[0] = 50.0, 0.0                           # one wild row, which only the linear model fits
    d = (lin - nets)[:, 0]
    least_squares = -(nets[:, 0] @ d) / (d @ d)           # would follow that row
    assert least_squares > 0.95 and blend.blend_weights(nets, lin, w)[0] < 0.7


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_the_blend_is_one_net(activation):
    """embed's net predicts (1 - s) nets(x) + s (x'coef + c0) per output, also
    far outside the training rows."""
    rng = np.random.default_rng(3)
    Xs = rng.standard_normal((40, 3))
    w = rng.uniform(0.5, 2, 40)
    p = bngrad.init_params(3, 5, 2, seed=4)
    p = p._replace(beta=rng.standard_normal(5), b=rng.standard_normal(2))
    code = ACTIVATIONS[activation]
    coef, c0, share = rng.standard_normal((3, 2)), rng.standard_normal(2), np.array([0.3, 0.0])

    def stats(P):
        Z = Xs @ P.G1
        m = np.average(Z, axis=0, weights=w)
        return m, (w[:, None] * (Z - m) ** 2).sum(0) / w.sum()
    q = blend.embed(p, share, coef, c0, Xs, w, code, 1e-5, 0)
    assert q.G1.shape == (3, 6)
    Xt = np.r_[Xs, 10 * rng.standard_normal((20, 3))]
    nets = fit.forward(Xt, p, *stats(p), activation)
    want = (1 - share) * nets + share * (Xt @ coef + c0)
    got = fit.forward(Xt, q, *stats(q), activation)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8 * np.abs(want).max())


def test_a_linear_truth_extrapolates_linearly():
    """A few rows of a linear truth: the default fit leans on the linear model,
    and a row far outside the training rows follows the trend (saturating
    units alone would predict it flat)."""
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (40, 2))
    y = 3 * X[:, 0] - 2 * X[:, 1] + 0.2 * rng.standard_normal(40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = bngrad.BNRegressor(hidden=8).fit(X, y)
    assert est.linear_share_[0] > 0.5
    far = np.array([[6.0, -6.0]])
    assert abs(est.predict(far)[0] - 30.0) < 3.0


@pytest.mark.parametrize("shape", [(30, 8), (8, 30)])
def test_leverage_is_the_hat_matrix_diagonal_in_either_space(shape):
    rng = np.random.default_rng(7)
    J = rng.standard_normal(shape)
    H = J @ np.linalg.solve(J.T @ J + 0.3 * np.eye(shape[1]), J.T)
    h = np.empty(shape[0])
    assert bayes.leverage(J, 0.3, h)
    np.testing.assert_allclose(h, np.diag(H), rtol=1e-10)


def test_leverage_without_a_factor_says_so(monkeypatch):
    h = np.empty(5)
    assert not bayes.leverage(np.zeros((5, 3)), 0.0, h)     # no jitter makes 0 definite

    class NoFactor:
        def __call__(self, *args):
            return False
    monkeypatch.setattr(blend.engine, "ready", lambda kernel: NoFactor())
    X = np.random.default_rng(0).standard_normal((6, 2))
    with pytest.raises(np.linalg.LinAlgError, match="no Cholesky factor"):
        blend.net_loo(np.ones(2 * 3 + 3 + 3 + 1), 0.1, X, X[:, :1], np.ones(6), np.ones(6), 3,
                      0, 1e-5, 0)


def test_net_loo_is_the_leverage_formula_row_by_row():
    """The kernel's leave-one-out residuals against the formula in numpy:
    e_i = r_i / (1 - copy_i J_i (J'WJ + decay I)^-1 J_i'), capped
    leverage, 0 where w is 0 (J and r unweighted here)."""
    rng = np.random.default_rng(3)
    N, p1, p2 = 12, 2, 3
    X = rng.standard_normal((N, p1))
    Y = np.sin(X[:, :1]) + 0.1 * rng.standard_normal((N, 1))
    w = rng.uniform(0.5, 2.0, N)
    w[4] = 0.0
    copy = np.minimum(w, 1.0)
    P = p1 * p2 + 2 * p2 + 1
    v = rng.standard_normal(P)
    decay = 0.2
    r, J = np.empty(N), np.empty((N, P))
    bayes.net_eval(X, w, np.ones(N), Y, v, p2, 0, 1e-5, 0, True, r, J)   # unweighted rows
    A = J.T @ (w[:, None] * J) + decay * np.eye(P)
    h = np.minimum(copy * np.einsum("ij,ji->i", J, np.linalg.solve(A, J.T)),
                   blend.LEVERAGE_MAX)
    expected = np.where(w > 0, r / (1 - h), 0.0)
    e = blend.net_loo(v, decay, X, Y, w, copy, p2, 0, 1e-5, 0)
    np.testing.assert_allclose(e[:, 0], expected, rtol=1e-9)


def test_repeats_of_a_row_are_one_observation_where_inputs_are_continuous():
    """A bootstrap sample's twins are left out together (a twin left in
    flatters any fit): distinct() merges them with their total weight, and
    ridge_loo with copy = that weight is the exact leave-observation-out."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((20, 3))
    Y = (X @ [1.0, -1.0, 0.5] + 0.5 * rng.standard_normal(20))[:, None]
    rows = rng.integers(0, 20, 20)                      # a bootstrap sample
    Xu, Yu, wu = blend.distinct(X[rows], Y[rows], np.ones(20))
    first = np.sort(np.unique(rows, return_index=True)[1])
    np.testing.assert_array_equal(Xu, X[rows][first])     # in their first order
    np.testing.assert_array_equal(wu, np.bincount(rows, minlength=20)[rows[first]])
    coef, c0, loo, lam = blend.ridge_loo(Xu, Yu, wu, wu)
    for i in range(len(Xu)):
        keep = np.arange(len(Xu)) != i
        sw = np.sqrt(wu[keep])
        xm, ym = np.average(Xu[keep], axis=0, weights=wu[keep]), np.average(Yu[keep, 0], weights=wu[keep])
        A = sw[:, None] * (Xu[keep] - xm)
        b = np.linalg.solve(A.T @ A + lam[0] * np.eye(3), A.T @ (sw * (Yu[keep, 0] - ym)))
        assert abs((Yu[i, 0] - (ym + (Xu[i] - xm) @ b)) - loo[i, 0]) < 1e-9
    X2, Y2, w2 = blend.distinct(X, Y, np.ones(20))         # no repeats: the arrays themselves
    assert X2 is X and Y2 is Y


def test_weights_below_one_leave_their_row_out_whole():
    """A row of weight 0.5 is less than a copy: its leave-one-out removes it
    whole, so weights of 0.9 everywhere choose the fit unweighted rows do
    (one copy's leverage, h / w, passed 1 and was capped: the nets' errors
    blew up 1000-fold and the blend took the linear model)."""
    rng = np.random.default_rng(8)
    X = rng.standard_normal((150, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.standard_normal(150)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = bngrad.BNRegressor(hidden=6).fit(X, y)
        b = bngrad.BNRegressor(hidden=6).fit(X, y, sample_weight=np.full(150, 0.9))
    assert a.linear_share_[0] == b.linear_share_[0] == 0.0
    assert b.score(X, y) > 0.95


def test_a_net_that_found_nothing_is_left_out_of_the_average(monkeypatch):
    """A net whose leave-one-out error is many times the others' (one held
    in its linear regime, or here at the constant) gets weight 0: the fit
    predicts as the ensemble of the others would, blend included."""
    rng = np.random.default_rng(8)
    X = rng.uniform(-2, 2, (120, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.standard_normal(120)
    members = fit.BNRegressor._fit_members

    def one_constant(keep):
        def patched(self, *args, **kwargs):
            out = members(self, *args, **kwargs)
            V, beta, G2, b = fit._split(out[1].v, 2, self.hidden, 1)
            out[1].v = fit._join(V, beta, 0.0 * G2, b)
            return [out[k] for k in keep]
        return patched
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        monkeypatch.setattr(fit.BNRegressor, "_fit_members", one_constant([0, 1, 2]))
        est = bngrad.BNRegressor(hidden=6, seed=3).fit(X, y)
        monkeypatch.setattr(fit.BNRegressor, "_fit_members", one_constant([0, 2]))
        two = bngrad.BNRegressor(hidden=6, seed=3).fit(X, y)
        monkeypatch.undo()
        plain = bngrad.BNRegressor(hidden=6, seed=3).fit(X, y)
    np.testing.assert_array_equal(est.member_weights_, [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(two.member_weights_, [0.5, 0.5])
    np.testing.assert_array_equal(plain.member_weights_, np.full(3, 1 / 3))
    np.testing.assert_array_equal(est.linear_share_, two.linear_share_)
    Xt = rng.uniform(-3, 3, (50, 2))
    np.testing.assert_allclose(est.predict(Xt), two.predict(Xt), rtol=0, atol=1e-10)
    assert est.score(X, y) > 0.95


def test_member_weights_leave_out_what_is_not_a_number():
    """A leave-one-out error that is not finite is a net left out; where
    none is, every net counts alike."""
    np.testing.assert_array_equal(fit._member_weights([np.nan, 1.0, 1.0]), [0, 0.5, 0.5])
    np.testing.assert_array_equal(fit._member_weights([np.inf, 1.0, 3.9]), [0, 0.5, 0.5])
    np.testing.assert_array_equal(fit._member_weights([1.0, 4.0, 4.1]), [0.5, 0.5, 0])
    np.testing.assert_array_equal(fit._member_weights([np.nan, np.inf]), [0.5, 0.5])
    # errors no data can tell from 0 are not compared (a constant y's: 0 and 3e-132)
    np.testing.assert_array_equal(fit._member_weights([0.0, 3e-132, 5e-131], exact=1e-10),
                                  np.full(3, 1 / 3))
    np.testing.assert_array_equal(fit._member_weights([0.0, 3e-10, 5e-10], exact=1e-10),
                                  [0.5, 0.5, 0])


def test_a_constant_y_keeps_every_net():
    X = np.random.default_rng(0).standard_normal((32, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = bngrad.BNRegressor(hidden=8).fit(X, np.full(32, 21.0))
    np.testing.assert_array_equal(est.member_weights_, np.full(3, 1 / 3))
    np.testing.assert_allclose(est.predict(X[:3]), 21.0)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(1, 40), p=st.integers(1, 6), seed=st.integers(0, 2**31))
def test_count_rows_counts_as_numpy_unique_rows(n, p, seed):
    """count_rows (byte keys) against np.unique(axis=0), which the fit's
    design checks used: rows drawn from few values so that repeats are
    common, signed zeros among them (-0.0 and 0.0 are one value to both)."""
    rng = np.random.default_rng(seed)
    A = rng.choice(np.array([0.0, -0.0, 1.0, -2.5, 1e-300, 3e300]), size=(n, p))
    assert blend.count_rows(A) == len(np.unique(A, axis=0))
    assert blend.count_rows(np.asfortranarray(A)) == len(np.unique(A, axis=0))
