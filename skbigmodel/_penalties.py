"""Registry of penalties: alpha * (l1_ratio * |w|_1 + (1 - l1_ratio) / 2 * |w|_2^2)."""

import numpy as np

__all__ = ["PENALTIES", "penalty_strengths", "penalty_value"]

# name -> fraction of alpha on the L1 term, or None for "take l1_ratio".
PENALTIES = {"l2": 0.0, "l1": 1.0, "elasticnet": None}


def penalty_strengths(penalty, alpha, l1_ratio):
    """(a1, a2): the objective's penalty is a1 * |w|_1 + a2 / 2 * |w|_2^2."""
    if penalty is None:
        return 0.0, 0.0
    share = PENALTIES[penalty]
    share = float(l1_ratio) if share is None else share
    return float(alpha) * share, float(alpha) * (1.0 - share)


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
