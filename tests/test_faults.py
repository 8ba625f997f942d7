"""Faults and hostile input: each ends with one line, exit status 2 and nothing half-written; nothing hangs."""

import fcntl
import gzip
import os
import struct
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import mlrecipes.run
from mlrecipes.cli import run_recipe
from mlrecipes.data.idx import read_idx
from mlrecipes.data.text_folder import read_labelled_texts
from mlrecipes.errors import DataError
from mlrecipes.testing import write_idx
from recipes import linear_regression, mnist_mlp, text_classification, text_generation

ROOT = Path(__file__).resolve().parents[1]


def run(main, argv, capsys):
    """Run a recipe in this process: its exit status and the lines it wrote on standard error."""
    with pytest.raises(SystemExit) as exited:
        run_recipe(main, argv)
    return exited.value.code, capsys.readouterr().err.strip().splitlines()


def run_program(*argv, timeout=120):
    """Run a recipe as its own process (for flags that set up TensorFlow's devices once per process)."""
    return subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def one_line(lines, fragment):
    assert len(lines) == 1 and fragment in lines[0], lines
    return lines[0]


class FailingWrite(keras.callbacks.Callback):
    """What a full disk does to the backup written after an epoch."""

    def on_epoch_end(self, epoch, logs=None):
        raise OSError(28, "No space left on device")


def test_a_full_disk_ends_in_one_line_naming_the_folder_and_the_cause(monkeypatch, mnist_folder, tmp_path, capsys):
    original = mlrecipes.run.standard_callbacks
    monkeypatch.setattr(mlrecipes.run, "standard_callbacks", lambda *a, **k: [*original(*a, **k), FailingWrite()])
    output = tmp_path / "run"
    status, lines = run(mnist_mlp.main, ["--data-dir", str(mnist_folder), "--output-dir", str(output)], capsys)
    assert status == 2
    one_line(lines, f"--output-dir {output}: writing failed (No space left on device); make room and run")


def test_a_damaged_backup_is_reported_with_restart(mnist_folder, tmp_path, capsys):
    output = tmp_path / "run"
    backup = output / "backup"
    backup.mkdir(parents=True)
    (backup / "training_metadata.json").write_text('{"epoch": 1, "batch": -1}')
    (backup / "latest.state.npz").write_bytes(b"PK\x03\x04" + b"torn" * 10)  # a write cut short
    argv = ["--data-dir", str(mnist_folder), "--output-dir", str(output), "--epochs", "3"]
    status, lines = run(mnist_mlp.main, argv, capsys)
    assert status == 2
    one_line(lines, "the backup of the interrupted run is damaged (latest.state.npz")
    assert lines[0].endswith("add --restart to start again")
    assert sorted(path.name for path in output.iterdir()) == ["backup"]  # nothing more written


def test_a_backup_without_its_state_file_is_refused_not_resumed_from_fresh_weights(mnist_folder, tmp_path, capsys):
    output = tmp_path / "run"
    backup = output / "backup"
    backup.mkdir(parents=True)
    (backup / "training_metadata.json").write_text('{"epoch": 2, "batch": -1}')  # as an older version left it
    (backup / "latest.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    argv = ["--data-dir", str(mnist_folder), "--output-dir", str(output), "--epochs", "3"]
    status, lines = run(mnist_mlp.main, argv, capsys)
    assert status == 2
    one_line(lines, "the backup of the interrupted run has no latest.state.npz")
    assert lines[0].endswith("add --restart to start again")
    assert sorted(path.name for path in output.iterdir()) == ["backup"]


def test_a_torn_latest_backup_falls_back_on_the_previous_epoch(monkeypatch, mnist_folder, tmp_path, capsys):
    output = tmp_path / "run"
    argv = ["--data-dir", str(mnist_folder), "--output-dir", str(output), "--epochs", "4", "--batch-size", "64"]
    original = mlrecipes.run.standard_callbacks
    monkeypatch.setattr(mlrecipes.run, "standard_callbacks", lambda *a, **k: [*original(*a, **k), StopAfterEpoch()])
    assert run(mnist_mlp.main, argv, capsys)[0] == 130  # stopped after epoch 2: latest = 2, previous = 1
    monkeypatch.setattr(mlrecipes.run, "standard_callbacks", original)
    latest = output / "backup" / "latest.state.npz"
    latest.write_bytes(latest.read_bytes()[:200])  # the write of epoch 2 cut short
    with pytest.raises(SystemExit) as exited:
        run_recipe(mnist_mlp.main, argv)
    captured = capsys.readouterr()
    assert exited.value.code == 0, captured.err
    assert (
        "latest.state.npz is damaged" in captured.err and "resuming from the backup of the epoch before" in captured.err
    )
    assert "resuming an interrupted run after epoch 1 of 4" in captured.out


class StopAfterEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


def test_a_resume_with_other_model_flags_or_fewer_epochs_is_refused(monkeypatch, mnist_folder, tmp_path, capsys):
    output = tmp_path / "run"
    argv = ["--data-dir", str(mnist_folder), "--output-dir", str(output), "--epochs", "4", "--batch-size", "64"]
    original = mlrecipes.run.standard_callbacks
    monkeypatch.setattr(mlrecipes.run, "standard_callbacks", lambda *a, **k: [*original(*a, **k), StopAfterEpoch()])
    assert run(mnist_mlp.main, argv, capsys)[0] == 130
    monkeypatch.setattr(mlrecipes.run, "standard_callbacks", original)
    status, lines = run(mnist_mlp.main, [*argv, "--hidden-units", "64", "64"], capsys)
    assert status == 2
    one_line(lines, "--hidden-units: the interrupted run in")
    assert "used [256, 128], this command gives [64, 64]" in lines[0] and "--restart" in lines[0]
    status, lines = run(mnist_mlp.main, [*argv[:-4], "--epochs", "1", "--batch-size", "64"], capsys)
    assert status == 2
    one_line(lines, "--epochs 1: the interrupted run in")
    assert "already finished 2 epoch(s)" in lines[0]
    status, lines = run(mnist_mlp.main, argv, capsys)
    assert status == 0, lines  # the same flags still resume it


def test_a_second_live_run_on_the_same_folder_is_refused(mnist_folder, tmp_path, capsys):
    output = tmp_path / "run"
    output.mkdir()
    with open(output / ".lock", "w") as lock:  # what a live run holds
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        status, lines = run(mnist_mlp.main, ["--data-dir", str(mnist_folder), "--output-dir", str(output)], capsys)
    assert status == 2
    one_line(lines, "another run is writing there now")
    assert not (output / "metrics.json").exists()


def test_a_diverging_run_says_so_and_leaves_nothing(mnist_folder, tmp_path, capsys):
    output = tmp_path / "run"
    argv = ["--data-dir", str(mnist_folder), "--output-dir", str(output), "--learning-rate", "1e30"]
    status, lines = run(mnist_mlp.main, argv, capsys)
    assert status == 2
    one_line(lines, "training diverged: the loss became nan in epoch 1; lower --learning-rate")
    assert not output.exists()


def test_more_replicas_than_the_batch_and_impossible_device_counts_are_refused_up_front(mnist_folder, tmp_path):
    output = tmp_path / "run"
    common = ["recipes.mnist_mlp", "--data-dir", str(mnist_folder), "--output-dir", str(output), "--quick"]
    small = run_program(*common, "--strategy", "mirrored", "--devices", "cpu:4", "--batch-size", "2")
    assert small.returncode == 2 and "--batch-size 2: smaller than the 4 replicas" in small.stderr
    too_many = run_program(*common, "--strategy", "mirrored", "--devices", "cpu:999", timeout=60)
    assert too_many.returncode == 2
    assert "--devices cpu:999: more logical CPU devices than this machine can usefully make" in too_many.stderr
    assert "Traceback" not in small.stderr + too_many.stderr and not output.exists()


def test_an_unwritable_output_folder_is_refused_before_any_work(mnist_folder, tmp_path, capsys, monkeypatch):
    afile = tmp_path / "somefile"
    afile.write_text("x")
    argv = ["--data-dir", str(mnist_folder), "--output-dir", str(afile / "sub")]
    status, lines = run(mnist_mlp.main, argv, capsys)
    assert status == 2
    one_line(lines, f"--output-dir {afile / 'sub'}: {afile} is a file, not a folder")
    real_access = os.access  # as on a read-only file system: nothing under tmp_path is writable
    monkeypatch.setattr(os, "access", lambda path, mode: real_access(path, mode) and not mode & os.W_OK)
    status, lines = run(
        mnist_mlp.main, ["--data-dir", str(mnist_folder), "--output-dir", str(tmp_path / "new")], capsys
    )
    assert status == 2
    one_line(lines, f"--output-dir {tmp_path / 'new'}: cannot write in {tmp_path}")
    assert not (tmp_path / "new").exists()


def test_an_empty_test_split_is_refused_up_front(mnist_folder, tmp_path, capsys):
    write_idx(mnist_folder / "t10k-images-idx3-ubyte.gz", np.zeros((0, 28, 28), np.uint8))
    write_idx(mnist_folder / "t10k-labels-idx1-ubyte.gz", np.zeros((0,), np.uint8))
    output = tmp_path / "run"
    status, lines = run(mnist_mlp.main, ["--data-dir", str(mnist_folder), "--output-dir", str(output)], capsys)
    assert status == 2
    one_line(lines, "t10k-images-idx3-ubyte.gz: holds no images; the test split needs at least one")
    assert not output.exists()


def test_an_idx_header_whose_size_overflows_is_truncated_not_a_crash(tmp_path):
    path = tmp_path / "huge.idx"
    path.write_bytes(gzip.compress(bytes([0, 0, 0x08, 7]) + struct.pack(">7I", *[0xFFFFFFFF] * 7) + b"\x00" * 16))
    with pytest.raises(DataError, match=r"huge\.idx: truncated: the header promises \d+ bytes"):
        read_idx(path)


def test_a_seed_beyond_32_bits_is_refused(capsys):
    status, lines = run(mnist_mlp.main, ["--seed", "99999999999"], capsys)
    assert status == 2
    one_line(lines, "argument --seed: '99999999999' must be at most 4294967295 (2**32 - 1)")


def test_huge_csv_values_are_refused_naming_the_column_and_line(tmp_path, capsys):
    csv = tmp_path / "houses.csv"
    csv.write_text("area,price\n" + "".join(f"{10 + i},{1000 + i}\n" for i in range(8)) + "20,1e308\n")
    output = tmp_path / "run"
    argv = ["--csv", str(csv), "--target", "price", "--features", "area", "--output-dir", str(output)]
    status, lines = run(linear_regression.main, argv, capsys)
    assert status == 2
    one_line(lines, "houses.csv line 10: column 'price' holds 1e308, beyond the float32 range")
    assert not output.exists()


def test_a_named_pipe_among_the_texts_is_skipped_not_read(tmp_path, capsys):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for index in range(3):
            (tmp_path / name / f"{index}.txt").write_text(f"text {index} of {name}")
    os.mkfifo(tmp_path / "a" / "x.txt")  # reading it would block for ever
    texts = read_labelled_texts(tmp_path)
    assert len(texts.texts) == 6 and [item.reason for item in texts.skipped] == ["not a regular file"]
    with pytest.raises(DataError, match=r"x\.txt: not a regular file file"):
        read_labelled_texts(tmp_path, on_bad_file="error")


def test_a_model_with_code_in_it_is_refused_in_one_line(tmp_path, capsys):
    inputs = keras.Input((4,), dtype="int32")
    keras.Model(inputs, keras.layers.Lambda(lambda x: x)(inputs)).save(tmp_path / "model.keras")
    (tmp_path / "metrics.json").write_text('{"recipe": "text_generation"}')
    status, lines = run(text_generation.main, ["--generate", "hi", "--model-dir", str(tmp_path)], capsys)
    assert status == 2
    one_line(lines, f"--model-dir {tmp_path}: not a saved text_generation run (model.keras:")


def test_empty_input_is_refused_the_same_way_everywhere(tmp_path, capsys):
    status, lines = run(text_classification.main, ["--predict", " ", "--model-dir", str(tmp_path)], capsys)
    assert status == 2
    one_line(lines, "--predict ' ': the text is empty; give a text to classify")


def test_a_good_run_shows_its_own_lines_not_tensorflows(mnist_folder, tmp_path):
    finished = run_program(
        "recipes.mnist_mlp", "--data-dir", str(mnist_folder), "--output-dir", str(tmp_path / "run"), "--quick"
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert finished.stderr.strip() == "", finished.stderr  # no oneDNN, cuInit or cpu_feature_guard lines
    assert "mnist_mlp: test accuracy" in finished.stdout
