"""The one training loop shared by every estimator.

It runs epochs through a network's epoch kernel and, between kernel calls,
does what needs Python: shuffling, the loss curve, tolerance and early
stopping, the adaptive learning rate and divergence checks; after each epoch
it tells a ``Monitor`` (``verbose`` and scikit-learn callbacks).
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._gcpause import first_kernel_calls
from ._kernels.steps import shuffled
from ._penalties import penalty_value

__all__ = ["Hyper", "OptimizerState", "TrainingDiverged", "train"]

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
class Hyper:
    """Scalars of one fit, in the order the epoch kernels take them."""

    loss: int
    epsilon: float
    opt: int
    lr: float
    schedule: int
    power_t: float
    momentum: float
    nesterov: bool
    beta_1: float
    beta_2: float
    eps: float
    a1: float
    a2: float
    weight_scale: float
    fit_intercept: bool

    def kernel_args(self):
        return (
            self.loss, self.epsilon, self.opt, self.lr, self.schedule, self.power_t,
            self.momentum, self.nesterov, self.beta_1, self.beta_2, self.eps,
            self.a1, self.a2, self.weight_scale,
        )  # fmt: skip


@dataclass
class OptimizerState:
    """Moments and step count of the optimiser, kept across partial_fit calls."""

    m: np.ndarray
    v: np.ndarray
    step: int = 0

    @classmethod
    def zeros(cls, size, dtype=np.float64):
        return cls(np.zeros(size, dtype), np.zeros(size, dtype))

    def copy(self):
        return OptimizerState(self.m.copy(), self.v.copy(), self.step)


@dataclass
class History:
    """What a run of epochs leaves behind (scikit-learn's fitted attributes)."""

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    n_iter: int = 0
    n_samples_seen: int = 0
    best_validation_score: float = -np.inf
    best_params: np.ndarray = None


def train(net, state, hyper, runner, train_rows, *, est, rng, max_epochs, monitor,
          validate=None, loss_unit=1.0, check_convergence=True):
    """Train ``net`` in place for up to ``max_epochs`` epochs.

    runner(params, m, v, order, step, hyper) runs one epoch over the rows
    ``order`` and returns (sum of weighted losses, last step).
    validate(params) -> score, or None when there is no validation set.
    monitor.epoch_begin() and monitor.epoch_end(...) -> stop surround every
    epoch (verbose output, scikit-learn callbacks, which may ask to stop).
    loss_unit converts the kernels' loss (on standardised targets) back
    to the units of the user's targets for ``loss_curve_``; ``tol`` applies
    to the standardised loss, so it does not depend on the targets' scale.
    Raises TrainingDiverged on a non-finite loss; the caller's model is untouched since ``net`` and
    ``state`` are working copies. Ctrl-C ends training early with a warning,
    keeping the parameters of the last completed kernel call.
    """
    history = History()
    stopping = _Stopping(est, hyper)
    lowest = _LowestLoss()
    try:
        for epoch in range(max_epochs):
            monitor.epoch_begin()
            with first_kernel_calls():  # see _gcpause
                loss, score = _epoch(net, state, hyper, runner, train_rows, est, rng,
                                     validate, history, epoch, loss_unit)  # fmt: skip
            stop = monitor.epoch_end(epoch + 1, loss, score, net)
            if lowest.exploded(loss):
                lowest.restore(net, state, epoch + 1, loss, loss_unit)
                break
            lowest.record(loss, net, state, epoch + 1)
            if stop:
                break  # a callback asked to stop
            if check_convergence and stopping.done(loss, score, net, history):
                break
        else:
            if check_convergence and max_epochs > 0:
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
        net.params[:] = history.best_params
    return history


def _epoch(net, state, hyper, runner, train_rows, est, rng, validate, history, epoch,
           loss_unit):  # fmt: skip
    """Run one epoch, check it, record it; return (standardised loss, score)."""
    order = train_rows
    if est.shuffle:
        order = shuffled(train_rows, rng.randint(2**63 - 1, dtype=np.int64))
    loss_sum, state.step = runner(net.params, state.m, state.v, order, state.step,
                                  hyper)  # fmt: skip
    total_weight = train_rows.size / hyper.weight_scale
    # tol applies to the loss of the standardised problem: scale-free
    loss = loss_sum / total_weight + penalty_value(net.penalized, hyper.a1, hyper.a2)
    if not (np.isfinite(loss) and np.isfinite(net.params).all()):
        raise TrainingDiverged(
            f"Training diverged at epoch {epoch + 1}: the loss is {loss}. "
            "Lower learning_rate_init or scale the features "
            "(e.g. with StandardScaler); the model was left unchanged."
        )
    history.n_iter += 1
    history.n_samples_seen += train_rows.size
    history.loss_curve.append(float(loss * loss_unit))
    score = None
    if validate is not None:
        score = validate(net.params)
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
        state.m[:], state.v[:], state.step = self.state.m, self.state.v, self.state.step
        warnings.warn(
            f"Training diverged at epoch {epoch}: the loss grew from "
            f"{self.loss * loss_unit:.3g} to {loss * loss_unit:.3g}. The model keeps "
            f"the parameters of epoch {self.epoch}, whose loss was the lowest. Lower "
            "learning_rate_init or scale the features (e.g. with StandardScaler).",
            ConvergenceWarning,
        )


class _Stopping:
    """scikit-learn's MLP rule: stop after n_iter_no_change epochs without
    improving the loss (or the validation score) by tol; "adaptive" first
    divides the learning rate by 5, down to 1e-6."""

    def __init__(self, est, hyper):
        self.est, self.hyper = est, hyper
        self.best_loss, self.no_improvement = np.inf, 0

    def done(self, loss, score, net, history):
        est = self.est
        if score is not None:
            improved = score > history.best_validation_score + est.tol
            if score > history.best_validation_score:
                history.best_validation_score = score
                history.best_params = net.params.copy()
        else:
            improved = loss < self.best_loss - est.tol
            self.best_loss = min(self.best_loss, loss)
        self.no_improvement = 0 if improved else self.no_improvement + 1
        if self.no_improvement <= est.n_iter_no_change:
            return False
        if est.learning_rate == "adaptive" and self.hyper.lr / 5 > ADAPTIVE_MIN_LR:
            self.hyper.lr /= 5.0
            self.no_improvement = 0
            return False
        return True

