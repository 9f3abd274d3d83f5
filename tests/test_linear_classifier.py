"""LinearClassifier's losses, one-vs-rest, probabilities, solver="auto";
LinearRegressor's new losses; errors of the new parameters."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import QuantileRegressor, SGDClassifier
from sklearn.metrics import mean_pinball_loss
from sklearn.preprocessing import scale

from skbigmodel import LinearClassifier, LinearRegressor, LogisticClassifier
from skbigmodel._losses import CLASSIFIER_LOSS_NAMES

from ._helpers import sparse_classification, text_like_classification


@pytest.fixture(scope="module")
def three_classes():
    X, y = make_classification(
        n_samples=400,
        n_features=8,
        n_informative=5,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    return scale(X), y


@pytest.mark.parametrize("loss", CLASSIFIER_LOSS_NAMES)
def test_every_loss_learns_three_classes(loss, three_classes):
    X, y = three_classes
    clf = LinearClassifier(loss, random_state=0, max_iter=30).fit(X, y)
    assert clf.score(X, y) > 0.75
    assert clf.coef_.shape == (3, X.shape[1])
    assert clf.decision_function(X).shape == (len(X), 3)
    labels = clf.classes_[np.argmax(clf.decision_function(X), axis=1)]
    np.testing.assert_array_equal(clf.predict(X), labels)


@pytest.mark.parametrize("loss", CLASSIFIER_LOSS_NAMES)
def test_l1_gives_exact_zeros_with_every_loss(loss, three_classes):
    X, y = three_classes
    clf = LinearClassifier(
        loss, penalty="l1", alpha=0.05, max_iter=30, random_state=0
    ).fit(X, y)
    assert 0 < np.sum(clf.coef_ == 0.0) < clf.coef_.size
    strong = LinearClassifier(loss, penalty="l1", alpha=50.0, random_state=0)
    assert np.all(strong.fit(X, y).coef_ == 0.0)


@pytest.mark.parametrize("loss", ["hinge", "perceptron", "squared_hinge", "huber"])
def test_losses_without_probabilities_have_no_predict_proba(loss, three_classes):
    clf = LinearClassifier(loss)
    assert not hasattr(clf, "predict_proba")
    assert not hasattr(clf, "predict_log_proba")
    with pytest.raises(AttributeError) as raised:
        clf.predict_proba
    assert "only 'log_loss' and 'modified_huber'" in str(raised.value.__cause__)
    X, y = three_classes
    assert not hasattr(clf.fit(X, y), "predict_proba")


@pytest.mark.parametrize("n_classes", [2, 3])
def test_modified_huber_probabilities_are_scikit_learns(n_classes, three_classes):
    X, y = three_classes
    keep = y < n_classes
    X, y = X[keep], y[keep]
    params = dict(shuffle=False, max_iter=3, tol=None, learning_rate="optimal")
    ours = LinearClassifier(
        "modified_huber", solver="sgd", momentum=0.0, batch_size=1, **params
    ).fit(X, y, intercept_init=np.zeros(1 if n_classes == 2 else 3))
    theirs = SGDClassifier(loss="modified_huber", **params).fit(X, y)
    np.testing.assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(
        np.exp(ours.predict_log_proba(X)), ours.predict_proba(X), rtol=1e-12
    )


def test_one_vs_rest_outputs_are_the_binary_problems(three_classes):
    """Each output of a 3-class hinge model is the binary model of its class
    against the rest, trained alone (same steps: batch 1, no shuffle)."""
    X, y = three_classes
    params = dict(solver="sgd", momentum=0.0, batch_size=1, shuffle=False, max_iter=3)
    params.update(tol=None, learning_rate="optimal")
    joint = LinearClassifier(**params).fit(X, y)
    for k in range(3):
        alone = LinearClassifier(**params).fit(X, (y == k).astype(int))
        np.testing.assert_allclose(joint.coef_[k], alone.coef_[0], rtol=1e-12)
        np.testing.assert_allclose(joint.intercept_[k], alone.intercept_[0], rtol=1e-12)


def test_logistic_classifier_is_linear_classifier_with_the_log_loss(three_classes):
    X, y = three_classes
    params = dict(random_state=0, max_iter=5, tol=None)
    logistic = LogisticClassifier(**params).fit(X, y)
    linear = LinearClassifier("log_loss", **params).fit(X, y)
    np.testing.assert_array_equal(logistic.coef_, linear.coef_)
    np.testing.assert_array_equal(logistic.predict_proba(X), linear.predict_proba(X))
    assert isinstance(logistic, LinearClassifier)
    assert "loss" not in logistic.get_params()


def test_auto_solver_is_plain_sgd_on_sparse_and_adam_on_dense():
    X, y = sparse_classification()
    sparse = LinearClassifier(random_state=0, max_iter=5, tol=None).fit(X, y)
    assert sparse.solver_ == "sgd"
    explicit = LinearClassifier(
        solver="sgd",
        momentum=0.0,
        learning_rate="optimal",
        random_state=0,
        max_iter=5,
        tol=None,
    ).fit(X, y)
    np.testing.assert_array_equal(sparse.coef_, explicit.coef_)
    dense = LinearClassifier(random_state=0, max_iter=5, tol=None).fit(X.toarray(), y)
    assert dense.solver_ == "adam"
    # partial_fit keeps the solver it started with, whatever the next X
    sparse.partial_fit(X.toarray(), y)
    assert sparse.solver_ == "sgd"


@pytest.mark.parametrize("cls", [LinearClassifier, LinearRegressor])
def test_auto_solver_with_the_optimal_schedule_is_plain_sgd(cls):
    # "optimal" is a schedule of plain SGD only: "auto" picks it on dense X
    X, y = sparse_classification()
    X = X.toarray()
    fit = dict(
        learning_rate="optimal", alpha=1e-3, random_state=0, max_iter=3, tol=None
    )
    auto = cls(**fit).fit(X, y)
    assert auto.solver_ == "sgd"
    explicit = cls(solver="sgd", momentum=0.0, **fit).fit(X, y)
    np.testing.assert_array_equal(auto.coef_, explicit.coef_)


ESTIMATORS = {
    "hinge": (LinearClassifier, "classification"),
    "logistic": (LogisticClassifier, "classification"),
    "regressor": (LinearRegressor, "regression"),
}


def _dense_problem(kind, n_samples=1024):
    if kind == "classification":
        X, y = make_classification(
            n_samples, 10, n_classes=3, n_informative=5, random_state=0
        )
    else:
        X, y = make_regression(n_samples, 10, noise=10.0, random_state=0)
    return scale(X), y


@pytest.mark.parametrize("name", ESTIMATORS)
def test_auto_average_is_the_mean_of_the_last_epoch_on_dense(name):
    # 1,024 rows, batches of 256: the third epoch's steps are those whose
    # last sample is past 2,048, which average=2049 (from that sample on)
    # averages; solver="adam" with it is the same path, bit for bit
    cls, kind = ESTIMATORS[name]
    X, y = _dense_problem(kind)
    fit = dict(random_state=0, max_iter=3, tol=None)
    auto = cls(**fit).fit(X, y)
    assert auto.solver_ == "adam"
    last_epoch = cls(solver="adam", average=2 * 1024 + 1, **fit).fit(X, y)
    np.testing.assert_array_equal(auto.coef_, last_epoch.coef_)
    np.testing.assert_array_equal(auto.intercept_, last_epoch.intercept_)
    last_iterate = cls(solver="adam", average=False, **fit).fit(X, y)
    assert not np.array_equal(auto.coef_, last_iterate.coef_)
    # average=False keeps Adam's last iterate with solver="auto"
    plain = cls(average=False, **fit).fit(X, y)
    np.testing.assert_array_equal(plain.coef_, last_iterate.coef_)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_auto_average_does_not_average_on_sparse(name):
    cls, kind = ESTIMATORS[name]
    X, y = _dense_problem(kind, n_samples=600)
    X[np.abs(X) < 1.0] = 0.0
    X = sp.csr_matrix(X)
    fit = dict(random_state=0, max_iter=3, tol=None)
    auto = cls(**fit).fit(X, y)
    plain = cls(average=False, **fit).fit(X, y)
    np.testing.assert_array_equal(auto.coef_, plain.coef_)
    assert auto.solver_ == ("adam" if kind == "regression" else "sgd")


def test_auto_average_beats_adams_last_iterate_and_sgdclassifier():
    # Ten classes one-vs-rest: the hinge's last Adam iterate jumps around
    X, y = make_classification(
        12000, 40, n_informative=20, n_classes=10, random_state=0
    )
    X = scale(X)
    train, test = slice(0, 10000), slice(10000, None)
    fit = dict(random_state=0, max_iter=5, tol=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto = LinearClassifier(**fit).fit(X[train], y[train])
        last = LinearClassifier(average=False, **fit).fit(X[train], y[train])
        sgd = SGDClassifier(**fit).fit(X[train], y[train])
    score = auto.score(X[test], y[test])
    assert score > last.score(X[test], y[test]) + 0.03
    assert score > sgd.score(X[test], y[test]) + 0.03


def test_optimal_schedule_learns_sparse_text_like_data():
    X, y = sparse_classification(n_samples=3000, n_features=2000, density=0.01)
    clf = LinearClassifier(alpha=1e-5, random_state=0, max_iter=10).fit(X, y)
    assert clf.score(X, y) > 0.9


def test_auto_log_loss_on_sparse_reaches_sgdclassifier_in_fewer_epochs():
    # solver="auto" on sparse X with the log-loss caps the first step of
    # "optimal" at 1: one epoch beats SGDClassifier's five, which the
    # uncapped schedule (scikit-learn's, set explicitly) does not
    X, y = text_like_classification(20_000, n_features=4096)
    X_train, y_train, X_test, y_test = X[:10_000], y[:10_000], X[10_000:], y[10_000:]
    common = dict(alpha=1e-6, tol=None, random_state=0)
    reference = SGDClassifier(loss="log_loss", max_iter=5, **common)
    target = reference.fit(X_train, y_train).score(X_test, y_test)
    ours = LinearClassifier("log_loss", max_iter=1, **common).fit(X_train, y_train)
    assert ours.solver_ == "sgd"
    assert ours.score(X_test, y_test) >= target
    uncapped = LinearClassifier(
        "log_loss",
        solver="sgd",
        momentum=0.0,
        learning_rate="optimal",
        max_iter=1,
        **common,
    ).fit(X_train, y_train)
    assert uncapped.score(X_test, y_test) < target
    logistic = LogisticClassifier(max_iter=1, **common).fit(X_train, y_train)
    np.testing.assert_array_equal(logistic.coef_, ours.coef_)
    # the hinge loss keeps scikit-learn's schedule
    hinge = LinearClassifier(max_iter=1, **common).fit(X_train, y_train)
    explicit = LinearClassifier(
        solver="sgd", momentum=0.0, learning_rate="optimal", max_iter=1, **common
    ).fit(X_train, y_train)
    np.testing.assert_array_equal(hinge.coef_, explicit.coef_)


@pytest.mark.parametrize("quantile", [0.2, 0.5, 0.9])
def test_quantile_loss_reaches_quantile_regression(quantile):
    X, y = make_regression(n_samples=400, n_features=5, noise=10.0, random_state=0)
    y = y + np.random.default_rng(0).exponential(20.0, len(y))  # skewed noise
    exact = QuantileRegressor(quantile=quantile, alpha=0.0).fit(X, y)
    ours = LinearRegressor(
        "quantile",
        quantile=quantile,
        penalty=None,
        learning_rate_init=0.01,
        random_state=0,
        max_iter=300,
    ).fit(X, y)
    best = mean_pinball_loss(y, exact.predict(X), alpha=quantile)
    got = mean_pinball_loss(y, ours.predict(X), alpha=quantile)
    assert got <= 1.01 * best
    below = np.mean(y <= ours.predict(X))
    assert abs(below - quantile) < 0.05


def test_squared_epsilon_insensitive_ignores_small_residuals():
    X, y = make_regression(n_samples=300, n_features=4, noise=0.0, random_state=0)
    reg = LinearRegressor(
        "squared_epsilon_insensitive", epsilon=0.0, penalty=None, random_state=0
    )
    assert reg.fit(X, y).score(X, y) > 0.999
    wide = LinearRegressor(
        "squared_epsilon_insensitive", epsilon=1e3, penalty=None, random_state=0
    ).fit(X, y)
    # every residual of the mean is inside the tube: nothing to learn
    np.testing.assert_allclose(wide.coef_, 0.0, atol=1e-12)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(quantile=1.0), "quantile"),
        (dict(quantile=0.0), "quantile"),
        (dict(learning_rate="optimal", solver="adam"), "solver='sgd'"),
        (dict(learning_rate="optimal", solver="sgd", alpha=0.0), "alpha > 0"),
        (dict(average=-1), "average"),
    ],
)
def test_bad_parameters_name_the_problem(params, match):
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    reg = LinearRegressor("quantile", **params)
    with pytest.raises(ValueError, match=match):
        reg.fit(X, y)
    assert not hasattr(reg, "coef_")


def test_averaging_on_sparse_needs_plain_sgd_and_leaves_the_model():
    X, y = sparse_classification()
    clf = LinearClassifier(average=True, random_state=0, max_iter=3).fit(X, y)
    before = clf.coef_.copy()
    clf.set_params(solver="adam")
    with pytest.raises(ValueError, match="average on sparse X needs solver='sgd'"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.coef_, before)


def test_coef_init_and_intercept_init(three_classes):
    X, y = three_classes
    coef = np.random.default_rng(0).standard_normal((3, X.shape[1]))
    clf = LinearClassifier(max_iter=1, tol=None, learning_rate_init=1e-12)
    clf.fit(X, y, coef_init=coef, intercept_init=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(clf.coef_, coef, atol=1e-8)
    np.testing.assert_allclose(clf.intercept_, [1.0, 2.0, 3.0], atol=1e-8)
    with pytest.raises(
        ValueError, match=r"coef_init has shape \(8,\); this model needs \(3, 8\)"
    ):
        clf.fit(X, y, coef_init=np.zeros(8))
    np.testing.assert_allclose(clf.coef_, coef, atol=1e-8)  # unchanged
    Xr, yr = make_regression(n_samples=100, n_features=3, random_state=0)
    reg = LinearRegressor(max_iter=1, tol=None, learning_rate_init=1e-12)
    reg.fit(Xr, yr + 100, coef_init=[1.0, 2.0, 3.0], intercept_init=5.0)
    np.testing.assert_allclose(reg.coef_, [1.0, 2.0, 3.0], atol=1e-6)
    np.testing.assert_allclose(reg.intercept_, [5.0], atol=1e-6)


def test_tol_none_runs_every_epoch(three_classes):
    X, y = three_classes
    clf = LinearClassifier(tol=None, max_iter=7, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no max_iter warning: tol=None asks for it
        clf.fit(X, y)
    assert clf.n_iter_ == 7
    with_tol = LinearClassifier(max_iter=500, random_state=0).fit(X, y)
    assert with_tol.n_iter_ < 500


def test_onnx_gives_the_scores_of_a_hinge_model(three_classes):
    import onnxruntime

    from skbigmodel.onnx import to_onnx

    X, y = three_classes
    for classes in (2, 3):
        keep = y < classes
        clf = LinearClassifier(random_state=0).fit(X[keep], y[keep])
        session = onnxruntime.InferenceSession(to_onnx(clf, X).SerializeToString())
        label, scores = session.run(None, {session.get_inputs()[0].name: X})
        np.testing.assert_array_equal(label, clf.predict(X))
        decision = clf.decision_function(X)
        expected = np.column_stack([-decision, decision]) if classes == 2 else decision
        np.testing.assert_allclose(scores, expected, rtol=1e-9, atol=1e-12)
