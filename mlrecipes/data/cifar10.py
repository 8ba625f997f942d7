"""CIFAR-10: from tensorflow-datasets or a local "CIFAR-10 python version" folder.

CIFAR-10 (Krizhevsky, 2009) is 60,000 colour images of 32×32 pixels in ten
classes, 50,000 for training and 10,000 for testing. The last
`validation_size` training images are held out for validation.

Without `data_dir` the images come from tensorflow-datasets (downloaded once
to `~/tensorflow_datasets`). With `data_dir` they are read from the
"CIFAR-10 python version" (`cifar-10-python.tar.gz` from
https://www.cs.toronto.edu/~kriz/cifar.html, unpacked), either its
`cifar-10-batches-py` folder or the folder that contains it:

```text
data_batch_1 ... data_batch_5   10,000 training images each
test_batch                      10,000 test images
batches.meta                    the class names
```

Each file is a pickled dictionary whose `data` entry holds one image per row
of 3,072 bytes (the 1,024 red, then green, then blue values, row by row) and
whose `labels` entry lists the classes. Only NumPy arrays, lists, numbers
and strings are unpickled; a file that asks for anything else is refused,
since unpickling can run code.
"""

from __future__ import annotations

import importlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from mlrecipes.data.splits import Splits
from mlrecipes.data.tfds_source import load_tfds
from mlrecipes.errors import ArgumentValueError, DataError

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
IMAGE_SHAPE = (32, 32, 3)
TRAIN_FILES = tuple(f"data_batch_{index}" for index in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
FOLDER_NAME = "cifar-10-batches-py"

# Per-channel mean and standard deviation of the training images, in 0-255
# pixel units (the figures Page's and Jordan's training scripts use, times 255).
MEAN_PIXEL = (125.31, 122.96, 113.86)
STD_PIXEL = (63.01, 62.09, 66.71)

FOLDER_HELP = (
    "the CIFAR-10 python version (data_batch_1 ... data_batch_5, test_batch, batches.meta), "
    "as unpacked from cifar-10-python.tar.gz"
)

# What a CIFAR-10 pickle may refer to: NumPy's array reconstruction and, in
# files pickled again by Python 3 with protocol 2, the codec that rebuilds bytes.
_ALLOWED_GLOBALS = {
    ("_codecs", "encode"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
}


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds NumPy arrays and plain Python values, and refuses anything else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refers to {module}.{name}, which a CIFAR-10 batch never does")
        # NumPy 2 renamed numpy.core to numpy._core; old pickles name the former.
        for candidate in (module.replace("numpy.core", "numpy._core"), module.replace("numpy._core", "numpy.core")):
            try:
                return getattr(importlib.import_module(candidate), name)
            except (ImportError, AttributeError):
                continue
        raise pickle.UnpicklingError(f"cannot find {module}.{name}")


def _entry(batch: dict, key: str) -> Any:
    """A dictionary entry under its `bytes` key (Python 2 pickles) or `str` key."""
    if key.encode() in batch:
        return batch[key.encode()]
    return batch.get(key)


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            content = _ArraysOnlyUnpickler(handle, encoding="bytes").load()
    except OSError as error:
        raise DataError(f"{path}: cannot read it ({error.strerror or error})") from None
    except Exception as error:
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        raise DataError(f"{path}: not a CIFAR-10 python batch ({reason})") from None
    if not isinstance(content, dict):
        raise DataError(f"{path}: not a CIFAR-10 python batch (holds a {type(content).__name__}, not a dictionary)")
    return content


def read_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch file.

    Returns:
        Images `(n, 32, 32, 3)` uint8 and labels `(n,)` int64.

    Raises:
        DataError: When the file is unreadable, damaged or not a CIFAR-10 batch.
    """
    path = Path(path)
    batch = _unpickle(path)
    data, labels = _entry(batch, "data"), _entry(batch, "labels")
    if data is None or labels is None:
        raise DataError(f"{path}: not a CIFAR-10 python batch (no 'data' and 'labels' entries)")
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[1] != np.prod(IMAGE_SHAPE) or data.dtype != np.uint8:
        raise DataError(
            f"{path}: expected uint8 rows of 3072 pixel values (32x32x3), found shape {data.shape} of {data.dtype}"
        )
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise DataError(f"{path}: the labels are not whole numbers") from None
    if len(labels) != len(data):
        raise DataError(f"{path}: {len(labels)} labels for {len(data)} images")
    outside = labels[(labels < 0) | (labels >= len(CLASS_NAMES))]
    if len(outside):
        raise DataError(f"{path}: label {outside[0]} found, labels must be 0 to 9")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # channels last
    return np.ascontiguousarray(images), labels


def read_class_names(path: str | Path) -> tuple[str, ...]:
    """Read the ten class names of `batches.meta`."""
    path = Path(path)
    names = _entry(_unpickle(path), "label_names")
    if not isinstance(names, (list, tuple)) or len(names) != len(CLASS_NAMES):
        raise DataError(f"{path}: expected a 'label_names' list of {len(CLASS_NAMES)} class names")
    return tuple(name.decode() if isinstance(name, bytes) else str(name) for name in names)


def find_python_folder(folder: str | Path) -> Path:
    """The folder holding the batches: `folder` itself or its `cifar-10-batches-py` subfolder."""
    folder = Path(folder)
    nested = folder / FOLDER_NAME
    return nested if not (folder / TEST_FILE).exists() and nested.is_dir() else folder


def read_python_folder(folder: str | Path) -> dict[str, Any]:
    """Read and check a whole "CIFAR-10 python version" folder.

    Args:
        folder: The `cifar-10-batches-py` folder, or a folder that contains it.

    Returns:
        `train_images` (50000, 32, 32, 3) uint8, `train_labels` (50000,)
        int64, the same for `test_`, and `class_names`.

    Raises:
        ArgumentValueError: When a file is missing from the folder.
        DataError: When a file is damaged or not what it should be.
    """
    given = Path(folder)
    folder = find_python_folder(given)
    missing = [name for name in (*TRAIN_FILES, TEST_FILE, META_FILE) if not (folder / name).is_file()]
    if missing:
        raise ArgumentValueError("data_dir", given, f"missing {', '.join(missing)}; it must hold {FOLDER_HELP}")
    class_names = read_class_names(folder / META_FILE)
    train = [read_batch(folder / name) for name in TRAIN_FILES]
    test_images, test_labels = read_batch(folder / TEST_FILE)
    train_images = np.concatenate([images for images, _ in train])
    train_labels = np.concatenate([labels for _, labels in train])
    if len(train_labels) < 2 or len(test_labels) < 1:
        raise ArgumentValueError(
            "data_dir", given, f"too few images ({len(train_labels)} to train, {len(test_labels)} to test)"
        )
    return {
        "train_images": train_images,
        "train_labels": train_labels,
        "test_images": test_images,
        "test_labels": test_labels,
        "class_names": class_names,
    }


def load_cifar10(
    *,
    data_dir: str | Path | None = None,
    validation_size: int = 5000,
    tfds_dir: str | Path | None = None,
) -> Splits:
    """Load CIFAR-10 as train, validation and test splits.

    Args:
        data_dir: A "CIFAR-10 python version" folder; None downloads with
            tensorflow-datasets.
        validation_size: Training images held out (the last ones) for
            validation, at most a tenth of them; 0 trains on all of them and
            leaves the validation split empty.
        tfds_dir: Where tensorflow-datasets keeps its data.

    Returns:
        The splits; images are uint8 of shape (32, 32, 3), labels int64.

    Raises:
        ArgumentValueError: On a bad folder or a negative `validation_size`.
        DataUnavailableError: When offline with no `data_dir`.
    """
    import tensorflow as tf  # here: FOLDER_HELP is read by the command line, before TensorFlow loads

    if validation_size < 0:
        raise ArgumentValueError("validation_size", validation_size, "must be 0 or more")
    if data_dir is not None:
        arrays = read_python_folder(data_dir)
        train = tf.data.Dataset.from_tensor_slices((arrays["train_images"], arrays["train_labels"]))
        test = tf.data.Dataset.from_tensor_slices((arrays["test_images"], arrays["test_labels"]))
        num_train, num_test = len(arrays["train_labels"]), len(arrays["test_labels"])
        class_names, source = arrays["class_names"], str(data_dir)
    else:
        (train, test), info = load_tfds(
            "cifar10",
            ["train", "test"],
            tfds_dir=tfds_dir,
            offline_hint=f"download cifar-10-python.tar.gz elsewhere, unpack it and pass `data_dir`, a folder with {FOLDER_HELP}",
        )
        num_train, num_test = int(train.cardinality()), int(test.cardinality())
        if num_train < 0 or num_test < 0:
            num_train, num_test = info.splits["train"].num_examples, info.splits["test"].num_examples
        class_names, source = CLASS_NAMES, "tensorflow-datasets"
    held_out = min(validation_size, num_train // 10)
    return Splits(
        name="cifar10",
        train=train.take(num_train - held_out),
        validation=train.skip(num_train - held_out),
        test=test,
        sizes={"train": num_train - held_out, "validation": held_out, "test": num_test},
        class_names=tuple(class_names),
        source=source,
    )
