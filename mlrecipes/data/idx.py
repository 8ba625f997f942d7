"""Reading the IDX file format of MNIST and Fashion-MNIST.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number
of dimensions), one big-endian 32-bit size per dimension, then the values in
row-major order. The four files of MNIST-format data sets are usually gzipped;
[`read_idx`][mlrecipes.data.idx.read_idx] accepts both, telling them apart by content, not by name.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from mlrecipes.errors import DataError

# Type codes of the IDX format and the NumPy dtypes they stand for (big-endian).
IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path}: damaged or truncated gzip file ({error})") from None


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file, gzipped or not.

    Args:
        path: The file.

    Returns:
        The array, with the shape and type the file's header gives.

    Raises:
        DataError: If the file is not IDX, or is truncated or damaged.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise DataError(f"{path}: not an IDX file (its first bytes are {data[:4].hex() or 'missing'})")
    dtype = IDX_TYPES[data[2]]
    ndim = data[3]
    header_size = 4 + 4 * ndim
    if ndim == 0 or len(data) < header_size:
        raise DataError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:header_size])
    expected = math.prod(shape) * dtype.itemsize  # Python integers: no overflow on a hostile header
    found = len(data) - header_size
    if found < expected:
        raise DataError(
            f"{path}: truncated: the header promises {expected} bytes of data for shape "
            f"{tuple(shape)}, the file holds {found}"
        )
    array = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header_size)
    return array.reshape(shape).astype(dtype.newbyteorder("="), copy=False)
