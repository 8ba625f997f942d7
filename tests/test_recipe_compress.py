"""recipes.compress end to end: every variant of an image and a text run, the exports, bad input."""

from __future__ import annotations

import json
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_recipe_text_classification import TINY_MODEL, write_corpus

from mlrecipes.compression.litert import LiteRTModel
from mlrecipes.data import load_mnist
from recipes import compress, fashion_mnist_cnn, text_classification

from conftest import write_mnist_folder
from recipe_harness import ROOT, assert_one_line_error, program_error, python_process, runner

exit_status = runner(compress.main)


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    """A --quick fashion_mnist_cnn run with the default network, on small learnable IDX files."""
    root = tmp_path_factory.mktemp("cnn")
    folder = write_mnist_folder(root / "idx", train=1200, test=300)
    output = root / "run"
    argv = ["--data-dir", str(folder), "--output-dir", str(output), "--quick", "--batch-size", "64"]
    assert runner(fashion_mnist_cnn.main)(argv) == 0
    return folder, output


@pytest.fixture(scope="module")
def compressed(cnn_run, tmp_path_factory):
    """recipes.compress with every format on that run."""
    folder, run = cnn_run
    output = tmp_path_factory.mktemp("compress") / "out"
    argv = ["--model-dir", str(run), "--output-dir", str(output), "--quick", "--repeats", "3"]
    assert exit_status(argv) == 0
    return folder, run, output


def rows_by_name(output):
    metrics = json.loads((output / "metrics.json").read_text())
    return metrics, {row["variant"]: row for row in metrics["variants"]}


def test_every_variant_is_made_measured_and_tabled(compressed):
    _, run, output = compressed
    metrics, rows = rows_by_name(output)
    assert metrics["recipe"] == "compress" and metrics["source_recipe"] == "fashion_mnist_cnn"
    assert list(rows) == [
        "Keras float32", "Keras int8", "Keras int4", "pruned 80%", "pruned 80% + LiteRT dynamic int8",
        "student, distilled", "student, labels only", "SavedModel (TF Serving)",
        "LiteRT float32", "LiteRT dynamic-int8", "LiteRT int8",
    ]  # fmt: skip
    for name, row in rows.items():
        assert (output / row["file"]).exists(), name
        assert 0 <= row["test_accuracy"] <= 1 and 0 <= row["agreement"] <= 1, name
        assert row["latency_batch_1_ms"] > 0 and row["latency_batch_256_ms"] > 0, name
        assert row["gzipped_bytes"] > 0 and row["bytes"] > 0, name
    assert rows["Keras float32"]["agreement"] == 1.0
    assert rows["Keras float32"]["test_accuracy"] == pytest.approx(
        json.loads((run / "metrics.json").read_text())["test_accuracy"], abs=1e-3
    )
    assert rows["pruned 80%"]["sparsity"] == pytest.approx(0.8, abs=0.01)
    assert rows["student, distilled"]["share_of_teacher"] <= 0.25
    assert rows["LiteRT int8"]["bytes"] < 0.3 * rows["LiteRT float32"]["bytes"]
    table = (output / "compression.md").read_text()
    assert table.count("\n") == 2 + len(rows) and "| LiteRT int8 |" in table
    assert (output / "accuracy_vs_size.png").stat().st_size > 10_000
    assert not [p for p in output.rglob("*") if p.name.startswith(".") or ".partial" in p.name]


def test_the_exports_predict_like_the_float_model(compressed):
    folder, run, output = compressed
    test = load_mnist("fashion_mnist", data_dir=folder).quick().test
    x = np.stack([image for image, _ in test.as_numpy_iterator()]).astype(np.float32)
    reference = keras.saving.load_model(output / "keras" / "float32.keras").predict(x, verbose=0)
    original = keras.saving.load_model(run / "model.keras").predict(x, verbose=0)
    np.testing.assert_allclose(reference, original, atol=1e-6)
    # float exports: the same numbers; quantized ones: the same classes, nearly always
    np.testing.assert_allclose(LiteRTModel(output / "litert" / "float32.tflite").predict(x), reference, atol=1e-5)
    serve = tf.saved_model.load(str(output / "serving" / "fashion_mnist_cnn" / "1")).signatures["serving_default"]
    np.testing.assert_allclose(serve(images=tf.constant(x))["output_0"].numpy(), reference, atol=1e-5)
    for name in ("dynamic_int8", "int8", "pruned_dynamic_int8"):
        predictions = LiteRTModel(output / "litert" / f"{name}.tflite").predict(x)
        assert predictions.shape == reference.shape and np.allclose(predictions.sum(-1), 1, atol=0.02), name
    for name in ("int8", "int4"):
        reloaded = keras.saving.load_model(output / "keras" / f"{name}.keras")
        agree = np.mean(reloaded.predict(x, verbose=0).argmax(-1) == reference.argmax(-1))
        assert agree >= 0.9, name


def test_a_text_run_compresses_its_classifier_and_serves_strings(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {"business": 30, "sport": 30, "tech": 30})
    run, output = tmp_path / "run", tmp_path / "out"
    argv = ["--data-dir", str(corpus), "--output-dir", str(run), "--quick", *TINY_MODEL]
    assert runner(text_classification.main)(argv) == 0
    formats = ["keras_int8", "distilled", "saved_model", "litert_float32", "litert_int8"]
    assert exit_status(["--model-dir", str(run), "--output-dir", str(output), "--quick", "--repeats", "3",
                        "--formats", *formats]) == 0  # fmt: skip
    _, rows = rows_by_name(output)
    assert list(rows) == [
        "Keras float32", "Keras int8", "student, distilled", "student, labels only", "LiteRT float32", "LiteRT int8"
    ]  # fmt: skip
    assert rows["LiteRT float32"]["agreement"] == 1.0
    vocabulary = (output / "litert" / "vocabulary.txt").read_text().splitlines()
    assert vocabulary[1] == "[UNK]" and len(vocabulary) <= 200
    loaded = tf.saved_model.load(str(output / "serving" / "text_classification" / "1"))  # keep: it owns the tables
    serve = loaded.signatures["serving_default"]
    (input_name,) = serve.structured_input_signature[1]
    probabilities = serve(**{input_name: tf.constant(["The striker scored a goal in the cup match."])})["output_0"]
    assert probabilities.shape == (1, 3)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--formats", "onnx"], "--formats: invalid choice: 'onnx'"),
        (["--sparsity", "1.5"], "--sparsity"),
        (["--temperature", "0"], "--temperature"),
    ],
)
def test_bad_flags(flags, message, cnn_run, tmp_path, capsys):
    _, run = cnn_run
    output = tmp_path / "out"
    assert exit_status(["--model-dir", str(run), "--output-dir", str(output), *flags]) == 2
    assert_one_line_error(capsys, message, nothing_at=output)


def test_a_folder_that_is_not_a_run_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    output = tmp_path / "out"
    assert exit_status(["--model-dir", str(tmp_path / "empty"), "--output-dir", str(output)]) == 2
    line = assert_one_line_error(capsys, f"--model-dir {tmp_path / 'empty'}", "holds no saved run", nothing_at=output)
    # It says what would be accepted: a run of any classifier recipe, not one recipe's.
    assert "expected the output folder of a finished classifier (mnist_mlp, fashion_mnist_cnn" in line


def test_a_regression_run_is_refused(tmp_path, capsys):
    run = tmp_path / "regression"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps({"recipe": "linear_regression", "dataset": "windsor"}))
    (run / "model.keras").write_bytes(b"")
    output = tmp_path / "out"
    assert exit_status(["--model-dir", str(run), "--output-dir", str(output)]) == 2
    line = assert_one_line_error(capsys, "is a regression run", "fashion_mnist_cnn", nothing_at=output)
    assert "`" not in line  # the flag is named, not the library's argument


def test_a_teacher_too_small_for_a_quarter_sized_student(mnist_folder, tmp_path, capsys):
    run, output = tmp_path / "run", tmp_path / "out"
    small = ["--quick", "--filters", "8", "16", "--dense-units", "16", "--batch-size", "64"]
    assert runner(fashion_mnist_cnn.main)(["--data-dir", str(mnist_folder), "--output-dir", str(run), *small]) == 0
    assert exit_status(["--model-dir", str(run), "--output-dir", str(output), "--quick"]) == 2
    assert_one_line_error(capsys, "--formats distilled", "at most a quarter", nothing_at=output)


def test_as_a_program_a_missing_run_gives_no_traceback(tmp_path):
    finished = python_process("-m", "recipes.compress", "--model-dir", tmp_path / "nothing",
                              "--output-dir", tmp_path / "out")  # fmt: skip
    assert "--model-dir" in program_error(finished) and not (tmp_path / "out").exists()


def test_the_deployment_guide_runs_on_a_compressed_run(compressed, tmp_path, monkeypatch, capsys):
    """docs/guides/deployment.md's Python blocks, in order: the REST request, through the SavedModel, and LiteRT."""
    folder, _, output = compressed
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "compress").symlink_to(output)
    (tmp_path / "fashion-mnist").symlink_to(folder)
    monkeypatch.chdir(tmp_path)
    guide = (ROOT / "docs" / "guides" / "deployment.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", guide, flags=re.M | re.S)
    assert len(blocks) == 3
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "deployment.md", "exec"), namespace)
    request = json.loads((tmp_path / "request.json").read_text())
    image = np.asarray(request["instances"], np.float32)
    assert image.shape == (1, 28, 28, 1) and image.max() > 1  # raw 0-255 pixels
    expected = keras.saving.load_model(output / "keras" / "float32.keras").predict(image, verbose=0)
    np.testing.assert_allclose(namespace["response"]["predictions"], expected, atol=1e-5)
    assert np.argmax(namespace["probabilities"], axis=1).tolist() == expected.argmax(axis=1).tolist()
    printed = capsys.readouterr().out.split()
    assert printed[-2:] == [str([int(expected.argmax())])] * 2  # what both print() calls show
