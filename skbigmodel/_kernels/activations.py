"""Hidden-layer activations and their derivatives, over blocks of units."""

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
def activate(kind, z):
    """The activation of a pre-activation ``z``."""
    if kind == RELU:
        return z if z > 0.0 else 0.0
    if kind == LEAKY_RELU:
        return z if z > 0.0 else LEAKY_SLOPE * z
    if kind == GELU:  # exact: z * Phi(z)
        return 0.5 * z * (1.0 + erf(z * INV_SQRT2))
    if kind == SILU:
        return z * logistic(z)
    if kind == TANH:
        return tanh(z)
    if kind == LOGISTIC:
        return logistic(z)
    return z


@jit(inline="always")
def activation_grad(kind, z):
    """Derivative of the activation at ``z``."""
    if kind == RELU:
        return 1.0 if z > 0.0 else 0.0
    if kind == LEAKY_RELU:
        return 1.0 if z > 0.0 else LEAKY_SLOPE
    if kind == GELU:
        return (0.5 * (1.0 + erf(z * INV_SQRT2))
                + z * INV_SQRT_2PI * exp_nonpositive(-0.5 * z * z))  # fmt: skip
    if kind == SILU or kind == LOGISTIC:
        s, s_minus = logistic_pair(z)
        return s * (1.0 + z * s_minus) if kind == SILU else s * s_minus
    if kind == TANH:
        t = tanh(z)
        return 1.0 - t * t
    return 1.0


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
    elif kind == TANH:
        for r in range(rows):
            for c in range(units):
                out[r, c] = activate(TANH, pre[r, c])
    elif kind == LOGISTIC:
        for r in range(rows):
            for c in range(units):
                out[r, c] = activate(LOGISTIC, pre[r, c])
    elif kind == SILU:
        for r in range(rows):
            for c in range(units):
                out[r, c] = activate(SILU, pre[r, c])
    elif kind == GELU:
        for r in range(rows):
            for c in range(units):
                out[r, c] = activate(GELU, pre[r, c])
    elif kind == IDENTITY:
        for r in range(rows):
            for c in range(units):
                out[r, c] = pre[r, c]
    else:
        for r in range(rows):
            for c in range(units):
                out[r, c] = activate(kind, pre[r, c])


@jit(fastmath=ELEMENTWISE_MATH)
def activation_grad_block(kind, pre, delta):
    """delta *= activation'(pre), elementwise (see ``activate_block``)."""
    rows, units = pre.shape
    if kind == RELU:
        for r in range(rows):
            for c in range(units):
                delta[r, c] = delta[r, c] if pre[r, c] > 0.0 else 0.0
    elif kind == TANH:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= activation_grad(TANH, pre[r, c])
    elif kind == LOGISTIC:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= activation_grad(LOGISTIC, pre[r, c])
    elif kind == SILU:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= activation_grad(SILU, pre[r, c])
    elif kind == GELU:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= activation_grad(GELU, pre[r, c])
    elif kind != IDENTITY:
        for r in range(rows):
            for c in range(units):
                delta[r, c] *= activation_grad(kind, pre[r, c])
