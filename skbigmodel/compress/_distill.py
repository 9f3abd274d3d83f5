"""Knowledge distillation of classifiers: a student trained on a teacher's soft targets.

The soft targets of the training rows are the teacher's probabilities of
them, in-sample or out-of-fold (``cv``); ``_distill_base.py`` hands them to
the student's kernels as ``SoftTargets``.
"""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, is_classifier
from sklearn.model_selection import cross_val_predict
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from .._base import BaseStochasticEstimator
from .._sklearn_compat import HasMethods, Interval, _fit_context
from ._distill_base import (
    SoftTargets,
    _checked_proba,
    _DistilledBase,
    _stack,
    tempered,
)

__all__ = ["DistilledClassifier"]


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
