"""The vectorising elementary functions against NumPy and SciPy."""

import numpy as np
import pytest
from scipy.special import erf, expit

from skbigmodel._kernels import mathfn


def each(function, x):
    return np.array([function(v) for v in x])


def within_ulps(got, want, ulps):
    return np.all(np.abs(got - want) <= ulps * np.spacing(np.abs(want)))


@pytest.fixture(scope="module")
def z():
    """Values of every magnitude that the activations and losses meet, signed."""
    rng = np.random.default_rng(0)
    z = np.concatenate(
        [
            rng.standard_normal(3000) * scale
            for scale in (1e-9, 1e-3, 0.1, 0.25, 1.0, 5.0, 40.0)
        ]
    )
    return np.concatenate([z, [0.0, -0.0, 0.25, -0.25, 1.0, -1.0, 6.0, -6.0, 700.0]])


def test_exp_nonpositive_and_log1p_unit_are_within_a_few_ulp():
    rng = np.random.default_rng(0)
    x = -(10.0 ** rng.uniform(-20, np.log10(708), 20_000))
    x = np.concatenate([x, [0.0, -0.0, -1e-300, -0.5 * np.log(2), -708.0]])
    want = np.exp(x)
    assert within_ulps(each(mathfn.exp_nonpositive, x), want, 2)
    # below -708: the smallest normal float or about, never NaN or negative
    tiny = each(mathfn.exp_nonpositive, [-708.5, -745.0, -1e308, -np.inf])
    assert np.all((tiny > 0.0) & (tiny < 3.4e-308))
    assert np.isnan(mathfn.exp_nonpositive(np.nan))
    e = np.concatenate(
        [
            rng.uniform(0, 1, 20_000),
            10.0 ** rng.uniform(-300, 0, 2_000),
            [0.0, 1e-17, 1.0],
        ]
    )
    assert within_ulps(each(mathfn.log1p_unit, e), np.log1p(e), 3)


def test_logistic_and_its_complement_are_within_3_ulp(z):
    pairs = np.array([mathfn.logistic_pair(v) for v in z])
    assert within_ulps(pairs[:, 0], expit(z), 3)
    assert within_ulps(pairs[:, 1], expit(-z), 3)  # no cancellation in 1 - s
    assert np.array_equal(each(mathfn.logistic, z), pairs[:, 0])
    # far tails: 1, and a tiny positive number rather than 0 (see exp_nonpositive)
    assert mathfn.logistic(800.0) == 1.0
    assert 0.0 < mathfn.logistic(-800.0) < 3.4e-308


def test_tanh_is_within_4_ulp_and_odd(z):
    got = each(mathfn.tanh, z)
    assert within_ulps(got, np.tanh(z), 4)
    assert np.array_equal(each(mathfn.tanh, -z), -got)
    assert mathfn.tanh(800.0) == 1.0 and mathfn.tanh(-800.0) == -1.0


def test_erf_is_within_a_few_ulp_and_odd(z):
    """Within 2.3e-16 of the true erf: 3 ulp of SciPy's, which errs by up to 2."""
    got = each(mathfn.erf, z)
    assert within_ulps(got, erf(z), 3)
    assert np.array_equal(each(mathfn.erf, -z), -got)
    assert mathfn.erf(6.5) == 1.0 and mathfn.erf(-1e300) == -1.0


@pytest.mark.parametrize(
    "name", ["exp_nonpositive", "log1p_unit", "logistic", "tanh", "erf"]
)
def test_nan_stays_nan(name):
    assert np.isnan(getattr(mathfn, name)(np.nan))
