"""The figures of a run, drawn with matplotlib's non-interactive Agg backend.

Each function draws one figure, writes it as a PNG atomically and returns the
path. They take plain NumPy arrays and lists, so any recipe can use them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.patches
import matplotlib.pyplot as plt
import numpy as np

from mlrecipes.outputs import write_with

DPI = 110


def save_figure(figure: plt.Figure, path: str | Path, *, layout: bool = True) -> Path:
    """Lay a figure out, write it as a PNG atomically and close it.

    Every figure module (this one, [`mlrecipes.generative_plots`][mlrecipes.generative_plots],
    [`mlrecipes.regression.plots`][mlrecipes.regression.plots]) saves through this function.

    Args:
        figure: The figure to save.
        path: The PNG to write.
        layout: Fit the axes to the figure with `tight_layout` first; False for
            a figure that places its axes itself.

    Returns:
        `path`.
    """
    try:
        if layout:
            figure.tight_layout()
        return write_with(path, lambda temporary: figure.savefig(temporary, dpi=DPI, format="png"))
    finally:
        plt.close(figure)


# How figure titles spell the data sets the recipes load by name; a folder's data set keeps its folder name.
DATASET_TITLES = {
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "imdb": "IMDB",
    "tiny_shakespeare": "Tiny Shakespeare",
}


def dataset_title(name: str) -> str:
    """A data set's name as a figure title spells it: `"fashion_mnist"` gives `"Fashion-MNIST"`.

    Args:
        name: The name a recipe records as `dataset` in `metrics.json`.

    Returns:
        The usual spelling of a known data set, else `name` itself.
    """
    return DATASET_TITLES.get(name, name)


def learning_curves(history: Mapping[str, Sequence[float]], path: str | Path, *, title: str = "") -> Path:
    """Plot each metric per epoch, training beside validation.

    Args:
        history: Metric name to per-epoch values, as in Keras'
            `History.history`; `val_`-prefixed names are drawn on the same
            panel as their training counterpart.
        path: The PNG to write.
        title: Figure title.

    Returns:
        `path`.
    """
    names = [name for name in history if not name.startswith("val_") and name not in ("epoch", "learning_rate", "lr")]
    names = names or [name for name in history if name.startswith("val_")]
    figure, axes = plt.subplots(1, max(len(names), 1), figsize=(4.5 * max(len(names), 1), 3.6), squeeze=False)
    for axis, name in zip(axes[0], names):
        values = list(history[name])
        epochs = np.arange(1, len(values) + 1)
        axis.plot(epochs, values, marker="o", markersize=3, label="train")
        validation = history.get(f"val_{name}")
        if validation is not None and len(validation):
            axis.plot(np.arange(1, len(validation) + 1), list(validation), marker="o", markersize=3, label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(name.replace("_", " "))
        axis.grid(alpha=0.3)
        axis.legend()
        if len(epochs) <= 20:
            axis.set_xticks(epochs)
    if title:
        figure.suptitle(title)
    return save_figure(figure, path)


def prediction_grid(
    images: np.ndarray,
    true_labels: Sequence[int],
    predicted_labels: Sequence[int],
    class_names: Sequence[str],
    path: str | Path,
    *,
    columns: int = 6,
    title: str = "",
) -> Path:
    """Show test images with their predicted and true labels; wrong ones in red.

    Args:
        images: `(n, height, width)` or `(n, height, width, channels)`, any
            numeric range (each image is scaled for display).
        true_labels: The true class of each image.
        predicted_labels: The predicted class of each image.
        class_names: Name of each class.
        path: The PNG to write.
        columns: Images per row.
        title: Figure title.

    Returns:
        `path`.
    """
    images = np.asarray(images)
    count = len(images)
    columns = max(1, min(columns, count))
    rows = max(1, -(-count // columns))
    # One axes showing one mosaic of the images, with room above each for its label: one axes per
    # image took matplotlib over a second to lay out and draw, longer than a small recipe trains.
    height, width = images.shape[1:3]
    color = images.ndim == 4 and images.shape[-1] == 3
    label_room, gap = round(0.32 * height), max(2, round(0.15 * width))
    cell_height, cell_width = height + label_room, width + gap
    mosaic = np.ones((rows * cell_height, columns * cell_width - gap, 3), np.float32)  # white paper
    figure_width = 1.9 * columns
    figure, axis = plt.subplots(figsize=(figure_width, figure_width * mosaic.shape[0] / mosaic.shape[1] + 0.3))
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1.0 - 0.3 / figure.get_size_inches()[1])
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * cell_height + label_room, column * cell_width
        image = images[index].astype(np.float32)
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        low, high = float(image.min()), float(image.max())
        image = (image - low) / (high - low) if high > low else np.zeros_like(image)
        mosaic[top : top + height, left : left + width] = image if color else image[..., None]
        truth, guess = int(true_labels[index]), int(predicted_labels[index])
        right = truth == guess
        label = f"{class_names[guess]}" if right else f"✗ {class_names[guess]}\n(true: {class_names[truth]})"
        axis.text(
            left + width / 2,
            top - 0.6,
            label,
            ha="center",
            va="bottom",
            fontsize=8,
            color="black" if right else "red",
        )
        if not right:
            axis.add_patch(
                matplotlib.patches.Rectangle(
                    (left - 0.5, top - 0.5), width, height, fill=False, edgecolor="red", linewidth=2
                )
            )
    axis.imshow(mosaic, interpolation="nearest")
    axis.axis("off")
    if title:
        figure.suptitle(title)
    return save_figure(figure, path, layout=False)


def confusion_matrix(
    matrix: np.ndarray,
    class_names: Sequence[str],
    path: str | Path,
    *,
    title: str = "Confusion matrix (test split)",
) -> Path:
    """Draw a confusion matrix: rows are true classes, columns predicted ones.

    Each cell shows its count; the colour shows the share of the true class's
    examples (each row sums to 1), so rare classes stay readable.

    Args:
        matrix: `(k, k)` counts, `matrix[i, j]` examples of class `i`
            predicted as class `j`.
        class_names: Name of each class.
        path: The PNG to write.
        title: Figure title.

    Returns:
        `path`.
    """
    matrix = np.asarray(matrix)
    size = len(class_names)
    row_sums = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, row_sums, out=np.zeros(matrix.shape, dtype=float), where=row_sums > 0)
    side = max(4.0, 0.55 * size + 2.5)
    figure, axis = plt.subplots(figsize=(side + 1.0, side))
    shown = axis.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(shown, ax=axis, fraction=0.046, pad=0.04, label="share of true class")
    axis.set_xticks(range(size), labels=class_names, rotation=45, ha="right")
    axis.set_yticks(range(size), labels=class_names)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    if size <= 30:
        for i in range(size):
            for j in range(size):
                axis.text(
                    j,
                    i,
                    str(int(matrix[i, j])),
                    ha="center",
                    va="center",
                    fontsize=7 if size > 12 else 8,
                    color="white" if shares[i, j] > 0.5 else "black",
                )
    axis.set_title(title)
    return save_figure(figure, path)
