"""The losses' kernels against the NumPy reference and finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skbigmodel._kernels.bundles import Loss
from skbigmodel._kernels.losses import (
    MULTINOMIAL,
    output_losses,
    outputs_grad,
    softmax_grad,
)

from . import reference
from ._problems import EPSILON, KINDS, LOSSES, make_problem


def row_loss_grad(loss, z, y):
    """Loss and gradient of one sample with outputs z (k,) and targets y,
    through ``outputs_grad`` on a chunk of one row."""
    g, grad_b = np.empty((1, z.shape[0])), np.empty(z.shape[0])
    value = outputs_grad(
        z[None].astype(np.float64),
        y[None],
        np.ones(1),
        np.zeros(1, np.int64),
        0,
        1,
        loss,
        g,
        grad_b,
    )
    return value, g[0]


@pytest.mark.parametrize("loss", LOSSES)
def test_loss_grad_matches_reference(loss):
    loss = Loss(loss, EPSILON)
    X, Y, sw, k = make_problem(loss.kind)
    Z = np.random.default_rng(1).standard_normal((len(Y), k)) * 3
    values, G = reference.loss_grad(loss, Z, Y)
    for i in range(len(Y)):
        value, g = row_loss_grad(loss, Z[i], Y[i])
        np.testing.assert_allclose(value, values[i], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(g, G[i], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_outputs_grad_matches_reference(loss, dtype):
    """A chunk of rows visited in shuffled order: ``outputs_grad`` (several
    outputs, one output, the multinomial's softmax) and ``output_losses``
    (one output), extreme outputs included."""
    loss = Loss(loss, EPSILON)
    X, Y, sw, k = make_problem(loss.kind)
    m = len(Y)
    Z = (np.random.default_rng(1).standard_normal((m, k)) * 30).astype(dtype)
    Z[:3] = [[700.0] * k, [-700.0] * k, [0.0] * k]
    order = np.random.default_rng(2).permutation(m)
    values, G = reference.loss_grad(loss, Z.astype(np.float64), Y[order])
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (1e-5, 1e-5)
    if loss.kind != MULTINOMIAL:  # one output: column 0 alone
        t, d = Z[:, 0].copy(), Y[order, 0].astype(dtype)
        output_losses(loss, t, d)
        values_0, G_0 = reference.loss_grad(
            loss, Z[:, :1].astype(np.float64), Y[order, :1]
        )
        np.testing.assert_allclose(t, values_0, rtol=rtol, atol=atol)
        np.testing.assert_allclose(d, G_0[:, 0], rtol=rtol, atol=atol)
    out, grad_b = np.empty_like(Z), np.empty(k, dtype)
    value = outputs_grad(Z.copy(), Y, sw, order, 0, m, loss, out, grad_b)
    weights = sw[order][:, None]
    np.testing.assert_allclose(value, (sw[order] * values).sum(), rtol=rtol)
    np.testing.assert_allclose(out, weights * G, rtol=rtol, atol=atol)
    np.testing.assert_allclose(grad_b, (weights * G).sum(axis=0), rtol=rtol, atol=atol)


def test_softmax_grad_reads_its_chunk_of_the_order():
    """Rows order[lo:lo + m] only, written to the first m rows of G."""
    loss = Loss(MULTINOMIAL, 0.0)
    X, Y, sw, k = make_problem(MULTINOMIAL)
    Z = np.random.default_rng(1).standard_normal((len(Y), k)) * 5
    order = np.random.default_rng(2).permutation(len(Y))
    lo, m = 20, 13
    G, grad_b = np.full((m + 2, k), 7.0), np.empty(k)
    value = softmax_grad(Z[: m + 2].copy(), Y, sw, order, lo, m, G, grad_b)
    rows = order[lo : lo + m]
    values, want = reference.loss_grad(loss, Z[:m], Y[rows])
    np.testing.assert_allclose(value, sw[rows] @ values, rtol=1e-12)
    np.testing.assert_allclose(G[:m], sw[rows, None] * want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad_b, G[:m].sum(axis=0), rtol=1e-12, atol=1e-15)
    assert np.all(G[m:] == 7.0)


@pytest.mark.parametrize("loss", LOSSES)
@settings(max_examples=40, deadline=None)
@given(
    z=st.lists(st.floats(-6, 6), min_size=4, max_size=4),
    label=st.integers(0, 3),
    bits=st.lists(st.integers(0, 1), min_size=3, max_size=3),
)
def test_loss_grad_finite_differences(loss, z, label, bits):
    kind = KINDS[loss]
    k = {"regression": 2, "binary": 1, "multiclass": 4, "multilabel": 3}[kind]
    z = np.array(z[:k])
    y = {
        "regression": np.array([0.5, -1.0]),
        "binary": np.array([label % 2.0]),
        "multiclass": np.array([float(label)]),
        "multilabel": np.array(bits, dtype=float),
    }[kind]
    if kind == "regression":  # stay away from the kinks of huber / insensitive
        residual = np.abs(z - y)
        if np.any(np.abs(residual - EPSILON) < 1e-3) or np.any(residual < 1e-3):
            return
    loss = Loss(loss, EPSILON)
    _, g = row_loss_grad(loss, z, y)
    h = 1e-6
    for c in range(k):
        up, down = z.copy(), z.copy()
        up[c] += h
        down[c] -= h
        fd = (row_loss_grad(loss, up, y)[0] - row_loss_grad(loss, down, y)[0]) / (2 * h)
        np.testing.assert_allclose(g[c], fd, rtol=1e-5, atol=1e-6)
