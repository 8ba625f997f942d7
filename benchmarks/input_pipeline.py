"""Benchmark: is the ``tf.data`` input pipeline ever the bottleneck of training?

For each case it measures three rates, in images per second:

1. **pipeline alone**: iterating the recipe's training pipeline (cache,
   shuffle, batch, augmentation, prefetch) and doing nothing with the batches;
2. **training from the pipeline**: ``model.fit`` on that pipeline;
3. **training from memory**: ``model.fit`` on one batch held in memory and
   repeated, so no input work at all.

If (1) is far above (2), and (2) is close to (3), the pipeline keeps the model
fed and is not what limits the speed. Cases:

- ``fashion_mnist``: the real Fashion-MNIST images of ``--data-dir`` with the
  ``fashion_mnist_cnn`` recipe's pipeline and model;
- ``cifar_shaped``: 10,000 random 32×32×3 uint8 images (CIFAR-10 cannot be
  downloaded here) with the ``cifar10_resnet`` recipe's augmentation (crop with
  reflection padding, flip, cutout) and one-hot labels, and its ResNet-9 at
  ``--cifar-width`` (default 0.25: the full network trains at a few images per
  second on two CPU cores).

    python benchmarks/input_pipeline.py [--data-dir /usr/share/datasets/fashion-mnist] [--seconds 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mlrecipes.data.augment import make_augmentation
from mlrecipes.data.cifar10 import MEAN_PIXEL, STD_PIXEL
from mlrecipes.data.mnist import load_mnist
from mlrecipes.data.pipeline import make_pipeline
from mlrecipes.models.cnn import build_cnn
from mlrecipes.models.resnet import build_resnet
from recipes import fashion_mnist_cnn

from _harness import FASHION_MNIST, require_fashion_mnist


def pipeline_rate(pipeline: tf.data.Dataset, seconds: float) -> float:
    """Images per second of iterating ``pipeline`` for about ``seconds`` (after one warm-up batch)."""
    iterator = iter(pipeline)
    next(iterator)
    images, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        batch, _ = next(iterator)
        images += int(batch.shape[0])
    return images / (time.perf_counter() - started)


class _StepClock(keras.callbacks.Callback):
    """Times the training steps after the first ``skip``, leaving out iterator creation and the first shuffle."""

    def __init__(self, skip: int):
        super().__init__()
        self.skip = skip
        self.started = self.finished = 0.0

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.skip - 1:
            self.started = time.perf_counter()

    def on_train_end(self, logs=None):
        self.finished = time.perf_counter()


def training_rate(model: keras.Model, pipeline: tf.data.Dataset, batch_size: int, seconds: float) -> float:
    """Images per second of ``model.fit`` on ``pipeline``, timed after a warm-up that compiles the step."""
    model.fit(pipeline, steps_per_epoch=2, epochs=1, verbose=0)
    steps, skip = 8, 4
    while True:  # grow the number of steps until one fit takes long enough to time
        clock = _StepClock(skip)
        model.fit(pipeline, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[clock])
        elapsed = clock.finished - clock.started
        if elapsed >= seconds / 4 or steps >= 10_000:
            break
        steps *= 2
    steps = max(steps, skip + int((steps - skip) * seconds / max(elapsed, 1e-3)))
    clock = _StepClock(skip)
    model.fit(pipeline, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[clock])
    return (steps - skip) * batch_size / (clock.finished - clock.started)


def one_batch_repeated(pipeline: tf.data.Dataset) -> tf.data.Dataset:
    """The first batch of ``pipeline``, in memory, repeated forever: training with no input work."""
    images, labels = next(iter(pipeline))
    return tf.data.Dataset.from_tensors((images, labels)).cache().repeat()


def measure(name: str, model: keras.Model, pipeline: tf.data.Dataset, batch_size: int, seconds: float) -> None:
    """Print the three rates of one case; the pipeline is repeated so that no measurement runs out of data."""
    pipeline = pipeline.repeat()
    alone = pipeline_rate(pipeline, seconds)
    fed = training_rate(model, pipeline, batch_size, seconds)
    memory = training_rate(model, one_batch_repeated(pipeline), batch_size, seconds)
    print(
        f"  {name:46s} pipeline alone {alone:9,.0f}   training from pipeline {fed:8,.0f}   "
        f"from memory {memory:8,.0f}   pipeline / training {alone / fed:6.1f}x",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=FASHION_MNIST)
    parser.add_argument("--seconds", type=float, default=20.0, help="time spent on each rate")
    parser.add_argument("--cifar-width", type=float, default=0.25, help="ResNet-9 width for the CIFAR-shaped case")
    args = parser.parse_args()
    require_fashion_mnist(args.data_dir)
    print(
        f"images per second on {tf.config.threading.get_inter_op_parallelism_threads() or 'all'} "
        f"inter-op threads, {len(tf.config.list_physical_devices('CPU'))} CPU device(s), "
        f"{len(tf.config.list_physical_devices('GPU'))} GPU(s):"
    )

    # Fashion-MNIST, with the fashion_mnist_cnn recipe's pipeline and default network.
    keras.utils.set_random_seed(0)
    defaults = fashion_mnist_cnn.build_parser().parse_args([])
    data = load_mnist("fashion_mnist", data_dir=args.data_dir)
    train = make_pipeline(data.train, defaults.batch_size, shuffle=True, seed=0)
    model = build_cnn(
        (28, 28, 1),
        data.num_classes,
        filters=defaults.filters,
        padding="same",
        dense_units=defaults.dense_units,
        dropout=defaults.dropout,
        input_mean=fashion_mnist_cnn.PIXEL_MEAN,
        input_std=fashion_mnist_cnn.PIXEL_STD,
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    measure(f"fashion_mnist, CNN, batch {defaults.batch_size}", model, train, defaults.batch_size, args.seconds)

    # CIFAR-shaped random images, with the cifar10_resnet recipe's augmentation.
    batch_size = 512
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(10_000, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=10_000)
    augment = make_augmentation(0, padding=4, flip=True, cutout=8, fill=MEAN_PIXEL)

    def augment_one_hot(batch_images, batch_labels):
        batch_images, batch_labels = augment(batch_images, batch_labels)
        return batch_images, tf.one_hot(batch_labels, 10)

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    train = make_pipeline(dataset, batch_size, shuffle=True, seed=0, map_batch=augment_one_hot)
    model = build_resnet(width=args.cifar_width, input_mean=MEAN_PIXEL, input_std=STD_PIXEL)
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True), loss="categorical_crossentropy")
    measure(
        f"cifar_shaped, ResNet-9 width {args.cifar_width:g}, batch {batch_size}", model, train, batch_size, args.seconds
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
