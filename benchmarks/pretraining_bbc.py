"""Benchmark: why pretraining matters — fine-tuning a pretrained encoder on few labels, against scratch and TF-IDF.

On BBC News (2,224 UTF-8 articles, 5 topics) one seeded, stratified 80/20
split (seed 42) is written as ``train/`` and ``test/`` folders. Then:

1. ``recipes.masked_lm_pretraining`` pretrains its default encoder on the
   text of the 1,780 training articles only (never the test articles), once,
   as a timed process: a WordPiece vocabulary, masked-language modelling, a
   keras-hub preset.
2. For 10 and 50 labelled articles per class and for all of them, and for each
   seed (0, 1, 2 by default; the seed draws the labelled articles and
   initializes the new weights), ``recipes.text_classification --backbone
   PRESET`` trains, each as a timed process, with ``--finetune full``
   (every weight), ``lora`` (rank 4) and ``scratch`` (the same encoder and
   tokenizer from random weights, the control), all with the recipe's
   defaults for fine-tuning and ``--validation-split 0``: every method sees
   exactly the same labelled articles and nothing else.
3. On the same labelled articles, the linear classics: TF-IDF of word 1- and
   2-grams (sublinear tf, ``min_df=2``, or ``min_df=1`` below 100 articles,
   where a word seen in two of them is rare) with ``LogisticRegression(C=10)``
   and ``LinearSVC()``.

Prints every run, then a table of median [lowest–highest] test accuracy per
method and label count, and the verdicts: at 50 labels per class the
pretrained encoder beats scratch by at least 8 points and LoRA (at most 5% of
the weights trainable) beats scratch by at least 5; pretraining within 15
minutes and every fine-tuning within 5 (wall time of the whole process, 2 CPU
cores). The gap to the linear models is printed in every row.

    pip install -c constraints.txt -e ".[bench]"
    python benchmarks/pretraining_bbc.py [--seeds 0 1 2] [--labels-per-class 10 50 all]
        [--preset RUN/preset] [--output-dir runs/pretraining_bbc] [--figure PNG]

``--preset`` reuses an encoder pretrained before on the same split (skips
step 1; its time is then not judged). ``--figure`` draws accuracy against
labels per class, one line per method.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _harness import (
    ACCURACY,
    LOGISTIC,
    SVM,
    Contender,
    Run,
    Summary,
    Verdicts,
    bbc_news_folder,
    texts_and_labels,
    tfidf_baselines,
)

SPLIT_SEED = 42
TEST_FRACTION = 0.2
PRETRAIN_LIMIT = 15 * 60.0
FINETUNE_LIMIT = 5 * 60.0
METHODS = {
    "pretrained, full fine-tuning": ("--finetune", "full"),
    "pretrained, LoRA rank 4": ("--finetune", "lora", "--lora-rank", "4"),
    "same encoder from scratch": ("--finetune", "scratch"),
}
FULL, LORA, SCRATCH = METHODS


def write_split(source: Path, destination: Path) -> tuple[int, int]:
    """Write BBC News's seeded 80/20 split as ``train/`` and ``test/`` class folders; return their sizes."""
    from mlrecipes.data.text_folder import read_labelled_texts, stratified_split

    texts = read_labelled_texts(source)
    kept, held_out = stratified_split(texts.labels, TEST_FRACTION, SPLIT_SEED)
    for part, indices in (("train", kept), ("test", held_out)):
        for index in indices:
            folder = destination / part / texts.class_names[texts.labels[index]]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{index:04d}.txt").write_text(texts.texts[index], encoding="utf-8")
    return len(kept), len(held_out)


def linear_baselines(split: Path, labels_per_class: int | None, seed: int) -> dict[str, Run]:
    """TF-IDF + logistic regression and + LinearSVC on the labelled articles the recipe's run trains on."""
    from mlrecipes.data.labelled_subset import keep_labels_per_class
    from mlrecipes.data.text_folder import load_text_folder

    # The same calls as the recipe's, with the same seed: the same labelled articles.
    data = load_text_folder(split, validation_fraction=0.0, seed=seed)
    if labels_per_class is not None:
        data = keep_labels_per_class(data, labels_per_class, validation_fraction=0.0, seed=seed)
    train = texts_and_labels(data.train)
    # Below 100 texts a word seen in two of them is already rare: keep every word.
    return tfidf_baselines(train, texts_and_labels(data.test), min_df=2 if len(train[0]) >= 100 else 1, max_iter=5000)


def draw(table: dict[str, dict[str, Summary]], sizes: list[str], path: Path) -> None:
    """Median test accuracy against labels per class, one line per method, the range shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlrecipes.plots import save_figure

    figure, axes = plt.subplots(figsize=(7, 4.2))
    positions = range(len(sizes))
    for name, by_size in table.items():
        medians = [by_size[size].median for size in sizes]
        axes.plot(positions, medians, marker="o", label=name, linestyle="--" if "TF-IDF" in name else "-")
        axes.fill_between(
            positions, [by_size[size].low for size in sizes], [by_size[size].high for size in sizes], alpha=0.15
        )
    axes.set_xticks(list(positions), sizes)
    axes.set_xlabel("labelled articles per class")
    axes.set_ylabel("test accuracy (median of seeds)")
    axes.set_title("BBC News: pretraining on the training articles' text, then fine-tuning")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    save_figure(figure, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the labelled draws")
    parser.add_argument(
        "--labels-per-class", nargs="+", default=["10", "50", "all"], help="labelled articles per class ('all')"
    )
    parser.add_argument("--preset", type=Path, default=None, help="reuse this pretrained preset folder")
    parser.add_argument("--output-dir", type=Path, default=None, help="keep every run here (default: discard)")
    parser.add_argument("--figure", type=Path, default=None, help="draw the table as a PNG here")
    args = parser.parse_args()
    try:
        import sklearn  # noqa: F401 - only to fail early, with one line
    except ImportError:
        sys.exit("the baselines need scikit-learn: pip install -c constraints.txt -e '.[bench]'")
    verdicts = Verdicts()
    with tempfile.TemporaryDirectory() as scratch:
        keep = args.output_dir or Path(scratch)
        split = Path(scratch) / "bbc-split"
        train_size, test_size = write_split(bbc_news_folder(), split)
        print(f"BBC News split (seed {SPLIT_SEED}): {train_size} training, {test_size} test articles", flush=True)

        preset = args.preset
        if preset is None:
            pretraining = Contender.recipe("pretraining", "masked_lm_pretraining", "--data-dir", split / "train")
            run = pretraining.run(SPLIT_SEED, run_dir=keep / "pretraining")
            figures = run.figures
            print(
                f"pretraining: {run.wall_seconds:.1f} s wall ({figures['train_seconds']:.1f} s training, "
                f"{figures['epochs']} epochs, {figures['optimizer_steps']} steps, {figures['backbone_parameters']:,} "
                f"encoder parameters); held-out masked tokens: accuracy {figures['test_masked_accuracy']:.4f}, "
                f"perplexity {figures['test_perplexity']:.1f} (unigram {figures['unigram_test_perplexity']:.1f})",
                flush=True,
            )
            verdicts.check(
                f"pretraining wall time {run.wall_seconds:.1f} s <= {PRETRAIN_LIMIT:.0f} s",
                run.wall_seconds <= PRETRAIN_LIMIT,
            )
            preset = keep / "pretraining" / "preset"

        table: dict[str, dict[str, Summary]] = {name: {} for name in (*METHODS, LOGISTIC, SVM)}
        trainable: dict[str, float] = {}
        slowest = 0.0
        for size in args.labels_per_class:
            per_class = None if size == "all" else int(size)
            runs: dict[str, list[Run]] = {name: [] for name in table}
            for seed in args.seeds:
                flags = ["--labels-per-class", str(per_class)] if per_class else []
                for name, method in METHODS.items():
                    contender = Contender.recipe(
                        name, "text_classification", "--data-dir", split, "--backbone", preset,
                        "--validation-split", "0", *flags, *method,
                    )  # fmt: skip
                    run = contender.run(seed, run_dir=keep / f"labels-{size}" / method[1] / f"seed-{seed}")
                    runs[name].append(run)
                    trainable[name] = run.figures["trainable_parameters"] / run.figures["parameters"]
                    slowest = max(slowest, run.wall_seconds)
                    print(
                        f"  {size} per class, seed {seed}: {name}: test accuracy {run.figures['test_accuracy']:.4f}, "
                        f"{run.wall_seconds:.1f} s ({run.figures['epochs']} epochs, "
                        f"{run.figures['optimizer_steps']} steps, {run.figures['labelled_texts']['train']} texts)",
                        flush=True,
                    )
                for name, run in linear_baselines(split, per_class, seed).items():
                    runs[name].append(run)
                    print(
                        f"  {size} per class, seed {seed}: {name}: test accuracy "
                        f"{run.figures['test_accuracy']:.4f} ({run.figures['train_texts']} texts)",
                        flush=True,
                    )
            for name, values in runs.items():
                table[name][size] = Summary.of(run.value(ACCURACY.key) for run in values)

    sizes = list(args.labels_per_class)
    print(
        f"\nmedian [lowest-highest] test accuracy over seeds {', '.join(map(str, args.seeds))}, {test_size} test articles:"
    )
    print(f"  {'labels per class':<40}" + "".join(f"{size:>24}" for size in sizes))
    best_linear = {size: max(table[LOGISTIC][size].median, table[SVM][size].median) for size in sizes}
    for name, by_size in table.items():
        cells = "".join(
            f"{by_size[size].median:>9.4f} [{by_size[size].low:.3f}-{by_size[size].high:.3f}]" for size in sizes
        )
        print(f"  {name:<40}{cells}")
    for name in METHODS:
        gaps = ", ".join(f"{size}: {100 * (table[name][size].median - best_linear[size]):+.1f}" for size in sizes)
        print(f"  gap of {name} to the better linear model, points: {gaps}")
    print(f"  trainable share of the weights: {', '.join(f'{name} {share:.1%}' for name, share in trainable.items())}")

    if "50" in sizes:
        full = 100 * (table[FULL]["50"].median - table[SCRATCH]["50"].median)
        lora = 100 * (table[LORA]["50"].median - table[SCRATCH]["50"].median)
        verdicts.check(
            f"50 per class: pretrained full fine-tuning {full:+.1f} points over scratch (target >= 8)", full >= 8
        )
        verdicts.check(f"50 per class: LoRA {lora:+.1f} points over scratch (target >= 5)", lora >= 5)
        verdicts.check(f"LoRA trains {trainable[LORA]:.1%} of the weights (target <= 5%)", trainable[LORA] <= 0.05)
    verdicts.check(f"slowest fine-tuning {slowest:.1f} s <= {FINETUNE_LIMIT:.0f} s", slowest <= FINETUNE_LIMIT)
    if args.figure:
        draw(table, sizes, args.figure)
        print(f"figure: {args.figure}")
    return verdicts.status


if __name__ == "__main__":
    sys.exit(main())
