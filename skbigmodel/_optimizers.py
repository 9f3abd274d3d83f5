"""Registry of optimisers and learning-rate schedules."""

from ._kernels.bundles import Optimizer
from ._kernels.optimizers import ADAM, CONSTANT, INVSCALING, RMSPROP, SGD

__all__ = ["OPTIMIZERS", "SCHEDULES", "optimizer_bundle"]

OPTIMIZERS = {"sgd": SGD, "adam": ADAM, "rmsprop": RMSPROP}
# "adaptive" runs at a constant rate inside an epoch; the training loop
# divides it by 5 when the loss stops improving.
SCHEDULES = {"constant": CONSTANT, "invscaling": INVSCALING, "adaptive": CONSTANT}


def optimizer_bundle(est):
    """The kernels' ``Optimizer`` bundle for an estimator's parameters.

    Every field has a fixed Python type, so that the kernels compile once.
    """
    kind = OPTIMIZERS[est.solver]
    return Optimizer(
        kind=kind,
        lr=float(est.learning_rate_init),
        schedule=SCHEDULES[est.learning_rate],
        power_t=float(est.power_t),
        momentum=float(est.momentum),
        nesterov=bool(est.nesterovs_momentum),
        # RMSprop's decay rides in Adam's second-moment slot.
        beta_1=float(est.beta_1),
        beta_2=float(est.rho if kind == RMSPROP else est.beta_2),
        eps=float(est._optimizer_epsilon),
    )
