"""Thread-count plumbing: n_jobs, and the timing-based thread choice."""

import numba
import pytest

from skbigmodel._threads import ThreadChooser, resolve_n_jobs, run_parts


def test_resolve_n_jobs():
    n_max = numba.config.NUMBA_NUM_THREADS
    assert resolve_n_jobs(None) == resolve_n_jobs(-1) == n_max
    assert resolve_n_jobs(1) == 1
    assert resolve_n_jobs(10_000) == n_max
    assert resolve_n_jobs(-10_000) == 1


def test_run_parts_runs_the_parts_at_once_and_raises_their_errors():
    import threading

    met = threading.Barrier(3, timeout=30)  # fails unless all three run at once
    names = {}

    def part(i):
        met.wait()
        names[i] = threading.current_thread().name
        return i * 10

    assert run_parts(part, 3) == 0  # part 0's result
    assert names[0] == threading.current_thread().name
    assert len(set(names.values())) == 3

    def failing(i):
        if i == 1:
            raise ValueError("part 1 failed")
        return i

    with pytest.raises(ValueError, match="part 1 failed"):
        run_parts(failing, 2)
    assert run_parts(lambda i: i + 5, 1) == 5


def _drive(chooser, seconds_per_batch, segments):
    """Run ``segments`` planned segments with a fixed cost per thread count."""
    used = []
    for _ in range(segments):
        threads, batches = chooser.plan()
        chooser.record(threads, batches, batches * seconds_per_batch[threads])
        used.append((threads, batches))
    return used


def test_thread_chooser_keeps_all_threads_when_they_are_faster():
    chooser = ThreadChooser(2)
    used = _drive(chooser, {2: 1.0, 1: 1.8}, 200)
    assert used[0] == (2, ThreadChooser.PROBE_BATCHES)
    assert used[1] == (1, ThreadChooser.PROBE_BATCHES)
    runs = [t for t, b in used if b == ThreadChooser.RUN_BATCHES]
    assert set(runs) == {2}
    probes = sum(b == ThreadChooser.PROBE_BATCHES for _, b in used)
    assert probes < 20  # probes grow rarer while the answer holds


def test_thread_chooser_keeps_all_threads_unless_one_is_clearly_faster():
    chooser = ThreadChooser(2)
    used = _drive(chooser, {2: 1.0, 1: 0.9}, 50)  # within the noise margin
    assert {t for t, b in used if b == ThreadChooser.RUN_BATCHES} == {2}
    chooser = ThreadChooser(2)
    used = _drive(chooser, {2: 1.0, 1: 0.7}, 50)
    assert {t for t, b in used if b == ThreadChooser.RUN_BATCHES} == {1}


def test_thread_chooser_falls_back_to_one_thread_under_load():
    chooser = ThreadChooser(2)
    used = _drive(chooser, {2: 100.0, 1: 1.0}, 100)
    work = {1: 0, 2: 0}
    for threads, batches in used:
        work[threads] += batches
    assert work[2] < 0.02 * work[1]


def test_thread_chooser_follows_a_change_of_load():
    chooser = ThreadChooser(2)
    _drive(chooser, {2: 1.0, 1: 2.0}, 50)
    used = _drive(chooser, {2: 50.0, 1: 1.0}, 200)
    assert used[-1] == (1, ThreadChooser.RUN_BATCHES)


def test_single_thread_never_probes():
    chooser = ThreadChooser(1)
    assert _drive(chooser, {1: 1.0}, 5) == [(1, ThreadChooser.RUN_BATCHES)] * 5


class _RecordingChooser(ThreadChooser):
    def __init__(self, n_threads):
        super().__init__(n_threads)
        self.recorded = []

    def record(self, threads, batches, seconds):
        self.recorded.append((threads, batches))
        super().record(threads, batches, seconds)


@pytest.mark.parametrize("n_batches", [5, 16, 300, 2000])
def test_run_in_segments_covers_the_epoch_once(n_batches):
    """Segments tile the rows in order; a probe on a long epoch follows
    untimed batches on its own thread count; a short epoch is timed whole."""
    import numpy as np

    from skbigmodel._runners import run_in_segments

    batch_size = 7
    order = np.arange(n_batches * batch_size - 3)  # a short last batch
    chooser = _RecordingChooser(2)
    threads_now, segments = [None], []

    def run(rows, first_batch, end):
        segments.append((threads_now[0], rows[0], rows[-1], rows.size))
        # the segment's first batch is its number in the epoch
        assert rows[0] == order[first_batch * batch_size]
        assert end == (rows[-1] == order[-1])

    def set_threads(threads):
        threads_now[0] = threads

    run_in_segments(run, order, batch_size, chooser, set_threads)
    assert sum(size for *_, size in segments) == order.size
    np.testing.assert_array_equal(
        np.concatenate([np.arange(a, b + 1) for _, a, b, _ in segments]), order
    )
    assert all(batches > 0 for _, batches in chooser.recorded)
    probe = min(
        n_batches,
        ThreadChooser.PROBE_BATCHES,
        max(ThreadChooser.MIN_PROBE_BATCHES, n_batches // 8),
    )
    # the probes: a share of the epoch, the second one cut by the epoch's end
    assert chooser.recorded[:2] == [(2, probe), (1, min(probe, n_batches - probe))]
    warmup = ThreadChooser.PROBE_WARMUP_BATCHES * batch_size
    long_epoch = n_batches > ThreadChooser.PROBE_WARMUP_BATCHES + probe
    assert (segments[0][3] == warmup) == long_epoch
    if long_epoch:  # warm-up, then the timed probe, on the same two threads
        assert segments[0][0] == segments[1][0] == 2
        assert segments[1][3] == probe * batch_size
