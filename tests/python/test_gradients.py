"""The core against an independent float64 derivative (complex step) and
against central finite differences, on random inputs of every kind."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import bngrad
import complex_step
from conftest import rel_err

ACTS = sorted(bngrad.ACTIVATIONS)
NAMES = ("G1", "gamma", "beta", "G2", "b")


def make_case(seed, N, p1, p2, q, g2_vector=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, p1)) * rng.uniform(0.2, 5) + rng.normal()
    y = rng.standard_normal(N) if (q == 1 and rng.random() < 0.5) else rng.standard_normal((N, q))
    p = bngrad.Params(
        G1=rng.standard_normal((p1, p2)), gamma=rng.uniform(-2, 2, p2),
        beta=rng.standard_normal(p2), b=rng.standard_normal(q),
        G2=rng.standard_normal(p2) if g2_vector else rng.standard_normal((p2, q)))
    return X, y, p


def as_layout(X, layout):
    """X as R or numpy might hand it over."""
    if layout == "C":
        return np.ascontiguousarray(X)
    if layout == "F":
        return np.asfortranarray(X)
    if layout == "F-readonly":          # what reticulate gives for an R matrix
        X = np.asfortranarray(X)
        X.flags.writeable = False
        return X
    if layout == "view":                # every other column of a wider array
        wide = np.repeat(X, 2, axis=1)
        return wide[:, ::2]
    if layout == "float32":
        return X.astype(np.float32)
    if layout == "int32":
        return np.round(X * 3).astype(np.int32)
    raise ValueError(layout)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), N=st.integers(2, 25), p1=st.integers(1, 6),
       p2=st.integers(1, 6), q=st.sampled_from([1, 1, 2, 3]),
       activation=st.sampled_from(ACTS), ddof=st.sampled_from([0, 1]),
       eps=st.sampled_from([0.0, 1e-5, 0.1]),
       layout=st.sampled_from(["C", "F", "F-readonly", "view", "float32", "int32"]),
       g2_vector=st.booleans())
def test_matches_complex_step(seed, N, p1, p2, q, activation, ddof, eps, layout, g2_vector):
    X, y, p = make_case(seed, N, p1, p2, q if not g2_vector else 1, g2_vector)
    X = as_layout(X, layout)
    Xf = np.asarray(X, dtype=float)
    # a constant column with eps = 0 is an error, tested elsewhere
    assume(not (eps == 0 and (np.ptp(Xf @ p.G1, axis=0)
                              < 1e-6 * (1 + np.abs(Xf @ p.G1).max())).any()))
    before = [X.copy(), np.copy(y)] + [np.copy(v) for v in p]
    g = bngrad.gradients(X, y, p, activation=activation, eps=eps, ddof=ddof)
    loss, ref = complex_step.gradients(Xf, y, p, activation, eps, ddof)
    assert abs(g.loss - loss) <= 1e-10 * loss
    # Entries that are zero in exact arithmetic (BN makes R invariant to the
    # scale of G1's columns when eps = 0) hold rounding noise of the size of
    # the other gradients, hence an absolute floor at that scale.
    scale = max(np.abs(r).max() for r in ref) + loss
    for k, r in zip(NAMES, ref):
        got = getattr(g, k)
        assert np.shape(got) == np.shape(getattr(p, k))
        np.testing.assert_allclose(got, r, rtol=1e-8, atol=1e-12 * scale, err_msg=k)
    after = [X, y] + list(p)
    assert all(np.array_equal(a, b) for a, b in zip(before, after)), "an input changed"


def central_differences(X, y, p, activation, eps, ddof, h=1e-6):
    out = []
    for k in range(5):
        base = np.array(p[k], dtype=float)
        g = np.empty(base.size)
        for m in range(base.size):
            step = h * max(1.0, abs(base.flat[m]))
            vals = []
            for s in (+step, -step):
                moved = base.copy()
                moved.flat[m] += s
                q = list(p)
                q[k] = moved
                G2 = q[3] if np.ndim(q[3]) == 2 else np.reshape(q[3], (-1, 1))
                Y = y if np.ndim(y) == 2 else np.reshape(y, (-1, 1))
                vals.append(complex_step.loss(X, Y, q[0], q[1], q[2], G2, q[4],
                                              activation, eps, ddof))
            g[m] = (vals[0] - vals[1]) / (2 * step)
        out.append(g.reshape(base.shape))
    return out


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("ddof,eps", [(0, 1e-5), (1, 0.0)])
def test_matches_central_differences(activation, ddof, eps):
    for seed in range(5):
        X, y, p = make_case(100 + seed, N=30, p1=4, p2=5, q=2)
        g = bngrad.gradients(X, y, p, activation=activation, eps=eps, ddof=ddof)
        for k, fd in zip(NAMES, central_differences(X, y, p, activation, eps, ddof)):
            assert rel_err(getattr(g, k), fd) < 1e-6, (k, seed)


def test_two_rows_without_eps_make_G1_irrelevant():
    """With N = 2 and eps = 0 each normalised column is +-1/sqrt(2/(2-ddof)):
    G1 cannot change the output, so dR/dG1 is zero up to rounding."""
    X, y, p = make_case(7, N=2, p1=3, p2=4, q=1)
    g = bngrad.gradients(X, y, p, activation="tanh", eps=0.0, ddof=0)
    assert np.abs(g.G1).max() < 1e-12 * np.abs(g.G2).max()


def test_scalar_parameters_from_r():
    """A length-1 R vector arrives as a Python float: p2 = 1 and q = 1."""
    X, y, _ = make_case(3, N=8, p1=2, p2=1, q=1)
    p = bngrad.Params(G1=np.array([[0.5], [-1.0]]), gamma=1.5, beta=0.2, G2=0.7, b=0.1)
    g = bngrad.gradients(X, y, p, activation="tanh", eps=1e-5, ddof=1.0)
    _, ref = complex_step.gradients(X, y, [np.asarray(v, float) for v in p], "tanh", 1e-5, 1)
    for k, r in zip(NAMES, ref):
        assert np.shape(getattr(g, k)) == np.shape(getattr(p, k))
        assert rel_err(getattr(g, k), r) < 1e-10
    # 0-d arrays alike, y 1-d and 2-d, with Params' own fast path (it read a
    # 0-d G2's second dimension: IndexError)
    p0 = p._replace(gamma=np.array(1.5), beta=np.array(0.2), G2=np.array(0.7), b=np.array(0.1))
    for yy in (y, y.reshape(-1, 1)):
        g0 = bngrad.gradients(X, yy, p0, activation="tanh", eps=1e-5, ddof=1)
        assert np.shape(g0.G2) == () and np.shape(g0.b) == ()
        for k in NAMES:
            assert rel_err(getattr(g0, k), getattr(g, k)) < 1e-12


def test_init_params_shapes_and_seed():
    p = bngrad.init_params(5, 7, 2, seed=3)
    assert [np.shape(v) for v in p] == [(5, 7), (7,), (7,), (7, 2), (2,)]
    q = bngrad.init_params(5.0, 7.0, 2.0, seed=3.0)
    assert all(np.array_equal(a, b) for a, b in zip(p, q))
    assert not np.array_equal(p.G1, bngrad.init_params(5, 7, 2, seed=4).G1)


def test_warmup_compiles_every_signature():
    """After warm-up every kernel has its one signature, and no input a user
    can pass (any layout, dtype, vector or matrix y and G2, any path) makes
    a kernel compile another."""
    from bngrad import engine
    from bngrad.warmup import warm
    warm()
    kernels = engine.kernels_used()
    assert all(len(k.signatures) == 1 for k in kernels)
    rng = np.random.default_rng(0)
    X, y, p = make_case(1, N=40, p1=3, p2=2, q=1)
    medium = rng.standard_normal((engine.SMALL_MAX, 2))
    big = rng.standard_normal((engine.PARALLEL_MIN, 2))
    for x in [as_layout(X, l) for l in ("C", "F", "F-readonly", "view", "float32", "int32")] + [
            medium, np.asfortranarray(medium), medium[:, ::-1],
            big, np.asfortranarray(big), big[:, ::-1]]:
        for G2_shape in ((3, 1), (3,)):
            p = bngrad.init_params(x.shape[1], 3)._replace(G2=np.ones(G2_shape))
            bngrad.gradients(x, rng.standard_normal(x.shape[0]), p)
            bngrad.gradients(x, rng.standard_normal((x.shape[0], 1)), p)
    # the default fit (its leave-one-out blend calls a kernel from Python),
    # with inputs as R hands them over and read-only weights
    w = rng.uniform(0.5, 2.0, 40)
    w.flags.writeable = False
    for x in (X, as_layout(X, "F-readonly"), as_layout(X, "int32")):
        bngrad.BNRegressor(hidden=2).fit(x, y)
        bngrad.BNRegressor(hidden=2).fit(x, y, sample_weight=w)
    assert all(len(k.signatures) == 1 for k in kernels)


def test_warmup_fresh_clears_the_cache_wherever_it_is(tmp_path, monkeypatch):
    """warmup --fresh (make runs it) first removes numba's cached kernels:
    an edited source leaves other files' kernels stale (numba checks a
    kernel against its own file only).  Only the cache's .nbi and .nbc."""
    from bngrad import warmup
    where = tmp_path / "kernels_cache"
    where.mkdir()
    for name in ("a.nbi", "a.1.nbc", "b.nbi", "keep.txt"):
        (where / name).touch()
    (tmp_path / "other.nbi").touch()
    monkeypatch.setattr(warmup, "cache_location", lambda: str(where))
    assert warmup.clear() == 3
    assert sorted(p.name for p in tmp_path.rglob("*.*")) == ["keep.txt", "other.nbi"]
    monkeypatch.setattr(warmup, "cache_location", lambda: None)    # none writable
    assert warmup.clear() == 0


def test_after_warmup_a_default_fit_compiles_nothing(tmp_path):
    """python -m bngrad.warmup (as install_bngrad() runs it) caches every
    kernel a default fit calls: a fresh process's first fit, with X as R
    hands it over and read-only weights, adds nothing to numba's cache.
    (The blend's call of a kernel from Python compiled one, 1.7 s.)"""
    import os
    import subprocess
    import sys
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    # --help is help, not a warm-up (it ran one); the warm-up says where it
    # cached: NUMBA_CACHE_DIR, where set, before the package's own directory
    said = subprocess.run([sys.executable, "-m", "bngrad.warmup", "--help"], env=env, check=True,
                          capture_output=True, text=True).stdout
    assert said.startswith("usage: python -m bngrad.warmup") and not list(tmp_path.rglob("*.nbc"))
    assert "--fresh" in said
    said = subprocess.run([sys.executable, "-m", "bngrad.warmup"], env=env, check=True,
                          capture_output=True, text=True).stdout
    assert said.splitlines()[-1].startswith(f"bngrad: numba's cache: {tmp_path}")
    cached = sorted(p.name for p in tmp_path.rglob("*.nbc"))
    code = (
        "import numpy as np, bngrad\n"
        "rng = np.random.default_rng(0)\n"
        "X = np.asfortranarray(rng.standard_normal((60, 3))); X.flags.writeable = False\n"
        "y = X[:, 0] + np.sin(X[:, 1]); w = rng.uniform(0.5, 2, 60); w.flags.writeable = False\n"
        "bngrad.BNRegressor(hidden=3).fit(X, y)\n"
        "bngrad.BNRegressor(hidden=3).fit(X, y, sample_weight=w)\n"
        "bngrad.BNRegressor(hidden=3).fit(np.arange(120, dtype=np.int32).reshape(60, 2) % 7, y)\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    assert sorted(p.name for p in tmp_path.rglob("*.nbc")) == cached
