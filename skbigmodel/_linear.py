"""Public linear estimators: LinearRegressor, LinearClassifier, LogisticClassifier."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import BaseStochasticEstimator
from ._full_batch import stochastic_solver
from ._losses import CLASSIFIER_LOSS_NAMES, REGRESSION_LOSSES
from ._network import LinearNetwork
from ._optimizers import FULL_BATCH_SOLVERS, LINEAR_SCHEDULES, OPTIMIZERS
from ._sklearn_compat import Interval, StrOptions, _fit_context
from ._targets import ClassifierTarget, RegressorTarget

__all__ = ["LinearClassifier", "LinearRegressor", "LogisticClassifier"]

_LBFGS = """        "lbfgs" is full batch: SciPy's L-BFGS-B on the exact gradient over
        all the rows (computed on all cores), penalty "l2" or None, no
        ``partial_fit``; the mini-batch and learning-rate parameters and
        ``early_stopping`` do not apply to it.
"""
_AUTO_SOLVER = (
    """    solver : {"auto", "adam", "sgd", "rmsprop", "lbfgs"}, default="auto"
        The optimiser. "sgd" uses ``momentum`` and ``nesterovs_momentum``.
        "auto" is, on sparse X, "sgd" with ``momentum=0`` and
        ``learning_rate="optimal"`` (scikit-learn's SGDClassifier, on
        mini-batches: on text features it reaches SGDClassifier's accuracy in
        as many epochs, each faster; with the log-loss the schedule's first
        step is capped at 1, where scikit-learn's is ``alpha ** -0.25``,
        which reaches SGDClassifier's 5-epoch accuracy in one or two epochs
        on rows of unit norm), and on dense X "adam", with the mean of each
        epoch's iterates as the model (``average="auto"``), which reaches a
        better model in one epoch than plain SGD in five; with
        ``learning_rate="optimal"``, ``"pa1"`` or ``"pa2"``, "sgd" with
        ``momentum=0`` on either; ``solver_`` tells which was used.
"""
    + _LBFGS
)

_REGRESSOR_AUTO_SOLVER = (
    """    solver : {"auto", "adam", "sgd", "rmsprop", "lbfgs"}, default="auto"
        The optimiser. "sgd" uses ``momentum`` and ``nesterovs_momentum``.
        "auto" is "adam", on dense X with the mean of each epoch's
        iterates as the model (``average="auto"``: in one epoch it reaches a
        better model than SGDRegressor in five, where Adam's last iterate
        does not); with ``learning_rate="optimal"``, ``"pa1"`` or
        ``"pa2"``, "sgd" with ``momentum=0``; ``solver_`` tells which was
        used.
"""
    + _LBFGS
)

_SHARED_PARAMETERS = """
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        The penalty. L1 and elastic-net are applied by proximal
        (soft-thresholding) steps, so ``coef_`` has exact zeros.
    alpha : float, default=1e-4
        Strength of the penalty: the objective is the weighted mean loss plus
        ``alpha * (l1_ratio * |w|_1 + (1 - l1_ratio) / 2 * |w|_2^2)``.
    l1_ratio : float, default=0.15
        Share of L1 in the elastic-net penalty (used with "elasticnet").
{solver}    learning_rate_init : float, default=0.01
        Initial step size; for "pa1" and "pa2", the aggressiveness C
        (scikit-learn's ``eta0``).
    learning_rate : {"constant", "invscaling", "adaptive", "optimal", "pa1", \
"pa2"}, default="constant"
        Step-size schedule: constant; ``learning_rate_init / t**power_t`` at
        optimiser step ``t``; divided by 5 whenever ``n_iter_no_change``
        epochs fail to improve by ``tol``; or, with ``solver="sgd"`` (or
        "auto"), Bottou's ``1 / (alpha * (t0 + t))`` at the ``t``-th sample
        (scikit-learn's ``t0``), a batch of ``b`` rows taking ``b`` times
        the step of one sample; or the passive-aggressive steps of plain
        SGD (``solver="sgd"`` or "auto", ``momentum=0``; loss "hinge" for
        classifiers, "epsilon_insensitive" for regressors, as in
        scikit-learn) with C = ``learning_rate_init``: PA-I ``min(C, loss /
        ||x||**2)``, PA-II ``loss / (||x||**2 + 1 / (2 C))``, per row; a
        batch takes the mean of its rows' steps, which is scikit-learn's
        with ``batch_size=1`` (see :ref:`optimisers`).
    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.
    momentum : float, default=0.9
        Momentum of "sgd".
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with "sgd".
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates.
    rho : float, default=0.9
        Decay rate of RMSprop's squared-gradient average.
    batch_size : int or "auto", default="auto"
        Mini-batch size; "auto" is ``min(256, n_samples)``.
    max_iter : int, default=1000
        Maximum number of epochs (of iterations for "lbfgs").
    max_fun : int, default=15000
        Maximum number of loss and gradient evaluations of "lbfgs" (each a
        pass over the data); checked at the end of an iteration.
    tol : float or None, default=1e-4
        Improvement of the loss (or validation score) below which an epoch
        counts as no improvement; None runs ``max_iter`` epochs. For
        "lbfgs", the largest gradient component at which it stops (SciPy's
        ``gtol``; None: 0).
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    early_stopping : bool, default=False
        Stop on a validation score: accuracy (classifiers) or R^2, on
        ``validation_fraction`` of the data or on ``X_val``/``y_val``.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    shuffle : bool, default=True
        Shuffle the samples at every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds shuffling and the validation split. A fixed seed gives
        bit-identical models whatever ``n_jobs`` is.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    verbose : int, default=0
        Print one line per epoch (loss, validation score, seconds) to stderr.
    n_jobs : int or None, default=None
        Threads for the kernels; None or -1 means all available.
    fit_intercept : bool, default=True
        Fit an (unpenalised) intercept.
    average : bool, int or "auto", default="auto"
        Averaged SGD: ``coef_`` and ``intercept_`` are the mean of the
        parameters after every optimiser step from the ``average``-th sample
        on (``True``: from the first); training itself continues from the
        last step's parameters. On sparse X, with ``solver="sgd"``,
        ``momentum=0`` and an L2 penalty or none. "auto" is, where
        ``solver="auto"`` trains Adam on dense X, the mean of each epoch's
        steps (it restarts every epoch: Adam's last iterate keeps moving by
        about its step, the mean of an epoch does not), and False otherwise;
        scikit-learn's default is False."""

_SHARED_ATTRIBUTES = """
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when X was a DataFrame with string columns.
    n_iter_ : int
        Number of epochs run (iterations for "lbfgs").
    t_ : int
        Number of training samples seen by the optimiser.
    loss_curve_ : list of float
        Objective (mean loss plus penalty) at the end of each epoch
        (iteration for "lbfgs").
    validation_scores_ : list of float or None
        Validation score at each epoch, with early stopping.
    best_validation_score_ : float or None
        Best validation score, with early stopping."""


def _initial(value, name, shape, also):
    """``value`` as a finite float64 array of ``shape`` (or of ``also``)."""
    value = check_array(
        value,
        ensure_2d=False,
        ensure_min_samples=0,
        dtype=np.float64,
        input_name=name,
    )
    if value.shape != shape and value.shape != also:
        allowed = f"{shape}" + (f" or {also}" if also is not None else "")
        raise ValueError(f"{name} has shape {value.shape}; this model needs {allowed}.")
    return value.reshape(shape)


class _LinearModel:
    """What a linear model adds to the engine: its network and ``coef_``."""

    # L-BFGS-B as LogisticRegression runs it: convex, so stop on the gradient
    # (tol), not on a relative decrease of the objective of 2e-9.
    _lbfgs_options = {"ftol": 64 * np.finfo(float).eps, "maxls": 50}

    def densify(self):
        """Convert a sparse ``coef_`` back to a dense array (the default).

        Returns
        -------
        self : object
            The estimator, with a dense ``coef_`` of its original shape.
        """
        check_is_fitted(self)
        if sp.issparse(self.coef_):
            dense = self.coef_.toarray()
            self.coef_ = dense.ravel() if getattr(self, "_y_1d", False) else dense
        return self

    def sparsify(self):
        """Store ``coef_`` as a CSR matrix, for models with many exact zeros.

        Predictions are unchanged and faster when most coefficients are zero
        (L1 or elastic-net); ``partial_fit`` and warm starts keep working.

        Returns
        -------
        self : object
            The estimator, with ``coef_`` a ``scipy.sparse.csr_matrix`` of
            shape (n_outputs, n_features).
        """
        check_is_fitted(self)
        if not sp.issparse(self.coef_):
            self.coef_ = sp.csr_matrix(np.atleast_2d(self.coef_))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        coef_init=None,
        intercept_init=None,
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
        coef_init : array-like of shape (n_outputs, n_features), default=None
            Initial coefficients (shape (n_features,) for one output), in
            ``coef_``'s layout; they replace a warm start.
        intercept_init : array-like of shape (n_outputs,), default=None
            Initial intercepts. Without it the intercept starts at the
            log-odds of the classes (log-loss), zero (margin losses) or the
            mean target (regression).
        X_val, y_val, sample_weight_val : array-like, default=None
            A validation set for early stopping, used instead of holding out
            ``validation_fraction`` of the training data.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        init = None
        if coef_init is not None or intercept_init is not None:
            init = (coef_init, intercept_init)
        validation = (X_val, y_val, sample_weight_val)
        return self._fit_atomic(
            X, y, sample_weight, validation, incremental=False, init=init
        )

    def _set_initial_params(self, net, coef_init, intercept_init):
        """Write coef_init / intercept_init (user's units) into ``net``."""
        k, p = net.n_outputs, net.n_features
        coef, intercept = self._user_params(net.coef, net.intercept)
        if coef_init is not None:
            coef = _initial(coef_init, "coef_init", (k, p), (p,) if k == 1 else None)
        if intercept_init is not None:
            intercept = _initial(
                intercept_init, "intercept_init", (k,), () if k == 1 else None
            )
        coef, intercept = self._network_params(coef, intercept)
        net.coef[:], net.intercept[:] = coef, intercept

    def _new_network(self, n_features, n_outputs, dtype, params=None, rng=None):
        return LinearNetwork(n_features, n_outputs, dtype, params)  # zeros

    def _set_fitted(self, net, averaged=None):
        if averaged is not None:  # averaged SGD: predict with the mean
            net = LinearNetwork(
                net.n_features, net.n_outputs, net.params.dtype, averaged
            )
        coef, intercept = self._user_params(net.coef, net.intercept)
        coef = np.ascontiguousarray(coef, dtype=net.params.dtype)
        self.coef_ = coef[0] if getattr(self, "_y_1d", False) else coef
        self.intercept_ = intercept.astype(net.params.dtype)

    def _raw_outputs(self, X):
        coef = self.coef_ if sp.issparse(self.coef_) else np.atleast_2d(self.coef_)
        out = safe_sparse_dot(X, coef.T, dense_output=True)
        return np.asarray(out + self.intercept_)


class LinearRegressor(RegressorTarget, _LinearModel, BaseStochasticEstimator):
    __doc__ = f"""Linear regression trained with Adam, SGD or RMSprop on Numba kernels.

    A drop-in for :class:`~sklearn.linear_model.SGDRegressor` (and for
    ``Ridge``, ``Lasso`` and ``ElasticNet`` on data too big for them, and for
    ``QuantileRegressor``), with single- and multi-output targets, also
    through ``partial_fit``.

    Parameters
    ----------
    loss : {{"squared_error", "huber", "epsilon_insensitive", \
"squared_epsilon_insensitive", "quantile", "poisson"}}, default="squared_error"
        The loss of each sample: half the squared residual; Huber's;
        ``max(0, |r| - epsilon)`` and its square (scikit-learn's SVR
        losses); the pinball loss of the quantile ``quantile``; or half the
        Poisson deviance with a log link: ``predict`` returns
        ``exp(X @ coef_ + intercept_)`` and ``y`` must be non-negative, as
        for ``PoissonRegressor``.
    epsilon : float, default=0.1
        Width of the quadratic zone of "huber" and of the insensitive zone
        of the insensitive losses, in the units of ``y``.
    quantile : float, default=0.5
        The quantile that ``loss="quantile"`` estimates, in (0, 1). The
        pinball loss has a kink at every sample: a constant step keeps
        oscillating around the optimum; ``learning_rate="adaptive"`` (or
        ``average=True``) settles on it (20,000 x 50: within 0.01 % of
        ``QuantileRegressor``'s loss, see ``benchmarks/bench_sgd.py``).
{_SHARED_PARAMETERS.replace("{solver}", _REGRESSOR_AUTO_SOLVER)}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_outputs, n_features)
        Coefficients, in the dtype of the training data.
    intercept_ : ndarray of shape (n_outputs,)
        Intercepts.
    n_outputs_ : int
        Number of outputs.
{_SHARED_ATTRIBUTES}

    See Also
    --------
    sklearn.linear_model.SGDRegressor : scikit-learn's per-sample SGD.
    sklearn.linear_model.QuantileRegressor : quantiles by linear programming.
    LinearClassifier : the classifier built on the same engine.

    Notes
    -----
    Targets are standardised internally and the penalty rescaled to match,
    which leaves the optimum unchanged; SGD's steps stay in the units of
    ``y``, as scikit-learn's. Adam's own epsilon is fixed at 1e-8 here since
    ``epsilon`` is the loss parameter, as in ``SGDRegressor``.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbigmodel import LinearRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), LinearRegressor(random_state=0))
    >>> model.fit(X, y).score(X, y) > 0.5
    True
    >>> model[-1].coef_.shape
    (10,)
    """

    _parameter_constraints = {
        **BaseStochasticEstimator._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
        "solver": [StrOptions({*OPTIMIZERS, *FULL_BATCH_SOLVERS, "auto"})],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "quantile": [Interval(Real, 0, 1, closed="neither")],
        "learning_rate": [StrOptions(set(LINEAR_SCHEDULES))],
        "fit_intercept": ["boolean"],
        "average": [
            Interval(Integral, 0, None, closed="neither"),
            "boolean",
            StrOptions({"auto"}),
        ],
    }
    _optimizer_epsilon = 1e-8

    def __init__(
        self,
        loss="squared_error",
        *,
        epsilon=0.1,
        quantile=0.5,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        solver="auto",
        learning_rate_init=0.01,
        learning_rate="constant",
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        rho=0.9,
        batch_size="auto",
        max_iter=1000,
        max_fun=15000,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
        n_jobs=None,
        fit_intercept=True,
        average="auto",
    ):
        self.loss = loss
        self.epsilon = epsilon
        self.quantile = quantile
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.power_t = power_t
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.rho = rho
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.max_fun = max_fun
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.fit_intercept = fit_intercept
        self.average = average

    @available_if(stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch over the given samples, continuing from the current model.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets. The first call fixes the number of outputs and the
            internal target scaling.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.

        Returns
        -------
        self : object
            The updated estimator. If the call raises, the model is left
            exactly as it was.
        """
        return self._partial_fit(X, y, sample_weight)


_CLASSIFIER_ATTRIBUTES = f"""
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients, in the dtype of the training data.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts.
{_SHARED_ATTRIBUTES}
    solver_ : str
        The solver used ("auto" resolved)."""

_CLASSIFIER_PARAMETERS = """
    class_weight : dict or "balanced", default=None
        Weights of the classes, multiplied into ``sample_weight``."""


class LinearClassifier(ClassifierTarget, _LinearModel, BaseStochasticEstimator):
    __doc__ = f"""Linear classifiers (SVM, logistic regression, perceptron...) on Numba kernels.

    A drop-in for :class:`~sklearn.linear_model.SGDClassifier`, with its
    losses. Two classes train one output; more train one output per class
    together, in one pass over the data: one-vs-rest for the margin losses,
    a true multinomial softmax for ``loss="log_loss"``.

    Parameters
    ----------
    loss : {{"hinge", "log_loss", "modified_huber", "squared_hinge", \
"perceptron", "squared_error", "huber", "epsilon_insensitive", \
"squared_epsilon_insensitive"}}, default="hinge"
        The loss: a linear SVM's hinge ``max(0, 1 - y t)`` on labels
        ``y = +-1``; logistic regression; Zhang's modified Huber (a smoothed
        hinge with probabilities); the squared hinge; the perceptron's
        ``max(0, -y t)``; or a regression loss on the labels +-1.
    epsilon : float, default=0.1
        Width of the quadratic zone of "huber" and of the insensitive zone
        of the insensitive losses.
{_SHARED_PARAMETERS.replace("{solver}", _AUTO_SOLVER)}{_CLASSIFIER_PARAMETERS}
{_CLASSIFIER_ATTRIBUTES}

    See Also
    --------
    sklearn.linear_model.SGDClassifier : scikit-learn's per-sample SGD.
    LogisticClassifier : this class with the log-loss, and Adam's epsilon.
    LinearRegressor : the regressor built on the same engine.

    Notes
    -----
    ``predict_proba`` exists for "log_loss" (sigmoid or softmax) and
    "modified_huber" (scikit-learn's formula). Adam's own epsilon is fixed
    at 1e-8 here since ``epsilon`` is the loss parameter.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbigmodel import LinearClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> svm = make_pipeline(StandardScaler(), LinearClassifier(random_state=0))
    >>> svm.fit(X_train, y_train).score(X_test, y_test) > 0.95
    True
    >>> hasattr(svm, "predict_proba")  # the hinge has no probabilities
    False
    """

    _parameter_constraints = {
        **BaseStochasticEstimator._parameter_constraints,
        "loss": [StrOptions(set(CLASSIFIER_LOSS_NAMES))],
        "solver": [StrOptions({*OPTIMIZERS, *FULL_BATCH_SOLVERS, "auto"})],
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [StrOptions(set(LINEAR_SCHEDULES))],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "fit_intercept": ["boolean"],
        "average": [
            Interval(Integral, 0, None, closed="neither"),
            "boolean",
            StrOptions({"auto"}),
        ],
    }
    _optimizer_epsilon = 1e-8

    @property
    def _loss_name(self):
        return self.loss

    def __init__(
        self,
        loss="hinge",
        *,
        epsilon=0.1,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        solver="auto",
        learning_rate_init=0.01,
        learning_rate="constant",
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        rho=0.9,
        batch_size="auto",
        max_iter=1000,
        max_fun=15000,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
        n_jobs=None,
        fit_intercept=True,
        average="auto",
        class_weight=None,
    ):
        self.loss = loss
        self.epsilon = epsilon
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.power_t = power_t
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.rho = rho
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.max_fun = max_fun
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.fit_intercept = fit_intercept
        self.average = average
        self.class_weight = class_weight

    @available_if(stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch over the given samples, continuing from the current model.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,)
            Its labels.
        classes : array-like of shape (n_classes,), default=None
            All the classes: required on the first call; on later calls,
            None or the same classes (else a ValueError), as in
            scikit-learn's ``SGDClassifier``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.

        Returns
        -------
        self : object
            The updated estimator. If the call raises, the model is left
            exactly as it was.
        """
        return self._partial_fit(X, y, sample_weight, classes=classes)


class LogisticClassifier(LinearClassifier):
    __doc__ = f"""Logistic regression trained with Adam, SGD or RMSprop on Numba kernels.

    ``LinearClassifier(loss="log_loss")``, with Adam's epsilon as
    ``epsilon``. Binary problems use one sigmoid output; three classes or
    more use a true multinomial softmax (not one-vs-rest). A drop-in for
    ``SGDClassifier(loss="log_loss")`` and ``LogisticRegression``.

    Parameters
    ----------
{_SHARED_PARAMETERS.replace("{solver}", _AUTO_SOLVER)}
    epsilon : float, default=1e-8
        Adam's and RMSprop's numerical stability constant.{_CLASSIFIER_PARAMETERS}
{_CLASSIFIER_ATTRIBUTES}

    See Also
    --------
    sklearn.linear_model.SGDClassifier : scikit-learn's per-sample SGD.
    sklearn.linear_model.LogisticRegression : batch solvers.
    LinearClassifier : the other losses (hinge, modified Huber...).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbigmodel import LogisticClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> model = make_pipeline(StandardScaler(), LogisticClassifier(random_state=0))
    >>> model.fit(X_train, y_train).score(X_test, y_test) > 0.95
    True
    >>> model[-1].predict_proba(model[0].transform(X_test[:2])).sum(axis=1)
    array([1., 1.])
    """

    loss = "log_loss"  # fixed: not a parameter here
    _parameter_constraints = {
        **{
            name: constraint
            for name, constraint in LinearClassifier._parameter_constraints.items()
            if name != "loss"
        },
        "epsilon": [Interval(Real, 0, None, closed="neither")],
    }

    @property
    def _optimizer_epsilon(self):
        return self.epsilon

    def __init__(
        self,
        *,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        solver="auto",
        learning_rate_init=0.01,
        learning_rate="constant",
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        rho=0.9,
        batch_size="auto",
        max_iter=1000,
        max_fun=15000,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
        n_jobs=None,
        fit_intercept=True,
        average="auto",
        class_weight=None,
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.power_t = power_t
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.rho = rho
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.max_fun = max_fun
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.fit_intercept = fit_intercept
        self.average = average
        self.class_weight = class_weight
