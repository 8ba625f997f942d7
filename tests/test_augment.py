import numpy as np
import pytest
import tensorflow as tf

from mlrecipes.data.augment import make_augmentation, random_crop, random_cutout, random_flip
from mlrecipes.data.pipeline import make_pipeline
from mlrecipes.errors import InputError

SEED = tf.constant([7, 11], tf.int64)


def images(count=16, size=32, channels=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(count, size, size, channels)).astype(np.uint8)


def test_crop_shifts_each_image_by_at_most_the_padding():
    batch = np.zeros((64, 12, 12, 1), np.uint8)
    batch[:, 5, 5] = 255  # one lit pixel; after the crop it sits at (5 + dy, 5 + dx)
    cropped = random_crop(tf.constant(batch), 3, SEED, mode="constant").numpy()
    assert cropped.shape == batch.shape and cropped.dtype == np.uint8
    shifts = set()
    for image in cropped:
        (row,), (column,) = np.nonzero(image[..., 0] == 255)
        assert abs(row - 5) <= 3 and abs(column - 5) <= 3
        shifts.add((row - 5, column - 5))
    assert len(shifts) > 10  # each image gets its own offset


def test_reflect_padding_only_reuses_the_images_pixels():
    batch = images(8, size=16)
    cropped = random_crop(tf.constant(batch), 4, SEED).numpy()
    for original, out in zip(batch, cropped):
        assert set(map(tuple, out.reshape(-1, 3))) <= set(map(tuple, original.reshape(-1, 3)))


def test_flip_mirrors_about_half_the_images():
    batch = images(200, size=8)
    flipped = random_flip(tf.constant(batch), SEED).numpy()
    mirrored = [np.array_equal(out, original[:, ::-1]) for out, original in zip(flipped, batch)]
    unchanged = [np.array_equal(out, original) for out, original in zip(flipped, batch)]
    assert all(m or u for m, u in zip(mirrored, unchanged))
    assert 60 < sum(mirrored) < 140


def test_cutout_blanks_one_square_with_the_fill_value():
    batch = np.full((32, 20, 20, 3), 200, np.uint8)
    out = random_cutout(tf.constant(batch), 6, SEED, fill=(1, 2, 3)).numpy()
    for image in out:
        blanked = np.all(image == (1, 2, 3), axis=-1)
        assert np.all(np.all(image == 200, axis=-1) | blanked)
        rows, columns = np.nonzero(blanked.any(axis=1))[0], np.nonzero(blanked.any(axis=0))[0]
        assert 0 < blanked.sum() <= 36 and len(rows) <= 6 and len(columns) <= 6
        assert blanked.sum() == len(rows) * len(columns)  # a rectangle (clipped at the border)


def test_shapes_dtypes_and_value_ranges_are_kept():
    augment = make_augmentation(3, padding=4, cutout=8, fill=(125, 123, 114))
    for dtype in (np.uint8, np.float32):
        batch = images(10).astype(dtype)
        labels = np.arange(10)
        out, out_labels = augment(tf.constant(batch), tf.constant(labels))
        assert out.shape == batch.shape and out.dtype == dtype
        assert float(tf.reduce_min(out)) >= 0 and float(tf.reduce_max(out)) <= 255
        np.testing.assert_array_equal(out_labels, labels)  # labels pass through unchanged
    gray = tf.constant(images(4, size=28, channels=1))
    assert make_augmentation(3, cutout=8, fill=0)(gray, tf.zeros(4))[0].shape == (4, 28, 28, 1)
    with pytest.raises(
        InputError, match=r"`fill`: give one value or one per channel \(1\). Received: fill=\(125, 123, 114\)"
    ):
        augment(gray, tf.zeros(4))


def test_deterministic_under_a_seed_and_different_across_seeds_and_batches():
    batch, _other = tf.constant(images(16, seed=1)), tf.constant(images(16, seed=2))
    labels = tf.zeros(16)
    first = make_augmentation(42, cutout=8)(batch, labels)[0].numpy()
    again = make_augmentation(42, cutout=8)(batch, labels)[0].numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, make_augmentation(43, cutout=8)(batch, labels)[0].numpy())
    assert not np.array_equal(first, batch.numpy())
    # Two different batches do not get the same offsets: compare where one lit pixel lands.
    lit = np.zeros((16, 32, 32, 3), np.uint8)
    lit[:, 16, 16] = 255
    shifted = make_augmentation(42, flip=False)(tf.constant(lit), labels)[0].numpy()
    lit_other = lit.copy()
    lit_other[0, 0, 0] = 1  # a different batch
    shifted_other = make_augmentation(42, flip=False)(tf.constant(lit_other), labels)[0].numpy()
    assert not np.array_equal(shifted[1:], shifted_other[1:])


def test_reproducible_inside_a_parallel_training_pipeline():
    dataset = tf.data.Dataset.from_tensor_slices((images(256, size=16), np.arange(256)))

    def epochs(seed):
        pipeline = make_pipeline(dataset, 32, shuffle=True, seed=5, map_batch=make_augmentation(seed))
        return np.concatenate([batch.numpy() for batch, _ in pipeline.repeat().take(16)])  # two epochs

    first = epochs(1)
    np.testing.assert_array_equal(first, epochs(1))
    assert not np.array_equal(first, epochs(2))
    assert not np.array_equal(first[:256], first[256:])  # the second epoch is augmented afresh


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(padding=-1), "sizes must be 0 or more"),
        (dict(cutout=-2), "sizes must be 0 or more"),
        (dict(padding_mode="wrap"), "`padding_mode`: choose from reflect, constant. Received: padding_mode='wrap'"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(InputError, match=message):
        make_augmentation(0, **kwargs)


def test_reflection_padding_larger_than_the_image_is_refused():
    with pytest.raises(InputError, match="reflection padding must be smaller than the images"):
        make_augmentation(0, padding=8)(tf.constant(images(2, size=8)), tf.zeros(2))
    out, _ = make_augmentation(0, padding=8, padding_mode="constant")(tf.constant(images(2, size=8)), tf.zeros(2))
    assert out.shape == (2, 8, 8, 3)
