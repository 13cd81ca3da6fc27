"""The tiled, threaded kernels against the materialised closed form at sizes
that put rows on every side of a tile and chunk boundary."""
import numpy as np
import pytest

import bngrad
from bngrad import kernels, model
from complex_step import closed_form
from conftest import rel_err

NAMES = ("G1", "gamma", "beta", "G2", "b")
P1, P2 = 5, 7
TILE = kernels.tile_rows(P1, P2)


def check(N, layout, threaded, monkeypatch, activation="tanh", q=2, ddof=1, eps=1e-5):
    monkeypatch.setattr(model, "SMALL_MAX", 0)          # the tiled kernel at every N
    if threaded:
        monkeypatch.setattr(model, "PARALLEL_MIN", 0)
    rng = np.random.default_rng(N)
    X = rng.standard_normal((N, P1)) * 3 + 2
    if layout == "F":
        X = np.asfortranarray(X)
        X.flags.writeable = False
    Y = rng.standard_normal((N, q))
    p = bngrad.Params(rng.standard_normal((P1, P2)), rng.uniform(0.5, 2, P2),
                      rng.standard_normal(P2), rng.standard_normal((P2, q)), rng.standard_normal(q))
    g = bngrad.gradients(X, Y, p, activation, eps=eps, ddof=ddof)
    loss, ref = closed_form(np.asarray(X), Y, *p, activation, eps, ddof)
    assert abs(g.loss - loss) <= 1e-12 * loss
    for k, r in zip(NAMES, ref):
        assert rel_err(getattr(g, k), r) < 1e-10, (k, N)


@pytest.mark.parametrize("N", [3, TILE - 1, TILE, TILE + 1, 2 * TILE, 2 * TILE + 1, 5 * TILE + 3])
@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("threaded", [False, True])
def test_tile_and_chunk_boundaries(N, layout, threaded, monkeypatch):
    check(N, layout, threaded, monkeypatch)


@pytest.mark.parametrize("activation", sorted(bngrad.ACTIVATIONS))
def test_threaded_path_every_activation(activation, monkeypatch):
    check(3 * TILE + 5, "C", True, monkeypatch, activation=activation, q=1, ddof=0)


def test_large_threaded_case_without_monkeypatch():
    """A size that takes the threaded path by itself, against the closed form."""
    N = model.PARALLEL_MIN // (P1 + P2) + 17
    rng = np.random.default_rng(1)
    X = rng.standard_normal((N, P1))
    y = rng.standard_normal(N)
    p = bngrad.init_params(P1, P2, seed=2)
    assert model._threads(X, P2) > 1 or bngrad.model.get_num_threads() == 1
    g = bngrad.gradients(X, y, p, "relu")
    loss, ref = closed_form(X, y[:, None], *p, "relu", 1e-5, 0)
    for k, r in zip(NAMES, ref):
        assert rel_err(getattr(g, k), np.reshape(r, np.shape(getattr(g, k)))) < 1e-10, k


def test_nan_found_by_the_threaded_pass(monkeypatch):
    monkeypatch.setattr(model, "SMALL_MAX", 0)
    monkeypatch.setattr(model, "PARALLEL_MIN", 0)
    X = np.random.default_rng(0).standard_normal((3 * TILE, P1))
    X[2 * TILE + 1, 3] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or Inf"):
        bngrad.gradients(X, np.zeros(3 * TILE), bngrad.init_params(P1, P2))
