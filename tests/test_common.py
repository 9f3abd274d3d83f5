"""scikit-learn's own estimator checks, with no expected failures."""

import itertools

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbigmodel import LinearRegressor, LogisticClassifier

SOLVERS = ["adam", "sgd", "rmsprop"]
PENALTIES = ["l2", "l1", "elasticnet", None]


def _estimators():
    yield LinearRegressor()
    yield LogisticClassifier()
    for solver, penalty in itertools.product(SOLVERS, PENALTIES):
        yield LinearRegressor(solver=solver, penalty=penalty)
        yield LogisticClassifier(solver=solver, penalty=penalty)
    yield LinearRegressor(loss="huber")
    yield LinearRegressor(loss="epsilon_insensitive", learning_rate="adaptive")
    yield LinearRegressor(fit_intercept=False)


@parametrize_with_checks(list(_estimators()))
def test_sklearn_api(estimator, check):
    check(estimator)
