"""Proximal and lazy steps of the L1 and L2 penalties."""

from .._jit import jit
from .mathfn import cast_like


@jit(inline="always")
def soft_threshold(w, threshold):
    """Proximal operator of ``threshold * |w|``: exact zeros below the threshold."""
    if w > threshold:
        return w - threshold
    if w < -threshold:
        return w + threshold
    return cast_like(w, 0.0)


@jit(inline="always")
def catch_up(w, decay, scale, total_eta, a1):
    """Penalty-only steps that a lazily updated parameter skipped, in closed form.

    On sparse data a feature absent from a batch has no data gradient; its
    optimiser state is frozen (as in PyTorch's SparseAdam) and only the
    penalty acts: L2 as exponential decay, L1 as one soft-threshold by the
    summed step ``total_eta``, both scaled by ``scale``, the factor that the
    frozen state applies to a step (``1 / (1 - momentum)`` for SGD,
    ``1 / (sqrt(v) + eps)`` for Adam and RMSprop, as in ``step_coord``).
    The caller passes the L2 factor ``decay`` = exp(-total_eta * scale *
    a2), so that it can compute many in a loop that vectorises.
    """
    w = w * decay
    if a1 > 0.0:
        w = soft_threshold(w, total_eta * scale * a1)
    return w
