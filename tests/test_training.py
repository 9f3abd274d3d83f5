"""The training loop: convergence, schedules, stopping rules, threads."""

import json

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbigmodel import LinearRegressor, LogisticClassifier
from skbigmodel._runners import CSR_PARTS

from ._helpers import run_python

CONVERGE = dict(
    learning_rate="adaptive",
    tol=1e-12,
    n_iter_no_change=50,
    max_iter=5000,
    batch_size=32,
    random_state=0,
)


# Every solver, stochastic or full batch (L-BFGS), reaches the same optimum.
@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop", "lbfgs"])
def test_ridge_objective_reaches_the_exact_optimum(solver):
    X, y = make_regression(n_samples=300, n_features=8, noise=10, random_state=0)
    alpha = 0.1

    def objective(w, b):
        r = y - X @ w - b
        return 0.5 * np.mean(r**2) + 0.5 * alpha * w @ w

    Xc, yc = X - X.mean(axis=0), y - y.mean()
    w_opt = np.linalg.solve(
        Xc.T @ Xc / len(X) + alpha * np.eye(X.shape[1]), Xc.T @ yc / len(X)
    )
    best = objective(w_opt, y.mean() - X.mean(axis=0) @ w_opt)
    reg = LinearRegressor(alpha=alpha, solver=solver, **CONVERGE).fit(X, y)
    assert objective(reg.coef_, reg.intercept_[0]) - best <= 1e-4 * best


@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop", "lbfgs"])
def test_logistic_objective_reaches_the_exact_optimum(solver):
    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    alpha = 0.1

    def objective(w, b):
        z = X @ w + b
        return np.mean(np.logaddexp(0, z) - y * z) + 0.5 * alpha * w @ w

    ref = LogisticRegression(C=1 / (len(X) * alpha), tol=1e-12, max_iter=10_000)
    ref.fit(X, y)
    best = objective(ref.coef_[0], ref.intercept_[0])
    clf = LogisticClassifier(alpha=alpha, solver=solver, **CONVERGE).fit(X, y)
    assert objective(clf.coef_[0], clf.intercept_[0]) - best <= 1e-4 * best


def test_diabetes_r2_matches_ridge():
    X, y = load_diabetes(return_X_y=True)
    ours, ridge = [], []
    for seed in range(3):
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
        model = make_pipeline(StandardScaler(), LinearRegressor(random_state=seed))
        ours.append(model.fit(X_train, y_train).score(X_test, y_test))
        ref = make_pipeline(StandardScaler(), Ridge())
        ridge.append(ref.fit(X_train, y_train).score(X_test, y_test))
    assert np.mean(ours) >= np.mean(ridge) - 0.01


def test_adaptive_schedule_lowers_the_rate_and_the_loss(regression_data):
    X, y = regression_data
    common = dict(solver="sgd", max_iter=500, random_state=0, n_iter_no_change=5)
    constant = LinearRegressor(learning_rate_init=0.05, **common).fit(X, y)
    adaptive = LinearRegressor(
        learning_rate_init=0.05, learning_rate="adaptive", **common
    ).fit(X, y)
    assert adaptive.n_iter_ > constant.n_iter_
    assert adaptive.loss_curve_[-1] < constant.loss_curve_[-1]


def test_tolerance_stops_training(regression_data):
    X, y = regression_data
    reg = LinearRegressor(tol=1e-2, n_iter_no_change=2, random_state=0).fit(X, y)
    assert reg.n_iter_ < 200 and len(reg.loss_curve_) == reg.n_iter_


def test_max_iter_warns(regression_data):
    X, y = regression_data
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        LinearRegressor(max_iter=2, random_state=0).fit(X, y)


N_JOBS_FITS = """
    import concurrent.futures
    import hashlib
    import json
    import threading
    import warnings

    import numba
    import numpy as np
    import scipy.sparse as sp

    warnings.simplefilter("ignore")
    numba.set_num_threads(2)  # the user's own setting, which fits must keep

    # Every task a thread pool runs, but the one that starts a pool's threads
    # (a barrier's wait): the widest number at once, and the threads used.
    lock = threading.Lock()
    running, widest, used = [0], [0], set()
    submit = concurrent.futures.ThreadPoolExecutor.submit

    def recording_submit(self, fn, /, *args, **kwargs):
        if isinstance(getattr(fn, "__self__", None), threading.Barrier):
            return submit(self, fn, *args, **kwargs)

        def task(*args, **kwargs):
            with lock:
                running[0] += 1
                widest[0] = max(widest[0], running[0])
                used.add(threading.current_thread().name)
            try:
                return fn(*args, **kwargs)
            finally:
                with lock:
                    running[0] -= 1

        return submit(self, task, *args, **kwargs)

    concurrent.futures.ThreadPoolExecutor.submit = recording_submit

    from skbigmodel import LinearRegressor, LogisticClassifier, MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 400))  # batches of 256 x 400: 8 chunks
    y = (X[:, :5].sum(axis=1) > 0).astype(int)
    X_csr = sp.csr_matrix(np.where(np.abs(X) > 1.5, X, 0.0))
    cases = {
        "dense": (LogisticClassifier, {}, X, y),
        "csr": (LinearRegressor, {}, X_csr, X[:, 0]),
        "mlp": (MLPClassifier, {"hidden_layer_sizes": (16,)}, X, y),
    }
    report = {}
    for n_jobs in [1, -3, 2, -2, 3, -1, None, 10_000]:
        for name, (Estimator, params, X_fit, y_fit) in cases.items():
            widest[0] = 0
            used.clear()
            est = Estimator(max_iter=2, random_state=0, n_jobs=n_jobs, **params)
            est.fit(X_fit, y_fit)
            weights = (est.coefs_ + est.intercepts_ if name == "mlp"
                       else [est.coef_, est.intercept_])
            digest = hashlib.sha256(repr(est.loss_curve_).encode())
            for w in weights:
                digest.update(w.tobytes())
            report[f"{name} {n_jobs}"] = {"helpers": widest[0], "threads": sorted(used),
                                          "bits": digest.hexdigest()}
        if n_jobs == -3:  # the one-thread fits come first: no helper yet
            report["helper threads"] = [t.name for t in threading.enumerate()
                                        if t.name.startswith("skbigmodel")]
    report["numba threads"] = numba.get_num_threads()
    print(json.dumps(report))
"""

# n_jobs -> threads, with NUMBA_NUM_THREADS=3: None and -1 all, -2 all but one,
# beyond the count or below -count clipped.
THREADS = {1: 1, -3: 1, 2: 2, -2: 2, 3: 3, -1: 3, None: 3, 10_000: 3}


def test_n_jobs_sets_the_kernel_threads_and_changes_no_bit():
    """A fit runs its kernel on n_jobs threads: one runs every part on the
    calling thread, more add helper threads (dense chunks: up to all of them;
    CSR data: up to its column ranges; two halves of an MLP batch: up to two),
    all giving the bits of one thread. Numba's own thread count is left
    alone (the kernels do not use its threading layer)."""
    out = json.loads(run_python(N_JOBS_FITS, NUMBA_NUM_THREADS="3"))
    assert out["helper threads"] == []
    for n_jobs, threads in THREADS.items():
        for case, width in [
            ("dense", threads),
            ("csr", min(CSR_PARTS, threads)),
            ("mlp", min(2, threads)),
        ]:
            fit = out[f"{case} {n_jobs}"]
            assert fit["helpers"] == width - 1, (case, n_jobs)
            assert all(name.startswith("skbigmodel") for name in fit["threads"])
            assert fit["bits"] == out[f"{case} 1"]["bits"], (case, n_jobs)
    assert out["numba threads"] == 2


def test_shuffle_false_visits_rows_in_order(binary_data):
    X, y = binary_data
    a = LogisticClassifier(shuffle=False, max_iter=3, random_state=0).fit(X, y)
    b = LogisticClassifier(shuffle=False, max_iter=3, random_state=1).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_)
    c = LogisticClassifier(shuffle=True, max_iter=3, random_state=1).fit(X, y)
    assert not np.array_equal(a.coef_, c.coef_)


def test_epoch_shuffles_are_uniform_permutations():
    from scipy.stats import chisquare

    from skbigmodel._kernels.shuffle import shuffled

    rows = np.arange(10, 14)  # the rows of a fit need not start at 0
    seeds = np.random.default_rng(0).integers(0, 2**63 - 1, 24_000)
    counts = {}
    for seed in seeds:
        order = shuffled(rows, seed)
        assert np.array_equal(np.sort(order), rows)
        counts[tuple(order)] = counts.get(tuple(order), 0) + 1
    assert np.array_equal(rows, np.arange(10, 14))  # the input is left alone
    assert len(counts) == 24  # every permutation of 4 rows, each about as often
    assert chisquare(list(counts.values())).pvalue > 1e-3
    assert np.array_equal(shuffled(rows, seeds[0]), shuffled(rows, seeds[0]))
