"""One run of a recipe: set-up, training, evaluation and outputs.

A recipe keeps the lesson (its data pipeline and its model) and hands the
boilerplate to [`RecipeRun`][mlrecipes.run.RecipeRun]:

```python
run = RecipeRun.start(args, recipe="mnist_mlp")   # seed, strategy, precision
with run.strategy.scope():
    model = ...                                    # build and compile
run.fit(model, train_ds, validation_ds, train_examples=n)
run.evaluate(model, test_ds)
run.report_classifier(model, test_ds, class_names)
run.finish(model, dataset="mnist")                 # model.keras, metrics.json
```

Outputs are written atomically, only after training has succeeded; bad input
is rejected (as [`UsageError`][mlrecipes.errors.UsageError]) before anything is written.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from mlrecipes import plots
from mlrecipes.callbacks import (
    BACKUP_DIR,
    BACKUP_STATE_FILE,
    HISTORY_FILE,
    BestEpochCheckpoint,
    completed_epochs_in_backup,
    read_backup_state,
    standard_callbacks,
)
from mlrecipes.distribute import resolve_strategy, strategy_name
from mlrecipes.errors import ArgumentValueError, UsageError
from mlrecipes.evaluation import confusion_counts, per_class_scores, predict_labels
from mlrecipes.outputs import software_versions, write_json, write_with
from mlrecipes.precision import apply_policy

GRID_IMAGES = 24
RUN_CONFIG_FILE = "run_config.json"  # beside the backup: the flags that shape the model and the data
LOCK_FILE = ".lock"  # held while a run writes to its folder
# Flags that change how a run trains, not what it trains: a resumed run may change them.
RUN_CONTROL_FLAGS = frozenset(
    {"epochs", "output_dir", "restart", "strategy", "devices", "worker_timeout", "tpu", "xla", "deterministic",
     "early_stopping", "mixed_precision"}
)  # fmt: skip


def check_output_dir(path: Path) -> None:
    """Refuse an output folder that cannot be created and written, before any work and without writing.

    Raises:
        ArgumentValueError: (argument `output_dir`) When `path` or an ancestor
            is a file, or the nearest existing ancestor is read-only or not writable.
    """
    if path.exists() and not path.is_dir():
        raise ArgumentValueError("output_dir", path, "exists and is not a folder")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ArgumentValueError("output_dir", path, f"{existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        read_only = bool(os.statvfs(existing).f_flag & os.ST_RDONLY)
        cause = "a read-only file system" if read_only else "no permission to write there"
        raise ArgumentValueError("output_dir", path, f"cannot write in {existing} ({cause})")


def _weights_readable(path: Path) -> str | None:
    """Why a backup's state file cannot be read (a write torn by a full disk, say), or None if it can."""
    try:
        read_backup_state(path)
    except OSError as error:
        return " ".join(str(error.__cause__ or error).split())[:120]
    return None


def check_backup(backup: Path) -> None:
    """Make sure an interrupted run's backup can be resumed from, before resuming.

    [`TrainingBackup`][mlrecipes.callbacks.TrainingBackup] keeps the previous
    epoch's backup beside the latest one (it copies it to `*.bkp` before
    writing the new one). When the latest weights are damaged — a write cut
    short by a full disk — and the previous ones are sound, the previous backup
    takes their place, with a warning; the run then resumes one epoch earlier.

    Raises:
        UsageError: Naming the damaged file and `--restart` when no sound backup is left.
    """
    latest = backup / BACKUP_STATE_FILE
    if not latest.exists():  # the epoch is recorded, the state is not: resuming would start from fresh weights
        raise UsageError(
            f"--output-dir {backup.parent}: the backup of the interrupted run has no {latest.name} "
            "(left by another version of mlrecipes?); add --restart to start again"
        )
    problem = _weights_readable(latest)
    if problem is None:
        return
    previous = latest.with_name(latest.name + ".bkp")
    metadata = backup / "training_metadata.json"
    if previous.exists() and _weights_readable(previous) is None:
        shutil.copyfile(previous, latest)
        if metadata.with_name(metadata.name + ".bkp").exists():
            shutil.copyfile(metadata.with_name(metadata.name + ".bkp"), metadata)
        print(
            f"warning: {latest} is damaged ({problem}); resuming from the backup of the epoch before",
            file=sys.stderr,
            flush=True,
        )
        return
    raise UsageError(
        f"--output-dir {backup.parent}: the backup of the interrupted run is damaged ({latest.name}: {problem}); "
        "add --restart to start again"
    )


def weights_fingerprint(model: keras.Model) -> str:
    """A SHA-256 of all of a model's weights: equal on every worker of a synchronous run."""
    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()


def chief_and_index(strategy: tf.distribute.Strategy) -> tuple[bool, int]:
    """Whether this process is the chief of its cluster, and its worker index.

    Without a cluster (one machine) the process is the chief. In a
    `MultiWorkerMirroredStrategy` cluster the chief is the task of type
    `chief`, or worker 0 when the cluster names no chief.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if resolver is None or task_type is None:
        return True, 0
    task_id = int(resolver.task_id or 0)
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "chief" or (task_type == "worker" and task_id == 0 and not has_chief), task_id


def optimizer_steps(model: keras.Model, fallback: int | None = None) -> int | None:
    """The optimizer steps a model has taken (its optimizer's `iterations`), resumed runs included.

    Args:
        model: A compiled model.
        fallback: What to return when the model has no optimizer.

    Returns:
        The count of weight updates.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return fallback
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


def replayable_stream(train: tf.data.Dataset, completed_epochs: int = 0) -> tuple[tf.data.Dataset, int | None]:
    """Turn a finite training pipeline into one stream of epochs that a resumed run can replay.

    A seeded `shuffle(..., reshuffle_each_iteration=True)` gives each pass
    over the data a new order, but a new process starts again from the first
    order. Repeating the pipeline into one stream makes the order of pass *k*
    depend only on the seed and *k*; a run resumed after `completed_epochs`
    skips that many passes and sees exactly the batches an uninterrupted run
    would have seen.

    Args:
        train: A finite, batched training pipeline.
        completed_epochs: Passes already trained (by the run being resumed).

    Returns:
        The stream and the steps per epoch to give `fit`; a pipeline of
        unknown or infinite length is returned unchanged with `None`.
    """
    steps = int(train.cardinality())
    if steps <= 0:
        return train, None
    return train.repeat().skip(completed_epochs * steps), steps


class RecipeRun:
    """The shared machinery of one recipe run.

    Attributes:
        args: The parsed command line.
        recipe: The recipe's name, such as `"mnist_mlp"`.
        strategy: The `tf.distribute` strategy to build the model under.
        output_dir: Where this process writes: `--output-dir` on the chief, a
            temporary sub-folder on the other workers of a cluster.
        is_chief: Whether this process writes the run's outputs.
        precision_policy: The Keras dtype policy in force.
        metrics: Everything measured so far; written to `metrics.json`.
        history: Per-epoch metrics of the training, once [`fit`][mlrecipes.run.RecipeRun.fit] ran.
    """

    def __init__(self, args: argparse.Namespace, recipe: str, strategy: tf.distribute.Strategy, policy: str):
        self.args = args
        self.recipe = recipe
        self.strategy = strategy
        self.is_chief, worker = chief_and_index(strategy)
        # Only the chief writes the run's outputs; every other worker of a
        # multi-worker cluster writes (and saves, since saving takes part in
        # collective ops) into a folder of its own that finish() removes.
        self.output_dir = Path(args.output_dir) if self.is_chief else Path(args.output_dir) / f".worker-{worker}"
        self.precision_policy = policy
        self.metrics: dict[str, Any] = {}
        self.history: dict[str, list[float]] = {}
        self.figures: list[Path] = []

    @classmethod
    def start(cls, args: argparse.Namespace, recipe: str) -> RecipeRun:
        """Seed every random generator, pick the strategy and the precision policy.

        Args:
            args: The parsed command line of [`mlrecipes.cli.recipe_parser`][mlrecipes.cli.recipe_parser].
            recipe: The recipe's name.

        Raises:
            UsageError: When the output folder cannot be used or the asked-for
                hardware is absent.
        """
        check_output_dir(Path(args.output_dir))
        keras.utils.set_random_seed(args.seed)
        if getattr(args, "deterministic", False):
            tf.config.experimental.enable_op_determinism()
        strategy = resolve_strategy(
            args.strategy,
            tpu_name=getattr(args, "tpu", None),
            devices=getattr(args, "devices", None),
            worker_timeout=getattr(args, "worker_timeout", None),
        )
        on_gpu = "TPU" not in strategy_name(strategy) and bool(tf.config.get_visible_devices("GPU"))
        policy = apply_policy(args.mixed_precision, on_gpu=on_gpu)
        run = cls(args, recipe, strategy, policy)
        if args.batch_size < run.replicas:
            raise UsageError(
                f"--batch-size {args.batch_size}: smaller than the {run.replicas} replicas it is split among; "
                f"give at least {run.replicas} (one example per replica)"
            )
        print(
            f"{recipe}: {strategy_name(strategy)} with {run.replicas} replica(s), global batch "
            f"{args.batch_size} ({run.per_replica_batch_size} per replica), precision {policy}",
            flush=True,
        )
        return run

    @property
    def replicas(self) -> int:
        """Number of replicas the strategy trains on."""
        return int(self.strategy.num_replicas_in_sync)

    @property
    def per_replica_batch_size(self) -> int:
        """The global batch size divided among the replicas."""
        return max(1, self.args.batch_size // self.replicas)

    @property
    def jit_compile(self) -> bool | str:
        """The `jit_compile` argument for `model.compile` from `--xla`."""
        return {"on": True, "off": False}.get(self.args.xla, "auto")

    def fit(
        self,
        model: keras.Model,
        train: tf.data.Dataset,
        validation: tf.data.Dataset | None,
        *,
        train_examples: int,
        epochs: int,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        monitor: str = "val_loss",
    ) -> dict[str, list[float]]:
        """Train with the standard callbacks, resuming an interrupted run.

        The model ends with the weights of its best epoch by `monitor` (see
        [`mlrecipes.callbacks.BestEpochCheckpoint`][mlrecipes.callbacks.BestEpochCheckpoint]), which is usually the
        last. `metrics.json` records the epochs and optimizer steps taken, the best epoch and whether its weights were
        restored.

        Args:
            model: A compiled model, built under [`strategy`][mlrecipes.run.RecipeRun].
            train: The batched training pipeline.
            validation: The batched validation pipeline, or None.
            train_examples: Examples per epoch, for the throughput figure.
            epochs: Epochs to train: `--epochs`, or what the recipe's
                [`mlrecipes.budget.TrainingBudget`][mlrecipes.budget.TrainingBudget] gives for its data.
            callbacks: Extra callbacks, after the standard ones.
            monitor: Metric that judges the epochs, for the best checkpoint
                and early stopping (the training `loss` without validation data).

        Returns:
            The per-epoch history of every epoch of the run, resumed ones included.
        """
        backup = self.output_dir / BACKUP_DIR
        if getattr(self.args, "restart", False):
            shutil.rmtree(backup, ignore_errors=True)
        resumed_from = completed_epochs_in_backup(self.output_dir)
        if resumed_from:
            check_backup(backup)
            resumed_from = completed_epochs_in_backup(self.output_dir)  # one less after a fall-back
            self._check_resumable(backup, resumed_from, epochs)
            print(f"{self.recipe}: resuming an interrupted run after epoch {resumed_from} of {epochs}", flush=True)
        self._hold_output_dir()
        backup.mkdir(parents=True, exist_ok=True)
        write_json(backup / RUN_CONFIG_FILE, self._model_config())
        monitor = monitor if validation is not None else "loss"
        earlier = self._read_history().get(monitor, [])[:resumed_from] if resumed_from else []
        all_callbacks = standard_callbacks(
            self.output_dir,
            resuming=bool(resumed_from),
            early_stopping_patience=getattr(self.args, "early_stopping", 0),
            monitor=monitor,
            monitor_history=earlier,
        ) + list(callbacks)
        best = next((callback for callback in all_callbacks if isinstance(callback, BestEpochCheckpoint)), None)
        train, steps = replayable_stream(train, resumed_from)
        started = time.perf_counter()
        # A progress bar on a terminal; one line per epoch in logs and pipes.
        verbose = "auto" if sys.stdout.isatty() else 2
        try:
            result = model.fit(
                train,
                validation_data=validation,
                epochs=epochs,
                steps_per_epoch=steps,
                callbacks=all_callbacks,
                verbose=verbose,
                shuffle=False,  # the input pipeline shuffles
            )
        except KeyboardInterrupt:  # the backup stays, to resume from; the folder is free again
            self._release_output_dir()
            raise
        except OSError as error:  # a full disk, a folder removed under the run ...
            self._release_output_dir()
            raise UsageError(
                f"--output-dir {self.output_dir}: writing failed ({error.strerror or error}); "
                "make room and run the same command again to resume"
            ) from None
        seconds = time.perf_counter() - started
        losses = result.history.get("loss", [])
        if losses and not np.isfinite(losses[-1]):
            # Nothing to keep or resume: the weights are lost. Leave the folder as it was before the run.
            self._release_output_dir()
            shutil.rmtree(self.output_dir if self._created_output_dir else backup, ignore_errors=True)
            raise UsageError(
                f"training diverged: the loss became {losses[-1]} in epoch {resumed_from + len(losses)}; "
                "lower --learning-rate, or look for extreme values in the data"
            )
        epochs_here = len(result.epoch)
        self.history = self._read_history() or {name: list(values) for name, values in result.history.items()}
        epochs_run = len(next(iter(self.history.values()), [])) or epochs_here
        if best is not None and best.restored:
            print(
                f"{self.recipe}: kept the weights of epoch {best.best_epoch} ({monitor} {best.best:.4f}), "
                f"the best of the run; the last epoch, {best.last_epoch}, was worse",
                flush=True,
            )
        self.metrics.update(
            {
                "epochs": epochs_run,
                "epochs_planned": epochs,
                "steps_per_epoch": steps,
                "optimizer_steps": optimizer_steps(model, epochs_run * steps if steps else None),
                "best_epoch": best.best_epoch if best is not None else None,
                "best_epoch_monitor": monitor,
                "restored_best_epoch": bool(best is not None and best.restored),
                "resumed_from_epoch": resumed_from,
                "train_examples": train_examples,
                "train_seconds": round(seconds, 3),
                "examples_per_second": round(train_examples * epochs_here / seconds, 1) if seconds > 0 else None,
            }
        )
        return self.history

    def _model_config(self) -> dict[str, Any]:
        """The flags that shape the model and its data, as recorded beside the backup."""
        return {
            key: str(value) if isinstance(value, Path) else value
            for key, value in sorted(vars(self.args).items())
            if key not in RUN_CONTROL_FLAGS
        }

    def _check_resumable(self, backup: Path, completed: int, epochs: int) -> None:
        """Refuse a resume that cannot continue the interrupted run, in one line."""
        if completed >= epochs:
            raise UsageError(
                f"--epochs {epochs}: the interrupted run in {self.output_dir} already finished {completed} epoch(s); "
                "give more --epochs to train on, or add --restart to start again"
            )
        try:
            recorded = json.loads((backup / RUN_CONFIG_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = None
        if isinstance(recorded, dict):
            for key, now in self._model_config().items():
                if key in recorded and recorded[key] != now:
                    raise UsageError(
                        f"--{key.replace('_', '-')}: the interrupted run in {self.output_dir} used {recorded[key]!r}, "
                        f"this command gives {now!r}; give the same flags to resume it, or add --restart to start again"
                    )

    def _hold_output_dir(self) -> None:
        """Create the output folder and hold its lock file, so that no second live run writes there."""
        self._created_output_dir = not self.output_dir.exists()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.output_dir / LOCK_FILE, "w")  # noqa: SIM115 - held until finish()
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            self._lock = None
            raise UsageError(
                f"--output-dir {self.output_dir}: another run is writing there now; wait for it to end, "
                "or give another --output-dir"
            ) from None

    def _release_output_dir(self) -> None:
        if getattr(self, "_lock", None) is not None:
            (self.output_dir / LOCK_FILE).unlink(missing_ok=True)
            self._lock.close()
            self._lock = None

    def _read_history(self) -> dict[str, list[float]]:
        path = self.output_dir / HISTORY_FILE
        if not path.exists():
            return {}
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        columns = [name for name in (rows[0] if rows else {}) if name != "epoch"]
        # CSVLogger writes "NA" for a metric an epoch did not produce (say, no validation split).
        history = {
            name: [float(row[name]) for row in rows if row.get(name) not in (None, "", "NA")] for name in columns
        }
        return {name: values for name, values in history.items() if values}

    def evaluate(self, model: keras.Model, test: tf.data.Dataset) -> dict[str, float]:
        """Evaluate on the test split; record `test_<metric>` for every compiled metric."""
        results = model.evaluate(test, return_dict=True, verbose=0)
        test_metrics = {f"test_{name}": round(float(value), 6) for name, value in results.items()}
        self.metrics.update(test_metrics)
        return test_metrics

    def report_classifier(
        self,
        model: keras.Model,
        test: tf.data.Dataset,
        class_names: Sequence[str],
        *,
        show_images: bool = True,
    ) -> dict[str, Any]:
        """Confusion matrix, per-class scores and the figures of a classifier.

        Writes `confusion_matrix.png` and, for image inputs,
        `predictions.png` (the first test images with predicted and true
        labels, wrong ones marked); records per-class precision, recall and
        F1 and the confusion matrix in the metrics.

        Args:
            model: The trained classifier.
            test: The batched test pipeline, in a fixed order.
            class_names: Name of each class.
            show_images: Draw the prediction grid (inputs must be images).

        Returns:
            The per-class scores and the confusion matrix.
        """
        true_labels, predicted_labels, _ = predict_labels(model, test)
        matrix = confusion_counts(true_labels, predicted_labels, len(class_names))
        report = {"per_class": per_class_scores(matrix, class_names), "confusion_matrix": matrix.tolist()}
        self.metrics.update(report)
        self.figures.append(plots.confusion_matrix(matrix, class_names, self.output_dir / "confusion_matrix.png"))
        if show_images:
            batches, count = [], 0
            for inputs, _ in test:
                batches.append(np.asarray(inputs))
                count += len(batches[-1])
                if count >= GRID_IMAGES:
                    break
            images = np.concatenate(batches)[:GRID_IMAGES]
            self.figures.append(
                plots.prediction_grid(
                    images,
                    true_labels[: len(images)],
                    predicted_labels[: len(images)],
                    class_names,
                    self.output_dir / "predictions.png",
                    title="Test images: predicted class (wrong ones in red, with the true class)",
                )
            )
        return report

    def finish(
        self, model: keras.Model, *, dataset: str, draw_learning_curves: bool = True, **extra: Any
    ) -> dict[str, Any]:
        """Write `model.keras`, `metrics.json` and the learning curves; print a summary.

        Args:
            model: The trained model.
            dataset: The data set's name, recorded in the metrics.
            draw_learning_curves: Draw `learning_curves.png` from the history; False when the recipe has
                drawn its own.
            **extra: More figures to record in `metrics.json`.

        Returns:
            The metrics as written.
        """
        if self.history and draw_learning_curves:
            self.figures.append(
                plots.learning_curves(
                    self.history,
                    self.output_dir / "learning_curves.png",
                    title=f"{plots.dataset_title(dataset)}: {self.recipe}",
                )
            )
        model_path = write_with(self.output_dir / "model.keras", model.save)
        config = {key: (str(value) if isinstance(value, Path) else value) for key, value in vars(self.args).items()}
        metrics = {
            "recipe": self.recipe,
            "dataset": dataset,
            **{key: value for key, value in self.metrics.items() if key.startswith("test_")},
            **{key: value for key, value in self.metrics.items() if not key.startswith("test_")},
            "batch_size": self.args.batch_size,
            "per_replica_batch_size": self.per_replica_batch_size,
            "strategy": strategy_name(self.strategy),
            "replicas": self.replicas,
            "precision_policy": self.precision_policy,
            "weights_sha256": weights_fingerprint(model),
            "parameters": int(model.count_params()),
            **extra,
            "config": config,
            "versions": software_versions(),
            "history": self.history,
        }
        write_json(self.output_dir / "metrics.json", metrics)
        self._release_output_dir()
        if self.is_chief:
            self._print_summary(metrics, model_path)
        else:
            shutil.rmtree(self.output_dir, ignore_errors=True)
            print(f"{self.recipe}: worker done, weights sha256 {metrics['weights_sha256']}", flush=True)
        return metrics

    def _print_summary(self, metrics: dict[str, Any], model_path: Path) -> None:
        headline = ", ".join(
            f"{key.removeprefix('test_').replace('_', ' ')} {value:.4f}"
            for key, value in metrics.items()
            if key.startswith("test_") and isinstance(value, float)
        )
        rate = metrics.get("examples_per_second")
        print(
            f"{self.recipe}: test {headline or 'not evaluated'}; {metrics.get('epochs')} epoch(s) in "
            f"{metrics.get('train_seconds', 0):.1f} s ({rate if rate is not None else '?'} examples/s)",
            flush=True,
        )
        names = ", ".join([model_path.name, "metrics.json", HISTORY_FILE] + [path.name for path in self.figures])
        print(f"{self.recipe}: outputs in {self.output_dir}/: {names}", flush=True)
        if self.replicas > 1:  # several replicas or workers: show that they agree
            print(f"{self.recipe}: chief done, weights sha256 {metrics['weights_sha256']}", flush=True)
