"""skbigmodel inside scikit-learn and on real installs: pipelines, frames, threads."""

import importlib
import os
import pickle
import shlex
import shutil
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skbigmodel
from skbigmodel import LinearRegressor, LogisticClassifier


def test_grid_search_in_a_pipeline(multiclass_data):
    X, y = multiclass_data
    pipe = make_pipeline(StandardScaler(), LogisticClassifier(random_state=0))
    grid = GridSearchCV(
        pipe,
        {
            "logisticclassifier__penalty": ["l2", "l1"],
            "logisticclassifier__alpha": [1e-4, 1e-2],
        },
        cv=3,
    )
    grid.fit(X, y)
    assert grid.best_score_ > 0.6
    assert cross_val_score(clone(pipe), X, y, cv=3).mean() > 0.6


def test_metadata_routing_of_sample_weight(binary_data):
    X, y = binary_data
    weights = np.where(y == 1, 5.0, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            LogisticClassifier(random_state=0).set_fit_request(sample_weight=True),
        )
        routed.fit(X, y, sample_weight=weights)
    direct = LogisticClassifier(random_state=0).fit(
        StandardScaler().fit_transform(X), y, sample_weight=weights
    )
    assert np.array_equal(routed[-1].coef_, direct.coef_)


def test_pickle_round_trip(multiclass_data):
    X, y = multiclass_data
    clf = LogisticClassifier(max_iter=5, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    loaded.partial_fit(X, y)  # the optimiser state travels too
    clf.partial_fit(X, y)
    assert np.array_equal(loaded.coef_, clf.coef_)


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_dataframes_keep_feature_names(library, regression_data):
    frames = importlib.import_module(library)  # both are in the "test" extra
    X, y = regression_data
    columns = [f"f{i}" for i in range(X.shape[1])]
    frame = frames.DataFrame({name: X[:, i] for i, name in enumerate(columns)})
    reg = LinearRegressor(random_state=0).fit(frame, y)
    assert list(reg.feature_names_in_) == columns
    np.testing.assert_allclose(reg.predict(frame), reg.predict(X))


def test_memmap_input(tmp_path, binary_data):
    X, y = binary_data
    path = tmp_path / "X.dat"
    mapped = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    mapped[:] = X
    mapped.flush()
    readonly = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
    a = LogisticClassifier(random_state=0).fit(readonly, y)
    b = LogisticClassifier(random_state=0).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize("layout", ["dense32", "dense64", "csr32"])
@pytest.mark.parametrize("Estimator", [LogisticClassifier, LinearRegressor])
def test_fit_does_not_copy_the_data(layout, Estimator):
    rng = np.random.default_rng(0)
    n, p = 50_000, 100
    dtype = np.float32 if layout.endswith("32") else np.float64
    X = rng.standard_normal((n, p)).astype(dtype)
    y = (X[:, 0] > 0).astype(int) if Estimator is LogisticClassifier else X[:, 0]
    if layout == "csr32":
        X[np.abs(X) < 1.0] = 0.0
        X = sp.csr_matrix(X)
        data_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    else:
        data_bytes = X.nbytes
    Estimator(max_iter=2).fit(X[:1000], y[:1000])  # compile outside the trace
    tracemalloc.start()
    try:
        Estimator(max_iter=2, random_state=0).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.2 * data_bytes, f"peak {peak / data_bytes:.0%} of the data"


# Concurrent predictions and fits on every threading layer, and forks, are
# tested in test_reliability.py.


READ_ONLY_FIT = textwrap.dedent(
    """
    import numpy as np
    from skbigmodel import LogisticClassifier
    from skbigmodel._kernels.linear_dense import dense_epoch
    X = np.random.default_rng(0).standard_normal((200, 5))
    y = X[:, 0] > 0
    score = LogisticClassifier(random_state=0).fit(X, y).score(X, y)
    print(score, type(dense_epoch._cache).__name__)
    """
)


def test_imports_and_fits_from_a_read_only_install(tmp_path):
    """A read-only package folder and no writable cache anywhere: still works.

    The copy of the package is bind-mounted read-only in a private mount
    namespace (``unshare``), so not even root can write there, and HOME and
    XDG_CACHE_HOME point into /proc where no directory can be created.
    """
    site = tmp_path / "site"
    shutil.copytree(
        os.path.dirname(skbigmodel.__file__),
        site / "skbigmodel",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    python = shlex.join([sys.executable, "-c", READ_ONLY_FIT])
    script = (
        f"mount --bind {site} {site} && mount -o remount,bind,ro {site} "
        f"&& exec {python}"
    )
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(site),
        "HOME": "/proc/nonexistent",
        "XDG_CACHE_HOME": "/proc/nonexistent",
    }
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    score, cache = done.stdout.split()
    assert float(score) > 0.8 and cache == "NullCache"
    assert not any("__pycache__" in dirs for _, dirs, _ in os.walk(site))
