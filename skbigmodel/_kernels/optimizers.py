"""Optimiser steps: SGD with momentum, Adam and RMSprop, and their schedules.

Every step reads its hyperparameters from an ``Optimizer`` bundle
(``bundles.py``): a new hyperparameter is a field there and the lines of
``step_coord`` that use it.
"""

import math

from numba.core import types
from numba.extending import overload

from .._jit import jit
from .bundles import kind_of, kinds
from .mathfn import cast_like
from .penalties import soft_threshold

# Optimiser kinds (types: see ``bundles.kinds``); ``skbigmodel._optimizers``
# maps names to them.
SGD, ADAM, RMSPROP, NESTEROV = kinds(
    globals(), "SGDKind", "AdamKind", "RMSpropKind", "NesterovKind"
)
# SGD with momentum, plain or Nesterov's: kinds whose m is a velocity.
MOMENTUM_KINDS = (SGD, NESTEROV)
# Learning-rate schedules inside an epoch ("adaptive" is constant here and
# is lowered between epochs by the training loop).
CONSTANT, INVSCALING, OPTIMAL = 0, 1, 2


@jit(inline="always")
def step_size(optimizer, t, batch_size=1, rows=1, weight_scale=1.0):
    """Scalar step of optimiser step ``t`` (1-based), Adam's bias correction
    included; ``optimizer`` an ``Optimizer`` bundle.

    "optimal" is Bottou's per-sample step lr / (t0 + n - 1) at the n-th
    sample (lr = 1 / alpha). A batch's gradient is a mean: its step is
    ``rows`` times that of a sample, so that a feature met once in a batch
    moves as far as it would alone, not ``rows`` times less; the sample
    counted is the batch's last, which makes the batch's L2 shrinking
    1 - eta * alpha exactly the product of its samples' (the product
    telescopes), below 1 for any batch. Samples are counted as
    ``batch_size`` per step, in units of sample weight (``weight_scale``
    is the number of training rows over their total weight), so that a
    weight of 2 steps as a repeated row; batch 1 with unit weights is
    exactly scikit-learn's schedule.
    """
    lr, power_t = optimizer.lr, optimizer.power_t
    if optimizer.schedule == CONSTANT:
        eta = lr
    elif optimizer.schedule == INVSCALING:
        eta = lr / t**power_t
    else:  # samples in units of weight: a weight of 2 is a repeated sample
        n, seen = rows / weight_scale, (t - 1) * batch_size / weight_scale
        eta = n * lr / (optimizer.t0 + seen + n - 1)
    if optimizer.kind.code == ADAM.code:
        beta_1, beta_2 = optimizer.beta_1, optimizer.beta_2
        eta *= math.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
    return eta


@jit(inline="always")
def intercept_step_size(optimizer, eta, rows, weight_scale=1.0):
    """The intercepts' step on sparse X for a batch of ``rows`` rows whose
    weights step by ``eta``. Under "optimal" the weights take the
    per-sample step times the summed gradient (see ``step_size``), which a
    sparse feature meets in few rows; an intercept, a feature of every row,
    takes it times the mean: summed, the stale gradients of a whole batch
    overshoot (scikit-learn damps its intercept's steps on sparse data for
    the same reason). Batch 1 of unit weight: the same step. On dense X
    every weight is a feature of every row too, and the intercept takes
    the weights' step (``linear_dense.py``), as in scikit-learn."""
    if optimizer.schedule == OPTIMAL:
        return eta * weight_scale / rows
    return eta


@jit(inline="always")
def step_coord(optimizer, w, g, m, v, eta, a1, a2):
    """One optimiser step on one parameter, then the L1 proximal step.

    ``g`` is the data gradient; the L2 part ``a2 * w`` is added here. The
    step is that of the ``Optimizer`` bundle's kind (``STEPS``; only it is
    compiled), with its hyperparameters (for RMSprop ``beta_2`` is rho).
    Returns the new (w, m, v). The L1 threshold is scaled like the step: by
    Adam's or RMSprop's per-parameter preconditioner (the proximal step in
    that metric), and for momentum by 1 / (1 - momentum), the step a
    constant gradient settles to, so that a weight whose data gradient is
    below the L1 strength stays exactly zero. The arithmetic is in the type
    of ``m``: float32 moments (float32 networks) take float32 square roots
    and divisions, which vectorise to twice the lanes (an Adam step went
    from 2.0 to 0.7 ns per parameter).
    """
    eta = cast_like(m, eta)
    a1, a2 = cast_like(m, a1), cast_like(m, a2)
    g = g + a2 * w
    w, m, v, scale = optimizer_step(optimizer, w, g, m, v, eta)
    if a1 > 0.0:
        w = soft_threshold(w, eta * scale * a1)
    return w, m, v


def optimizer_step(optimizer, w, g, m, v, eta):
    """The step of the optimiser's kind, (w, m, v, scale) (compiled code only)."""


# Each optimiser's step, inlined where ``optimizer_step`` is called (plain
# functions: their source is inlined, so only the kind in use is compiled):
# (optimizer, w, g, m, v, eta) -> (w, m, v, scale), scale the factor of
# the step (see ``step_coord``).


def sgd_step(optimizer, w, g, m, v, eta):
    """SGD with momentum (``m`` is the velocity)."""
    one = cast_like(m, 1.0)  # float literals would promote float32 to float64
    momentum = cast_like(m, optimizer.momentum)
    m = momentum * m - eta * g
    return w + m, m, v, one / (one - momentum)


def nesterov_step(optimizer, w, g, m, v, eta):
    """SGD with Nesterov's momentum. (No branch on a flag inside these
    functions: a conditional expression in an inlined overload trips
    Numba's SSA checks, hence a kind of its own.)"""
    one = cast_like(m, 1.0)
    momentum = cast_like(m, optimizer.momentum)
    m = momentum * m - eta * g
    return w + (momentum * m - eta * g), m, v, one / (one - momentum)


def adam_step(optimizer, w, g, m, v, eta):
    one = cast_like(m, 1.0)
    beta_1, beta_2 = cast_like(m, optimizer.beta_1), cast_like(m, optimizer.beta_2)
    m = beta_1 * m + (one - beta_1) * g
    v = beta_2 * v + (one - beta_2) * g * g
    scale = one / (math.sqrt(v) + cast_like(m, optimizer.eps))
    return w - eta * scale * m, m, v, scale


def rmsprop_step(optimizer, w, g, m, v, eta):
    one = cast_like(m, 1.0)
    beta_2 = cast_like(m, optimizer.beta_2)
    v = beta_2 * v + (one - beta_2) * g * g
    scale = one / (math.sqrt(v) + cast_like(m, optimizer.eps))
    return w - eta * scale * g, m, v, scale


STEPS = {
    type(SGD): sgd_step,
    type(NESTEROV): nesterov_step,
    type(ADAM): adam_step,
    type(RMSPROP): rmsprop_step,
}


@overload(optimizer_step, inline="always")
def _optimizer_step(optimizer, w, g, m, v, eta):
    return STEPS[kind_of(optimizer)]


@jit(inline="always")
def penalty_scale(optimizer, v):
    """The factor by which ``step_coord`` scales a step of the penalty.

    The same expressions as there, so that LLVM computes them once.
    """
    code = optimizer.kind.code
    if code == SGD.code or code == NESTEROV.code:
        return 1.0 / (1.0 - optimizer.momentum)
    return 1.0 / (math.sqrt(v) + optimizer.eps)


def slice_or_none(a, lo, hi):
    """``a[lo:hi]``, or None when ``a`` is None."""
    return None if a is None else a[lo:hi]  # only called from compiled code


@overload(slice_or_none)
def _slice_or_none(a, lo, hi):
    if isinstance(a, (types.NoneType, types.Omitted)):
        return lambda a, lo, hi: None
    return lambda a, lo, hi: a[lo:hi]


def plus(g, other, q):
    """``g[q] + other[q]``, or ``g[q]`` when ``other`` is None."""
    return g[q] if other is None else g[q] + other[q]  # only called from compiled code


@overload(plus)
def _plus(g, other, q):
    if isinstance(other, (types.NoneType, types.Omitted)):
        return lambda g, other, q: g[q]
    return lambda g, other, q: g[q] + other[q]


@jit
def update_range(state, grad, grad_scale, lo, hi, optimizer, eta, penalty, other=None):
    """Step params[lo:hi] of ``state`` (a ``State``) with the data gradient
    grad[lo:hi] * grad_scale, or (grad + other)[lo:hi] * grad_scale: summing
    two gradients here, not in a pass of their own, saves writing and
    reading one of them (MLP on MNIST: 5 % of an epoch). ``penalty`` is a
    ``Penalty`` bundle.

    Written so that LLVM vectorises it (measured 4-5 ns per parameter
    before, under 2 after): the optimiser's kind is a type, so no branch on
    it is left inside the loop, and the loop runs over slices indexed from
    0, since an index that could be negative (``range(lo, hi)``) keeps a
    wraparound branch per access.
    """
    params, m, v = state.params, state.m, state.v
    w, g, mq, vq = params[lo:hi], grad[lo:hi], m[lo:hi], v[lo:hi]
    g2 = slice_or_none(other, lo, hi)
    scale = cast_like(m, grad_scale)  # the gradient in the moments' type
    a1, a2 = penalty
    for q in range(w.shape[0]):
        w[q], mq[q], vq[q] = step_coord(
            optimizer, w[q], plus(g, g2, q) * scale, mq[q], vq[q], eta, a1, a2
        )
