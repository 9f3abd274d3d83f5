"""skbigmodel.dask.DataParallel on real LocalClusters listening on 127.0.0.1.

Two module-scoped clusters (starting one costs seconds): one worker with two
threads in this process, and two worker processes with one thread each;
the fault test, which kills a worker process, runs last.
"""

import ast
import os
import pickle
import signal
import threading
from pathlib import Path

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GridSearchCV, KFold

import skbigmodel
from skbigmodel import (
    LinearClassifier,
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPRegressor,
)
from skbigmodel.dask import DataParallel
from skbigmodel.io import dump, load

from ._helpers import local_cluster

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N_ROWS, ROWS = 1200, 300  # four partitions of 300 rows
SMALL_MLP = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, batch_size=64)


@pytest.fixture(scope="module")
def threads(tmp_path_factory):
    """One worker with two threads in this process."""
    cluster, client = local_cluster(
        tmp_path_factory.mktemp("dp-threads"),
        processes=False,
        n_workers=1,
        threads_per_worker=2,
    )
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def processes(tmp_path_factory):
    """Two worker processes with one thread each."""
    cluster, client = local_cluster(
        tmp_path_factory.mktemp("dp-processes"),
        processes=True,
        n_workers=2,
        threads_per_worker=1,
    )
    yield cluster, client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def classification():
    return make_classification(
        n_samples=N_ROWS, n_features=10, n_informative=6, n_classes=3, random_state=0
    )


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(
        n_samples=N_ROWS, n_features=10, n_targets=2, noise=1.0, random_state=0
    )
    return X, 50 + 30 * y  # off-centre and spread out: the target scaling matters


def _dask(*arrays, rows=ROWS):
    return [da.from_array(a, chunks=(rows,) + a.shape[1:]) for a in arrays]


def _params(est):
    """Every fitted parameter of a linear model or an MLP, as one vector."""
    if hasattr(est, "coef_"):
        return np.concatenate([np.ravel(est.coef_), np.ravel(est.intercept_)])
    return np.concatenate([np.ravel(a) for a in est.coefs_ + est.intercepts_])


def _weights(n):
    return np.random.default_rng(0).uniform(0.5, 2.0, size=n)


ESTIMATORS = {
    "logistic": (lambda: LogisticClassifier(random_state=0), "classification"),
    "hinge-balanced": (
        lambda: LinearClassifier(class_weight="balanced", random_state=0),
        "classification",
    ),
    "regressor": (lambda: LinearRegressor(random_state=0), "regression"),
    "mlp-classifier": (
        lambda: MLPClassifier(random_state=0, **SMALL_MLP),
        "classification",
    ),
    "mlp-regressor": (lambda: MLPRegressor(random_state=0, **SMALL_MLP), "regression"),
    "poisson": (lambda: LinearRegressor(loss="poisson", random_state=0), "counts"),
    "mlp-multilabel": (
        lambda: MLPClassifier(random_state=0, **SMALL_MLP),
        "multilabel",
    ),
}


@pytest.fixture(scope="module")
def counts(regression):
    X, y = regression
    return X, np.random.default_rng(0).poisson(np.exp(X[:, 0] / 2))


@pytest.fixture(scope="module")
def multilabel(classification):
    X, y = classification
    return X, np.column_stack([y == 0, y != 1, X[:, 0] > 0]).astype(int)


def _unaveraged(est):
    """``est`` as DataParallel trains it: average="auto" is False there (the
    partitions' mean plays its role)."""
    if "average" in est.get_params():
        est.set_params(average=False)
    return est


@pytest.mark.parametrize("name", ESTIMATORS)
def test_one_partition_trains_as_the_estimator(threads, name, request):
    """One partition, local_epochs=1: round for epoch, the estimator's own fit
    (same encoders, shuffles, optimiser state, stopping rule; no averaged
    SGD), bit for bit."""
    make, data = ESTIMATORS[name]
    X, y = request.getfixturevalue(data)
    if data == "regression" and "mlp" not in name:
        y = y[:, 0]  # one output (the MLP's two: multi-output)
    sw = _weights(N_ROWS)
    plain = _unaveraged(make().set_params(max_iter=4)).fit(X, y, sample_weight=sw)
    Xd, yd, swd = _dask(X, y, sw, rows=N_ROWS)
    model = DataParallel(make().set_params(max_iter=4), client=threads)
    model.fit(Xd, yd, sample_weight=swd)
    ours = model.estimator_
    assert type(ours) is type(plain)
    assert np.array_equal(_params(ours), _params(plain))
    assert ours.loss_curve_ == plain.loss_curve_
    assert (ours.n_iter_, ours.t_) == (plain.n_iter_, plain.t_)
    assert model.n_rounds_ == plain.n_iter_ == len(model.loss_curve_)
    assert np.array_equal(ours.predict(X), plain.predict(X))


def test_same_bits_whatever_the_workers(threads, processes, classification):
    """Four partitions: one worker with two threads, two worker processes,
    and the partitions persisted or recomputed each round, give the same bits."""
    X, y = classification
    Xd, yd, swd = _dask(X, y, _weights(N_ROWS))
    est = LogisticClassifier(
        learning_rate_init=0.01, batch_size=64, random_state=0, max_iter=3, tol=None
    )

    def fit(client, *data):
        model = DataParallel(est, client=client, local_epochs=2).fit(*data)
        return model.estimator_

    reference = fit(threads, Xd, yd, swd)
    again = fit(threads, *threads.persist([Xd, yd, swd]))
    _, client = processes
    spread = fit(client, *client.persist([Xd, yd, swd]))
    for other in (again, spread):
        assert np.array_equal(_params(other), _params(reference))
        assert other.loss_curve_ == reference.loss_curve_
    # The rounds really are averages of the partitions: not the plain fit.
    plain = clone(est).fit(X, y, sample_weight=_weights(N_ROWS))
    assert not np.array_equal(_params(plain), _params(reference))
    assert reference.score(X, y) > 0.6  # chance is 1/3


@pytest.mark.parametrize(
    "est",
    [
        LogisticClassifier(solver="lbfgs", alpha=1e-3),
        LinearRegressor(solver="lbfgs", alpha=1e-3),
        MLPRegressor(
            solver="lbfgs", hidden_layer_sizes=(4,), random_state=0, max_iter=5
        ),
    ],
    ids=["logistic", "regressor", "mlp"],
)
def test_lbfgs_reaches_the_single_machine_optimum(threads, est, request):
    data = "regression" if "Regressor" in type(est).__name__ else "classification"
    X, y = request.getfixturevalue(data)
    if isinstance(est, LinearRegressor):
        y = y[:, 0]
    if not isinstance(est, MLPRegressor):  # convex: to the optimum
        est.set_params(max_iter=500, tol=1e-7)
    plain = clone(est).fit(X, y)
    model = DataParallel(clone(est).set_params(solver="adam"), mode="lbfgs")
    model.set_params(client=threads).fit(*_dask(X, y))
    assert model.estimator_.solver == model.estimator_.solver_ == "lbfgs"
    if isinstance(est, MLPRegressor):  # not convex: the same start, the same path
        assert model.loss_curve_[:5] == pytest.approx(plain.loss_curve_[:5], rel=1e-8)
    else:
        assert model.loss_curve_[-1] == pytest.approx(plain.loss_curve_[-1], rel=1e-8)
        np.testing.assert_allclose(_params(model.estimator_), _params(plain), rtol=1e-4)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.filterwarnings("ignore:Dask currently has limited support")
def test_dataframe_input_and_blockwise_predictions(threads, classification):
    X, y = classification
    columns = [f"f{i}" for i in range(X.shape[1])]
    frame = dd.from_pandas(pd.DataFrame(X, columns=columns), npartitions=3)
    labels = dd.from_pandas(pd.Series(np.array(["a", "b", "c"])[y]), npartitions=3)
    model = DataParallel(LogisticClassifier(random_state=0, max_iter=3), client=threads)
    model.fit(frame, labels)
    est = model.estimator_
    assert list(model.feature_names_in_) == list(est.feature_names_in_) == columns
    assert list(model.classes_) == ["a", "b", "c"]
    predicted = model.predict(frame)
    assert isinstance(predicted, da.Array)
    assert np.array_equal(predicted.compute(scheduler=threads.get), est.predict(X))
    accuracy = model.score(frame, labels)
    assert accuracy == pytest.approx(
        est.score(pd.DataFrame(X, columns=columns), np.array(["a", "b", "c"])[y])
    )
    (Xd,) = _dask(X)
    for method in ("predict_proba", "decision_function", "predict_log_proba"):
        lazy = getattr(model, method)(Xd)
        assert isinstance(lazy, da.Array) and lazy.chunks[0] == Xd.chunks[0]
        assert np.array_equal(
            lazy.compute(scheduler=threads.get), getattr(est, method)(X)
        )
        assert np.array_equal(getattr(model, method)(X), getattr(est, method)(X))


def test_class_absent_from_a_partition(threads, classification):
    X, y = classification
    order = np.argsort(y, kind="stable")  # the last partitions hold class 2 only
    X, y = X[order], y[order]
    Xd, yd = _dask(X, y)
    assert set(yd.blocks[3].compute(scheduler=threads.get)) == {2}
    model = DataParallel(LogisticClassifier(random_state=0, max_iter=3), client=threads)
    model.fit(Xd, yd)
    assert list(model.classes_) == [0, 1, 2]
    assert model.predict_proba(Xd).shape == (N_ROWS, 3)
    assert model.score(Xd, yd) > 0.5


def test_validation_set_scores_every_round(threads, classification, regression):
    X, y = classification
    est = LogisticClassifier(random_state=0, max_iter=4, n_iter_no_change=1, tol=0.5)
    plain = _unaveraged(clone(est)).fit(X[:900], y[:900], X_val=X[900:], y_val=y[900:])
    Xd, yd = _dask(X[:900], y[:900], rows=900)
    Xv, yv = _dask(X[900:], y[900:], rows=100)  # three partitions
    model = DataParallel(est, client=threads).fit(Xd, yd, X_val=Xv, y_val=yv)
    # The estimator's own stopping rule, on the score summed over partitions
    assert model.validation_scores_ == pytest.approx(
        plain.validation_scores_, rel=1e-12
    )
    assert model.n_rounds_ == plain.n_iter_ < 4
    assert np.array_equal(_params(model.estimator_), _params(plain))
    Xr, yr = regression
    est = LinearRegressor(random_state=0, max_iter=3, early_stopping=True)
    plain = _unaveraged(clone(est))
    plain.fit(Xr[:900], yr[:900], X_val=Xr[900:], y_val=yr[900:])
    model = DataParallel(est, client=threads)  # NumPy X_val: one partition
    model.fit(*_dask(Xr[:900], yr[:900], rows=900), X_val=Xr[900:], y_val=yr[900:])
    assert model.validation_scores_ == pytest.approx(
        plain.validation_scores_, rel=1e-12
    )


def test_callbacks_and_verbose_report_rounds(threads, classification, capsys):
    X, y = classification

    class Rounds:
        def __init__(self):
            self.names, self.fitted = [], []

        def setup(self, estimator, context):
            pass

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context):
            pass

        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            self.names.append(context.task_name)
            if context.task_name == "round":
                self.fitted.append(fitted_estimator.estimator_.coef_.copy())
            return False

    recorder = Rounds()
    model = DataParallel(LogisticClassifier(random_state=0, max_iter=3, tol=None))
    model.set_params(client=threads, verbose=1).set_callbacks(recorder)
    model.fit(*_dask(X, y))
    assert recorder.names == ["round"] * 3 + ["fit"]
    assert np.array_equal(recorder.fitted[-1], model.estimator_.coef_)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in lines] == ["Round 1", "Round 2", "Round 3"]


def test_clone_params_pickle_and_grid_search(threads, classification, tmp_path):
    X, y = classification
    model = DataParallel(LogisticClassifier(max_iter=3, random_state=0), client=threads)
    params = model.get_params()
    assert params["client"] is threads and params["estimator__alpha"] == 1e-4
    copied = clone(model)
    assert copied.client is threads and copied.estimator is not model.estimator
    assert copied.get_params()["estimator__max_iter"] == 3
    Xd, yd = _dask(X, y)
    model.fit(Xd, yd)
    restored = pickle.loads(pickle.dumps(model))
    assert restored.client is None  # a connection is not pickled
    assert np.array_equal(restored.predict(X), model.predict(X))
    assert restored.estimator_.score(X, y) == model.score(Xd, yd)
    dump(model.estimator_, tmp_path / "model.skops")  # a plain estimator
    assert np.array_equal(load(tmp_path / "model.skops").coef_, model.estimator_.coef_)
    grid = {"local_epochs": [1, 2], "estimator__alpha": [1e-4]}
    search = GridSearchCV(model, grid, cv=KFold(2)).fit(Xd, yd)
    assert search.best_estimator_.client is threads
    assert len(search.cv_results_["mean_test_score"]) == 2
    best = search.best_params_
    refit = clone(model).set_params(**best).fit(Xd, yd)
    assert np.array_equal(
        refit.estimator_.coef_, search.best_estimator_.estimator_.coef_
    )


def test_column_chunks_are_merged(threads, classification):
    X, y = classification
    Xd, yd = _dask(X, y)
    est = LogisticClassifier(random_state=0, max_iter=2)
    by_rows = DataParallel(est, client=threads).fit(Xd, yd)
    by_blocks = DataParallel(est, client=threads).fit(Xd.rechunk((ROWS, 4)), yd)
    assert np.array_equal(by_rows.estimator_.coef_, by_blocks.estimator_.coef_)


def test_bad_input_is_refused_and_leaves_the_model(threads, classification):
    X, y = classification
    Xd, yd = _dask(X, y)
    model = DataParallel(LogisticClassifier(random_state=0, max_iter=2), client=threads)
    model.fit(Xd, yd)
    fitted = dict(vars(model))
    coef = model.estimator_.coef_.copy()
    with pytest.raises(ValueError, match=r"chunked alike along the rows.*\(300, 300"):
        model.fit(Xd, yd.rechunk(400))
    with pytest.raises(ValueError, match="X has 1200 rows but y has 1199"):
        model.fit(Xd, yd[:-1])
    with pytest.raises(TypeError, match="Dask array or DataFrame; got ndarray"):
        model.fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(da.where(Xd > 3, np.nan, Xd), yd)
    with pytest.raises(ValueError, match="at least 2 classes"):
        model.fit(Xd, da.zeros_like(yd))
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        model.fit(Xd[Xd[:, 0] > 0], yd[Xd[:, 0] > 0])
    assert vars(model).keys() == fitted.keys()
    assert np.array_equal(model.estimator_.coef_, coef)
    with pytest.raises(ValueError, match="estimator.*must be an instance of"):
        DataParallel(SGDClassifier(), client=threads).fit(Xd, yd)
    with pytest.raises(ValueError, match="mode='average' needs a stochastic"):
        DataParallel(LogisticClassifier(solver="lbfgs"), client=threads).fit(Xd, yd)
    with pytest.raises(ValueError, match="early_stopping=True needs a validation"):
        DataParallel(LogisticClassifier(early_stopping=True), client=threads).fit(
            Xd, yd
        )


def test_no_reachable_client_is_a_clear_error(tmp_path, classification):
    X, y = classification
    Xd, yd = _dask(X, y)
    cluster, client = local_cluster(tmp_path, processes=False, n_workers=1)
    address = cluster.scheduler_address
    client.close()
    model = DataParallel(LogisticClassifier(max_iter=2), client=client)
    with pytest.raises(ValueError, match="client given to DataParallel is 'closed'"):
        model.fit(Xd, yd)
    cluster.close()
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(
            ValueError, match=f"cannot reach the Dask scheduler at '{address}'"
        ):
            model.set_params(client=address).fit(Xd, yd)
    with pytest.raises(ValueError, match="found no Dask client"):
        model.set_params(client=None).fit(Xd, yd)
    assert not hasattr(model, "estimator_")


def test_only_skbigmodel_dask_imports_dask():
    """``import skbigmodel`` must not import Dask (an optional extra): no
    module outside ``skbigmodel/dask/`` imports it."""
    package = Path(skbigmodel.__file__).parent
    for path in package.rglob("*.py"):
        if "dask" in path.relative_to(package).parts[:-1]:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            roots = {name.split(".")[0] for name in names}
            assert not roots & {"dask", "distributed", "dask_ml"}, path


def test_a_killed_worker_changes_no_bit(processes, classification):
    """A worker process killed while rounds run: Dask recomputes its
    partitions and tasks elsewhere; the model is that of an undisturbed fit."""
    cluster, client = processes
    X, y = classification
    Xd, yd = client.persist(_dask(X, y, rows=150))  # eight partitions on both workers
    est = LogisticClassifier(
        learning_rate_init=0.01, batch_size=64, random_state=0, max_iter=10, tol=None
    )
    undisturbed = DataParallel(est, client=client).fit(Xd, yd).estimator_
    pids = client.run(os.getpid)
    assert len(set(pids.values())) == 2
    rounds, killed = [], []

    class KillDuringRound2:
        def setup(self, estimator, context):
            pass

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context):
            pass

        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            if context.task_name == "round":
                rounds.append(1)
                if len(rounds) == 1:  # while round 2 runs
                    pid = next(iter(pids.values()))
                    threading.Timer(0.01, kill, (pid,)).start()
            return False

    def kill(pid):
        os.kill(pid, signal.SIGKILL)
        killed.append(len(rounds))

    model = DataParallel(est, client=client).set_callbacks(KillDuringRound2())
    model.fit(Xd, yd)
    assert killed and killed[0] < 10  # killed during the fit
    assert np.array_equal(_params(model.estimator_), _params(undisturbed))
    assert model.estimator_.loss_curve_ == undisturbed.loss_curve_
    assert next(iter(pids.values())) not in client.run(os.getpid).values()
