import time

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from mlrecipes.data import load_mnist, make_pipeline
from mlrecipes.errors import DataUnavailableError, InputError
from mlrecipes.testing import write_idx

from conftest import FASHION_MNIST, write_mnist_folder


def test_idx_folder_gives_three_splits(mnist_folder):
    data = load_mnist("mnist", data_dir=mnist_folder)
    assert data.sizes == {"train": 540, "validation": 60, "test": 200}
    assert data.class_names == tuple("0123456789")
    image, label = next(iter(data.train))
    assert image.shape == (28, 28, 1) and image.dtype == tf.uint8
    assert label.dtype == tf.int64
    assert sum(1 for _ in data.validation) == 60
    assert data.source == str(mnist_folder)


def test_validation_is_the_last_training_images(mnist_folder):
    data = load_mnist("mnist", data_dir=mnist_folder)
    train_labels = [int(label) for _, label in data.train]
    validation_labels = [int(label) for _, label in data.validation]
    from mlrecipes.data.idx import read_idx

    all_labels = read_idx(mnist_folder / "train-labels-idx1-ubyte.gz").tolist()
    assert train_labels + validation_labels == all_labels


def test_plain_and_dotted_file_names(tmp_path):
    folder = write_mnist_folder(tmp_path / "plain", gz=False)
    assert load_mnist("fashion_mnist", data_dir=folder).class_names[0] == "T-shirt/top"
    dotted = tmp_path / "dotted"
    dotted.mkdir()
    for path in folder.iterdir():
        (dotted / path.name.replace("-idx", ".idx")).write_bytes(path.read_bytes())
    assert load_mnist("mnist", data_dir=dotted).sizes["test"] == 200


def test_empty_folder_names_the_expected_files(tmp_path):
    with pytest.raises(InputError, match="train-images-idx3-ubyte.*t10k-labels-idx1-ubyte"):
        load_mnist("mnist", data_dir=tmp_path)


def test_wrong_files_are_refused(mnist_folder):
    # Labels in place of images.
    (mnist_folder / "train-images-idx3-ubyte.gz").write_bytes(
        (mnist_folder / "train-labels-idx1-ubyte.gz").read_bytes()
    )
    with pytest.raises(InputError, match="expected 28x28 uint8 images"):
        load_mnist("mnist", data_dir=mnist_folder)


def test_label_count_mismatch_and_range(mnist_folder):
    write_idx(mnist_folder / "t10k-labels-idx1-ubyte.gz", np.zeros(7, np.uint8))
    with pytest.raises(InputError, match="7 labels for 200 images"):
        load_mnist("mnist", data_dir=mnist_folder)
    write_idx(mnist_folder / "t10k-labels-idx1-ubyte.gz", np.full(200, 12, np.uint8))
    with pytest.raises(InputError, match="label 12"):
        load_mnist("mnist", data_dir=mnist_folder)


def test_unknown_dataset():
    with pytest.raises(
        InputError, match="unknown data set; choose from mnist, fashion_mnist. Received: dataset='kmnist'"
    ):
        load_mnist("kmnist")


def test_tfds_path_with_mock_data(network):
    with tfds.testing.mock_data(num_examples=100):
        data = load_mnist("mnist", tfds_dir="/nonexistent-tfds")
        assert data.source == "tensorflow-datasets"
        assert data.sizes == {"train": 90, "validation": 10, "test": 100}
        image, label = next(iter(data.train))
        assert image.shape == (28, 28, 1) and image.dtype == tf.uint8
        assert 0 <= int(label) < 10


def test_offline_without_data_fails_fast_and_says_what_to_do(monkeypatch, tmp_path):
    # The real probe runs; the test's network guard makes the host unreachable,
    # as on a machine without network.
    started = time.monotonic()
    with pytest.raises(DataUnavailableError, match="cannot be downloaded.*pass `data_dir`"):
        load_mnist("mnist", tfds_dir=tmp_path / "tfds")
    assert time.monotonic() - started < 30


def test_pipeline_batches_shuffles_and_covers_every_example(mnist_folder):
    data = load_mnist("mnist", data_dir=mnist_folder)
    first = make_pipeline(data.train, 64, shuffle=True, seed=3)
    epoch_1 = np.concatenate([labels.numpy() for _, labels in first])
    epoch_2 = np.concatenate([labels.numpy() for _, labels in first])
    unshuffled = np.array([int(label) for _, label in data.train])
    assert len(epoch_1) == len(unshuffled) == 540
    assert sorted(epoch_1) == sorted(unshuffled)
    assert not np.array_equal(epoch_1, unshuffled)
    assert not np.array_equal(epoch_1, epoch_2)  # reshuffled every epoch
    again = np.concatenate([labels.numpy() for _, labels in make_pipeline(data.train, 64, shuffle=True, seed=3)])
    assert np.array_equal(epoch_1, again)  # the seed fixes the order
    shapes = [images.shape[0] for images, _ in make_pipeline(data.train, 64)]
    assert shapes == [64] * 8 + [28]


def test_quick_slice(mnist_folder):
    data = load_mnist("mnist", data_dir=mnist_folder).quick(train=100, evaluation=20)
    assert data.sizes == {"train": 100, "validation": 20, "test": 20}
    assert sum(1 for _ in data.train) == 100


@pytest.mark.skipif(not FASHION_MNIST.is_dir(), reason="needs Debian's dataset-fashion-mnist")
def test_real_fashion_mnist_files():
    data = load_mnist("fashion_mnist", data_dir=FASHION_MNIST)
    assert data.sizes == {"train": 55000, "validation": 5000, "test": 10000}
    labels = np.concatenate([labels.numpy() for _, labels in make_pipeline(data.test, 10000)])
    assert np.bincount(labels).tolist() == [1000] * 10
