"""What the two CSR epoch kernels share: column ranges, rows' gradients, intercepts.

The features are cut into n_parts column ranges of about equal non-zeros
(``csr_parts``), and each thread owns a run of consecutive parts: it
computes the partial dot products of its parts and applies their updates,
so that its weights stay in its own core's cache.
"""

import numpy as np

from .._jit import jit
from .losses import outputs_grad
from .memory import CACHE_LINE_FLOATS, PREFETCH_SPARSE_ROWS, prefetch
from .optimizers import step_coord
from .passive_aggressive import pa_rescale_csr


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
def part_range(bounds, i, first, last):
    """(start, stop) of parts first .. last - 1 of row i in the CSR arrays
    (see ``csr_parts``; consecutive parts are one run of non-zeros),
    unsigned: with the int32 bounds of a small matrix, each access in the
    loop over them had two wraparound tests."""
    return np.uintp(bounds[i, first]), np.uintp(bounds[i, last])


@jit(inline="always")
def prefetch_csr_ahead(data, indices, bounds, flat_bounds, order, r, first, last):
    """Prefetch what parts first .. last - 1 of the rows ahead of order[r] will read.

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
        for q in range(bounds[i, first], bounds[i, last], CACHE_LINE_FLOATS):
            prefetch(data, q)
            prefetch(indices, q)


@jit(inline="always")
def csr_rows_grad(scratch, data, order, start, stop, b, alpha, loss, first, last, pa):
    """Gradients of the rows of slices first .. last - 1 of a batch on CSR X.

    A batch's rows order[start:stop] are cut into n_parts slices; a row's
    output is b + alpha * (its partial dots, scratch.dots, summed in part
    order). Writes scratch.row_grads (sw_i dloss_i/doutputs) and each
    slice's sums: part_sums[t, :k] of the gradients, part_sums[t, k] of the
    losses. ``pa`` (``Hyper.pa``): the passive-aggressive steps scale the
    rows' gradients (``passive_aggressive.py``); None compiles nothing.
    """
    dots, row_grads, part_sums = scratch.dots, scratch.row_grads, scratch.part_sums
    Y, sw = data.Y, data.sw
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
        part_sums[t, k] = outputs_grad(
            outputs,
            Y,
            sw,
            order,
            lo,
            hi - lo,
            loss,
            row_grads[lo - start : hi - start],
            part_sums[t],
        )
        pa_rescale_csr(
            pa,
            data,
            outputs,
            row_grads,
            lo - start,
            order,
            lo,
            hi - lo,
            loss,
            part_sums,
            t,
        )


@jit(inline="always")
def csr_intercept_step(state, part_sums, grad_scale, eta, optimizer, fit_intercept):
    """The intercepts' step from a batch's slice sums; returns the batch's loss."""
    params, m, v = state.params, state.m, state.v
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
                optimizer, params[q], grad_b * grad_scale, m[q], v[q], eta, 0.0, 0.0
            )
    return value
