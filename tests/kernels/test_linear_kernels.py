"""The linear epoch kernels against the NumPy reference and finite differences."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import skbigmodel._network as network_module
from skbigmodel._kernels import steps as kernels
from skbigmodel._network import LinearNetwork
from skbigmodel._training import Hyper, OptimizerState

from . import reference

LOSSES = {
    kernels.SQUARED_ERROR: "regression",
    kernels.HUBER: "regression",
    kernels.EPSILON_INSENSITIVE: "regression",
    kernels.LOG_LOSS: "binary",
    kernels.MULTINOMIAL: "multiclass",
}
OPTIMIZERS = [kernels.SGD, kernels.ADAM, kernels.RMSPROP]
PENALTIES = {"none": (0.0, 0.0), "l2": (0.0, 0.05), "l1": (0.02, 0.0),
             "elasticnet": (0.01, 0.03)}  # fmt: skip


def make_problem(loss, n=90, p=7, k_regression=2, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)).astype(dtype)
    kind = LOSSES[loss]
    if kind == "regression":
        Y = rng.standard_normal((n, k_regression))
        k = k_regression
    elif kind == "binary":
        Y = rng.integers(0, 2, (n, 1)).astype(float)
        k = 1
    else:
        k = 4
        Y = rng.integers(0, k, (n, 1)).astype(float)
    sw = rng.uniform(0.2, 2.0, n)
    sw[::9] = 0.0
    return X, Y, sw, k


def make_hyper(loss, opt, a1, a2, *, sw, lr=0.05, schedule=kernels.CONSTANT,
               momentum=0.9, nesterov=True):  # fmt: skip
    return Hyper(loss=loss, epsilon=0.3, opt=opt, lr=lr, schedule=schedule,
                 power_t=0.5, momentum=momentum, nesterov=nesterov, beta_1=0.9,
                 beta_2=0.99, eps=1e-8, a1=a1, a2=a2,
                 weight_scale=len(sw) / sw.sum(), fit_intercept=True)  # fmt: skip


def run_epoch(X, Y, sw, k, hyper, order, batch_size, params):
    net = LinearNetwork(X.shape[1], k, X.dtype, params.astype(X.dtype))
    state = OptimizerState.zeros(net.params.size)
    runner = net.epoch_runner(X, Y, sw, batch_size)
    total, step = runner(net.params, state.m, state.v, order, 0, hyper)
    return net.params, total, step


@pytest.mark.parametrize("loss", list(LOSSES))
def test_loss_grad_matches_reference(loss):
    X, Y, sw, k = make_problem(loss)
    Z = np.random.default_rng(1).standard_normal((len(Y), k)) * 3
    values, G = reference.loss_grad(loss, 0.3, Z, Y)
    g = np.empty(k)
    for i in range(len(Y)):
        value = kernels.loss_grad(loss, 0.3, Z[i].copy(), Y[i], g)
        np.testing.assert_allclose(value, values[i], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(g, G[i], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss", list(LOSSES))
@settings(max_examples=40, deadline=None)
@given(z=st.lists(st.floats(-6, 6), min_size=4, max_size=4),
       label=st.integers(0, 3))  # fmt: skip
def test_loss_grad_finite_differences(loss, z, label):
    kind = LOSSES[loss]
    k = {"regression": 2, "binary": 1, "multiclass": 4}[kind]
    z = np.array(z[:k])
    y = {"regression": np.array([0.5, -1.0]), "binary": np.array([label % 2.0]),
         "multiclass": np.array([float(label)])}[kind]  # fmt: skip
    if kind == "regression":  # stay away from the kinks of huber / insensitive
        residual = z - y
        if np.any(np.abs(np.abs(residual) - 0.3) < 1e-3) or np.any(
            np.abs(residual) < 1e-3
        ):
            return
    g = np.empty(k)
    kernels.loss_grad(loss, 0.3, z, y, g)
    h = 1e-6
    for c in range(k):
        up, down = z.copy(), z.copy()
        up[c] += h
        down[c] -= h
        scratch = np.empty(k)
        fd = (kernels.loss_grad(loss, 0.3, up, y, scratch)
              - kernels.loss_grad(loss, 0.3, down, y, scratch)) / (2 * h)  # fmt: skip
        np.testing.assert_allclose(g[c], fd, rtol=1e-5, atol=1e-6)


@settings(max_examples=200, deadline=None)
@given(w=st.floats(-1e6, 1e6), threshold=st.floats(0, 1e6))
def test_soft_threshold_is_the_l1_prox(w, threshold):
    out = kernels.soft_threshold(w, threshold)
    assert out == pytest.approx(np.sign(w) * max(abs(w) - threshold, 0.0))
    if abs(w) <= threshold:
        assert out == 0.0


CASES = list(itertools.product(LOSSES, OPTIMIZERS, PENALTIES))


@pytest.mark.parametrize("loss, opt, penalty", CASES)
@pytest.mark.parametrize("n_chunks_work", [1 << 30, 1])
def test_dense_epoch_matches_reference(loss, opt, penalty, n_chunks_work, monkeypatch):
    monkeypatch.setattr(network_module, "PARALLEL_BATCH_WORK", n_chunks_work)
    X, Y, sw, k = make_problem(loss)
    a1, a2 = PENALTIES[penalty]
    hyper = make_hyper(loss, opt, a1, a2, sw=sw, schedule=kernels.INVSCALING)
    order = np.random.default_rng(2).permutation(len(X))
    params0 = np.random.default_rng(3).standard_normal(k * (X.shape[1] + 1)) * 0.1
    params, total, step = run_epoch(X, Y, sw, k, hyper, order, 16, params0)
    expected = params0.copy()
    m, v = np.zeros_like(expected), np.zeros_like(expected)
    ref_total, ref_step = reference.dense_epoch(
        X, Y, sw, order, 16, expected, m, v, *hyper.kernel_args(), 0, True
    )
    assert step == ref_step == -(-len(X) // 16)
    np.testing.assert_allclose(total, ref_total, rtol=1e-10)
    np.testing.assert_allclose(params, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss, opt, penalty", CASES[::2])
def test_csr_epoch_equals_dense_when_every_feature_is_present(loss, opt, penalty):
    X, Y, sw, k = make_problem(loss)
    X[X == 0] = 1e-3  # no stored zero: every feature is in every batch
    a1, a2 = PENALTIES[penalty]
    hyper = make_hyper(loss, opt, a1, a2, sw=sw)
    order = np.random.default_rng(2).permutation(len(X))
    params0 = np.random.default_rng(3).standard_normal(k * (X.shape[1] + 1)) * 0.1
    dense, dense_total, _ = run_epoch(X, Y, sw, k, hyper, order, 16, params0)
    csr, csr_total, _ = run_epoch(sp.csr_matrix(X), Y, sw, k, hyper, order, 16, params0)
    np.testing.assert_allclose(csr_total, dense_total, rtol=1e-10)
    np.testing.assert_allclose(csr, dense, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("opt", OPTIMIZERS)
def test_csr_lazy_penalty_of_absent_features(opt):
    """A feature absent from every row only feels the penalty, in closed form."""
    X, Y, sw, k = make_problem(kernels.SQUARED_ERROR, k_regression=1)
    sw[:] = 1.0
    X[:, 0] = 0.0
    X = sp.csr_matrix(X)
    X.eliminate_zeros()
    a1, a2 = 0.01, 0.2
    hyper = make_hyper(kernels.SQUARED_ERROR, opt, a1, a2, sw=sw, lr=0.01,
                       schedule=kernels.INVSCALING)  # fmt: skip
    params0 = np.zeros(X.shape[1] + 1)
    params0[0] = 0.5
    order = np.arange(X.shape[0])
    params, _, step = run_epoch(X, Y, sw, 1, hyper, order, 10, params0)
    etas = [reference.step_size(opt, 0.01, kernels.INVSCALING, 0.5, 0.9, 0.99, t)
            for t in range(1, step + 1)]  # fmt: skip
    scale = 1.0 / (1 - 0.9) if opt == kernels.SGD else 1.0 / 1e-8  # frozen v = 0
    expected = 0.5 * np.exp(-sum(etas) * scale * a2)
    expected = reference.soft_threshold(expected, sum(etas) * scale * a1)
    np.testing.assert_allclose(params[0], expected, rtol=1e-12)


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("penalty", list(PENALTIES))
def test_step_follows_the_objective_gradient(loss, penalty):
    """One full-batch plain-SGD step moves by -eta * (finite-difference gradient)."""
    X, Y, sw, k = make_problem(loss, n=40, p=4)
    a1, a2 = PENALTIES[penalty]
    eta = 1e-3
    hyper = make_hyper(loss, kernels.SGD, a1, a2, sw=sw, lr=eta, momentum=0.0,
                       nesterov=False)  # fmt: skip
    rng = np.random.default_rng(4)
    params0 = rng.standard_normal(k * (X.shape[1] + 1)) * 0.3
    p = X.shape[1]

    def smooth_objective(params):
        W, b = params[: p * k].reshape(p, k), params[p * k :]
        values, _ = reference.loss_grad(loss, 0.3, X @ W + b, Y)
        weights = params[: p * k]
        return sw @ values / sw.sum() + 0.5 * a2 * weights @ weights

    fd = reference.finite_difference_gradient(smooth_objective, params0)
    expected = params0 - eta * fd
    expected[: p * k] = reference.soft_threshold(expected[: p * k], eta * a1)
    params, _, _ = run_epoch(X, Y, sw, k, hyper, np.arange(len(X)), len(X), params0)
    np.testing.assert_allclose(params, expected, rtol=1e-6, atol=1e-9)
