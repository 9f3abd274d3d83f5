"""The MLP epoch kernel: backpropagation against finite differences, dropout."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from skbigmodel._kernels import mlp as mlp_kernels
from skbigmodel._kernels import steps
from skbigmodel._network import ACTIVATIONS, MLPNetwork
from skbigmodel._training import Hyper, OptimizerState

from . import reference

LOSSES = {
    steps.SQUARED_ERROR: lambda rng, n: rng.standard_normal((n, 2)),
    steps.LOG_LOSS: lambda rng, n: rng.integers(0, 2, (n, 1)).astype(float),
    steps.MULTINOMIAL: lambda rng, n: rng.integers(0, 3, (n, 1)).astype(float),
    steps.MULTILABEL: lambda rng, n: rng.integers(0, 2, (n, 3)).astype(float),
}
N_OUTPUTS = {steps.SQUARED_ERROR: 2, steps.LOG_LOSS: 1, steps.MULTINOMIAL: 3,
             steps.MULTILABEL: 3}  # fmt: skip
PENALTIES = {"none": (0.0, 0.0), "l2": (0.0, 0.05), "l1": (0.02, 0.0),
             "elasticnet": (0.01, 0.03)}  # fmt: skip


def one_sgd_step(X, Y, sw, sizes, activation, params0, loss, a1, a2, eta):
    """Parameters after one full-batch plain-SGD step of the MLP kernel."""
    net = MLPNetwork(sizes, np.float64, activation, 0.0, params0.copy())
    hyper = Hyper(loss=loss, epsilon=0.1, opt=steps.SGD, lr=eta, schedule=steps.CONSTANT,
                  power_t=0.5, momentum=0.0, nesterov=False, beta_1=0.9, beta_2=0.999,
                  eps=1e-8, a1=a1, a2=a2, weight_scale=len(sw) / sw.sum(),
                  fit_intercept=True)  # fmt: skip
    state = OptimizerState.zeros(net.params.size)
    runner = net.epoch_runner(X, Y, sw, X.shape[0], np.random.RandomState(0))
    runner(net.params, state.m, state.v, np.arange(X.shape[0]), 0, hyper)
    return net.params


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("loss, penalty", list(itertools.product(LOSSES, PENALTIES)))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_backpropagation_matches_finite_differences(activation, loss, penalty, sparse):
    rng = np.random.default_rng(0)
    n, sizes = 30, [5, 6, 4, N_OUTPUTS[loss]]
    X = rng.standard_normal((n, sizes[0]))
    X[rng.random(X.shape) < 0.3] = 0.0
    Y, sw = LOSSES[loss](rng, n), rng.uniform(0.5, 2.0, n)
    net = MLPNetwork(sizes, np.float64, activation, 0.0)
    net.initialize(np.random.RandomState(1))
    params0 = net.params.copy()
    a1, a2 = PENALTIES[penalty]
    is_weight = np.zeros(params0.size, bool)  # biases are not penalised
    for layer in range(len(sizes) - 1):
        at = net.offsets[layer]
        is_weight[at : at + sizes[layer] * sizes[layer + 1]] = True

    def objective(params):
        Z = reference.mlp_outputs(X, params, sizes, activation)
        values, _ = reference.loss_grad(loss, 0.1, Z, Y)
        w = params[is_weight]
        return sw @ values / sw.sum() + 0.5 * a2 * w @ w

    fd = reference.finite_difference_gradient(objective, params0)
    eta = 1e-3
    expected = params0 - eta * fd
    expected[is_weight] = reference.soft_threshold(expected[is_weight], eta * a1)
    data = sp.csr_matrix(X) if sparse else X
    params = one_sgd_step(data, Y, sw, sizes, activation, params0, loss, a1, a2, eta)
    np.testing.assert_allclose(params, expected, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_vectorised_activations_match_scipy(dtype):
    """tanh, logistic, SiLU and GELU are polynomials of our own (no libm call,
    so that their loops vectorise): within a few ulp of SciPy's, NaN kept.

    GELU's 1 + erf(z / sqrt(2)) cancels for z < 0, in any formula of that
    form (libm's erf too): its error is absolute there, a few eps * |z|.
    """
    from scipy.special import erf, expit

    rng = np.random.default_rng(0)
    z = np.concatenate([rng.standard_normal(20_000) * scale
                        for scale in (1e-9, 1e-3, 0.1, 0.25, 1.0, 5.0, 40.0)])  # fmt: skip
    z = np.concatenate([z, [0.0, -0.0, 0.25, -0.25, 1.0, -1.0, np.nan]]).astype(dtype)
    x = z.astype(np.float64)  # float32 too is computed in float64, then rounded
    phi = 0.5 * (1.0 + erf(x / np.sqrt(2.0)))
    density = np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
    expected = {"tanh": np.tanh(x), "logistic": expit(x), "silu": x * expit(x),
                "gelu": x * phi}  # fmt: skip
    derivative = {"tanh": 1.0 - np.tanh(x) ** 2, "logistic": expit(x) * expit(-x),
                  "silu": expit(x) * (1.0 + x * expit(-x)), "gelu": phi + x * density}  # fmt: skip
    eps = np.finfo(dtype).eps
    ulps = 4 if dtype == np.float64 else 1
    for name in expected:
        code = ACTIVATIONS[name][0]
        out = np.empty((1, z.size), dtype)
        mlp_kernels.activate_block(code, z.reshape(1, -1), out)
        delta = np.ones((1, z.size), dtype)
        mlp_kernels.activation_grad_block(code, z.reshape(1, -1), delta)
        want = expected[name].astype(dtype)
        assert np.isnan(out[0, -1]) and np.isnan(delta[0, -1])
        tolerance = ulps * np.spacing(np.abs(want[:-1]))
        if name == "gelu":
            tolerance += 2 * eps * np.abs(z[:-1])
        assert np.all(np.abs(out[0, :-1] - want[:-1]) <= tolerance), name
        # 1 - tanh**2 cancels near |z| = oo, in the reference as here: absolute
        np.testing.assert_allclose(delta[0, :-1], derivative[name][:-1], rtol=0.0,
                                   atol=8 * eps, err_msg=name)  # fmt: skip


def test_dropout_statistics():
    keep = 0.7
    scales = np.array([
        mlp_kernels.dropout_scale(np.uint64(12345), np.uint64(sample), unit, keep)
        for sample in range(300) for unit in range(100)
    ])  # fmt: skip
    assert abs(np.mean(scales == 0.0) - (1 - keep)) < 0.01
    assert abs(scales.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation
    assert set(np.unique(scales)) == {0.0, 1.0 / keep}
    other_seed = [mlp_kernels.dropout_scale(np.uint64(99), np.uint64(s), 0, keep)
                  for s in range(300)]  # fmt: skip
    assert not np.array_equal(scales[::100], other_seed)


def test_sample_keys_depend_on_values_only():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]])
    keys = np.empty(3, np.uint64)
    empty = np.empty(0)
    ints = np.empty(0, np.int32)
    mlp_kernels.sample_keys(X, empty, ints, ints, False, np.arange(3), 0, 3, keys)
    assert keys[0] == keys[2] != keys[1]
    csr = sp.csr_matrix(X)
    sparse_keys = np.empty(3, np.uint64)
    mlp_kernels.sample_keys(np.empty((0, 2)), csr.data, csr.indices, csr.indptr, True,
                            np.arange(3), 0, 3, sparse_keys)  # fmt: skip
    assert sparse_keys[0] == sparse_keys[2] != sparse_keys[1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_two_threads_give_the_bits_of_one(dtype, sparse):
    """The halves of each batch on two Python threads, or in turn on one."""
    rng = np.random.default_rng(0)
    n, sizes = 301, [6, 9, 7, 3]  # 301 rows, batches of 20: the last has 1 row
    X = rng.standard_normal((n, sizes[0])).astype(dtype)
    Y = rng.integers(0, 3, (n, 1)).astype(float)
    sw = rng.uniform(0.5, 2.0, n)
    data = sp.csr_matrix(X) if sparse else X
    results = []
    for workers in (1, 2, 1, 2):
        net = MLPNetwork(sizes, dtype, "gelu", 0.3)
        net.initialize(np.random.RandomState(1))
        hyper = Hyper(loss=steps.MULTINOMIAL, epsilon=0.1, opt=steps.ADAM, lr=0.01,
                      schedule=steps.CONSTANT, power_t=0.5, momentum=0.9, nesterov=False,
                      beta_1=0.9, beta_2=0.999, eps=1e-8, a1=0.001, a2=0.01,
                      weight_scale=1.0, fit_intercept=True)  # fmt: skip
        state = OptimizerState.zeros(net.params.size, net.moment_dtype)
        runner = net.epoch_runner(data, Y, sw, 20, np.random.RandomState(0))
        runner.seed, runner.workers = np.uint64(7), workers
        order = np.random.default_rng(2).permutation(n)
        total, step = runner._run(net.params, state.m, state.v, order, 0, hyper)
        results.append((net.params.copy(), state.m.copy(), state.v.copy(), total, step))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
    assert results[0][4] == -(-n // 20) and np.isfinite(results[0][3])
    assert results[0][1].dtype == dtype  # float32 networks keep float32 moments
