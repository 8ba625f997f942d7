"""Keras post-training quantization of a trained model, on a copy.

`keras.Model.quantize` replaces the float kernels of `Dense`, `EinsumDense`
(and, for int8, `Embedding`) layers by integer ones with a scale per output
channel; other layers, `Conv2D` among them, stay float. The model quantized
here is a copy, so the float model stays available for comparison.
"""

from __future__ import annotations

import warnings

import keras

from mlrecipes.errors import ArgumentValueError

KERAS_QUANTIZATION_MODES = ("int8", "int4")

# The layers whose kernels each mode turns into integers (Keras 3.15).
QUANTIZABLE_LAYERS = {
    "int8": (keras.layers.Dense, keras.layers.EinsumDense, keras.layers.Embedding),
    "int4": (keras.layers.Dense, keras.layers.EinsumDense),
}


def quantizable_layers(model: keras.Model, mode: str) -> list[keras.layers.Layer]:
    """The layers of `model` (nested models included) that `mode` quantizes.

    Args:
        model: A built Keras model.
        mode: `"int8"` or `"int4"`.

    Returns:
        The layers, in the model's order.

    Raises:
        ArgumentValueError: (argument `mode`) For another mode.
    """
    if mode not in QUANTIZABLE_LAYERS:
        raise ArgumentValueError("mode", mode, f"must be one of {', '.join(KERAS_QUANTIZATION_MODES)}")
    kinds = QUANTIZABLE_LAYERS[mode]
    return [layer for layer in model._flatten_layers(include_self=False) if type(layer) in kinds]


def quantized_copy(model: keras.Model, mode: str) -> keras.Model:
    """A copy of `model` with its Dense-like kernels quantized by Keras.

    Args:
        model: A trained functional or sequential Keras model.
        mode: `"int8"` (8-bit kernels and activations) or `"int4"` (4-bit
            kernels, packed two to a byte).

    Returns:
        The quantized copy; `model` is unchanged.

    Raises:
        ArgumentValueError: (argument `mode`) For another mode, or when the
            model has no layer that `mode` quantizes (say, a network of
            convolutions only).
    """
    layers = quantizable_layers(model, mode)
    if not layers:
        kinds = ", ".join(kind.__name__ for kind in QUANTIZABLE_LAYERS[mode])
        raise ArgumentValueError("mode", mode, f"quantizes {kinds} layers and {model.name!r} has none")
    copy = inference_copy(model)
    with warnings.catch_warnings():  # one "has no quantize method" warning per other layer
        warnings.filterwarnings("ignore", message=".*does not have a `quantize` method")
        copy.quantize(mode)
    return copy


def inference_copy(model: keras.Model) -> keras.Model:
    """A copy of a functional model with the same weights and no optimizer.

    What gets deployed: saving it writes the weights only, not the training
    state a finished run's `model.keras` carries (Adam's two moving averages
    triple a file).

    A model holding lookup tables (a `TextVectorization` tokenizer) does not
    copy this way: its copy's tables are left uninitialized. Copy the numeric
    part only (`text_classifier_parts`).

    Args:
        model: A functional Keras model without lookup tables.

    Returns:
        An uncompiled copy.
    """
    copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy
