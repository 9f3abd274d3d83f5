"""Fingerprints of a fixed grid of fits: the proof that a refactor changed no bit.

Every estimator x solver x penalty x dtype x dense/CSR (and the options that
take their own kernel paths: schedules, momentum, dropout, activations,
several outputs, early stopping, partial_fit) is fitted with a fixed
``random_state``; each fit is summarised by a SHA-256 of its parameters and
its loss curve. Run it before a change and after, on the same machine
(vectorised float code may round differently on another processor)::

    python benchmarks/fingerprints.py --save before.json
    # ... change the code ...
    python benchmarks/fingerprints.py --check before.json

``--check`` prints every fit whose fingerprint moved and exits 1 if any did.
"""

import argparse
import hashlib
import itertools
import json
import sys
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from skbigmodel import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor

SOLVERS = ["adam", "sgd", "rmsprop"]
PENALTIES = ["l2", "l1", "elasticnet", None]
DTYPES = [np.float64, np.float32]


def _data():
    X, y = make_classification(
        n_samples=700, n_features=24, n_informative=10, n_classes=3, random_state=0
    )
    Xr, yr = make_regression(
        n_samples=700, n_features=24, n_targets=2, noise=3.0, random_state=0
    )
    rng = np.random.default_rng(0)
    Xs = sp.random(
        700,
        400,
        density=0.04,
        format="csr",
        random_state=rng,
        data_rvs=rng.standard_normal,
    )
    ys = (Xs @ rng.standard_normal(400) > 0).astype(int)
    return {
        "binary": (X, (y > 0).astype(int)),
        "multiclass": (X, y),
        "regression": (Xr, yr[:, 0]),
        "multioutput": (Xr, yr),
        "sparse_binary": (Xs, ys),
        "sparse_multiclass": (Xs, ys + (Xs[:, 0].toarray().ravel() > 0)),
        "sparse_regression": (Xs, np.asarray(Xs @ rng.standard_normal(400)).ravel()),
    }


def _grid():
    """(name, estimator factory, data key, fit kind) for every case."""
    common = dict(random_state=0, max_iter=3, batch_size=32)
    for solver, penalty in itertools.product(SOLVERS, PENALTIES):
        params = dict(common, solver=solver, penalty=penalty)
        for data in ("binary", "multiclass", "sparse_binary", "sparse_multiclass"):
            yield (
                f"logistic-{solver}-{penalty}-{data}",
                LogisticClassifier,
                params,
                data,
            )
        for data in ("regression", "multioutput", "sparse_regression"):
            yield f"linreg-{solver}-{penalty}-{data}", LinearRegressor, params, data
        mlp = dict(common, solver=solver, penalty=penalty, hidden_layer_sizes=(16, 8))
        for data in ("binary", "multiclass", "sparse_binary"):
            yield f"mlpclf-{solver}-{penalty}-{data}", MLPClassifier, mlp, data
        yield f"mlpreg-{solver}-{penalty}-multioutput", MLPRegressor, mlp, "multioutput"
    # Full-batch L-BFGS (fit only: it has no partial_fit).
    for penalty in ("l2", None):
        params = dict(common, solver="lbfgs", penalty=penalty)
        mlp = dict(params, hidden_layer_sizes=(16, 8))
        for data in ("binary", "multiclass", "sparse_binary", "sparse_multiclass"):
            yield f"logistic-lbfgs-{penalty}-{data}", LogisticClassifier, params, data
        for data in ("regression", "multioutput", "sparse_regression"):
            yield f"linreg-lbfgs-{penalty}-{data}", LinearRegressor, params, data
        for data in ("binary", "multiclass", "sparse_binary"):
            yield f"mlpclf-lbfgs-{penalty}-{data}", MLPClassifier, mlp, data
        yield f"mlpreg-lbfgs-{penalty}-multioutput", MLPRegressor, mlp, "multioutput"
    # Plain SGD without momentum: the weight-scaled CSR kernel.
    for penalty in ("l2", None):
        params = dict(common, solver="sgd", momentum=0.0, penalty=penalty)
        for data in ("sparse_binary", "sparse_multiclass", "binary"):
            yield (
                f"logistic-plainsgd-{penalty}-{data}",
                LogisticClassifier,
                params,
                data,
            )
        yield (
            f"linreg-plainsgd-{penalty}-sparse",
            LinearRegressor,
            params,
            "sparse_regression",
        )
    for schedule in ("invscaling", "adaptive"):
        for solver in SOLVERS:
            params = dict(common, solver=solver, learning_rate=schedule, max_iter=15)
            yield f"logistic-{schedule}-{solver}", LogisticClassifier, params, "binary"
            yield (
                f"logistic-{schedule}-{solver}-csr",
                LogisticClassifier,
                params,
                "sparse_binary",
            )
    yield (
        "sgd-nonesterov",
        LogisticClassifier,
        dict(common, solver="sgd", nesterovs_momentum=False),
        "multiclass",
    )
    for loss in ("huber", "epsilon_insensitive"):
        for data in ("regression", "sparse_regression"):
            yield (
                f"linreg-{loss}-{data}",
                LinearRegressor,
                dict(common, loss=loss),
                data,
            )
    yield (
        "linreg-nointercept",
        LinearRegressor,
        dict(common, fit_intercept=False),
        "regression",
    )
    yield (
        "logistic-classweight",
        LogisticClassifier,
        dict(common, class_weight="balanced"),
        "multiclass",
    )
    yield (
        "logistic-earlystop",
        LogisticClassifier,
        dict(common, early_stopping=True, max_iter=30),
        "binary",
    )
    yield "logistic-batch1", LogisticClassifier, dict(common, batch_size=1), "binary"
    yield (
        "logistic-bigbatch",
        LogisticClassifier,
        dict(common, batch_size=256),
        "multiclass",
    )
    for activation in (
        "relu",
        "leaky_relu",
        "gelu",
        "silu",
        "tanh",
        "logistic",
        "identity",
    ):
        yield (
            f"mlp-{activation}",
            MLPClassifier,
            dict(common, activation=activation, hidden_layer_sizes=(16, 8)),
            "multiclass",
        )
    yield (
        "mlp-dropout",
        MLPClassifier,
        dict(common, dropout=0.3, hidden_layer_sizes=(32,)),
        "multiclass",
    )
    yield (
        "mlp-dropout-csr",
        MLPClassifier,
        dict(common, dropout=0.3, hidden_layer_sizes=(32,)),
        "sparse_binary",
    )
    yield (
        "mlp-multilabel",
        MLPClassifier,
        dict(common, hidden_layer_sizes=(16,)),
        "multilabel",
    )
    yield (
        "mlp-earlystop",
        MLPRegressor,
        dict(common, early_stopping=True, max_iter=30, hidden_layer_sizes=(16,)),
        "regression",
    )
    yield (
        "mlp-classweight",
        MLPClassifier,
        dict(common, class_weight="balanced", hidden_layer_sizes=(16,)),
        "multiclass",
    )


def _fingerprint(est):
    digest = hashlib.sha256()
    if hasattr(est, "coefs_"):
        arrays = [*est.coefs_, *est.intercepts_]
    else:
        arrays = [np.asarray(est.coef_), np.asarray(est.intercept_)]
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    digest.update(np.asarray(est.loss_curve_, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


def fingerprints(n_jobs=None, names=None):
    data = _data()
    X, y = data["multiclass"]
    data["multilabel"] = (X, np.stack([y == 0, y == 1, y == 2], axis=1).astype(int))
    out = {}
    for name, Estimator, params, key in _grid():
        if names and not any(n in name for n in names):
            continue
        X, y = data[key]
        for dtype in DTYPES:
            Xd = X.astype(dtype)
            for kind in ("fit", "partial_fit"):
                est = Estimator(**{**params, "n_jobs": n_jobs})
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    if kind == "fit":
                        est.fit(Xd, y)
                    else:
                        if (
                            params.get("early_stopping")
                            or params.get("class_weight")
                            or params.get("solver") == "lbfgs"
                        ):
                            continue  # refused by partial_fit
                        extra = {}
                        if "Classifier" in type(est).__name__:
                            extra["classes"] = np.unique(y)
                        for _ in range(2):
                            est.partial_fit(Xd, y, **extra)
                out[f"{name}-{np.dtype(dtype).name}-{kind}"] = _fingerprint(est)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", help="write the fingerprints to this JSON file")
    group.add_argument("--check", help="compare with the fingerprints in this file")
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--only", nargs="*", help="cases whose name contains these")
    args = parser.parse_args()
    prints = fingerprints(args.n_jobs, args.only)
    if args.save:
        with open(args.save, "w") as f:
            json.dump(prints, f, indent=1, sort_keys=True)
        print(f"{len(prints)} fingerprints written to {args.save}")
        return 0
    with open(args.check) as f:
        expected = json.load(f)
    moved = [k for k in prints if expected.get(k) != prints[k]]
    for k in moved:
        print(f"moved: {k} {expected.get(k)} -> {prints[k]}")
    print(f"{len(prints) - len(moved)} of {len(prints)} fingerprints identical")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
