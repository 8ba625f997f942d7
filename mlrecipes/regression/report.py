r"""Compare two fits of a linear regression side by side, in the data's own units.

The `linear_regression` recipe fits the same line twice, by gradient descent (a Keras model) and exactly (least
squares). [`compare_fits`][mlrecipes.regression.report.compare_fits] scores both on the same rows with the same float64
arithmetic (mean squared error, mean absolute error, $R^2$; see
[`regression_metrics`][mlrecipes.regression.least_squares.regression_metrics]);
[`FitComparison.table`][mlrecipes.regression.report.FitComparison.table] prints them side by side with the weights, and
[`draw_figures`][mlrecipes.regression.report.draw_figures] draws the figures of
[`mlrecipes.regression.plots`][mlrecipes.regression.plots].
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlrecipes.regression import plots as regression_plots
from mlrecipes.regression.least_squares import LinearFit, RegressionMetrics, regression_metrics
from mlrecipes.regression.tables import NUMERIC, RegressionData

MSE_BAR = 1e-3
"""How far above the exact minimum gradient descent's training MSE may end: 0.1%."""

GRADIENT_DESCENT = "gradient descent"
"""The name of the fit by gradient descent (the Keras model) in a comparison."""

LEAST_SQUARES = "least squares"
"""The name of the exact least-squares fit in a comparison."""

Split = tuple[np.ndarray, np.ndarray]


@dataclasses.dataclass(frozen=True)
class FitComparison:
    """Two or more fits of the same data, scored on the same rows.

    Attributes:
        lines: Each fit's weights and intercept in the features' own units, by fit name.
        predictions: Each fit's predictions, by fit name and then split name.
        scores: Each fit's metrics, by fit name and then split name.
        targets: The true values of each split.
    """

    lines: dict[str, LinearFit]
    predictions: dict[str, dict[str, np.ndarray]]
    scores: dict[str, dict[str, RegressionMetrics]]
    targets: dict[str, np.ndarray]

    @property
    def train_mse_gap(self) -> float:
        r"""Gradient descent's training MSE relative to the exact minimum: $\mathcal{L}/\mathcal{L}^* - 1$."""
        exact = self.scores[LEAST_SQUARES]["train"].mse
        return self.scores[GRADIENT_DESCENT]["train"].mse / exact - 1 if exact > 0 else 0.0

    @property
    def converged(self) -> bool:
        """Whether gradient descent ended within [`MSE_BAR`][mlrecipes.regression.report.MSE_BAR] of the exact training MSE."""
        return self.train_mse_gap <= MSE_BAR

    def table(self, labels: Sequence[str], *, target_unit: str = "") -> str:
        """The weights, intercepts and metrics of every fit, one column per fit.

        Args:
            labels: A label per weight, such as `"lotsize (CAD per sq ft)"`.
            target_unit: The target's unit, such as `"CAD"`, for the intercept and the errors.

        Returns:
            Lines of text, ending with the verdict on the 0.1% bar.
        """
        fits = list(self.lines)
        unit = f" ({target_unit})" if target_unit else ""
        squared = f" ({target_unit}²)" if target_unit else ""
        rows = [("", *fits)]
        for index, label in enumerate(labels):
            rows.append((label, *(f"{self.lines[fit].weights[index]:.7g}" for fit in fits)))
        rows.append((f"intercept{unit}", *(f"{self.lines[fit].intercept:.7g}" for fit in fits)))
        for split in self.targets:
            for name, suffix, form in (("MSE", squared, ".6g"), ("MAE", unit, ".6g"), ("R²", "", ".4f")):
                values = (format(getattr(self.scores[fit][split], _FIELD[name]), form) for fit in fits)
                rows.append((f"{split} {name}{suffix}", *values))
        width = max(len(row[0]) for row in rows) + 2
        lines = ["  " + row[0].ljust(width) + "".join(cell.rjust(18) for cell in row[1:]) for row in rows]
        verdict = "within" if self.converged else "NOT within (train for more epochs)"
        lines.append(
            f"gradient descent's training MSE is {self.train_mse_gap:+.2e} relative to the exact minimum: "
            f"{verdict} the {MSE_BAR:.1%} bar"
        )
        return "\n".join(lines)

    def to_dict(self, names: Sequence[str]) -> dict[str, Any]:
        """Every fit's weights by feature name, intercept and metrics by split, as JSON-ready data."""
        return {
            fit.replace(" ", "_"): {
                **line.to_dict(names),
                **{split: score.to_dict() for split, score in self.scores[fit].items()},
            }
            for fit, line in self.lines.items()
        }


_FIELD = {"MSE": "mse", "MAE": "mae", "R²": "r2"}


def compare_fits(
    fits: Mapping[str, tuple[LinearFit, Callable[[np.ndarray], np.ndarray]]], splits: Mapping[str, Split]
) -> FitComparison:
    """Score every fit on every split with the same float64 metrics.

    Args:
        fits: Fit name to its line and a function that predicts from `(n, d)` feature rows (for a Keras model, the model
            itself, so that what is scored is what was trained). Must include
            [`GRADIENT_DESCENT`][mlrecipes.regression.report.GRADIENT_DESCENT] and
            [`LEAST_SQUARES`][mlrecipes.regression.report.LEAST_SQUARES] for
            [`FitComparison.train_mse_gap`][mlrecipes.regression.report.FitComparison.train_mse_gap].
        splits: Split name (`"train"`, `"test"`) to its `(features, target)`.

    Returns:
        The comparison.
    """
    predictions = {
        fit: {split: np.asarray(predict(x), dtype=np.float64).ravel() for split, (x, _) in splits.items()}
        for fit, (_, predict) in fits.items()
    }
    scores = {
        fit: {split: regression_metrics(splits[split][1], values) for split, values in by_split.items()}
        for fit, by_split in predictions.items()
    }
    return FitComparison(
        lines={fit: line for fit, (line, _) in fits.items()},
        predictions=predictions,
        scores=scores,
        targets={split: np.asarray(y, dtype=np.float64) for split, (_, y) in splits.items()},
    )


def weight_labels(data: RegressionData) -> list[str]:
    """A label per weight that says its unit: `lotsize (CAD per sq ft)`, `airco=yes (CAD, against no)`."""
    target_unit = data.units.get(data.target_name, data.target_name)
    labels = []
    for feature in data.features:
        if feature.kind == NUMERIC:
            feature_unit = data.units.get(feature.column, f"unit of {feature.column}")
            labels.append(f"{feature.column} ({target_unit} per {feature_unit})")
        else:
            reference = feature.levels[0]
            labels += [f"{name} ({target_unit}, against {reference})" for name in feature.names]
    return labels


def draw_figures(
    comparison: FitComparison,
    splits: Mapping[str, Split],
    history: Mapping[str, Sequence[float]],
    output_dir: str | Path,
    *,
    data: RegressionData,
    title: str,
) -> list[Path]:
    """Draw the data with the fitted lines (or predicted against actual), the learning curves and the residuals.

    Every figure is titled by the data set, and every axis in the data's units says the unit.

    Args:
        comparison: The compared fits.
        splits: Split name to its `(features, target)`.
        history: The Keras training history (`loss`, and `val_loss` if the
            test rows were passed as validation data).
        output_dir: The folder to write the PNG files in.
        data: The regression data, for names and units.
        title: The data set's name, such as `"Windsor house sales, 1987"`, which heads every figure.

    Returns:
        The paths written: `fitted_line.png` (one feature) or
        `predicted_vs_actual.png` (several), `learning_curves.png` (the
        training loss per epoch against the exact minimum; the run's only
        per-epoch figure), `residuals.png`.
    """
    output_dir = Path(output_dir)
    target = data.target_name
    unit = data.units.get(target, "")
    descent = comparison.predictions[GRADIENT_DESCENT]
    by_split = {split: (comparison.targets[split], descent[split]) for split in descent}
    figures = []
    if len(data.feature_names) == 1:
        lines = {fit: (float(line.weights[0]), line.intercept) for fit, line in comparison.lines.items()}
        slope, intercept = lines[GRADIENT_DESCENT]
        feature = data.feature_names[0]
        figures.append(
            regression_plots.fitted_line(
                {split: (x[:, 0], y) for split, (x, y) in splits.items()},
                lines,
                output_dir / "fitted_line.png",
                x_label=feature + (f" ({data.units[feature]})" if feature in data.units else ""),
                y_label=target + (f" ({unit})" if unit else ""),
                title=f"{title}\n{target} = {slope:.5g} × {feature} + {intercept:.7g} (gradient descent)",
            )
        )
    else:
        figures.append(
            regression_plots.predicted_vs_actual(
                by_split,
                output_dir / "predicted_vs_actual.png",
                target=target,
                unit=unit,
                title=f"{title}\n{target} predicted by gradient descent's fit",
            )
        )
    if history.get("loss"):
        figures.append(
            regression_plots.loss_curve(
                history["loss"],
                comparison.scores[LEAST_SQUARES]["train"].mse,
                output_dir / "learning_curves.png",
                test_losses=history.get("val_loss"),
                unit=unit,
                title=f"{title}: the loss of gradient descent against the exact minimum",
            )
        )
    figures.append(
        regression_plots.residuals(
            by_split,
            output_dir / "residuals.png",
            target=target,
            unit=unit,
            title=f"{title}: residuals of gradient descent's fit",
        )
    )
    return figures
