"""pixel_statistics and the stratified subsets that benchmarks and slow tests train on."""

import numpy as np
import pytest
import tensorflow as tf

from mlrecipes.data import load_mnist, pixel_statistics
from mlrecipes.data.idx import read_idx
from mlrecipes.errors import DataError
from mlrecipes.testing.idx_files import stratified_subset, write_idx_subset


def test_mean_and_standard_deviation_per_channel():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(300, 5, 4, 3), dtype=np.uint8)
    split = tf.data.Dataset.from_tensor_slices((images, np.zeros(300, np.int64)))
    means, stds = pixel_statistics(split, batch_size=64)  # several batches, one partial
    pixels = images.reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(means, pixels.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(stds, pixels.std(axis=0), rtol=1e-9)


def test_a_constant_channel_gets_a_harmless_spread_and_an_empty_split_an_error():
    images = np.full((10, 2, 2, 1), 7, np.uint8)
    assert pixel_statistics(tf.data.Dataset.from_tensor_slices(images)) == ([7.0], [1.0])
    with pytest.raises(DataError, match="no images"):
        pixel_statistics(tf.data.Dataset.from_tensor_slices(images[:0]))


def test_stratified_subset_keeps_each_class_share():
    labels = np.repeat(np.arange(4), [500, 300, 150, 50])
    picked = stratified_subset(labels, 100, seed=3)
    assert len(picked) == len(set(picked)) == 100 and np.all(np.diff(picked) > 0)
    assert np.bincount(labels[picked]).tolist() == [50, 30, 15, 5]
    np.testing.assert_array_equal(picked, stratified_subset(labels, 100, seed=3))
    assert not np.array_equal(picked, stratified_subset(labels, 100, seed=4))
    assert np.bincount(labels[stratified_subset(labels, 7)]).sum() == 7  # the remainders are handed out
    with pytest.raises(ValueError, match="size"):
        stratified_subset(labels, 0)


def test_a_written_subset_loads_with_the_whole_test_split(mnist_folder, tmp_path):
    subset = write_idx_subset(mnist_folder, tmp_path / "part", 100, seed=0)
    data = load_mnist("mnist", data_dir=subset)
    assert data.sizes == {"train": 90, "validation": 10, "test": 200}
    labels = np.array([int(label) for _, label in data.train.concatenate(data.validation).as_numpy_iterator()])
    everything = read_idx(mnist_folder / "train-labels-idx1-ubyte.gz")
    expected = 100 * np.bincount(everything, minlength=10) / len(everything)
    assert np.all(np.abs(np.bincount(labels, minlength=10) - expected) < 1)  # each class keeps its share
