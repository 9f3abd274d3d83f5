"""TrainingCurveDisplay draws the real fitted curves, rendered with Agg."""

import sys

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbigmodel import LinearRegressor, LogisticClassifier, MLPClassifier
from skbigmodel.plotting import TrainingCurveDisplay

matplotlib.use("Agg")  # headless, whatever the machine's default backend
import matplotlib.image
import matplotlib.pyplot as plt
from matplotlib.colors import to_rgb

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def classification():
    return make_classification(n_samples=300, n_features=8, random_state=0)


@pytest.fixture(scope="module")
def mlp(classification):
    """An MLP with early stopping whose validation score changes over epochs."""
    X, y = classification
    return MLPClassifier(
        hidden_layer_sizes=(16,),
        max_iter=12,
        batch_size=32,
        early_stopping=True,
        n_iter_no_change=100,
        random_state=0,
    ).fit(X, y)


@pytest.fixture(scope="module")
def regressor():
    """A regressor without a validation set."""
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    return LinearRegressor(max_iter=8, random_state=0).fit(X, y)


def legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_lines_hold_the_fitted_curves(mlp):
    display = TrainingCurveDisplay.from_estimator(mlp)
    loss_line, score_line, best_line = display.lines_
    n_epochs = len(mlp.loss_curve_)
    assert n_epochs == mlp.n_iter_ > 1
    assert len(mlp.validation_scores_) == n_epochs
    epochs = np.arange(1, n_epochs + 1)
    np.testing.assert_array_equal(loss_line.get_xdata(), epochs)
    np.testing.assert_array_equal(loss_line.get_ydata(), mlp.loss_curve_)
    np.testing.assert_array_equal(score_line.get_xdata(), epochs)
    np.testing.assert_array_equal(score_line.get_ydata(), mlp.validation_scores_)
    # the scores vary, so the best epoch is a real choice
    assert np.ptp(mlp.validation_scores_) > 0
    best = int(np.argmax(mlp.validation_scores_)) + 1
    assert display.best_epoch_ == best
    np.testing.assert_array_equal(best_line.get_xdata(), [best, best])
    assert score_line.get_markevery() == [best - 1]
    assert max(mlp.validation_scores_) == mlp.best_validation_score_

    # loss on ax_, scores on a twin of it that shares the epoch axis
    assert loss_line.axes is display.ax_ and best_line.axes is display.ax_
    assert score_line.axes is display.score_ax_
    assert display.score_ax_.get_shared_x_axes().joined(display.ax_, display.score_ax_)
    assert display.figure_ is display.ax_.figure
    assert len(display.figure_.axes) == 2


def test_labels_and_legend(mlp):
    display = TrainingCurveDisplay.from_estimator(mlp)
    assert display.ax_.get_xlabel() == "Epoch"
    assert display.ax_.get_ylabel() == "Training loss"
    assert display.score_ax_.get_ylabel() == "Validation accuracy"
    best = display.best_epoch_
    assert legend_texts(display.ax_) == [
        "MLPClassifier training loss",
        "MLPClassifier validation accuracy",
        f"Best validation epoch ({best})",
    ]


def test_name_and_keyword_arguments(mlp):
    display = TrainingCurveDisplay.from_estimator(
        mlp,
        name="tiny net",
        loss_kw={"color": "black"},
        score_kw={"linestyle": ":"},
        best_epoch_kw={"color": "red"},
    )
    loss_line, score_line, best_line = display.lines_
    assert legend_texts(display.ax_)[:2] == [
        "tiny net training loss",
        "tiny net validation accuracy",
    ]
    assert to_rgb(loss_line.get_color()) == (0.0, 0.0, 0.0)
    assert score_line.get_linestyle() == ":"
    assert to_rgb(best_line.get_color()) == (1.0, 0.0, 0.0)


def test_ax_is_reused(mlp):
    fig, ax = plt.subplots()
    display = TrainingCurveDisplay.from_estimator(mlp, ax=ax)
    assert display.ax_ is ax
    assert display.figure_ is fig
    assert display.score_ax_.figure is fig
    assert display.lines_[0] in ax.get_lines()
    assert plt.get_fignums() == [fig.number]  # no other figure was opened


def test_png_is_not_blank(mlp, tmp_path):
    display = TrainingCurveDisplay.from_estimator(mlp)
    path = tmp_path / "curves.png"
    display.figure_.savefig(path)  # at the figure's dpi: pixels match the axes
    assert path.stat().st_size > 0
    image = matplotlib.image.imread(path)[..., :3]
    assert image.std() > 0.05

    # the plot area (inside the frame) holds pixels of both curves' colours
    x0, y0, x1, y1 = display.ax_.get_window_extent().extents.round().astype(int)
    height = image.shape[0]
    area = image[height - y1 + 2 : height - y0 - 2, x0 + 2 : x1 - 2]
    for line in display.lines_[:2]:
        colour = np.array(to_rgb(line.get_color()))
        assert (np.abs(area - colour).max(axis=-1) < 0.02).sum() > 50
    assert (area.min(axis=-1) < 0.9).mean() > 0.005  # not just background


def test_pipeline_uses_its_last_step(classification):
    X, y = classification
    pipe = make_pipeline(
        StandardScaler(),
        LogisticClassifier(max_iter=10, early_stopping=True, random_state=0),
    ).fit(X, y)
    model = pipe[-1]
    display = TrainingCurveDisplay.from_estimator(pipe)
    np.testing.assert_array_equal(display.lines_[0].get_ydata(), model.loss_curve_)
    np.testing.assert_array_equal(
        display.lines_[1].get_ydata(), model.validation_scores_
    )
    assert legend_texts(display.ax_)[0] == "LogisticClassifier training loss"


def test_no_validation_draws_one_line(regressor):
    assert regressor.validation_scores_ is None
    display = TrainingCurveDisplay.from_estimator(regressor)
    assert len(display.lines_) == 1
    np.testing.assert_array_equal(display.lines_[0].get_ydata(), regressor.loss_curve_)
    assert display.score_ax_ is None and display.best_epoch_ is None
    assert display.figure_.axes == [display.ax_]
    assert legend_texts(display.ax_) == ["LinearRegressor training loss"]


def test_regressor_with_a_validation_set_shows_r2():
    X, y = make_regression(n_samples=240, n_features=5, noise=1.0, random_state=0)
    model = LinearRegressor(max_iter=6, random_state=0)
    model.fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    display = TrainingCurveDisplay.from_estimator(model)
    np.testing.assert_array_equal(
        display.lines_[1].get_ydata(), model.validation_scores_
    )
    assert display.score_ax_.get_ylabel() == "Validation $R^2$"


def test_warm_start_scores_belong_to_the_last_epochs(classification):
    X, y = classification
    model = LogisticClassifier(
        max_iter=5,
        early_stopping=True,
        n_iter_no_change=100,
        warm_start=True,
        random_state=0,
    )
    model.fit(X, y).fit(X, y)
    # loss_curve_ runs over both fits, validation_scores_ over the last one
    assert len(model.loss_curve_) == 10 and len(model.validation_scores_) == 5
    display = TrainingCurveDisplay.from_estimator(model)
    np.testing.assert_array_equal(display.lines_[1].get_xdata(), np.arange(6, 11))
    assert display.best_epoch_ == 6 + int(np.argmax(model.validation_scores_))


def test_scikit_learn_mlp_works_too(classification):
    X, y = classification
    model = SklearnMLPClassifier(
        hidden_layer_sizes=(8,), max_iter=10, early_stopping=True, random_state=0
    ).fit(X, y)
    display = TrainingCurveDisplay.from_estimator(model)
    np.testing.assert_array_equal(display.lines_[0].get_ydata(), model.loss_curve_)
    np.testing.assert_array_equal(
        display.lines_[1].get_ydata(), model.validation_scores_
    )


@pytest.mark.parametrize(
    "estimator",
    [
        LogisticClassifier(),
        make_pipeline(StandardScaler(), MLPClassifier()),
        LogisticRegression(),
    ],
    ids=["skbigmodel", "pipeline", "scikit-learn"],
)
def test_unfitted_estimator_raises(estimator):
    with pytest.raises(NotFittedError):
        TrainingCurveDisplay.from_estimator(estimator)
    assert plt.get_fignums() == []  # failed before drawing anything


def test_estimator_without_loss_curve_raises(classification):
    X, y = classification
    model = LogisticRegression().fit(X, y)
    with pytest.raises(TypeError, match="LogisticRegression has no loss_curve_"):
        TrainingCurveDisplay.from_estimator(model)
    lbfgs = SklearnMLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=5)
    with pytest.warns(ConvergenceWarning):
        lbfgs.fit(X, y)
    with pytest.raises(TypeError, match="no loss_curve_"):
        TrainingCurveDisplay.from_estimator(make_pipeline(StandardScaler(), lbfgs))


def test_display_from_arrays_checks_the_curves():
    with pytest.raises(ValueError, match="at most one score per epoch"):
        TrainingCurveDisplay([1.0, 0.5], [0.1, 0.2, 0.3]).plot()
    with pytest.raises(ValueError, match="loss_curve is empty"):
        TrainingCurveDisplay([]).plot()
    display = TrainingCurveDisplay([3.0, 2.0, 1.0], [0.5, 0.9, 0.7]).plot()
    assert display.best_epoch_ == 2
    assert display.score_ax_.get_ylabel() == "Validation score"
    assert legend_texts(display.ax_)[:2] == ["Training loss", "Validation score"]


def test_missing_matplotlib_names_the_extra(monkeypatch, mlp):
    # None in sys.modules makes the import fail as if matplotlib were absent
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "skbigmodel\[plot\]"'):
        TrainingCurveDisplay.from_estimator(mlp)
    with pytest.raises(ImportError, match="TrainingCurveDisplay.plot requires"):
        TrainingCurveDisplay([1.0]).plot()
