"""Benchmark skbigmodel.dask.DataParallel on a LocalCluster, in one run.

Run from the repository root::

    python benchmarks/bench_dask.py                      # 2M x 100 (a few minutes)
    python benchmarks/bench_dask.py --quick              # 10% of the rows, 1 repeat
    python benchmarks/bench_dask.py --output benchmarks/results_dask.md
    python benchmarks/bench_dask.py --out-of-core /path/with/space --size-gb 30

1. Dense 2,000,000 x 100 float32 binary logistic regression (a random
   teacher, logistic noise), made chunk by chunk on the workers (4 chunks of
   500,000 rows, persisted where they are made; never on the client), on a
   LocalCluster of 2 worker processes x 1 thread, against the plain
   ``LogisticClassifier`` on 2 threads in this process on the same rows
   (made here from the same seeds). The plain estimator trains 5 epochs;
   DataParallel ("average", local_epochs=1) trains the fewest rounds whose
   test accuracy (200,000 fresh rows) reaches the plain 5-epoch accuracy,
   found by a first fit that scores each round. Medians of ``--repeats``
   timed fits each, alternating; DataParallel's time includes its
   pre-pass (classes, weights) and every round. Bytes per round: what the
   workers sent (their ``transfer_outgoing_bytes_total``: to each other
   and to the client) over a fit, divided by its rounds.
2. ``mode="lbfgs"`` against ``LogisticClassifier(solver="lbfgs")`` in this
   process, same rows: final objectives, their relative difference, times.
   ``tol=1e-5``: with float32 data the parameters are float32, and the
   objective is a step function of them below a relative 1e-7 or so; a
   tighter ``tol`` leaves both solvers' line searches probing that floor
   (measured: 32 evaluations for the plain fit, 165 for DataParallel's,
   to the same objective within 1.5e-11).
3. ``--out-of-core DIR``: a float32 Dask array of ``--size-gb`` GB backed by
   ``.npy`` files of 250 MB in DIR (written by the workers, deleted at the
   end), trained for ``--ooc-rounds`` rounds without persisting: each
   round every task loads its file. Peak resident memory of each worker
   process (``ru_maxrss``; the workers are fresh) and time per round.

The machine, thread counts and load averages are recorded at the top.
"""

import argparse
import os
import platform
import resource
import shutil
import statistics
import sys
import time
import warnings

import dask
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster, wait
from sklearn.exceptions import ConvergenceWarning

import skbigmodel
from skbigmodel import LogisticClassifier
from skbigmodel.dask import DataParallel

FEATURES = 100
TEACHER_SEED = 12345
IDLE_BEFORE_TIMING = 0.3


def make_chunk(seed, rows):
    """Rows of a binary logistic model with a fixed random teacher."""
    teacher = np.random.default_rng(TEACHER_SEED).standard_normal(FEATURES)
    teacher *= 2.0 / np.sqrt(FEATURES)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, FEATURES), dtype=np.float32)
    y = (X @ teacher + rng.logistic(size=rows) > 0).astype(np.int64)
    return X, y


def cluster(**kwargs):
    return LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        protocol="tcp",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        **kwargs,
    )


def on_workers(client, n_chunks, rows):
    """X, y made chunk by chunk by tasks on the workers, persisted there."""
    parts = [
        dask.delayed(make_chunk, nout=2, pure=True)(seed, rows)
        for seed in range(n_chunks)
    ]
    X = da.concatenate(
        [da.from_delayed(p[0], (rows, FEATURES), np.float32) for p in parts]
    )
    y = da.concatenate([da.from_delayed(p[1], (rows,), np.int64) for p in parts])
    X, y = client.persist([X, y])
    wait([X, y])
    return X, y


def placement(client, X):
    """Chunks of X per worker."""
    counts = {}
    for workers in client.who_has(X).values():
        for worker in workers:
            counts[worker] = counts.get(worker, 0) + 1
    return sorted(counts.values())


class RoundScores:
    """A callback scoring each round's model on a test set."""

    def __init__(self, X_test, y_test, target):
        self.X_test, self.y_test, self.target = X_test, y_test, target
        self.scores = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name not in ("round", "epoch"):
            return False
        model = getattr(fitted_estimator, "estimator_", fitted_estimator)
        self.scores.append(model.score(self.X_test, self.y_test))
        return self.scores[-1] >= self.target


def timed(fit):
    time.sleep(IDLE_BEFORE_TIMING)
    start = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - start


def sent_bytes(client):
    counts = client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total)
    return sum(counts.values())


def average_case(client, args, lines):
    rows = args.rows // args.chunks
    X, y = on_workers(client, args.chunks, rows)
    lines.append(f"- chunks per worker: {placement(client, X)}")
    X_all = np.concatenate([make_chunk(s, rows)[0] for s in range(args.chunks)])
    y_all = np.concatenate([make_chunk(s, rows)[1] for s in range(args.chunks)])
    X_test, y_test = make_chunk(10_000, args.rows // 10)
    est = LogisticClassifier(random_state=0, tol=None)
    plain = LogisticClassifier(random_state=0, tol=None, max_iter=5, n_jobs=2)
    plain.fit(X_all[:5000], y_all[:5000])  # compile
    DataParallel(est, client=client, max_rounds=1).fit(X, y)  # workers compile
    plain.fit(X_all, y_all)
    target = plain.score(X_test, y_test)
    probe = RoundScores(X_test, y_test, target)
    search = DataParallel(est, client=client, max_rounds=args.max_rounds)
    search.set_callbacks(probe).fit(X, y)
    reached = [i for i, s in enumerate(probe.scores) if s >= target]
    rounds = reached[0] + 1 if reached else args.max_rounds
    # The plain estimator's own epochs to that accuracy, like for like
    epoch_probe = RoundScores(X_test, y_test, target)
    LogisticClassifier(random_state=0, tol=None, max_iter=5, n_jobs=2).set_callbacks(
        epoch_probe
    ).fit(X_all, y_all)
    epochs = len(epoch_probe.scores)
    short = LogisticClassifier(random_state=0, tol=None, max_iter=epochs, n_jobs=2)
    plain_times, short_times, ours_times, sent, scores = [], [], [], [], []
    for _ in range(args.repeats):
        _, seconds = timed(lambda: plain.fit(X_all, y_all))
        plain_times.append(seconds)
        _, seconds = timed(lambda: short.fit(X_all, y_all))
        short_times.append(seconds)
        before = sent_bytes(client)
        model = DataParallel(est, client=client, max_rounds=rounds)
        model, seconds = timed(lambda: model.fit(X, y))
        ours_times.append(seconds)
        sent.append((sent_bytes(client) - before) / rounds)
        scores.append(model.estimator_.score(X_test, y_test))
    p, o = statistics.median(plain_times), statistics.median(ours_times)
    net = model.estimator_._network
    model_bytes = net.params.nbytes + 2 * model.estimator_._opt_state.m.nbytes
    lines += [
        "",
        f"## 1. average: {args.rows:,} x {FEATURES} float32, binary logistic",
        "",
        f"- plain LogisticClassifier(n_jobs=2), 5 epochs: test accuracy {target:.4f}",
        "- DataParallel test accuracy by round (first fit): "
        + ", ".join(f"{s:.4f}" for s in probe.scores),
        f"- rounds to reach it: {rounds}"
        + ("" if reached else f" (not reached in {args.max_rounds})"),
        "",
        "| | median (s) | runs (s) | test accuracy |",
        "| --- | ---: | ---: | ---: |",
        f"| plain, 2 threads, 5 epochs | {p:.3f} | "
        f"{', '.join(f'{t:.3f}' for t in plain_times)} | {target:.4f} |",
        f"| plain, 2 threads, {epochs} epochs (its first epoch at that accuracy) | "
        f"{statistics.median(short_times):.3f} | "
        f"{', '.join(f'{t:.3f}' for t in short_times)} | "
        f"{epoch_probe.scores[-1]:.4f} |",
        f"| DataParallel, 2 processes x 1 thread, {rounds} rounds | {o:.3f} | "
        f"{', '.join(f'{t:.3f}' for t in ours_times)} | {scores[-1]:.4f} |",
        "",
        f"- ratio DataParallel / plain 5-epoch fit: {o / p:.2f} (per run: "
        + ", ".join(f"{a / b:.2f}" for a, b in zip(ours_times, plain_times))
        + ")",
        f"- ratio DataParallel / plain {epochs}-epoch fit (the same accuracy): "
        f"{o / statistics.median(short_times):.2f} (per run: "
        + ", ".join(f"{a / b:.2f}" for a, b in zip(ours_times, short_times))
        + ")",
        "- plain test accuracy by epoch: "
        + ", ".join(f"{s:.4f}" for s in epoch_probe.scores),
        f"- time per round: {o / rounds:.3f} s; plain epoch: {p / 5:.3f} s",
        f"- model bytes (parameters + two moments): {model_bytes:,}; bytes the "
        f"workers sent per round: median {statistics.median(sent):,.0f} "
        f"(model x workers x 2 = {model_bytes * 2 * 2:,})",
    ]
    return X, y, X_all, y_all


def lbfgs_case(client, X, y, X_all, y_all, lines):
    est = LogisticClassifier(solver="lbfgs", alpha=1e-4, tol=1e-5, max_iter=200)
    plain, p = timed(lambda: est.set_params(n_jobs=2).fit(X_all, y_all))
    est.set_params(n_jobs=None)
    ours, o = timed(lambda: DataParallel(est, client=client, mode="lbfgs").fit(X, y))
    f_plain, f_ours = plain.loss_curve_[-1], ours.loss_curve_[-1]
    lines += [
        "",
        "## 2. lbfgs: the same rows, alpha=1e-4, tol=1e-5",
        "",
        "| | objective | iterations | time (s) |",
        "| --- | ---: | ---: | ---: |",
        f"| plain solver='lbfgs', 2 threads | {f_plain:.12f} | {plain.n_iter_} | {p:.3f} |",
        f"| DataParallel mode='lbfgs' | {f_ours:.12f} | {ours.n_rounds_} | {o:.3f} |",
        "",
        f"- relative difference of the objectives: {abs(f_ours - f_plain) / f_plain:.2e}",
    ]


class RoundClock:
    """A callback recording when each round ends."""

    def __init__(self):
        self.ends = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name == "round":
            self.ends.append(time.perf_counter())
        return False


def round_times(client, X, y, rounds=6):
    """Seconds per round (the median of rounds 2 on) and the pre-pass's
    seconds (fit start to the end of round 1, minus a round)."""
    clock = RoundClock()
    model = DataParallel(
        LogisticClassifier(random_state=0, tol=None), client=client, max_rounds=rounds
    )
    time.sleep(IDLE_BEFORE_TIMING)
    start = time.perf_counter()
    model.set_callbacks(clock).fit(X, y)
    per_round = statistics.median(np.diff(clock.ends))
    return per_round, clock.ends[0] - start - per_round


def cost_case(client, X, y, X_all, y_all, lines):
    """The terms of the cost model: a local epoch on one core, a round on
    the cluster, and a round on partitions too small to cost anything."""
    share = X_all.shape[0] // 2  # a worker's rows
    local = LogisticClassifier(random_state=0, tol=None, max_iter=1, n_jobs=1)
    epochs = []
    for _ in range(3):
        _, seconds = timed(lambda: local.fit(X_all[:share], y_all[:share]))
        epochs.append(seconds)
    epoch = statistics.median(epochs)
    tiny_X = da.from_array(X_all[:4000], chunks=(1000, FEATURES))
    tiny_y = da.from_array(y_all[:4000], chunks=1000)
    tiny_X, tiny_y = client.persist([tiny_X, tiny_y])
    rounds, prepasses, overheads = [], [], []
    for _ in range(3):  # alternating, medians: the machine is shared
        per_round, prepass = round_times(client, X, y)
        rounds.append(per_round)
        prepasses.append(prepass)
        overheads.append(round_times(client, tiny_X, tiny_y)[0])
    per_round, prepass = statistics.median(rounds), statistics.median(prepasses)
    overhead = statistics.median(overheads)
    per_cell = epoch / (share * FEATURES)
    lines += [
        "",
        "## Cost model terms",
        "",
        f"- local epoch, one core, a worker's {share:,} rows (a plain fit, "
        f"n_jobs=1, max_iter=1): {epoch:.3f} s, i.e. {per_cell * 1e9:.2f} ns per "
        "row and feature",
        f"- a round on the cluster (median of rounds 2-6, median of 3 fits: "
        f"{', '.join(f'{r:.3f}' for r in rounds)}): {per_round:.3f} s; "
        f"the pre-pass: {prepass:.3f} s",
        f"- a round on 4 partitions of 1,000 rows (the fixed cost: graph, "
        f"scheduling, model out, tree of merges back): {overhead:.3f} s",
        f"- model: round = epoch / workers + fixed = {epoch:.3f} + {overhead:.3f} = "
        f"{epoch + overhead:.3f} s; measured {per_round:.3f} s",
    ]


def write_file(directory, index, rows):
    X, y = make_chunk(index, rows)
    np.save(os.path.join(directory, f"X{index:04d}.npy"), X)
    np.save(os.path.join(directory, f"y{index:04d}.npy"), y)
    return index


def load_file(directory, name, index):
    return np.load(os.path.join(directory, f"{name}{index:04d}.npy"))


def peak_rss(client):
    """Peak resident memory (bytes) of each worker process."""
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return sorted(kb * 1024 for kb in peaks.values())


def out_of_core_case(args, lines):
    rows = 250_000_000 // (4 * FEATURES)  # 250 MB a file
    n_files = int(np.ceil(args.size_gb * 1e9 / (rows * FEATURES * 4)))
    directory = os.path.join(args.out_of_core, "skbigmodel-bench-dask")
    os.makedirs(directory, exist_ok=True)
    try:
        with cluster() as local, Client(local) as client:
            started = time.perf_counter()
            client.gather(
                client.map(
                    write_file, [directory] * n_files, range(n_files), [rows] * n_files
                )
            )
            written = time.perf_counter() - started
        # Fresh workers: their peak memory is that of training alone.
        with cluster() as local, Client(local) as client:
            # X and y from tasks of their own: the pre-pass's passes over y
            # read no X.
            load = dask.delayed(load_file, pure=True)
            X = da.concatenate(
                [
                    da.from_delayed(
                        load(directory, "X", i), (rows, FEATURES), np.float32
                    )
                    for i in range(n_files)
                ]
            )
            y = da.concatenate(
                [
                    da.from_delayed(load(directory, "y", i), (rows,), np.int64)
                    for i in range(n_files)
                ]
            )
            clock = RoundClock()
            model = DataParallel(
                LogisticClassifier(random_state=0, tol=None),
                client=client,
                max_rounds=args.ooc_rounds,
            ).set_callbacks(clock)
            time.sleep(IDLE_BEFORE_TIMING)
            start = time.perf_counter()
            model.fit(X, y)
            seconds = time.perf_counter() - start
            rounds = np.diff([start, *clock.ends])
            peaks = peak_rss(client)
        X_test, y_test = make_chunk(10_000, 200_000)
        lines += [
            "",
            f"## 3. out of core: {X.nbytes / 1e9:.1f} GB float32 in {n_files} .npy files",
            "",
            f"- {X.shape[0]:,} x {FEATURES} rows; files written by the workers in "
            f"{written:.0f} s",
            f"- fit: {seconds:.1f} s; the pre-pass and round 1: {rounds[0]:.1f} s; "
            "later rounds: "
            + ", ".join(f"{r:.1f} s" for r in rounds[1:])
            + f" (each task loads its file: a round reads the {X.nbytes / 1e9:.0f} GB once)",
            "- peak resident memory of the two workers: "
            + ", ".join(f"{b / 2**30:.2f} GiB" for b in peaks),
            f"- test accuracy: {model.estimator_.score(X_test, y_test):.4f}; loss by round: "
            + ", ".join(f"{v:.4f}" for v in model.loss_curve_),
        ]
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def machine_lines():
    import numba
    import sklearn

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
    return [
        f"- machine: {platform.platform()}, {cpu}, os.cpu_count()={os.cpu_count()}",
        f"- python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, numba {numba.__version__}, "
        f"dask {dask.__version__}, skbigmodel {skbigmodel.__version__}",
        "- threads: plain n_jobs=2; DataParallel: LocalCluster of 2 worker "
        "processes x 1 thread, one kernel thread per task",
        f"- load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-rounds", type=int, default=15)
    parser.add_argument("--out-of-core", metavar="DIR")
    parser.add_argument("--size-gb", type=float, default=30.0)
    parser.add_argument("--ooc-rounds", type=int, default=2)
    parser.add_argument("--skip-in-memory", action="store_true")
    parser.add_argument("--output")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeats = args.rows // 10, 1
    warnings.simplefilter("ignore", ConvergenceWarning)
    lines = ["# DataParallel on a LocalCluster", "", *machine_lines()]
    if not args.skip_in_memory:
        with cluster() as local, Client(local) as client:
            data = average_case(client, args, lines)
            lbfgs_case(client, *data, lines)
            cost_case(client, *data, lines)
    if args.out_of_core:
        out_of_core_case(args, lines)
    lines.append(
        f"- load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        with open(args.output, "w") as out:
            out.write(text)


if __name__ == "__main__":
    sys.exit(main())
