"""What runs on the workers: pure functions of their arguments.

Dask may run a task twice (the tasks of a lost worker are recomputed
elsewhere) and runs several at once in one process: a task never changes
its arguments (which other tasks in the process may share), and its result
depends on them alone (its random stream is seeded from them). Partials
are combined by ``tree_reduce`` in the order of the partitions, never in
the order tasks finish, so the bits do not depend on the scheduling.
"""

import copy
from collections import namedtuple

import numpy as np
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_X_y

from .._objective import data_loss
from .._sklearn_compat import _check_sample_weight
from .._training import OptimizerState

__all__ = [
    "Plan",
    "Share",
    "add",
    "local_round",
    "loss_grad",
    "merge_shares",
    "tree_reduce",
]

Plan = namedtuple("Plan", "est dtype class_weights")
Plan.__doc__ = """What every task of a fit needs: ``est``, a copy of the estimator
with the encoders of the whole data (``classes_``, target scale...);
``dtype``, X's (float32 or float64); ``class_weights``, the weights of
``class_weight="balanced"`` from the whole data's class frequencies, or
None (the estimator's own ``_class_weights`` then applies)."""

Share = namedtuple("Share", "params m v step weight loss_sum stream")
Share.__doc__ = """A partition's (or a subtree's) share of a round: parameters and
optimiser moments (float64), the step count's increment, the summed sample
weight that weighs it, the summed loss of the last local epoch, and the
random stream carried from round to round (partition 0's, else None)."""


def tree_reduce(nodes, merge):
    """Combine ``nodes`` pairwise, neighbours first, in their order: a tree
    of depth log2(len(nodes)) whose shape depends on the count alone."""
    nodes = list(nodes)
    while len(nodes) > 1:
        pairs = range(0, len(nodes) - 1, 2)
        merged = [merge(nodes[i], nodes[i + 1]) for i in pairs]
        nodes = merged + nodes[len(nodes) - len(nodes) % 2 :]
    return nodes[0]


def targets(plan, y, sw):
    """Encoded targets and weights (class weights included), as ``fit`` makes them."""
    est = plan.est
    if y.ndim == 2 and not est._multi_output:
        y = y.ravel()  # a column vector, accepted with a warning by the summary
    sw = _check_sample_weight(sw, y, dtype=np.float64, ensure_non_negative=True)
    Y = est._encode_target(y, sw, first_call=False)
    if plan.class_weights is None:
        return Y, est._class_weights(y, sw, False)
    # ClassifierTarget._class_weights, with the frequencies of all partitions
    return Y, sw * plan.class_weights[np.searchsorted(est.classes_, y)]


def summary(plan, X, y, sw):
    """Checks a partition as ``fit`` checks its data; its rows, summed
    weight, labels (classification) or outputs (regression)."""
    est = plan.est
    X, y = check_X_y(
        X,
        y,
        dtype=[np.float64, np.float32],
        multi_output=est._multi_output,
        y_numeric=est._y_numeric,
    )
    sw = _check_sample_weight(sw, X, dtype=np.float64, ensure_non_negative=True)
    found = dict(rows=X.shape[0], weight=float(sw.sum()), ndim=y.ndim)
    if est._needs_classes:
        check_classification_targets(y)
        found["kinds"] = {type_of_target(y)}
        if y.ndim == 1:  # weighted counts as ClassifierTarget's bincount
            labels, index = np.unique(y, return_inverse=True)
            found["counts"] = np.bincount(index, weights=sw, minlength=labels.size)
        else:
            labels = np.arange(y.shape[1])
        found["labels"] = labels
    else:
        Y = np.asarray(y, dtype=np.float64).reshape(y.shape[0], -1)
        if est._loss().check_target is not None:
            est._loss().check_target(Y)
        found["outputs"] = Y.shape[1]
    return found


def merge_summaries(a, b):
    if a["ndim"] != b["ndim"] or a.get("outputs") != b.get("outputs"):
        raise ValueError(
            "The partitions of y have different shapes: "
            f"{a['ndim']}-D with {a.get('outputs')} outputs and "
            f"{b['ndim']}-D with {b.get('outputs')}."
        )
    merged = dict(a, rows=a["rows"] + b["rows"], weight=a["weight"] + b["weight"])
    if "labels" in a:
        merged["kinds"] = a["kinds"] | b["kinds"]
        labels = merged["labels"] = np.union1d(a["labels"], b["labels"])
        if "counts" in a and "counts" in b:
            counts = np.zeros(labels.size)
            for part in (a, b):  # in partition order
                counts[np.searchsorted(labels, part["labels"])] += part["counts"]
            merged["counts"] = counts
        else:
            merged.pop("counts", None)
    return merged


def add(a, b):
    """Sums of partitions (numbers, arrays, or tuples of them)."""
    if isinstance(a, tuple):
        return tuple(add(x, y) for x, y in zip(a, b))
    return a + b


def larger(a, b):
    return max(a, b)


def class_sums(plan, balanced_only, y, sw):
    """Weighted class counts: with the raw weights (``balanced_only``, for
    "balanced"), or with the class weights, and their total."""
    est = plan.est
    if balanced_only:
        sw = _check_sample_weight(sw, y, dtype=np.float64, ensure_non_negative=True)
        index = np.searchsorted(est.classes_, y)
        return np.bincount(index, weights=sw, minlength=est.classes_.size)
    Y, sw = targets(plan, y, sw)
    total = float(sw.sum())
    if est._margin:
        return total, np.zeros(0)
    if est._multilabel:
        return total, sw @ Y
    index = Y[:, 0].astype(np.intp)
    return total, np.bincount(index, weights=sw, minlength=est.classes_.size)


def target_moment(plan, total, shift, peak, y, sw):
    """A partition's part of RegressorTarget's statistics of y: its share
    of the weighted mean ``w @ Y`` (shift None), else of the weighted mean
    square of (Y - shift) / peak; ``w`` the weights over the total weight."""
    sw = _check_sample_weight(sw, y, dtype=np.float64, ensure_non_negative=True)
    Y = np.ascontiguousarray(y, dtype=np.float64)
    Y = Y.reshape(Y.shape[0], -1)
    w = sw / total
    if shift is None:
        return w @ Y
    return w @ ((Y - shift) / peak) ** 2


def target_peak(shift, y, sw):
    Y = np.ascontiguousarray(y, dtype=np.float64)
    with np.errstate(over="ignore"):
        residual = Y.reshape(Y.shape[0], -1) - shift
        return float(np.max(np.abs(residual))) if residual.size else 0.0


def encoded_sums(plan, y, sw):
    """Weighted sums of the encoded targets and the weights (a log link's
    initial intercept)."""
    Y, sw = targets(plan, y, sw)
    return sw @ Y, float(sw.sum())


def local_round(plan, model, X, y, sw, stream, epochs):
    """A partition's share of a round: ``epochs`` epochs of the estimator's
    own loop from the broadcast model (params, m, v, step, hyper).

    stream : ("carried", rng, seeds), the stream partition 0 continues from
    round to round, or ("seeded", base, round, index): a fresh stream
    seeded by the fit's base seed, the round and the partition.
    """
    est = plan.est
    X = np.ascontiguousarray(X, dtype=plan.dtype)
    Y, sw = targets(plan, y, sw)
    params, m, v, step, hyper = model
    net = est._new_network(X.shape[1], est._n_outputs, X.dtype, params.astype(X.dtype))
    state = OptimizerState(m.copy(), v.copy(), step)
    if stream[0] == "carried":
        rng, seeds = copy.deepcopy(stream[1]), copy.deepcopy(stream[2])
    else:
        rng, seeds = np.random.RandomState(list(stream[1:])), None
    loss_sum, seeds = est._train_epochs(
        net, state, hyper, X, Y, sw, rng=rng, epochs=epochs, seeds=seeds
    )
    return Share(
        params=net.params.astype(np.float64),
        m=state.m.astype(np.float64),
        v=state.v.astype(np.float64),
        step=float(state.step - step),
        weight=float(sw.sum()),
        loss_sum=float(loss_sum),
        stream=("carried", rng, seeds) if stream[0] == "carried" else None,
    )


def merge_shares(a, b):
    """The mean of two shares weighted by their sample weights; the left's
    stream (partition 0's reaches the root)."""
    total = a.weight + b.weight
    t = b.weight / total if total > 0 else 0.5

    def mix(x, y):  # x itself when y weighs nothing: one partition is exact
        return x + t * (y - x)

    return Share(
        mix(a.params, b.params),
        mix(a.m, b.m),
        mix(a.v, b.v),
        a.step + t * (b.step - a.step),
        total,
        a.loss_sum + b.loss_sum,
        a.stream,
    )


def loss_grad(plan, params, loss, X, y, sw):
    """A partition's summed weighted loss and gradient at ``params``
    (``_objective.DataLoss``), float64."""
    est = plan.est
    X = np.ascontiguousarray(X, dtype=plan.dtype)
    Y, sw = targets(plan, y, sw)
    net = est._new_network(X.shape[1], est._n_outputs, X.dtype)
    rows = np.arange(X.shape[0])
    return data_loss(net, X, Y, sw, rows, loss, est.n_jobs)(params)


def validation_sums(plan, params, X, y, sw):
    """``prediction_sums`` of the model of parameters ``params``."""
    est = copy.copy(plan.est)
    X = np.ascontiguousarray(X, dtype=plan.dtype)
    net = est._new_network(X.shape[1], est._n_outputs, X.dtype, params.astype(X.dtype))
    est._set_fitted(net)
    return prediction_sums(est, X, y, sw)


def prediction_sums(est, X, y, sw):
    """What a partition adds to the score of the fitted ``est``: weighted
    correct predictions and weight (accuracy), or weight, weighted mean,
    centred squares and squared errors per output (R^2, merged by Chan's
    formulas in ``merge_validation``)."""
    predicted = est.predict(X)
    sw = _check_sample_weight(sw, predicted, dtype=np.float64)
    if est._needs_classes:
        correct = predicted == np.asarray(y)
        if correct.ndim == 2:  # multilabel: the subset accuracy
            correct = correct.all(axis=1)
        return ("accuracy", float(sw @ correct), float(sw.sum()))
    Y = np.asarray(y, dtype=np.float64).reshape(predicted.shape[0], -1)
    P = np.asarray(predicted, dtype=np.float64).reshape(Y.shape)
    weight = float(sw.sum())
    mean = sw @ Y / weight if weight > 0 else np.zeros(Y.shape[1])
    return ("r2", weight, mean, sw @ (Y - mean) ** 2, sw @ (Y - P) ** 2)


def merge_validation(a, b):
    if a[0] == "accuracy":
        return ("accuracy", a[1] + b[1], a[2] + b[2])
    _, wa, ma, qa, ea = a
    _, wb, mb, qb, eb = b
    if wa == 0 or wb == 0:
        return a if wb == 0 else b
    total = wa + wb
    delta = mb - ma
    mean = ma + delta * (wb / total)
    return ("r2", total, mean, qa + qb + delta**2 * (wa * wb / total), ea + eb)


def validation_score(sums):
    """Accuracy, or R^2 averaged over the outputs as scikit-learn's r2_score."""
    if sums[0] == "accuracy":
        return sums[1] / sums[2]
    _, _, _, centred, errors = sums
    scores = np.where(
        centred > 0,
        1.0 - errors / np.where(centred > 0, centred, 1.0),
        np.where(errors == 0, 1.0, 0.0),
    )
    return float(np.mean(scores))
