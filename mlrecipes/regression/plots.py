"""The figures of a regression: the fitted line, predicted against actual, the loss curve, the residuals.

Like [`mlrecipes.plots`][mlrecipes.plots], each function draws one figure with matplotlib's
Agg backend, writes it as a PNG atomically and returns the path; they take
plain NumPy arrays. Axes in the data's units print their numbers in full, with
thousands separators (`175,000`), rather than as multiples of an offset such as `1e5`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter

from mlrecipes.plots import save_figure

SPLIT_COLOURS = {"train": "tab:blue", "test": "tab:orange"}
LINE_STYLES = ("-", "--", ":", "-.")


def _split_colour(split: str) -> str:
    return SPLIT_COLOURS.get(split, "tab:gray")


def _with_unit(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


# Tick labels in full, with thousands separators: 175,000 rather than 1.75 under a "1e5" offset.
PLAIN_NUMBERS = FuncFormatter(lambda value, _: f"{value:,.6g}")


def _plain_numbers(*axes: matplotlib.axis.Axis) -> None:
    for axis in axes:
        axis.set_major_formatter(PLAIN_NUMBERS)


def fitted_line(
    points: Mapping[str, tuple[np.ndarray, np.ndarray]],
    lines: Mapping[str, tuple[float, float]],
    path: str | Path,
    *,
    x_label: str,
    y_label: str,
    title: str = "",
) -> Path:
    """Scatter the data of one feature and draw fitted lines over it.

    Args:
        points: Split name (`"train"`, `"test"`) to its `(x, y)` arrays.
        lines: Label to `(slope, intercept)` of each line to draw; the first
            is drawn solid and thick, the others thinner and dashed on top.
        path: The PNG to write.
        x_label: The feature's name.
        y_label: The target's name.
        title: Figure title.

    Returns:
        `path`.
    """
    figure, axis = plt.subplots(figsize=(6.4, 4.4))
    for split, (x, y) in points.items():
        axis.scatter(x, y, s=9, alpha=0.55, color=_split_colour(split), label=f"{split} ({len(x)})", linewidths=0)
    every_x = np.concatenate([np.asarray(x, dtype=float).ravel() for x, _ in points.values()])
    span = np.linspace(every_x.min(), every_x.max(), 2)
    for index, (label, (slope, intercept)) in enumerate(lines.items()):
        axis.plot(
            span,
            slope * span + intercept,
            LINE_STYLES[index % len(LINE_STYLES)],
            color="black" if index == 0 else "tab:red",
            linewidth=3.0 if index == 0 else 1.5,
            label=label,
        )
    axis.set_xlabel(x_label)
    axis.set_ylabel(y_label)
    _plain_numbers(axis.xaxis, axis.yaxis)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    if title:
        axis.set_title(title, fontsize=10)
    return save_figure(figure, path)


def predicted_vs_actual(
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
    path: str | Path,
    *,
    target: str,
    unit: str = "",
    title: str = "",
) -> Path:
    """Scatter predictions against true values; a perfect model lies on the diagonal.

    Args:
        splits: Split name to its `(actual, predicted)` arrays.
        path: The PNG to write.
        target: The target's name, for the axes.
        unit: The target's unit, such as `"CAD"`, or `""` if unknown.
        title: Figure title.

    Returns:
        `path`.
    """
    figure, axis = plt.subplots(figsize=(5.2, 5.0))
    values = []
    for split, (actual, predicted) in splits.items():
        actual, predicted = np.ravel(actual), np.ravel(predicted)
        values += [actual, predicted]
        axis.scatter(actual, predicted, s=9, alpha=0.55, color=_split_colour(split), label=split, linewidths=0)
    low, high = float(min(v.min() for v in values)), float(max(v.max() for v in values))
    axis.plot([low, high], [low, high], "--", color="black", linewidth=1, label="predicted = actual")
    axis.set_xlabel(_with_unit(f"actual {target}", unit))
    axis.set_ylabel(_with_unit(f"predicted {target}", unit))
    _plain_numbers(axis.xaxis, axis.yaxis)
    axis.set_aspect("equal", adjustable="datalim")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    if title:
        axis.set_title(title, fontsize=10)
    return save_figure(figure, path)


def loss_curve(
    losses: Sequence[float],
    exact_loss: float,
    path: str | Path,
    *,
    test_losses: Sequence[float] | None = None,
    unit: str = "",
    title: str = "",
) -> Path:
    r"""The training loss per epoch beside the exact minimum it should reach.

    The left panel shows the mean squared error on a log scale with the
    least-squares minimum as a dashed line (and the test rows' loss, if given);
    the right one shows the relative gap
    $(\mathcal{L} - \mathcal{L}^*) / \mathcal{L}^*$, which gradient descent on a
    quadratic shrinks by a constant factor per step (a straight line on the log
    scale) until float32 rounding stops it.

    Args:
        losses: The training loss of each epoch.
        exact_loss: The least-squares minimum $\mathcal{L}^*$ on the same rows.
        path: The PNG to write.
        test_losses: The test rows' loss after each epoch, or None.
        unit: The target's unit, such as `"CAD"` (the loss is in its square), or `""` if unknown.
        title: Figure title.

    Returns:
        `path`.
    """
    losses = np.asarray(losses, dtype=np.float64)
    epochs = np.arange(1, len(losses) + 1)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.plot(epochs, losses, marker="o", markersize=3, label="gradient descent, training rows")
    if test_losses is not None and len(test_losses) == len(losses):
        left.plot(
            epochs, test_losses, marker="o", markersize=3, color="tab:orange", label="gradient descent, test rows"
        )
    left.axhline(
        exact_loss, linestyle="--", color="black", linewidth=1, label=f"least squares, training rows ({exact_loss:.4g})"
    )
    left.set_yscale("log")
    left.set_xlabel("epoch")
    left.set_ylabel(_with_unit("mean squared error", f"{unit}²" if unit else ""))
    left.legend(fontsize=8)
    left.grid(alpha=0.3, which="both")
    gap = np.abs(losses - exact_loss) / exact_loss
    shown = gap > 0
    right.plot(epochs[shown], gap[shown], marker="o", markersize=3, color="tab:red")
    right.axhline(1e-3, linestyle=":", color="black", linewidth=1, label="0.1%")
    right.set_yscale("log")
    right.set_xlabel("epoch")
    right.set_ylabel("training MSE relative gap to least squares")
    right.legend(fontsize=8)
    right.grid(alpha=0.3, which="both")
    if title:
        figure.suptitle(title)
    return save_figure(figure, path)


def residuals(
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
    path: str | Path,
    *,
    target: str,
    unit: str = "",
    title: str = "",
) -> Path:
    """Residuals (actual minus predicted) against the prediction, and their histogram.

    A good linear fit leaves residuals scattered evenly around zero with no
    trend; a funnel shape means the error grows with the prediction.

    Args:
        splits: Split name to its `(actual, predicted)` arrays.
        path: The PNG to write.
        target: The target's name, for the axes.
        unit: The target's unit, such as `"CAD"`, or `""` if unknown.
        title: Figure title.

    Returns:
        `path`.
    """
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    for split, (actual, predicted) in splits.items():
        actual, predicted = np.ravel(actual), np.ravel(predicted)
        residual = actual - predicted
        colour = _split_colour(split)
        left.scatter(predicted, residual, s=9, alpha=0.55, color=colour, label=split, linewidths=0)
        right.hist(residual, bins=30, alpha=0.55, color=colour, label=split)
    left.axhline(0.0, color="black", linewidth=1)
    left.set_xlabel(_with_unit(f"predicted {target}", unit))
    left.set_ylabel(_with_unit("residual: actual − predicted", unit))
    _plain_numbers(left.xaxis, left.yaxis, right.xaxis)
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    right.axvline(0.0, color="black", linewidth=1)
    right.set_xlabel(_with_unit("residual", unit))
    right.set_ylabel("rows")
    right.legend(fontsize=8)
    if title:
        figure.suptitle(title)
    return save_figure(figure, path)
