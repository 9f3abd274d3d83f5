"""scikit-learn's callback API (set_callbacks, ProgressBar, ScoringMonitor)."""

import pickle
import re

import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbigmodel import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL_MLP = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01)


class Recorder:
    """A FitCallback that records every hook call and can ask to stop."""

    def __init__(self, stop_after=None):
        self.stop_after = stop_after
        self.events = []

    def setup(self, estimator, context):
        self.events.append("setup")

    def teardown(self, estimator, context):
        self.events.append("teardown")

    def on_fit_task_begin(self, estimator, context):
        self.events.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.events.append(("end", context.task_name))
        if context.task_name == "epoch":
            self.last_fitted = fitted_estimator
            epochs = self.events.count(("end", "epoch"))
            return self.stop_after is not None and epochs >= self.stop_after
        return False


@pytest.mark.parametrize(
    "make, data",
    [
        (lambda: LogisticClassifier(max_iter=4, random_state=0), "multiclass_data"),
        (lambda: LinearRegressor(max_iter=4, random_state=0), "regression_data"),
        (lambda: MLPClassifier(max_iter=4, random_state=0, **SMALL_MLP), "binary_data"),
        (
            lambda: MLPRegressor(max_iter=4, random_state=0, **SMALL_MLP),
            "regression_data",
        ),
    ],
)
def test_scoring_monitor_scores_every_epoch(make, data, request):
    X, y = request.getfixturevalue(data)
    est = make()
    scoring = "accuracy" if is_classifier(est) else "r2"
    monitor = ScoringMonitor(scoring=scoring)  # what est.score computes
    est.set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    epochs = [row for row in rows if row["task_name"] == "epoch"]
    assert [row["task_id"] for row in epochs] == list(range(est.n_iter_))
    # The last epoch's model is the final model; the fit task scores it too.
    final = est.score(X, y)
    assert epochs[-1][scoring] == pytest.approx(final, rel=1e-6)
    assert [row[scoring] for row in rows if row["task_name"] == "fit"] == [
        pytest.approx(final, rel=1e-6)
    ]
    # Training improves the score: the epochs are different models.
    assert epochs[-1][scoring] > epochs[0][scoring]


def test_hooks_come_in_pairs_and_fitted_estimator_predicts(multiclass_data):
    X, y = multiclass_data
    recorder = Recorder()
    est = LogisticClassifier(max_iter=3, tol=0, random_state=0).set_callbacks(recorder)
    est.fit(X, y)
    epoch_pairs = [("begin", "epoch"), ("end", "epoch")] * 3
    assert recorder.events == [
        "setup",
        ("begin", "fit"),
        *epoch_pairs,
        ("end", "fit"),
        "teardown",
    ]
    # fitted_estimator of the last epoch predicts as the final model does.
    np.testing.assert_array_equal(recorder.last_fitted.predict(X), est.predict(X))
    assert recorder.last_fitted is not est


def test_a_callback_can_stop_training(binary_data):
    X, y = binary_data
    est = LogisticClassifier(max_iter=50, tol=0, random_state=0)
    est.set_callbacks(Recorder(stop_after=3)).fit(X, y)
    assert est.n_iter_ == 3 and len(est.loss_curve_) == 3


def test_partial_fit_is_a_task_of_one_epoch(binary_data):
    X, y = binary_data
    recorder = Recorder()
    est = LogisticClassifier(random_state=0).set_callbacks(recorder)
    est.partial_fit(X, y, classes=np.unique(y))
    est.partial_fit(X, y)
    one_call = [
        "setup",
        ("begin", "fit"),
        ("begin", "epoch"),
        ("end", "epoch"),
        ("end", "fit"),
        "teardown",
    ]
    assert recorder.events == one_call * 2


def test_a_failed_fit_tears_callbacks_down_and_keeps_the_model(binary_data):
    X, y = binary_data
    recorder = Recorder()
    est = LogisticClassifier(max_iter=2, random_state=0).set_callbacks(recorder)
    est.fit(X, y)

    def state():  # the recorder itself changes: compare the rest
        return sorted(est.__dict__), pickle.dumps(
            {k: v for k, v in est.__dict__.items() if k != "_skl_callbacks"}
        )

    before = state()
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(X_bad, y)
    assert recorder.events[-1] == "teardown"
    assert recorder.events.count("setup") == recorder.events.count("teardown") == 2
    assert state() == before


def test_progress_bar_shows_the_epochs(binary_data, capsys):
    X, y = binary_data
    LogisticClassifier(max_iter=5, tol=0).set_callbacks(ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert "LogisticClassifier - fit" in out and "100%" in out


def test_progress_bar_propagates_through_a_pipeline(binary_data, capsys):
    X, y = binary_data
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=3, **SMALL_MLP))
    pipe.set_callbacks(ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"Pipeline - fit-final-estimator \| MLPClassifier - fit", out)
    # the propagated callback is removed again after the fit
    assert not hasattr(pipe[-1], "_skl_callbacks")


def test_scoring_monitor_inside_grid_search(multiclass_data):
    X, y = multiclass_data
    monitor = ScoringMonitor(scoring="accuracy")
    est = LogisticClassifier(max_iter=2, tol=0).set_callbacks(monitor)
    search = GridSearchCV(est, {"alpha": [1e-4, 1e-2]}, cv=2).fit(X, y)
    log = monitor.get_logs()
    assert log.estimator_name == "GridSearchCV"
    epochs = [row for row in log.data if row["task_name"] == "epoch"]
    # 2 candidates x 2 folds + the refit, 2 epochs each
    assert len(epochs) == (2 * 2 + 1) * 2
    assert all(0 <= row["accuracy"] <= 1 for row in epochs)
    assert search.best_estimator_.n_iter_ == 2


def test_verbose_reports_the_loss_curve(capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = 1000 * X @ [1.0, -2.0, 0.5] + 5000  # the kernels see standardised targets
    est = LinearRegressor(
        max_iter=3, verbose=1, early_stopping=True, tol=0, random_state=0
    ).fit(X, y)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    pattern = r"Epoch (\d+), loss = ([\d.e+-]+), validation score = ([\d.e+-]+), "
    for epoch, line in enumerate(lines):
        number, loss, score = re.match(pattern, line).groups()
        assert int(number) == epoch + 1
        assert float(loss) == pytest.approx(est.loss_curve_[epoch], rel=1e-7)
        assert float(score) == pytest.approx(est.validation_scores_[epoch], abs=1e-6)
