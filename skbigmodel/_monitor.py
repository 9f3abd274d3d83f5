"""What a fit reports about itself: ``verbose`` lines and scikit-learn callbacks.

The training loop knows nothing of either; it calls ``epoch_begin`` and
``epoch_end`` of one :class:`Monitor` around every epoch. A fit is one
callback task whose subtasks are its epochs, so ``ProgressBar`` shows one
step per epoch and ``ScoringMonitor`` scores the model after each epoch,
also when the estimator sits in a ``Pipeline`` or ``GridSearchCV`` that
carries the callbacks (scikit-learn then hands us its context).
"""

import copy
import sys
import time

__all__ = ["Monitor"]


class Monitor:
    """Report each epoch of one fit of ``est``.

    Parameters
    ----------
    est : BaseStochasticEstimator
        The estimator being fitted; its ``_callback_fit_ctx`` is the root
        task, opened by ``_init_callback_context`` before the fit.
    X, y, metadata
        The training data as the callbacks should see it (validated ``X``,
        the user's ``y``, ``{"sample_weight": ...}`` or None).
    loss_unit : float
        Converts the kernels' (standardised) loss to the user's units.
    """

    # What a subtask is: an epoch, or an iteration of a full-batch solver
    # (``_full_batch.py`` sets it).
    step_name = "epoch"

    def __init__(self, est, X, y, metadata, loss_unit):
        self.est, self.loss_unit = est, loss_unit
        self.data = dict(X=X, y=y, metadata=metadata)
        self.root = est._callback_fit_ctx
        self.task = None
        self.started = None

    def fit_begin(self):
        self.root.call_on_fit_task_begin(estimator=self.est, **self.data)

    def fit_end(self):
        """End the root task; ``est`` is fitted by now."""
        self.root.call_on_fit_task_end(
            estimator=self.est, reconstruction_attributes={}, **self.data
        )

    def epoch_begin(self):
        self.started = time.perf_counter()
        self.task = self.root.subcontext(task_name=self.step_name)
        self.task.call_on_fit_task_begin(estimator=self.est, **self.data)

    def epoch_end(self, epoch, loss, score, net, averaged=None):
        """Report a finished epoch; True when a callback asks to stop.

        averaged : the averaged parameters (averaged SGD), or None."""
        if self.est.verbose:
            seconds = time.perf_counter() - self.started
            name = self.step_name.capitalize()
            _print_epoch(epoch, loss * self.loss_unit, score, seconds, name)

        # Built only if a callback asks for ``fitted_estimator``.
        def fitted_attributes():
            return _fitted_attributes(self.est, net, averaged)

        return self.task.call_on_fit_task_end(
            estimator=self.est,
            reconstruction_attributes=fitted_attributes,
            **self.data,
        )


def _fitted_attributes(est, net, averaged=None):
    """The public fitted attributes ``est`` would have with ``net``'s parameters."""
    probe = copy.copy(est)
    probe._set_fitted(net.copy(), averaged)
    return {
        name: value
        for name, value in vars(probe).items()
        if name.endswith("_") and not name.startswith("_")
    }


def _print_epoch(epoch, loss, score, seconds, name="Epoch"):
    line = f"{name} {epoch}, loss = {loss:.8f}"
    if score is not None:
        line += f", validation score = {score:.6f}"
    print(f"{line}, {seconds:.3f} s", file=sys.stderr)
