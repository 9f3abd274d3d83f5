"""Predictions and scores of a fitted ``DataParallel``, partition by partition."""

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._cluster import Partitions, connect, map_reduce
from ._tasks import merge_validation, prediction_sums, validation_score

__all__ = ["PartitionPredictions"]


def _estimator_has(method):
    def check(self):
        est = getattr(self, "estimator_", self.estimator)
        getattr(est, method)  # the estimator's own AttributeError
        return True

    return check


class PartitionPredictions:
    """``predict``, ``predict_proba``, ``decision_function``, ``score`` of
    ``estimator_`` on each partition of Dask input (a Dask array, no
    gather), or on NumPy / pandas input as the estimator's own."""

    def _blockwise(self, method, X):
        """``estimator_.<method>`` on each partition of Dask X (a Dask array,
        no gather); on NumPy or pandas X, the estimator's own result."""
        check_is_fitted(self)
        est = self.estimator_
        if isinstance(X, dd.DataFrame):
            probe = getattr(est, method)(
                pd.DataFrame(np.zeros((1, X.shape[1])), columns=X.columns)
            )
            meta = np.empty((0,) + probe.shape[1:], dtype=probe.dtype)
            return X.map_partitions(_apply, est, method, meta=meta)
        if not isinstance(X, da.Array):
            return getattr(est, method)(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D; got {X.ndim} dimensions.")
        if X.numblocks[1] > 1:
            X = X.rechunk({1: -1})
        probe = getattr(est, method)(np.zeros((1, X.shape[1]), dtype=X.dtype))
        meta = np.empty((0,) + probe.shape[1:], dtype=probe.dtype)
        if probe.ndim == 1:
            return X.map_blocks(_apply, est, method, drop_axis=1, meta=meta)
        chunks = (X.chunks[0],) + tuple((n,) for n in probe.shape[1:])
        return X.map_blocks(_apply, est, method, chunks=chunks, meta=meta)

    def predict(self, X):
        """Predict labels or targets, partition by partition.

        Parameters
        ----------
        X : dask array, dask DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        y : dask array for Dask X, else ndarray
        """
        return self._blockwise("predict", X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities, partition by partition (see ``predict``)."""
        return self._blockwise("predict_proba", X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log-probabilities of the classes, partition by partition."""
        return self._blockwise("predict_log_proba", X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Raw scores of the classes, partition by partition."""
        return self._blockwise("decision_function", X)

    def score(self, X, y, sample_weight=None):
        """Accuracy or R^2 of ``predict(X)``, as the estimator's ``score``.

        On Dask input the sums are computed on the cluster, partition by
        partition, and merged in partition order.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        if not isinstance(X, (da.Array, dd.DataFrame)):
            return self.estimator_.score(X, y, sample_weight=sample_weight)
        client, owned = connect(self.client)
        try:
            if isinstance(X, dd.DataFrame) and isinstance(y, (dd.Series, dd.DataFrame)):
                blocks = _frame_blocks(X, y, sample_weight)  # keeps the column names
            else:
                blocks = Partitions.of(client, X, y, sample_weight).blocks()
            sums = map_reduce(
                client, prediction_sums, merge_validation, blocks, self.estimator_
            )
            return validation_score(sums)
        finally:
            if owned:
                client.close()


def _apply(block, est, method):
    return getattr(est, method)(block)


def _frame_blocks(X, y, sample_weight):
    if X.npartitions != y.npartitions:
        raise ValueError(
            f"X has {X.npartitions} partitions but y has {y.npartitions}: they "
            "must be partitioned alike."
        )
    sw = [None] * X.npartitions
    if sample_weight is not None:
        sw = sample_weight.to_delayed()
        if len(sw) != X.npartitions:
            raise ValueError("sample_weight must be partitioned as X.")
    return list(zip(X.to_delayed(), y.to_delayed(), sw))
