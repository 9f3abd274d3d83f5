"""The full-batch kernels (L-BFGS's objective): finite differences, threads, dtypes."""

import numpy as np
import pytest
import scipy.sparse as sp

from skbigmodel._kernels.bundles import Loss
from skbigmodel._kernels.losses import (
    HUBER,
    LOG_LOSS,
    MULTILABEL,
    MULTINOMIAL,
    SQUARED_ERROR,
)
from skbigmodel._network import LinearNetwork, MLPNetwork
from skbigmodel._objective import Objective, data_loss

from . import reference
from ._problems import EPSILON, initial_params, make_problem, sparse_problem

LINEAR_LOSSES = [SQUARED_ERROR, HUBER, LOG_LOSS, MULTINOMIAL, MULTILABEL]
MLP_LOSSES = [SQUARED_ERROR, LOG_LOSS, MULTINOMIAL, MULTILABEL]
A2 = 0.05  # the L2 strength of the penalised objective
# A row subset in shuffled order, cut into 3 chunks of blocks of 7 rows
# (the last block of a chunk shorter): every path of the chunk loops.
CHUNKS, BLOCK = 3, 7


def _rows(n):
    return np.random.default_rng(5).permutation(n)[: n - 11]


def _reference_objective(outputs, shapes, Y, sw, rows, loss, a2):
    """NumPy objective: weighted mean loss over ``rows`` + a2/2 |weights|^2."""
    is_weight = np.concatenate([np.full(int(np.prod(s)), len(s) == 2) for s in shapes])

    def objective(params):
        values, _ = reference.loss_grad(loss, outputs(params)[rows], Y[rows])
        w = params[is_weight]
        return sw[rows] @ values / sw[rows].sum() + 0.5 * a2 * w @ w

    return objective


@pytest.mark.parametrize("loss", LINEAR_LOSSES)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_linear_gradient_matches_finite_differences(loss, sparse):
    X, Y, sw, k = sparse_problem(loss) if sparse else make_problem(loss)
    n, p = X.shape
    rows = _rows(n)
    net = LinearNetwork(p, k, X.dtype)
    hyper_loss = Loss(loss, EPSILON)
    objective = Objective(
        data_loss(net, X, Y, sw, rows, hyper_loss, chunks=CHUNKS, block=BLOCK),
        net.shapes,
        A2,
    )
    params = initial_params(k, p)
    value, grad = objective(params)

    def outputs(params):
        return X @ params[: p * k].reshape(p, k) + params[p * k :]

    expected = _reference_objective(outputs, net.shapes, Y, sw, rows, hyper_loss, A2)
    assert value == pytest.approx(expected(params), rel=1e-12)
    fd = reference.finite_difference_gradient(expected, params)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


# Every loss on dense and CSR input with ReLU; tanh and GELU once each with
# two other losses. Activations, losses and layouts are kinds: each
# combination compiles the kernel again, and an activation's code does not
# depend on the loss or the layout.
MLP_CASES = [
    *[("relu", loss, sparse) for loss in MLP_LOSSES for sparse in (False, True)],
    ("tanh", MULTINOMIAL, False),
    ("tanh", SQUARED_ERROR, True),
    ("gelu", LOG_LOSS, True),
    ("gelu", MULTILABEL, False),
]


@pytest.mark.parametrize("activation, loss, sparse", MLP_CASES)
def test_mlp_gradient_matches_finite_differences(loss, activation, sparse):
    X, Y, sw, k = sparse_problem(loss) if sparse else make_problem(loss)
    n, p = X.shape
    rows = _rows(n)
    sizes = [p, 6, 5, k]
    net = MLPNetwork(sizes, np.float64, activation, 0.0)
    net.initialize(np.random.RandomState(1))
    params = net.params.copy()
    hyper_loss = Loss(loss, EPSILON)
    objective = Objective(
        data_loss(net, X, Y, sw, rows, hyper_loss, chunks=CHUNKS, block=BLOCK),
        net.shapes,
        A2,
    )
    value, grad = objective(params)
    dense = X.toarray() if sparse else X

    def outputs(params):
        return reference.mlp_outputs(dense, params, sizes, activation)

    expected = _reference_objective(outputs, net.shapes, Y, sw, rows, hyper_loss, A2)
    assert value == pytest.approx(expected(params), rel=1e-10)
    fd = reference.finite_difference_gradient(expected, params)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)


def test_fixed_intercepts_have_no_gradient():
    X, Y, sw, k = make_problem(SQUARED_ERROR)
    net = LinearNetwork(X.shape[1], k, X.dtype)
    rows = np.arange(X.shape[0])
    loss = data_loss(net, X, Y, sw, rows, Loss(SQUARED_ERROR, EPSILON))
    _, grad = Objective(loss, net.shapes, A2, fit_intercept=False)(
        initial_params(k, X.shape[1])
    )
    assert np.all(grad[-k:] == 0.0) and np.any(grad[:-k] != 0.0)


def _evaluate(net, X, Y, sw, loss, params, n_jobs):
    rows = np.arange(X.shape[0])
    term = data_loss(net, X, Y, sw, rows, Loss(loss, EPSILON), n_jobs, chunks=5)
    return term(params)


@pytest.mark.parametrize("kind", ["dense", "csr", "mlp"])
@pytest.mark.parametrize("loss", [LOG_LOSS, MULTINOMIAL])
def test_threads_give_the_bits_of_one(kind, loss):
    """The chunks are claimed by whichever thread is free; the sums are not."""
    X, Y, sw, k = sparse_problem(loss) if kind == "csr" else make_problem(loss)
    if kind == "mlp":
        net = MLPNetwork([X.shape[1], 8, k], np.float64, "tanh", 0.0)
        net.initialize(np.random.RandomState(0))
        params = net.params.copy()
    else:
        net = LinearNetwork(X.shape[1], k, X.dtype)
        params = initial_params(k, X.shape[1])
    results = [_evaluate(net, X, Y, sw, loss, params, n_jobs) for n_jobs in (1, 2, 2)]
    for value, grad in results[1:]:
        assert value == results[0][0]
        np.testing.assert_array_equal(grad, results[0][1])


@pytest.mark.parametrize("kind", ["dense", "csr", "mlp"])
def test_float32_data_stays_float32(kind):
    """float32 kernels (the network's parameters in X's dtype), float64 sums,
    close to the float64 result."""
    X, Y, sw, k = (
        sparse_problem(MULTINOMIAL) if kind == "csr" else (make_problem(MULTINOMIAL))
    )
    results = []
    for dtype in (np.float64, np.float32):
        data = X.astype(dtype)
        if kind == "mlp":
            net = MLPNetwork([X.shape[1], 8, k], dtype, "relu", 0.0)
            net.initialize(np.random.RandomState(0))
            params = net.params.astype(np.float64)
        else:
            net = LinearNetwork(X.shape[1], k, dtype)
            params = initial_params(k, X.shape[1])
        value, grad = _evaluate(net, data, Y, sw, MULTINOMIAL, params, 2)
        assert net.params.dtype == dtype and grad.dtype == np.float64
        results.append((value, grad))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-5)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-4, atol=1e-5)


def test_sparse_and_dense_agree():
    X, Y, sw, k = sparse_problem(MULTINOMIAL)
    params = initial_params(k, X.shape[1])
    dense_net = LinearNetwork(X.shape[1], k, np.float64)
    sparse_net = LinearNetwork(X.shape[1], k, np.float64)
    dense = _evaluate(dense_net, X.toarray(), Y, sw, MULTINOMIAL, params, 1)
    csr = _evaluate(sparse_net, sp.csr_matrix(X), Y, sw, MULTINOMIAL, params, 1)
    assert csr[0] == pytest.approx(dense[0], rel=1e-12)
    np.testing.assert_allclose(csr[1], dense[1], rtol=1e-10, atol=1e-12)
