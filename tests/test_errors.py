"""Bad input gets a clear error and never corrupts a fitted model."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skbigmodel import LinearRegressor, LogisticClassifier, MLPRegressor
from skbigmodel._training import TrainingDiverged

from ._helpers import estimator_state


@pytest.mark.parametrize("bad, match", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_input_is_refused(binary_data, bad, match):
    X, y = binary_data
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match=match):
        LogisticClassifier().fit(X, y)


def test_wrong_number_of_features(binary_data):
    X, y = binary_data
    clf = LogisticClassifier(max_iter=3).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :-1])
    before = estimator_state(clf)
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :-1], y)
    assert estimator_state(clf) == before


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.empty((0, 3)), np.empty(0), "0 sample"),
        ([["a", "b"], ["c", "d"]], [0, 1], "could not convert|numeric"),
        (np.ones((10, 2)), np.zeros(10), "one class"),
    ],
)
def test_unusable_data(X, y, match):
    with pytest.raises(ValueError, match=match):
        LogisticClassifier().fit(X, y)


def test_negative_or_zero_weights(regression_data):
    X, y = regression_data
    with pytest.raises(ValueError, match="Negative values"):
        LinearRegressor().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="non-zero"):
        LinearRegressor().fit(X, y, sample_weight=np.zeros(len(y)))


def test_partial_fit_needs_classes_first(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match="classes"):
        LogisticClassifier().partial_fit(X, y)
    clf = LogisticClassifier().partial_fit(X, y, classes=[0, 1])
    before = estimator_state(clf)
    with pytest.raises(ValueError, match=r"not in classes_"):
        clf.partial_fit(X, np.where(y == 1, 7, 0))
    assert estimator_state(clf) == before


def test_divergence_raises_and_keeps_the_previous_model(regression_data):
    X, y = regression_data
    reg = LinearRegressor(
        solver="sgd", learning_rate_init=1e-3, max_iter=5, random_state=0
    ).fit(X, y)
    reg.set_params(learning_rate_init=10.0)
    before = estimator_state(reg)
    X_big = X * 1e150  # squared residuals overflow to inf
    with pytest.raises(TrainingDiverged, match="diverged"):
        reg.partial_fit(X_big, y)
    assert estimator_state(reg) == before
    with pytest.raises(ValueError, match="diverged"):  # TrainingDiverged is one
        reg.fit(X_big, y)
    assert estimator_state(reg) == before
    assert np.isfinite(reg.coef_).all()


@pytest.mark.parametrize(
    "make",
    [
        lambda: LinearRegressor(solver="sgd", learning_rate_init=10.0),
        lambda: MLPRegressor(
            hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=1.0
        ),
    ],
)
def test_a_finite_but_exploding_loss_stops_at_the_lowest_loss(make, regression_data):
    # The loss grows by orders of magnitude per epoch yet stays finite for
    # a while: n_iter_no_change must not end such a fit as if it converged.
    X, y = regression_data
    est = make().set_params(max_iter=50, random_state=0)
    with pytest.warns(ConvergenceWarning, match="Training diverged at epoch"):
        est.fit(X, y)
    kept = int(np.argmin(est.loss_curve_)) + 1
    assert est.n_iter_ > kept and est.loss_curve_[-1] > 1e4 * min(est.loss_curve_)
    # the model is the one of the epoch of lowest loss: a fit stopped there
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = clone(est).set_params(max_iter=kept).fit(X, y)
    np.testing.assert_array_equal(est.predict(X), reference.predict(X))


def test_invalid_hyperparameters_name_the_parameter(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match="'solver'"):
        LogisticClassifier(solver="newton-cg").fit(X, y)
    with pytest.raises(ValueError, match="'alpha'"):
        LogisticClassifier(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="'momentum'"):
        LogisticClassifier(momentum=1.0).fit(X, y)


def test_multioutput_target_refused_by_the_classifier(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError):
        LogisticClassifier().fit(X, np.c_[y, y])
