"""Sums over rows have NumPy 1.x's bits under NumPy 1 and 2 alike (sums.py):
R's fits run on numpy<2, Python's on NumPy 2, and one fit must give one net."""
import numpy as np
import pytest

from bngrad import sums
from bngrad.fit import _center_scale

NUMPY_1 = np.lib.NumpyVersion(np.__version__) < "2.0.0"


def exact_data(N):
    """Values every NumPy computes to the same bits (integer arithmetic and one
    correctly rounded division: no transcendental functions, no generator)."""
    return ((np.arange(N) * 7919) % 10007) / 10007.0 - 0.4


# x.sum() under NumPy 1.26; NumPy 2.4's is 0x1.385be3fb849ccp+13 at 100003
EXPECTED = {5000: "0x1.f55b5a88f76e0p+8", 20000: "0x1.f3c5d87338c42p+10",
            100003: "0x1.385be3fb849cbp+13", 1000000: "0x1.866ec15975e85p+16"}


@pytest.mark.parametrize("N", sorted(EXPECTED))
def test_total_has_numpy_1_bits(N):
    x = exact_data(N)
    assert sums.total(x) == float.fromhex(EXPECTED[N])
    # a column of a matrix, strided or not, sums alike
    M = np.column_stack([x, -x])
    assert sums.total(M[:, 0]) == float.fromhex(EXPECTED[N])
    assert sums.column_sums(M[:, :1])[0] == float.fromhex(EXPECTED[N])
    assert sums.column_sums(np.asfortranarray(M)).tolist() == M.sum(axis=0).tolist()


@pytest.mark.skipif(not NUMPY_1, reason="the definition: NumPy 1.x's own sum")
@pytest.mark.parametrize("N", [1, 7, 8191, 8192, 8193, 16384, 16385, 3 * 8192 + 5, 100003])
def test_total_is_numpy_1_sum(N):
    x = np.random.default_rng(N).standard_normal(N) * 1e3
    assert sums.total(x) == x.sum()
    assert sums.total(x[::-1]) == x[::-1].sum()
    w = np.random.default_rng(N + 1).uniform(0.1, 2.0, N)
    A = x[:, None]
    assert sums.average(A, w).tolist() == np.average(A, axis=0, weights=w).tolist()


def test_one_column_standardised_with_numpy_1_bits():
    x = exact_data(100003)
    center, scale, _ = _center_scale(x[:, None], np.ones(x.size))
    assert center[0] == float.fromhex(EXPECTED[100003]) / x.size
    assert scale[0] == np.sqrt(sums.total((x - center[0]) ** 2) / x.size)



def test_total_takes_one_dimension():
    with pytest.raises(ValueError, match="1-d"):
        sums.total(np.ones((3, 2)))
