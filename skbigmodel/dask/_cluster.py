"""The client, the partitions of the data, and map-reduce over them."""

import uuid
from dataclasses import dataclass

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import scipy.sparse as sp
from distributed import Client, default_client

from ._tasks import Plan, tree_reduce

__all__ = ["Partitions", "connect", "literal", "map_reduce"]


def connect(client):
    """The ``Client`` to train on and whether this call opened it (and must
    close it): ``client`` itself, one connected to the address ``client``,
    or the default client (None). A ValueError when there is none, when it
    is closed, or when the scheduler cannot be reached."""
    if client is None:
        try:
            return default_client(), False
        except ValueError:
            raise ValueError(
                "DataParallel found no Dask client: create one "
                "(distributed.Client(...)) before fit, or pass client=, a Client "
                "or a scheduler address."
            ) from None
    if isinstance(client, str):
        try:
            return Client(client, set_as_default=False), True
        except (OSError, TimeoutError) as error:
            raise ValueError(
                f"DataParallel cannot reach the Dask scheduler at {client!r}: {error}"
            ) from error
    if not isinstance(client, Client):
        raise TypeError(
            "client must be a distributed.Client, a scheduler address or None; "
            f"got {type(client).__name__}."
        )
    if client.status != "running":
        raise ValueError(
            f"The Dask client given to DataParallel is {client.status!r}, not "
            "running: pass a connected client."
        )
    return client, False


def literal(value):
    """``value`` as one key of a task graph. A ``Plan`` gets a key of its
    own: Dask's tokens of an estimator may depend on its parameters only
    (dask-ml registers such a token), which would give the same key to the
    same estimator before and after its encoders are set."""
    if isinstance(value, Plan):
        return dask.delayed(value, name=f"plan-{uuid.uuid4().hex}", traverse=False)
    return dask.delayed(value, pure=True, traverse=False)


def map_reduce(client, leaf, merge, blocks, *args):
    """``merge``-reduce ``leaf(*args, *block)`` over ``blocks`` (one tuple of
    delayed blocks per partition) by ``tree_reduce``; the computed result."""
    args = [literal(arg) for arg in args]
    leaves = [dask.delayed(leaf, pure=True)(*args, *block) for block in blocks]
    root = tree_reduce(leaves, dask.delayed(merge, pure=True))
    return client.compute(root).result()


def _frame(data, name, client):
    """A Dask collection as an array of known row chunks (a DataFrame's
    partition lengths counted on ``client``); its column names."""
    names = None
    if isinstance(data, dd.DataFrame):
        columns = list(data.columns)
        if all(isinstance(c, str) for c in columns):
            names = np.asarray(columns, dtype=object)
    if isinstance(data, (dd.DataFrame, dd.Series)):
        lengths = client.compute(data.map_partitions(len)).result()
        data = data.to_dask_array(lengths=tuple(int(n) for n in lengths))
    if not isinstance(data, da.Array):
        raise TypeError(
            f"DataParallel.fit takes {name} as a Dask array or DataFrame; got "
            f"{type(data).__name__}. For data in this process, fit the estimator "
            "itself, or make a Dask array (dask.array.from_array(X, chunks=...))."
        )
    if any(np.isnan(size) for size in data.chunks[0]):
        raise ValueError(
            f"{name} has unknown chunk sizes: call {name}.compute_chunk_sizes() "
            "(or to_dask_array(lengths=True) on a DataFrame) first."
        )
    return data, names


def _like_rows(data, X, name, client):
    """``data`` (y or weights) as a Dask array chunked as X's rows."""
    if data is None:
        return None
    if not isinstance(data, (da.Array, dd.DataFrame, dd.Series)):
        data = np.asarray(data)
        if data.shape[:1] != X.shape[:1]:
            _mismatch(data, X, name)
        chunks = (X.chunks[0],) + tuple((n,) for n in data.shape[1:])
        return da.from_array(data, chunks=chunks)
    data, _ = _frame(data, name, client)
    if data.shape[0] != X.shape[0]:
        _mismatch(data, X, name)
    if data.chunks[0] != X.chunks[0]:
        raise ValueError(
            f"X and {name} must be chunked alike along the rows (one partition "
            f"holds the rows of both): X has row chunks {X.chunks[0]}, {name} "
            f"{data.chunks[0]}. Rechunk one like the other, e.g. "
            f"{name}.rechunk({{0: X.chunks[0]}})."
        )
    if data.ndim == 2 and data.numblocks[1] > 1:
        data = data.rechunk({1: -1})
    return data


def _mismatch(data, X, name):
    raise ValueError(
        f"X has {X.shape[0]} rows but {name} has {data.shape[0]}: "
        "they must describe the same samples."
    )


@dataclass
class Partitions:
    """Row partitions of X, y and sample weights, aligned, chunked by rows.

    X chunked along its columns too is rechunked to one column block (each
    partition must hold whole rows); empty partitions are dropped.
    """

    X: da.Array
    y: da.Array
    sample_weight: da.Array | None
    feature_names: np.ndarray | None

    @classmethod
    def of(cls, client, X, y, sample_weight=None, names=("X", "y", "sample_weight")):
        X, features = _frame(X, names[0], client)
        if X.ndim != 2:
            raise ValueError(f"{names[0]} must be 2-D; got {X.ndim} dimensions.")
        if sp.issparse(X._meta):
            raise TypeError(
                f"{names[0]} has sparse chunks: DataParallel trains on dense chunks."
            )
        if X.numblocks[1] > 1:
            X = X.rechunk({1: -1})  # whole rows in every partition
        y = _like_rows(y, X, names[1], client)
        if y is None:
            raise ValueError(f"{names[1]} is required.")
        sw = _like_rows(sample_weight, X, names[2], client)
        return cls(X, y, sw, features)

    @property
    def dtype(self):
        """The kernels' dtype: float32 stays float32, else float64."""
        return np.dtype(np.float32 if self.X.dtype == np.float32 else np.float64)

    @property
    def n_rows(self):
        return self.X.shape[0]

    def blocks(self, with_X=True):
        """One tuple (X, y, sample weight) of delayed blocks per non-empty
        partition, in order; without X, (y, sample weight)."""
        X = self.X.to_delayed().ravel()
        y = self.y.to_delayed().ravel()
        sw = self.sample_weight
        sw = [None] * len(X) if sw is None else sw.to_delayed().ravel()
        kept = [i for i, rows in enumerate(self.X.chunks[0]) if rows > 0]
        if with_X:
            return [(X[i], y[i], sw[i]) for i in kept]
        return [(y[i], sw[i]) for i in kept]
