"""kernels.gradient_small, the path of small X: the same numbers as the tiled
kernel and the closed form, on both sides of its size limit, for every input
it takes, and the general path's errors for every input it declines."""
import numpy as np
import pytest

import bngrad
from bngrad import kernels, model
from complex_step import closed_form
from conftest import rel_err

NAMES = ("G1", "gamma", "beta", "G2", "b")


def case(N, p1=4, p2=6, q=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, p1)) * 2 + 1
    y = rng.standard_normal((N, q))
    p = bngrad.Params(rng.standard_normal((p1, p2)), rng.uniform(0.5, 2, p2),
                      rng.standard_normal(p2), rng.standard_normal((p2, q)),
                      rng.standard_normal(q))
    return X, y, p


def small_status(X, y, p, activation="relu", eps=1e-5, ddof=0):
    return kernels.gradient_small(X, y, *p, bngrad.ACTIVATIONS[activation], eps, ddof,
                                  model.SMALL_MAX)[0]


def same(g, h, tol=1e-12):
    assert abs(g.loss - h.loss) <= tol * abs(h.loss)
    for k in NAMES:
        assert np.shape(getattr(g, k)) == np.shape(getattr(h, k)), k
        assert rel_err(getattr(g, k), getattr(h, k)) < tol, k


@pytest.mark.parametrize("activation", sorted(bngrad.ACTIVATIONS))
@pytest.mark.parametrize("q", [1, 3])
@pytest.mark.parametrize("ddof, eps", [(0, 1e-5), (1, 0.0)])
def test_small_equals_tiled_and_closed_form(activation, q, ddof, eps, monkeypatch):
    X, y, p = case(37, q=q, seed=q)
    assert small_status(X, y, p, activation, eps, ddof) == kernels.OK
    g = bngrad.gradients(X, y, p, activation, eps=eps, ddof=ddof)
    loss, ref = closed_form(X, y, *p, activation, eps, ddof)
    assert abs(g.loss - loss) <= 1e-12 * loss
    for k, r in zip(NAMES, ref):
        assert rel_err(getattr(g, k), r) < 1e-10, k
    monkeypatch.setattr(model, "SMALL_MAX", 0)
    same(g, bngrad.gradients(X, y, p, activation, eps=eps, ddof=ddof), 1e-10)


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_both_sides_of_the_size_limit(extra):
    p1, p2 = 4, 6
    N = model.SMALL_MAX // (p1 + p2) + extra
    X, y, p = case(N, p1, p2)
    want = kernels.OK if N * (p1 + p2) <= model.SMALL_MAX else kernels.NOT_SMALL
    assert small_status(X, y, p) == want
    loss, ref = closed_form(X, y, *p, "relu", 1e-5, 0)
    g = bngrad.gradients(X, y, p)
    for k, r in zip(NAMES, ref):
        assert rel_err(getattr(g, k), r) < 1e-10, k


@pytest.mark.parametrize("layout", ["F-readonly", "C-readonly", "strided"])
def test_every_float64_layout_and_vector_shapes(layout):
    X, y, p = case(20)
    ref = bngrad.gradients(X, y, p)
    if layout == "strided":
        Xl = np.repeat(X, 2, axis=1)[:, ::2]
    else:
        Xl = np.asfortranarray(X) if layout[0] == "F" else X.copy()
        Xl.flags.writeable = False
    assert small_status(Xl, y, p) == kernels.OK
    same(bngrad.gradients(Xl, y, p), ref)
    pv = p._replace(G2=p.G2[:, 0])
    g = bngrad.gradients(Xl, y[:, 0], pv)          # y and G2 as vectors
    assert g.G2.shape == (6,)
    assert small_status(Xl, y[:, 0], pv) == kernels.OK
    for k in NAMES:
        assert rel_err(np.ravel(getattr(g, k)), np.ravel(getattr(ref, k))) < 1e-12, k


def test_inputs_left_unchanged():
    X, y, p = case(9, q=2)
    copies = [a.copy() for a in (X, y, *p)]
    bngrad.gradients(X, y, p, "tanh")
    assert all(np.array_equal(a, c) for a, c in zip((X, y, *p), copies))


@pytest.mark.parametrize("where", range(7))
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_or_inf_named_in_each_input(where, value):
    X, y, p = case(11, q=2)
    arrays = [X, y, *p]
    arrays[where] = arrays[where].copy()
    arrays[where].flat[-1] = value
    X, y, *rest = arrays
    with pytest.raises(ValueError, match=f"^{kernels.INPUTS[where]} contains NaN or Inf"):
        bngrad.gradients(X, y, bngrad.Params(*rest))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("where", [3, 4])
def test_inf_in_gamma_or_beta_where_the_activation_saturates(activation, where):
    """An infinite gamma or beta leaves tanh and sigmoid finite, so the loss
    would not show it: it is still named."""
    X, y, p = case(11)
    arrays = list(p)
    arrays[where - 2] = arrays[where - 2].copy()
    arrays[where - 2][1] = np.inf
    with pytest.raises(ValueError, match=f"^{kernels.INPUTS[where]} contains NaN or Inf"):
        bngrad.gradients(X, y, bngrad.Params(*arrays), activation)


def test_nan_in_X_where_G1_has_a_zero_row():
    X, y, p = case(11)
    X[3, 2] = np.nan
    p.G1[2] = 0.0
    with pytest.raises(ValueError, match="^X contains NaN or Inf"):
        bngrad.gradients(X, y, p)


def test_flat_column_with_eps_zero():
    X, y, p = case(15)
    p.G1[:, 4] = 0.0
    with pytest.raises(ValueError, match="column 4 of X @ G1 has zero variance"):
        bngrad.gradients(X, y, p, eps=0.0)
    bngrad.gradients(X, y, p, eps=1e-5)            # fine with eps > 0


@pytest.mark.parametrize("bad", [
    dict(activation="swish"), dict(eps=-1.0), dict(eps=float("nan")), dict(ddof=2),
    dict(ddof=True), dict(eps=0), dict(N=1)])
def test_declined_inputs_get_the_general_paths_answer(bad, monkeypatch):
    """Whatever gradient_small declines, the general path decides: the same
    errors as before, and the same numbers for what it accepts."""
    X, y, p = case(bad.pop("N", 10))
    kw = dict(activation="relu", eps=1e-5, ddof=0) | bad
    try:
        expect = bngrad.gradients(X, y, p, **kw)
    except (ValueError, TypeError) as e:
        monkeypatch.setattr(model, "SMALL_MAX", 0)
        with pytest.raises(type(e), match=str(e)[:30].replace("(", r"\(").replace("[", r"\[")):
            bngrad.gradients(X, y, p, **kw)
    else:
        monkeypatch.setattr(model, "SMALL_MAX", 0)
        same(expect, bngrad.gradients(X, y, p, **kw), 1e-10)


def test_shape_mismatches_named_as_before():
    X, y, p = case(10)
    with pytest.raises(ValueError, match="gamma must have length 6"):
        bngrad.gradients(X, y, p._replace(gamma=np.ones(5)))
    with pytest.raises(ValueError, match="y must have 10 rows"):
        bngrad.gradients(X, y[:9], p)
    with pytest.raises(ValueError, match="b must have length 1"):
        bngrad.gradients(X, y, p._replace(b=np.zeros(2)))
    # a parameter numba has no signature for (float32) still works, via the general path
    g = bngrad.gradients(X, y, p._replace(G1=p.G1.astype(np.float32)))
    assert np.isfinite(g.loss)


def test_first_call_of_a_process_loads_one_signature(tmp_path):
    """A fresh process: importing loads no signature of gradient_small, the
    first small call loads the one it needs, and an X of the wrong ndim
    still gets the general path's error."""
    import subprocess
    import sys
    code = (
        "import numpy as np, bngrad\n"
        "from bngrad import kernels\n"
        "assert len(kernels.gradient_small.signatures) == 0\n"
        "p = bngrad.init_params(3, 2)\n"
        "try:\n"
        "    bngrad.gradients(np.ones(5), np.ones(5), p)\n"
        "except ValueError as e:\n"
        "    assert 'X must be 2-D' in str(e), e\n"
        "else:\n"
        "    raise AssertionError('no error')\n"
        "g = bngrad.gradients(np.random.default_rng(0).standard_normal((6, 3)), np.ones(6), p)\n"
        "assert np.isfinite(g.loss)\n"
        "assert len(kernels.gradient_small.signatures) == 1\n")
    subprocess.run([sys.executable, "-c", code], check=True)
