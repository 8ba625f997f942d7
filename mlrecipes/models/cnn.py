"""The plain convolutional network builder.

A block is one or more 3×3 convolutions with a 2×2 max pooling after the
first:

```text
conv → max-pool → [batch norm] → relu → (conv → [batch norm] → relu) × (convs_per_block − 1)
```

Pooling right after the convolution, before normalization and activation,
gives the same result as the textbook conv → relu → pool when there is no
batch normalization (a ReLU commutes with a maximum), and with batch
normalization it is the order of Keller Jordan's airbench CIFAR-10 networks.
Either way the normalization and the activation run on a quarter of the
values, which is most of the time a CPU spends outside the convolutions.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from mlrecipes.errors import ArgumentValueError
from mlrecipes.models.blocks import batch_normalization, classifier_head, image_shape, normalization_layer

HEADS = ("flatten", "average", "max")
PADDINGS = ("same", "valid")


def smallest_input_size(blocks: int, convs_per_block: int, kernel_size: int, padding: str) -> int:
    """The smallest height (or width) that `blocks` conv-and-pool blocks can reduce to 1×1 or more."""
    shrink = kernel_size - 1 if padding == "valid" else 0
    size = 1
    for _ in range(blocks):
        size = 2 * (size + shrink * (convs_per_block - 1)) + shrink
    return size


def build_cnn(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    filters: Sequence[int] = (32, 64),
    convs_per_block: int = 1,
    kernel_size: int = 3,
    padding: str = "valid",
    batch_norm: bool = True,
    head: str = "flatten",
    dense_units: Sequence[int] = (),
    dropout: float = 0.5,
    input_mean: float | Sequence[float] | None = None,
    input_std: float | Sequence[float] | None = None,
    name: str = "cnn",
) -> keras.Model:
    """Build a plain convolutional classifier: conv-and-pool blocks, then dense layers.

    With `filters=(32, 64)`, `batch_norm=False` and `dropout=0.5` this is
    the classic Keras "simple MNIST convnet" (conv 32 → pool → conv 64 → pool →
    flatten → dropout → softmax).

    Args:
        input_shape: `(height, width, channels)` of one image, any size large
            enough for the blocks (see Raises).
        num_classes: Number of output classes (at least 2).
        filters: Number of filters of each block; one block per entry.
        convs_per_block: Convolutions in each block (pooling follows the first).
        kernel_size: Size of the square convolution kernels.
        padding: `"valid"` (each convolution trims `kernel_size - 1` pixels)
            or `"same"` (keeps the size; only pooling halves it).
        batch_norm: Batch-normalize after each convolution (the convolutions
            then need no bias).
        head: How the last feature map becomes a vector: `"flatten"` keeps
            every position, `"average"` or `"max"` pool each channel
            globally (fewer weights, any input size).
        dense_units: Width of hidden dense layers after the head, each followed
            by `[batch norm →] relu`.
        dropout: Dropout rate before each dense layer, the output layer
            included, in [0, 1).
        input_mean: Mean of the raw inputs (one number or one per channel); with
            `input_std` the model standardizes its inputs itself, so it takes
            raw pixels. None for inputs that are already scaled.
        input_std: Standard deviation of the raw inputs.
        name: The model's name.

    Returns:
        An uncompiled `keras.Model` from images of `input_shape` to
        `num_classes` probabilities (float32 under any precision policy).

    Raises:
        ArgumentValueError: On an `input_shape` that is not `(height, width,
            channels)` or is too small for the blocks, and on other bad values.
    """
    height, width, channels = image_shape(input_shape)
    if num_classes < 2:
        raise ArgumentValueError("num_classes", num_classes, "a classifier needs at least 2 classes")
    if not filters or any(count <= 0 for count in filters):
        raise ArgumentValueError("filters", list(filters), "give one positive filter count per block")
    if convs_per_block < 1 or kernel_size < 1:
        raise ArgumentValueError(
            "convs_per_block" if convs_per_block < 1 else "kernel_size",
            convs_per_block if convs_per_block < 1 else kernel_size,
            "must be at least 1",
        )
    if padding not in PADDINGS:
        raise ArgumentValueError("padding", padding, f"choose from {', '.join(PADDINGS)}")
    if head not in HEADS:
        raise ArgumentValueError("head", head, f"choose from {', '.join(HEADS)}")
    if any(units <= 0 for units in dense_units):
        raise ArgumentValueError("dense_units", list(dense_units), "every layer width must be positive")
    if not 0.0 <= dropout < 1.0:
        raise ArgumentValueError("dropout", dropout, "must be at least 0 and below 1")
    smallest = smallest_input_size(len(filters), convs_per_block, kernel_size, padding)
    if min(height, width) < smallest:
        raise ArgumentValueError(  # named after the blocks, the argument a user most often changes
            "filters",
            list(filters),
            f"{height}x{width} images are too small for "
            f"{len(filters)} conv-and-pool blocks with {padding} {kernel_size}x{kernel_size} convolutions; "
            f"they need at least {smallest}x{smallest} (use fewer blocks or padding='same')",
        )

    inputs = keras.Input(shape=(height, width, channels), name="images")
    x = inputs
    standardize = normalization_layer(input_mean, input_std, channels)
    if standardize is not None:
        x = standardize(x)
    for block, count in enumerate(filters, start=1):
        for conv in range(1, convs_per_block + 1):
            prefix = f"block{block}_conv{conv}"
            x = keras.layers.Conv2D(count, kernel_size, padding=padding, use_bias=not batch_norm, name=prefix)(x)
            if conv == 1:
                x = keras.layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
            if batch_norm:
                x = batch_normalization(f"{prefix}_bn")(x)
            x = keras.layers.ReLU(name=f"{prefix}_relu")(x)
    if head == "flatten":
        x = keras.layers.Flatten(name="flatten")(x)
    elif head == "average":
        x = keras.layers.GlobalAveragePooling2D(name="global_average")(x)
    else:
        x = keras.layers.GlobalMaxPooling2D(name="global_max")(x)
    for index, units in enumerate(dense_units, start=1):
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{index}")(x)
        x = keras.layers.Dense(units, use_bias=not batch_norm, name=f"dense_{index}")(x)
        if batch_norm:
            x = batch_normalization(f"dense_{index}_bn")(x)
        x = keras.layers.ReLU(name=f"dense_{index}_relu")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, classifier_head(x, num_classes), name=name)
