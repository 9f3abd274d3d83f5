"""Networks keep all their parameters in one flat array; layers are views.

A linear model is a network with no hidden layer: ``LinearNetwork`` holds
the weights (n_features, n_outputs), as an MLP layer does, followed by the
intercepts (n_outputs,). ``MLPNetwork`` holds its layers one after another.
Each knows the epoch kernel that trains it (``epoch_runner``) and computes
its raw outputs with NumPy (``decision``).
"""

import functools
import time

import numpy as np
import scipy.sparse as sp
from scipy.special import erf, expit
from sklearn.utils.extmath import safe_sparse_dot
from threadpoolctl import ThreadpoolController

from ._kernels import mlp as mlp_kernels
from ._kernels.linear import (
    csr_epoch,
    csr_parts,
    csr_sgd_epoch,
    csr_state_width,
    csr_weight_scaled,
    dense_epoch,
)
from ._kernels.steps import CACHE_LINE_FLOATS
from ._numba import ThreadChooser, resolve_n_jobs, run_parts, start_helpers

__all__ = ["LinearNetwork", "MLPNetwork"]

# Below this many multiply-adds per mini-batch a parallel region costs more
# than it saves (benchmarks/bench_linear.py); above, a batch is cut into a
# fixed number of chunks whatever the thread count, so bits do not change.
PARALLEL_BATCH_WORK = 1 << 12
MAX_CHUNKS = 8
# Rows per chunk: one output fuses each row's work (small chunks balance
# best); several outputs go through BLAS, whose per-call cost wants bigger
# products (on 10 classes, 500k x 100: 0.20 s per epoch with 2 chunks of
# 128 rows, 0.21 with 4 of 64, 0.25 with 8 of 32, 0.31 serial).
MIN_CHUNK_ROWS = {True: 32, False: 128}
# The CSR kernels cut the features into this many column ranges of about
# equal non-zeros (at most one thread each), counted on about this many of
# them.
CSR_PARTS = 2
CSR_CUT_SAMPLE = 100_000


class LinearNetwork:
    """Flat parameters of a linear model and the kernels that train them."""

    # float64 optimiser moments whatever X's dtype: a linear model's update
    # is cheap next to its pass over the data, and the CSR kernels keep
    # their per-feature state in float64.
    moment_dtype = np.float64

    def __init__(self, n_features, n_outputs, dtype, params=None):
        self.n_features = n_features
        self.n_outputs = n_outputs
        size = n_outputs * (n_features + 1)
        self.params = np.zeros(size, dtype=dtype) if params is None else params
        self.n_coef = n_outputs * n_features

    @property
    def weights(self):
        return self.params[: self.n_coef].reshape(self.n_features, self.n_outputs)

    @property
    def coef(self):
        """scikit-learn's ``coef_`` layout (n_outputs, n_features), a view."""
        return self.weights.T

    @property
    def intercept(self):
        return self.params[self.n_coef :]

    @property
    def penalized(self):
        """The parameters the penalty acts on (intercepts are not penalised)."""
        return self.params[: self.n_coef]

    def copy(self):
        return LinearNetwork(
            self.n_features, self.n_outputs, self.params.dtype, self.params.copy()
        )

    def decision(self, X):
        """Raw outputs X @ coef.T + intercept, shape (n_samples, n_outputs)."""
        out = X @ self.weights
        out += self.intercept
        return np.asarray(out)

    def epoch_runner(self, X, Y, sample_weight, batch_size, rng=None, n_jobs=None):
        """A callable running one epoch on rows ``order`` of X (see ``_training``)."""
        if sp.issparse(X):
            return _CSREpochs(self, X, Y, sample_weight, batch_size, n_jobs)
        return _DenseEpochs(self, X, Y, sample_weight, batch_size, n_jobs)


def run_in_segments(run, params, m, v, order, step, hyper, batch_size, chooser,
                    set_threads):  # fmt: skip
    """Run an epoch as segments of batches, each on the thread count that
    ``chooser`` plans (see ``ThreadChooser``); results do not depend on it.

    ``run(params, m, v, rows, step, hyper, total)`` trains on a segment and
    returns (total, step), having added the segment's losses to the running
    ``total`` batch by batch: the epoch's loss, like the model, has the bits
    of one call whatever the segments.
    """
    total, start = 0.0, 0
    epoch_batches = -(-order.size // batch_size)
    while start < order.size:
        threads, batches = chooser.plan(epoch_batches)
        set_threads(threads)
        warmup = chooser.PROBE_WARMUP_BATCHES * batch_size
        if chooser.probing and order.size - start > warmup + batches * batch_size:
            # Untimed: the first batches on a new thread count move the
            # working set into its cores' caches (on CSR data a 64-batch
            # probe on two threads ran at 0.65x their speed without this).
            # Short epochs (MNIST's 16 batches) are timed whole, as before.
            stop = start + warmup
            total, step = run(params, m, v, order[start:stop], step, hyper, total)
            start = stop
        stop = min(start + batches * batch_size, order.size)
        began = time.perf_counter()
        total, step = run(params, m, v, order[start:stop], step, hyper, total)
        chooser.record(threads, -(-(stop - start) // batch_size),
                       time.perf_counter() - began)  # fmt: skip
        start = stop
    return total, step


class _DenseEpochs:
    def __init__(self, net, X, Y, sample_weight, batch_size, n_jobs=None):
        k, p = net.n_outputs, net.n_features
        batch_rows = min(batch_size, X.shape[0])
        most = max(1, batch_rows // MIN_CHUNK_ROWS[k == 1])
        n_chunks = int(min(MAX_CHUNKS, max(1, batch_rows * p * k // PARALLEL_BATCH_WORK),
                           most))  # fmt: skip
        chunk_rows = -(-batch_rows // n_chunks)
        self.args = (X, Y, sample_weight)
        self.batch_size = batch_size
        self.partial = np.empty((n_chunks, net.params.size), dtype=X.dtype)
        gathered = chunk_rows if k > 1 else 0  # one output: rows are not gathered
        self.rows = np.empty((n_chunks, gathered, p), dtype=X.dtype)
        self.z = np.empty((n_chunks, chunk_rows, k), dtype=X.dtype)
        self.g = np.empty((n_chunks, chunk_rows, k), dtype=X.dtype)
        self.losses = np.empty(n_chunks)
        self.n_jobs, self.workers = n_jobs, 1
        self.chooser = None

    def __call__(self, params, m, v, order, step, hyper):
        n_chunks = self.partial.shape[0]
        if self.chooser is None:  # kept across epochs
            self.chooser = ThreadChooser(min(n_chunks, resolve_n_jobs(self.n_jobs)))
            start_helpers(self.chooser.n_threads - 1)

        def set_threads(threads):
            self.workers = threads

        return run_in_segments(self._run, params, m, v, order, step, hyper,
                               self.batch_size, self.chooser, set_threads)  # fmt: skip

    def _run(self, params, m, v, order, step, hyper, total=0.0):
        counter = np.zeros(1, dtype=np.int64)

        def part(worker):
            return dense_epoch(
                *self.args, order, self.batch_size, params, m, v, self.partial,
                self.rows, self.z, self.g, self.losses, *hyper.kernel_args(), step,
                total, hyper.fit_intercept, worker, self.workers, counter,
            )  # fmt: skip

        return run_parts(part, self.workers)


def csr_column_cuts(X, n_parts):
    """Cut X's features into ``n_parts`` column ranges of about equal non-zeros.

    Counted on a sample of the non-zeros: the cuts depend on the data
    only, never on the thread count. Rows with unsorted indices cannot be
    cut into runs of columns: one part.
    """
    p = X.shape[1]
    if n_parts == 1 or X.nnz == 0 or not X.has_sorted_indices:
        return np.array([0, p], dtype=np.int64)
    sample = X.indices[:: max(1, X.nnz // CSR_CUT_SAMPLE)]
    counted = np.cumsum(np.bincount(sample, minlength=p))
    targets = counted[-1] * np.arange(1, n_parts) / n_parts
    inner = np.searchsorted(counted, targets) + 1
    return np.concatenate([[0], inner, [p]]).astype(np.int64)


class _CSREpochs:
    """Epochs on CSR X: the features are cut into column ranges of about
    equal non-zeros (``CSR_PARTS``), each thread owning a run of them, so
    that each thread's weights stay in its own core's cache."""

    def __init__(self, net, X, Y, sample_weight, batch_size, n_jobs=None):
        p, k = net.n_features, net.n_outputs
        self.X, self.Y, self.sw = X, Y, sample_weight
        self.batch_size = batch_size
        self.n_jobs, self.workers = n_jobs, 1
        self.chooser = None
        self.col_cuts = csr_column_cuts(X, CSR_PARTS)
        n_parts = self.col_cuts.size - 1
        self.bounds = np.empty((X.shape[0], n_parts + 1), dtype=X.indptr.dtype)
        csr_parts(X.indices, X.indptr, self.col_cuts, self.bounds)
        self.dots = np.empty((n_parts, batch_size, k))
        self.row_grads = np.empty((batch_size, k))
        self.part_sums = np.empty((n_parts, k + 1))
        self.alpha_state = np.ones(1)
        # Solvers other than plain SGD: one feature's row per cache line,
        # one miss per feature and batch, not two (NumPy aligns large
        # arrays to 16 bytes only). Allocated on first use.
        self.state_shape = (p, csr_state_width(k))
        self.state = None
        row_nnz = int(np.diff(X.indptr).max(initial=0))
        self.fresh = np.empty((n_parts, row_nnz), dtype=np.int64)
        self.fresh_last = np.empty((n_parts, row_nnz), dtype=np.int64)
        n_batches = -(-X.shape[0] // max(1, batch_size))
        self.etas, self.grad_scales = np.empty(n_batches), np.empty(n_batches)
        self.cum_eta = np.zeros(n_batches + 1)  # cum_eta[0] stays 0

    def __call__(self, params, m, v, order, step, hyper):
        if self.chooser is None:  # kept across epochs
            n_parts = self.col_cuts.size - 1
            self.chooser = ThreadChooser(min(n_parts, resolve_n_jobs(self.n_jobs)))
            start_helpers(self.chooser.n_threads - 1)

        def set_threads(threads):
            self.workers = threads

        n_batches = -(-order.size // self.batch_size)
        done = [0]  # batches of the epoch run so far

        def run(params, m, v, rows, step, hyper, total):
            first_batch = done[0]
            done[0] += -(-rows.size // self.batch_size)
            return self._run(params, m, v, rows, step, hyper, total, first_batch,
                             done[0] == n_batches)  # fmt: skip

        return run_in_segments(run, params, m, v, order, step, hyper, self.batch_size,
                               self.chooser, set_threads)  # fmt: skip

    def _run(self, params, m, v, order, step, hyper, total=0.0, first_batch=0,
             end=True):  # fmt: skip
        """Batches first_batch.. of an epoch, the rows ``order``; ``end``: the
        epoch's last. The kernels carry their state from one call to the
        next, so the bits do not depend on how an epoch is split."""
        X = self.X
        head = (X.data, X.indices, self.bounds, self.col_cuts, self.Y, self.sw)
        scratch = (self.dots, self.row_grads, self.part_sums)
        if csr_weight_scaled(hyper.opt, hyper.momentum, hyper.a1, hyper.a2, hyper.lr):
            kernel = csr_sgd_epoch
            scratch = (*scratch, self.alpha_state)
        else:
            if self.state is None:
                size = self.state_shape[0] * self.state_shape[1]
                raw = np.empty(size + CACHE_LINE_FLOATS)
                at = (-raw.ctypes.data % 64) // raw.itemsize
                self.state = raw[at : at + size].reshape(self.state_shape)
            kernel = csr_epoch
            scratch = (self.state, *scratch, self.fresh, self.fresh_last, self.etas,
                       self.grad_scales, self.cum_eta)  # fmt: skip
        counter = np.zeros(1, dtype=np.int64)

        def part(worker):
            return kernel(*head, order, self.batch_size, params, m, v, *scratch,
                          *hyper.kernel_args(), step, total, hyper.fit_intercept,
                          first_batch, first_batch == 0, end, worker, self.workers,
                          counter)  # fmt: skip

        return run_parts(part, self.workers)


def _silu(z):
    return z * expit(z)


ACTIVATIONS = {
    "relu": (mlp_kernels.RELU, lambda z: np.maximum(z, 0)),
    "leaky_relu": (mlp_kernels.LEAKY_RELU,
                   lambda z: np.where(z > 0, z, z * z.dtype.type(mlp_kernels.LEAKY_SLOPE))),
    "gelu": (mlp_kernels.GELU, lambda z: 0.5 * z * (1 + erf(z / np.sqrt(2).astype(z.dtype)))),
    "silu": (mlp_kernels.SILU, _silu),
    "tanh": (mlp_kernels.TANH, np.tanh),
    "logistic": (mlp_kernels.LOGISTIC, expit),
    "identity": (mlp_kernels.IDENTITY, lambda z: z),
}  # fmt: skip


class MLPNetwork:
    """Flat parameters of a multilayer perceptron; layers are views.

    Layer l holds weights (sizes[l], sizes[l + 1]) then biases; the last
    layer's outputs are raw scores (the loss applies the output link).
    """

    def __init__(self, sizes, dtype, activation, dropout, params=None):
        self.sizes = np.asarray(sizes, dtype=np.int64)
        n_params = self.sizes[:-1] * self.sizes[1:] + self.sizes[1:]
        self.offsets = np.concatenate([[0], np.cumsum(n_params)[:-1]]).astype(np.int64)
        self.activation, self.dropout = activation, dropout
        self.params = (np.zeros(int(n_params.sum()), dtype=dtype) if params is None
                       else params)  # fmt: skip
        self.n_outputs = int(self.sizes[-1])

    @property
    def moment_dtype(self):
        """Optimiser moments in the parameters' dtype, as PyTorch keeps them:
        a float32 network's update then runs in float32 (2.8x faster per
        parameter: half the bytes, twice the SIMD lanes)."""
        return self.params.dtype

    def copy(self):
        return MLPNetwork(self.sizes, self.params.dtype, self.activation, self.dropout,
                          self.params.copy())  # fmt: skip

    def _layer(self, layer):
        n_in, n_out = self.sizes[layer], self.sizes[layer + 1]
        at = self.offsets[layer]
        W = self.params[at : at + n_in * n_out].reshape(n_in, n_out)
        return W, self.params[at + n_in * n_out : at + n_in * n_out + n_out]

    @property
    def coefs(self):
        return [self._layer(layer)[0] for layer in range(len(self.sizes) - 1)]

    @property
    def intercepts(self):
        return [self._layer(layer)[1] for layer in range(len(self.sizes) - 1)]

    @property
    def intercept(self):
        """Biases of the output layer (a view)."""
        return self.intercepts[-1]

    @property
    def penalized(self):
        return np.concatenate([W.ravel() for W in self.coefs])

    def initialize(self, rng):
        """Glorot-uniform weights and biases, as scikit-learn's MLP draws them."""
        factor = 2.0 if self.activation == "logistic" else 6.0
        for W, b in zip(self.coefs, self.intercepts):
            bound = np.sqrt(factor / (W.shape[0] + W.shape[1]))
            W[:] = rng.uniform(-bound, bound, W.shape)
            b[:] = rng.uniform(-bound, bound, b.shape)

    def decision(self, X):
        """Raw outputs of the network (no dropout), shape (n_samples, n_outputs)."""
        return forward(X, self.coefs, self.intercepts, self.activation)

    def epoch_runner(self, X, Y, sample_weight, batch_size, rng=None, n_jobs=None):
        return _MLPEpochs(self, X, Y, sample_weight, batch_size, rng, n_jobs)


def forward(X, coefs, intercepts, activation):
    """Raw outputs of an MLP given scikit-learn's ``coefs_`` and ``intercepts_``."""
    act = ACTIVATIONS[activation][1]
    out = X
    for layer, (W, b) in enumerate(zip(coefs, intercepts)):
        out = safe_sparse_dot(out, W, dense_output=True) + b
        if layer < len(coefs) - 1:
            out = act(out)
    return np.asarray(out)


@functools.cache
def blas_controller():
    """threadpoolctl's handle on the loaded BLAS libraries, found once.

    Scanning the process's libraries costs milliseconds; done per fit it
    would weigh on every small fit of a grid search. The first MLP epoch
    runs after NumPy's and SciPy's BLAS are loaded (Numba's products use
    SciPy's).
    """
    return ThreadpoolController().select(user_api="blas")


class _MLPEpochs:
    def __init__(self, net, X, Y, sample_weight, batch_size, rng, n_jobs):
        sizes = net.sizes
        dtype = net.params.dtype
        if sp.issparse(X):
            dense = np.empty((0, X.shape[1]), dtype=dtype)
            self.inputs = (dense, X.data, X.indices, X.indptr, True)
        else:
            empty = np.empty(0, dtype=dtype)
            self.inputs = (X, empty, np.empty(0, np.int32), np.empty(0, np.int32), False)
        self.net, self.batch_size = net, batch_size
        # A stream of its own: the epochs' dropout seeds must not depend on
        # how many draws shuffling took (sample weights == repetitions).
        self.seeds = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))
        self.targets = (Y, sample_weight)
        # scratch of each half of a batch (see mlp_kernels.mlp_epoch)
        capacity = -(-batch_size // 2)
        self.grads = np.empty((2, net.params.size), dtype=dtype)
        self.A = np.empty((2, capacity * int(sizes[:-1].sum())), dtype=dtype)
        self.Z = np.empty((2, capacity * int(sizes[1:].sum())), dtype=dtype)
        self.D = np.empty((2, 2 * capacity * int(sizes[1:].max())), dtype=dtype)
        self.keys = np.empty((2, capacity), dtype=np.uint64)
        self.losses = np.empty(2)
        self.n_jobs = n_jobs
        self.workers = 1
        self.chooser = None  # created on the first epoch, kept across epochs

    def __call__(self, params, m, v, order, step, hyper):
        """One epoch on one thread or on all, as measured speed says.

        On all, the two halves of every batch run on two Python threads,
        each in compiled code with half the BLAS threads: BLAS threads alone
        left the second core mostly idle on these small products (an epoch
        was about as fast on one as on two). BLAS threads wait for each
        other at every product: with a core taken by another process, a
        mini-batch ran up to 30x slower on two threads than on one, hence
        the chooser. The epoch's dropout seed is drawn once, so segments
        change no bit of the result, and neither does the thread count.
        """
        self.seed = np.uint64(self.seeds.randint(np.iinfo(np.int64).max))
        if self.chooser is None:
            self.blas = blas_controller()
            self.chooser = ThreadChooser(resolve_n_jobs(self.n_jobs))
            start_helpers(min(2, self.chooser.n_threads) - 1)
        limits = []

        def set_threads(threads):
            # one thread, or two halves sharing the cores' BLAS threads
            self.workers = min(2, threads)
            if limits:
                limits.pop().restore_original_limits()
            limits.append(self.blas.limit(limits=max(1, threads // self.workers)))

        try:
            return run_in_segments(self._run, params, m, v, order, step, hyper,
                                   self.batch_size, self.chooser, set_threads)  # fmt: skip
        finally:
            if limits:
                limits.pop().restore_original_limits()

    def _run(self, params, m, v, order, step, hyper, total=0.0):
        net = self.net
        counter = np.zeros(1, dtype=np.int64)

        def run(worker):
            return mlp_kernels.mlp_epoch(
                *self.inputs, *self.targets, order, self.batch_size, params, m, v,
                self.grads, net.sizes, net.offsets, self.A, self.Z, self.D, self.keys,
                self.losses, ACTIVATIONS[net.activation][0], float(1.0 - net.dropout),
                self.seed, *hyper.kernel_args(), step, total, worker, self.workers,
                counter,
            )  # fmt: skip

        return run_parts(run, self.workers)
