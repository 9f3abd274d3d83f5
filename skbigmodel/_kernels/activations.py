"""Hidden-layer activations and their derivatives, over blocks of units.

Each activation is a kind (a type, ``bundles.kinds``) and a pair of scalar
functions: its value, and a delta times its derivative (``FUNCTIONS``).
The two block loops take the kind and call its pair, so a kernel compiles
the loops of the activation it trains and no other: one loop holding every
activation's polynomials was 43 % of an MLP's first compile, and seven
loops behind a branch on a code still over 20 %.
"""

import math

from numba.extending import overload

from .._jit import jit
from .bundles import kinds
from .mathfn import erf, exp_nonpositive, logistic, logistic_pair, tanh

# Activation kinds, each a type (``bundles.kinds``): a kernel compiles the
# loops of the activation it trains, no other. ``skbigmodel._activations``
# maps names to them.
RELU, LEAKY_RELU, GELU, SILU, TANH, LOGISTIC, IDENTITY = kinds(
    globals(), "Relu", "LeakyRelu", "Gelu", "Silu", "Tanh", "Logistic", "Identity"
)
LEAKY_SLOPE = 0.01
INV_SQRT2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Fast math for elementwise loops, without "nnan"/"ninf": a NaN stays a NaN.
ELEMENTWISE_MATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


@jit(inline="always")
def gelu(z):
    """z * Phi(z), exactly (not the tanh approximation)."""
    return 0.5 * z * (1.0 + erf(z * INV_SQRT2))


@jit(inline="always")
def gelu_grad(z):
    return 0.5 * (1.0 + erf(z * INV_SQRT2)) + z * INV_SQRT_2PI * exp_nonpositive(
        -0.5 * z * z
    )


@jit(inline="always")
def silu(z):
    return z * logistic(z)


@jit(inline="always")
def silu_grad(z):
    s, s_minus = logistic_pair(z)
    return s * (1.0 + z * s_minus)


@jit(inline="always")
def logistic_grad(z):
    s, s_minus = logistic_pair(z)
    return s * s_minus


@jit(inline="always")
def tanh_grad(z):
    t = tanh(z)
    return 1.0 - t * t


@jit(inline="always")
def relu(z):
    return max(z, 0.0)


@jit(inline="always")
def relu_delta(z, d):
    return d if z > 0.0 else 0.0


@jit(inline="always")
def leaky_relu(z):
    return z if z > 0.0 else LEAKY_SLOPE * z


@jit(inline="always")
def leaky_relu_delta(z, d):
    return d * (1.0 if z > 0.0 else LEAKY_SLOPE)


@jit(inline="always")
def identity(z):
    return z


@jit(inline="always")
def identity_delta(z, d):
    return d


@jit(inline="always")
def gelu_delta(z, d):
    return d * gelu_grad(z)


@jit(inline="always")
def silu_delta(z, d):
    return d * silu_grad(z)


@jit(inline="always")
def tanh_delta(z, d):
    return d * tanh_grad(z)


@jit(inline="always")
def logistic_delta(z, d):
    return d * logistic_grad(z)


# Each kind's (value, delta) pair: value(z) is the activation, delta(z, d)
# is d times its derivative (as the backward pass needs it).
FUNCTIONS = {
    type(RELU): (relu, relu_delta),
    type(LEAKY_RELU): (leaky_relu, leaky_relu_delta),
    type(GELU): (gelu, gelu_delta),
    type(SILU): (silu, silu_delta),
    type(TANH): (tanh, tanh_delta),
    type(LOGISTIC): (logistic, logistic_delta),
    type(IDENTITY): (identity, identity_delta),
}


def activation_value(kind, z):
    """The activation ``kind`` of ``z`` (compiled code only)."""


def activation_delta(kind, z, d):
    """``d`` times the derivative of activation ``kind`` at ``z`` (compiled
    code only)."""


@overload(activation_value, inline="always")
def _activation_value(kind, z):
    value = FUNCTIONS[kind.instance_class][0]
    return lambda kind, z: value(z)


@overload(activation_delta, inline="always")
def _activation_delta(kind, z, d):
    delta = FUNCTIONS[kind.instance_class][1]
    return lambda kind, z, d: delta(z, d)


@jit(fastmath=ELEMENTWISE_MATH)
def activate_block(kind, pre, out):
    """out = activation(pre), elementwise over (rows, units) blocks. The
    kind is a type: this compiles one loop, the kind's, which vectorises."""
    rows, units = pre.shape
    for r in range(rows):
        for c in range(units):
            out[r, c] = activation_value(kind, pre[r, c])


@jit(fastmath=ELEMENTWISE_MATH)
def activation_grad_block(kind, pre, delta):
    """delta *= activation'(pre), elementwise (see ``activate_block``)."""
    rows, units = pre.shape
    for r in range(rows):
        for c in range(units):
            delta[r, c] = activation_delta(kind, pre[r, c], delta[r, c])
