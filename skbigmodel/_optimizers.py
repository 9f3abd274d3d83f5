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

from ._kernels import optimizers as kernels
from ._kernels.bundles import Optimizer
from ._penalties import soft_threshold

__all__ = [
    "FULL_BATCH_SOLVERS",
    "OPTIMIZERS",
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


def optimizer_bundle(est):
    """The kernels' ``Optimizer`` bundle for an estimator's parameters.

    Every field has a fixed Python type, so that the kernels compile once.
    """
    # A full-batch solver steps no kernel: its bundle is a placeholder.
    code = OPTIMIZERS[est.solver].code if est.solver in OPTIMIZERS else kernels.SGD
    if code == kernels.SGD and est.nesterovs_momentum:
        code = kernels.NESTEROV  # a kind of its own (see _kernels/optimizers.py)
    return Optimizer(
        kind=code,
        lr=float(est.learning_rate_init),
        schedule=SCHEDULES[est.learning_rate],
        power_t=float(est.power_t),
        momentum=float(est.momentum),
        beta_1=float(est.beta_1),
        # RMSprop's decay rides in Adam's second-moment slot.
        beta_2=float(est.rho if code == kernels.RMSPROP else est.beta_2),
        eps=float(est._optimizer_epsilon),
    )
