r"""The residual network builder; by default the small ResNet-9 that trains CIFAR-10 fast.

The layout is David Page's ResNet-9 from "How to train your ResNet"
(myrtle.ai, 2018; github.com/davidcpage/cifar10-fast): a stem convolution,
then stages that each double the channels with one convolution, halve the
resolution with 2×2 max pooling and add residual blocks,

$$y = x + \operatorname{relu}(\operatorname{bn}(W_2 * \operatorname{relu}(\operatorname{bn}(W_1 * x)))),$$

then a global max pooling, a linear layer and a fixed scaling of the logits.
With the defaults (64 stem channels, stages of 128, 256 and 512 channels with
1, 0 and 1 residual blocks) it has 9 weight layers and 6.57 million weights.
As in the CNN builder, pooling comes right after a stage's convolution and
before its normalization (the order of Keller Jordan's airbench networks),
which makes normalization and activation four times cheaper.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mlrecipes.errors import ArgumentValueError
from mlrecipes.models.blocks import classifier_head, image_shape, normalization_layer


def resnet_depth(blocks_per_stage: Sequence[int]) -> int:
    """Weight layers of a ResNet: the stem, one convolution per stage, two per block, the output layer."""
    return 1 + len(blocks_per_stage) + 2 * sum(blocks_per_stage) + 1


def conv_bn_relu(x: keras.KerasTensor, filters: int, name: str, *, batch_norm: bool, pool: bool = False):
    """3×3 convolution, optional 2×2 max pooling, batch normalization and ReLU."""
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=f"{name}_conv")(x)
    if pool:
        x = keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def residual_block(x: keras.KerasTensor, name: str, *, batch_norm: bool):
    """Two conv-bn-relu layers whose output is added to their input."""
    filters = x.shape[-1]
    branch = conv_bn_relu(x, filters, f"{name}_a", batch_norm=batch_norm)
    branch = conv_bn_relu(branch, filters, f"{name}_b", batch_norm=batch_norm)
    return keras.layers.Add(name=f"{name}_add")([x, branch])


def build_resnet(
    input_shape: Sequence[int] = (32, 32, 3),
    num_classes: int = 10,
    *,
    stem_filters: int = 64,
    stage_filters: Sequence[int] = (128, 256, 512),
    blocks_per_stage: Sequence[int] = (1, 0, 1),
    width: float = 1.0,
    batch_norm: bool = True,
    logit_scale: float = 0.125,
    input_mean: float | Sequence[float] | None = None,
    input_std: float | Sequence[float] | None = None,
    name: str | None = None,
) -> keras.Model:
    """Build a residual network classifier.

    Args:
        input_shape: `(height, width, channels)` of one image; each stage
            halves the height and width, so both must be at least
            `2 ** len(stage_filters)`.
        num_classes: Number of output classes (at least 2).
        stem_filters: Channels of the first convolution, at full resolution.
        stage_filters: Channels of each stage; one stage per entry.
        blocks_per_stage: Residual blocks in each stage (0 is allowed), as many
            entries as `stage_filters`. More blocks make a deeper network:
            the depth is `2 + len(stages) + 2 * sum(blocks)`.
        width: Multiplies every channel count (0.25 gives a network 16 times
            cheaper, for CPUs and tests; 2.0 a wider, stronger one).
        batch_norm: Batch-normalize after each convolution.
        logit_scale: Multiplies the logits of the bias-free output layer (Page
            uses 0.125, which keeps early predictions soft).
        input_mean: Mean of the raw inputs, one number or one per channel; with
            `input_std` the model standardizes raw pixels itself.
        input_std: Standard deviation of the raw inputs.
        name: The model's name; default `resnet<depth>`, such as `resnet9`.

    Returns:
        An uncompiled `keras.Model` from images to `num_classes`
        probabilities (float32 under any precision policy).

    Raises:
        ArgumentValueError: On an `input_shape` that is not `(height, width,
            channels)` or too small for the stages, and on other bad values.
    """
    height, image_width, channels = image_shape(input_shape)
    if num_classes < 2:
        raise ArgumentValueError("num_classes", num_classes, "a classifier needs at least 2 classes")
    if stem_filters <= 0:
        raise ArgumentValueError("stem_filters", stem_filters, "must be a positive whole number")
    if not stage_filters or any(count <= 0 for count in stage_filters):
        raise ArgumentValueError("stage_filters", list(stage_filters), "give one positive filter count per stage")
    if len(blocks_per_stage) != len(stage_filters):
        raise ArgumentValueError(
            "blocks_per_stage",
            list(blocks_per_stage),
            f"give one block count per stage (stage_filters={list(stage_filters)})",
        )
    if any(blocks < 0 for blocks in blocks_per_stage):
        raise ArgumentValueError("blocks_per_stage", list(blocks_per_stage), "every block count must be 0 or more")
    if not 0.0 < width < float("inf"):
        raise ArgumentValueError("width", width, "must be a positive number")
    smallest = 2 ** len(stage_filters)
    if min(height, image_width) < smallest:
        raise ArgumentValueError(
            "input_shape",
            (height, image_width, channels),
            f"{height}x{image_width} images are too small "
            f"for {len(stage_filters)} stages that each halve the size; they need at least {smallest}x{smallest}",
        )

    def scaled(count: int) -> int:
        return max(1, round(count * width))

    inputs = keras.Input(shape=(height, image_width, channels), name="images")
    x = inputs
    standardize = normalization_layer(input_mean, input_std, channels)
    if standardize is not None:
        x = standardize(x)
    x = conv_bn_relu(x, scaled(stem_filters), "stem", batch_norm=batch_norm)
    for stage, (count, blocks) in enumerate(zip(stage_filters, blocks_per_stage), start=1):
        x = conv_bn_relu(x, scaled(count), f"stage{stage}", batch_norm=batch_norm, pool=True)
        for block in range(1, blocks + 1):
            x = residual_block(x, f"stage{stage}_block{block}", batch_norm=batch_norm)
    x = keras.layers.GlobalMaxPooling2D(name="global_max")(x)
    outputs = classifier_head(x, num_classes, use_bias=False, logit_scale=logit_scale)
    return keras.Model(inputs, outputs, name=name or f"resnet{resnet_depth(blocks_per_stage)}")
