"""fit / partial_fit / predict and the shared hyperparameters, written once."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.callback import CallbackSupportMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._full_batch import check_full_batch, train_lbfgs
from ._kernels.bundles import (
    ONE_OUTPUT,
    SEVERAL_OUTPUTS,
    Hyper,
    Loss,
    Penalty,
)
from ._kernels.losses import DISTILL_LOG_LOSS, DISTILL_MULTINOMIAL, MULTINOMIAL
from ._losses import LOG_LOSSES, REGRESSION_LOSSES
from ._monitor import Monitor
from ._objective import Objective, data_loss
from ._optimizers import (
    FULL_BATCH_SOLVERS,
    OPTIMIZERS,
    SCHEDULES,
    check_schedule,
    optimizer_bundle,
    passive_aggressive_bundle,
    resolve_solver,
)
from ._penalties import PENALTIES, penalty_strengths
from ._runners import blas_controller
from ._sklearn_compat import (
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    validate_data,
)
from ._training import History, OptimizerState, StoppingRule, TrainingDiverged, train

__all__ = ["BaseStochasticEstimator"]


class BaseStochasticEstimator(CallbackSupportMixin, BaseEstimator):
    """Estimators trained by mini-batch stochastic optimisation.

    Subclasses add a target mixin (``_targets``) and a network
    (``_new_network``, ``_set_fitted``, ``_decision``). scikit-learn's
    callbacks (``set_callbacks``) see a fit as one task of one subtask per
    epoch; a ``partial_fit`` call is a task of one epoch.
    """

    _parameter_constraints = {
        "penalty": [StrOptions(set(PENALTIES)), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "solver": [StrOptions(set(OPTIMIZERS) | set(FULL_BATCH_SOLVERS))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate": [StrOptions(set(SCHEDULES))],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "rho": [Interval(Real, 0, 1, closed="left")],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
    }

    # scikit-learn's message, SGD's here and its MLP's in _mlp.py
    _early_stopping_partial_fit = "early_stopping should be False with partial_fit"
    # L-BFGS-B's options beyond max_iter, max_fun and tol: scikit-learn's
    # MLP's (SciPy's defaults); linear models override them.
    _lbfgs_options = {}

    @property
    def _optimizer_epsilon(self):
        return self.epsilon

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = self._multi_output
        # a loss with a restricted domain (the Poisson deviance's y >= 0)
        name = getattr(self, "loss", None)
        loss = REGRESSION_LOSSES.get(name) if isinstance(name, str) else None
        if not self._needs_classes and loss is not None:
            tags.target_tags.positive_only = loss.check_target is not None
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
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
        """Fit the model with mini-batch stochastic optimisation.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. A C-contiguous float32 or float64 array, or CSR
            matrix, is used without a copy; float32 stays float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the objective is the weighted mean loss.
        X_val, y_val, sample_weight_val : array-like, default=None
            A validation set for early stopping, used instead of holding out
            ``validation_fraction`` of the training data.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validation = (X_val, y_val, sample_weight_val)
        return self._fit_atomic(X, y, sample_weight, validation, incremental=False)

    def _partial_fit(self, X, y, sample_weight, classes=None):
        return self._fit_atomic(
            X, y, sample_weight, (None, None, None), incremental=True, classes=classes
        )

    def _check_parameters(self, training):
        """ValueErrors for parameters that do not fit together (scikit-learn's
        constraints check each parameter alone)."""
        check_schedule(training, classifier=is_classifier(self))

    def _fit_atomic(self, X, y, sample_weight, validation, **kwargs):
        """Run ``_fit``; on any exception restore every attribute as it was."""
        # Opened before the snapshot so that a failed fit still tears the
        # callbacks down (scikit-learn's _fit_context does, on the way out).
        epochs = 1 if kwargs["incremental"] else self.max_iter
        self._init_callback_context(max_subtasks=epochs)
        saved = dict(self.__dict__)
        try:
            return self._fit(X, y, sample_weight, validation, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit(
        self, X, y, sample_weight, validation, *, incremental, classes=None, init=None
    ):
        if incremental and self.early_stopping:
            raise ValueError(
                f"{self._early_stopping_partial_fit}: early stopping scores a "
                "validation set held out of the whole training data, which "
                "partial_fit never sees at once. Set early_stopping=False, or "
                "call fit."
            )
        reuse = hasattr(self, "_network") and (incremental or self.warm_start)
        reuse = reuse and init is None  # coef_init / intercept_init win
        if incremental and not reuse and classes is None and self._needs_classes:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        X, y = self._validate_training_data(X, y, reset=not reuse)
        continued = getattr(self, "solver_", None) if reuse and incremental else None
        training = resolve_solver(self, sp.issparse(X), continued)
        self._check_parameters(training)
        sw = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        Y = self._encode_target(y, sw, first_call=not reuse, classes=classes)
        sw = self._class_weights(y, sw, incremental)
        rng = check_random_state(self.random_state)
        train_rows, validate = self._validation(X, y, validation, incremental, rng)
        # All rows, in order, unless some are held out: no copies (the
        # targets of 10 classes on 500,000 rows are 40 MB)
        whole = train_rows.size == X.shape[0]
        Y_train, sw_train = (Y, sw) if whole else (Y[train_rows], sw[train_rows])
        weight = sw_train.sum()
        if not weight > 0:
            raise ValueError("The sample weights of the training rows sum to zero.")
        if reuse:
            net = self._rebuilt_network()  # trained as a working copy: atomic
        else:
            net = self._new_network(X.shape[1], self._n_outputs, X.dtype, rng=rng)
            if getattr(self, "fit_intercept", True):
                net.intercept[:] = self._init_intercept(Y_train, sw_train)
            if init is not None:
                self._set_initial_params(net, *init)
        if reuse and incremental:
            state = self._opt_state.copy()
        else:  # warm_start restarts the optimiser, as scikit-learn's MLP does
            state = OptimizerState.zeros(
                net.params.size,
                net.moment_dtype,
                net.params.dtype,
                getattr(training, "average", False),
            )
        hyper, loss_unit = self._hyper(training, train_rows.size / weight)
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        monitor = Monitor(self, X, y, metadata, loss_unit)
        monitor.fit_begin()
        if training.solver in FULL_BATCH_SOLVERS:  # L-BFGS: a loop of its own
            history = self._train_full_batch(
                net, hyper, X, Y, sw, train_rows, monitor, validate, loss_unit
            )
        else:
            history = self._train_stochastic(
                net,
                state,
                hyper,
                training,
                X,
                Y,
                sw,
                train_rows,
                rng,
                incremental,
                monitor,
                validate,
                loss_unit,
            )
        self._network, self._opt_state = net, state
        self.solver_ = training.solver
        self._record(history, reuse, validate is not None)
        self._set_fitted(net, state.averaged())
        monitor.fit_end()
        return self

    def _train_stochastic(
        self,
        net,
        state,
        hyper,
        training,
        X,
        Y,
        sw,
        rows,
        rng,
        incremental,
        monitor,
        validate,
        loss_unit,
    ):
        """Train ``net`` and ``state`` in place by mini-batch epochs; the History."""
        batch_size = self._batch_size(rows.size)
        runner = net.epoch_runner(X, Y, sw, batch_size, rng, self.n_jobs)
        stopping = (
            None
            if incremental or self.tol is None  # tol=None: run max_iter epochs
            else StoppingRule(
                self.tol, self.n_iter_no_change, training.learning_rate == "adaptive"
            )
        )
        return train(
            net,
            state,
            hyper,
            runner,
            rows,
            rng=rng,
            shuffle=self.shuffle,
            max_epochs=1 if incremental else self.max_iter,
            monitor=monitor,
            history=History(),
            stopping=stopping,
            validate=validate,
            loss_unit=loss_unit,
        )

    def _train_epochs(self, net, state, hyper, X, Y, sw, *, rng, epochs, seeds=None):
        """Run ``epochs`` epochs over all the rows of X from ``net`` and
        ``state`` (trained in place), with no stopping rule, validation or
        callbacks: one partition's share of a round of
        ``skbigmodel.dask.DataParallel``, on encoded targets ``Y`` and
        weights ``sw`` (``_encode_target``, ``_class_weights``).

        rng : the ``RandomState`` the epochs' row orders are drawn from, as
        in ``_train_stochastic``. seeds : the MLP runner's stream of dropout
        seeds returned by a previous call, continued instead of drawing a
        new one from ``rng`` (so that consecutive calls draw what one fit
        of as many epochs draws). Returns the summed weighted loss of the
        last epoch and the seeds stream (None for linear models).
        """
        rows = np.arange(X.shape[0])
        batch_size = self._batch_size(rows.size)
        # A continued stream: the runner must not draw a new one from rng.
        draw = rng if seeds is None else np.random.RandomState(0)
        runner = net.epoch_runner(X, Y, sw, batch_size, draw, self.n_jobs)
        if seeds is not None:
            runner.seeds = seeds
        losses = []

        def run(bundle, order, step, hyper):
            loss_sum, step = runner(bundle, order, step, hyper)
            losses.append(loss_sum)
            return loss_sum, step

        train(
            net,
            state,
            hyper,
            run,
            rows,
            rng=rng,
            shuffle=self.shuffle,
            max_epochs=epochs,
            monitor=_Silent(),
            history=History(),
        )
        return losses[-1], getattr(runner, "seeds", None)

    def _train_full_batch(
        self, net, hyper, X, Y, sw, rows, monitor, validate, loss_unit
    ):
        """Train ``net`` in place with L-BFGS on all of ``rows``; the History.

        ``early_stopping`` is ignored, as by scikit-learn's MLP: the
        validation set (``X_val``), if given, is scored after each iteration
        for ``validation_scores_`` but does not stop training.
        """
        check_full_batch(self)
        objective = Objective(
            data_loss(net, X, Y, sw, rows, hyper.loss, self.n_jobs),
            net.shapes,
            hyper.penalty.a2,
            hyper.fit_intercept,
            mask=getattr(net, "mask", None),
        )
        return train_lbfgs(
            net,
            objective,
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=0.0 if self.tol is None else self.tol,
            monitor=monitor,
            history=History(),
            validate=validate,
            loss_unit=loss_unit,
            options=self._lbfgs_options,
        )

    def _rebuilt_network(self):
        """A network built from the current parameters (``activation``,
        ``dropout``, ``hidden_layer_sizes``...) holding a copy of the fitted
        weights, so that every parameter takes effect in continued training.
        Weights are reused only when their shapes match."""
        fitted = self._network
        net = self._new_network(
            fitted.shapes[0][0], self._n_outputs, fitted.params.dtype
        )
        if net.shapes != fitted.shapes:
            raise ValueError(
                f"warm_start and partial_fit continue the fitted model, whose weights "
                f"have the shapes {fitted.shapes}; the current parameters give "
                f"{net.shapes}. Set warm_start=False, or fit a new estimator, to "
                "train a network of another shape."
            )
        net.params[:] = fitted.params
        if getattr(fitted, "mask", None) is not None:  # pruned: keep the zeros
            net.mask = fitted.mask
        return net

    def _validate_training_data(self, X, y, reset):
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
            multi_output=self._multi_output,
            y_numeric=self._y_numeric,
        )
        if not reset and X.dtype != self._network.params.dtype:
            X = X.astype(self._network.params.dtype)  # one kernel version per dtype
        return X, y

    def _validation(self, X, y, validation, incremental, rng):
        """Rows to train on and a ``validate(params) -> score`` callable or None."""
        X_val, y_val, sw_val = validation
        rows = np.arange(X.shape[0])
        if X_val is not None or y_val is not None:
            if X_val is None or y_val is None:
                raise ValueError("X_val and y_val must be given together.")
            X_val, y_val = validate_data(
                self,
                X_val,
                y_val,
                reset=False,
                accept_sparse="csr",
                dtype=X.dtype,
                multi_output=self._multi_output,
            )
            if sw_val is not None:
                sw_val = _check_sample_weight(sw_val, X_val, ensure_non_negative=True)
        elif (
            self.early_stopping
            and not incremental
            and self.solver not in FULL_BATCH_SOLVERS  # ignored, as by sklearn's MLP
        ):
            rows, held_out = self._split(rows, y, rng)
            X_val, y_val = X[held_out], y[held_out]
            sw_val = None
        else:
            return rows, None

        def validate(params):
            net = self._new_network(X.shape[1], self._n_outputs, X.dtype, params)
            # Huge predictions overflow the score's squares: R^2 is then -inf
            # One BLAS thread: a threaded product leaves OpenBLAS's threads
            # spinning for a while, on the cores that the next epoch's
            # threads need (measured: every later epoch took twice as long).
            one_thread = blas_controller().limit(limits=1)
            with np.errstate(over="ignore", invalid="ignore"), one_thread:
                raw = net.decision(X_val)
                finite = np.isfinite(raw).all()
                score = self._validation_score(raw, y_val, sw_val) if finite else None
            if score is None or score == -np.inf:
                raise TrainingDiverged(
                    "Training diverged: the predictions on the validation data "
                    "overflow. Lower learning_rate_init or scale the features "
                    "(e.g. with StandardScaler); the model was left unchanged."
                )
            return score

        return rows, validate

    def _split(self, rows, y, rng):
        """Hold out validation_fraction, stratified for classifiers when possible."""
        seed = rng.randint(np.iinfo(np.int32).max)
        split = dict(test_size=self.validation_fraction, random_state=seed)
        if rows.size < 2:
            raise ValueError("early_stopping needs at least 2 samples.")
        try:
            return train_test_split(rows, stratify=self._stratify(y), **split)
        except ValueError:  # too few samples of a class to stratify
            return train_test_split(rows, **split)

    def _hyper(self, training, weight_scale):
        """The kernels' ``Hyper`` bundle; ``training`` is the estimator with
        its solver resolved (``resolve_solver``)."""
        loss = self._loss()
        a1, a2 = penalty_strengths(self.penalty, self.alpha, self.l1_ratio)
        param, a1, a2, loss_unit, step_unit = self._scaled_problem(loss, a1, a2)
        user_param = loss.parameter(self)

        def dloss(typw):  # the loss's derivative at -typw for the target 1
            # (the multinomial's: the binary log-loss's, scikit-learn's
            # one-vs-rest log-loss)
            softmax = (MULTINOMIAL, DISTILL_MULTINOMIAL, DISTILL_LOG_LOSS)
            probe = LOG_LOSSES["binary"] if loss.code in softmax else loss
            Z, Y = np.array([[-typw]]), np.array([[1.0]])
            return float(probe.reference(Z, Y, user_param)[1][0, 0])

        optimizer = optimizer_bundle(training, step_unit, dloss)
        hyper = Hyper(
            loss=Loss(
                loss.code,
                float(param),
                ONE_OUTPUT if self._n_outputs == 1 else SEVERAL_OUTPUTS,
            ),
            penalty=Penalty(float(a1), float(a2)),
            optimizer=optimizer,
            weight_scale=float(weight_scale),
            fit_intercept=bool(getattr(self, "fit_intercept", True)),
            pa=passive_aggressive_bundle(training, optimizer),
        )
        return hyper, loss_unit

    def _batch_size(self, n_rows):
        if self.batch_size == "auto":
            return min(256, n_rows)
        return min(self.batch_size, n_rows)

    def _record(self, history, reuse, validated):
        """Set the fitted attributes that describe training."""
        if not reuse:
            self.n_iter_, self.t_, self.loss_curve_ = 0, 0, []
        self.n_iter_ += history.n_iter
        self.t_ += history.n_samples_seen
        self.loss_curve_ = self.loss_curve_ + history.loss_curve
        self.validation_scores_ = history.validation_scores if validated else None
        self.best_validation_score_ = (
            max(history.validation_scores) if validated else None
        )

    def _decision(self, X):
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            reset=False,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
        )
        # Features far larger than those of training overflow the products
        # (sooner in float32): a clear error, never an inf or NaN output.
        with np.errstate(over="ignore", invalid="ignore"):
            raw = self._raw_outputs(X)
        if not np.isfinite(raw).all():
            raise ValueError(
                f"The model's outputs overflow {raw.dtype} on this X: its values "
                "are too large for the fitted parameters. Scale the features "
                "(e.g. with StandardScaler) as for training."
            )
        return raw


class _Silent:
    """A ``Monitor`` that reports nothing (``_train_epochs``)."""

    def epoch_begin(self):
        pass

    def epoch_end(self, *args):
        return False
