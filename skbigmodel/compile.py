"""Compile every kernel into Numba's disk cache ahead of the first fit.

Run it where the package is installed, e.g. in a Docker image or a CI job
after ``pip install``::

    python -m skbigmodel.compile

It fits a tiny model on every path a fit with default parameters can
take (each estimator, binary and multiclass, dense and CSR data, float64
and float32, 32- and 64-bit sparse indices), printing one line per path,
so that the compiled kernels land in the cache (``__pycache__`` beside the
package, or ``NUMBA_CACHE_DIR``) and later processes load them instead of
compiling. A kernel is compiled for the loss and the solver it trains
with (only their code), so ``--all`` adds every loss x solver pair and
the passive-aggressive schedules (kernels of their own), which takes many
times longer; the default compiles the defaults of each
estimator and the log-loss classifier. Paths already cached take a fraction of a
second.
"""

import argparse
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier

__all__ = ["compile_all", "main"]


def _data(dtype, sparse, index_dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 6)).astype(dtype)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    if sparse:
        X[np.abs(X) < 0.7] = 0.0
        X = sp.csr_matrix(X)
        X.indices, X.indptr = (
            X.indices.astype(index_dtype),
            X.indptr.astype(index_dtype),
        )
    return X, y


def _paths(every_solver=False):
    """(label, estimator, data options) for every kernel specialisation."""
    from . import LinearClassifier, LinearRegressor, MLPClassifier, MLPRegressor
    from ._losses import CLASSIFIER_LOSS_NAMES, REGRESSION_LOSSES
    from ._optimizers import FULL_BATCH_SOLVERS, OPTIMIZERS

    solvers = [*OPTIMIZERS, *FULL_BATCH_SOLVERS] if every_solver else ["adam"]
    # "auto" is Adam on dense X (averaged: kernels of their own) and, for the
    # classifiers, plain SGD on sparse X
    auto_solvers = ["auto", *solvers] if every_solver else ["auto"]
    classifier_losses = CLASSIFIER_LOSS_NAMES if every_solver else ["hinge", "log_loss"]
    losses = list(REGRESSION_LOSSES) if every_solver else ["squared_error"]
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        for layout in ("dense", np.int32, np.int64):
            sparse = layout != "dense"
            where = (
                f"CSR with {np.dtype(layout).name} indices" if sparse else "dense"
            ) + f", {name}"
            options = (dtype, sparse, layout if sparse else None)
            for solver in auto_solvers:
                for loss in classifier_losses:
                    yield (
                        f"LinearClassifier({loss!r}, solver={solver!r}), {where}",
                        LinearClassifier(loss, solver=solver),
                        options,
                    )
            for solver in auto_solvers:
                for loss in losses:
                    yield (
                        f"LinearRegressor({loss!r}, solver={solver!r}), {where}",
                        LinearRegressor(loss, solver=solver),
                        options,
                    )
            if every_solver:  # the passive-aggressive steps: kernels of their own
                yield (
                    f"LinearClassifier('hinge', learning_rate='pa1'), {where}",
                    LinearClassifier("hinge", learning_rate="pa1"),
                    options,
                )
                yield (
                    "LinearRegressor('epsilon_insensitive', solver='sgd', "
                    f"learning_rate='pa1'), {where}",
                    LinearRegressor(
                        "epsilon_insensitive",
                        solver="sgd",
                        momentum=0.0,
                        learning_rate="pa1",
                    ),
                    options,
                )
            for solver in solvers:
                yield (
                    f"MLPClassifier(solver={solver!r}), {where}",
                    MLPClassifier((4,), solver=solver),
                    options,
                )
                yield (
                    f"MLPRegressor(solver={solver!r}), {where}",
                    MLPRegressor(hidden_layer_sizes=(4,), solver=solver),
                    options,
                )


def compile_all(file=None, every_solver=False):
    """Fit a tiny model on every path, so that every kernel is in the cache.

    Parameters
    ----------
    file : file-like, default=None
        Where to print one line per path (None: standard output).
    every_solver : bool, default=False
        Also every solver and loss, not only the defaults.

    Returns
    -------
    seconds : float
        The time it took.
    """
    file = sys.stdout if file is None else file
    began = time.perf_counter()
    paths = list(_paths(every_solver))
    for number, (label, estimator, options) in enumerate(paths, 1):
        start = time.perf_counter()
        X, y = _data(*options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter=1: not converged
            # one output, then several (three classes, or two targets)
            targets = (y > 0, y) if is_classifier(estimator) else (y, np.c_[y, -y])
            for target in targets:
                estimator.set_params(max_iter=1, random_state=0).fit(X, target)
                estimator.predict(X)
        seconds = time.perf_counter() - start
        print(
            f"[{number}/{len(paths)}] {label}: {seconds:.1f} s", file=file, flush=True
        )
    return time.perf_counter() - began


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m skbigmodel.compile", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="every solver and loss, not only the defaults",
    )
    args = parser.parse_args(argv)
    seconds = compile_all(every_solver=args.all)
    print(f"skbigmodel kernels compiled and cached in {seconds:.1f} s")


if __name__ == "__main__":
    main()
