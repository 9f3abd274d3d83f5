"""The full-batch objective: loss and gradient over all the training rows.

Two parts, kept apart so that the data part can be summed over machines
(a Dask worker computes the ``DataLoss`` of its partitions; the driver
adds the sums and the penalty once):

* ``DataLoss(params) -> (loss_sum, grad_sum)``: the summed weighted loss
  of the rows and its gradient, float64, from the parallel kernels of
  ``_kernels/full_batch.py``; ``data_loss(net, X, Y, sw, rows, n_jobs)``
  builds the one for a network and its data;
* ``Objective``: the penalised weighted mean loss of the estimators,
  ``loss_sum / total_weight + a2 / 2 * |w|^2`` (intercepts not penalised),
  and its gradient, as SciPy's optimisers want them: float64 in and out.
"""

import numpy as np
import scipy.sparse as sp

from ._activations import ACTIVATIONS
from ._kernels.bundles import (
    ChunkSums,
    DenseScratch,
    Layers,
    MLPScratch,
    Team,
)
from ._kernels.full_batch import (
    csr_chunks_grad,
    dense_chunks_grad,
    mlp_chunks_grad,
    sum_chunks,
)
from ._network import LinearNetwork
from ._runners import blas_controller, dense_data, mlp_data
from ._threads import resolve_n_jobs, run_parts, start_helpers

__all__ = ["DataLoss", "Objective", "data_loss", "n_chunks"]

# The rows are cut into fixed chunks (a function of the data, never of the
# thread count: the bits do not depend on it), claimed by the threads one
# at a time; enough of them for a thread slowed by another process to take
# fewer, few enough that their float64 gradients stay small.
MAX_CHUNKS = 64
MIN_CHUNK_ROWS = 1024
# An MLP's row costs far more than its share of the chunk's gradient sums:
# finer chunks balance the threads better on a loaded machine.
MLP_MIN_CHUNK_ROWS = 256
CHUNK_SUMS_BYTES = 64 << 20
# Rows per block within a chunk: a block's scratch stays in cache (linear
# models), and its products are big enough for BLAS (MLPs).
LINEAR_BLOCK_ROWS = 256
MLP_BLOCK_ROWS = 512


def n_chunks(n_rows, n_params, nnz=None, min_rows=MIN_CHUNK_ROWS):
    """How many chunks ``n_rows`` rows are cut into (see ``MAX_CHUNKS``),
    each of at least ``min_rows`` rows.

    On CSR data (``nnz`` non-zeros) each chunk of a linear model costs a
    pass over the parameters (zeroed, then summed): at most one chunk per
    4 * n_params non-zeros.
    """
    most = min(MAX_CHUNKS, -(-n_rows // min_rows))
    most = min(most, max(1, CHUNK_SUMS_BYTES // (8 * n_params)))
    if nnz is not None:
        most = min(most, max(1, nnz // (4 * n_params)))
    return max(1, most)


class DataLoss:
    """Summed weighted loss and gradient of a network over rows of X.

    ``data_loss(params)`` takes the parameters as float64 (they are cast
    to the network's dtype, X's) and returns (loss_sum, grad_sum), a float
    and a new float64 array: sum_i sw_i loss_i and its gradient over the
    rows ``rows`` of X. Subclasses set the kernel, its data and scratch.
    """

    def __init__(self, net, sw, rows, loss, n_parts, n_jobs):
        self.net, self.rows = net, np.ascontiguousarray(rows, dtype=np.int64)
        self.loss = loss
        self.total_weight = float(sw[self.rows].sum())
        size = net.params.size
        self.sums = ChunkSums(np.empty((n_parts, size)), np.empty(n_parts))
        cores = resolve_n_jobs(n_jobs)
        self.threads = min(n_parts, cores)
        self.blas_threads = max(1, cores // self.threads)
        start_helpers(self.threads - 1)

    def run(self, team):
        """Run the kernel as the thread ``team.worker`` of ``team``."""
        raise NotImplementedError

    def __call__(self, params):
        self.net.params[:] = params
        counter = np.zeros(1, dtype=np.int64)
        threads = self.threads

        def part(worker):
            return self.run(Team(worker, threads, counter))

        # Each thread its share of the BLAS threads (the MLP's products).
        with blas_controller().limit(limits=self.blas_threads):
            run_parts(part, threads)
        grad = np.empty(self.net.params.size)
        return float(sum_chunks(self.sums, grad)), grad


class _LinearLoss(DataLoss):
    """A linear network on dense X (``dense_chunks_grad``) or CSR X."""

    def __init__(self, net, X, Y, sw, rows, loss, n_jobs, parts, block):
        p, k = net.n_features, net.n_outputs
        sparse = sp.issparse(X)
        if parts is None:
            parts = n_chunks(len(rows), net.params.size, X.nnz if sparse else None)
        super().__init__(net, sw, rows, loss, parts, n_jobs)
        block, t, dtype = block or LINEAR_BLOCK_ROWS, self.threads, X.dtype
        if sparse:
            self.data = mlp_data(X, Y, sw, dtype)  # CSR arrays in MLPData's slots
            self.kernel = csr_chunks_grad
        else:
            self.data = dense_data(X, Y, sw)
            self.kernel = dense_chunks_grad
        gathered = k > 1 and not sparse  # one output: rows are not gathered
        self.scratch = DenseScratch(
            partial=np.empty((t, k if sparse else net.params.size), dtype=dtype),
            rows=np.empty((t, block, p), dtype=dtype) if gathered else None,
            z=np.empty((t, block, k), dtype=dtype),
            g=np.empty((t, block, k), dtype=dtype),
            losses=np.empty(0),
        )

    def run(self, team):
        self.kernel(
            self.data,
            self.rows,
            self.net.params,
            self.loss,
            self.scratch,
            self.sums,
            team,
        )


class _MLPLoss(DataLoss):
    """An MLP without dropout, on dense or CSR X (``mlp_chunks_grad``)."""

    def __init__(self, net, X, Y, sw, rows, loss, n_jobs, parts, block):
        if parts is None:
            parts = n_chunks(len(rows), net.params.size, min_rows=MLP_MIN_CHUNK_ROWS)
        super().__init__(net, sw, rows, loss, parts, n_jobs)
        sizes, dtype, t = net.sizes, net.params.dtype, self.threads
        self.data = mlp_data(X, Y, sw, dtype)
        code = ACTIVATIONS[net.activation].code
        self.layers = Layers(net.sizes, net.offsets, code, None, np.uint64(0))
        block = block or min(MLP_BLOCK_ROWS, max(1, -(-len(rows) // parts)))
        self.scratch = MLPScratch(
            grads=np.empty((t, net.params.size), dtype=dtype),
            A=np.empty((t, block * int(sizes[:-1].sum())), dtype=dtype),
            Z=np.empty((t, block * int(sizes[1:].sum())), dtype=dtype),
            D=np.empty((t, 2 * block * int(sizes[1:].max())), dtype=dtype),
            keys=np.empty((t, block), dtype=np.uint64),
            losses=np.empty(t),
        )

    def run(self, team):
        mlp_chunks_grad(
            self.data,
            self.layers,
            self.rows,
            self.net.params,
            self.loss,
            self.scratch,
            self.sums,
            team,
        )


def data_loss(net, X, Y, sw, rows, loss, n_jobs=None, *, chunks=None, block=None):
    """The ``DataLoss`` of ``net`` (its kernels' ``Loss`` bundle ``loss``)
    over the rows ``rows`` of X, with targets Y and sample weights sw.

    chunks, block : the number of chunks (default ``n_chunks``) and the rows
    per block (default ``LINEAR_BLOCK_ROWS`` or ``MLP_BLOCK_ROWS``); the
    result's bits depend on them, never on ``n_jobs``.

    ``net``'s parameters hold the last point evaluated. Its
    ``total_weight`` is sw[rows].sum().
    """
    kind = _LinearLoss if isinstance(net, LinearNetwork) else _MLPLoss
    return kind(net, X, Y, sw, rows, loss, n_jobs, chunks, block)


class Objective:
    """The penalised weighted mean loss and its gradient, float64 in and out.

    f(x) = loss_sum(x) / total_weight + a2 / 2 * |weights of x|^2, where
    the weights are the parameters of 2-D shape in ``net.shapes`` (the
    intercepts and biases are not penalised). With ``fit_intercept=False``
    the intercepts' gradient is zero, so they keep their initial value.
    ``n_calls`` counts the evaluations.
    """

    def __init__(self, data_loss, shapes, a2, fit_intercept=True, mask=None):
        self.data_loss, self.a2 = data_loss, float(a2)
        # A pruned network's: a zero gradient keeps its zeros at zero, since
        # L-BFGS's steps are combinations of gradients.
        self.pruned = None if mask is None else ~mask
        # Slices, not a boolean mask: a masked copy of an MLP's weights took
        # 3% of an MNIST fit.
        self.weights, self.intercepts, start = [], [], 0
        for shape in shapes:
            stop = start + int(np.prod(shape))
            (self.weights if len(shape) == 2 else self.intercepts).append(
                slice(start, stop)
            )
            start = stop
        self.fit_intercept = fit_intercept
        self.n_calls = 0

    def penalized(self, x, loss_sum, grad_sum, total_weight):
        """Add the penalty to summed data terms (of one or many workers)."""
        grad = grad_sum / total_weight
        squares = 0.0
        for at in self.weights:
            squares += float(x[at] @ x[at])
            grad[at] += self.a2 * x[at]
        if not self.fit_intercept:
            for at in self.intercepts:
                grad[at] = 0.0
        if self.pruned is not None:
            grad[self.pruned] = 0.0
        return loss_sum / total_weight + 0.5 * self.a2 * squares, grad

    def __call__(self, x):
        self.n_calls += 1
        loss_sum, grad_sum = self.data_loss(x)
        return self.penalized(x, loss_sum, grad_sum, self.data_loss.total_weight)
