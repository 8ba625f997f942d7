"""recipes.fashion_mnist_cnn end to end: outputs, the saved model, mixed precision, bad input."""

import keras
import numpy as np
import pytest
import tensorflow_datasets as tfds

from mlrecipes.data import load_mnist
from mlrecipes.data.idx import read_idx
from recipes import fashion_mnist_cnn

from recipe_harness import (
    assert_finished_run,
    assert_one_line_error,
    program_error,
    python_process,
    read_metrics,
    runner,
)

# Narrow blocks and small batches: a few seconds on a CPU.
SMALL = ["--quick", "--filters", "8", "16", "--dense-units", "16", "--batch-size", "32"]


exit_status = runner(fashion_mnist_cnn.main)


def test_quick_run_writes_every_output(mnist_folder, tmp_path, capsys):
    output = tmp_path / "run"
    assert exit_status(["--data-dir", str(mnist_folder), "--output-dir", str(output), *SMALL]) == 0
    metrics = assert_finished_run(output, "predictions.png", "confusion_matrix.png")
    assert metrics["recipe"] == "fashion_mnist_cnn" and metrics["dataset"] == "fashion_mnist"
    assert metrics["epochs"] == 1 and metrics["batch_size"] == 32 and metrics["data_source"] == str(mnist_folder)
    assert metrics["config"]["filters"] == [8, 16] and metrics["config"]["dense_units"] == [16]
    assert list(metrics["per_class"])[:2] == ["T-shirt/top", "Trouser"]
    assert sum(value["support"] for value in metrics["per_class"].values()) == 200  # the whole test split
    assert 0.0 <= metrics["test_accuracy"] <= 1.0  # 17 steps: too few to mean anything (see the next tests)
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(metrics["history"])
    out = capsys.readouterr().out
    assert "test accuracy" in out and str(output) in out


def test_two_convolutions_per_block_put_the_second_after_the_pooling(mnist_folder, tmp_path):
    output = tmp_path / "run"
    argv = ["--data-dir", str(mnist_folder), "--output-dir", str(output), *SMALL, "--convs-per-block", "2"]
    assert exit_status(argv) == 0
    model = keras.saving.load_model(output / "model.keras")
    assert model.get_layer("block1_conv2").output.shape[1:] == (14, 14, 8)  # after block 1's pooling
    assert model.get_layer("block2_conv2").output.shape[1:] == (7, 7, 16)
    assert read_metrics(output)["config"]["convs_per_block"] == 2


def test_the_default_network_is_the_documented_one_and_takes_raw_pixels(mnist_folder, tmp_path):
    """Defaults: conv 32 -> pool -> conv 64 -> pool ("same" padding) -> 3,136 features -> dense 128 -> 10 classes."""
    output = tmp_path / "run"
    assert (
        exit_status(["--data-dir", str(mnist_folder), "--output-dir", str(output), "--quick", "--batch-size", "64"])
        == 0
    )
    model = keras.saving.load_model(output / "model.keras")
    assert model.name == "fashion_mnist_cnn"
    assert model.get_layer("block1_pool").output.shape == (None, 14, 14, 32)
    assert model.get_layer("block2_pool").output.shape == (None, 7, 7, 64)
    assert model.get_layer("flatten").output.shape == (None, 3136)
    assert model.get_layer("dense_1").output.shape == (None, 128)
    assert model.count_params() == 422_314  # the figure the docstring gives
    assert model.get_layer("dropout").rate == fashion_mnist_cnn.build_parser().get_default("dropout")
    # The standardization uses the mean and spread of the training pixels, as the docstring states.
    data = load_mnist("fashion_mnist", data_dir=mnist_folder).quick()
    pixels = np.concatenate([image.ravel() for image, _ in data.train.as_numpy_iterator()]).astype(np.float64)
    assert float(np.ravel(model.get_layer("standardize").mean)[0]) == pytest.approx(pixels.mean(), rel=1e-5)
    assert float(np.ravel(model.get_layer("standardize").variance)[0]) == pytest.approx(pixels.var(), rel=1e-5)
    # The saved model takes raw uint8 pixels and reproduces the reported figures.
    images = read_idx(mnist_folder / "t10k-images-idx3-ubyte.gz")[..., None]
    labels = read_idx(mnist_folder / "t10k-labels-idx1-ubyte.gz")
    predicted = model.predict(images, verbose=0).argmax(-1)
    metrics = read_metrics(output)
    assert float(np.mean(predicted == labels)) == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert np.array(metrics["confusion_matrix"]).trace() == int((predicted == labels).sum())


def test_learns_the_toy_classes_with_a_few_epochs(mnist_folder, tmp_path):
    """Enough steps (136) for batch normalization's running averages to settle."""
    output = tmp_path / "run"
    argv = [
        "--data-dir",
        str(mnist_folder),
        "--output-dir",
        str(output),
        "--filters",
        "8",
        "16",
        "--dense-units",
        "16",
        "--batch-size",
        "16",
        "--epochs",
        "4",
    ]
    assert exit_status(argv) == 0
    metrics = read_metrics(output)
    assert metrics["history"]["loss"][-1] < metrics["history"]["loss"][0]
    assert metrics["test_accuracy"] > 0.8  # chance is 0.1


def test_tensorflow_datasets_path(tmp_path, network):
    output = tmp_path / "run"
    with tfds.testing.mock_data(num_examples=64):
        assert exit_status(["--output-dir", str(output), *SMALL]) == 0
    metrics = read_metrics(output)
    assert metrics["data_source"] == "tensorflow-datasets"


def test_mixed_precision_switches_the_policy(mnist_folder, tmp_path):
    output = tmp_path / "run"
    try:
        argv = ["--data-dir", str(mnist_folder), "--output-dir", str(output), *SMALL, "--mixed-precision", "bfloat16"]
        assert exit_status(argv) == 0
        metrics = read_metrics(output)
        assert metrics["precision_policy"] == "mixed_bfloat16"
        model = keras.saving.load_model(output / "model.keras")
        assert model.get_layer("block1_conv1").compute_dtype == "bfloat16"
        assert model.get_layer("block1_conv1").variable_dtype == "float32"
        assert model.get_layer("probabilities").compute_dtype == "float32"
        assert model(np.zeros((2, 28, 28, 1), np.uint8)).dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--mixed-precision", "int8"], "argument --mixed-precision: invalid choice: 'int8'"),
        (["--filters", "0"], "'0' must be a positive whole number"),
        (["--dense-units", "-4"], "'-4' must be a positive whole number"),
        (["--dropout", "1"], "must be at least 0 and below 1"),
        (["--warmup-epochs", "0"], "'0' must be a positive number"),
        (["--dataset", "mnist"], "unrecognized arguments: --dataset mnist"),
        (["--data-dir", "/no/such/folder"], "no such folder"),
    ],
)
def test_bad_flags(flags, message, tmp_path, capsys):
    output = tmp_path / "run"
    assert exit_status(["--output-dir", str(output), *flags]) == 2
    assert_one_line_error(capsys, message, nothing_at=output)


def test_too_many_blocks_for_28x28_images_is_one_line(mnist_folder, tmp_path, capsys):
    output = tmp_path / "run"
    argv = [
        "--data-dir",
        str(mnist_folder),
        "--output-dir",
        str(output),
        "--quick",
        "--filters",
        "8",
        "8",
        "8",
        "8",
        "8",
    ]
    assert exit_status(argv) == 2
    message = "--filters 8 8 8 8 8: 28x28 images are too small for 5 conv-and-pool blocks"
    assert_one_line_error(capsys, message, nothing_at=output)


@pytest.mark.parametrize("damage", ["missing", "truncated", "not idx"])
def test_bad_data_folders(damage, mnist_folder, tmp_path, capsys):
    output = tmp_path / "run"
    if damage == "missing":
        (mnist_folder / "train-labels-idx1-ubyte.gz").unlink()
    elif damage == "truncated":
        path = mnist_folder / "train-images-idx3-ubyte.gz"
        path.write_bytes(path.read_bytes()[:1000])
    else:
        (mnist_folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"<html>404 Not Found</html>")
    assert exit_status(["--data-dir", str(mnist_folder), "--output-dir", str(output), "--quick"]) == 2
    assert_one_line_error(capsys, str(mnist_folder), nothing_at=output)


def test_as_a_program_bad_input_gives_no_traceback(mnist_folder, tmp_path):
    (mnist_folder / "t10k-labels-idx1-ubyte.gz").unlink()
    finished = python_process(
        "-m", "recipes.fashion_mnist_cnn", "--data-dir", mnist_folder, "--output-dir", tmp_path / "run"
    )
    assert program_error(finished).startswith(
        f"fashion_mnist_cnn: error: --data-dir {mnist_folder}: missing t10k-labels-idx1-ubyte[.gz]"
    )
    assert not (tmp_path / "run").exists()
