"""Hidden-layer activations and their derivatives, over blocks of units.

Each activation is a pair of scalar functions (its value and its
derivative) and one loop in each block function. A block's loop calls its
activation's function directly, with nothing else inlined: Numba inlines a
function's whole body before it prunes branches, so one ``activate(kind,
z)`` with every activation's polynomials, called from seven loops, typed
all of them seven times (43 % of an MLP's first compile).
"""

import math

from .._jit import jit
from .mathfn import erf, exp_nonpositive, logistic, logistic_pair, tanh

# Activation codes; ``skbigmodel._activations`` maps names to them.
RELU, LEAKY_RELU, GELU, SILU, TANH, LOGISTIC, IDENTITY = range(7)
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


@jit(fastmath=ELEMENTWISE_MATH)
def activate_block(kind, pre, out):
    """out = activation(pre), elementwise over (rows, units) blocks.

    One loop per activation, with the kind a constant there, so that each
    vectorises (the branch on the kind is taken once per block, not per
    element).
    """
    rows, units = pre.shape
    if kind == RELU:
        for r in range(rows):
            for c in range(units):
                out[r, c] = max(pre[r, c], 0.0)
    elif kind == LEAKY_RELU:
        for r in range(rows):
            for c in range(units):
                z = pre[r, c]
                out[r, c] = z if z > 0.0 else LEAKY_SLOPE * z
    elif kind == TANH:
        for r in range(rows):
            for c in range(units):
                out[r, c] = tanh(pre[r, c])
    elif kind == LOGISTIC:
        for r in range(rows):
            for c in range(units):
                out[r, c] = logistic(pre[r, c])
    elif kind == SILU:
        for r in range(rows):
            for c in range(units):
                out[r, c] = silu(pre[r, c])
    elif kind == GELU:
        for r in range(rows):
            for c in range(units):
                out[r, c] = gelu(pre[r, c])
    else:  # IDENTITY
        for r in range(rows):
            for c in range(units):
                out[r, c] = pre[r, c]


@jit(fastmath=ELEMENTWISE_MATH)
def activation_grad_block(kind, pre, delta):
    """delta *= activation'(pre), elementwise (see ``activate_block``)."""
    rows, units = pre.shape
    if kind == RELU:
        for r in range(rows):
            for c in range(units):
                delta[r, c] = delta[r, c] if pre[r, c] > 0.0 else 0.0
    elif kind == LEAKY_RELU:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= 1.0 if pre[r, c] > 0.0 else LEAKY_SLOPE
    elif kind == TANH:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= tanh_grad(pre[r, c])
    elif kind == LOGISTIC:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= logistic_grad(pre[r, c])
    elif kind == SILU:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= silu_grad(pre[r, c])
    elif kind == GELU:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= gelu_grad(pre[r, c])
