"""Magnitude pruning of an MLP's weights, and removal of whole hidden units.

Unstructured pruning sets the network's ``mask`` (``_network.py``): the
epoch kernel zeroes the masked weights and their optimiser moments after
every step (``_kernels/mlp.py``), so they stay exactly zero through
``partial_fit`` and ``warm_start``. Structured pruning builds a smaller
network from the kept units' rows and columns.
"""

import copy
from numbers import Real

import numpy as np

from .._mlp import MLPEstimator
from .._network import MLPNetwork
from .._training import OptimizerState

__all__ = ["prune", "prune_schedule"]

SCOPES = ("global", "layer")


def _check_arguments(estimator, amount, scope, structured):
    if not isinstance(estimator, MLPEstimator):
        raise TypeError(
            f"prune needs a fitted skbigmodel MLP (MLPClassifier, MLPRegressor, "
            f"MLPEstimator); got {type(estimator).__name__}. Linear models get "
            "exact zeros from penalty='l1'."
        )
    if not hasattr(estimator, "_network"):
        raise ValueError(
            f"This {type(estimator).__name__} is not fitted: fit it before pruning."
        )
    if (
        isinstance(amount, bool)
        or not isinstance(amount, Real)
        or not 0 <= float(amount) < 1
    ):
        raise ValueError(
            f"amount must be a number in [0, 1), the share of weights (or hidden "
            f"units, if structured) to remove; got {amount!r}."
        )
    if scope not in SCOPES:
        raise ValueError(f"scope must be 'global' or 'layer'; got {scope!r}.")
    if structured and len(estimator._network.sizes) < 3:
        raise ValueError("structured pruning removes hidden units: the MLP has none.")


def prune(estimator, amount, *, scope="global", structured=False):
    """A copy of a fitted MLP with its smallest weights, or hidden units, removed.

    Unstructured (default): the weights of smallest magnitude become zero
    and a mask keeps them at zero through later ``partial_fit`` or
    ``warm_start`` training (biases are never pruned). The mask is the
    fitted attribute ``masks_`` and is saved with the model by pickle,
    ``skbigmodel.io`` and ``to_onnx`` (as zeros). Pruning a pruned model
    again keeps its zeros: ``amount`` is the share of all weights that are
    zero afterwards. ``fit`` without ``warm_start`` trains a new, dense
    model, as it discards every fitted attribute.

    Structured (``structured=True``): whole hidden units are removed, the
    weights into them, their biases and the weights out of them, so that
    ``coefs_`` shrink, ``hidden_layer_sizes`` is updated, and ``predict``
    and the ONNX graph get smaller and faster. A unit's importance is the
    product of the norms of its incoming and outgoing weights (invariant
    to rescaling one by c and the other by 1/c, which leaves a ReLU network
    unchanged); with ``scope="global"`` each unit's importance is divided by
    the mean of its layer's, so that layers of different widths compare.
    Every layer keeps at least one unit.

    Parameters
    ----------
    estimator : MLPClassifier, MLPRegressor or MLPEstimator
        A fitted skbigmodel MLP; it is not modified.
    amount : float in [0, 1)
        Share of the weights (of the hidden units, if structured) to remove.
    scope : {"global", "layer"}, default="global"
        "global" ranks all weights (units) of the network together, "layer"
        removes ``amount`` of each layer's.
    structured : bool, default=False
        Remove whole hidden units instead of single weights.

    Returns
    -------
    pruned : estimator
        A pruned copy, fitted; the optimiser's state is kept (pruned
        entries zeroed), so that ``partial_fit`` fine-tunes it.

    Raises
    ------
    TypeError
        If the estimator is not a skbigmodel MLP.
    ValueError
        If it is not fitted, ``amount`` is outside [0, 1) or ``scope`` is unknown.

    See Also
    --------
    prune_schedule : Gradual pruning with fine-tuning between steps.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skbigmodel import MLPClassifier
    >>> from skbigmodel.compress import prune
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier((64,), batch_size=64, max_iter=30, random_state=0)
    >>> clf = clf.fit(X / 16, y)
    >>> sparse = prune(clf, 0.8)
    >>> round(float(sum((W == 0).sum() for W in sparse.coefs_))
    ...       / sum(W.size for W in sparse.coefs_), 2)
    0.8
    >>> smaller = prune(clf, 0.5, structured=True)
    >>> smaller.hidden_layer_sizes, smaller.coefs_[0].shape
    ((32,), (64, 32))
    """
    _check_arguments(estimator, amount, scope, structured)
    pruned = copy.deepcopy(estimator)
    if structured:
        _remove_units(pruned, float(amount), scope)
    else:
        _mask_weights(pruned, float(amount), scope)
    pruned._set_fitted(pruned._network)
    return pruned


def _smallest(values, count):
    """Indices of the ``count`` smallest values (ties: the first ones)."""
    return np.argsort(values, kind="stable")[:count]


def _mask_weights(est, amount, scope):
    net, state = est._network, est._opt_state
    mask = np.ones(net.params.size, dtype=bool) if net.mask is None else net.mask
    masks = [mask[at : at + W.size] for at, W in zip(net.offsets.tolist(), net.coefs)]
    magnitudes = [np.abs(W).ravel() * m for W, m in zip(net.coefs, masks)]
    if scope == "global":
        everything = np.concatenate(magnitudes)
        drop = _smallest(everything, round(amount * everything.size))
        flat = np.ones(everything.size, dtype=bool)
        flat[drop] = False
        starts = np.cumsum([0] + [len(m) for m in magnitudes])
        for layer, keep in enumerate(masks):
            keep &= flat[starts[layer] : starts[layer + 1]]
    else:
        for values, keep in zip(magnitudes, masks):
            keep[_smallest(values, round(amount * values.size))] = False
    net.mask = mask
    pruned = ~mask
    net.params[pruned] = 0
    state.m[pruned] = 0
    state.v[pruned] = 0


def _unit_scores(coefs):
    """Importance of each hidden unit: |incoming| * |outgoing|, layer by layer."""
    return [
        np.linalg.norm(W_in, axis=0) * np.linalg.norm(W_out, axis=1)
        for W_in, W_out in zip(coefs[:-1], coefs[1:])
    ]


def _kept_units(scores, amount, scope):
    """The sorted indices of the units kept in each hidden layer."""
    if scope == "layer":
        drops = [_smallest(s, min(round(amount * s.size), s.size - 1)) for s in scores]
    else:
        # Scores scale with the layers' widths and initial gains: each is
        # ranked relative to its layer's mean, a number without units.
        everything = np.concatenate(
            [s / max(s.mean(), np.finfo(float).tiny) for s in scores]
        )
        # each layer's best unit is never dropped: rank it last
        protected = np.concatenate([np.arange(s.size) == np.argmax(s) for s in scores])
        ranked = np.where(protected, np.inf, everything)
        most = everything.size - len(scores)
        drop = _smallest(ranked, min(round(amount * everything.size), most))
        starts = np.cumsum([0] + [s.size for s in scores])
        drops = [
            drop[(drop >= lo) & (drop < hi)] - lo
            for lo, hi in zip(starts[:-1], starts[1:])
        ]
    return [np.setdiff1d(np.arange(s.size), d) for s, d in zip(scores, drops)]


def _slice_layers(net, vectors, kept):
    """Each of ``vectors`` (laid out like net.params) cut to the kept units."""
    n_layers = len(net.sizes) - 1
    rows = [np.arange(net.sizes[0]), *kept]
    columns = [*kept, np.arange(net.sizes[-1])]
    out = []
    for vector in vectors:
        parts = []
        for layer in range(n_layers):
            n_in, n_out = net.sizes[layer], net.sizes[layer + 1]
            at = net.offsets[layer]
            W = vector[at : at + n_in * n_out].reshape(n_in, n_out)
            b = vector[at + n_in * n_out : at + n_in * n_out + n_out]
            parts += [W[np.ix_(rows[layer], columns[layer])].ravel(), b[columns[layer]]]
        out.append(np.ascontiguousarray(np.concatenate(parts), dtype=vector.dtype))
    return out


def _remove_units(est, amount, scope):
    net, state = est._network, est._opt_state
    kept = _kept_units(_unit_scores(net.coefs), amount, scope)
    sizes = [int(net.sizes[0]), *[k.size for k in kept], int(net.sizes[-1])]
    vectors = [net.params, state.m, state.v]
    if net.mask is not None:
        vectors.append(net.mask)
    params, m, v, *mask = _slice_layers(net, vectors, kept)
    smaller = MLPNetwork(sizes, net.params.dtype, net.activation, net.dropout, params)
    smaller.mask = mask[0] if mask else None
    est._network = smaller
    est._opt_state = OptimizerState(m, v, state.step)
    est.hidden_layer_sizes = tuple(sizes[1:-1])


def prune_schedule(estimator, X, y, amounts, *, epochs=1, scope="global"):
    """Gradual magnitude pruning: prune to each amount in turn, then fine-tune.

    Zhu & Gupta (2017) found that removing weights a little at a time, with
    training in between, loses less accuracy than removing them at once.

    Parameters
    ----------
    estimator : MLPClassifier, MLPRegressor or MLPEstimator
        A fitted skbigmodel MLP; it is not modified.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data to fine-tune on.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Its labels or targets.
    amounts : sequence of float in [0, 1)
        The share of weights pruned at each step, e.g. ``[0.5, 0.75, 0.9]``.
    epochs : int, default=1
        Epochs of ``partial_fit`` after each pruning step.
    scope : {"global", "layer"}, default="global"
        As in :func:`prune`.

    Returns
    -------
    pruned : estimator
        The pruned and fine-tuned copy.

    See Also
    --------
    prune : One pruning step.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skbigmodel import MLPClassifier
    >>> from skbigmodel.compress import prune_schedule
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier((64,), batch_size=64, max_iter=30, random_state=0)
    >>> clf = clf.fit(X / 16, y)
    >>> sparse = prune_schedule(clf, X / 16, y, [0.5, 0.8, 0.9], epochs=2)
    >>> bool(sparse.score(X / 16, y) > 0.9)
    True
    """
    pruned = estimator
    for amount in amounts:
        pruned = prune(pruned, amount, scope=scope)
        for _ in range(epochs):
            pruned.partial_fit(X, y)
    return pruned
