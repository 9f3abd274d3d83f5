"""Epoch kernel of plain SGD on CSR data: weights kept as a scale times a vector."""

from .._jit import jit
from .averaging import (
    averaging_counts,
    averaging_from,
    close_window,
    mean_range,
    scatter,
    store_counts,
)
from .csr import (
    csr_intercept_step,
    csr_rows_grad,
    feature_at,
    part_range,
    prefetch_csr_ahead,
)
from .optimizers import intercept_step_size, step_size
from .sync import barrier


@jit
def csr_sgd_epoch(csr, segment, hyper, state, scratch, team):
    """One epoch (or a segment of one) of plain SGD (no momentum) with an L2
    penalty or none, on CSR X, on thread ``team.worker`` of
    ``team.n_workers`` that all run this function at once. The arguments
    are bundles (``bundles.py``); ``csr`` is a ``CSRData``.

    Every step shrinks all the weights by (1 - eta * a2); as in
    scikit-learn's SGD, the weights are kept as ``alpha * params`` so that
    the shrinking is one product per batch and the steps are exactly those
    of the dense path, whichever features a batch holds. Since the step is
    linear in the gradient, each row's part is added to the weights
    directly, once the whole batch has been read: the work is that of a
    dot product and an update per non-zero, on the compact weight array.

    The features are cut into n_parts column ranges of about equal
    non-zeros (``csr.csr_parts``; bounds : (n_rows, n_parts + 1), col_cuts
    : (n_parts + 1,)), and each thread owns a run of consecutive parts: it
    computes the partial dot products of its parts and applies their
    updates, so that its weights stay in its own core's cache. The rows'
    gradients are computed in between, the batch's rows cut into n_parts
    slices in the same way. A row's output is its partial dots summed in
    part order, the batch's gradient sums are summed in slice order: the
    result does not depend on the number of threads.

    Scratch (a ``CSRScratch``): dots (n_parts, batch_size, n_outputs) and
    row_grads (batch_size, n_outputs) float64; part_sums (n_parts,
    n_outputs + 1) float64 (each slice's intercept gradient and loss). ``m``
    and ``v`` of the weights are left alone (no momentum). Returns like
    ``dense_epoch``.

    An epoch may run as several calls on consecutive runs of its batches
    (``segment.first_batch`` is the first one's number in the epoch): the
    scale ``alpha`` starts at 1 on the epoch's first batch and is folded
    into the weights when ``segment.end``; in between it waits in
    scratch.alpha_state (1,), so the bits do not depend on how the epoch was
    split.
    """
    data, indices, bounds, col_cuts = csr.data, csr.indices, csr.bounds, csr.col_cuts
    order, batch_size, step, total = (
        segment.order,
        segment.batch_size,
        segment.step,
        segment.total,
    )
    begin, end = segment.first_batch == 0, segment.end
    worker, n_workers, counter = team
    params = state.params
    dots, row_grads, alpha_state = scratch.dots, scratch.row_grads, scratch.alpha_state
    optimizer, a2 = hyper.optimizer, hyper.penalty.a2
    n_parts = col_cuts.shape[0] - 1
    k = row_grads.shape[1]
    n_coef = params.shape[0] - k
    b = params[n_coef:]
    flat_bounds = bounds.reshape(bounds.size)  # prefetch through a view made once
    first = worker * n_parts // n_workers  # this thread's parts: first .. last - 1
    last = (worker + 1) * n_parts // n_workers
    n = order.shape[0]
    alpha = 1.0 if begin else alpha_state[0]
    avg = state.avg  # averaged SGD (``averaging.py``), or None
    averaged, window, weight = averaging_counts(avg)
    own_lo, own_hi = col_cuts[first] * k, col_cuts[last] * k  # this thread's weights
    meeting = 0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        step += 1
        for r in range(start, stop):  # partial dots of this thread's features
            prefetch_csr_ahead(
                data, indices, bounds, flat_bounds, order, r, first, last
            )
            i = order[r]
            for t in range(first, last):
                lo, hi = part_range(bounds, i, t, t + 1)
                for c in range(k):
                    acc = 0.0  # a register, not dots[...] in memory
                    for q in range(lo, hi):
                        acc += data[q] * params[feature_at(indices, q, k, c)]
                    dots[t, r - start, c] = acc
        meeting += 1
        barrier(counter, n_workers, meeting)
        csr_rows_grad(
            scratch,
            csr,
            order,
            start,
            stop,
            b,
            alpha,
            hyper.loss,
            first,
            last,
            hyper.pa,
        )
        meeting += 1
        barrier(counter, n_workers, meeting)
        eta = step_size(optimizer, step, batch_size, stop - start, hyper.weight_scale)
        grad_scale = hyper.weight_scale / (stop - start)
        alpha *= 1.0 - eta * a2
        factor = -eta * grad_scale / alpha
        for r in range(start, stop):  # the batch's rows are still in cache
            lo, hi = part_range(bounds, order[r], first, last)  # this thread's parts
            for c in range(k):
                f = factor * row_grads[r - start, c]
                if f != 0.0:
                    scatter(params, avg, indices, data, lo, hi, k, c, f, weight)
        averaging = averaging_from(avg, step, batch_size, stop - start)
        if averaging:
            window += 1.0
            weight += alpha
        if alpha < 1e-9:  # fold alpha in before it underflows: rare
            close_window(avg, params, own_lo, own_hi, averaged, window, weight)
            averaged, window, weight = averaged + window, 0.0, 0.0
            for q in range(own_lo, own_hi):
                params[q] *= alpha
            alpha = 1.0
        if worker == 0:
            total += csr_intercept_step(
                state,
                scratch.part_sums,
                grad_scale,
                intercept_step_size(optimizer, eta, stop - start, hyper.weight_scale),
                optimizer,
                hyper.fit_intercept,
            )
            if averaging:
                n_coef_end = n_coef + k
                mean_range(avg, params, n_coef, n_coef_end, averaged + window)
    if end:
        close_window(avg, params, own_lo, own_hi, averaged, window, weight)
        averaged, window, weight = averaged + window, 0.0, 0.0
        for q in range(own_lo, own_hi):
            params[q] *= alpha
    elif worker == 0:  # all threads hold the same alpha
        alpha_state[0] = alpha
    if worker == 0:
        store_counts(avg, averaged, window, weight)
    return total, step
