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
import sys

from _harness import ROOT, WALL_SECONDS, Contender, Run, summarize, verdict

TARGET_SECONDS = 20.0
MSE_BAR = 1e-3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs; the median wall time is reported")
    parser.add_argument("extra", nargs="*", help="flags passed on to the recipe (after --)")
    args = parser.parse_args()

    recipe = Contender.recipe("linear_regression", "linear_regression", *args.extra, cwd=ROOT)
    runs: list[Run] = []
    for repeat in range(args.repeats):
        run = recipe.run()
        runs.append(run)
        print(
            f"run {repeat + 1}: {run.wall_seconds:.1f} s wall (whole process), {run.figures['train_seconds']:.1f} s in fit"
        )
    wall = summarize(runs, WALL_SECONDS).median
    metrics = runs[-1].figures
    descent, exact = metrics["gradient_descent"], metrics["least_squares"]
    print(f"\nlinear_regression, {metrics['rows']['train']} training rows and {metrics['rows']['test']} test rows:")
    print(f"  {'':12} {'gradient descent':>18} {'least squares':>18}")
    for split in ("train", "test"):
        if split in exact:
            print(f"  {split + ' MSE':12} {descent[split]['mse']:>18.6e} {exact[split]['mse']:>18.6e}")
    gap = metrics["train_mse_gap"]
    print(f"  training MSE gap: {gap:+.2e} (bar {MSE_BAR:.1%})")
    print(f"  wall time: median {wall:.1f} s of {len(runs)} run(s) (target under {TARGET_SECONDS:.0f} s)")
    return verdict(
        f"targets: median wall time under {TARGET_SECONDS:.0f} s and training MSE gap within {MSE_BAR:.1%}",
        wall < TARGET_SECONDS and gap <= MSE_BAR,
    )


if __name__ == "__main__":
    sys.exit(main())
