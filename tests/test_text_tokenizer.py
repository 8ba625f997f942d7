"""The tokenizer: a vocabulary learned from the training texts, ids and back."""

import numpy as np
import pytest
import tensorflow as tf

from mlrecipes.errors import InputError
from mlrecipes.text.tokenizer import CLS, PAD_ID, UNK, ids_to_texts, learn_tokenizer, vocabulary

TEXTS = [
    "The market rose. The market fell!",
    "The match ended in a draw; the fans went home.",
    "Shares in the market rose again, said the analyst.",
    "A late goal won the match.",
]


@pytest.fixture(scope="module")
def tokenizer():
    return learn_tokenizer(tf.data.Dataset.from_tensor_slices(TEXTS), vocabulary_size=40, sequence_length=8)


def test_vocabulary_is_learned_from_the_texts_most_frequent_first(tokenizer):
    tokens = vocabulary(tokenizer)
    assert tokens[:2] == ["", UNK] and tokens[-1] == CLS
    assert tokens[2:4] == ["the", "market"]  # 7 and 3 occurrences
    assert set(tokens[4:8]) == {"match", "rose", "in", "a"}  # 2 each
    assert len(set(tokens)) == len(tokens) and "rose." not in tokens  # punctuation is stripped


def test_round_trip(tokenizer):
    ids = np.asarray(tokenizer(tf.constant(["The MARKET rose, again.", "A goal"])))
    assert ids.shape == (2, 8) and ids.dtype == np.int32
    cls_id = len(vocabulary(tokenizer)) - 1
    assert ids[:, 0].tolist() == [cls_id, cls_id]
    assert ids[0, 5:].tolist() == [PAD_ID] * 3 and ids[1, 3:].tolist() == [PAD_ID] * 5
    assert ids_to_texts(tokenizer, ids) == ["the market rose again", "a goal"]


def test_unknown_words_long_texts_and_empty_texts(tokenizer):
    ids = np.asarray(tokenizer(tf.constant(["the zebra market", "the " * 50, ""])))
    assert ids_to_texts(tokenizer, ids[:1]) == [f"the {UNK} market"]
    assert ids_to_texts(tokenizer, ids[1:2]) == [" ".join(["the"] * 7)]  # cut after [CLS] and 7 words
    assert ids[2, 0] == len(vocabulary(tokenizer)) - 1 and not ids[2, 1:].any()  # [CLS] only: never all padding


def test_vocabulary_size_is_a_ceiling():
    small = learn_tokenizer(TEXTS, vocabulary_size=6, sequence_length=4)
    tokens = vocabulary(small)
    assert len(tokens) == 6 and tokens[:4] == ["", UNK, "the", "market"] and tokens[-1] == CLS


@pytest.mark.parametrize(
    "vocabulary_size, sequence_length, texts, message",
    [
        (3, 8, TEXTS, "`vocabulary_size`: must be at least 4. Received: vocabulary_size=3"),
        (40, 1, TEXTS, "`sequence_length`: must be at least 2"),
        (40, 8, ["...", "!!"], "hold no words"),
    ],
)
def test_bad_settings(vocabulary_size, sequence_length, texts, message):
    with pytest.raises(InputError, match=message):
        learn_tokenizer(texts, vocabulary_size, sequence_length)
