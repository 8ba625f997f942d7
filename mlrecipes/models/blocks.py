"""Building blocks that several model builders share.

- Image models (`mlrecipes.models.cnn`, `mlrecipes.models.resnet`): the
  input-shape check, the standardizing input layer and the classifier head.
- Transformer models (`mlrecipes.models.language_model`,
  `mlrecipes.models.seq2seq`): the size checks.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mlrecipes.errors import ArgumentValueError


def image_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """Check that ``input_shape`` is ``(height, width, channels)`` of positive sizes.

    Args:
        input_shape: The shape of one image, without the batch dimension.

    Returns:
        The shape as a tuple of three ints.

    Raises:
        ArgumentValueError: If the shape is not three positive whole numbers.
    """
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(size, int) and size > 0 for size in shape):
        raise ArgumentValueError(
            "input_shape",
            shape,
            "expected (height, width, channels) of positive whole numbers, such as (28, 28, 1) or (32, 32, 3)",
        )
    return shape


def normalization_layer(
    input_mean: float | Sequence[float] | None, input_std: float | Sequence[float] | None, channels: int
) -> keras.layers.Layer | None:
    """A layer that standardizes raw inputs, ``(x - mean) / std``, or None when neither is given.

    Args:
        input_mean: The mean of the inputs: one number, or one per channel.
        input_std: Their standard deviation: one number, or one per channel.
        channels: The number of input channels.

    Raises:
        ArgumentValueError: If only one of the two is given, a per-channel list has the
            wrong length, or a standard deviation is not positive.
    """
    if input_mean is None and input_std is None:
        return None
    if input_mean is None or input_std is None:
        raise ArgumentValueError(
            "input_std", input_std, "give both input_mean and input_std (to standardize the inputs) or neither"
        )
    means = [float(input_mean)] if isinstance(input_mean, (int, float)) else [float(m) for m in input_mean]
    stds = [float(input_std)] if isinstance(input_std, (int, float)) else [float(s) for s in input_std]
    for name, values in (("input_mean", means), ("input_std", stds)):
        if len(values) not in (1, channels):
            raise ArgumentValueError(name, values, f"give one number or one per channel ({channels})")
    if min(stds) <= 0:
        raise ArgumentValueError("input_std", stds, "standard deviations must be positive")
    means = means * channels if len(means) == 1 else means
    variances = [(std * std) for std in (stds * channels if len(stds) == 1 else stds)]
    return keras.layers.Normalization(mean=means, variance=variances, name="standardize")


def classifier_head(x: keras.KerasTensor, num_classes: int, *, use_bias: bool = True, logit_scale: float = 1.0):
    """The float32 output layers: logits, optionally scaled, and a softmax.

    Under a mixed-precision policy the convolutions compute in 16 bits; these
    layers are built with ``dtype="float32"`` so that the logits, the softmax and
    therefore the loss keep full precision.
    """
    logits = keras.layers.Dense(num_classes, use_bias=use_bias, dtype="float32", name="logits")(x)
    if logit_scale != 1.0:
        logits = keras.layers.Rescaling(logit_scale, dtype="float32", name="scale_logits")(logits)
    return keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)


def check_transformer_sizes(width: int, num_heads: int, dropout: float, **positive: int) -> None:
    """Reject transformer sizes that cannot build a model.

    Args:
        width: Size of the token vectors; ``num_heads`` must divide it.
        num_heads: Attention heads per block.
        dropout: Dropout rate, in [0, 1).
        **positive: More sizes that must be positive whole numbers, by name.

    Raises:
        ArgumentValueError: Naming the first bad size and what would be accepted.
    """
    for name, value in {"width": width, "num_heads": num_heads, **positive}.items():
        if not isinstance(value, int) or value <= 0:
            raise ArgumentValueError(name, value, "must be a positive whole number")
    if width % num_heads:
        raise ArgumentValueError("width", width, f"must be a multiple of num_heads ({num_heads})")
    if not 0.0 <= dropout < 1.0:
        raise ArgumentValueError("dropout", dropout, "must be at least 0 and below 1")
