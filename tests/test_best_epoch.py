"""BestEpochCheckpoint: a run never hands back a model worse than its own best validation epoch."""

import keras
import numpy as np
import pytest

from mlrecipes.callbacks import BestEpochCheckpoint, monitor_mode


def small_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    return x, y


def small_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


class BreakInEpoch(keras.callbacks.Callback):
    """Scramble the weights at the end of one epoch's training, before its validation (a run that breaks down)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._current == self.epoch:
            self.model.set_weights([np.full_like(w, 3.0) for w in self.model.get_weights()])

    def on_epoch_begin(self, epoch, logs=None):
        self._current = epoch


def test_a_last_epoch_that_broke_down_is_replaced_by_the_best(tmp_path):
    x, y = small_problem()
    model = small_model()
    best = BestEpochCheckpoint(tmp_path / "best.keras", "val_accuracy")
    history = model.fit(
        x, y, validation_data=small_problem(1), epochs=4, batch_size=64, verbose=0, callbacks=[best, BreakInEpoch(3)]
    ).history
    accuracies = history["val_accuracy"]
    assert accuracies[3] < max(accuracies[:3])  # the last epoch got worse
    assert best.restored and best.best_epoch == 1 + int(np.argmax(accuracies[:3])) and best.last_epoch == 4
    # The model now holds the best epoch's weights: it scores what that epoch scored ...
    restored = model.evaluate(*small_problem(1), verbose=0, return_dict=True)["accuracy"]
    assert restored == pytest.approx(max(accuracies))
    saved = keras.saving.load_model(tmp_path / "best.keras")
    for mine, theirs in zip(model.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    # ... while the optimizer keeps its state: 4 epochs of 4 steps were taken.
    assert int(model.optimizer.iterations) == 16


class CountSaves(keras.callbacks.Callback):
    """Count the model's `save` calls during training."""

    def __init__(self):
        super().__init__()
        self.saves = 0

    def on_train_begin(self, logs=None):
        save = self.model.save

        def counting(*args, **kwargs):
            self.saves += 1
            return save(*args, **kwargs)

        self.model.save = counting


def test_a_run_that_ends_on_its_best_epoch_keeps_its_weights_and_saves_once(tmp_path):
    x, y = small_problem()
    model = small_model()
    best = BestEpochCheckpoint(tmp_path / "best.keras", "val_loss")
    saves = CountSaves()
    history = model.fit(
        x, y, validation_data=(x, y), epochs=3, batch_size=64, verbose=0, callbacks=[saves, best]
    ).history
    assert history["val_loss"][-1] == min(history["val_loss"])  # learning steadily
    assert best.best_epoch == 3 and not best.restored
    # Every epoch improved: the checkpoint is written once, at the end, not after each epoch.
    assert saves.saves == 1
    assert (tmp_path / "best.keras").is_file() and not list(tmp_path.glob(".*partial*"))
    saved = keras.saving.load_model(tmp_path / "best.keras")
    for mine, theirs in zip(model.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


class CheckFileAfterEpoch(keras.callbacks.Callback):
    """Record, after each epoch, whether the checkpoint file exists and what it holds."""

    def __init__(self, path):
        super().__init__()
        self.path = path
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(keras.saving.load_model(self.path).get_weights() if self.path.is_file() else None)


def test_an_epoch_that_falls_behind_puts_the_best_one_on_disk_before_the_backup_records_it(tmp_path):
    x, y = small_problem()
    model = small_model()
    path = tmp_path / "best.keras"
    best = BestEpochCheckpoint(path, "val_accuracy")
    weights_after = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: weights_after.append(model.get_weights()))
    check = CheckFileAfterEpoch(path)  # runs after `best`, where BackupAndRestore runs in standard_callbacks
    model.fit(
        x,
        y,
        validation_data=small_problem(1),
        epochs=4,
        batch_size=64,
        verbose=0,
        callbacks=[record, best, check, BreakInEpoch(3)],
    )
    # Epochs 1-3: nothing written yet (or an earlier best); after the broken epoch 4, the file holds the best one.
    assert best.best_epoch < 4 and check.seen[3] is not None
    for mine, theirs in zip(weights_after[best.best_epoch - 1], check.seen[3]):
        np.testing.assert_array_equal(mine, theirs)


def test_a_resumed_run_judges_its_epochs_against_the_ones_before(tmp_path):
    x, y = small_problem()
    earlier = small_model()
    earlier.fit(x, y, epochs=5, batch_size=64, verbose=0)
    earlier.save(tmp_path / "best.keras")  # what the interrupted run kept: its first epoch, the better of two
    model = small_model()
    # The interrupted run's first epoch was far better than anything this fresh model reaches in one.
    best = BestEpochCheckpoint(tmp_path / "best.keras", "val_loss", history=[1e-6, 0.5])
    model.fit(x, y, validation_data=(x, y), initial_epoch=2, epochs=3, batch_size=64, verbose=0, callbacks=[best])
    assert best.best_epoch == 1 and best.last_epoch == 3 and best.restored
    for mine, theirs in zip(model.get_weights(), earlier.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


def test_a_run_resumed_right_after_its_best_epoch_goes_back_to_the_weights_it_resumed_with(tmp_path):
    x, y = small_problem()
    model = small_model()
    model.fit(x, y, epochs=5, batch_size=64, verbose=0)  # stands for the weights the backup restored
    resumed_with = model.get_weights()
    # The interrupted run's second epoch was its best, and was still the latest: not written to a file.
    path = tmp_path / "best.keras"
    best = BestEpochCheckpoint(path, "val_loss", history=[0.5, 1e-6])
    model.fit(
        x,
        y,
        validation_data=(x, y),
        initial_epoch=2,
        epochs=4,
        batch_size=64,
        verbose=0,
        callbacks=[best, BreakInEpoch(2), BreakInEpoch(3)],
    )
    assert best.best_epoch == 2 and best.last_epoch == 4 and best.restored
    for mine, theirs in zip(model.get_weights(), resumed_with):
        np.testing.assert_array_equal(mine, theirs)
    for mine, theirs in zip(keras.saving.load_model(path).get_weights(), resumed_with):
        np.testing.assert_array_equal(mine, theirs)


def test_ties_go_to_the_later_epoch_and_the_direction_follows_the_metric(tmp_path):
    assert BestEpochCheckpoint(tmp_path / "a.keras", "val_accuracy", history=[0.8, 0.9, 0.9]).best_epoch == 3
    assert BestEpochCheckpoint(tmp_path / "a.keras", "val_loss", history=[0.3, 0.2, 0.2, 0.4]).best_epoch == 3
    assert BestEpochCheckpoint(tmp_path / "a.keras", "val_loss", history=[float("nan"), 0.4]).best_epoch == 2
    assert [monitor_mode(name) for name in ("val_accuracy", "val_loss", "loss", "val_exact_match", "val_mae")] == [
        "max",
        "min",
        "min",
        "max",
        "min",
    ]
