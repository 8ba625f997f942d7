"""What a compressed variant costs and what it gives: size, agreement, latency."""

from __future__ import annotations

import gzip
import io
import statistics
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np


def file_size(path: str | Path) -> int:
    """Bytes on disk of a file, or of every file under a folder (a SavedModel).

    Args:
        path: A file or a folder.

    Returns:
        The size in bytes.
    """
    path = Path(path)
    if path.is_dir():
        return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
    return path.stat().st_size


def gzipped_size(path: str | Path) -> int:
    """Bytes of a file (or folder, as a tar archive) after gzip at its best level.

    What a download or an app bundle would carry; runs of zeros from pruning
    shrink here, not in the raw file.

    Args:
        path: A file or a folder.

    Returns:
        The compressed size in bytes.
    """
    path = Path(path)
    if path.is_dir():
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            archive.add(path, arcname=path.name)
        data = buffer.getvalue()
    else:
        data = path.read_bytes()
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def agreement(predictions: np.ndarray, reference: np.ndarray) -> float:
    """The share of examples whose predicted class is the reference's.

    Args:
        predictions: Class scores of shape `(examples, classes)`.
        reference: The reference model's scores, same shape.

    Returns:
        A number between 0 and 1.
    """
    return float(np.mean(np.argmax(predictions, axis=-1) == np.argmax(reference, axis=-1)))


def median_latency(
    predict: Callable[[np.ndarray], object], inputs: np.ndarray, *, repeats: int = 50, warmup: int = 3
) -> float:
    """Median wall-clock seconds of `predict(inputs)` over repeated calls.

    The first `warmup` calls (tracing, allocation) are not counted; the median
    ignores the odd slow call of a busy machine.

    Args:
        predict: The function to time, called with `inputs`.
        inputs: One batch.
        repeats: Timed calls.
        warmup: Untimed calls first.

    Returns:
        Seconds per call (divide by the batch size for seconds per example).
    """
    for _ in range(warmup):
        predict(inputs)
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(inputs)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)
