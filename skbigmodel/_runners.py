"""Epoch runners: one epoch of a network's kernel on the threads the clock picks.

A runner owns what an epoch kernel needs besides the parameters (the data
bundle, scratch arrays, the thread chooser) and runs an epoch as segments
of batches, each on the number of threads ``ThreadChooser`` plans. Every
kernel takes the same bundles (``_kernels/bundles.py``), so the runners
differ only in their data, their scratch, their kernel and how many fixed
parts an epoch is cut into (the most threads that can share it).
"""

import contextlib
import functools
import time

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from ._activations import ACTIVATIONS
from ._kernels.bundles import (
    CSR_INPUT,
    DENSE_INPUT,
    CSRData,
    CSRScratch,
    DenseData,
    DenseScratch,
    Layers,
    MLPData,
    MLPScratch,
    Segment,
    Team,
)
from ._kernels.csr import csr_parts
from ._kernels.linear_csr import csr_epoch, csr_state_width
from ._kernels.linear_csr_sgd import csr_sgd_epoch
from ._kernels.linear_dense import dense_epoch
from ._kernels.memory import CACHE_LINE_FLOATS
from ._kernels.mlp import mlp_epoch
from ._kernels.optimizers import MOMENTUM_KINDS, OPTIMAL
from ._threads import ThreadChooser, resolve_n_jobs, run_parts, start_helpers

__all__ = [
    "CSRRunner",
    "DenseRunner",
    "MLPRunner",
    "dense_data",
    "mlp_data",
    "run_in_segments",
]

# Below this many multiply-adds per mini-batch a parallel region costs more
# than it saves (benchmarks/bench_linear.py); above, a batch is cut into a
# fixed number of chunks whatever the thread count, so bits do not change.
# Up to 64 chunks, so that a machine with that many cores can use them on
# batches large enough (each chunk at least MIN_CHUNK_ROWS rows).
PARALLEL_BATCH_WORK = 1 << 12
MAX_CHUNKS = 64
# Rows per chunk: one output fuses each row's work (small chunks balance
# best); several outputs go through BLAS, whose per-call cost wants bigger
# products (on 10 classes, 500k x 100: 0.20 s per epoch with 2 chunks of
# 128 rows, 0.21 with 4 of 64, 0.25 with 8 of 32, 0.31 serial).
MIN_CHUNK_ROWS = {True: 32, False: 128}
# The CSR kernels cut the features into this many column ranges of about
# equal non-zeros (at most one thread each), counted on about this many of
# them. Any thread count from 1 to CSR_PARTS runs the same parts, and the
# kernels take any number; each part costs a partial dot product per row
# and an entry per row of ``bounds`` (docs/engine.rst, "How each path
# scales with more cores").
CSR_PARTS = 2
CSR_CUT_SAMPLE = 100_000


def run_in_segments(run, order, batch_size, chooser, set_threads):
    """Run an epoch as segments of batches, each on the thread count that
    ``chooser`` plans (see ``ThreadChooser``); results do not depend on it.

    ``run(rows, first_batch, end)`` trains on the segment of rows ``rows``,
    whose first batch is batch ``first_batch`` of the epoch (``end``: the
    segment ends the epoch), carrying the optimiser's step and the epoch's
    summed loss from one segment to the next: the epoch's loss, like the
    model, has the bits of one call whatever the segments.
    """
    start = 0
    epoch_batches = -(-order.size // batch_size)

    def segment(stop):
        first = -(-start // batch_size)
        run(order[start:stop], first, stop == order.size)
        return stop

    while start < order.size:
        threads, batches = chooser.plan(epoch_batches)
        set_threads(threads)
        warmup = chooser.PROBE_WARMUP_BATCHES * batch_size
        if chooser.probing and order.size - start > warmup + batches * batch_size:
            # Untimed: the first batches on a new thread count move the
            # working set into its cores' caches (on CSR data a 64-batch
            # probe on two threads ran at 0.65x their speed without this).
            # Short epochs (MNIST's 16 batches) are timed whole, as before.
            start = segment(start + warmup)
        stop = min(start + batches * batch_size, order.size)
        began = time.perf_counter()
        start_batches = -(-(stop - start) // batch_size)
        start = segment(stop)
        chooser.record(threads, start_batches, time.perf_counter() - began)


class EpochRunner:
    """Runs epochs of one kernel; subclasses set the data, scratch and kernel.

    ``runner(state, order, step, hyper)`` trains the ``State`` in place on
    the rows ``order`` and returns (summed weighted loss, last step).
    """

    def __init__(self, batch_size, n_jobs, n_parts):
        self.batch_size, self.n_jobs, self.n_parts = batch_size, n_jobs, n_parts
        self.workers = 1
        self.chooser = None  # created on the first epoch, kept across epochs

    def inputs(self):
        """The kernel's arguments before the segment: its data bundle(s)."""
        raise NotImplementedError

    def kernel(self, hyper):
        """The compiled epoch kernel and its scratch bundle."""
        raise NotImplementedError

    def set_threads(self, threads):
        self.workers = threads

    def epoch_threads(self):
        """A context in force during an epoch (the MLP limits BLAS threads)."""
        return contextlib.nullcontext()

    def start(self):
        """Set up the thread chooser and the helper threads, once."""
        self.chooser = ThreadChooser(min(self.n_parts, resolve_n_jobs(self.n_jobs)))
        start_helpers(self.chooser.n_threads - 1)

    def __call__(self, state, order, step, hyper):
        if self.chooser is None:
            self.start()
        kernel, scratch = self.kernel(hyper)
        inputs = self.inputs()
        carried = [step, 0.0]  # step and summed loss, carried across segments

        def run(rows, first_batch, end):
            segment = Segment(
                rows, self.batch_size, carried[0], carried[1], first_batch, end
            )
            counter = np.zeros(1, dtype=np.int64)

            def part(worker):
                team = Team(worker, self.workers, counter)
                return kernel(*inputs, segment, hyper, state, scratch, team)

            carried[1], carried[0] = run_parts(part, self.workers)

        with self.epoch_threads():
            run_in_segments(run, order, self.batch_size, self.chooser, self.set_threads)
        return carried[1], carried[0]


class DenseRunner(EpochRunner):
    """Epochs of a linear network on dense C-contiguous X."""

    def __init__(self, net, X, Y, sample_weight, batch_size, n_jobs=None):
        k, p = net.n_outputs, net.n_features
        batch_rows = min(batch_size, X.shape[0])
        most = max(1, batch_rows // MIN_CHUNK_ROWS[k == 1])
        n_chunks = int(
            min(MAX_CHUNKS, max(1, batch_rows * p * k // PARALLEL_BATCH_WORK), most)
        )
        super().__init__(batch_size, n_jobs, n_chunks)
        chunk_rows = -(-batch_rows // n_chunks)
        self.data = dense_data(X, Y, sample_weight)
        self.scratch = DenseScratch(
            partial=np.empty((n_chunks, net.params.size), dtype=X.dtype),
            # One output: rows are not gathered, and None compiles that path
            # only; soft targets (distillation: more target columns than
            # outputs) take the general path, through ``outputs_grad``.
            rows=(
                np.empty((n_chunks, chunk_rows, p), dtype=X.dtype)
                if k > 1 or Y.shape[1] > k
                else None
            ),
            z=np.empty((n_chunks, chunk_rows, k), dtype=X.dtype),
            g=np.empty((n_chunks, chunk_rows, k), dtype=X.dtype),
            losses=np.empty(n_chunks),
        )

    def inputs(self):
        return (self.data,)

    def kernel(self, hyper):
        return dense_epoch, self.scratch


def readonly(array):
    """A read-only view of ``array``, not a copy.

    The kernels take the training data read-only whatever the caller's
    flags, so one compiled kernel serves writable arrays and read-only ones
    (memmaps opened with mode "r", arrays shared between processes), which
    Numba would otherwise compile each kernel twice for.
    """
    view = array.view()
    view.flags.writeable = False
    return view


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


def largest_step(hyper, batch_size):
    """The largest step of a schedule: its first (see ``step_size``)."""
    optimizer = hyper.optimizer
    if optimizer.schedule == OPTIMAL:
        n = batch_size / hyper.weight_scale
        return n * optimizer.lr / (optimizer.t0 + n - 1)
    return optimizer.lr


def weight_scaled(hyper, batch_size):
    """Whether a CSR epoch goes to ``csr_sgd_epoch`` (plain SGD, L2 or no penalty).

    The factor 1 - eta * a2 must stay positive.
    """
    optimizer, penalty = hyper.optimizer, hyper.penalty
    return (
        optimizer.kind in MOMENTUM_KINDS
        and optimizer.momentum == 0.0
        and penalty.a1 == 0.0
        and largest_step(hyper, batch_size) * penalty.a2 < 0.5
    )


class CSRRunner(EpochRunner):
    """Epochs of a linear network on CSR X: the features are cut into column
    ranges of about equal non-zeros (``CSR_PARTS``), each thread owning a
    run of them, so that each thread's weights stay in its own core's cache."""

    def __init__(self, net, X, Y, sample_weight, batch_size, n_jobs=None):
        p, k = net.n_features, net.n_outputs
        col_cuts = csr_column_cuts(X, CSR_PARTS)
        n_parts = col_cuts.size - 1
        super().__init__(batch_size, n_jobs, n_parts)
        bounds = np.empty((X.shape[0], n_parts + 1), dtype=X.indptr.dtype)
        csr_parts(X.indices, X.indptr, col_cuts, bounds)
        self.data = CSRData(
            readonly(X.data),
            readonly(X.indices),
            bounds,
            col_cuts,
            readonly(Y),
            readonly(sample_weight),
        )
        row_nnz = int(np.diff(X.indptr).max(initial=0))
        n_batches = -(-X.shape[0] // max(1, batch_size))
        self.state_shape = (p, csr_state_width(k))
        self.scratch = CSRScratch(
            dots=np.empty((n_parts, batch_size, k)),
            row_grads=np.empty((batch_size, k)),
            part_sums=np.empty((n_parts, k + 1)),
            alpha_state=np.ones(1),
            state=np.empty((0, self.state_shape[1])),  # allocated on first use
            fresh=np.empty((n_parts, row_nnz), dtype=np.int64),
            fresh_last=np.empty((n_parts, row_nnz), dtype=np.int64),
            etas=np.empty(n_batches),
            grad_scales=np.empty(n_batches),
            cum_eta=np.zeros(n_batches + 1),  # cum_eta[0] stays 0
        )

    def inputs(self):
        return (self.data,)

    def __call__(self, state, order, step, hyper):
        if state.avg is not None and not weight_scaled(hyper, self.batch_size):
            raise ValueError(
                "average on sparse X needs solver='sgd' with momentum=0 and "
                "penalty='l2' or None (averaged SGD, O(non-zeros) a step); "
                "densify X, use those parameters or set average=False (a "
                "model begun on dense X with solver='auto' and average='auto' "
                "averages Adam's iterates)."
            )
        return super().__call__(state, order, step, hyper)

    def kernel(self, hyper):
        if weight_scaled(hyper, self.batch_size):
            return csr_sgd_epoch, self.scratch
        if self.scratch.state.shape[0] != self.state_shape[0]:
            # Solvers other than plain SGD: one feature's row per cache line,
            # one miss per feature and batch, not two (NumPy aligns large
            # arrays to 16 bytes only).
            size = self.state_shape[0] * self.state_shape[1]
            raw = np.empty(size + CACHE_LINE_FLOATS)
            at = (-raw.ctypes.data % 64) // raw.itemsize
            state = raw[at : at + size].reshape(self.state_shape)
            self.scratch = self.scratch._replace(state=state)
        return csr_epoch, self.scratch


@functools.cache
def blas_controller():
    """threadpoolctl's handle on the loaded BLAS libraries, found once.

    Scanning the process's libraries costs milliseconds; done per fit it
    would weigh on every small fit of a grid search. The first MLP epoch
    runs after NumPy's and SciPy's BLAS are loaded (Numba's products use
    SciPy's).
    """
    return ThreadpoolController().select(user_api="blas")


def dense_data(X, Y, sample_weight):
    """The ``DenseData`` bundle of dense X, read-only (see ``readonly``)."""
    return DenseData(readonly(X), readonly(Y), readonly(sample_weight))


def mlp_data(X, Y, sample_weight, dtype):
    """The ``MLPData`` bundle of dense or CSR X (the other layout empty),
    read-only (see ``readonly``)."""
    Y, sample_weight = readonly(Y), readonly(sample_weight)
    if sp.issparse(X):
        dense = readonly(np.empty((0, X.shape[1]), dtype=dtype))
        data, indices, indptr = map(readonly, (X.data, X.indices, X.indptr))
        return MLPData(dense, data, indices, indptr, CSR_INPUT, Y, sample_weight)
    empty = readonly(np.empty(0, dtype=dtype))
    index = readonly(np.empty(0, np.int32))
    return MLPData(readonly(X), empty, index, index, DENSE_INPUT, Y, sample_weight)


class MLPRunner(EpochRunner):
    """Epochs of an MLP, on one thread or on two.

    On two, the two halves of every batch run on two Python threads, each
    in compiled code with half the BLAS threads: BLAS threads alone left the
    second core mostly idle on these small products (an epoch was about as
    fast on one as on two). BLAS threads wait for each other at every
    product: with a core taken by another process, a mini-batch ran up to
    30x slower on two threads than on one, hence the chooser. The epoch's
    dropout seed is drawn once, so segments change no bit of the result,
    and neither does the thread count.
    """

    def __init__(self, net, X, Y, sample_weight, batch_size, rng, n_jobs=None):
        super().__init__(batch_size, n_jobs, n_parts=2)
        sizes, dtype = net.sizes, net.params.dtype
        self.data = mlp_data(X, Y, sample_weight, dtype)
        self.net = net
        # A stream of its own: the epochs' dropout seeds must not depend on
        # how many draws shuffling took (sample weights == repetitions).
        self.seeds = np.random.RandomState(rng.randint(np.iinfo(np.int32).max))
        capacity = -(-batch_size // 2)
        self.scratch = MLPScratch(
            grads=np.empty((2, net.params.size), dtype=dtype),
            A=np.empty((2, capacity * int(sizes[:-1].sum())), dtype=dtype),
            Z=np.empty((2, capacity * int(sizes[1:].sum())), dtype=dtype),
            D=np.empty((2, 2 * capacity * int(sizes[1:].max())), dtype=dtype),
            keys=np.empty((2, capacity), dtype=np.uint64),
            losses=np.empty(2),
        )
        self.limits = []

    def start(self):
        self.blas = blas_controller()
        self.chooser = ThreadChooser(resolve_n_jobs(self.n_jobs))
        start_helpers(min(2, self.chooser.n_threads) - 1)

    def inputs(self):
        net = self.net
        seed = np.uint64(self.seeds.randint(np.iinfo(np.int64).max))
        # No dropout: keep is None, and the dropout code is not compiled.
        keep = float(1.0 - net.dropout) if net.dropout > 0 else None
        # Not pruned: mask is None, and no masking is compiled.
        layers = Layers(
            net.sizes,
            net.offsets,
            ACTIVATIONS[net.activation].code,
            keep,
            seed,
            net.mask,
        )
        return self.data, layers

    def kernel(self, hyper):
        return mlp_epoch, self.scratch

    def set_threads(self, threads):
        # one thread, or two halves sharing the cores' BLAS threads
        self.workers = min(2, threads)
        if self.limits:
            self.limits.pop().restore_original_limits()
        self.limits.append(self.blas.limit(limits=max(1, threads // self.workers)))

    @contextlib.contextmanager
    def epoch_threads(self):
        """Restores the BLAS thread limits that ``set_threads`` set."""
        try:
            yield
        finally:
            if self.limits:
                self.limits.pop().restore_original_limits()
