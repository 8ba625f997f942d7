"""The transformer-encoder classifier: keras-hub layers, shapes, padding, saving with its tokenizer."""

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from mlrecipes.errors import ArgumentValueError
from mlrecipes.models.transformer_classifier import build_transformer_classifier
from mlrecipes.text.tokenizer import attach_tokenizer, learn_tokenizer, vocabulary


def tiny_classifier(**overrides):
    settings = dict(vocabulary_size=50, sequence_length=16, num_classes=3, width=8, num_heads=2, depth=2, dropout=0.1)
    keras.utils.set_random_seed(0)
    return build_transformer_classifier(**{**settings, **overrides})


def test_built_from_keras_hub_layers():
    model = tiny_classifier(depth=3)
    kinds = [type(layer) for layer in model.layers]
    assert kinds.count(keras_hub.layers.TokenAndPositionEmbedding) == 1
    assert kinds.count(keras_hub.layers.TransformerEncoder) == 3
    encoder = model.get_layer("encoder_1")
    assert encoder.num_heads == 2 and encoder.intermediate_dim == 16  # default 2 x width


def test_shapes_and_probabilities():
    model = tiny_classifier()
    ids = np.random.default_rng(0).integers(1, 50, size=(5, 16)).astype("int32")
    probabilities = np.asarray(model(ids))
    assert probabilities.shape == (5, 3) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    assert np.asarray(model(ids[:, :9])).shape == (5, 3)  # shorter sequences are fine


def test_output_does_not_depend_on_padding():
    model = tiny_classifier()
    text = [7, 3, 12, 40, 5]
    short = np.array([text + [0] * 1], dtype="int32")
    long = np.array([text + [0] * 11], dtype="int32")
    np.testing.assert_allclose(np.asarray(model(short)), np.asarray(model(long)), atol=1e-6)
    # ...but it does depend on the words.
    changed = np.array([[7, 3, 12, 40, 6] + [0] * 11], dtype="int32")
    assert np.abs(np.asarray(model(changed)) - np.asarray(model(long))).max() > 1e-4


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"num_classes": 1}, "`num_classes`: a classifier needs at least 2 classes. Received: num_classes=1"),
        ({"width": 10, "num_heads": 4}, "`width`: must be a multiple of num_heads=4. Received: width=10"),
        ({"depth": 0}, "`depth`: must be a positive whole number. Received: depth=0"),
        ({"dropout": 1.0}, "`dropout`: must be at least 0 and below 1. Received: dropout=1.0"),
    ],
)
def test_bad_settings(overrides, message):
    with pytest.raises(ArgumentValueError, match=message) as raised:
        tiny_classifier(**overrides)
    assert raised.value.argument == next(iter(overrides))


def test_saved_model_takes_raw_strings_after_reloading(tmp_path):
    texts = ["goals and a late win", "shares fell on the market", "the new phone has a chip"]
    tokenizer = learn_tokenizer(texts, vocabulary_size=50, sequence_length=16)
    classifier = tiny_classifier(vocabulary_size=len(vocabulary(tokenizer)))
    model = attach_tokenizer(tokenizer, classifier)
    queries = tf.constant(["a late win for the market", "", "UNSEEN words only"])
    expected = np.asarray(model(queries))
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(reloaded.predict(queries, verbose=0), expected, atol=1e-6)
    assert np.isfinite(expected).all()  # even for an empty text
