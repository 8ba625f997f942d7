"""Recurrent networks on keras.io's addition task: "535+61" -> "596", with the seq2seq recipe's LSTM.

`mlrecipes.testing.addition_pairs` generates 50,000 different questions of
two numbers of 1 to 3 digits (seed 0), as keras.io's example "Sequence to
sequence learning for performing number addition" does. They are written to a
tab-separated file and ``python -m recipes.seq2seq --architecture lstm`` trains
on it with its other settings at their defaults (shuffled with ``--seed``, 80%
to train, 10% to validate, 10% = 5,000 sums to test). The benchmark prints the
exact match of the greedy decoding of the 5,000 held-out sums and the whole
process's wall time, against the targets: at least 99% exact match within 5
minutes on 2 CPU cores. (keras.io's anchor: its LSTM reaches 99% validation
accuracy after about 30 epochs of 45,000 questions.)

    python benchmarks/addition_rnn.py [--output-dir runs/addition] [--reverse-questions] [--recipe-args --epochs 12 ...]

``--reverse-questions`` writes every question backwards (``"16+535"``), as
keras.io's example does; the target is met that way with
``--recipe-args --epochs 30 --learning-rate 5e-3 --batch-size 128 --dropout 0``.

Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _harness import Contender, Verdicts

TARGET_EXACT_MATCH = 0.99
TARGET_SECONDS = 300.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=50_000, help="questions to generate")
    parser.add_argument(
        "--output-dir", type=Path, default=None, help="the recipe's run folder (default: a temporary one)"
    )
    parser.add_argument(
        "--reverse-questions", action="store_true", help="write each question backwards, as keras.io's example does"
    )
    parser.add_argument("--recipe-args", nargs=argparse.REMAINDER, default=[], help="extra flags for the recipe")
    args = parser.parse_args(argv)

    from mlrecipes.data.sentence_pairs import write_pairs
    from mlrecipes.testing import addition_pairs

    with tempfile.TemporaryDirectory() as folder:
        pairs_file = write_pairs(
            Path(folder) / "sums.tsv", addition_pairs(args.pairs, seed=0, reverse_questions=args.reverse_questions)
        )
        recipe = Contender.recipe(
            "seq2seq --architecture lstm", "seq2seq", "--architecture", "lstm", "--data-file", str(pairs_file),
            *args.recipe_args,
        )  # fmt: skip
        run = recipe.run(run_dir=args.output_dir, echo=True)
    metrics = run.figures
    print(f"sums of numbers of 1-3 digits: {metrics['pairs']} pairs, {metrics['epochs']} epochs, "
          f"{metrics['optimizer_steps']} optimizer steps")  # fmt: skip
    print(f"held-out exact match {metrics['test_exact_match']:.4f}, token accuracy "
          f"{metrics['test_token_accuracy']:.4f}; wall time {run.wall_seconds:.1f} s "
          f"(training {metrics['train_seconds']:.1f} s)")  # fmt: skip
    verdicts = Verdicts()
    verdicts.check(
        f"exact match {metrics['test_exact_match']:.4f} >= {TARGET_EXACT_MATCH}",
        metrics["test_exact_match"] >= TARGET_EXACT_MATCH,
    )
    verdicts.check(f"wall time {run.wall_seconds:.1f} s < {TARGET_SECONDS:.0f} s", run.wall_seconds < TARGET_SECONDS)
    return verdicts.status


if __name__ == "__main__":
    sys.exit(main())
