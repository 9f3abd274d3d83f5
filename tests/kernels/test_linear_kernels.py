"""The linear epoch kernels against the NumPy reference and finite differences."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification, make_regression

import skbigmodel._network as network_module
from skbigmodel import LinearRegressor, LogisticClassifier
from skbigmodel._kernels import steps as kernels
from skbigmodel._network import LinearNetwork
from skbigmodel._training import Hyper, OptimizerState

from ..conftest import sparse_classification
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


def row_loss_grad(loss, z, y):
    """Loss and gradient of one sample with outputs z (k,) and targets y,
    through ``outputs_grad``, the kernels' loss code, on a chunk of one row."""
    g, grad_b = np.empty((1, z.shape[0])), np.empty(z.shape[0])
    value = kernels.outputs_grad(z[None].astype(np.float64), y[None], np.ones(1),
                                 np.zeros(1, np.int64), 0, 1, loss, 0.3, g, grad_b)  # fmt: skip
    return value, g[0]


@pytest.mark.parametrize("loss", list(LOSSES))
def test_loss_grad_matches_reference(loss):
    X, Y, sw, k = make_problem(loss)
    Z = np.random.default_rng(1).standard_normal((len(Y), k)) * 3
    values, G = reference.loss_grad(loss, 0.3, Z, Y)
    for i in range(len(Y)):
        value, g = row_loss_grad(loss, Z[i], Y[i])
        np.testing.assert_allclose(value, values[i], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(g, G[i], rtol=1e-12, atol=1e-12)


def test_exp_nonpositive_and_log1p_unit_are_within_a_few_ulp():
    rng = np.random.default_rng(0)
    x = -(10.0 ** rng.uniform(-20, np.log10(708), 20_000))
    x = np.concatenate([x, [0.0, -0.0, -1e-300, -0.5 * np.log(2), -708.0]])
    got = np.array([kernels.exp_nonpositive(v) for v in x])
    want = np.exp(x)
    assert np.all(np.abs(got - want) <= 2 * np.spacing(want))
    # below -708: the smallest normal float or about, never NaN or negative
    tiny = np.array([kernels.exp_nonpositive(v) for v in (-708.5, -745.0, -1e308, -np.inf)])
    assert np.all((tiny > 0.0) & (tiny < 3.4e-308))
    assert np.isnan(kernels.exp_nonpositive(np.nan))
    e = np.concatenate([rng.uniform(0, 1, 20_000), 10.0 ** rng.uniform(-300, 0, 2_000),
                        [0.0, 1e-17, 1.0]])  # fmt: skip
    got = np.array([kernels.log1p_unit(v) for v in e])
    want = np.log1p(e)
    assert np.all(np.abs(got - want) <= 3 * np.spacing(want))


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_outputs_grad_matches_reference(loss, dtype):
    """The chunk losses of the kernels: ``outputs_grad`` (several outputs and
    the multinomial's vectorised softmax) and ``output_losses`` (one output)."""
    X, Y, sw, k = make_problem(loss)
    m = len(Y)
    Z = (np.random.default_rng(1).standard_normal((m, k)) * 30).astype(dtype)
    Z[:3] = [[700.0] * k, [-700.0] * k, [0.0] * k]
    order = np.random.default_rng(2).permutation(m)
    values, G = reference.loss_grad(loss, 0.3, Z.astype(np.float64), Y[order])
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (1e-5, 1e-5)
    if loss != kernels.MULTINOMIAL:  # one output: column 0 alone
        t, d = Z[:, 0].copy(), Y[order, 0].astype(dtype)
        kernels.output_losses(loss, 0.3, t, d)
        values_0, G_0 = reference.loss_grad(loss, 0.3, Z[:, :1].astype(np.float64),
                                            Y[order, :1])  # fmt: skip
        np.testing.assert_allclose(t, values_0, rtol=rtol, atol=atol)
        np.testing.assert_allclose(d, G_0[:, 0], rtol=rtol, atol=atol)
    out, grad_b = np.empty_like(Z), np.empty(k, dtype)
    value = kernels.outputs_grad(Z.copy(), Y, sw, order, 0, m, loss, 0.3, out, grad_b)
    weights = sw[order][:, None]
    np.testing.assert_allclose(value, (sw[order] * values).sum(), rtol=rtol)
    np.testing.assert_allclose(out, weights * G, rtol=rtol, atol=atol)
    np.testing.assert_allclose(grad_b, (weights * G).sum(axis=0), rtol=rtol, atol=atol)


@pytest.mark.parametrize("loss", list(LOSSES))
@settings(max_examples=40, deadline=None)
@given(z=st.lists(st.floats(-6, 6), min_size=4, max_size=4),
       label=st.integers(0, 3))  # fmt: skip
def test_loss_grad_finite_differences(loss, z, label):
    kind = LOSSES[loss]
    k = {"regression": 2, "binary": 1, "multiclass": 4}[kind]
    z = np.array([z[:k]])
    y = {"regression": np.array([[0.5, -1.0]]), "binary": np.array([[label % 2.0]]),
         "multiclass": np.array([[float(label)]])}[kind]  # fmt: skip
    if kind == "regression":  # stay away from the kinks of huber / insensitive
        residual = z - y
        if np.any(np.abs(np.abs(residual) - 0.3) < 1e-3) or np.any(
            np.abs(residual) < 1e-3
        ):
            return
    _, g = row_loss_grad(loss, z[0], y[0])
    h = 1e-6
    for c in range(k):
        up, down = z[0].copy(), z[0].copy()
        up[c] += h
        down[c] -= h
        fd = (row_loss_grad(loss, up, y[0])[0] - row_loss_grad(loss, down, y[0])[0]) / (2 * h)
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


def lazy_csr_epoch(X, Y, sw, order, batch_size, params, m, v, loss, epsilon, opt, lr,
                   schedule, power_t, momentum, nesterov, beta_1, beta_2, eps, a1, a2,
                   weight_scale, step, fit_intercept):  # fmt: skip
    """NumPy version of the lazy CSR epoch, in place, written for clarity.

    A feature with a stored entry in a weighted row of the batch takes the
    optimiser step; the others keep their moments and only owe the penalty
    steps they skip, paid in closed form (``catch_up``) before the feature
    is next used and at the end of the epoch.
    """
    X = sp.csr_matrix(X)
    p = X.shape[1]
    k = params.size // (p + 1)
    n_coef = p * k
    W, M, V = (a[:n_coef].reshape(p, k) for a in (params, m, v))
    owed = np.zeros(p)  # summed steps each feature skipped since its last step

    def catch_up(features):
        if opt == kernels.SGD:
            scale = np.full((features.size, k), 1.0 / (1.0 - momentum))
        else:
            scale = 1.0 / (np.sqrt(V[features]) + eps)
        total_eta = owed[features, None] * scale
        W[features] *= np.exp(-total_eta * a2)
        W[features] = reference.soft_threshold(W[features], total_eta * a1)
        owed[features] = 0.0

    total = 0.0
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        present = np.unique(X[rows[sw[rows] > 0]].indices)
        catch_up(present)
        Xb, w = X[rows], sw[rows]
        Z = Xb @ W + params[n_coef:]
        values, G = reference.loss_grad(loss, epsilon, Z, Y[rows])
        total += float(w @ values)
        scale = weight_scale / len(rows)
        grad_W = np.asarray(Xb.T @ (G * w[:, None])) * scale
        step += 1
        eta = reference.step_size(opt, lr, schedule, power_t, beta_1, beta_2, step)
        hyper = (eta, momentum, nesterov, beta_1, beta_2, eps)
        W[present], M[present], V[present] = reference.optimizer_step(
            opt, W[present], grad_W[present], M[present], V[present], *hyper, a1, a2
        )
        absent = np.setdiff1d(np.arange(p), present)
        owed[absent] += eta
        if fit_intercept:
            params[n_coef:], m[n_coef:], v[n_coef:] = reference.optimizer_step(
                opt, params[n_coef:], w @ G * scale, m[n_coef:], v[n_coef:], *hyper,
                0.0, 0.0,
            )  # fmt: skip
    catch_up(np.arange(p))
    return total, step


def sparse_problem(loss, seed=0):
    """make_problem's data with most entries absent, a few stored zeros, and a
    feature absent from every row."""
    X, Y, sw, k = make_problem(loss, seed=seed)
    rng = np.random.default_rng(seed + 10)
    X[rng.random(X.shape) < 0.6] = 0.0
    X[:, 3] = 0.0
    X = sp.csr_matrix(X)
    X.data[::11] = 0.0  # stored zeros: present, with a zero gradient
    return X, Y, sw, k


@pytest.mark.parametrize("loss, opt, penalty", CASES[1::2])
def test_csr_epoch_matches_lazy_reference(loss, opt, penalty):
    """Absent features skip the optimiser step and pay the penalty lazily."""
    X, Y, sw, k = sparse_problem(loss)
    a1, a2 = PENALTIES[penalty]
    hyper = make_hyper(loss, opt, a1, a2, sw=sw, schedule=kernels.INVSCALING)
    order = np.random.default_rng(2).permutation(X.shape[0])
    params0 = np.random.default_rng(3).standard_normal(k * (X.shape[1] + 1)) * 0.1
    params, total, step = run_epoch(X, Y, sw, k, hyper, order, 16, params0)
    expected = params0.copy()
    m, v = np.zeros_like(expected), np.zeros_like(expected)
    ref_total, ref_step = lazy_csr_epoch(X, Y, sw, order, 16, expected, m, v,
                                         *hyper.kernel_args(), 0, True)  # fmt: skip
    assert step == ref_step
    np.testing.assert_allclose(total, ref_total, rtol=1e-10)
    np.testing.assert_allclose(params, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("penalty", ["none", "l2"])
@pytest.mark.parametrize("lr, batch_size", [(0.05, 16), (0.4, 2)])
def test_csr_plain_sgd_takes_the_dense_steps(loss, penalty, lr, batch_size):
    """Plain SGD with L2 keeps one weight scale: on CSR data it takes exactly
    the dense path's steps, absent features included (lr=0.4 with 45 small
    batches shrinks the scale below 1e-9, where it is folded into the weights)."""
    X, Y, sw, k = sparse_problem(loss)
    a1, a2 = PENALTIES[penalty]
    a2 = 1.0 if (penalty == "l2" and lr == 0.4) else a2
    schedule = kernels.CONSTANT if lr == 0.4 else kernels.INVSCALING
    hyper = make_hyper(loss, kernels.SGD, a1, a2, sw=sw, lr=lr, momentum=0.0,
                       schedule=schedule)  # fmt: skip
    order = np.random.default_rng(2).permutation(X.shape[0])
    params0 = np.random.default_rng(3).standard_normal(k * (X.shape[1] + 1)) * 0.1
    dense, dense_total, _ = run_epoch(X.toarray(), Y, sw, k, hyper, order, batch_size,
                                      params0)  # fmt: skip
    csr, csr_total, _ = run_epoch(X, Y, sw, k, hyper, order, batch_size, params0)
    np.testing.assert_allclose(csr_total, dense_total, rtol=1e-10)
    np.testing.assert_allclose(csr, dense, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", [kernels.LOG_LOSS, kernels.MULTINOMIAL])
@pytest.mark.parametrize("opt, momentum, penalty", [
    (kernels.SGD, 0.0, "l2"),  # csr_sgd_epoch
    (kernels.SGD, 0.9, "l2"),
    (kernels.ADAM, 0.9, "elasticnet"),
])  # fmt: skip
@pytest.mark.parametrize("sorted_indices", [True, False])
def test_csr_threads_give_the_bits_of_one(loss, opt, momentum, penalty, sorted_indices):
    """Each thread owns a column range of the features; on one thread the
    same ranges run in turn, so the bits do not depend on the count."""
    X, Y, sw, k = sparse_problem(loss)
    X = sp.vstack([X] * 4, format="csr")  # 360 rows, batches of 16: last of 8
    Y, sw = np.tile(Y, (4, 1)), np.tile(sw, 4)
    if not sorted_indices:  # reverse each row's entries: one column range
        X = sp.csr_matrix((X.data.copy(), X.indices.copy(), X.indptr), shape=X.shape)
        for i in range(X.shape[0]):
            row = slice(X.indptr[i], X.indptr[i + 1])
            X.data[row], X.indices[row] = X.data[row][::-1], X.indices[row][::-1]
        X.has_sorted_indices = False
    a1, a2 = PENALTIES[penalty]
    hyper = make_hyper(loss, opt, a1, a2, sw=sw, momentum=momentum)
    order = np.random.default_rng(2).permutation(X.shape[0])
    params0 = np.random.default_rng(3).standard_normal(k * (X.shape[1] + 1)) * 0.1
    results = []
    for workers in (1, 2, 1, 2):
        net = LinearNetwork(X.shape[1], k, X.dtype, params0.copy())
        state = OptimizerState.zeros(net.params.size)
        runner = net.epoch_runner(X, Y, sw, 16)
        n_parts = runner.col_cuts.size - 1
        assert n_parts == (network_module.CSR_PARTS if sorted_indices else 1)
        runner.workers = min(workers, n_parts)
        total, step = runner._run(net.params, state.m, state.v, order, 0, hyper)
        results.append((net.params.copy(), state.m.copy(), state.v.copy(), total, step))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
    assert results[0][4] == -(-X.shape[0] // 16) and np.isfinite(results[0][3])
    assert not np.array_equal(results[0][0], params0)


class _ShortSegments(network_module.ThreadChooser):
    """Probes of 2 batches and runs of 3: an epoch of 23 batches in many calls."""

    PROBE_BATCHES, RUN_BATCHES, PROBE_WARMUP_BATCHES, MIN_PROBE_BATCHES = 2, 3, 1, 2


@pytest.mark.parametrize("opt, momentum, penalty", [
    (kernels.SGD, 0.0, "l2"),  # csr_sgd_epoch: its weight scale spans the calls
    (kernels.SGD, 0.9, "elasticnet"),  # csr_epoch: lazy L1 and L2 span them
    (kernels.ADAM, 0.9, "l1"),
])  # fmt: skip
@pytest.mark.parametrize("threads", [1, 2])
def test_csr_epoch_in_segments_gives_the_bits_of_one_call(opt, momentum, penalty,
                                                          threads):  # fmt: skip
    """The thread chooser splits an epoch into calls at times it measures:
    the CSR kernels carry their state across them, so the bits stay."""
    X, Y, sw, k = sparse_problem(kernels.LOG_LOSS)
    X = sp.vstack([X] * 4, format="csr")  # 360 rows, batches of 16: 23 batches
    Y, sw = np.tile(Y, (4, 1)), np.tile(sw, 4)
    a1, a2 = PENALTIES[penalty]
    hyper = make_hyper(kernels.LOG_LOSS, opt, a1, a2, sw=sw, momentum=momentum,
                       lr=0.4 if momentum == 0.0 else 0.05)  # fmt: skip
    order = np.random.default_rng(2).permutation(X.shape[0])
    params0 = np.random.default_rng(3).standard_normal(k * (X.shape[1] + 1)) * 0.1
    results = []
    for segmented in (False, True):
        net = LinearNetwork(X.shape[1], k, X.dtype, params0.copy())
        state = OptimizerState.zeros(net.params.size)
        runner = net.epoch_runner(X, Y, sw, 16)
        if segmented:
            runner.chooser = _ShortSegments(threads)
            total, step = runner(net.params, state.m, state.v, order, 0, hyper)
        else:
            total, step = runner._run(net.params, state.m, state.v, order, 0, hyper)
        results.append((net.params.copy(), state.m.copy(), state.v.copy(), total, step))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    if a1 > 0:
        assert (results[0][0] == 0.0).any()  # L1 reached exact zeros


def test_csr_column_ranges_split_the_non_zeros():
    """The cuts balance the non-zeros; each row's bounds split it at the cuts."""
    rng = np.random.default_rng(0)
    uniform = rng.random((500, 30))
    X = sp.csr_matrix((rng.random(500 * 30), (np.repeat(np.arange(500), 30),
                       (uniform * uniform * 1000).astype(int).ravel())),
                      shape=(500, 1000))  # fmt: skip
    X.sum_duplicates()
    cuts = network_module.csr_column_cuts(X, 2)
    assert cuts[0] == 0 and cuts[-1] == 1000 and 0 < cuts[1] < 500  # skewed columns
    share = (X.indices < cuts[1]).mean()
    assert 0.45 < share < 0.55
    bounds = np.empty((500, 3), dtype=X.indptr.dtype)
    network_module.csr_parts(X.indices, X.indptr, cuts, bounds)
    for i in range(500):
        lo, mid, hi = bounds[i]
        assert (lo, hi) == (X.indptr[i], X.indptr[i + 1])
        assert (X.indices[lo:mid] < cuts[1]).all() and (X.indices[mid:hi] >= cuts[1]).all()


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
    params = dict(solver="sgd", momentum=0.0, alpha=1e-2, max_iter=4, batch_size=32,
                  random_state=0)  # fmt: skip
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
