"""Compile every kernel into Numba's disk cache ahead of the first fit.

Run it where the package is installed, e.g. in a Docker image or a CI job
after ``pip install``::

    python -m skbigmodel.compile

It fits a tiny model on every path a fit can take (dense and CSR data,
float64 and float32, 32- and 64-bit sparse indices, every kernel family),
printing one line per path, so that the compiled kernels land in the cache
(``__pycache__`` beside the package, or ``NUMBA_CACHE_DIR``) and later
processes load them instead of compiling. Paths already cached take a
fraction of a second.
"""

import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

__all__ = ["compile_all", "main"]


def _data(dtype, sparse, index_dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 6)).astype(dtype)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    if sparse:
        X[np.abs(X) < 0.7] = 0.0
        X = sp.csr_matrix(X)
        X.indices, X.indptr = X.indices.astype(index_dtype), X.indptr.astype(index_dtype)
    return X, y


def _paths():
    """(label, estimator, data options) for every kernel specialisation."""
    from . import LinearRegressor, LogisticClassifier, MLPClassifier

    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        yield f"linear, dense, {name}", LogisticClassifier(), (dtype, False, None)
        yield f"mlp, dense, {name}", MLPClassifier((4,)), (dtype, False, None)
        for index_dtype in (np.int32, np.int64):
            where = f"CSR with {np.dtype(index_dtype).name} indices, {name}"
            yield f"linear, {where}", LinearRegressor(), (dtype, True, index_dtype)
            sgd = LogisticClassifier(solver="sgd", momentum=0.0)
            yield f"linear plain SGD, {where}", sgd, (dtype, True, index_dtype)
            yield f"mlp, {where}", MLPClassifier((4,)), (dtype, True, index_dtype)


def compile_all(file=None):
    """Fit a tiny model on every path, so that every kernel is in the cache.

    Parameters
    ----------
    file : file-like, default=None
        Where to print one line per path (None: standard output).

    Returns
    -------
    seconds : float
        The time it took.
    """
    file = sys.stdout if file is None else file
    began = time.perf_counter()
    paths = list(_paths())
    for number, (label, estimator, options) in enumerate(paths, 1):
        start = time.perf_counter()
        X, y = _data(*options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # max_iter=1: not converged
            estimator.set_params(max_iter=1, random_state=0).fit(X, y)
            estimator.predict(X)
        seconds = time.perf_counter() - start
        print(f"[{number}/{len(paths)}] {label}: {seconds:.1f} s", file=file, flush=True)
    return time.perf_counter() - began


def main():
    seconds = compile_all()
    print(f"skbigmodel kernels compiled and cached in {seconds:.1f} s")


if __name__ == "__main__":
    main()
