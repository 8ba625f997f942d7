"""Sequence to sequence on a task with known answers: dates in words to ISO 8601.

:func:`mlrecipes.data.sentence_pairs.date_pairs` generates 20,000 pairs
(seed 0) such as ``"thursday the twenty-third of november two thousand and
six" -> "2006-11-23"``, in six layouts with years spoken in several ways. They
are written to a tab-separated file and ``recipes/seq2seq.py`` trains on it
with its default settings (it shuffles with ``--seed`` and keeps 80% for
training, 10% for validation, 10% for testing). The benchmark prints the
exact match of the greedy autoregressive decoding on the 2,000 held-out test
pairs (target: at least 99%) and the wall time.

Run it (under 10 minutes on 2 CPU cores is the target)::

    python benchmarks/seq2seq_dates.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _harness import print_recipe_cost, run_in_process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=20_000, help="pairs to generate")
    parser.add_argument(
        "--output-dir", type=Path, default=None, help="the recipe's run folder (default: a temporary one)"
    )
    parser.add_argument("--recipe-args", nargs=argparse.REMAINDER, default=[], help="extra flags for the recipe")
    args = parser.parse_args(argv)

    from mlrecipes.data.sentence_pairs import write_pairs
    from mlrecipes.testing import date_pairs
    from recipes import seq2seq

    with tempfile.TemporaryDirectory() as folder:
        pairs_file = write_pairs(Path(folder) / "dates.tsv", date_pairs(args.pairs, seed=0))
        output = args.output_dir or Path(folder) / "run"
        run = run_in_process(seq2seq.main, ["--data-file", pairs_file, "--output-dir", output, *args.recipe_args])
    metrics = run.figures
    print()
    print(f"dates in words -> ISO 8601: {metrics['pairs']} pairs")
    print(f"held-out exact match {metrics['test_exact_match']:.4f} (target >= 0.99), "
          f"token accuracy {metrics['test_token_accuracy']:.4f}")  # fmt: skip
    print_recipe_cost(run)


if __name__ == "__main__":
    main()
