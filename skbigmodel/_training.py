"""The one training loop shared by every estimator.

It runs epochs through a network's epoch runner and, between kernel calls,
does what needs Python: shuffling, the loss curve, the stopping rule and
early stopping, the adaptive learning rate and divergence checks; after
each epoch it tells a ``Monitor`` (``verbose`` and scikit-learn callbacks).
It knows nothing of the estimator: what it needs comes as arguments.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._gcpause import first_kernel_calls
from ._kernels.bundles import Average, State
from ._kernels.shuffle import shuffled
from ._penalties import penalty_value

__all__ = ["History", "OptimizerState", "StoppingRule", "TrainingDiverged", "train"]

ADAPTIVE_MIN_LR = 1e-6
# A loss (of the standardised problem, where a model of zeros scores about 1)
# this many times above the lowest of the fit so far is a divergence, even
# while it is still finite: otherwise n_iter_no_change would end the fit
# quietly, as if converged, on an exploding model. Training then stops and
# keeps the epoch of lowest loss, with a warning.
DIVERGED_GROWTH = 1e4


class TrainingDiverged(ValueError):
    """The loss or the parameters became non-finite during training."""


@dataclass
class OptimizerState:
    """Moments and step count of the optimiser, kept across partial_fit calls.

    With averaged SGD, ``average`` holds the mean of the parameters from
    the sample ``average_start`` on, over ``average_counts[0]`` steps (see
    ``_kernels/averaging.py`` for the other counts); else None. With
    ``average_each_epoch`` the mean restarts at every epoch (dense data
    only: the lazy CSR mean keeps more counts).
    """

    m: np.ndarray
    v: np.ndarray
    step: int = 0
    average: np.ndarray | None = None
    average_counts: np.ndarray | None = None
    average_start: float = 1.0
    average_each_epoch: bool = False

    @classmethod
    def zeros(cls, size, dtype=np.float64, params_dtype=None, average=False):
        """A fresh state; ``average``: False, the sample (True: 1) from which
        the mean of the parameters (in ``params_dtype``) is taken, or
        "epoch": the mean of each epoch's steps."""
        state = cls(np.zeros(size, dtype), np.zeros(size, dtype))
        if average is not False and average:
            state.average = np.zeros(size, params_dtype or dtype)
            state.average_counts = np.zeros(3)
            state.average_each_epoch = average == "epoch"
            state.average_start = 1.0 if state.average_each_epoch else float(average)
        return state

    def copy(self):
        copied = OptimizerState(self.m.copy(), self.v.copy(), self.step)
        if self.average is not None:
            copied.average = self.average.copy()
            copied.average_counts = self.average_counts.copy()
            copied.average_start = self.average_start
            copied.average_each_epoch = self.average_each_epoch
        return copied

    def restore(self, other):
        """Take the values of ``other`` (a copy of this state)."""
        self.m[:], self.v[:], self.step = other.m, other.v, other.step
        if self.average is not None:
            self.average[:], self.average_counts[:] = (
                other.average,
                other.average_counts,
            )

    def averaged(self):
        """The mean parameters, once at least one step is averaged; else None."""
        if self.average is None or self.average_counts[0] == 0:
            return None
        return self.average

    def begin_epoch(self):
        """Called before each epoch: an epoch-wise mean starts anew."""
        if self.average_each_epoch:
            self.average[:], self.average_counts[0] = 0.0, 0.0

    def bundle(self, params):
        """The kernels' ``State`` of ``params`` and this optimiser state."""
        avg = None
        if self.average is not None:
            lazy = np.zeros(params.size)  # zero between windows: one per epoch
            avg = Average(self.average, self.average_counts, self.average_start, lazy)
        return State(params, self.m, self.v, avg)


@dataclass
class History:
    """What a run of epochs leaves behind (scikit-learn's fitted attributes)."""

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    n_iter: int = 0
    n_samples_seen: int = 0
    best_validation_score: float = -np.inf
    best_params: np.ndarray = None


def with_learning_rate(hyper, lr):
    """``hyper`` (a kernel ``Hyper`` bundle) with the optimiser's base step ``lr``."""
    return hyper._replace(optimizer=hyper.optimizer._replace(lr=float(lr)))


def train(
    net,
    state,
    hyper,
    runner,
    train_rows,
    *,
    rng,
    shuffle,
    max_epochs,
    monitor,
    history,
    stopping=None,
    validate=None,
    loss_unit=1.0,
):
    """Train ``net`` in place for up to ``max_epochs`` epochs; fill ``history``.

    state : the ``OptimizerState``. hyper : the kernels' ``Hyper`` bundle.
    runner(state, order, step, hyper) runs one epoch over the rows
    ``order`` and returns (sum of weighted losses, last step); with
    ``shuffle`` each epoch visits ``train_rows`` in an order drawn from
    ``rng``. validate(params) -> score, or None when there is no validation
    set. monitor.epoch_begin() and monitor.epoch_end(...) -> stop surround
    every epoch (verbose output, scikit-learn callbacks, which may ask to
    stop). stopping : a ``StoppingRule``, or None to run every epoch (one
    ``partial_fit`` epoch). loss_unit converts the kernels' loss (on
    standardised targets) back to the units of the user's targets for
    ``loss_curve_``; ``tol`` applies to the standardised loss, so it does not
    depend on the targets' scale.

    Raises TrainingDiverged on a non-finite loss; the caller's model is
    untouched since ``net`` and ``state`` are working copies. Ctrl-C ends
    training early with a warning, keeping the parameters of the last
    completed kernel call.
    """
    lowest = _LowestLoss()
    try:
        for epoch in range(max_epochs):
            monitor.epoch_begin()
            with first_kernel_calls():  # see _gcpause
                order = train_rows
                if shuffle:
                    order = shuffled(train_rows, rng.randint(2**63 - 1, dtype=np.int64))
                loss, score = _epoch(
                    net,
                    state,
                    hyper,
                    runner,
                    order,
                    validate,
                    history,
                    epoch,
                    loss_unit,
                )
            stop = monitor.epoch_end(epoch + 1, loss, score, net, state.averaged())
            if lowest.exploded(loss):
                lowest.restore(net, state, epoch + 1, loss, loss_unit)
                break
            lowest.record(loss, net, state, epoch + 1)
            if score is not None and score > history.best_validation_score:
                history.best_validation_score = score
                history.best_params = _model_params(net, state).copy()
            if stop:
                break  # a callback asked to stop
            if stopping is not None:
                lr = stopping.next_learning_rate(loss, score, hyper.optimizer.lr)
                if lr is None:
                    break
                if lr != hyper.optimizer.lr:
                    hyper = with_learning_rate(hyper, lr)
        else:
            if stopping is not None and max_epochs > 0:
                warnings.warn(
                    f"Stochastic optimizer: maximum iterations ({max_epochs}) reached "
                    "and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                )
    except KeyboardInterrupt:  # Ctrl-C: keep the last completed kernel call
        if not np.isfinite(net.params).all():
            raise
        warnings.warn(
            "Training interrupted by user: the model keeps the parameters of the "
            "last completed epoch (or segment of an epoch).",
            UserWarning,
        )
    if history.best_params is not None:
        _model_params(net, state)[:] = history.best_params
    return history


def _model_params(net, state):
    """The parameters ``predict`` uses: the mean of averaged SGD, or the last."""
    averaged = state.averaged()
    return net.params if averaged is None else averaged


def _epoch(net, state, hyper, runner, order, validate, history, epoch, loss_unit):
    """Run one epoch, check it, record it; return (standardised loss, score)."""
    state.begin_epoch()
    bundle = state.bundle(net.params)
    loss_sum, state.step = runner(bundle, order, state.step, hyper)
    total_weight = order.size / hyper.weight_scale
    # tol applies to the loss of the standardised problem: scale-free
    penalty = hyper.penalty
    loss = loss_sum / total_weight + penalty_value(
        net.penalized, penalty.a1, penalty.a2
    )
    if not (np.isfinite(loss) and np.isfinite(net.params).all()):
        raise TrainingDiverged(
            f"Training diverged at epoch {epoch + 1}: the loss is {loss}. "
            "Lower learning_rate_init or scale the features "
            "(e.g. with StandardScaler); the model was left unchanged."
        )
    history.n_iter += 1
    history.n_samples_seen += order.size
    history.loss_curve.append(float(loss * loss_unit))
    score = None
    if validate is not None:
        score = validate(_model_params(net, state))
        history.validation_scores.append(score)
    return loss, score


class _LowestLoss:
    """The epoch of lowest loss so far (parameters and optimiser state), to
    fall back on when the loss explodes while still finite."""

    def __init__(self):
        self.loss, self.epoch = np.inf, 0
        self.params = self.state = None

    def exploded(self, loss):
        return loss > DIVERGED_GROWTH * max(self.loss, 1.0)

    def record(self, loss, net, state, epoch):
        if loss < self.loss:
            self.loss, self.epoch = loss, epoch
            self.params, self.state = net.params.copy(), state.copy()

    def restore(self, net, state, epoch, loss, loss_unit):
        net.params[:] = self.params
        state.restore(self.state)
        warnings.warn(
            f"Training diverged at epoch {epoch}: the loss grew from "
            f"{self.loss * loss_unit:.3g} to {loss * loss_unit:.3g}. The model keeps "
            f"the parameters of epoch {self.epoch}, whose loss was the lowest. Lower "
            "learning_rate_init or scale the features (e.g. with StandardScaler).",
            ConvergenceWarning,
        )


class StoppingRule:
    """scikit-learn's MLP rule: stop after ``n_iter_no_change`` epochs without
    improving the loss (or the validation score) by ``tol``; with
    ``adaptive``, first divide the learning rate by 5, down to 1e-6."""

    def __init__(self, tol, n_iter_no_change, adaptive=False):
        self.tol, self.n_iter_no_change, self.adaptive = tol, n_iter_no_change, adaptive
        self.best_loss, self.best_score = np.inf, -np.inf
        self.no_improvement = 0

    def next_learning_rate(self, loss, score, lr):
        """Record an epoch's loss and validation score (None without a
        validation set); return the learning rate of the next epoch, or
        None to stop."""
        if score is not None:
            improved = score > self.best_score + self.tol
            self.best_score = max(self.best_score, score)
        else:
            improved = loss < self.best_loss - self.tol
            self.best_loss = min(self.best_loss, loss)
        self.no_improvement = 0 if improved else self.no_improvement + 1
        if self.no_improvement <= self.n_iter_no_change:
            return lr
        if self.adaptive and lr / 5 > ADAPTIVE_MIN_LR:
            self.no_improvement = 0
            return lr / 5.0
        return None
