"""kernels.blas: gemm, the kernels' product (row-major operands with
leading dimensions, either transposed, into a block of a larger array),
syrk, the Bayesian fit's J'J (its lower triangle), and gemv, the tiled
pass's products with one output column."""
import os
import subprocess
import sys

import numpy as np
import pytest
from numba import njit

from bngrad.kernels.blas import gemm, gemv, syrk


@njit
def _gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc):
    gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)


@njit
def _syrk(ta, n, k, alpha, A, lda, beta, C, ldc):
    syrk(ta, n, k, alpha, A, lda, beta, C, ldc)


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_gemm_against_numpy(ta, tb):
    rng = np.random.default_rng(int(ta) * 2 + int(tb))
    m, n, k = 7, 5, 9
    # operands inside wider arrays: only the leading columns are the matrix
    A = rng.standard_normal((k, m + 3) if ta else (m, k + 3))
    B = rng.standard_normal((n, k + 2) if tb else (k, n + 2))
    C = rng.standard_normal((2, m, n + 1))
    C0 = C.copy()
    opA = A[:, :m].T if ta else A[:, :k]
    opB = B[:, :k].T if tb else B[:, :n]
    _gemm(ta, tb, m, n, k, 2.0, A, A.shape[1], B, B.shape[1], 0.5, C[1], n + 1)
    np.testing.assert_allclose(C[1][:, :n], 2.0 * opA @ opB + 0.5 * C0[1][:, :n], rtol=1e-13)
    assert np.array_equal(C[1][:, n], C0[1][:, n]) and np.array_equal(C[0], C0[0])


@njit
def _gemv(ta, m, n, alpha, A, lda, x, beta, y):
    gemv(ta, m, n, alpha, A, lda, x, beta, y)


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_gemv_against_numpy(ta, beta):
    rng = np.random.default_rng(int(ta))
    m, n = 7, 5
    A = rng.standard_normal((m, n + 3))          # the matrix is A's first n columns
    x = rng.standard_normal(m if ta else n)
    y = rng.standard_normal((m if not ta else n) + 2)
    y0 = y.copy()
    opA = A[:, :n].T if ta else A[:, :n]
    _gemv(ta, m, n, 2.0, A, n + 3, x, beta, y)
    k = opA.shape[0]
    np.testing.assert_allclose(y[:k], 2.0 * opA @ x + beta * y0[:k], rtol=1e-13)
    assert np.array_equal(y[k:], y0[k:])          # nothing past op(A)'s rows written


def test_gemv_takes_only_contiguous_vectors():
    """incx = incy = 1: a strided x or y is refused when compiled, not read wrong."""
    from numba.core.errors import TypingError
    A, v = np.ones((3, 4)), np.ones(8)
    with pytest.raises(TypingError):
        _gemv(False, 3, 4, 1.0, A, 4, v[::2], 0.0, np.zeros(3))
    with pytest.raises(TypingError):
        _gemv(True, 3, 4, 1.0, A, 4, np.ones(3), 0.0, v[::2])


@pytest.mark.parametrize("ta", [False, True])
def test_syrk_against_numpy(ta):
    rng = np.random.default_rng(int(ta))
    n, k = 6, 9
    A = rng.standard_normal((k, n + 2) if ta else (n, k + 2))
    C = rng.standard_normal((n, n + 1))
    C0 = C.copy()
    opA = A[:, :n].T if ta else A[:, :k]
    _syrk(ta, n, k, 2.0, A, A.shape[1], 0.5, C, n + 1)
    lower = np.tril_indices(n)
    np.testing.assert_allclose(C[:, :n][lower], (2.0 * opA @ opA.T + 0.5 * C0[:, :n])[lower],
                               rtol=1e-13)
    # the strict upper triangle and the column past n are not written
    assert np.array_equal(np.triu(C[:, :n], 1), np.triu(C0[:, :n], 1))
    assert np.array_equal(C[:, n], C0[:, n])


def test_syrk_with_beta_0_never_reads_C():
    A = np.random.default_rng(2).standard_normal((4, 7))
    C = np.full((4, 4), np.nan)
    _syrk(False, 4, 7, 1.0, A, 7, 0.0, C, 4)
    np.testing.assert_allclose(np.tril(C), np.tril(A @ A.T), rtol=1e-13)


def test_syrk_and_gemv_link_when_loaded_from_numba_cache(tmp_path):
    """A kernel calling syrk or gemv is cached by name of its symbol: one
    process compiles it, the next loads it from numba's cache and links it
    to the dsyrk or dgemv that kernels/blas.py binds at import."""
    code = ("import numpy as np\n"
            "from bngrad.kernels import bayes\n"
            "J = np.arange(12.0).reshape(4, 3) - 5.0\n"
            "assert np.allclose(bayes._gram(J, False), J.T @ J)\n"
            "assert np.allclose(bayes._gram(J, True), J @ J.T)\n"
            "import bngrad\n"
            "from bngrad.kernels import tiled\n"
            "rng = np.random.default_rng(0)\n"
            "X, y = rng.standard_normal((3000, 30)), rng.standard_normal(3000)\n"
            "p = bngrad.init_params(30, 16)\n"
            "g = bngrad.gradients(X, y, p)\n"                 # the tiled pass: q = 1 by gemv
            "w = bngrad.gradients(X, np.column_stack([y, y]),\n"   # q = 2: by gemm
            "                     p._replace(G2=np.hstack([p.G2, 0 * p.G2]), b=np.zeros(2)))\n"
            "assert np.allclose(g.G1, w.G1, rtol=1e-12) and np.allclose(g.G2[:, 0], w.G2[:, 0])\n"
            "print(sum(bayes._gram.stats.cache_hits.values()),\n"
            "      sum(tiled.gradient_pass.stats.cache_hits.values()))\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    hits = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                           check=True).stdout.split()[-2:] for _ in range(2)]
    assert hits == [["0", "0"], ["1", "1"]]
