"""ONNX export: onnxruntime's outputs against predict and predict_proba."""

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import pytest
import scipy.sparse as sp
from onnxruntime.quantization import quantize_dynamic
from scipy.special import ndtr
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbigmodel import (
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPEstimator,
    MLPRegressor,
)
from skbigmodel.onnx import to_onnx

from ._helpers import sparse_classification

# Small models trained for a few epochs: they do not converge, on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DTYPES = [np.float32, np.float64]
ATOL = {np.float32: 1e-5, np.float64: 1e-12}
ACTIVATIONS = ["relu", "leaky_relu", "gelu", "silu", "tanh", "logistic", "identity"]


def run(onx, X):
    session = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {"X": X})


def check_classifier(model, X, dtype, **kwargs):
    """Labels equal to predict, probabilities close to predict_proba."""
    X = np.asarray(X, dtype=dtype)
    label, proba = run(to_onnx(model, X, **kwargs), X)
    assert proba.dtype == dtype
    np.testing.assert_array_equal(label, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=ATOL[dtype])
    return label, proba


def check_regressor(model, X, dtype):
    X = np.asarray(X, dtype=dtype)
    (values,) = run(to_onnx(model, X), X)
    expected = model.predict(X)
    assert values.dtype == dtype
    assert values.shape == (X.shape[0], 1 if expected.ndim == 1 else expected.shape[1])
    scale = np.abs(expected).max()
    np.testing.assert_allclose(
        values.reshape(expected.shape), expected, rtol=0, atol=ATOL[dtype] * scale
    )


# Every activation in float32, the dtype models are served in, and the two
# whose graph depends on the dtype (GELU's opset, LeakyRelu's float32 alpha)
# in float64 too: each (activation, dtype) compiles the MLP kernel again, and
# tests/test_registries.py checks every activation's graph in both dtypes.
ACTIVATION_CASES = [(name, np.float32) for name in ACTIVATIONS] + [
    ("gelu", np.float64),
    ("leaky_relu", np.float64),
]


@pytest.mark.parametrize("activation, dtype", ACTIVATION_CASES)
def test_every_activation(activation, dtype, multiclass_data):
    X, y = multiclass_data
    X = X.astype(dtype)
    clf = MLPClassifier((10, 6), activation=activation, max_iter=3, random_state=0)
    clf.fit(X, y)
    # scaled rows push the pre-activations far into every branch
    label, proba = check_classifier(clf, np.vstack([X, 4 * X]), dtype)
    assert proba.shape == (2 * X.shape[0], 4) and label.shape == (2 * X.shape[0],)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opset", [15, None])  # Erf before opset 20, then Gelu
def test_gelu_over_a_wide_range(opset, dtype):
    """One unit with weights 1: the network's output is gelu(x) itself."""
    X = np.linspace(-3, 3, 50, dtype=dtype).reshape(-1, 1)
    reg = MLPRegressor(
        hidden_layer_sizes=(1,), activation="gelu", max_iter=2, random_state=0
    )
    reg.fit(X, X.ravel())
    reg.coefs_ = [np.ones((1, 1), dtype=dtype), np.ones((1, 1), dtype=dtype)]
    reg.intercepts_ = [np.zeros(1, dtype=dtype), np.zeros(1, dtype=dtype)]
    # both sides of |x| = 1 (erf) and of 8 sqrt(2) (erfc clipped), and far out
    grid = np.concatenate([np.linspace(-40, 40, 4001), [-1.0, 1.0, 1e30, -1e30]])
    grid = grid.astype(dtype).reshape(-1, 1)
    (values,) = run(to_onnx(reg, grid, target_opset=opset), grid)
    x = grid.ravel().astype(np.float64)
    exact = x * ndtr(x)
    tolerance = 1e-6 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(
        values.ravel(), reg.predict(grid), rtol=tolerance, atol=tolerance
    )
    np.testing.assert_allclose(values.ravel(), exact, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_models(
    dtype, binary_data, multiclass_data, regression_data, multioutput_data
):
    for X, y in (binary_data, multiclass_data):
        clf = LogisticClassifier(max_iter=5, random_state=0).fit(X.astype(dtype), y)
        check_classifier(clf, X, dtype)
    for X, y in (regression_data, multioutput_data):
        reg = LinearRegressor(max_iter=5, random_state=0).fit(X.astype(dtype), y)
        check_regressor(reg, X, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlps_of_both_tasks(dtype, binary_data, regression_data, multioutput_data):
    X, y = binary_data
    clf = MLPEstimator((8,), task="classification", max_iter=5, random_state=0)
    label, proba = check_classifier(clf.fit(X.astype(dtype), y), X, dtype)
    assert proba.shape == (X.shape[0], 2)
    for X, y in (regression_data, multioutput_data):
        mlp = MLPEstimator((8, 4), task="regression", max_iter=5, random_state=0)
        for reg in (
            MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
            mlp,
        ):
            check_regressor(reg.fit(X.astype(dtype), y), X, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multilabel(dtype, multiclass_data):
    X, y = multiclass_data
    Y = np.column_stack([y == 0, y >= 2, X[:, 0] > 0]).astype(np.int64)
    clf = MLPClassifier((8,), max_iter=5, random_state=0).fit(X.astype(dtype), Y)
    label, proba = check_classifier(clf, X, dtype)
    assert label.shape == Y.shape and label.dtype == np.int64
    np.testing.assert_array_equal(label, proba > 0.5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pipeline_with_a_scaler(dtype, multiclass_data, regression_data):
    X, y = multiclass_data
    X = 100 * X + 50  # the scaler has work to do
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier((8,), max_iter=5, random_state=0)
    )
    pipe.fit(X.astype(dtype), y)
    onx = to_onnx(pipe, X.astype(dtype))
    # the probabilities are a plain tensor, not skl2onnx's ZipMap
    assert [output.name for output in onx.graph.output] == ["label", "probabilities"]
    check_classifier(pipe, X, dtype)
    X, y = regression_data
    pipe = make_pipeline(StandardScaler(), LinearRegressor(max_iter=5, random_state=0))
    check_regressor(pipe.fit(X.astype(dtype), y), X, dtype)


def test_string_class_labels(binary_data, multiclass_data):
    names = np.array(["ant", "bee", "cat", "dog"])
    for X, y in (binary_data, multiclass_data):
        for clf in (
            LogisticClassifier(max_iter=5, random_state=0),
            MLPClassifier((8,), max_iter=5, random_state=0),
        ):
            clf.fit(X, names[y])
            label, _ = check_classifier(clf, X, np.float32)
            assert set(label) <= set(names)


def test_model_trained_on_sparse_data():
    X, y = sparse_classification()
    clf = LogisticClassifier(penalty="l1", alpha=1e-3, max_iter=5, random_state=0)
    clf.fit(X, y)
    dense = X.toarray()
    label, proba = run(to_onnx(clf, X), dense)  # the graph takes dense rows
    np.testing.assert_array_equal(label, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=ATOL[np.float64])
    clf.sparsify()  # a sparse coef_ exports the same way
    assert sp.issparse(clf.coef_)
    np.testing.assert_allclose(run(to_onnx(clf, dense), dense)[1], proba, atol=1e-15)
    mlp = MLPClassifier((8,), max_iter=3, random_state=0).fit(X.astype(np.float32), y)
    check_classifier(mlp, dense, np.float32)


def test_graph_dtype_follows_X(binary_data):
    X, y = binary_data
    clf = LogisticClassifier(max_iter=5, random_state=0).fit(X, y)  # float64 model
    float32, double = onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE
    samples = [
        (X.astype(np.float32), float32),
        (X, double),
        (np.rint(X).astype(np.int64), double),
        (pd.DataFrame(X.astype(np.float32)), float32),
    ]
    for sample, expected in samples:
        onx = to_onnx(clf, sample)
        assert onx.graph.input[0].type.tensor_type.elem_type == expected
        assert onx.graph.output[1].type.tensor_type.elem_type == expected
    check_classifier(clf, X, np.float32)  # a float64 model in a float32 graph


def test_zipmap_on_request(multiclass_data):
    X, y = multiclass_data
    X = X.astype(np.float32)
    clf = LogisticClassifier(max_iter=5, random_state=0).fit(X, y)
    onx = to_onnx(clf, X, options={id(clf): {"zipmap": True}})
    label, dicts = run(onx, X[:5])
    np.testing.assert_array_equal(label, clf.predict(X[:5]))
    proba = np.array([[row[c] for c in clf.classes_] for row in dicts])
    np.testing.assert_allclose(proba, clf.predict_proba(X[:5]), atol=1e-5)
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    multilabel = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, Y)
    with pytest.raises(ValueError, match="multilabel"):
        to_onnx(multilabel, X, options={id(multilabel): {"zipmap": True}})


def test_bad_input(binary_data):
    X, y = binary_data
    with pytest.raises(NotFittedError):
        to_onnx(LogisticClassifier(), X)
    clf = LogisticClassifier(max_iter=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        to_onnx(clf, X[:, :3])
    with pytest.raises(ValueError, match="2-D"):
        to_onnx(clf, X[0])


@pytest.mark.parametrize("scaled", [False, True])
def test_dynamic_int8_quantisation_keeps_accuracy(scaled, tmp_path):
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, random_state=0, stratify=y
    )
    model = MLPClassifier((64,), max_iter=40, random_state=0)
    if scaled:  # quantisation needs the type of the scaler's output
        model = make_pipeline(StandardScaler(), model)
    accuracy = model.fit(X_train, y_train).score(X_test, y_test)
    assert accuracy > 0.9
    onnx.save(to_onnx(model, X_train), tmp_path / "float.onnx")
    quantize_dynamic(tmp_path / "float.onnx", tmp_path / "int8.onnx")
    quantized = onnx.load(tmp_path / "int8.onnx")
    assert "MatMulInteger" in {node.op_type for node in quantized.graph.node}
    label, _ = run(quantized, X_test)
    assert abs(np.mean(label == y_test) - accuracy) <= 0.01
