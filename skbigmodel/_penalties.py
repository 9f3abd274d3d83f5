"""Registry of penalties: alpha * (l1_ratio * |w|_1 + (1 - l1_ratio) / 2 * |w|_2^2).

Every penalty reaches the kernels as the two strengths of a ``Penalty``
bundle, (a1, a2) = (alpha * share, alpha * (1 - share)), where share is
the penalty's fixed L1 share (or ``l1_ratio``). The kernels apply L2 in
the gradient and L1 by the proximal step ``_kernels.penalties.
soft_threshold``, whose NumPy reference is ``soft_threshold`` here.
"""

from dataclasses import dataclass

import numpy as np

from ._kernels.bundles import Penalty

__all__ = [
    "PENALTIES",
    "PenaltyTerm",
    "penalty_strengths",
    "penalty_value",
    "soft_threshold",
]


@dataclass(frozen=True)
class PenaltyTerm:
    """One penalty: its share of alpha on the L1 term (None: ``l1_ratio``)."""

    l1_share: float | None


PENALTIES = {
    "l2": PenaltyTerm(0.0),
    "l1": PenaltyTerm(1.0),
    "elasticnet": PenaltyTerm(None),
}


def penalty_strengths(penalty, alpha, l1_ratio):
    """The ``Penalty`` bundle (a1, a2): a1 * |w|_1 + a2 / 2 * |w|_2^2."""
    if penalty is None:
        return Penalty(0.0, 0.0)
    share = PENALTIES[penalty].l1_share
    share = float(l1_ratio) if share is None else share
    return Penalty(float(alpha) * share, float(alpha) * (1.0 - share))


def penalty_value(weights, a1, a2):
    """Value of the penalty on ``weights`` (intercepts excluded by the caller)."""
    total = 0.0
    if a1:
        total += a1 * float(np.abs(weights).sum(dtype=np.float64))
    if a2:
        # Not np.dot: on a long vector OpenBLAS's dot wakes its threads,
        # which then spin for a while and took a core from the next epoch's
        # kernel threads (CSR, 2^18 features: its first segment ran 2x slower).
        total += 0.5 * a2 * float(np.einsum("i,i->", weights, weights))
    return total


def soft_threshold(w, threshold):
    """Proximal operator of ``threshold * |w|``, in NumPy."""
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0)
