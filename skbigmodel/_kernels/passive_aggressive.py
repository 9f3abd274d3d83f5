"""The passive-aggressive steps (Crammer et al., 2006): each row's own step size.

With ``learning_rate="pa1"`` or ``"pa2"`` a row whose loss is l and whose
features have the squared norm |x|^2 steps by

    PA-I:  tau = min(C, l / |x|^2)        PA-II:  tau = l / (|x|^2 + 1 / (2 C))

along the loss's gradient (the hinge's and epsilon-insensitive's, of
magnitude 1: the step that just zeroes the loss, capped or damped by C).
The optimiser steps with the constant rate lr = C (the L2 shrinking uses it,
as scikit-learn's does); these functions multiply each row's gradient by
tau / lr after the loss has been computed, and sum the intercepts' gradient
again. A batch of several rows thus takes the mean of its rows' steps.

Each entry point is an overload on the ``Hyper.pa`` bundle: for None (every
other schedule) it is a no-op that compiles to nothing.
"""

from numba.core import types
from numba.extending import overload

from .._jit import jit
from .losses import output_loss_grad


def _absent(pa):
    return isinstance(pa, (types.NoneType, types.Omitted))


@jit(inline="always")
def pa_factor(pa, loss, sqnorm):
    """tau / lr of a row with loss ``loss`` and squared norm ``sqnorm``; ``pa``
    a ``PassiveAggressive`` bundle. A row of zeros under PA-I (0 / 0) takes
    no step: scikit-learn skips it."""
    denominator = sqnorm + pa.offset
    if denominator == 0.0:
        return 0.0
    return min(pa.cap, loss / denominator) / pa.lr


@jit(inline="always")
def rescale_row(pa, Z, G, g0, Y, i, r, loss, sqnorm):
    """G[g0 + r, :] *= tau / lr of each output of row i (one-vs-rest: each
    output its own step). With one output ``outputs_grad`` has left the
    row's loss in Z[r, 0] (``one_output_grad`` overwrites the outputs);
    with several, Z[r] holds the outputs and the loss is computed again."""
    k = G.shape[1]
    if k == 1:
        G[g0 + r, 0] *= pa_factor(pa, Z[r, 0], sqnorm)
    else:
        for c in range(k):
            value, _ = output_loss_grad(loss, Z[r, c], Y[i, c])
            G[g0 + r, c] *= pa_factor(pa, value, sqnorm)


def pa_rescale_one(pa, X, order, lo, m, t, d, grad_b):
    """One output on dense X: t[:m] the rows' losses, d[:m] their weighted
    derivatives, rescaled; returns the intercept's gradient (``grad_b``
    when ``pa`` is None). Compiled code only."""


@overload(pa_rescale_one, inline="always")
def _pa_rescale_one(pa, X, order, lo, m, t, d, grad_b):
    if _absent(pa):
        return lambda pa, X, order, lo, m, t, d, grad_b: grad_b

    def impl(pa, X, order, lo, m, t, d, grad_b):
        total = 0.0
        for r in range(m):
            i = order[lo + r]
            sqnorm = 0.0
            for j in range(X.shape[1]):
                sqnorm += X[i, j] * X[i, j]
            d[r] *= pa_factor(pa, t[r], sqnorm)
            total += d[r]
        return total

    return impl


def pa_rescale_rows(pa, rows, Z, G, Y, order, lo, m, loss, grad, offset):
    """Several outputs on dense X: rows[:m] the gathered rows, Z and G as
    ``outputs_grad`` left them; the intercepts' gradient is written to
    grad[offset:]. Compiled code only."""


@overload(pa_rescale_rows, inline="always")
def _pa_rescale_rows(pa, rows, Z, G, Y, order, lo, m, loss, grad, offset):
    if _absent(pa):
        return lambda pa, rows, Z, G, Y, order, lo, m, loss, grad, offset: None

    def impl(pa, rows, Z, G, Y, order, lo, m, loss, grad, offset):
        for r in range(m):
            sqnorm = 0.0
            for j in range(rows.shape[1]):
                sqnorm += rows[r, j] * rows[r, j]
            rescale_row(pa, Z, G, 0, Y, order[lo + r], r, loss, sqnorm)
        sum_rows(G, 0, m, grad, offset)

    return impl


def pa_rescale_csr(pa, csr, Z, G, g0, order, lo, m, loss, part_sums, t):
    """CSR X (a ``CSRData``): the rows order[lo:lo + m], whose gradients are
    G[g0:g0 + m] and outputs (or losses) Z[:m]; the intercepts' gradient is
    written to part_sums[t, :k]. A row's squared norm is read from all its
    parts. Compiled code only."""


@overload(pa_rescale_csr, inline="always")
def _pa_rescale_csr(pa, csr, Z, G, g0, order, lo, m, loss, part_sums, t):
    if _absent(pa):
        return lambda pa, csr, Z, G, g0, order, lo, m, loss, part_sums, t: None

    def impl(pa, csr, Z, G, g0, order, lo, m, loss, part_sums, t):
        data, bounds = csr.data, csr.bounds
        last = bounds.shape[1] - 1
        for r in range(m):
            i = order[lo + r]
            sqnorm = 0.0
            for q in range(bounds[i, 0], bounds[i, last]):
                sqnorm += data[q] * data[q]
            rescale_row(pa, Z, G, g0, csr.Y, i, r, loss, sqnorm)
        sum_rows(G, g0, m, part_sums[t], 0)

    return impl


@jit(inline="always")
def sum_rows(G, g0, m, out, offset):
    """out[offset + c] = sum of G[g0:g0 + m, c], rows in order."""
    for c in range(G.shape[1]):
        total = 0.0
        for r in range(m):
            total += G[g0 + r, c]
        out[offset + c] = total
