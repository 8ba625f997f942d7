"""recipes.cifar10_resnet end to end (on a small written folder and on mock tfds data), and bad input."""

import keras
import numpy as np
import pytest
import tensorflow_datasets as tfds

from mlrecipes.data.cifar10 import read_python_folder
from mlrecipes.testing import write_python_folder
from recipes import cifar10_resnet

from recipe_harness import (
    assert_finished_run,
    assert_one_line_error,
    program_error,
    python_process,
    read_metrics,
    runner,
)

# A ResNet-9 sixteen times narrower than the default and small batches: seconds on a CPU.
SMALL = ["--quick", "--width", "0.125", "--batch-size", "32"]


exit_status = runner(cifar10_resnet.main)


def learnable_images(count, seed):
    """Class k has a bright band at rows 3k..3k+2 in one colour channel."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=count)
    images = rng.integers(0, 80, size=(count, 32, 32, 3)).astype(np.uint8)
    for index, label in enumerate(labels):
        images[index, 3 * label : 3 * label + 3, :, label % 3] = 250
    return images, labels


@pytest.fixture
def cifar_folder(tmp_path):
    train_images, train_labels = learnable_images(300, seed=1)
    test_images, test_labels = learnable_images(100, seed=2)
    return write_python_folder(tmp_path / "cifar-10-batches-py", train_images, train_labels, test_images, test_labels)


def test_quick_run_writes_every_output_and_a_model_that_takes_raw_pixels(cifar_folder, tmp_path, capsys):
    output = tmp_path / "run"
    assert exit_status(["--data-dir", str(cifar_folder), "--output-dir", str(output), *SMALL]) == 0
    metrics = assert_finished_run(output, "predictions.png", "confusion_matrix.png")
    assert metrics["recipe"] == "cifar10_resnet" and metrics["dataset"] == "cifar10"
    assert metrics["epochs"] == 1 and metrics["batch_size"] == 32 and metrics["width"] == 0.125
    assert metrics["data_source"] == str(cifar_folder)
    assert metrics["config"]["label_smoothing"] == 0.2 and metrics["config"]["cutout"] == 8
    assert set(metrics["per_class"]) == {
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    }
    assert sum(value["support"] for value in metrics["per_class"].values()) == 100  # the whole test split
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(metrics["history"])
    assert "test accuracy" in capsys.readouterr().out
    # The saved model takes raw uint8 pixels and reproduces the reported figures.
    model = keras.saving.load_model(output / "model.keras")
    assert model.name == "cifar10_resnet9"
    arrays = read_python_folder(cifar_folder)
    predicted = model.predict(arrays["test_images"], verbose=0).argmax(-1)
    accuracy = float(np.mean(predicted == arrays["test_labels"]))
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    assert np.array(metrics["confusion_matrix"]).trace() == int((predicted == arrays["test_labels"]).sum())


def test_learns_with_more_epochs(cifar_folder, tmp_path):
    """Augmentation, smoothing and the schedule still let a tiny network learn the toy classes."""
    output = tmp_path / "run"
    argv = [
        "--data-dir",
        str(cifar_folder),
        "--output-dir",
        str(output),
        "--width",
        "0.125",
        "--batch-size",
        "32",
        "--epochs",
        "6",
        "--warmup-epochs",
        "1",
        "--learning-rate",
        "0.1",
        "--validation-size",
        "0",
    ]
    assert exit_status(argv) == 0
    metrics = read_metrics(output)
    assert "val_loss" not in metrics["history"]  # --validation-size 0: no validation split
    assert metrics["history"]["loss"][-1] < metrics["history"]["loss"][0]
    assert metrics["test_accuracy"] > 0.5  # chance is 0.1


def test_tensorflow_datasets_path(tmp_path, network):
    output = tmp_path / "run"
    with tfds.testing.mock_data(num_examples=64):
        assert exit_status(["--output-dir", str(output), *SMALL]) == 0
    metrics = read_metrics(output)
    assert metrics["data_source"] == "tensorflow-datasets"


def test_mixed_precision_switches_the_policy(cifar_folder, tmp_path):
    output = tmp_path / "run"
    try:
        argv = ["--data-dir", str(cifar_folder), "--output-dir", str(output), *SMALL, "--mixed-precision"]
        assert exit_status(argv) == 0
    finally:
        keras.mixed_precision.set_global_policy("float32")
    metrics = read_metrics(output)
    assert metrics["precision_policy"] == "mixed_bfloat16"  # no GPU here: bfloat16
    model = keras.saving.load_model(output / "model.keras")
    keras.mixed_precision.set_global_policy("float32")
    assert model.get_layer("stage1_conv").compute_dtype == "bfloat16"
    assert model.get_layer("probabilities").compute_dtype == "float32"


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--mixed-precision", "int8"], "invalid choice: 'int8'"),
        (["--width", "0"], "'0' must be a positive number"),
        (["--label-smoothing", "1"], "must be at least 0 and below 1"),
        (["--cutout", "-1"], "'-1' must be 0 or more"),
        (["--validation-size", "x"], "'x' is not a whole number"),
        (["--data-dir", "/no/such/folder"], "no such folder"),
    ],
)
def test_bad_flags(flags, message, tmp_path, capsys):
    output = tmp_path / "run"
    assert exit_status(["--output-dir", str(output), *flags]) == 2
    assert_one_line_error(capsys, message, nothing_at=output)


@pytest.mark.parametrize("damage", ["incomplete", "truncated", "html"])
def test_bad_data_folders(damage, cifar_folder, tmp_path, capsys):
    output = tmp_path / "run"
    if damage == "incomplete":
        (cifar_folder / "data_batch_4").unlink()
    elif damage == "truncated":
        path = cifar_folder / "test_batch"
        path.write_bytes(path.read_bytes()[:1000])
    else:
        (cifar_folder / "batches.meta").write_bytes(b"<html>404 Not Found</html>")
    assert exit_status(["--data-dir", str(cifar_folder), "--output-dir", str(output), *SMALL]) == 2
    assert_one_line_error(capsys, str(cifar_folder), nothing_at=output)


def test_offline_without_data_is_one_clear_line(tmp_path, capsys):
    output = tmp_path / "run"
    assert exit_status(["--output-dir", str(output)]) == 2
    assert_one_line_error(capsys, "--data-dir", "cifar-10-python.tar.gz", nothing_at=output)


def test_as_a_program_bad_input_gives_no_traceback(cifar_folder, tmp_path):
    (cifar_folder / "data_batch_1").write_bytes(b"garbage")
    finished = python_process(
        "-m", "recipes.cifar10_resnet", "--data-dir", cifar_folder, "--output-dir", tmp_path / "run"
    )
    assert program_error(finished).startswith(
        f"cifar10_resnet: error: {cifar_folder / 'data_batch_1'}: not a CIFAR-10 python batch"
    )
    assert not (tmp_path / "run").exists()
