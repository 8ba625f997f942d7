"""Compress the Fashion-MNIST CNN: quantization, pruning, distillation and exports, measured.

Runs `recipes.compress` on a finished `recipes.fashion_mnist_cnn` run (`--run`,
or one trained here with the defaults): every variant once (seed 0), then the
distillation again with seeds 1 and 2, since the distilled student's gain over
the same student trained on labels alone is small and one seed can mislead.
Prints the table, every seed's pair of students, and PASS/FAIL against:

- LiteRT full int8 at most 30% of the LiteRT float32 file, losing at most 0.5
  points of test accuracy against the float Keras model, agreeing on ≥ 99% of
  the test images;
- 80% magnitude pruning + dynamic-range int8 at least 10x smaller gzipped than
  the float32 `.tflite` file, within 1 point;
- LiteRT float32 accuracy equal to the Keras model's within 0.1 point;
- the distilled student's median above the label-only student's (3 paired seeds);
- LiteRT full int8 faster at batch 1 than the float Keras model.

    python benchmarks/compress_fashion_cnn.py                     # trains the CNN first (~2-6 min)
    python benchmarks/compress_fashion_cnn.py --run runs/fashion_mnist_cnn
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from _harness import FASHION_MNIST, require_fashion_mnist, run_timed, verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a finished fashion_mnist_cnn run (default: train one here)")
    parser.add_argument("--data-dir", type=Path, default=FASHION_MNIST, help="the Fashion-MNIST IDX files")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="distillation seeds")
    parser.add_argument("--output-dir", type=Path, help="where the runs go (default: a temporary folder)")
    args = parser.parse_args()
    data_dir = require_fashion_mnist(args.data_dir)
    base = args.output_dir or Path(tempfile.mkdtemp(prefix="compress-bench-"))
    run = args.run
    if run is None:
        run = base / "cnn"
        trained = run_timed([sys.executable, "-m", "recipes.fashion_mnist_cnn", "--data-dir", data_dir,
                             "--output-dir", run], metrics_file=run / "metrics.json", echo=True)  # fmt: skip
        print(f"teacher: test accuracy {trained.figures['test_accuracy']:.4f} in {trained.wall_seconds:.1f} s")

    students = []
    for index, seed in enumerate(args.seeds):
        formats = [] if index == 0 else ["--formats", "distilled"]
        output = base / f"compress-seed{seed}"
        done = run_timed([sys.executable, "-m", "recipes.compress", "--model-dir", run, "--data-dir", data_dir,
                          "--output-dir", output, "--seed", str(seed), *formats],
                         metrics_file=output / "metrics.json", echo=True)  # fmt: skip
        rows = {row["variant"]: row for row in done.figures["variants"]}
        if index == 0:
            table, first = (output / "compression.md").read_text(), rows
            print(table)
            print(f"(all variants in {done.wall_seconds:.1f} s wall)")
        pair = (rows["student, distilled"]["test_accuracy"], rows["student, labels only"]["test_accuracy"])
        students.append(pair)
        print(f"seed {seed}: student distilled {pair[0]:.4f}, labels only {pair[1]:.4f} "
              f"({rows['student, distilled']['parameters']:,} parameters, "
              f"{rows['student, distilled']['share_of_teacher']:.1%} of the teacher)", flush=True)  # fmt: skip

    keras_float, lite_float = first["Keras float32"], first["LiteRT float32"]
    int8, pruned = first["LiteRT int8"], first["pruned 80% + LiteRT dynamic int8"]
    distilled = statistics.median(pair[0] for pair in students)
    alone = statistics.median(pair[1] for pair in students)
    size_share = int8["bytes"] / lite_float["bytes"]
    loss = keras_float["test_accuracy"] - int8["test_accuracy"]
    shrink = lite_float["gzipped_bytes"] / pruned["gzipped_bytes"]
    pruned_loss = keras_float["test_accuracy"] - pruned["test_accuracy"]
    lite_gap = abs(lite_float["test_accuracy"] - keras_float["test_accuracy"])
    checks = [
        verdict(f"LiteRT int8: {size_share:.1%} of the float file (≤ 30%), {100 * loss:+.2f} points lost (≤ 0.5), "
                f"agreement {int8['agreement']:.4f} (≥ 0.99)",
                size_share <= 0.30 and loss <= 0.005 and int8["agreement"] >= 0.99),
        verdict(f"pruned 80% + int8: {shrink:.1f}x smaller gzipped (≥ 10x), {100 * pruned_loss:+.2f} points lost (≤ 1)",
                shrink >= 10 and pruned_loss <= 0.01),
        verdict(f"LiteRT float32 vs Keras: {100 * lite_gap:.2f} points apart (≤ 0.1)", lite_gap <= 0.001),
        verdict(f"distilled student median {distilled:.4f} vs labels only {alone:.4f} over seeds "
                f"{', '.join(map(str, args.seeds))}", distilled > alone),
        verdict(f"batch-1 latency: LiteRT int8 {int8['latency_batch_1_ms']:.3f} ms vs Keras float "
                f"{keras_float['latency_batch_1_ms']:.3f} ms", int8["latency_batch_1_ms"] < keras_float["latency_batch_1_ms"]),
    ]  # fmt: skip
    print(json.dumps({"outputs": str(base)}))
    return max(checks)


if __name__ == "__main__":
    sys.exit(main())
