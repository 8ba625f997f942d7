"""An interrupted run resumes from its last finished epoch; --restart starts over."""

import signal

import keras
import pytest

import mlrecipes.run
from recipes import mnist_mlp

from recipe_harness import ROOT, mnist_mlp_killed_mid_epoch, python_process, read_metrics, runner


class InterruptAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise KeyboardInterrupt  # what Ctrl-C does mid-run


run = runner(mnist_mlp.main)


def interrupt_at(monkeypatch, epoch):
    original = mlrecipes.run.standard_callbacks
    monkeypatch.setattr(
        mlrecipes.run, "standard_callbacks", lambda *a, **k: [*original(*a, **k), InterruptAfterEpoch(epoch)]
    )
    return original


@pytest.fixture
def argv(mnist_folder, tmp_path):
    return [
        "--data-dir",
        str(mnist_folder),
        "--output-dir",
        str(tmp_path / "run"),
        "--epochs",
        "4",
        "--batch-size",
        "64",
    ]


def test_an_interrupted_run_resumes_where_it_stopped(monkeypatch, argv, tmp_path, capsys):
    original = interrupt_at(monkeypatch, 2)
    assert run(argv) == 130
    assert not (tmp_path / "run" / "metrics.json").exists()  # nothing final written
    assert (tmp_path / "run" / "backup").is_dir()
    monkeypatch.setattr(mlrecipes.run, "standard_callbacks", original)
    capsys.readouterr()
    assert run(argv) == 0
    assert "resuming an interrupted run after epoch 2 of 4" in capsys.readouterr().out
    metrics = read_metrics(tmp_path / "run")
    assert metrics["resumed_from_epoch"] == 2
    assert metrics["epochs"] == 4  # the history covers the whole run
    assert len(metrics["history"]["loss"]) == 4
    assert not (tmp_path / "run" / "backup").exists()


def test_restart_ignores_the_backup(monkeypatch, argv, tmp_path, capsys):
    original = interrupt_at(monkeypatch, 1)
    assert run(argv) == 130
    monkeypatch.setattr(mlrecipes.run, "standard_callbacks", original)
    capsys.readouterr()
    assert run([*argv, "--restart"]) == 0
    assert "resuming" not in capsys.readouterr().out
    metrics = read_metrics(tmp_path / "run")
    assert metrics["resumed_from_epoch"] == 0 and len(metrics["history"]["loss"]) == 4


def test_deterministic_runs_give_the_same_weights(argv, tmp_path):
    weights = []
    for name in ("a", "b"):
        output = tmp_path / name
        flags = [*argv[:-6], "--output-dir", str(output), "--epochs", "2", "--batch-size", "64", "--deterministic"]
        assert run(flags) == 0
        weights.append(keras.saving.load_model(output / "model.keras").get_weights())
    for first, second in zip(*weights):
        assert (first == second).all()


def recipe_process(args, *, script=None):
    """mnist_mlp as its own program, or ``script`` (Python source) run with the same flags."""
    program = ["-c", script] if script else ["-m", "recipes.mnist_mlp"]
    return python_process(*program, *args, timeout=300, cwd=ROOT)


def test_a_killed_run_resumes_to_the_weights_of_an_uninterrupted_one(mnist_folder, tmp_path):
    flags = ["--data-dir", str(mnist_folder), "--epochs", "4", "--batch-size", "64", "--deterministic"]
    # Killed in the middle of its third epoch, after the backup of the second, as when a machine dies.
    killed = recipe_process([*flags, "--output-dir", str(tmp_path / "killed")], script=mnist_mlp_killed_mid_epoch())
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not (tmp_path / "killed" / "metrics.json").exists()

    resumed = recipe_process([*flags, "--output-dir", str(tmp_path / "killed")])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming an interrupted run after epoch 2 of 4" in resumed.stdout
    assert "Epoch 1/4" not in resumed.stdout and "Epoch 3/4" in resumed.stdout  # finished epochs not redone

    uninterrupted = recipe_process([*flags, "--output-dir", str(tmp_path / "whole")])
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-2000:]
    metrics = {name: read_metrics(tmp_path / name) for name in ("killed", "whole")}
    assert metrics["killed"]["resumed_from_epoch"] == 2 and metrics["whole"]["resumed_from_epoch"] == 0
    assert metrics["killed"]["history"]["loss"] == pytest.approx(metrics["whole"]["history"]["loss"], rel=1e-6)
    assert metrics["killed"]["weights_sha256"] == metrics["whole"]["weights_sha256"]
