"""Bad input: a ValueError or TypeError that names the argument."""
import numpy as np
import pytest

import bngrad


def good():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 3))
    y = rng.standard_normal(10)
    p = bngrad.init_params(3, 4, 1, seed=1)
    return X, y, p


def call(X=None, y=None, p=None, **kw):
    X0, y0, p0 = good()
    return bngrad.gradients(X0 if X is None else X, y0 if y is None else y,
                            p0 if p is None else p, **kw)


def with_param(**changes):
    return good()[2]._replace(**changes)


def bad(value, at):
    a = np.array(value, dtype=float)
    a.flat[at] = np.nan
    return a


X0, y0, P0 = good()
CASES = [
    ("X", dict(X=bad(X0, 4))),
    ("X", dict(X=np.where(X0 > 1, np.inf, X0))),
    ("y", dict(y=bad(y0, 0))),
    ("G1", dict(p=with_param(G1=bad(P0.G1, 2)))),
    ("gamma", dict(p=with_param(gamma=bad(P0.gamma, 0)))),
    ("beta", dict(p=with_param(beta=np.full(4, -np.inf)))),
    ("G2", dict(p=with_param(G2=bad(P0.G2, 1)))),
    ("b", dict(p=with_param(b=np.array([np.nan])))),
    ("y", dict(y=y0[:9])),
    ("y", dict(y=np.ones((10, 2)))),
    ("G1", dict(p=with_param(G1=np.ones((2, 4))))),
    ("gamma", dict(p=with_param(gamma=np.ones(3)))),
    ("beta", dict(p=with_param(beta=np.ones(5)))),
    ("G2", dict(p=with_param(G2=np.ones((3, 1))))),
    ("b", dict(p=with_param(b=np.ones(2)))),
    ("X", dict(X=X0[:1], y=y0[:1])),
    ("X", dict(X=X0[0])),
    ("X", dict(X=np.array([["a", "b", "c"]] * 10))),
    ("X", dict(X=X0.astype(complex))),
    ("X", dict(X=[[1, "a", 2]] * 10)),
    ("activation", dict(activation="elu")),
    ("activation", dict(activation=None)),
    ("eps", dict(eps=-1e-5)),
    ("eps", dict(eps=np.nan)),
    ("eps", dict(eps="1e-5")),
    ("ddof", dict(ddof=2)),
    ("ddof", dict(ddof=0.5)),
    ("ddof", dict(ddof=True)),
    ("params", dict(p=(1, 2))),
]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_bad_input_names_the_argument(name, kw):
    with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
        call(**kw)


@pytest.mark.parametrize("name", ["X", "y", "G1"])
def test_sparse_input_is_named(name):
    # np.asarray makes a sparse matrix an array of one object: "dtype object" said nothing
    from scipy import sparse
    X, y, p = good()
    args = {"X": dict(X=sparse.csr_matrix(X)), "y": dict(y=sparse.csr_matrix(y[:, None])),
            "G1": dict(p=with_param(G1=sparse.csr_matrix(p.G1)))}[name]
    with pytest.raises(TypeError, match=rf"^{name}: sparse input is not supported"):
        call(**args)


def test_a_wrong_shape_of_y_is_the_shape_given():
    # a 1-D y of 9 rows had been reported as "(9, 1)"
    with pytest.raises(ValueError, match=r"y must have 10 rows \(the rows of X\), got shape \(9,\)$"):
        call(y=good()[1][:9])


def test_pandas_nullable_columns_are_numbers_and_their_na_is_named():
    # numpy reads a Float64/Int64 column as objects: "dtype object" said nothing
    pd = pytest.importorskip("pandas")
    X, y, p = good()
    df = pd.DataFrame(X, columns=list("abc")).astype("Float64")
    ys = pd.Series(np.round(y * 10)).astype("Int64")
    for got, want in zip(bngrad.gradients(df, ys, p), bngrad.gradients(X, np.round(y * 10), p)):
        np.testing.assert_array_equal(got, want)
    df.iloc[3, 1] = pd.NA
    with pytest.raises(ValueError, match=r"^X contains NaN"):
        bngrad.gradients(df, ys, p)
    ys.iloc[0] = pd.NA
    with pytest.raises(ValueError, match=r"^y contains NaN"):
        bngrad.gradients(X, ys, p)
    with pytest.raises(ValueError, match=r"^x contains NaN"):
        bngrad.batchnorm_forward(df, np.ones(3), np.zeros(3))


def test_inf_in_x_names_its_column():
    # a fit's check, as bngrad.dask's names it: of many inputs, the one to look at
    X, y, _ = good()
    Xi = X.copy()
    Xi[5, 2] = np.inf
    with pytest.raises(ValueError, match=r"^X contains NaN or Inf in column 2$"):
        bngrad.BNRegressor(hidden=2, max_iter=2).fit(Xi, y)
    pd = pytest.importorskip("pandas")
    with pytest.raises(ValueError, match=r"^X contains NaN or Inf, first in column 'c'$"):
        bngrad.BNRegressor(hidden=2, max_iter=2).fit(pd.DataFrame(Xi, columns=list("abc")), y)


def test_constant_column_with_eps_zero():
    X, y, p = good()
    X = X.copy()
    X[:, 1] = 3.0
    G1 = p.G1.copy()
    G1[:, 2] = [0.0, 1.7, 0.0]          # column 2 of X G1 is constant
    with pytest.raises(ValueError, match=r"column 2 of X @ G1 has zero variance"):
        bngrad.gradients(X, y, p._replace(G1=G1), eps=0.0)
    g = bngrad.gradients(X, y, p._replace(G1=G1), eps=1e-5)   # eps > 0 copes
    assert all(np.isfinite(v).all() for v in g)


def test_bad_init_params():
    for args in [(0, 3), (3, 2.5), (3, -1), ("3", 2), (True, 2)]:
        with pytest.raises((ValueError, TypeError), match="n_inputs|n_hidden"):
            bngrad.init_params(*args)
    with pytest.raises(ValueError, match="seed"):
        bngrad.init_params(3, 2, seed=-1)


def test_bad_input_to_forward_names_the_argument_and_changes_nothing():
    """forward checked nothing: a NaN in X came out as relu's 0, a negative
    var as numbers, a wrong activation as a KeyError (helper-25)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 4))
    p = bngrad.init_params(4, 3, 1, seed=1)
    Z = X @ p.G1
    mean, var = Z.mean(axis=0), Z.var(axis=0)
    good = bngrad.forward(X, p, mean, var)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    for args, kw, err, said in [
            ((Xn, p, mean, var), {}, ValueError, "X contains NaN"),
            ((X, p, mean, -var - 1), {}, ValueError, r"var must be >= 0 .*var\[0\]"),
            ((X, p, mean, 0 * var), {"eps": 0.0}, ValueError, "var \\+ eps > 0"),
            ((X, p, mean[:2], var), {}, ValueError, r"mean must be 3 numbers .*got shape \(2,\)"),
            ((X, p, mean, var), {"activation": "ReLU"}, ValueError, "activation must be one of"),
            ((X, tuple(p)[:4], mean, var), {}, TypeError, "params must be a Params"),
            ((X[:, :3], p, mean, var), {}, ValueError, "G1 must have 3 rows"),
            ((X, p, mean, var), {"eps": -1.0}, ValueError, "eps must be")]:
        with pytest.raises(err, match=said):
            bngrad.forward(*args, **kw)
    assert np.array_equal(bngrad.forward(X, tuple(p), mean, var), good)
    # statistics kept with keepdims are p2 numbers too; a vector G2, one output per row
    assert np.array_equal(bngrad.forward(X, p, mean[None], var[None]), good)
    with pytest.raises(ValueError, match=r"mean must be 3 numbers .*got shape \(3, 1\)"):
        bngrad.forward(X, p, mean[:, None], var)
    pv = bngrad.Params(p.G1, p.gamma, p.beta, p.G2.ravel(), p.b)
    assert np.array_equal(bngrad.forward(X, pv, mean, var), good[:, 0])
    with pytest.raises(ValueError, match="X must have at least 1 column"):
        bngrad.forward(X[:, :0], p, mean, var)
    with pytest.raises(ValueError, match="var \\+ eps > 0 and finite"):
        bngrad.forward(X, p, mean, np.full(3, 1e308), eps=1e308)
    assert np.isnan(Xn[0, 0]) and np.array_equal(Xn[1:], X[1:])


def test_weights_summing_below_float64_s_normal_range_are_named():
    """Their scale does not change the loss, but a subnormal total loses
    digits: the kernels had said 'X is too large' (helper-25)."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 4)), rng.standard_normal(20)
    p = bngrad.init_params(4, 3, 1, seed=1)
    with pytest.raises(ValueError, match="weights sum to .*below the smallest normal float64"):
        bngrad.gradients(X, y, p, weights=np.full(20, 1e-310))
    assert bngrad.gradients(X, y, p, weights=np.full(20, 1e-300)).loss == pytest.approx(
        bngrad.gradients(X, y, p).loss, rel=1e-12)
