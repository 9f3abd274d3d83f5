"""Losses of the outputs and their gradients, a chunk of rows at a time.

Every kernel's losses go through ``outputs_grad``. A loss is a kind here
(``skbigmodel._losses`` maps names to kinds): a scalar function of one
output and its target, listed in ``ELEMENTWISE``, or, for the multinomial,
``softmax_grad``. Kinds are types (``bundles.kinds``): a kernel compiles
the function of the loss it trains and no other.
"""

import math

import numpy as np
from numba.core import types
from numba.extending import overload

from .._jit import DOT_MATH, KERNEL_OPTIONS, jit
from .bundles import ONE_OUTPUT, SEVERAL_OUTPUTS, Loss, kind_of, kinds
from .mathfn import exp_nonpositive, log1p_unit

(
    SQUARED_ERROR,
    HUBER,
    EPSILON_INSENSITIVE,
    LOG_LOSS,
    MULTINOMIAL,
    MULTILABEL,
    HINGE,
    MODIFIED_HUBER,
    SQUARED_HINGE,
    SQUARED_EPSILON_INSENSITIVE,
    QUANTILE,
    POISSON,
    DISTILL_LOG_LOSS,
    DISTILL_MULTINOMIAL,
) = kinds(
    globals(),
    "SquaredError",
    "Huber",
    "EpsilonInsensitive",
    "LogLoss",
    "Multinomial",
    "Multilabel",
    "Hinge",
    "ModifiedHuber",
    "SquaredHinge",
    "SquaredEpsilonInsensitive",
    "Quantile",
    "Poisson",
    "DistillLogLoss",
    "DistillMultinomial",
)


@jit(inline="always")
def sigmoid_loss_grad(t, y):
    """Log-loss of the score ``t`` for the target ``y`` in [0, 1],
    log(1 + exp(t)) - y t, and its derivative sigmoid(t) - y, in float64,
    without overflow and without a branch (see ``exp_nonpositive``)."""
    t, y = np.float64(t), np.float64(y)
    e = exp_nonpositive(-abs(t))
    s = 1.0 / (1.0 + e)
    loss = log1p_unit(e) + (t if t > 0.0 else 0.0) - y * t
    return loss, (s if t >= 0.0 else e * s) - y


# Each scalar loss takes (param, t, y): the loss's parameter (``Loss.param``:
# epsilon, the hinge's threshold or the quantile), the output t and its
# target y (a +-1 label for the margin losses), and returns the loss and its
# derivative with respect to t.


@jit(inline="always")
def squared_error(epsilon, t, y):
    d = t - y
    return 0.5 * d * d, d


@jit(inline="always")
def huber(epsilon, t, y):
    d = t - y
    if abs(d) <= epsilon:
        return 0.5 * d * d, d
    return epsilon * (abs(d) - 0.5 * epsilon), (epsilon if d > 0 else -epsilon)


@jit(inline="always")
def epsilon_insensitive(epsilon, t, y):
    d = t - y
    if abs(d) > epsilon:
        return abs(d) - epsilon, (1.0 if d > 0 else -1.0)
    return 0.0, 0.0


@jit(inline="always")
def squared_epsilon_insensitive(epsilon, t, y):
    d = t - y
    if d > epsilon:
        return (d - epsilon) * (d - epsilon), 2.0 * (d - epsilon)
    if d < -epsilon:
        return (d + epsilon) * (d + epsilon), 2.0 * (d + epsilon)
    return 0.0 * d, 0.0 * d


@jit(inline="always")
def quantile(q, t, y):
    """Pinball loss of the quantile q: q (y - t) above, (1 - q) (t - y) below."""
    d = t - y
    if d < 0:
        return -q * d, -q
    if d > 0:
        return (1.0 - q) * d, 1.0 - q
    return 0.0 * d, 0.0 * d


@jit(inline="always")
def log_loss(epsilon, t, y):
    return sigmoid_loss_grad(t, y)


@jit(inline="always")
def hinge(threshold, t, y):
    """max(0, threshold - y t): the linear SVM's loss at threshold 1, the
    perceptron's at 0."""
    z = t * y
    if z <= threshold:
        return threshold - z, -y
    return 0.0 * z, 0.0 * z


@jit(inline="always")
def squared_hinge(threshold, t, y):
    z = threshold - t * y
    if z > 0:
        return z * z, -2.0 * y * z
    return 0.0 * z, 0.0 * z


@jit(inline="always")
def modified_huber(epsilon, t, y):
    """Zhang's smoothed hinge: (1 - y t)^2 for y t in [-1, 1], -4 y t below."""
    z = t * y
    if z >= 1.0:
        return 0.0 * z, 0.0 * z
    if z >= -1.0:
        return (1.0 - z) * (1.0 - z), -2.0 * (1.0 - z) * y
    return -4.0 * z, -4.0 * y


@jit(inline="always")
def poisson(epsilon, t, y):
    """Half the Poisson deviance of the prediction exp(t) for a count y >= 0,
    exp(t) - y t + y log(y) - y, and its derivative exp(t) - y. The constant
    y log(y) - y makes the loss zero at the optimum and homogeneous in the
    target's scale: loss(t + log(s); s y) = s loss(t; y), which is what lets
    regressors train on scaled targets exactly. In float64: exp(t) overflows
    float32 from t = 89. (libm's exp and log: t is not bounded above.)
    """
    t, y = np.float64(t), np.float64(y)
    mu = math.exp(t)
    entropy = y * math.log(y) - y if y > 0.0 else 0.0
    return mu - y * t + entropy, mu - y


# The losses that act on each output alone: (epsilon, output, target) ->
# (loss, derivative), scalars in and out.
ELEMENTWISE = {
    type(SQUARED_ERROR): squared_error,
    type(HUBER): huber,
    type(EPSILON_INSENSITIVE): epsilon_insensitive,
    type(LOG_LOSS): log_loss,
    type(MULTILABEL): log_loss,
    type(HINGE): hinge,
    type(MODIFIED_HUBER): modified_huber,
    type(SQUARED_HINGE): squared_hinge,
    type(SQUARED_EPSILON_INSENSITIVE): squared_epsilon_insensitive,
    type(QUANTILE): quantile,
    type(POISSON): poisson,
}


def output_loss_grad(loss, t, y):
    """Loss of one output ``t`` with target ``y`` and its derivative, for the
    losses that act on each output alone: all but the multinomial. ``loss``
    is a ``Loss`` bundle; only its kind's function is compiled.

    Scalars in and out: arrays passed through an inlined helper in a loop
    over rows cost atomic reference counting per row (measured: 11 % of a
    dense binary epoch). Compiled code only (see the overload below).
    """


@overload(output_loss_grad, inline="always")
def _output_loss_grad(loss, t, y):
    function = ELEMENTWISE.get(kind_of(loss))
    if function is None:
        return None

    def impl(loss, t, y):
        return function(loss.param, t, y)

    return impl


@jit(inline="always")
def loss_grad(loss, Z, r, Y, i, G):
    """Loss of one sample and its gradient with respect to its outputs, for
    the losses that act on each output alone (the multinomial goes through
    ``softmax_grad``).

    The outputs are Z[r], the gradient is written to G[r]; the targets are
    Y[i]. Rows are passed as indices, not as views: each view made in a hot
    loop compiled to a pair of atomic reference-count updates on its parent
    array.
    """
    value = 0.0
    for c in range(Z.shape[1]):
        v, G[r, c] = output_loss_grad(loss, Z[r, c], Y[i, c])
        value += v
    return value


@jit
def output_losses(loss, t, y):
    """Losses and derivatives of a model with one output: t holds the
    outputs and becomes the losses, y the targets and becomes the
    derivatives. A loop of its own over contiguous arrays, which LLVM
    vectorises for the log-loss (see ``exp_nonpositive``): in a dense binary
    epoch, 0.84-0.89x the time of one pass per row with libm's scalar exp and
    log1p (one thread, 500,000 x 100).
    """
    for r in range(t.shape[0]):
        t[r], y[r] = output_loss_grad(loss, t[r], y[r])


@jit(inline="always")
def one_output_grad(t, d, Y, sw, order, lo, loss):
    """``outputs_grad`` for one output, on 1-D t (the outputs, overwritten
    with the losses) and d (overwritten with sw_i dloss_i/doutput); returns
    (summed weighted loss, sum of d). Inlined: the dense kernel calls it
    once per chunk of about 40 rows, where a call cost 3 % of an epoch.
    """
    for r in range(t.shape[0]):
        d[r] = Y[order[lo + r], 0]
    output_losses(loss, t, d)
    value = grad_sum = 0.0
    for r in range(t.shape[0]):
        weight = sw[order[lo + r]]
        value += weight * t[r]
        d[r] *= weight
        grad_sum += d[r]
    return value, grad_sum


@jit
def outputs_grad(Z, Y, sw, order, lo, m, loss, G, grad_b):
    """Weighted loss of rows order[lo:lo + m], whose outputs are Z[:m]
    (overwritten), and their gradients: sw_i dloss_i/doutputs into G[:m],
    summed into grad_b. Every kernel's losses go through here, a chunk at
    a time: a call of its own, so the arrays that the inlined loss passes
    around are reference counted once per call, not per row, and the
    exponentials of the log-loss and the softmax vectorise over the chunk
    (``output_losses``, ``softmax_grad``). ``loss`` is a ``Loss`` bundle.
    """
    return outputs_grad_of(Z, Y, sw, order, lo, m, loss, G, grad_b)


def outputs_grad_of(Z, Y, sw, order, lo, m, loss, G, grad_b):
    """``outputs_grad`` of the loss's kind (compiled code only)."""


def _softmax_outputs_grad(Z, Y, sw, order, lo, m, loss, G, grad_b):
    return softmax_grad(Z, Y, sw, order, lo, m, G, grad_b)


def _one_output_grad(Z, Y, sw, order, lo, m, loss, G, grad_b):
    value, grad_b[0] = one_output_grad(
        Z[:m].reshape(m), G[:m].reshape(m), Y, sw, order, lo, loss
    )
    return value


def _several_outputs_grad(Z, Y, sw, order, lo, m, loss, G, grad_b):
    k = Z.shape[1]
    value = 0.0
    for c in range(k):
        grad_b[c] = 0.0
    for r in range(m):
        i = order[lo + r]
        weight = sw[i]
        value += weight * loss_grad(loss, Z, r, Y, i, G)
        for c in range(k):
            G[r, c] *= weight
            grad_b[c] += G[r, c]
    return value


def _either_outputs_grad(Z, Y, sw, order, lo, m, loss, G, grad_b):
    """A ``Loss`` without its outputs' kind: the count of Z's columns picks."""
    if Z.shape[1] == 1:
        one = Loss(loss.kind, loss.param, ONE_OUTPUT)
        return outputs_grad_of(Z, Y, sw, order, lo, m, one, G, grad_b)
    several = Loss(loss.kind, loss.param, SEVERAL_OUTPUTS)
    return outputs_grad_of(Z, Y, sw, order, lo, m, several, G, grad_b)


ELEMENTWISE_PATHS = {
    type(ONE_OUTPUT): _one_output_grad,
    type(SEVERAL_OUTPUTS): _several_outputs_grad,
}


# A function of its own, compiled with the kernels' options: an inlined
# overload would be compiled twice (once for its type, once inlined).
@overload(outputs_grad_of, jit_options=KERNEL_OPTIONS)
def _outputs_grad_of(Z, Y, sw, order, lo, m, loss, G, grad_b):
    kind = kind_of(loss)
    if kind is type(MULTINOMIAL):
        return _softmax_outputs_grad
    if kind is type(DISTILL_MULTINOMIAL):
        return _distill_softmax_outputs_grad
    if kind is type(DISTILL_LOG_LOSS):
        return _distill_sigmoid_outputs_grad
    outputs = loss.types[loss.fields.index("outputs")]
    if isinstance(outputs, (types.NoneType, types.Omitted)):
        return _either_outputs_grad
    return ELEMENTWISE_PATHS[outputs.instance_class]


def _distill_softmax_outputs_grad(Z, Y, sw, order, lo, m, loss, G, grad_b):
    return distill_softmax_grad(Z, Y, sw, order, lo, m, loss.param, G, grad_b)


def _distill_sigmoid_outputs_grad(Z, Y, sw, order, lo, m, loss, G, grad_b):
    return distill_sigmoid_grad(Z, Y, sw, order, lo, m, loss.param, G, grad_b)


@jit(fastmath=DOT_MATH)
def softmax_grad(Z, Y, sw, order, lo, m, G, grad_b):
    """``outputs_grad`` for the multinomial loss, in three passes: the
    exponentials of all m rows in one loop that LLVM vectorises (see
    ``exp_nonpositive``) between two loops over the rows (measured 0.90x
    the time of ``loss_grad`` row by row on 10 classes).
    """
    k = Z.shape[1]
    for r in range(m):
        top = Z[r, 0]
        for c in range(1, k):
            top = max(top, Z[r, c])
        for c in range(k):
            Z[r, c] -= top
    flat_z, flat_g = Z[:m].reshape(m * k), G[:m].reshape(m * k)
    for q in range(m * k):
        flat_g[q] = exp_nonpositive(flat_z[q])
    value = 0.0
    for c in range(k):
        grad_b[c] = 0.0
    for r in range(m):
        i = order[lo + r]
        weight = sw[i]
        label = int(Y[i, 0])
        total = 0.0
        for c in range(k):
            total += G[r, c]
        value += weight * (math.log(total) - Z[r, label])
        scale = weight / total
        for c in range(k):
            G[r, c] *= scale
        G[r, label] -= weight
        for c in range(k):
            grad_b[c] += G[r, c]
    return value


# Distillation (Hinton, Vinyals & Dean 2015). Soft targets as probability
# rows: a target row is [label, h, s, q_1 .. q_k] (the binary loss's
# [label, h, s, q], q the probability of the class 1), and a sample's loss
# with the temperature T (``Loss.param``) is
#     h CE(softmax(z), label) + s T^2 CE(softmax(z / T), q)
# whose gradient is h (softmax(z) - onehot) + s T (softmax(z / T) - q). The
# hard part is computed as ``softmax_grad`` / ``log_loss`` compute it, so
# h = 1, s = 0 gives their bits.


@jit(fastmath=DOT_MATH)
def distill_softmax_grad(Z, Y, sw, order, lo, m, temperature, G, grad_b):
    """``outputs_grad`` for the multinomial distillation loss (see above)."""
    k = Z.shape[1]
    for r in range(m):
        top = Z[r, 0]
        for c in range(1, k):
            top = max(top, Z[r, c])
        for c in range(k):
            Z[r, c] -= top
    flat_z, flat_g = Z[:m].reshape(m * k), G[:m].reshape(m * k)
    for q in range(m * k):
        flat_g[q] = exp_nonpositive(flat_z[q])
    inverse = 1.0 / temperature
    value = 0.0
    for c in range(k):
        grad_b[c] = 0.0
    for r in range(m):
        i = order[lo + r]
        weight = sw[i]
        label = int(Y[i, 0])
        hard, soft = Y[i, 1], Y[i, 2]
        total = 0.0
        for c in range(k):
            total += G[r, c]
        loss = hard * (math.log(total) - Z[r, label])
        scale = weight / total
        for c in range(k):
            G[r, c] *= scale
        G[r, label] -= weight
        if soft != 0.0:
            # Z[r] is shifted to a maximum of 0: so is Z[r] / T
            tempered = 0.0
            for c in range(k):
                tempered += exp_nonpositive(Z[r, c] * inverse)
            cross = 0.0
            for c in range(k):
                cross += Y[i, 3 + c] * Z[r, c]
            # CE(softmax(z / T), q) = logsumexp(z / T) - q . z / T, sum(q) = 1
            loss += (
                soft
                * temperature
                * temperature
                * (math.log(tempered) - cross * inverse)
            )
            factor = soft * temperature * weight
            for c in range(k):
                p = exp_nonpositive(Z[r, c] * inverse) / tempered
                G[r, c] = hard * G[r, c] + factor * (p - Y[i, 3 + c])
        elif hard != 1.0:
            for c in range(k):
                G[r, c] *= hard
        value += weight * loss
        for c in range(k):
            grad_b[c] += G[r, c]
    return value


@jit
def distill_sigmoid_grad(Z, Y, sw, order, lo, m, temperature, G, grad_b):
    """``outputs_grad`` for the binary distillation loss (one logit; see above)."""
    value = grad_sum = 0.0
    for r in range(m):
        i = order[lo + r]
        hard_loss, hard_grad = sigmoid_loss_grad(Z[r, 0], Y[i, 0])
        hard, soft = Y[i, 1], Y[i, 2]
        soft_loss, soft_grad = sigmoid_loss_grad(Z[r, 0] / temperature, Y[i, 3])
        # stored in the outputs' dtype first, as ``one_output_grad`` does
        Z[r, 0] = hard * hard_loss + soft * temperature * temperature * soft_loss
        G[r, 0] = hard * hard_grad + soft * temperature * soft_grad
        weight = sw[i]
        value += weight * Z[r, 0]
        G[r, 0] *= weight
        grad_sum += G[r, 0]
    grad_b[0] = grad_sum
    return value
