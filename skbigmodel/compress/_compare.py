"""Size, score and latency of a model and of its ONNX versions, side by side."""

import pickle
import statistics
import time

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import accuracy_score, r2_score

__all__ = ["compare"]


def _median_seconds(run, repeats):
    run()  # warm-up: first calls allocate and pick kernels
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _as_bytes(model):
    if isinstance(model, bytes):
        return model
    if hasattr(model, "SerializeToString"):
        return model.SerializeToString()
    with open(model, "rb") as stream:  # a path
        return stream.read()


def compare(
    estimator,
    onnx_models,
    X_test,
    y_test,
    *,
    batch_size=1000,
    repeats=20,
    n_threads=None,
):
    """Size, test score and latency of an estimator and of ONNX models of it.

    Parameters
    ----------
    estimator : fitted estimator
        The reference: its size is that of its pickle, its latency that of
        ``predict`` on one batch.
    onnx_models : dict of str to onnx.ModelProto, bytes or path
        ONNX versions to compare (e.g. from ``to_onnx(..., quantize=...)``),
        run with onnxruntime's CPU provider; the first output is taken as
        the prediction (the label of a classifier).
    X_test, y_test : array-like
        Held-out data; the score is the accuracy for classifiers and R^2 for
        regressors.
    batch_size : int, default=1000
        Rows per timed call (the first ``batch_size`` rows of X_test).
    repeats : int, default=20
        Timed calls; the median is reported, after one untimed call.
    n_threads : int, default=None
        onnxruntime's intra-op threads (None: its default, every core). The
        estimator's ``predict`` runs with the process's BLAS threads.

    Returns
    -------
    rows : list of dict
        One row per model, the estimator first (named "estimator"), with keys
        ``model``, ``size_bytes``, ``score`` and ``latency_ms``.

    See Also
    --------
    skbigmodel.onnx.to_onnx : Export, optionally quantised to int8.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skbigmodel import MLPClassifier
    >>> from skbigmodel.compress import compare
    >>> from skbigmodel.onnx import to_onnx
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype(np.float32)
    >>> clf = MLPClassifier((64,), max_iter=30, random_state=0).fit(X, y)
    >>> rows = compare(clf, {"float32": to_onnx(clf, X),
    ...                      "int8": to_onnx(clf, X, quantize="dynamic")},
    ...                X, y, repeats=3)
    >>> [row["model"] for row in rows]
    ['estimator', 'float32', 'int8']
    >>> bool(rows[2]["size_bytes"] < rows[1]["size_bytes"])
    True
    """
    import onnxruntime

    score = accuracy_score if is_classifier(estimator) else r2_score
    batch = X_test[:batch_size]
    y_test = np.asarray(y_test)
    rows = [
        dict(
            model="estimator",
            size_bytes=len(pickle.dumps(estimator)),
            score=float(estimator.score(X_test, y_test)),
            latency_ms=1e3 * _median_seconds(lambda: estimator.predict(batch), repeats),
        )
    ]
    options = onnxruntime.SessionOptions()
    if n_threads is not None:
        options.intra_op_num_threads = n_threads
    for name, model in onnx_models.items():
        data = _as_bytes(model)
        session = onnxruntime.InferenceSession(
            data, options, providers=["CPUExecutionProvider"]
        )
        feed_name = session.get_inputs()[0].name
        dtype = np.float32 if "float)" in session.get_inputs()[0].type else np.float64
        X = np.asarray(X_test, dtype=dtype)
        predicted = session.run(None, {feed_name: X})[0]
        predicted = predicted.reshape(y_test.shape)
        timed = X[:batch_size]
        rows.append(
            dict(
                model=name,
                size_bytes=len(data),
                score=float(score(y_test, predicted)),
                latency_ms=1e3
                * _median_seconds(
                    lambda: session.run(None, {feed_name: timed}), repeats
                ),
            )
        )
    return rows
