"""Export fitted estimators and pipelines to ONNX, through skl2onnx.

Each estimator gets a skl2onnx parser, shape calculator and converter, so
that it converts on its own or as a step of a scikit-learn ``Pipeline``.
The graph is built from plain ONNX operators (MatMul, Add, activations,
Softmax, ArgMax, Gather, and Exp for a Poisson regressor) out of the fitted attributes, in the dtype of the
sample ``X``: float32 for a float32 ``X``, double otherwise.

Outputs follow skl2onnx's names. Classifiers give ``label``, of shape
(n_samples,) (or (n_samples, n_classes) of 0/1 for multilabel models), and
``probabilities`` as a plain tensor (n_samples, n_classes) (for the losses
without probabilities, hinge and others, the scores of
``decision_function``, one column per class, as skl2onnx gives for
``SGDClassifier``); regressors give ``variable``, (n_samples, n_outputs).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from ._linear import LinearClassifier, LinearRegressor, LogisticClassifier
from ._losses import LINKS
from ._mlp import MLPClassifier, MLPEstimator, MLPRegressor
from ._quantize import check_quantize
from ._quantize import quantize as quantize_graph

__all__ = ["register_converters", "to_onnx"]

_ESTIMATORS = (
    LinearRegressor,
    LinearClassifier,
    LogisticClassifier,
    MLPClassifier,
    MLPRegressor,
    MLPEstimator,
)
# "nocl" only because skl2onnx's ZipMap step asks for it.
_OPTIONS = {"zipmap": [False, True, "columns"], "nocl": [False]}
GELU_OPSET = 20  # first opset with a Gelu operator

# Cephes' rational approximations of erf (|x| <= 1, T/U) and erfc (1 < x < 8,
# P/Q), the ones scipy.special.erf evaluates: onnxruntime has no double
# kernel for Erf (nor Gelu), so a double graph computes erf from these.
_ERF_T = [
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
]
_ERF_U = [
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
]
_ERFC_P = [
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
]
_ERFC_Q = [
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
]
# erfc(8) < 1e-28: beyond, 1 - erfc(x) is 1 in double.
_ERFC_CLIP = 8.0

_registered = False


def _import_skl2onnx():
    try:
        import skl2onnx
    except ImportError as error:
        raise ImportError(
            "ONNX export needs skl2onnx, onnx and onnxruntime: "
            'pip install "skbigmodel[onnx]"'
        ) from error
    return skl2onnx


def register_converters():
    """Register skl2onnx converters for every skbigmodel estimator.

    :func:`to_onnx` calls it; call it yourself to convert with
    ``skl2onnx.convert_sklearn`` or ``skl2onnx.to_onnx`` directly. Calling
    it again does nothing.

    See Also
    --------
    to_onnx : convert an estimator or a pipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from skl2onnx import to_onnx as skl2onnx_to_onnx
    >>> from skbigmodel import LinearRegressor
    >>> from skbigmodel.onnx import register_converters
    >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    >>> reg = LinearRegressor(random_state=0).fit(X, y)
    >>> register_converters()
    >>> [o.name for o in skl2onnx_to_onnx(reg, X[:1]).graph.output]
    ['variable']
    """
    global _registered
    if _registered:
        return
    skl2onnx = _import_skl2onnx()
    for estimator in _ESTIMATORS:
        skl2onnx.update_registered_converter(
            estimator,
            f"Skbigmodel{estimator.__name__}",
            _calculate_shapes,
            _convert,
            parser=_parse,
            options=_OPTIONS,
        )
    _registered = True


def to_onnx(
    estimator_or_pipeline,
    X,
    *,
    target_opset=None,
    options=None,
    quantize=None,
    calibration=None,
):
    """Convert a fitted estimator, or a pipeline ending in one, to ONNX.

    Parameters
    ----------
    estimator_or_pipeline : estimator or Pipeline
        A fitted skbigmodel estimator, or a fitted scikit-learn pipeline
        whose steps skl2onnx can convert (e.g. ``StandardScaler`` then one
        of ours).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Sample input: only its number of features and its dtype are used.
        A float32 ``X`` gives a float32 graph, any other dtype a double
        graph. A model trained on sparse data exports the same way; the
        graph takes dense input.
    target_opset : int or dict, default=None
        ONNX opset; None is the newest opset skl2onnx has been tested with.
        Opsets from 9 work; before 20, GELU is built from Erf.
    options : dict, default=None
        skl2onnx conversion options, by estimator ``id`` or type. Our
        classifiers take ``{"zipmap": True}`` or ``{"zipmap": "columns"}``
        (single-label only) to get skl2onnx's ZipMap output instead of the
        probability tensor.
    quantize : {None, "dynamic", "static"}, default=None
        int8 quantisation of the graph's matrix products by onnxruntime
        (``X`` must be float32): "dynamic" stores the weights as int8 and
        quantises the activations at run time; "static" (QDQ format) also
        fixes the activations' scales from ``calibration``, which is what
        makes the products cheaper than float32 ones. See the compression
        guide for the affine int8 scheme.
    calibration : array-like of shape (n_samples, n_features), default=None
        Sample input for ``quantize="static"`` (required then): a few
        hundred rows like those the model will see.

    Returns
    -------
    onnx_model : onnx.ModelProto
        A graph with one input named ``"X"``, of shape (None, n_features).
        Classifiers output ``label``, shape (N,) for single-label models and
        (N, n_classes) of 0/1 for multilabel ones, with the classes as int64
        or strings, then ``probabilities`` (N, n_classes) (scores for the
        losses without probabilities). Regressors output
        ``variable`` (N, n_outputs), in the units of ``y``.

    See Also
    --------
    register_converters : make skl2onnx's own functions convert our estimators.

    Notes
    -----
    Quantised graphs predict close to, not exactly like, the float model:
    measure their accuracy on held-out data (``skbigmodel.compress.compare``).

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbigmodel import LogisticClassifier
    >>> from skbigmodel.onnx import to_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype(np.float32)
    >>> model = make_pipeline(StandardScaler(), LogisticClassifier(random_state=0))
    >>> model = model.fit(X, y)
    >>> onx = to_onnx(model, X[:1])
    >>> session = ort.InferenceSession(onx.SerializeToString(),
    ...                                providers=["CPUExecutionProvider"])
    >>> label, proba = session.run(None, {"X": X})
    >>> label.shape, proba.shape
    ((150,), (150, 3))
    >>> bool(np.all(label == model.predict(X)))
    True
    >>> bool(np.allclose(proba, model.predict_proba(X), atol=1e-5))
    True
    """
    skl2onnx = _import_skl2onnx()
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    register_converters()
    check_is_fitted(estimator_or_pipeline)
    shape = np.shape(X)
    if len(shape) != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {shape}.")
    expected = getattr(estimator_or_pipeline, "n_features_in_", shape[1])
    if shape[1] != expected:
        raise ValueError(
            f"X has {shape[1]} features, but {type(estimator_or_pipeline).__name__} "
            f"was fitted with {expected} features."
        )
    dtype = getattr(X, "dtype", None)
    if dtype is None:  # data frames, lists
        dtype = np.asarray(X[:1]).dtype
    calibration = check_quantize(quantize, calibration, dtype, shape[1])
    tensor_type = FloatTensorType if dtype == np.float32 else DoubleTensorType
    model = skl2onnx.convert_sklearn(
        estimator_or_pipeline,
        initial_types=[("X", tensor_type([None, shape[1]]))],
        target_opset=target_opset,
        options=_without_zipmap(estimator_or_pipeline, options),
    )
    if quantize is None:
        return model
    return quantize_graph(model, quantize, calibration)


def _without_zipmap(model, options):
    """``options`` plus zipmap=False for each of our estimators not named in it.

    skl2onnx's Pipeline parser asks for a ZipMap after every classifier
    step that has no options of its own.
    """
    options = dict(options or {})
    found = [model, getattr(model, "best_estimator_", None)]  # a fitted search
    for candidate in found[:2]:
        if hasattr(candidate, "get_params"):
            found.extend(candidate.get_params(deep=True).values())
    for step in found:
        if isinstance(step, _ESTIMATORS) and is_classifier(step):
            if id(step) not in options and type(step) not in options:
                options[id(step)] = {"zipmap": False}
    return options


# What the fitted attributes say.
def _task(model):
    """'regression', 'binary', 'multiclass' or 'multilabel'."""
    if not is_classifier(model):
        return "regression"
    if _layers(model)[-1][0].shape[1] == 1:
        return "binary"  # one logit, as _targets.ClassifierTarget has it
    if getattr(model, "out_activation_", "softmax") == "logistic":
        return "multilabel"
    return "multiclass"


def _layers(model):
    """[(weights (n_in, n_out), biases (n_out,)), ...] in the user's units."""
    if hasattr(model, "coefs_"):
        return list(zip(model.coefs_, model.intercepts_))
    coef = model.coef_.toarray() if sp.issparse(model.coef_) else model.coef_
    return [(np.atleast_2d(coef).T, model.intercept_)]


def _label_classes(model):
    """classes_ as an int64 or a str array (skl2onnx's label types)."""
    classes = np.asarray(model.classes_)
    if classes.dtype.kind in "biuf":  # float labels are whole numbers
        return classes.astype(np.int64)
    return classes.astype(str)


# The three functions skl2onnx calls.
def _parse(scope, model, inputs, custom_parsers=None):
    """Declare the outputs: ``label`` and ``probabilities``, or ``variable``.

    skl2onnx's default parser only knows a classifier by ClassifierMixin,
    which MLPEstimator (classifier or regressor by ``task``) has not.
    """
    from skl2onnx import get_model_alias
    from skl2onnx.common.data_types import Int64TensorType, guess_tensor_type

    operator = scope.declare_local_operator(get_model_alias(type(model)), model)
    operator.inputs = inputs
    values = guess_tensor_type(inputs[0].type)
    if not is_classifier(model):
        operator.outputs.append(scope.declare_local_variable("variable", values))
        return operator.outputs
    label = scope.declare_local_variable("label", Int64TensorType())
    proba = scope.declare_local_variable("probabilities", values)
    operator.outputs.extend([label, proba])
    zipmap = scope.get_options(model, {"zipmap": False})["zipmap"]
    if zipmap is False:
        return operator.outputs
    if _task(model) == "multilabel":
        raise ValueError("The zipmap option is not available for multilabel models.")
    from skl2onnx._parse import _apply_zipmap  # skl2onnx's own ZipMap step

    return _apply_zipmap(zipmap, scope, model, inputs[0].type, operator.outputs)


def _calculate_shapes(operator):
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
    from skl2onnx.common.utils import check_input_and_output_types

    check_input_and_output_types(
        operator, good_input_types=[FloatTensorType, DoubleTensorType]
    )
    model = operator.raw_operator
    n_samples = operator.inputs[0].get_first_dimension()
    values = type(operator.inputs[0].type)
    task = _task(model)
    if task == "regression":
        n_outputs = _layers(model)[-1][0].shape[1]
        operator.outputs[0].type = values([n_samples, n_outputs])
        return
    n_classes = len(model.classes_)
    strings = _label_classes(model).dtype.kind == "U"
    shape = [n_samples, n_classes] if task == "multilabel" else [n_samples]
    operator.outputs[0].type = (StringTensorType if strings else Int64TensorType)(shape)
    operator.outputs[1].type = values([n_samples, n_classes])


def _convert(scope, operator, container):
    from skl2onnx.common.data_types import guess_numpy_type

    model = operator.raw_operator
    source = operator.inputs[0]
    if source.full_name not in {value.name for value in container.inputs}:
        # Declare the type of what an earlier step made: ONNX cannot infer
        # the output type of some ai.onnx.ml operators (StandardScaler's
        # Scaler), and onnxruntime's quantisation needs every type.
        container.add_value_info(source)
    graph = _Graph(scope, container, guess_numpy_type(source.type))
    raw = _network(graph, model, source.full_name)
    outputs = [variable.full_name for variable in operator.outputs]
    task = _task(model)
    if task == "regression":  # in the units of y; exp of them for a log link
        LINKS[model._link].onnx(graph, raw, out=outputs[0])
        return
    loss = model._loss()
    n_outputs = _layers(model)[-1][0].shape[1]
    if loss.onnx_proba is not None:  # the loss's own link
        loss.onnx_proba(graph, raw, n_outputs, out=outputs[1])
    elif n_outputs == 1:  # scores, as decision_function, one per class
        graph.op("Concat", graph.op("Neg", raw), raw, axis=1, out=outputs[1])
    else:
        graph.op("Identity", raw, out=outputs[1])
    if task == "multilabel":
        _positive(graph, raw, out=outputs[0])
        return
    if task == "binary":
        index = graph.op("Reshape", _positive(graph, raw), graph.const([-1], np.int64))
    else:
        index = graph.op("ArgMax", raw, axis=1, keepdims=0)  # first maximum, as NumPy
    graph.op("Gather", graph.const(_label_classes(model)), index, out=outputs[0])


def _positive(graph, raw, out=None):
    """1 where raw > 0, else 0, as int64.

    The logit's sign, not proba > 0.5: the very test predict makes, so a
    probability that rounds to 0.5 cannot flip a label.
    """
    positive = graph.op("Greater", raw, graph.const(0.0))
    return graph.op("Cast", positive, to=7, out=out)  # 7: TensorProto.INT64


class _Graph:
    """Adds nodes and constants to a skl2onnx container, in one float dtype."""

    def __init__(self, scope, container, dtype):
        self.scope, self.container = scope, container
        self.dtype = np.dtype(dtype)
        self.opset = container.target_opset

    def const(self, value, dtype=None):
        """An initializer holding ``value``; floats in the graph's dtype."""
        from onnx import TensorProto
        from onnx.helper import np_dtype_to_tensor_dtype

        value = np.asarray(value)
        if dtype is not None or value.dtype.kind == "f":
            value = value.astype(self.dtype if dtype is None else dtype)
        name = self.scope.get_unique_variable_name("const")
        if value.dtype.kind == "U":
            proto = TensorProto.STRING
            content = [label.encode("utf-8") for label in value.ravel()]
        else:
            proto, content = np_dtype_to_tensor_dtype(value.dtype), value.ravel()
        self.container.add_initializer(name, proto, list(value.shape), content)
        return name

    def op(self, op_type, *inputs, out=None, **attrs):
        """Add an ``op_type`` node; return the name of its output."""
        out = out or self.scope.get_unique_variable_name(op_type.lower())
        name = self.scope.get_unique_operator_name(op_type)
        self.container.add_node(op_type, list(inputs), out, name=name, **attrs)
        return out


def _network(graph, model, x):
    """The raw outputs (logits or targets): layers of MatMul + Add.

    MatMul, not Gemm: onnxruntime's dynamic quantisation rewrites MatMul.
    """
    layers = _layers(model)
    for depth, (weights, biases) in enumerate(layers):
        x = graph.op("MatMul", x, graph.const(weights))
        x = graph.op("Add", x, graph.const(biases))
        if depth < len(layers) - 1:
            x = _activation(graph, model.activation, x)
    return x


def _activation(graph, name, x):
    """The hidden activation ``name``, as its registry entry builds it."""
    from ._activations import ACTIVATIONS

    return ACTIVATIONS[name].onnx(graph, x)


def onnx_erf(graph, x):
    """erf(x): the Erf operator in float32, Cephes' approximations in double."""
    if graph.dtype == np.float32:
        return graph.op("Erf", x)
    one = graph.const(1.0)
    # |x| <= 1: x T(x^2) / U(x^2), on x clipped so the other side stays finite
    inner = graph.op("Min", graph.op("Max", x, graph.const(-1.0)), one)
    square = graph.op("Mul", inner, inner)
    small = graph.op(
        "Div",
        graph.op("Mul", inner, _polynomial(graph, square, _ERF_T)),
        _polynomial(graph, square, _ERF_U, monic=True),
    )
    # |x| > 1: sign(x) (1 - erfc(|x|)), erfc(t) = exp(-t^2) P(t) / Q(t)
    t = graph.op("Min", graph.op("Abs", x), graph.const(_ERFC_CLIP))
    decay = graph.op("Exp", graph.op("Neg", graph.op("Mul", t, t)))
    ratio = graph.op(
        "Div",
        _polynomial(graph, t, _ERFC_P),
        _polynomial(graph, t, _ERFC_Q, monic=True),
    )
    large = graph.op("Sub", one, graph.op("Mul", decay, ratio))
    large = graph.op("Mul", graph.op("Sign", x), large)
    outside = graph.op("Greater", graph.op("Abs", x), one)
    return graph.op("Where", outside, large, small)


def _polynomial(graph, x, coefficients, monic=False):
    """Horner's scheme, highest degree first (Cephes' polevl, or p1evl when
    ``monic``: a leading coefficient of 1 that is not stored)."""
    if monic:
        value = graph.op("Add", x, graph.const(coefficients[0]))
    else:
        value = graph.const(coefficients[0])
    for coefficient in coefficients[1:]:
        value = graph.op("Add", graph.op("Mul", value, x), graph.const(coefficient))
    return value
