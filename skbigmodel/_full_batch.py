"""The full-batch solver: SciPy's L-BFGS-B on the objective of ``_objective.py``.

An iteration of L-BFGS is what an epoch is for the stochastic solvers: the
``Monitor`` (``verbose``, scikit-learn's callbacks) reports each, the loss
curve gets one entry per iteration, and ``max_iter`` counts them, as in
scikit-learn's MLP (``maxiter=max_iter``, ``maxfun=max_fun``,
``gtol=tol``). Like the training loop, it knows nothing of the estimator:
what it needs comes as arguments.
"""

import warnings

import numpy as np
import scipy.optimize

from ._losses import MARGIN_LOSSES, REGRESSION_LOSSES
from ._optimizers import FULL_BATCH_SOLVERS, asks_to_average
from ._penalties import PENALTIES
from ._runners import blas_controller
from ._sklearn_compat import _check_optimize_result
from ._training import TrainingDiverged

__all__ = ["check_full_batch", "stochastic_solver", "train_lbfgs"]


def stochastic_solver(est):
    """``available_if`` test of ``partial_fit``: scikit-learn's MLP's error."""
    if est.solver in FULL_BATCH_SOLVERS:
        raise AttributeError(
            "partial_fit is only available for stochastic optimizers. "
            f"{est.solver} is not stochastic."
        )
    return True


def check_full_batch(est):
    """What L-BFGS cannot train: a loss or an L1 penalty that is not smooth,
    dropout (a random objective) and averaging (no steps). A ValueError
    pointing to the stochastic solvers."""
    # By name: this runs before the targets are encoded (DataParallel).
    name = getattr(est, "loss", "log_loss")  # MLP classifiers have no `loss`
    entry = MARGIN_LOSSES.get(name) or REGRESSION_LOSSES.get(name)
    if entry is not None and not entry.smooth:
        raise ValueError(
            f"solver={est.solver!r} needs a loss with a continuous gradient, not "
            f"loss={est.loss!r}: its line search stalls at the kinks. Use a "
            "stochastic solver ('sgd', 'adam' or 'rmsprop'), or a smooth loss: "
            "'squared_hinge' or 'modified_huber' for a classifier, 'huber' or "
            "'squared_error' for a regressor."
        )
    if est.penalty is not None and PENALTIES[est.penalty].l1_share != 0.0:
        raise ValueError(
            f"solver={est.solver!r} supports penalty='l2' or None, not "
            f"penalty={est.penalty!r}: the L1 term is not differentiable. Use a "
            "stochastic solver ('adam', 'sgd' or 'rmsprop'), whose proximal steps "
            "give exact zeros."
        )
    if asks_to_average(est):
        raise ValueError(
            f"solver={est.solver!r} has no steps to average: average needs a "
            "stochastic solver ('sgd', with momentum=0 for scikit-learn's "
            "averaged SGD)."
        )
    if getattr(est, "dropout", 0.0) > 0.0:
        raise ValueError(
            f"solver={est.solver!r} needs dropout=0: dropout makes the objective "
            "random, which L-BFGS cannot minimise. Use a stochastic solver "
            "('adam', 'sgd' or 'rmsprop') with dropout."
        )


class _Iterations:
    """The scipy callback: one ``Monitor`` epoch per L-BFGS iteration.

    An iteration's epoch opens at its first evaluation (``evaluating``) and
    closes in the callback, where its loss and the optional validation
    score are recorded in ``history``; a callback asking to stop ends the
    run (scipy's ``StopIteration``).
    """

    def __init__(self, net, monitor, history, validate, loss_unit):
        self.net, self.monitor, self.history = net, monitor, history
        self.validate, self.loss_unit = validate, loss_unit
        self.open = self.stopped = False
        self.last = net.params.copy()  # parameters of the last iteration

    def evaluating(self):
        if not self.open:
            self.monitor.epoch_begin()
            self.open = True

    def __call__(self, intermediate_result):
        x, loss = intermediate_result.x, float(intermediate_result.fun)
        history = self.history
        if not (np.isfinite(loss) and np.isfinite(x).all()):
            raise TrainingDiverged(
                f"Training diverged at iteration {history.n_iter + 1}: the loss is "
                f"{loss}. Scale the features (e.g. with StandardScaler); the model "
                "was left unchanged."
            )
        self.net.params[:] = x
        self.last = self.net.params.copy()
        history.n_iter += 1
        history.loss_curve.append(loss * self.loss_unit)
        score = None
        if self.validate is not None:
            score = self.validate(self.net.params)
            history.validation_scores.append(score)
        self.open = False
        if self.monitor.epoch_end(history.n_iter, loss, score, self.net):
            self.stopped = True
            raise StopIteration  # a callback asked to stop


def train_lbfgs(
    net,
    objective,
    *,
    max_iter,
    max_fun,
    tol,
    monitor,
    history,
    validate=None,
    loss_unit=1.0,
    options=None,
):
    """Minimise ``objective`` (an ``Objective``) over ``net``'s parameters in
    place with SciPy's L-BFGS-B, from its current parameters; fill
    ``history``. options : more of L-BFGS-B's options (``ftol``, ``maxls``).

    The optimiser's vector is float64 whatever the network's dtype. The
    objective is of the standardised problem (``loss_unit`` converts it for
    ``loss_curve_``). ``history.n_samples_seen`` counts the rows of every
    evaluation. Warns with a ``ConvergenceWarning`` as scikit-learn's MLP
    does when L-BFGS stops before converging; raises TrainingDiverged on a
    non-finite loss. Ctrl-C keeps the parameters of the last iteration.
    """
    n_rows = objective.data_loss.rows.size
    monitor.step_name = "iteration"
    iterations = _Iterations(net, monitor, history, validate, loss_unit)

    def fun(x):
        iterations.evaluating()
        history.n_samples_seen += n_rows
        return objective(x)

    options = {"maxiter": max_iter, "maxfun": max_fun, "gtol": tol, **(options or {})}
    x0 = net.params.astype(np.float64)
    # L-BFGS-B's own work is level-1 BLAS on vectors of n_params floats,
    # which a threaded OpenBLAS runs 4x slower than one thread (MNIST MLP:
    # 56 against 14 ms an iteration, 20x with more load on the cores), so it runs
    # on one BLAS thread; the objective's kernels set their own count.
    try:
        with blas_controller().limit(limits=1):
            result = scipy.optimize.minimize(
                fun,
                x0,
                method="L-BFGS-B",
                jac=True,
                options=options,
                callback=iterations,
            )
    except KeyboardInterrupt:
        net.params[:] = iterations.last
        warnings.warn(
            "Training interrupted by user: the model keeps the parameters of the "
            "last completed iteration.",
            UserWarning,
        )
        return history
    if not (np.isfinite(result.fun) and np.isfinite(result.x).all()):
        raise TrainingDiverged(
            f"Training diverged: the loss is {result.fun}. Scale the features "
            "(e.g. with StandardScaler); the model was left unchanged."
        )
    net.params[:] = result.x
    if not iterations.stopped:
        _check_optimize_result("lbfgs", result, max_iter)
    return history
