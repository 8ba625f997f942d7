"""Writing images in the "CIFAR-10 python version" layout (the reader is [`mlrecipes.data.cifar10`][mlrecipes.data.cifar10])."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mlrecipes.data.cifar10 import CLASS_NAMES, META_FILE, TEST_FILE, TRAIN_FILES


def write_python_folder(
    folder: str | Path,
    train_images: np.ndarray,
    train_labels: Sequence[int],
    test_images: np.ndarray,
    test_labels: Sequence[int],
    *,
    class_names: Sequence[str] = CLASS_NAMES,
) -> Path:
    """Write images in the "CIFAR-10 python version" layout that [`read_python_folder`][mlrecipes.data.cifar10.read_python_folder] reads.

    The training images are split over the five `data_batch` files. Useful
    for tests and for trying the recipe offline on a few images of your own.

    Args:
        folder: Where to write (created if needed).
        train_images: `(n, 32, 32, 3)` uint8, `n >= 5`.
        train_labels: `n` labels from 0 to 9.
        test_images: `(m, 32, 32, 3)` uint8.
        test_labels: `m` labels.
        class_names: The ten class names.

    Returns:
        `folder`.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def dump(name: str, content: dict) -> None:
        with open(folder / name, "wb") as handle:
            pickle.dump(content, handle, protocol=2)

    def batch(label: str, images: np.ndarray, labels: Sequence[int]) -> dict:
        rows = np.asarray(images, dtype=np.uint8).transpose(0, 3, 1, 2).reshape(len(images), -1)
        return {b"batch_label": label.encode(), b"labels": [int(value) for value in labels], b"data": rows}

    parts = np.array_split(np.arange(len(train_images)), len(TRAIN_FILES))
    for index, (name, part) in enumerate(zip(TRAIN_FILES, parts), start=1):
        dump(name, batch(f"training batch {index} of 5", train_images[part], np.asarray(train_labels)[part]))
    dump(TEST_FILE, batch("testing batch 1 of 1", test_images, test_labels))
    dump(META_FILE, {b"label_names": [name.encode() for name in class_names], b"num_vis": 3072})
    return folder
