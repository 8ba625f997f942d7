"""Text corpora: reading files and folders, splitting, next-token windows, bad input, tfds."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from mlrecipes.data.text_corpus import (
    characters_in,
    load_tiny_shakespeare,
    next_token_windows,
    read_text,
    read_text_corpus,
    split_text,
)
from mlrecipes.errors import InputError


def test_reads_a_file_and_a_folder_in_sorted_order_without_hidden_files(tmp_path):
    (tmp_path / "b.txt").write_text("second", encoding="utf-8")
    (tmp_path / "a.txt").write_text("first é", encoding="utf-8")
    (tmp_path / ".hidden").write_text("never", encoding="utf-8")
    assert read_text(tmp_path / "a.txt") == "first é"
    assert read_text(tmp_path) == "first é\n\nsecond"


def test_split_keeps_order_and_holds_out_the_end():
    corpus = split_text("".join(chr(97 + i % 26) for i in range(1000)), "letters", "memory")
    assert corpus.sizes == {"train": 900, "validation": 50, "test": 50}
    assert corpus.train + corpus.validation + corpus.test == "".join(chr(97 + i % 26) for i in range(1000))


def test_windows_are_the_bytes_and_the_next_bytes():
    inputs, targets = next_token_windows("abcdefghij", 3)
    assert inputs.tolist() == [[97, 98, 99], [100, 101, 102], [103, 104, 105]]
    assert targets.tolist() == [[98, 99, 100], [101, 102, 103], [104, 105, 106]]


def test_characters_are_counted_not_bytes():
    ids = np.frombuffer("héllo €".encode(), dtype=np.uint8).astype(np.int32)
    assert len(ids) == 10 and characters_in(ids) == 7
    assert characters_in(ids[2:]) == 5  # a window starting inside "é" counts the rest once


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"  \n\n ", "is empty"),
        (b"caf\xe9 latin-1", r"not UTF-8 text \(byte 0xe9 at offset 3\)"),
    ],
)
def test_bad_files_are_one_line_usage_errors(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as error:
        read_text_corpus(path)
    assert "\n" not in str(error.value)


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        read_text(tmp_path / "nothing.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="has no files"):
        read_text(tmp_path / "empty")


def test_text_shorter_than_one_sequence_is_refused():
    with pytest.raises(
        InputError, match=r"the validation text has 10 bytes, fewer than the 33 .* `sequence_length` 32"
    ):
        next_token_windows("0123456789", 32, "validation")
    assert next_token_windows("x" * 33, 32)[0].shape == (1, 32)


def test_tiny_shakespeare_from_tensorflow_datasets(network):
    with tfds.testing.mock_data(num_examples=3):
        corpus = load_tiny_shakespeare()
    assert corpus.name == "tiny_shakespeare" and corpus.source == "tensorflow-datasets"
    assert all(isinstance(part, str) and part for part in (corpus.train, corpus.validation, corpus.test))
