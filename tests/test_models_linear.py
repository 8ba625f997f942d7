"""mlrecipes.regression.model: Normalization + Dense(1) trained by gradient descent reaches the exact fit."""

import json

import keras
import numpy as np
import pytest

from mlrecipes.errors import UsageError
from mlrecipes.regression.least_squares import fit_least_squares, regression_metrics
from mlrecipes.regression.model import build_linear_regression, fitted_line, load_regression_run, predict_raw
from mlrecipes.regression.tables import embedded_table, regression_data
from recipes.linear_regression import build_parser

DEFAULTS = build_parser().parse_args([])
MULTI_FEATURES = ["lotsize", "bedrooms", "bathrms", "stories", "airco", "prefarea"]


def train_by_gradient_descent(x, y, *, epochs=DEFAULTS.epochs, learning_rate=DEFAULTS.learning_rate):
    """Full-batch SGD with the recipe's default settings."""
    keras.utils.set_random_seed(0)
    model = build_linear_regression(x)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mean_squared_error")
    model.fit(x.astype("float32"), y.astype("float32"), batch_size=DEFAULTS.batch_size, epochs=epochs, verbose=0)
    return model


def three_significant_figures(value):
    return float(f"{value:.3g}")


def test_defaults_are_full_batch_on_the_embedded_data():
    assert DEFAULTS.batch_size >= embedded_table().rows


def test_gradient_descent_reaches_the_reference_line_on_the_embedded_data():
    data = regression_data(embedded_table(), "price", ["lotsize"])
    model = train_by_gradient_descent(data.features, data.target)
    line = fitted_line(model)
    exact = fit_least_squares(data.features, data.target)
    # The quality bar: slope 6.5988 and intercept 34136.19 to 3 significant figures ...
    assert three_significant_figures(line.weights[0]) == three_significant_figures(6.5988) == 6.60
    assert three_significant_figures(line.intercept) == three_significant_figures(34136.19) == 34100
    # ... and the trained model's MSE on the full data within 0.1% of the exact minimum.
    trained_mse = regression_metrics(data.target, model.predict(data.features.astype("float32"), verbose=0)).mse
    exact_mse = regression_metrics(data.target, exact.predict(data.features)).mse
    assert exact_mse <= trained_mse * (1 + 1e-6) and trained_mse <= exact_mse * 1.001
    # Much closer than the bar in fact: the same line up to float32 rounding.
    assert line.weights[0] == pytest.approx(exact.weights[0], rel=1e-4)
    assert line.intercept == pytest.approx(exact.intercept, rel=1e-4)


def test_gradient_descent_agrees_with_the_closed_form_on_several_features():
    data = regression_data(embedded_table(), "price", MULTI_FEATURES)
    assert data.feature_names == ("lotsize", "bedrooms", "bathrms", "stories", "airco=yes", "prefarea=yes")
    model = train_by_gradient_descent(data.features, data.target)
    line, exact = fitted_line(model), fit_least_squares(data.features, data.target)
    trained_mse = regression_metrics(data.target, model.predict(data.features.astype("float32"), verbose=0)).mse
    exact_mse = regression_metrics(data.target, exact.predict(data.features)).mse
    assert trained_mse <= exact_mse * 1.001
    np.testing.assert_allclose(line.weights, exact.weights, rtol=2e-2)
    assert line.intercept == pytest.approx(exact.intercept, rel=2e-2)


def test_too_few_epochs_do_not_reach_the_bar():
    # The check above can fail: one step from zero is far from the minimum.
    data = regression_data(embedded_table(), "price", ["lotsize"])
    model = train_by_gradient_descent(data.features, data.target, epochs=1)
    exact = fit_least_squares(data.features, data.target)
    trained_mse = regression_metrics(data.target, model.predict(data.features.astype("float32"), verbose=0)).mse
    assert trained_mse > exact_mse_of(exact, data) * 1.5


def exact_mse_of(exact, data):
    return regression_metrics(data.target, exact.predict(data.features)).mse


def test_the_model_normalizes_inside_and_fitted_line_matches_its_predictions():
    rng = np.random.default_rng(3)
    x = rng.normal(loc=[5000.0, 2.0], scale=[2000.0, 1.0], size=(30, 2))
    model = build_linear_regression(x)
    normalization = model.get_layer("standardize")
    np.testing.assert_allclose(np.ravel(normalization.mean), x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(np.ravel(normalization.variance), x.var(axis=0), rtol=1e-4)
    model.get_layer("linear").set_weights([np.array([[1500.0], [-700.0]], "float32"), np.array([60000.0], "float32")])
    np.testing.assert_allclose(
        fitted_line(model).predict(x), model.predict(x.astype("float32"), verbose=0)[:, 0], rtol=1e-5
    )
    with pytest.raises(UsageError, match=r"shape \(3,\)"):
        build_linear_regression(np.ones(3))


def test_saved_model_reloads_and_takes_raw_values(tmp_path):
    data = regression_data(embedded_table(), "price", ["lotsize", "airco"])
    model = train_by_gradient_descent(data.features, data.target)
    model.save(tmp_path / "model.keras")
    (tmp_path / "metrics.json").write_text(
        json.dumps({"target": "price", "encoding": [encoding.to_dict() for encoding in data.encodings]})
    )
    run = load_regression_run(tmp_path)
    assert run.target == "price" and [encoding.column for encoding in run.encodings] == ["lotsize", "airco"]
    raw = np.array([[5000.0, 1.0], [8000.0, 0.0]], "float32")
    np.testing.assert_allclose(run.model.predict(raw, verbose=0), model.predict(raw, verbose=0), rtol=1e-6)
    line = fitted_line(model)
    assert predict_raw(run, ["5000", "yes"]) == pytest.approx(line.predict(np.array([[5000.0, 1.0]]))[0], rel=1e-5)
    assert predict_raw(run, ["8000", "no"]) == pytest.approx(line.predict(np.array([[8000.0, 0.0]]))[0], rel=1e-5)


def test_load_regression_run_refuses_folders_that_are_not_runs(tmp_path):
    with pytest.raises(UsageError, match=r"--model-dir .*nowhere: no such folder"):
        load_regression_run(tmp_path / "nowhere")
    with pytest.raises(UsageError, match=r"not a finished linear regression run"):
        load_regression_run(tmp_path)
    (tmp_path / "metrics.json").write_text('{"target": "price", "encoding": []}')
    with pytest.raises(UsageError, match=r"no readable model\.keras"):
        load_regression_run(tmp_path)
