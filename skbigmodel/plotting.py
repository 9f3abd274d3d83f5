"""Training curves in scikit-learn's Display style.

matplotlib is optional (the ``plot`` extra) and imported only when drawing.
"""

import numpy as np
from sklearn.base import is_classifier, is_regressor
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = ["TrainingCurveDisplay"]


def _import_pyplot(caller):
    """matplotlib.pyplot, or an ImportError that names our extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib. Install it with "
            '`pip install "skbigmodel[plot]"`.'
        ) from exc
    return plt


class TrainingCurveDisplay:
    """Training loss and validation score per epoch.

    It is recommended to use :meth:`TrainingCurveDisplay.from_estimator` to
    create a display. All parameters are stored as attributes.

    The loss is drawn on the left y axis and the validation score on a twin
    right y axis, since they have different scales. The epoch with the best
    validation score is marked on the score curve and by a vertical line.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss at the end of each epoch (an estimator's
        ``loss_curve_``).

    validation_scores : array-like of shape (n_validated_epochs,), default=None
        Validation score after each epoch (an estimator's
        ``validation_scores_``), or None when there was no validation set.
        When shorter than `loss_curve` (a ``warm_start`` fit continues
        ``loss_curve_`` but records the scores of the last fit only), the
        scores belong to the last epochs of `loss_curve`.

    estimator_name : str, default=None
        Name of the estimator, shown in the legend. If None, no name is shown.

    score_name : str, default=None
        Name of the validation score, e.g. ``"accuracy"``. If None,
        ``"score"`` is used.

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        The loss curve, then, with validation scores, the score curve and the
        vertical line at the best validation epoch.

    ax_ : matplotlib Axes
        Axes with the loss curve (and the legend).

    score_ax_ : matplotlib Axes or None
        Twin axes (sharing the epoch axis with `ax_`) with the validation
        scores, or None without validation scores.

    figure_ : matplotlib Figure
        Figure containing the curves.

    best_epoch_ : int or None
        1-based epoch of the best validation score (the first one on ties),
        or None without validation scores.

    See Also
    --------
    TrainingCurveDisplay.from_estimator : Plot the curves of a fitted estimator.
    sklearn.model_selection.LearningCurveDisplay : Scores against training set size.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skbigmodel.plotting import TrainingCurveDisplay
    >>> display = TrainingCurveDisplay([0.9, 0.6, 0.5, 0.45], [0.7, 0.8, 0.85, 0.82],
    ...                                estimator_name="MLP", score_name="accuracy")
    >>> display = display.plot()
    >>> display.best_epoch_
    3
    >>> [line.get_label() for line in display.lines_]
    ['MLP training loss', 'MLP validation accuracy', 'Best validation epoch (3)']
    >>> plt.close(display.figure_)
    """

    def __init__(
        self,
        loss_curve,
        validation_scores=None,
        estimator_name=None,
        *,
        score_name=None,
    ):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name
        self.score_name = score_name

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        name=None,
        loss_kw=None,
        score_kw=None,
        best_epoch_kw=None,
    ):
        """Plot the training curves of a fitted estimator.

        Parameters
        ----------
        estimator : estimator instance
            A fitted skbigmodel estimator, or a fitted
            :class:`~sklearn.pipeline.Pipeline` whose last step is one. Any
            estimator with ``loss_curve_`` (and optionally
            ``validation_scores_``), such as scikit-learn's MLPs, also works.

        ax : matplotlib Axes, default=None
            Axes to plot the loss on. If None, a new figure and axes are
            created.

        name : str, default=None
            Name shown in the legend. If None, the class name of the
            estimator (the last step of a pipeline) is used.

        loss_kw : dict, default=None
            Keyword arguments passed to matplotlib's ``plot`` for the loss.

        score_kw : dict, default=None
            Keyword arguments passed to matplotlib's ``plot`` for the
            validation scores.

        best_epoch_kw : dict, default=None
            Keyword arguments passed to matplotlib's ``axvline`` for the
            vertical line at the best validation epoch.

        Returns
        -------
        display : TrainingCurveDisplay
            Object that stores the curves and the plotted artists.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        TypeError
            If the estimator records no loss curve.

        Examples
        --------
        >>> import warnings
        >>> import matplotlib.pyplot as plt
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.exceptions import ConvergenceWarning
        >>> from skbigmodel import MLPClassifier
        >>> from skbigmodel.plotting import TrainingCurveDisplay
        >>> X, y = make_classification(n_samples=300, random_state=0)
        >>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=15,
        ...                     early_stopping=True, random_state=0)
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", ConvergenceWarning)
        ...     clf = clf.fit(X, y)
        >>> display = TrainingCurveDisplay.from_estimator(clf)
        >>> display.ax_.get_xlabel(), display.score_ax_.get_ylabel()
        ('Epoch', 'Validation accuracy')
        >>> plt.close(display.figure_)
        """
        _import_pyplot(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        if isinstance(estimator, Pipeline):
            estimator = estimator[-1]
        if getattr(estimator, "loss_curve_", None) is None:
            raise TypeError(
                f"{type(estimator).__name__} has no loss_curve_: "
                f"{cls.__name__} needs an estimator trained epoch by epoch, such "
                "as skbigmodel's estimators or scikit-learn's MLPs."
            )
        display = cls(
            estimator.loss_curve_,
            getattr(estimator, "validation_scores_", None),
            estimator_name=type(estimator).__name__,
            score_name=_score_name(estimator),
        )
        return display.plot(
            ax=ax,
            name=name,
            loss_kw=loss_kw,
            score_kw=score_kw,
            best_epoch_kw=best_epoch_kw,
        )

    def plot(
        self, ax=None, *, name=None, loss_kw=None, score_kw=None, best_epoch_kw=None
    ):
        """Plot the training curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot the loss on. If None, a new figure and axes are
            created. The validation scores go on a twin of these axes.

        name : str, default=None
            Name shown in the legend. If None, `estimator_name` is used; if
            that is None too, no name is shown.

        loss_kw : dict, default=None
            Keyword arguments passed to matplotlib's ``plot`` for the loss.

        score_kw : dict, default=None
            Keyword arguments passed to matplotlib's ``plot`` for the
            validation scores.

        best_epoch_kw : dict, default=None
            Keyword arguments passed to matplotlib's ``axvline`` for the
            vertical line at the best validation epoch.

        Returns
        -------
        display : TrainingCurveDisplay
            Object that stores the curves and the plotted artists.
        """
        plt = _import_pyplot(f"{type(self).__name__}.plot")
        from matplotlib.ticker import MaxNLocator

        loss, scores = self._curves()
        if ax is None:
            _, ax = plt.subplots(layout="constrained")  # room for the twin axis label
        name = self.estimator_name if name is None else name
        epochs = np.arange(1, loss.size + 1)

        loss_kw = {
            "color": "C0",
            "label": _label(name, "training loss"),
            **(loss_kw or {}),
        }
        self.lines_ = list(ax.plot(epochs, loss, **loss_kw))
        ax.set_xlabel("Epoch")
        ax.set_ylabel("Training loss")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        self.score_ax_, self.best_epoch_ = None, None
        if scores is not None:
            self._plot_scores(
                ax,
                epochs[loss.size - scores.size :],
                scores,
                name,
                score_kw,
                best_epoch_kw,
            )
        ax.legend(handles=self.lines_, loc="best")
        self.ax_, self.figure_ = ax, ax.figure
        return self

    def _curves(self):
        """The curves as 1-D float arrays; scores are None or not empty."""
        loss = np.asarray(self.loss_curve, dtype=float).ravel()
        if loss.size == 0:
            raise ValueError("loss_curve is empty: there is nothing to plot.")
        scores = self.validation_scores
        if scores is not None:
            scores = np.asarray(scores, dtype=float).ravel()
            if scores.size > loss.size:
                raise ValueError(
                    f"validation_scores has {scores.size} values but loss_curve "
                    f"only {loss.size}: there is at most one score per epoch."
                )
            scores = scores if scores.size else None
        return loss, scores

    def _plot_scores(self, ax, epochs, scores, name, score_kw, best_epoch_kw):
        """Scores on a twin y axis, with the best epoch marked on them."""
        from matplotlib.lines import Line2D

        score_name = "score" if self.score_name is None else self.score_name
        best = int(np.argmax(scores))
        self.best_epoch_ = int(epochs[best])
        score_ax = ax.twinx()
        # A twin is drawn above its parent; put the parent (loss and legend)
        # on top instead, so that the score curve never hides the legend.
        ax.set_zorder(score_ax.get_zorder() + 1)
        score_ax.set_facecolor(ax.get_facecolor())
        score_ax.patch.set_visible(True)
        ax.patch.set_visible(False)

        score_kw = {
            "color": "C1",
            "marker": "o",
            "markevery": [best],
            "label": _label(name, f"validation {score_name}"),
            **(score_kw or {}),
        }
        self.lines_ += score_ax.plot(epochs, scores, **score_kw)
        score_ax.set_ylabel(f"Validation {score_name}")
        best_epoch_kw = {
            "color": "0.5",
            "linestyle": "--",
            "linewidth": 1,
            "label": f"Best validation epoch ({self.best_epoch_})",
            **(best_epoch_kw or {}),
        }
        self.lines_.append(ax.axvline(self.best_epoch_, **best_epoch_kw))
        # loc="best" only avoids the artists of the legend's own axes: give
        # ax_ an invisible copy of the scores (in score_ax_'s coordinates;
        # add_artist leaves ax_'s data limits alone).
        ax.add_artist(
            Line2D(epochs, scores, transform=score_ax.transData, visible=False)
        )
        self.score_ax_ = score_ax


def _score_name(estimator):
    """What ``score`` (and so ``validation_scores_``) measures."""
    if is_classifier(estimator):
        return "accuracy"
    if is_regressor(estimator):
        return "$R^2$"  # matplotlib's mathtext
    return None


def _label(name, what):
    """'MLPClassifier training loss', or 'Training loss' without a name."""
    return what[0].upper() + what[1:] if name is None else f"{name} {what}"
