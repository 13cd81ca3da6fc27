"""bngrad.rbridge, the entry points R calls, with arrays shaped as reticulate
hands them over (Fortran-ordered, read-only; int32 for an R integer matrix)."""
import warnings

import numpy as np
import pytest

import bngrad
from bngrad import rbridge
import complex_step


def r_array(a, dtype=np.float64):
    a = np.asfortranarray(np.asarray(a, dtype=dtype))
    a.flags.writeable = False
    return a


def r_case(seed, N=11, p1=3, p2=4, q=2, integer_X=False):
    rng = np.random.default_rng(seed)
    X = rng.integers(-4, 5, (N, p1)) if integer_X else rng.standard_normal((N, p1)) * 2 + 1
    return (r_array(X, np.int32 if integer_X else np.float64),
            r_array(rng.standard_normal((N, q))), r_array(rng.standard_normal((p1, p2))),
            rng.uniform(0.5, 2, p2), rng.standard_normal(p2), r_array(rng.standard_normal((p2, q))),
            rng.standard_normal(q))


def unpack(vec, p1, p2, q):
    cuts = np.cumsum([1, p1 * p2, p2, p2, p2 * q])
    loss, G1, gamma, beta, G2, b = np.split(vec, cuts)
    return [loss[0], G1.reshape((p1, p2), order="F"), gamma, beta,
            G2.reshape((p2, q), order="F"), b]


@pytest.mark.parametrize("integer_X", [False, True])
def test_weighted_vector_is_the_complex_step_gradient(integer_X):
    X, Y, G1, gamma, beta, G2, b = r_case(3, integer_X=integer_X)
    w = np.random.default_rng(4).integers(0, 4, X.shape[0]).astype(float)
    w[:2] = 1
    (vec,) = rbridge.gradients(X, Y, G1, gamma, beta, G2, b, "tanh", 1e-5, 1, w)
    loss, ref = complex_step.gradients(X, Y, [G1, gamma, beta, G2, b], "tanh", 1e-5, 1, w)
    got = unpack(vec, *G1.shape, G2.shape[1])
    assert abs(got[0] - loss) <= 1e-12 * loss
    for g, r in zip(got[1:], ref):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-13 * np.abs(r).max())


def test_without_weights_the_same_bits_as_before():
    args = r_case(5) + ("relu", 1e-5, 0)
    (a,) = rbridge.gradients(*args)
    (b,) = rbridge.gradients(*args, None)
    np.testing.assert_array_equal(a, b)
    (c,) = rbridge.gradients(*args, np.ones(args[0].shape[0]))
    np.testing.assert_allclose(c, a, rtol=1e-13, atol=1e-15)


def test_fit_hands_warnings_to_r():
    said = []
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 2)), rng.standard_normal(30)
    est = bngrad.BNRegressor(hidden=2, max_iter=1, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # none may escape as a Python warning
        rbridge.fit(est, r_array(X), y, None, said.append)
        rbridge.fit(est, r_array(X), y, None, said.append)
    # each fit says it again: no once-per-place registry between R calls
    assert len(said) == 2 and all("max_iter = 1 reached" in m for m in said)
    assert est.convergence_ == 1


@pytest.mark.parametrize("optimizer", ["bayes", "lbfgs"])
def test_fit_returns_every_piece_r_keeps_in_one_vector(optimizer):
    rng = np.random.default_rng(3)
    X = r_array(rng.standard_normal((40, 3)))
    Y = r_array(rng.standard_normal((40, 2)))
    est = bngrad.BNRegressor(hidden=4, optimizer=optimizer, seed=1)
    values, lengths, names, name = rbridge.fit(est, X, Y, None, lambda msg: None)
    names = names.split()
    assert name == est.optimizer_ == optimizer
    assert len(lengths) == len(names) == 25 and sum(lengths) == values.size
    pieces = dict(zip(names, np.split(values, np.cumsum(lengths)[:-1])))
    p = est.params_
    units = p.gamma.size
    np.testing.assert_array_equal(pieces["G1"].reshape((3, units), order="F"), p.G1)
    np.testing.assert_array_equal(pieces["G2"].reshape((units, 2), order="F"), p.G2)
    for name, attr in [("gamma", p.gamma), ("b", p.b), ("running_var", est.running_var_),
                       ("y_scale", est.y_scale_), ("loss_curve", est.loss_curve_),
                       ("n_iter", [est.n_iter_]), ("kept_iter", [est.kept_iter_]),
                       ("convergence", [est.convergence_]),
                       ("decay", est.decay_), ("effective_params", est.effective_params_),
                       ("input_decay", est.input_decay_.ravel(order="F")),
                       ("linear_share", est.linear_share_), ("member_weights", est.member_weights_),
                       ("n_obs", [est.n_obs_]), ("early_stopping", est.early_stopping_),
                       ("member_loo_ratio", [bngrad.fit.MEMBER_LOO_RATIO]),
                       ("robust_weights", [])]:                 # no law with errors in noise
        np.testing.assert_array_equal(pieces[name], np.asarray(attr, dtype=float))
