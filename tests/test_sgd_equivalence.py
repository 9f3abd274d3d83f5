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

from skbigmodel import LinearClassifier, LinearRegressor, LogisticClassifier
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
    """The lazy O(non-zeros) averaging of sparse X gives the dense mean.
    Under "optimal" a batch's intercept steps differ, as in scikit-learn:
    on sparse X damped to the mean step of the batch, on dense X the
    weights' step; so there without an intercept."""
    X, y = _classification(3)
    X = np.where(np.abs(X) > 0.3, X, 0.0)
    params = dict(
        fit_intercept=learning_rate == "constant",
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


# Passive-aggressive: scikit-learn trains "pa1"/"pa2" with the hinge
# (classifiers) and the epsilon-insensitive loss (regressors) only; eta0 is C.
PA = dict(learning_rate_init=0.1, alpha=0.01, **COMMON, **OURS)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("learning_rate", ["pa1", "pa2"])
@pytest.mark.parametrize("penalty", ["l2", None])
@pytest.mark.parametrize("average", [False, True])
def test_passive_aggressive_classifier_is_sgdclassifier(
    n_classes, learning_rate, penalty, average
):
    X, y = _classification(n_classes)
    params = dict(learning_rate=learning_rate, penalty=penalty, average=average)
    ours = LinearClassifier("hinge", **params, **PA)
    theirs = SGDClassifier(loss="hinge", eta0=0.1, alpha=0.01, **params, **COMMON)
    _assert_same_model(*_fit_both(ours, theirs, X, y))


@pytest.mark.parametrize("learning_rate", ["pa1", "pa2"])
@pytest.mark.parametrize("penalty", ["l2", None])
@pytest.mark.parametrize("average", [False, True])
def test_passive_aggressive_regressor_is_sgdregressor(learning_rate, penalty, average):
    """Across our target standardisation: C caps the step in y's units."""
    X, y = make_regression(n_samples=150, n_features=6, noise=1.0, random_state=0)
    X, y = scale(X) / 5, y / 20 + 3
    params = dict(learning_rate=learning_rate, penalty=penalty, average=average)
    ours = LinearRegressor("epsilon_insensitive", **params, **PA)
    theirs = SGDRegressor(
        loss="epsilon_insensitive", eta0=0.1, alpha=0.01, **params, **COMMON
    )
    _assert_same_model(*_fit_both(ours, theirs, X, y))


@pytest.mark.parametrize("learning_rate", ["pa1", "pa2"])
def test_passive_aggressive_sample_weight_is_sgdclassifier(learning_rate):
    """Sample weights multiply each row's step, as in scikit-learn (ours are
    relative to their mean: here 1)."""
    X, y = _classification(2)
    sample_weight = np.random.default_rng(0).uniform(0.2, 1.8, len(y))
    sample_weight /= sample_weight.mean()
    ours = LinearClassifier("hinge", learning_rate=learning_rate, **PA)
    theirs = SGDClassifier(
        loss="hinge", eta0=0.1, alpha=0.01, learning_rate=learning_rate, **COMMON
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.fit(X, y, sample_weight=sample_weight)
    ours.fit(X, y, sample_weight=sample_weight, intercept_init=np.zeros(1))
    _assert_same_model(ours, theirs)


@pytest.mark.parametrize("learning_rate", ["pa1", "pa2"])
def test_passive_aggressive_batch_takes_the_mean_step(learning_rate):
    """A batch of several rows takes the mean of the steps its rows would
    take alone from the batch's starting point."""
    X, y = _classification(2)
    X, y = X[:8] * 5, y[:8]
    C = 0.3
    ours = LinearClassifier(
        learning_rate=learning_rate,
        learning_rate_init=C,
        batch_size=8,
        max_iter=1,
        tol=None,
        shuffle=False,
        penalty=None,
    ).fit(X, y, intercept_init=np.zeros(1))
    assert ours.solver_ == "sgd"  # "auto": plain SGD, the schedule's solver
    labels, sqnorm = 2.0 * y - 1.0, (X**2).sum(axis=1)
    # from zero every row has the hinge loss 1
    if learning_rate == "pa1":
        tau = np.minimum(C, 1.0 / sqnorm)
    else:
        tau = 1.0 / (sqnorm + 0.5 / C)
    np.testing.assert_allclose(ours.coef_[0], (tau * labels) @ X / 8, rtol=1e-12)
    np.testing.assert_allclose(ours.intercept_, [np.mean(tau * labels)], rtol=1e-12)


@pytest.mark.parametrize(
    ("n_classes", "penalty"), [(2, "l2"), (2, None), (3, "l2"), (3, None), (3, "l1")]
)
@pytest.mark.parametrize("learning_rate", ["pa1", "pa2"])
def test_sparse_passive_aggressive_is_the_dense_one(n_classes, learning_rate, penalty):
    """The CSR kernels read each row's squared norm from its parts (plain
    SGD's kernel; with L1, the lazy kernel of the other optimisers)."""
    X, y = _classification(n_classes)
    X = np.where(np.abs(X) > 0.15, X, 0.0)
    X[3] = 0.0  # a row of zeros: no PA-I step
    params = dict(
        PA,
        learning_rate=learning_rate,
        penalty=penalty,
        batch_size=16,
        shuffle=True,
        random_state=0,
        average=7 if penalty != "l1" else False,
    )
    dense = LinearClassifier(**params).fit(X, y)
    sparse = LinearClassifier(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-10)


def test_sparse_passive_aggressive_regressor_is_the_dense_one():
    X, y = make_regression(n_samples=150, n_features=6, noise=1.0, random_state=0)
    X = np.where(np.abs(X) > 0.5, X, 0.0)
    params = dict(PA, learning_rate="pa1", batch_size=16)
    dense = LinearRegressor("epsilon_insensitive", **params).fit(X, y)
    sparse = LinearRegressor("epsilon_insensitive", **params)
    sparse.fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-10)


@pytest.mark.parametrize(
    "estimator",
    [
        LinearClassifier("log_loss", solver="sgd", momentum=0.0),
        LinearClassifier("squared_hinge", solver="sgd", momentum=0.0),
        LinearClassifier("epsilon_insensitive", solver="sgd", momentum=0.0),
        LinearRegressor("squared_error", solver="sgd", momentum=0.0),
        LinearRegressor("huber", solver="sgd", momentum=0.0),
        LogisticClassifier(),
    ],
)
@pytest.mark.parametrize("learning_rate", ["pa1", "pa2"])
def test_passive_aggressive_refuses_other_losses(estimator, learning_rate):
    X, y = _classification(2)
    estimator.set_params(learning_rate=learning_rate)
    with pytest.raises(ValueError, match="passive-aggressive.*works with loss="):
        estimator.fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam"),
        dict(solver="rmsprop"),
        dict(solver="lbfgs"),
        dict(solver="sgd"),  # momentum=0.9
    ],
)
@pytest.mark.parametrize("Estimator", [LinearClassifier, LinearRegressor])
def test_passive_aggressive_refuses_other_solvers(params, Estimator):
    loss = "hinge" if Estimator is LinearClassifier else "epsilon_insensitive"
    X, y = _classification(2)
    estimator = Estimator(loss, learning_rate="pa1", **params)
    with pytest.raises(ValueError, match="schedule of plain SGD"):
        estimator.fit(X, y)


def test_float32_passive_aggressive_is_the_float64_one():
    """float32 rows' squared norms and losses, dense and CSR."""
    X, y = _classification(2)
    X = np.where(np.abs(X) > 0.15, X, 0.0)
    params = dict(PA, learning_rate="pa2", batch_size=16)
    reference = LinearClassifier(**params).fit(X, y)
    for data in (X.astype(np.float32), sp.csr_matrix(X, dtype=np.float32)):
        model = LinearClassifier(**params).fit(data, y)
        assert model.coef_.dtype == np.float32
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-4)
