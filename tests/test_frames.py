"""pandas and polars DataFrames: feature names, their checks, and DataFrame pipelines.

test_integration.py checks that a LinearRegressor keeps the names of a
DataFrame and predicts from it as from the array; this file covers every
estimator, the checks on later calls, and pipelines whose steps pass
DataFrames along (``set_output``).
"""

import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.base import clone, is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skbigmodel import (
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPEstimator,
    MLPRegressor,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FIT = dict(batch_size=32, max_iter=30, random_state=0)
MLP = dict(learning_rate_init=0.01, **FIT)
ESTIMATORS = [
    LogisticClassifier(**FIT),
    LinearRegressor(**FIT),
    MLPClassifier((16,), **MLP),
    MLPRegressor(hidden_layer_sizes=(16,), **MLP),
    MLPEstimator((16,), task="regression", **MLP),
]
IDS = ["logistic", "linear", "mlp-classifier", "mlp-regressor", "mlp-estimator"]
NUMERIC = ["age", "income", "height", "score"]


@pytest.fixture(scope="module")
def table():
    """Four numeric columns, one categorical, and a target of each kind."""
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame(rng.standard_normal((n, len(NUMERIC))), columns=NUMERIC)
    frame["colour"] = pd.Categorical(rng.choice(["red", "green", "blue"], n))
    effect = frame["colour"].map({"red": -1.0, "green": 0.0, "blue": 1.5}).to_numpy()
    value = 3 * frame["age"] - 2 * frame["income"] + 2 * effect
    value = value.to_numpy() + 0.1 * rng.standard_normal(n)
    labels = np.digitize(value, np.quantile(value, [1 / 3, 2 / 3]))
    return frame, {"regression": 10 * value + 50, "classification": labels}


def _target(est, table):
    return table[1]["classification" if is_classifier(est) else "regression"]


def _frame(library, frame):
    """The pandas DataFrame ``frame`` in ``library``; arrays stay arrays."""
    if library == "polars" and isinstance(frame, pd.DataFrame):
        return pl.from_pandas(frame)
    return frame


def _fit_kwargs(est, y):
    return {"classes": np.unique(y)} if is_classifier(est) else {}


@pytest.mark.parametrize("library", ["pandas", "polars"])
@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_feature_names_from_fit_and_partial_fit(est, library, table):
    X = _frame(library, table[0][NUMERIC])
    y = _target(est, table)
    fitted = clone(est).fit(X, y)
    assert list(fitted.feature_names_in_) == NUMERIC
    assert fitted.n_features_in_ == len(NUMERIC)
    incremental = clone(est).partial_fit(X, y, **_fit_kwargs(est, y))
    assert list(incremental.feature_names_in_) == NUMERIC
    array = table[0][NUMERIC].to_numpy()
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = fitted.predict(array)
    assert np.array_equal(fitted.predict(X), from_array)
    assert not hasattr(clone(est).fit(array, y), "feature_names_in_")


def _reference(est):
    """The scikit-learn estimator ours replaces, for the expected behaviour."""
    return SGDClassifier(max_iter=5) if is_classifier(est) else SGDRegressor(max_iter=5)


def _behaviour(est, call):
    """What ``call(est)`` does: its error or its warnings, with the class name
    replaced so that ours and scikit-learn's compare."""
    name = type(est).__name__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call(est)
            error = None
        except ValueError as exc:
            error = str(exc).replace(name, "<estimator>")
    messages = [
        str(w.message).replace(name, "<estimator>")
        for w in caught
        if "feature names" in str(w.message)
    ]
    return error, messages


def _renamed(frame):
    return frame.rename(columns={"score": "points"})


def _reordered(frame):
    return frame[["income", "age", "height", "score"]]


def _unnamed(frame):
    return frame.to_numpy()


@pytest.mark.parametrize("library", ["pandas", "polars"])
@pytest.mark.parametrize("change", [_renamed, _reordered, _unnamed])
@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_changed_columns_are_checked_as_scikit_learn_does(est, change, library, table):
    frame = table[0][NUMERIC]
    y = _target(est, table)
    X, X_changed = _frame(library, frame), _frame(library, change(frame))
    outcomes = []
    for model in (clone(est), _reference(est)):
        model.fit(X, y)
        calls = [
            lambda m: m.predict(X_changed),
            lambda m: m.score(X_changed, y),
            lambda m: m.partial_fit(X_changed, y),
        ]
        outcomes.append([_behaviour(model, call) for call in calls])
    ours, sklearns = outcomes
    assert ours == sklearns
    if change is _unnamed:
        assert all(error is None and messages for error, messages in ours)
    else:
        assert all("feature names should match" in error for error, _ in ours)


def test_array_fit_then_frame_warns_as_scikit_learn_does(table):
    frame = table[0][NUMERIC]
    y = _target(LogisticClassifier(), table)
    behaviours = []
    for model in (LogisticClassifier(max_iter=5), SGDClassifier(max_iter=5)):
        model.fit(frame.to_numpy(), y)
        behaviours.append(_behaviour(model, lambda m: m.predict(frame)))
    assert behaviours[0] == behaviours[1]
    assert behaviours[0][1] == [
        "X has feature names, but <estimator> was fitted without feature names"
    ]


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_validation_set_columns_are_checked(library, table):
    frame = table[0][NUMERIC]
    y = _target(LinearRegressor(), table)
    X = _frame(library, frame)
    est = LinearRegressor(early_stopping=True, max_iter=5, random_state=0)
    with pytest.raises(ValueError, match="feature names should match"):
        est.fit(X, y, X_val=_frame(library, _reordered(frame)), y_val=y)
    est.fit(X, y, X_val=X, y_val=y)
    assert len(est.validation_scores_) == est.n_iter_


def _preprocessing(categorical):
    if not categorical:
        return StandardScaler()
    return ColumnTransformer(
        [
            ("scale", StandardScaler(), NUMERIC),
            ("encode", OneHotEncoder(sparse_output=False), ["colour"]),
        ]
    )


def _predictions(model, X):
    out = {"predict": model.predict(X)}
    if hasattr(model, "predict_proba"):
        out["predict_proba"] = model.predict_proba(X)
    return out


@pytest.mark.parametrize("library", ["pandas", "polars"])
@pytest.mark.parametrize(
    "categorical", [False, True], ids=["scaler", "column-transformer"]
)
@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_dataframe_pipeline_matches_arrays(est, categorical, library, table):
    """Steps that pass DataFrames along train the same model as arrays do."""
    frame = table[0] if categorical else table[0][NUMERIC]
    y = _target(est, table)
    X = _frame(library, frame)
    framed = make_pipeline(_preprocessing(categorical), clone(est))
    framed.set_output(transform=library).fit(X, y)
    reference = make_pipeline(_preprocessing(categorical), clone(est)).fit(X, y)
    inner = framed[0].transform(X)
    assert isinstance(inner, pd.DataFrame if library == "pandas" else pl.DataFrame)
    names = framed[0].get_feature_names_out()
    assert list(framed[-1].feature_names_in_) == list(names)
    if categorical:
        assert "encode__colour_blue" in names
    ours, theirs = framed[-1], reference[-1]
    if hasattr(theirs, "coefs_"):
        pairs = zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_)
    else:
        pairs = [(ours.coef_, theirs.coef_), (ours.intercept_, theirs.intercept_)]
    assert all(np.array_equal(a, b) for a, b in pairs)  # the same model, bit for bit
    # Predictions agree to rounding only: a DataFrame's array is in Fortran
    # order, and BLAS sums a product in another order than for C order.
    expected = _predictions(reference, X)
    for method, output in _predictions(framed, X).items():
        np.testing.assert_allclose(output, expected[method], rtol=1e-12, atol=1e-12)
    score = framed.score(X, y)
    assert score > 0.5, score  # chance: 1/3, or an R^2 of 0
