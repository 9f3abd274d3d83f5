"""Plain functions shared by the tests; fixtures live in ``conftest.py``."""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

__all__ = [
    "estimator_state",
    "mlp_raw_outputs",
    "run_python",
    "sparse_classification",
    "text_like_classification",
]


def sparse_classification(n_samples=800, n_features=300, density=0.05, seed=0):
    """A CSR matrix with a binary target that depends on it linearly."""
    rng = np.random.default_rng(seed)
    X = sp.random(
        n_samples,
        n_features,
        density=density,
        format="csr",
        random_state=rng,
        data_rvs=rng.standard_normal,
    )
    w = rng.standard_normal(n_features)
    y = (X @ w + 0.1 * rng.standard_normal(n_samples) > 0).astype(int)
    return X, y


def text_like_classification(n_samples, n_features=16384, nnz=30, seed=0):
    """bench_linear's CSR case, smaller: rows of ~``nnz`` columns drawn with
    probability ~ 1/sqrt(j), tf-idf-like values, unit L2 norm; a noisy
    binary target (logistic in a linear score)."""
    rng = np.random.default_rng(seed)
    uniform = rng.random((n_samples, nnz))
    cols = (uniform * uniform * n_features).astype(np.int64).ravel()
    values = rng.lognormal(0.0, 0.5, cols.size) * (1.0 + 0.25 * np.log1p(cols))
    indptr = np.arange(0, cols.size + 1, nnz)
    X = sp.csr_matrix((values, cols, indptr), shape=(n_samples, n_features))
    X.sum_duplicates()
    X = X.multiply(1.0 / np.sqrt(X.multiply(X).sum(axis=1))).tocsr()
    scores = X @ rng.standard_normal(n_features)
    y = (rng.random(n_samples) < expit(3.0 * scores / scores.std())).astype(int)
    return X, y


def estimator_state(est):
    """Everything a fitted estimator holds, comparable bit for bit."""
    return pickle.dumps(est.__dict__)


def run_python(script, timeout=600, **env):
    """Run ``script`` (dedented) in a fresh interpreter; return its stdout.

    The environment is this process's (NUMBA_CACHE_DIR included) updated
    with ``env``.
    """
    env = dict(os.environ, **env)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# Written from the formulas, not taken from the package, so that a test
# comparing with them checks the package's forward pass.
HIDDEN_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "logistic": expit,
    "identity": lambda z: z,
}


def mlp_raw_outputs(X, coefs, intercepts, activation="relu"):
    """The last layer's raw outputs of an MLP given ``coefs_`` and ``intercepts_``."""
    out = np.asarray(X)
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        out = out @ W + b
        if layer < len(coefs) - 1:
            out = HIDDEN_ACTIVATIONS[activation](out)
    return out


def local_cluster(directory, **workers):
    """A ``distributed.LocalCluster`` on 127.0.0.1 and a client of it.

    dashboard_address=None turns the dashboard off, but the scheduler still
    serves /health on a port (8787 by default): a free loopback port
    instead, so clusters of concurrent test runs do not collide.
    """
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        host="127.0.0.1",
        protocol="tcp",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        local_directory=str(directory),
        **workers,
    )
    return cluster, Client(cluster, set_as_default=False)
