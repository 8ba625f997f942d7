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


def test_a_run_that_ends_on_its_best_epoch_keeps_its_weights(tmp_path):
    x, y = small_problem()
    model = small_model()
    best = BestEpochCheckpoint(tmp_path / "best.keras", "val_loss")
    history = model.fit(x, y, validation_data=(x, y), epochs=3, batch_size=64, verbose=0, callbacks=[best]).history
    assert history["val_loss"][-1] == min(history["val_loss"])  # learning steadily
    assert best.best_epoch == 3 and not best.restored
    assert (tmp_path / "best.keras").is_file() and not list(tmp_path.glob(".*partial*"))


def test_a_resumed_run_judges_its_epochs_against_the_ones_before(tmp_path):
    x, y = small_problem()
    earlier = small_model()
    earlier.fit(x, y, epochs=5, batch_size=64, verbose=0)
    earlier.save(tmp_path / "best.keras")  # what the interrupted run kept, after its second epoch
    model = small_model()
    # The interrupted run's two epochs were far better than anything this fresh model reaches in one.
    best = BestEpochCheckpoint(tmp_path / "best.keras", "val_loss", history=[0.5, 1e-6])
    model.fit(x, y, validation_data=(x, y), initial_epoch=2, epochs=3, batch_size=64, verbose=0, callbacks=[best])
    assert best.best_epoch == 2 and best.last_epoch == 3 and best.restored
    for mine, theirs in zip(model.get_weights(), earlier.get_weights()):
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
