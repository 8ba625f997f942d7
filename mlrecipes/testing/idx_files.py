"""Writing IDX files, the format of MNIST and Fashion-MNIST (the reader is [`mlrecipes.data.idx`][mlrecipes.data.idx])."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from mlrecipes.data.idx import IDX_TYPES, read_idx


def write_idx(path: str | Path, array: np.ndarray, *, compress: bool | None = None) -> None:
    """Write an array as an IDX file (gzipped when the name ends in `.gz`).

    To hand your own images to a recipe's `--data-dir`, or small data sets to tests.

    Args:
        path: Destination file.
        array: An array of one of the IDX types (uint8, int8, int16, int32,
            float32, float64).
        compress: Gzip the file; by default, when `path` ends in `.gz`.
    """
    path = Path(path)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    code = codes[native]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(IDX_TYPES[code], copy=False).tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        payload = gzip.compress(payload, compresslevel=6)
    path.write_bytes(payload)


def stratified_subset(labels: np.ndarray, size: int, *, seed: int = 0) -> np.ndarray:
    """Pick `size` examples at random, each class keeping its share of the labels.

    Every class gets `size` times its fraction of the labels, rounded down;
    the examples left over go to the classes with the largest remainders.

    Args:
        labels: One integer label per example.
        size: How many examples to pick, at most `len(labels)`.
        seed: Seed of the random choice.

    Returns:
        The indices of the picked examples, in increasing order (the data set's own order).

    Raises:
        ValueError: When `size` is not between 1 and `len(labels)`.
    """
    labels = np.asarray(labels)
    if not 1 <= size <= len(labels):
        raise ValueError(f"size must be between 1 and {len(labels)}; received size={size}")
    classes, counts = np.unique(labels, return_counts=True)
    shares = size * counts / len(labels)
    quota = np.floor(shares).astype(int)
    leftover = size - quota.sum()
    quota[np.argsort(-(shares - quota), kind="stable")[:leftover]] += 1
    rng = np.random.default_rng(seed)
    picked = [rng.choice(np.flatnonzero(labels == label), take, replace=False) for label, take in zip(classes, quota)]
    return np.sort(np.concatenate(picked))


def write_idx_subset(source: str | Path, destination: str | Path, train_examples: int, *, seed: int = 0) -> Path:
    """Copy an MNIST-format folder with only part of its training images (stratified, seeded).

    The test files are copied whole, so a model trained on the subset is judged
    on the same test set as one trained on everything; this is how the
    benchmarks and tests try recipes on small data sets.

    Args:
        source: A folder with the four IDX files (such as `/usr/share/datasets/fashion-mnist`).
        destination: The folder to write the four files to (created if missing).
        train_examples: How many training images (and labels) to keep.
        seed: Seed of the stratified choice.

    Returns:
        `destination`.
    """
    from mlrecipes.data.mnist import IDX_FILES, find_idx_file

    source, destination = Path(source), Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    arrays = {key: read_idx(find_idx_file(source, stem)) for key, stem in IDX_FILES.items()}
    keep = stratified_subset(arrays["train_labels"], train_examples, seed=seed)
    arrays["train_images"] = arrays["train_images"][keep]
    arrays["train_labels"] = arrays["train_labels"][keep]
    for key, stem in IDX_FILES.items():
        write_idx(destination / f"{stem}.gz", arrays[key])
    return destination
