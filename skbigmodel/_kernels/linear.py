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
    exp_nonpositive,
    one_output_grad,
    outputs_grad,
    prefetch,
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
    X's dtype. One output: the dot products, then the losses in a loop that
    vectorises (``one_output_grad``), then the updates, the dot products and
    the updates four rows at a time (one thread, 500,000 x 100: 0.88x the time of one
    row at a time for the log-loss, 0.82-0.93x for the squared error).
    Several outputs: the rows are gathered into ``rows`` (>= hi - lo rows)
    for two BLAS products.
    """
    p, k = W.shape
    m = hi - lo
    for r in range(lo, min(lo + PREFETCH_ROWS, hi)):
        prefetch_sample(X, Y, sw, order[r])
    if k == 1:  # three passes over the chunk, whose rows stay in L1
        w, t, d = W.reshape(p), z.reshape(z.shape[0]), g.reshape(g.shape[0])
        # dot products, four rows at a time (each w[j] loaded once for four)
        for r in range(0, m - 3, 4):
            for e in range(r, r + 4):
                if lo + e + PREFETCH_ROWS < hi:
                    prefetch_sample(X, Y, sw, order[lo + e + PREFETCH_ROWS])
            i0, i1, i2, i3 = order[lo + r], order[lo + r + 1], order[lo + r + 2], order[lo + r + 3]
            a0 = a1 = a2 = a3 = 0.0  # X[i, j], not views X[i] (see steps.loss_grad)
            for j in range(p):
                a0 += X[i0, j] * w[j]
                a1 += X[i1, j] * w[j]
                a2 += X[i2, j] * w[j]
                a3 += X[i3, j] * w[j]
            t[r], t[r + 1], t[r + 2], t[r + 3] = a0, a1, a2, a3
        for r in range(m - m % 4, m):
            i = order[lo + r]
            acc = 0.0
            for j in range(p):
                acc += X[i, j] * w[j]
            t[r] = acc
        for r in range(m):
            t[r] += b[0]
        value, grad[p] = one_output_grad(t[:m], d[:m], Y, sw, order, lo, loss, epsilon)
        # updates, four rows at a time (each grad_w[j] loaded once for four)
        grad_w = grad[:p]
        grad_w[:] = 0.0
        for r in range(0, m - 3, 4):
            i0, i1, i2, i3 = order[lo + r], order[lo + r + 1], order[lo + r + 2], order[lo + r + 3]
            g0, g1, g2, g3 = d[r], d[r + 1], d[r + 2], d[r + 3]
            for j in range(p):
                grad_w[j] += (g0 * X[i0, j] + g1 * X[i1, j]) + (g2 * X[i2, j] + g3 * X[i3, j])
        for r in range(m - m % 4, m):
            i = order[lo + r]
            for j in range(p):
                grad_w[j] += d[r] * X[i, j]
        return value
    for r in range(m):
        if lo + r + PREFETCH_ROWS < hi:
            prefetch_sample(X, Y, sw, order[lo + r + PREFETCH_ROWS])
        i = order[lo + r]
        for j in range(p):  # a loop: the slice copy rows[r] = X[i] took 1.6x as long
            rows[r, j] = X[i, j]
    np.dot(rows[:m], W, z[:m])
    for r in range(m):
        for c in range(k):
            z[r, c] += b[c]
    value = outputs_grad(z, Y, sw, order, lo, m, loss, epsilon, g, grad[p * k :])
    np.dot(rows[:m].T, g[:m], grad[: p * k].reshape((p, k)))
    return value


@jit
def dense_epoch(X, Y, sw, order, batch_size, params, m, v, partial, rows, z, g,
                losses, loss, epsilon, opt, lr, schedule, power_t, momentum,
                nesterov, beta_1, beta_2, eps, a1, a2, weight_scale, step, total,
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
    on the number of threads. Returns (``total`` plus the weighted sample
    losses, added batch by batch, and the last step); the sum is complete
    on worker 0.
    """
    n_chunks, n_params = partial.shape
    k = z.shape[2]
    n_coef = n_params - k
    W = params[:n_coef].reshape((n_coef // k, k))
    b = params[n_coef:]
    n = order.shape[0]
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
def csr_parts(indices, indptr, col_cuts, bounds):
    """Cut each row of a CSR matrix with sorted indices at the columns ``col_cuts``.

    col_cuts : (n_parts + 1,) from 0 to n_features. bounds : (n_rows,
    n_parts + 1), overwritten: part t of row i is data[bounds[i, t]:bounds[i,
    t + 1]], the row's non-zeros in columns col_cuts[t] .. col_cuts[t + 1] - 1.
    """
    n_parts = col_cuts.shape[0] - 1
    for i in range(indptr.shape[0] - 1):
        lo, hi = indptr[i], indptr[i + 1]
        bounds[i, 0] = lo
        for t in range(1, n_parts):
            a, z = lo, hi  # the first q in [lo, hi) with indices[q] >= col_cuts[t]
            while a < z:
                mid = (a + z) // 2
                if indices[mid] < col_cuts[t]:
                    a = mid + 1
                else:
                    z = mid
            bounds[i, t] = a
            lo = a
        bounds[i, n_parts] = hi


@jit(inline="always")
def feature_at(indices, q, k, c):
    """``indices[q] * k + c`` as an unsigned index: Numba wraps negative
    indices around, a test and a select per access of a signed one
    (measured: 10% of a plain-SGD epoch on CSR data)."""
    return np.uintp(indices[q]) * np.uintp(k) + np.uintp(c)


@jit(inline="always")
def part_range(bounds, i, t):
    """(start, stop) of part t of row i in the CSR arrays (see ``csr_parts``),
    unsigned: with the int32 bounds of a small matrix, each access in the
    loop over them had two wraparound tests."""
    return np.uintp(bounds[i, t]), np.uintp(bounds[i, t + 1])


@jit(inline="always")
def prefetch_csr_ahead(data, indices, bounds, flat_bounds, order, r, t):
    """Prefetch what part t of the rows ahead of order[r] will read.

    Shuffled rows defeat the hardware prefetcher: ask for the bounds of a
    row 2 * PREFETCH_SPARSE_ROWS ahead, then, once they are in cache, for
    the values and column indices of the row PREFETCH_SPARSE_ROWS ahead.
    flat_bounds : ``bounds`` flattened (a view made once by the caller).
    """
    n = order.shape[0]
    if r + 2 * PREFETCH_SPARSE_ROWS < n:
        prefetch(flat_bounds, order[r + 2 * PREFETCH_SPARSE_ROWS] * bounds.shape[1])
    if r + PREFETCH_SPARSE_ROWS < n:
        i = order[r + PREFETCH_SPARSE_ROWS]
        for q in range(bounds[i, t], bounds[i, t + 1], CACHE_LINE_FLOATS):
            prefetch(data, q)
            prefetch(indices, q)


@jit(inline="always")
def csr_rows_grad(dots, Y, sw, order, start, stop, b, alpha, loss, epsilon, row_grads,
                  part_sums, first, last):  # fmt: skip
    """Gradients of the rows of slices first .. last - 1 of a batch on CSR X.

    A batch's rows order[start:stop] are cut into n_parts slices; a row's
    output is b + alpha * (its partial dots summed in part order). Writes
    row_grads (sw_i dloss_i/doutputs) and each slice's sums: part_sums[t,
    :k] of the gradients, part_sums[t, k] of the losses.
    """
    n_parts, _, k = dots.shape
    for t in range(first, last):
        lo = start + (stop - start) * t // n_parts
        hi = start + (stop - start) * (t + 1) // n_parts
        outputs = dots[0, lo - start : hi - start]  # overwritten: read only here
        for r in range(lo, hi):
            for c in range(k):
                acc = 0.0
                for u in range(n_parts):
                    acc += dots[u, r - start, c]
                outputs[r - lo, c] = b[c] + alpha * acc
        part_sums[t, k] = outputs_grad(outputs, Y, sw, order, lo, hi - lo, loss, epsilon,
                                       row_grads[lo - start : hi - start], part_sums[t])  # fmt: skip


@jit(inline="always")
def csr_intercept_step(params, m, v, part_sums, grad_scale, eta, opt, momentum,
                       nesterov, beta_1, beta_2, eps, fit_intercept):  # fmt: skip
    """The intercepts' step from a batch's slice sums; returns the batch's loss."""
    n_parts, k = part_sums.shape[0], part_sums.shape[1] - 1
    n_coef = params.shape[0] - k
    value = 0.0
    for t in range(n_parts):
        value += part_sums[t, k]
    if fit_intercept:
        for c in range(k):
            grad_b = 0.0
            for t in range(n_parts):
                grad_b += part_sums[t, c]
            q = n_coef + c
            params[q], m[q], v[q] = step_coord(
                opt, params[q], grad_b * grad_scale, m[q], v[q], eta, momentum,
                nesterov, beta_1, beta_2, eps, 0.0, 0.0,
            )  # fmt: skip
    return value


@jit
def csr_sgd_epoch(data, indices, bounds, col_cuts, Y, sw, order, batch_size, params,
                  m, v, dots, row_grads, part_sums, alpha_state, loss, epsilon,
                  opt, lr, schedule, power_t, momentum, nesterov, beta_1, beta_2, eps,
                  a1, a2, weight_scale, step, total, fit_intercept, first_batch, begin,
                  end, worker, n_workers, counter):  # fmt: skip
    """One epoch of plain SGD (no momentum) with an L2 penalty or none, on CSR X,
    on thread ``worker`` of ``n_workers`` that all run this function at once.

    Every step shrinks all the weights by (1 - eta * a2); as in
    scikit-learn's SGD, the weights are kept as ``alpha * params`` so that
    the shrinking is one product per batch and the steps are exactly those
    of the dense path, whichever features a batch holds. Since the step is
    linear in the gradient, each row's part is added to the weights
    directly, once the whole batch has been read: the work is that of a
    dot product and an update per non-zero, on the compact weight array.

    The features are cut into n_parts column ranges of about equal
    non-zeros (``csr_parts``; bounds : (n_rows, n_parts + 1), col_cuts :
    (n_parts + 1,)), and each thread owns a run of consecutive parts: it
    computes the partial dot products of its parts and applies their
    updates, so that its weights stay in its own core's cache. The rows'
    gradients are computed in between, the batch's rows cut into n_parts
    slices in the same way. A row's output is its partial dots summed in
    part order, the batch's gradient sums are summed in slice order: the
    result does not depend on the number of threads.

    Scratch: dots (n_parts, batch_size, n_outputs) and row_grads
    (batch_size, n_outputs) float64; part_sums (n_parts, n_outputs + 1)
    float64 (each slice's intercept gradient and loss). ``m`` and ``v`` of
    the weights are left alone (no momentum). Returns like ``dense_epoch``.

    An epoch may run as several calls on consecutive runs of its batches
    (``first_batch`` is the first one's number in the epoch): the scale
    ``alpha`` starts at 1 when ``begin`` and is folded into the weights
    when ``end``; in between it waits in alpha_state (1,), so the bits do
    not depend on how the epoch was split.
    """
    n_parts = col_cuts.shape[0] - 1
    k = row_grads.shape[1]
    n_coef = params.shape[0] - k
    b = params[n_coef:]
    flat_bounds = bounds.reshape(bounds.size)  # prefetch through a view made once
    first = worker * n_parts // n_workers  # this thread's parts: first .. last - 1
    last = (worker + 1) * n_parts // n_workers
    n = order.shape[0]
    alpha = 1.0 if begin else alpha_state[0]
    meeting = 0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        step += 1
        for t in range(first, last):  # partial dots of this thread's features
            for r in range(start, stop):
                prefetch_csr_ahead(data, indices, bounds, flat_bounds, order, r, t)
                i = order[r]
                lo, hi = part_range(bounds, i, t)
                for c in range(k):
                    acc = 0.0  # a register, not dots[...] in memory
                    for q in range(lo, hi):
                        acc += data[q] * params[feature_at(indices, q, k, c)]
                    dots[t, r - start, c] = acc
        meeting += 1
        barrier(counter, n_workers, meeting)
        csr_rows_grad(dots, Y, sw, order, start, stop, b, alpha, loss, epsilon,
                      row_grads, part_sums, first, last)  # fmt: skip
        meeting += 1
        barrier(counter, n_workers, meeting)
        eta = step_size(opt, lr, schedule, power_t, beta_1, beta_2, step)
        grad_scale = weight_scale / (stop - start)
        alpha *= 1.0 - eta * a2
        factor = -eta * grad_scale / alpha
        for t in range(first, last):  # the batch's rows are still in cache
            for r in range(start, stop):
                i = order[r]
                lo, hi = part_range(bounds, i, t)
                for c in range(k):
                    f = factor * row_grads[r - start, c]
                    if f != 0.0:
                        for q in range(lo, hi):
                            params[feature_at(indices, q, k, c)] += f * data[q]
        if alpha < 1e-9:  # fold alpha in before it underflows: rare
            for q in range(col_cuts[first] * k, col_cuts[last] * k):
                params[q] *= alpha
            alpha = 1.0
        if worker == 0:
            total += csr_intercept_step(params, m, v, part_sums, grad_scale, eta, opt,
                                        momentum, nesterov, beta_1, beta_2, eps,
                                        fit_intercept)  # fmt: skip
    if end:
        for q in range(col_cuts[first] * k, col_cuts[last] * k):
            params[q] *= alpha
    elif worker == 0:  # all threads hold the same alpha
        alpha_state[0] = alpha
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
    state comes into cache once per batch, not twice. Then, if ``lazy``,
    the penalty-only steps of the batches that ``skipped`` it. Scalars only:
    arrays passed to a helper cost reference counting. Returns the new
    (w, m, v, scale).
    """
    if stepped:
        w, m, v = step_coord(opt, w, g, m, v, eta, momentum, nesterov, beta_1, beta_2,
                             eps, a1, a2)  # fmt: skip
        scale = penalty_scale(opt, v, momentum, eps)
    if lazy and skipped != 0.0:
        decay = math.exp(-skipped * scale * a2) if a2 > 0.0 else 1.0
        w = catch_up(w, decay, scale, skipped, a1)
    return w, m, v, scale


@jit
def csr_epoch(data, indices, bounds, col_cuts, Y, sw, order, batch_size, params, m, v,
              state, dots, row_grads, part_sums, fresh, fresh_last, etas,
              grad_scales, cum_eta, loss, epsilon, opt, lr, schedule, power_t,
              momentum, nesterov, beta_1, beta_2, eps, a1, a2, weight_scale, step,
              total, fit_intercept, first_batch, begin, end, worker, n_workers,
              counter):  # fmt: skip
    """One epoch of mini-batch training on CSR X, in O(non-zeros), on thread
    ``worker`` of ``n_workers`` that all run this function at once.

    state : (n_features, csr_state_width(n_outputs)) float64, 64-byte
    aligned: each feature's weights, moments, summed gradient, penalty
    scale (k each) and last batch on one cache line. fresh, fresh_last :
    (n_parts, max non-zeros in a row) int64. etas, grad_scales :
    (n_batches,) and cum_eta : (n_batches + 1,) float64, cum_eta[0] = 0,
    indexed by batch number in the epoch. The state is loaded from params,
    m and v when ``begin`` and written back when ``end``: an epoch may run
    as several calls on consecutive runs of its batches (``first_batch``
    the first one's number), with the bits of one call. The other
    arguments as ``csr_sgd_epoch``, whose division of the work between
    threads this kernel shares: each thread owns the features of its parts,
    their state included.

    Only the parameters of features present in a batch take an optimiser
    step. The penalty steps that the others skip are applied lazily,
    when they are next read and at the end of the epoch (``catch_up``); the
    exponentials of a row's L2 decays go through one loop, which vectorises
    (libm's scalar ``exp`` there took a fifth of an Adam epoch).
    A feature's step itself waits until the feature is next met (``settle``):
    its cache line, fetched while the rows are read, is then the only one
    it costs per batch; a step pass at the end of each batch found the
    batch's lines already evicted. Returns like ``dense_epoch``.
    """
    n_parts = col_cuts.shape[0] - 1
    k = row_grads.shape[1]
    n_coef = params.shape[0] - k
    b = params[n_coef:]
    fresh, fresh_last = fresh[worker], fresh_last[worker]
    flat_bounds = bounds.reshape(bounds.size)  # prefetch through views made once
    flat_state = state.reshape(state.size)
    width = state.shape[1]
    first = worker * n_parts // n_workers  # this thread's parts: first .. last - 1
    last = (worker + 1) * n_parts // n_workers
    lazy = a1 > 0.0 or a2 > 0.0
    M, V, G, S, LAST = k, 2 * k, 3 * k, 4 * k, 5 * k  # columns of state
    decay = np.empty(fresh.shape[0] * k)  # the exponents, then factors, of a row's L2
    for j in range(col_cuts[first], col_cuts[last] if begin else 0):
        for c in range(k):
            state[j, c] = params[j * k + c]
            state[j, M + c] = m[j * k + c]
            state[j, V + c] = v[j * k + c]
            state[j, G + c] = 0.0
            state[j, S + c] = penalty_scale(opt, v[j * k + c], momentum, eps)
        state[j, LAST] = -1.0
    n = order.shape[0]
    meeting = 0
    s = first_batch  # batch number within the epoch
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        step += 1
        if worker == 0:  # read by all from the next batch on, past two barriers
            etas[s] = step_size(opt, lr, schedule, power_t, beta_1, beta_2, step)
            cum_eta[s + 1] = cum_eta[s] + etas[s]
            grad_scales[s] = weight_scale / (stop - start)
        for t in range(first, last):  # partial dots of this thread's features
            for r in range(start, stop):
                prefetch_csr_ahead(data, indices, bounds, flat_bounds, order, r, t)
                if r + 1 < n:  # the state of the next row's features
                    ahead = order[r + 1]
                    for q in range(bounds[ahead, t], bounds[ahead, t + 1]):
                        prefetch(flat_state, indices[q] * width)
                i = order[r]
                lo, hi = part_range(bounds, i, t)
                # The row's features first seen in this batch, without a
                # branch that a cache miss would keep unresolved; then bring
                # them up to date in a loop of their own.
                n_fresh = 0
                for q in range(lo, hi):
                    j = np.uintp(indices[q])
                    seen = int(state[j, LAST])
                    fresh[n_fresh] = j
                    fresh_last[n_fresh] = seen
                    state[j, LAST] = s
                    n_fresh += seen != s
                for u in range(n_fresh):
                    j, seen = np.uintp(fresh[u]), fresh_last[u]
                    stepped = seen >= 0
                    eta = etas[seen] if stepped else 0.0
                    grad_scale = grad_scales[seen] if stepped else 0.0
                    skipped = cum_eta[s] - cum_eta[seen + 1]  # batches seen + 1 .. s - 1
                    for c in range(k):
                        (state[j, c], state[j, M + c], state[j, V + c],
                         state[j, S + c]) = settle(
                            opt, state[j, c], state[j, G + c] * grad_scale,
                            state[j, M + c], state[j, V + c], state[j, S + c], eta,
                            skipped, momentum, nesterov, beta_1, beta_2, eps, a1, a2,
                            stepped, False)  # fmt: skip
                        state[j, G + c] = 0.0
                        decay[u * k + c] = -skipped * state[j, S + c] * a2
                if lazy:  # the skipped penalties, their exponentials in one loop
                    for u in range(n_fresh * k):
                        decay[u] = exp_nonpositive(decay[u])
                    for u in range(n_fresh):
                        j = np.uintp(fresh[u])
                        skipped = cum_eta[s] - cum_eta[fresh_last[u] + 1]
                        for c in range(k):
                            state[j, c] = catch_up(state[j, c], decay[u * k + c],
                                                   state[j, S + c], skipped, a1)  # fmt: skip
                for c in range(k):
                    acc = 0.0  # a register, not dots[...] in memory
                    for q in range(lo, hi):
                        acc += data[q] * flat_state[feature_at(indices, q, width, c)]
                    dots[t, r - start, c] = acc
        meeting += 1
        barrier(counter, n_workers, meeting)
        csr_rows_grad(dots, Y, sw, order, start, stop, b, 1.0, loss, epsilon,
                      row_grads, part_sums, first, last)  # fmt: skip
        meeting += 1
        barrier(counter, n_workers, meeting)
        for t in range(first, last):  # the batch's rows are still in cache
            for r in range(start, stop):
                i = order[r]
                lo, hi = part_range(bounds, i, t)
                for c in range(k):
                    gc = row_grads[r - start, c]
                    if gc != 0.0:
                        for q in range(lo, hi):
                            flat_state[feature_at(indices, q, width, G + c)] += gc * data[q]
        if worker == 0:
            total += csr_intercept_step(params, m, v, part_sums, grad_scales[s], etas[s],
                                        opt, momentum, nesterov, beta_1, beta_2, eps,
                                        fit_intercept)  # fmt: skip
        s += 1
    # Deferred steps and skipped penalties of this thread's features: O(n_features).
    for j in range(col_cuts[first], col_cuts[last] if end else 0):
        seen = int(state[j, LAST])
        stepped = seen >= 0
        eta = etas[seen] if stepped else 0.0
        grad_scale = grad_scales[seen] if stepped else 0.0
        skipped = cum_eta[s] - cum_eta[seen + 1]
        for c in range(k):
            params[j * k + c], m[j * k + c], v[j * k + c], _ = settle(
                opt, state[j, c], state[j, G + c] * grad_scale, state[j, M + c],
                state[j, V + c], state[j, S + c], eta, skipped, momentum, nesterov,
                beta_1, beta_2, eps, a1, a2, stepped, lazy)  # fmt: skip
    return total, step
