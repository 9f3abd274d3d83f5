"""Small data sets shared by the tests."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression


@pytest.fixture
def binary_data():
    X, y = make_classification(n_samples=600, n_features=12, n_informative=6,
                               random_state=0)  # fmt: skip
    return X, y


@pytest.fixture
def multiclass_data():
    X, y = make_classification(n_samples=900, n_features=15, n_informative=8,
                               n_classes=4, random_state=0)  # fmt: skip
    return X, y


@pytest.fixture
def regression_data():
    X, y = make_regression(n_samples=600, n_features=10, n_informative=6,
                           noise=5.0, random_state=0)  # fmt: skip
    return X, y


@pytest.fixture
def multioutput_data():
    X, Y = make_regression(n_samples=500, n_features=8, n_targets=3, noise=1.0,
                           random_state=0)  # fmt: skip
    return X, Y


def sparse_classification(n_samples=800, n_features=300, density=0.05, seed=0):
    """A CSR matrix with a binary target that depends on it linearly."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    X = sp.random(n_samples, n_features, density=density, format="csr",
                  random_state=rng, data_rvs=rng.standard_normal)  # fmt: skip
    w = rng.standard_normal(n_features)
    y = (X @ w + 0.1 * rng.standard_normal(n_samples) > 0).astype(int)
    return X, y
