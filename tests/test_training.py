"""The training loop: convergence, schedules, stopping rules, threads."""

import numba
import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbigmodel import LinearRegressor, LogisticClassifier

CONVERGE = dict(learning_rate="adaptive", tol=1e-12, n_iter_no_change=50,
                max_iter=5000, batch_size=32, random_state=0)  # fmt: skip


@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop"])
def test_ridge_objective_reaches_the_exact_optimum(solver):
    X, y = make_regression(n_samples=300, n_features=8, noise=10, random_state=0)
    alpha = 0.1

    def objective(w, b):
        r = y - X @ w - b
        return 0.5 * np.mean(r**2) + 0.5 * alpha * w @ w

    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w_opt = np.linalg.solve(Xc.T @ Xc / len(X) + alpha * np.eye(X.shape[1]),
                            Xc.T @ yc / len(X))  # fmt: skip
    best = objective(w_opt, y.mean() - X.mean(axis=0) @ w_opt)
    reg = LinearRegressor(alpha=alpha, solver=solver, **CONVERGE).fit(X, y)
    assert objective(reg.coef_, reg.intercept_[0]) - best <= 1e-4 * best


@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop"])
def test_logistic_objective_reaches_the_exact_optimum(solver):
    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    alpha = 0.1

    def objective(w, b):
        z = X @ w + b
        return np.mean(np.logaddexp(0, z) - y * z) + 0.5 * alpha * w @ w

    ref = LogisticRegression(C=1 / (len(X) * alpha), tol=1e-12, max_iter=10_000)
    ref.fit(X, y)
    best = objective(ref.coef_[0], ref.intercept_[0])
    clf = LogisticClassifier(alpha=alpha, solver=solver, **CONVERGE).fit(X, y)
    assert objective(clf.coef_[0], clf.intercept_[0]) - best <= 1e-4 * best


def test_diabetes_r2_matches_ridge():
    X, y = load_diabetes(return_X_y=True)
    ours, ridge = [], []
    for seed in range(3):
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
        model = make_pipeline(StandardScaler(), LinearRegressor(random_state=seed))
        ours.append(model.fit(X_train, y_train).score(X_test, y_test))
        ref = make_pipeline(StandardScaler(), Ridge())
        ridge.append(ref.fit(X_train, y_train).score(X_test, y_test))
    assert np.mean(ours) >= np.mean(ridge) - 0.01


def test_adaptive_schedule_lowers_the_rate_and_the_loss(regression_data):
    X, y = regression_data
    common = dict(solver="sgd", max_iter=500, random_state=0, n_iter_no_change=5)
    constant = LinearRegressor(learning_rate_init=0.05, **common).fit(X, y)
    adaptive = LinearRegressor(learning_rate_init=0.05, learning_rate="adaptive",
                               **common).fit(X, y)  # fmt: skip
    assert adaptive.n_iter_ > constant.n_iter_
    assert adaptive.loss_curve_[-1] < constant.loss_curve_[-1]


def test_tolerance_stops_training(regression_data):
    X, y = regression_data
    reg = LinearRegressor(tol=1e-2, n_iter_no_change=2, random_state=0).fit(X, y)
    assert reg.n_iter_ < 200 and len(reg.loss_curve_) == reg.n_iter_


def test_max_iter_warns(regression_data):
    X, y = regression_data
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        LinearRegressor(max_iter=2, random_state=0).fit(X, y)


def test_n_jobs_sets_and_restores_the_thread_count(binary_data):
    X, y = binary_data
    before = numba.get_num_threads()
    LogisticClassifier(max_iter=2, n_jobs=1).fit(X, y)
    assert numba.get_num_threads() == before


def test_shuffle_false_visits_rows_in_order(binary_data):
    X, y = binary_data
    a = LogisticClassifier(shuffle=False, max_iter=3, random_state=0).fit(X, y)
    b = LogisticClassifier(shuffle=False, max_iter=3, random_state=1).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_)
    c = LogisticClassifier(shuffle=True, max_iter=3, random_state=1).fit(X, y)
    assert not np.array_equal(a.coef_, c.coef_)


def test_epoch_shuffles_are_uniform_permutations():
    from scipy.stats import chisquare

    from skbigmodel._kernels.steps import shuffled

    rows = np.arange(10, 14)  # the rows of a fit need not start at 0
    seeds = np.random.default_rng(0).integers(0, 2**63 - 1, 24_000)
    counts = {}
    for seed in seeds:
        order = shuffled(rows, seed)
        assert np.array_equal(np.sort(order), rows)
        counts[tuple(order)] = counts.get(tuple(order), 0) + 1
    assert np.array_equal(rows, np.arange(10, 14))  # the input is left alone
    assert len(counts) == 24  # every permutation of 4 rows, each about as often
    assert chisquare(list(counts.values())).pvalue > 1e-3
    assert np.array_equal(shuffled(rows, seeds[0]), shuffled(rows, seeds[0]))
