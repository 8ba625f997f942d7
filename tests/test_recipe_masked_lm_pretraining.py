"""recipes.masked_lm_pretraining end to end, and fine-tuning its preset with recipes.text_classification."""

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf
from test_recipe_text_classification import COMMON, TOPICS, write_corpus

from recipes import masked_lm_pretraining, text_classification

from recipe_harness import assert_finished_run, assert_one_line_error, read_metrics, runner

TINY_ENCODER = ["--width", "16", "--heads", "2", "--depth", "1", "--sequence-length", "32", "--vocabulary-size", "300"]

pretrain = runner(masked_lm_pretraining.main)
classify = runner(text_classification.main)


def write_documents(folder, count=120, seed=0):
    """Unlabelled documents in nested folders: topic words among common words."""
    rng = np.random.default_rng(seed)
    words = [word for topic in TOPICS.values() for word in topic] + COMMON
    for index in range(count):
        path = folder / f"part-{index % 3}" / f"{index:03d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(" ".join(rng.choice(words, 50)) + ".", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """One --quick pretraining run on a folder of documents: its output folder."""
    root = tmp_path_factory.mktemp("pretraining")
    documents = write_documents(root / "documents")
    output = root / "run"
    assert pretrain(["--data-dir", str(documents), "--output-dir", str(output), "--quick", *TINY_ENCODER]) == 0
    return output


def test_pretraining_writes_its_outputs_and_scores_against_the_unigram_baseline(pretrained):
    metrics = assert_finished_run(pretrained, "filled_masks.txt", "preset/config.json", "preset/tokenizer.json")
    assert metrics["recipe"] == "masked_lm_pretraining" and metrics["dataset"] == "documents"
    assert metrics["documents"] == {"train": 108, "validation": 6, "test": 6}
    assert metrics["rows"]["train"] >= 108 and metrics["vocabulary_size"] <= 300
    assert 0 <= metrics["test_masked_accuracy"] <= 1 and metrics["test_masked_tokens"] > 0
    assert metrics["test_perplexity"] == pytest.approx(np.exp(metrics["test_loss"]), rel=1e-3)
    assert metrics["unigram_test_perplexity"] == pytest.approx(np.exp(metrics["unigram_test_loss"]), rel=1e-3)
    assert metrics["optimizer_steps"] == metrics["epochs"] * metrics["steps_per_epoch"]
    examples = (pretrained / "filled_masks.txt").read_text().split("\n\n")
    assert examples[0].startswith("input:") and "[MASK]" in examples[0] and "filled:" in examples[0]


def test_preset_loads_through_keras_hub(pretrained):
    classifier = keras_hub.models.TextClassifier.from_preset(str(pretrained / "preset"), num_classes=3)
    assert isinstance(classifier, keras_hub.models.BertTextClassifier)
    assert classifier.predict(tf.constant(["goal in the match"]), verbose=0).shape == (1, 3)
    saved = keras.saving.load_model(pretrained / "model.keras")  # the masked-LM model itself
    assert saved.backbone.count_params() == read_metrics(pretrained)["backbone_parameters"]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("labelled") / "corpus", {"business": 30, "sport": 30, "tech": 30})


@pytest.mark.parametrize("mode", ["full", "lora", "frozen"])
def test_fine_tuning_a_preset_folder(mode, pretrained, labelled, tmp_path):
    output = tmp_path / mode
    flags = ["--data-dir", str(labelled), "--output-dir", str(output), "--backbone", str(pretrained / "preset")]
    assert classify([*flags, "--finetune", mode, "--lora-rank", "2", "--labels-per-class", "5", "--quick"]) == 0
    metrics = assert_finished_run(output, "confusion_matrix.png")
    assert metrics["labelled_texts"] == {"train": 15, "validation": 0}  # 10% of 5 per class rounds to none
    assert metrics["config"]["backbone"] == str(pretrained / "preset")
    share = metrics["trainable_parameters"] / metrics["parameters"]
    assert share == 1.0 if mode == "full" else share < 0.5
    model = keras.saving.load_model(output / "model.keras")  # takes raw strings, as every text model here
    probabilities = model.predict(tf.constant(["shares and profit at the bank", "the striker"]), verbose=0)
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert metrics["class_names"] == ["business", "sport", "tech"]  # for --predict


def test_labels_per_class_counts_every_labelled_text(pretrained, labelled, tmp_path):
    output = tmp_path / "run"
    flags = ["--data-dir", str(labelled), "--output-dir", str(output), "--backbone", str(pretrained / "preset")]
    assert classify([*flags, "--labels-per-class", "10", "--validation-split", "0.2", "--quick"]) == 0
    assert read_metrics(output)["labelled_texts"] == {"train": 24, "validation": 6}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--labels-per-class", "0"], "--labels-per-class: '0' must be a whole number"),
        (["--labels-per-class", "25"], "--labels-per-class 25: class 'business' has only 24"),
        (["--lora-rank", "0"], "--lora-rank: '0' must be a positive whole number"),
        (["--backbone", "{documents}"], "not a keras-hub preset folder (no config.json or tokenizer.json)"),
        (["--backbone", "./nowhere"], "--backbone ./nowhere: no such folder"),
        (["--backbone", "{preset}", "--architecture", "lstm"], "--backbone fine-tunes the preset's encoder"),
        (["--backbone", "{preset}", "--sequence-length", "33"], "--sequence-length 33: must be at most 32"),
    ],
)
def test_bad_fine_tuning_input(flags, message, pretrained, labelled, tmp_path, capsys):
    output = tmp_path / "run"
    flags = [flag.format(preset=pretrained / "preset", documents=labelled) for flag in flags]
    assert classify(["--data-dir", str(labelled), "--output-dir", str(output), "--quick", *flags]) == 2
    assert_one_line_error(capsys, message, nothing_at=output)


def test_offline_preset_name_is_one_line_and_writes_nothing(labelled, tmp_path, capsys, monkeypatch):
    import requests

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("Failed to resolve 'api.kaggle.com'")

    monkeypatch.setattr(keras_hub.models.Backbone, "from_preset", offline)
    output = tmp_path / "run"
    status = classify(["--data-dir", str(labelled), "--output-dir", str(output), "--backbone", "bert_tiny_en_uncased"])
    assert status == 2
    assert_one_line_error(
        capsys, "cannot download the keras-hub preset 'bert_tiny_en_uncased'", "--backbone", nothing_at=output
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--data-dir", "{empty}"], "holds no .txt file"),
        (["--data-dir", "{blank}"], "none of its 3 .txt files holds text (3 empty)"),
        (["--data-file", "{missing}"], "--data-file {missing}: no such file"),
        (["--data-dir", "{blank}", "--data-file", "{missing}"], "--data-dir and --data-file both"),
        (["--data-dir", "{documents}", "--vocabulary-size", "5"], "--vocabulary-size 5: must be more than the 5"),
    ],
)
def test_bad_pretraining_input(flags, message, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "blank").mkdir()
    for index in range(3):
        (tmp_path / "blank" / f"{index}.txt").write_text("  \n", encoding="utf-8")
    documents = write_documents(tmp_path / "documents", count=10)
    names = {"empty": tmp_path / "empty", "blank": tmp_path / "blank", "missing": tmp_path / "missing.txt"}
    names["documents"] = documents
    flags = [flag.format(**names) for flag in flags]
    output = tmp_path / "run"
    assert pretrain([*flags, "--output-dir", str(output), "--quick"]) == 2
    assert_one_line_error(capsys, message.format(**names), nothing_at=output)


def test_imdb_unlabelled_reviews_from_mocked_tensorflow_datasets(tmp_path, network):
    import tensorflow_datasets as tfds

    output = tmp_path / "run"
    with tfds.testing.mock_data(num_examples=60):
        assert pretrain(["--output-dir", str(output), "--quick", *TINY_ENCODER]) == 0
    metrics = read_metrics(output)
    assert metrics["dataset"] == "imdb_reviews" and metrics["data_source"] == "tensorflow-datasets"
    assert sum(metrics["documents"].values()) == 60


def test_offline_without_imdb_is_one_clear_line(tmp_path, capsys):
    output = tmp_path / "run"
    assert pretrain(["--output-dir", str(output)]) == 2
    assert_one_line_error(capsys, "imdb_reviews", "--data-dir", "--data-file", nothing_at=output)


def test_an_interrupted_pretraining_resumes_and_still_writes_its_preset(monkeypatch, tmp_path, capsys):
    import mlrecipes.run

    class InterruptAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt  # what Ctrl-C does mid-run

    documents = write_documents(tmp_path / "documents", count=60)
    argv = ["--data-dir", str(documents), "--output-dir", str(tmp_path / "run"), "--epochs", "2", *TINY_ENCODER]
    original = mlrecipes.run.standard_callbacks
    monkeypatch.setattr(
        mlrecipes.run, "standard_callbacks", lambda *a, **k: [*original(*a, **k), InterruptAfterFirstEpoch()]
    )
    assert pretrain(argv) == 130
    assert not (tmp_path / "run" / "preset").exists()  # nothing final written
    monkeypatch.setattr(mlrecipes.run, "standard_callbacks", original)
    capsys.readouterr()
    assert pretrain(argv) == 0
    assert "resuming an interrupted run after epoch 1 of 2" in capsys.readouterr().out
    metrics = assert_finished_run(tmp_path / "run", "preset/config.json")
    assert metrics["resumed_from_epoch"] == 1 and len(metrics["history"]["loss"]) == 2
