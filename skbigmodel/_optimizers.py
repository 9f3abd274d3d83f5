"""Registry of optimisers and learning-rate schedules."""

from ._kernels.steps import ADAM, CONSTANT, INVSCALING, RMSPROP, SGD

__all__ = ["OPTIMIZERS", "SCHEDULES", "optimizer_scalars"]

OPTIMIZERS = {"sgd": SGD, "adam": ADAM, "rmsprop": RMSPROP}
# "adaptive" runs at a constant rate inside an epoch; the training loop
# divides it by 5 when the loss stops improving.
SCHEDULES = {"constant": CONSTANT, "invscaling": INVSCALING, "adaptive": CONSTANT}


def optimizer_scalars(est):
    """The optimiser's kernel arguments, as typed scalars (one compiled version)."""
    opt = OPTIMIZERS[est.solver]
    return dict(
        opt=opt,
        schedule=SCHEDULES[est.learning_rate],
        power_t=float(est.power_t),
        momentum=float(est.momentum),
        nesterov=bool(est.nesterovs_momentum),
        beta_1=float(est.beta_1),
        # RMSprop's decay rides in Adam's second-moment slot.
        beta_2=float(est.rho if opt == RMSPROP else est.beta_2),
        eps=float(est._optimizer_epsilon),
    )
