"""The batch-norm layer primitive: forward statistics and backward gradients."""
import numpy as np
import pytest

import bngrad

H = 1e-100


def layer_loss(x, gamma, beta, dout, eps, ddof):
    """sum(dout * BN(x)), plain and complex-safe, so its derivatives are the backward's."""
    axes = tuple(range(x.ndim - 1))
    n = x.size // x.shape[-1]
    mu = x.sum(axis=axes) / n
    var = ((x - mu) ** 2).sum(axis=axes) / (n - ddof)
    return (dout * (gamma * (x - mu) / np.sqrt(var + eps) + beta)).sum()


def complex_step(f, v):
    v = v.astype(complex)
    g = np.empty(v.shape)
    for m in range(v.size):
        v.flat[m] += 1j * H
        g.flat[m] = f(v).imag / H
        v.flat[m] -= 1j * H
    return g


@pytest.mark.parametrize("shape", [(7, 3), (2, 5), (4, 3, 2, 5), (3, 6, 1)])
@pytest.mark.parametrize("eps,ddof", [(1e-5, 0), (0.0, 1), (0.3, 1)])
def test_backward_matches_complex_step(shape, eps, ddof):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape) * 3 + 1
    gamma, beta = rng.standard_normal(shape[-1]), rng.standard_normal(shape[-1])
    dout = rng.standard_normal(shape)
    out, cache = bngrad.batchnorm_forward(x, gamma, beta, eps=eps, ddof=ddof)
    # the forward normalises each last-axis feature over all other axes
    flat = out.reshape(-1, shape[-1])
    n = flat.shape[0]
    np.testing.assert_allclose(flat.mean(axis=0), beta, atol=1e-12)
    sd = np.sqrt(x.reshape(n, -1).var(axis=0, ddof=ddof))
    np.testing.assert_allclose(flat.std(axis=0, ddof=ddof), np.abs(gamma) * sd / np.sqrt(sd**2 + eps),
                               rtol=1e-10)
    dx, dgamma, dbeta = bngrad.batchnorm_backward(dout, cache)
    np.testing.assert_allclose(dx, complex_step(lambda v: layer_loss(v, gamma, beta, dout, eps, ddof), x),
                               rtol=1e-9, atol=1e-12 * np.abs(dout * gamma).max())
    np.testing.assert_allclose(dgamma, complex_step(lambda v: layer_loss(x, v, beta, dout, eps, ddof), gamma),
                               rtol=1e-10)
    np.testing.assert_allclose(dbeta, complex_step(lambda v: layer_loss(x, gamma, v, dout, eps, ddof), beta),
                               rtol=1e-10)


def test_layer_leaves_inputs_alone_and_checks_them():
    x = np.arange(12.0).reshape(4, 3) ** 1.5
    x.flags.writeable = False
    out, cache = bngrad.batchnorm_forward(x, np.ones(3), np.zeros(3))
    bngrad.batchnorm_backward(np.ones_like(out), cache)
    with pytest.raises(ValueError, match="gamma"):
        bngrad.batchnorm_forward(x, np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"^x must be 2-D to 32-D, got shape \(5,\)$"):
        bngrad.batchnorm_forward(np.ones(5), 1.0, 0.0)
    for bad in (None, (1, 2, 3, 4), "abcd", np.zeros(4)):
        with pytest.raises(TypeError, match="cache must be the cache batchnorm_forward returned"):
            bngrad.batchnorm_backward(np.ones_like(out), bad)
    # a tuple of the wrong length is named as that (it said "got tuple")
    with pytest.raises(TypeError, match=r"\(a tuple of 4 arrays and ddof\), got a tuple of 3$"):
        bngrad.batchnorm_backward(np.ones_like(out), cache[:3])
    # rows but no features: named as that (it said "at least 2 values per feature, got 0")
    with pytest.raises(ValueError, match=r"^x must have at least one feature .*got shape \(5, 0\)"):
        bngrad.batchnorm_forward(np.zeros((5, 0)), np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match="dout"):
        bngrad.batchnorm_backward(np.ones((3, 3)), cache)
    with pytest.raises(ValueError, match="column 1 of x"):
        bngrad.batchnorm_forward(np.c_[x[:, :1], np.ones(4)], np.ones(2), np.zeros(2), eps=0)


def test_the_cache_keeps_gamma_as_the_forward_saw_it():
    x = np.random.default_rng(1).standard_normal((6, 3))
    gamma = np.array([1.0, 2.0, 3.0])
    _, cache = bngrad.batchnorm_forward(x, gamma, np.zeros(3))
    dx = bngrad.batchnorm_backward(np.ones_like(x) + x, cache)[0]
    gamma *= 5                                 # the caller's array, changed in place
    assert np.array_equal(bngrad.batchnorm_backward(np.ones_like(x) + x, cache)[0], dx)
