"""The one module that imports scikit-learn's private helpers.

If a future scikit-learn moves one of them, this is the only file to change.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, validate_data

__all__ = [
    "HasMethods",
    "Interval",
    "StrOptions",
    "_check_optimize_result",
    "_check_sample_weight",
    "_fit_context",
    "validate_data",
]
