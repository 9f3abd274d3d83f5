"""
Export to ONNX and quantise to int8
===================================

:func:`skbigmodel.onnx.to_onnx` converts a fitted estimator, or a
scikit-learn pipeline that ends in one, to an ONNX graph (through skl2onnx),
which ONNX Runtime serves without Python, NumPy or Numba. Dynamic
quantisation then stores the weight matrices as int8, a quarter of their
float32 size.

We fit a ``StandardScaler`` + :class:`~skbigmodel.MLPClassifier` pipeline on
the digits data, export it, check that ONNX Runtime predicts what the model
predicts, then quantise it and measure what the int8 model loses. This needs
the ``onnx`` extra: ``pip install "skbigmodel[onnx]"``.
"""

# %%
# Fit, export, compare
# --------------------
# The graph's dtype follows the sample ``X`` given to ``to_onnx``: float32
# here, which quantisation needs.

import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbigmodel import MLPClassifier
from skbigmodel.onnx import to_onnx

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

model = make_pipeline(
    StandardScaler(), MLPClassifier(hidden_layer_sizes=(256, 128), random_state=0)
)
model.fit(X_train, y_train)

folder = tempfile.TemporaryDirectory()
float_path = Path(folder.name) / "digits.onnx"
float_path.write_bytes(to_onnx(model, X_train[:1]).SerializeToString())


def session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


label, proba = session(float_path).run(None, {"X": X_test})
print("same labels as model.predict:", bool(np.all(label == model.predict(X_test))))
print(
    "largest probability difference:",
    f"{np.abs(proba - model.predict_proba(X_test)).max():.1e}",
)

# %%
# Int8 quantisation
# -----------------
# ``quant_pre_process`` runs the shape inference and graph optimisation that
# quantisation wants first (ONNX Runtime's symbolic shape inference does not
# complete on this graph, hence ``skip_symbolic_shape``, which keeps ONNX's
# own); ``quantize_dynamic`` then
# rewrites the float32 matrix products of the graph into int8 ones
# (``MatMulInteger``), the activations being quantised on the fly. The
# predictions are close to the float model's but not equal, so measure the
# accuracy on held-out data before deploying the smaller model.

prepared_path = Path(folder.name) / "digits.prepared.onnx"
int8_path = Path(folder.name) / "digits.int8.onnx"
quant_pre_process(float_path, prepared_path, skip_symbolic_shape=True)
quantize_dynamic(prepared_path, int8_path, weight_type=QuantType.QInt8)

rows = {}
for name, path in [("float32", float_path), ("int8", int8_path)]:
    sess = session(path)
    label, _ = sess.run(None, {"X": X_test})
    start = time.perf_counter()
    for _ in range(20):
        sess.run(None, {"X": X_test})
    milliseconds = (time.perf_counter() - start) / 20 * 1e3
    rows[name] = dict(
        size=path.stat().st_size / 1e3,
        accuracy=float(np.mean(label == y_test)),
        agreement=float(np.mean(label == model.predict(X_test))),
        milliseconds=milliseconds,
    )
    print(
        f"{name:<8} {rows[name]['size']:7.1f} kB  test accuracy "
        f"{rows[name]['accuracy']:.4f}  same label as the model "
        f"{rows[name]['agreement']:.1%}  {milliseconds:.2f} ms for "
        f"{len(X_test)} rows"
    )

# %%
# Size and accuracy
# -----------------
# The timings above are for one batch of the 450 test images on this
# machine; they depend on the CPU (int8 products pay off on CPUs with
# integer dot-product instructions) and are not part of the comparison
# drawn here.

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
names = list(rows)
left.bar(names, [rows[n]["size"] for n in names], color=["C0", "C1"])
left.set_ylabel("file size (kB)")
left.set_title("ONNX file")
right.bar(names, [rows[n]["accuracy"] for n in names], color=["C0", "C1"])
right.set_ylim(0.9, 1.0)
right.set_ylabel("test accuracy")
right.set_title("Held-out digits")
for ax, key, fmt in [(left, "size", "{:.0f}"), (right, "accuracy", "{:.3f}")]:
    for k, name in enumerate(names):
        ax.text(
            k, rows[name][key], fmt.format(rows[name][key]), ha="center", va="bottom"
        )
plt.show()

folder.cleanup()
