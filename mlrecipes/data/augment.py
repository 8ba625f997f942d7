"""Random image augmentation inside the `tf.data` pipeline: crop with padding, flip, cutout.

Each training batch is altered on the fly, so the network rarely sees the
same pixels twice:

- **random crop with padding**: pad each image by `padding` pixels on every
  side (by reflection, or with a constant) and cut a window of the original
  size at a random offset, which shifts the image by up to `padding` pixels;
- **horizontal flip**: mirror each image left to right with probability 1/2;
- **cutout**: blank a random `cutout × cutout` square (DeVries and Taylor,
  2017), which forces the network to use more than one part of the object.

The functions work on whole batches (each image gets its own random draw) of
any size and dtype, and keep both: uint8 pixels stay uint8 in [0, 255].

**Determinism.** They use TensorFlow's stateless random ops, whose output is a
function of a seed alone. The seed of a batch combines the user's `seed`
with a fingerprint of the batch's pixels, so the same batch is always altered
the same way, whatever order `tf.data`'s parallel calls run in, and a
seeded pipeline gives the same augmented batches run after run. Since the
training pipeline reshuffles every epoch, batches, and so their
augmentations, differ from epoch to epoch (an unshuffled pipeline would
repeat them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf

from mlrecipes.errors import ArgumentValueError

PADDING_MODES = ("reflect", "constant")


def batch_seed(images: tf.Tensor, seed: int) -> tf.Tensor:
    """The stateless-random seed of one batch: `[seed, fingerprint of the batch's pixels]`."""
    fingerprint = tf.fingerprint(tf.reshape(images, [1, -1]))[0]
    return tf.stack([tf.constant(seed, tf.int64), tf.bitcast(fingerprint, tf.int64)])


def random_crop(images: tf.Tensor, padding: int, seed: tf.Tensor, *, mode: str = "reflect") -> tf.Tensor:
    """Pad each image of a batch by `padding` pixels and crop it back to its size at a random offset.

    Args:
        images: A batch `(batch, height, width, channels)`.
        padding: Pixels added on each side; the image moves by up to this much.
        seed: A stateless seed, shape `[2]`.
        mode: `"reflect"` mirrors the border pixels into the padding (needs
            `padding` below the height and width); `"constant"` pads with 0.

    Returns:
        The cropped batch, same shape and dtype.
    """
    if mode not in PADDING_MODES:
        raise ArgumentValueError("mode", mode, f"choose from {', '.join(PADDING_MODES)}")
    if padding == 0:
        return images
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    padded = tf.pad(images, [[0, 0], [padding, padding], [padding, padding], [0, 0]], mode=mode.upper())
    offsets = tf.random.stateless_uniform([batch, 2], seed, minval=0, maxval=2 * padding + 1, dtype=tf.int32)
    rows = offsets[:, :1] + tf.range(height)[tf.newaxis, :]  # (batch, height)
    columns = offsets[:, 1:] + tf.range(width)[tf.newaxis, :]  # (batch, width)
    cropped = tf.gather(padded, rows, axis=1, batch_dims=1)  # (batch, height, width + 2p, channels)
    return tf.gather(cropped, columns, axis=2, batch_dims=1)


def random_flip(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Mirror each image of a batch left to right with probability 1/2."""
    return tf.image.stateless_random_flip_left_right(images, seed)


def random_cutout(images: tf.Tensor, size: int, seed: tf.Tensor, *, fill: float | Sequence[float] = 0) -> tf.Tensor:
    """Set a random `size × size` square of each image to `fill`.

    The square's centre is anywhere in the image, so near the border part of
    it falls outside and less is blanked.

    Args:
        images: A batch `(batch, height, width, channels)`.
        size: Side of the square in pixels; 0 leaves the images as they are.
        seed: A stateless seed, shape `[2]`.
        fill: The value written into the square: one number, or one per channel.

    Returns:
        The batch, same shape and dtype.
    """
    if size == 0:
        return images
    fills = [fill] if isinstance(fill, (int, float)) else list(fill)
    if len(fills) not in (1, images.shape[-1]):
        raise ArgumentValueError("fill", fill, f"give one value or one per channel ({images.shape[-1]})")
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    centre = tf.random.stateless_uniform([batch, 2], seed, minval=0, maxval=tf.int32.max, dtype=tf.int32)
    top = centre[:, 0] % height - size // 2
    left = centre[:, 1] % width - size // 2
    ys = tf.range(height)[tf.newaxis, :]
    xs = tf.range(width)[tf.newaxis, :]
    in_rows = (ys >= top[:, tf.newaxis]) & (ys < top[:, tf.newaxis] + size)  # (batch, height)
    in_columns = (xs >= left[:, tf.newaxis]) & (xs < left[:, tf.newaxis] + size)  # (batch, width)
    square = in_rows[:, :, tf.newaxis, tf.newaxis] & in_columns[:, tf.newaxis, :, tf.newaxis]
    fill_value = tf.cast(tf.constant(fill, tf.float32), images.dtype)
    return tf.where(square, fill_value, images)


def make_augmentation(
    seed: int,
    *,
    padding: int = 4,
    padding_mode: str = "reflect",
    flip: bool = True,
    cutout: int = 0,
    fill: float | Sequence[float] = 0,
) -> Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
    """A batch augmentation for `make_pipeline(map_batch=...)`: random crop, flip and cutout.

    Args:
        seed: The run's seed; with it, augmentation is reproducible.
        padding: Random-crop padding in pixels; 0 for no crop.
        padding_mode: `"reflect"` or `"constant"` (zeros).
        flip: Mirror half of the images left to right.
        cutout: Side of the square that cutout blanks; 0 for no cutout.
        fill: Value(s) cutout writes, such as the data set's mean pixel.

    Returns:
        A function from `(images, labels)` to `(augmented images, labels)`.

    Raises:
        ArgumentValueError: On a negative size or an unknown padding mode.
    """
    if padding < 0 or cutout < 0:
        raise ArgumentValueError(
            "padding" if padding < 0 else "cutout", min(padding, cutout), "sizes must be 0 or more"
        )
    if padding_mode not in PADDING_MODES:
        raise ArgumentValueError("padding_mode", padding_mode, f"choose from {', '.join(PADDING_MODES)}")

    def augment(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if (
            padding_mode == "reflect"
            and padding
            and images.shape[1] is not None
            and padding >= min(images.shape[1], images.shape[2])
        ):
            raise ArgumentValueError(
                "padding",
                padding,
                f"reflection padding must be smaller than the images "
                f"({images.shape[1]}x{images.shape[2]}); use padding_mode='constant'",
            )
        crop_seed, flip_seed, cutout_seed = tf.unstack(
            tf.random.experimental.stateless_split(batch_seed(images, seed), 3)
        )
        images = random_crop(images, padding, crop_seed, mode=padding_mode)
        if flip:
            images = random_flip(images, flip_seed)
        images = random_cutout(images, cutout, cutout_seed, fill=fill)
        return images, labels

    return augment
