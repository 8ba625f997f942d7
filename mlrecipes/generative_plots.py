"""The figures of a generative model: image grids, reconstructions and the latent space.

Like [`mlrecipes.plots`][mlrecipes.plots], each function draws one figure with matplotlib's
non-interactive Agg backend, writes it as a PNG atomically and returns the
path. They take plain NumPy arrays: images of shape `(n, height, width)` or
`(n, height, width, channels)` with values in [0, 1] (a single channel is
drawn in gray), and codes of shape `(n, 2)`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from mlrecipes.errors import ArgumentValueError
from mlrecipes.plots import save_figure


def _displayable(images: np.ndarray, argument: str = "images") -> np.ndarray:
    """Images as `(n, height, width)` gray or `(n, height, width, 3)` color, clipped to [0, 1]."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3) or not len(images):
        raise ArgumentValueError(
            argument, images.shape, "expected a non-empty batch of images, (n, height, width[, 1 or 3 channels])"
        )
    return np.clip(images, 0.0, 1.0)


def tile(images: np.ndarray, rows: int, columns: int, *, gap: int = 1) -> np.ndarray:
    """Lay out images row by row on one canvas, `gap` pixels apart (missing ones left blank).

    Args:
        images: `(n, height, width[, channels])`, values in [0, 1].
        rows: Rows of the canvas.
        columns: Images per row.
        gap: Pixels between neighbours.

    Returns:
        The canvas, `(rows * (height + gap) - gap, columns * (width + gap) - gap[, channels])`.
    """
    images = _displayable(images)
    height, width = images.shape[1:3]
    canvas = np.ones((rows * (height + gap) - gap, columns * (width + gap) - gap, *images.shape[3:]), np.float32)
    for index, image in enumerate(images[: rows * columns]):
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        canvas[top : top + height, left : left + width] = image
    return canvas


def _show(axis: plt.Axes, canvas: np.ndarray, **kwargs) -> None:
    axis.imshow(
        canvas, cmap="gray" if canvas.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest", **kwargs
    )


def image_grid(images: np.ndarray, path: str | Path, *, columns: int = 8, title: str = "") -> Path:
    """Draw images in a grid, such as samples from a generative model.

    Args:
        images: `(n, height, width[, channels])`, values in [0, 1].
        path: The PNG to write.
        columns: Images per row (fewer when there are fewer images).
        title: Figure title.

    Returns:
        `path`.
    """
    images = _displayable(images)
    columns = max(1, min(columns, len(images)))
    rows = math.ceil(len(images) / columns)
    figure, axis = plt.subplots(figsize=(max(2.5, 0.9 * columns), 0.9 * rows + (0.5 if title else 0.1)))
    _show(axis, tile(images, rows, columns))
    axis.axis("off")
    if title:
        axis.set_title(title, fontsize=10)
    return save_figure(figure, path)


def reconstructions(
    originals: np.ndarray, reconstructed: np.ndarray, path: str | Path, *, columns: int = 8, title: str = ""
) -> Path:
    """Draw originals with their reconstructions: each row of originals above its row of reconstructions.

    Args:
        originals: `(n, height, width[, channels])`, values in [0, 1].
        reconstructed: The model's reconstructions of them, same shape.
        path: The PNG to write.
        columns: Image pairs per row.
        title: Figure title.

    Returns:
        `path`.

    Raises:
        ArgumentValueError: If the two batches differ in shape.
    """
    originals, reconstructed = _displayable(originals, "originals"), _displayable(reconstructed, "reconstructed")
    if originals.shape != reconstructed.shape:
        raise ArgumentValueError(
            "reconstructed", reconstructed.shape, f"must have the originals' shape {originals.shape}"
        )
    columns = max(1, min(columns, len(originals)))
    bands = math.ceil(len(originals) / columns)
    figure, axes = plt.subplots(
        2 * bands, 1, figsize=(max(3.0, 0.9 * columns), 1.05 * 2 * bands + (0.4 if title else 0.1)), squeeze=False
    )
    for band in range(bands):
        chunk = slice(band * columns, (band + 1) * columns)
        for offset, (images, label) in enumerate(((originals, "original"), (reconstructed, "reconstruction"))):
            axis = axes[2 * band + offset, 0]
            _show(axis, tile(images[chunk], 1, columns))
            axis.set_xticks([])
            axis.set_yticks([])
            axis.set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
    if title:
        figure.suptitle(title, fontsize=10)
    return save_figure(figure, path)


def latent_scatter(
    codes: np.ndarray, labels: Sequence[int], class_names: Sequence[str], path: str | Path, *, title: str = ""
) -> Path:
    """Draw two-dimensional codes as points coloured by class.

    Args:
        codes: `(n, 2)`, such as the encoder's means of the test images.
        labels: The class of each code.
        class_names: Name of each class, for the legend.
        path: The PNG to write.
        title: Figure title.

    Returns:
        `path`.

    Raises:
        ArgumentValueError: If the codes are not two-dimensional or the labels do not match them.
    """
    codes = np.asarray(codes, dtype=np.float32)
    labels = np.asarray(labels)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ArgumentValueError("codes", codes.shape, "expected (n, 2): one two-dimensional code per row")
    if labels.shape != (len(codes),):
        raise ArgumentValueError("labels", labels.shape, f"expected one label per code, ({len(codes)},)")
    figure, axis = plt.subplots(figsize=(7.2, 6.0))
    colours = plt.get_cmap("tab10")
    for index, name in enumerate(class_names):
        chosen = labels == index
        if chosen.any():
            axis.scatter(*codes[chosen].T, s=3, alpha=0.6, color=colours(index % 10), label=name, rasterized=True)
    axis.set_xlabel("$z_1$")
    axis.set_ylabel("$z_2$")
    axis.grid(alpha=0.3)
    axis.legend(markerscale=4, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    if title:
        axis.set_title(title, fontsize=10)
    return save_figure(figure, path)


def latent_plane(images: np.ndarray, axis_values: Sequence[float], path: str | Path, *, title: str = "") -> Path:
    """Draw the images decoded from a square grid of two-dimensional codes.

    Args:
        images: `(k * k, height, width[, channels])`: the image of code
            `(axis_values[j], axis_values[k - 1 - i])` at row `i`, column `j`
            (so $z_2$ grows upwards, as on a plot).
        axis_values: The `k` values of each coordinate, increasing.
        path: The PNG to write.
        title: Figure title.

    Returns:
        `path`.

    Raises:
        ArgumentValueError: If there are not `k * k` images.
    """
    images = _displayable(images)
    size = len(axis_values)
    if len(images) != size * size:
        raise ArgumentValueError(
            "images", len(images), f"expected one image per grid point, {size} x {size} = {size * size}"
        )
    height, width = images.shape[1:3]
    figure, axis = plt.subplots(figsize=(7.0, 7.0))
    _show(axis, tile(images, size, size, gap=0))
    ticks = [index for index in range(size) if index % max(1, size // 5) == 0 or index == size - 1]
    axis.set_xticks([(index + 0.5) * width for index in ticks], [f"{axis_values[index]:.1f}" for index in ticks])
    axis.set_yticks(
        [(size - 1 - index + 0.5) * height for index in ticks], [f"{axis_values[index]:.1f}" for index in ticks]
    )
    axis.set_xlabel("$z_1$")
    axis.set_ylabel("$z_2$")
    if title:
        axis.set_title(title, fontsize=10)
    return save_figure(figure, path)
