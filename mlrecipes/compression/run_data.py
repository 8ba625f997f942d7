"""The run being compressed: its model, reloaded, and its data, loaded again.

A classifier run's `metrics.json` records which recipe wrote it and that
recipe's command line, so its data can be loaded the same way, with the same
splits (a folder of texts is split by the run's own seed).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import keras

from mlrecipes.data.splits import Splits
from mlrecipes.errors import ArgumentValueError
from mlrecipes.saved_run import METRICS_FILE, SavedRun, load_run

IMAGE_RECIPES = ("mnist_mlp", "fashion_mnist_cnn", "cifar10_resnet")
TEXT_RECIPES = ("text_classification",)
CLASSIFIER_RECIPES = IMAGE_RECIPES + TEXT_RECIPES


def load_classifier_run(run_dir: str | Path) -> SavedRun:
    """Reload a finished run of an image or text classifier recipe.

    Args:
        run_dir: The run's `--output-dir`.

    Returns:
        The run, with its model and metrics.

    Raises:
        ArgumentValueError: (argument `model_dir`) When the folder holds no
            finished run, a run of a recipe that is not a classifier (such as
            `linear_regression`), or a text classifier fine-tuned from a
            keras-hub preset, which this module cannot take apart.
    """
    path = Path(run_dir)
    accepted = ", ".join(CLASSIFIER_RECIPES)
    recipe = None
    with contextlib.suppress(OSError, UnicodeDecodeError, ValueError, AttributeError):
        recipe = json.loads((path / METRICS_FILE).read_text(encoding="utf-8")).get("recipe")
    # (An unreadable metrics.json: load_run below says what is wrong with the folder.)
    if recipe is not None and recipe not in CLASSIFIER_RECIPES:
        kind = "a regression" if recipe == "linear_regression" else f"a {recipe}"
        raise ArgumentValueError(
            "model_dir", str(path), f"is {kind} run; compression needs a classifier run ({accepted})"
        )
    saved = load_run(
        path,
        recipe=recipe or CLASSIFIER_RECIPES[0],
        required=("dataset",),
        description=recipe or f"classifier ({accepted})",
    )
    if recipe in TEXT_RECIPES and saved.metrics.get("config", {}).get("backbone"):
        raise ArgumentValueError(
            "model_dir",
            str(path),
            "holds a keras-hub classifier fine-tuned from a pretrained preset; compression takes the "
            "recipe's own transformer or recurrent classifiers",
        )
    return saved


def load_run_data(metrics: dict[str, Any], *, data_dir: str | Path | None = None) -> Splits:
    """Load the data a classifier run was trained and tested on.

    Args:
        metrics: The run's `metrics.json`.
        data_dir: Where to read the data from instead of the run's own
            `--data-dir` (the same files, moved); `None` keeps the run's.

    Returns:
        The run's train, validation and test splits.
    """
    config = metrics.get("config", {})
    recipe = metrics.get("recipe")
    folder = data_dir if data_dir is not None else config.get("data_dir")
    if recipe in ("mnist_mlp", "fashion_mnist_cnn"):
        from mlrecipes.data.mnist import load_mnist

        return load_mnist(metrics.get("dataset", "fashion_mnist"), data_dir=folder)
    if recipe == "cifar10_resnet":
        from mlrecipes.data.cifar10 import load_cifar10

        return load_cifar10(data_dir=folder)
    if recipe == "text_classification":
        if folder:
            from mlrecipes.data.text_folder import load_text_folder

            return load_text_folder(
                folder,
                class_names=config.get("classes"),
                test_fraction=config.get("test_split", 0.2),
                validation_fraction=config.get("validation_split", 0.1),
                seed=config.get("seed", 42),
                on_bad_file=config.get("bad_files", "skip"),
            )
        from mlrecipes.data.imdb import load_imdb

        return load_imdb()
    raise ArgumentValueError("metrics", recipe, f"must be a run of one of {', '.join(CLASSIFIER_RECIPES)}")


def text_classifier_parts(model: keras.Model) -> tuple[keras.Model, keras.Model]:
    """Take a saved `text_classification` model apart: its tokenizer and its classifier.

    The recipe saves `strings -> tokenizer -> classifier of token ids`. Only
    the classifier is numeric: it is what quantization, pruning and LiteRT
    act on, while the tokenizer (string operations, which LiteRT's built-in
    operators do not cover) runs beside it.

    Args:
        model: The model of a `text_classification` run.

    Returns:
        `(tokenizer, classifier)`, sharing the model's weights.

    Raises:
        ArgumentValueError: (argument `model`) When the model is not built that way.
    """
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if len(nested) != 2:
        raise ArgumentValueError("model", model.name, "is not a tokenizer followed by a classifier of token ids")
    return nested[0], nested[1]
