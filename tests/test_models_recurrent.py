"""The recurrent builders: the LSTM/GRU text classifier and the LSTM encoder-decoder."""

import keras
import numpy as np
import pytest

from mlrecipes.errors import ArgumentValueError
from mlrecipes.models import build_recurrent_classifier, build_recurrent_seq2seq
from mlrecipes.testing import addition_pairs


def lstm_weights(inputs, units):
    return 4 * (units * (inputs + units) + units)  # kernel, recurrent kernel and bias of the four gates


def test_classifier_sizes_follow_the_lstm_formula():
    model = build_recurrent_classifier(100, 3, width=8, units=5, bidirectional=True)
    assert model.output_shape == (None, 3)
    assert model.count_params() == 100 * 8 + 2 * lstm_weights(8, 5) + (2 * 5 * 3 + 3)
    one_way = build_recurrent_classifier(100, 3, width=8, units=5, bidirectional=False)
    assert one_way.count_params() == 100 * 8 + lstm_weights(8, 5) + (5 * 3 + 3)
    gru = build_recurrent_classifier(100, 3, cell="gru", width=8, units=5, bidirectional=False)
    assert gru.count_params() == 100 * 8 + 3 * (5 * (8 + 5) + 2 * 5) + (5 * 3 + 3)  # reset_after: two biases


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_classifier_output_does_not_depend_on_the_padding(cell):
    keras.utils.set_random_seed(0)
    model = build_recurrent_classifier(50, 2, cell=cell, width=8, units=6)
    ids = np.array([[7, 3, 9, 12, 4]], np.int32)
    padded = np.concatenate([ids, np.zeros((1, 11), np.int32)], axis=1)
    np.testing.assert_allclose(model.predict(ids, verbose=0), model.predict(padded, verbose=0), rtol=1e-5, atol=1e-6)


def test_a_bidirectional_lstm_learns_a_word_at_the_start_of_long_texts():
    # Label 1 when token 2 opens the text, among 40 random tokens: the signal is far from the end.
    rng = np.random.default_rng(0)
    ids = rng.integers(3, 30, size=(512, 40)).astype(np.int32)
    labels = rng.integers(0, 2, size=512)
    ids[labels == 1, 0] = 2
    keras.utils.set_random_seed(0)
    model = build_recurrent_classifier(30, 2, width=8, units=8, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(ids, labels, epochs=4, batch_size=64, verbose=0).history
    assert history["accuracy"][-1] > 0.95


def test_bad_sizes_are_refused_by_name():
    with pytest.raises(ArgumentValueError, match="`cell`"):
        build_recurrent_classifier(10, 2, cell="rnn")
    with pytest.raises(ArgumentValueError, match="`units`"):
        build_recurrent_classifier(10, 2, units=0)
    with pytest.raises(ArgumentValueError, match="`dropout`"):
        build_recurrent_seq2seq(10, 10, 5, 5, dropout=1.0)
    with pytest.raises(ArgumentValueError, match="`target_length`"):
        build_recurrent_seq2seq(10, 10, 5, 0)


def test_seq2seq_decoder_is_causal_and_ignores_source_padding():
    keras.utils.set_random_seed(0)
    model = build_recurrent_seq2seq(20, 20, 8, 6, width=8, units=12)
    source = np.array([[5, 6, 7, 0, 0, 0, 0, 0]], np.int32)
    decoder = np.array([[2, 9, 10, 11, 0, 0]], np.int32)
    logits = model.predict({"source_ids": source, "decoder_ids": decoder}, verbose=0)
    assert logits.shape == (1, 6, 20)
    changed = decoder.copy()
    changed[0, 3] = 15  # a later decoder id leaves the logits before it unchanged
    later = model.predict({"source_ids": source, "decoder_ids": changed}, verbose=0)
    np.testing.assert_allclose(logits[0, :3], later[0, :3], rtol=1e-5, atol=1e-6)
    assert not np.allclose(logits[0, 3], later[0, 3])
    other_source = source.copy()
    other_source[0, 0] = 4  # ... while the source reaches every position through the encoder's state
    assert not np.allclose(
        logits[0, 0], model.predict({"source_ids": other_source, "decoder_ids": decoder}, verbose=0)[0, 0]
    )


def test_addition_pairs_are_distinct_correct_sums():
    pairs = addition_pairs(2000, seed=1)
    assert len(pairs) == 2000 and pairs == addition_pairs(2000, seed=1)
    questions = set()
    for question, answer in pairs:
        a, b = (int(part) for part in question.split("+"))
        assert 0 <= a <= 999 and 0 <= b <= 999 and int(answer) == a + b
        assert (min(a, b), max(a, b)) not in questions
        questions.add((min(a, b), max(a, b)))
    lengths = [len(question.split("+")[0]) for question, _ in pairs]
    assert {1, 2, 3} <= set(lengths)  # short numbers as common as long ones
    with pytest.raises(ValueError, match="count"):
        addition_pairs(100, digits=1)


def test_reversed_questions_are_the_same_sums_written_backwards():
    forwards, backwards = addition_pairs(300, seed=2), addition_pairs(300, seed=2, reverse_questions=True)
    assert [(question[::-1], answer) for question, answer in forwards] == backwards
    assert backwards != forwards
