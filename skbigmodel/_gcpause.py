"""Python's cyclic garbage collector, paused while Numba sets up the kernels.

Numba's first cache load or compilation in a process builds its typing
and target registries: tens of thousands of objects, whose allocation
sets off the collector again and again, each full collection walking
every object of the process (with scikit-learn, SciPy and pandas loaded,
about 0.1 s each). The collector is therefore deferred while the package
imports and during the first epoch of the first fit in the process, when
the kernels load: a fresh process's import and first small fit took
0.58 s instead of 0.82 (median of 11 paired runs). The collector resumes,
in its previous state, as soon as the last pause ends.
"""

import contextlib
import gc
import threading

__all__ = ["GC_PAUSE", "first_kernel_calls"]


class _Pause:
    """A reentrant, thread-safe pause of ``gc``: the collector is disabled
    from the first ``__enter__`` to the last ``__exit__``, then re-enabled
    if it was enabled before."""

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._resume = False

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._depth += 1
        return self

    def __exit__(self, *exc_info):
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._resume:
                gc.enable()


GC_PAUSE = _Pause()
_kernels_called = False


def first_kernel_calls():
    """``GC_PAUSE`` the first time the process asks, a no-op context after."""
    global _kernels_called
    if _kernels_called:
        return contextlib.nullcontext()
    _kernels_called = True
    return GC_PAUSE
