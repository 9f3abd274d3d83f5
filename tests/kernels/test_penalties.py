"""The L1 proximal step, and the closed form of the penalty steps a lazy
parameter skipped against the steps themselves."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skbigmodel._kernels.penalties import catch_up, soft_threshold

from . import reference

etas = st.lists(st.floats(0.0, 2e-3), min_size=1, max_size=200)
strength = st.floats(0.0, 0.05)


def closed_form(w, etas, scale, a1, a2):
    """``catch_up`` given the decay its callers compute: exp(-E * scale * a2)."""
    total_eta = math.fsum(etas)
    return catch_up(w, math.exp(-total_eta * scale * a2), scale, total_eta, a1)


@settings(max_examples=200, deadline=None)
@given(w=st.floats(-1e6, 1e6), threshold=st.floats(0, 1e6))
def test_soft_threshold_is_the_l1_prox(w, threshold):
    out = soft_threshold(w, threshold)
    assert out == pytest.approx(np.sign(w) * max(abs(w) - threshold, 0.0))
    if abs(w) <= threshold:
        assert out == 0.0


@settings(max_examples=100, deadline=None)
@given(w=st.floats(-1, 1), etas=etas, scale=st.floats(0.5, 20), a1=strength)
def test_catch_up_l1_is_the_repeated_soft_thresholds(w, etas, scale, a1):
    """Soft-thresholds add up: one by the summed step is all of them."""
    repeated = reference.penalty_steps(w, etas, scale, a1, 0.0)
    got = closed_form(w, etas, scale, a1, 0.0)
    assert got == pytest.approx(repeated, rel=1e-12, abs=1e-15)
    if abs(w) > 1e-12 + scale * a1 * sum(etas):
        assert np.sign(got) == np.sign(w)
    elif abs(w) < scale * a1 * sum(etas) - 1e-12:
        assert got == 0.0


@settings(max_examples=200, deadline=None)
@given(
    w=st.floats(-1, 1), etas=etas, scale=st.floats(0.5, 20), a1=strength, a2=strength
)
def test_catch_up_is_the_repeated_penalty_steps_to_second_order(w, etas, scale, a1, a2):
    """L2 alone: exp(-x) is the limit of the steps' products (1 - eta s a2),
    off by about (s a2)**2 sum(eta**2) / 2 relatively. With L1 too, the closed
    form decays first and thresholds after, which shrinks by up to
    a1 a2 (s E)**2 / 2 more than the steps' limit."""
    repeated = reference.penalty_steps(w, etas, scale, a1, a2)
    got = closed_form(w, etas, scale, a1, a2)
    squares = scale**2 * a2 * sum(e * e for e in etas) / 2
    order = a1 * a2 * (scale * math.fsum(etas)) ** 2 / 2
    # the steps' product off exp(-x), applied to |w| + a1 / a2
    steps = squares * (a2 * abs(w) + a1)
    assert abs(got - repeated) <= 1.1 * (order + steps) + 1e-13
