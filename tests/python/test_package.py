"""The Python and R halves carry one version (the R bridge refuses others)."""
import os
import re

import bngrad

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def read(name):
    with open(os.path.join(ROOT, name)) as fh:
        return fh.read()


def test_versions_agree():
    r_version = re.search(r"^Version: (\S+)$", read("DESCRIPTION"), re.M).group(1)
    py_version = re.search(r'^version = "([^"]+)"$', read("pyproject.toml"), re.M).group(1)
    assert bngrad.__version__ == r_version == py_version


def test_public_api():
    assert set(bngrad.__all__) >= {"init_params", "gradients", "batchnorm_forward",
                                   "batchnorm_backward", "Params", "Gradients"}
    assert bngrad.Params._fields == ("G1", "gamma", "beta", "G2", "b")
    assert bngrad.Gradients._fields == ("loss", "G1", "gamma", "beta", "G2", "b")
