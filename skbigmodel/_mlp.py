"""Public multilayer perceptrons: MLPEstimator, MLPClassifier, MLPRegressor."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils.metaestimators import available_if

from ._activations import ACTIVATIONS
from ._base import BaseStochasticEstimator
from ._full_batch import stochastic_solver
from ._losses import REGRESSION_LOSSES
from ._network import MLPNetwork, forward
from ._sklearn_compat import Interval, StrOptions, _fit_context
from ._targets import ClassifierTarget, RegressorTarget

__all__ = ["MLPClassifier", "MLPEstimator", "MLPRegressor"]

TASKS = {"classification": ClassifierTarget, "regression": RegressorTarget}
# scikit-learn's MLPRegressor losses (the registry's others have an epsilon,
# which the MLPs' epsilon, Adam's, is not)
MLP_LOSSES = ("squared_error", "poisson")


def _classification(est):
    return est.task == "classification"


def _by_task(name):
    """A method that runs the classification or regression version of ``name``."""

    def method(self, *args, **kwargs):
        return getattr(TASKS[self.task], name)(self, *args, **kwargs)

    method.__name__ = name
    return method


# The parameters and attributes are shared by the three public classes; each
# class docstring is assembled from these pieces.
_NETWORK_PARAMETERS = """
    hidden_layer_sizes : tuple of int, default=(100,)
        Widths of the hidden layers.
    activation : {"relu", "leaky_relu", "gelu", "silu", "tanh", "logistic", \
"identity"}, default="relu"
        Activation of the hidden layers.
    dropout : float in [0, 1), default=0.0
        Share of hidden units dropped at each training step (inverted
        dropout: nothing is dropped or rescaled at prediction time). The
        masks hash each sample's values, so they do not depend on batching
        or on the number of threads."""

_TASK_PARAMETER = """
    task : {"classification", "regression"}, default="classification"
        Binary, multiclass (softmax) or multilabel (one sigmoid per label)
        classification; or single- or multi-output regression (on
        internally standardised targets)."""

_LOSS_PARAMETER = """
    loss : {"squared_error", "poisson"}, default="squared_error"
        The regression loss: half the squared error, or half the Poisson
        deviance with an exponential output (``predict`` returns
        ``exp`` of the network's output; ``y`` must be non-negative). As
        in scikit-learn's ``MLPRegressor``."""

_TASK_LOSS_PARAMETER = """
    loss : {"squared_error", "poisson"}, default="squared_error"
        The loss with ``task="regression"``: half the squared error, or
        half the Poisson deviance with an exponential output (``y`` must be
        non-negative). Classification uses the log-loss: any other value
        than the default is then a ValueError."""

_TRAINING_PARAMETERS = """
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        Penalty on the weights (biases are not penalised); L1 and
        elastic-net by proximal steps, which give exact zeros.
    alpha : float, default=1e-4
        Strength of the penalty: the objective is the weighted mean loss plus
        ``alpha * (l1_ratio * |w|_1 + (1 - l1_ratio) / 2 * |w|_2^2)``.
    l1_ratio : float, default=0.15
        Share of L1 in the elastic-net penalty.
    solver : {"adam", "sgd", "rmsprop", "lbfgs"}, default="adam"
        The optimiser. "sgd" uses ``momentum`` and ``nesterovs_momentum``.
        "lbfgs" is full batch, as in scikit-learn's MLP: SciPy's L-BFGS-B on
        the exact gradient over all the rows (computed on all cores),
        penalty "l2" or None, no dropout, no ``partial_fit``; the mini-batch
        and learning-rate parameters and ``early_stopping`` do not apply.
    learning_rate_init : float, default=0.001
        Initial step size.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step-size schedule: constant; ``learning_rate_init / t**power_t`` at
        optimiser step ``t``; or divided by 5 whenever ``n_iter_no_change``
        epochs fail to improve by ``tol``.
    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.
    momentum : float, default=0.9
        Momentum of "sgd".
    nesterovs_momentum : bool, default=True
        Nesterov's momentum with "sgd".
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's decay rates.
    epsilon : float, default=1e-8
        Adam's and RMSprop's numerical stability constant.
    rho : float, default=0.9
        RMSprop's decay rate.
    batch_size : int or "auto", default="auto"
        Mini-batch size; "auto" is ``min(256, n_samples)``.
    max_iter : int, default=200
        Maximum number of epochs (of iterations for "lbfgs").
    max_fun : int, default=15000
        Maximum number of loss and gradient evaluations of "lbfgs" (each a
        pass over the data); checked at the end of an iteration.
    tol : float, default=1e-4
        Improvement below which an epoch counts as no improvement. For
        "lbfgs", the largest gradient component at which it stops (SciPy's
        ``gtol``).
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    early_stopping : bool, default=False
        Stop on a validation score (accuracy or R^2), on
        ``validation_fraction`` of the data or on ``X_val``/``y_val``.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    shuffle : bool, default=True
        Shuffle the samples at every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, shuffling, dropout and the validation
        split; a fixed seed gives bit-identical models whatever ``n_jobs``
        is.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    verbose : int, default=0
        Print one line per epoch (loss, validation score, seconds) to stderr.
    n_jobs : int or None, default=None
        Threads for the BLAS products; None or -1 means all available."""

_CLASS_WEIGHT_PARAMETER = """
    class_weight : dict or "balanced", default=None
        Class weights, multiplied into ``sample_weight`` (classification,
        single-label only)."""

_NETWORK_ATTRIBUTES = """
    coefs_ : list of ndarray
        Weights of each layer, shape (n_in, n_out), in the dtype of X.
    intercepts_ : list of ndarray
        Biases of each layer.
    masks_ : list of ndarray of bool
        Only on a model pruned by :func:`skbigmodel.compress.prune`: for each
        weight matrix, False where the weight is pruned (it stays exactly zero
        through ``partial_fit`` and ``warm_start``).
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs."""

_CLASSES_ATTRIBUTE = """
    classes_ : ndarray
        Class labels (classification)."""

_TRAINING_ATTRIBUTES = """
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when X was a DataFrame with string columns.
    n_iter_ : int
        Number of epochs run (iterations for "lbfgs").
    t_ : int
        Number of training samples seen.
    loss_curve_ : list of float
        Objective at the end of each epoch.
    loss_ : float
        The last epoch's objective, ``loss_curve_[-1]``.
    best_loss_ : float or None
        The lowest objective, ``min(loss_curve_)``; None when a validation
        score drives the stopping (early stopping), as in scikit-learn.
    validation_scores_ : list of float or None
        Validation score at each epoch, with early stopping.
    best_validation_score_ : float or None
        Best validation score, with early stopping."""


class MLPEstimator(BaseStochasticEstimator):
    __doc__ = f"""Multilayer perceptron for classification or regression, on Numba kernels.

    One estimator for both tasks: ``task`` decides the loss, the output link,
    ``score`` and the scikit-learn tags (so ``GridSearchCV`` stratifies a
    classifier's folds). Beyond scikit-learn's MLPs it has dropout,
    ``class_weight``, more activations, L1 and elastic-net penalties with
    exact zeros, RMSprop, and a sparse first layer for CSR input.

    Parameters
    ----------{_NETWORK_PARAMETERS}{_TASK_PARAMETER}{_TASK_LOSS_PARAMETER}{_TRAINING_PARAMETERS}{_CLASS_WEIGHT_PARAMETER}

    Attributes
    ----------{_NETWORK_ATTRIBUTES}
    out_activation_ : str
        "logistic" (binary, multilabel), "softmax" (multiclass),
        "identity" (regression) or "exp" (regression, ``loss="poisson"``).{_CLASSES_ATTRIBUTE}{_TRAINING_ATTRIBUTES}

    See Also
    --------
    MLPClassifier, MLPRegressor : this estimator with the task fixed.
    sklearn.neural_network.MLPClassifier : scikit-learn's MLP.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skbigmodel import MLPEstimator
    >>> X, y = load_digits(return_X_y=True)
    >>> model = MLPEstimator(hidden_layer_sizes=(64,), dropout=0.1, random_state=0)
    >>> model.fit(X / 16, y).score(X / 16, y) > 0.95
    True
    >>> [W.shape for W in model.coefs_]
    [(64, 64), (64, 10)]
    >>> model.set_params(task="regression").fit(X / 16, y).score(X / 16, y) > 0.5
    True
    """

    _parameter_constraints = {
        **BaseStochasticEstimator._parameter_constraints,
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "task": [StrOptions(set(TASKS))],
        "loss": [StrOptions(set(MLP_LOSSES))],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _supports_multilabel = True
    _link = "identity"  # fitted regressors set their loss's link
    _early_stopping_partial_fit = "partial_fit does not support early_stopping=True"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        dropout=0.0,
        task="classification",
        loss="squared_error",
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        solver="adam",
        learning_rate_init=0.001,
        learning_rate="constant",
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        rho=0.9,
        batch_size="auto",
        max_iter=200,
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
        class_weight=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.task = task
        self.loss = loss
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
        self.class_weight = class_weight

    # What depends on the task: scikit-learn's tags, and the target mixins.
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if _classification(self):
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags(multi_label=True)
        else:
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        return tags

    _encode_target = _by_task("_encode_target")
    _user_params = _by_task("_user_params")
    _class_weights = _by_task("_class_weights")
    _validation_score = _by_task("_validation_score")
    _stratify = _by_task("_stratify")
    _init_intercept = _by_task("_init_intercept")
    _labels = _by_task("_labels")
    _margin = False  # the log-loss (classification)
    _loss_name = "log_loss"  # of classification; ``loss`` is regression's
    _soft_targets = ClassifierTarget._soft_targets  # distillation (compress.py)
    _distill_temperature = ClassifierTarget._distill_temperature
    predict = _by_task("predict")
    predict.__doc__ = """Predict labels (classification) or targets (regression).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Labels taken from ``classes_`` (an indicator matrix for
            multilabel targets), or predicted targets.
        """

    def _loss(self):
        if _classification(self):
            return ClassifierTarget._loss(self)
        return REGRESSION_LOSSES[self.loss]

    @property
    def _multi_output(self):
        return True  # multilabel indicators or multi-output regression

    @property
    def _y_numeric(self):
        return not _classification(self)

    @property
    def _needs_classes(self):
        return _classification(self)

    @property
    def _n_outputs(self):
        return TASKS[self.task]._n_outputs.fget(self)

    def _scaled_problem(self, loss, a1, a2):
        """Loss parameter, penalty, loss unit and SGD's step unit (see
        ``RegressorTarget``): the penalty acts as given.

        Only the output layer scales with standardised targets, so unlike a
        linear model the penalty is not rescaled: alpha applies to the
        network trained on standardised targets. A log link (Poisson) is
        the exception: its scale only moves the output bias, so the
        rescaled penalty is exact, as for a linear model.
        """
        param, b1, b2, unit, step = TASKS[self.task]._scaled_problem(self, loss, a1, a2)
        if loss.link == "log":
            return param, b1, b2, unit, step
        return param, a1, a2, unit, step

    def score(self, X, y, sample_weight=None):
        """Accuracy (classification) or R^2 (regression) of ``predict(X)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels or targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Accuracy or coefficient of determination.
        """
        mixin = ClassifierMixin if _classification(self) else RegressorMixin
        return mixin.score(self, X, y, sample_weight=sample_weight)

    @available_if(_classification)
    def predict_proba(self, X):
        """Class probabilities (softmax, or one sigmoid per label).

        Only with ``task="classification"``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; the rows sum to one
            except for multilabel targets.
        """
        return ClassifierTarget.predict_proba(self, X)

    @available_if(_classification)
    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Only with ``task="classification"``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        return ClassifierTarget.predict_log_proba(self, X)

    @available_if(_classification)
    def decision_function(self, X):
        """Raw output scores (logits) of the network.

        Only with ``task="classification"``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For binary problems, positive values predict ``classes_[1]``.
        """
        return ClassifierTarget.decision_function(self, X)

    @available_if(stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Run one epoch over the given samples, continuing from the current model.

        The arguments in the order of scikit-learn's ``MLPClassifier``
        (``sample_weight`` before ``classes``). ``early_stopping=True`` is a
        ValueError, as in scikit-learn.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its labels or targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.
        classes : array-like, default=None
            All the classes (classification): required on the first call;
            on later calls, None or the same classes (else a ValueError).

        Returns
        -------
        self : object
            The updated estimator; unchanged if the call raises.
        """
        return self._partial_fit(X, y, sample_weight, classes=classes)

    # The network.
    def _check_params(self):
        sizes = np.atleast_1d(self.hidden_layer_sizes)
        if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes < 1):
            raise ValueError(
                "hidden_layer_sizes must be positive integers; got "
                f"{self.hidden_layer_sizes!r}."
            )
        loss = getattr(self, "loss", "squared_error")  # MLPClassifier has none
        if _classification(self) and loss != "squared_error":
            raise ValueError(
                f"loss={self.loss!r} is a regression loss: it needs "
                "task='regression' (classification uses the log-loss)."
            )
        return [int(size) for size in sizes]

    def _new_network(self, n_features, n_outputs, dtype, params=None, rng=None):
        sizes = [n_features, *self._check_params(), n_outputs]
        net = MLPNetwork(sizes, dtype, self.activation, self.dropout, params)
        if rng is not None:
            net.initialize(rng)
        return net

    def _set_fitted(self, net, averaged=None):
        coefs = [W.copy() for W in net.coefs]
        intercepts = [b.copy() for b in net.intercepts]
        coefs[-1], intercepts[-1] = self._user_params(coefs[-1].T, intercepts[-1])
        coefs[-1] = np.ascontiguousarray(coefs[-1].T, dtype=net.params.dtype)
        intercepts[-1] = intercepts[-1].astype(net.params.dtype)
        self.coefs_, self.intercepts_ = coefs, intercepts
        if net.mask is not None:  # pruned (skbigmodel.compress.prune)
            self.masks_ = [mask.copy() for mask in net.masks]
        else:
            self.__dict__.pop("masks_", None)
        self.n_layers_ = len(coefs) + 1
        self.n_outputs_ = net.n_outputs
        if not _classification(self):
            self.out_activation_ = "exp" if self._link == "log" else "identity"
        elif self._multilabel or self.classes_.size == 2:
            self.out_activation_ = "logistic"
        else:
            self.out_activation_ = "softmax"

    def _raw_outputs(self, X):
        return forward(X, self.coefs_, self.intercepts_, self.activation)

    def _record(self, history, reuse, validated):
        """Also scikit-learn's MLP attributes ``loss_`` and ``best_loss_``."""
        super()._record(history, reuse, validated)
        # None when L-BFGS stops before its first iteration (a zero gradient)
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else None
        self.best_loss_ = (
            None if validated or not self.loss_curve_ else min(self.loss_curve_)
        )


class MLPClassifier(MLPEstimator):
    __doc__ = f""":class:`MLPEstimator` for classification (binary, multiclass, multilabel).

    Binary targets use one sigmoid output, three classes or more a softmax,
    and an indicator matrix one sigmoid per label. A drop-in for
    :class:`~sklearn.neural_network.MLPClassifier`, with dropout,
    ``class_weight``, more activations, L1 and elastic-net penalties, and
    RMSprop.

    Parameters
    ----------{_NETWORK_PARAMETERS}{_TRAINING_PARAMETERS}{_CLASS_WEIGHT_PARAMETER}

    Attributes
    ----------{_CLASSES_ATTRIBUTE}{_NETWORK_ATTRIBUTES}
    out_activation_ : str
        "logistic" (binary, multilabel) or "softmax" (multiclass).{_TRAINING_ATTRIBUTES}

    See Also
    --------
    MLPEstimator : the same network, with the task as a parameter.
    sklearn.neural_network.MLPClassifier : scikit-learn's MLP classifier.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import cross_val_score
    >>> from skbigmodel import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=500, random_state=0)
    >>> clf.fit(X, y).predict_proba(X[:1]).shape
    (1, 3)
    >>> clf.out_activation_
    'softmax'
    >>> bool(cross_val_score(clf, X, y, cv=3).mean() > 0.9)
    True
    """

    task = "classification"
    loss = "squared_error"  # not a parameter: classifiers use the log-loss
    _parameter_constraints = {
        k: v
        for k, v in MLPEstimator._parameter_constraints.items()
        if k not in ("task", "loss")
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        dropout=0.0,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        solver="adam",
        learning_rate_init=0.001,
        learning_rate="constant",
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        rho=0.9,
        batch_size="auto",
        max_iter=200,
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
        class_weight=None,
    ):
        params = dict(locals())
        del params["self"]
        for name, value in params.items():
            setattr(self, name, value)


class MLPRegressor(MLPEstimator):
    __doc__ = f""":class:`MLPEstimator` for single- and multi-output regression.

    Half the squared error on internally standardised targets (the
    predictions are in the units of ``y``), or half the Poisson deviance
    with an exponential output. A drop-in for
    :class:`~sklearn.neural_network.MLPRegressor`, with dropout, more
    activations, L1 and elastic-net penalties, and RMSprop. As in
    scikit-learn, ``loss`` is the first positional parameter, then
    ``hidden_layer_sizes`` and ``activation``.

    Parameters
    ----------{_LOSS_PARAMETER}{_NETWORK_PARAMETERS}{_TRAINING_PARAMETERS}

    Attributes
    ----------{_NETWORK_ATTRIBUTES}
    out_activation_ : str
        "identity", or "exp" with ``loss="poisson"``.{_TRAINING_ATTRIBUTES}

    See Also
    --------
    MLPEstimator : the same network, with the task as a parameter.
    sklearn.neural_network.MLPRegressor : scikit-learn's MLP regressor.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbigmodel import MLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = make_pipeline(
    ...     StandardScaler(), MLPRegressor(hidden_layer_sizes=(32,), random_state=0)
    ... )
    >>> reg.fit(X, y).score(X, y) > 0.5
    True
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    task = "regression"
    _parameter_constraints = {
        k: v
        for k, v in MLPEstimator._parameter_constraints.items()
        if k not in ("task", "class_weight")
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        dropout=0.0,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        solver="adam",
        learning_rate_init=0.001,
        learning_rate="constant",
        power_t=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        rho=0.9,
        batch_size="auto",
        max_iter=200,
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
    ):
        params = dict(locals())
        del params["self"]
        for name, value in params.items():
            setattr(self, name, value)

    @available_if(stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch over the given samples, continuing from the current model.

        ``early_stopping=True`` is a ValueError, as in scikit-learn.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets. The first call fixes the number of outputs and the
            internal target scaling.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.

        Returns
        -------
        self : object
            The updated estimator; unchanged if the call raises.
        """
        return self._partial_fit(X, y, sample_weight)
