"""Persistence: skops via skbigmodel.io (only our types trusted), pickle, joblib."""

import io
import pickle
import re

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import skops.io as sio
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.callback import ScoringMonitor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skbigmodel import (
    LinearClassifier,
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPEstimator,
    MLPRegressor,
)
from skbigmodel.io import dump, load, trusted_types

from ._helpers import sparse_classification

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FIT = dict(max_iter=5, random_state=0)
# name: (estimator, data fixture or "sparse"); a name ending in "float32" fits
# on float32 data, one ending in "sparsified" calls sparsify() after fit.
CASES = {
    "logistic": (LogisticClassifier(**FIT), "multiclass_data"),
    "logistic-float32": (LogisticClassifier(**FIT), "binary_data"),
    "logistic-sparse-fitted": (LogisticClassifier(penalty="l1", **FIT), "sparse"),
    "logistic-sparsified": (LogisticClassifier(penalty="l1", **FIT), "multiclass_data"),
    "svm-averaged": (
        LinearClassifier(solver="sgd", momentum=0.0, average=True, **FIT),
        "multiclass_data",
    ),
    "svm-averaged-sparse-fitted": (
        LinearClassifier(
            "modified_huber", solver="sgd", momentum=0.0, average=5, **FIT
        ),
        "sparse",
    ),
    "linear": (LinearRegressor(**FIT), "regression_data"),
    "linear-multioutput-float32": (LinearRegressor(**FIT), "multioutput_data"),
    "mlp-classifier": (MLPClassifier((8,), **FIT), "multiclass_data"),
    "mlp-classifier-sparse-fitted": (MLPClassifier((8,), **FIT), "sparse"),
    "mlp-regressor-float32": (
        MLPRegressor(hidden_layer_sizes=(8, 4), **FIT),
        "regression_data",
    ),
    "mlp-multioutput": (
        MLPEstimator((8,), task="regression", **FIT),
        "multioutput_data",
    ),
}


def _fitted(name, request):
    template, data = CASES[name]
    if data == "sparse":
        X, y = sparse_classification(n_samples=300, n_features=50)
    else:
        X, y = request.getfixturevalue(data)
    X = X.astype(np.float32 if name.endswith("float32") else np.float64)
    est = clone(template).fit(X, y)
    if name.endswith("sparsified"):
        est.sparsify()
        assert sp.issparse(est.coef_)
    return est, X, y


def _round_trip(obj, how, tmp_path):
    path = tmp_path / f"model.{how}"
    if how == "skops":
        dump(obj, path)
        return load(path)
    if how == "joblib":
        joblib.dump(obj, path)
        return joblib.load(path)
    return pickle.loads(pickle.dumps(obj))


def _outputs(est, X):
    """Everything the estimator computes from X, by method name."""
    methods = ["predict", "predict_proba", "predict_log_proba", "decision_function"]
    return {m: getattr(est, m)(X) for m in methods if hasattr(est, m)}


def _parameters(est):
    if hasattr(est, "coefs_"):
        return est.coefs_ + est.intercepts_
    coef = est.coef_.toarray() if sp.issparse(est.coef_) else est.coef_
    return [coef, est.intercept_]


def _assert_same_model(loaded, est, X):
    assert type(loaded) is type(est)
    assert loaded.get_params() == est.get_params()
    for ours, theirs in zip(_parameters(loaded), _parameters(est), strict=True):
        assert ours.dtype == theirs.dtype
        assert np.array_equal(ours, theirs)
    expected = _outputs(est, X)
    assert expected.keys() == _outputs(loaded, X).keys()
    for method, output in _outputs(loaded, X).items():
        assert np.array_equal(output, expected[method]), method


@pytest.mark.parametrize("how", ["skops", "pickle", "joblib"])
@pytest.mark.parametrize("name", list(CASES))
def test_fitted_round_trip_is_exact(name, how, request, tmp_path):
    est, X, y = _fitted(name, request)
    loaded = _round_trip(est, how, tmp_path)
    _assert_same_model(loaded, est, X)
    for attr in ("n_iter_", "t_", "loss_curve_", "n_features_in_"):
        assert getattr(loaded, attr) == getattr(est, attr)
    # The optimiser state travels too: training goes on identically.
    loaded.partial_fit(X, y)
    est.partial_fit(X, y)
    _assert_same_model(loaded, est, X)


def test_skops_trusts_exactly_what_fitted_estimators_carry(request):
    carried = set()
    for name in CASES:
        est, _, _ = _fitted(name, request)
        carried.update(sio.get_untrusted_types(data=sio.dumps(est)))
    assert carried == set(trusted_types())


@pytest.mark.parametrize("how", ["skops", "pickle", "joblib"])
def test_pipeline_round_trip(how, multiclass_data, tmp_path):
    X, y = multiclass_data
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier((8,), max_iter=5, random_state=0)
    )
    pipe.fit(X, y)
    loaded = _round_trip(pipe, how, tmp_path)
    assert np.array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    _assert_same_model(loaded[-1], pipe[-1], StandardScaler().fit(X).transform(X))


@pytest.mark.parametrize("name", list(CASES))
def test_unfitted_round_trip(name, request, tmp_path):
    template = clone(CASES[name][0]).set_params(alpha=0.01, batch_size=16)
    loaded = _round_trip(template, "skops", tmp_path)
    assert type(loaded) is type(template)
    assert loaded.get_params() == template.get_params()
    assert not hasattr(loaded, "n_iter_")
    _, X, y = _fitted(name, request)
    _assert_same_model(loaded.fit(X, y), clone(template).fit(X, y), X)


def double(X):
    return 2 * X


class Doubler(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return 2 * X


class MyClassifier(LogisticClassifier):
    """A subclass is another type: not trusted either."""


@pytest.mark.parametrize(
    "make, foreign",
    [
        (
            lambda: make_pipeline(FunctionTransformer(double), LogisticClassifier()),
            double,
        ),
        (lambda: make_pipeline(Doubler(), LogisticClassifier()), Doubler),
        (lambda: MyClassifier(), MyClassifier),
    ],
    ids=["function", "class", "subclass"],
)
def test_foreign_types_are_refused(make, foreign, binary_data, tmp_path):
    X, y = binary_data
    model = make().fit(X, y)
    name = f"{foreign.__module__}.{foreign.__qualname__}"
    path = tmp_path / "model.skops"
    sio.dump(model, path)  # as anyone could write it
    with pytest.raises(TypeError, match=re.escape(f"does not trust: ['{name}']")):
        load(path)
    with pytest.raises(TypeError, match=re.escape(name)):
        load(io.BytesIO(path.read_bytes()))  # a file object too


def test_callbacks_are_refused_with_a_hint(binary_data, tmp_path):
    """scikit-learn's callbacks are not among skops' trusted types."""
    X, y = binary_data
    clf = LogisticClassifier(max_iter=2, random_state=0)
    clf.set_callbacks(ScoringMonitor(scoring="accuracy")).fit(X, y)
    dump(clf, tmp_path / "with.skops")
    with pytest.raises(TypeError, match=r"ScoringMonitor.*set_callbacks\(\) with no"):
        load(tmp_path / "with.skops")
    dump(clf.set_callbacks(), tmp_path / "without.skops")
    assert np.array_equal(load(tmp_path / "without.skops").coef_, clf.coef_)


def test_damaged_network_is_refused(multiclass_data, tmp_path):
    """A network whose shapes lie would send partial_fit's kernels out of bounds."""
    X, y = multiclass_data
    clf = MLPClassifier((8,), max_iter=2, random_state=0).fit(X, y)
    clf._network.sizes[1] = 9  # offsets and parameters no longer fit the sizes
    dump(clf, tmp_path / "sizes.skops")
    with pytest.raises(ValueError, match="inconsistent fitted state"):
        load(tmp_path / "sizes.skops")
    linear = LogisticClassifier(max_iter=2, random_state=0).fit(X, y)
    linear._opt_state.m = linear._opt_state.m[:-1]
    dump(make_pipeline(StandardScaler(), linear), tmp_path / "state.skops")
    with pytest.raises(ValueError, match="optimiser moments"):
        load(tmp_path / "state.skops")


def test_out_of_range_sparse_coef_is_refused(multiclass_data, tmp_path):
    """scipy builds such a CSR matrix without a word and reads out of bounds."""
    X, y = multiclass_data
    clf = LogisticClassifier(max_iter=2, random_state=0).fit(X, y).sparsify()
    clf.coef_.indices[0] = X.shape[1] + 100
    dump(clf, tmp_path / "model.skops")
    with pytest.raises(ValueError, match="invalid sparse matrix"):
        load(tmp_path / "model.skops")
