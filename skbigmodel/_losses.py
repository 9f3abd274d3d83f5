"""Registry of losses: every face of each loss in one entry.

A loss is a kernel code (``_kernels/losses.py``: a branch of
``output_loss_grad``, or ``softmax_grad``), a NumPy reference of its values
and gradients (what the kernels are tested against), and for classifiers
the link from raw outputs to probabilities, in NumPy (``predict_proba``)
and in ONNX. ``tests/test_registries.py`` checks that the faces agree.
These dicts are the only lists of loss names the estimators accept.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax

from ._kernels import losses as kernels

__all__ = ["CLASSIFICATION_LOSSES", "REGRESSION_LOSSES", "LossFunction"]


@dataclass(frozen=True)
class LossFunction:
    """One loss.

    code : the kernels' code.
    reference(Z, Y, epsilon) : per-sample losses (n,) and their gradients
        with respect to the raw outputs Z (n, k), in plain NumPy; Y holds
        the targets as the kernels get them (class indices for the
        multinomial).
    degree : homogeneity in the target's scale (loss(s*r) = s**degree *
        loss(r)), used to train regressors on standardised targets exactly.
    proba(raw), log_proba(raw) : class probabilities (n, n_classes) from
        raw outputs; None for losses without probabilities.
    onnx_proba(graph, raw, out) : the same as an ONNX node.
    """

    code: int
    reference: Callable
    degree: int = 2
    proba: Callable | None = None
    log_proba: Callable | None = None
    onnx_proba: Callable | None = None


def _squared_error(Z, Y, epsilon):
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


def _log_loss(Z, Y, epsilon):
    """Each output a logit, each target a probability: sigmoid cross-entropy."""
    return (np.logaddexp(0.0, Z) - Y * Z).sum(axis=1), expit(Z) - Y


def _multinomial(Z, Y, epsilon):
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


def _binary_onnx(graph, raw, out):  # proba = [1 - sigmoid(logit), sigmoid(logit)]
    p = graph.op("Sigmoid", raw)
    return graph.op("Concat", graph.op("Sub", graph.const(1.0), p), p, axis=1, out=out)


REGRESSION_LOSSES = {
    "squared_error": LossFunction(kernels.SQUARED_ERROR, _squared_error, 2),
    "huber": LossFunction(kernels.HUBER, _huber, 2),
    "epsilon_insensitive": LossFunction(
        kernels.EPSILON_INSENSITIVE, _epsilon_insensitive, 1
    ),
}

# One logit (binary), one score per class (softmax), or one logit per label.
CLASSIFICATION_LOSSES = {
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
        onnx_proba=lambda graph, raw, out: graph.op("Softmax", raw, axis=1, out=out),
    ),
    "multilabel": LossFunction(
        kernels.MULTILABEL,
        _log_loss,
        proba=expit,
        log_proba=log_expit,
        onnx_proba=lambda graph, raw, out: graph.op("Sigmoid", raw, out=out),
    ),
}
