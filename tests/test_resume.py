"""An interrupted run resumes from its last finished epoch; --restart starts over."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import keras
import pytest

import mlrecipes.run
from mlrecipes.cli import run_recipe
from recipes import mnist_mlp

ROOT = Path(__file__).resolve().parents[1]


class InterruptAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise KeyboardInterrupt  # what Ctrl-C does mid-run


def run(argv):
    with pytest.raises(SystemExit) as exited:
        run_recipe(mnist_mlp.main, argv)
    return exited.value.code


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
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
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
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
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


# Runs the recipe and SIGKILLs itself in the middle of its third epoch, after the
# backup of the second: nothing gets a chance to clean up, as when a machine dies.
KILLED_MID_EPOCH = """
import os, signal, sys
import keras
import mlrecipes.run
from mlrecipes.cli import run_recipe
from recipes import mnist_mlp

class KillMidEpoch(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
    def on_train_batch_end(self, batch, logs=None):
        if self.current == 2 and batch == 2:
            os.kill(os.getpid(), signal.SIGKILL)

original = mlrecipes.run.standard_callbacks
mlrecipes.run.standard_callbacks = lambda *a, **k: original(*a, **k) + [KillMidEpoch()]
run_recipe(mnist_mlp.main, sys.argv[1:])
"""


def recipe_process(args, *, script=None):
    command = [sys.executable, "-c", script, *args] if script else [sys.executable, "-m", "recipes.mnist_mlp", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_a_killed_run_resumes_to_the_weights_of_an_uninterrupted_one(mnist_folder, tmp_path):
    flags = ["--data-dir", str(mnist_folder), "--epochs", "4", "--batch-size", "64", "--deterministic"]
    killed = recipe_process([*flags, "--output-dir", str(tmp_path / "killed")], script=KILLED_MID_EPOCH)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not (tmp_path / "killed" / "metrics.json").exists()

    resumed = recipe_process([*flags, "--output-dir", str(tmp_path / "killed")])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming an interrupted run after epoch 2 of 4" in resumed.stdout
    assert "Epoch 1/4" not in resumed.stdout and "Epoch 3/4" in resumed.stdout  # finished epochs not redone

    uninterrupted = recipe_process([*flags, "--output-dir", str(tmp_path / "whole")])
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-2000:]
    metrics = {name: json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("killed", "whole")}
    assert metrics["killed"]["resumed_from_epoch"] == 2 and metrics["whole"]["resumed_from_epoch"] == 0
    assert metrics["killed"]["history"]["loss"] == pytest.approx(metrics["whole"]["history"]["loss"], rel=1e-6)
    assert metrics["killed"]["weights_sha256"] == metrics["whole"]["weights_sha256"]
