"""The MLP epoch kernel: backpropagation against finite differences, threads."""

import numpy as np
import pytest
import scipy.sparse as sp

from skbigmodel._activations import ACTIVATIONS
from skbigmodel._kernels.bundles import State
from skbigmodel._kernels.losses import LOG_LOSS, MULTILABEL, MULTINOMIAL, SQUARED_ERROR
from skbigmodel._kernels.optimizers import ADAM, SGD
from skbigmodel._network import MLPNetwork

from . import reference
from ._problems import PENALTIES, make_hyper, run_kernel, targets

N_OUTPUTS = {SQUARED_ERROR: 2, LOG_LOSS: 1, MULTINOMIAL: 3, MULTILABEL: 3}


def mlp_epoch(net, X, Y, sw, hyper, order, batch_size, workers=1, cuts=()):
    """One epoch of the MLP kernel on ``net`` from zero moments, in place;
    returns (State, summed loss, step)."""
    state = State(net.params, *np.zeros((2, net.params.size), net.moment_dtype))
    runner = net.epoch_runner(X, Y, sw, batch_size, np.random.RandomState(0), n_jobs=1)
    return (state, *run_kernel(runner, state, order, hyper, workers, cuts))


def _backpropagation_cases():
    """(activation, loss, sparse): every loss on dense and CSR input with
    ReLU, and every other activation once, each with another loss and
    layout in turn. Activations, losses and layouts are kinds (each
    combination compiles the kernel again), and an activation's code does
    not depend on the loss or the layout: the full product would compile
    the kernel 56 times to check no more code than these 14 cases."""
    cases = [("relu", loss, sparse) for loss in N_OUTPUTS for sparse in (False, True)]
    others = [name for name in ACTIVATIONS if name != "relu"]
    losses = list(N_OUTPUTS)
    for i, name in enumerate(others):
        cases.append((name, losses[i % len(losses)], bool(i % 2)))
    return cases


@pytest.mark.parametrize("activation, loss, sparse", _backpropagation_cases())
@pytest.mark.parametrize("penalty", list(PENALTIES))
def test_backpropagation_matches_finite_differences(activation, loss, penalty, sparse):
    """One full-batch plain-SGD step moves by -eta * (finite-difference gradient)."""
    rng = np.random.default_rng(0)
    n, sizes = 30, [5, 6, 4, N_OUTPUTS[loss]]
    X = rng.standard_normal((n, sizes[0]))
    X[rng.random(X.shape) < 0.3] = 0.0
    Y, sw = targets(loss, rng, n, sizes[-1]), rng.uniform(0.5, 2.0, n)
    net = MLPNetwork(sizes, np.float64, activation, 0.0)
    net.initialize(np.random.RandomState(1))
    params0 = net.params.copy()
    a1, a2 = PENALTIES[penalty]
    eta = 1e-3
    hyper = make_hyper(
        loss, SGD, a1, a2, sw=sw, lr=eta, momentum=0.0, nesterov=False, epsilon=0.1
    )
    is_weight = np.zeros(params0.size, bool)  # biases are not penalised
    for layer in range(len(sizes) - 1):
        at = net.offsets[layer]
        is_weight[at : at + sizes[layer] * sizes[layer + 1]] = True

    def objective(params):
        Z = reference.mlp_outputs(X, params, sizes, activation)
        values, _ = reference.loss_grad(hyper.loss, Z, Y)
        w = params[is_weight]
        return sw @ values / sw.sum() + 0.5 * a2 * w @ w

    fd = reference.finite_difference_gradient(objective, params0)
    expected = params0 - eta * fd
    expected[is_weight] = reference.soft_threshold(expected[is_weight], eta * a1)
    data = sp.csr_matrix(X) if sparse else X
    mlp_epoch(net, data, Y, sw, hyper, np.arange(n), n)
    np.testing.assert_allclose(net.params, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_two_threads_give_the_bits_of_one(dtype, sparse):
    """The halves of each batch on two Python threads, or in turn on one, in
    one call or in segments; dropout on."""
    rng = np.random.default_rng(0)
    n, sizes = 301, [6, 9, 7, 3]  # 301 rows, batches of 20: the last has 1 row
    X = rng.standard_normal((n, sizes[0])).astype(dtype)
    Y = rng.integers(0, 3, (n, 1)).astype(float)
    sw = rng.uniform(0.5, 2.0, n)
    data = sp.csr_matrix(X) if sparse else X
    hyper = make_hyper(
        MULTINOMIAL, ADAM, 0.001, 0.01, sw=sw, lr=0.01, nesterov=False, beta_2=0.999
    )
    hyper = hyper._replace(weight_scale=1.0)
    order = np.random.default_rng(2).permutation(n)
    results = []
    for workers, cuts in [(1, ()), (2, ()), (1, (100, 280)), (2, (20,))]:
        net = MLPNetwork(sizes, dtype, "gelu", 0.3)
        net.initialize(np.random.RandomState(1))
        results.append(mlp_epoch(net, data, Y, sw, hyper, order, 20, workers, cuts))
    for state, total, step in results[1:]:
        for a, b in zip(results[0][0], state):
            np.testing.assert_array_equal(a, b)
        assert (total, step) == results[0][1:]
    state, total, step = results[0]
    assert step == -(-n // 20) and np.isfinite(total)
    assert state.params.dtype == state.m.dtype == dtype  # float32 MLPs: float32 moments
