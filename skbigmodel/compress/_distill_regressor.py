"""Knowledge distillation of regressors: the teacher's predictions as targets."""

from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin, is_regressor
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if

from .._sklearn_compat import HasMethods, Interval, _fit_context, validate_data
from ._distill_base import _DistilledBase, _stack

__all__ = ["DistilledRegressor"]


def _student_has_partial_fit(est):
    return hasattr(est.student, "partial_fit")


class DistilledRegressor(RegressorMixin, _DistilledBase):
    """Knowledge distillation of a regressor: the teacher's predictions as targets.

    The student is fitted on the targets ``soft_weight * teacher(X) + (1 -
    soft_weight) * y``; for the squared error this is exactly the loss
    ``soft_weight * L(f(x), teacher(x)) + (1 - soft_weight) * L(f(x), y)``
    up to a constant. Unlabelled samples (``X_unlabelled``) get the
    teacher's prediction as their target.

    Parameters
    ----------
    student : regressor
        An unfitted regressor, e.g. a small ``MLPRegressor``; a clone is
        trained (``student_``).
    teacher : regressor
        If fitted, used as it is; otherwise a clone is fitted first on the
        same data (on the first batch, for ``partial_fit``).
    temperature : float > 0, default=2.0
        Unused by regression (no probabilities to soften); kept so that both
        distillers take the same parameters.
    soft_weight : float in [0, 1], default=0.5
        Share of the teacher's prediction in each target; 0 is the plain
        fit of the student.

    Attributes
    ----------
    student_ : estimator
        The trained student.
    teacher_ : estimator
        The fitted teacher.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when X is a DataFrame with string column names.

    See Also
    --------
    DistilledClassifier : The same for classification, with soft targets.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skbigmodel import MLPRegressor
    >>> from skbigmodel.compress import DistilledRegressor
    >>> X, y = make_regression(n_samples=300, n_features=8, random_state=0)
    >>> teacher = MLPRegressor(hidden_layer_sizes=(64,), random_state=0).fit(X, y)
    >>> student = MLPRegressor(hidden_layer_sizes=(16,), random_state=0)
    >>> small = DistilledRegressor(student, teacher).fit(X, y)
    >>> bool(small.score(X, y) > 0.9)
    True
    """

    _parameter_constraints = {
        "student": [HasMethods(["fit", "predict"])],
        "teacher": [HasMethods(["fit", "predict"])],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "soft_weight": [Interval(Real, 0, 1, closed="both")],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = get_tags(self.student).target_tags.multi_output
        return tags

    def _check_student(self):
        if not is_regressor(self.student):
            raise ValueError(f"student must be a regressor; got {self.student!r}.")

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, *, X_unlabelled=None):
        """Fit the teacher if needed, then the student on mixed targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.
        X_unlabelled : {array-like, sparse matrix}, default=None
            More samples without targets, each with the teacher's prediction.

        Returns
        -------
        self : object
            The fitted distiller.
        """
        return self._fit_or_continue(X, y, sample_weight, X_unlabelled, None, False)

    @available_if(_student_has_partial_fit)
    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of the student on a batch (see ``fit``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.

        Returns
        -------
        self : object
            The updated distiller; unchanged if the call raises.
        """
        return self._fit_or_continue(X, y, sample_weight, None, None, True)

    def _validate_Xy(self, X, y, reset):
        return validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
            multi_output=True,
            y_numeric=True,
        )

    def _distil(self, X, y, sample_weight, X_unlabelled, classes, incremental):
        y = np.asarray(y, dtype=np.float64)
        taught = np.asarray(self.teacher_.predict(X), dtype=np.float64)
        taught = taught.reshape(y.shape)
        if not np.isfinite(taught).all():
            raise ValueError("The teacher's predictions are not all finite.")
        targets = self.soft_weight * taught + (1.0 - self.soft_weight) * y
        if self.soft_weight == 0:
            targets = y  # the plain fit, bit for bit
        if X_unlabelled is not None:
            more = np.asarray(self.teacher_.predict(X_unlabelled), dtype=np.float64)
            X = _stack(X, X_unlabelled)
            targets = np.concatenate([targets, more.reshape(-1, *y.shape[1:])])
            if sample_weight is not None:
                sample_weight = np.concatenate([sample_weight, np.ones(len(more))])
        self._train(X, targets, sample_weight, None, None, incremental)
