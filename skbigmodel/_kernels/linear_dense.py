"""Epoch kernel of linear networks on dense data.

A linear network keeps its parameters in one flat vector: the weights ``W``
of shape (n_features, n_outputs), row-major (the layout of an MLP layer, so
that ``X @ W`` is a BLAS product on C-contiguous arrays), followed by the
intercepts ``b`` of shape (n_outputs,).

The mini-batch loop runs inside compiled code, on one thread or on several
Python threads that meet at a barrier twice per batch (a fraction of a
microsecond when all run); a Python call per batch into a parallel kernel
was measured up to 60x slower on a loaded machine.
"""

import numpy as np
from numba.core import types
from numba.extending import overload

from .._jit import DOT_MATH, KERNEL_OPTIONS, jit
from .averaging import average_step
from .bundles import Penalty
from .losses import one_output_grad, outputs_grad
from .memory import PREFETCH_ROWS, prefetch_sample
from .optimizers import step_size, update_range
from .passive_aggressive import pa_rescale_one, pa_rescale_rows
from .sync import barrier

NO_PENALTY = Penalty(0.0, 0.0)  # intercepts are not penalised


@jit(fastmath=DOT_MATH)
def dense_rows_grad(data, order, lo, hi, W, b, loss, grad, rows, z, g, pa=None):
    """Weighted loss and gradient of rows order[lo:hi] of ``data`` (a
    ``DenseData``); ``loss`` a ``Loss`` bundle.

    grad : (n_features * n_outputs + n_outputs,) in X's dtype, overwritten
    with sum_i sw_i dloss_i/dparams. z, g : (>= hi - lo, n_outputs) scratch in
    X's dtype. One output: the dot products, then the losses in a loop that
    vectorises (``one_output_grad``), then the updates, the dot products and
    the updates four rows at a time (one thread, 500,000 x 100: 0.88x the time of one
    row at a time for the log-loss, 0.82-0.93x for the squared error).
    Several outputs: the rows are gathered into ``rows`` (>= hi - lo rows)
    for two BLAS products. ``rows`` is None for one output: which of the
    two is compiled follows from its type. ``pa`` (``Hyper.pa``): the
    passive-aggressive steps scale the rows' gradients
    (``passive_aggressive.py``); None compiles nothing.
    """
    X, Y, sw = data
    for r in range(lo, min(lo + PREFETCH_ROWS, hi)):
        prefetch_sample(X, Y, sw, order[r])
    return rows_grad_of(data, order, lo, hi, W, b, loss, grad, rows, z, g, pa)


def rows_grad_of(data, order, lo, hi, W, b, loss, grad, rows, z, g, pa):
    """``dense_rows_grad`` after the prefetch (compiled code only)."""


def _one_output_rows_grad(data, order, lo, hi, W, b, loss, grad, rows, z, g, pa):
    """One output: three passes over the chunk, whose rows stay in L1."""
    X, Y, sw = data
    p = W.shape[0]
    m = hi - lo
    w, t, d = W.reshape(p), z.reshape(z.shape[0]), g.reshape(g.shape[0])
    # dot products, four rows at a time (each w[j] loaded once for four)
    for r in range(0, m - 3, 4):
        for e in range(r, r + 4):
            if lo + e + PREFETCH_ROWS < hi:
                prefetch_sample(X, Y, sw, order[lo + e + PREFETCH_ROWS])
        i0, i1, i2, i3 = (
            order[lo + r],
            order[lo + r + 1],
            order[lo + r + 2],
            order[lo + r + 3],
        )
        a0 = a1 = a2 = a3 = 0.0  # X[i, j], not views X[i] (see losses.loss_grad)
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
    value, grad_b = one_output_grad(t[:m], d[:m], Y, sw, order, lo, loss)
    grad[p] = pa_rescale_one(pa, X, order, lo, m, t, d, grad_b)
    # updates, four rows at a time (each grad_w[j] loaded once for four)
    grad_w = grad[:p]
    grad_w[:] = 0.0
    for r in range(0, m - 3, 4):
        i0, i1, i2, i3 = (
            order[lo + r],
            order[lo + r + 1],
            order[lo + r + 2],
            order[lo + r + 3],
        )
        g0, g1, g2, g3 = d[r], d[r + 1], d[r + 2], d[r + 3]
        for j in range(p):
            grad_w[j] += (g0 * X[i0, j] + g1 * X[i1, j]) + (
                g2 * X[i2, j] + g3 * X[i3, j]
            )
    for r in range(m - m % 4, m):
        i = order[lo + r]
        for j in range(p):
            grad_w[j] += d[r] * X[i, j]
    return value


def _gathered_rows_grad(data, order, lo, hi, W, b, loss, grad, rows, z, g, pa):
    """Several outputs: rows gathered for two BLAS products."""
    X, Y, sw = data
    p, k = W.shape
    m = hi - lo
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
    value = outputs_grad(z, Y, sw, order, lo, m, loss, g, grad[p * k :])
    pa_rescale_rows(pa, rows, z, g, Y, order, lo, m, loss, grad, p * k)
    np.dot(rows[:m].T, g[:m], grad[: p * k].reshape((p, k)))
    return value


# A function of its own, compiled with dense_rows_grad's options: an inlined
# overload would be compiled twice (once for its type, once inlined).
@overload(rows_grad_of, jit_options=dict(KERNEL_OPTIONS, fastmath=DOT_MATH))
def _rows_grad_of(data, order, lo, hi, W, b, loss, grad, rows, z, g, pa):
    if isinstance(rows, (types.NoneType, types.Omitted)):
        return _one_output_rows_grad
    return _gathered_rows_grad


def rows_of(rows, c):
    """``rows[c]``, or None when ``rows`` is None (compiled code only)."""


@overload(rows_of, inline="always")
def _rows_of(rows, c):
    if isinstance(rows, (types.NoneType, types.Omitted)):
        return lambda rows, c: None
    return lambda rows, c: rows[c]


@jit
def dense_epoch(data, segment, hyper, state, scratch, team):
    """One epoch (or a segment of one) of mini-batch training on dense data,
    on thread ``team.worker`` of ``team.n_workers`` that all run this
    function at once. The arguments are bundles (``bundles.py``).

    data : ``DenseData``. state : ``State``, parameters in X's dtype and
    float64 moments, updated in place. scratch : ``DenseScratch`` in X's
    dtype: partial (n_chunks, len(params)); rows (n_chunks, chunk_rows,
    n_features), None for one output; z, g (n_chunks, chunk_rows, n_outputs); losses (n_chunks,)
    float64.

    A batch is split into n_chunks fixed slices, each thread taking a run of
    consecutive slices; their gradients are summed in a fixed order by
    thread 0, which also steps the parameters, so the result does not depend
    on the number of threads. Returns (``segment.total`` plus the weighted
    sample losses, added batch by batch, and the last step); the sum is
    complete on worker 0.
    """
    order, batch_size, step, total = (
        segment.order,
        segment.batch_size,
        segment.step,
        segment.total,
    )
    worker, n_workers, counter = team
    partial, rows, z, g, losses = scratch
    optimizer = hyper.optimizer
    params = state.params
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
        for c in range(
            worker * n_chunks // n_workers, (worker + 1) * n_chunks // n_workers
        ):
            lo = start + (stop - start) * c // n_chunks
            hi = start + (stop - start) * (c + 1) // n_chunks
            losses[c] = dense_rows_grad(
                data,
                order,
                lo,
                hi,
                W,
                b,
                hyper.loss,
                partial[c],
                rows_of(rows, c),
                z[c],
                g[c],
                hyper.pa,
            )
        meeting += 1
        barrier(counter, n_workers, meeting)
        if worker == 0:
            for c in range(1, n_chunks):  # fixed order: bits independent of threads
                for q in range(n_params):
                    partial[0, q] += partial[c, q]
            for c in range(n_chunks):
                total += losses[c]
            eta = step_size(
                optimizer, step, batch_size, stop - start, hyper.weight_scale
            )
            grad_scale = hyper.weight_scale / (stop - start)
            # np.int64(0), not 0: Numba types a literal 0 as Literal[int] and
            # would compile update_range a second time for it.
            update_range(
                state,
                partial[0],
                grad_scale,
                np.int64(0),
                n_coef,
                optimizer,
                eta,
                hyper.penalty,
            )
            if hyper.fit_intercept:
                # On dense X the intercept steps like every weight (each is
                # a feature of every row): under "optimal" the sum of its
                # rows' per-sample steps, as scikit-learn's dense SGD steps
                # it. Damped to the mean (``intercept_step_size``, the
                # sparse kernels' rule) it moved ``m`` times less than the
                # weights on a batch of weight ``m``, so a problem solved
                # mostly by the intercept (one class weighted 1000, another
                # 1e-4: check_class_weight_classifiers) never got there.
                update_range(
                    state,
                    partial[0],
                    grad_scale,
                    n_coef,
                    n_params,
                    optimizer,
                    eta,
                    NO_PENALTY,
                )
            average_step(state.avg, params, step, batch_size, stop - start)
        meeting += 1
        barrier(counter, n_workers, meeting)
    return total, step
