"""The optimiser steps against the NumPy reference, for every optimiser and dtype."""

import itertools

import numpy as np
import pytest

from skbigmodel._kernels.bundles import Optimizer, Penalty, State
from skbigmodel._kernels.optimizers import (
    ADAM,
    CONSTANT,
    INVSCALING,
    NESTEROV,
    RMSPROP,
    SGD,
    penalty_scale,
    step_size,
    update_range,
)

from . import reference
from ._problems import OPTIMIZERS, PENALTIES

# (parameters, moments): float64 networks, float32 linear models (float64
# moments), float32 MLPs (float32 moments)
DTYPES = [(np.float64, np.float64), (np.float32, np.float64), (np.float32, np.float32)]


def optimizer(kind, schedule=CONSTANT, nesterov=True, lr=0.05):
    kind = NESTEROV if kind == SGD and nesterov else kind  # Nesterov: a kind of its own
    return Optimizer(
        kind=kind,
        lr=lr,
        schedule=schedule,
        power_t=0.5,
        momentum=0.9,
        beta_1=0.9,
        beta_2=0.99,
        eps=1e-8,
    )


@pytest.mark.parametrize(
    "kind, schedule", list(itertools.product(OPTIMIZERS, [CONSTANT, INVSCALING]))
)
def test_step_size_matches_reference(kind, schedule):
    opt = optimizer(kind, schedule)
    for t in [1, 2, 3, 10, 1000]:
        assert step_size(opt, t) == pytest.approx(
            reference.step_size(opt, t), rel=1e-14
        )
    # t = 1: lr under both schedules; Adam's correction sqrt(1 - 0.99) / (1 - 0.9) = 1
    assert step_size(opt, 1) == pytest.approx(0.05, rel=1e-14)


@pytest.mark.parametrize(
    "kind, nesterov", [(SGD, True), (SGD, False), (ADAM, True), (RMSPROP, True)]
)
@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("dtype, moment_dtype", DTYPES)
def test_update_range_matches_reference(kind, nesterov, penalty, dtype, moment_dtype):
    """Five steps on params[lo:hi]; the rest is left alone."""
    opt = optimizer(kind, INVSCALING, nesterov)
    a1, a2 = PENALTIES[penalty]
    rng = np.random.default_rng(0)
    n, lo, hi, scale = 41, 5, 33, 0.7
    w0 = rng.standard_normal(n)
    w0[lo : lo + 3] = 1e-3  # no data gradient there: L1 makes them exact zeros
    state = State(w0.astype(dtype), *np.zeros((2, n), moment_dtype))
    w, m, v = w0[lo:hi].copy(), np.zeros(hi - lo), np.zeros(hi - lo)
    for t in range(1, 6):
        grad = rng.standard_normal(n)
        grad[lo : lo + 3] = 0.0
        eta = step_size(opt, t)
        strengths = Penalty(a1, a2)
        update_range(state, grad.astype(dtype), scale, lo, hi, opt, eta, strengths)
        g = grad[lo:hi] * scale
        w, m, v = reference.optimizer_step(opt, w, g, m, v, eta, a1, a2)
    assert state.params.dtype == dtype and state.m.dtype == moment_dtype
    tol = dict(rtol=1e-12, atol=1e-14)
    if dtype == np.float32:
        tol = dict(rtol=1e-5, atol=1e-7)
    for got, want in zip(state, (w, m, v)):
        np.testing.assert_allclose(got[lo:hi], want, **tol)
    np.testing.assert_array_equal(state.params[:lo], w0[:lo].astype(dtype))
    np.testing.assert_array_equal(state.params[hi:], w0[hi:].astype(dtype))
    assert not (state.m[:lo].any() or state.v[hi:].any())
    if a1 > 0:
        assert np.all(state.params[lo : lo + 3] == 0.0)


@pytest.mark.parametrize("kind", OPTIMIZERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_update_range_sums_a_second_gradient(kind, dtype):
    """update_range(..., other) steps as if given grad + other."""
    opt = optimizer(kind)
    rng = np.random.default_rng(1)
    g1, g2 = rng.standard_normal((2, 20)).astype(dtype)
    states = [
        State(np.ones(20, dtype), np.zeros(20, dtype), np.zeros(20, dtype))
        for _ in range(2)
    ]
    for t in range(1, 4):
        eta = step_size(opt, t)
        update_range(states[0], g1, 0.5, 0, 20, opt, eta, Penalty(0.01, 0.1), g2)
        update_range(states[1], g1 + g2, 0.5, 0, 20, opt, eta, Penalty(0.01, 0.1))
    for a, b in zip(*states):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", OPTIMIZERS)
def test_penalty_scale_is_the_scale_of_a_step(kind):
    opt = optimizer(kind)
    v = np.array([0.0, 1e-6, 0.3, 4.0])
    got = [penalty_scale(opt, x) for x in v]
    np.testing.assert_allclose(got, reference.penalty_scale(opt, v), rtol=1e-15)
