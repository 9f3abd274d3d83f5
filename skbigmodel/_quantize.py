"""int8 quantisation of an exported graph, through onnxruntime's tools.

``to_onnx(..., quantize=...)`` calls ``quantize``. Dynamic quantisation
stores the weights of the matrix products as int8 and quantises the
activations on the fly; static quantisation also fixes the activations'
scales from a calibration sample, as QuantizeLinear / DequantizeLinear
pairs (QDQ) that onnxruntime fuses into integer products.
"""

import tempfile
from pathlib import Path

import numpy as np

__all__ = ["QUANTIZE_MODES", "check_quantize", "quantize"]

QUANTIZE_MODES = (None, "dynamic", "static")
# Calibration batches: the histogram of each activation is collected batch by batch.
CALIBRATION_BATCH = 256


def check_quantize(quantize, calibration, dtype, n_features):
    """ValueErrors for bad quantisation arguments, before any conversion;
    returns the calibration sample as a float32 array (or None)."""
    if quantize not in QUANTIZE_MODES:
        raise ValueError(
            f"quantize must be None, 'dynamic' or 'static'; got {quantize!r}."
        )
    if quantize is None:
        if calibration is not None:
            raise ValueError("calibration is only used with quantize='static'.")
        return None
    if dtype != np.float32:
        raise ValueError(
            f"quantize={quantize!r} needs a float32 graph (onnxruntime quantises "
            f"float32 products only): pass X as float32, not {dtype}."
        )
    if quantize == "dynamic":
        return None
    if calibration is None:
        raise ValueError(
            "quantize='static' needs calibration data: pass calibration=X_sample, "
            "a few hundred rows like those the model will see, from which the "
            "activations' int8 scales are set."
        )
    calibration = np.asarray(
        calibration.toarray() if hasattr(calibration, "toarray") else calibration,
        dtype=np.float32,
    )
    if calibration.ndim != 2 or calibration.shape[1] != n_features:
        raise ValueError(
            f"calibration must have shape (n_samples, {n_features}); got "
            f"{calibration.shape}."
        )
    if calibration.shape[0] == 0 or not np.isfinite(calibration).all():
        raise ValueError("calibration must hold at least one row, all finite.")
    return np.ascontiguousarray(calibration)


def _reader(calibration, input_name):
    from onnxruntime.quantization import CalibrationDataReader

    class Batches(CalibrationDataReader):
        def __init__(self):
            self.starts = iter(range(0, calibration.shape[0], CALIBRATION_BATCH))

        def get_next(self):
            start = next(self.starts, None)
            if start is None:
                return None
            return {input_name: calibration[start : start + CALIBRATION_BATCH]}

    return Batches()


def quantize(model, mode, calibration):
    """The int8 version of the float32 ``model`` (an ``onnx.ModelProto``).

    Only the matrix products are quantised (per output column for static
    quantisation): the activations, softmax and the label lookup stay in
    float32, where int8 would save no time and lose accuracy.
    """
    import onnx
    from onnxruntime.quantization import (
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_dynamic,
        quantize_static,
    )

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "float.onnx"
        prepared = Path(folder) / "prepared.onnx"
        target = Path(folder) / "int8.onnx"
        source.write_bytes(model.SerializeToString())
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        if mode == "dynamic":
            quantize_dynamic(
                str(prepared),
                str(target),
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul"],
            )
        else:
            quantize_static(
                str(prepared),
                str(target),
                _reader(calibration, model.graph.input[0].name),
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                per_channel=True,
                # its optimiser fuses MatMul and Add into Gemm first
                op_types_to_quantize=["MatMul", "Gemm"],
            )
        return onnx.load(str(target))
