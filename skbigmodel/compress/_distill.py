"""Knowledge distillation of classifiers: a student trained on a teacher's soft targets.

The student's loss is computed in the kernels (``_kernels/losses.py``,
``DISTILLATION_LOSSES`` in ``_losses.py``): each target row carries the
label, the weights of the hard and the soft term, and the teacher's
tempered probabilities. This module only builds those rows and hands them
to the student for the length of one fit.
"""

from collections import namedtuple
from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
    is_classifier,
)
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_predict
from sklearn.utils import get_tags
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from .._base import BaseStochasticEstimator
from .._sklearn_compat import (
    HasMethods,
    Interval,
    _check_sample_weight,
    _fit_context,
    validate_data,
)

__all__ = ["DistilledClassifier"]

SoftTargets = namedtuple("SoftTargets", "weights proba temperature")
SoftTargets.__doc__ = """What a student being distilled trains on besides its labels:
weights (n, 2), each row's (hard, soft) coefficients; proba (n, k), the
teacher's tempered probabilities (k = 1: of the class 1); the temperature."""


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def tempered(proba, temperature):
    """p^(1/T) renormalised, row by row, computed in logs (a zero stays zero)."""
    with np.errstate(divide="ignore"):
        logits = np.log(np.asarray(proba, dtype=np.float64)) / temperature
    return softmax(logits, axis=1)


def _checked_proba(proba, n_classes):
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != n_classes:
        raise ValueError(
            f"The teacher's predict_proba returned shape {proba.shape}; "
            f"expected (n_samples, {n_classes})."
        )
    if not (np.isfinite(proba).all() and (proba >= 0).all()):
        raise ValueError(
            "The teacher's predict_proba returned negative or non-finite "
            "values: they cannot be distilled."
        )
    return proba


def _stack(X, X_more):
    if sp.issparse(X) or sp.issparse(X_more):
        return sp.vstack([sp.csr_matrix(X), sp.csr_matrix(X_more)], format="csr")
    return np.ascontiguousarray(np.vstack([X, X_more]))


class _DistilledBase(MetaEstimatorMixin, BaseEstimator):
    """Parameters, validation and delegation shared by the two distillers."""

    def __init__(self, student, teacher, *, temperature=2.0, soft_weight=0.5):
        self.student = student
        self.teacher = teacher
        self.temperature = temperature
        self.soft_weight = soft_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        student, teacher = get_tags(self.student), get_tags(self.teacher)
        tags.input_tags.sparse = student.input_tags.sparse and teacher.input_tags.sparse
        return tags

    def _validate_X(self, X, reset=False):
        kwargs = dict(accept_sparse="csr", dtype=[np.float64, np.float32])
        return validate_data(self, X, reset=reset, **kwargs)

    def _validate_Xy(self, X, y, reset):
        return validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
        )

    def _teacher_for(self, X, y, sample_weight, first_call):
        """The fitted teacher: the given one if fitted, else a clone fitted on X, y."""
        if not first_call:
            return self.teacher_
        if _is_fitted(self.teacher):
            return self.teacher
        teacher = clone(self.teacher)
        if sample_weight is None:
            return teacher.fit(X, y)
        return teacher.fit(X, y, sample_weight=sample_weight)

    def _unlabelled(self, X_unlabelled, X):
        if X_unlabelled is None:
            return None
        X_unlabelled = self._validate_X(X_unlabelled, reset=False)
        if X_unlabelled.shape[0] == 0:
            raise ValueError("X_unlabelled holds no sample.")
        return X_unlabelled.astype(X.dtype, copy=False)

    def _train(self, X, y, sample_weight, soft, classes, incremental):
        """Fit (or continue) ``student_`` on X, y with ``soft`` set on it."""
        student = self.student_
        if soft is not None:
            student._soft_targets = soft
        try:
            if not incremental:
                return student.fit(X, y, sample_weight=sample_weight)
            if classes is None:
                return student.partial_fit(X, y, sample_weight=sample_weight)
            return student.partial_fit(
                X, y, sample_weight=sample_weight, classes=classes
            )
        finally:
            if soft is not None:
                del student._soft_targets  # the fitted student is a plain one

    def _fit_or_continue(self, X, y, sample_weight, X_unlabelled, classes, incremental):
        """Atomic: on any error every attribute is restored as it was."""
        saved = dict(self.__dict__)
        try:
            first_call = not (incremental and hasattr(self, "student_"))
            X, y = self._validate_Xy(X, y, reset=first_call)
            if sample_weight is not None:
                sample_weight = _check_sample_weight(
                    sample_weight, X, ensure_non_negative=True
                )
            X_unlabelled = self._unlabelled(X_unlabelled, X)
            self._check_student()
            self.teacher_ = self._teacher_for(X, y, sample_weight, first_call)
            if first_call:
                self.student_ = clone(self.student)
            self._distil(X, y, sample_weight, X_unlabelled, classes, incremental)
            return self
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _predicting(self):
        check_is_fitted(self)
        return self.student_

    def predict(self, X):
        """Predict with the student.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The student's predictions.
        """
        student = self._predicting()
        return student.predict(self._validate_X(X, reset=False))


def _classifier_student(est):
    """Whether ``est`` can be distilled into: a skbigmodel classifier on the log-loss."""
    return (
        isinstance(est, BaseStochasticEstimator)
        and is_classifier(est)
        and est._loss_name == "log_loss"
    )


class DistilledClassifier(ClassifierMixin, _DistilledBase):
    """Knowledge distillation of a classifier into a skbigmodel student.

    The student learns from the labels and from the teacher's probabilities
    softened by a temperature T (Hinton, Vinyals & Dean 2015). With z the
    student's logits, q the teacher's probabilities p^(1/T) renormalised,
    and CE the cross-entropy, each labelled sample's loss is::

        soft_weight * T**2 * CE(softmax(z / T), q)
            + (1 - soft_weight) * CE(softmax(z), y)

    (a sigmoid of the one logit for two classes), computed in the training
    kernels with the student's own solver, penalty and schedule. The
    factor T**2 keeps the soft term's gradients, which shrink as 1/T**2,
    on the scale of the hard term's whatever T. Unlabelled samples
    (``X_unlabelled``) get the soft term alone, with weight 1.

    Parameters
    ----------
    student : skbigmodel classifier
        An unfitted ``MLPClassifier``, ``MLPEstimator(task="classification")``,
        ``LogisticClassifier`` or ``LinearClassifier(loss="log_loss")``; a
        clone is trained (``student_``), with its own hyperparameters.
    teacher : classifier with ``predict_proba``
        Any scikit-learn classifier. If fitted, it is used as it is (its
        classes must be those of ``y``); otherwise a clone is fitted first
        on the same data (on the first batch, for ``partial_fit``).
    temperature : float > 0, default=2.0
        T: above 1 softens the teacher's probabilities, showing the student
        how the teacher ranks the wrong classes.
    soft_weight : float in [0, 1], default=0.5
        Weight of the soft term; 0 is the plain fit of the student on the
        labels (bit for bit).
    cv : int, cross-validation generator or iterable, default=None
        Where the soft targets of the training rows come from. None: from
        the fitted teacher itself, which has seen them (and may have
        learnt their labels by heart). Otherwise the splits of
        :func:`~sklearn.model_selection.cross_val_predict` (an int k is
        ``StratifiedKFold(k)``; the splits must partition the rows): each
        row's soft targets are the probabilities of a clone of ``teacher``
        fitted on the other folds, a teacher that has not seen the row.
        These clones are fitted even when ``teacher`` is fitted (its
        hyperparameters are used, not its weights). ``teacher_`` is as
        with None, fitted on all the rows unless it was given fitted; it
        labels ``X_unlabelled``. For ``fit`` only: ``partial_fit`` raises
        if cv is set.

    Attributes
    ----------
    student_ : estimator
        The trained student: a plain fitted skbigmodel classifier, to
        predict, export to ONNX, prune or save on its own.
    teacher_ : estimator
        The fitted teacher (the given one if it was fitted). With ``cv``,
        the fold clones are not kept.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when X is a DataFrame with string column names.

    See Also
    --------
    DistilledRegressor : The same for regression.
    prune : Remove the smallest weights or hidden units of an MLP.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skbigmodel import MLPClassifier
    >>> from skbigmodel.compress import DistilledClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> teacher = MLPClassifier((128,), batch_size=64, max_iter=30, random_state=0)
    >>> teacher = teacher.fit(X, y)
    >>> student = MLPClassifier((16,), batch_size=64, max_iter=30, random_state=0)
    >>> small = DistilledClassifier(student, teacher, temperature=2.0, soft_weight=0.5)
    >>> small = small.fit(X, y)
    >>> small.student_.coefs_[0].shape
    (64, 16)
    >>> bool(small.score(X, y) > 0.9)
    True
    """

    _parameter_constraints = {
        "student": [HasMethods(["fit", "partial_fit", "predict_proba"])],
        "teacher": [HasMethods(["fit", "predict_proba"])],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "soft_weight": [Interval(Real, 0, 1, closed="both")],
        "cv": ["cv_object"],
    }

    def __init__(self, student, teacher, *, temperature=2.0, soft_weight=0.5, cv=None):
        super().__init__(
            student, teacher, temperature=temperature, soft_weight=soft_weight
        )
        self.cv = cv

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags

    def _check_student(self):
        if not _classifier_student(self.student):
            raise ValueError(
                f"student must be a skbigmodel classifier trained on the log-loss "
                f"(MLPClassifier, LogisticClassifier, LinearClassifier('log_loss')); "
                f"got {self.student!r}."
            )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, *, X_unlabelled=None):
        """Fit the teacher if needed, then the student on labels and soft targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples, for the teacher (if fitted here) and the
            student.
        X_unlabelled : {array-like, sparse matrix}, default=None
            More samples without labels (a transfer set), each labelled by
            the soft targets of ``teacher_`` alone (also with ``cv``).

        Returns
        -------
        self : object
            The fitted distiller.
        """
        return self._fit_or_continue(X, y, sample_weight, X_unlabelled, None, False)

    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of the student on a batch, continuing from the current model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,)
            Its labels.
        classes : array-like, default=None
            All the classes: required on the first call unless the teacher
            is fitted (its ``classes_`` are taken then).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : object
            The updated distiller; unchanged if the call raises.
        """
        if self.cv is not None:
            raise ValueError(
                f"cv={self.cv!r} is for fit: partial_fit has no folds to hold "
                "out. Set cv=None to continue training with partial_fit."
            )
        return self._fit_or_continue(X, y, sample_weight, None, classes, True)

    def _training_proba(self, X, y, sample_weight):
        """The teacher's probabilities of the training rows: in-sample, or
        each from a clone fitted on the other folds (``cv``)."""
        if self.cv is None:
            return self.teacher_.predict_proba(X)
        params = None if sample_weight is None else {"sample_weight": sample_weight}
        # cross_val_predict clones the teacher: a fitted one is refitted per fold.
        return cross_val_predict(
            self.teacher, X, y, cv=self.cv, method="predict_proba", params=params
        )

    def _distil(self, X, y, sample_weight, X_unlabelled, classes, incremental):
        check_classification_targets(y)
        if type_of_target(y) not in ("binary", "multiclass"):
            raise ValueError(
                f"DistilledClassifier needs a 1-D target of class labels; got a "
                f"{type_of_target(y)!r} target."
            )
        teacher_classes = np.asarray(getattr(self.teacher_, "classes_", []))
        first_call = not hasattr(self, "classes_")
        if incremental:
            if classes is None:
                classes = teacher_classes if first_call else self.classes_
            expected, what = np.unique(classes), "classes"
        else:
            expected, what = np.unique(y), "the classes of y"
        if not np.array_equal(teacher_classes, expected):
            raise ValueError(
                f"The teacher's classes {teacher_classes.tolist()} differ from "
                f"{what} {expected.tolist()}: the teacher must have been fitted "
                "on the same classes."
            )
        classes = classes if incremental and first_call else None
        n_classes = teacher_classes.size
        proba = _checked_proba(self._training_proba(X, y, sample_weight), n_classes)
        proba = tempered(proba, self.temperature)
        weights = np.tile([1.0 - self.soft_weight, self.soft_weight], (X.shape[0], 1))
        if X_unlabelled is not None:
            more = _checked_proba(self.teacher_.predict_proba(X_unlabelled), n_classes)
            X = _stack(X, X_unlabelled)
            y = np.concatenate([y, teacher_classes[np.argmax(more, axis=1)]])
            proba = np.vstack([proba, tempered(more, self.temperature)])
            weights = np.vstack([weights, np.tile([0.0, 1.0], (len(more), 1))])
            if sample_weight is not None:
                sample_weight = np.concatenate([sample_weight, np.ones(len(more))])
        if n_classes == 2:
            proba = proba[:, 1:]
        soft = SoftTargets(weights, proba, float(self.temperature))
        if self.soft_weight == 0 and X_unlabelled is None:
            soft = None  # the plain fit, bit for bit, whatever the student's kernel
        self._train(X, y, sample_weight, soft, classes, incremental)
        self.classes_ = self.student_.classes_

    def decision_function(self, X):
        """The student's decision function (its logits).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The student's scores.
        """
        student = self._predicting()
        return student.decision_function(self._validate_X(X, reset=False))

    def predict_proba(self, X):
        """The student's class probabilities (at temperature 1).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        student = self._predicting()
        return student.predict_proba(self._validate_X(X, reset=False))

    def predict_log_proba(self, X):
        """The student's log-probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        student = self._predicting()
        return student.predict_log_proba(self._validate_X(X, reset=False))
