"""An interrupted run resumes from its last finished epoch; --restart starts over."""

import json

import keras
import pytest

import mlrecipes.run
from mlrecipes.cli import run_recipe
from recipes import mnist_mlp


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
        mlrecipes.run, "standard_callbacks", lambda *a, **k: original(*a, **k) + [InterruptAfterEpoch(epoch)]
    )
    return original


@pytest.fixture
def argv(mnist_folder, tmp_path):
    return ["--data-dir", str(mnist_folder), "--output-dir", str(tmp_path / "run"), "--epochs", "4", "--batch-size", "64"]


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
    assert run(argv + ["--restart"]) == 0
    assert "resuming" not in capsys.readouterr().out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["resumed_from_epoch"] == 0 and len(metrics["history"]["loss"]) == 4


def test_deterministic_runs_give_the_same_weights(argv, tmp_path):
    weights = []
    for name in ("a", "b"):
        output = tmp_path / name
        flags = argv[:-6] + ["--output-dir", str(output), "--epochs", "2", "--batch-size", "64", "--deterministic"]
        assert run(flags) == 0
        weights.append(keras.saving.load_model(output / "model.keras").get_weights())
    for first, second in zip(*weights):
        assert (first == second).all()
