"""Benchmark: the linear regression recipe's wall time, and its gradient descent against the exact fit.

Runs ``python -m recipes.linear_regression`` with its default settings (the
embedded Windsor data, every row) as a separate process and
times the whole process, Python and TensorFlow start-up included, since that
is what a user waits for. It then prints the training and test mean squared
error of both fits, gradient descent and least squares, from the run's
``metrics.json``, and the gap between the two training MSEs.

    python benchmarks/linear_regression.py [--repeats 3] [-- EXTRA RECIPE FLAGS]

Exit status 1 if the median wall time is 20 s or more, or gradient descent's
training MSE is not within 0.1% of the exact minimum.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 20.0
MSE_BAR = 1e-3


def run_once(output_dir: Path, extra: list[str]) -> tuple[float, dict]:
    """Run the recipe once; return its wall time and its metrics."""
    command = [sys.executable, "-m", "recipes.linear_regression", "--output-dir", str(output_dir), *extra]
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        sys.exit(f"failed ({finished.returncode}): {' '.join(command)}\n{finished.stderr[-2000:]}")
    return seconds, json.loads((output_dir / "metrics.json").read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs; the median wall time is reported")
    parser.add_argument("extra", nargs="*", help="flags passed on to the recipe (after --)")
    args = parser.parse_args()

    times = []
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            seconds, metrics = run_once(Path(folder) / f"run{repeat}", args.extra)
            times.append(seconds)
            print(f"run {repeat + 1}: {seconds:.1f} s wall (whole process), {metrics['train_seconds']:.1f} s in fit")
    wall = statistics.median(times)
    descent, exact = metrics["gradient_descent"], metrics["least_squares"]
    print(f"\nlinear_regression, {metrics['rows']['train']} training rows and {metrics['rows']['test']} test rows:")
    print(f"  {'':12} {'gradient descent':>18} {'least squares':>18}")
    for split in ("train", "test"):
        if split in exact:
            print(f"  {split + ' MSE':12} {descent[split]['mse']:>18.6e} {exact[split]['mse']:>18.6e}")
    gap = metrics["train_mse_gap"]
    print(f"  training MSE gap: {gap:+.2e} (bar {MSE_BAR:.1%})")
    print(f"  wall time: median {wall:.1f} s of {len(times)} run(s) (target under {TARGET_SECONDS:.0f} s)")
    ok = wall < TARGET_SECONDS and gap <= MSE_BAR
    print("verdict:", "meets both targets" if ok else "MISSES a target")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
