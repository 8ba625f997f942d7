"""Building blocks that several model builders share.

- Image models ([`mlrecipes.models.mlp`][mlrecipes.models.mlp], [`mlrecipes.models.cnn`][mlrecipes.models.cnn],
  [`mlrecipes.models.resnet`][mlrecipes.models.resnet]): the input-shape check, the standardizing input layer, batch
  normalization and the classifier head.
- Transformer models ([`mlrecipes.models.language_model`][mlrecipes.models.language_model],
  [`mlrecipes.models.seq2seq`][mlrecipes.models.seq2seq]): the size checks.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mlrecipes.errors import ArgumentValueError

BATCH_NORM_MOMENTUM = 0.9
"""How much of its running mean and variance a batch-normalization layer keeps at each step.

At test time batch normalization uses running averages of the batch
statistics, `running = momentum * running + (1 - momentum) * batch`. With
Keras' default momentum of 0.99, the averages still hold `0.99**t` of their
starting values (mean 0, variance 1) after `t` steps: half after 70 steps,
5% after 300. A run of a few hundred steps, which is what a small data set
gives, then tests with statistics that describe no real batch, and its test
accuracy can fall to chance while its training accuracy is fine. With 0.9 the
starting values are gone (below 0.1%) after 70 steps, and the averages follow
the last ~10 batches, which on a long run describe the final weights better too.
"""


def batch_normalization(name: str) -> keras.layers.BatchNormalization:
    """A batch-normalization layer whose running statistics settle within a few dozen steps.

    It is `synchronized`: under a `tf.distribute` strategy with several
    replicas, the batch statistics are those of the global batch, all-reduced
    across replicas, rather than each replica's share of it. Every replica and
    every worker then normalizes alike and keeps the same running averages, so
    a run on several devices trains the model a single device would; on one
    device it changes nothing.

    Args:
        name: The layer's name.

    Returns:
        `keras.layers.BatchNormalization` with `BATCH_NORM_MOMENTUM`.
    """
    return keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, synchronized=True, name=name)


def image_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """Check that `input_shape` is `(height, width, channels)` of positive sizes.

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
    """A layer that standardizes raw inputs, `(x - mean) / std`, or None when neither is given.

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
    layers are built with `dtype="float32"` so that the logits, the softmax and
    therefore the loss keep full precision.
    """
    logits = keras.layers.Dense(num_classes, use_bias=use_bias, dtype="float32", name="logits")(x)
    if logit_scale != 1.0:
        logits = keras.layers.Rescaling(logit_scale, dtype="float32", name="scale_logits")(logits)
    return keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)


def check_transformer_sizes(width: int, num_heads: int, dropout: float, **positive: int) -> None:
    """Reject transformer sizes that cannot build a model.

    Args:
        width: Size of the token vectors; `num_heads` must divide it.
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
