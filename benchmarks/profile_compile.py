"""Where a first fit's compile time goes: seconds per compiled function.

Run from the repository root, with an empty cache so that everything
compiles::

    NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/profile_compile.py \
        "LogisticClassifier().fit(X, y)"

The fit runs on 500 x 20 dense data (``X``, ``y``) or its CSR twin (``Xs``,
``ys``), as in ``bench_startup.py``. Numba's event API reports each
compilation; a function's inclusive time holds the compilations it set off
(its callees), its exclusive time is its own typing, lowering and LLVM
work. Also printed: the import of skbigmodel (NumPy, SciPy and Numba
imported before it), the fit, and the time spent holding LLVM's
lock (all of LLVM's optimisation and code generation).
"""

import argparse
import collections
import importlib
import time

import numpy as np
import scipy.sparse as sp
from numba.core import event


class CompileTimes(event.Listener):
    """Inclusive and exclusive seconds of each compiled function."""

    def __init__(self):
        self.stack = []
        self.inclusive = collections.Counter()
        self.exclusive = collections.Counter()
        self.count = collections.Counter()

    def on_start(self, ev):
        name = ev.data["dispatcher"].py_func.__qualname__
        self.stack.append([name, time.perf_counter(), 0.0])

    def on_end(self, ev):
        name, start, children = self.stack.pop()
        seconds = time.perf_counter() - start
        self.inclusive[name] += seconds
        self.exclusive[name] += seconds - children
        self.count[name] += 1
        if self.stack:
            self.stack[-1][2] += seconds


class LockTime(event.Listener):
    """Seconds spent holding LLVM's lock."""

    def __init__(self):
        self.seconds, self.start = 0.0, None

    def on_start(self, ev):
        self.start = time.perf_counter()

    def on_end(self, ev):
        self.seconds += time.perf_counter() - self.start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("fit", help='e.g. "MLPClassifier().fit(X, y)"')
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    start = time.perf_counter()
    skbigmodel = importlib.import_module("skbigmodel")
    imported = time.perf_counter() - start
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 20))
    y = (X[:, 0] > 0).astype(int)
    Xs = sp.random(500, 200, density=0.05, format="csr", random_state=0)
    ys = (Xs @ rng.standard_normal(200) > 0).astype(int)
    names = {name: getattr(skbigmodel, name) for name in skbigmodel.__all__}
    compiles, llvm = CompileTimes(), LockTime()
    event.register("numba:compile", compiles)
    event.register("numba:llvm_lock", llvm)
    start = time.perf_counter()
    eval(args.fit, names, dict(X=X, y=y, Xs=Xs, ys=ys))
    fit = time.perf_counter() - start
    print(
        f"import skbigmodel {imported:.2f} s, fit {fit:.2f} s, LLVM's lock {llvm.seconds:.2f} s"
    )
    print("exclusive  inclusive  calls  function")
    for name, seconds in compiles.exclusive.most_common(args.top):
        total, calls = compiles.inclusive[name], compiles.count[name]
        print(f"{seconds:9.2f}  {total:9.2f}  {calls:5d}  {name}")


if __name__ == "__main__":
    main()
