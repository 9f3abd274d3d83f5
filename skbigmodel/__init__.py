"""skbigmodel: scikit-learn estimators trained by stochastic optimisation on Numba kernels."""

from ._linear import LinearRegressor, LogisticClassifier
from ._mlp import MLPClassifier, MLPEstimator, MLPRegressor

__all__ = [
    "LinearRegressor",
    "LogisticClassifier",
    "MLPClassifier",
    "MLPEstimator",
    "MLPRegressor",
]
__version__ = "0.1.0"
