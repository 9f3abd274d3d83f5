"""Inverted dropout whose masks hash each sample's values.

The mask of a unit depends on (seed, the sample's values, unit) only: not
on how rows are batched or on the thread count, and a sample repeated twice
is dropped exactly like the same sample with weight 2, so sample weights
stay equivalent to repetitions.
"""

import numpy as np
from numba.core import types
from numba.extending import overload

from .._jit import jit
from .bundles import CSR_INPUT


@jit
def dropout_block(seed, keys, unit_base, keep, block):
    """Inverted dropout on a (rows, units) block, in place."""
    rows, units = block.shape
    for r in range(rows):
        for c in range(units):
            block[r, c] *= dropout_scale(seed, keys[r], unit_base + c, keep)


@jit(inline="always")
def mix_words(key, words):
    """Fold 32-bit words into a 64-bit key (multiply-xorshift)."""
    for word in words:
        key = (key ^ np.uint64(word)) * np.uint64(0x100000001B3)
        key = key ^ (key >> np.uint64(29))
    return key


@jit
def sample_keys(inputs, order, start, mb, keys):
    """keys[r] = a hash of the values (and, CSR, positions) of sample
    order[start + r] of ``inputs`` (an ``MLPData``)."""
    X, data, indices, indptr = inputs.X, inputs.data, inputs.indices, inputs.indptr
    sparse = inputs.layout.code == CSR_INPUT.code
    for r in range(mb):
        i = order[start + r]
        key = np.uint64(0xCBF29CE484222325)
        if sparse:
            lo, hi = indptr[i], indptr[i + 1]
            key = mix_words(key, data[lo:hi].view(np.uint32))
            key = mix_words(key, indices[lo:hi])
        else:
            key = mix_words(key, X[i].view(np.uint32))
        keys[r] = key


@jit(inline="always")
def dropout_scale(seed, sample, unit, keep):
    """0 for a dropped unit, 1 / keep for a kept one (inverted dropout).

    A splitmix64 hash of (seed, sample key, unit): the same mask for a
    sample whatever the batch it falls in.
    """
    x = np.uint64(seed) ^ (np.uint64(sample) * np.uint64(0x9E3779B97F4A7C15))
    x = x ^ (np.uint64(unit) * np.uint64(0xC2B2AE3D27D4EB4F))
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    uniform = float(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    return 1.0 / keep if uniform < keep else 0.0


def draw_keys(keep, inputs, order, start, mb, keys):
    """``sample_keys`` when there is dropout (compiled code only)."""


def drop(keep, seed, keys, unit_base, block):
    """``dropout_block`` when there is dropout (compiled code only)."""


# keep is None without dropout: then neither is compiled, and they do nothing.
@overload(draw_keys, inline="always")
def _draw_keys(keep, inputs, order, start, mb, keys):
    if isinstance(keep, (types.NoneType, types.Omitted)):
        return lambda keep, inputs, order, start, mb, keys: None

    def impl(keep, inputs, order, start, mb, keys):
        if keep < 1.0:
            sample_keys(inputs, order, start, mb, keys)

    return impl


@overload(drop, inline="always")
def _drop(keep, seed, keys, unit_base, block):
    if isinstance(keep, (types.NoneType, types.Omitted)):
        return lambda keep, seed, keys, unit_base, block: None

    def impl(keep, seed, keys, unit_base, block):
        if keep < 1.0:
            dropout_block(seed, keys, unit_base, keep, block)

    return impl
