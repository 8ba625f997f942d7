"""mlrecipes.regression.least_squares: the exact solution, metrics, units, and the stability limit."""

import numpy as np
import pytest

from mlrecipes.errors import DataError
from mlrecipes.regression.least_squares import (
    check_design,
    fit_least_squares,
    from_standardized,
    largest_stable_learning_rate,
    regression_metrics,
    with_ones,
)
from mlrecipes.regression.tables import embedded_table, regression_data


def test_closed_form_on_a_hand_computed_case():
    # x = 1..4, y = 2, 4, 5, 4: slope Sxy / Sxx = 3.5 / 5 = 0.7, intercept 3.75 - 0.7 * 2.5 = 2.0.
    fit = fit_least_squares(np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([2.0, 4.0, 5.0, 4.0]))
    assert fit.weights == pytest.approx([0.7]) and fit.intercept == pytest.approx(2.0)
    np.testing.assert_allclose(fit.predict(np.array([[0.0], [10.0]])), [2.0, 9.0])


def test_closed_form_recovers_an_exact_plane_and_solves_the_normal_equations():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3)) * [1.0, 100.0, 0.01]
    exact = fit_least_squares(x, x @ np.array([3.0, -2.0, 500.0]) + 7.0)
    np.testing.assert_allclose(exact.weights, [3.0, -2.0, 500.0], rtol=1e-9)
    assert exact.intercept == pytest.approx(7.0, rel=1e-9)
    y = rng.normal(size=50)
    fit = fit_least_squares(x, y)
    design = with_ones(x)
    theta = np.linalg.solve(design.T @ design, design.T @ y)  # theta = (X^T X)^-1 X^T y
    np.testing.assert_allclose(np.append(fit.weights, fit.intercept), theta, rtol=1e-8)
    residual = y - fit.predict(x)
    np.testing.assert_allclose(design.T @ residual, 0.0, atol=1e-9)  # orthogonal to every column


def test_embedded_data_reference_line():
    data = regression_data(embedded_table(), "price", ["lotsize"])
    x = data.columns["lotsize"][:, None]  # a numeric column is its own column of the design matrix
    fit = fit_least_squares(x, data.target)
    assert fit.weights[0] == pytest.approx(6.5988, abs=5e-5)
    assert fit.intercept == pytest.approx(34136.19, abs=5e-3)
    metrics = regression_metrics(data.target, fit.predict(x))
    assert metrics.mse == pytest.approx(5.0741e8, rel=1e-4) and metrics.r2 == pytest.approx(0.2871, abs=5e-5)


def test_from_standardized_is_the_same_line_in_original_units():
    rng = np.random.default_rng(1)
    x = rng.normal(loc=[5000.0, 3.0], scale=[2000.0, 0.7], size=(40, 2))
    mean, variance = x.mean(axis=0), x.var(axis=0)
    kernel, bias = np.array([[12000.0], [-3000.0]]), np.array([68000.0])
    line = from_standardized(kernel, bias, mean, variance)
    standardized_prediction = ((x - mean) / np.sqrt(variance)) @ kernel[:, 0] + bias[0]
    np.testing.assert_allclose(line.predict(x), standardized_prediction, rtol=1e-12)
    assert line.weights == pytest.approx(kernel[:, 0] / np.sqrt(variance))


def test_regression_metrics_by_hand():
    metrics = regression_metrics(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 2.0, 3.0, 2.0]))
    assert metrics.mse == pytest.approx((1 + 0 + 0 + 4) / 4)
    assert metrics.mae == pytest.approx((1 + 0 + 0 + 2) / 4)
    assert metrics.r2 == pytest.approx(1 - 5 / 5.0)  # sum of squares about the mean 2.5 is 5
    assert metrics.rows == 4
    assert regression_metrics(np.ones(3), np.ones(3)).r2 != regression_metrics(np.ones(3), np.ones(3)).r2  # NaN


def test_check_design_refuses_fits_that_are_not_unique():
    names = ("a", "b")
    message = r"2 training rows for 2 feature column\(s\) \(a, b\): a linear fit needs at least 3"
    with pytest.raises(DataError, match=message):
        check_design(np.array([[1.0, 2.0], [3.0, 5.0]]), names, rows_name="training rows")
    with pytest.raises(DataError, match=r"'b' has the same value \(4\) in all 3 rows"):
        check_design(np.array([[1.0, 4.0], [2.0, 4.0], [3.0, 4.0]]), names)
    with pytest.raises(DataError, match=r"linearly dependent"):
        check_design(np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.0]]), names)
    check_design(np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0]]), names)  # three rows, two features: fine


def test_largest_stable_learning_rate_separates_convergence_from_divergence():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 3)) @ np.array([[1.0, 0.8, 0.0], [0.0, 0.6, 0.3], [0.0, 0.0, 1.0]])
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    y = z @ np.array([1.0, -2.0, 0.5]) + 3.0 + rng.normal(size=200)
    limit = largest_stable_learning_rate(z)
    design, target = with_ones(z), y

    def distance_after(rate, steps=400):
        theta = np.zeros(design.shape[1])
        for _ in range(steps):
            theta -= rate * 2 / len(design) * design.T @ (design @ theta - target)
        return np.linalg.norm(theta - np.linalg.lstsq(design, target, rcond=None)[0])

    assert distance_after(0.95 * limit) < 1e-6
    assert distance_after(1.05 * limit) > 1e3
    # One standardized feature: the Hessian is 2I, so the limit is exactly 1.
    assert largest_stable_learning_rate(z[:, :1]) == pytest.approx(1.0)
