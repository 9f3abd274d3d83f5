"""Training kernels of linear networks: one call runs one whole epoch.

A linear network keeps its parameters in one flat vector: the weights ``W``
of shape (n_features, n_outputs), row-major (the layout of an MLP layer, so
that ``X @ W`` is a BLAS product on C-contiguous arrays), followed by the
intercepts ``b`` of shape (n_outputs,). Optimiser
moments ``m`` and ``v`` are float64 vectors of the same length.

The mini-batch loop runs inside compiled code, on one thread or on several
Python threads that meet at a barrier twice per batch (a fraction of a
microsecond when all run); a Python call per batch into a parallel kernel
was measured up to 60x slower on a loaded machine.

The steps they share with other kernels (losses, optimisers, prefetch) are
in ``steps.py``.
"""

import math

import numpy as np

from .._numba import DOT_MATH, jit
from .steps import (
    CACHE_LINE_FLOATS,
    PREFETCH_ROWS,
    PREFETCH_SPARSE_ROWS,
    SGD,
    catch_up,
    loss_grad,
    prefetch,
    prefetch_csr_row,
    prefetch_sample,
    step_coord,
    step_size,
    update_range,
)
from .sync import barrier


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
        prefetch_sample(X, Y, sw, order[r])
    value = 0.0
    if k == 1:
        w = W.reshape(p)
        grad_w = grad[:p]
        grad_w[:] = 0.0
        grad[p] = 0.0
        for r in range(lo, hi):
            if r + PREFETCH_ROWS < hi:
                prefetch_sample(X, Y, sw, order[r + PREFETCH_ROWS])
            i = order[r]
            weight = sw[i]
            if weight == 0.0:
                continue
            acc = 0.0  # X[i, j], not a view X[i] (see loss_grad)
            for j in range(p):
                acc += X[i, j] * w[j]
            z[0, 0] = acc + b[0]
            value += weight * loss_grad(loss, epsilon, z, 0, Y, i, g)
            gi = weight * g[0, 0]
            grad[p] += gi
            for j in range(p):
                grad_w[j] += gi * X[i, j]
        return value
    for r in range(m):
        if lo + r + PREFETCH_ROWS < hi:
            prefetch_sample(X, Y, sw, order[lo + r + PREFETCH_ROWS])
        rows[r] = X[order[lo + r]]
    np.dot(rows[:m], W, z[:m])
    for c in range(k):
        grad[k * p + c] = 0.0
    for r in range(m):
        i = order[lo + r]
        weight = sw[i]
        for c in range(k):
            z[r, c] += b[c]
        value += weight * loss_grad(loss, epsilon, z, r, Y, i, g)
        for c in range(k):
            g[r, c] *= weight
            grad[k * p + c] += g[r, c]
    np.dot(rows[:m].T, g[:m], grad[: p * k].reshape((p, k)))
    return value


@jit
def dense_epoch(X, Y, sw, order, batch_size, params, m, v, partial, rows, z, g,
                losses, loss, epsilon, opt, lr, schedule, power_t, momentum,
                nesterov, beta_1, beta_2, eps, a1, a2, weight_scale, step,
                fit_intercept, worker, n_workers, counter):  # fmt: skip
    """One epoch of mini-batch training on dense C-contiguous X, on thread
    ``worker`` of ``n_workers`` that all run this function at once.

    X : (n_samples, n_features) float32/64. Y : (n_samples, n_targets) float64.
    sw : (n_samples,) float64. order : (n_rows,) int64, the rows in visiting
    order. params : flat parameters in X's dtype; m, v : float64 moments;
    all three updated in place. Scratch in X's dtype: partial (n_chunks,
    len(params)); rows (n_chunks, chunk_rows, n_features); z, g (n_chunks,
    chunk_rows, n_outputs). losses : (n_chunks,) float64. counter : (1,)
    int64, zero, the threads' meeting count (see ``sync.barrier``).

    A batch is split into n_chunks fixed slices, each thread taking a run of
    consecutive slices; their gradients are summed in a fixed order by
    thread 0, which also steps the parameters, so the result does not depend
    on the number of threads. Returns (sum of weighted sample losses, the
    last step); the sum is complete on worker 0.
    """
    n_chunks, n_params = partial.shape
    k = z.shape[2]
    n_coef = n_params - k
    W = params[:n_coef].reshape((n_coef // k, k))
    b = params[n_coef:]
    n = order.shape[0]
    total = 0.0
    meeting = 0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        step += 1
        for c in range(worker * n_chunks // n_workers,
                       (worker + 1) * n_chunks // n_workers):  # fmt: skip
            lo = start + (stop - start) * c // n_chunks
            hi = start + (stop - start) * (c + 1) // n_chunks
            losses[c] = dense_rows_grad(X, Y, sw, order, lo, hi, W, b, loss, epsilon,
                                        partial[c], rows[c], z[c], g[c])  # fmt: skip
        meeting += 1
        barrier(counter, n_workers, meeting)
        if worker == 0:
            for c in range(1, n_chunks):  # fixed order: bits independent of threads
                for q in range(n_params):
                    partial[0, q] += partial[c, q]
            for c in range(n_chunks):
                total += losses[c]
            eta = step_size(opt, lr, schedule, power_t, beta_1, beta_2, step)
            grad_scale = weight_scale / (stop - start)
            update_range(params, partial[0], grad_scale, m, v, 0, n_coef, opt, eta,
                         momentum, nesterov, beta_1, beta_2, eps, a1, a2)  # fmt: skip
            if fit_intercept:
                update_range(params, partial[0], grad_scale, m, v, n_coef, n_params,
                             opt, eta, momentum, nesterov, beta_1, beta_2, eps, 0.0,
                             0.0)  # fmt: skip
        meeting += 1
        barrier(counter, n_workers, meeting)
    return total, step


@jit(inline="always")
def csr_weight_scaled(opt, momentum, a1, a2, lr):
    """Whether a CSR epoch goes to ``csr_sgd_epoch`` (plain SGD, L2 or no penalty).

    The factor 1 - eta * a2 must stay positive (eta <= lr in every schedule).
    """
    return opt == SGD and momentum == 0.0 and a1 == 0.0 and lr * a2 < 0.5


@jit
def csr_sgd_epoch(data, indices, indptr, Y, sw, order, batch_size, params, m, v,
                  z, g, grad_b, row_grads, loss, epsilon, opt, lr, schedule, power_t,
                  momentum, nesterov, beta_1, beta_2, eps, a1, a2, weight_scale, step,
                  fit_intercept):  # fmt: skip
    """One epoch of plain SGD (no momentum) with an L2 penalty or none, on CSR X.

    Every step shrinks all the weights by (1 - eta * a2); as in
    scikit-learn's SGD, the weights are kept as ``alpha * params`` so that
    the shrinking is one product per batch and the steps are exactly those
    of the dense path, whichever features a batch holds. Since the step is
    linear in the gradient, each row's part is added to the weights
    directly, once the whole batch has been read: the work is that of a
    dot product and an update per non-zero, on the compact weight array.

    Arguments as ``csr_epoch``; row_grads : (batch_size, n_outputs) float64
    scratch. ``m`` and ``v`` of the weights are left alone (no momentum).
    """
    k = grad_b.shape[0]
    n_coef = params.shape[0] - k
    b = params[n_coef:]
    n = order.shape[0]
    alpha = 1.0
    total = 0.0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        step += 1
        for c in range(k):
            grad_b[c] = 0.0
        for r in range(start, stop):
            # Shuffled rows defeat the hardware prefetcher: ask for the CSR
            # arrays of a row 4 ahead (prefetching the weights of the next
            # row as well did not pay: they are a compact array).
            if r + PREFETCH_SPARSE_ROWS < n:
                prefetch_csr_row(data, indices, indptr, order[r + PREFETCH_SPARSE_ROWS])
            i = order[r]
            w = sw[i]
            for c in range(k):
                row_grads[r - start, c] = 0.0
            if w == 0.0:
                continue
            lo, hi = indptr[i], indptr[i + 1]
            for c in range(k):
                acc = 0.0  # a register, not z[0, c] in memory
                for q in range(lo, hi):
                    acc += data[q] * params[indices[q] * k + c]
                z[0, c] = b[c] + alpha * acc
            total += w * loss_grad(loss, epsilon, z, 0, Y, i, g)
            for c in range(k):
                row_grads[r - start, c] = w * g[0, c]
                grad_b[c] += w * g[0, c]
        eta = step_size(opt, lr, schedule, power_t, beta_1, beta_2, step)
        grad_scale = weight_scale / (stop - start)
        alpha *= 1.0 - eta * a2
        factor = -eta * grad_scale / alpha
        for r in range(start, stop):  # the batch's rows are still in cache
            i = order[r]
            for c in range(k):
                f = factor * row_grads[r - start, c]
                if f != 0.0:
                    for q in range(indptr[i], indptr[i + 1]):
                        params[indices[q] * k + c] += f * data[q]
        if alpha < 1e-9:  # fold alpha in before it underflows: rare
            for q in range(n_coef):
                params[q] *= alpha
            alpha = 1.0
        if fit_intercept:
            for c in range(k):
                q = n_coef + c
                params[q], m[q], v[q] = step_coord(
                    opt, params[q], grad_b[c] * grad_scale, m[q], v[q], eta, momentum,
                    nesterov, beta_1, beta_2, eps, 0.0, 0.0,
                )  # fmt: skip
    for q in range(n_coef):
        params[q] *= alpha
    return total, step


@jit(inline="always")
def penalty_scale(opt, v, momentum, eps):
    """The factor by which ``step_coord`` scales a step of the penalty.

    The same expressions as there, so that LLVM computes them once.
    """
    if opt == SGD:
        return 1.0 / (1.0 - momentum)
    return 1.0 / (math.sqrt(v) + eps)


def csr_state_width(n_outputs):
    """Floats per feature in ``csr_epoch``'s state: whole 64-byte cache lines."""
    return -(-(5 * n_outputs + 1) // CACHE_LINE_FLOATS) * CACHE_LINE_FLOATS


@jit(inline="always")
def settle(opt, w, g, m, v, scale, eta, skipped, momentum, nesterov, beta_1, beta_2,
           eps, a1, a2, stepped, lazy):  # fmt: skip
    """One parameter of a feature that ``csr_epoch`` meets again, brought up to date.

    First the optimiser step of the batch that last held the feature, if
    any (``stepped``): it was deferred until now so that the feature's
    state comes into cache once per batch, not twice. Then the
    penalty-only steps of the batches that ``skipped`` it. Scalars only:
    arrays passed to a helper cost reference counting. Returns the new
    (w, m, v, scale).
    """
    if stepped:
        w, m, v = step_coord(opt, w, g, m, v, eta, momentum, nesterov, beta_1, beta_2,
                             eps, a1, a2)  # fmt: skip
        scale = penalty_scale(opt, v, momentum, eps)
    if lazy and skipped != 0.0:
        w = catch_up(w, scale, skipped, a1, a2)
    return w, m, v, scale


@jit
def csr_epoch(data, indices, indptr, Y, sw, order, batch_size, params, m, v, state,
              z, g, grad_b, fresh, fresh_last, etas, grad_scales, cum_eta, loss,
              epsilon, opt, lr, schedule, power_t, momentum, nesterov, beta_1, beta_2,
              eps, a1, a2, weight_scale, step, fit_intercept):  # fmt: skip
    """One epoch of mini-batch training on CSR X, in O(non-zeros).

    data/indices/indptr : the CSR arrays (float32/64; int32/64). state :
    (n_features, csr_state_width(n_outputs)) float64, 64-byte aligned:
    each feature's weights, moments, summed gradient, penalty scale (k
    each) and last batch on one cache line. z, g : (1, n_outputs) and grad_b : (n_outputs,)
    float64. fresh, fresh_last : (max non-zeros in a row,) int64. etas,
    grad_scales : (n_batches,) and cum_eta : (n_batches + 1,) float64.

    Only the parameters of features present in a batch take an optimiser
    step. The penalty steps that the others skip are applied lazily,
    when they are next read and at the end of the epoch (``catch_up``).
    A feature's step itself waits until the feature is next met (``settle``):
    its cache line, fetched while the rows are read, is then the only one
    it costs per batch; a step pass at the end of each batch found the
    batch's lines already evicted. Returns like ``dense_epoch``.
    """
    k = grad_b.shape[0]
    p = state.shape[0]
    n_coef = k * p
    lazy = a1 > 0.0 or a2 > 0.0
    flat_state = state.reshape(state.size)  # prefetch through a view made once
    width = state.shape[1]
    M, V, G, S, LAST = k, 2 * k, 3 * k, 4 * k, 5 * k  # columns of state
    for j in range(p):
        for c in range(k):
            state[j, c] = params[j * k + c]
            state[j, M + c] = m[j * k + c]
            state[j, V + c] = v[j * k + c]
            state[j, G + c] = 0.0
            state[j, S + c] = penalty_scale(opt, v[j * k + c], momentum, eps)
        state[j, LAST] = -1.0
    b = params[n_coef:]
    n = order.shape[0]
    total = 0.0
    s = 0  # batch number within the epoch
    cum_eta[0] = 0.0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        step += 1
        etas[s] = step_size(opt, lr, schedule, power_t, beta_1, beta_2, step)
        cum_eta[s + 1] = cum_eta[s] + etas[s]
        grad_scales[s] = weight_scale / (stop - start)
        for c in range(k):
            grad_b[c] = 0.0
        for r in range(start, stop):
            # Shuffled rows defeat the hardware prefetcher: ask for the CSR
            # arrays of a row 4 ahead and for the features of the next.
            if r + PREFETCH_SPARSE_ROWS < n:
                prefetch_csr_row(data, indices, indptr, order[r + PREFETCH_SPARSE_ROWS])
            if r + 1 < n:
                ahead = order[r + 1]
                for q in range(indptr[ahead], indptr[ahead + 1]):
                    prefetch(flat_state, indices[q] * width)
            i = order[r]
            w = sw[i]
            if w == 0.0:
                continue
            lo, hi = indptr[i], indptr[i + 1]
            # The row's features first seen in this batch, without a branch
            # that a cache miss would keep unresolved; then bring them up
            # to date in a loop of their own.
            n_fresh = 0
            for q in range(lo, hi):
                j = indices[q]
                last = int(state[j, LAST])
                fresh[n_fresh] = j
                fresh_last[n_fresh] = last
                state[j, LAST] = s
                n_fresh += last != s
            for u in range(n_fresh):
                j, last = fresh[u], fresh_last[u]
                stepped = last >= 0
                eta = etas[last] if stepped else 0.0
                grad_scale = grad_scales[last] if stepped else 0.0
                skipped = cum_eta[s] - cum_eta[last + 1]  # batches last + 1 .. s - 1
                for c in range(k):
                    (state[j, c], state[j, M + c], state[j, V + c],
                     state[j, S + c]) = settle(
                        opt, state[j, c], state[j, G + c] * grad_scale,
                        state[j, M + c], state[j, V + c], state[j, S + c], eta,
                        skipped, momentum, nesterov, beta_1, beta_2, eps, a1, a2,
                        stepped, lazy)  # fmt: skip
                    state[j, G + c] = 0.0
            for c in range(k):
                acc = 0.0  # a register, not z[0, c] in memory
                for q in range(lo, hi):
                    acc += data[q] * state[indices[q], c]
                z[0, c] = b[c] + acc
            total += w * loss_grad(loss, epsilon, z, 0, Y, i, g)
            for c in range(k):
                gc = w * g[0, c]
                grad_b[c] += gc
                for q in range(lo, hi):
                    state[indices[q], G + c] += gc * data[q]
        if fit_intercept:
            for c in range(k):
                q = n_coef + c
                params[q], m[q], v[q] = step_coord(
                    opt, params[q], grad_b[c] * grad_scales[s], m[q], v[q], etas[s],
                    momentum, nesterov, beta_1, beta_2, eps, 0.0, 0.0,
                )  # fmt: skip
        s += 1
    for j in range(p):  # deferred steps and skipped penalties: O(n_features)
        last = int(state[j, LAST])
        stepped = last >= 0
        eta = etas[last] if stepped else 0.0
        grad_scale = grad_scales[last] if stepped else 0.0
        skipped = cum_eta[s] - cum_eta[last + 1]
        for c in range(k):
            params[j * k + c], m[j * k + c], v[j * k + c], _ = settle(
                opt, state[j, c], state[j, G + c] * grad_scale, state[j, M + c],
                state[j, V + c], state[j, S + c], eta, skipped, momentum, nesterov,
                beta_1, beta_2, eps, a1, a2, stepped, lazy)  # fmt: skip
    return total, step
