"""The pre-pass: classes, target scale and weights of the whole data.

A fit encodes its targets with statistics of all its rows (the classes, a
regressor's target shift and scale, "balanced" class weights, the initial
intercept). Here each is summed over the partitions in their order, by
the same expressions as ``_targets.py`` applies to all the rows at once:
on one partition the encoders are those of a fit on it, bit for bit.
"""

import numpy as np
from sklearn.utils.class_weight import compute_class_weight

from .._targets import _checked_scale
from ._cluster import map_reduce
from ._tasks import (
    Plan,
    add,
    class_sums,
    encoded_sums,
    larger,
    merge_summaries,
    summary,
    target_moment,
    target_peak,
)

__all__ = ["Encoded", "encode"]


class Encoded:
    """What the pre-pass leaves: the ``Plan`` of the tasks, the number of
    training rows, their summed weight (class weights included) and the
    initial intercepts (None: keep the network's)."""

    def __init__(self, plan, n_rows, weight, intercept):
        self.plan, self.n_rows, self.weight = plan, n_rows, weight
        self.intercept = intercept


def encode(est, client, parts):
    """Set ``est``'s encoders (``classes_`` or ``_target_shift`` and
    ``_target_scale``, ``n_features_in_``...) from all of ``parts``; the
    ``Encoded`` result. Raises what ``fit`` raises on bad data (NaN,
    one class, negative weights...), found by the tasks."""
    est.n_features_in_ = parts.X.shape[1]
    plan = Plan(est, parts.dtype, None)
    found = map_reduce(client, summary, merge_summaries, parts.blocks(), plan)
    targets = parts.blocks(with_X=False)
    if est._needs_classes:
        plan, weight, intercept = _classification(est, client, plan, found, targets)
    else:
        weight, intercept = (
            found["weight"],
            _regression(est, client, plan, found, targets),
        )
    if not weight > 0:
        raise ValueError("The sample weights of the training rows sum to zero.")
    if not getattr(est, "fit_intercept", True):
        intercept = None
    return Encoded(plan, found["rows"], weight, intercept)


def _classification(est, client, plan, found, targets):
    """ClassifierTarget's encoders; the plan, total weight, initial intercept."""
    kinds = found["kinds"]
    multilabel = kinds == {"multilabel-indicator"} and getattr(
        est, "_supports_multilabel", False
    )
    if not (multilabel or kinds <= {"binary", "multiclass"}):
        raise ValueError(
            f"{type(est).__name__} needs a 1-D target of class labels; got "
            f"{' and '.join(sorted(map(repr, kinds)))} targets."
        )
    est._multilabel = multilabel
    labels = found["labels"]
    if not multilabel and labels.size < 2:
        raise ValueError(
            "The target must contain at least 2 classes; got only one class: "
            f"{labels.tolist()}."
        )
    est.classes_ = labels
    class_weight = getattr(est, "class_weight", None)
    if class_weight is not None and multilabel:
        raise ValueError("class_weight is not supported for multilabel targets.")
    if isinstance(class_weight, str):  # "balanced": the frequencies of all rows
        counts = map_reduce(client, class_sums, add, targets, plan, True)
        with np.errstate(divide="ignore"):
            weights = compute_class_weight(
                "balanced", classes=labels, y=labels, sample_weight=counts
            )
        plan = plan._replace(class_weights=np.where(np.isfinite(weights), weights, 0.0))
    if class_weight is None and "counts" in found:  # the summary's counts
        weight, sums = found["weight"], found["counts"]
    else:
        weight, sums = map_reduce(client, class_sums, add, targets, plan, False)
    if est._margin:
        intercept = np.zeros(est._n_outputs)
    elif multilabel:  # ClassifierTarget._init_intercept, from the sums
        positive = sums + 1.0
        intercept = np.log(positive / (weight + 2.0 - positive))
    else:  # one row per class, weighing its count: the same bincount
        rows = np.arange(labels.size, dtype=np.float64).reshape(-1, 1)
        intercept = est._init_intercept(rows, sums)
    return plan, weight, intercept


def _regression(est, client, plan, found, targets):
    """RegressorTarget's encoders (see its ``_encode_target`` and
    ``_spread``); the initial intercept."""
    est._y_1d = found["ndim"] == 1
    est.n_outputs_ = found["outputs"]
    loss = est._loss()
    est._link = loss.link
    total = found["weight"]
    with_intercept = getattr(est, "fit_intercept", True)
    mean = map_reduce(client, target_moment, add, targets, plan, total, None, None)
    if loss.link == "log":
        shift = np.zeros(est.n_outputs_)
        scale = _checked_scale(float(np.mean(mean)), "mean")
        scale = scale if with_intercept else 1.0
    else:
        shift = mean if with_intercept else np.zeros(est.n_outputs_)
        peak = map_reduce(client, target_peak, larger, targets, shift)
        scale = peak
        if peak > 0 and np.isfinite(peak):
            squares = map_reduce(
                client, target_moment, add, targets, plan, total, shift, peak
            )
            scale = peak * float(np.sqrt(np.mean(squares)))
        scale = _checked_scale(scale, "spread")
    est._target_shift = shift
    est._target_scale = scale if scale > 0 else 1.0
    if loss.link != "log":
        return np.zeros(est.n_outputs_)  # the targets are centred
    sums, weight = map_reduce(client, encoded_sums, add, targets, plan)
    return est._init_intercept((sums / weight).reshape(1, -1), np.ones(1))
