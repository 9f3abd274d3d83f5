"""Inverted dropout: the masks' statistics and the keys that seed them."""

import numpy as np
import scipy.sparse as sp

from skbigmodel._kernels.bundles import CSR_INPUT, DENSE_INPUT, MLPData
from skbigmodel._kernels.dropout import dropout_block, dropout_scale, sample_keys


def mlp_data(X):
    """The ``MLPData`` of dense or CSR X, as ``MLPRunner`` builds it."""
    Y, sw = np.zeros((X.shape[0], 1)), np.ones(X.shape[0])
    if sp.issparse(X):
        return MLPData(
            np.empty((0, X.shape[1])), X.data, X.indices, X.indptr, CSR_INPUT, Y, sw
        )
    no_ints = np.empty(0, np.int32)
    return MLPData(X, np.empty(0), no_ints, no_ints, DENSE_INPUT, Y, sw)


def test_dropout_statistics():
    keep = 0.7
    scales = np.array(
        [
            dropout_scale(np.uint64(12345), np.uint64(sample), unit, keep)
            for sample in range(300)
            for unit in range(100)
        ]
    )
    assert abs(np.mean(scales == 0.0) - (1 - keep)) < 0.01
    assert abs(scales.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation
    assert set(np.unique(scales)) == {0.0, 1.0 / keep}
    other_seed = [
        dropout_scale(np.uint64(99), np.uint64(s), 0, keep) for s in range(300)
    ]
    assert not np.array_equal(scales[::100], other_seed)


def test_dropout_block_applies_the_scales():
    keys = np.array([3, 1, 4], dtype=np.uint64)
    block = np.random.default_rng(0).standard_normal((3, 50))
    want = block * [
        [dropout_scale(np.uint64(7), keys[r], 10 + c, 0.6) for c in range(50)]
        for r in range(3)
    ]
    dropout_block(np.uint64(7), keys, 10, 0.6, block)
    np.testing.assert_array_equal(block, want)


def test_sample_keys_depend_on_values_only():
    """Equal rows get equal keys wherever they sit in the order; dense and CSR alike."""
    X = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [0.0, 2.0]])
    order = np.array([3, 0, 1, 2])
    for data in (mlp_data(X), mlp_data(sp.csr_matrix(X))):
        keys = np.empty(4, np.uint64)
        sample_keys(data, order, 0, 4, keys)
        assert keys[1] == keys[3] != keys[2] and len(set(keys)) == 3
        shifted = np.empty(2, np.uint64)
        sample_keys(data, order, 2, 2, shifted)  # rows order[2:4]
        np.testing.assert_array_equal(shifted, keys[2:])
