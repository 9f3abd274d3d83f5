"""Training kernels of linear networks: one call runs one whole epoch.

A linear network keeps its parameters in one flat vector: the coefficients
``W`` of shape (n_outputs, n_features), row-major (scikit-learn's ``coef_``
layout), followed by the intercepts ``b`` of shape (n_outputs,). Optimiser
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

from .._numba import DOT_MATH, jit

# Loss codes; ``skbigmodel._losses`` maps names to them.
SQUARED_ERROR, HUBER, EPSILON_INSENSITIVE, LOG_LOSS, MULTINOMIAL = 0, 1, 2, 3, 4
# Optimiser codes; ``skbigmodel._optimizers`` maps names to them.
SGD, ADAM, RMSPROP = 0, 1, 2
# Learning-rate schedules inside an epoch ("adaptive" is constant here and
# is lowered between epochs by the training loop).
CONSTANT, INVSCALING = 0, 1


@jit
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
            total += math.exp(z[c] - top)
        log_norm = top + math.log(total)
        label = int(y[0])
        value = log_norm - z[label]
        for c in range(z.shape[0]):
            g[c] = math.exp(z[c] - log_norm)
        g[label] -= 1.0
    return value


@jit
def step_size(opt, lr, schedule, power_t, beta_1, beta_2, t):
    """Scalar step of optimiser step ``t`` (1-based), Adam's bias correction included."""
    eta = lr if schedule == CONSTANT else lr / t**power_t
    if opt == ADAM:
        eta *= math.sqrt(1.0 - beta_2**t) / (1.0 - beta_1**t)
    return eta


@jit
def soft_threshold(w, threshold):
    """Proximal operator of ``threshold * |w|``: exact zeros below the threshold."""
    if w > threshold:
        return w - threshold
    if w < -threshold:
        return w + threshold
    return 0.0


@jit
def step_coord(opt, w, g, m, v, eta, momentum, nesterov, beta_1, beta_2, eps, a1, a2):
    """One optimiser step on one parameter, then the L1 proximal step.

    ``g`` is the data gradient; the L2 part ``a2 * w`` is added here. For
    RMSprop ``beta_2`` is rho. Returns the new (w, m, v). The L1 threshold is
    scaled like the step, by Adam's or RMSprop's per-parameter
    preconditioner: the proximal step in that metric.
    """
    g = g + a2 * w
    if opt == SGD:  # m is the velocity
        m = momentum * m - eta * g
        w = w + (momentum * m - eta * g if nesterov else m)
        scale = 1.0
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
def dense_rows_grad(X, Y, sw, order, lo, hi, W, b, loss, epsilon, grad, z, g):
    """Weighted loss and gradient of rows order[lo:hi] of a C-contiguous X.

    grad : (n_outputs * n_features + n_outputs,) float64, overwritten with
    sum_i sw_i dloss_i/dparams. Rows of weight zero are skipped entirely.
    """
    k, p = W.shape
    grad[:] = 0.0
    value = 0.0
    for r in range(lo, hi):
        i = order[r]
        w = sw[i]
        if w == 0.0:
            continue
        x = X[i]
        for c in range(k):
            acc = 0.0
            for j in range(p):
                acc += x[j] * W[c, j]
            z[c] = acc + b[c]
        value += w * loss_grad(loss, epsilon, z, Y[i], g)
        for c in range(k):
            gc = w * g[c]
            grad[k * p + c] += gc
            row = c * p
            for j in range(p):
                grad[row + j] += gc * x[j]
    return value


@jit(parallel=True)
def dense_epoch(X, Y, sw, order, batch_size, params, m, v, partial, z, g, losses,
                loss, epsilon, opt, lr, schedule, power_t, momentum, nesterov,
                beta_1, beta_2, eps, a1, a2, weight_scale, step, fit_intercept):
    """One epoch of mini-batch training on dense C-contiguous X.

    X : (n_samples, n_features) float32/64. Y : (n_samples, n_targets) float64.
    sw : (n_samples,) float64. order : (n_rows,) int64, the rows in visiting
    order. params : flat parameters in X's dtype; m, v : float64 moments;
    all three updated in place. partial : (n_chunks, len(params)) float64,
    z, g : (n_chunks, n_outputs) float64, losses : (n_chunks,) float64 scratch.

    A batch is split into n_chunks fixed slices whose gradients are summed
    in a fixed order, so the result does not depend on the thread count.
    Returns (sum of weighted sample losses, the last step number).
    """
    n_chunks, n_params = partial.shape
    k = z.shape[1]
    n_coef = n_params - k
    p = n_coef // k
    W = params[:n_coef].reshape((k, p))
    b = params[n_coef:]
    n = order.shape[0]
    total = 0.0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        step += 1
        if n_chunks == 1:
            losses[0] = dense_rows_grad(X, Y, sw, order, start, stop, W, b, loss,
                                        epsilon, partial[0], z[0], g[0])
        else:
            for c in nb.prange(n_chunks):
                lo = start + (stop - start) * c // n_chunks
                hi = start + (stop - start) * (c + 1) // n_chunks
                losses[c] = dense_rows_grad(X, Y, sw, order, lo, hi, W, b, loss,
                                            epsilon, partial[c], z[c], g[c])
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


@jit
def catch_up(opt, w, v, total_eta, eps, a1, a2):
    """Penalty-only steps that a lazily updated parameter skipped, in closed form.

    On sparse data a feature absent from a batch has no data gradient; its
    optimiser state is frozen (as in PyTorch's SparseAdam) and only the
    penalty acts: L2 as exponential decay, L1 as one soft-threshold by the
    summed step ``total_eta`` (both scaled by the frozen preconditioner).
    """
    scale = 1.0 if opt == SGD else 1.0 / (math.sqrt(v) + eps)
    if a2 > 0.0:
        w = w * math.exp(-total_eta * scale * a2)
    if a1 > 0.0:
        w = soft_threshold(w, total_eta * scale * a1)
    return w


@jit
def csr_epoch(data, indices, indptr, Y, sw, order, batch_size, params, m, v, grad,
              z, g, touched, mark, last, cum_eta, loss, epsilon, opt, lr, schedule,
              power_t, momentum, nesterov, beta_1, beta_2, eps, a1, a2,
              weight_scale, step, fit_intercept):
    """One epoch of mini-batch training on CSR X, in O(non-zeros).

    data/indices/indptr : the CSR arrays (float32/64; int32/64). grad :
    float64 like params, all zero on entry and on return. touched, mark,
    last : (n_features,) int64 scratch, mark and last all -1 on entry and on
    return. cum_eta : (n_batches + 1,) float64 scratch. Only the parameters of
    features present in a batch take an optimiser step; the penalty steps
    that the others skip are applied when they are next read and at the end
    of the epoch (``catch_up``). Returns like ``dense_epoch``.
    """
    p = mark.shape[0]
    k = z.shape[0]
    n_coef = k * p
    W = params[:n_coef].reshape((k, p))
    b = params[n_coef:]
    n = order.shape[0]
    total = 0.0
    s = 0  # batch number within the epoch
    cum_eta[0] = 0.0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        step += 1
        n_touched = 0
        for r in range(start, stop):
            i = order[r]
            w = sw[i]
            if w == 0.0:
                continue
            lo, hi = indptr[i], indptr[i + 1]
            for q in range(lo, hi):
                j = indices[q]
                if mark[j] != s:
                    mark[j] = s
                    touched[n_touched] = j
                    n_touched += 1
                    if last[j] < s - 1:
                        skipped = cum_eta[s] - cum_eta[last[j] + 1]
                        for c in range(k):
                            W[c, j] = catch_up(opt, W[c, j], v[c * p + j], skipped,
                                               eps, a1, a2)
            for c in range(k):
                z[c] = b[c]
            for q in range(lo, hi):
                j = indices[q]
                for c in range(k):
                    z[c] += data[q] * W[c, j]
            total += w * loss_grad(loss, epsilon, z, Y[i], g)
            for c in range(k):
                gc = w * g[c]
                grad[n_coef + c] += gc
                for q in range(lo, hi):
                    grad[c * p + indices[q]] += gc * data[q]
        eta = step_size(opt, lr, schedule, power_t, beta_1, beta_2, step)
        cum_eta[s + 1] = cum_eta[s] + eta
        grad_scale = weight_scale / (stop - start)
        for u in range(n_touched):
            j = touched[u]
            for c in range(k):
                q = c * p + j
                update_range(params, grad, grad_scale, m, v, q, q + 1, opt, eta,
                             momentum, nesterov, beta_1, beta_2, eps, a1, a2)
                grad[q] = 0.0
            last[j] = s
        if fit_intercept:
            update_range(params, grad, grad_scale, m, v, n_coef, n_coef + k, opt, eta,
                         momentum, nesterov, beta_1, beta_2, eps, 0.0, 0.0)
        for c in range(k):
            grad[n_coef + c] = 0.0
        s += 1
    for j in range(p):  # flush the skipped penalty steps; O(n_features) per epoch
        if last[j] < s - 1:
            skipped = cum_eta[s] - cum_eta[last[j] + 1]
            for c in range(k):
                W[c, j] = catch_up(opt, W[c, j], v[c * p + j], skipped, eps, a1, a2)
        last[j] = -1
        mark[j] = -1
    return total, step
