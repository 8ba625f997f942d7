"""Presets and fine-tuning: the round trip of a pretrained encoder, what each mode trains, the refusals."""

import numpy as np
import pytest
import tensorflow as tf

from mlrecipes.data.labelled_subset import keep_labels_per_class
from mlrecipes.data.splits import Splits
from mlrecipes.errors import ArgumentValueError, DataUnavailableError
from mlrecipes.models.bert import build_bert_masked_lm
from mlrecipes.models.finetuning import (
    FINETUNE_MODES,
    build_finetuning_classifier,
    check_preset,
    trainable_fraction,
    write_preset,
)
from mlrecipes.text.wordpiece import bert_tokenizer, learn_wordpiece_vocabulary
from recipes import text_classification

TEXTS = ["the market fell as shares slid", "the striker scored in the cup match", "new phones and chips"] * 10


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    """A tiny pretrained-looking encoder (random weights) written as a keras-hub preset folder."""
    tokenizer = bert_tokenizer(learn_wordpiece_vocabulary(TEXTS, 120))
    masked_lm = build_bert_masked_lm(tokenizer.vocabulary_size(), 24, width=32, depth=2, num_heads=2)
    folder = write_preset(masked_lm.backbone, tokenizer, tmp_path_factory.mktemp("presets") / "preset")
    return folder, masked_lm.backbone


def test_preset_round_trip_gives_the_same_encoder(preset):
    folder, backbone = preset
    assert sorted(path.name for path in folder.iterdir()) == [
        "assets", "config.json", "metadata.json", "model.weights.h5", "preprocessor.json", "tokenizer.json",
    ]  # fmt: skip
    assert not [path for path in folder.parent.iterdir() if path.name.startswith(".")]  # no temporary left
    classifier = build_finetuning_classifier(str(folder), 3, finetune="full")
    inputs = classifier.preprocessor(tf.constant(["the market fell"]))
    np.testing.assert_allclose(
        classifier.backbone(inputs)["sequence_output"], backbone(inputs)["sequence_output"], atol=1e-6
    )
    assert classifier.preprocessor.sequence_length == 24  # the encoder's longest input by default


def test_each_mode_trains_what_it_says(preset):
    folder, backbone = preset
    trained = {}
    for mode in FINETUNE_MODES:
        classifier = build_finetuning_classifier(str(folder), 3, sequence_length=16, finetune=mode, lora_rank=2)
        trained[mode] = {weight.path for weight in classifier.trainable_weights}
        probabilities = classifier.predict(tf.constant(["shares slid", "the cup"]), verbose=0)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)  # raw strings in, probabilities out
        if mode == "scratch":  # same architecture, fresh weights
            kernel = classifier.backbone.get_layer("token_embedding").embeddings
            assert kernel.shape == backbone.get_layer("token_embedding").embeddings.shape
            assert not np.allclose(kernel, backbone.get_layer("token_embedding").embeddings)
        if mode == "lora":
            assert trainable_fraction(classifier) < 0.2
    assert trained["full"] == trained["scratch"]
    head = set(trained["frozen"])
    assert head and all("pooled_dense" in path or "logits" in path for path in head)
    lora_only = trained["lora"] - head
    # The low-rank factors and (Keras freezes only the kernel) the projections' biases.
    assert lora_only and all(path.endswith(("lora_kernel_a", "lora_kernel_b", "bias")) for path in lora_only)
    assert {path.split("/")[-2] for path in lora_only} <= {"query", "value"}


def test_refusals_name_the_argument(preset, tmp_path):
    folder, _ = preset
    (tmp_path / "not-a-preset").mkdir()
    (tmp_path / "file.txt").write_text("x")
    cases = [
        (lambda: check_preset(str(tmp_path / "not-a-preset")), "backbone", "not a keras-hub preset folder"),
        (lambda: check_preset(str(tmp_path / "file.txt")), "backbone", "is a file"),
        (lambda: check_preset("./missing"), "backbone", "no such folder"),
        (lambda: check_preset("no_such_preset_name"), "backbone", "not a keras-hub text-classifier preset name"),
        (lambda: build_finetuning_classifier(str(folder), 3, finetune="partial"), "finetune", "must be one of"),
        (lambda: build_finetuning_classifier(str(folder), 3, lora_rank=0), "lora_rank", "1 or more"),
        (lambda: build_finetuning_classifier(str(folder), 1), "num_classes", "2 or more"),
        (lambda: build_finetuning_classifier(str(folder), 3, sequence_length=25), "sequence_length", "at most 24"),
    ]
    for call, argument, message in cases:
        with pytest.raises(ArgumentValueError, match=message) as raised:
            call()
        assert raised.value.argument == argument


def test_a_preset_name_that_cannot_be_downloaded_is_data_unavailable(monkeypatch):
    import keras_hub
    import requests

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("Failed to resolve 'api.kaggle.com'")

    monkeypatch.setattr(keras_hub.models.Backbone, "from_preset", offline)
    with pytest.raises(DataUnavailableError, match="cannot download the keras-hub preset 'bert_tiny_en_uncased'"):
        build_finetuning_classifier("bert_tiny_en_uncased", 2)


def test_the_recipe_offers_every_mode():
    assert text_classification.FINETUNE_MODES == FINETUNE_MODES


def labelled_splits(per_class=(30, 20, 12)):
    labels = np.concatenate([np.full(count, label) for label, count in enumerate(per_class)])
    texts = np.array([f"text {index}" for index in range(len(labels))])
    order = np.random.default_rng(0).permutation(len(labels))
    train, validation = order[:-10], order[-10:]
    dataset = lambda indices: tf.data.Dataset.from_tensor_slices((texts[indices], labels[indices]))  # noqa: E731
    return Splits(
        "toy", dataset(train), dataset(validation), dataset(order[:5]),
        {"train": len(train), "validation": 10, "test": 5}, ("a", "b", "c"), "memory",
    )  # fmt: skip


def contents(dataset):
    return [(text.decode(), int(label)) for text, label in dataset.as_numpy_iterator()]


def test_labels_per_class_draws_that_many_of_each_class_from_train_and_validation():
    splits = labelled_splits()
    kept = keep_labels_per_class(splits, 10, validation_fraction=0.1, seed=3)
    train, validation = contents(kept.train), contents(kept.validation)
    assert kept.sizes == {"train": 27, "validation": 3, "test": 5}
    assert np.bincount([label for _, label in train]).tolist() == [9, 9, 9]
    assert np.bincount([label for _, label in validation]).tolist() == [1, 1, 1]
    everything = set(contents(splits.train) + contents(splits.validation))
    assert set(train) <= everything and set(validation) <= everything and not set(train) & set(validation)
    assert contents(kept.test) == contents(splits.test)
    assert contents(keep_labels_per_class(splits, 10, validation_fraction=0.1, seed=3).train) == train
    assert contents(keep_labels_per_class(splits, 10, validation_fraction=0.1, seed=4).train) != train


def test_labels_per_class_as_a_share_and_its_refusals():
    splits = labelled_splits()
    kept = keep_labels_per_class(splits, 0.5, validation_fraction=0.0, seed=0)
    assert np.bincount([label for _, label in contents(kept.train)]).tolist() == [15, 10, 6]
    assert kept.sizes["validation"] == 0
    for per_class, message in ((13, "class 'c' has only 12"), (0, "whole number"), (1.5, "whole number")):
        with pytest.raises(ArgumentValueError, match=message):
            keep_labels_per_class(splits, per_class)
