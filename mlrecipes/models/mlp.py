"""The multilayer perceptron builder."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mlrecipes.errors import ArgumentValueError
from mlrecipes.models.blocks import batch_normalization, normalization_layer


def build_mlp(
    input_shape: Sequence[int],
    hidden_units: Sequence[int],
    num_classes: int,
    *,
    activation: str = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
    input_scale: float | None = None,
    input_mean: float | None = None,
    input_std: float | None = None,
    name: str = "mlp",
) -> keras.Model:
    """Build a multilayer perceptron classifier.

    The input is optionally rescaled or standardized and flattened, then
    passed through one `Dense` layer per entry of `hidden_units` (each
    followed by batch normalization if asked, the activation and `dropout`),
    and a softmax output layer that gives class probabilities. The softmax is
    computed in float32 even under mixed precision.

    Args:
        input_shape: Shape of one example, such as `(28, 28, 1)`.
        hidden_units: Width of each hidden layer, such as `(512, 256)`; empty
            gives multinomial logistic regression.
        num_classes: Number of output classes (at least 2).
        activation: Activation of the hidden layers, any Keras activation name.
        dropout: Dropout rate after each hidden layer, in [0, 1).
        batch_norm: Batch-normalize each hidden layer's pre-activations (the
            layer then has no bias: the normalization's shift takes its place).
        input_scale: Multiply the inputs by this first (`1/255` lets the model
            take raw 8-bit pixels); None leaves them as they are.
        input_mean: Standardize the inputs, `(x - input_mean) / input_std`,
            with these two numbers (for example the training pixels' mean and
            standard deviation); give both or neither, and not with `input_scale`.
        input_std: See `input_mean`.
        name: The model's name.

    Returns:
        An uncompiled `keras.Model` from `input_shape` to `num_classes`
        probabilities.

    Raises:
        ArgumentValueError: On a non-positive width, fewer than 2 classes, a dropout
            rate outside [0, 1), or inputs both rescaled and standardized.
    """
    if num_classes < 2:
        raise ArgumentValueError("num_classes", num_classes, "a classifier needs at least 2 classes")
    if any(units <= 0 for units in hidden_units):
        raise ArgumentValueError("hidden_units", list(hidden_units), "every layer width must be positive")
    if not 0.0 <= dropout < 1.0:
        raise ArgumentValueError("dropout", dropout, "must be at least 0 and below 1")
    if input_scale is not None and (input_mean is not None or input_std is not None):
        raise ArgumentValueError("input_scale", input_scale, "give either input_scale or input_mean and input_std")
    standardize = normalization_layer(input_mean, input_std, channels=1)
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs)
    if input_scale is not None:
        x = keras.layers.Rescaling(input_scale, name="rescale")(x)
    if standardize is not None:
        x = standardize(x)
    for index, units in enumerate(hidden_units, start=1):
        if batch_norm:
            x = keras.layers.Dense(units, use_bias=False, name=f"hidden_{index}")(x)
            x = batch_normalization(f"hidden_{index}_bn")(x)
            x = keras.layers.Activation(activation, name=f"hidden_{index}_{activation}")(x)
        else:
            x = keras.layers.Dense(units, activation=activation, name=f"hidden_{index}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{index}")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    outputs = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return keras.Model(inputs, outputs, name=name)
