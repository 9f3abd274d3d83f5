"""Configured as scikit-learn's SGD, our linear models are scikit-learn's SGD.

With one sample a step (``batch_size=1``), plain SGD (``solver="sgd"``,
``momentum=0``), no shuffling, an L2 penalty or none and dense data, the
coefficients after ``fit`` equal ``SGDClassifier``'s / ``SGDRegressor``'s,
for every loss, schedule and ``average``, to a relative 1e-6 (the
arithmetic differs in rounding only). Our intercept starts at the log-odds
(log-loss) or at the mean target (regression) unless ``intercept_init`` is
given: the tests give scikit-learn's zero.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.preprocessing import scale

from skbigmodel import LinearClassifier, LinearRegressor
from skbigmodel._losses import CLASSIFIER_LOSS_NAMES

SCHEDULES = ["constant", "invscaling", "optimal"]
COMMON = dict(max_iter=4, tol=None, shuffle=False, power_t=0.5)
QUADRATIC = {"squared_error", "squared_hinge", "squared_epsilon_insensitive"}


def _alpha(loss, learning_rate):
    """alpha 0.01; but "optimal"'s first steps (alpha ** -0.25) make the
    quadratic losses oscillate through the intercept, in both libraries,
    where rounding grows: a larger alpha gives smaller first steps."""
    return 1.0 if learning_rate == "optimal" and loss in QUADRATIC else 0.01


OURS = dict(batch_size=1, solver="sgd", momentum=0.0)


def _classification(n_classes):
    X, y = make_classification(
        n_samples=150,
        n_features=6,
        n_informative=4,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=0,
    )
    return scale(X) / 5, y


def _assert_same_model(ours, theirs):
    scale_ = np.abs(theirs.coef_).max()
    assert np.abs(ours.coef_ - theirs.coef_).max() <= 1e-6 * scale_
    np.testing.assert_allclose(
        ours.intercept_, theirs.intercept_, rtol=1e-6, atol=1e-9 * scale_
    )


def _fit_both(ours, theirs, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's max_iter warnings
        theirs.fit(X, y)
    ours.fit(X, y, intercept_init=np.zeros(theirs.intercept_.shape))
    return ours, theirs


# Three classes: one-vs-rest for all losses but the log-loss, which is
# multinomial here (one-vs-rest there: another model).
PROBLEMS = [(2, loss) for loss in CLASSIFIER_LOSS_NAMES] + [
    (3, loss) for loss in CLASSIFIER_LOSS_NAMES if loss != "log_loss"
]


@pytest.mark.parametrize(("n_classes", "loss"), PROBLEMS)
@pytest.mark.parametrize("learning_rate", SCHEDULES)
@pytest.mark.parametrize("penalty", ["l2", None])
def test_classifier_is_sgdclassifier(n_classes, loss, learning_rate, penalty):
    X, y = _classification(n_classes)
    alpha = _alpha(loss, learning_rate)
    params = dict(learning_rate=learning_rate, penalty=penalty, alpha=alpha, **COMMON)
    ours = LinearClassifier(loss, learning_rate_init=0.01, **params, **OURS)
    theirs = SGDClassifier(loss=loss, eta0=0.01, **params)
    _assert_same_model(*_fit_both(ours, theirs, X, y))
    assert ours.n_iter_ == theirs.n_iter_ == COMMON["max_iter"]


@pytest.mark.parametrize("loss", ["hinge", "log_loss", "squared_error"])
@pytest.mark.parametrize("average", [True, 10, 1000])
@pytest.mark.parametrize("learning_rate", ["constant", "optimal"])
def test_averaged_classifier_is_averaged_sgdclassifier(loss, average, learning_rate):
    n_classes = 2 if loss == "log_loss" else 3
    X, y = _classification(n_classes)
    alpha = _alpha(loss, learning_rate)
    params = dict(learning_rate=learning_rate, average=average, alpha=alpha, **COMMON)
    ours = LinearClassifier(loss, learning_rate_init=0.01, **params, **OURS)
    theirs = SGDClassifier(loss=loss, eta0=0.01, **params)
    _assert_same_model(*_fit_both(ours, theirs, X, y))


@pytest.mark.parametrize(
    "loss",
    ["squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"],
)
@pytest.mark.parametrize("learning_rate", SCHEDULES)
@pytest.mark.parametrize("average", [False, True])
def test_regressor_is_sgdregressor(loss, learning_rate, average):
    """Also across our target standardisation: SGD's steps are in y's units."""
    X, y = make_regression(n_samples=150, n_features=6, noise=1.0, random_state=0)
    X, y = scale(X) / 5, y / 20 + 3
    alpha = _alpha(loss, learning_rate)
    params = dict(learning_rate=learning_rate, average=average, alpha=alpha, **COMMON)
    ours = LinearRegressor(loss, learning_rate_init=0.01, **params, **OURS)
    theirs = SGDRegressor(loss=loss, eta0=0.01, **params)
    _assert_same_model(*_fit_both(ours, theirs, X, y))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_partial_fit_with_average_continues_the_mean(n_classes):
    """A first partial_fit is scikit-learn's; two halves give the model of
    one epoch over the whole data: the mean, the step count and the raw
    weights all carry over. (scikit-learn 1.9's second averaged partial_fit
    restarts its raw intercept from zero, so it is not the reference there.)
    """
    X, y = _classification(n_classes)
    params = dict(average=True, learning_rate="optimal", alpha=0.01, shuffle=False)
    ours = LinearClassifier(solver="sgd", momentum=0.0, batch_size=1, **params)
    theirs = SGDClassifier(**params)
    classes = np.unique(y)
    ours.partial_fit(X[:75], y[:75], classes=classes)
    theirs.partial_fit(X[:75], y[:75], classes=classes)
    _assert_same_model(ours, theirs)
    ours.partial_fit(X[75:], y[75:])
    whole = clone(ours).set_params(max_iter=1, tol=None)
    whole.fit(X, y, intercept_init=np.zeros(ours.intercept_.shape))
    np.testing.assert_allclose(ours.coef_, whole.coef_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours.intercept_, whole.intercept_, rtol=1e-12)
    assert ours.t_ == whole.t_ == len(X)


@pytest.mark.parametrize("learning_rate", ["constant", "optimal"])
def test_sparse_averaging_is_the_dense_one(learning_rate):
    """The lazy O(non-zeros) averaging of sparse X gives the dense mean."""
    X, y = _classification(3)
    X = np.where(np.abs(X) > 0.3, X, 0.0)
    params = dict(
        learning_rate=learning_rate,
        average=7,
        batch_size=16,
        solver="sgd",
        momentum=0.0,
        random_state=0,
        alpha=0.01,
        **COMMON,
    )
    dense = LinearClassifier(**params).fit(X, y)
    sparse = LinearClassifier(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-10)
    assert sparse.coef_.shape == (3, X.shape[1])
