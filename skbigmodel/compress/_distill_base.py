"""What the two distillers share: soft targets, the teacher, atomic fits.

The student's loss is computed in the kernels (``_kernels/losses.py``,
``DISTILLATION_LOSSES`` in ``_losses.py``): each target row carries the
label, the weights of the hard and the soft term, and the teacher's
tempered probabilities. These helpers only build those rows and hand them
to the student for the length of one fit.
"""

from collections import namedtuple

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from .._sklearn_compat import _check_sample_weight, validate_data

__all__ = ["SoftTargets", "tempered"]

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
