"""Issue 10's R^2 goal where the default fit used to miss: make_friedman1
(5 informative inputs, noise 1) with as many inputs as rows, or more, or
fewer than two rows per input.  Three draws per shape, one 75/25 split each,
test R^2 of default BNRegressor, HistGradientBoostingRegressor and RidgeCV.

    python bench/wide_few_rows.py      (with the project's .venv)

Below two rows per input ARD holds each input's decay near the pool (its
hyperprior, kernels/bayes.py), and the nets alone do about what ridge does;
the default fit then compares itself with fits again on the inputs their
decays rank first (fit.py: _select_inputs).  See the README."""
import warnings

import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

from bngrad import BNRegressor

SHAPES = [(80, 60), (100, 100), (120, 200), (200, 100)]     # (rows, inputs) before the split


def main():
    warnings.simplefilter("ignore")
    print("| rows x inputs | BNRegressor | HistGradientBoosting | RidgeCV |")
    print("|---|---|---|---|")
    for n, p in SHAPES:
        r = []
        for s in range(3):
            X, y = make_friedman1(n_samples=int(n / 0.75), n_features=p, noise=1.0, random_state=s)
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=s)
            r.append([r2_score(yte, est.fit(Xtr, ytr).predict(Xte)) for est in (
                BNRegressor(random_state=s), HistGradientBoostingRegressor(random_state=s),
                RidgeCV())])
        r = np.array(r)
        print(f"| {n} x {p} | " + " | ".join(
            f"{r[:, j].min():.2f} to {r[:, j].max():.2f}" for j in range(3)) + " |")


if __name__ == "__main__":
    main()
