"""Benchmark skbigmodel's linear estimators against scikit-learn's, in one run.

Run from the repository root::

    python benchmarks/bench_linear.py                 # full size (minutes)
    python benchmarks/bench_linear.py --quick         # 5% of the rows, 1 repeat
    python benchmarks/bench_linear.py --scale 0.2 --repeats 5 --output bench.md
    python benchmarks/bench_linear.py --cases 4       # the CSR case only

It prints markdown tables (and writes them to ``--output``):

1. Speed and accuracy, per case and estimator:

   - seconds per epoch: fits with ``max_iter=1`` and ``max_iter=N``
     (``--epochs``, default 5) alternate ``--repeats`` times (default 3) and
     the figure is ``(median t(N) - median t(1)) / (N - 1)``, which cancels
     the fixed cost of a fit (validation, target encoding, set-up) and keeps
     only the steady cost of an epoch. Every fit runs exactly its epochs:
     ours with ``tol=0.0`` and a huge ``n_iter_no_change``, scikit-learn's SGD
     with ``tol=None``. If noise makes the difference non-positive, ``t(N) / N``
     is shown instead, marked "~". For ``LogisticRegression(lbfgs)`` the
     figure is seconds per lbfgs iteration (fit time / ``n_iter_``);
   - "ratio vs ours": the row's seconds per epoch divided by ours with all
     threads (> 1: ours is faster). Ours also runs with ``n_jobs=1``, the
     thread count of scikit-learn's SGD, which also shows how much a busy
     machine costs the parallel kernels;
   - the test score (accuracy, or R^2) after N epochs, on a held-out split;
   - time to target (dense classification only): epochs run one at a time
     with ``partial_fit`` on the whole training set (one call = one epoch),
     timing only the ``partial_fit`` calls, until the test accuracy reaches
     ``LogisticRegression(lbfgs)``'s minus 0.005, for at most
     ``--max-target-epochs`` (default 20). lbfgs's own time is its fit time.

   Every timed fit or ``partial_fit`` starts after 0.3 s idle: OpenBLAS
   leaves its threads spinning for 0.1-0.2 s after a threaded product (in
   lbfgs, or in the scoring between epochs), which then share the cores
   with the fit.

   On CSR data a second table gives the floor under any SGD epoch there:
   bare passes over the training rows in a shuffled order that read every
   non-zero; that also gather its weight (the dot products); that also add
   to each weight right after the row's dot product (scikit-learn's
   per-sample SGD without its loss and bookkeeping). Each runs on one
   thread and on two, each thread owning the columns of half the non-zeros.
   scikit-learn's seconds per epoch over the floor's is the most by which
   any kernel that does that work can beat it on the machine.

2. Peak memory beyond the data during a 2-epoch fit, measured in a fresh
   subprocess per estimator (data loaded from ``.npy`` files, compilation done
   on a slice first): the ``tracemalloc`` peak (sees NumPy allocations, not
   Numba's or C ``malloc``) and the growth of the peak resident set size,
   both as % of the training data's bytes.

3. Start-up (only when every case runs): wall time of a fresh ``python -c`` process that imports
   skbigmodel and fits a 1000 x 20 ``LogisticClassifier(max_iter=5)``, cold
   (a fresh copy of the package without ``__pycache__`` and an empty
   ``NUMBA_CACHE_DIR``: every kernel compiles) and warm (the same again, the
   cache just written), against ``import sklearn.linear_model`` alone and
   against the floor of any package with cached Numba kernels: that import
   plus ``import numba`` and one cached trivial function loaded and called
   (Numba's import, its set-up on the first call and its objects' teardown
   at exit are most of what ours adds). Cold: ``--repeats`` processes, each
   on a fresh copy; the three warm rows: at least 7 processes each, run in
   turn (warm, import alone, floor, warm, ...) so that the machine's load
   drifts over all three alike.

Estimators: ours (``LogisticClassifier``, ``LinearRegressor``: Adam, batch
256, alpha=1e-4, default settings otherwise) against ``SGDClassifier(loss=
"log_loss")`` / ``SGDRegressor`` (defaults; one-vs-rest with ``n_jobs=-1``
for 10 classes, so that it too uses every core) and, for classification,
``LogisticRegression(solver="lbfgs")`` (defaults) as the accuracy reference.
On CSR data ours also runs as plain SGD (``solver="sgd", momentum=0``, the
algorithm of scikit-learn's SGD, mini-batches of 256), which trains through
its own kernel (``csr_sgd_epoch``).

Numba kernels are compiled by a fit on a small slice before any timing. The
machine, thread counts (Numba, BLAS, OpenMP) and load averages are recorded
at the top of the output: the project's machines are shared and noisy, and
a busy core slows the parallel kernels far more than serial code. Set
``NUMBA_CACHE_DIR`` to keep compiled kernels out of the source tree.
"""

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from statistics import median

import numba
import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier, SGDRegressor
from sklearn.preprocessing import normalize

import skbigmodel
from skbigmodel import LinearRegressor, LogisticClassifier
from skbigmodel._kernels.memory import CACHE_LINE_FLOATS, PREFETCH_SPARSE_ROWS, prefetch
from skbigmodel._threads import resolve_n_jobs

DENSE_ROWS, DENSE_TEST_ROWS, DENSE_FEATURES, N_CLASSES = 500_000, 100_000, 100, 10
CSR_ROWS, CSR_TEST_ROWS, CSR_FEATURES, CSR_NNZ_PER_ROW = 200_000, 40_000, 2**18, 92
QUICK_SCALE = 0.05
WARMUP_ROWS = 2_000
MEMORY_EPOCHS = 2
TARGET_GAP = 0.005  # "within 0.5 point" of lbfgs's test accuracy
NEVER = 10**9  # n_iter_no_change that never triggers
# Idle seconds before each timed fit: after a threaded product OpenBLAS
# leaves its threads spinning for about 0.1-0.2 s, and a fit started then
# shares the cores with them (measured: the next small MLP fit took twice as
# long after scikit-learn's, whichever library came next).
IDLE_BEFORE_TIMING = 0.3
WARM_STARTS = 7  # fresh processes per warm start-up row, at least
CASES = ("1", "2", "3", "4")  # binary, 10 classes, regression, CSR


# --------------------------------------------------------------------------
# Estimators, all built as make(max_iter, random_state)


def ours_classifier(max_iter, random_state=0, n_jobs=None, **params):
    return LogisticClassifier(
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=NEVER,
        random_state=random_state,
        n_jobs=n_jobs,
        **params,
    )


def ours_regressor(max_iter, random_state=0, n_jobs=None):
    return LinearRegressor(
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=NEVER,
        random_state=random_state,
        n_jobs=n_jobs,
    )


def ours_plain_sgd(max_iter, random_state=0, n_jobs=None):
    return LogisticClassifier(
        solver="sgd",
        momentum=0.0,
        learning_rate_init=1.0,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=NEVER,
        random_state=random_state,
        n_jobs=n_jobs,
    )


def sgd_classifier(max_iter, random_state=0, n_jobs=None):
    return SGDClassifier(
        loss="log_loss",
        max_iter=max_iter,
        tol=None,
        random_state=random_state,
        n_jobs=n_jobs,
    )


def sgd_regressor(max_iter, random_state=0):
    return SGDRegressor(max_iter=max_iter, tol=None, random_state=random_state)


ESTIMATORS = {  # also the names the memory worker accepts
    "ours-classifier": ("LogisticClassifier (ours)", ours_classifier),
    "ours-classifier-1thread": (
        "LogisticClassifier (ours, n_jobs=1)",
        partial(ours_classifier, n_jobs=1),
    ),
    # Scores a held-out 10 % after every epoch (never stops: n_iter_no_change
    # is huge): the epochs must keep their speed (BLAS threads left spinning
    # by the scoring once made every later epoch twice as long).
    "ours-classifier-early-stopping": (
        "LogisticClassifier (ours, early_stopping=True)",
        partial(ours_classifier, early_stopping=True),
    ),
    "ours-classifier-plain-sgd": (
        "LogisticClassifier (ours, sgd, momentum=0, lr=1)",
        ours_plain_sgd,
    ),
    # The default Adam rate (0.01) plateaus ~1 point under lbfgs on 10
    # classes: its noise floor. Time to target is also given at 0.001.
    "ours-classifier-lr0.001": (
        "LogisticClassifier (ours, learning_rate_init=0.001)",
        partial(ours_classifier, learning_rate_init=0.001),
    ),
    "ours-regressor": ("LinearRegressor (ours)", ours_regressor),
    "ours-regressor-1thread": (
        "LinearRegressor (ours, n_jobs=1)",
        partial(ours_regressor, n_jobs=1),
    ),
    "sgd-classifier": ("SGDClassifier(log_loss)", sgd_classifier),
    "sgd-classifier-ovr": (
        "SGDClassifier(log_loss), OvR, n_jobs=-1",
        partial(sgd_classifier, n_jobs=-1),
    ),
    "sgd-regressor": ("SGDRegressor", sgd_regressor),
}


@dataclass
class Case:
    """One benchmark problem: data, the estimators to compare, what to measure."""

    name: str
    X: object
    y: np.ndarray
    X_test: object
    y_test: np.ndarray
    estimators: tuple  # keys of ESTIMATORS: ours (all threads) first
    classes: np.ndarray = None  # classification: run lbfgs and time to target
    memory: bool = False


# --------------------------------------------------------------------------
# Synthetic data


def dense_features(n_rows, rng, dtype=np.float64):
    return rng.standard_normal((n_rows, DENSE_FEATURES), dtype=dtype)


def binary_labels(scores, rng):
    """Labels of a logistic model: the sign of the score plus logistic noise."""
    return (scores + rng.logistic(size=scores.shape[0]) > 0).astype(np.int64)


def multiclass_labels(X, rng):
    """Labels of a multinomial model: argmax of a linear map plus Gumbel noise."""
    coef = rng.standard_normal((X.shape[1], N_CLASSES)) * 2.0 / np.sqrt(X.shape[1])
    scores = X @ coef
    return np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)


def bag_of_words(n_rows, rng):
    """CSR rows with ~92 random columns of 2**18, tf-idf-like values, L2 rows.

    Column j is drawn with probability ~ 1/sqrt(j) (a word-frequency-like
    head and long tail, so that a model can be learnt from frequent columns);
    values are lognormal "term frequencies" times an idf-like growth in j.
    """
    uniform = rng.random((n_rows, CSR_NNZ_PER_ROW))
    cols = (uniform * uniform * CSR_FEATURES).astype(np.int32)
    del uniform
    cols.sort(axis=1)
    values = rng.lognormal(mean=0.0, sigma=0.5, size=cols.size)
    values *= 1.0 + 0.25 * np.log1p(cols.ravel())
    indptr = np.arange(0, cols.size + 1, CSR_NNZ_PER_ROW, dtype=np.int32)
    X = sp.csr_matrix((values, cols.ravel(), indptr), shape=(n_rows, CSR_FEATURES))
    X.sum_duplicates()  # a few rows draw a column twice
    return normalize(X, copy=False)


def split(X, y, n_train):
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def rows(count, scale):
    return max(WARMUP_ROWS, int(round(count * scale)))


def binary_case(scale, rng):
    n, n_test = rows(DENSE_ROWS, scale), rows(DENSE_TEST_ROWS, scale)
    X = dense_features(n + n_test, rng)
    coef = rng.standard_normal(DENSE_FEATURES) * 2.0 / np.sqrt(DENSE_FEATURES)
    y = binary_labels(X @ coef, rng)
    estimators = (
        "ours-classifier",
        "ours-classifier-1thread",
        "ours-classifier-early-stopping",
        "sgd-classifier",
    )
    return Case(
        f"1. binary, dense {n:,} x {DENSE_FEATURES} f64",
        *split(X, y, n),
        estimators=estimators,
        classes=np.array([0, 1]),
    )


def multiclass_case(scale, rng):
    n, n_test = rows(DENSE_ROWS, scale), rows(DENSE_TEST_ROWS, scale)
    X = dense_features(n + n_test, rng)
    y = multiclass_labels(X, rng)
    estimators = (
        "ours-classifier",
        "ours-classifier-1thread",
        "ours-classifier-lr0.001",
        "sgd-classifier-ovr",
    )
    return Case(
        f"2. {N_CLASSES} classes, dense {n:,} x {DENSE_FEATURES} f64",
        *split(X, y, n),
        estimators=estimators,
        classes=np.arange(N_CLASSES),
    )


def regression_cases(scale, rng):
    """The float64 case, then the same data in float32 (memory measured there)."""
    n, n_test = rows(DENSE_ROWS, scale), rows(DENSE_TEST_ROWS, scale)
    X = dense_features(n + n_test, rng)
    coef = rng.standard_normal(DENSE_FEATURES) / np.sqrt(DENSE_FEATURES)
    y = X @ coef + 0.5 * rng.standard_normal(X.shape[0])
    estimators = ("ours-regressor", "ours-regressor-1thread", "sgd-regressor")
    yield Case(
        f"3a. regression, dense {n:,} x {DENSE_FEATURES} f64",
        *split(X, y, n),
        estimators=estimators,
    )
    X = X.astype(np.float32)
    yield Case(
        f"3b. regression, dense {n:,} x {DENSE_FEATURES} f32",
        *split(X, y, n),
        estimators=estimators,
        memory=True,
    )


def csr_case(scale, rng):
    n, n_test = rows(CSR_ROWS, scale), rows(CSR_TEST_ROWS, scale)
    X = bag_of_words(n + n_test, rng)
    uniform = rng.random(10_000)  # weights on words drawn as in bag_of_words
    support = np.unique((uniform * uniform * CSR_FEATURES).astype(np.int64))
    coef = np.zeros(CSR_FEATURES)
    coef[support] = rng.standard_normal(support.size)
    scores = X @ coef
    y = binary_labels(3.0 * scores / scores.std(), rng)
    nnz = X.nnz / X.shape[0]
    return Case(
        f"4. binary, CSR {n:,} x 2^18, {nnz:.0f} nnz/row f64",
        *split(X, y, n),
        memory=True,
        estimators=(
            "ours-classifier",
            "ours-classifier-1thread",
            "ours-classifier-plain-sgd",
            "sgd-classifier",
        ),
    )


def all_cases(scale, selected=CASES):
    """Cases one at a time, so that only one data set is in memory."""
    if "1" in selected:
        yield binary_case(scale, np.random.default_rng(1))
    if "2" in selected:
        yield multiclass_case(scale, np.random.default_rng(2))
    if "3" in selected:
        yield from regression_cases(scale, np.random.default_rng(3))
    if "4" in selected:
        yield csr_case(scale, np.random.default_rng(4))


# --------------------------------------------------------------------------
# Speed, score, time to target


def timed_fit(est, X, y):
    time.sleep(IDLE_BEFORE_TIMING)
    start = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - start


def warm_up(case):
    """Compile ours (and load sklearn's code paths) on a slice: not timed."""
    X, y = case.X[:WARMUP_ROWS], case.y[:WARMUP_ROWS]
    for key in case.estimators:
        ESTIMATORS[key][1](2).fit(X, y)
        if case.classes is not None:
            ESTIMATORS[key][1](1).partial_fit(X, y, classes=case.classes)


def epoch_timing(make, case, epochs, repeats):
    """Median seconds per epoch (see the module docstring) and the score after N."""
    short, long = [], []
    for _ in range(repeats):  # alternate, so that drifting load hits both
        short.append(timed_fit(make(1), case.X, case.y))
        est = make(epochs)
        long.append(timed_fit(est, case.X, case.y))
    n_iter = int(np.max(est.n_iter_))
    if n_iter != epochs:
        print(
            f"  warning: {type(est).__name__} ran {n_iter} epochs, not {epochs}",
            file=sys.stderr,
        )
    per_epoch = (median(long) - median(short)) / (epochs - 1)
    approximate = per_epoch <= 0
    if approximate:
        per_epoch = median(long) / epochs
    return dict(
        per_epoch=per_epoch,
        approximate=approximate,
        fit=median(long),
        score=est.score(case.X_test, case.y_test),
    )


def lbfgs_reference(case, repeats):
    """LogisticRegression(lbfgs): fit time, seconds per iteration, test accuracy."""
    times = []
    for _ in range(repeats):
        est = LogisticRegression(solver="lbfgs")
        times.append(timed_fit(est, case.X, case.y))
    n_iter = int(np.max(est.n_iter_))
    return dict(
        per_epoch=median(times) / n_iter,
        approximate=False,
        n_iter=n_iter,
        fit=median(times),
        score=est.score(case.X_test, case.y_test),
        to_target=(median(times), None),
    )


def time_to_target(make, case, target, max_epochs):
    """Seconds of partial_fit (one call, one epoch) until test accuracy >= target.

    Returns (seconds, epochs), or (None, seconds spent) when not reached.
    """
    est = make(1, random_state=np.random.RandomState(0))  # new shuffle each epoch
    elapsed = 0.0
    for epoch in range(1, max_epochs + 1):
        time.sleep(IDLE_BEFORE_TIMING)  # after the scoring's products
        start = time.perf_counter()
        est.partial_fit(case.X, case.y, classes=case.classes)
        elapsed += time.perf_counter() - start
        if est.score(case.X_test, case.y_test) >= target:
            return elapsed, epoch
    return None, elapsed


def run_case(case, args):
    """Result rows of one case: one per estimator, lbfgs last for classifiers."""
    print(f"{case.name} ...", file=sys.stderr)
    warm_up(case)
    results = []
    for key in case.estimators:
        label, make = ESTIMATORS[key]
        result = epoch_timing(make, case, args.epochs, args.repeats)
        results.append(
            dict(case=case.name, estimator=label, ours=key.startswith("ours"), **result)
        )
        print(f"  {label}: {result['per_epoch']:.4f} s/epoch", file=sys.stderr)
    if case.classes is None:
        return results
    reference = lbfgs_reference(case, args.repeats)
    target = reference["score"] - TARGET_GAP
    for key, result in zip(case.estimators, results):
        make = ESTIMATORS[key][1]
        result["to_target"] = time_to_target(make, case, target, args.max_target_epochs)
    label = f"LogisticRegression(lbfgs), {reference['n_iter']} iter"
    results.append(
        dict(case=case.name, estimator=label, ours=False, lbfgs=True, **reference)
    )
    return results


# --------------------------------------------------------------------------
# The floor of an SGD epoch on CSR data

READ, DOT, DOT_UPDATE = 0, 1, 2
FLOOR_WORK = {
    READ: "read every non-zero",
    DOT: "read, and gather each non-zero's weight (the dot products)",
    DOT_UPDATE: "read, dot product, then add to each weight (row by row)",
}


@numba.njit(nogil=True, fastmath=True)
def floor_pass(data, indices, starts, stops, order, w, work):
    """Rows order[:] in turn, non-zeros starts[i]:stops[i] of row i: only the
    memory traffic of an epoch (no loss, no gradient, no barrier).

    Prefetched as ``csr_sgd_epoch`` does. DOT_UPDATE adds a tiny multiple of
    the row to its weights right after its dot product, as scikit-learn's
    per-sample SGD does (one pass; a mini-batch reads the rows twice).
    """
    total = 0.0
    n = order.shape[0]
    for r in range(n):
        if r + PREFETCH_SPARSE_ROWS < n:
            ahead = order[r + PREFETCH_SPARSE_ROWS]
            for q in range(starts[ahead], stops[ahead], CACHE_LINE_FLOATS):
                prefetch(data, q)
                prefetch(indices, q)
        i = order[r]
        if work == READ:
            for q in range(starts[i], stops[i]):
                total += data[q] + indices[q]
            continue
        acc = 0.0
        for q in range(starts[i], stops[i]):
            acc += data[q] * w[np.uintp(indices[q])]
        total += acc
        if work == DOT_UPDATE:
            step = 1e-12 * acc
            for q in range(starts[i], stops[i]):
                w[np.uintp(indices[q])] += step * data[q]
    return total


def csr_floor(case, repeats):
    """Seconds per epoch of ``floor_pass`` on the case's rows in a shuffled order.

    On two threads each thread owns the columns of half the non-zeros and
    reads its part of every row (the split of ``csr_sgd_epoch``), so that no
    weight is shared.
    """
    X = case.X
    indptr = X.indptr.astype(np.intp)
    cut = int(np.median(X.indices))
    below = np.add.reduceat((X.indices < cut).astype(np.intp), indptr[:-1])
    below[np.diff(indptr) == 0] = 0  # reduceat reads on past an empty row
    mids = indptr[:-1] + below
    order = np.random.default_rng(0).permutation(X.shape[0])
    w = np.zeros(X.shape[1])
    parts = {
        1: [(indptr[:-1], indptr[1:])],
        2: [(indptr[:-1], mids), (mids, indptr[1:])],
    }
    results = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for work, label in FLOOR_WORK.items():
            for threads, bounds in parts.items():

                def epoch():
                    calls = [
                        pool.submit(
                            floor_pass, X.data, X.indices, starts, stops, order, w, work
                        )
                        for starts, stops in bounds
                    ]
                    return [call.result() for call in calls]

                epoch()  # compiles on first use
                times = []
                for _ in range(max(repeats, 5)):
                    start = time.perf_counter()
                    epoch()
                    times.append(time.perf_counter() - start)
                results.append(
                    dict(
                        case=case.name,
                        work=label,
                        threads=threads,
                        per_epoch=median(times),
                    )
                )
    return results


# --------------------------------------------------------------------------
# Memory, in a fresh process per estimator


def save_training_data(case, folder):
    """Write the training data as .npy files; returns its size in bytes."""
    X = case.X
    np.save(os.path.join(folder, "y.npy"), case.y)
    if sp.issparse(X):
        for name in ("data", "indices", "indptr"):
            np.save(os.path.join(folder, f"{name}.npy"), getattr(X, name))
        np.save(os.path.join(folder, "shape.npy"), np.array(X.shape))
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    np.save(os.path.join(folder, "X.npy"), X)
    return X.nbytes


def load_training_data(folder):
    y = np.load(os.path.join(folder, "y.npy"))
    if os.path.exists(os.path.join(folder, "X.npy")):
        return np.load(os.path.join(folder, "X.npy")), y
    names = ("data", "indices", "indptr")
    arrays = [np.load(os.path.join(folder, f"{name}.npy")) for name in names]
    shape = tuple(np.load(os.path.join(folder, "shape.npy")))
    return sp.csr_matrix(tuple(arrays), shape=shape), y


def proc_status_kib(field):
    """A field of /proc/self/status in KiB (VmRSS, VmHWM), or None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss():
    """Reset VmHWM (Linux >= 4.0); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def memory_worker(folder, key):
    """Subprocess entry: print JSON with the fit's peak memory in bytes."""
    X, y = load_training_data(folder)
    make = ESTIMATORS[key][1]
    make(1).fit(X[:WARMUP_ROWS], y[:WARMUP_ROWS])  # compile before measuring
    gc.collect()
    hwm_reset = reset_peak_rss() and proc_status_kib("VmRSS") is not None
    rss_before = proc_status_kib("VmRSS") if hwm_reset else None
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    make(MEMORY_EPOCHS).fit(X, y)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if hwm_reset:
        rss_growth = (proc_status_kib("VmHWM") - rss_before) * 1024
    else:  # only growth above the earlier high-water mark shows here
        rss_growth = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before
        ) * 1024
    print(json.dumps(dict(traced_peak=traced_peak, rss_growth=rss_growth)))


def measure_memory(case):
    """Memory rows for each estimator of the case, one subprocess each."""
    print(f"  memory of {case.name} ...", file=sys.stderr)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_linear_") as folder:
        data_bytes = save_training_data(case, folder)
        for key in case.estimators:
            if key.endswith("-1thread"):  # the buffers do not depend on threads
                continue
            command = [
                sys.executable,
                "-W",
                "ignore",
                os.path.abspath(__file__),
                "--memory-worker",
                folder,
                key,
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            results.append(
                dict(
                    case=case.name,
                    estimator=ESTIMATORS[key][0],
                    data_bytes=data_bytes,
                    **measured,
                )
            )
    return results


# --------------------------------------------------------------------------
# Start-up, in fresh processes

STARTUP_CODE = """
import numpy as np
import skbigmodel
from skbigmodel import LogisticClassifier
assert skbigmodel.__file__.startswith({prefix!r}), skbigmodel.__file__
X = np.random.RandomState(0).standard_normal((1000, 20))
y = (X[:, 0] > 0).astype(int)
LogisticClassifier(max_iter=5).fit(X, y)
"""


# The floor under any package whose kernels Numba caches: scikit-learn and
# Numba imported, and one cached function loaded and called.
NUMBA_FLOOR_MODULE = """
import numba

@numba.njit(cache=True)
def total(x):
    s = 0.0
    for v in x:
        s += v
    return s
"""
NUMBA_FLOOR_CODE = """
import numpy as np
import sklearn.linear_model
from numba_floor import total
total(np.ones(3))
"""


def process_seconds(code, env, cwd):
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def fresh_copy(folder, name):
    """A copy of the package without caches, and an environment that imports it.

    The process runs in the copy's folder, so that neither the current
    directory nor the editable install can shadow it; NUMBA_CACHE_DIR is new
    and empty, so every kernel compiles on first use, and Python's bytecode
    of the package is written then.
    """
    root = os.path.join(folder, name)
    source = os.path.dirname(skbigmodel.__file__)
    shutil.copytree(
        source,
        os.path.join(root, "skbigmodel"),
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    env = dict(
        os.environ,
        PYTHONPATH=path,
        NUMBA_CACHE_DIR=os.path.join(folder, name + "-numba-cache"),
    )
    # The cold start writes the bytecode, as the first import of an install
    # does (scikit-learn's and Numba's came with theirs).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return root, env


def measure_startup(repeats):
    """Wall seconds: cold and warm start, import sklearn.linear_model, Numba's floor."""
    print("start-up ...", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench_linear_") as folder:
        cold = []
        for run in range(repeats):
            root, env = fresh_copy(folder, f"copy{run}")
            cold.append(process_seconds(STARTUP_CODE.format(prefix=root), env, root))
        code = STARTUP_CODE.format(prefix=root)
        floor_dir = os.path.join(folder, "floor")
        os.mkdir(floor_dir)
        with open(os.path.join(floor_dir, "numba_floor.py"), "w") as module:
            module.write(NUMBA_FLOOR_MODULE)
        floor_env = dict(
            os.environ, NUMBA_CACHE_DIR=os.path.join(folder, "floor-cache")
        )
        process_seconds(NUMBA_FLOOR_CODE, floor_env, floor_dir)  # writes the cache
        warm, sklearn_only, floor = [], [], []
        for _ in range(max(repeats, WARM_STARTS)):  # interleaved: drift hits all alike
            warm.append(process_seconds(code, env, root))
            sklearn_only.append(
                process_seconds("import sklearn.linear_model", dict(os.environ), folder)
            )
            floor.append(process_seconds(NUMBA_FLOOR_CODE, floor_env, floor_dir))
    return [
        ("skbigmodel import + fit, cold (fresh copy, empty Numba cache)", cold),
        ("skbigmodel import + fit, warm (Numba cache just written)", warm),
        ("`import sklearn.linear_model` alone", sklearn_only),
        ("`import sklearn.linear_model` + one cached Numba function, warm", floor),
    ]


# --------------------------------------------------------------------------
# Report


def machine_lines():
    """Machine, library versions and thread counts, as markdown bullet lines."""
    import numba
    import sklearn
    from threadpoolctl import threadpool_info

    ours_classifier(1).fit(np.eye(4), [0, 1, 0, 1])  # starts Numba's threads
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                line.split(":", 1)[1].strip()
                for line in info
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    pools = [
        f"{p['internal_api']} {p.get('version') or ''} "
        f"{os.path.basename(p['filepath'])}: {p['num_threads']} threads"
        for p in threadpool_info()
    ]
    return [
        f"- machine: {platform.platform()}, {cpu}, os.cpu_count()={os.cpu_count()}",
        f"- python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, numba {numba.__version__}, "
        f"skbigmodel {skbigmodel.__version__}",
        f"- threads: ours run with n_jobs=None, i.e. {resolve_n_jobs(None)} "
        "(Python threads; Numba's threading layer is not used)",
        *[f"- threadpool: {pool}" for pool in pools],
        f"- load average at start: {load_average()}",
    ]


def load_average():
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def target_cell(row):
    if "to_target" not in row:
        return "-"
    seconds, epochs = row["to_target"]
    if row.get("lbfgs"):
        return f"{seconds:.3f} s (fit)"
    if seconds is None:
        return f"not reached ({epochs:.2f} s)"
    return f"{seconds:.3f} s ({epochs} ep)"


def speed_table(rows, epochs):
    lines = [
        f"| case | estimator | s/epoch (median) | ratio vs ours | fit {epochs} "
        f"epochs (s) | test score after {epochs} epochs | time to target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    ours = {}
    for row in rows:
        ours.setdefault(row["case"], row["per_epoch"])  # ours come first
        per_epoch = f"{'~' if row['approximate'] else ''}{row['per_epoch']:.4f}"
        fit, score = f"{row['fit']:.3f}", f"{row['score']:.4f}"
        if row.get("lbfgs"):
            per_epoch += " /iter"
            fit, score = f"{fit} (full fit)", f"{score} (converged)"
        ratio = row["per_epoch"] / ours[row["case"]]
        cells = [
            row["case"],
            row["estimator"],
            per_epoch,
            f"{ratio:.3g}x",
            fit,
            score,
            target_cell(row),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def target_summary(rows):
    """One line per classification case: ours vs the fastest sklearn to target.

    The ratio is scikit-learn's time over ours (all threads): > 1, ours is faster.
    """
    lines = []
    for case in dict.fromkeys(row["case"] for row in rows if "to_target" in row):
        timed = [r for r in rows if r["case"] == case and "to_target" in r]
        ours = [r for r in timed if r["ours"]]
        reached = [r for r in timed if not r["ours"] and r["to_target"][0] is not None]
        theirs = min(reached, key=lambda r: r["to_target"][0], default=None)
        cells = [f"{r['estimator']} {target_cell(r)}" for r in ours]
        if theirs is None:
            cells.append("no scikit-learn estimator reached the target")
        else:
            cells.append(
                f"fastest scikit-learn: {theirs['estimator']} "
                f"{theirs['to_target'][0]:.3f} s"
            )
            if ours[0]["to_target"][0] is not None:
                ratio = theirs["to_target"][0] / ours[0]["to_target"][0]
                cells.append(f"ratio {ratio:.2f}x")
        lines.append(f"- {case}: " + "; ".join(cells))
    return lines


def floor_table(floor, rows):
    """The floor passes, and how far under scikit-learn's SGD epoch each is."""
    sgd = {
        r["case"]: r["per_epoch"]
        for r in rows
        if r["estimator"].startswith("SGDClassifier")
    }
    lines = [
        "| case | pass over the training rows in a shuffled order, nothing else | "
        "threads | s/epoch (median) | SGDClassifier's s/epoch over this |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in floor:
        ratio = sgd[row["case"]] / row["per_epoch"]
        lines.append(
            f"| {row['case']} | {row['work']} | {row['threads']} | "
            f"{row['per_epoch']:.4f} | {ratio:.2f}x |"
        )
    return lines


def memory_table(rows):
    lines = [
        "| case | estimator | training data (MB) | tracemalloc peak in fit "
        "(% of data) | peak RSS growth in fit (% of data) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        size = row["data_bytes"]
        lines.append(
            f"| {row['case']} | {row['estimator']} | {size / 1e6:.1f} | "
            f"{100 * row['traced_peak'] / size:.1f} % | "
            f"{100 * row['rss_growth'] / size:.1f} % |"
        )
    return lines


def startup_table(startup):
    lines = [
        "| start-up (fresh process, wall time) | median (s) | runs |",
        "| --- | ---: | ---: |",
    ]
    for label, times in startup:
        lines.append(f"| {label} | {median(times):.2f} | {len(times)} |")
    return lines


def report(args, header, rows, floor, memory, startup):
    return "\n".join(
        [
            "# bench_linear",
            "",
            *header,
            f"- load average at end: {load_average()}",
            f"- scale {args.scale}, {args.repeats} repeat(s), {args.epochs} epochs, "
            f"time to target: lbfgs test accuracy - {TARGET_GAP}, at most "
            f"{args.max_target_epochs} epochs; cases {', '.join(args.cases)}",
            "",
            "## Speed and accuracy",
            "",
            *speed_table(rows, args.epochs),
            "",
            "Time to target:",
            "",
            *target_summary(rows),
            *(
                [
                    "",
                    "## The floor of an SGD epoch on CSR data",
                    "",
                    *floor_table(floor, rows),
                ]
                if floor
                else []
            ),
            "",
            "## Memory",
            "",
            *memory_table(memory),
            *(["", "## Start-up", "", *startup_table(startup)] if startup else []),
            "",
        ]
    )


# --------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="fraction of the default number of rows (1.0)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"--scale {QUICK_SCALE} --repeats 1 (a minute or so)",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--epochs",
        type=int,
        default=5,
        help="epoch budget of the timed fits and scores (>= 2)",
    )
    parser.add_argument("--max-target-epochs", type=int, default=20)
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help="comma-separated case numbers to run (default: all; "
        "start-up is measured only when all run)",
    )
    parser.add_argument("--output", help="also write the report to this file")
    parser.add_argument(
        "--memory-worker",
        nargs=2,
        metavar=("FOLDER", "ESTIMATOR"),
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.scale, args.repeats = QUICK_SCALE, 1
    if args.epochs < 2:
        parser.error("--epochs must be at least 2")
    args.cases = tuple(args.cases.split(","))
    if not set(args.cases) <= set(CASES):
        parser.error(f"--cases: choose among {', '.join(CASES)}")
    return args


def main(argv=None):
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    args = parse_args(argv)
    if args.memory_worker:
        return memory_worker(*args.memory_worker)
    header = machine_lines()
    startup = measure_startup(args.repeats) if set(args.cases) == set(CASES) else []
    rows, floor, memory = [], [], []
    for case in all_cases(args.scale, args.cases):
        rows += run_case(case, args)
        if sp.issparse(case.X):
            floor += csr_floor(case, args.repeats)
        if case.memory:
            memory += measure_memory(case)
        del case
        gc.collect()
    text = report(args, header, rows, floor, memory, startup)
    print(text)
    if args.output:
        with open(args.output, "w") as output:
            output.write(text)


if __name__ == "__main__":
    main()
