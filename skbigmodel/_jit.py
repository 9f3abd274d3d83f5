"""How kernels are compiled: the cached ``jit`` decorator and its cache stamp.

Only this module decides how kernels are compiled, so that the kernels
themselves stay plain arrays-in, arrays-out code.
"""

import hashlib
import os

import numba

__all__ = ["DOT_MATH", "KERNEL_OPTIONS", "jit"]

KERNELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_kernels")


def _kernels_stamp():
    """One hash of every source file of the kernels folder and of this file
    (which holds the compile options, e.g. the error model)."""
    digest = hashlib.sha256()
    names = sorted(n for n in os.listdir(KERNELS_DIR) if n.endswith(".py"))
    for path in [os.path.join(KERNELS_DIR, n) for n in names] + [__file__]:
        with open(path, "rb") as source:
            digest.update(source.read())
    return digest.digest()


def _stamp_kernel_caches():
    """Make every cached kernel depend on all the files of ``_kernels/``.

    Numba checks a cache entry against the file that defines the function
    only, but kernels inline steps from other files of the folder; without
    this an edit to ``mathfn.py`` would leave stale machine code in use.
    Numba's own locators are subclassed, so the cache still lives where
    Numba would put it. On a Numba without these classes, per-file stamps
    remain (and the folder's files must be edited together).
    """
    try:
        from numba.core import caching

        bases = (
            caching.UserProvidedCacheLocator,
            caching.InTreeCacheLocator,
            caching.UserWideCacheLocator,
        )
        locators = caching.CacheImpl._locator_classes
    except AttributeError:
        return
    if any(getattr(cls, "skbigmodel_stamp", None) for cls in locators):
        return
    stamp = _kernels_stamp()

    def kernel_locator(base):
        class KernelLocator(base):
            skbigmodel_stamp = stamp

            def get_source_stamp(self):
                return self.skbigmodel_stamp

            @classmethod
            def from_function(cls, py_func, py_file):
                if os.path.dirname(os.path.abspath(py_file)) != KERNELS_DIR:
                    return None
                return super().from_function(py_func, py_file)

        KernelLocator.__name__ = KernelLocator.__qualname__ = f"Kernel{base.__name__}"
        return KernelLocator

    locators[:0] = [kernel_locator(base) for base in bases]


_stamp_kernel_caches()

# Reassociation lets LLVM vectorise dot products (several accumulators);
# "nnan"/"ninf" stay off so that a NaN reaching a kernel is still a NaN.
DOT_MATH = {"reassoc", "contract"}

# Every kernel's options (``jit`` below; also the ``jit_options`` of the
# overloads that compile as functions of their own). error_model="numpy":
# a float division by zero gives inf/NaN (which the training loop checks)
# rather than raising; Python's model puts a branch on every division,
# which keeps LLVM from vectorising any loop that divides or takes a square
# root (measured: Adam's update ran at 4-5 ns per parameter instead of
# well under 1).
KERNEL_OPTIONS = dict(nogil=True, error_model="numpy")


def jit(func=None, *, parallel=False, fastmath=False, inline="never"):
    """Compile ``func`` with ``numba.njit(cache=True, nogil=True)``.

    When no cache directory is usable (a read-only install and no writable
    home or ``NUMBA_CACHE_DIR``), Numba refuses ``cache=True`` at decoration
    time; the package must still import, so the kernel is compiled without
    a disk cache instead.
    """

    def decorate(f):
        options = dict(
            KERNEL_OPTIONS, parallel=parallel, fastmath=fastmath, inline=inline
        )
        try:
            return numba.njit(cache=True, **options)(f)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(cache=False, **options)(f)

    return decorate if func is None else decorate(func)
