"""Swap-in parity with scikit-learn's SGD and MLP estimators (issue 17).

Each row of the issue's table, checked against what the installed
scikit-learn does: the same kind of error for the same call, and a failing
call that leaves our fitted model exactly as it was.
"""

import inspect
import warnings

import numpy as np
import pytest
from sklearn import clone, linear_model, neural_network
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_poisson_deviance
from sklearn.model_selection import train_test_split

from skbigmodel import (
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPEstimator,
    MLPRegressor,
)

from ._helpers import estimator_state, mlp_raw_outputs

SMALL_MLP = dict(hidden_layer_sizes=(4,), max_iter=3)


@pytest.fixture(autouse=True)
def _quiet_convergence():
    """Short fits on both sides: their ConvergenceWarnings are not the point."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    return X, (X[:, 0] > 0).astype(int)


def _poisson_data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    y = rng.poisson(np.exp(X @ [0.5, -0.3, 0.2, 0.0] + 1.0)).astype(float)
    return X, y


def _raises_alike(theirs, ours, match_theirs, match_ours, *args, **kwargs):
    """Both calls raise a ValueError, each with its own message."""
    with pytest.raises(ValueError, match=match_theirs):
        theirs(*args, **kwargs)
    with pytest.raises(ValueError, match=match_ours):
        ours(*args, **kwargs)


# -- partial_fit with early_stopping=True ----------------------------------------

# (ours, scikit-learn's counterpart, its message: ours has the same words)
EARLY_STOPPING = [
    (
        LinearRegressor(max_iter=3),
        linear_model.SGDRegressor(),
        "early_stopping should be False with partial_fit",
    ),
    (
        LogisticClassifier(max_iter=3),
        linear_model.SGDClassifier(),
        "early_stopping should be False with partial_fit",
    ),
    (
        MLPClassifier(**SMALL_MLP),
        neural_network.MLPClassifier(**SMALL_MLP),
        "partial_fit does not support early_stopping=True",
    ),
    (
        MLPRegressor(**SMALL_MLP),
        neural_network.MLPRegressor(**SMALL_MLP),
        "partial_fit does not support early_stopping=True",
    ),
    (
        MLPEstimator(task="regression", **SMALL_MLP),
        neural_network.MLPRegressor(**SMALL_MLP),
        "partial_fit does not support early_stopping=True",
    ),
]


@pytest.mark.parametrize(
    "ours, theirs, message", EARLY_STOPPING, ids=lambda p: type(p).__name__
)
def test_partial_fit_refuses_early_stopping(ours, theirs, message):
    ours, theirs = clone(ours), clone(theirs)
    X, y = _data()
    kwargs = {"classes": [0, 1]} if ours._needs_classes else {}
    ours.partial_fit(X, y, **kwargs)
    before = estimator_state(ours.set_params(early_stopping=True))
    _raises_alike(
        theirs.set_params(early_stopping=True).partial_fit,
        ours.partial_fit,
        message,
        message,
        X,
        y,
        **kwargs,
    )
    assert estimator_state(ours) == before
    # and on a first call, which leaves the estimator unfitted
    fresh = ours.__class__(**ours.get_params())
    with pytest.raises(ValueError, match=message):
        fresh.partial_fit(X, y, **kwargs)
    assert not hasattr(fresh, "coef_") and not hasattr(fresh, "coefs_")
    # fit with early stopping stays fine
    fresh.fit(X, y)


# -- partial_fit's classes -----------------------------------------------------------

CLASSIFIERS = [
    (LogisticClassifier(max_iter=3), linear_model.SGDClassifier()),
    (MLPClassifier(**SMALL_MLP), neural_network.MLPClassifier(**SMALL_MLP)),
]
IDS = ["LogisticClassifier", "MLPClassifier"]


@pytest.mark.parametrize("ours, theirs", CLASSIFIERS, ids=IDS)
def test_partial_fit_refuses_other_classes_than_the_first_call(ours, theirs):
    ours, theirs = clone(ours), clone(theirs)
    X, y = _data()
    for est in (ours, theirs):
        est.partial_fit(X, y, classes=[0, 1])
        est.partial_fit(X, y, classes=[1, 0])  # the same classes: accepted
        est.partial_fit(X, y)  # None: accepted
    before = estimator_state(ours)
    message = r"`classes=\[1, 2\]` is not the same as on last call to partial_fit"
    _raises_alike(
        theirs.partial_fit, ours.partial_fit, message, message, X, y, classes=[1, 2]
    )
    assert estimator_state(ours) == before
    np.testing.assert_array_equal(ours.classes_, [0, 1])


@pytest.mark.parametrize("ours, theirs", CLASSIFIERS, ids=IDS)
def test_partial_fit_after_fit_refuses_other_classes(ours, theirs):
    ours, theirs = clone(ours), clone(theirs)
    X, y = _data()
    ours.fit(X, y)
    theirs.fit(X, y)
    before = estimator_state(ours)
    message = "is not the same as on last call to partial_fit"
    _raises_alike(
        theirs.partial_fit, ours.partial_fit, message, message, X, y, classes=[0, 1, 2]
    )
    assert estimator_state(ours) == before


@pytest.mark.parametrize("ours, theirs", CLASSIFIERS, ids=IDS)
def test_partial_fit_refuses_labels_outside_classes(ours, theirs):
    ours, theirs = clone(ours), clone(theirs)
    X, y = _data()
    # on the first call: scikit-learn's SGD says "classes should include all
    # valid labels", its MLP "`y` has classes not in `self.classes_`"; ours
    # names the labels
    _raises_alike(
        theirs.partial_fit,
        ours.partial_fit,
        "classes",
        r"y contains labels \[2\] that are not in classes_ \[0, 1\]",
        X,
        y + 1,
        classes=[0, 1],
    )
    assert not hasattr(ours, "classes_")
    # on a later call
    ours.partial_fit(X, y, classes=[0, 1])
    theirs.partial_fit(X, y, classes=[0, 1])
    before = estimator_state(ours)
    _raises_alike(theirs.partial_fit, ours.partial_fit, "classes", r"\[2\]", X, y + 1)
    assert estimator_state(ours) == before


# -- loss_ and best_loss_ ------------------------------------------------------------


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (MLPClassifier(**SMALL_MLP), neural_network.MLPClassifier(**SMALL_MLP)),
        (MLPRegressor(**SMALL_MLP), neural_network.MLPRegressor(**SMALL_MLP)),
        (
            MLPEstimator(task="regression", **SMALL_MLP),
            neural_network.MLPRegressor(**SMALL_MLP),
        ),
    ],
    ids=["MLPClassifier", "MLPRegressor", "MLPEstimator"],
)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_mlp_loss_and_best_loss_as_scikit_learn(ours, theirs, early_stopping):
    ours, theirs = clone(ours), clone(theirs)
    X, y = _data(n=80)
    for est in (ours, theirs):
        est.set_params(early_stopping=early_stopping, random_state=0).fit(X, y)
        assert est.loss_ == est.loss_curve_[-1]
        if early_stopping:
            assert est.best_loss_ is None
        else:
            assert est.best_loss_ == min(est.loss_curve_)
    if not early_stopping:  # partial_fit continues both
        ours.partial_fit(X, y)
        assert ours.loss_ == ours.loss_curve_[-1]
        assert ours.best_loss_ == min(ours.loss_curve_)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (LinearRegressor(max_iter=3), linear_model.SGDRegressor(max_iter=3)),
        (LogisticClassifier(max_iter=3), linear_model.SGDClassifier(max_iter=3)),
    ],
    ids=["LinearRegressor", "LogisticClassifier"],
)
def test_linear_models_have_no_loss_attribute_as_sgd(ours, theirs):
    ours, theirs = clone(ours), clone(theirs)
    X, y = _data()
    for est in (ours, theirs):
        est.fit(X, y)
        assert not hasattr(est, "loss_") and not hasattr(est, "best_loss_")


# -- signatures ----------------------------------------------------------------------


def _positional(function):
    return [
        name
        for name, p in inspect.signature(function).parameters.items()
        if p.kind is p.POSITIONAL_OR_KEYWORD
    ]


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (MLPClassifier, neural_network.MLPClassifier),
        (MLPRegressor, neural_network.MLPRegressor),
    ],
)
def test_mlp_positional_parameters_as_scikit_learn(ours, theirs):
    assert _positional(ours.__init__) == _positional(theirs.__init__)


def test_activation_is_positional():
    X, y = _data()
    for est in (
        MLPClassifier((8,), "tanh", max_iter=3),
        MLPEstimator((8,), "tanh", max_iter=3),
        MLPRegressor("squared_error", (8,), "tanh", max_iter=3),
        neural_network.MLPClassifier((8,), "tanh", max_iter=3),
        neural_network.MLPRegressor("squared_error", (8,), "tanh", max_iter=3),
    ):
        params = est.fit(X, y).get_params()
        assert params["hidden_layer_sizes"] == (8,) and params["activation"] == "tanh"
        assert est.coefs_[0].shape == (3, 8)
    assert _positional(MLPEstimator.__init__) == [
        "self",
        "hidden_layer_sizes",
        "activation",
    ]


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (MLPClassifier, neural_network.MLPClassifier),
        (MLPRegressor, neural_network.MLPRegressor),
        (LogisticClassifier, linear_model.SGDClassifier),
        (LinearRegressor, linear_model.SGDRegressor),
    ],
)
def test_partial_fit_arguments_in_scikit_learn_s_order(ours, theirs):
    assert _positional(ours.partial_fit) == _positional(theirs.partial_fit)


def test_mlp_partial_fit_takes_sample_weight_then_classes_positionally():
    X, y = _data()
    w = np.linspace(0.5, 2.0, len(y))
    params = dict(hidden_layer_sizes=(4,), random_state=0)
    positional = MLPClassifier(**params).partial_fit(X, y, w, [0, 1])
    keywords = MLPClassifier(**params).partial_fit(
        X, y, sample_weight=w, classes=[0, 1]
    )
    for a, b in zip(positional.coefs_, keywords.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    # and the linear classifier keeps SGDClassifier's (classes, sample_weight)
    positional = LogisticClassifier(random_state=0).partial_fit(X, y, [0, 1], w)
    keywords = LogisticClassifier(random_state=0).partial_fit(
        X, y, classes=[0, 1], sample_weight=w
    )
    np.testing.assert_array_equal(positional.coef_, keywords.coef_)


# -- MLPRegressor(loss="poisson") --------------------------------------------------------


def test_poisson_mlp_as_good_as_scikit_learn_s():
    X, y = _poisson_data(n=1500)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    params = dict(hidden_layer_sizes=(16,), random_state=0)
    ours = MLPRegressor(loss="poisson", **params).fit(X_train, y_train)
    theirs = neural_network.MLPRegressor(loss="poisson", **params).fit(X_train, y_train)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    ours_deviance = mean_poisson_deviance(y_test, ours.predict(X_test))
    theirs_deviance = mean_poisson_deviance(y_test, theirs.predict(X_test))
    null_deviance = mean_poisson_deviance(y_test, np.full_like(y_test, y_train.mean()))
    assert ours_deviance < 1.05 * theirs_deviance < 0.6 * null_deviance
    # predict is exp of the network's output
    raw = mlp_raw_outputs(X_test, ours.coefs_, ours.intercepts_)
    np.testing.assert_allclose(ours.predict(X_test), np.exp(raw[:, 0]), rtol=1e-12)
    # the loss curve is half the deviance (plus the penalty), as scikit-learn's
    assert abs(ours.loss_ - theirs.loss_) < 0.05 * theirs.loss_


def test_poisson_linear_model_reaches_poisson_regressor_s_optimum():
    """A convex problem: the penalised mean half deviance is PoissonRegressor's
    objective; SGD's noise leaves a small gap."""
    X, y = _poisson_data()
    ours = LinearRegressor(
        loss="poisson", alpha=0.01, learning_rate="adaptive", random_state=0
    ).fit(X, y)
    theirs = linear_model.PoissonRegressor(alpha=0.01, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=5e-3)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=5e-3)
    np.testing.assert_allclose(
        ours.predict(X), np.exp(X @ ours.coef_ + ours.intercept_), rtol=1e-12
    )

    def objective(est):
        half_deviance = mean_poisson_deviance(y, est.predict(X)) / 2
        return half_deviance + 0.01 / 2 * est.coef_ @ est.coef_

    assert objective(ours) < objective(theirs) * (1 + 1e-4)


@pytest.mark.parametrize("family", ["linear", "mlp"])
def test_poisson_targets_are_scaled_exactly(family):
    """loss(t + log c; c y) = c loss(t; y): the model of c y with the penalty
    times c is the model of y with log(c) added to the output bias, so the
    fits on y and c y follow the same path (targets are divided by their
    mean) and agree to rounding; the loss curve is c times as large."""
    X, y = _poisson_data(n=300)
    c = 1000.0

    def fit(y, alpha):
        if family == "linear":
            est = LinearRegressor(loss="poisson", alpha=alpha, max_iter=5)
        else:
            est = MLPRegressor("poisson", (5,), alpha=alpha, max_iter=5)
        return est.set_params(random_state=0, n_iter_no_change=50).fit(X, y)

    base, scaled = fit(y, 0.01), fit(c * y, 0.01 * c)
    if family == "linear":
        np.testing.assert_allclose(scaled.coef_, base.coef_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(scaled.intercept_, base.intercept_ + np.log(c))
    else:
        for a, b in zip(scaled.coefs_, base.coefs_, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
        for a, b in zip(scaled.intercepts_[:-1], base.intercepts_[:-1], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            scaled.intercepts_[-1], base.intercepts_[-1] + np.log(c)
        )
    np.testing.assert_allclose(scaled.predict(X), c * base.predict(X), rtol=1e-8)
    np.testing.assert_allclose(scaled.loss_curve_, c * np.array(base.loss_curve_))


@pytest.mark.parametrize(
    "ours",
    [
        MLPRegressor(loss="poisson", **SMALL_MLP),
        MLPEstimator(task="regression", loss="poisson", **SMALL_MLP),
        LinearRegressor(loss="poisson", max_iter=3),
    ],
    ids=["MLPRegressor", "MLPEstimator", "LinearRegressor"],
)
def test_poisson_refuses_negative_targets(ours):
    """scikit-learn's Poisson estimators refuse y < 0 with a ValueError
    (PoissonRegressor, HistGradientBoostingRegressor); its MLPRegressor
    1.9.1 trains instead, to a NaN loss. Ours refuse, and a failing
    partial_fit leaves the model as it was."""
    ours = clone(ours)
    X, y = _poisson_data(n=60)
    negative = y - 1.0
    message = "negative .*loss='poisson' needs non-negative targets"
    _raises_alike(
        linear_model.PoissonRegressor().fit,
        ours.fit,
        "out of the valid range",
        message,
        X,
        negative,
    )
    theirs = neural_network.MLPRegressor(loss="poisson", **SMALL_MLP)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(theirs.fit(X, negative).loss_)
    ours.partial_fit(X, y)
    before = estimator_state(ours)
    with pytest.raises(ValueError, match=message):
        ours.partial_fit(X, negative)
    assert estimator_state(ours) == before


def test_poisson_accepts_all_zero_targets():
    X, _ = _poisson_data(n=60)
    zeros = np.zeros(len(X))
    for est in (
        MLPRegressor(loss="poisson", **SMALL_MLP),
        LinearRegressor(loss="poisson", max_iter=20),
    ):
        predicted = est.set_params(random_state=0).fit(X, zeros).predict(X)
        assert np.all(predicted > 0) and np.all(np.isfinite(predicted))
        assert np.all(np.diff(est.loss_curve_) < 0)  # towards exp(-inf) = 0


def test_poisson_without_intercept_is_not_scaled():
    X, y = _poisson_data(n=200)
    est = LinearRegressor(loss="poisson", fit_intercept=False, max_iter=3).fit(X, y)
    assert est._target_scale == 1.0
    np.testing.assert_array_equal(est.intercept_, [0.0])
    np.testing.assert_allclose(est.predict(X), np.exp(X @ est.coef_), rtol=1e-12)


def test_poisson_is_a_regression_loss_only():
    X, y = _data()
    with pytest.raises(ValueError, match="regression loss"):
        MLPEstimator(loss="poisson", **SMALL_MLP).fit(X, y)


def test_warm_start_cannot_switch_the_output_link():
    X, y = _poisson_data(n=60)
    est = MLPRegressor(warm_start=True, random_state=0, **SMALL_MLP).fit(X, y)
    before = estimator_state(est)
    with pytest.raises(ValueError, match="cannot switch"):
        est.set_params(loss="poisson").fit(X, y)
    est.set_params(loss="squared_error")
    assert estimator_state(est) == before


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "est",
    [
        MLPRegressor("poisson", (6,), max_iter=5, random_state=0),
        LinearRegressor(loss="poisson", max_iter=5, random_state=0),
    ],
    ids=["MLPRegressor", "LinearRegressor"],
)
def test_poisson_onnx_graph_predicts_exp(est, dtype):
    import onnxruntime  # the test extra installs it

    from skbigmodel.onnx import to_onnx

    X, y = _poisson_data(n=100)
    X = X.astype(dtype)
    est = clone(est).fit(X, y)
    session = onnxruntime.InferenceSession(to_onnx(est, X).SerializeToString())
    got = session.run(None, {"X": X})[0]
    assert any(node.op_type == "Exp" for node in to_onnx(est, X).graph.node)
    np.testing.assert_allclose(
        got.ravel(), est.predict(X), rtol=1e-5 if dtype == np.float32 else 1e-12
    )
