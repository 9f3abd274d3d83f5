"""scikit-learn's own estimator checks, with no expected failures."""

import itertools

import numpy as np
from sklearn.base import clone
from sklearn.datasets import make_regression
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbigmodel import (
    LinearClassifier,
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPEstimator,
    MLPRegressor,
)
from skbigmodel._losses import CLASSIFIER_LOSS_NAMES
from skbigmodel.compress import DistilledClassifier, DistilledRegressor

SOLVERS = ["adam", "sgd", "rmsprop"]
PENALTIES = ["l2", "l1", "elasticnet", None]


def _linear():
    yield LinearRegressor()
    yield LogisticClassifier()
    for solver, penalty in itertools.product(SOLVERS, PENALTIES):
        yield LinearRegressor(solver=solver, penalty=penalty)
        yield LogisticClassifier(solver=solver, penalty=penalty)
    yield LinearRegressor(loss="huber")
    yield LinearRegressor(loss="epsilon_insensitive", learning_rate="adaptive")
    yield LinearRegressor(fit_intercept=False)
    yield LinearRegressor(loss="squared_epsilon_insensitive")
    yield LinearRegressor(loss="quantile", quantile=0.8)
    # Every loss of LinearClassifier (on sparse X the default solver is plain
    # SGD with the "optimal" schedule), and averaging. The perceptron's loss is
    # zero once the heavy class of check_class_weight_classifiers is on its
    # side: a constant step stops there (the light class's side is left to
    # chance), the adaptive schedule goes on to a margin.
    for loss in CLASSIFIER_LOSS_NAMES:
        if loss == "perceptron":
            yield LinearClassifier(loss, learning_rate="adaptive")
        else:
            yield LinearClassifier(loss)
    yield LinearClassifier("modified_huber", average=True)
    # scikit-learn's schedule (the default on sparse X) on the checks' dense
    # X too, plain and averaged: solver="auto" trains it by plain SGD
    yield LinearClassifier(learning_rate="optimal")
    yield LinearClassifier(learning_rate="optimal", average=True)
    yield LinearRegressor(solver="sgd", momentum=0, average=10)
    yield LinearRegressor(loss="poisson")


# Every solver x penalty, each with one of the activations. With inputs
# around 100 (check_n_features_in) plain SGD with momentum is paired with
# bounded activations, as a user would.
# Activations are kinds: each (solver, activation) pair compiles the MLP
# kernels again for every input check_estimator tries, so the grid pairs few
# of them. Every activation is tested by tests/test_registries.py,
# tests/test_onnx.py and tests/kernels/test_mlp.py.
MLP_GRID = {
    "adam": {"l2": "relu", "l1": "relu", "elasticnet": "gelu", None: "gelu"},
    "sgd": {"l2": "tanh", "l1": "tanh", "elasticnet": "tanh", None: "tanh"},
    "rmsprop": {"l2": "relu", "l1": "relu", "elasticnet": "relu", None: "relu"},
}


def _mlp():
    yield MLPEstimator()
    yield MLPEstimator(task="regression")
    yield MLPClassifier()
    yield MLPRegressor()
    for solver, activations in MLP_GRID.items():
        for penalty, activation in activations.items():
            for Estimator in (MLPClassifier, MLPRegressor):
                yield Estimator(
                    hidden_layer_sizes=(16,),
                    solver=solver,
                    penalty=penalty,
                    activation=activation,
                )
    yield MLPClassifier(hidden_layer_sizes=(8, 8), activation="gelu")
    yield MLPClassifier(dropout=0.2)
    yield MLPRegressor(dropout=0.5, activation="gelu")
    yield MLPRegressor(loss="poisson")
    yield MLPEstimator(task="regression", loss="poisson")


def _check_regressor_multioutput_on_positive_targets(estimator):
    """scikit-learn 1.9's check_regressor_multioutput on targets made
    positive as its other checks make them for a ``positive_only`` estimator
    (this one draws them from make_regression whatever the tag says, and the
    Poisson deviance rightly refuses negative targets): the same assertions."""
    X, y = make_regression(random_state=42, n_targets=5, n_samples=11, n_features=10)
    y += 1 + abs(y.min())
    y_pred = clone(estimator).fit(X, y).predict(X)
    assert y_pred.dtype == np.dtype("float64") and y_pred.shape == y.shape


def _compress():
    """The distillers, each with an MLP student and a linear teacher fitted on
    the checks' data. check_estimator sets only a top-level random_state: the
    inner ones are fixed here. soft_weight=0: the checks' float64, float32,
    sparse and read-only inputs would each compile the soft-target kernels
    once more for both losses (measured: 80-100 s more of CI, twice the
    budget of these tests); with soft_weight=0.5 the checks pass too (an MLP
    or a LogisticClassifier student), and test_compress.py trains the
    soft-target kernels."""
    yield DistilledClassifier(
        MLPClassifier((8,), random_state=0),
        LogisticClassifier(random_state=0),
        soft_weight=0.0,
    )
    yield DistilledRegressor(
        MLPRegressor(hidden_layer_sizes=(16,), random_state=0),
        LinearRegressor(random_state=0),
    )


@parametrize_with_checks([*_linear(), *_mlp(), *_compress()])
def test_sklearn_api(estimator, check):
    name = getattr(check, "func", check).__name__
    if (
        name == "check_regressor_multioutput"
        and get_tags(estimator).target_tags.positive_only
    ):
        _check_regressor_multioutput_on_positive_targets(estimator)
        return
    check(estimator)
