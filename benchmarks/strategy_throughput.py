"""Benchmark: training throughput of one recipe under each tf.distribute strategy on this machine.

Runs ``recipes.mnist_mlp`` on real Fashion-MNIST three ways, each as its own
process(es), and prints the examples per second each reports (whole ``fit``,
first-epoch tracing included) with the overhead relative to the single device:

- ``cpu``: the default strategy on one device;
- ``mirrored``: ``MirroredStrategy`` over the CPU split into 2 logical devices
  (``--devices cpu:2``), the same cores doing twice the bookkeeping;
- ``multiworker``: 2 local worker processes over loopback
  (``python -m mlrecipes.distribute.launch --workers 2``), gradients all-reduced with
  collective ops through gRPC.

On a 2-core machine none of these can be faster than one device: the figures
measure the cost of the distribution machinery, which is what this machine can
show. Speed-ups need more devices (not measured here: no GPU or TPU).

    python benchmarks/strategy_throughput.py [--data-dir /usr/share/datasets/fashion-mnist] [--epochs 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _harness import FASHION_MNIST, Contender, alternate, require_fashion_mnist


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=FASHION_MNIST)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512, help="global batch size")
    args = parser.parse_args()
    require_fashion_mnist(args.data_dir)

    flags = ["--dataset", "fashion_mnist", "--data-dir", str(args.data_dir)]
    flags += ["--epochs", str(args.epochs), "--batch-size", str(args.batch_size)]
    launch = (sys.executable, "-m", "mlrecipes.distribute.launch", "--workers", "2")
    setups = [
        Contender.recipe("cpu (1 device)", "mnist_mlp", *flags, "--strategy", "cpu"),
        Contender.recipe(
            "mirrored (2 logical CPUs)", "mnist_mlp", *flags, "--strategy", "mirrored", "--devices", "cpu:2"
        ),
        Contender("multiworker (2 local workers)", (*launch, "recipes.mnist_mlp", *flags)),
    ]
    results = {name: runs[0].figures for name, runs in alternate(setups, [None]).items()}
    base = results["cpu (1 device)"]["examples_per_second"]
    print(f"mnist_mlp on Fashion-MNIST, {args.epochs} epochs, global batch {args.batch_size}:")
    for name, metrics in results.items():
        rate = metrics["examples_per_second"]
        print(
            f"  {name:30s} {metrics['strategy']:28s} replicas {metrics['replicas']}  "
            f"{rate:9.0f} examples/s  overhead {100 * (base / rate - 1):+6.1f}%  test accuracy {metrics['test_accuracy']:.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
