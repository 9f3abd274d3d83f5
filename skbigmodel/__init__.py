"""skbigmodel: scikit-learn estimators trained by stochastic optimisation on Numba kernels.

Linear models and multilayer perceptrons trained by mini-batch SGD with
momentum, Adam or RMSprop, with L1, L2 and elastic-net penalties:

- :class:`LinearRegressor` and :class:`LinearClassifier` (with
  :class:`LogisticClassifier`, its log-loss member) replace scikit-learn's
  ``SGDRegressor`` and ``SGDClassifier``;
- :class:`MLPClassifier`, :class:`MLPRegressor` and :class:`MLPEstimator`
  replace ``MLPClassifier`` and ``MLPRegressor``.

The integrations live in submodules, each importing its optional
dependency only when used: ``skbigmodel.onnx`` (export to ONNX),
``skbigmodel.io`` (skops persistence) and ``skbigmodel.plotting``
(training curves).
"""

from . import _gcpause

with _gcpause.GC_PAUSE:  # importing Numba and defining the kernels: see _gcpause
    from ._linear import LinearClassifier, LinearRegressor, LogisticClassifier
    from ._mlp import MLPClassifier, MLPEstimator, MLPRegressor

__all__ = [
    "LinearClassifier",
    "LinearRegressor",
    "LogisticClassifier",
    "MLPClassifier",
    "MLPEstimator",
    "MLPRegressor",
]
__version__ = "0.1.0"
