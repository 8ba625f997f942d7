"""`.tflite` files for phones, microcontrollers and servers without TensorFlow, and running them.

`export_litert` writes a Keras model as a LiteRT (formerly TensorFlow Lite)
flat buffer through `keras.Model.export(format="litert")`, with the
converter's post-training quantization:

- `"float32"`: the weights as they are;
- `"dynamic_int8"`: weights stored as int8 with a scale per output channel,
  activations quantized on the fly at run time;
- `"int8"`: weights *and* activations int8, their scales and zero points
  calibrated on a representative sample of training inputs; the file's
  inputs and outputs stay float32 (quantized at the edges).

Unlike `keras.Model.quantize`, the converter quantizes convolutions too.

`LiteRTModel` runs a `.tflite` file with the LiteRT interpreter from the
`ai-edge-litert` package (`tf.lite.Interpreter` is deprecated).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mlrecipes.errors import ArgumentValueError

LITERT_QUANTIZATIONS = ("float32", "dynamic_int8", "int8")


def export_litert(
    model: keras.Model,
    path: str | Path,
    *,
    quantization: str = "float32",
    representative_inputs: Callable[[], Iterable[np.ndarray]] | None = None,
) -> Path:
    """Write `model` as a `.tflite` file, quantized by the LiteRT converter.

    Args:
        model: A float Keras model (quantize in the converter, not with
            `keras.Model.quantize`: a Keras-quantized model does not export).
        path: The `.tflite` file to write; written to a temporary name and
            renamed, so a failed export leaves nothing.
        quantization: `"float32"`, `"dynamic_int8"` or `"int8"`.
        representative_inputs: For `"int8"`: a function returning an iterable
            of input batches (a few hundred training examples in all) on which
            the converter calibrates activation ranges.

    Returns:
        The path written.

    Raises:
        ArgumentValueError: (argument `quantization`) For another value, or
            (`representative_inputs`) when `"int8"` has none.
    """
    if quantization not in LITERT_QUANTIZATIONS:
        raise ArgumentValueError("quantization", quantization, f"must be one of {', '.join(LITERT_QUANTIZATIONS)}")
    settings: dict = {}
    if quantization != "float32":
        settings["optimizations"] = [tf.lite.Optimize.DEFAULT]
    if quantization == "int8":
        if representative_inputs is None:
            raise ArgumentValueError(
                "representative_inputs", None, "full int8 needs a sample of inputs to calibrate activations on"
            )

        dtype = keras.backend.standardize_dtype(model.inputs[0].dtype)

        def representative_dataset():
            for batch in representative_inputs():
                for example in np.asarray(batch).astype(dtype):
                    yield [example[None]]

        settings["representative_dataset"] = representative_dataset
        settings["target_spec"] = {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]}
    path = Path(path)
    partial = path.with_name(path.stem + ".partial.tflite")  # Keras wants the .tflite suffix
    try:
        model.export(str(partial), format="litert", verbose=False, **settings)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


class LiteRTModel:
    r"""A `.tflite` classifier or regressor run by the LiteRT interpreter.

    Inputs and outputs are NumPy arrays with a leading batch axis. The file's
    batch dimension is resized to each call's batch, since the converter
    traces it as 1. Integer (quantized) inputs and outputs are converted with
    the file's scale $s$ and zero point $z$: $q = \operatorname{round}(x / s) + z$
    and $x \approx s (q - z)$.

    Args:
        path: The `.tflite` file.
        num_threads: CPU threads for the interpreter; default LiteRT's choice.

    Raises:
        ArgumentValueError: (argument `path`) When the file is missing or is
            not a LiteRT model.
    """

    def __init__(self, path: str | Path, *, num_threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        if not self.path.is_file():
            raise ArgumentValueError("path", str(path), "no such .tflite file")
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=num_threads)
        except (ValueError, RuntimeError) as error:
            raise ArgumentValueError("path", str(path), f"not a LiteRT model ({error})") from None
        self.interpreter.allocate_tensors()
        (self._input,) = self.interpreter.get_input_details()
        (self._output,) = self.interpreter.get_output_details()
        self._batch = int(self._input["shape"][0])

    @property
    def input_dtype(self) -> np.dtype:
        """The element type the file's input takes (float32, or int8/uint8 when quantized)."""
        return np.dtype(self._input["dtype"])

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """Run one batch.

        Args:
            inputs: An array of the file's input shape, any batch size.

        Returns:
            The output for the batch, as float32.
        """
        inputs = np.asarray(inputs)
        if inputs.shape[0] != self._batch:
            self.interpreter.resize_tensor_input(self._input["index"], list(inputs.shape))
            self.interpreter.allocate_tensors()
            self._input = self.interpreter.get_input_details()[0]
            self._output = self.interpreter.get_output_details()[0]
            self._batch = inputs.shape[0]
        scale, zero_point = self._input["quantization"]
        if self.input_dtype.kind in "iu" and scale:
            info = np.iinfo(self.input_dtype)
            inputs = np.clip(np.round(inputs / scale) + zero_point, info.min, info.max)
        self.interpreter.set_tensor(self._input["index"], inputs.astype(self.input_dtype))
        self.interpreter.invoke()
        outputs = self.interpreter.get_tensor(self._output["index"])
        scale, zero_point = self._output["quantization"]
        if np.dtype(self._output["dtype"]).kind in "iu" and scale:
            return (scale * (outputs.astype(np.float32) - zero_point)).astype(np.float32)
        return outputs.astype(np.float32)

    def predict(self, inputs: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Run all of `inputs`, `batch_size` examples at a time.

        Args:
            inputs: An array with a leading batch axis.
            batch_size: Examples per interpreter call.

        Returns:
            The outputs, concatenated.
        """
        return np.concatenate([self(inputs[start : start + batch_size]) for start in range(0, len(inputs), batch_size)])
