"""Registry of losses: every face of each loss in one entry.

A loss is a kernel code (``_kernels/losses.py``: a branch of
``output_loss_grad``, or ``softmax_grad``), a NumPy reference of its values
and gradients (what the kernels are tested against), and for classifiers
the link from raw outputs to probabilities, in NumPy (``predict_proba``)
and in ONNX; for regressors the link from raw outputs to predictions
(``LINKS``: the identity, or exp for the Poisson deviance).
``tests/test_registries.py`` checks that the faces agree.
These dicts are the only lists of loss names the estimators accept.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax, xlogy

from ._kernels import losses as kernels

__all__ = [
    "CLASSIFIER_LOSS_NAMES",
    "DISTILLATION_LOSSES",
    "LINKS",
    "LOG_LOSSES",
    "MARGIN_LOSSES",
    "REGRESSION_LOSSES",
    "Link",
    "LossFunction",
]


@dataclass(frozen=True)
class LossFunction:
    """One loss.

    code : the kernels' code.
    reference(Z, Y, param) : per-sample losses (n,) and their gradients
        with respect to the raw outputs Z (n, k), in plain NumPy; Y holds
        the targets as the kernels get them (class indices for the
        multinomial, +-1 labels for the margin losses).
    param : the loss's parameter in the kernels (``Loss.param``): the name
        of the estimator's parameter that sets it ("epsilon", "quantile"),
        or a fixed number (the hinge's threshold).
    degree : homogeneity in the target's scale (loss(s*r) = s**degree *
        loss(r)), used to train regressors on standardised targets exactly.
    margin : a loss of the margin y * t with labels y = +-1: a classifier
        trains one output per class on it (one-vs-rest), one for two.
    proba(raw), log_proba(raw) : class probabilities (n, n_classes) from
        raw outputs; None for losses without probabilities.
    onnx_proba(graph, raw, n_outputs, out) : the same as ONNX nodes.
    link : regression: "identity" (the raw output is the prediction) or
        "log" (the raw output is the log of the prediction, as for the
        Poisson deviance); a key of ``LINKS``. Regressors standardise the
        targets of an identity link (centred and scaled: ``degree`` rescales
        the penalty); a log link's are scaled by their mean and never
        shifted, the scale moving the output bias by its log.
    check_target(Y) : raises a ValueError for targets (n, k) outside the
        loss's domain (the Poisson deviance's y >= 0); None accepts any.
    smooth : the gradient is continuous, as L-BFGS's line search needs
        (the hinge, the perceptron's and the absolute-value losses' are not).
    passive_aggressive : ``learning_rate="pa1"``/``"pa2"`` train it: scikit-learn's
        hinge (classifiers) and epsilon-insensitive loss (regressors), whose
        slope is 1 wherever the loss is positive.
    """

    code: int
    reference: Callable
    param: str | float = 0.0
    degree: int = 2
    margin: bool = False
    proba: Callable | None = None
    log_proba: Callable | None = None
    onnx_proba: Callable | None = None
    link: str = "identity"
    check_target: Callable | None = None
    smooth: bool = True
    passive_aggressive: bool = False

    def parameter(self, est):
        """The value of ``param`` for the estimator ``est``, in y's units."""
        return getattr(est, self.param) if isinstance(self.param, str) else self.param


@dataclass(frozen=True)
class Link:
    """A regressor's map from raw outputs to predictions: ``inverse(raw)`` in
    NumPy, ``onnx(graph, raw, out)`` as an ONNX node."""

    inverse: Callable
    onnx: Callable


LINKS = {
    "identity": Link(
        lambda raw: raw, lambda graph, raw, out: graph.op("Identity", raw, out=out)
    ),
    "log": Link(np.exp, lambda graph, raw, out: graph.op("Exp", raw, out=out)),
}


def _squared_error(Z, Y, param):
    R = Z - Y
    return 0.5 * (R**2).sum(axis=1), R


def _huber(Z, Y, epsilon):
    R = Z - Y
    values = np.where(
        np.abs(R) <= epsilon, 0.5 * R**2, epsilon * (np.abs(R) - 0.5 * epsilon)
    )
    return values.sum(axis=1), np.clip(R, -epsilon, epsilon)


def _epsilon_insensitive(Z, Y, epsilon):
    R = Z - Y
    outside = np.abs(R) > epsilon
    return np.where(outside, np.abs(R) - epsilon, 0.0).sum(axis=1), np.where(
        outside, np.sign(R), 0.0
    )


def _squared_epsilon_insensitive(Z, Y, epsilon):
    R = Z - Y
    excess = np.maximum(np.abs(R) - epsilon, 0.0)
    return (excess**2).sum(axis=1), 2.0 * np.sign(R) * excess


def _quantile(Z, Y, q):
    R = Z - Y
    return np.where(R < 0, -q * R, (1 - q) * R).sum(axis=1), np.where(
        R < 0, -q, np.where(R > 0, 1 - q, 0.0)
    )


def _hinge(Z, Y, threshold):
    margin = Z * Y
    active = margin <= threshold
    return np.where(active, threshold - margin, 0.0).sum(axis=1), np.where(
        active, -Y, 0.0
    )


def _squared_hinge(Z, Y, threshold):
    excess = np.maximum(threshold - Z * Y, 0.0)
    return (excess**2).sum(axis=1), -2.0 * Y * excess


def _modified_huber(Z, Y, param):
    margin = Z * Y
    values = np.where(
        margin >= 1, 0.0, np.where(margin >= -1, (1 - margin) ** 2, -4 * margin)
    )
    grads = np.where(
        margin >= 1, 0.0, np.where(margin >= -1, -2 * (1 - margin) * Y, -4 * Y)
    )
    return values.sum(axis=1), grads


def _poisson(Z, Y, param):
    """Half the Poisson deviance of the predictions exp(Z)."""
    mu = np.exp(Z)
    return (mu - Y * Z + xlogy(Y, Y) - Y).sum(axis=1), mu - Y


def _nonnegative(Y):
    if np.any(Y < 0):
        raise ValueError(
            f"Some value(s) of y are negative (the smallest is {np.min(Y):.3g}): "
            "loss='poisson' needs non-negative targets (counts, rates)."
        )


def _log_loss(Z, Y, param):
    """Each output a logit, each target a probability: sigmoid cross-entropy."""
    return (np.logaddexp(0.0, Z) - Y * Z).sum(axis=1), expit(Z) - Y


def _multinomial(Z, Y, param):
    labels = Y[:, 0].astype(int)
    rows = np.arange(len(Z))
    log_p = log_softmax(Z, axis=1)
    G = np.exp(log_p)
    G[rows, labels] -= 1.0
    return -log_p[rows, labels], G


def _binary_proba(raw):
    # expit(-raw), not 1 - expit(raw): no cancellation to an exact zero at
    # logits above 37 (where log_proba is still finite), which L-BFGS reaches
    return np.hstack([expit(-raw), expit(raw)])


def _binary_log_proba(raw):
    return np.hstack([log_expit(-raw), log_expit(raw)])


def _binary_onnx(
    graph, raw, n_outputs, out
):  # proba = [1 - sigmoid(logit), sigmoid(logit)]
    p = graph.op("Sigmoid", raw)
    return graph.op("Concat", graph.op("Sub", graph.const(1.0), p), p, axis=1, out=out)


def _huber_proba(raw):
    """scikit-learn's probabilities of the modified Huber loss: (clip(score,
    -1, 1) + 1) / 2 per class, normalised (uniform where all are zero)."""
    p = (np.clip(raw, -1.0, 1.0) + 1.0) / 2.0
    if p.shape[1] == 1:
        return np.hstack([1.0 - p, p])
    total = p.sum(axis=1, keepdims=True)
    zero = total[:, 0] == 0
    p[zero], total[zero] = 1.0, p.shape[1]
    return p / total


def _huber_log_proba(raw):
    with np.errstate(divide="ignore"):  # a probability of 0 is a log of -inf
        return np.log(_huber_proba(raw))


def _huber_onnx(graph, raw, n_outputs, out):
    clipped = graph.op("Clip", raw, graph.const(-1.0), graph.const(1.0))
    p = graph.op("Mul", graph.op("Add", clipped, graph.const(1.0)), graph.const(0.5))
    if n_outputs == 1:
        return graph.op(
            "Concat", graph.op("Sub", graph.const(1.0), p), p, axis=1, out=out
        )
    total = graph.op("ReduceSum", p, graph.const([1], np.int64), keepdims=1)
    zero = graph.op("Equal", total, graph.const(0.0))
    uniform = graph.const(1.0 / n_outputs)
    share = graph.op("Div", p, graph.op("Where", zero, graph.const(1.0), total))
    return graph.op("Where", zero, uniform, share, out=out)


REGRESSION_LOSSES = {
    "squared_error": LossFunction(kernels.SQUARED_ERROR, _squared_error),
    "huber": LossFunction(kernels.HUBER, _huber, "epsilon"),
    "epsilon_insensitive": LossFunction(
        kernels.EPSILON_INSENSITIVE,
        _epsilon_insensitive,
        "epsilon",
        degree=1,
        smooth=False,
        passive_aggressive=True,
    ),
    "squared_epsilon_insensitive": LossFunction(
        kernels.SQUARED_EPSILON_INSENSITIVE, _squared_epsilon_insensitive, "epsilon"
    ),
    "quantile": LossFunction(
        kernels.QUANTILE, _quantile, "quantile", degree=1, smooth=False
    ),
    "poisson": LossFunction(
        kernels.POISSON, _poisson, degree=1, link="log", check_target=_nonnegative
    ),
}

# The losses of the margin y * t (labels +-1), and the regression losses on
# those labels: a classifier trains one output per class (one-vs-rest).
MARGIN_LOSSES = {
    "hinge": LossFunction(
        kernels.HINGE, _hinge, 1.0, margin=True, smooth=False, passive_aggressive=True
    ),
    "perceptron": LossFunction(kernels.HINGE, _hinge, 0.0, margin=True, smooth=False),
    "squared_hinge": LossFunction(
        kernels.SQUARED_HINGE, _squared_hinge, 1.0, margin=True
    ),
    "modified_huber": LossFunction(
        kernels.MODIFIED_HUBER,
        _modified_huber,
        margin=True,
        proba=_huber_proba,
        log_proba=_huber_log_proba,
        onnx_proba=_huber_onnx,
    ),
    **{
        name: LossFunction(
            entry.code, entry.reference, entry.param, margin=True, smooth=entry.smooth
        )
        for name, entry in REGRESSION_LOSSES.items()
        if name not in ("quantile", "poisson")
    },
}

# Log-loss: one logit (binary), one score per class (softmax), or one logit
# per label.
LOG_LOSSES = {
    "binary": LossFunction(
        kernels.LOG_LOSS,
        _log_loss,
        proba=_binary_proba,
        log_proba=_binary_log_proba,
        onnx_proba=_binary_onnx,
    ),
    "multinomial": LossFunction(
        kernels.MULTINOMIAL,
        _multinomial,
        proba=lambda raw: softmax(raw, axis=1),
        log_proba=lambda raw: log_softmax(raw, axis=1),
        onnx_proba=lambda graph, raw, n_outputs, out: graph.op(
            "Softmax", raw, axis=1, out=out
        ),
    ),
    "multilabel": LossFunction(
        kernels.MULTILABEL,
        _log_loss,
        proba=expit,
        log_proba=log_expit,
        onnx_proba=lambda graph, raw, n_outputs, out: graph.op("Sigmoid", raw, out=out),
    ),
}


def _distill_binary(Z, Y, temperature):
    """h BCE(z, y) + s T^2 BCE(z / T, q) per row; Y rows [y, h, s, q]."""
    hard_values, hard_grads = _log_loss(Z, Y[:, :1], None)
    soft_values, soft_grads = _log_loss(Z / temperature, Y[:, 3:4], None)
    h, s = Y[:, 1], Y[:, 2]
    values = h * hard_values + s * temperature**2 * soft_values
    grads = h[:, None] * hard_grads + (s * temperature)[:, None] * soft_grads
    return values, grads


def _distill_multinomial(Z, Y, temperature):
    """h CE(softmax(z), label) + s T^2 CE(softmax(z / T), q) per row; Y rows
    [label, h, s, q_1 .. q_k]."""
    hard_values, hard_grads = _multinomial(Z, Y[:, :1], None)
    Q = Y[:, 3:]
    log_p = log_softmax(Z / temperature, axis=1)
    soft_values = -(Q * log_p).sum(axis=1)
    soft_grads = np.exp(log_p) - Q
    h, s = Y[:, 1], Y[:, 2]
    values = h * hard_values + s * temperature**2 * soft_values
    grads = h[:, None] * hard_grads + (s * temperature)[:, None] * soft_grads
    return values, grads


# Knowledge distillation: the log-losses on a mix of hard labels and soft
# targets (``skbigmodel.compress``); their parameter is the temperature.
# Targets are rows [label, hard weight, soft weight, probabilities...]; the
# probabilities and links are the plain log-losses'.
DISTILLATION_LOSSES = {
    name: LossFunction(
        code,
        reference,
        "_distill_temperature",
        proba=LOG_LOSSES[name].proba,
        log_proba=LOG_LOSSES[name].log_proba,
        onnx_proba=LOG_LOSSES[name].onnx_proba,
    )
    for name, code, reference in [
        ("binary", kernels.DISTILL_LOG_LOSS, _distill_binary),
        ("multinomial", kernels.DISTILL_MULTINOMIAL, _distill_multinomial),
    ]
}

# The names a classifier's ``loss`` accepts: scikit-learn's SGDClassifier's.
CLASSIFIER_LOSS_NAMES = ("log_loss", *MARGIN_LOSSES)
