"""The engine's two paths, small X (kernels.small) and the tiled pass
(kernels.tiled on row chunks), against each other and the closed form, on
both sides of the size limit, at every tile and chunk boundary, threaded and
not; every input either path declines or rejects gets the general path's
error.  Each test asserts the path it means to test was the one taken."""
import numpy as np
import pytest

import bngrad
from bngrad import engine, kernels, kron
from bngrad.kernels import tiled
from complex_step import closed_form
from conftest import rel_err

NAMES = ("G1", "gamma", "beta", "G2", "b")


def case(N, p1=4, p2=6, q=1, seed=0, loc=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, p1)) * 2 + loc
    y = rng.standard_normal((N, q))
    p = bngrad.Params(rng.standard_normal((p1, p2)), rng.uniform(0.5, 2, p2),
                      rng.standard_normal(p2), rng.standard_normal((p2, q)),
                      rng.standard_normal(q))
    return X, y, p


def small_status(X, y, p, activation="relu", eps=1e-5, ddof=0):
    """What kernels.small says to these arguments (NOT_SMALL if it declines)."""
    Y = y if y.ndim == 2 else y.reshape(-1, 1)
    G2 = p.G2 if p.G2.ndim == 2 else p.G2.reshape(-1, 1)
    return engine.small_gradient(X, Y, engine.NO_WEIGHTS, p.G1, p.gamma, p.beta, G2, p.b,
                                 bngrad.ACTIVATIONS[activation], eps, ddof)[0]


@pytest.fixture
def tiled_only(monkeypatch):
    """Every call takes the tiled pass, with tiny tiles and chunks, so that
    a few dozen rows cross tile and chunk boundaries."""
    monkeypatch.setattr(engine, "SMALL_MAX", 0)
    monkeypatch.setattr(tiled, "tile_rows", lambda p1, p2: 3)
    monkeypatch.setattr(tiled, "chunk_rows", lambda p1, p2, N: 7)


def same(g, h, tol=1e-12):
    assert abs(g.loss - h.loss) <= tol * abs(h.loss)
    for k in NAMES:
        assert np.shape(getattr(g, k)) == np.shape(getattr(h, k)), k
        assert rel_err(getattr(g, k), getattr(h, k)) < tol, k


def check_closed_form(g, X, y, p, activation, eps, ddof, tol=1e-10):
    loss, ref = closed_form(np.asarray(X), y, *p, activation, eps, ddof)
    assert abs(g.loss - loss) <= 1e-12 * loss
    for k, r in zip(NAMES, ref):
        assert rel_err(getattr(g, k), np.reshape(r, np.shape(getattr(g, k)))) < tol, k


@pytest.mark.parametrize("activation", sorted(bngrad.ACTIVATIONS))
@pytest.mark.parametrize("q", [1, 3])
@pytest.mark.parametrize("ddof, eps", [(0, 1e-5), (1, 0.0)])
def test_small_and_tiled_agree_with_the_closed_form(activation, q, ddof, eps, monkeypatch):
    X, y, p = case(37, q=q, seed=q)
    assert small_status(X, y, p, activation, eps, ddof) == kernels.OK
    g = bngrad.gradients(X, y, p, activation, eps=eps, ddof=ddof)
    check_closed_form(g, X, y, p, activation, eps, ddof)
    monkeypatch.setattr(engine, "SMALL_MAX", 0)
    assert small_status(X, y, p, activation, eps, ddof) == kernels.NOT_SMALL
    same(g, bngrad.gradients(X, y, p, activation, eps=eps, ddof=ddof), 1e-10)


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_both_sides_of_the_size_limit(extra):
    p1, p2 = 4, 6
    N = engine.SMALL_MAX // (p1 + p2) + extra
    X, y, p = case(N, p1, p2)
    want = kernels.OK if N * (p1 + p2) <= engine.SMALL_MAX else kernels.NOT_SMALL
    assert small_status(X, y, p) == want
    check_closed_form(bngrad.gradients(X, y, p), X, y, p, "relu", 1e-5, 0)


@pytest.mark.parametrize("N", [3, 4, 6, 7, 8, 13, 14, 15, 22, 50])
@pytest.mark.parametrize("layout", ["C", "F-readonly", "strided"])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_tile_and_chunk_boundaries(N, layout, threads, tiled_only):
    X, Y, p = case(N, 5, 7, q=2, seed=N, loc=2.0)
    if layout == "F-readonly":
        X = np.asfortranarray(X)
        X.flags.writeable = False
    elif layout == "strided":
        X = np.repeat(X, 2, axis=1)[:, ::2]
    checked = bngrad.checks.net(X, Y, p, "tanh", 1e-5, 1)
    g = engine.tiled_gradient(*checked, threads=threads)
    loss, ref = closed_form(np.asarray(X), Y, *p, "tanh", 1e-5, 1)
    assert abs(g[0] - loss) <= 1e-12 * loss
    for got, r in zip(g[1:], ref):
        assert rel_err(got, r) < 1e-10


@pytest.mark.parametrize("N, aliased", [(512, True), (520, False)])
def test_column_major_x_read_along_its_columns_gives_the_same_bits(N, aliased, tiled_only):
    """An R matrix whose columns are a multiple of 4 KiB apart (N = 512) is
    packed along its columns (tiled._columns_alias), one whose columns fall
    in many cache sets (N = 520) and a C-ordered one along their rows.  The
    copy is the same, so the gradient is the same to the bit in every
    layout, across tile and chunk boundaries and threads."""
    X, Y, p = case(N, 12, 5, q=2, seed=N, loc=3.0)
    F = np.asfortranarray(X)
    F.flags.writeable = False
    flipped = np.asfortranarray(X[::-1])[::-1]          # negative row stride
    assert tiled._columns_alias(F) == aliased
    assert tiled._columns_alias(flipped) == aliased
    assert not tiled._columns_alias(X)
    assert not tiled._columns_alias(np.asfortranarray(X[:, :8]))    # 8 columns: 8 ways hold them
    want = engine.tiled_gradient(*bngrad.checks.net(X, Y, p, "tanh", 1e-5, 0), threads=1)
    for Xl in (F, flipped, np.repeat(F, 2, axis=1)[:, ::2]):
        for threads in (1, 3):
            got = engine.tiled_gradient(*bngrad.checks.net(Xl, Y, p, "tanh", 1e-5, 0),
                                        threads=threads)
            assert all(np.array_equal(a, b) for a, b in zip(got, want))


@pytest.mark.parametrize("activation", sorted(bngrad.ACTIVATIONS))
def test_threaded_tiled_pass_every_activation(activation, tiled_only):
    X, y, p = case(40, seed=3)
    checked = bngrad.checks.net(X, y, p, activation, 1e-5, 0)
    one = engine.tiled_gradient(*checked, threads=1)
    three = engine.tiled_gradient(*checked, threads=3)
    for a, b in zip(one, three):
        assert np.array_equal(a, b)               # the same bits, whatever the threads
    check_closed_form(bngrad.gradients(X, y, p, activation), X, y, p, activation, 1e-5, 0)


def test_a_large_case_threads_by_itself():
    N = engine.PARALLEL_MIN // 10 + 17
    X, y, p = case(N, 4, 6, seed=1)
    assert N * 10 >= engine.PARALLEL_MIN
    g = bngrad.gradients(X, y[:, 0], p._replace(G2=p.G2[:, 0]))   # vectors, R's way
    assert g.G2.shape == (6,)
    check_closed_form(g, X, y, p, "relu", 1e-5, 0)


@pytest.mark.parametrize("layout", ["F-readonly", "C-readonly", "strided", "int32"])
def test_every_layout_and_vector_shapes_on_the_small_path(layout):
    X, y, p = case(20)
    ref = bngrad.gradients(X, y, p)
    if layout == "strided":
        Xl = np.repeat(X, 2, axis=1)[:, ::2]
    elif layout == "int32":
        X = np.round(X).astype(np.int32)
        ref = bngrad.gradients(X.astype(float), y, p)
        Xl = X
    else:
        Xl = np.asfortranarray(X) if layout[0] == "F" else X.copy()
        Xl.flags.writeable = False
    if layout != "int32":
        assert small_status(Xl, y, p) == kernels.OK
    same(bngrad.gradients(Xl, y, p), ref)
    pv = p._replace(G2=p.G2[:, 0])
    g = bngrad.gradients(Xl, y[:, 0], pv)          # y and G2 as vectors
    assert g.G2.shape == (6,)
    for k in NAMES:
        assert rel_err(np.ravel(getattr(g, k)), np.ravel(getattr(ref, k))) < 1e-12, k


@pytest.mark.parametrize("small", [True, False])
def test_inputs_left_unchanged(small, monkeypatch):
    if not small:
        monkeypatch.setattr(engine, "SMALL_MAX", 0)
    X, y, p = case(9, q=2)
    copies = [a.copy() for a in (X, y, *p)]
    bngrad.gradients(X, y, p, "tanh")
    assert all(np.array_equal(a, c) for a, c in zip((X, y, *p), copies))


@pytest.mark.parametrize("small", [True, False])
@pytest.mark.parametrize("where", range(7))
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_or_inf_named_in_each_input(where, value, small, monkeypatch):
    if not small:
        monkeypatch.setattr(engine, "SMALL_MAX", 0)
    X, y, p = case(11, q=2)
    arrays = [X, y, *p]
    arrays[where] = arrays[where].copy()
    arrays[where].flat[-1] = value
    X, y, *rest = arrays
    if small:
        assert small_status(X, y, bngrad.Params(*rest)) not in (kernels.OK, kernels.NOT_SMALL)
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
    assert small_status(X, y, bngrad.Params(*arrays), activation) == kernels.NOT_FINITE
    with pytest.raises(ValueError, match=f"^{kernels.INPUTS[where]} contains NaN or Inf"):
        bngrad.gradients(X, y, bngrad.Params(*arrays), activation)


def test_nan_in_X_where_G1_has_a_zero_row():
    X, y, p = case(11)
    X[3, 2] = np.nan
    p.G1[2] = 0.0
    with pytest.raises(ValueError, match="^X contains NaN or Inf"):
        bngrad.gradients(X, y, p)


@pytest.mark.parametrize("small", [True, False])
def test_flat_column_with_eps_zero(small, monkeypatch):
    if not small:
        monkeypatch.setattr(engine, "SMALL_MAX", 0)
    X, y, p = case(15)
    p.G1[:, 4] = 0.0
    with pytest.raises(ValueError, match="column 4 of X @ G1 has zero variance"):
        bngrad.gradients(X, y, p, eps=0.0)
    X[:, 1] = 3.7                                 # a constant column of X, offset included
    p = p._replace(G1=np.eye(4, 6))
    with pytest.raises(ValueError, match="column 1 of X @ G1 has zero variance"):
        bngrad.gradients(X, y, p, eps=0.0)
    bngrad.gradients(X, y, p, eps=1e-5)            # fine with eps > 0


@pytest.mark.parametrize("small", [True, False])
def test_underflowing_variance_with_eps_zero(small, monkeypatch):
    # BN is blind to X's scale with eps = 0 until the variance leaves float64's
    # normal range: at 1e-160 it had lost digits (the loss 8e-5 off, no error);
    # where it rounds to 0 (1e-200) the column is flat to float64, as a constant
    if not small:
        monkeypatch.setattr(engine, "SMALL_MAX", 0)
    X, y, p = case(15)
    base = bngrad.gradients(X, y, p, eps=0.0)
    assert bngrad.gradients(X * 1e-150, y, p, eps=0.0).loss == pytest.approx(base.loss, rel=1e-12)
    under = "^X @ G1 is too small for float64: column 0 has a variance that underflows.*eps > 0"
    for s in (1e-156, 1e-160):
        with pytest.raises(ValueError, match=under):
            bngrad.gradients(X * s, y, p, eps=0.0)
        bngrad.gradients(X * s, y, p, eps=1e-5)
    for Z in (X * 1e-200, np.full_like(X, 1e-200), np.full_like(X, 3.0)):
        with pytest.raises(ValueError, match="column 0 of X @ G1 has zero variance"):
            bngrad.gradients(Z, y, p, eps=0.0)
    # a first row at the mean (a centre point first), and a column constant on
    # the rows that count but for a first row of weight 0
    k = np.arange(1, 8) / 8.0
    Xs = np.r_[0.0, np.ravel(np.column_stack([k, -k]))][:, None] * np.ones(4)
    Xs[:, 1:] += np.random.default_rng(0).standard_normal((15, 3))
    with pytest.raises(ValueError, match=under):
        bngrad.gradients(Xs * 1e-160, y, p, eps=0.0)
    Xw = X.copy()
    Xw[1:, 0] = 0.25
    w = np.r_[0.0, np.ones(14)]
    with pytest.raises(ValueError, match="column 0 of X @ G1 has zero variance"):
        bngrad.gradients(Xw, y, p._replace(G1=np.eye(4, 6)), eps=0.0, weights=w)
    for f, what in ((lambda Z: kron.gradients(Z, y, p, eps=0.0), "X @ G1"),
                    (lambda Z: bngrad.batchnorm_forward(Z, np.ones(4), np.zeros(4), eps=0.0), "x")):
        assert np.isfinite(f(X * 1e-150)[0]).all()
        with pytest.raises(ValueError, match=f"^{what} is too small for float64: column 0 "):
            f(X * 1e-160)
        for Z in (X * 1e-200, np.full_like(X, 1e-200)):
            with pytest.raises(ValueError, match="zero variance"):
                f(Z)


@pytest.mark.parametrize("bad", [
    dict(activation="swish"), dict(eps=-1.0), dict(eps=float("nan")), dict(ddof=2),
    dict(ddof=True), dict(eps=0), dict(N=1)])
def test_declined_inputs_get_the_general_paths_answer(bad, monkeypatch):
    """Whatever the small kernel declines, the general path decides: the same
    errors and numbers as on the tiled path."""
    X, y, p = case(bad.pop("N", 10))
    kw = dict(activation="relu", eps=1e-5, ddof=0) | bad
    try:
        expect = bngrad.gradients(X, y, p, **kw)
    except (ValueError, TypeError) as e:
        monkeypatch.setattr(engine, "SMALL_MAX", 0)
        with pytest.raises(type(e), match=str(e)[:30].replace("(", r"\(").replace("[", r"\[")):
            bngrad.gradients(X, y, p, **kw)
    else:
        monkeypatch.setattr(engine, "SMALL_MAX", 0)
        same(expect, bngrad.gradients(X, y, p, **kw), 1e-10)


def test_shape_mismatches_named():
    X, y, p = case(10)
    with pytest.raises(ValueError, match="gamma must have length 6"):
        bngrad.gradients(X, y, p._replace(gamma=np.ones(5)))
    with pytest.raises(ValueError, match="y must have 10 rows"):
        bngrad.gradients(X, y[:9], p)
    with pytest.raises(ValueError, match="b must have length 1"):
        bngrad.gradients(X, y, p._replace(b=np.zeros(2)))
    with pytest.raises(ValueError, match="X must have at least 1 column"):
        bngrad.gradients(X[:, :0], y, p._replace(G1=p.G1[:0]))
    # a parameter numba has no signature for (float32) still works, via the general path
    g = bngrad.gradients(X, y, p._replace(G1=p.G1.astype(np.float32)))
    assert np.isfinite(g.loss)


def test_a_first_call_compiles_only_the_kernel_it_runs():
    """A wide X with few rows (few values, but products too big for the small
    kernel) goes straight to the tiled passes: a fresh process's first call
    compiles (or loads) gradient_pass alone, not a small kernel that would
    decline."""
    import subprocess
    import sys
    code = (
        "import numpy as np, bngrad\n"
        "from bngrad import engine\n"
        "from bngrad.kernels import small, tiled\n"
        "X = np.random.default_rng(0).standard_normal((60, 120))\n"
        "assert X.shape[0] * (120 + 60) <= engine.SMALL_MAX < 1e9\n"
        "assert X.shape[0] * 120 * 60 > engine.SMALL_PRODUCT\n"
        "bngrad.gradients(X, X[:, 0].copy(), bngrad.init_params(120, 60))\n"
        "print(len(small.gradient_small.signatures), len(tiled.gradient_pass.signatures))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "1"]


@pytest.mark.filterwarnings("ignore::UserWarning")    # max_iter = 20 may stop it short
def test_an_lbfgs_fit_past_the_small_kernel_computes_x_statistics_once(monkeypatch):
    """Few values but products too big for the small kernel: the gradients go
    the tiled way, so a fit with a decay computes X's statistics once for
    all its iterations, not a statistics pass in every gradient."""
    N, p1, p2 = 600, 30, 12
    assert engine.SMALL_MAX >= N * (p1 + p2) and N * p1 * p2 > engine.SMALL_PRODUCT
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, p1))
    y = X[:, 0] + 0.1 * rng.standard_normal(N)
    calls = []
    real = engine.stats_from_sums
    monkeypatch.setattr(engine, "stats_from_sums", lambda *a: calls.append(1) or real(*a))
    est = bngrad.BNRegressor(hidden=p2, optimizer="lbfgs", decay=0.1, max_iter=20).fit(X, y)
    assert est.n_iter_ >= 5 and len(calls) == 1
