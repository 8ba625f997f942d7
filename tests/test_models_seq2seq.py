"""The encoder-decoder transformer and its decoding loop: shapes, masks, saving, decoding."""

import keras
import numpy as np
import pytest
from keras import ops

from mlrecipes.data.sentence_pairs import END_ID, START_ID, encode_pairs
from mlrecipes.errors import ArgumentValueError
from mlrecipes.generation import decode_sequences, detokenize, make_sampler
from mlrecipes.models.seq2seq import build_seq2seq

SOURCE, TARGET, VOCABULARY = 12, 8, 256


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return build_seq2seq(
        VOCABULARY, VOCABULARY, SOURCE, TARGET, width=16, num_heads=2, encoder_depth=1, decoder_depth=2
    )


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    source = rng.integers(4, VOCABULARY, (3, SOURCE)).astype("int32")
    source[:, 7:] = 0  # padding
    decoder = rng.integers(4, VOCABULARY, (3, TARGET)).astype("int32")
    decoder[:, 0] = START_ID
    decoder[:, 5:] = 0
    return {"source_ids": source, "decoder_ids": decoder}


def logits(model, inputs):
    return np.asarray(model(inputs, training=False))


def test_output_shape_is_one_distribution_per_target_position(model, batch):
    assert logits(model, batch).shape == (3, TARGET, VOCABULARY)
    with pytest.raises(ArgumentValueError, match=r"multiple of num_heads") as raised:
        build_seq2seq(VOCABULARY, VOCABULARY, SOURCE, TARGET, width=10, num_heads=4)
    assert raised.value.argument == "width"
    with pytest.raises(ArgumentValueError) as raised:
        build_seq2seq(VOCABULARY, VOCABULARY, SOURCE, 0)
    assert raised.value.argument == "target_length"


def test_padding_is_masked_in_encoder_decoder_and_cross_attention(model, batch):
    before = logits(model, batch)
    # Whatever vector the padding id has, no output changes: nothing attends to padding.
    embeddings = [model.get_layer(name).token_embedding.embeddings for name in ("source_embedding", "target_embedding")]
    saved = [np.asarray(variable) for variable in embeddings]
    for variable, value in zip(embeddings, saved):
        changed_value = value.copy()
        changed_value[0] += 5.0  # the vector of id 0 only
        variable.assign(changed_value)
    try:
        # Real decoder positions (0-4) are unchanged; padded ones are ignored by the loss.
        np.testing.assert_allclose(logits(model, batch)[:, :5], before[:, :5], atol=1e-5)
    finally:
        for variable, value in zip(embeddings, saved):
            variable.assign(value)
    # A real source token does change the output.
    changed = {**batch, "source_ids": batch["source_ids"].copy()}
    changed["source_ids"][:, 2] = 5
    assert np.abs(logits(model, changed)[:, :5] - before[:, :5]).max() > 1e-4


def test_decoder_is_causal(model, batch):
    changed = {**batch, "decoder_ids": batch["decoder_ids"].copy()}
    changed["decoder_ids"][:, 3] = 7
    before, after = logits(model, batch), logits(model, changed)
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-6)
    assert np.abs(after[:, 3:5] - before[:, 3:5]).max() > 1e-4


def test_saved_model_gives_the_same_outputs(model, batch, tmp_path):
    model.save(tmp_path / "seq2seq.keras")
    np.testing.assert_allclose(
        logits(keras.saving.load_model(tmp_path / "seq2seq.keras"), batch), logits(model, batch), atol=1e-6
    )


def copy_model(inputs, training=False):
    """A stand-in model: at decoder position i, certainly the source's byte i (ETX after the source)."""
    source = inputs["source_ids"]
    copied = ops.where(ops.equal(source, 0), END_ID, source)[:, :TARGET]
    # Fed back correctly, the decoder input is STX then the bytes decoded so far (the source's);
    # anything else makes this model predict byte 1 there instead.
    decoder = inputs["decoder_ids"]
    expected = ops.concatenate([ops.full_like(decoder[:, :1], START_ID), copied[:, : TARGET - 1]], axis=1)
    consistent = ops.logical_or(ops.equal(decoder, expected), ops.equal(decoder, 0))
    consistent = ops.cumprod(ops.cast(consistent, "int32"), axis=1)  # up to the first wrong input
    return ops.one_hot(ops.where(ops.equal(consistent, 1), copied, 1), VOCABULARY) * 10.0


def test_decoding_loop_starts_feeds_back_and_stops_at_the_end_token():
    pairs = [("date", "-"), ("2006-11", "-"), ("x", "-")]
    inputs, _ = encode_pairs(pairs, SOURCE, TARGET)
    decoded = decode_sequences(copy_model, inputs["source_ids"], target_length=TARGET, start_id=START_ID, end_id=END_ID)
    assert [detokenize(ids) for ids in decoded] == ["date", "2006-11", "x"]
    # Without an end token in time, decoding stops at the target length.
    long = encode_pairs([("abcdefghijk", "-")], SOURCE, TARGET)[0]["source_ids"]
    (ids,) = decode_sequences(copy_model, long, target_length=TARGET, start_id=START_ID, end_id=END_ID)
    assert detokenize(ids) == "abcdefgh"


def test_decoding_an_untrained_model_with_each_sampler(model, batch):
    for name in ("greedy", "top_k", "top_p"):
        decoded = decode_sequences(model, batch["source_ids"], target_length=TARGET, start_id=START_ID,
                                   end_id=END_ID, sampler=make_sampler(name, seed=0))  # fmt: skip
        assert len(decoded) == 3 and all(len(ids) <= TARGET and END_ID not in ids for ids in decoded)
