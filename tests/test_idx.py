import gzip

import numpy as np
import pytest

from mlrecipes.data.idx import read_idx
from mlrecipes.errors import InputError
from mlrecipes.testing import write_idx


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_round_trip_plain_and_gzipped(tmp_path, name):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / name, array)
    assert (tmp_path / name).read_bytes()[:2] == (b"\x1f\x8b" if name.endswith(".gz") else b"\x00\x00")
    np.testing.assert_array_equal(read_idx(tmp_path / name), array)


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "labels", array, compress=True)
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), array)


def test_header_matches_the_published_format(tmp_path):
    write_idx(tmp_path / "x", np.zeros((5, 28, 28), np.uint8))
    header = (tmp_path / "x").read_bytes()[:16]
    assert header == bytes([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 28])


def test_big_endian_types(tmp_path):
    array = np.array([[1.5, -2.0], [3.25, 1e6]], dtype=np.float32)
    write_idx(tmp_path / "f", array)
    result = read_idx(tmp_path / "f")
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, array)


def test_truncated_file_is_refused(tmp_path):
    write_idx(tmp_path / "x", np.ones((10, 28, 28), np.uint8))
    data = (tmp_path / "x").read_bytes()
    (tmp_path / "x").write_bytes(data[:-100])
    with pytest.raises(InputError, match="truncated"):
        read_idx(tmp_path / "x")


def test_truncated_gzip_is_refused(tmp_path):
    write_idx(tmp_path / "x.gz", np.random.default_rng(0).integers(0, 255, (50, 28, 28)).astype(np.uint8))
    data = (tmp_path / "x.gz").read_bytes()
    (tmp_path / "x.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated|damaged"):
        read_idx(tmp_path / "x.gz")


def test_not_an_idx_file(tmp_path):
    (tmp_path / "x.gz").write_bytes(gzip.compress(b"hello world, not idx"))
    with pytest.raises(InputError, match="not an IDX file"):
        read_idx(tmp_path / "x.gz")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(InputError, match="not an IDX file"):
        read_idx(tmp_path / "empty")
