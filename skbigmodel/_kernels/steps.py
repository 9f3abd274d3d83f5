"""Per-sample and per-parameter steps shared by the epoch kernels.

Losses, optimiser steps, proximal steps and prefetch hints, each a small
function inlined into the kernels that call it. Numba's disk cache knows
only the file of the function it caches; ``skbigmodel._numba`` stamps every
kernel with a hash of all the files in this folder, so an edit here
recompiles the kernels of the other files too.
"""

import math

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from .._numba import jit

# Loss codes; ``skbigmodel._losses`` maps names to them.
SQUARED_ERROR, HUBER, EPSILON_INSENSITIVE, LOG_LOSS, MULTINOMIAL, MULTILABEL = range(6)
# Optimiser codes; ``skbigmodel._optimizers`` maps names to them.
SGD, ADAM, RMSPROP = 0, 1, 2
# Learning-rate schedules inside an epoch ("adaptive" is constant here and
# is lowered between epochs by the training loop).
CONSTANT, INVSCALING = 0, 1


# Rows visited in shuffled order defeat the hardware prefetcher; asking for
# the rows a few steps ahead hides most of the memory latency.
PREFETCH_ROWS = 24
CACHE_LINE_FLOATS = 8
PREFETCH_SPARSE_ROWS = 4


@intrinsic
def prefetch(typingctx, array, index):
    """Hint the CPU to load ``array[index]`` (1-D array) into cache."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]])
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32])
        function = cgutils.get_or_insert_function(builder.module, function_type,
                                                  "llvm.prefetch.p0")  # fmt: skip
        # read access, high temporal locality, data cache
        builder.call(function, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3),
                                i32(1)])  # fmt: skip
        return context.get_dummy_value()

    return types.void(array, types.intp), codegen


@jit(inline="always")
def prefetch_row(X, i):
    """Prefetch row i of a C-contiguous 2-D array, one cache line at a time."""
    row = X[i]
    for j in range(0, row.shape[0], CACHE_LINE_FLOATS):
        prefetch(row, j)


@jit(inline="always")
def prefetch_csr_row(data, indices, indptr, i):
    """Prefetch the values and column indices of row i of a CSR matrix."""
    for q in range(indptr[i], indptr[i + 1], CACHE_LINE_FLOATS):
        prefetch(data, q)
        prefetch(indices, q)


@jit(inline="always")
def prefetch_sample(X, Y, sw, i):
    """Prefetch all that training reads of sample i: its row, targets and weight.

    In shuffled order the target and the weight are one random cache miss
    each, as costly as the row's; prefetching them too was measured to cut
    a one-output dense epoch by ~20%.
    """
    prefetch_row(X, i)
    prefetch(Y[i], 0)
    prefetch(sw, i)


@jit(inline="always")
def loss_grad(loss, epsilon, z, y, g):
    """Loss of one sample and its gradient with respect to ``z``.

    z, g : (n_outputs,), g written in place. y : (n_targets,) float64, the
    class index for the multinomial loss, 0/1 for the binary log-loss and
    for each output of the multilabel loss.
    """
    value = 0.0
    if loss == SQUARED_ERROR:
        for c in range(z.shape[0]):
            r = z[c] - y[c]
            g[c] = r
            value += 0.5 * r * r
    elif loss == HUBER:
        for c in range(z.shape[0]):
            r = z[c] - y[c]
            if abs(r) <= epsilon:
                g[c] = r
                value += 0.5 * r * r
            else:
                g[c] = epsilon if r > 0 else -epsilon
                value += epsilon * (abs(r) - 0.5 * epsilon)
    elif loss == EPSILON_INSENSITIVE:
        for c in range(z.shape[0]):
            r = z[c] - y[c]
            if abs(r) > epsilon:
                g[c] = 1.0 if r > 0 else -1.0
                value += abs(r) - epsilon
            else:
                g[c] = 0.0
    elif loss == LOG_LOSS:
        t = z[0]
        if t >= 0:  # log(1 + exp(t)) without overflow
            e = math.exp(-t)
            value = t + math.log1p(e) - y[0] * t
            g[0] = 1.0 / (1.0 + e) - y[0]
        else:
            e = math.exp(t)
            value = math.log1p(e) - y[0] * t
            g[0] = e / (1.0 + e) - y[0]
    elif loss == MULTILABEL:  # one independent sigmoid per output
        for c in range(z.shape[0]):
            t = z[c]
            if t >= 0:
                e = math.exp(-t)
                value += t + math.log1p(e) - y[c] * t
                g[c] = 1.0 / (1.0 + e) - y[c]
            else:
                e = math.exp(t)
                value += math.log1p(e) - y[c] * t
                g[c] = e / (1.0 + e) - y[c]
    else:  # MULTINOMIAL: softmax cross-entropy
        top = z[0]
        for c in range(1, z.shape[0]):
            top = max(top, z[c])
        total = 0.0
        for c in range(z.shape[0]):
            g[c] = math.exp(z[c] - top)
            total += g[c]
        label = int(y[0])
        value = top + math.log(total) - z[label]
        for c in range(z.shape[0]):
            g[c] /= total
        g[label] -= 1.0
    return value


@jit(inline="always")
def step_size(opt, lr, schedule, power_t, beta_1, beta_2, t):
    """Scalar step of optimiser step ``t`` (1-based), Adam's bias correction included."""
    eta = lr if schedule == CONSTANT else lr / t**power_t
    if opt == ADAM:
        eta *= math.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
    return eta


@jit(inline="always")
def soft_threshold(w, threshold):
    """Proximal operator of ``threshold * |w|``: exact zeros below the threshold."""
    if w > threshold:
        return w - threshold
    if w < -threshold:
        return w + threshold
    return 0.0


@jit(inline="always")
def step_coord(opt, w, g, m, v, eta, momentum, nesterov, beta_1, beta_2, eps, a1, a2):
    """One optimiser step on one parameter, then the L1 proximal step.

    ``g`` is the data gradient; the L2 part ``a2 * w`` is added here. For
    RMSprop ``beta_2`` is rho. Returns the new (w, m, v). The L1 threshold is
    scaled like the step: by Adam's or RMSprop's per-parameter
    preconditioner (the proximal step in that metric), and for momentum by
    1 / (1 - momentum), the step a constant gradient settles to, so that a
    weight whose data gradient is below the L1 strength stays exactly zero.
    """
    g = g + a2 * w
    if opt == SGD:  # m is the velocity
        m = momentum * m - eta * g
        w = w + (momentum * m - eta * g if nesterov else m)
        scale = 1.0 / (1.0 - momentum)
    elif opt == ADAM:
        m = beta_1 * m + (1.0 - beta_1) * g
        v = beta_2 * v + (1.0 - beta_2) * g * g
        scale = 1.0 / (math.sqrt(v) + eps)
        w = w - eta * scale * m
    else:  # RMSPROP
        v = beta_2 * v + (1.0 - beta_2) * g * g
        scale = 1.0 / (math.sqrt(v) + eps)
        w = w - eta * scale * g
    if a1 > 0.0:
        w = soft_threshold(w, eta * scale * a1)
    return w, m, v


@jit
def update_range(params, grad, grad_scale, m, v, lo, hi, opt, eta, momentum,
                 nesterov, beta_1, beta_2, eps, a1, a2):
    """Step params[lo:hi] with the data gradient grad[lo:hi] * grad_scale.

    Written so that LLVM vectorises it (measured 4-5 ns per parameter
    before, under 2 after): one loop per optimiser, so that no branch on
    ``opt`` is left inside, over slices indexed from 0, since an index that
    could be negative (``range(lo, hi)``) keeps a wraparound branch per access.
    """
    w, g, mq, vq = params[lo:hi], grad[lo:hi], m[lo:hi], v[lo:hi]
    if opt == SGD:
        for q in range(w.shape[0]):
            w[q], mq[q], vq[q] = step_coord(SGD, w[q], g[q] * grad_scale, mq[q], vq[q],
                                            eta, momentum, nesterov, beta_1, beta_2,
                                            eps, a1, a2)  # fmt: skip
    elif opt == ADAM:
        for q in range(w.shape[0]):
            w[q], mq[q], vq[q] = step_coord(ADAM, w[q], g[q] * grad_scale, mq[q], vq[q],
                                            eta, momentum, nesterov, beta_1, beta_2,
                                            eps, a1, a2)  # fmt: skip
    else:
        for q in range(w.shape[0]):
            w[q], mq[q], vq[q] = step_coord(RMSPROP, w[q], g[q] * grad_scale, mq[q],
                                            vq[q], eta, momentum, nesterov, beta_1,
                                            beta_2, eps, a1, a2)  # fmt: skip


@jit(inline="always")
def catch_up(w, scale, total_eta, a1, a2):
    """Penalty-only steps that a lazily updated parameter skipped, in closed form.

    On sparse data a feature absent from a batch has no data gradient; its
    optimiser state is frozen (as in PyTorch's SparseAdam) and only the
    penalty acts: L2 as exponential decay, L1 as one soft-threshold by the
    summed step ``total_eta``, both scaled by ``scale``, the factor that the
    frozen state applies to a step (``1 / (1 - momentum)`` for SGD,
    ``1 / (sqrt(v) + eps)`` for Adam and RMSprop, as in ``step_coord``).
    """
    if a2 > 0.0:
        w = w * math.exp(-total_eta * scale * a2)
    if a1 > 0.0:
        w = soft_threshold(w, total_eta * scale * a1)
    return w
