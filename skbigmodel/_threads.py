"""The threads of the kernels: a shared pool of helpers and the thread chooser.

A kernel runs on up to n threads as n parts of one compiled epoch that meet
at barriers (``_kernels/sync.py``); how many run is chosen by measurement
(``ThreadChooser``), and never changes a bit of the result.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numba

__all__ = ["ThreadChooser", "resolve_n_jobs", "run_parts", "start_helpers"]


def resolve_n_jobs(n_jobs):
    """Number of threads for ``n_jobs`` (None or -1: all, i.e. Numba's thread count,
    one per core unless NUMBA_NUM_THREADS says otherwise)."""
    n_max = numba.config.NUMBA_NUM_THREADS
    if n_jobs is None:
        return n_max
    if n_jobs < 0:
        return max(1, n_max + 1 + n_jobs)
    return max(1, min(int(n_jobs), n_max))


class _Helpers:
    """The helper threads of the kernels, started on first use and shared.

    A kernel runs on up to n threads as n parts of one compiled epoch: part
    0 on the calling thread, the others on these helpers, all at once (they
    meet at barriers inside the kernel, see ``_kernels/sync.py``). Plain
    Python threads running nogil code, rather than Numba's parallel regions:
    a started GNU OpenMP layer was measured to slow PyTorch in the same
    process 2-3x, is not fork-safe, and Numba's workqueue layer aborts the
    process when two Python threads enter a parallel region at once.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.pool = None
        self.size = 0
        if hasattr(os, "register_at_fork"):  # POSIX only: Windows has no fork
            os.register_at_fork(after_in_child=self._forget)

    def _forget(self):  # a forked child has none of its parent's threads
        self.lock = threading.Lock()
        self.pool, self.size = None, 0

    def get(self, n):
        """A pool of at least ``n`` threads, all started."""
        with self.lock:
            if self.pool is None or self.size < n:
                # Older pools finish their tasks and are left to the collector.
                self.pool = ThreadPoolExecutor(n, thread_name_prefix="skbigmodel")
                self.size = n
                # Start the threads now (milliseconds), not within a timed
                # segment, where the ThreadChooser would blame two threads.
                started = threading.Barrier(n + 1)
                for _ in range(n):
                    self.pool.submit(started.wait)
                started.wait()
            return self.pool


_HELPERS = _Helpers()


def start_helpers(n):
    """Have ``n`` helper threads running (see ``run_parts``)."""
    if n > 0:
        _HELPERS.get(n)


def run_parts(run, n_parts):
    """``run(part)`` for part 0..n_parts-1 at once; part 0 on this thread.

    Returns part 0's result. The parts of an epoch wait for each other at
    every batch, so once part 0 has returned the others end at once: they
    are waited for even through Ctrl-C, so that no thread still writes the
    parameters when the training loop handles the interrupt. An error of
    another part is raised here.
    """
    if n_parts == 1:
        return run(0)
    pool = _HELPERS.get(n_parts - 1)
    others = [pool.submit(run, part) for part in range(1, n_parts)]
    try:
        return run(0)
    finally:
        interrupted = False
        while True:
            try:
                wait(others)
                break
            except KeyboardInterrupt:
                interrupted = True
        for future in others:
            future.result()  # raises the part's error
        if interrupted:
            raise KeyboardInterrupt


class ThreadChooser:
    """Choose by measurement how many threads a kernel gets.

    A kernel whose threads meet at every mini-batch waits at each meeting
    for all its threads; when another process holds a core that
    wait lasts a scheduler time slice, and one thread was measured up to
    100x faster than two. Since the kernels' results do not depend on the
    thread count, the count can follow the clock: every so often a short
    segment runs with all threads and one with a single thread, and the
    faster count is used until the next probe. Probes grow rarer while the
    answer stays the same.
    """

    # A segment pays tens of microseconds to set its threads going (their
    # wake-up and Numba's dispatch of each part). Measured on a dense
    # binary epoch (500k x 100): 0.12 s on two threads in segments of 32
    # batches, 0.10 s in one segment; probes of 4 or 16 batches measured
    # that start more than the work and often chose one thread (0.14 s);
    # with probes of 64 and runs of 512 the epoch took 0.066-0.078 s.
    PROBE_BATCHES = 64
    RUN_BATCHES = 512
    # Run untimed before each probe (see ``run_in_segments``).
    PROBE_WARMUP_BATCHES = 16
    # A probe lasts at most an eighth of an epoch, and at least this many
    # batches: on MNIST's 16-batch epochs a 64-batch probe ran whole epochs
    # on one thread, two epochs of every ten in a 10-epoch fit.
    MIN_PROBE_BATCHES = 4
    MAX_INTERVAL = 64
    # One thread must beat all by this factor: probes are short and the
    # machine noisy, and a wrong fall-back lasts until the next probe. On
    # the MNIST network (two threads normally 1.4x faster, 16 batches an
    # epoch), one noisy probe kept a 10-epoch fit on one thread: 0.060 s
    # per epoch against 0.045. A loaded core makes one thread 2-100x faster.
    ONE_THREAD_MARGIN = 1.25

    def __init__(self, n_threads):
        self.n_threads = n_threads
        self.best = n_threads
        self.interval = 2  # segments between probe rounds
        self.countdown = 0  # 0: probing
        self.probe = {}  # thread count -> seconds per batch in this probe round

    @property
    def probing(self):
        """Whether the segment that ``plan`` gives is timed for a probe."""
        return self.n_threads > 1 and self.countdown == 0

    def plan(self, epoch_batches=None):
        """(threads, batches) for the next segment of an epoch of
        ``epoch_batches`` batches (None: a long one)."""
        if self.n_threads == 1:
            return 1, self.RUN_BATCHES
        if self.countdown == 0:
            threads = self.n_threads if self.n_threads not in self.probe else 1
            if epoch_batches is None:
                return threads, self.PROBE_BATCHES
            return threads, min(
                self.PROBE_BATCHES, max(self.MIN_PROBE_BATCHES, epoch_batches // 8)
            )
        return self.best, self.RUN_BATCHES

    def record(self, threads, batches, seconds):
        """Report how long a segment planned by ``plan`` took."""
        if self.n_threads == 1:
            return
        if self.countdown > 0:
            self.countdown -= 1
            return
        self.probe[threads] = seconds / max(batches, 1)
        if len(self.probe) == 2:
            one_faster = (
                self.probe[1] * self.ONE_THREAD_MARGIN < self.probe[self.n_threads]
            )
            best = 1 if one_faster else self.n_threads
            same = best == self.best
            self.interval = min(2 * self.interval, self.MAX_INTERVAL) if same else 2
            self.best, self.countdown, self.probe = best, self.interval, {}
