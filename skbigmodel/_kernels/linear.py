"""Training kernels of linear networks: one call runs one whole epoch.

A linear network keeps its parameters in one flat vector: the weights ``W``
of shape (n_features, n_outputs), row-major (the layout of an MLP layer, so
that ``X @ W`` is a BLAS product on C-contiguous arrays), followed by the
intercepts ``b`` of shape (n_outputs,). Optimiser
moments ``m`` and ``v`` are float64 vectors of the same length.

The mini-batch loop runs inside compiled code: a parallel region per batch
costs microseconds here, whereas a Python call per batch into a parallel
kernel was measured up to 60x slower on a loaded machine.

The steps they share with other kernels (losses, optimisers, prefetch) are
in ``steps.py``.
"""

import numba as nb
import numpy as np

from .._numba import DOT_MATH, jit
from .steps import (
    CACHE_LINE_FLOATS,
    PREFETCH_ROWS,
    PREFETCH_SPARSE_ROWS,
    catch_up,
    loss_grad,
    prefetch,
    prefetch_row,
    step_coord,
    step_size,
    update_range,
)


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
