"""
Train big, ship small: distil, prune, quantise, serve
=====================================================

A large network is easier to train; a small one is cheaper to serve. This
example takes a large :class:`~skbigmodel.MLPClassifier` on the digits data
through the three steps of :mod:`skbigmodel.compress` and
:func:`skbigmodel.onnx.to_onnx`, and serves every stage with ONNX Runtime:

1. **distil** it into a student with a small hidden layer
   (:class:`~skbigmodel.compress.DistilledClassifier`);
2. **prune** the student: first 80 % of its weights (a mask keeps them at
   zero while it is fine-tuned), then half of its hidden units
   (:func:`~skbigmodel.compress.prune`, ``structured=True``), which makes
   the network itself smaller;
3. **quantise** it to int8 (``to_onnx(..., quantize="static")``,
   calibrated on training rows).

:func:`~skbigmodel.compress.compare` measures the file size, the test
accuracy and ONNX Runtime's latency per batch at each stage. The
mathematics is in the user guide (:ref:`compression`). This needs the
``onnx`` extra: ``pip install "skbigmodel[onnx]"``.
"""

# %%
# A large teacher
# ---------------
# Float32 data: the ONNX graphs are float32, which quantisation needs.

import warnings

import numpy as np
import onnxruntime as ort
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skbigmodel import MLPClassifier
from skbigmodel.compress import DistilledClassifier, compare, prune
from skbigmodel.onnx import to_onnx

warnings.simplefilter("ignore", ConvergenceWarning)  # fixed epoch budgets here

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

teacher = MLPClassifier((256, 256), dropout=0.2, max_iter=60, random_state=0)
teacher.fit(X_train, y_train)
print(f"teacher test accuracy: {teacher.score(X_test, y_test):.4f}")

# %%
# Distil a small student
# ----------------------
# The student has one hidden layer of 32 units. It learns from the labels
# and from the teacher's probabilities softened at temperature 2; the loss
# is computed in the training kernels with the student's own solver.

student = MLPClassifier((32,), batch_size=64, max_iter=60, random_state=0)
distilled = DistilledClassifier(student, teacher, temperature=2.0, soft_weight=0.5)
distilled.fit(X_train, y_train)
small = distilled.student_  # a plain fitted MLPClassifier
print(f"distilled student test accuracy: {small.score(X_test, y_test):.4f}")

# %%
# Prune it
# --------
# 80 % of the weights with the smallest magnitude become zero; ten epochs
# of ``partial_fit`` fine-tune the others while the mask keeps the zeros.
# Then half of the hidden units go, ranked by the norms of their weights:
# the network becomes (16,) wide.

sparse = prune(small, 0.8)
for _ in range(10):
    sparse.partial_fit(X_train, y_train)
zeros = np.mean(np.concatenate([(W == 0).ravel() for W in sparse.coefs_]))
print(f"pruned: {zeros:.0%} zero weights, accuracy {sparse.score(X_test, y_test):.4f}")

narrow = prune(sparse, 0.5, structured=True)
for _ in range(10):
    narrow.partial_fit(X_train, y_train)
print(f"structured: hidden_layer_sizes={narrow.hidden_layer_sizes}")

# %%
# Quantise and compare
# --------------------
# Each stage as an ONNX graph; the last one also with int8 weights and
# activations, calibrated on 300 training rows. ``compare`` runs each with
# ONNX Runtime on batches of 500 rows (the median of 20 calls). On a network
# this small int8 saves little: the graph's fixed parts (the quantisation
# nodes, scales, the class labels) weigh as much as its few weights. On the
# (256, 128) MNIST network of ``benchmarks/bench_compress.py`` the static
# int8 file is 26 % of the float32 one and about three times as fast.

models = {
    "teacher (256, 256)": to_onnx(teacher, X_train),
    "distilled (32,)": to_onnx(small, X_train),
    "pruned 80 % + (16,)": to_onnx(narrow, X_train),
    "+ static int8": to_onnx(
        narrow, X_train, quantize="static", calibration=X_train[:300]
    ),
}
rows = []
for name, model in models.items():
    source = teacher if name.startswith("teacher") else narrow
    row = compare(source, {name: model}, X_test, y_test, batch_size=500)[1]
    rows.append(row)

print(f"{'stage':<22} {'size (kB)':>10} {'accuracy':>9} {'ms / 500 rows':>14}")
for row in rows:
    print(
        f"{row['model']:<22} {row['size_bytes'] / 1e3:10.1f} {row['score']:9.4f} "
        f"{row['latency_ms']:14.3f}"
    )

# %%
# Serve it
# --------
# The int8 graph runs in ONNX Runtime without Python's scientific stack: it
# needs only the file. Its labels agree with the pruned model's on nearly
# every test image.

session = ort.InferenceSession(
    models["+ static int8"].SerializeToString(), providers=["CPUExecutionProvider"]
)
label, proba = session.run(None, {"X": X_test})
print(f"agreement with the float model: {np.mean(label == narrow.predict(X_test)):.4f}")
