"""
Out-of-core training with ``partial_fit`` over a memory map
===========================================================

When the training data does not fit in memory it can live in a file on disk,
opened as a :class:`numpy.memmap`, and be learned one chunk at a time with
``partial_fit``: each call runs one epoch over the chunk it is given and
keeps the optimiser's state (Adam's moments, the step count) for the next
call. Only the chunk being trained on has to be in memory, and a
C-contiguous slice of a memory map goes to the kernels without a copy.

Here 200,000 generated rows are written to a temporary file, then
:class:`~skbigmodel.LogisticClassifier` makes three passes over it in chunks
of 20,000 rows. A :class:`~sklearn.preprocessing.StandardScaler` learns the
feature scales in one pass first, with its own ``partial_fit``.
"""

# %%
# The data, on disk
# -----------------
# A binary problem with 40 features on very different scales, and a
# held-out test set kept in memory. For brevity ``make_classification``
# builds the rows in memory before they are written out chunk by chunk; in
# practice the file would come from elsewhere, and the memory map is all
# that the training loop below touches.

import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.preprocessing import StandardScaler

from skbigmodel import LogisticClassifier

N_ROWS, N_FEATURES, CHUNK = 200_000, 40, 20_000
folder = tempfile.TemporaryDirectory()
path = Path(folder.name) / "train.float32"

X_all, y_all = make_classification(
    n_samples=N_ROWS + 20_000,
    n_features=N_FEATURES,
    n_informative=12,
    n_redundant=8,
    flip_y=0.05,
    class_sep=0.7,
    random_state=0,
)
scales = np.logspace(-2, 3, N_FEATURES)  # raw features span 5 decades
X_test, y_test = X_all[N_ROWS:] * scales, y_all[N_ROWS:]

X = np.memmap(path, dtype=np.float32, mode="w+", shape=(N_ROWS, N_FEATURES))
for start in range(0, N_ROWS, CHUNK):
    X[start : start + CHUNK] = X_all[start : start + CHUNK] * scales
X.flush()
y = y_all[:N_ROWS]
del X_all  # from here on, the training rows are only on disk

X = np.memmap(path, dtype=np.float32, mode="r", shape=(N_ROWS, N_FEATURES))
print(f"{path.stat().st_size / 1e6:.0f} MB on disk, read in chunks of {CHUNK} rows")

# %%
# Scaling, then three passes of ``partial_fit``
# ---------------------------------------------
# The first call to ``partial_fit`` must name every class, since a chunk
# may not contain them all. After each chunk we record the accuracy on the
# test set, to watch the model learn. scikit-learn's ``SGDClassifier``
# follows the same schedule for comparison.

scaler = StandardScaler()
for start in range(0, N_ROWS, CHUNK):
    scaler.partial_fit(X[start : start + CHUNK])
X_test_scaled = scaler.transform(X_test).astype(np.float32)

models = {
    "LogisticClassifier": LogisticClassifier(random_state=0),
    "SGDClassifier(log_loss)": SGDClassifier(loss="log_loss", random_state=0),
}
curves = {name: [] for name in models}
seconds = dict.fromkeys(models, 0.0)
rows_seen = []
classes = np.unique(y)
for n_pass in range(3):
    for start in range(0, N_ROWS, CHUNK):
        chunk = scaler.transform(X[start : start + CHUNK]).astype(np.float32)
        for name, model in models.items():
            began = time.perf_counter()
            model.partial_fit(chunk, y[start : start + CHUNK], classes=classes)
            seconds[name] += time.perf_counter() - began
            curves[name].append(model.score(X_test_scaled, y_test))
        rows_seen.append(n_pass * N_ROWS + start + CHUNK)

for name, model in models.items():
    print(
        f"{name:<24} test accuracy {curves[name][-1]:.3f} after 3 passes, "
        f"{seconds[name]:.2f} s in partial_fit"
    )

# %%
# The float32 chunks stay float32 inside the model.

print(models["LogisticClassifier"].coef_.dtype)

# %%
# For reference only: what scikit-learn's full-batch
# :class:`~sklearn.linear_model.LogisticRegression` reaches when the whole
# training set is loaded into memory at once.

X_in_memory = scaler.transform(np.asarray(X))
reference = LogisticRegression().fit(X_in_memory, y).score(X_test_scaled, y_test)
print(f"LogisticRegression (lbfgs, all rows in memory): {reference:.3f}")

# %%
# Learning curves
# ---------------
# Accuracy on the held-out rows after each chunk. The first call of
# ``LogisticClassifier.partial_fit`` also compiles the kernel for float32
# data (unless Numba's disk cache has it already), which is counted in its
# time above.

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for name, curve in curves.items():
    ax.plot(rows_seen, curve, marker=".", label=name)
for n_pass in range(1, 3):
    ax.axvline(n_pass * N_ROWS, color="0.8", lw=1)
ax.axhline(reference, color="k", ls="--", lw=1, label="LogisticRegression, in memory")
ax.set_xlabel("training rows seen")
ax.set_ylabel("test accuracy")
ax.set_title("partial_fit over chunks of a memory-mapped file")
ax.legend()
plt.show()

folder.cleanup()
