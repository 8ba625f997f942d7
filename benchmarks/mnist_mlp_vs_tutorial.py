"""Benchmark: the MNIST MLP recipe against the classic tutorial network, on real Fashion-MNIST, at three data sizes.

The tutorial network is 784-64-64-10 with ReLU and softmax, trained the
tutorial's way: pixels divided by 255 in NumPy, Adam at its default learning
rate, 10 epochs, batch 128, on all the training images it is given. The recipe
runs with its default settings (it holds a tenth of the images out for
validation). Both train on the same IDX files, on all 60,000 training images
and on seeded, stratified subsets of 5,000 and 1,000 (the same 10,000 test
images every time), once per seed (0 to 4 by default) each, taking turns so
that a slow spell of the machine falls on both. Every wall time covers the
whole process (Python and TensorFlow start-up included): what a user waits for.

    python benchmarks/mnist_mlp_vs_tutorial.py [--data-dir /usr/share/datasets/fashion-mnist] [--seeds 5]
        [--sizes all 5000 1000]

Prints every run, then per size the median and [lowest–highest] test accuracy
and wall time of each, and a verdict per target; exit status 1 if any is missed.
Targets, at every size: the recipe's median accuracy beats the tutorial's (by
at least 1.5 points on all the images), its worst seed is at or above the
tutorial's median, and its median wall time is at most the tutorial's.
"""

from __future__ import annotations

import argparse
import json
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

MARGIN_ON_ALL_IMAGES = 0.015


def tutorial(data_dir: Path, seed: int) -> None:
    """Train the tutorial network in this process and print its figures as JSON."""
    import keras

    from mlrecipes.data.mnist import read_idx_folder

    keras.utils.set_random_seed(seed)
    arrays = read_idx_folder(data_dir)
    x_train = arrays["train_images"].reshape(-1, 784).astype("float32") / 255.0
    x_test = arrays["test_images"].reshape(-1, 784).astype("float32") / 255.0
    model = keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x_train, arrays["train_labels"], epochs=10, batch_size=128, verbose=0)
    train_seconds = time.perf_counter() - started
    loss, accuracy = model.evaluate(x_test, arrays["test_labels"], verbose=0)
    print(json.dumps({"test_accuracy": accuracy, "test_loss": loss, "train_seconds": train_seconds}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=FASHION_MNIST)
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 .. N-1 for each contender, alternating")
    parser.add_argument(
        "--sizes", type=training_size, nargs="+", default=[None, 5000, 1000], help="training images: 'all' or a number"
    )
    parser.add_argument("--tutorial", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tutorial:
        tutorial(args.data_dir, args.seed)
        return 0
    require_fashion_mnist(args.data_dir)

    def contenders(folder: Path) -> tuple[Contender, Contender]:
        tutorial_network = Contender(
            "tutorial 784-64-64-10",
            (sys.executable, __file__, "--tutorial", "--data-dir", str(folder)),
            reports="stdout",
        )
        recipe = Contender.recipe(
            "recipe (defaults)", "mnist_mlp", "--dataset", "fashion_mnist", "--data-dir", str(folder)
        )
        return tutorial_network, recipe

    verdicts = Verdicts()
    print(f"Fashion-MNIST from {args.data_dir}: the tutorial network against mnist_mlp's defaults")
    for label, everything, theirs, ours in compare_by_size(
        args.data_dir, args.sizes, range(args.seeds), contenders, [ACCURACY, WALL_TIME]
    ):
        margin = MARGIN_ON_ALL_IMAGES if everything else 0.0
        gain = 100 * (ours[ACCURACY.key].median - theirs[ACCURACY.key].median)
        verdicts.check(
            f"  {label}: recipe median {gain:+.2f} points over the tutorial's (target > {100 * margin:+.1f})",
            gain > 100 * margin,
        )
        verdicts.check(
            f"  {label}: recipe's worst seed {ours[ACCURACY.key].low:.4f} >= tutorial's median "
            f"{theirs[ACCURACY.key].median:.4f}",
            ours[ACCURACY.key].low >= theirs[ACCURACY.key].median,
        )
        verdicts.check(
            f"  {label}: recipe median wall time {ours[WALL_TIME.key].median:.1f} s <= tutorial's "
            f"{theirs[WALL_TIME.key].median:.1f} s",
            ours[WALL_TIME.key].median <= theirs[WALL_TIME.key].median,
        )
    print(f"{len(verdicts.failed)} target(s) missed" if verdicts.failed else "every target met")
    return verdicts.status


if __name__ == "__main__":
    sys.exit(main())
