"""Sentence pairs: the tab-separated file, the generated dates, the encoding, tfds."""

import datetime
import re

import pytest
import tensorflow_datasets as tfds

from mlrecipes.data.sentence_pairs import (
    END_ID,
    START_ID,
    encode_pairs,
    load_ted_pt_en,
    read_pair_splits,
    read_pairs,
    write_pairs,
)
from mlrecipes.errors import InputError
from mlrecipes.testing.dates import MONTHS, date_pairs, number_in_words, ordinal_in_words


def test_reads_tab_separated_pairs_like_anki_exports(tmp_path):
    path = tmp_path / "por.txt"
    path.write_text("Vai.\tGo.\tCC-BY 2.0 (France) Attribution\n\nObrigado!\tThank you!\n", encoding="utf-8")
    assert read_pairs(path) == [("Vai.", "Go."), ("Obrigado!", "Thank you!")]


@pytest.mark.parametrize(
    "content, message",
    [
        ("one\ttwo\nno tab here\n", r"line 2 has no tab \('no tab here'\)"),
        ("", "is empty"),
        ("\tonly target\n", "line 1 has an empty source"),
        ("a\x03b\tc\n", "control character ETX"),
    ],
)
def test_bad_pair_files_are_one_line_usage_errors(tmp_path, content, message):
    path = tmp_path / "pairs.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as error:
        read_pairs(path)
    assert "\n" not in str(error.value)


def test_non_utf8_and_too_few_pairs(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("caf\xe9\tcoffee\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_pairs(path)
    write_pairs(path, [("a", "b")] * 3)
    with pytest.raises(InputError, match="has 3 pairs; at least 10"):
        read_pair_splits(path)


def test_splits_are_seeded_and_disjoint(tmp_path):
    path = write_pairs(tmp_path / "pairs.tsv", [(f"s{i}", f"t{i}") for i in range(100)])
    splits = read_pair_splits(path, seed=1)
    assert splits.sizes == {"train": 80, "validation": 10, "test": 10}
    assert read_pair_splits(path, seed=1) == splits and read_pair_splits(path, seed=2).test != splits.test
    assert len(set(splits.train) | set(splits.validation) | set(splits.test)) == 100


def test_numbers_in_words():
    assert [number_in_words(n) for n in (0, 13, 40, 42)] == ["zero", "thirteen", "forty", "forty-two"]
    assert [ordinal_in_words(n) for n in (1, 2, 12, 20, 23, 31)] == [
        "first", "second", "twelfth", "twentieth", "twenty-third", "thirty-first"
    ]  # fmt: skip


def test_generated_dates_are_seeded_and_right():
    pairs = date_pairs(300, seed=5)
    assert pairs == date_pairs(300, seed=5) and pairs != date_pairs(300, seed=6)
    for words, iso in pairs:
        date = datetime.date.fromisoformat(iso)
        text = words.lower()
        assert MONTHS[date.month - 1] in text and re.search(rf"\b{ordinal_in_words(date.day)}\b", text)
    assert len({words for words, _ in pairs}) == 300


def test_encoding_is_teacher_forcing_layout():
    inputs, labels = encode_pairs([("may", "ab")], source_length=5, target_length=4)
    assert inputs["source_ids"].tolist() == [[109, 97, 121, 0, 0]]
    assert inputs["decoder_ids"].tolist() == [[START_ID, 97, 98, 0]]
    assert labels.tolist() == [[97, 98, END_ID, 0]]
    inputs, labels = encode_pairs([("m", "abcdef")], source_length=5, target_length=4)
    assert inputs["decoder_ids"].tolist() == [[START_ID, 97, 98, 99]] and labels.tolist() == [[97, 98, 99, END_ID]]


def test_ted_portuguese_english_from_tensorflow_datasets(network):
    with tfds.testing.mock_data(num_examples=4):
        splits = load_ted_pt_en()
    assert splits.sizes == {"train": 4, "validation": 4, "test": 4} and splits.source == "tensorflow-datasets"
    assert all(isinstance(source, str) and isinstance(target, str) for source, target in splits.train)
