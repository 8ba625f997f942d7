"""WordPiece vocabularies, documents, and masked-language-model rows: what pretraining reads."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlrecipes.data.documents import read_document_file, read_document_folder, split_documents
from mlrecipes.errors import ArgumentValueError, DataError
from mlrecipes.text.masked_lm import (
    mask_generator,
    masked_lm_batch,
    masked_once,
    token_chunks,
    unigram_cross_entropy,
)
from mlrecipes.text.wordpiece import SPECIAL_TOKENS, bert_tokenizer, learn_wordpiece_vocabulary

WORDS = ["market", "shares", "profit", "bank", "goal", "match", "team", "league", "the", "a", "said", "playing"]


def corpus(documents=60, words=40, seed=0):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, words)) + "." for _ in range(documents)]


@pytest.fixture(scope="module")
def tokenizer():
    return bert_tokenizer(learn_wordpiece_vocabulary(corpus(), 200))


def test_vocabulary_starts_with_the_special_tokens_and_covers_the_corpus(tokenizer):
    vocabulary = tokenizer.get_vocabulary()
    assert tuple(vocabulary[: len(SPECIAL_TOKENS)]) == SPECIAL_TOKENS
    assert len(vocabulary) <= 200
    for word in ("market", "shares", "the"):  # frequent words are one piece each
        assert word in vocabulary
    ids = np.asarray(tokenizer(tf.constant("Shares the BANK. playing")))
    assert tokenizer.token_to_id("[UNK]") not in ids  # lower-cased, punctuation split off: all known
    assert [tokenizer.id_to_token(int(i)) for i in ids] == ["shares", "the", "bank", ".", "playing"]


def test_unknown_words_split_into_known_pieces_not_unk():
    vocabulary = learn_wordpiece_vocabulary(["playing played plays player"] * 50 + ["stay stayed staying"] * 50, 60)
    tokenizer = bert_tokenizer(vocabulary)
    assert "stays" not in vocabulary  # never seen, yet spelled with known pieces
    assert [tokenizer.id_to_token(int(i)) for i in tokenizer(tf.constant("stays"))] == ["stay", "##s"]


@pytest.mark.parametrize(
    ("texts", "size", "argument"), [([], 100, "texts"), (["  ", "\n"], 100, "texts"), (["a b c"], 5, "vocabulary_size")]
)
def test_vocabulary_refuses_bad_input(texts, size, argument):
    with pytest.raises(ArgumentValueError) as raised:
        learn_wordpiece_vocabulary(texts, size)
    assert raised.value.argument == argument


def test_tokenizer_needs_the_special_tokens():
    with pytest.raises(ArgumentValueError, match=r"\[MASK\]"):
        bert_tokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])


def test_documents_are_cut_into_pieces_that_keep_every_token(tokenizer):
    documents = corpus(documents=5, words=70)
    pieces = token_chunks(documents, tokenizer, sequence_length=32, min_tokens=1)
    lengths = pieces.row_lengths().numpy()
    assert lengths.max() == 30  # room for [CLS] and [SEP]
    whole = tf.concat([tokenizer(tf.constant(text)) for text in documents], axis=0).numpy()
    np.testing.assert_array_equal(pieces.flat_values.numpy(), whole)


def test_short_tail_pieces_are_dropped_but_short_documents_kept(tokenizer):
    pieces = token_chunks(["market " * 33, "goal"], tokenizer, sequence_length=32, min_tokens=8)
    np.testing.assert_array_equal(pieces.row_lengths().numpy(), [30, 1])  # tail of 3 dropped; 'goal' kept
    with pytest.raises(DataError):
        token_chunks(["", " "], tokenizer, sequence_length=32)
    with pytest.raises(ArgumentValueError):
        token_chunks(["goal"], tokenizer, sequence_length=2)


def test_masked_rows_hide_only_real_tokens_and_keep_the_originals_as_targets(tokenizer):
    length = 32
    pieces = token_chunks(corpus(documents=40, words=50), tokenizer, length)
    frame_and_mask = masked_lm_batch(tokenizer, length, mask_generator(tokenizer, length))
    keras.utils.set_random_seed(1)
    rows, arrays = masked_once(pieces, frame_and_mask, batch_size=16)
    inputs, targets, weights = next(iter(rows))
    assert inputs["token_ids"].shape == (16, length) and targets.shape == weights.shape == (
        16,
        math.ceil(0.15 * length),
    )
    original = tf.keras.preprocessing.sequence.pad_sequences(
        [[tokenizer.cls_token_id, *row, tokenizer.sep_token_id] for row in pieces.to_list()],
        maxlen=length,
        padding="post",
    )
    special = set(tokenizer.special_token_ids)
    for row in range(len(original)):
        real = arrays["mask_weights"][row] > 0
        positions = arrays["mask_positions"][row][real]
        selectable = int(np.isin(original[row], list(special), invert=True).sum())
        assert real.sum() == min(math.ceil(np.float32(0.15) * np.float32(selectable)), targets.shape[1])
        assert not special & set(original[row][positions].tolist())  # never [CLS], [SEP] or padding
        np.testing.assert_array_equal(arrays["mask_ids"][row][real], original[row][positions])
        unchanged = np.setdiff1d(np.arange(length), positions)
        np.testing.assert_array_equal(arrays["token_ids"][row][unchanged], original[row][unchanged])
        np.testing.assert_array_equal(arrays["padding_mask"][row], original[row] != 0)
    masked = arrays["token_ids"][np.arange(len(original))[:, None], arrays["mask_positions"]][
        arrays["mask_weights"] > 0
    ]
    assert 0.6 < np.mean(masked == tokenizer.mask_token_id) < 0.95  # about 80% become [MASK]


def test_held_out_rows_are_masked_once_so_every_epoch_sees_the_same_positions(tokenizer):
    pieces = token_chunks(corpus(documents=20), tokenizer, 32)
    frame_and_mask = masked_lm_batch(tokenizer, 32, mask_generator(tokenizer, 32))
    # Seeded, so that the outcome does not hang on the random state earlier tests left behind: with
    # TensorFlow's global seed set, two pipelines built alike draw alike.
    keras.utils.set_random_seed(1)
    rows, arrays = masked_once(pieces, frame_and_mask, 8)
    for _ in range(2):  # two passes, as two epochs' validation
        passed = np.concatenate([inputs["mask_positions"].numpy() for inputs, _, _ in rows])
        np.testing.assert_array_equal(passed, arrays["mask_positions"])
    keras.utils.set_random_seed(2)
    again = masked_once(pieces, frame_and_mask, 8)[1]["mask_positions"]
    assert not np.array_equal(again, arrays["mask_positions"])  # the masking itself is random


def test_unigram_baseline_is_the_mean_negative_log_frequency():
    train = tf.ragged.constant([[5, 5, 6], [5, 7]])
    # Counts plus one over a vocabulary of 8: id 5 -> 4, 6 -> 2, 7 -> 2, the other five -> 1; total 13.
    nll = unigram_cross_entropy(train, np.array([[5, 6, 0]]), np.array([[1.0, 1.0, 0.0]]), vocabulary_size=8)
    assert nll == pytest.approx(-(math.log(4 / 13) + math.log(2 / 13)) / 2)


def test_documents_split_is_seeded_disjoint_and_complete():
    documents = [f"document {index}" for index in range(100)] + ["", "  "]
    parts = split_documents(documents, name="n", source="s", seed=7)
    assert parts.sizes == {"train": 90, "validation": 5, "test": 5}
    assert sorted(parts.train + parts.validation + parts.test) == sorted(documents[:100])
    assert split_documents(documents, name="n", source="s", seed=7) == parts
    assert split_documents(documents, name="n", source="s", seed=8).test != parts.test
    with pytest.raises(DataError, match="at least 3"):
        split_documents(["one", "two", " "], name="n", source="s")


def test_document_folder_is_read_recursively_skipping_bad_files(tmp_path, capsys):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.txt").write_text("first", encoding="utf-8")
    (tmp_path / "a" / "b" / "two.txt").write_text("second", encoding="utf-8")
    (tmp_path / "a" / "notes.md").write_text("not a .txt file", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("hidden", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    documents, skipped = read_document_folder(tmp_path)
    assert documents == ["first", "second"] and [item.reason for item in skipped] == ["not UTF-8"]
    assert "skipped 1 bad .txt file(s) (1 not UTF-8)" in capsys.readouterr().err
    with pytest.raises(DataError, match="latin1.txt: not UTF-8"):
        read_document_folder(tmp_path, on_bad_file="error")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArgumentValueError, match="no .txt file"):
        read_document_folder(tmp_path / "empty")
    with pytest.raises(ArgumentValueError, match="no such folder"):
        read_document_folder(tmp_path / "missing")


def test_document_file_is_cut_at_blank_lines_or_else_at_lines(tmp_path):
    paragraphs = tmp_path / "paragraphs.txt"
    paragraphs.write_text("One line.\nSame paragraph.\n\n  \nSecond paragraph.\n", encoding="utf-8")
    assert read_document_file(paragraphs) == ["One line.\nSame paragraph.", "Second paragraph."]
    lines = tmp_path / "lines.txt"
    lines.write_text("first\nsecond\nthird\n", encoding="utf-8")
    assert read_document_file(lines) == ["first", "second", "third"]
    (tmp_path / "empty.txt").write_text(" \n", encoding="utf-8")
    for path, message in (
        (tmp_path / "empty.txt", "empty"),
        (tmp_path / "missing.txt", "no such file"),
        (tmp_path, "not a regular file"),
    ):
        with pytest.raises(ArgumentValueError, match=message):
            read_document_file(path)
