"""Registry of losses: the only list of loss names the estimators accept."""

from dataclasses import dataclass

from ._kernels.losses import (
    EPSILON_INSENSITIVE,
    HUBER,
    LOG_LOSS,
    MULTILABEL,
    MULTINOMIAL,
    SQUARED_ERROR,
)

__all__ = ["CLASSIFICATION_LOSSES", "REGRESSION_LOSSES", "Loss"]


@dataclass(frozen=True)
class Loss:
    """A loss as the kernels know it.

    code : the kernel's loss code.
    degree : homogeneity in the target's scale (loss(s*r) = s**degree *
        loss(r)), used to train regressors on standardised targets exactly.
    """

    code: int
    degree: int = 2


REGRESSION_LOSSES = {
    "squared_error": Loss(SQUARED_ERROR, 2),
    "huber": Loss(HUBER, 2),
    "epsilon_insensitive": Loss(EPSILON_INSENSITIVE, 1),
}

# One logit (binary), one score per class (softmax), or one logit per label.
CLASSIFICATION_LOSSES = {
    "binary": Loss(LOG_LOSS),
    "multinomial": Loss(MULTINOMIAL),
    "multilabel": Loss(MULTILABEL),
}
