r"""Linear least squares: the exact solution, the regression metrics, and back to original units.

For $N$ rows of $d$ features $X \in \mathbb{R}^{N \times d}$ and targets
$y \in \mathbb{R}^N$, ordinary least squares chooses the weights $w$ and the
intercept $b$ of $\hat y = X w + b$ that minimize the mean squared error. With
$\tilde X = [X, \mathbf{1}]$ and $\theta = (w, b)$ the minimum solves the normal
equations $\tilde X^\top \tilde X \theta = \tilde X^\top y$;
[`fit_least_squares`][mlrecipes.regression.least_squares.fit_least_squares] solves the same problem stably with
`numpy.linalg.lstsq` (an SVD) instead of inverting $\tilde X^\top \tilde X$.

A model that standardizes its inputs, $x'_j = (x_j - \mu_j) / \sigma_j$, and
then applies weights $w'$ and bias $b'$ is the same straight line in other
units; [`from_standardized`][mlrecipes.regression.least_squares.from_standardized] converts it back:

$$w_j = \frac{w'_j}{\sigma_j}, \qquad b = b' - \sum_{j=1}^{d} \frac{w'_j \mu_j}{\sigma_j}.$$

Everything here is float64 NumPy, independent of Keras, so it can check a
trained model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from mlrecipes.errors import DataError

KERAS_EPSILON = 1e-7
"""The smallest standard deviation Keras' `Normalization` layer divides by."""


@dataclasses.dataclass(frozen=True)
class LinearFit:
    r"""A fitted line (or hyperplane) $\hat y = X w + b$ in the features' own units.

    Attributes:
        weights: One weight per feature column, $w$, of shape `(d,)`.
        intercept: The intercept $b$.
    """

    weights: np.ndarray
    intercept: float

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predictions $X w + b$ for rows of features of shape `(n, d)`."""
        return np.asarray(features, dtype=np.float64) @ self.weights + self.intercept

    def to_dict(self, names: Sequence[str]) -> dict[str, object]:
        """The weights by feature name and the intercept, as JSON-ready floats."""
        return {
            "weights": {name: float(weight) for name, weight in zip(names, self.weights)},
            "intercept": float(self.intercept),
        }


def with_ones(features: np.ndarray) -> np.ndarray:
    r"""The design matrix $\tilde X = [X, \mathbf{1}]$: the features and a column of ones."""
    features = np.asarray(features, dtype=np.float64)
    return np.hstack([features, np.ones((len(features), 1))])


def fit_least_squares(features: np.ndarray, target: np.ndarray) -> LinearFit:
    """The exact least-squares fit of `target` on `features` with an intercept.

    Args:
        features: `(n, d)` feature rows.
        target: `(n,)` targets.

    Returns:
        The weights and intercept that minimize the mean squared error.
    """
    solution, *_ = np.linalg.lstsq(with_ones(features), np.asarray(target, dtype=np.float64), rcond=None)
    return LinearFit(weights=solution[:-1], intercept=float(solution[-1]))


def from_standardized(
    kernel: np.ndarray, bias: float | np.ndarray, mean: np.ndarray, variance: np.ndarray
) -> LinearFit:
    r"""Convert weights learned on standardized features back to the features' own units.

    Args:
        kernel: The weights $w'$ applied to $(x - \mu) / \sigma$, shape `(d,)`
            or `(d, 1)`.
        bias: The bias $b'$.
        mean: The means $\mu$ the features were centred with.
        variance: The variances $\sigma^2$; like Keras' `Normalization`, a standard deviation below
            [`KERAS_EPSILON`][mlrecipes.regression.least_squares.KERAS_EPSILON] is taken as that.

    Returns:
        The same line as weights $w = w' / \sigma$ and intercept
        $b = b' - \sum_j w'_j \mu_j / \sigma_j$.
    """
    kernel = np.asarray(kernel, dtype=np.float64).ravel()
    mean = np.asarray(mean, dtype=np.float64).ravel()
    scale = np.maximum(np.sqrt(np.asarray(variance, dtype=np.float64).ravel()), KERAS_EPSILON)
    weights = kernel / scale
    return LinearFit(weights=weights, intercept=float(np.asarray(bias, dtype=np.float64).ravel()[0] - weights @ mean))


@dataclasses.dataclass(frozen=True)
class RegressionMetrics:
    r"""How well predictions $\hat y$ match targets $y$ over $N$ rows.

    Attributes:
        mse: Mean squared error $\frac{1}{N} \sum_n (y_n - \hat y_n)^2$.
        mae: Mean absolute error $\frac{1}{N} \sum_n |y_n - \hat y_n|$.
        r2: Coefficient of determination
            $R^2 = 1 - \sum_n (y_n - \hat y_n)^2 / \sum_n (y_n - \bar y)^2$:
            1 for a perfect fit, 0 for always predicting the mean $\bar y$.
        rows: $N$.
    """

    mse: float
    mae: float
    r2: float
    rows: int

    def to_dict(self) -> dict[str, float | int]:
        """The metrics as JSON-ready numbers."""
        return dataclasses.asdict(self)


def regression_metrics(target: np.ndarray, predicted: np.ndarray) -> RegressionMetrics:
    """Mean squared error, mean absolute error and $R^2$ of predictions, in float64.

    Args:
        target: The true values, any shape.
        predicted: The predictions, as many as `target`.

    Returns:
        The metrics (`r2` is NaN when the targets are all equal).
    """
    target = np.asarray(target, dtype=np.float64).ravel()
    errors = target - np.asarray(predicted, dtype=np.float64).ravel()
    spread = float(np.sum((target - target.mean()) ** 2))
    r2 = 1.0 - float(np.sum(errors**2)) / spread if spread > 0 else float("nan")
    return RegressionMetrics(
        mse=float(np.mean(errors**2)), mae=float(np.mean(np.abs(errors))), r2=r2, rows=int(target.size)
    )


def check_design(features: np.ndarray, names: Sequence[str], *, rows_name: str = "rows") -> None:
    """Refuse features whose least-squares fit is not unique.

    The fit has $d + 1$ parameters (a weight per column and the intercept), so
    it needs at least $d + 1$ rows, no column that is constant (it would be a
    multiple of the intercept's column of ones) and no column that is a linear
    combination of the others.

    Args:
        features: `(n, d)` feature rows.
        names: The name of each column, for messages.
        rows_name: What the rows are (`"training rows"`), for messages.

    Raises:
        DataError: When the fit would not be unique.
    """
    features = np.asarray(features, dtype=np.float64)
    rows, columns = features.shape
    if rows < columns + 1:
        raise DataError(
            f"{rows} {rows_name} for {columns} feature column(s) ({', '.join(names)}): a linear fit needs at "
            f"least {columns + 1} (one per weight and one for the intercept)"
        )
    for index, name in enumerate(names):
        if np.ptp(features[:, index]) == 0:
            raise DataError(
                f"feature column {name!r} has the same value ({features[0, index]:g}) in all {rows} {rows_name}; "
                "it cannot be told apart from the intercept"
            )
    standardized = (features - features.mean(axis=0)) / features.std(axis=0)
    if np.linalg.matrix_rank(with_ones(standardized)) < columns + 1:
        raise DataError(
            f"the feature columns ({', '.join(names)}) are linearly dependent in the {rows_name}: one is a "
            "combination of the others, so the least-squares weights are not unique; leave one out"
        )


def largest_stable_learning_rate(standardized: np.ndarray) -> float:
    r"""The learning rate at and above which full-batch gradient descent diverges.

    The mean squared error of $\hat y = \tilde Z \theta$ on standardized
    features $Z$ (with the column of ones, $\tilde Z$) has the constant Hessian
    $H = \frac{2}{N} \tilde Z^\top \tilde Z$. Gradient descent with step $\eta$
    multiplies the distance to the optimum along each eigenvector of $H$ by
    $1 - \eta \lambda$ per step, so it converges exactly when
    $\eta < 2 / \lambda_{\max}$.

    Args:
        standardized: `(n, d)` standardized feature rows, as the model sees them.

    Returns:
        $2 / \lambda_{\max}(H)$.
    """
    design = with_ones(standardized)
    hessian = 2.0 / len(design) * design.T @ design
    return float(2.0 / np.linalg.eigvalsh(hessian)[-1])
