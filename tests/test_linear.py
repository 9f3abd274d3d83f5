"""Behaviour of LinearRegressor and LogisticClassifier."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbigmodel import LinearRegressor, LogisticClassifier

from ._helpers import sparse_classification

SOLVERS = ["adam", "sgd", "rmsprop"]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_l1_gives_exact_zeros(binary_data, regression_data, solver, penalty):
    X, y = binary_data
    clf = LogisticClassifier(
        penalty=penalty,
        alpha=0.05,
        l1_ratio=0.9,
        solver=solver,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, y)
    assert 0 < np.sum(clf.coef_ == 0.0) < clf.coef_.size
    huge = clone(clf).set_params(alpha=50.0).fit(X, y)
    assert np.all(huge.coef_ == 0.0)
    X, y = regression_data
    reg = LinearRegressor(
        penalty=penalty, alpha=1e3, l1_ratio=0.9, solver=solver, random_state=0
    ).fit(X, y)
    assert np.all(reg.coef_ == 0.0)


def test_l1_path_has_more_zeros_as_alpha_grows(binary_data):
    X, y = binary_data
    zeros = [
        np.sum(
            LogisticClassifier(penalty="l1", alpha=alpha, random_state=0)
            .fit(X, y)
            .coef_
            == 0
        )
        for alpha in [1e-4, 1e-2, 5e-2, 2e-1]
    ]
    assert zeros == sorted(zeros) and zeros[-1] > zeros[0]


def test_multinomial_probabilities(multiclass_data):
    X, y = multiclass_data
    clf = LogisticClassifier(random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    # softmax of the decision function: the true multinomial model
    scores = clf.decision_function(X)
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    np.testing.assert_allclose(proba, expected / expected.sum(axis=1, keepdims=True))
    assert np.array_equal(clf.predict(X), clf.classes_[scores.argmax(axis=1)])
    assert clf.coef_.shape == (4, X.shape[1]) and clf.intercept_.shape == (4,)


def test_binary_shapes_and_labels(binary_data):
    X, y = binary_data
    labels = np.array(["no", "yes"])[y]
    clf = LogisticClassifier(random_state=0).fit(X, labels)
    assert clf.coef_.shape == (1, X.shape[1]) and clf.intercept_.shape == (1,)
    scores = clf.decision_function(X)
    assert scores.shape == (len(X),)
    assert np.array_equal(clf.predict(X), np.where(scores > 0, "yes", "no"))
    log_proba = clf.predict_log_proba(X)
    np.testing.assert_allclose(np.exp(log_proba), clf.predict_proba(X), rtol=1e-10)
    reference = LogisticRegression().fit(X, labels).score(X, labels)
    assert clf.score(X, labels) >= reference - 0.01


def test_partial_fit_approaches_fit(binary_data):
    X, y = binary_data
    full = LogisticClassifier(random_state=0).fit(X, y)
    online = LogisticClassifier(random_state=0)
    for epoch in range(30):
        for chunk in np.array_split(np.arange(len(X)), 6):
            online.partial_fit(X[chunk], y[chunk], classes=[0, 1])
    assert abs(online.score(X, y) - full.score(X, y)) <= 0.02
    assert online.n_iter_ == 180 and online.t_ == 30 * len(X)


def test_multioutput_regression_and_partial_fit(multioutput_data):
    X, Y = multioutput_data
    reg = LinearRegressor(random_state=0).fit(X, Y)
    assert reg.coef_.shape == (3, X.shape[1]) and reg.predict(X).shape == Y.shape
    assert reg.score(X, Y) > 0.99
    online = LinearRegressor(random_state=0)
    for _ in range(40):
        for chunk in np.array_split(np.arange(len(X)), 5):
            online.partial_fit(X[chunk], Y[chunk])
    assert online.score(X, Y) > 0.99
    with pytest.raises(ValueError, match="outputs"):
        online.partial_fit(X, Y[:, :2])


def test_early_stopping_on_a_held_out_fraction(binary_data):
    X, y = binary_data
    clf = LogisticClassifier(
        early_stopping=True, n_iter_no_change=3, max_iter=300, random_state=0
    ).fit(X, y)
    assert clf.n_iter_ < 300
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert LogisticClassifier(random_state=0).fit(X, y).validation_scores_ is None


def test_early_stopping_on_a_given_validation_set(regression_data):
    X, y = regression_data
    reg = LinearRegressor(n_iter_no_change=3, random_state=0)
    reg.fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    assert reg.validation_scores_[-1] == pytest.approx(reg.score(X[400:], y[400:]))
    with pytest.raises(ValueError, match="together"):
        reg.fit(X, y, X_val=X)


def test_warm_start_continues_from_the_previous_solution(binary_data):
    X, y = binary_data
    clf = LogisticClassifier(max_iter=5, warm_start=True, random_state=0)
    clf.fit(X, y)
    first_curve = list(clf.loss_curve_)
    clf.fit(X, y)
    assert clf.n_iter_ == 10 and clf.loss_curve_[:5] == first_curve
    cold = LogisticClassifier(max_iter=5, random_state=0).fit(X, y)
    assert clf.loss_curve_[5] < cold.loss_curve_[0]


@pytest.mark.parametrize(
    "kind, params",
    [
        ("dense-binary", {}),
        ("dense-multiclass", {}),
        ("csr", {}),
        ("csr", dict(solver="sgd", momentum=0.0)),  # the weight-scale kernel
        ("csr", dict(penalty="elasticnet", alpha=1e-3)),  # lazy L1 and L2
    ],
)
def test_bitwise_reproducible_whatever_n_jobs(kind, params, multiclass_data):
    """Models and loss curves: the thread chooser's timing-dependent
    segments of an epoch (50 batches on CSR data) change no bit either."""
    if kind == "csr":
        X, y = sparse_classification()
        params = dict(params, batch_size=16)
    else:
        X, y = multiclass_data
        y = y % 2 if kind == "dense-binary" else y
        X = np.hstack([X] * 4)  # enough work per batch for parallel chunks
    fits = [
        LogisticClassifier(max_iter=20, n_jobs=n_jobs, random_state=0, **params).fit(
            X, y
        )
        for n_jobs in [1, 2, 2, 1]
    ]
    for fit in fits[1:]:
        assert np.array_equal(fit.coef_, fits[0].coef_)
        assert np.array_equal(fit.intercept_, fits[0].intercept_)
        assert fit.loss_curve_ == fits[0].loss_curve_


def test_float32_in_float32_out(regression_data, binary_data):
    X, y = regression_data
    X32 = X.astype(np.float32)
    reg = LinearRegressor(random_state=0).fit(X32, y)
    assert reg.coef_.dtype == np.float32 and reg.predict(X32).dtype == np.float32
    reg64 = LinearRegressor(random_state=0).fit(X, y)
    np.testing.assert_allclose(reg.predict(X32), reg64.predict(X), rtol=1e-2, atol=1.0)
    X, y = binary_data
    clf = LogisticClassifier(random_state=0).fit(X.astype(np.float32), y)
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32


def test_sparse_matches_dense_quality():
    X, y = sparse_classification(n_samples=2000, n_features=400)
    sparse = LogisticClassifier(random_state=0).fit(X, y)
    dense = LogisticClassifier(random_state=0).fit(X.toarray(), y)
    assert abs(sparse.score(X, y) - dense.score(X.toarray(), y)) < 0.03
    csc = LogisticClassifier(random_state=0).fit(X.tocsc(), y)
    assert np.array_equal(csc.coef_, sparse.coef_)


def test_sparsify_densify_keep_predictions(binary_data):
    X, y = binary_data
    clf = LogisticClassifier(penalty="l1", alpha=0.02, random_state=0).fit(X, y)
    dense_scores = clf.decision_function(X)
    assert sp.issparse(clf.sparsify().coef_)
    np.testing.assert_allclose(clf.decision_function(X), dense_scores)
    clf.partial_fit(X, y)
    assert isinstance(clf.densify().coef_, np.ndarray)


def test_class_weight_equals_sample_weight(binary_data):
    X, y = binary_data
    weighted = LogisticClassifier(class_weight={0: 3.0, 1: 1.0}, random_state=0)
    by_sample = LogisticClassifier(random_state=0)
    weighted.fit(X, y)
    by_sample.fit(X, y, sample_weight=np.where(y == 0, 3.0, 1.0))
    assert np.array_equal(weighted.coef_, by_sample.coef_)
    balanced = LogisticClassifier(class_weight="balanced", random_state=0)
    with pytest.raises(ValueError, match="balanced"):
        balanced.partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize(
    "loader", [load_breast_cancer, load_digits, load_wine], ids=lambda f: f.__name__
)
def test_accuracy_matches_lbfgs(loader):
    X, y = loader(return_X_y=True)
    ours, lbfgs = [], []
    for seed in range(3):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, random_state=seed, stratify=y
        )
        model = make_pipeline(StandardScaler(), LogisticClassifier(random_state=seed))
        ours.append(model.fit(X_train, y_train).score(X_test, y_test))
        ref = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        lbfgs.append(ref.fit(X_train, y_train).score(X_test, y_test))
    assert np.mean(ours) >= np.mean(lbfgs) - 0.01


def test_csr_with_unsorted_and_duplicate_indices():
    X, y = sparse_classification()
    data, indices, indptr = [], [], [0]
    for i in range(X.shape[0]):  # each entry split in two halves, row reversed
        row = slice(X.indptr[i], X.indptr[i + 1])
        data.extend(np.repeat(X.data[row][::-1] / 2, 2))
        indices.extend(np.repeat(X.indices[row][::-1], 2))
        indptr.append(len(data))
    messy = sp.csr_matrix((data, indices, indptr), shape=X.shape)
    assert not messy.has_sorted_indices
    clean = LogisticClassifier(max_iter=5, random_state=0).fit(X, y)
    fitted = LogisticClassifier(max_iter=5, random_state=0).fit(messy, y)
    np.testing.assert_allclose(fitted.coef_, clean.coef_, rtol=1e-9, atol=1e-12)
    assert not messy.has_sorted_indices  # the caller's matrix is left alone


def test_the_layout_of_y_does_not_change_the_model(multioutput_data):
    X, Y = multioutput_data
    c = LinearRegressor(max_iter=3, random_state=0).fit(X, np.ascontiguousarray(Y))
    f = LinearRegressor(max_iter=3, random_state=0).fit(X, np.asfortranarray(Y))
    np.testing.assert_array_equal(c.coef_, f.coef_)
    np.testing.assert_array_equal(c.intercept_, f.intercept_)
