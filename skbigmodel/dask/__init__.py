"""Data-parallel training on a Dask cluster: one model, every worker at once.

``DataParallel(estimator)`` trains any skbigmodel estimator on a Dask array
or DataFrame partitioned by rows, where the partitions live: only the
model's parameters travel between the driver and the workers. It needs the
``dask`` extra (``pip install "skbigmodel[dask]"``); ``import skbigmodel``
does not import Dask.
"""

# Imported here only to fail at once, naming the extra, when it is missing.
try:
    import dask.dataframe  # noqa: F401
    import distributed  # noqa: F401
except ImportError as error:
    raise ImportError(
        'skbigmodel.dask needs Dask and distributed: pip install "skbigmodel[dask]"'
    ) from error

from ._estimator import DataParallel

__all__ = ["DataParallel"]
