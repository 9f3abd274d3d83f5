"""The barrier at which a kernel's Python threads meet."""

import threading

import numba
import numpy as np
import pytest

from skbigmodel._kernels.sync import barrier


@numba.njit(nogil=True)
def meet(counter, n_threads, worker, n_meetings, progress, early):
    """Meet ``n_meetings`` times; before meeting i, say so in progress[worker];
    after it, count the partners that have not said so yet."""
    for meeting in range(1, n_meetings + 1):
        progress[worker] = meeting
        barrier(counter, n_threads, meeting)
        for other in range(n_threads):
            if progress[other] < meeting:
                early[worker] += 1


@pytest.mark.parametrize("n_threads", [2, 3])
def test_threads_wait_for_each_other_at_every_meeting(n_threads):
    n_meetings = 2000
    counter = np.zeros(1, np.int64)
    progress = np.zeros(n_threads, np.int64)
    early = np.zeros(n_threads, np.int64)
    threads = [
        threading.Thread(
            target=meet, args=(counter, n_threads, worker, n_meetings, progress, early)
        )
        for worker in range(n_threads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)  # no deadlock
    assert counter[0] == n_meetings * n_threads
    assert np.all(progress == n_meetings)
    assert not early.any()  # nobody left a meeting before all had come


def test_one_thread_does_not_wait():
    counter = np.zeros(1, np.int64)
    early = np.zeros(1, np.int64)
    meet(counter, 1, 0, 100, np.zeros(1, np.int64), early)
    assert counter[0] == 0 and not early.any()
