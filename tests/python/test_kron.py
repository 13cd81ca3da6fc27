"""The explicit vec/Kronecker Jacobians: each against complex-step
differentiation, and their product against the fast core."""
import numpy as np
import pytest

import bngrad
from bngrad import kron
from complex_step import H as STEP, act as act_c
from conftest import rel_err

NAMES = ("G1", "gamma", "beta", "G2", "b")


def jacobian(f, x):
    """d vec(f(x)) / d vec(x)' by complex step, column-major vec on both sides."""
    x = np.asarray(x, dtype=complex)
    cols = []
    for m in range(x.size):
        xm = kron.vec(x).copy()
        xm[m] += 1j * STEP
        cols.append(kron.vec(f(xm.reshape(x.shape, order="F"))).imag / STEP)
    return np.array(cols).T


def bn(Z, gamma, beta, eps, ddof):
    N = Z.shape[0]
    mu = Z.sum(axis=0) / N
    var = ((Z - mu) ** 2).sum(axis=0) / (N - ddof)
    return gamma * (Z - mu) / np.sqrt(var + eps) + beta


@pytest.fixture
def case():
    rng = np.random.default_rng(5)
    N, p1, p2, q = 7, 3, 4, 2
    return dict(X=rng.standard_normal((N, p1)), G1=rng.standard_normal((p1, p2)),
                gamma=rng.uniform(0.5, 2, p2), beta=rng.standard_normal(p2),
                G2=rng.standard_normal((p2, q)), b=rng.standard_normal(q),
                y=rng.standard_normal((N, q)))


def test_vec_identity():
    rng = np.random.default_rng(0)
    A, X, B = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal((5, 2))
    np.testing.assert_allclose(kron.vec(A @ X @ B), np.kron(B.T, A) @ kron.vec(X), rtol=1e-13)


@pytest.mark.parametrize("eps,ddof", [(1e-5, 0), (0.0, 1), (0.5, 0)])
def test_bn_jacobian(case, eps, ddof):
    Z = case["X"] @ case["G1"]
    J = kron.bn_jacobian(Z, case["gamma"], eps=eps, ddof=ddof)
    ref = jacobian(lambda Zc: bn(Zc, case["gamma"], case["beta"], eps, ddof), Z)
    assert J.shape == (Z.size, Z.size)
    assert rel_err(J, ref) < 1e-12
    # block diagonal: column j of A sees column j of Z only
    N = Z.shape[0]
    assert np.all(J[:N, N:] == 0) and np.all(J[N:, :N] == 0)


def test_factor_jacobians(case):
    X, G1, gamma, beta, G2, b = (case[k] for k in ("X", "G1", "gamma", "beta", "G2", "b"))
    N, p2, q = X.shape[0], G1.shape[1], G2.shape[1]
    Z = X @ G1
    Zh = (Z - Z.mean(0)) / np.sqrt(Z.var(0) + 1e-5)
    A = Zh * gamma + beta
    assert rel_err(kron.dZ_dG1(X, p2), jacobian(lambda G: X @ G, G1)) < 1e-14
    assert rel_err(kron.dA_dgamma(Zh), jacobian(lambda g: Zh * g + beta, gamma)) < 1e-14
    assert rel_err(kron.dA_dbeta(N, p2), jacobian(lambda be: Zh * gamma + be, beta)) < 1e-14
    for activation in bngrad.ACTIVATIONS:
        assert rel_err(kron.dH_dA(A, activation),
                       jacobian(lambda a: act_c(a, activation), A)) < 1e-12, activation
    H = np.tanh(A)
    assert rel_err(kron.dyhat_dH(G2, N), jacobian(lambda h: h @ G2 + b, H)) < 1e-14
    assert rel_err(kron.dyhat_dG2(H, q), jacobian(lambda g: H @ g + b, G2)) < 1e-14
    assert rel_err(kron.dyhat_db(N, q), jacobian(lambda c: H @ G2 + c, b)) < 1e-14
    K = kron.selection_matrix(p2)
    assert np.array_equal(K @ gamma, kron.vec(np.diag(gamma)))


@pytest.mark.parametrize("activation", sorted(bngrad.ACTIVATIONS))
@pytest.mark.parametrize("eps,ddof,q,g2_vector", [(1e-5, 0, 2, False), (0.0, 1, 1, True),
                                                  (0.1, 1, 3, False)])
def test_kron_gradients_equal_the_core(activation, eps, ddof, q, g2_vector):
    rng = np.random.default_rng(q + ddof)
    N, p1, p2 = 8, 3, 5
    X = rng.standard_normal((N, p1))
    y = rng.standard_normal(N) if q == 1 else rng.standard_normal((N, q))
    p = bngrad.Params(rng.standard_normal((p1, p2)), rng.uniform(-2, 2, p2),
                      rng.standard_normal(p2),
                      rng.standard_normal(p2) if g2_vector else rng.standard_normal((p2, q)),
                      rng.standard_normal(q))
    fast = bngrad.gradients(X, y, p, activation, eps=eps, ddof=ddof)
    slow = kron.gradients(X, y, p, activation, eps=eps, ddof=ddof)
    assert abs(fast.loss - slow.loss) <= 1e-12 * fast.loss
    for k in NAMES:
        assert np.shape(getattr(slow, k)) == np.shape(getattr(p, k))
        assert rel_err(getattr(slow, k), getattr(fast, k)) < 1e-10, k


def test_too_large_for_dense_is_a_clear_error():
    N = kron.MAX_DENSE // 4 + 1
    Z = np.random.default_rng(0).standard_normal((N, 4))
    with pytest.raises(ValueError, match="MAX_DENSE"):
        kron.bn_jacobian(Z, np.ones(4))
    X = np.random.default_rng(0).standard_normal((N, 2))
    with pytest.raises(ValueError, match="MAX_DENSE"):
        kron.gradients(X, np.zeros(N), bngrad.init_params(2, 4))
    # wide nets on few rows: I kron Zh is N p2 x p2^2 (8 GiB at p2 = 512, N = 8)
    with pytest.raises(ValueError, match=r"would hold 1073741824 values.*MAX_DENSE\^2"):
        kron.gradients(X[:8], np.zeros(8), bngrad.init_params(2, 512))
    # and many outputs: I_q kron H is N q x p2 q (4 GiB at q = 2048, p2 = 64, N = 2)
    with pytest.raises(ValueError, match=r"would hold 536870912 values"):
        kron.gradients(X[:2, :1], np.zeros((2, 2048)), bngrad.init_params(1, 64, 2048))


def test_bad_jacobian_input():
    with pytest.raises(ValueError, match="gamma"):
        kron.bn_jacobian(np.ones((3, 2)) + np.arange(3)[:, None], np.ones(3))
    with pytest.raises(ValueError, match="Z"):
        kron.bn_jacobian(np.ones((3, 2)), np.ones(2), eps=0)
    with pytest.raises(ValueError, match="activation"):
        kron.dH_dA(np.ones((2, 2)), "elu")


def test_overflow_is_said_as_the_core_says_it():
    """An overflowed variance made sd Inf, Zh 0 and gamma's gradient a silent
    0; an overflowed loss came back as inf (helper-25)."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 4)), rng.standard_normal(20)
    p = bngrad.init_params(4, 3, 1, seed=1)
    with pytest.raises(ValueError, match="X @ G1 is too large for float64: column 0"):
        kron.gradients(X * 1e200, y, p)
    with pytest.raises(ValueError, match="Z is too large for float64"):
        kron.bn_jacobian(X * 1e200, np.ones(4))
    with pytest.raises(ValueError, match="x is too large for float64"):
        bngrad.batchnorm_forward(X * 1e200, np.ones(4), np.zeros(4))
    with pytest.raises(ValueError, match="the loss or a gradient overflows float64"):
        kron.gradients(X, y * 1e160, p)
    with pytest.raises(ValueError, match="the loss or a gradient overflows float64"):
        bngrad.gradients(X, y * 1e160, p)
