"""Safe persistence with ``skops.io``: skbigmodel's own types are trusted, no others.

``pickle`` and ``joblib`` run code from the file while loading it; skops
loads only the types it is told to trust. :func:`load` trusts what skops
trusts by default (NumPy, SciPy and scikit-learn types) plus the types of
skbigmodel's estimators (see :func:`trusted_types`), and refuses any file
that holds anything else. It then checks that each estimator's internal
arrays are consistent, since the Numba kernels that ``partial_fit`` runs do
not check bounds.
"""

import itertools
import os

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

__all__ = ["dump", "load", "trusted_types"]


def _skops_io():
    try:
        import skops.io
    except ImportError as exc:
        raise ImportError(
            'skbigmodel.io needs skops: pip install "skbigmodel[skops]"'
        ) from exc
    return skops.io


def _type_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def trusted_types():
    """Names of the types :func:`load` trusts beyond skops' defaults.

    These are the public estimators, the private network and optimiser
    state that fitted estimators carry (needed to continue training with
    ``partial_fit`` or ``warm_start``), and the CSR matrix that
    ``sparsify()`` makes of ``coef_``.

    Returns
    -------
    names : list of str
        Fully qualified type names, as ``skops.io.get_untrusted_types``
        reports them.

    See Also
    --------
    load : Load a file that holds only these types and skops' defaults.

    Examples
    --------
    >>> from skbigmodel.io import trusted_types
    >>> "skbigmodel._linear.LogisticClassifier" in trusted_types()
    True
    """
    from ._linear import LinearClassifier, LinearRegressor, LogisticClassifier
    from ._mlp import MLPClassifier, MLPEstimator, MLPRegressor
    from ._network import LinearNetwork, MLPNetwork
    from ._training import OptimizerState

    types = [
        LinearClassifier,
        LinearRegressor,
        LogisticClassifier,
        MLPClassifier,
        MLPEstimator,
        MLPRegressor,
        LinearNetwork,
        MLPNetwork,
        OptimizerState,
        sp.csr_matrix,
    ]
    return sorted(_type_name(cls) for cls in types)


def dump(estimator, file):
    """Save an estimator (or a pipeline holding one) with ``skops.io``.

    Parameters
    ----------
    estimator : object
        A fitted or unfitted estimator, e.g. a skbigmodel estimator or a
        scikit-learn ``Pipeline`` ending in one.
    file : str, path-like or binary file object
        Where to write.

    See Also
    --------
    load : Load the file again, trusting only skbigmodel's types.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import make_classification
    >>> from skbigmodel import LogisticClassifier
    >>> from skbigmodel.io import dump, load
    >>> X, y = make_classification(random_state=0)
    >>> clf = LogisticClassifier(random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.skops")
    ...     dump(clf, path)
    ...     loaded = load(path)
    >>> bool((loaded.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    _skops_io().dump(estimator, file)


def load(file):
    """Load a file written by :func:`dump`, refusing any type not trusted.

    Parameters
    ----------
    file : str, path-like or binary file object
        The file to read.

    Returns
    -------
    estimator : object
        The estimator, with its fitted state: it predicts exactly as it
        did when saved and can go on training with ``partial_fit``.

    Raises
    ------
    TypeError
        If the file holds a type that is neither in :func:`trusted_types`
        nor trusted by skops by default (e.g. a custom class, or a
        ``FunctionTransformer`` of your own function); the error names them.
    ValueError
        If a skbigmodel estimator in the file is internally inconsistent
        (a damaged or crafted file).

    See Also
    --------
    dump : Write such a file.
    trusted_types : The types trusted beyond skops' defaults.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbigmodel import LinearRegressor
    >>> from skbigmodel.io import dump, load
    >>> X, y = make_regression(random_state=0)
    >>> model = make_pipeline(StandardScaler(), LinearRegressor(random_state=0))
    >>> model = model.fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.skops")
    ...     dump(model, path)
    ...     loaded = load(path)
    >>> bool((loaded.predict(X) == model.predict(X)).all())
    True
    """
    sio = _skops_io()
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as stream:
            data = stream.read()
    else:
        data = file.read()
    trusted = trusted_types()
    foreign = sorted(set(sio.get_untrusted_types(data=data)) - set(trusted))
    if foreign:
        hint = ""
        if any(name.startswith("sklearn.callback.") for name in foreign):
            hint = (
                " Callbacks are saved with the estimator that holds them: call "
                "set_callbacks() with no argument on it before dump."
            )
        raise TypeError(
            f"The file holds types that skbigmodel.io.load does not trust: "
            f"{foreign}. Only skbigmodel's estimators and the types skops trusts "
            "by default are loaded. If you trust the file's source, load it with "
            "skops.io.load(file, trusted=[...]) listing the types you reviewed." + hint
        )
    obj = sio.loads(data, trusted=trusted)
    _check_loaded(obj, set())
    return obj


def _check_loaded(obj, seen):
    """Check every skbigmodel estimator and sparse matrix reachable from obj."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if sp.issparse(obj):
        # A CSR matrix is built without checking that its indices are in
        # range; scipy's C++ products would then read out of bounds.
        try:
            obj.check_format(full_check=True)
        except ValueError as exc:
            raise ValueError(f"The file holds an invalid sparse matrix: {exc}") from exc
        return
    if isinstance(obj, (list, tuple)):
        children = obj
    elif isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, BaseEstimator):
        from ._base import BaseStochasticEstimator

        if isinstance(obj, BaseStochasticEstimator) and hasattr(obj, "_network"):
            _check_fitted_state(obj)
        children = list(vars(obj).values())
    else:
        return
    for child in children:
        _check_loaded(child, seen)


def _check_fitted_state(est):
    """Raise a ValueError unless the network and optimiser state fit together."""
    problem = None
    try:
        problem = _fitted_state_problem(est)
    except (AttributeError, LookupError, TypeError, ValueError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        raise ValueError(
            f"The file's {type(est).__name__} has an inconsistent fitted state "
            f"({problem}); the file is damaged or was not written by skbigmodel."
        )


def _fitted_state_problem(est):
    from ._activations import ACTIVATIONS
    from ._network import LinearNetwork, MLPNetwork
    from ._training import OptimizerState

    net, state = est._network, est._opt_state
    params = net.params
    if not (
        isinstance(params, np.ndarray)
        and params.ndim == 1
        and params.dtype in (np.float32, np.float64)
        and params.flags.c_contiguous
    ):
        return "parameters are not a contiguous float32/float64 vector"
    n_features, n_outputs = int(est.n_features_in_), int(est._n_outputs)
    if isinstance(net, LinearNetwork):
        expected = n_outputs * (n_features + 1)
        if (net.n_features, net.n_outputs, net.n_coef) != (
            n_features,
            n_outputs,
            n_outputs * n_features,
        ):
            return "network shape differs from the estimator's"
    elif isinstance(net, MLPNetwork):
        sizes, offsets = net.sizes, net.offsets
        if (
            not all(
                isinstance(a, np.ndarray) and a.dtype == np.int64 and a.ndim == 1
                for a in (sizes, offsets)
            )
            or sizes.size < 2
        ):
            return "layer sizes are not a vector of int64"
        # Python integers: products of crafted sizes must not wrap around.
        dims = [int(size) for size in sizes]
        counts = [n_in * n_out + n_out for n_in, n_out in zip(dims[:-1], dims[1:])]
        starts = list(itertools.accumulate([0, *counts[:-1]]))
        ends = (dims[0], dims[-1], net.n_outputs)
        if (
            min(dims) < 1
            or ends != (n_features, n_outputs, n_outputs)
            or offsets.tolist() != starts
        ):
            return "layer sizes or offsets differ from the estimator's"
        if net.activation not in ACTIVATIONS or not 0 <= net.dropout < 1:
            return "unknown activation or dropout out of range"
        expected = sum(counts)
    else:
        return f"unexpected network type {type(net).__name__}"
    if params.size != expected:
        return f"{params.size} parameters where the shapes need {expected}"
    mask = getattr(net, "mask", None)
    if mask is not None and not (
        isinstance(mask, np.ndarray)
        and mask.dtype == np.bool_
        and mask.shape == params.shape
        and mask.flags.c_contiguous
    ):
        return "the pruning mask does not match the parameters"
    if not (
        isinstance(state, OptimizerState)
        and all(
            isinstance(a, np.ndarray)
            and a.shape == params.shape
            and a.dtype == net.moment_dtype
            for a in (state.m, state.v)
        )
        and int(state.step) >= 0
    ):
        return "optimiser moments do not match the parameters"
    if state.average is not None and not (
        isinstance(state.average, np.ndarray)
        and state.average.shape == params.shape
        and state.average.dtype == params.dtype
        and isinstance(state.average_counts, np.ndarray)
        and state.average_counts.shape == (3,)
        and state.average_counts.dtype == np.float64
    ):
        return "averaged parameters do not match the parameters"
    return None
