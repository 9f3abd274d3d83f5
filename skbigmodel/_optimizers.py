"""Registry of optimisers (``solver``) and learning-rate schedules.

A solver is a kernel code (``_kernels/optimizers.py``: a branch of
``step_coord``) and a NumPy reference of its step, which
``tests/test_registries.py`` checks the kernel against. Its
hyperparameters reach the kernels in one ``Optimizer`` bundle, filled in
``optimizer_bundle``: a new hyperparameter is a public constraint, a field
of the bundle, a line here and the lines of ``step_coord`` that use it.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.base import is_classifier

from ._kernels import optimizers as kernels
from ._kernels.bundles import Optimizer, PassiveAggressive
from ._losses import MARGIN_LOSSES, REGRESSION_LOSSES
from ._penalties import soft_threshold

__all__ = [
    "FULL_BATCH_SOLVERS",
    "LINEAR_SCHEDULES",
    "OPTIMIZERS",
    "PASSIVE_AGGRESSIVE",
    "passive_aggressive_bundle",
    "asks_to_average",
    "resolve_solver",
    "SCHEDULES",
    "Solver",
    "optimizer_bundle",
]


@dataclass(frozen=True)
class Solver:
    """One optimiser.

    code : the kernels' code.
    reference(optimizer, w, g, m, v, eta, a1, a2) : its step on NumPy arrays
        (then the L1 proximal step), returning new (w, m, v); ``optimizer``
        an ``Optimizer`` bundle, ``g`` the data gradient.
    """

    code: int
    reference: Callable


def _sgd(opt, w, g, m, v, eta, a1, a2):
    g = g + a2 * w
    m = opt.momentum * m - eta * g
    w = w + (opt.momentum * m - eta * g if opt.kind == kernels.NESTEROV else m)
    return soft_threshold(w, eta * a1 / (1.0 - opt.momentum)), m, v


def _adam(opt, w, g, m, v, eta, a1, a2):
    g = g + a2 * w
    m = opt.beta_1 * m + (1 - opt.beta_1) * g
    v = opt.beta_2 * v + (1 - opt.beta_2) * g**2
    scale = 1.0 / (np.sqrt(v) + opt.eps)
    return soft_threshold(w - eta * scale * m, eta * scale * a1), m, v


def _rmsprop(opt, w, g, m, v, eta, a1, a2):
    g = g + a2 * w
    v = opt.beta_2 * v + (1 - opt.beta_2) * g**2
    scale = 1.0 / (np.sqrt(v) + opt.eps)
    return soft_threshold(w - eta * scale * g, eta * scale * a1), m, v


OPTIMIZERS = {
    "sgd": Solver(kernels.SGD, _sgd),
    "adam": Solver(kernels.ADAM, _adam),
    "rmsprop": Solver(kernels.RMSPROP, _rmsprop),
}
# Solvers that take no per-batch step: full batch, a loop of their own
# (``_full_batch.py``, SciPy's L-BFGS-B on ``_objective.py``'s gradients).
FULL_BATCH_SOLVERS = ("lbfgs",)
# "adaptive" runs at a constant rate inside an epoch; the training loop
# divides it by 5 when the loss stops improving.
SCHEDULES = {
    "constant": kernels.CONSTANT,
    "invscaling": kernels.INVSCALING,
    "adaptive": kernels.CONSTANT,
}
# The linear models' schedules add Bottou's "optimal" 1 / (alpha (t0 + t)),
# a schedule of plain SGD (see ``optimal_schedule``), and the
# passive-aggressive steps of plain SGD: a constant rate C in the kernels
# (the penalty's step, as in scikit-learn), each row's gradient scaled to
# its own PA step (``Hyper.pa``, see ``passive_aggressive_bundle``).
PASSIVE_AGGRESSIVE = ("pa1", "pa2")
LINEAR_SCHEDULES = {
    **SCHEDULES,
    "optimal": kernels.OPTIMAL,
    **{name: kernels.CONSTANT for name in PASSIVE_AGGRESSIVE},
}


def optimal_schedule(alpha, dloss, max_first_step=None):
    """(lr, t0) of the "optimal" schedule, eta_t = lr / (t0 + t - 1) at the
    t-th sample: lr = 1 / alpha, and t0 scikit-learn's heuristic, which
    makes the first step typw / max(1, dloss(typw)) for the typical weight
    typw = alpha ** -0.25 (Bottou's SvmSgd); dloss(typw) is the loss's
    derivative at the output -typw for the target 1. ``max_first_step``
    (None: no cap) caps that first step, so that the steps start lower and
    decay more slowly (``AUTO_SPARSE_LOG_LOSS``)."""
    typw = np.sqrt(1.0 / np.sqrt(alpha))
    eta0 = typw / max(1.0, dloss(typw))
    if max_first_step is not None:
        eta0 = min(eta0, max_first_step)
    return 1.0 / alpha, 1.0 / (eta0 * alpha)


class _Resolved:
    """An estimator's parameters with some replaced (see ``resolve_solver``)."""

    def __init__(self, est, **replaced):
        self._est, self._replaced = est, replaced

    def __getattr__(self, name):
        if name in self._replaced:
            return self._replaced[name]
        return getattr(self._est, name)


# What solver="auto" trains with: on sparse X scikit-learn's SGDClassifier
# algorithm on mini-batches (it reaches SGDClassifier's accuracy per epoch,
# and Adam's per-coordinate steps cost a lazy kernel on CSR data); on dense
# X Adam (measured: 0.757 test accuracy after one epoch on bench_linear's
# dense binary case where plain SGD with "optimal" reaches 0.70 after five),
# its model the mean of each epoch's iterates when average="auto". Adam's
# last iterate keeps moving by about its step; the mean of an epoch does
# not, and restarting it every epoch drops the early iterates that make a
# mean from the first step lag on short fits. One epoch on bench_sgd's
# dense problems (500,000 x 100, seed 0) reaches a test accuracy of 0.785
# against 0.781 (binary hinge), 0.517 against 0.473 (10 classes, one-vs-rest
# hinge) and an R^2 of 0.766 against 0.751 (squared_epsilon_insensitive;
# SGDRegressor: 0.761 after 5 epochs). Default fits, 5-fold on scaled data:
# make_classification 20,000 x 40, 10 classes 0.384 against 0.298 (hinge);
# make_regression 20,000 x 200, noise 50: R^2 0.9725 against 0.9653; on
# iris, breast cancer, digits and wine (an epoch of one or a few steps,
# where the mean is about the last iterate) within a sample.
# The regressors keep Adam on sparse X, without averaging (its lazy CSR
# kernel does not average).
AUTO_SPARSE = dict(solver="sgd", momentum=0.0, learning_rate="optimal")
AUTO_DENSE = dict(solver="adam", auto_average="epoch")
AUTO_SPARSE_REGRESSOR = dict(solver="adam")
# With the log-loss, the same with the first step of "optimal" capped at 1
# (``optimal_schedule``): scikit-learn's heuristic starts at alpha ** -0.25
# (31.6 at alpha 1e-6), steps that overshoot for a while on rows of unit
# norm. Measured on bench_linear's CSR case (L2-normalised rows), alpha
# 1e-6, seed 0: test accuracy 0.698 / 0.702 / 0.702 after 1 / 2 / 5 epochs
# against 0.675 / 0.693 / 0.697 uncapped (SGDClassifier: 0.697 after 5);
# at 1e-7 0.699 after 1 against 0.656. The hinge loss is left uncapped:
# the cap made it slower there (0.686 after 1 epoch at alpha 1e-5 against
# 0.692).
AUTO_SPARSE_LOG_LOSS = dict(AUTO_SPARSE, optimal_max_first_step=1.0)


def resolve_solver(est, sparse, fitted=None):
    """``est`` as the kernels see it: solver="auto" and average="auto"
    replaced by what they mean for dense or sparse X, or for ``fitted`` (the
    solver of the model being continued by partial_fit or warm_start). With a
    passive-aggressive or "optimal" schedule "auto" is plain SGD, the
    schedule's only solver."""
    replaced = {}
    if est.solver == "auto":
        if fitted is not None and is_classifier(est):
            sparse = fitted == "sgd"
        replaced = _auto_solver(est, sparse)
    if isinstance(getattr(est, "average", False), str):  # "auto"
        replaced["average"] = replaced.pop("auto_average", False)
    replaced.pop("auto_average", None)
    return _Resolved(est, **replaced) if replaced else est


def asks_to_average(est):
    """Whether ``est``'s ``average`` asks for averaged SGD: True or a start
    sample ("auto" averages only where it helps, and never asks)."""
    return getattr(est, "average", False) not in (False, "auto")


def _auto_solver(est, sparse):
    if est.learning_rate in PASSIVE_AGGRESSIVE:
        return dict(solver="sgd", momentum=0.0)
    if sparse and is_classifier(est):
        # LogisticClassifier has no ``loss``: it is the log-loss
        if getattr(est, "loss", "log_loss") == "log_loss":
            return dict(AUTO_SPARSE_LOG_LOSS)
        return dict(AUTO_SPARSE)
    if est.learning_rate == "optimal":  # a schedule of plain SGD only
        return dict(solver="sgd", momentum=0.0)
    return dict(AUTO_SPARSE_REGRESSOR if sparse else AUTO_DENSE)


def check_schedule(est, classifier=False):
    """The ValueErrors of a schedule that does not fit the other parameters;
    ``classifier``: ``est``'s loss is one of ``MARGIN_LOSSES`` (or the
    log-loss), else of ``REGRESSION_LOSSES``."""
    if est.learning_rate in PASSIVE_AGGRESSIVE:
        _check_passive_aggressive(
            est, MARGIN_LOSSES if classifier else REGRESSION_LOSSES
        )
    if est.learning_rate != "optimal":
        return
    if est.solver != "sgd":
        raise ValueError(
            f"learning_rate='optimal' is a schedule of solver='sgd'; got "
            f"solver={est.solver!r}. Use learning_rate='constant' with it."
        )
    if est.alpha == 0:
        raise ValueError(
            "learning_rate='optimal' needs alpha > 0: its step "
            "1 / (alpha * (t0 + t)) is set by alpha (also with penalty=None)."
        )


def _check_passive_aggressive(est, losses):
    name = getattr(est, "loss", "log_loss")  # LogisticClassifier has no `loss`
    entry = losses.get(name)
    if entry is None or not entry.passive_aggressive:
        allowed = [key for key, value in losses.items() if value.passive_aggressive]
        raise ValueError(
            f"learning_rate={est.learning_rate!r} (passive-aggressive) works "
            f"with loss={allowed[0]!r} only, as in scikit-learn; got loss="
            f"{name!r}. Its step loss / |x|^2 zeroes a loss of slope 1: use "
            f"loss={allowed[0]!r}, or another schedule."
        )
    if est.solver != "sgd" or est.momentum != 0:
        raise ValueError(
            f"learning_rate={est.learning_rate!r} (passive-aggressive) is a "
            f"schedule of plain SGD: solver='sgd' (or 'auto') with momentum=0; "
            f"got solver={est.solver!r}, momentum={est.momentum!r}."
        )


def passive_aggressive_bundle(est, optimizer):
    """The kernels' ``PassiveAggressive`` bundle (``Hyper.pa``), or None for
    the other schedules. ``optimizer``: the ``Optimizer`` bundle, whose
    constant rate is C (``learning_rate_init``, scikit-learn's ``eta0``) in
    the network's units: PA-I's cap. PA-II's offset 1 / (2 C) is in the
    units of |x|^2, which standardised targets leave alone (the allowed
    losses have degree 1: loss and step scale alike)."""
    if est.learning_rate not in PASSIVE_AGGRESSIVE:
        return None
    if est.learning_rate == "pa1":
        return PassiveAggressive(cap=optimizer.lr, offset=0.0, lr=optimizer.lr)
    offset = 0.5 / float(est.learning_rate_init)
    return PassiveAggressive(cap=float("inf"), offset=offset, lr=optimizer.lr)


def optimizer_bundle(est, step_unit=1.0, dloss=None):
    """The kernels' ``Optimizer`` bundle for an estimator's parameters.

    Every field has a fixed Python type, so that the kernels compile once.
    SGD's steps are in the units of the user's targets, as scikit-learn's:
    a regressor trained on targets divided by s takes them times
    ``step_unit`` (1 / s for a loss linear in the residual, 1 for a
    quadratic one); Adam and RMSprop do not depend on the gradient's scale.
    dloss : for "optimal", the loss's derivative (see ``optimal_schedule``).
    """
    # A full-batch solver steps no kernel: its bundle is a placeholder.
    code = OPTIMIZERS[est.solver].code if est.solver in OPTIMIZERS else kernels.SGD
    if code == kernels.SGD and est.nesterovs_momentum:
        code = kernels.NESTEROV  # a kind of its own (see _kernels/optimizers.py)
    lr, t0 = float(est.learning_rate_init), 1.0
    if est.learning_rate == "optimal":
        # only solver="auto" caps the first step (``resolve_solver``)
        cap = getattr(est, "optimal_max_first_step", None)
        lr, t0 = optimal_schedule(float(est.alpha), dloss, cap)
    if code in kernels.MOMENTUM_KINDS:
        lr *= step_unit
    return Optimizer(
        kind=code,
        lr=float(lr),
        t0=float(t0),
        schedule=LINEAR_SCHEDULES[est.learning_rate],
        power_t=float(est.power_t),
        momentum=float(est.momentum),
        beta_1=float(est.beta_1),
        # RMSprop's decay rides in Adam's second-moment slot.
        beta_2=float(est.rho if code == kernels.RMSPROP else est.beta_2),
        eps=float(est._optimizer_epsilon),
    )
