"""Registry of hidden-layer activations: every face of each in one entry.

An activation is a kernel kind (``_kernels/activations.py``: its value and
delta functions in ``FUNCTIONS``), a NumPy forward that ``predict`` uses, its
derivative in NumPy (the reference the kernel is tested against) and an
ONNX builder. ``tests/test_registries.py`` checks, for every entry, that
the kernel, the NumPy forward, the derivative (by finite differences) and
the ONNX graph (in onnxruntime) agree.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import erf, expit

from ._kernels import activations as kernels

__all__ = ["ACTIVATIONS", "Activation"]


@dataclass(frozen=True)
class Activation:
    """One activation.

    code : the kernels' kind (a marker whose type picks the compiled loops).
    forward(z) : the activation of a NumPy array, in z's dtype.
    derivative(z) : its derivative.
    onnx(graph, x) : the ONNX node computing it (``skbigmodel.onnx._Graph``).
    init_gain : numerator of Glorot's uniform bound, sqrt(gain / (n_in + n_out)),
        as scikit-learn's MLP draws initial weights.
    """

    code: int
    forward: Callable
    derivative: Callable
    onnx: Callable
    init_gain: float = 6.0


def _relu_onnx(graph, x):
    return graph.op("Relu", x)


def _leaky_relu(z):
    return np.where(z > 0, z, z * z.dtype.type(kernels.LEAKY_SLOPE))


def _leaky_relu_onnx(graph, x):
    if graph.dtype == np.float32:
        return graph.op("LeakyRelu", x, alpha=kernels.LEAKY_SLOPE)
    # LeakyRelu's alpha is a float32 attribute: max(x, slope x) keeps the
    # slope in double, and is the same function for a slope < 1
    return graph.op("Max", x, graph.op("Mul", x, graph.const(kernels.LEAKY_SLOPE)))


def _gelu(z):  # exact: z * Phi(z), not the tanh approximation
    return 0.5 * z * (1 + erf(z / np.sqrt(2).astype(z.dtype)))


def _gelu_derivative(z):
    return 0.5 * (1 + erf(z / np.sqrt(2))) + z * np.exp(-0.5 * z * z) / np.sqrt(
        2 * np.pi
    )


def _gelu_onnx(graph, x):
    from .onnx import GELU_OPSET, onnx_erf

    if graph.dtype == np.float32 and graph.opset >= GELU_OPSET:
        return graph.op("Gelu", x, approximate="none")
    half_x = graph.op("Mul", x, graph.const(0.5))
    erf_x = onnx_erf(graph, graph.op("Mul", x, graph.const(1.0 / math.sqrt(2.0))))
    return graph.op("Mul", half_x, graph.op("Add", erf_x, graph.const(1.0)))


def _silu(z):
    return z * expit(z)


def _silu_derivative(z):
    s = expit(z)
    return s * (1 + z * (1 - s))


def _silu_onnx(graph, x):
    return graph.op("Mul", x, graph.op("Sigmoid", x))


ACTIVATIONS = {
    "relu": Activation(
        kernels.RELU,
        lambda z: np.maximum(z, 0),
        lambda z: (z > 0).astype(z.dtype),
        _relu_onnx,
    ),
    "leaky_relu": Activation(
        kernels.LEAKY_RELU,
        _leaky_relu,
        lambda z: np.where(z > 0, 1.0, kernels.LEAKY_SLOPE),
        _leaky_relu_onnx,
    ),
    "gelu": Activation(kernels.GELU, _gelu, _gelu_derivative, _gelu_onnx),
    "silu": Activation(kernels.SILU, _silu, _silu_derivative, _silu_onnx),
    "tanh": Activation(
        kernels.TANH,
        np.tanh,
        lambda z: 1 - np.tanh(z) ** 2,
        lambda graph, x: graph.op("Tanh", x),
    ),
    "logistic": Activation(
        kernels.LOGISTIC,
        expit,
        lambda z: expit(z) * expit(-z),
        lambda graph, x: graph.op("Sigmoid", x),
        init_gain=2.0,
    ),
    "identity": Activation(
        kernels.IDENTITY, lambda z: z, np.ones_like, lambda graph, x: x
    ),
}
