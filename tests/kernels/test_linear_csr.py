"""The CSR epoch kernels (``csr_epoch``, lazy; ``csr_sgd_epoch``, plain SGD)
against the dense kernel, the lazy NumPy reference and themselves."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification, make_regression

import skbigmodel._runners as runners
from skbigmodel import LinearRegressor, LogisticClassifier
from skbigmodel._kernels.bundles import State
from skbigmodel._kernels.csr import csr_parts
from skbigmodel._kernels.linear_csr import csr_epoch
from skbigmodel._kernels.linear_csr_sgd import csr_sgd_epoch
from skbigmodel._kernels.losses import LOG_LOSS, MULTINOMIAL, SQUARED_ERROR
from skbigmodel._kernels.optimizers import ADAM, CONSTANT, INVSCALING, SGD
from skbigmodel._runners import CSR_PARTS, csr_column_cuts
from skbigmodel._threads import ThreadChooser

from .._helpers import sparse_classification
from . import reference
from ._problems import (
    LOSSES,
    OPTIMIZERS,
    PENALTIES,
    initial_params,
    linear_epoch,
    make_hyper,
    make_problem,
    sparse_problem,
)

CASES = list(itertools.product(LOSSES, OPTIMIZERS, PENALTIES))
# (optimiser, momentum, penalty): the kernel each runs
KERNEL_CASES = [
    (SGD, 0.0, "l2", csr_sgd_epoch),
    (SGD, 0.9, "elasticnet", csr_epoch),
    (ADAM, 0.9, "l1", csr_epoch),
]


def stacked(loss):
    """sparse_problem four times over: 360 rows, 23 batches of 16."""
    X, Y, sw, k = sparse_problem(loss)
    return sp.vstack([X] * 4, format="csr"), np.tile(Y, (4, 1)), np.tile(sw, 4), k


@pytest.mark.parametrize("loss, opt, penalty", CASES[::2])
def test_csr_epoch_equals_dense_when_every_feature_is_present(loss, opt, penalty):
    X, Y, sw, k = make_problem(loss)
    X[X == 0] = 1e-3  # no stored zero: every feature is in every batch
    hyper = make_hyper(loss, opt, *PENALTIES[penalty], sw=sw)
    order = np.random.default_rng(2).permutation(len(X))
    params0 = initial_params(k, X.shape[1])
    dense, dense_total, _, _ = linear_epoch(X, Y, sw, k, hyper, order, 16, params0)
    csr, csr_total, _, _ = linear_epoch(
        sp.csr_matrix(X), Y, sw, k, hyper, order, 16, params0
    )
    np.testing.assert_allclose(csr_total, dense_total, rtol=1e-10)
    np.testing.assert_allclose(csr.params, dense.params, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("opt", OPTIMIZERS)
def test_csr_lazy_penalty_of_absent_features(opt):
    """A feature absent from every row only feels the penalty, in closed form."""
    X, Y, sw, k = make_problem(SQUARED_ERROR, k=1)
    sw[:] = 1.0
    X[:, 0] = 0.0
    X = sp.csr_matrix(X)
    X.eliminate_zeros()
    a1, a2 = 0.01, 0.2
    hyper = make_hyper(SQUARED_ERROR, opt, a1, a2, sw=sw, lr=0.01, schedule=INVSCALING)
    params0 = np.zeros(X.shape[1] + 1)
    params0[0] = 0.5
    order = np.arange(X.shape[0])
    state, _, step, runner = linear_epoch(X, Y, sw, 1, hyper, order, 10, params0)
    assert runner.kernel(hyper)[0] is csr_epoch
    etas = [reference.step_size(hyper.optimizer, t) for t in range(1, step + 1)]
    scale = 1.0 / (1 - 0.9) if opt == SGD else 1.0 / 1e-8  # frozen v = 0
    expected = 0.5 * np.exp(-sum(etas) * scale * a2)
    expected = reference.soft_threshold(expected, sum(etas) * scale * a1)
    np.testing.assert_allclose(state.params[0], expected, rtol=1e-12)
    assert state.m[0] == state.v[0] == 0.0  # frozen


@pytest.mark.parametrize("loss, opt, penalty", CASES[1::2])
def test_csr_epoch_matches_lazy_reference(loss, opt, penalty):
    """Absent features skip the optimiser step and pay the penalty lazily."""
    X, Y, sw, k = sparse_problem(loss)
    hyper = make_hyper(loss, opt, *PENALTIES[penalty], sw=sw, schedule=INVSCALING)
    order = np.random.default_rng(2).permutation(X.shape[0])
    params0 = initial_params(k, X.shape[1])
    state, total, step, runner = linear_epoch(X, Y, sw, k, hyper, order, 16, params0)
    assert runner.kernel(hyper)[0] is csr_epoch
    want = State(params0.copy(), np.zeros(params0.size), np.zeros(params0.size))
    ref_total, ref_step = reference.lazy_csr_epoch(X, Y, sw, order, 16, want, hyper)
    assert step == ref_step
    np.testing.assert_allclose(total, ref_total, rtol=1e-10)
    for got, expected in zip(state[:3], want[:3]):  # params and both moments
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("penalty", ["none", "l2"])
@pytest.mark.parametrize("lr, batch_size", [(0.05, 16), (0.4, 2)])
def test_csr_plain_sgd_takes_the_dense_steps(loss, penalty, lr, batch_size):
    """Plain SGD with L2 keeps one weight scale: on CSR data it takes exactly
    the dense path's steps, absent features included (lr=0.4 with 45 small
    batches shrinks the scale below 1e-9, where it is folded into the weights)."""
    X, Y, sw, k = sparse_problem(loss)
    a1, a2 = PENALTIES[penalty]
    a2 = 1.0 if (penalty == "l2" and lr == 0.4) else a2
    schedule = CONSTANT if lr == 0.4 else INVSCALING
    hyper = make_hyper(loss, SGD, a1, a2, sw=sw, lr=lr, momentum=0.0, schedule=schedule)
    order = np.random.default_rng(2).permutation(X.shape[0])
    params0 = initial_params(k, X.shape[1])
    dense, dense_total, _, _ = linear_epoch(
        X.toarray(), Y, sw, k, hyper, order, batch_size, params0
    )
    csr, csr_total, _, runner = linear_epoch(
        X, Y, sw, k, hyper, order, batch_size, params0
    )
    assert runner.kernel(hyper)[0] is csr_sgd_epoch
    np.testing.assert_allclose(csr_total, dense_total, rtol=1e-10)
    np.testing.assert_allclose(csr.params, dense.params, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", [LOG_LOSS, MULTINOMIAL])
@pytest.mark.parametrize("opt, momentum, penalty, kernel", KERNEL_CASES)
@pytest.mark.parametrize("sorted_indices", [True, False])
@pytest.mark.parametrize("n_ranges", [CSR_PARTS, 8])
def test_csr_threads_give_the_bits_of_one(
    loss, opt, momentum, penalty, kernel, sorted_indices, n_ranges, monkeypatch
):
    """Each thread owns a run of column ranges of the features; on one
    thread the same ranges run in turn, so the bits do not depend on the
    count (the default number of ranges, and 8 as for more cores)."""
    monkeypatch.setattr(runners, "CSR_PARTS", n_ranges)
    X, Y, sw, k = stacked(loss)
    if not sorted_indices:  # reverse each row's entries: one column range
        X = sp.csr_matrix((X.data.copy(), X.indices.copy(), X.indptr), shape=X.shape)
        for i in range(X.shape[0]):
            row = slice(X.indptr[i], X.indptr[i + 1])
            X.data[row], X.indices[row] = X.data[row][::-1], X.indices[row][::-1]
        X.has_sorted_indices = False
    hyper = make_hyper(loss, opt, *PENALTIES[penalty], sw=sw, momentum=momentum)
    order = np.random.default_rng(2).permutation(X.shape[0])
    params0 = initial_params(k, X.shape[1])
    n_parts = n_ranges if sorted_indices else 1
    results = [
        linear_epoch(X, Y, sw, k, hyper, order, 16, params0, min(workers, n_parts))
        for workers in (1, 2, 3, n_ranges)
    ]
    assert results[0][3].n_parts == n_parts and results[0][3].kernel(hyper)[0] is kernel
    for state, total, step, _ in results[1:]:
        for a, b in zip(results[0][0], state):
            np.testing.assert_array_equal(a, b)
        assert (total, step) == results[0][1:3]
    assert results[0][2] == -(-X.shape[0] // 16) and np.isfinite(results[0][1])
    assert not np.array_equal(results[0][0].params, params0)


@pytest.mark.parametrize("opt, momentum, penalty, kernel", KERNEL_CASES)
@pytest.mark.parametrize("threads", [1, 2])
@settings(max_examples=8, deadline=None)
@given(batches=st.sets(st.integers(1, 22), max_size=6))
def test_csr_epoch_split_anywhere_gives_the_bits_of_one_call(
    opt, momentum, penalty, kernel, threads, batches
):
    """The CSR kernels carry their state across calls (csr_sgd_epoch its
    weight scale, csr_epoch its lazy L1 and L2): an epoch cut into segments
    at any batches has the bits of one call."""
    X, Y, sw, k = stacked(LOG_LOSS)
    hyper = make_hyper(
        LOG_LOSS,
        opt,
        *PENALTIES[penalty],
        sw=sw,
        momentum=momentum,
        lr=0.4 if momentum == 0.0 else 0.05,
    )
    order = np.random.default_rng(2).permutation(X.shape[0])
    params0 = initial_params(k, X.shape[1])
    cuts = [16 * b for b in sorted(batches)]
    whole = linear_epoch(X, Y, sw, k, hyper, order, 16, params0, threads)
    split = linear_epoch(X, Y, sw, k, hyper, order, 16, params0, threads, cuts)
    assert whole[3].kernel(hyper)[0] is kernel
    for a, b in zip(whole[0], split[0]):
        np.testing.assert_array_equal(a, b)
    assert whole[1:3] == split[1:3]
    if hyper.penalty.a1 > 0:
        assert (whole[0].params == 0.0).any()  # L1 reached exact zeros


class _ShortSegments(ThreadChooser):
    """Probes of 2 batches and runs of 3: an epoch of 23 batches in many calls."""

    PROBE_BATCHES, RUN_BATCHES, PROBE_WARMUP_BATCHES, MIN_PROBE_BATCHES = 2, 3, 1, 2


@pytest.mark.parametrize("opt, momentum, penalty, kernel", KERNEL_CASES)
@pytest.mark.parametrize("threads", [1, 2])
def test_runner_segments_give_the_bits_of_one_call(
    opt, momentum, penalty, kernel, threads
):
    """The thread chooser splits an epoch into calls at times it measures."""
    X, Y, sw, k = stacked(LOG_LOSS)
    hyper = make_hyper(
        LOG_LOSS,
        opt,
        *PENALTIES[penalty],
        sw=sw,
        momentum=momentum,
        lr=0.4 if momentum == 0.0 else 0.05,
    )
    order = np.random.default_rng(2).permutation(X.shape[0])
    params0 = initial_params(k, X.shape[1])
    whole, total, step, runner = linear_epoch(X, Y, sw, k, hyper, order, 16, params0)
    runner.chooser = _ShortSegments(threads)
    state = State(params0.copy(), np.zeros(params0.size), np.zeros(params0.size))
    assert runner(state, order, 0, hyper) == (total, step)
    for a, b in zip(whole, state):
        np.testing.assert_array_equal(a, b)


def test_csr_column_ranges_split_the_non_zeros():
    """The cuts balance the non-zeros; each row's bounds split it at the cuts."""
    rng = np.random.default_rng(0)
    uniform = rng.random((500, 30))
    X = sp.csr_matrix(
        (
            rng.random(500 * 30),
            (
                np.repeat(np.arange(500), 30),
                (uniform * uniform * 1000).astype(int).ravel(),
            ),
        ),
        shape=(500, 1000),
    )
    X.sum_duplicates()
    cuts = csr_column_cuts(X, 2)
    assert cuts[0] == 0 and cuts[-1] == 1000 and 0 < cuts[1] < 500  # skewed columns
    share = (X.indices < cuts[1]).mean()
    assert 0.45 < share < 0.55
    bounds = np.empty((500, 3), dtype=X.indptr.dtype)
    csr_parts(X.indices, X.indptr, cuts, bounds)
    for i in range(500):
        lo, mid, hi = bounds[i]
        assert (lo, hi) == (X.indptr[i], X.indptr[i + 1])
        assert (X.indices[lo:mid] < cuts[1]).all()
        assert (X.indices[mid:hi] >= cuts[1]).all()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop"])
def test_estimators_fit_alike_on_csr_and_dense(solver):
    """Same data with every feature in every row, dense or CSR: the same model."""
    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    params = dict(solver=solver, max_iter=4, batch_size=32, random_state=0)
    dense = LogisticClassifier(**params).fit(X, y)
    csr = LogisticClassifier(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(csr.intercept_, dense.intercept_, rtol=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_plain_sgd_fits_alike_on_sparse_csr_and_dense():
    """Plain SGD takes the dense steps on CSR data whatever the sparsity."""
    X, Y = make_regression(n_samples=300, n_features=8, n_targets=2, random_state=0)
    X[np.random.default_rng(0).random(X.shape) < 0.7] = 0.0
    params = dict(
        solver="sgd",
        momentum=0.0,
        alpha=1e-2,
        max_iter=4,
        batch_size=32,
        random_state=0,
    )
    dense = LinearRegressor(**params).fit(X, Y)
    csr = LinearRegressor(**params).fit(sp.csr_matrix(X), Y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(csr.intercept_, dense.intercept_, rtol=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop"])
def test_csr_l1_gives_exact_zeros(solver):
    """The lazy L1 steps leave exact zeros, as the dense path does."""
    X, y = sparse_classification(n_samples=400, n_features=60, density=0.2)
    params = dict(penalty="l1", solver=solver, max_iter=5, random_state=0)
    some = LogisticClassifier(alpha=0.01, **params).fit(X, y)
    assert 0 < np.sum(some.coef_ == 0.0) < some.coef_.size
    assert np.all(LogisticClassifier(alpha=50.0, **params).fit(X, y).coef_ == 0.0)
