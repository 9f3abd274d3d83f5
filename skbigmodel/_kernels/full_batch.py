"""Loss and gradient over all the rows: the full-batch objective of L-BFGS.

The rows ``rows`` (int64, in order) are cut into ``n_chunks`` fixed
chunks, ``n_chunks`` a function of the data only. Each chunk's summed
weighted loss and gradient go into its own row of a ``ChunkSums``
(float64), added up block by block in row order; the caller then sums the
chunks in chunk order. The threads running a kernel at once claim chunks
from a shared counter, so a thread slowed by another process simply takes
fewer of them: which thread computes a chunk never changes its bits, and
the result is the same whatever the thread count.

Each kernel computes a block of rows in the parameters' dtype (float32
data stays float32) with the epoch kernels' own functions:
``linear_dense.dense_rows_grad`` (dense linear models), ``mlp.slice_grad``
(MLPs, dense or CSR input) and ``csr_block_grad`` here (linear models on
CSR X, whose gradient is scattered straight into the chunk's row, in
O(non-zeros)). The sums are float64.
"""

from .._jit import jit
from .linear_dense import dense_rows_grad, rows_of
from .losses import outputs_grad
from .mlp import slice_grad
from .sync import atomic_add

__all__ = ["csr_chunks_grad", "dense_chunks_grad", "mlp_chunks_grad", "sum_chunks"]


@jit(inline="always")
def chunk_bounds(n, n_chunks, c):
    """(lo, hi): the positions in ``rows`` of chunk c of n rows."""
    return n * c // n_chunks, n * (c + 1) // n_chunks


@jit(inline="always")
def add_block(sums, c, grad):
    """sums.grads[c] += grad (a block's gradient, in the parameters' dtype)."""
    out = sums.grads[c]
    for q in range(out.shape[0]):
        out[q] += grad[q]


@jit
def dense_chunks_grad(data, rows, params, loss, scratch, sums, team):
    """Summed weighted loss and gradient of each chunk of ``rows`` of a
    linear network on dense X, the chunks claimed through ``team.counter``.

    data : ``DenseData``. params : (n_features * k + k,) in X's dtype, W then
    b. loss : a ``Loss``. scratch : ``DenseScratch`` with one row per thread,
    in X's dtype: partial (n_threads, len(params)) the block's gradient,
    rows (n_threads, block, n_features) or None for one output, z and g
    (n_threads, block, k); its ``losses`` is unused. sums : ``ChunkSums``,
    overwritten for the chunks this thread claims.
    """
    worker = team.worker
    grad, z, g = scratch.partial[worker], scratch.z[worker], scratch.g[worker]
    gathered = rows_of(scratch.rows, worker)
    n_chunks, n_params = sums.grads.shape
    block, k = z.shape
    n_coef = n_params - k
    W = params[:n_coef].reshape((n_coef // k, k))
    b = params[n_coef:]
    n = rows.shape[0]
    c = atomic_add(team.counter, 0, 1)
    while c < n_chunks:
        lo, hi = chunk_bounds(n, n_chunks, c)
        sums.grads[c, :] = 0.0
        total = 0.0
        for start in range(lo, hi, block):
            stop = min(start + block, hi)
            total += dense_rows_grad(
                data, rows, start, stop, W, b, loss, grad, gathered, z, g
            )
            add_block(sums, c, grad)
        sums.losses[c] = total
        c = atomic_add(team.counter, 0, 1)


@jit
def csr_block_grad(data, rows, lo, hi, params, loss, z, g, grad_b, out):
    """Weighted loss of rows rows[lo:hi] of CSR X (an ``MLPData`` of
    layout ``CSR_INPUT``) for a linear network, its weights' gradient added to ``out``
    (float64, W's part of a ``ChunkSums`` row) in O(non-zeros).

    z, g : (>= hi - lo, k) scratch in X's dtype; grad_b (k,) is overwritten
    with the intercepts' gradient. Returns the summed weighted loss.
    """
    values, indices, indptr = data.data, data.indices, data.indptr
    k = z.shape[1]
    n_coef = params.shape[0] - k
    m = hi - lo
    for r in range(m):
        i = rows[lo + r]
        for c in range(k):
            z[r, c] = params[n_coef + c]
        for q in range(indptr[i], indptr[i + 1]):
            at = indices[q] * k
            x = values[q]
            for c in range(k):
                z[r, c] += x * params[at + c]
    total = outputs_grad(z, data.Y, data.sw, rows, lo, m, loss, g, grad_b)
    for r in range(m):
        i = rows[lo + r]
        for q in range(indptr[i], indptr[i + 1]):
            at = indices[q] * k
            x = values[q]
            for c in range(k):
                out[at + c] += x * g[r, c]
    return total


@jit
def csr_chunks_grad(data, rows, params, loss, scratch, sums, team):
    """``dense_chunks_grad`` for a linear network on CSR X (an ``MLPData``
    of layout ``CSR_INPUT``); scratch as there, ``partial`` holding each thread's
    block intercept gradient (n_threads, k) and ``rows`` unused."""
    worker = team.worker
    grad_b, z, g = scratch.partial[worker], scratch.z[worker], scratch.g[worker]
    n_chunks, n_params = sums.grads.shape
    block, k = z.shape
    n_coef = n_params - k
    n = rows.shape[0]
    c = atomic_add(team.counter, 0, 1)
    while c < n_chunks:
        lo, hi = chunk_bounds(n, n_chunks, c)
        out = sums.grads[c]
        out[:] = 0.0
        total = 0.0
        for start in range(lo, hi, block):
            stop = min(start + block, hi)
            total += csr_block_grad(
                data, rows, start, stop, params, loss, z, g, grad_b, out[:n_coef]
            )
            for q in range(k):
                out[n_coef + q] += grad_b[q]
        sums.losses[c] = total
        c = atomic_add(team.counter, 0, 1)


@jit
def mlp_chunks_grad(data, layers, rows, params, loss, scratch, sums, team):
    """``dense_chunks_grad`` for an MLP (dense or CSR input, no dropout):
    data an ``MLPData``, layers a ``Layers``, scratch an ``MLPScratch`` whose
    row h serves thread h, blocks of ``scratch.keys.shape[1]`` rows (see
    ``mlp.slice_grad``)."""
    worker = team.worker
    grad = scratch.grads[worker]
    block = scratch.keys.shape[1]
    n_chunks = sums.grads.shape[0]
    n = rows.shape[0]
    c = atomic_add(team.counter, 0, 1)
    while c < n_chunks:
        lo, hi = chunk_bounds(n, n_chunks, c)
        sums.grads[c, :] = 0.0
        total = 0.0
        for start in range(lo, hi, block):
            stop = min(start + block, hi)
            total += slice_grad(
                data, layers, scratch, worker, rows, start, stop - start, params, loss
            )
            add_block(sums, c, grad)
        sums.losses[c] = total
        c = atomic_add(team.counter, 0, 1)


@jit
def sum_chunks(sums, grad):
    """grad[:] = sums.grads summed over the chunks in chunk order (float64);
    returns the summed loss, also in chunk order."""
    n_chunks = sums.grads.shape[0]
    grad[:] = sums.grads[0]
    total = sums.losses[0]
    for c in range(1, n_chunks):
        row = sums.grads[c]
        for q in range(grad.shape[0]):
            grad[q] += row[q]
        total += sums.losses[c]
    return total
