"""Reliability: failed fits change nothing; threads, worker pools and forks
work; the JIT cache is shared between processes; big memmaps are not copied.

What runs on a threading layer runs in a fresh interpreter, since Numba
fixes the layer once per process (NUMBA_THREADING_LAYER).
"""

import json
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest
from joblib import cpu_count
from sklearn.model_selection import GridSearchCV
from threadpoolctl import threadpool_info

from skbigmodel import (
    LinearClassifier,
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPRegressor,
)
from skbigmodel._threads import resolve_n_jobs

from ._helpers import estimator_state, run_python

# Numba's three threading layers, requested through NUMBA_THREADING_LAYER:
# since skbigmodel never starts a layer, none needs to be installed (tbb).
THREADING_LAYERS = ["omp", "workqueue", "tbb"]


# Atomicity: a fit or partial_fit that raises leaves the model as it was.


def _fitted(Estimator, X, y):
    params = {"hidden_layer_sizes": (8,)} if "MLP" in Estimator.__name__ else {}
    return Estimator(max_iter=3, random_state=0, **params).fit(X, y)


def _data(Estimator, binary_data, regression_data):
    return (
        binary_data
        if Estimator in (LogisticClassifier, MLPClassifier)
        else (regression_data)
    )


class _Interrupting:
    """An array-like whose conversion is interrupted, as by Ctrl-C."""

    def __array__(self, dtype=None, copy=None):
        raise KeyboardInterrupt


ESTIMATORS = [LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_failed_fit_or_partial_fit_changes_nothing(
    Estimator, binary_data, regression_data
):
    X, y = _data(Estimator, binary_data, regression_data)
    est = _fitted(Estimator, X, y)
    before = estimator_state(est)
    bad = X.copy()
    bad[5, 1] = np.nan
    new = X[:, :3]  # a new data set, refused only after its targets were encoded
    if Estimator in (LogisticClassifier, MLPClassifier):
        bad_y = (ValueError, "not in classes_", lambda: est.partial_fit(X, y + 5))
    else:
        bad_y = (ValueError, "outputs", lambda: est.partial_fit(X, np.c_[y, y]))
    failures = {
        "NaN in a batch": (ValueError, "NaN", lambda: est.partial_fit(bad, y)),
        "NaN in a new fit": (ValueError, "NaN", lambda: est.fit(bad, y)),
        "bad targets": bad_y,
        "features": (ValueError, "features", lambda: est.partial_fit(new, y)),
        "X_val alone": (
            ValueError,
            "X_val and y_val",
            lambda: est.fit(new, y, X_val=new),
        ),
        # Ctrl-C as the validation set is read, after the targets were
        # encoded, and as a batch's weights are read
        "Ctrl-C in fit": (
            KeyboardInterrupt,
            None,
            lambda: est.fit(new, y, X_val=new, y_val=_Interrupting()),
        ),
        "Ctrl-C in partial_fit": (
            KeyboardInterrupt,
            None,
            lambda: est.partial_fit(X, y, sample_weight=_Interrupting()),
        ),
    }
    for failure, (error, match, call) in failures.items():
        with pytest.raises(error, match=match):
            call()
        assert estimator_state(est) == before, failure


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_divergence_changes_nothing(Estimator, binary_data, regression_data):
    X, y = _data(Estimator, binary_data, regression_data)
    est = _fitted(Estimator, X, y).set_params(solver="sgd", learning_rate_init=1e3)
    X_far = X * 1e200  # squares and logits overflow at once
    for warm_start in (False, True):
        est.set_params(warm_start=warm_start)
        before = estimator_state(est)
        for method in (est.partial_fit, est.fit):
            with pytest.raises(ValueError, match="diverged"):
                method(X_far, y)
            assert estimator_state(est) == before


# Concurrency on each threading layer.

CONCURRENT = """
    import threading
    import warnings

    import numba
    import numpy as np
    import scipy.sparse as sp
    from sklearn.datasets import make_classification

    from skbigmodel import LogisticClassifier, MLPClassifier

    warnings.simplefilter("ignore")
    X, y = make_classification(n_samples=3000, n_features=40, n_informative=10,
                               n_classes=3, random_state=0)
    inputs = {"dense": X, "csr": sp.csr_matrix(np.where(abs(X) > 1, X, 0)), "mlp": X}
    build = {
        "dense": lambda: LogisticClassifier(max_iter=5, random_state=0),
        "csr": lambda: LogisticClassifier(max_iter=5, random_state=0),
        "mlp": lambda: MLPClassifier((16,), max_iter=5, random_state=0),
    }
    models = {k: build[k]().fit(inputs[k], y) for k in build}
    serial = {k: models[k].predict_proba(inputs[k]) for k in models}

    def parameters(model):
        return np.concatenate([p.ravel() for p in model.coefs_ + model.intercepts_]
                              if hasattr(model, "coefs_") else [model.coef_.ravel()])

    # 8 threads predict with the same models at once.
    barrier, results = threading.Barrier(8), []
    def predict():
        barrier.wait()
        for _ in range(5):
            for k in models:
                results.append((k, models[k].predict_proba(inputs[k])))
    threads = [threading.Thread(target=predict) for _ in range(8)]
    # Meanwhile two threads fit two models each at once.
    fits = {k: [build[k](), build[k]()] for k in build}
    def fit(i):
        for k in fits:
            fits[k][i].fit(inputs[k], y)
    threads += [threading.Thread(target=fit, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 * 5 * 3
    assert all(np.array_equal(p, serial[k]) for k, p in results), "predictions differ"
    for k in fits:
        assert all(np.array_equal(parameters(m), parameters(models[k]))
                   for m in fits[k]), f"concurrent {k} fits differ from a serial one"
    try:
        print(numba.threading_layer())
    except ValueError:  # "not initialized": no parallel region ever ran
        print("not started")
"""


@pytest.mark.parametrize("layer", THREADING_LAYERS)
def test_threads_predict_and_fit_at_once_whatever_the_threading_layer(layer):
    """Predictions from 8 threads match serial ones bit for bit, while two
    threads fit (dense and CSR linear, MLP, each on two threads of its own)
    and match a serial fit; Numba's threading layer is never started, so
    the layer the environment asks for does not matter."""
    assert run_python(CONCURRENT, NUMBA_THREADING_LAYER=layer).strip() == "not started"


# Worker pools: scikit-learn's loky workers each get a share of the cores.


class _RecordThreads:
    """Records, inside fit, the most threads any library could start."""

    def fit(self, X, y, **kwargs):
        pools = [pool["num_threads"] for pool in threadpool_info()]
        self.threads_ = max(
            numba.config.NUMBA_NUM_THREADS,
            numba.get_num_threads(),
            resolve_n_jobs(self.n_jobs),
            *pools,
        )
        self.pid_ = os.getpid()
        return super().fit(X, y, **kwargs)


class RecordingLogistic(_RecordThreads, LogisticClassifier):
    pass


class RecordingMLP(_RecordThreads, MLPClassifier):
    pass


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator", [RecordingLogistic, RecordingMLP])
def test_grid_search_workers_do_not_oversubscribe(Estimator, binary_data):
    X, y = binary_data
    grid = GridSearchCV(
        Estimator(max_iter=2, random_state=0),
        {"alpha": [1e-4, 1e-3]},
        scoring={
            "threads": lambda est, X, y: est.threads_,
            "pid": lambda est, X, y: est.pid_,
        },
        refit=False,
        cv=2,
        n_jobs=2,
    )
    grid.fit(X, y)
    results = grid.cv_results_
    pids = {results[f"split{i}_test_pid"][j] for i in range(2) for j in range(2)}
    assert os.getpid() not in pids  # the fits ran in loky's worker processes
    threads = [results[f"split{i}_test_threads"][j] for i in range(2) for j in range(2)]
    share = max(1, cpu_count() // 2)  # the parent may use all the cores
    assert max(threads) <= share
    assert numba.config.NUMBA_NUM_THREADS == cpu_count()


# Fork: a model fitted in the parent is used in a forked child.

FORK = """
    import json
    import multiprocessing
    import warnings

    import numba
    import numpy as np
    import scipy.sparse as sp
    from sklearn.datasets import make_classification

    from skbigmodel import LogisticClassifier, MLPClassifier

    warnings.simplefilter("ignore")
    X, y = make_classification(n_samples=2000, n_features=40, random_state=0)
    X_csr = sp.csr_matrix(np.where(abs(X) > 1, X, 0))
    dense = LogisticClassifier(max_iter=3, random_state=0).fit(X, y)  # helper threads
    csr = LogisticClassifier(max_iter=3, random_state=0).fit(X_csr, y)
    mlp = MLPClassifier((8,), max_iter=3, random_state=0).fit(X, y)

    def child(pipe):
        report = {
            "predict": bool(np.array_equal(dense.predict_proba(X),
                                           parent["dense"]) and
                            np.array_equal(csr.predict_proba(X_csr), parent["csr"])
                            and np.array_equal(mlp.predict_proba(X), parent["mlp"])),
            "fit csr": bool(np.array_equal(
                LogisticClassifier(max_iter=3, random_state=0).fit(X_csr, y).coef_,
                csr.coef_)),
            "fit mlp": bool(np.array_equal(
                MLPClassifier((8,), max_iter=3, random_state=0).fit(X, y).coefs_[0],
                mlp.coefs_[0])),
        }
        refit = LogisticClassifier(max_iter=3, random_state=0).fit(X, y)
        report["fit dense"] = bool(np.array_equal(refit.coef_, dense.coef_))
        pipe.send(report)

    parent = {"dense": dense.predict_proba(X), "csr": csr.predict_proba(X_csr),
              "mlp": mlp.predict_proba(X)}
    context = multiprocessing.get_context("fork")
    here, there = context.Pipe()
    process = context.Process(target=child, args=(there,))
    process.start()
    report = here.recv() if here.poll(300) else None
    process.join(60)
    print(json.dumps({"exitcode": process.exitcode, "report": report}))
"""


def test_a_forked_child_uses_the_parents_model():
    """Predictions and fits work in a child forked after the parent's fits
    had started the kernels' helper threads (which the child has not)."""
    out = json.loads(run_python(FORK))
    assert out["exitcode"] == 0
    report = out["report"]
    assert report["predict"] and report["fit csr"] and report["fit mlp"]
    assert report["fit dense"] is True


# Installs: the JIT cache is written once, then reused by other processes.

CACHED_FIT = """
    import json
    import warnings

    import numpy as np
    import scipy.sparse as sp

    from skbigmodel import LinearRegressor
    from skbigmodel._kernels.linear_csr import csr_epoch

    warnings.simplefilter("ignore")
    X = sp.csr_matrix(np.random.default_rng(0).standard_normal((300, 20)))
    LinearRegressor(max_iter=2).fit(X, X[:, 0].toarray().ravel())
    stats = csr_epoch.stats
    print(json.dumps([sum(stats.cache_hits.values()), sum(stats.cache_misses.values())]))
"""


def _cache_files(folder):
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_a_second_process_loads_the_kernels_from_the_cache(tmp_path):
    cache = tmp_path / "numba-cache"
    hits, misses = json.loads(run_python(CACHED_FIT, NUMBA_CACHE_DIR=str(cache)))
    assert (hits, misses) == (0, 1)  # compiled, and written to the empty cache
    written = _cache_files(cache)
    assert any(path.suffix == ".nbi" for path in written)
    hits, misses = json.loads(run_python(CACHED_FIT, NUMBA_CACHE_DIR=str(cache)))
    assert (hits, misses) == (1, 0)  # loaded: no compilation
    assert _cache_files(cache) == written


def test_the_compile_command_covers_the_default_of_every_estimator():
    """``python -m skbigmodel.compile`` (without ``--all``) fits each
    estimator's defaults, on every dtype and layout: the kernels a first fit
    with the defaults needs."""
    from skbigmodel.compile import _paths

    def kernel_params(est):  # the layer sizes do not change the kernels
        return {k: v for k, v in est.get_params().items() if k != "hidden_layer_sizes"}

    paths = list(_paths())
    layouts = {options for *_, options in paths}
    assert len(layouts) == 6  # float64 and float32; dense, int32 and int64 CSR
    defaults = [
        LinearClassifier(),
        LinearClassifier("log_loss"),  # LogisticClassifier's kernels
        LinearRegressor(),
        MLPClassifier(),
        MLPRegressor(),
    ]
    for default in defaults:
        for layout in layouts:
            assert any(
                type(est) is type(default)
                and options == layout
                and kernel_params(est) == kernel_params(default)
                for _, est, options in paths
            ), (default, layout)


# The garbage collector, paused while the kernels load, comes back as it was.

GC_AFTER_FIRST_FIT = """
    import gc
    import json
    import os
    import warnings

    import numpy as np

    warnings.simplefilter("ignore")
    if os.environ["GC_STATE"] == "disabled":
        gc.disable()
    before = gc.isenabled()
    import skbigmodel

    after_import = gc.isenabled()
    X = np.random.default_rng(0).standard_normal((200, 4))
    y = np.r_[np.zeros(100), np.ones(100)]
    diverges = os.environ["FIRST_FIT"] == "diverges"
    if diverges:
        X[3, 2] = 1e300  # finite, but the first epoch's squared error overflows
    try:
        skbigmodel.LinearRegressor(solver="sgd", max_iter=2).fit(X, y)
        raised = False
    except ValueError:  # TrainingDiverged
        raised = True
    assert raised == diverges
    print(json.dumps([before, after_import, gc.isenabled()]))
"""


@pytest.mark.parametrize("collector", ["enabled", "disabled"])
@pytest.mark.parametrize("fit", ["converges", "diverges"])
def test_the_first_fit_leaves_the_garbage_collector_as_it_found_it(collector, fit):
    out = run_python(GC_AFTER_FIRST_FIT, GC_STATE=collector, FIRST_FIT=fit)
    states = json.loads(out)
    assert states == [collector == "enabled"] * 3


def test_gc_pause_nests_across_threads():
    import gc
    import threading

    from skbigmodel._gcpause import GC_PAUSE

    assert gc.isenabled()
    inside, leave = threading.Event(), threading.Event()

    def hold():
        with GC_PAUSE:
            inside.set()
            leave.wait()

    other = threading.Thread(target=hold)
    other.start()
    inside.wait()
    assert not gc.isenabled()
    with GC_PAUSE:
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread still holds its pause
    leave.set()
    other.join()
    assert gc.isenabled()


# Memory: fitting a few hundred MB memmap copies none of it.

MEMMAP_FIT = """
    import sys
    import threading
    import time
    import tracemalloc
    import warnings

    import numpy as np
    import scipy.sparse as sp

    import skbigmodel

    warnings.simplefilter("ignore")
    name, layout, folder, n_rows, n_features = sys.argv[1:]
    n_rows, n_features = int(n_rows), int(n_features)

    def load(prefix, n):
        if layout == "dense":
            X = np.memmap(f"{folder}/{prefix}X", dtype=np.float32, mode="r",
                          shape=(n, n_features))
            return X, X.nbytes
        data = np.memmap(f"{folder}/{prefix}data", dtype=np.float32, mode="r")
        indices = np.memmap(f"{folder}/{prefix}indices", dtype=np.int32, mode="r")
        indptr = np.memmap(f"{folder}/{prefix}indptr", dtype=np.int64, mode="r")
        X = sp.csr_matrix((data, indices, indptr), shape=(n, n_features))
        return X, data.nbytes + indices.nbytes

    def anonymous_memory():  # resident memory not backed by a file
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024

    params = {"hidden_layer_sizes": (4,)} if name.startswith("MLP") else {}
    est = getattr(skbigmodel, name)(max_iter=1, random_state=0, **params)
    y = np.fromfile(f"{folder}/y", dtype=np.int8)
    est.fit(load("small_", 2000)[0], y[:2000])  # compile, start thread pools
    X, data_bytes = load("", n_rows)
    # Peak of anonymous memory, sampled, and of NumPy's allocations, traced.
    samples, done = [anonymous_memory()], threading.Event()
    def sample():
        while not done.is_set():
            samples.append(anonymous_memory())
            time.sleep(0.002)
    sampler = threading.Thread(target=sample)
    sampler.start()
    tracemalloc.start()
    est.fit(X, y[:n_rows])
    traced = tracemalloc.get_traced_memory()[1]
    done.set()
    sampler.join()
    print((max(samples) - samples[0]) / data_bytes, traced / data_bytes)
"""

N_ROWS, N_FEATURES, ROW_NNZ = 750_000, 100, 40  # 300 MB dense, 240 MB CSR


def _write_memmaps(folder, n_rows):
    """Dense float32 X, and a CSR X, as files; chunk by chunk, never whole."""
    rng = np.random.default_rng(0)
    for prefix, n in (("small_", 2000), ("", n_rows)):
        X = np.memmap(
            folder / f"{prefix}X", dtype=np.float32, mode="w+", shape=(n, N_FEATURES)
        )
        data = np.memmap(
            folder / f"{prefix}data", dtype=np.float32, mode="w+", shape=(n * ROW_NNZ,)
        )
        indices = np.memmap(
            folder / f"{prefix}indices", dtype=np.int32, mode="w+", shape=(n * ROW_NNZ,)
        )
        for start in range(0, n, 50_000):
            stop = min(start + 50_000, n)
            X[start:stop] = rng.standard_normal(
                (stop - start, N_FEATURES), dtype=np.float32
            )
            cells = slice(start * ROW_NNZ, stop * ROW_NNZ)
            data[cells] = rng.standard_normal(
                (stop - start) * ROW_NNZ, dtype=np.float32
            )
            columns = rng.choice(N_FEATURES, ROW_NNZ, replace=False)
            indices[cells] = np.tile(np.sort(columns), stop - start)
        np.arange(0, n * ROW_NNZ + 1, ROW_NNZ).tofile(folder / f"{prefix}indptr")
        for array in (X, data, indices):
            array.flush()
    rng.integers(0, 2, n_rows, dtype=np.int8).tofile(folder / "y")


@pytest.fixture(scope="module")
def memmap_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("memmaps")
    _write_memmaps(folder, N_ROWS)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize(
    "name", ["LinearRegressor", "LogisticClassifier", "MLPClassifier"]
)
def test_fitting_a_big_memmap_does_not_copy_it(name, layout, memmap_folder):
    """One epoch over 300 MB (dense) or 240 MB (CSR) of float32 memmaps grows
    the process's memory by under 20% of the data: what grows is per-row
    bookkeeping (targets, weights, the visiting order), not copies of X."""
    script = [
        sys.executable,
        "-c",
        textwrap.dedent(MEMMAP_FIT),
        name,
        layout,
        str(memmap_folder),
        str(N_ROWS),
        str(N_FEATURES),
    ]
    done = subprocess.run(script, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    anonymous, traced = map(float, done.stdout.split())
    assert anonymous < 0.2 and traced < 0.2, (anonymous, traced)
