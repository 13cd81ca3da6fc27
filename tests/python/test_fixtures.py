"""The core against the shared vectors that testthat also checks."""
import numpy as np

import bngrad
from conftest import FIXTURES, load_fixture, rel_err

NAMES = ("G1", "gamma", "beta", "G2", "b")


def test_there_are_fixtures():
    assert len(FIXTURES) >= 20
    # every case says whether it is weighted (null: every row counts once)
    weighted = [load_fixture(f)[0]["weights"] is not None for f in FIXTURES]
    assert sum(weighted) >= 4 and not all(weighted)


def test_core_matches_fixture(fixture_case):
    d, X, a = fixture_case
    p = bngrad.Params(*(a[k] for k in NAMES))
    w = None if d["weights"] is None else np.array(d["weights"])
    g = bngrad.gradients(X, a["y"], p, activation=d["activation"],
                         eps=d["eps"], ddof=d["ddof"], weights=w)
    exp = d["expected"]
    assert abs(g.loss - exp["loss"]) <= 1e-12 * abs(exp["loss"])
    for k in NAMES:
        assert np.shape(getattr(g, k)) == np.shape(a[k])
        assert rel_err(getattr(g, k), exp[k]) < 1e-10, k


def test_seed_example_is_the_seed_data():
    """The seed example holds the seed question's set.seed(1) data."""
    import json, os
    from conftest import HERE
    d = json.load(open(os.path.join(HERE, "..", "fixtures", "seed_example.json")))
    assert (d["ddof"], d["eps"], d["activation"]) == (1, 0.0, "relu")
    assert np.array(d["X"]).shape == (10, 7) and np.array(d["G1"]).shape == (7, 4)
    assert d["gamma"] == [2, 3, 4, 5] and d["beta"] == [-2, -3, -4, -5]
