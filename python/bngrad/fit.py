"""Fitting the net: full-batch L-BFGS on the exact gradient, or minibatch Adam.

BNRegressor follows scikit-learn's estimator conventions (get_params,
set_params, fit/predict/score, fitted attributes ending in "_") without
depending on scikit-learn; `__sklearn_tags__` imports it only when
scikit-learn itself asks.

Scaling: inputs and outputs are standardised inside the fit (the weights in
`params_` belong to the standardised problem; `predict` undoes it), so the
defaults need no tuning whatever the units of X and y.
"""
import numbers
import sys

import numpy as np

from . import checks, engine
from .checks import ACTIVATIONS, design as _design, target as _target
from .model import Params, gradients, init_params


class NotFittedError(ValueError, AttributeError):
    """predict/score before fit (a ValueError and an AttributeError, as in scikit-learn)."""


def _not_fitted_error():
    """scikit-learn's NotFittedError where scikit-learn is loaded already (so
    its users can catch its own type), else ours; importing scikit-learn just
    for this would slow every start."""
    if "sklearn" in sys.modules:
        from sklearn.exceptions import NotFittedError as sk
        return sk
    return NotFittedError


def _flatten(p):
    return np.concatenate([np.ravel(v) for v in p])


def _unflatten(theta, p1, p2, q):
    cuts = np.cumsum([p1 * p2, p2, p2, p2 * q])
    G1, gamma, beta, G2, b = np.split(np.array(theta, dtype=np.float64), cuts)
    return Params(G1.reshape(p1, p2), gamma, beta, G2.reshape(p2, q), b)


class BNRegressor:
    """A one-hidden-layer batch-normalised regression net.

    yhat = act(BN(X G1)) G2 + b, fitted to minimise
    mean((y - yhat)^2) + decay * (|G1|^2 + |G2|^2) / N on standardised X and y.

    optimizer="lbfgs": full batch, scipy's L-BFGS-B on the exact gradient (the
    batch statistics make the full-batch objective deterministic); prediction
    then uses the training set's exact statistics.  optimizer="adam":
    minibatches of batch_size rows, running statistics updated with
    `momentum` as in PyTorch, and used for prediction.
    max_iter: L-BFGS iterations (default 150, memory 30) or Adam epochs (default 200).
    activation: sigmoid by default, like nnet's hidden units (bench/fit_vs_nnet.R).
    seed: the initial weights and the minibatch order; None means seed 0, so
    that the same data and settings give the same fit, bit for bit.
    """

    _params = ("hidden", "activation", "optimizer", "max_iter", "batch_size",
               "learning_rate", "decay", "eps", "ddof", "momentum", "seed", "verbose")
    # A callable(iteration, objective) that the fit reports to, if set (R's trace).
    progress = None

    def __init__(self, hidden=16, activation="sigmoid", optimizer="lbfgs", max_iter=None,
                 batch_size=None, learning_rate=1e-2, decay=0.0, eps=1e-5, ddof=0,
                 momentum=0.1, seed=None, verbose=False):
        self.hidden = hidden
        self.activation = activation
        self.optimizer = optimizer
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.decay = decay
        self.eps = eps
        self.ddof = ddof
        self.momentum = momentum
        self.seed = seed
        self.verbose = verbose

    # scikit-learn's estimator protocol ---------------------------------
    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in self._params}

    def set_params(self, **params):
        for k, v in params.items():
            if k not in self._params:
                raise ValueError(f"Invalid parameter {k!r} for BNRegressor")
            setattr(self, k, v)
        return self

    def __repr__(self):
        defaults = dict(zip(self._params, BNRegressor.__init__.__defaults__))
        changed = [f"{k}={v!r}" for k, v in self.get_params().items()
                   if not (type(v) is type(defaults[k]) and v == defaults[k])]
        return "BNRegressor(" + ", ".join(changed) + ")"

    def __sklearn_tags__(self):
        from sklearn.utils import RegressorTags, Tags, TargetTags
        return Tags(estimator_type="regressor",
                    target_tags=TargetTags(required=True, multi_output=True,
                                           single_output=True),
                    regressor_tags=RegressorTags())

    # settings ----------------------------------------------------------
    def _settings(self):
        def whole(name, v, lowest):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or v != int(v) or v < lowest:
                raise ValueError(f"{name} must be a whole number >= {lowest}, got {v!r}")
            return int(v)

        def positive(name, v, upper=np.inf):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (0 < v < upper):
                raise ValueError(f"{name} must be a number in (0, {upper}), got {v!r}")
            return float(v)

        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.optimizer not in ("lbfgs", "adam"):
            raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {self.optimizer!r}")
        default_iter = 150 if self.optimizer == "lbfgs" else 200
        eps, ddof = checks.eps_ddof(self.eps, self.ddof)
        decay = self.decay
        if isinstance(decay, bool) or not isinstance(decay, numbers.Real) or not decay >= 0:
            raise ValueError(f"decay must be a number >= 0, got {decay!r}")
        return dict(
            hidden=whole("hidden", self.hidden, 1),
            max_iter=default_iter if self.max_iter is None else whole("max_iter", self.max_iter, 1),
            batch_size=None if self.batch_size is None else whole("batch_size", self.batch_size, 2),
            learning_rate=positive("learning_rate", self.learning_rate),
            momentum=positive("momentum", self.momentum, 1.0 + 1e-12),
            decay=float(decay), eps=eps, ddof=ddof,
            seed=0 if self.seed is None else whole("seed", self.seed, 0))

    # fitting -----------------------------------------------------------
    def fit(self, X, y):
        s = self._settings()
        # C order whatever the caller's layout (R's is Fortran), so that R and
        # Python fits of the same numbers are the same to the last bit.
        X = np.ascontiguousarray(_design(X))
        Y = _target(y, X.shape[0])
        if X.shape[0] < 2:
            raise ValueError("X must have at least 2 rows: batch statistics need more "
                             f"than 1 sample, got {X.shape[0]} sample")
        self._y_1d = Y.ndim == 1
        Y2 = Y.reshape(X.shape[0], -1)
        self.x_center_ = X.mean(axis=0)
        self.x_scale_ = _scale(X - self.x_center_)
        self.y_center_ = Y2.mean(axis=0)
        self.y_scale_ = _scale(Y2 - self.y_center_)
        Xs = (X - self.x_center_) / self.x_scale_
        Ys = (Y2 - self.y_center_) / self.y_scale_
        p0 = init_params(X.shape[1], s["hidden"], Ys.shape[1], seed=s["seed"])
        # Every BLAS on one thread for the whole fit: the optimiser's and the
        # array work's between kernel calls would otherwise wake pools that
        # take the cores the kernels' threads need.
        with engine.fit_blas:
            if self.optimizer == "lbfgs":
                params, curve, n_iter = self._lbfgs(Xs, Ys, p0, s)
                Z = Xs @ params.G1
                mean, var = Z.mean(axis=0), Z.var(axis=0, ddof=s["ddof"])
            else:
                params, curve, n_iter, mean, var = self._adam(Xs, Ys, p0, s)
        self.params_ = params
        self.running_mean_ = mean
        self.running_var_ = var
        self.loss_curve_ = curve
        self.n_iter_ = n_iter
        self.n_features_in_ = X.shape[1]
        return self

    def _report(self, it, value):
        if self.progress is not None and (it % 10 == 0 or it == 1):
            self.progress(it, value)
        if self.verbose and it % 10 == 0:
            print(f"iter {it:4d} value {value:.6f}", flush=True)

    def _objective(self, Xs, Ys, p0, s):
        """theta -> (objective, gradient).  X's statistics are computed once
        for the whole fit (small X needs none), and each call goes straight
        to the engine with views into theta: an iteration costs little more
        than a gradient."""
        X, Y, w, _, _, _, _, _, code, eps, ddof = checks.net(Xs, Ys, p0, self.activation,
                                                             s["eps"], s["ddof"])
        N, p1 = X.shape
        p2, q = s["hidden"], Y.shape[1]
        small = N * (p1 + p2) <= engine.SMALL_MAX
        stats = None if small else engine.x_stats(X)
        lam = s["decay"] / N
        cut = np.cumsum([p1 * p2, p2, p2, p2 * q])

        def f(theta):
            G1, gamma, beta, G2, b = np.split(theta, cut)
            G1, G2 = G1.reshape(p1, p2), G2.reshape(p2, q)
            loss, dG1, dgamma, dbeta, dG2, db = engine.gradient(
                X, Y, w, G1, gamma, beta, G2, b, code, eps, ddof, stats=stats)
            grad = np.concatenate((dG1.ravel(), dgamma, dbeta, dG2.ravel(), db))
            if lam:
                # sums, not np.dot: no BLAS call between kernel calls
                loss += lam * ((G1 * G1).sum() + (G2 * G2).sum())
                grad[:cut[0]] += 2 * lam * G1.ravel()
                grad[cut[2]:cut[3]] += 2 * lam * G2.ravel()
            return loss, grad
        return f

    def _lbfgs(self, Xs, Ys, p0, s):
        f = self._objective(Xs, Ys, p0, s)
        p1, p2, q = Xs.shape[1], s["hidden"], Ys.shape[1]
        curve = []

        def callback(intermediate_result):
            curve.append(float(intermediate_result.fun))
            self._report(len(curve), curve[-1])

        from scipy import optimize        # here, not at import: it is a tenth of start-up
        res = optimize.minimize(f, _flatten(p0), jac=True, method="L-BFGS-B", callback=callback,
                                options={"maxiter": s["max_iter"], "maxcor": 30,
                                         "ftol": 1e-10, "gtol": 1e-6})
        if not curve:
            curve.append(float(res.fun))
        return _unflatten(res.x, p1, p2, q), np.array(curve), max(int(res.nit), 1)

    def _adam(self, Xs, Ys, p0, s):
        N, p1 = Xs.shape
        p2, q = s["hidden"], Ys.shape[1]
        batch = min(N, s["batch_size"] or 64)
        rng = np.random.default_rng(s["seed"])
        theta = _flatten(p0)
        m1 = np.zeros_like(theta)
        m2 = np.zeros_like(theta)
        b1, b2, lr = 0.9, 0.999, s["learning_rate"]
        mean, var = np.zeros(p2), np.ones(p2)
        lam = s["decay"] / N
        curve, t = [], 0
        for epoch in range(1, s["max_iter"] + 1):
            order = rng.permutation(N)
            total = 0.0
            for lo in range(0, N - 1, batch):
                idx = order[lo:lo + batch]
                if idx.size < 2:
                    continue                  # a batch of one has no statistics
                p = _unflatten(theta, p1, p2, q)
                Xb = Xs[idx]
                g = gradients(Xb, Ys[idx], p, self.activation, s["eps"], s["ddof"])
                grad = _flatten((g.G1 + 2 * lam * p.G1, g.gamma, g.beta, g.G2 + 2 * lam * p.G2, g.b))
                t += 1
                m1 = b1 * m1 + (1 - b1) * grad
                m2 = b2 * m2 + (1 - b2) * grad ** 2
                theta = theta - lr * (m1 / (1 - b1 ** t)) / (np.sqrt(m2 / (1 - b2 ** t)) + 1e-8)
                # running statistics of X G1, as PyTorch keeps them (unbiased variance)
                Z = Xb @ p.G1
                mo = s["momentum"]
                mean = (1 - mo) * mean + mo * Z.mean(axis=0)
                var = (1 - mo) * var + mo * Z.var(axis=0, ddof=1)
                total += g.loss * idx.size
            curve.append(total / N)
            self._report(epoch, curve[-1])
        return _unflatten(theta, p1, p2, q), np.array(curve), s["max_iter"], mean, var

    # prediction --------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise _not_fitted_error()("This BNRegressor instance is not fitted yet: call fit first")

    def predict(self, X):
        self._check_fitted()
        X = _design(X, n_features=self.n_features_in_)
        Xs = (X - self.x_center_) / self.x_scale_
        out = forward(Xs, self.params_, self.running_mean_, self.running_var_,
                      self.activation, self.eps)
        yhat = out * self.y_scale_ + self.y_center_
        return yhat[:, 0] if self._y_1d else yhat

    def score(self, X, y):
        """R^2 of the prediction (uniform average over outputs)."""
        yhat = np.asarray(self.predict(X), dtype=float).reshape(len(X), -1)
        Y = _target(y, yhat.shape[0]).reshape(yhat.shape[0], -1)
        ss_res = ((Y - yhat) ** 2).sum(axis=0)
        ss_tot = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
        ok = ss_tot > 0
        r2 = np.where(ok, 1 - ss_res / np.where(ok, ss_tot, 1), np.where(ss_res == 0, 1.0, 0.0))
        return float(r2.mean())


def _scale(Xc):
    sd = np.sqrt((Xc ** 2).mean(axis=0))
    return np.where(sd > 0, sd, 1.0)


def forward(X, params, mean, var, activation="relu", eps=1e-5):
    """yhat with batch norm frozen at population statistics (mean, var of X G1):
    each row's prediction depends on that row alone, so one row predicts too."""
    H = np.ascontiguousarray(params.gamma * (X @ params.G1 - mean) / np.sqrt(var + eps)
                             + params.beta)
    engine.activate(H, ACTIVATIONS[activation])          # A -> act(A) in place
    return H @ params.G2 + params.b
