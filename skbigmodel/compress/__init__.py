"""Model compression: train big, ship small.

- :class:`DistilledClassifier`, :class:`DistilledRegressor`: knowledge
  distillation of a teacher into a small skbigmodel student, the soft
  targets in the training kernels;
- :func:`prune`, :func:`prune_schedule`: magnitude pruning of an MLP's
  weights (a mask the kernels honour) or of whole hidden units;
- :func:`compare`: size, score and onnxruntime latency of a model and its
  ONNX versions (``skbigmodel.onnx.to_onnx(..., quantize=...)`` makes the
  int8 ones).
"""

from ._compare import compare
from ._distill import DistilledClassifier
from ._distill_regressor import DistilledRegressor
from ._prune import prune, prune_schedule

__all__ = [
    "DistilledClassifier",
    "DistilledRegressor",
    "compare",
    "prune",
    "prune_schedule",
]
