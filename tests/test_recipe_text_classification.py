"""recipes.text_classification end to end: training, outputs, the saved model, prediction, bad input."""

import contextlib
import io
import os
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from mlrecipes.data.text_folder import load_text_folder
from recipes import text_classification

from recipe_harness import ROOT, assert_finished_run, assert_one_line_error, python_process, read_metrics, runner

TINY_MODEL = ["--width", "16", "--heads", "2", "--sequence-length", "24", "--vocabulary-size", "200"]
TOPICS = {
    "business": ["shares", "market", "profit", "bank", "economy", "investors", "prices", "sales"],
    "sport": ["goal", "match", "team", "coach", "league", "striker", "cup", "season"],
    "tech": ["phone", "software", "chip", "internet", "users", "computer", "network", "games"],
}
COMMON = ["the", "a", "said", "on", "in", "year", "new", "people"]


def write_corpus(folder: Path, counts: dict[str, int], seed: int = 0) -> Path:
    """A learnable corpus: each text mixes words of its topic with common words."""
    rng = np.random.default_rng(seed)
    for name, count in counts.items():
        (folder / name).mkdir(parents=True)
        for index in range(count):
            words = list(rng.choice(TOPICS[name], 6)) + list(rng.choice(COMMON, 6))
            text = " ".join(rng.permutation(words)).capitalize() + "."
            (folder / name / f"{index:03d}.txt").write_text(text, encoding="utf-8")
    return folder


exit_status = runner(text_classification.main)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One --quick run on a small corpus holding one Latin-1 file; its folder, output and warnings."""
    root = tmp_path_factory.mktemp("text")
    corpus = write_corpus(root / "corpus", {"business": 30, "sport": 30, "tech": 30})
    (corpus / "tech" / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    output = root / "run"
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        status = exit_status(["--data-dir", str(corpus), "--output-dir", str(output), "--quick", *TINY_MODEL])
    assert status == 0
    return corpus, output, errors.getvalue()


def test_quick_run_writes_every_output(quick_run):
    corpus, output, warnings = quick_run
    metrics = assert_finished_run(output, "confusion_matrix.png")
    assert metrics["recipe"] == "text_classification" and metrics["dataset"] == "corpus"
    assert metrics["class_names"] == ["business", "sport", "tech"] and metrics["epochs"] == 1
    assert metrics["data_source"] == str(corpus) and metrics["skipped_files"] == 1
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["vocabulary_size"] <= 200
    assert set(metrics["per_class"]) == {"business", "sport", "tech"}
    for scores in metrics["per_class"].values():
        assert set(scores) == {"precision", "recall", "f1", "support"} and scores["support"] == 6
    assert np.asarray(metrics["confusion_matrix"]).shape == (3, 3)
    assert "skipped 1 bad .txt file(s) (1 not UTF-8)" in warnings and "latin1.txt" in warnings


def test_saved_model_classifies_raw_strings(quick_run):
    corpus, output, _ = quick_run
    model = keras.saving.load_model(output / "model.keras")
    test = load_text_folder(corpus, seed=42).test  # the recipe's split: same seed, same folder
    texts, labels = (np.concatenate(parts) for parts in zip(*test.batch(100).as_numpy_iterator()))
    probabilities = model.predict(tf.constant(texts), verbose=0)
    assert probabilities.shape == (18, 3)
    accuracy = float(np.mean(probabilities.argmax(-1) == labels))
    metrics = read_metrics(output)
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-6)


def test_predict_from_a_saved_run(quick_run, tmp_path, capsys):
    _, output, _ = quick_run
    (tmp_path / "news.txt").write_text("The striker scored a goal in the cup match.\n", encoding="utf-8")
    argv = [
        "--model-dir",
        str(output),
        "--predict",
        "Shares  and\nprices fell",
        "--predict-file",
        str(tmp_path / "news.txt"),
    ]
    assert exit_status(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    rows = [line.split("\t") for line in lines]
    assert [row[2] for row in rows] == ["Shares and prices fell", str(tmp_path / "news.txt")]
    for name, probability, _ in rows:
        assert name in TOPICS and 1 / 3 <= float(probability) <= 1.0


def test_predict_in_a_fresh_process(quick_run):
    _, output, _ = quick_run
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    command = ["-m", "recipes.text_classification", "--model-dir", output, "--predict", "a late goal"]
    result = python_process(*command, cwd=ROOT, env=environment)
    assert result.returncode == 0, result.stderr
    name, probability, text = result.stdout.strip().split("\t")
    assert name in TOPICS and 1 / 3 <= float(probability) <= 1 and text == "a late goal"


def test_class_weight_balanced_on_an_imbalanced_corpus(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"business": 60, "sport": 20, "tech": 10}, seed=1)
    output = tmp_path / "run"
    argv = [
        "--data-dir",
        str(corpus),
        "--output-dir",
        str(output),
        "--class-weight",
        "balanced",
        "--epochs",
        "8",
        "--batch-size",
        "8",
        "--learning-rate",
        "3e-3",
        *TINY_MODEL,
    ]
    assert exit_status(argv) == 0
    metrics = read_metrics(output)
    # 48 / 16 / 8 texts are left after the 20% test hold-out; 10% of those (rounded) validate.
    train_counts = np.array([43, 14, 7])
    np.testing.assert_allclose(metrics["class_weights"], train_counts.sum() / (3 * train_counts), rtol=1e-5)
    assert metrics["test_accuracy"] >= 0.8  # a learnable corpus: chance is a third


def test_class_weighted_loss_is_the_docstring_formula():
    # L = -(1/N) sum_n w_{y_n} log p_{y_n}(x_n): Keras divides by the batch size, not by the sum of weights.
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.25, 0.25, 0.5]], dtype="float32")
    labels, weights = np.array([0, 1, 2]), np.array([0.5, 2.0, 3.0], dtype="float32")
    loss = keras.losses.SparseCategoricalCrossentropy()(labels, probabilities, sample_weight=weights)
    expected = -np.mean(weights * np.log(probabilities[np.arange(3), labels]))
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_imdb_from_mocked_tensorflow_datasets(tmp_path, network):
    output = tmp_path / "run"
    with tfds.testing.mock_data(num_examples=40):
        assert exit_status(["--output-dir", str(output), "--quick", *TINY_MODEL]) == 0
    metrics = read_metrics(output)
    assert metrics["dataset"] == "imdb_reviews" and metrics["data_source"] == "tensorflow-datasets"
    assert metrics["class_names"] == ["neg", "pos"] and set(metrics["per_class"]) == {"neg", "pos"}


def test_offline_without_data_is_one_clear_line(tmp_path, capsys):
    output = tmp_path / "run"
    assert exit_status(["--output-dir", str(output)]) == 2
    assert_one_line_error(capsys, "--data-dir", "imdb_reviews", nothing_at=output)


@pytest.mark.parametrize(
    "layout, flags, message",
    [
        ({"business": 5}, [], "found 1 class folder(s) (business); a classifier needs at least two"),
        ({"business": 5, "sport": 0}, [], "class folder 'sport' holds no readable .txt files"),
        ({"business": 5, "sport": 5}, ["--classes", "sport", "golf"], "no class folder 'golf'"),
        ({"business": 5, "sport": 5}, ["--vocabulary-size", "2"], "--vocabulary-size 2: must be at least 4"),
        (
            {"business": 5, "sport": 5},
            ["--width", "30", "--heads", "4"],
            "--width 30: must be a multiple of num_heads=4",
        ),
        ({"business": 5, "sport": 5}, ["--class-weight", "auto"], "invalid choice: 'auto'"),
        ({"business": 5, "sport": 5}, ["--sequence-length", "0"], "'0' must be a positive whole number"),
    ],
)
def test_bad_training_input(layout, flags, message, tmp_path, capsys):
    corpus = write_corpus(tmp_path / "corpus", layout)
    output = tmp_path / "run"
    assert exit_status(["--data-dir", str(corpus), "--output-dir", str(output), "--quick", *flags]) == 2
    assert_one_line_error(capsys, message, nothing_at=output)


def test_bad_files_can_be_refused(tmp_path, capsys):
    corpus = write_corpus(tmp_path / "corpus", {"business": 5, "sport": 5})
    (corpus / "sport" / "scan.txt").write_bytes(b"%PDF-1.4\x00\x01")
    output = tmp_path / "run"
    assert exit_status(["--data-dir", str(corpus), "--output-dir", str(output), "--bad-files", "error"]) == 2
    assert_one_line_error(capsys, "scan.txt: binary file", nothing_at=output)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--predict", "hello"], "--predict and --predict-file need --model-dir RUN_DIR"),
        (["--model-dir", "{empty}", "--predict", "hello"], "holds no saved run (no model.keras and metrics.json)"),
        (["--model-dir", "{missing}", "--predict", "hello"], "holds no saved run"),
        (["--model-dir", "{run}"], "--model-dir needs texts to classify"),
        (["--model-dir", "{run}", "--predict-file", "{missing}"], "cannot be read (No such file or directory)"),
        (["--model-dir", "{run}", "--predict-file", "{latin1}"], "not UTF-8 file; give a UTF-8 text file"),
        (["--model-dir", "{broken}", "--predict", "hello"], "not a saved text_classification run"),
        (["--model-dir", "{run}", "--predict", ""], "--predict '': the text is empty; give a text to classify"),
    ],
)
def test_bad_prediction_input(argv, message, quick_run, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9".encode("latin-1"))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "model.keras").write_bytes(b"not a zip file")
    (tmp_path / "broken" / "metrics.json").write_text("{}")
    places = {
        "empty": tmp_path / "empty",
        "missing": tmp_path / "missing",
        "run": quick_run[1],
        "latin1": tmp_path / "latin1.txt",
        "broken": tmp_path / "broken",
    }
    argv = [arg.format(**places) for arg in argv]
    assert exit_status(argv) == 2
    assert_one_line_error(capsys, message, quiet=True)


def test_classes_without_a_data_folder_is_refused(tmp_path, capsys):
    output = tmp_path / "run"
    assert exit_status(["--classes", "neg", "pos", "--output-dir", str(output)]) == 2
    assert_one_line_error(capsys, "--classes picks class folders of --data-dir", nothing_at=output)


@pytest.mark.parametrize("architecture", ["lstm", "gru"])
def test_recurrent_architectures_train_and_save_a_model_that_takes_strings(tmp_path, architecture):
    corpus = write_corpus(tmp_path / "corpus", {"business": 20, "sport": 20, "tech": 20})
    output = tmp_path / "run"
    flags = ["--architecture", architecture, "--width", "8", "--units", "8", "--sequence-length", "24"]
    assert exit_status(["--data-dir", str(corpus), "--output-dir", str(output), "--quick", *flags]) == 0
    metrics = read_metrics(output)
    assert metrics["config"]["architecture"] == architecture and metrics["config"]["bidirectional"] is True
    model = keras.saving.load_model(output / "model.keras")
    assert f'"name": "bidirectional_{architecture}"' in model.to_json()
    probabilities = model.predict(tf.constant(["shares and profit at the bank", "the striker scored"]), verbose=0)
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
