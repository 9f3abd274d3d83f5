"""Averaged SGD: the mean of the parameters after every optimiser step.

``State.avg`` is an ``Average`` bundle, or None; each function here has an
``@overload`` for None that does nothing, so a model trained without
averaging compiles none of it.

Dense data: the mean is updated after every step, O(parameters) per step,
like the step itself. CSR data with plain SGD (``linear_csr_sgd``), where
the weights are ``alpha * u`` and a step touches the batch's non-zeros
only: over a window of steps s = 1..T, sum_s alpha_s u_s = u_T A_T -
sum_s delta_s A_(s-1), where A_s is the sum of alpha over the window's
first s steps and delta_s the change of u at step s. The kernel keeps A,
adds delta_s A_(s-1) to ``lazy`` where it adds delta_s to u (O(non-zeros)),
and folds the window into the mean at the end of the epoch or when alpha is
folded into u (``close_window``, O(features)).
"""

from numba.core import types
from numba.extending import overload

from .._jit import jit

__all__ = [
    "average_step",
    "averaging_counts",
    "averaging_from",
    "close_window",
    "mean_range",
    "scatter",
    "store_counts",
]


def _is_none(a):
    return isinstance(a, (types.NoneType, types.Omitted))


def averaging_from(avg, step, batch_size, rows):
    """Whether optimiser step ``step`` (of ``rows`` rows, batches of
    ``batch_size``) is averaged: its last sample is at least ``avg.start``."""


@overload(averaging_from, inline="always")
def _averaging_from(avg, step, batch_size, rows):
    if _is_none(avg):
        return lambda avg, step, batch_size, rows: False
    return lambda avg, step, batch_size, rows: (
        (step - 1) * batch_size + rows >= avg.start
    )


def average_step(avg, params, step, batch_size, rows):
    """After a step on dense data: fold ``params`` into the running mean."""


@jit
def _running_mean(avg, params):
    avg.counts[0] += 1.0
    n = avg.counts[0]
    mean = avg.params
    for q in range(params.shape[0]):
        mean[q] += (params[q] - mean[q]) / n


@overload(average_step, inline="always")
def _average_step(avg, params, step, batch_size, rows):
    if _is_none(avg):
        return lambda avg, params, step, batch_size, rows: None

    def impl(avg, params, step, batch_size, rows):
        if averaging_from(avg, step, batch_size, rows):
            _running_mean(avg, params)

    return impl


def scatter(params, avg, indices, data, lo, hi, k, c, f, weight):
    """params[j * k + c] += f * x_j over the non-zeros lo..hi of a row; with
    averaging, also lazy[j * k + c] += f * x_j * weight (``weight`` the
    window's A before this step)."""


@overload(scatter, inline="always")
def _scatter(params, avg, indices, data, lo, hi, k, c, f, weight):
    from .csr import feature_at

    if _is_none(avg):

        def plain(params, avg, indices, data, lo, hi, k, c, f, weight):
            for q in range(lo, hi):
                params[feature_at(indices, q, k, c)] += f * data[q]

        return plain

    def averaged(params, avg, indices, data, lo, hi, k, c, f, weight):
        lazy = avg.lazy
        fw = f * weight
        for q in range(lo, hi):
            j = feature_at(indices, q, k, c)
            params[j] += f * data[q]
            lazy[j] += fw * data[q]

    return averaged


def averaging_counts(avg):
    """(steps averaged before the window, steps in it, its sum of alpha),
    from ``avg.counts``; zeros without averaging."""


@overload(averaging_counts, inline="always")
def _averaging_counts(avg):
    if _is_none(avg):
        return lambda avg: (0.0, 0.0, 0.0)
    return lambda avg: (avg.counts[0], avg.counts[1], avg.counts[2])


def mean_range(avg, params, lo, hi, n):
    """Fold params[lo:hi] into their running mean over ``n`` steps."""


@jit
def _mean_range(avg, params, lo, hi, n):
    mean = avg.params
    for q in range(lo, hi):
        mean[q] += (params[q] - mean[q]) / n


@overload(mean_range, inline="always")
def _mean_range_of(avg, params, lo, hi, n):
    if _is_none(avg):
        return lambda avg, params, lo, hi, n: None
    return lambda avg, params, lo, hi, n: _mean_range(avg, params, lo, hi, n)


def close_window(avg, params, lo, hi, before, window, weight):
    """Fold a window of ``window`` averaged steps of the CSR plain-SGD kernel
    into the mean of params[lo:hi] (u, with the window's sum of alpha
    ``weight``), ``before`` steps being averaged into it already, and
    empty the window's lazy sums there."""


@jit
def _close_window(avg, params, lo, hi, before, window, weight):
    total = before + window
    if total == 0.0:
        return
    mean, lazy = avg.params, avg.lazy
    for q in range(lo, hi):
        mean[q] = (mean[q] * before + (params[q] * weight - lazy[q])) / total
        lazy[q] = 0.0


@overload(close_window, inline="always")
def _close_window_of(avg, params, lo, hi, before, window, weight):
    if _is_none(avg):
        return lambda avg, params, lo, hi, before, window, weight: None
    return lambda avg, params, lo, hi, before, window, weight: _close_window(
        avg, params, lo, hi, before, window, weight
    )


def store_counts(avg, before, window, weight):
    """Write the counts back (one thread, at the end of a kernel call)."""


@overload(store_counts, inline="always")
def _store_counts(avg, before, window, weight):
    if _is_none(avg):
        return lambda avg, before, window, weight: None

    def impl(avg, before, window, weight):
        avg.counts[0], avg.counts[1], avg.counts[2] = before, window, weight

    return impl
