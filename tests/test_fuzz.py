"""Property-based fuzzing of every public estimator with awkward data.

Each example draws a data set (shape, dtype, memory layout, sparse format,
magnitudes, constant columns, duplicated rows, labels, sample weights) and
hyperparameters, then runs fit, every prediction method, score and
partial_fit. Each call must either succeed, with finite outputs and no
RuntimeWarning, or raise a ValueError or TypeError whose message names one
of the problems put into the data; clean data must always fit. Any other
exception (a Numba typing error, say) fails the test, and a failed
partial_fit must leave the model exactly as it was.
"""

import pickle
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning

from skbigmodel import (
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPEstimator,
    MLPRegressor,
)

# Tiny models and few epochs: each example takes milliseconds.
ESTIMATORS = {
    "LinearRegressor": LinearRegressor(max_iter=3, random_state=0),
    "LogisticClassifier": LogisticClassifier(max_iter=3, random_state=0),
    "MLPClassifier": MLPClassifier((3,), max_iter=3, random_state=0),
    "MLPRegressor": MLPRegressor(hidden_layer_sizes=(3,), max_iter=3, random_state=0),
    "MLPEstimator-classification": MLPEstimator(
        (2, 2), task="classification", max_iter=2, random_state=0
    ),
    "MLPEstimator-regression": MLPEstimator(
        (2,), task="regression", activation="tanh", max_iter=2, random_state=0
    ),
}

# The words an error message may use to name each problem put into the data.
NAMES = {
    "huge": ("infinity", "too large", "diverged", "overflow"),
    "nan": ("nan",),
    "strings": ("convert", "numeric", "string"),
    "one class": ("class",),
    "mixed labels": ("mix", "label"),
    "continuous labels": ("continuous", "label"),
    "multilabel": ("multilabel", "1d array"),
    "zero weights": ("weight",),
    "one row": ("sample",),
    "balanced partial_fit": ("class_weight",),
    "early_stopping partial_fit": ("early_stopping",),
    "class_weight": ("class_weight",),
}

SPARSE = {
    "csr": sp.csr_matrix,
    "csc": sp.csc_matrix,
    "coo": sp.coo_matrix,
    "csr_array": sp.csr_array,
    "csc_array": sp.csc_array,
    "coo_array": sp.coo_array,
}

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is reproducible
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def problems(draw, classification):
    """(X, layout, y, sample_weight, problems): a data set, the problems in it."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    issues = set()
    n_samples = draw(st.sampled_from([7, 1, 20, 2, 3]))
    n_features = draw(st.sampled_from([1, 2, 5, 30]))  # 30: more than the rows
    X = rng.standard_normal((n_samples, n_features))
    if draw(st.booleans()):  # constant columns
        X[:, rng.random(n_features) < 0.5] = draw(st.sampled_from([0.0, 1.0, -7.5]))
    if draw(st.booleans()):  # duplicated rows
        X = X[rng.integers(0, max(1, n_samples // 2), n_samples)]
    scale = draw(st.sampled_from([1.0, 1e-300, 1.0, 1e-30, 1e30, 1.0, 1e300]))
    X = X * scale
    if rng.random() < 0.1:
        X.flat[rng.integers(X.size)] = np.nan
        issues.add("nan")
    dtype = draw(
        st.sampled_from(
            [
                "float64",
                "float32",
                "int",
                "bool",
                "float64",
                "float32",
                "object",
                "strings",
            ]
        )
    )
    X = _with_dtype(X, dtype, rng)
    if dtype == "strings":
        issues.add("strings")
    if dtype != "bool" and scale >= 1e30:
        issues.add("huge")  # overflows float32 or the squares; diverges
    layout = draw(st.sampled_from(["C", "F", "view", "memmap", *SPARSE]))
    if classification:
        y = _labels(draw, rng, n_samples, issues)
    else:
        y = _targets(draw, rng, n_samples, issues)
    sample_weight = None
    if draw(st.booleans()):
        sample_weight = rng.random(n_samples) * (rng.random(n_samples) < 0.7)
        if not sample_weight.sum() > 0:
            issues.add("zero weights")
    return X, layout, y, sample_weight, issues


def _with_dtype(X, dtype, rng):
    if dtype == "int":
        with np.errstate(invalid="ignore"):  # NaN has no integer
            return np.clip(np.nan_to_num(np.round(X)), -(2**62), 2**62).astype(int)
    if dtype == "bool":
        return X > 0
    if dtype == "object":
        return X.astype(object)
    if dtype == "strings":
        X = X.astype(object)
        X.flat[rng.integers(X.size)] = "a"
        return X
    with np.errstate(over="ignore"):  # 1e300 is inf in float32
        return X.astype(dtype)


def _labels(draw, rng, n_samples, issues):
    kind = draw(
        st.sampled_from(
            [
                "int",
                "str",
                "float",
                "int",
                "bool",
                "str",
                "multilabel",
                "mixed",
                "continuous",
            ]
        )
    )
    if kind == "multilabel":  # an indicator matrix of 3 labels
        issues.add("multilabel")  # refused by the linear classifier only
        return (rng.random((n_samples, 3)) < 0.5).astype(int)
    n_classes = draw(st.sampled_from([2, 3, 2, 3, 1]))
    index = rng.integers(0, n_classes, n_samples)
    index[:n_classes] = np.arange(min(n_classes, n_samples))  # each class present
    values = {
        "int": np.array([-1, 4, 9]),
        "str": np.array(["cat", "dog", "eel"]),
        "float": np.array([0.0, 1.0, -2.0]),
        "bool": np.array([False, True, True]),
        "mixed": np.array([1, "b", 2.5], dtype=object),
        "continuous": np.array([0.5, 1.5, -2.25]),  # scikit-learn refuses these
    }[kind]
    y = values[index]
    if np.unique(y.astype(str)).size < 2:
        issues.add("one class")
    if kind == "mixed" and len({type(v) for v in y}) > 1:
        issues.add("mixed labels")
    if kind == "continuous":
        issues.add("continuous labels")
    return y


def _targets(draw, rng, n_samples, issues):
    n_outputs = draw(st.sampled_from([0, 1, 3]))  # 0: a 1-D target
    y = rng.standard_normal((n_samples, max(1, n_outputs)))
    y = y[:, 0] if n_outputs == 0 else y
    scale = draw(st.sampled_from([1.0, 1e-300, 1.0, 1e30, 1.0, 1e300]))
    if scale > 1:
        issues.add("huge")
    if draw(st.booleans()):
        y = np.round(y * 3).astype(np.int64)
    if rng.random() < 0.1:
        y = y.astype(float)
        y.flat[0] = np.nan
        issues.add("nan")
    return y * scale


def hyperparameters(classification):
    """Solver, penalty, batch size, early stopping and class weights."""
    params = {
        "solver": st.sampled_from(["adam", "sgd", "rmsprop"]),
        "penalty": st.sampled_from(["l2", "l1", "elasticnet", None]),
        "batch_size": st.sampled_from(["auto", 1, 4]),
        "early_stopping": st.booleans(),
    }
    if classification:
        params["class_weight"] = st.sampled_from([None, "balanced"])
    return st.fixed_dictionaries(params)


def _layout(X, layout, folder):
    """X in the drawn memory layout or sparse format."""
    if layout in SPARSE:
        if X.dtype == object:
            return X  # scipy.sparse has no object dtype
        return SPARSE[layout](X)
    if layout == "F":
        return np.asfortranarray(X)
    if layout == "view":  # a non-contiguous view of a larger array
        return np.repeat(X, 2, axis=1)[:, ::2]
    if layout == "memmap" and X.dtype != object:
        path = Path(folder) / "X.dat"
        mapped = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
        mapped[:] = X
        mapped.flush()
        return np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)
    return np.ascontiguousarray(X)


def _call(issues, method, *args, **kwargs):
    """Run a call; return (True, result), or (False, exception) for a clear error.

    A call that succeeds must do so without a RuntimeWarning (an overflow or
    an invalid value on the way); one that fails may warn first, as
    scikit-learn's finiteness check does on data holding inf and -inf.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            result = method(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        assert type(exc).__module__.split(".")[0] != "numba", repr(exc)
        message = str(exc).lower()
        words = [word for issue in issues for word in NAMES[issue]]
        assert any(word in message for word in words), (
            f"{method.__name__} raised {exc!r} but the data had only {issues}"
        )
        return False, exc
    numerical = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not numerical, f"{method.__name__} warned: {numerical[0].message}"
    return True, result


def _check_fitted(est, X, y, issues):
    """Finite parameters; each prediction method works with finite outputs."""
    params = (
        est.coefs_ + est.intercepts_
        if hasattr(est, "coefs_")
        else [est.coef_, est.intercept_]
    )
    assert all(np.isfinite(p).all() for p in params)
    methods = ["predict"]
    if is_classifier(est):
        methods += ["predict_proba", "predict_log_proba", "decision_function"]
    for method in methods:
        done, out = _call(issues, getattr(est, method), X)
        assert done or issues, f"{method} must work on clean data"
        if not done:
            continue
        assert out.shape[0] == len(y)
        if method == "predict" and is_classifier(est):
            assert np.isin(out, est.classes_).all()
        else:
            assert np.isfinite(out).all()
        if method == "predict_proba" and out.ndim == 2 and y.ndim == 1:
            np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    if len(y) > 1 and "huge" not in issues:  # R^2 squares huge targets
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)  # 1 row
            done, score = _call(issues, est.score, X, y)
        assert done and np.isfinite(score)


def _classes(y):
    if y.ndim == 2:
        return np.arange(y.shape[1])
    try:
        return np.unique(y)
    except TypeError:  # labels of mixed types cannot be sorted
        return np.array(list(dict.fromkeys(y.tolist())), dtype=object)


@pytest.mark.parametrize("name", list(ESTIMATORS))
@given(data=st.data())
@FUZZ
def test_every_call_succeeds_or_names_the_problem(name, data):
    template = ESTIMATORS[name]
    classification = is_classifier(template)
    X, layout, y, sample_weight, issues = data.draw(problems(classification))
    params = data.draw(hyperparameters(classification))
    if "multilabel" in issues and params.get("class_weight"):
        issues.add("class_weight")  # needs single-label classes
    if name != "LogisticClassifier":
        issues.discard("multilabel")  # the MLPs fit indicator matrices
    if len(y) == 1 and params["early_stopping"]:
        issues.add("one row")  # nothing left to hold out
    if params["early_stopping"] and sample_weight is not None:
        issues.add("zero weights")  # the training rows' weights may sum to 0
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        X = _layout(X, layout, folder)
        est = clone(template).set_params(**params)
        fitted, _ = _call(issues, est.fit, X, y, sample_weight=sample_weight)
        event(f"fit {'succeeded' if fitted else 'refused'} {sorted(issues)}")
        assert fitted or issues, "clean data must fit"
        # partial_fit cannot know the class frequencies "balanced" needs,
        # nor hold out a validation set (refused as in scikit-learn)
        later = issues | {"balanced partial_fit"} if classification else issues
        if params["early_stopping"]:
            later = later | {"early_stopping partial_fit"}
        if fitted:
            _check_fitted(est, X, y, issues)
            before = pickle.dumps(est.__dict__)
            updated, _ = _call(
                later, est.partial_fit, X, y, sample_weight=sample_weight
            )
            if updated:
                _check_fitted(est, X, y, issues)
            else:  # a failed partial_fit leaves the model as it was
                assert pickle.dumps(est.__dict__) == before
        first = clone(est)  # partial_fit from scratch
        classes = {"classes": _classes(y)} if classification else {}
        started, _ = _call(
            later, first.partial_fit, X, y, sample_weight=sample_weight, **classes
        )
        if not (issues or params.get("class_weight") or params["early_stopping"]):
            assert started, "clean data must be accepted by partial_fit"
        if started:
            _check_fitted(first, X, y, issues)


# Regressions: the bugs the fuzzer found, one focused test each.


def test_huge_targets_fit_or_are_refused_clearly(regression_data):
    """The targets' spread was squared before scaling: y ~ 1e160 overflowed."""
    X, y = regression_data
    reg = LinearRegressor(max_iter=20, random_state=0)
    small = clone(reg).fit(X, y).predict(X)
    huge = reg.fit(X, y * 1e140).predict(X)
    np.testing.assert_allclose(huge / 1e140, small, rtol=1e-6)
    with pytest.raises(ValueError, match="too large"):
        reg.fit(X, y * 1e300)
    with pytest.raises(ValueError, match="too large for float32"):
        reg.fit(X.astype(np.float32), y * 1e100)  # parameters would be inf


def test_overflowing_predictions_raise(regression_data):
    """Features far beyond those of training gave inf predictions, warning."""
    X, y = regression_data
    reg = LinearRegressor(max_iter=5, random_state=0).fit(X.astype(np.float32), y)
    assert np.abs(reg.coef_).sum() > 4  # so that the product below exceeds 3.4e38
    far = np.sign(reg.coef_[None, :]) * np.float32(1e38)  # a finite float32 X
    with pytest.raises(ValueError, match="overflow float32"):
        reg.predict(far)


def test_balanced_class_weight_with_a_class_of_zero_weight(binary_data):
    """'balanced' gave such a class an infinite weight, and 0 * inf = NaN."""
    X, y = binary_data
    y = np.where(np.arange(len(y)) < 3, 2, y)  # a third class, weighing nothing
    sample_weight = np.where(y == 2, 0.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        clf = LogisticClassifier(
            class_weight="balanced", max_iter=20, tol=0.0, random_state=0
        )
        clf.fit(X, y, sample_weight=sample_weight)
    assert np.isfinite(clf.coef_).all() and np.isfinite(clf.predict_proba(X)).all()
    assert clf.score(X[y < 2], y[y < 2]) > 0.7


def test_early_stopping_on_overflowing_predictions_is_divergence(regression_data):
    """The validation R^2 of huge predictions overflowed to -inf, warning."""
    X, y = regression_data
    reg = LinearRegressor(solver="sgd", early_stopping=True, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="diverged"):
            reg.fit(X * 1e30, y)
