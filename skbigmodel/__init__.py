"""skbigmodel: scikit-learn estimators trained by stochastic optimisation on Numba kernels."""

from ._linear import LinearRegressor, LogisticClassifier

__all__ = ["LinearRegressor", "LogisticClassifier"]
__version__ = "0.1.0"
