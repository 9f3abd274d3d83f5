"""The penalty registry: strengths and values against the objective's formula

alpha * (l1_ratio * |w|_1 + (1 - l1_ratio) / 2 * |w|_2^2).
"""

import numpy as np
import pytest

from skbigmodel import LinearRegressor, LogisticClassifier
from skbigmodel._penalties import PENALTIES, penalty_strengths, penalty_value

ALPHAS = [0.0, 1e-4, 0.3, 7.0]
L1_RATIOS = [0.0, 0.15, 0.5, 0.9, 1.0]


def objective_penalty(w, alpha, l1_ratio):
    """The objective's penalty, computed from the formula in float64."""
    w = np.asarray(w, dtype=np.float64)
    return alpha * (l1_ratio * np.abs(w).sum() + (1 - l1_ratio) / 2 * (w**2).sum())


def weights(dtype, n=57, seed=0):
    """Positive, negative and zero weights."""
    w = np.random.default_rng(seed).standard_normal(n) * 3
    w[::7] = 0.0
    return w.astype(dtype)


# The share of alpha on the L1 term for each name; None: l1_ratio.
L1_SHARE = {"l2": 0.0, "l1": 1.0, "elasticnet": None}


def test_the_registry_names_every_penalty():
    assert set(PENALTIES) == set(L1_SHARE)


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("l1_ratio", L1_RATIOS)
def test_strengths_follow_the_objective(penalty, alpha, l1_ratio):
    share = l1_ratio if L1_SHARE[penalty] is None else L1_SHARE[penalty]
    a1, a2 = penalty_strengths(penalty, alpha, l1_ratio)
    assert a1 == pytest.approx(alpha * share, rel=1e-15, abs=0)
    assert a2 == pytest.approx(alpha * (1 - share), rel=1e-15, abs=0)
    assert a1 >= 0 and a2 >= 0


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("l1_ratio", L1_RATIOS)
def test_no_penalty_has_zero_strength(alpha, l1_ratio):
    strengths = penalty_strengths(None, alpha, l1_ratio)
    assert strengths == (0.0, 0.0)
    assert penalty_value(weights(np.float64), *strengths) == 0.0


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet", None])
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("l1_ratio", L1_RATIOS)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-6)])
def test_value_equals_the_objective_penalty(penalty, alpha, l1_ratio, dtype, rtol):
    w = weights(dtype)
    share = 0.0 if penalty is None else L1_SHARE[penalty]
    share = l1_ratio if share is None else share
    expected = 0.0 if penalty is None else objective_penalty(w, alpha, share)
    value = penalty_value(w, *penalty_strengths(penalty, alpha, l1_ratio))
    assert value == pytest.approx(expected, rel=rtol, abs=0)


@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
def test_elasticnet_ends_are_l2_and_l1(l1_ratio):
    w = weights(np.float64)
    end = "l1" if l1_ratio == 1.0 else "l2"
    strengths = penalty_strengths("elasticnet", 0.3, l1_ratio)
    assert strengths == penalty_strengths(end, 0.3, 0.5)  # l1_ratio unused there
    assert penalty_value(w, *strengths) == penalty_value(
        w, *penalty_strengths(end, 0.3, 0.5)
    )


def test_value_of_hand_computed_weights():
    """|(3, -4)|_1 = 7 and |(3, -4)|_2^2 = 25."""
    w = np.array([3.0, -4.0, 0.0])
    assert penalty_value(w, 2.0, 0.0) == 14.0
    assert penalty_value(w, 0.0, 2.0) == 25.0
    assert penalty_value(w, 0.5, 0.1) == 0.5 * 7 + 0.1 / 2 * 25
    assert penalty_value(np.zeros(4), 1.0, 1.0) == 0.0


@pytest.mark.parametrize("name", ["lasso", "L2", "none", ""])
def test_an_unknown_name_raises(name):
    with pytest.raises((KeyError, ValueError)):
        penalty_strengths(name, 0.1, 0.5)
    X, y = np.eye(4), np.arange(4.0)
    with pytest.raises(ValueError, match="penalty"):
        LinearRegressor(penalty=name).fit(X, y)


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
def test_intercepts_are_not_penalised(penalty):
    """A penalty that drives the weights to (about) zero leaves the intercept
    at the intercept-only optimum: the mean of y, or the log-odds of the
    positive class; a penalised intercept would be pulled to zero too."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 5))
    y = X @ [1.0, -2.0, 0.5, 0.0, 3.0] + 50.0 + rng.standard_normal(400)
    common = dict(penalty=penalty, alpha=1e3, l1_ratio=0.5, max_iter=50, random_state=0)
    reg = LinearRegressor(**common).fit(X, y)
    assert np.abs(reg.coef_).max() < 1e-2
    assert abs(reg.intercept_[0] - y.mean()) < 0.05 * y.std()
    labels = (X[:, 0] + rng.standard_normal(400) > 1).astype(int)
    clf = LogisticClassifier(**common).fit(X, labels)
    assert np.abs(clf.coef_).max() < 1e-2
    share = labels.mean()
    assert abs(clf.intercept_[0] - np.log(share / (1 - share))) < 0.05
