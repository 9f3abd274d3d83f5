"""solver="lbfgs": full-batch L-BFGS-B on the kernels' exact gradients."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import log_softmax, logsumexp
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbigmodel import (
    LinearClassifier,
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPEstimator,
    MLPRegressor,
)


def _logistic_objective(model, X, y, alpha):
    """Mean log-loss + alpha/2 |coef|^2 of a fitted binary or multinomial model."""
    raw = np.atleast_2d(model.decision_function(X).T).T
    index = np.searchsorted(model.classes_, y)
    if raw.shape[1] == 1:  # log(1 + exp(t)) - y t
        t = raw[:, 0]
        losses = np.logaddexp(0.0, t) - index * t
    else:
        losses = -log_softmax(raw, axis=1)[np.arange(len(y)), index]
    return losses.mean() + 0.5 * alpha * np.sum(model.coef_**2)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_reaches_sklearn_objective(n_classes):
    X, y = make_classification(
        n_samples=400,
        n_features=8,
        n_informative=5,
        n_classes=n_classes,
        random_state=0,
    )
    alpha = 1e-2
    # scikit-learn's objective is C * sum(loss) + |w|^2 / 2: C = 1 / (n alpha)
    theirs = LogisticRegression(C=1.0 / (len(y) * alpha), tol=1e-12, max_iter=10_000)
    ours = LogisticClassifier(solver="lbfgs", alpha=alpha, tol=1e-12, max_iter=10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol beyond precision
        theirs.fit(X, y)
        ours.fit(X, y)
    expected = _logistic_objective(theirs, X, y, alpha)
    assert _logistic_objective(ours, X, y, alpha) == pytest.approx(expected, rel=1e-6)
    assert ours.loss_curve_[-1] == pytest.approx(expected, rel=1e-6)
    # sklearn's softmax coefficients sum to zero over the classes; ours are
    # penalised the same way, so they do too at the optimum.
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_regressor_matches_ridge(dtype):
    X, y = make_regression(n_samples=300, n_features=6, noise=3.0, random_state=0)
    y = 1000.0 * y + 5000.0  # trained on standardised targets
    X = X.astype(dtype)
    alpha = 0.05
    ridge = Ridge(alpha=alpha * len(y)).fit(X.astype(np.float64), y)
    ours = LinearRegressor(solver="lbfgs", alpha=alpha, tol=1e-10).fit(X, y)
    assert ours.coef_.dtype == dtype
    rtol = 1e-6 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(ours.coef_, ridge.coef_, rtol=rtol)
    assert ours.intercept_[0] == pytest.approx(ridge.intercept_, rel=rtol)


def test_mlp_on_digits_matches_sklearn_accuracy():
    """Test accuracy within 1 point of scikit-learn's, averaged over 3 seeds.

    scikit-learn's MLP penalty is alpha / (2 n) |W|^2: ours is alpha / 2.
    """
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    theirs, ours = [], []
    for seed in range(3):
        options = dict(hidden_layer_sizes=(64,), max_iter=100, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            sk = SklearnMLPClassifier(solver="lbfgs", alpha=1e-2, **options)
            theirs.append(sk.fit(X_train, y_train).score(X_test, y_test))
            alpha = 1e-2 / len(y_train)
            mine = MLPClassifier(solver="lbfgs", alpha=alpha, **options)
            ours.append(mine.fit(X_train, y_train).score(X_test, y_test))
            assert mine.n_iter_ == len(mine.loss_curve_) <= 100
    assert abs(np.mean(ours) - np.mean(theirs)) <= 0.01, (ours, theirs)


def test_same_optimum_as_a_stochastic_solver():
    X, y = make_classification(n_samples=300, n_features=5, random_state=0)
    lbfgs = LogisticClassifier(solver="lbfgs", alpha=0.01, tol=1e-10).fit(X, y)
    adam = LogisticClassifier(
        alpha=0.01, batch_size=300, learning_rate_init=0.05, max_iter=3000, tol=1e-9
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adam.fit(X, y)
    assert lbfgs.loss_curve_[-1] <= min(adam.loss_curve_) * (1 + 1e-6)
    np.testing.assert_allclose(lbfgs.coef_, adam.coef_, rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize(
    "Estimator, options",
    [
        (LogisticClassifier, {}),
        (LinearRegressor, {}),
        (MLPClassifier, {"hidden_layer_sizes": (8,)}),
    ],
)
def test_bits_do_not_depend_on_n_jobs(Estimator, options):
    X, y = make_classification(n_samples=3000, n_features=10, random_state=0)
    fits = [
        Estimator(solver="lbfgs", n_jobs=n_jobs, random_state=0, max_iter=30, **options)
        for n_jobs in (1, 2)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for model in fits:
            model.fit(X, y)
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    a, b = (m.coef_ if hasattr(m, "coef_") else m.coefs_[0] for m in fits)
    np.testing.assert_array_equal(a, b)


def test_sparse_input_gives_the_dense_model():
    X, y = make_classification(n_samples=300, n_features=20, random_state=0)
    X[np.abs(X) < 1.0] = 0.0
    dense = LogisticClassifier(solver="lbfgs", tol=1e-10).fit(X, y)
    csr = LogisticClassifier(solver="lbfgs", tol=1e-10).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-6, atol=1e-8)


def test_sample_and_class_weights():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    weights = {0: 3.0, 1: 0.5}
    by_class = LogisticClassifier(solver="lbfgs", class_weight=weights).fit(X, y)
    sw = np.where(y == 0, 3.0, 0.5)
    by_sample = LogisticClassifier(solver="lbfgs").fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(by_class.coef_, by_sample.coef_)
    # integer weights are repetitions
    sw = np.random.default_rng(0).integers(0, 3, len(y))
    weighted = LogisticClassifier(solver="lbfgs", tol=1e-10).fit(X, y, sample_weight=sw)
    repeated = LogisticClassifier(solver="lbfgs", tol=1e-10).fit(
        np.repeat(X, sw, axis=0), np.repeat(y, sw)
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6)


def test_loss_curve_verbose_and_callbacks_per_iteration(capsys):
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    model = LogisticClassifier(solver="lbfgs", verbose=1).fit(X, y)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == model.n_iter_ == len(model.loss_curve_) > 1
    assert lines[0].startswith("Iteration 1, loss = ")
    assert np.all(np.diff(model.loss_curve_) <= 0)  # L-BFGS decreases the loss
    assert model.t_ >= model.n_iter_ * len(y)  # every evaluation sees all rows


def test_max_iter_and_max_fun_warn_as_sklearn():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        model = LogisticClassifier(solver="lbfgs", max_iter=2).fit(X, y)
    assert model.n_iter_ == 2
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        LogisticClassifier(solver="lbfgs", max_fun=3).fit(X, y)


def test_warm_start_continues():
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    model = MLPRegressor(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=10, warm_start=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.set_params(random_state=0).fit(X, y)
        first = list(model.loss_curve_)
        model.fit(X, y)
    assert model.n_iter_ == 20 and model.loss_curve_[:10] == first
    assert model.loss_curve_[10] <= first[-1]


def test_early_stopping_is_ignored_as_by_sklearn():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    plain = LogisticClassifier(solver="lbfgs").fit(X, y)
    stopped = LogisticClassifier(solver="lbfgs", early_stopping=True).fit(X, y)
    np.testing.assert_array_equal(plain.coef_, stopped.coef_)
    assert stopped.validation_scores_ is None


def test_validation_set_is_scored_per_iteration():
    X, y = make_classification(n_samples=300, n_features=5, random_state=0)
    model = LogisticClassifier(solver="lbfgs")
    model.fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    assert len(model.validation_scores_) == model.n_iter_
    assert model.validation_scores_[-1] == pytest.approx(model.score(X[200:], y[200:]))


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize(
    "Estimator", [LogisticClassifier, LinearRegressor, MLPClassifier]
)
def test_l1_penalties_are_refused(Estimator, penalty):
    X, y = make_classification(n_samples=50, n_features=4, random_state=0)
    model = Estimator(solver="lbfgs", penalty=penalty)
    with pytest.raises(ValueError, match="supports penalty='l2' or None.*stochastic"):
        model.fit(X, y)
    assert not hasattr(model, "n_iter_")


@pytest.mark.parametrize(
    "Estimator, loss",
    [
        (LinearClassifier, "hinge"),
        (LinearClassifier, "perceptron"),
        (LinearClassifier, "epsilon_insensitive"),
        (LinearRegressor, "epsilon_insensitive"),
        (LinearRegressor, "quantile"),
    ],
)
def test_losses_with_kinks_are_refused_and_leave_the_model(Estimator, loss):
    """At zero weights the perceptron's gradient is zero (L-BFGS would stop
    at once with a constant model); the hinge's line search stalls."""
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    model = Estimator(loss, solver="sgd", max_iter=3, tol=None).fit(X, y)
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match=f"continuous gradient, not loss='{loss}'"):
        model.set_params(solver="lbfgs").fit(X, y)
    np.testing.assert_array_equal(model.coef_, coef)
    assert model.solver_ == "sgd"


@pytest.mark.parametrize("loss", ["squared_hinge", "modified_huber", "huber"])
def test_smooth_margin_losses_train(loss):
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    model = LinearClassifier(loss, solver="lbfgs").fit(X, y)
    assert model.score(X, y) > 0.8


def test_dropout_is_refused():
    X, y = make_classification(n_samples=50, n_features=4, random_state=0)
    with pytest.raises(ValueError, match="needs dropout=0"):
        MLPClassifier(solver="lbfgs", dropout=0.2).fit(X, y)


@pytest.mark.parametrize(
    "model", [LogisticClassifier(solver="lbfgs"), MLPRegressor(solver="lbfgs")]
)
def test_partial_fit_is_refused_as_by_sklearn(model):
    X, y = make_classification(n_samples=50, n_features=4, random_state=0)
    assert not hasattr(model, "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
        model.partial_fit(X, y)
    cause = str(info.value.__cause__)
    assert cause == "partial_fit is only available for stochastic optimizers. " + (
        "lbfgs is not stochastic."
    )
    sklearn_model = SklearnMLPClassifier(solver="lbfgs")
    with pytest.raises(AttributeError) as theirs:
        sklearn_model.partial_fit(X, y)
    assert str(theirs.value.__cause__) == cause


def _lbfgs_estimators():
    """Every estimator with solver="lbfgs". The MLPs run 10 iterations (as
    STYLE.md's example runs few epochs). Measured with the default 200:
    on the checks' tiny non-convex problems the sample-weighted and the
    repeated data (equal up to rounding) take ~90 iterations whose paths
    drift apart by 1e-5 (rounding amplified along the path), and on the
    unscaled multilabel data the logits pass 37 within 20 iterations, where
    the sigmoid rounds to exactly 1.0: predict_proba then ties where
    decision_function does not (scikit-learn's own
    MLPClassifier(solver="lbfgs") fails the probability check too)."""
    yield LinearRegressor(solver="lbfgs")
    yield LinearRegressor(solver="lbfgs", penalty=None, loss="huber")
    yield LinearRegressor(solver="lbfgs", fit_intercept=False)
    yield LogisticClassifier(solver="lbfgs")
    yield LogisticClassifier(solver="lbfgs", penalty=None)
    yield MLPEstimator(solver="lbfgs", max_iter=10)
    yield MLPEstimator(solver="lbfgs", task="regression", max_iter=10)
    yield MLPClassifier((16,), solver="lbfgs", max_iter=10)
    yield MLPClassifier(
        (8, 8), solver="lbfgs", penalty=None, activation="tanh", max_iter=10
    )
    yield MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=10)


@parametrize_with_checks(list(_lbfgs_estimators()))
def test_sklearn_api(estimator, check):
    check(estimator)


def test_objective_is_the_documented_one():
    """loss_curve_ is the weighted mean loss + alpha/2 |W|^2 of the returned model."""
    X, y = make_classification(
        n_samples=150, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    alpha = 0.03
    model = LogisticClassifier(solver="lbfgs", alpha=alpha).fit(X, y)
    raw = model.decision_function(X)
    losses = logsumexp(raw, axis=1) - raw[np.arange(len(y)), y]
    expected = losses.mean() + 0.5 * alpha * np.sum(model.coef_**2)
    assert model.loss_curve_[-1] == pytest.approx(expected, rel=1e-10)


class _StopAt:
    """A scikit-learn callback that counts iterations and stops at ``last``."""

    def __init__(self, last):
        self.last, self.names = last, []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, X=None, y=None, metadata=None):
        pass

    def on_fit_task_end(self, estimator, context, X=None, y=None, metadata=None):
        self.names.append(context.task_name)
        return self.names.count("iteration") >= self.last


def test_a_callback_sees_iterations_and_may_stop():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    callback = _StopAt(3)
    model = LogisticClassifier(solver="lbfgs").set_callbacks(callback)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a stop is no failure
        model.fit(X, y)
    assert model.n_iter_ == len(model.loss_curve_) == 3
    assert callback.names.count("iteration") == 3
