"""The dense linear epoch kernel against the NumPy reference and finite differences."""

import itertools

import numpy as np
import pytest

import skbigmodel._runners as runners
from skbigmodel._kernels.bundles import State
from skbigmodel._kernels.losses import MULTINOMIAL, SQUARED_ERROR
from skbigmodel._kernels.optimizers import ADAM, INVSCALING, SGD

from . import reference
from ._problems import (
    LOSSES,
    OPTIMIZERS,
    PENALTIES,
    initial_params,
    linear_epoch,
    make_hyper,
    make_problem,
)

CASES = list(itertools.product(LOSSES, OPTIMIZERS, PENALTIES))


@pytest.fixture(params=[1, 8], ids=["one-chunk", "8-chunks"])
def n_chunks(request, monkeypatch):
    """Batches of 16 rows are one chunk; or force 8 chunks of 2 rows."""
    if request.param > 1:
        monkeypatch.setattr(runners, "PARALLEL_BATCH_WORK", 1)
        monkeypatch.setattr(runners, "MIN_CHUNK_ROWS", {True: 1, False: 1})
        monkeypatch.setattr(runners, "MAX_CHUNKS", 8)
    return request.param


def reference_epoch(X, Y, sw, hyper, order, batch_size, params0):
    state = State(params0.copy(), np.zeros(params0.size), np.zeros(params0.size))
    total, step = reference.dense_epoch(
        X.astype(np.float64), Y, sw, order, batch_size, state, hyper
    )
    return state, total, step


@pytest.mark.parametrize("loss, opt, penalty", CASES)
def test_dense_epoch_matches_reference(loss, opt, penalty, n_chunks):
    X, Y, sw, k = make_problem(loss)
    hyper = make_hyper(loss, opt, *PENALTIES[penalty], sw=sw, schedule=INVSCALING)
    order = np.random.default_rng(2).permutation(len(X))
    params0 = initial_params(k, X.shape[1])
    state, total, step, runner = linear_epoch(X, Y, sw, k, hyper, order, 16, params0)
    assert runner.n_parts == n_chunks
    want, ref_total, ref_step = reference_epoch(X, Y, sw, hyper, order, 16, params0)
    assert step == ref_step == -(-len(X) // 16)
    np.testing.assert_allclose(total, ref_total, rtol=1e-10)
    for got, expected in zip(state[:3], want[:3]):  # params and both moments
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss, opt, penalty", CASES[::5])
def test_float32_epoch_matches_reference(loss, opt, penalty):
    """float32 X: float32 parameters, float64 moments, close to the float64 epoch."""
    X, Y, sw, k = make_problem(loss, dtype=np.float32)
    hyper = make_hyper(loss, opt, *PENALTIES[penalty], sw=sw)
    order = np.random.default_rng(2).permutation(len(X))
    params0 = initial_params(k, X.shape[1])
    state, total, _, _ = linear_epoch(X, Y, sw, k, hyper, order, 16, params0)
    want, ref_total, _ = reference_epoch(X, Y, sw, hyper, order, 16, params0)
    assert state.params.dtype == np.float32 and state.m.dtype == np.float64
    np.testing.assert_allclose(total, ref_total, rtol=1e-5)
    np.testing.assert_allclose(state.params, want.params, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("penalty", list(PENALTIES))
def test_step_follows_the_objective_gradient(loss, penalty):
    """One full-batch plain-SGD step moves by -eta * (finite-difference gradient)."""
    X, Y, sw, k = make_problem(loss, n=40, p=4)
    a1, a2 = PENALTIES[penalty]
    eta = 1e-3
    hyper = make_hyper(loss, SGD, a1, a2, sw=sw, lr=eta, momentum=0.0, nesterov=False)
    params0 = initial_params(k, X.shape[1], seed=4, scale=0.3)
    p = X.shape[1]

    def smooth_objective(params):
        W, b = params[: p * k].reshape(p, k), params[p * k :]
        values, _ = reference.loss_grad(hyper.loss, X @ W + b, Y)
        weights = params[: p * k]
        return sw @ values / sw.sum() + 0.5 * a2 * weights @ weights

    fd = reference.finite_difference_gradient(smooth_objective, params0)
    expected = params0 - eta * fd
    expected[: p * k] = reference.soft_threshold(expected[: p * k], eta * a1)
    full_batch = np.arange(len(X))
    state, _, _, _ = linear_epoch(X, Y, sw, k, hyper, full_batch, len(X), params0)
    np.testing.assert_allclose(state.params, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss", [MULTINOMIAL, SQUARED_ERROR])
def test_threads_and_segments_give_the_bits_of_one_call(loss, n_chunks):
    """Chunks summed in a fixed order: 1, 2 or 3 threads, one call or several."""
    X, Y, sw, k = make_problem(loss, n=200)
    hyper = make_hyper(loss, ADAM, *PENALTIES["elasticnet"], sw=sw)
    order = np.random.default_rng(2).permutation(len(X))
    params0 = initial_params(k, X.shape[1])
    results = [
        linear_epoch(X, Y, sw, k, hyper, order, 16, params0, workers, cuts)[:3]
        for workers, cuts in [(1, ()), (2, ()), (3, (16, 112)), (1, (192,))]
    ]
    for state, total, step in results[1:]:
        for a, b in zip(results[0][0], state):
            np.testing.assert_array_equal(a, b)
        assert (total, step) == results[0][1:]
    assert not np.array_equal(results[0][0].params, params0)
