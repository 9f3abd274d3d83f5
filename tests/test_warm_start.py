"""warm_start and partial_fit continue the fitted weights under the current parameters."""

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from sklearn.preprocessing import LabelBinarizer

from skbigmodel import MLPClassifier, MLPEstimator, MLPRegressor
from skbigmodel._activations import ACTIVATIONS


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


def _fitted(X, y, **params):
    # One full batch, in order, no penalty: an epoch is one gradient step,
    # and its loss is the loss of the weights it started from.
    params = dict(
        hidden_layer_sizes=(12,),
        max_iter=5,
        random_state=0,
        alpha=0.0,
        batch_size=X.shape[0],
        shuffle=False,
        solver="sgd",
        momentum=0.0,
        warm_start=True,
        **params,
    )
    with pytest.warns(Warning):  # max_iter reached
        return MLPClassifier(**params).fit(X, y)


def _loss_of(coefs, intercepts, activation, X, y):
    out = X
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        out = out @ W + b
        if layer < len(coefs) - 1:
            out = ACTIVATIONS[activation].forward(out)
    return log_loss(LabelBinarizer().fit(y).transform(y), softmax(out, axis=1))


@pytest.mark.parametrize("activation", ["tanh", "gelu", "identity"])
def test_a_changed_activation_takes_effect_in_continued_training(digits, activation):
    X, y = digits
    clf = _fitted(X, y, activation="relu")
    coefs, intercepts = clf.coefs_, clf.intercepts_
    clf.set_params(activation=activation, max_iter=1).fit(X, y)
    # The first epoch's loss is that of the relu-trained weights under the
    # new activation: the kernel trained with the activation predict uses.
    expected = _loss_of(coefs, intercepts, activation, X, y)
    assert clf.loss_curve_[-1] == pytest.approx(expected, rel=1e-9)
    assert clf.loss_curve_[-1] != pytest.approx(
        _loss_of(coefs, intercepts, "relu", X, y)
    )


def test_a_changed_dropout_takes_effect_in_continued_training(digits):
    X, y = digits
    clf = _fitted(X, y)
    coefs, intercepts = clf.coefs_, clf.intercepts_
    plain = _loss_of(coefs, intercepts, "relu", X, y)
    clf.set_params(dropout=0.5, max_iter=1).fit(X, y)
    assert clf.loss_curve_[-1] != pytest.approx(plain, rel=1e-3)
    coefs, intercepts = clf.coefs_, clf.intercepts_
    clf.set_params(dropout=0.0).fit(X, y)
    assert clf.loss_curve_[-1] == pytest.approx(
        _loss_of(coefs, intercepts, "relu", X, y), rel=1e-9
    )


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor, MLPEstimator])
@pytest.mark.parametrize("sizes", [(8,), (12, 4), (12, 12)])
def test_a_changed_shape_is_refused_and_leaves_the_model(digits, Estimator, sizes):
    X, y = digits
    est = Estimator(
        hidden_layer_sizes=(12,), max_iter=2, warm_start=True, random_state=0
    )
    with pytest.warns(Warning):
        est.fit(X, y)
    before = [W.copy() for W in est.coefs_]
    est.set_params(hidden_layer_sizes=sizes)
    with pytest.raises(ValueError, match=r"shapes \[\(64, 12\).*current parameters"):
        est.fit(X, y)
    with pytest.raises(ValueError, match="current parameters give"):
        est.partial_fit(X, y)
    assert [W.shape for W in est.coefs_] == [(64, 12), before[-1].shape]
    for W, W_before in zip(est.coefs_, before):
        np.testing.assert_array_equal(W, W_before)
    # The original shape continues.
    est.set_params(hidden_layer_sizes=(12,)).partial_fit(X, y)
    assert est.n_iter_ == 3


def test_without_warm_start_a_new_shape_trains_afresh(digits):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(12,), max_iter=2, random_state=0)
    with pytest.warns(Warning):
        clf.fit(X, y)
        clf.set_params(hidden_layer_sizes=(5, 3)).fit(X, y)
    assert [W.shape for W in clf.coefs_] == [(64, 5), (5, 3), (3, 10)]
