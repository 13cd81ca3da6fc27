import glob
import json
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
FIXTURES = sorted(glob.glob(os.path.join(HERE, "..", "fixtures", "*.json")))
# gradient cases only: seed_data.json is raw data, fit_example.json a fit
FIXTURES = [f for f in FIXTURES if not os.path.basename(f).startswith(("seed_data", "fit_"))]


def load_fixture(path):
    with open(path) as fh:
        d = json.load(fh)
    X = np.array(d["X"], dtype=np.int32 if d["X_integer"] else np.float64)
    arr = {k: np.array(d[k], dtype=float) for k in ("y", "G1", "gamma", "beta", "G2", "b")}
    return d, X, arr


def rel_err(a, b):
    """max |a - b| over the scale of b: the norm-relative error of a block."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@pytest.fixture(params=FIXTURES, ids=lambda p: os.path.basename(p)[:-5])
def fixture_case(request):
    return load_fixture(request.param)
