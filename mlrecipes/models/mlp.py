"""The multilayer perceptron builder."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mlrecipes.errors import ArgumentValueError


def build_mlp(
    input_shape: Sequence[int],
    hidden_units: Sequence[int],
    num_classes: int,
    *,
    activation: str = "relu",
    dropout: float = 0.0,
    input_scale: float | None = None,
    name: str = "mlp",
) -> keras.Model:
    """Build a multilayer perceptron classifier.

    The input is flattened, optionally rescaled, then passed through one
    ``Dense`` layer per entry of ``hidden_units`` (each followed by
    ``dropout``), and a softmax output layer that gives class probabilities.
    The softmax is computed in float32 even under mixed precision.

    Args:
        input_shape: Shape of one example, such as ``(28, 28, 1)``.
        hidden_units: Width of each hidden layer, such as ``(512, 256)``; empty
            gives multinomial logistic regression.
        num_classes: Number of output classes (at least 2).
        activation: Activation of the hidden layers, any Keras activation name.
        dropout: Dropout rate after each hidden layer, in [0, 1).
        input_scale: Multiply the inputs by this first (``1/255`` lets the model
            take raw 8-bit pixels); None leaves them as they are.
        name: The model's name.

    Returns:
        An uncompiled ``keras.Model`` from ``input_shape`` to ``num_classes``
        probabilities.

    Raises:
        ArgumentValueError: On a non-positive width, fewer than 2 classes or a dropout
            rate outside [0, 1).
    """
    if num_classes < 2:
        raise ArgumentValueError("num_classes", num_classes, "a classifier needs at least 2 classes")
    if any(units <= 0 for units in hidden_units):
        raise ArgumentValueError("hidden_units", list(hidden_units), "every layer width must be positive")
    if not 0.0 <= dropout < 1.0:
        raise ArgumentValueError("dropout", dropout, "must be at least 0 and below 1")
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs)
    if input_scale is not None:
        x = keras.layers.Rescaling(input_scale, name="rescale")(x)
    for index, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"hidden_{index}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{index}")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    outputs = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return keras.Model(inputs, outputs, name=name)
