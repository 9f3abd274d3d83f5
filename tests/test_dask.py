"""skbigmodel on Dask: dask-ml's Incremental and GridSearchCV on a LocalCluster.

The clusters are real ``distributed.LocalCluster``s listening on 127.0.0.1
only; starting one costs seconds, so they are module-scoped fixtures.
"""

import dask.array as da
import dask.dataframe as dd
import joblib
import numpy as np
import pandas as pd
import pytest
from dask_ml.wrappers import Incremental
from distributed import get_task_stream
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbigmodel import LinearRegressor, LogisticClassifier, MLPClassifier

from ._helpers import local_cluster

N_BLOCKS, BLOCK_ROWS = 4, 400


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """One worker with two threads in this process."""
    cluster, client = local_cluster(
        tmp_path_factory.mktemp("dask-threads"),
        processes=False,
        n_workers=1,
        threads_per_worker=2,
    )
    with client.as_current():
        yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def process_client(tmp_path_factory):
    """Two worker processes with one thread each."""
    cluster, client = local_cluster(
        tmp_path_factory.mktemp("dask-processes"),
        processes=True,
        n_workers=2,
        threads_per_worker=1,
    )
    with client.as_current():
        yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def classification():
    X, y = make_classification(
        n_samples=N_BLOCKS * BLOCK_ROWS,
        n_features=10,
        n_informative=6,
        n_classes=3,
        random_state=0,
    )
    return X, y


def _blocks(a):
    """A dask array chunked by rows only, as Incremental needs."""
    return da.from_array(a, chunks=(BLOCK_ROWS,) + a.shape[1:])


def _incremental_order(random_state):
    """The block order of dask-ml's Incremental (``dask_ml._partial.fit``):
    ``check_random_state(random_state).shuffle(list(range(n_blocks)))``."""
    order = list(range(N_BLOCKS))
    np.random.RandomState(random_state).shuffle(order)
    return order


def _partial_fit_by_hand(est, X, y, order, n_passes=1, frame=False, **kwargs):
    for _ in range(n_passes):
        for block in order:
            rows = slice(block * BLOCK_ROWS, (block + 1) * BLOCK_ROWS)
            target = pd.DataFrame(y[rows]) if frame else y[rows]
            est.partial_fit(X[rows], target, **kwargs)
    return est


def _ran_on(client, tasks, key_part):
    """Workers of ``client`` that ran tasks whose key contains ``key_part``."""
    workers = {t["worker"] for t in tasks.data if key_part in str(t["key"])}
    assert workers <= set(client.scheduler_info()["workers"])
    return workers


def test_incremental_logistic_classifier(client, classification):
    X, y = classification
    order = _incremental_order(0)
    assert order != sorted(order)  # the blocks really are shuffled
    with get_task_stream(client) as tasks:
        inc = Incremental(
            LogisticClassifier(batch_size=32, random_state=0), random_state=0
        )
        inc.fit(_blocks(X), _blocks(y), classes=np.unique(y))
    assert _ran_on(client, tasks, "fit-")
    # One partial_fit per block, one after the other, in dask-ml's order.
    manual = _partial_fit_by_hand(
        LogisticClassifier(batch_size=32, random_state=0),
        X,
        y,
        order,
        classes=np.unique(y),
    )
    assert inc.estimator_.n_iter_ == N_BLOCKS
    assert np.array_equal(inc.estimator_.coef_, manual.coef_)
    assert np.array_equal(inc.estimator_.intercept_, manual.intercept_)
    assert inc.score(_blocks(X), _blocks(y)) > 0.6  # chance is 1/3
    predicted = inc.predict(_blocks(X)).compute()
    assert np.array_equal(predicted, manual.predict(X))
    proba = inc.predict_proba(_blocks(X)).compute()
    assert np.array_equal(proba, manual.predict_proba(X))


def test_incremental_linear_regressor(client):
    X, y = make_regression(
        n_samples=N_BLOCKS * BLOCK_ROWS, n_features=8, noise=1.0, random_state=0
    )
    inc = Incremental(
        LinearRegressor(batch_size=32, random_state=0), shuffle_blocks=False
    )
    inc.partial_fit(_blocks(X), _blocks(y))
    inc.partial_fit(_blocks(X), _blocks(y))  # a second pass continues the first
    manual = _partial_fit_by_hand(
        LinearRegressor(batch_size=32, random_state=0),
        X,
        y,
        range(N_BLOCKS),
        n_passes=2,
    )
    assert inc.estimator_.n_iter_ == 2 * N_BLOCKS
    assert np.array_equal(inc.estimator_.coef_, manual.coef_)
    # On numpy data: dask-ml's own r2_score fails on dask arrays with this
    # dask (masked __setitem__ with a value of unknown shape).
    assert inc.score(X, y) > 0.9


def test_incremental_multi_output_regressor(client):
    """A 2-D target goes in as a dask DataFrame.

    dask-ml 2025.1 builds the key of a target block as ``(name, i)``, which
    for a 2-D dask array (keys ``(name, i, 0)``) is no key at all: each
    partial_fit would get the tuple itself as y. A DataFrame's partitions
    are keyed ``(name, i)``, so that form works; each partial_fit then gets
    a pandas DataFrame, as the reference fit below does (a DataFrame's array
    is in Fortran order, and the target scale of a regressor currently
    differs in its last bit with the layout of y).
    """
    X, Y = make_regression(
        n_samples=N_BLOCKS * BLOCK_ROWS,
        n_features=8,
        n_targets=3,
        noise=1.0,
        random_state=0,
    )
    targets = dd.from_array(Y, chunksize=BLOCK_ROWS)
    assert targets.npartitions == N_BLOCKS
    inc = Incremental(LinearRegressor(batch_size=32, random_state=0), random_state=1)
    inc.fit(_blocks(X), targets)
    manual = _partial_fit_by_hand(
        LinearRegressor(batch_size=32, random_state=0),
        X,
        Y,
        _incremental_order(1),
        frame=True,
    )
    assert inc.estimator_.coef_.shape == (3, 8)
    assert np.array_equal(inc.estimator_.coef_, manual.coef_)
    assert inc.estimator_.score(X, Y) > 0.9


def test_incremental_mlp_classifier(client, classification):
    X, y = classification
    params = dict(
        hidden_layer_sizes=(16,), batch_size=50, learning_rate_init=0.01, random_state=0
    )
    inc = Incremental(MLPClassifier(**params), random_state=0)
    for _ in range(3):  # one pass over the blocks each, continuing the model
        inc.partial_fit(_blocks(X), _blocks(y), classes=np.unique(y))
    # An int random_state gives every pass the same block order.
    manual = _partial_fit_by_hand(
        MLPClassifier(**params),
        X,
        y,
        _incremental_order(0),
        n_passes=3,
        classes=np.unique(y),
    )
    assert inc.estimator_.n_iter_ == 3 * N_BLOCKS
    # Close rather than equal: the BLAS thread count, chosen by timing,
    # may change how a product is summed.
    ours, theirs = inc.estimator_, manual
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert inc.score(X, y) > 0.7  # chance is 1/3


def _grid_search(estimator, grid, X, y, n_jobs):
    search = GridSearchCV(estimator, grid, cv=3, n_jobs=n_jobs)
    return search.fit(X, y)


def _assert_same_search(found, reference):
    assert found.best_params_ == reference.best_params_
    for key in ("mean_test_score", "split0_test_score", "split2_test_score"):
        np.testing.assert_array_equal(
            found.cv_results_[key], reference.cv_results_[key]
        )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_on_dask_threads(client, classification):
    X, y = classification
    mlp = MLPClassifier((8,), max_iter=20, learning_rate_init=0.01, random_state=0)
    pipe = make_pipeline(StandardScaler(), mlp)
    grid = {
        "mlpclassifier__alpha": [1e-4, 1e-1],
        "mlpclassifier__activation": ["relu", "tanh"],
    }
    reference = _grid_search(pipe, grid, X, y, n_jobs=None)
    with get_task_stream(client) as tasks:
        with joblib.parallel_backend("dask", client=client):
            found = _grid_search(pipe, grid, X, y, n_jobs=-1)
    assert _ran_on(client, tasks, "batch_of_")  # joblib's tasks
    _assert_same_search(found, reference)
    assert found.best_score_ > 0.65  # chance is 1/3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_worker_processes(process_client, classification):
    """Candidates spread over two processes; Incremental ships the model along."""
    X, y = classification
    est = LogisticClassifier(max_iter=10, random_state=0)
    grid = {"alpha": [1e-4, 1e-2, 1.0], "penalty": ["l2", "l1"]}
    reference = _grid_search(est, grid, X, y, n_jobs=None)
    with get_task_stream(process_client) as tasks:
        with joblib.parallel_backend("dask", client=process_client):
            found = _grid_search(est, grid, X, y, n_jobs=-1)
        inc = Incremental(LogisticClassifier(random_state=0), shuffle_blocks=False)
        inc.fit(_blocks(X), _blocks(y), classes=np.unique(y))
    assert _ran_on(process_client, tasks, "batch_of_")  # joblib's tasks
    assert _ran_on(process_client, tasks, "fit-")  # Incremental's
    _assert_same_search(found, reference)
    manual = _partial_fit_by_hand(
        LogisticClassifier(random_state=0), X, y, range(N_BLOCKS), classes=np.unique(y)
    )
    assert np.array_equal(inc.estimator_.coef_, manual.coef_)
