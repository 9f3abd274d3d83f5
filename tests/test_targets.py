"""Regression and classification targets: how y is encoded for the kernels
and how raw outputs are decoded, checked through real fits of the public
estimators (``skbigmodel/_targets.py``)."""

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.datasets import make_classification, make_regression

from skbigmodel import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor

from ._helpers import mlp_raw_outputs

# One epoch at a negligible step: the parameters stay where they started.
FROZEN = dict(solver="sgd", learning_rate_init=1e-12, max_iter=1, random_state=0)


def _weights(n, seed=1):
    return np.random.default_rng(seed).uniform(0.1, 3.0, n)


def _parameters(est):
    if hasattr(est, "coefs_"):
        return est.coefs_ + est.intercepts_
    return [est.coef_, est.intercept_]


def _assert_same_parameters(a, b):
    for ours, theirs in zip(_parameters(a), _parameters(b), strict=True):
        assert np.array_equal(ours, theirs)


# Regression: the kernels train on centred targets divided by one scale.

# Homogeneity of each loss in the residual: loss(c * r) = c**degree * loss(r)
# (huber's and epsilon_insensitive's epsilon scaled by c too).
DEGREE = {"squared_error": 2, "huber": 2, "epsilon_insensitive": 1}


@pytest.mark.parametrize("loss", sorted(DEGREE))
@pytest.mark.parametrize(
    "a1, a2", [(0.0, 0.05), (0.5, 0.0), (0.2, 0.01)], ids=["l2", "l1", "elasticnet"]
)
@pytest.mark.parametrize("multioutput", [False, True], ids=["1d", "2d"])
def test_scaled_and_shifted_targets_give_the_scaled_model(loss, a1, a2, multioutput):
    """y -> c * y + d minimises the objective at coef -> c * coef and
    intercept -> c * intercept + d once the L1 strength is multiplied by
    c**(degree - 1), the L2 one by c**(degree - 2) and epsilon by c; on
    standardised targets training follows the same path, so the fitted
    models agree as closely as rounding allows."""
    n_targets = 2 if multioutput else 1
    X, y = make_regression(
        n_samples=300, n_features=6, n_targets=n_targets, noise=3.0, random_state=0
    )
    c, d = 1000.0, np.array([-250.0, 40.0]) if multioutput else -250.0
    degree = DEGREE[loss]

    def fit(y, a1, a2, epsilon):
        alpha = a1 + a2
        # 15 epochs whatever the loss: no stopping rule in the way
        reg = LinearRegressor(
            loss=loss,
            epsilon=epsilon,
            penalty="elasticnet",
            alpha=alpha,
            l1_ratio=a1 / alpha,
            max_iter=15,
            n_iter_no_change=50,
            random_state=0,
        )
        return reg.fit(X, y)

    base = fit(y, a1, a2, epsilon=2.0)
    scaled = fit(c * y + d, a1 * c ** (degree - 1), a2 * c ** (degree - 2), 2.0 * c)
    spread = c * np.std(y)
    np.testing.assert_allclose(
        scaled.coef_, c * base.coef_, rtol=1e-7, atol=1e-9 * spread
    )
    np.testing.assert_allclose(
        scaled.intercept_, c * base.intercept_ + d, rtol=0, atol=1e-9 * spread
    )
    np.testing.assert_allclose(
        scaled.predict(X), c * base.predict(X) + d, rtol=0, atol=1e-8 * spread
    )
    assert scaled.predict(X).shape == np.shape(y)
    if (a1 > 0 and degree != 1) or (a2 > 0 and degree != 2):
        # the penalty's rescaling matters: without it the model differs
        unscaled = fit(c * y + d, a1, a2, 2.0 * c)
        assert not np.allclose(unscaled.coef_, c * base.coef_, rtol=1e-4)


def test_regression_targets_keep_their_shape(regression_data):
    X, y = regression_data
    one = LinearRegressor(max_iter=3, random_state=0).fit(X, y)
    column = LinearRegressor(max_iter=3, random_state=0).fit(X, y[:, None])
    assert one.predict(X).shape == (len(X),)
    assert column.predict(X).shape == (len(X), 1)
    np.testing.assert_array_equal(column.predict(X)[:, 0], one.predict(X))
    mlp = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(
        X, y[:, None]
    )
    assert mlp.predict(X).shape == (len(X), 1) and mlp.n_outputs_ == 1


@pytest.mark.parametrize("Estimator", [LinearRegressor, MLPRegressor])
def test_regression_intercept_starts_at_the_weighted_mean(Estimator, multioutput_data):
    """Targets are centred on their weighted mean and the output biases start
    at zero: in the user's units, at the weighted mean of each output."""
    X, Y = multioutput_data
    Y = Y + [100.0, -20.0, 0.0]
    w = _weights(len(X))
    params = {"hidden_layer_sizes": (4,)} if Estimator is MLPRegressor else {}
    est = Estimator(**FROZEN, **params).fit(X, Y, sample_weight=w)
    intercept = est.intercepts_[-1] if Estimator is MLPRegressor else est.intercept_
    mean = np.average(Y, axis=0, weights=w)
    np.testing.assert_allclose(intercept, mean, rtol=0, atol=1e-6 * np.abs(Y).max())
    assert np.abs(mean - Y.mean(axis=0)).max() > 1.0  # the weights matter here
    if Estimator is LinearRegressor:
        np.testing.assert_allclose(est.coef_, 0.0, atol=1e-6)
        uncentred = Estimator(**FROZEN, fit_intercept=False).fit(X, Y, sample_weight=w)
        assert np.array_equal(uncentred.intercept_, np.zeros(3))


# Classification: labels of any kind become class indices, then one output
# (binary: a sigmoid) or one per class (softmax).

BINARY_LABELS = {
    "int": np.array([3, 7]),
    "str": np.array(["no", "yes"]),
    "object": np.array(["cat", "dog"], dtype=object),
    "bool": np.array([False, True]),
    "float": np.array([-1.0, 1.0]),
}


@pytest.mark.parametrize("kind", sorted(BINARY_LABELS))
@pytest.mark.parametrize("Estimator", [LogisticClassifier, MLPClassifier])
def test_binary_labels_of_any_dtype(Estimator, kind, binary_data):
    X, y = binary_data
    labels = BINARY_LABELS[kind]
    params = {"hidden_layer_sizes": (8,)} if Estimator is MLPClassifier else {}
    by_index = Estimator(max_iter=3, random_state=0, **params).fit(X, y)
    est = Estimator(max_iter=3, random_state=0, **params).fit(X, labels[y])
    assert np.array_equal(est.classes_, labels) and est.classes_.dtype == labels.dtype
    out_weights = est.coefs_[-1].T if Estimator is MLPClassifier else est.coef_
    assert out_weights.shape[0] == 1  # one output, a sigmoid's
    _assert_same_parameters(est, by_index)  # the labels only name the two classes
    scores = est.decision_function(X)
    assert scores.shape == (len(X),)
    predicted = est.predict(X)
    assert predicted.dtype == labels.dtype
    assert np.array_equal(predicted, labels[(scores > 0).astype(int)])
    p = expit(scores)
    np.testing.assert_allclose(
        est.predict_proba(X), np.column_stack([1 - p, p]), rtol=1e-12, atol=1e-15
    )
    assert est.score(X, labels[y]) == by_index.score(X, y)


def test_binary_is_one_output_and_multiclass_one_per_class(
    binary_data, multiclass_data
):
    X, y = binary_data
    linear = LogisticClassifier(max_iter=3, random_state=0).fit(X, y)
    mlp = MLPClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    assert linear.coef_.shape == (1, X.shape[1]) and linear.intercept_.shape == (1,)
    assert mlp.coefs_[-1].shape == (8, 1) and mlp.n_outputs_ == 1
    X, y = multiclass_data
    names = np.array(["ant", "bee", "cow", "dog"])
    linear = LogisticClassifier(max_iter=3, random_state=0).fit(X, names[y])
    mlp = MLPClassifier((8,), max_iter=3, random_state=0).fit(X, names[y])
    assert linear.coef_.shape == (4, X.shape[1]) and linear.intercept_.shape == (4,)
    assert mlp.coefs_[-1].shape == (8, 4) and mlp.n_outputs_ == 4
    for est in (linear, mlp):
        assert np.array_equal(est.classes_, names)
        scores = est.decision_function(X)
        assert scores.shape == (len(X), 4)
        assert np.array_equal(est.predict(X), names[scores.argmax(axis=1)])
        np.testing.assert_allclose(
            est.predict_proba(X), softmax(scores, axis=1), rtol=1e-12, atol=1e-15
        )
    raw = mlp_raw_outputs(X, mlp.coefs_, mlp.intercepts_)
    np.testing.assert_allclose(mlp.decision_function(X), raw, rtol=1e-12, atol=1e-12)
    by_index = LogisticClassifier(max_iter=3, random_state=0).fit(X, y)
    _assert_same_parameters(linear, by_index)  # the names only label the classes


def _imbalanced(n_classes, seed=0):
    shares = [0.6, 0.3, 0.1] if n_classes == 3 else [0.8, 0.2]
    return make_classification(
        n_samples=400,
        n_features=8,
        n_informative=5,
        n_classes=n_classes,
        weights=shares,
        random_state=seed,
    )


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("Estimator", [LogisticClassifier, MLPClassifier])
def test_balanced_class_weight_is_a_sample_weight(Estimator, n_classes):
    """class_weight="balanced" weighs each sample n / (n_classes * count of
    its class); a dict multiplies the given sample weights."""
    X, y = _imbalanced(n_classes)
    params = dict(max_iter=5, random_state=0)
    if Estimator is MLPClassifier:
        params["hidden_layer_sizes"] = (8,)
    counts = np.bincount(y)
    assert counts.min() < counts.max() / 2  # the weights are far from equal
    balanced = Estimator(class_weight="balanced", **params).fit(X, y)
    by_hand = Estimator(**params).fit(
        X, y, sample_weight=len(y) / (n_classes * counts[y])
    )
    for ours, theirs in zip(_parameters(balanced), _parameters(by_hand), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    plain = Estimator(**params).fit(X, y)
    assert not np.allclose(_parameters(plain)[0], _parameters(balanced)[0])
    w = _weights(len(y))
    class_weight = {k: 1.0 + k for k in range(n_classes)}
    weighted = Estimator(class_weight=class_weight, **params).fit(X, y, sample_weight=w)
    product = Estimator(**params).fit(X, y, sample_weight=w * (1.0 + y))
    for ours, theirs in zip(_parameters(weighted), _parameters(product), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("Estimator", [LogisticClassifier, MLPClassifier])
def test_partial_fit_takes_its_classes_from_classes(Estimator, multiclass_data):
    X, y = multiclass_data
    names = np.array(["ant", "bee", "cow", "dog"])
    params = {"hidden_layer_sizes": (8,)} if Estimator is MLPClassifier else {}
    est = Estimator(random_state=0, **params)
    first = y != 3  # the first chunk has no "dog"
    est.partial_fit(X[first], names[y[first]], classes=names[[3, 1, 0, 2, 1]])
    assert np.array_equal(est.classes_, names)  # sorted, each once
    assert est.decision_function(X).shape == (len(X), 4)
    assert est.predict_proba(X).shape == (len(X), 4)
    est.partial_fit(X, names[y])  # "dog" is now a known class
    assert np.array_equal(est.classes_, names)
    with pytest.raises(ValueError, match="not in classes_"):
        est.partial_fit(X[:5], np.array(["eel"] * 5))
    # two classes declared, one seen: still a binary model with one output
    binary = Estimator(random_state=0, **params)
    binary.partial_fit(X[y == 0], names[y[y == 0]], classes=names[:2])
    assert np.array_equal(binary.classes_, names[:2])
    assert binary.decision_function(X).shape == (len(X),)
    assert set(binary.predict(X)) <= set(names[:2])


@pytest.mark.parametrize("Estimator", [LogisticClassifier, MLPClassifier])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_intercept_starts_at_the_smoothed_log_odds(Estimator, n_classes):
    """Binary: log((w1 + 1) / (w0 + 1)) of the classes' total weights w0, w1;
    softmax: the centred logarithms of the add-one smoothed class shares."""
    X, y = _imbalanced(n_classes)
    w = _weights(len(y))
    params = {"hidden_layer_sizes": (4,)} if Estimator is MLPClassifier else {}
    est = Estimator(**FROZEN, **params).fit(X, y, sample_weight=w)
    intercept = est.intercepts_[-1] if Estimator is MLPClassifier else est.intercept_
    total = np.bincount(y, weights=w)
    if n_classes == 2:
        expected = [np.log((total[1] + 1) / (total[0] + 1))]
    else:
        prior = np.log((total + 1) / (total.sum() + n_classes))
        expected = prior - prior.mean()
    np.testing.assert_allclose(intercept, expected, rtol=0, atol=1e-6)
    assert np.abs(np.asarray(expected)).max() > 0.5  # far from a zero start
    balanced = Estimator(**FROZEN, class_weight="balanced", **params).fit(X, y)
    intercept = (
        balanced.intercepts_[-1] if Estimator is MLPClassifier else balanced.intercept_
    )
    np.testing.assert_allclose(intercept, 0.0, atol=1e-6)  # equal class weights


def _multilabel(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((300, 6))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 1, X[:, 2] + X[:, 3] > -1]).astype(int)
    return X, Y


def test_multilabel_targets():
    """An indicator matrix: one logistic output per label, labels 0..n-1,
    biases starting at each label's smoothed log-odds."""
    X, Y = _multilabel()
    w = _weights(len(X))
    frozen = MLPClassifier((4,), **FROZEN).fit(X, Y, sample_weight=w)
    positive = w @ Y + 1.0
    np.testing.assert_allclose(
        frozen.intercepts_[-1],
        np.log(positive / (w.sum() + 2.0 - positive)),
        rtol=0,
        atol=1e-6,
    )
    clf = MLPClassifier((8,), max_iter=20, random_state=0).fit(X, Y)
    assert np.array_equal(clf.classes_, np.arange(3)) and clf.n_outputs_ == 3
    raw = mlp_raw_outputs(X, clf.coefs_, clf.intercepts_)
    np.testing.assert_allclose(clf.predict_proba(X), expit(raw), rtol=1e-12, atol=1e-15)
    assert np.array_equal(clf.predict(X), (raw > 0).astype(int))
    with pytest.raises(ValueError, match="class_weight"):
        MLPClassifier((4,), class_weight="balanced", max_iter=1).fit(X, Y)
    with pytest.raises(ValueError, match="multilabel"):
        clf.partial_fit(X, Y[:, 0])
