"""The epoch's row order: a permutation drawn from a seed."""

import numpy as np

from skbigmodel._kernels.shuffle import shuffled


def test_shuffled_is_a_permutation_of_the_rows():
    rows = np.random.default_rng(0).choice(10_000, 501, replace=False)  # any rows
    before = rows.copy()
    out = shuffled(rows, np.int64(7))
    np.testing.assert_array_equal(rows, before)  # a copy: the input is kept
    np.testing.assert_array_equal(np.sort(out), np.sort(rows))
    assert out.dtype == rows.dtype and not np.array_equal(out, rows)
    assert shuffled(rows[:1], np.int64(7)).tolist() == rows[:1].tolist()
    assert shuffled(rows[:0], np.int64(7)).size == 0


def test_shuffled_is_deterministic_per_seed_and_differs_across_seeds():
    rows = np.arange(1000, dtype=np.int64)
    same = shuffled(rows, np.int64(3))
    np.testing.assert_array_equal(shuffled(rows, np.int64(3)), same)
    orders = {tuple(shuffled(rows, np.int64(seed))) for seed in range(20)}
    assert len(orders) == 20
    big = np.int64(2**63 - 2)  # the largest seed the training loop draws
    assert not np.array_equal(shuffled(rows, big), shuffled(rows, big - 1))


def test_every_row_is_equally_likely_in_every_place():
    """Fisher-Yates, not one of its off-by-one variants: counts of each row
    in each place over 12,000 seeds stay within 5 sigma of uniform."""
    n, draws = 5, 12_000
    rows = np.arange(n, dtype=np.int64)
    counts = np.zeros((n, n))
    for seed in range(draws):
        counts[np.arange(n), shuffled(rows, np.int64(seed))] += 1
    expected = draws / n
    sigma = np.sqrt(draws * (1 / n) * (1 - 1 / n))
    assert np.all(np.abs(counts - expected) < 5 * sigma)
