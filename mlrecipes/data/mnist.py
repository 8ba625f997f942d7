"""MNIST and Fashion-MNIST: from tensorflow-datasets or a local folder of IDX files.

Both data sets are 70,000 grayscale 28×28 images in ten classes, 60,000 for
training and 10,000 for testing. The last `validation_size` training images
are held out for validation.

Without `data_dir` the images come from tensorflow-datasets (downloaded once
to `~/tensorflow_datasets`). With `data_dir` they are read from the four
standard files, gzipped or not, so offline machines and clusters work:

```text
train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz
```

Debian's `dataset-fashion-mnist` package installs such a folder at
`/usr/share/datasets/fashion-mnist`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from mlrecipes.data.idx import read_idx
from mlrecipes.data.splits import Splits
from mlrecipes.data.tfds_source import load_tfds
from mlrecipes.errors import ArgumentValueError, DataError

DATASETS = ("mnist", "fashion_mnist")

CLASS_NAMES = {
    "mnist": tuple(str(digit) for digit in range(10)),
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

IMAGE_SHAPE = (28, 28, 1)


def find_idx_file(folder: Path, stem: str) -> Path | None:
    """Find one IDX file in `folder` under the names it is commonly given.

    Accepts `train-images-idx3-ubyte` with or without `.gz` and the
    `train-images.idx3-ubyte` spelling of some mirrors.

    Returns:
        The file, or None when there is none.
    """
    dotted = stem.replace("-idx", ".idx")
    for name in (f"{stem}.gz", stem, f"{dotted}.gz", dotted):
        if (folder / name).is_file():
            return folder / name
    return None


def read_idx_folder(folder: str | Path) -> dict[str, np.ndarray]:
    """Read and check the four MNIST-format IDX files of a folder.

    Args:
        folder: The folder holding the four files.

    Returns:
        `train_images` (60000, 28, 28, 1) uint8, `train_labels` (60000,)
        int64, and the same for `test_`, keyed by those names.

    Raises:
        ArgumentValueError: When a file is missing from the folder.
        DataError: When a file is truncated or not what it should be.
    """
    folder = Path(folder)
    paths = {key: find_idx_file(folder, stem) for key, stem in IDX_FILES.items()}
    missing = [IDX_FILES[key] for key, path in paths.items() if path is None]
    if missing:
        raise ArgumentValueError(
            "data_dir",
            folder,
            f"missing {', '.join(name + '[.gz]' for name in missing)}; "
            "it must hold the four MNIST-format IDX files (train-images-idx3-ubyte.gz, "
            "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)",
        )
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        image_path, label_path = paths[f"{split}_images"], paths[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE[:2] or images.dtype != np.uint8:
            raise DataError(f"{image_path}: expected 28x28 uint8 images, found shape {images.shape} of {images.dtype}")
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise DataError(f"{label_path}: expected a list of uint8 labels, found shape {labels.shape}")
        if len(labels) != len(images):
            raise DataError(f"{label_path}: {len(labels)} labels for {len(images)} images in {image_path}")
        if len(labels) and labels.max() > 9:
            raise DataError(f"{label_path}: label {labels.max()} found, labels must be 0 to 9")
        arrays[f"{split}_images"] = images[..., np.newaxis]
        arrays[f"{split}_labels"] = labels.astype(np.int64)
    if not len(arrays["test_labels"]):
        raise DataError(f"{paths['test_images']}: holds no images; the test split needs at least one")
    if len(arrays["train_labels"]) < 2:
        raise DataError(f"{paths['train_images']}: too few training images ({len(arrays['train_labels'])})")
    return arrays


def load_mnist(
    dataset: str = "mnist",
    *,
    data_dir: str | Path | None = None,
    validation_size: int = 5000,
    tfds_dir: str | Path | None = None,
) -> Splits:
    """Load MNIST or Fashion-MNIST as train, validation and test splits.

    Args:
        dataset: `"mnist"` or `"fashion_mnist"`.
        data_dir: A folder with the four IDX files; None downloads with
            tensorflow-datasets.
        validation_size: Training images held out (the last ones) for
            validation; capped at a tenth of the training images.
        tfds_dir: Where tensorflow-datasets keeps its data.

    Returns:
        The splits; images are uint8 of shape (28, 28, 1), labels int64.

    Raises:
        ArgumentValueError: On an unknown data set name or a bad folder.
        DataUnavailableError: When offline with no `data_dir`.
    """
    if dataset not in DATASETS:
        raise ArgumentValueError("dataset", dataset, f"unknown data set; choose from {', '.join(DATASETS)}")
    if data_dir is not None:
        arrays = read_idx_folder(data_dir)
        train = tf.data.Dataset.from_tensor_slices((arrays["train_images"], arrays["train_labels"]))
        test = tf.data.Dataset.from_tensor_slices((arrays["test_images"], arrays["test_labels"]))
        num_train, num_test = len(arrays["train_labels"]), len(arrays["test_labels"])
        source = str(data_dir)
    else:
        (train, test), info = load_tfds(
            dataset,
            ["train", "test"],
            tfds_dir=tfds_dir,
            offline_hint=(
                "pass `data_dir`, a folder with the four MNIST-format IDX files "
                "(for Fashion-MNIST on Debian: apt install dataset-fashion-mnist, then "
                "`dataset` fashion_mnist `data_dir` /usr/share/datasets/fashion-mnist)"
            ),
        )
        num_train = int(train.cardinality())
        num_test = int(test.cardinality())
        if num_train < 0 or num_test < 0:
            num_train = info.splits["train"].num_examples
            num_test = info.splits["test"].num_examples
        source = "tensorflow-datasets"
    held_out = min(validation_size, num_train // 10) or 1
    return Splits(
        name=dataset,
        train=train.take(num_train - held_out),
        validation=train.skip(num_train - held_out),
        test=test,
        sizes={"train": num_train - held_out, "validation": held_out, "test": num_test},
        class_names=CLASS_NAMES[dataset],
        source=source,
    )
