"""Regression versus classification: encode ``y`` for the kernels, decode outputs.

A target mixin gives an estimator everything that depends on the task: the
loss, the encoded targets, the validation score, the link from raw outputs
to predictions, and the conversion of parameters to the user's units.
"""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ._losses import (
    DISTILLATION_LOSSES,
    LINKS,
    LOG_LOSSES,
    MARGIN_LOSSES,
    REGRESSION_LOSSES,
)

__all__ = ["ClassifierTarget", "RegressorTarget"]


# Losses in the user's units are the standardised ones times scale**2: that
# square must stay a finite float64. (float32 parameters hold less: checked
# when they are converted to the user's units.)
MAX_TARGET_SCALE = 1e150


def _spread(Y, shift, w):
    """Root weighted mean square of ``Y - shift``, computed without overflow.

    Raises a ValueError when the targets are too spread out to train on.
    """
    with np.errstate(over="ignore"):
        residual = Y - shift
        peak = float(np.max(np.abs(residual))) if residual.size else 0.0
    if peak > 0 and np.isfinite(peak):  # divide first: squares of 1e200 overflow
        scale = peak * float(np.sqrt(np.mean(w @ (residual / peak) ** 2)))
    else:
        scale = peak
    return _checked_scale(scale, "spread")


def _checked_scale(scale, what):
    if not scale < MAX_TARGET_SCALE:
        raise ValueError(
            f"The target values are too large to train on (their {what} is "
            f"{scale:.3g}, the limit {MAX_TARGET_SCALE:.0e}): divide y by a "
            "constant, e.g. with TransformedTargetRegressor."
        )
    return scale


class RegressorTarget(RegressorMixin):
    """Single- and multi-output regression.

    The kernels train on targets centred and divided by one scale; since the
    intercept is not penalised and the losses are homogeneous in the
    residual, rescaling the penalty keeps the optimum exactly the same,
    while the optimiser no longer has to travel to targets in the hundreds.

    A loss with a log link (the Poisson deviance) predicts exp(raw output):
    its targets are divided by their weighted mean s and never shifted.
    Since loss(t + log(s); s y) = s loss(t; y), the model of y is the model
    of y / s with log(s) added to the output bias and the same weights, so
    dividing the penalty by s keeps the optimum exactly the same. Without
    an intercept the scale stays 1: no bias could absorb log(s).
    """

    _multi_output = True
    _y_numeric = True
    _needs_classes = False
    _link = "identity"  # fitted models set their loss's link

    def _encode_target(self, y, sample_weight, first_call, classes=None):
        # C order: the sums below go through BLAS, whose rounding depends on
        # the layout; the model must not (a multi-output pandas y is F order)
        Y = np.ascontiguousarray(y, dtype=np.float64)
        Y = Y.reshape(Y.shape[0], -1)
        loss = self._loss()
        if loss.check_target is not None:
            loss.check_target(Y)
        if first_call:
            self._y_1d = np.ndim(y) == 1
            self.n_outputs_ = Y.shape[1]
            self._link = loss.link
            w = sample_weight / sample_weight.sum()
            intercept = getattr(self, "fit_intercept", True)  # an MLP has biases
            if loss.link == "log":
                shift = np.zeros(Y.shape[1])
                scale = _checked_scale(float(np.mean(w @ Y)), "mean")
                scale = scale if intercept else 1.0
            else:
                shift = w @ Y if intercept else np.zeros(Y.shape[1])
                scale = _spread(Y, shift, w)
            self._target_shift = shift
            self._target_scale = scale if scale > 0 else 1.0
        else:
            if Y.shape[1] != self.n_outputs_:
                raise ValueError(
                    f"y has {Y.shape[1]} outputs but the model was fitted with "
                    f"{self.n_outputs_}."
                )
            if loss.link != self._link:
                raise ValueError(
                    f"loss={self.loss!r} has a {loss.link} link but the model was "
                    f"fitted with a loss of {self._link} link: warm_start and "
                    "partial_fit cannot switch between them. Fit a new model, "
                    "or set warm_start=False."
                )
        return (Y - self._target_shift) / self._target_scale

    def _loss(self):
        return REGRESSION_LOSSES[self.loss]

    @property
    def _n_outputs(self):
        return self.n_outputs_

    def _scaled_problem(self, loss, a1, a2):
        """On standardised targets: the loss's parameter, the penalty
        strengths, the loss's unit and the unit of SGD's steps (see
        ``optimizer_bundle``)."""
        s = self._target_scale
        if loss.link == "log":  # objective / s: the weights do not scale
            return 0.0, a1 / s, a2 / s, s, s
        param = loss.parameter(self)
        if loss.param == "epsilon":  # in the units of y
            param = param / s
        if loss.degree == 2:  # objective / s**2
            return param, a1 / s, a2, s**2, 1.0
        return param, a1, a2 * s, s, 1.0 / s  # degree 1: objective / s

    def _network_params(self, coef, intercept):
        """``_user_params`` inverted: parameters for standardised targets."""
        s = self._target_scale
        if self._link == "log":
            return coef, intercept - np.log(s)
        return coef / s, (intercept - self._target_shift) / s

    def _user_params(self, coef, intercept):
        s = self._target_scale
        if self._link == "log":  # exp(raw + log(s)) = s exp(raw)
            return coef.copy(), intercept + np.log(s)
        with np.errstate(over="ignore"):
            coef, intercept = coef * s, intercept * s + self._target_shift
        limit = np.finfo(coef.dtype).max  # float32 parameters hold up to 3.4e38
        if not (np.isfinite(coef).all() and (np.abs(intercept) <= limit).all()):
            raise ValueError(
                f"The target values are too large for {coef.dtype} parameters: "
                "fit on float64 data, or divide y by a constant."
            )
        return coef, intercept

    def _class_weights(self, y, sample_weight, incremental):
        return sample_weight

    def _validation_score(self, raw, y, sample_weight):
        """R^2 of the predictions from raw outputs on standardised targets;
        None when they overflow."""
        if self._link == "log":
            predicted = LINKS["log"].inverse(raw) * self._target_scale
        else:
            predicted = raw * self._target_scale + self._target_shift
        if not np.isfinite(predicted).all():
            return None
        return r2_score(y, predicted, sample_weight=sample_weight)

    def _stratify(self, y):
        return None

    def _init_intercept(self, Y, sample_weight):
        if self._link != "log":
            return np.zeros(Y.shape[1])  # targets are centred
        # log of each output's weighted mean (about 0: Y is divided by the
        # mean of all outputs); 0 for an output whose targets are all 0
        mean = sample_weight @ Y / sample_weight.sum()
        return np.log(np.where(mean > 0, mean, 1.0))

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted targets.
        """
        raw = self._decision(X)
        if self._link != "identity":
            with np.errstate(over="ignore"):
                raw = LINKS[self._link].inverse(raw)
            if not np.isfinite(raw).all():
                raise ValueError(
                    f"The model's predictions overflow {raw.dtype} on this X: "
                    "its values are too large for the fitted parameters. Scale "
                    "the features (e.g. with StandardScaler) as for training."
                )
        return raw.ravel() if self._y_1d else raw


def _has_proba(est):
    """Whether the loss gives probabilities: the log-loss and modified Huber."""
    name = est._loss_name
    entry = MARGIN_LOSSES.get(name)
    if name == "log_loss" or (entry is not None and entry.proba is not None):
        return True
    raise AttributeError(
        f"probability estimates are not available for loss={name!r}: only "
        "'log_loss' and 'modified_huber' give them. Use decision_function."
    )


class ClassifierTarget(ClassifierMixin):
    """Binary (one sigmoid output) and multiclass (softmax) classification."""

    _multi_output = False
    _y_numeric = False
    _needs_classes = True

    _supports_multilabel = False
    # The classification loss: the log-loss, unless the estimator has a
    # choice (LinearClassifier's ``loss``).
    _loss_name = "log_loss"

    def _encode_target(self, y, sample_weight, first_call, classes=None):
        check_classification_targets(y)
        # A 1-D target that passes is binary or multiclass; type_of_target
        # hashes every label again (10 ms on 500,000 labels).
        kind = type_of_target(y) if np.ndim(y) > 1 else "multiclass"
        multilabel = kind == "multilabel-indicator" and self._supports_multilabel
        if kind not in ("binary", "multiclass") and not multilabel:
            raise ValueError(
                f"{type(self).__name__} needs a 1-D target of class labels; got a "
                f"{kind!r} target."
            )
        if first_call:
            self._multilabel = multilabel
        elif multilabel != self._multilabel:
            raise ValueError("y switched between multilabel and single-label targets.")
        if multilabel:
            Y = np.ascontiguousarray(y, dtype=np.float64)  # one kernel layout
            if first_call:
                self.classes_ = np.arange(Y.shape[1])
            elif Y.shape[1] != self.classes_.size:
                raise ValueError(
                    f"y has {Y.shape[1]} labels; the model was fitted with "
                    f"{self.classes_.size}."
                )
            return Y
        if not first_call and classes is not None:
            if not np.array_equal(self.classes_, np.unique(classes)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call to "
                    f"partial_fit, was: {self.classes_.tolist()}. The first call "
                    "(or fit) fixes the classes: pass the same ones, or None."
                )
        if first_call:
            labels = np.unique(y) if classes is None else np.unique(classes)
            if labels.size < 2:
                raise ValueError(
                    "The target must contain at least 2 classes; got only one "
                    f"class: {labels.tolist()}."
                )
            self.classes_ = labels
        index = np.searchsorted(self.classes_, y)
        if not first_call or classes is not None:  # else classes_ came from y
            index = np.minimum(index, self.classes_.size - 1)
            unknown = self.classes_[index] != y
            if unknown.any():
                raise ValueError(
                    f"y contains labels {np.unique(np.asarray(y)[unknown]).tolist()} "
                    f"that are not in classes_ {self.classes_.tolist()}."
                )
        if self._margin:  # labels +-1, one column per class (one for two)
            if self.classes_.size == 2:
                return np.where(index == 1, 1.0, -1.0).reshape(-1, 1)
            return np.where(index[:, None] == np.arange(self.classes_.size), 1.0, -1.0)
        Y = index.astype(np.float64).reshape(-1, 1)
        soft = getattr(self, "_soft_targets", None)
        if soft is not None:  # distillation: [label, h, s, probabilities]
            Y = np.ascontiguousarray(np.hstack([Y, soft.weights, soft.proba]))
        return Y

    def _loss(self):
        name = self._loss_name
        if name != "log_loss":
            return MARGIN_LOSSES[name]
        if self._multilabel:
            return LOG_LOSSES["multilabel"]
        binary = self.classes_.size == 2
        # a student being distilled (``skbigmodel.compress``) trains on soft targets
        losses = LOG_LOSSES if self._soft_targets is None else DISTILLATION_LOSSES
        return losses["binary" if binary else "multinomial"]

    # Set by skbigmodel.compress for the length of a distillation fit only:
    # the teacher's tempered probabilities and each row's weights (h, s).
    _soft_targets = None

    @property
    def _distill_temperature(self):
        return self._soft_targets.temperature

    @property
    def _margin(self):
        """Whether the loss is one of the margin y * t (labels +-1, one
        output per class: one-vs-rest) rather than the log-loss."""
        return self._loss_name != "log_loss"

    @property
    def _n_outputs(self):
        return (
            1
            if self.classes_.size == 2 and not self._multilabel
            else self.classes_.size
        )

    def _scaled_problem(self, loss, a1, a2):
        return loss.parameter(self), a1, a2, 1.0, 1.0

    def _user_params(self, coef, intercept):
        return coef.copy(), intercept.copy()

    def _network_params(self, coef, intercept):
        return coef, intercept

    def _class_weights(self, y, sample_weight, incremental):
        if self.class_weight is None:
            return sample_weight
        if self._multilabel:
            raise ValueError("class_weight is not supported for multilabel targets.")
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported for partial_fit: the "
                "class frequencies of the whole data are unknown. Pass a dict."
            )
        # "balanced" divides by each class's total weight: a class whose
        # samples all weigh zero would get an infinite weight (0 * inf = NaN).
        with np.errstate(divide="ignore"):
            weights = compute_class_weight(
                self.class_weight,
                classes=self.classes_,
                y=y,
                sample_weight=sample_weight,
            )
        weights = np.where(np.isfinite(weights), weights, 0.0)
        return sample_weight * weights[np.searchsorted(self.classes_, y)]

    def _validation_score(self, raw, y, sample_weight):
        return accuracy_score(y, self._labels(raw), sample_weight=sample_weight)

    def _stratify(self, y):
        return None if self._multilabel else y

    def _init_intercept(self, Y, sample_weight):
        """Log-odds (binary, each label) or log-priors (softmax) of the
        classes for the log-loss; zero for the margin losses."""
        if self._margin:
            return np.zeros(Y.shape[1])
        if self._multilabel:  # add-one smoothing, in units of weight
            positive = sample_weight @ Y + 1.0
            return np.log(positive / (sample_weight.sum() + 2.0 - positive))
        counts = np.bincount(
            Y[:, 0].astype(np.intp), weights=sample_weight, minlength=self.classes_.size
        )
        prior = (counts + 1.0) / (counts.sum() + counts.size)  # add-one smoothing
        if self.classes_.size == 2:
            return np.log(prior[1:] / prior[0])
        return np.log(prior) - np.log(prior).mean()

    def _labels(self, raw):
        if self._multilabel:
            return (raw > 0).astype(np.int64)
        if raw.shape[1] == 1:
            return self.classes_[(raw[:, 0] > 0).astype(np.intp)]
        return self.classes_[np.argmax(raw, axis=1)]

    def decision_function(self, X):
        """Confidence scores: the logit (binary) or one score per class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For binary problems, positive values predict ``classes_[1]``.
        """
        raw = self._decision(X)
        return raw.ravel() if raw.shape[1] == 1 and not self._multilabel else raw

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels, taken from ``classes_``.
        """
        return self._labels(self._decision(X))

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities (sigmoid or softmax of the decision function).

        Only for the log-loss and, with scikit-learn's formula,
        ``loss="modified_huber"``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; rows sum to one.
        """
        raw = self._decision(X)  # checks that the model is fitted first
        return self._loss().proba(raw)

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """Logarithm of the class probabilities, computed without underflow.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        raw = self._decision(X)  # checks that the model is fitted first
        return self._loss().log_proba(raw)
