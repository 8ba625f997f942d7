"""Benchmark: the Fashion-MNIST CNN recipe against the Keras "simple MNIST convnet", at three data sizes.

The convnet is the keras.io example (Conv 32 3×3 → max-pool 2 → Conv 64 3×3 →
max-pool 2 → flatten → dropout 0.5 → dense softmax; 34,826 weights), trained
the example's way: pixels divided by 255 in NumPy, one-hot labels, Adam at its
default learning rate, batch 128, 15 epochs, ``validation_split=0.1``. The
recipe runs with its default settings. Both train on the same IDX files, on
all 60,000 training images and on seeded, stratified subsets of 5,000 and
1,000 (the same 10,000 test images every time), once per seed (0 to 2 by
default) each, taking turns. Every wall time covers the whole process (Python
and TensorFlow start-up included): what a user waits for.

    python benchmarks/fashion_mnist_cnn_vs_convnet.py [--data-dir /usr/share/datasets/fashion-mnist] [--seeds 3]
        [--sizes all 5000 1000] [--recipe-flags="--convs-per-block 2 --filters 24 48 --epochs 9"]

``--recipe-flags=...`` (with the ``=``, as the flags start with ``--``) runs the
recipe with more flags than its defaults, at every size; an ``--epochs`` among
them replaces the training budget's epochs, so give it with one size at a time.

Prints every run, then per size the median and [lowest–highest] test accuracy
and wall time of each, and a verdict per target; exit status 1 if any is
missed. Targets: on all the images, a median of at least 93.0% in less median
wall time than the convnet's; on the subsets, a median above the convnet's.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from _harness import (
    ACCURACY,
    FASHION_MNIST,
    WALL_TIME,
    Contender,
    Verdicts,
    compare_by_size,
    require_fashion_mnist,
    training_size,
)

TARGET_ACCURACY = 0.930


def convnet(data_dir: Path, seed: int) -> None:
    """Train the keras.io simple MNIST convnet in this process and print its figures as JSON."""
    import keras

    from mlrecipes.data.mnist import read_idx_folder

    keras.utils.set_random_seed(seed)
    arrays = read_idx_folder(data_dir)
    x_train = arrays["train_images"].astype("float32") / 255.0
    x_test = arrays["test_images"].astype("float32") / 255.0
    y_train = keras.utils.to_categorical(arrays["train_labels"], 10)
    y_test = keras.utils.to_categorical(arrays["test_labels"], 10)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x_train, y_train, batch_size=128, epochs=15, validation_split=0.1, verbose=0)
    train_seconds = time.perf_counter() - started
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(json.dumps({"test_accuracy": accuracy, "test_loss": loss, "train_seconds": train_seconds}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=FASHION_MNIST)
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0 .. N-1 for each contender, alternating")
    parser.add_argument(
        "--sizes", type=training_size, nargs="+", default=[None, 5000, 1000], help="training images: 'all' or a number"
    )
    parser.add_argument(
        "--recipe-flags",
        type=shlex.split,
        default=[],
        metavar="FLAGS",
        help="more flags for the recipe, in one quoted string, such as '--filters 24 48 --epochs 9'",
    )
    parser.add_argument("--convnet", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.convnet:
        convnet(args.data_dir, args.seed)
        return 0
    require_fashion_mnist(args.data_dir)

    recipe_name = f"recipe ({shlex.join(args.recipe_flags)})" if args.recipe_flags else "recipe (defaults)"

    def contenders(folder: Path) -> tuple[Contender, Contender]:
        simple_convnet = Contender(
            "keras.io simple convnet",
            (sys.executable, __file__, "--convnet", "--data-dir", str(folder)),
            reports="stdout",
        )
        return simple_convnet, Contender.recipe(
            recipe_name, "fashion_mnist_cnn", "--data-dir", str(folder), *args.recipe_flags
        )

    verdicts = Verdicts()
    print(f"Fashion-MNIST from {args.data_dir}: the keras.io simple convnet against fashion_mnist_cnn, {recipe_name}")
    for label, everything, theirs, ours in compare_by_size(
        args.data_dir, args.sizes, range(args.seeds), contenders, [ACCURACY, WALL_TIME]
    ):
        gain = 100 * (ours[ACCURACY.key].median - theirs[ACCURACY.key].median)
        if everything:
            verdicts.check(
                f"  {label}: recipe median {ours[ACCURACY.key].median:.4f} >= {TARGET_ACCURACY:.3f}",
                ours[ACCURACY.key].median >= TARGET_ACCURACY,
            )
            verdicts.check(
                f"  {label}: recipe median wall time {ours[WALL_TIME.key].median:.1f} s < convnet's "
                f"{theirs[WALL_TIME.key].median:.1f} s",
                ours[WALL_TIME.key].median < theirs[WALL_TIME.key].median,
            )
        else:
            verdicts.check(f"  {label}: recipe median {gain:+.2f} points over the convnet's (target > 0)", gain > 0)
    print(f"{len(verdicts.failed)} target(s) missed" if verdicts.failed else "every target met")
    return verdicts.status


if __name__ == "__main__":
    sys.exit(main())
