"""Writing IDX files, the format of MNIST and Fashion-MNIST (the reader is `mlrecipes.data.idx`)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from mlrecipes.data.idx import IDX_TYPES


def write_idx(path: str | Path, array: np.ndarray, *, compress: bool | None = None) -> None:
    """Write an array as an IDX file (gzipped when the name ends in ``.gz``).

    To hand your own images to a recipe's ``--data-dir``, or small data sets to tests.

    Args:
        path: Destination file.
        array: An array of one of the IDX types (uint8, int8, int16, int32,
            float32, float64).
        compress: Gzip the file; by default, when ``path`` ends in ``.gz``.
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
