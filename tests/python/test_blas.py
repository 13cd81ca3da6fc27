"""kernels.blas.gemm, the kernels' one product: row-major operands with
leading dimensions, either transposed, into a block of a larger array."""
import numpy as np
import pytest
from numba import njit

from bngrad.kernels.blas import gemm


@njit
def _gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc):
    gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)


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
