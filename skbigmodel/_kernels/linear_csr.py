"""Epoch kernel of every optimiser on CSR data, in O(non-zeros) per epoch."""

import math

import numpy as np

from .._jit import jit
from .csr import (
    csr_intercept_step,
    csr_rows_grad,
    feature_at,
    part_range,
    prefetch_csr_ahead,
)
from .mathfn import exp_nonpositive
from .memory import CACHE_LINE_FLOATS, prefetch
from .optimizers import intercept_step_size, penalty_scale, step_coord, step_size
from .penalties import catch_up
from .sync import barrier


def csr_state_width(n_outputs):
    """Floats per feature in ``csr_epoch``'s state: whole 64-byte cache lines."""
    return -(-(5 * n_outputs + 1) // CACHE_LINE_FLOATS) * CACHE_LINE_FLOATS


@jit(inline="always")
def settle(optimizer, penalty, w, g, m, v, scale, eta, skipped, stepped, lazy):
    """One parameter of a feature that ``csr_epoch`` meets again, brought up to date.

    First the optimiser step of the batch that last held the feature, if
    any (``stepped``): it was deferred until now so that the feature's
    state comes into cache once per batch, not twice. Then, if ``lazy``,
    the penalty-only steps of the batches that ``skipped`` it. Scalars only:
    arrays passed to a helper cost reference counting. Returns the new
    (w, m, v, scale).
    """
    a1, a2 = penalty
    if stepped:
        w, m, v = step_coord(optimizer, w, g, m, v, eta, a1, a2)
        scale = penalty_scale(optimizer, v)
    if lazy and skipped != 0.0:
        decay = math.exp(-skipped * scale * a2) if a2 > 0.0 else 1.0
        w = catch_up(w, decay, scale, skipped, a1)
    return w, m, v, scale


@jit
def csr_epoch(csr, segment, hyper, model, scratch, team):
    """One epoch (or a segment of one) of mini-batch training on CSR X, in
    O(non-zeros), on thread ``team.worker`` of ``team.n_workers`` that all
    run this function at once. The arguments are bundles (``bundles.py``);
    ``model`` is the ``State`` of params, m and v.

    Scratch (a ``CSRScratch``): state (n_features,
    csr_state_width(n_outputs)) float64, 64-byte aligned: each feature's
    weights, moments, summed gradient, penalty scale (k each) and last batch
    on one cache line. fresh, fresh_last : (n_parts, max non-zeros in a row)
    int64. etas, grad_scales : (n_batches,) and cum_eta : (n_batches + 1,)
    float64, cum_eta[0] = 0, indexed by batch number in the epoch. The state
    is loaded from params, m and v on the epoch's first batch and written
    back when ``segment.end``: an epoch may run as several calls on
    consecutive runs of its batches (``segment.first_batch`` the first one's
    number), with the bits of one call. The rest as ``csr_sgd_epoch``, whose
    division of the work between threads this kernel shares: each thread
    owns the features of its parts, their state included.

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
    data, indices, bounds, col_cuts = csr.data, csr.indices, csr.bounds, csr.col_cuts
    order, batch_size, step, total = (
        segment.order,
        segment.batch_size,
        segment.step,
        segment.total,
    )
    first_batch, begin, end = segment.first_batch, segment.first_batch == 0, segment.end
    worker, n_workers, counter = team
    params, m, v = model.params, model.m, model.v
    state, dots, row_grads = scratch.state, scratch.dots, scratch.row_grads
    etas, grad_scales, cum_eta = scratch.etas, scratch.grad_scales, scratch.cum_eta
    optimizer, penalty = hyper.optimizer, hyper.penalty
    a1, a2 = penalty
    n_parts = col_cuts.shape[0] - 1
    k = row_grads.shape[1]
    n_coef = params.shape[0] - k
    b = params[n_coef:]
    fresh, fresh_last = scratch.fresh[worker], scratch.fresh_last[worker]
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
            state[j, S + c] = penalty_scale(optimizer, v[j * k + c])
        state[j, LAST] = -1.0
    n = order.shape[0]
    meeting = 0
    s = first_batch  # batch number within the epoch
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        step += 1
        if worker == 0:  # read by all from the next batch on, past two barriers
            etas[s] = step_size(
                optimizer, step, batch_size, stop - start, hyper.weight_scale
            )
            cum_eta[s + 1] = cum_eta[s] + etas[s]
            grad_scales[s] = hyper.weight_scale / (stop - start)
        for r in range(start, stop):  # partial dots of this thread's features
            prefetch_csr_ahead(
                data, indices, bounds, flat_bounds, order, r, first, last
            )
            i = order[r]
            for t in range(first, last):
                if r + 1 < n:  # the state of the next row's features
                    ahead = order[r + 1]
                    for q in range(bounds[ahead, t], bounds[ahead, t + 1]):
                        prefetch(flat_state, indices[q] * width)
                lo, hi = part_range(bounds, i, t, t + 1)
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
                    skipped = (
                        cum_eta[s] - cum_eta[seen + 1]
                    )  # batches seen + 1 .. s - 1
                    for c in range(k):
                        (
                            state[j, c],
                            state[j, M + c],
                            state[j, V + c],
                            state[j, S + c],
                        ) = settle(
                            optimizer,
                            penalty,
                            state[j, c],
                            state[j, G + c] * grad_scale,
                            state[j, M + c],
                            state[j, V + c],
                            state[j, S + c],
                            eta,
                            skipped,
                            stepped,
                            False,
                        )
                        state[j, G + c] = 0.0
                        decay[u * k + c] = -skipped * state[j, S + c] * a2
                if lazy:  # the skipped penalties, their exponentials in one loop
                    for u in range(n_fresh * k):
                        decay[u] = exp_nonpositive(decay[u])
                    for u in range(n_fresh):
                        j = np.uintp(fresh[u])
                        skipped = cum_eta[s] - cum_eta[fresh_last[u] + 1]
                        for c in range(k):
                            state[j, c] = catch_up(
                                state[j, c],
                                decay[u * k + c],
                                state[j, S + c],
                                skipped,
                                a1,
                            )
                for c in range(k):
                    acc = 0.0  # a register, not dots[...] in memory
                    for q in range(lo, hi):
                        acc += data[q] * flat_state[feature_at(indices, q, width, c)]
                    dots[t, r - start, c] = acc
        meeting += 1
        barrier(counter, n_workers, meeting)
        csr_rows_grad(
            scratch, csr, order, start, stop, b, 1.0, hyper.loss, first, last, hyper.pa
        )
        meeting += 1
        barrier(counter, n_workers, meeting)
        for r in range(start, stop):  # the batch's rows are still in cache
            lo, hi = part_range(bounds, order[r], first, last)  # this thread's parts
            for c in range(k):
                gc = row_grads[r - start, c]
                if gc != 0.0:
                    for q in range(lo, hi):
                        flat_state[feature_at(indices, q, width, G + c)] += gc * data[q]
        if worker == 0:
            total += csr_intercept_step(
                model,
                scratch.part_sums,
                grad_scales[s],
                intercept_step_size(
                    optimizer, etas[s], stop - start, hyper.weight_scale
                ),
                optimizer,
                hyper.fit_intercept,
            )
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
                optimizer,
                penalty,
                state[j, c],
                state[j, G + c] * grad_scale,
                state[j, M + c],
                state[j, V + c],
                state[j, S + c],
                eta,
                skipped,
                stepped,
                lazy,
            )
    return total, step
