"""Benchmark: the MNIST MLP recipe against the classic tutorial network, on real Fashion-MNIST.

The tutorial network is 784-64-64-10 with ReLU and softmax, trained the
tutorial's way: pixels divided by 255 in NumPy, Adam at its default learning
rate, 10 epochs, batch 128, on all 60,000 training images. The recipe runs
with its default settings. Both run as separate processes on the same IDX
files, one after the other, and both wall times cover the whole process
(Python and TensorFlow start-up included), so they compare what a user waits.

    python benchmarks/mnist_mlp_vs_tutorial.py [--data-dir /usr/share/datasets/fashion-mnist] [--repeats 1]

Prints one line per run and a verdict; exit status 1 if the recipe is less
accurate or slower than the tutorial.
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
    TRAINING_TIME,
    WALL_TIME,
    Contender,
    alternate,
    print_summaries,
    require_fashion_mnist,
    verdict,
)


def tutorial(data_dir: Path) -> None:
    """Train the tutorial network in this process and print its figures as JSON."""
    import keras

    from mlrecipes.data.mnist import read_idx_folder

    keras.utils.set_random_seed(0)
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
    parser.add_argument("--repeats", type=int, default=1, help="runs of each, alternating; the median is reported")
    parser.add_argument("--tutorial", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tutorial:
        tutorial(args.data_dir)
        return 0
    require_fashion_mnist(args.data_dir)

    tutorial_network = Contender(
        "tutorial 784-64-64-10",
        (sys.executable, __file__, "--tutorial", "--data-dir", str(args.data_dir)),
        reports="stdout",
    )
    recipe = Contender.recipe(
        "recipe (defaults)", "mnist_mlp", "--dataset", "fashion_mnist", "--data-dir", str(args.data_dir)
    )
    results = alternate([tutorial_network, recipe], [None] * args.repeats)

    print(f"Fashion-MNIST from {args.data_dir}, {args.repeats} run(s) each, medians:")
    summaries = print_summaries(results, [ACCURACY, WALL_TIME, TRAINING_TIME])
    tutorial_accuracy = summaries[tutorial_network.name][ACCURACY.key].median
    tutorial_wall = summaries[tutorial_network.name][WALL_TIME.key].median
    recipe_accuracy = summaries[recipe.name][ACCURACY.key].median
    recipe_wall = summaries[recipe.name][WALL_TIME.key].median
    return verdict(
        f"recipe vs tutorial: {100 * (recipe_accuracy - tutorial_accuracy):+.2f} accuracy points, "
        f"{recipe_wall - tutorial_wall:+.1f} s wall time",
        recipe_accuracy > tutorial_accuracy and recipe_wall <= tutorial_wall,
    )


if __name__ == "__main__":
    sys.exit(main())
