"""The activation kernels against the registry's NumPy faces and SciPy."""

import numpy as np
import pytest
from scipy.special import erf, expit

from skbigmodel._activations import ACTIVATIONS
from skbigmodel._kernels.activations import activate_block, activation_grad_block


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernels_agree_with_the_registry(name, dtype):
    """activate_block is the entry's forward, activation_grad_block multiplies
    by its derivative, on (rows, units) blocks; NaN where the registry has NaN."""
    entry = ACTIVATIONS[name]
    rng = np.random.default_rng(0)
    special = [0.0, -0.0, 1.0, -1.0, 50.0, np.nan]
    z = np.concatenate([rng.standard_normal(294) * 4, special])
    pre = z.astype(dtype).reshape(3, -1)
    x = pre.astype(np.float64)  # float32 blocks are computed in float64 too
    out = np.empty_like(pre)
    activate_block(entry.code, pre, out)
    delta0 = rng.uniform(0.5, 2.0, pre.shape).astype(dtype)
    delta = delta0.copy()
    activation_grad_block(entry.code, pre, delta)
    eps = np.finfo(dtype).eps
    tol = dict(rtol=4 * eps, atol=8 * eps, equal_nan=True)
    np.testing.assert_allclose(out, entry.forward(x).astype(dtype), **tol)
    want = (delta0 * entry.derivative(x)).astype(dtype)
    np.testing.assert_allclose(delta, want, **tol)
    assert out.dtype == delta.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_vectorised_activations_match_scipy(dtype):
    """tanh, logistic, SiLU and GELU are polynomials of our own (no libm call,
    so that their loops vectorise): within a few ulp of SciPy's, NaN kept.

    GELU's 1 + erf(z / sqrt(2)) cancels for z < 0, in any formula of that
    form (libm's erf too): its error is absolute there, a few eps * |z|.
    """
    rng = np.random.default_rng(0)
    z = np.concatenate(
        [
            rng.standard_normal(20_000) * scale
            for scale in (1e-9, 1e-3, 0.1, 0.25, 1.0, 5.0, 40.0)
        ]
    )
    z = np.concatenate([z, [0.0, -0.0, 0.25, -0.25, 1.0, -1.0, np.nan]]).astype(dtype)
    x = z.astype(np.float64)  # float32 too is computed in float64, then rounded
    phi = 0.5 * (1.0 + erf(x / np.sqrt(2.0)))
    density = np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)
    expected = {
        "tanh": np.tanh(x),
        "logistic": expit(x),
        "silu": x * expit(x),
        "gelu": x * phi,
    }
    derivative = {
        "tanh": 1.0 - np.tanh(x) ** 2,
        "logistic": expit(x) * expit(-x),
        "silu": expit(x) * (1.0 + x * expit(-x)),
        "gelu": phi + x * density,
    }
    eps = np.finfo(dtype).eps
    ulps = 4 if dtype == np.float64 else 1
    for name in expected:
        code = ACTIVATIONS[name].code
        out = np.empty((1, z.size), dtype)
        activate_block(code, z.reshape(1, -1), out)
        delta = np.ones((1, z.size), dtype)
        activation_grad_block(code, z.reshape(1, -1), delta)
        want = expected[name].astype(dtype)
        assert np.isnan(out[0, -1]) and np.isnan(delta[0, -1])
        tolerance = ulps * np.spacing(np.abs(want[:-1]))
        if name == "gelu":
            tolerance += 2 * eps * np.abs(z[:-1])
        assert np.all(np.abs(out[0, :-1] - want[:-1]) <= tolerance), name
        # 1 - tanh**2 cancels near |z| = oo, in the reference as here: absolute
        np.testing.assert_allclose(
            delta[0, :-1], derivative[name][:-1], rtol=0.0, atol=8 * eps, err_msg=name
        )
