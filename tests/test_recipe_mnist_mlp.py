"""recipes.mnist_mlp end to end: outputs, the saved model, bad input."""

import keras
import numpy as np
import pytest
import tensorflow_datasets as tfds

from mlrecipes.data.idx import read_idx
from recipes import mnist_mlp

from conftest import FASHION_MNIST
from recipe_harness import (
    assert_finished_run,
    assert_one_line_error,
    program_error,
    python_process,
    read_metrics,
    runner,
)

METRIC_KEYS = {
    "test_accuracy",
    "test_loss",
    "train_seconds",
    "examples_per_second",
    "epochs",
    "batch_size",
    "strategy",
    "replicas",
    "dataset",
    "config",
    "versions",
}


exit_status = runner(mnist_mlp.main)


def test_quick_run_writes_every_output(mnist_folder, tmp_path, capsys):
    output = tmp_path / "run"
    argv = ["--data-dir", str(mnist_folder), "--output-dir", str(output), "--quick", "--batch-size", "32"]
    assert exit_status(argv) == 0
    metrics = assert_finished_run(output, "predictions.png", "confusion_matrix.png")
    assert set(metrics) >= METRIC_KEYS
    assert metrics["epochs"] == 1 and metrics["batch_size"] == 32 and metrics["dataset"] == "mnist"
    # --quick: one epoch of the 540 training images left after validation, at batch 32.
    assert metrics["steps_per_epoch"] == 17 and metrics["optimizer_steps"] == 17
    assert metrics["best_epoch"] == 1 and metrics["best_epoch_monitor"] == "val_accuracy"
    assert metrics["strategy"] == "DefaultStrategy" and metrics["replicas"] == 1
    assert metrics["config"]["quick"] is True
    assert set(metrics["versions"]) >= {"python", "tensorflow", "keras"}
    assert 0.3 < metrics["test_accuracy"] <= 1.0  # learnable fake data: well above chance (0.1)
    assert sum(metrics["per_class"][name]["support"] for name in metrics["per_class"]) == 200
    out = capsys.readouterr().out
    assert "test accuracy" in out and str(output) in out


def test_without_epochs_the_budget_sets_them_from_the_data_size(mnist_folder, tmp_path):
    output = tmp_path / "run"
    argv = ["--data-dir", str(mnist_folder), "--output-dir", str(output), "--batch-size", "256"]
    assert exit_status(argv) == 0
    metrics = read_metrics(output)
    # 540 training images at batch 256 are 3 steps per epoch; 756 steps would take 252 epochs: capped at 20.
    assert metrics["config"]["epochs"] is None
    assert metrics["epochs"] == metrics["epochs_planned"] == mnist_mlp.BUDGET.max_epochs == 20
    assert metrics["optimizer_steps"] == 60 and metrics["steps_per_epoch"] == 3
    assert len(metrics["history"]["val_accuracy"]) == 20
    # The model handed back is the best validation epoch's (ties go to the later epoch).
    best = max(metrics["history"]["val_accuracy"])
    assert metrics["history"]["val_accuracy"][metrics["best_epoch"] - 1] == best
    assert best not in metrics["history"]["val_accuracy"][metrics["best_epoch"] :]


def test_saved_model_takes_raw_pixels(mnist_folder, tmp_path):
    output = tmp_path / "run"
    argv = ["--data-dir", str(mnist_folder), "--output-dir", str(output), "--quick", "--batch-size", "32"]
    assert exit_status(argv) == 0
    model = keras.saving.load_model(output / "model.keras")
    images = read_idx(mnist_folder / "t10k-images-idx3-ubyte.gz")[..., None]
    labels = read_idx(mnist_folder / "t10k-labels-idx1-ubyte.gz")
    accuracy = float(np.mean(model.predict(images, verbose=0).argmax(-1) == labels))
    metrics = read_metrics(output)
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-6)


def test_tensorflow_datasets_path(tmp_path, network):
    output = tmp_path / "run"
    with tfds.testing.mock_data(num_examples=64):
        assert exit_status(["--output-dir", str(output), "--quick", "--dataset", "fashion_mnist"]) == 0
    metrics = read_metrics(output)
    assert metrics["dataset"] == "fashion_mnist" and metrics["data_source"] == "tensorflow-datasets"


def test_offline_without_data_is_one_clear_line(tmp_path, capsys):
    output = tmp_path / "run"
    assert exit_status(["--output-dir", str(output)]) == 2
    assert_one_line_error(capsys, "--data-dir", nothing_at=output)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--strategy", "horovod"], "invalid choice: 'horovod'"),
        (["--batch-size", "0"], "'0' must be a positive whole number"),
        (["--epochs", "-3"], "'-3' must be a positive whole number"),
        (["--epochs", "ten"], "'ten' is not a whole number"),
        (["--dropout", "1.5"], "must be at least 0 and below 1"),
        (["--mixed-precision", "int8"], "invalid choice: 'int8'"),
        (["--dataset", "cifar10"], "invalid choice: 'cifar10'"),
        (["--data-dir", "/no/such/folder"], "no such folder"),
    ],
)
def test_bad_flags(flags, message, tmp_path, capsys):
    output = tmp_path / "run"
    assert exit_status(["--output-dir", str(output), *flags]) == 2
    assert_one_line_error(capsys, message, nothing_at=output)


@pytest.mark.parametrize("damage", ["empty", "truncated", "wrong"])
def test_bad_data_folders(damage, mnist_folder, tmp_path, capsys):
    output = tmp_path / "run"
    if damage == "empty":
        for path in mnist_folder.iterdir():
            path.unlink()
    elif damage == "truncated":
        path = mnist_folder / "train-images-idx3-ubyte.gz"
        path.write_bytes(path.read_bytes()[:1000])
    else:
        (mnist_folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"<html>404 Not Found</html>")
    assert exit_status(["--data-dir", str(mnist_folder), "--output-dir", str(output), "--quick"]) == 2
    assert_one_line_error(capsys, str(mnist_folder), nothing_at=output)


def test_help_explains_every_shared_flag(capsys):
    assert exit_status(["--help"]) == 0
    text = capsys.readouterr().out
    for flag in [
        "--epochs",
        "--batch-size",
        "--learning-rate",
        "--seed",
        "--strategy",
        "--mixed-precision",
        "--output-dir",
        "--data-dir",
        "--quick",
        "--dataset",
        "--hidden-units",
        "--dropout",
    ]:
        assert flag in text


def test_as_a_program_bad_input_gives_no_traceback(tmp_path):
    finished = python_process(
        "-m", "recipes.mnist_mlp", "--data-dir", tmp_path / "missing", "--output-dir", tmp_path / "run"
    )
    assert program_error(finished) == f"mnist_mlp: error: --data-dir {tmp_path / 'missing'}: no such folder"
    assert not (tmp_path / "run").exists()


def test_as_a_program_a_finished_run_ends_at_once_with_every_output_complete(mnist_folder, tmp_path):
    # As a program the recipe skips Python's teardown of TensorFlow at the end (os._exit): nothing
    # buffered may be lost by that, neither the last lines of output nor the logs.
    output = tmp_path / "run"
    finished = python_process(
        "-m",
        "recipes.mnist_mlp",
        "--epochs",
        "3",
        "--hidden-units",
        "8",
        "--data-dir",
        mnist_folder,
        "--output-dir",
        output,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert finished.stdout.rstrip().splitlines()[-1].startswith(f"mnist_mlp: outputs in {output}")
    metrics = assert_finished_run(output, "confusion_matrix.png", "predictions.png", "learning_curves.png")
    assert metrics["epochs"] == 3
    assert len((output / "history.csv").read_text().strip().splitlines()) == 1 + 3
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for split in ("train", "validation"):
        events = EventAccumulator(str(output / "logs" / split), size_guidance={"tensors": 0})
        events.Reload()
        assert len(events.Tensors("epoch_loss")) == 3, split


@pytest.mark.slow
@pytest.mark.skipif(not FASHION_MNIST.is_dir(), reason="needs Debian's dataset-fashion-mnist")
def test_default_settings_on_real_fashion_mnist(tmp_path):
    output = tmp_path / "run"
    argv = ["--dataset", "fashion_mnist", "--data-dir", str(FASHION_MNIST), "--output-dir", str(output)]
    assert exit_status(argv) == 0
    metrics = read_metrics(output)
    # The tutorial network (784-64-64-10, Adam, 10 epochs) reaches about 0.88 here.
    assert metrics["test_accuracy"] >= 0.885
    # The budget of 756 optimizer steps is 7 epochs of 55,000 images at batch 512.
    assert metrics["epochs"] == 7 and metrics["optimizer_steps"] == 756


@pytest.mark.parametrize(
    "parse, text, ok",
    [
        ("positive_int", "3", 3),
        ("positive_int", "0", None),
        ("non_negative_int", "0", 0),
        ("non_negative_int", "-1", None),
        ("positive_float", "1e-3", 1e-3),
        ("positive_float", "nan", None),
        ("positive_float", "inf", None),
        ("fraction", "0.5", 0.5),
        ("fraction", "1", None),
        ("fraction", "x", None),
    ],
)
def test_argument_types(parse, text, ok):
    import argparse

    from mlrecipes import cli

    if ok is None:
        with pytest.raises(argparse.ArgumentTypeError, match=repr(text)):
            getattr(cli, parse)(text)
    else:
        assert getattr(cli, parse)(text) == ok
