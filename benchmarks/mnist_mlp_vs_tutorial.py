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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


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


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        sys.exit(f"failed ({finished.returncode}): {' '.join(command)}\n{finished.stderr[-2000:]}")
    return seconds, finished.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=FASHION_MNIST)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each, alternating; the median is reported")
    parser.add_argument("--tutorial", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tutorial:
        tutorial(args.data_dir)
        return 0
    if not args.data_dir.is_dir():
        sys.exit(f"{args.data_dir}: no such folder (apt install dataset-fashion-mnist)")

    results: dict[str, list[dict]] = {"tutorial 784-64-64-10": [], "recipe (defaults)": []}
    for _ in range(args.repeats):
        seconds, out = timed([sys.executable, __file__, "--tutorial", "--data-dir", str(args.data_dir)])
        figures = json.loads(out.strip().splitlines()[-1])
        results["tutorial 784-64-64-10"].append({**figures, "wall_seconds": seconds})
        with tempfile.TemporaryDirectory() as output_dir:
            command = [sys.executable, "-m", "recipes.mnist_mlp", "--dataset", "fashion_mnist"]
            command += ["--data-dir", str(args.data_dir), "--output-dir", output_dir]
            seconds, _ = timed(command)
            metrics = json.loads((Path(output_dir) / "metrics.json").read_text())
        results["recipe (defaults)"].append({**metrics, "wall_seconds": seconds})

    def median(runs: list[dict], key: str) -> float:
        values = sorted(run[key] for run in runs)
        return values[len(values) // 2]

    print(f"Fashion-MNIST from {args.data_dir}, {args.repeats} run(s) each, medians:")
    summary = {}
    for name, runs in results.items():
        summary[name] = (median(runs, "test_accuracy"), median(runs, "wall_seconds"), median(runs, "train_seconds"))
        accuracy, wall, train = summary[name]
        print(f"  {name:24s} test accuracy {accuracy:.4f}   wall time {wall:6.1f} s   (training {train:5.1f} s)")
    (tutorial_accuracy, tutorial_wall, _), (recipe_accuracy, recipe_wall, _) = summary.values()
    better = recipe_accuracy > tutorial_accuracy and recipe_wall <= tutorial_wall
    print(
        f"recipe vs tutorial: {100 * (recipe_accuracy - tutorial_accuracy):+.2f} accuracy points, "
        f"{recipe_wall - tutorial_wall:+.1f} s wall time -> {'PASS' if better else 'FAIL'}"
    )
    return 0 if better else 1


if __name__ == "__main__":
    sys.exit(main())
