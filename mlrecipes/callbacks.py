"""The standard Keras callbacks of every run, and where they write.

Layout of a run folder (``--output-dir``)::

    backup/                 BackupAndRestore state while training (removed at the end)
    checkpoints/best.keras  the model with the lowest validation loss so far
    logs/                   TensorBoard logs (tensorboard --logdir runs/)
    history.csv             one row of metrics per epoch
"""

from __future__ import annotations

import json
from pathlib import Path

import keras

BACKUP_DIR = "backup"
HISTORY_FILE = "history.csv"


def completed_epochs_in_backup(output_dir: str | Path) -> int:
    """How many epochs an interrupted run in ``output_dir`` had finished (0 if none)."""
    metadata = Path(output_dir) / BACKUP_DIR / "training_metadata.json"
    try:
        return int(json.loads(metadata.read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def standard_callbacks(
    output_dir: str | Path,
    *,
    resuming: bool,
    early_stopping_patience: int = 0,
    monitor: str = "val_loss",
    checkpoint: bool = True,
    tensorboard: bool = True,
) -> list[keras.callbacks.Callback]:
    """Build the callbacks every recipe trains with.

    Args:
        output_dir: The run folder.
        resuming: Whether this run continues an interrupted one (the history
            file is then appended to instead of replaced).
        early_stopping_patience: Stop after this many epochs without
            improvement of ``monitor`` and restore the best weights; 0 never
            stops early.
        monitor: The metric checkpointing and early stopping watch.
        checkpoint: Save the best model so far to ``checkpoints/best.keras``.
        tensorboard: Write TensorBoard logs to ``logs/``.

    Returns:
        The callbacks, ``BackupAndRestore`` first so that a resumed run
        restores its state before the others act.
    """
    output_dir = Path(output_dir)
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.BackupAndRestore(backup_dir=str(output_dir / BACKUP_DIR)),
        keras.callbacks.CSVLogger(str(output_dir / HISTORY_FILE), append=resuming),
    ]
    if checkpoint:
        (output_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                str(output_dir / "checkpoints" / "best.keras"), monitor=monitor, save_best_only=True
            )
        )
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(output_dir / "logs"), profile_batch=0))
    if early_stopping_patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=early_stopping_patience, restore_best_weights=True, verbose=1
            )
        )
    return callbacks
