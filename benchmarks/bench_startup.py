"""Start-up: a fresh process that imports skbigmodel and fits a small model.

Run from the repository root::

    python benchmarks/bench_startup.py [--repeats 5] [--output results_startup.md]

Each row times whole fresh processes (interpreter start, imports, the fit,
exit), ``--repeats`` of each, the rows' processes run in turn so that a
load burst on the shared machine spreads over all rows. "cold" processes
get an empty ``NUMBA_CACHE_DIR`` (every kernel the fit needs compiles);
"warm" ones share a cache filled beforehand. The reference rows are
``import sklearn.linear_model`` alone and Numba's floor (import
scikit-learn and Numba, load one cached trivial function). Medians, with
the range in brackets. ``--compare FOLDER`` adds, beside each row, the same
process importing the package from FOLDER (a worktree of another commit:
``git worktree add /tmp/before <commit>``), for before/after figures from
one run.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

DATA = """
import numpy as np, scipy.sparse as sp, warnings
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.standard_normal((500, 20)); y = (X[:, 0] > 0).astype(int)
Xs = sp.random(500, 200, density=0.05, format="csr", random_state=0)
ys = (Xs @ rng.standard_normal(200) > 0).astype(int)
"""

FITS = {
    "LogisticClassifier, dense": "LogisticClassifier().fit(X, y)",
    "LinearRegressor, dense": "LinearRegressor().fit(X, X[:, 1])",
    "LogisticClassifier, CSR": "LogisticClassifier().fit(Xs, ys)",
    "MLPClassifier, dense": "MLPClassifier().fit(X, y)",
    "MLPRegressor, dense": "MLPRegressor().fit(X, X[:, 1])",
    "every estimator, dense and CSR": "; ".join(
        [
            "LogisticClassifier().fit(X, y)",
            "LinearClassifier().fit(X, y)",
            "LinearRegressor().fit(X, X[:, 1])",
            "MLPClassifier().fit(X, y)",
            "MLPRegressor().fit(X, X[:, 1])",
            "LogisticClassifier().fit(Xs, ys)",
            "LinearClassifier().fit(Xs, ys)",
            "LinearRegressor().fit(Xs, ys * 1.0)",
            "MLPClassifier().fit(Xs, ys)",
            "MLPRegressor().fit(Xs, ys * 1.0)",
        ]
    ),
}

FLOOR = """
import sklearn.linear_model, numba
@numba.njit(cache=True)
def one(x):
    return x + 1
one(1)
"""


def _script(fit):
    return f"{DATA}\nfrom skbigmodel import *\n{fit}\n"


_SCRIPTS = tempfile.mkdtemp(prefix="skbigmodel-startup-")


def _run(code, cache_dir, source=None):
    """Seconds of a fresh process running ``code``; ``source``: a folder
    holding another version of the package, imported instead of this one."""
    # A file, not ``python -c``: Numba caches only functions defined in files.
    path = os.path.join(_SCRIPTS, f"startup_{abs(hash(code))}.py")
    with open(path, "w") as f:
        f.write(code)
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if source is not None:
        env["PYTHONPATH"] = os.path.abspath(source)
    start = time.perf_counter()
    subprocess.run([sys.executable, path], env=env, check=True, cwd=_SCRIPTS)
    return time.perf_counter() - start


def measure(repeats, rows):
    """{row: [seconds]} for each (name, code, cold, source) row, processes
    in turn."""
    warm_cache = tempfile.mkdtemp(prefix="skbigmodel-warm-")
    for name, code, cold, source in rows:  # fill the warm cache, load files once
        if not cold:
            _run(code, warm_cache, source)
    times = {name: [] for name, *_ in rows}
    for _ in range(repeats):
        for name, code, cold, source in rows:
            cache = tempfile.mkdtemp(prefix="skbigmodel-cold-") if cold else warm_cache
            times[name].append(_run(code, cache, source))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default=None)
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="fit rows whose name contains one of these",
    )
    parser.add_argument(
        "--compare",
        default=None,
        metavar="FOLDER",
        help="also time the package in FOLDER (e.g. a git worktree of an "
        "older commit), each of its rows run in turn with this version's",
    )
    args = parser.parse_args()
    fits = {
        k: v for k, v in FITS.items() if not args.only or any(o in k for o in args.only)
    }
    rows = [
        ("import sklearn.linear_model", "import sklearn.linear_model", False, None),
        ("Numba floor", FLOOR, False, None),
    ]
    for name, fit in fits.items():
        for state, cold in (("cold", True), ("warm", False)):
            rows.append((f"{name}, {state}", _script(fit), cold, None))
            if args.compare:
                label = f"{name}, {state}, {os.path.basename(args.compare)}"
                rows.append((label, _script(fit), cold, args.compare))
    times = measure(args.repeats, rows)
    base = statistics.median(times["import sklearn.linear_model"])
    lines = [
        f"Fresh processes, {args.repeats} each, run in turn; seconds, median "
        "[range]; last column: over `import sklearn.linear_model`.",
        "",
        "| process | seconds | over the import |",
        "| --- | ---: | ---: |",
    ]
    for name, *_ in rows:
        t = times[name]
        median = statistics.median(t)
        lines.append(
            f"| {name} | {median:.2f} [{min(t):.2f}-{max(t):.2f}] | "
            f"{median - base:+.2f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
