"""The comparison table of a compression run, and its figure of accuracy against size."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker

from mlrecipes.plots import save_figure  # sets the Agg backend first

COLUMNS = (
    ("variant", "variant", "{}"),
    ("bytes", "size (KB)", "{:,.1f}"),
    ("gzipped_bytes", "gzipped (KB)", "{:,.1f}"),
    ("test_accuracy", "test accuracy", "{:.4f}"),
    ("agreement", "agreement", "{:.4f}"),
    ("latency_batch_1_ms", "ms/example, batch 1", "{:.3f}"),
    ("latency_batch_256_ms", "ms/example, batch 256", "{:.4f}"),
)


def _cell(row: dict[str, Any], key: str, form: str) -> str:
    value = row.get(key)
    if value is None:
        return "—"
    if key.endswith("bytes"):
        value = value / 1000
    return form.format(value)


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """The variants as a Markdown table: size, gzipped size, accuracy, agreement, latency.

    Args:
        rows: One dict per variant, with the keys of `COLUMNS` (missing ones print as "—").

    Returns:
        The table, one line per row, ending with a newline.
    """
    lines = [
        "| " + " | ".join(title for _, title, _ in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row, key, form) for key, _, form in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def accuracy_against_size(rows: Sequence[dict[str, Any]], path: str | Path, *, title: str = "") -> Path:
    """Plot each variant's test accuracy against its file size (gzipped, log scale).

    Args:
        rows: One dict per variant with `variant`, `gzipped_bytes` and `test_accuracy`.
        path: The PNG to write.
        title: Figure title, such as the data set's name.

    Returns:
        `path`.
    """
    figure, axis = plt.subplots(figsize=(9, 4.8))
    markers = "osD^vP*Xhp<>"
    shown = [row for row in rows if row.get("gzipped_bytes") is not None and row.get("test_accuracy") is not None]
    for index, row in enumerate(shown):
        axis.scatter(
            row["gzipped_bytes"] / 1000,
            row["test_accuracy"],
            s=45,
            marker=markers[index % len(markers)],
            color=plt.cm.tab20(index % 20),
            label=row["variant"],
        )
    axis.set_xscale("log")
    axis.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:,.0f}"))
    axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axis.set_xlabel("file size after gzip (KB, log scale)")
    axis.set_ylabel("test accuracy")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    if title:
        axis.set_title(title)
    return save_figure(figure, path)
