"""``DataParallel``: the meta-estimator."""

import copy
from numbers import Integral

import dask.array as da
import dask.dataframe as dd
import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.callback import CallbackSupportMixin
from sklearn.utils import check_random_state, get_tags

from .._base import BaseStochasticEstimator
from .._full_batch import check_full_batch, train_lbfgs
from .._monitor import Monitor
from .._objective import Objective
from .._optimizers import FULL_BATCH_SOLVERS, asks_to_average, resolve_solver
from .._sklearn_compat import Interval, StrOptions, _fit_context
from .._training import History, OptimizerState, StoppingRule, train
from ._cluster import Partitions, connect
from ._encoders import encode
from ._predict import PartitionPredictions
from ._rounds import ClusterLoss, ClusterValidation, RoundRunner, rows_of

__all__ = ["DataParallel"]

# What the tasks' copy of the estimator must not carry: the driver's callbacks.
_DRIVER_ONLY = ("_skl_callbacks", "_skl_callbacks_to_teardown", "_callback_fit_ctx")


class DataParallel(
    PartitionPredictions, CallbackSupportMixin, MetaEstimatorMixin, BaseEstimator
):
    """Train one skbigmodel estimator on all the workers of a Dask cluster.

    ``fit`` takes a Dask array or DataFrame partitioned by rows. The
    partitions stay where they are: every round, each partition's task
    trains the broadcast model on its rows, and the results come back
    through a tree of merges in partition order. Classes, feature count
    and target scaling are computed over all partitions first.

    Two modes:

    * ``"average"`` (local SGD, iterative parameter mixing): each round,
      every partition runs ``local_epochs`` epochs of the estimator's own
      compiled loop from the broadcast parameters and optimiser state
      (Adam's or momentum's moments, the step count); the results are
      averaged, weighted by the partitions' summed sample weights. The
      estimator's stopping rule (``tol``, ``n_iter_no_change``, the
      adaptive learning rate) applies to the rounds' global loss, or to the
      validation score with ``X_val``.
    * ``"lbfgs"`` (exact): SciPy's L-BFGS-B on the driver, each evaluation
      of the loss and gradient summed over the partitions; the optimum is
      that of the estimator with ``solver="lbfgs"`` on all the rows.

    The model is bit-identical for the same partitions and
    ``random_state``, whatever the number of workers, their threads or the
    order tasks finish in; on one partition with ``local_epochs=1``,
    ``"average"`` trains exactly as the estimator's own ``fit`` with
    ``average=False``, epoch for round (the partitions' mean plays the role
    of averaged SGD: ``average="auto"`` means False here). Every task is a pure function of its inputs: when a worker dies,
    Dask recomputes its tasks elsewhere and the model does not change.

    Parameters
    ----------
    estimator : skbigmodel estimator
        The model to train: ``LinearRegressor``, ``LinearClassifier``,
        ``LogisticClassifier``, ``MLPClassifier``, ``MLPRegressor`` or
        ``MLPEstimator``, with its hyperparameters. Its ``n_jobs=None``
        means one kernel thread per task: Dask runs ``threads_per_worker``
        tasks at once. ``warm_start`` is not used: each fit starts anew.
    client : distributed.Client, str or None, default=None
        The cluster: a client, a scheduler's address, or None for the
        default client. A client is not pickled with the estimator.
    mode : {"average", "lbfgs"}, default="average"
        How the partitions' work is combined (see above). ``"lbfgs"``
        trains the estimator with ``solver="lbfgs"``.
    local_epochs : int, default=1
        Epochs each partition runs per round (``"average"``).
    max_rounds : int or None, default=None
        The most rounds (``"average"``) or L-BFGS iterations (``"lbfgs"``);
        None: the estimator's ``max_iter``.
    verbose : int, default=0
        Print one line per round (loss, validation score, time).

    Attributes
    ----------
    estimator_ : estimator
        The fitted estimator, a plain skbigmodel estimator: save it with
        ``skbigmodel.io``, export it with ``skbigmodel.onnx.to_onnx``.
    n_rounds_ : int
        Rounds (``"average"``) or iterations (``"lbfgs"``) run.
    loss_curve_ : list of float
        The global objective after each round (iteration).
    validation_scores_ : list of float or None
        The validation score after each round, with ``X_val``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when X is a DataFrame with string columns.
    classes_ : ndarray
        The classes, for classifiers.

    See Also
    --------
    dask_ml.wrappers.Incremental : trains on the blocks one after another
        through ``partial_fit``.

    Examples
    --------
    >>> import dask.array as da
    >>> from distributed import Client, LocalCluster
    >>> from sklearn.datasets import make_classification
    >>> from skbigmodel import LogisticClassifier
    >>> from skbigmodel.dask import DataParallel
    >>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    >>> client = Client(cluster)
    >>> X, y = make_classification(n_samples=2000, random_state=0)
    >>> X, y = da.from_array(X, chunks=500), da.from_array(y, chunks=500)
    >>> model = DataParallel(LogisticClassifier(random_state=0, tol=None), max_rounds=5)
    >>> model.fit(X, y).n_rounds_
    5
    >>> model.predict(X)
    dask.array<_apply, shape=(2000,), dtype=int64, chunksize=(500,), chunktype=numpy.ndarray>
    >>> client.close(); cluster.close()
    """

    _parameter_constraints = {
        "estimator": [BaseStochasticEstimator],
        "client": "no_validation",
        "mode": [StrOptions({"average", "lbfgs"})],
        "local_epochs": [Interval(Integral, 1, None, closed="left")],
        "max_rounds": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        client=None,
        mode="average",
        local_epochs=1,
        max_rounds=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.client = client
        self.mode = mode
        self.local_epochs = local_epochs
        self.max_rounds = max_rounds
        self.verbose = verbose

    def __sklearn_clone__(self):
        # The client is shared, not copied: a connection cannot be.
        client, self.client = self.client, None
        try:
            cloned = super().__sklearn_clone__()
        finally:
            self.client = client
        cloned.client = client
        return cloned

    def __getstate__(self):
        state = super().__getstate__()
        if not isinstance(state.get("client"), str):
            state = dict(state, client=None)  # a connection is not pickled
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            inner = get_tags(self.estimator)
        except Exception:  # not an estimator: fit says so
            return tags
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags = inner.target_tags
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Train the estimator on all the partitions at once.

        Parameters
        ----------
        X : dask array or dask DataFrame of shape (n_samples, n_features)
            Training data, chunked by rows (chunks along the columns are
            merged into one). float32 stays float32.
        y : dask array or dask Series/DataFrame
            Targets, chunked by rows as X.
        sample_weight : dask array of shape (n_samples,), default=None
            Non-negative weights, chunked by rows as X.
        X_val, y_val, sample_weight_val : dask or NumPy arrays, default=None
            A validation set, scored after each round on the cluster (early
            stopping on its score, as the estimator's ``fit`` does).

        Returns
        -------
        self : object
            The fitted meta-estimator; unchanged if fit raises.
        """
        rounds = self._rounds()
        self._init_callback_context(max_subtasks=rounds)
        saved = dict(self.__dict__)
        try:
            validation = (X_val, y_val, sample_weight_val)
            return self._fit(X, y, sample_weight, validation, rounds)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise
        finally:
            self.__dict__.pop("_fitting", None)

    def _rounds(self):
        if self.max_rounds is not None:
            return self.max_rounds
        return getattr(self.estimator, "max_iter", 1)

    def _new_estimator(self, validation):
        """A checked clone of the estimator, as it will train."""
        est = clone(self.estimator)
        if self.mode == "lbfgs":
            est.set_params(solver="lbfgs")
        est._validate_params()
        if self.mode == "average":
            if est.solver in FULL_BATCH_SOLVERS:
                raise ValueError(
                    f"mode='average' needs a stochastic solver; the estimator has "
                    f"solver={est.solver!r}. Use mode='lbfgs'."
                )
            if asks_to_average(est):
                raise ValueError(
                    "DataParallel does not train averaged SGD (average=True): "
                    "averaging the partitions' models plays that role. Set "
                    "average=False."
                )
            if est.early_stopping and validation[0] is None:
                raise ValueError(
                    "early_stopping=True needs a validation set with DataParallel: "
                    "pass X_val and y_val (Dask arrays) to fit."
                )
        else:
            check_full_batch(est)
        return est

    def _fit(self, X, y, sample_weight, validation, rounds):
        est = self._new_estimator(validation)
        client, owned = connect(self.client)
        try:
            parts = Partitions.of(client, X, y, sample_weight)
            encoded = encode(est, client, parts)
            training = resolve_solver(est, False)
            est._check_parameters(training)
            rng = check_random_state(est.random_state)
            net = est._new_network(
                parts.X.shape[1], est._n_outputs, parts.dtype, rng=rng
            )
            if encoded.intercept is not None:
                net.intercept[:] = encoded.intercept
            state = OptimizerState.zeros(
                net.params.size, net.moment_dtype, net.params.dtype
            )
            hyper, loss_unit = est._hyper(training, encoded.n_rows / encoded.weight)
            plan = encoded.plan._replace(est=_task_copy(est))
            validate = self._validation(est, client, plan, validation)
            metadata = (
                None
                if sample_weight is None
                else {"sample_weight": parts.sample_weight}
            )
            monitor = Monitor(self, parts.X, parts.y, metadata, loss_unit)
            self._fitting = est
            monitor.fit_begin()
            if self.mode == "lbfgs":
                loss = ClusterLoss(
                    client,
                    plan,
                    parts.blocks(),
                    encoded.n_rows,
                    encoded.weight,
                    hyper.loss,
                )
                history = train_lbfgs(
                    net,
                    Objective(loss, net.shapes, hyper.penalty.a2, hyper.fit_intercept),
                    max_iter=rounds,
                    max_fun=est.max_fun,
                    tol=0.0 if est.tol is None else est.tol,
                    monitor=monitor,
                    history=History(),
                    validate=validate,
                    loss_unit=loss_unit,
                    options=est._lbfgs_options,
                )
                epochs = 1
            else:
                monitor.step_name = "round"
                runner = RoundRunner(
                    client, plan, parts.blocks(), self.local_epochs, rng
                )
                stopping = None
                if est.tol is not None:
                    adaptive = training.learning_rate == "adaptive"
                    stopping = StoppingRule(est.tol, est.n_iter_no_change, adaptive)
                history = train(
                    net,
                    state,
                    hyper,
                    runner,
                    rows_of(encoded.n_rows),
                    rng=rng,
                    shuffle=False,  # each partition shuffles its rows
                    max_epochs=rounds,
                    monitor=monitor,
                    history=History(),
                    stopping=stopping,
                    validate=validate,
                    loss_unit=loss_unit,
                )
                epochs = self.local_epochs
            self._finish(est, net, state, training, history, epochs, parts, validate)
            monitor.fit_end()
            return self
        finally:
            if owned:
                client.close()

    def _validation(self, est, client, plan, validation):
        X_val, y_val, sw_val = validation
        if X_val is None and y_val is None:
            return None
        if X_val is None or y_val is None:
            raise ValueError("X_val and y_val must be given together.")
        local = not isinstance(X_val, (da.Array, dd.DataFrame))
        if local:
            X_val = da.from_array(np.asarray(X_val))  # one partition
        parts = Partitions.of(
            client, X_val, y_val, sw_val, ("X_val", "y_val", "sample_weight_val")
        )
        if local:  # sent once, not with every round's graph
            parts.X, parts.y = client.persist([parts.X, parts.y])
            if parts.sample_weight is not None:
                parts.sample_weight = client.persist(parts.sample_weight)
        if parts.X.shape[1] != est.n_features_in_:
            raise ValueError(
                f"X_val has {parts.X.shape[1]} features, but X has "
                f"{est.n_features_in_}."
            )
        return ClusterValidation(client, plan, parts)

    def _finish(self, est, net, state, training, history, epochs, parts, validate):
        """The fitted attributes of ``est`` (as its own fit sets them) and of self."""
        est._network, est._opt_state = net, state
        est.solver_ = training.solver
        est._record(history, False, validate is not None)
        est._set_fitted(net, None)
        est.n_iter_, est.t_ = history.n_iter * epochs, history.n_samples_seen * epochs
        if parts.feature_names is not None:
            est.feature_names_in_ = parts.feature_names
            self.feature_names_in_ = parts.feature_names
        self.estimator_ = est
        self.n_rounds_ = history.n_iter
        self.loss_curve_ = est.loss_curve_
        self.validation_scores_ = est.validation_scores_
        self.n_features_in_ = est.n_features_in_
        if hasattr(est, "classes_"):
            self.classes_ = est.classes_

    def _set_fitted(self, net, averaged=None):
        """``estimator_`` with ``net``'s parameters (callbacks' fitted view)."""
        est = copy.copy(self._fitting)
        est._set_fitted(net, averaged)
        self.estimator_ = est


def _task_copy(est):
    """The estimator as the tasks see it: no callbacks, and one kernel
    thread per task unless ``n_jobs`` says otherwise."""
    worker = copy.copy(est)
    for name in _DRIVER_ONLY:
        worker.__dict__.pop(name, None)
    if worker.n_jobs is None:
        worker.n_jobs = 1
    return worker
