"""Statistics of a split that a model needs to know, such as the mean and spread of its pixels."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from mlrecipes.errors import DataError


def pixel_statistics(split: tf.data.Dataset, *, batch_size: int = 8192) -> tuple[list[float], list[float]]:
    """The mean and standard deviation of each channel over all pixels of a split's images.

    A model that standardizes its inputs with these, `(x - mean) / std`,
    starts training on values centred on 0 with spread 1 whatever the images
    are: dark or light, MNIST digits or your own. Compute them on the training
    split only, so that nothing of the test images leaks into the model.

    Args:
        split: Unbatched `(image, label)` pairs (or images alone), images of
            shape `(height, width, channels)`, such as `Splits.train`.
        batch_size: Images read at a time.

    Returns:
        One mean and one standard deviation per channel, in the pixels' own
        units (0-255 for 8-bit images). A channel that never varies gets a
        standard deviation of 1, so that dividing by it is harmless.

    Raises:
        DataError: When the split holds no images.
    """
    total = squares = None
    count = 0
    for batch in split.batch(batch_size).as_numpy_iterator():
        images = np.asarray(batch[0] if isinstance(batch, tuple) else batch, dtype=np.float64)
        pixels = images.reshape(-1, images.shape[-1])
        total = pixels.sum(axis=0) + (0 if total is None else total)
        squares = (pixels * pixels).sum(axis=0) + (0 if squares is None else squares)
        count += len(pixels)
    if not count:
        raise DataError("the training split holds no images to compute the pixel statistics from")
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean * mean, 0.0))
    std[std == 0] = 1.0
    return [float(value) for value in mean], [float(value) for value in std]
