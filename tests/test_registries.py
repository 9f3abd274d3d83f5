"""Every entry of every registry: its faces (kernel, NumPy, ONNX) agree.

A new loss, optimiser, penalty or activation is an entry in its registry;
these tests walk the registries, so a new entry is checked with no new test.
"""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from skbigmodel import LinearClassifier, LogisticClassifier, MLPClassifier, MLPRegressor
from skbigmodel._activations import ACTIVATIONS
from skbigmodel._kernels import activations as activation_kernels
from skbigmodel._kernels import penalties as penalty_kernels
from skbigmodel._kernels.bundles import Loss, Optimizer, Penalty, State
from skbigmodel._kernels.losses import MULTINOMIAL, outputs_grad
from skbigmodel._kernels.optimizers import INVSCALING, NESTEROV, step_size, update_range
from skbigmodel._losses import (
    DISTILLATION_LOSSES,
    LOG_LOSSES,
    MARGIN_LOSSES,
    REGRESSION_LOSSES,
)
from skbigmodel._optimizers import OPTIMIZERS
from skbigmodel._penalties import (
    PENALTIES,
    penalty_strengths,
    penalty_value,
    soft_threshold,
)

# The margin losses include the regression losses on labels +-1.
LOSSES = {
    **REGRESSION_LOSSES,
    **LOG_LOSSES,
    **{f"margin {name}": entry for name, entry in MARGIN_LOSSES.items()},
    **{f"distillation {name}": entry for name, entry in DISTILLATION_LOSSES.items()},
}
TOLERANCE = {np.float64: 1e-12, np.float32: 2e-6}


def _points(rng, n, dtype):
    """Values away from the kinks of ReLU-like functions and of the losses."""
    z = rng.uniform(-6, 6, n)
    return np.where(np.abs(z) < 1e-2, 0.5, z).astype(dtype)


# -- activations -------------------------------------------------------------


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activation_kernel_matches_its_numpy_faces(name, dtype):
    entry = ACTIVATIONS[name]
    z = _points(np.random.default_rng(0), 400, dtype).reshape(20, -1)
    out = np.empty_like(z)
    activation_kernels.activate_block(entry.code, z, out)
    np.testing.assert_allclose(
        out, entry.forward(z), rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype]
    )
    delta = np.ones_like(z)
    activation_kernels.activation_grad_block(entry.code, z, delta)
    np.testing.assert_allclose(
        delta,
        entry.derivative(z),
        rtol=TOLERANCE[dtype] * 10,
        atol=TOLERANCE[dtype] * 10,
    )


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_derivative_is_the_forward_s(name):
    entry = ACTIVATIONS[name]
    z = _points(np.random.default_rng(1), 300, np.float64)
    h = 1e-6
    numeric = (entry.forward(z + h) - entry.forward(z - h)) / (2 * h)
    np.testing.assert_allclose(entry.derivative(z), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activation_onnx_graph_predicts_as_numpy(name, dtype):
    import onnxruntime  # the test extra installs it

    from skbigmodel.onnx import to_onnx

    X, y = make_regression(n_samples=80, n_features=5, random_state=0)
    X = (X / 2).astype(dtype)
    reg = MLPRegressor(
        hidden_layer_sizes=(7, 5), activation=name, max_iter=3, random_state=0
    )
    with pytest.warns(Warning):  # max_iter reached
        reg.fit(X, y)
    session = onnxruntime.InferenceSession(to_onnx(reg, X).SerializeToString())
    got = session.run(None, {session.get_inputs()[0].name: X})[0]
    np.testing.assert_allclose(
        got.ravel(),
        reg.predict(X),
        rtol=1e-4 if dtype == np.float32 else 1e-9,
        atol=1e-4,
    )


# -- losses --------------------------------------------------------------------


def _param(entry):
    """The loss's parameter: its fixed value, or 0.3 for epsilon / quantile."""
    return 0.3 if isinstance(entry.param, str) else entry.param


def _loss_problem(name, rng, n=40):
    k = 1 if name.endswith("binary") else 3
    Z = rng.uniform(-3, 3, (n, k))
    if name.startswith("distillation"):
        # rows [label, hard weight, soft weight, probabilities (of class 1)]
        labels = rng.integers(0, max(k, 2), (n, 1)).astype(float)
        proba = rng.dirichlet(np.ones(max(k, 2)), n)
        weights = rng.uniform(0, 1, (n, 2))
        Y = np.hstack([labels, weights, proba[:, 1:] if k == 1 else proba])
    elif name == "multinomial":
        Y = rng.integers(0, k, (n, 1)).astype(float)
    elif name.startswith("margin"):
        Y = rng.choice([-1.0, 1.0], (n, k))
    elif name in LOG_LOSSES:
        Y = rng.integers(0, 2, (n, k)).astype(float)
    else:
        Y = Z + rng.choice([-1, 1], (n, k)) * rng.uniform(0.05, 2.0, (n, k))
        entry = LOSSES[name]
        if entry.check_target is not None:  # a restricted domain: y >= 0
            Y = np.where(rng.random((n, k)) < 0.2, 0.0, np.abs(Y))
            entry.check_target(Y)
    return Z, Y


@pytest.mark.parametrize("name", LOSSES)
def test_loss_kernel_matches_its_reference(name):
    entry = LOSSES[name]
    rng = np.random.default_rng(2)
    Z, Y = _loss_problem(name, rng)
    sw = rng.uniform(0.1, 2.0, len(Z))
    param = _param(entry)
    G, grad_b = np.empty_like(Z), np.empty(Z.shape[1])
    order = np.arange(len(Z), dtype=np.int64)
    value = outputs_grad(
        Z.copy(), Y, sw, order, 0, len(Z), Loss(entry.code, param), G, grad_b
    )
    values, grads = entry.reference(Z, Y, param)
    assert value == pytest.approx(sw @ values, rel=1e-12)
    np.testing.assert_allclose(G, sw[:, None] * grads, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad_b, (sw[:, None] * grads).sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_reference_gradient_is_its_values_s(name):
    entry = LOSSES[name]
    Z, Y = _loss_problem(name, np.random.default_rng(3))
    param = _param(entry)
    _, grads = entry.reference(Z, Y, param)
    h = 1e-6
    for c in range(Z.shape[1]):
        step = np.zeros_like(Z)
        step[:, c] = h
        up, down = (
            entry.reference(Z + step, Y, param)[0],
            entry.reference(Z - step, Y, param)[0],
        )
        np.testing.assert_allclose(grads[:, c], (up - down) / (2 * h), atol=1e-6)


@pytest.mark.parametrize("name", LOSSES)
def test_loss_smooth_flag_is_its_gradient_s(name):
    """``smooth`` (which L-BFGS requires) holds iff the gradient along a fine
    line through the first output has no jump."""
    entry = LOSSES[name]
    Z, Y = _loss_problem(name, np.random.default_rng(4), n=8)
    line = np.linspace(-6.0, 6.0, 120_001)  # steps of 1e-4
    largest = 0.0
    for z, y in zip(Z, Y):
        points = np.repeat(z[None, :], line.size, axis=0)
        points[:, 0] = line
        grads = entry.reference(
            points, np.repeat(y[None, :], line.size, 0), _param(entry)
        )[1]
        jumps = np.abs(np.diff(grads[:, 0])) / (1.0 + np.abs(grads[1:, 0]))
        largest = max(largest, jumps.max())
    assert (largest < 1e-2) if entry.smooth else (largest > 0.1), largest


@pytest.mark.parametrize(
    "name", [name for name, entry in LOSSES.items() if entry.passive_aggressive]
)
def test_passive_aggressive_losses_have_slope_one(name):
    """The PA step loss / |x|^2 is a step length along the gradient only for
    a loss whose slope is 1 wherever it is positive (and 0 elsewhere)."""
    entry = LOSSES[name]
    Z, Y = _loss_problem(name, np.random.default_rng(5), n=200)
    losses, grads = entry.reference(Z[:, :1], Y[:, :1], _param(entry))
    slope = np.abs(grads[:, 0])
    assert (losses > 0).any() and (losses == 0).any()
    np.testing.assert_array_equal(slope, np.where(losses > 0, 1.0, 0.0))


def _classifier_for(name):
    if name == "multilabel":
        X, y = make_classification(n_samples=120, n_features=6, random_state=0)
        Y = np.stack([y, X[:, 0] > 0], axis=1).astype(int)
        return MLPClassifier((6,), max_iter=3, random_state=0), X, Y
    n_classes = 3 if name.endswith("multinomial") else 2
    X, y = make_classification(
        n_samples=120,
        n_features=6,
        n_informative=4,
        n_classes=n_classes,
        random_state=0,
    )
    if name.startswith("modified_huber"):
        return LinearClassifier("modified_huber", max_iter=3, random_state=0), X, y
    return LogisticClassifier(max_iter=3, random_state=0), X, y


PROBABILITY_LOSSES = {
    **LOG_LOSSES,
    "modified_huber binary": MARGIN_LOSSES["modified_huber"],
    "modified_huber multinomial": MARGIN_LOSSES["modified_huber"],
}


@pytest.mark.parametrize("name", PROBABILITY_LOSSES)
def test_loss_probabilities_numpy_and_onnx_agree(name):
    import onnxruntime  # the test extra installs it

    from skbigmodel.onnx import to_onnx

    entry = PROBABILITY_LOSSES[name]
    clf, X, y = _classifier_for(name)
    with pytest.warns(Warning):  # max_iter reached
        clf.fit(X, y)
    assert clf._loss() is entry
    raw = np.atleast_2d(clf.decision_function(X).T).T
    proba = entry.proba(raw)
    np.testing.assert_allclose(np.exp(entry.log_proba(raw)), proba, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    session = onnxruntime.InferenceSession(to_onnx(clf, X).SerializeToString())
    onnx_proba = session.run(None, {session.get_inputs()[0].name: X})[1]
    np.testing.assert_allclose(onnx_proba, proba, rtol=1e-9, atol=1e-12)


# -- optimisers ------------------------------------------------------------------


def _optimizer(code, schedule=0):
    return Optimizer(
        kind=code,
        lr=0.05,
        schedule=schedule,
        power_t=0.5,
        momentum=0.8,
        beta_1=0.9,
        beta_2=0.99,
        eps=1e-8,
    )


@pytest.mark.parametrize("name", [*OPTIMIZERS, "nesterov"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("penalty", [Penalty(0.0, 0.0), Penalty(0.02, 0.1)])
def test_optimizer_kernel_matches_its_reference(name, dtype, penalty):
    entry = OPTIMIZERS["sgd" if name == "nesterov" else name]
    rng = np.random.default_rng(4)
    n = 257  # a vector loop and a remainder
    w, g = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    m, v = rng.standard_normal(n).astype(dtype), rng.uniform(0, 1, n).astype(dtype)
    optimizer = _optimizer(NESTEROV if name == "nesterov" else entry.code)
    expected = entry.reference(
        optimizer,
        w.astype(float),
        0.5 * g.astype(float),
        m.astype(float),
        v.astype(float),
        0.01,
        *penalty,
    )
    state = State(w.copy(), m.copy(), v.copy())
    update_range(state, g, 0.5, 0, n, optimizer, 0.01, penalty)
    for got, want in zip(state, expected):
        np.testing.assert_allclose(
            got, want, rtol=TOLERANCE[dtype] * 100, atol=TOLERANCE[dtype] * 10
        )


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("t", [1, 2, 17])
def test_optimizer_step_size_schedules(name, t):
    entry = OPTIMIZERS[name]
    constant = step_size(_optimizer(entry.code), t)
    scaled = step_size(_optimizer(entry.code, INVSCALING), t)
    assert scaled == pytest.approx(constant / t**0.5, rel=1e-14)
    bias = np.sqrt(1 - 0.99**t) / (1 - 0.9**t) if name == "adam" else 1.0
    assert constant == pytest.approx(0.05 * bias, rel=1e-14)


# -- penalties ---------------------------------------------------------------------


@pytest.mark.parametrize("name", PENALTIES)
@pytest.mark.parametrize("l1_ratio", [0.0, 0.3, 1.0])
def test_penalty_value_is_the_objective_s(name, l1_ratio):
    w = np.random.default_rng(5).standard_normal(50)
    share = PENALTIES[name].l1_share
    share = l1_ratio if share is None else share
    alpha = 0.7
    expected = alpha * (share * np.abs(w).sum() + (1 - share) / 2 * (w @ w))
    a1, a2 = penalty_strengths(name, alpha, l1_ratio)
    assert penalty_value(w, a1, a2) == pytest.approx(expected, rel=1e-12)
    # the kernels' proximal step of the L1 part is soft-thresholding
    kernel = np.array([penalty_kernels.soft_threshold(x, 0.4 * a1) for x in w])
    np.testing.assert_array_equal(kernel, soft_threshold(w, 0.4 * a1))
    assert (kernel == 0).sum() == (np.abs(w) <= 0.4 * a1).sum()


def test_every_registry_names_distinct_codes():
    for registry in (ACTIVATIONS, REGRESSION_LOSSES, OPTIMIZERS):
        codes = [entry.code for entry in registry.values()]
        assert len(set(codes)) == len(codes)
    assert MULTINOMIAL in {entry.code for entry in LOG_LOSSES.values()}
