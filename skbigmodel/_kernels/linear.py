"""Training kernels of linear networks: one call runs one whole epoch.

A linear network keeps its parameters in one flat vector: the weights ``W``
of shape (n_features, n_outputs), row-major (the layout of an MLP layer, so
that ``X @ W`` is a BLAS product on C-contiguous arrays), followed by the
intercepts ``b`` of shape (n_outputs,). Optimiser
moments ``m`` and ``v`` are float64 vectors of the same length.

The mini-batch loop runs inside compiled code: a parallel region per batch
costs microseconds here, whereas a Python call per batch into a parallel
kernel was measured up to 60x slower on a loaded machine.

Everything a kernel calls lives in this file, since Numba's disk cache only
notices edits to the file that defines the cached function.
"""

import math

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from .._numba import DOT_MATH, jit

# Loss codes; ``skbigmodel._losses`` maps names to them.
SQUARED_ERROR, HUBER, EPSILON_INSENSITIVE, LOG_LOSS, MULTINOMIAL = 0, 1, 2, 3, 4
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
def loss_grad(loss, epsilon, z, y, g):
    """Loss of one sample and its gradient with respect to ``z``.

    z, g : (n_outputs,) float64, g written in place. y : (n_targets,) float64,
    the class index for the multinomial loss, 0/1 for the binary log-loss.
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
    """Step params[lo:hi] with the data gradient grad[lo:hi] * grad_scale."""
    for q in range(lo, hi):
        params[q], m[q], v[q] = step_coord(opt, params[q], grad[q] * grad_scale, m[q],
                                           v[q], eta, momentum, nesterov, beta_1,
                                           beta_2, eps, a1, a2)


@jit(fastmath=DOT_MATH)
def dense_rows_grad(X, Y, sw, order, lo, hi, W, b, loss, epsilon, grad, rows, z, g):
    """Weighted loss and gradient of rows order[lo:hi] of a C-contiguous X.

    grad : (n_features * n_outputs + n_outputs,) in X's dtype, overwritten
    with sum_i sw_i dloss_i/dparams. z, g : (>= hi - lo, n_outputs) scratch in
    X's dtype. One output: each row is read once, its dot product and its
    gradient update fused while it sits in L1. Several outputs: the rows are
    gathered into ``rows`` (>= hi - lo rows) for two BLAS products.
    """
    p, k = W.shape
    m = hi - lo
    for r in range(lo, min(lo + PREFETCH_ROWS, hi)):
        prefetch_row(X, order[r])
    value = 0.0
    if k == 1:
        w = W.reshape(p)
        grad_w = grad[:p]
        grad_w[:] = 0.0
        grad[p] = 0.0
        for r in range(lo, hi):
            if r + PREFETCH_ROWS < hi:
                prefetch_row(X, order[r + PREFETCH_ROWS])
            i = order[r]
            weight = sw[i]
            if weight == 0.0:
                continue
            x = X[i]
            acc = 0.0
            for j in range(p):
                acc += x[j] * w[j]
            z[0, 0] = acc + b[0]
            value += weight * loss_grad(loss, epsilon, z[0], Y[i], g[0])
            gi = weight * g[0, 0]
            grad[p] += gi
            for j in range(p):
                grad_w[j] += gi * x[j]
        return value
    for r in range(m):
        if lo + r + PREFETCH_ROWS < hi:
            prefetch_row(X, order[lo + r + PREFETCH_ROWS])
        rows[r] = X[order[lo + r]]
    np.dot(rows[:m], W, z[:m])
    for c in range(k):
        grad[k * p + c] = 0.0
    for r in range(m):
        i = order[lo + r]
        weight = sw[i]
        for c in range(k):
            z[r, c] += b[c]
        value += weight * loss_grad(loss, epsilon, z[r], Y[i], g[r])
        for c in range(k):
            g[r, c] *= weight
            grad[k * p + c] += g[r, c]
    np.dot(rows[:m].T, g[:m], grad[: p * k].reshape((p, k)))
    return value


@jit(parallel=True)
def dense_epoch(X, Y, sw, order, batch_size, params, m, v, partial, rows, z, g,
                losses, loss, epsilon, opt, lr, schedule, power_t, momentum,
                nesterov, beta_1, beta_2, eps, a1, a2, weight_scale, step,
                fit_intercept):
    """One epoch of mini-batch training on dense C-contiguous X.

    X : (n_samples, n_features) float32/64. Y : (n_samples, n_targets) float64.
    sw : (n_samples,) float64. order : (n_rows,) int64, the rows in visiting
    order. params : flat parameters in X's dtype; m, v : float64 moments;
    all three updated in place. Scratch in X's dtype: partial (n_chunks,
    len(params)); rows (n_chunks, chunk_rows, n_features); z, g (n_chunks,
    chunk_rows, n_outputs). losses : (n_chunks,) float64.

    A batch is split into n_chunks fixed slices whose gradients are summed
    in a fixed order, so the result does not depend on the thread count.
    Returns (sum of weighted sample losses, the last step number).
    """
    n_chunks, n_params = partial.shape
    k = z.shape[2]
    n_coef = n_params - k
    W = params[:n_coef].reshape((n_coef // k, k))
    b = params[n_coef:]
    n = order.shape[0]
    total = 0.0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        step += 1
        if n_chunks == 1:
            losses[0] = dense_rows_grad(X, Y, sw, order, start, stop, W, b, loss,
                                        epsilon, partial[0], rows[0], z[0], g[0])
        else:
            for c in nb.prange(n_chunks):
                lo = start + (stop - start) * c // n_chunks
                hi = start + (stop - start) * (c + 1) // n_chunks
                losses[c] = dense_rows_grad(X, Y, sw, order, lo, hi, W, b, loss,
                                            epsilon, partial[c], rows[c], z[c], g[c])
            for c in range(1, n_chunks):  # fixed order: bits independent of threads
                for q in range(n_params):
                    partial[0, q] += partial[c, q]
        for c in range(n_chunks):
            total += losses[c]
        eta = step_size(opt, lr, schedule, power_t, beta_1, beta_2, step)
        grad_scale = weight_scale / (stop - start)
        update_range(params, partial[0], grad_scale, m, v, 0, n_coef, opt, eta,
                     momentum, nesterov, beta_1, beta_2, eps, a1, a2)
        if fit_intercept:
            update_range(params, partial[0], grad_scale, m, v, n_coef, n_params, opt,
                         eta, momentum, nesterov, beta_1, beta_2, eps, 0.0, 0.0)
    return total, step


@jit(inline="always")
def catch_up(opt, w, v, total_eta, momentum, eps, a1, a2):
    """Penalty-only steps that a lazily updated parameter skipped, in closed form.

    On sparse data a feature absent from a batch has no data gradient; its
    optimiser state is frozen (as in PyTorch's SparseAdam) and only the
    penalty acts: L2 as exponential decay, L1 as one soft-threshold by the
    summed step ``total_eta`` (both scaled by the frozen preconditioner).
    """
    scale = 1.0 / (1.0 - momentum) if opt == SGD else 1.0 / (math.sqrt(v) + eps)
    if a2 > 0.0:
        w = w * math.exp(-total_eta * scale * a2)
    if a1 > 0.0:
        w = soft_threshold(w, total_eta * scale * a1)
    return w


@jit
def csr_epoch(data, indices, indptr, Y, sw, order, batch_size, params, m, v, state,
              z, g, grad_b, touched, cum_eta, loss, epsilon, opt, lr, schedule,
              power_t, momentum, nesterov, beta_1, beta_2, eps, a1, a2,
              weight_scale, step, fit_intercept):
    """One epoch of mini-batch training on CSR X, in O(non-zeros).

    data/indices/indptr : the CSR arrays (float32/64; int32/64). state :
    (n_features, >= 4 * n_outputs + 2) float64 scratch holding, per feature,
    its weights, moments, gradient, last-touched batch and last-updated
    batch side by side: a non-zero then costs one cache line, not six.
    z, g, grad_b : (n_outputs,) float64. touched : (n_features,) int64.
    cum_eta : (n_batches + 1,) float64. Only the parameters of features
    present in a batch take an optimiser step; the penalty steps that the
    others skip are applied when they are next read and at the end of the
    epoch (``catch_up``). Returns like ``dense_epoch``.
    """
    p = state.shape[0]
    k = z.shape[0]
    n_coef = k * p
    M, V, G, MARK, LAST = k, 2 * k, 3 * k, 4 * k, 4 * k + 1  # column offsets
    for j in range(p):
        for c in range(k):
            state[j, c] = params[j * k + c]
            state[j, M + c] = m[j * k + c]
            state[j, V + c] = v[j * k + c]
            state[j, G + c] = 0.0
        state[j, MARK] = -1.0
        state[j, LAST] = -1.0
    b = params[n_coef:]
    n = order.shape[0]
    total = 0.0
    s = 0  # batch number within the epoch
    cum_eta[0] = 0.0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        step += 1
        n_touched = 0
        for c in range(k):
            grad_b[c] = 0.0
        for r in range(start, stop):
            # Shuffled rows defeat the hardware prefetcher: ask for the CSR
            # arrays of a row 4 ahead and for the feature state of the next.
            if r + PREFETCH_SPARSE_ROWS < n:
                ahead = order[r + PREFETCH_SPARSE_ROWS]
                for q in range(indptr[ahead], indptr[ahead + 1], CACHE_LINE_FLOATS):
                    prefetch(data, q)
                    prefetch(indices, q)
            if r + 1 < n:
                ahead = order[r + 1]
                for q in range(indptr[ahead], indptr[ahead + 1]):
                    prefetch(state[indices[q]], 0)
            i = order[r]
            w = sw[i]
            if w == 0.0:
                continue
            lo, hi = indptr[i], indptr[i + 1]
            for c in range(k):
                z[c] = b[c]
            for q in range(lo, hi):
                j = indices[q]
                if state[j, MARK] != s:
                    state[j, MARK] = s
                    touched[n_touched] = j
                    n_touched += 1
                    last = int(state[j, LAST])
                    if last < s - 1:
                        skipped = cum_eta[s] - cum_eta[last + 1]
                        for c in range(k):
                            state[j, c] = catch_up(opt, state[j, c], state[j, V + c],
                                                   skipped, momentum, eps, a1, a2)  # fmt: skip
                for c in range(k):
                    z[c] += data[q] * state[j, c]
            total += w * loss_grad(loss, epsilon, z, Y[i], g)
            for c in range(k):
                gc = w * g[c]
                grad_b[c] += gc
                for q in range(lo, hi):
                    state[indices[q], G + c] += gc * data[q]
        eta = step_size(opt, lr, schedule, power_t, beta_1, beta_2, step)
        cum_eta[s + 1] = cum_eta[s] + eta
        grad_scale = weight_scale / (stop - start)
        for u in range(n_touched):
            j = touched[u]
            for c in range(k):  # scalars only: no array refcounting
                state[j, c], state[j, M + c], state[j, V + c] = step_coord(
                    opt, state[j, c], state[j, G + c] * grad_scale, state[j, M + c],
                    state[j, V + c], eta, momentum, nesterov, beta_1, beta_2, eps,
                    a1, a2,
                )  # fmt: skip
                state[j, G + c] = 0.0
            state[j, LAST] = s
        if fit_intercept:
            for c in range(k):
                q = n_coef + c
                params[q], m[q], v[q] = step_coord(
                    opt, params[q], grad_b[c] * grad_scale, m[q], v[q], eta, momentum,
                    nesterov, beta_1, beta_2, eps, 0.0, 0.0,
                )  # fmt: skip
        s += 1
    for j in range(p):  # flush the skipped penalty steps; O(n_features) per epoch
        last = int(state[j, LAST])
        for c in range(k):
            if last < s - 1:
                state[j, c] = catch_up(opt, state[j, c], state[j, V + c],
                                       cum_eta[s] - cum_eta[last + 1], momentum, eps,
                                       a1, a2)  # fmt: skip
            params[j * k + c] = state[j, c]
            m[j * k + c] = state[j, M + c]
            v[j * k + c] = state[j, V + c]
    return total, step
