"""LinearClassifier / LinearRegressor against scikit-learn's SGD estimators
(and Vowpal Wabbit on sparse text), side by side in one run.

Run from the repository root::

    python benchmarks/bench_sgd.py --output benchmarks/results_sgd.md

Sections (each a table in the output, medians of ``--repeats`` runs, the
competitor timed right before ours on the same data):

1. **Sparse text**: ``bench_linear``'s CSR case (200,000 x 2^18, ~92
   non-zeros a row), ``loss="log_loss"`` and ``"hinge"``, over the penalty
   grid alpha in {1e-4, 1e-5, 1e-6, 1e-7}: ``SGDClassifier``'s test accuracy
   after 5 epochs, and ours (defaults but ``alpha``: ``solver="auto"`` is
   plain SGD with the "optimal" schedule on sparse X, its first step capped
   at 1 with the log-loss) after 1 to 10 epochs,
   with the time of each fit; then the time we take to reach
   ``SGDClassifier``'s best 5-epoch accuracy at its best alpha, and Vowpal
   Wabbit (``pip install vowpalwabbit``; one thread, from its cache, adaptive
   normalised updates, no penalty) after 1 and 2 passes.
2. **Dense hinge**: seconds per epoch on 500,000 x 100 (binary, and 10
   classes one-vs-rest against ``SGDClassifier(n_jobs=-1)``'s one-vs-rest):
   a fit's time over its epochs (the figure of the targets, which carries a
   third of the fit's fixed cost: validation, target encoding), and the
   marginal epoch ``(t(3) - t(1)) / 2``, which cancels it. Below them the
   floor of any epoch on that X: bare passes that read every row, in the
   epoch's shuffled order and in storage order, and take one dot product
   per row with a fixed vector (prefetched like ours; one thread, and two
   threads each taking half of the rows). Then the user's question: the
   time our defaults take to reach ``SGDClassifier``'s best test accuracy
   of 1 to 5 epochs (on a held-out fifth), against the time of its fit
   that reached it.
3. **Regression**: ``squared_epsilon_insensitive`` seconds per epoch against
   ``SGDRegressor`` (both figures, as in 2, and the time to its best test
   R^2, as in 2); ``quantile`` (with ``learning_rate="adaptive"``: a
   constant step oscillates around the kink of the pinball loss) against
   ``QuantileRegressor`` (pinball loss and time, 20,000 x 50).

``--scale`` shrinks the row counts (0.1 for a quick look).
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

# bench_linear sits beside this script, on sys.path when it is run as one
from bench_linear import binary_labels, csr_case, multiclass_labels
from sklearn.linear_model import QuantileRegressor, SGDClassifier, SGDRegressor
from sklearn.metrics import mean_pinball_loss, r2_score

from skbigmodel import LinearClassifier, LinearRegressor
from skbigmodel._kernels.memory import PREFETCH_ROWS, prefetch_row

ALPHAS = [1e-4, 1e-5, 1e-6, 1e-7]
OUR_EPOCHS = [1, 2, 3, 4, 5, 6, 8, 10]
DENSE_ROWS, DENSE_FEATURES = 500_000, 100


def median_fit(make, X, y, repeats):
    """(median seconds, the last fitted estimator) of ``repeats`` fits."""
    seconds = []
    for _ in range(repeats):
        est = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            est.fit(X, y)
            seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), est


# -- 1. sparse text -------------------------------------------------------------


def sparse_section(scale, repeats, lines):
    case = csr_case(scale, np.random.default_rng(4))
    X, y, X_test, y_test = case.X, case.y, case.X_test, case.y_test
    lines += [f"## 1. Sparse text: {case.name}", ""]
    LinearClassifier(max_iter=1, tol=None).fit(X[:2000], y[:2000])  # compile
    LinearClassifier("log_loss", max_iter=1, tol=None).fit(X[:2000], y[:2000])
    summary = []
    for loss in ("log_loss", "hinge"):
        theirs, ours = {}, {}
        for alpha in ALPHAS:
            seconds, est = median_fit(
                lambda a=alpha: SGDClassifier(
                    loss=loss, alpha=a, max_iter=5, tol=None, random_state=0
                ),
                X,
                y,
                repeats,
            )
            theirs[alpha] = (seconds, est.score(X_test, y_test))
            ours[alpha] = []
            for epochs in OUR_EPOCHS:
                seconds, est = median_fit(
                    lambda a=alpha, e=epochs: LinearClassifier(
                        loss, alpha=a, max_iter=e, tol=None, random_state=0
                    ),
                    X,
                    y,
                    repeats,
                )
                ours[alpha].append((epochs, seconds, est.score(X_test, y_test)))
        lines += [
            f"### loss={loss!r}",
            "",
            "| alpha | SGDClassifier, 5 epochs | ours: accuracy (seconds) after "
            + ", ".join(str(e) for e in OUR_EPOCHS)
            + " epochs |",
            "| ---: | ---: | --- |",
        ]
        for alpha in ALPHAS:
            cells = ", ".join(f"{acc:.4f} ({s:.2f})" for _, s, acc in ours[alpha])
            s, acc = theirs[alpha]
            lines.append(f"| {alpha:g} | {acc:.4f} ({s:.2f} s) | {cells} |")
        best_alpha = max(ALPHAS, key=lambda a: theirs[a][1])
        target_s, target = theirs[best_alpha]
        reached = [(s, e) for e, s, acc in ours[best_alpha] if acc >= target]
        our_best = max(acc for runs in ours.values() for _, _, acc in runs)
        if reached:
            s, e = min(reached)
            when = f"{s:.2f} s ({e} epochs), {s / target_s:.2f}x its time"
        else:
            when = "not within 10 epochs"
        summary.append(
            f"- {loss}: SGDClassifier's best 5-epoch accuracy {target:.4f} "
            f"(alpha {best_alpha:g}, {target_s:.2f} s); ours at that alpha: "
            f"{when}; our best on the grid within 10 epochs {our_best:.4f}."
        )
        lines.append("")
    lines += vowpal_wabbit(X, y, X_test, y_test, repeats)
    lines += ["### Time to SGDClassifier's accuracy", "", *summary, ""]


def vowpal_wabbit(X, y, X_test, y_test, repeats):
    """Vowpal Wabbit's test accuracy after 1 and 2 passes, from its cache."""
    try:
        from vowpalwabbit import Workspace
    except ImportError:
        return ["Vowpal Wabbit: not installed (`pip install vowpalwabbit`).", ""]
    lines = ["### Vowpal Wabbit (logistic, -b 18, one thread, from its cache)", ""]
    with tempfile.TemporaryDirectory() as folder:
        train, test = os.path.join(folder, "train.vw"), os.path.join(folder, "t.vw")
        for path, data, labels in ((train, X, y), (test, X_test, y_test)):
            with open(path, "w") as out:
                for i in range(data.shape[0]):
                    row = data[i]
                    pairs = " ".join(
                        f"{j}:{v:.6g}" for j, v in zip(row.indices, row.data)
                    )
                    out.write(f"{1 if labels[i] else -1} |f {pairs}\n")
        cache = os.path.join(folder, "train.cache")
        common = f"--loss_function logistic -b 18 --quiet --holdout_off -c --cache_file {cache}"
        Workspace(f"-d {train} {common}").finish()  # writes the cache
        lines += [
            "| passes | test accuracy | seconds (median) |",
            "| ---: | ---: | ---: |",
        ]
        for passes in (1, 2):
            model = os.path.join(folder, f"model{passes}")
            seconds = []
            for _ in range(repeats):
                start = time.perf_counter()
                vw = Workspace(f"-d {train} {common} --passes {passes} -f {model}")
                vw.finish()
                seconds.append(time.perf_counter() - start)
            preds = os.path.join(folder, "preds.txt")
            Workspace(f"-i {model} -t -d {test} -p {preds} --quiet").finish()
            scores = np.loadtxt(preds)
            accuracy = np.mean((scores > 0) == (y_test == 1))
            lines.append(
                f"| {passes} | {accuracy:.4f} | {statistics.median(seconds):.2f} |"
            )
    lines.append("")
    return lines


# -- 2. dense hinge ---------------------------------------------------------------


def per_epoch(make, X, y, repeats, epochs=3):
    """(fit seconds / epochs, marginal seconds of an epoch): fits of 1 and of
    ``epochs`` epochs alternate, so that drifting load hits both."""
    short, long = [], []
    for _ in range(repeats):
        short.append(median_fit(lambda: make().set_params(max_iter=1), X, y, 1)[0])
        seconds, est = median_fit(lambda: make().set_params(max_iter=epochs), X, y, 1)
        long.append(seconds)
    fit = statistics.median(long)
    return fit / est.n_iter_, (fit - statistics.median(short)) / (est.n_iter_ - 1)


@numba.njit(nogil=True, fastmath=True)
def floor_pass(X, order, lo, hi, w, out):
    """out[r] = X[order[r]] @ w for r in lo:hi, rows prefetched
    ``PREFETCH_ROWS`` ahead as the dense kernel does: the least an epoch
    that reads every row in that order can do."""
    p = X.shape[1]
    for r in range(lo, min(lo + PREFETCH_ROWS, hi)):
        prefetch_row(X, order[r])
    for r in range(lo, hi):
        if r + PREFETCH_ROWS < hi:
            prefetch_row(X, order[r + PREFETCH_ROWS])
        i = order[r]
        acc = 0.0
        for j in range(p):
            acc += X[i, j] * w[j]
        out[r] = acc


def dense_floor(X, repeats):
    """{(order, threads): median seconds of ``floor_pass`` over all of X}."""
    n = X.shape[0]
    orders = {
        "shuffled": np.random.default_rng(0).permutation(n),
        "storage": np.arange(n),
    }
    w, out = np.ones(X.shape[1], dtype=X.dtype), np.empty(n, dtype=X.dtype)
    result = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for name, order in orders.items():
            for threads in (1, 2):

                def epoch():
                    calls = [
                        pool.submit(
                            floor_pass,
                            X,
                            order,
                            t * n // threads,
                            (t + 1) * n // threads,
                            w,
                            out,
                        )
                        for t in range(threads)
                    ]
                    for call in calls:
                        call.result()

                epoch()  # compiles on first use
                times = []
                for _ in range(max(5, repeats)):
                    start = time.perf_counter()
                    epoch()
                    times.append(time.perf_counter() - start)
                result[name, threads] = statistics.median(times)
    return result


def floor_lines(X, repeats):
    """Table rows of ``dense_floor``, the seconds in the column of ours."""
    return [
        f"| floor: one pass, {name} order, {threads} thread{'s' * (threads > 1)}"
        f" | | {seconds:.4f} | |"
        for (name, threads), seconds in dense_floor(X, repeats).items()
    ]


def dense_section(scale, repeats, lines):
    rng = np.random.default_rng(1)
    n = max(2_000, int(DENSE_ROWS * scale))
    X = rng.standard_normal((n + n // 5, DENSE_FEATURES))  # a fifth to test on
    coef = rng.standard_normal(DENSE_FEATURES) * 2.0 / np.sqrt(DENSE_FEATURES)
    binary = binary_labels(X @ coef, rng)
    ten = multiclass_labels(X, rng)
    X, X_test = X[:n], X[n:]
    lines += [
        f"## 2. Dense hinge, {n:,} x {DENSE_FEATURES} f64 (seconds per epoch)",
        "",
        "Fit / epochs (the targets' figure), and in brackets the marginal epoch "
        "(t(3) - t(1)) / 2.",
        "",
        "| problem | SGDClassifier | ours | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    fit = dict(max_iter=3, tol=None, random_state=0)
    problems = (("binary", binary, None), ("10 classes", ten, -1))
    for name, y, jobs in problems:
        LinearClassifier(**fit).fit(X[:3000], y[:3000])  # compile
        theirs = per_epoch(
            lambda j=jobs: SGDClassifier(n_jobs=j, **fit), X, y[:n], repeats
        )
        ours = per_epoch(lambda: LinearClassifier(**fit), X, y[:n], repeats)
        lines.append(ratio_row(name, theirs, ours))
    lines += floor_lines(X, repeats)
    lines += ["", "### Time to SGDClassifier's accuracy", "", *TIME_TO_HEADER]
    for name, y, jobs in problems:
        lines.append(
            time_to_accuracy(
                name,
                lambda j=jobs: SGDClassifier(n_jobs=j, tol=None, random_state=0),
                lambda: LinearClassifier(tol=None, random_state=0),
                (X, y[:n], X_test, y[n:]),
                lambda est, X, y: est.score(X, y),
                repeats,
            )
        )
    lines.append("")


TIME_TO_HEADER = [
    "Test score (accuracy, or R^2) on a held-out fifth. Theirs: the best of "
    "1 to 5 epochs, and the time of the fit that reached it; ours (defaults): "
    "the first epoch count that reaches that score, and its time. Medians of "
    "the timed fits.",
    "",
    "| problem | theirs: best score (epochs, s) | ours: score (epochs, s) | "
    "ratio of times |",
    "| --- | ---: | ---: | ---: |",
]


def time_to_accuracy(name, theirs, ours, data, score, repeats, epochs=5):
    """A table row: the time we take to reach the competitor's best test
    score of 1 to ``epochs`` epochs, against the time of its fit that
    reached it."""
    X, y, X_test, y_test = data

    def scores(make, counts):
        for count in counts:
            est = make().set_params(max_iter=count)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.fit(X, y)
            yield count, score(est, X_test, y_test)

    their_best, their_epochs = max(
        (value, -count) for count, value in scores(theirs, range(1, epochs + 1))
    )
    their_epochs = -their_epochs
    their_s = median_fit(
        lambda: theirs().set_params(max_iter=their_epochs), X, y, repeats
    )[0]
    cells = [f"{their_best:.4f} ({their_epochs}, {their_s:.2f} s)"]
    for count, value in scores(ours, range(1, 2 * epochs + 1)):
        if value >= their_best:
            our_s = median_fit(
                lambda c=count: ours().set_params(max_iter=c), X, y, repeats
            )[0]
            cells += [
                f"{value:.4f} ({count}, {our_s:.3f} s)",
                f"{their_s / our_s:.1f}x",
            ]
            break
    else:
        cells += [f"not within {2 * epochs} epochs ({value:.4f})", "-"]
    return f"| {name} | " + " | ".join(cells) + " |"


def ratio_row(name, theirs, ours):
    """A table row: both (fit / epochs, marginal epoch) and their ratios."""
    cells = [f"{a:.3f} ({b:.3f})" for a, b in (theirs, ours)]
    ratio = f"{theirs[0] / ours[0]:.1f}x ({theirs[1] / ours[1]:.1f}x)"
    return f"| {name} | {cells[0]} | {cells[1]} | {ratio} |"


# -- 3. regression -----------------------------------------------------------------


def regression_section(scale, repeats, lines):
    rng = np.random.default_rng(2)
    n = max(2_000, int(DENSE_ROWS * scale))
    X = rng.standard_normal((n + n // 5, DENSE_FEATURES))  # a fifth to test on
    y = X @ rng.standard_normal(DENSE_FEATURES) / 10 + 0.5 * rng.standard_normal(
        X.shape[0]
    )
    X, X_test, y, y_test = X[:n], X[n:], y[:n], y[n:]
    fit = dict(max_iter=3, tol=None, random_state=0)
    loss = "squared_epsilon_insensitive"
    LinearRegressor(loss, **fit).fit(X[:3000], y[:3000])
    theirs = per_epoch(lambda: SGDRegressor(loss=loss, **fit), X, y, repeats)
    ours = per_epoch(lambda: LinearRegressor(loss, **fit), X, y, repeats)
    lines += [
        f"## 3. Regression, {n:,} x {DENSE_FEATURES} f64",
        "",
        "Fit / epochs, and in brackets the marginal epoch (as in 2).",
        "",
        "| loss | SGDRegressor s/epoch | ours s/epoch | ratio |",
        "| --- | ---: | ---: | ---: |",
        ratio_row(loss, theirs, ours),
        *floor_lines(X, repeats),
        "",
        "### Time to SGDRegressor's R^2",
        "",
        *TIME_TO_HEADER,
        time_to_accuracy(
            loss,
            lambda: SGDRegressor(loss=loss, tol=None, random_state=0),
            lambda: LinearRegressor(loss, tol=None, random_state=0),
            (X, y, X_test, y_test),
            lambda est, X, y: r2_score(y, est.predict(X)),
            repeats,
        ),
        "",
    ]
    n, p = max(2_000, int(20_000 * scale)), 50
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + rng.exponential(2.0, n)  # skewed noise
    lines += [
        f"### Quantile regression, {n:,} x {p}, pinball loss on the training data",
        "",
        "| quantile | QuantileRegressor (highs) | ours | ratio of times |",
        "| ---: | ---: | ---: | ---: |",
    ]
    LinearRegressor("quantile", max_iter=2).fit(X[:500], y[:500])
    for q in (0.1, 0.5, 0.9):
        exact_s, exact = median_fit(
            lambda q=q: QuantileRegressor(quantile=q, alpha=0.0), X, y, 1
        )
        ours_s, ours = median_fit(
            lambda q=q: LinearRegressor(
                "quantile",
                quantile=q,
                penalty=None,
                learning_rate="adaptive",
                random_state=0,
            ),
            X,
            y,
            repeats,
        )
        best = mean_pinball_loss(y, exact.predict(X), alpha=q)
        got = mean_pinball_loss(y, ours.predict(X), alpha=q)
        lines.append(
            f"| {q} | {best:.5f} ({exact_s:.2f} s) | {got:.5f} "
            f"({got / best - 1:+.2%}, {ours_s:.2f} s, {ours.n_iter_} epochs) | "
            f"{ours_s / exact_s:.3f} |"
        )
    lines.append("")


def machine():
    import numba
    import sklearn

    load = os.getloadavg()[0]
    return [
        f"Machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; load average {load:.1f} at the start; "
        f"scikit-learn {sklearn.__version__}, Numba {numba.__version__}, "
        f"Python {platform.python_version()}.",
        "",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sections", default="123")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    lines = [
        "# bench_sgd: LinearClassifier / LinearRegressor vs scikit-learn's SGD",
        "",
    ]
    lines += machine()
    command = "python benchmarks/bench_sgd.py " + " ".join(argv or sys.argv[1:])
    lines += [f"Command: `{command.strip()}`", ""]
    sections = {"1": sparse_section, "2": dense_section, "3": regression_section}
    for key in args.sections:
        sections[key](args.scale, args.repeats, lines)
        print("\n".join(lines), flush=True)
    if args.output:
        with open(args.output, "w") as out:
            out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
