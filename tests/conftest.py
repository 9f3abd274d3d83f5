"""Small data sets shared by the tests."""

import pytest
from sklearn.datasets import make_classification, make_regression


@pytest.fixture
def binary_data():
    X, y = make_classification(
        n_samples=600, n_features=12, n_informative=6, random_state=0
    )
    return X, y


@pytest.fixture
def multiclass_data():
    X, y = make_classification(
        n_samples=900, n_features=15, n_informative=8, n_classes=4, random_state=0
    )
    return X, y


@pytest.fixture
def regression_data():
    X, y = make_regression(
        n_samples=600, n_features=10, n_informative=6, noise=5.0, random_state=0
    )
    return X, y


@pytest.fixture
def multioutput_data():
    X, Y = make_regression(
        n_samples=500, n_features=8, n_targets=3, noise=1.0, random_state=0
    )
    return X, Y
