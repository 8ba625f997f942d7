"""Benchmark: the Fashion-MNIST CNN recipe against the classic Keras "simple MNIST convnet".

The convnet is the keras.io example (Conv 32 3×3 → max-pool 2 → Conv 64 3×3 →
max-pool 2 → flatten → dropout 0.5 → dense softmax; 34,826 weights), trained
the example's way: pixels divided by 255 in NumPy, one-hot labels, Adam at its
default learning rate, batch 128, 15 epochs, ``validation_split=0.1``. The
recipe runs with its default settings. Both run as separate processes on the
same IDX files, one after the other, and both wall times cover the whole
process (Python and TensorFlow start-up included), so they compare what a user
waits for.

    python benchmarks/fashion_mnist_cnn_vs_convnet.py [--data-dir /usr/share/datasets/fashion-mnist] [--repeats 1]

Prints one line per run and a verdict; exit status 1 if the recipe is below
92.5% test accuracy or slower than the convnet.
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

TARGET_ACCURACY = 0.925


def convnet(data_dir: Path) -> None:
    """Train the keras.io simple MNIST convnet in this process and print its figures as JSON."""
    import keras

    from mlrecipes.data.mnist import read_idx_folder

    keras.utils.set_random_seed(0)
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
    parser.add_argument("--repeats", type=int, default=1, help="runs of each, alternating; the median is reported")
    parser.add_argument("--convnet", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.convnet:
        convnet(args.data_dir)
        return 0
    require_fashion_mnist(args.data_dir)

    simple_convnet = Contender(
        "keras.io simple convnet",
        (sys.executable, __file__, "--convnet", "--data-dir", str(args.data_dir)),
        reports="stdout",
    )
    recipe = Contender.recipe("recipe (defaults)", "fashion_mnist_cnn", "--data-dir", str(args.data_dir))
    results = alternate([simple_convnet, recipe], [None] * args.repeats)

    print(f"Fashion-MNIST from {args.data_dir}, {args.repeats} run(s) each, medians:")
    summaries = print_summaries(results, [ACCURACY, WALL_TIME, TRAINING_TIME])
    convnet_accuracy = summaries[simple_convnet.name][ACCURACY.key].median
    convnet_wall = summaries[simple_convnet.name][WALL_TIME.key].median
    recipe_accuracy = summaries[recipe.name][ACCURACY.key].median
    recipe_wall = summaries[recipe.name][WALL_TIME.key].median
    return verdict(
        f"recipe vs convnet: {100 * (recipe_accuracy - convnet_accuracy):+.2f} accuracy points, "
        f"{recipe_wall - convnet_wall:+.1f} s wall time ({recipe_wall / convnet_wall:.0%} of the convnet's); "
        f"target >= {TARGET_ACCURACY:.3f} in less time",
        recipe_accuracy >= TARGET_ACCURACY and recipe_wall < convnet_wall,
    )


if __name__ == "__main__":
    sys.exit(main())
