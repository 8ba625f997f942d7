import pickle

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mlrecipes.data.cifar10 import (
    CLASS_NAMES,
    load_cifar10,
    read_batch,
    read_python_folder,
)
from mlrecipes.errors import DataUnavailableError, InputError
from mlrecipes.testing import write_python_folder


def make_images(count, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(count, 32, 32, 3)).astype(np.uint8), rng.integers(0, 10, size=count)


@pytest.fixture
def cifar_folder(tmp_path):
    train_images, train_labels = make_images(100, seed=1)
    test_images, test_labels = make_images(30, seed=2)
    folder = write_python_folder(tmp_path / "cifar-10-batches-py", train_images, train_labels, test_images, test_labels)
    return folder, (train_images, train_labels, test_images, test_labels)


def test_python_folder_round_trip(cifar_folder):
    folder, (train_images, train_labels, test_images, _test_labels) = cifar_folder
    assert sorted(path.name for path in folder.iterdir()) == [
        "batches.meta",
        "data_batch_1",
        "data_batch_2",
        "data_batch_3",
        "data_batch_4",
        "data_batch_5",
        "test_batch",
    ]
    arrays = read_python_folder(folder)
    np.testing.assert_array_equal(arrays["train_images"], train_images)
    np.testing.assert_array_equal(arrays["train_labels"], train_labels)
    np.testing.assert_array_equal(arrays["test_images"], test_images)
    assert arrays["train_labels"].dtype == np.int64 and arrays["train_images"].dtype == np.uint8
    assert arrays["class_names"] == CLASS_NAMES


def test_the_file_layout_is_the_published_one(cifar_folder):
    """Rows of 3072 bytes: 1024 red, then 1024 green, then 1024 blue values, row by row."""
    folder, (train_images, _, _, _) = cifar_folder
    with open(folder / "data_batch_1", "rb") as handle:
        batch = pickle.load(handle, encoding="bytes")
    row = batch[b"data"][0]
    assert batch[b"data"].shape == (20, 3072) and isinstance(batch[b"labels"], list)
    assert row[0] == train_images[0, 0, 0, 0] and row[1] == train_images[0, 0, 1, 0]
    assert row[1024] == train_images[0, 0, 0, 1] and row[2048 + 32] == train_images[0, 1, 0, 2]


def test_load_from_the_folder_or_its_parent(cifar_folder):
    folder, (train_images, _, _, _) = cifar_folder
    for data_dir in (folder, folder.parent):
        data = load_cifar10(data_dir=data_dir, validation_size=10)
        assert data.sizes == {"train": 90, "validation": 10, "test": 30}
        assert data.class_names == CLASS_NAMES and data.num_classes == 10 and data.source == str(data_dir)
        image, label = next(iter(data.train))
        assert image.shape == (32, 32, 3) and image.dtype == "uint8" and label.dtype == "int64"
        validation_images = np.stack([image for image, _ in data.validation])
        np.testing.assert_array_equal(validation_images, train_images[90:])  # the last ones are held out


def test_validation_size_zero_trains_on_everything(cifar_folder):
    folder, _ = cifar_folder
    data = load_cifar10(data_dir=folder, validation_size=0)
    assert data.sizes == {"train": 100, "validation": 0, "test": 30}
    assert len(list(data.train)) == 100 and len(list(data.validation)) == 0
    assert load_cifar10(data_dir=folder).sizes["validation"] == 10  # at most a tenth


def test_tensorflow_datasets_path(network):
    with tfds.testing.mock_data(num_examples=50):
        data = load_cifar10(validation_size=5000)
    assert data.source == "tensorflow-datasets" and data.class_names == CLASS_NAMES
    assert data.sizes == {"train": 45, "validation": 5, "test": 50}
    image, label = next(iter(data.test))
    assert image.shape == (32, 32, 3) and image.dtype == "uint8" and 0 <= int(label) < 10


def test_offline_without_a_folder_is_one_clear_line(tmp_path):
    with pytest.raises(DataUnavailableError) as raised:
        load_cifar10(tfds_dir=tmp_path / "empty")
    message = str(raised.value)
    assert "\n" not in message and "pass `data_dir`" in message and "cifar-10-python.tar.gz" in message


def rewrite(folder, name, content):
    with open(folder / name, "wb") as handle:
        pickle.dump(content, handle, protocol=2)


@pytest.mark.parametrize(
    "damage, message",
    [
        ("missing", "missing data_batch_3, test_batch; it must hold the CIFAR-10 python version"),
        ("truncated", "data_batch_2: not a CIFAR-10 python batch (pickle data was truncated)"),
        ("html", "data_batch_4: not a CIFAR-10 python batch"),
        ("not a dict", "test_batch: not a CIFAR-10 python batch (holds a list, not a dictionary)"),
        ("no data", "data_batch_1: not a CIFAR-10 python batch (no 'data' and 'labels' entries)"),
        ("wrong shape", "data_batch_1: expected uint8 rows of 3072 pixel values (32x32x3), found shape (20, 1024)"),
        ("float pixels", "found shape (20, 3072) of float64"),
        ("label count", "data_batch_5: 19 labels for 20 images"),
        ("label range", "test_batch: label 10 found, labels must be 0 to 9"),
        ("meta", "batches.meta: expected a 'label_names' list of 10 class names"),
    ],
)
def test_damaged_folders_give_one_line_errors(cifar_folder, damage, message):
    folder, _ = cifar_folder
    rows = np.zeros((20, 3072), np.uint8)
    if damage == "missing":
        (folder / "data_batch_3").unlink()
        (folder / "test_batch").unlink()
    elif damage == "truncated":
        (folder / "data_batch_2").write_bytes((folder / "data_batch_2").read_bytes()[:500])
    elif damage == "html":
        (folder / "data_batch_4").write_bytes(b"<html>404 Not Found</html>")
    elif damage == "not a dict":
        rewrite(folder, "test_batch", [1, 2, 3])
    elif damage == "no data":
        rewrite(folder, "data_batch_1", {b"pixels": rows})
    elif damage == "wrong shape":
        rewrite(folder, "data_batch_1", {b"data": np.zeros((20, 1024), np.uint8), b"labels": [0] * 20})
    elif damage == "float pixels":
        rewrite(folder, "data_batch_1", {b"data": rows.astype(np.float64), b"labels": [0] * 20})
    elif damage == "label count":
        rewrite(folder, "data_batch_5", {b"data": rows, b"labels": [0] * 19})
    elif damage == "label range":
        rewrite(folder, "test_batch", {b"data": rows, b"labels": [10] + [0] * 19})
    elif damage == "meta":
        rewrite(folder, "batches.meta", {b"label_names": [b"cat", b"dog"]})
    with pytest.raises(InputError) as raised:
        load_cifar10(data_dir=folder)
    assert message in str(raised.value) and "\n" not in str(raised.value)


class RunsCode:
    def __reduce__(self):
        import os

        return (os.system, ("touch PWNED",))


def test_a_pickle_that_would_run_code_is_refused(cifar_folder, tmp_path, monkeypatch):
    folder, _ = cifar_folder
    monkeypatch.chdir(tmp_path)
    rewrite(folder, "data_batch_1", {b"data": RunsCode(), b"labels": [0]})
    with pytest.raises(InputError, match="refers to .*system, which a CIFAR-10 batch never does"):
        read_batch(folder / "data_batch_1")
    assert not (tmp_path / "PWNED").exists()


def test_string_keys_are_accepted(tmp_path):
    images, labels = make_images(3, seed=3)
    rows = images.transpose(0, 3, 1, 2).reshape(3, -1)
    rewrite(tmp_path, "batch", {"data": rows, "labels": labels.tolist()})
    read_images, read_labels = read_batch(tmp_path / "batch")
    np.testing.assert_array_equal(read_images, images)
    np.testing.assert_array_equal(read_labels, labels)
