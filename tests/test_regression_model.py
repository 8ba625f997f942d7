"""mlrecipes.regression.model: raw columns in, encoding + Normalization + Dense(1), trained to the exact fit."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlrecipes.errors import ArgumentValueError
from mlrecipes.regression.least_squares import fit_least_squares, regression_metrics
from mlrecipes.regression.model import (
    build_feature_encoder,
    build_linear_regression,
    design_matrix,
    fitted_line,
    model_inputs,
    predict_from_text,
)
from mlrecipes.regression.tables import CATEGORICAL, NUMERIC, Feature, embedded_table, regression_data
from recipes.linear_regression import build_parser

DEFAULTS = build_parser().parse_args([])
MULTI_FEATURES = ["lotsize", "bedrooms", "bathrms", "stories", "airco", "prefarea"]


def train_by_gradient_descent(data, *, epochs=DEFAULTS.epochs, learning_rate=DEFAULTS.learning_rate):
    """Full-batch SGD with the recipe's default settings, on the raw columns."""
    keras.utils.set_random_seed(0)
    model = build_linear_regression(data.features, data.columns)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mean_squared_error")
    model.fit(
        model_inputs(data.columns),
        data.target.astype("float32"),
        batch_size=DEFAULTS.batch_size,
        epochs=epochs,
        verbose=0,
    )
    return model


def predictions(model, data):
    return model.predict(model_inputs(data.columns), verbose=0)[:, 0]


def three_significant_figures(value):
    return float(f"{value:.3g}")


def test_defaults_are_full_batch_on_the_embedded_data():
    assert DEFAULTS.batch_size >= embedded_table().rows


def test_gradient_descent_reaches_the_reference_line_on_the_embedded_data():
    data = regression_data(embedded_table(), "price", ["lotsize"])
    model = train_by_gradient_descent(data)
    line = fitted_line(model)
    x = design_matrix(data.features, data.columns)
    exact = fit_least_squares(x, data.target)
    # The quality bar: slope 6.5988 and intercept 34136.19 to 3 significant figures ...
    assert three_significant_figures(line.weights[0]) == three_significant_figures(6.5988) == 6.60
    assert three_significant_figures(line.intercept) == three_significant_figures(34136.19) == 34100
    # ... and the trained model's MSE on the full data within 0.1% of the exact minimum.
    trained_mse = regression_metrics(data.target, predictions(model, data)).mse
    exact_mse = regression_metrics(data.target, exact.predict(x)).mse
    assert exact_mse <= trained_mse * (1 + 1e-6) and trained_mse <= exact_mse * 1.001
    # Much closer than the bar in fact: the same line up to float32 rounding.
    assert line.weights[0] == pytest.approx(exact.weights[0], rel=1e-4)
    assert line.intercept == pytest.approx(exact.intercept, rel=1e-4)


def test_gradient_descent_agrees_with_the_closed_form_on_several_features():
    data = regression_data(embedded_table(), "price", MULTI_FEATURES)
    assert data.feature_names == ("lotsize", "bedrooms", "bathrms", "stories", "airco=yes", "prefarea=yes")
    model = train_by_gradient_descent(data)
    x = design_matrix(data.features, data.columns)
    np.testing.assert_array_equal(x[:, 4], data.columns["airco"] == "yes")  # airco=yes, "no" the reference
    line, exact = fitted_line(model), fit_least_squares(x, data.target)
    trained_mse = regression_metrics(data.target, predictions(model, data)).mse
    exact_mse = regression_metrics(data.target, exact.predict(x)).mse
    assert trained_mse <= exact_mse * 1.001
    np.testing.assert_allclose(line.weights, exact.weights, rtol=2e-2)
    assert line.intercept == pytest.approx(exact.intercept, rel=2e-2)


def test_too_few_epochs_do_not_reach_the_bar():
    # The check above can fail: one step from zero is far from the minimum.
    data = regression_data(embedded_table(), "price", ["lotsize"])
    model = train_by_gradient_descent(data, epochs=1)
    x = design_matrix(data.features, data.columns)
    exact = fit_least_squares(x, data.target)
    trained_mse = regression_metrics(data.target, predictions(model, data)).mse
    assert trained_mse > regression_metrics(data.target, exact.predict(x)).mse * 1.5


def test_the_encoder_makes_indicator_columns_and_refuses_unknown_levels():
    features = (Feature("area", NUMERIC), Feature("zone", CATEGORICAL, ("east", "north", "south")))
    columns = {"area": np.array([50.0, 80.0, 60.0]), "zone": np.array(["north", "south", "east"])}
    np.testing.assert_array_equal(design_matrix(features, columns), [[50, 1, 0], [80, 0, 1], [60, 0, 0]])
    encoder = build_feature_encoder(features)
    with pytest.raises(tf.errors.InvalidArgumentError):  # a level the model never saw is not a silent zero
        encoder(model_inputs({"area": [1.0], "zone": ["west"]}))
    with pytest.raises(ArgumentValueError, match="at least two levels"):
        build_feature_encoder([Feature("zone", CATEGORICAL, ("east",))])


def test_the_model_normalizes_inside_and_fitted_line_matches_its_predictions():
    rng = np.random.default_rng(3)
    columns = {"size": rng.normal(5000.0, 2000.0, 30), "rooms": rng.normal(2.0, 1.0, 30)}
    features = (Feature("size", NUMERIC), Feature("rooms", NUMERIC))
    model = build_linear_regression(features, columns)
    x = np.column_stack([columns["size"], columns["rooms"]])
    normalization = model.get_layer("standardize")
    np.testing.assert_allclose(np.ravel(normalization.mean), x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(np.ravel(normalization.variance), x.var(axis=0), rtol=1e-4)
    model.get_layer("linear").set_weights([np.array([[1500.0], [-700.0]], "float32"), np.array([60000.0], "float32")])
    np.testing.assert_allclose(
        fitted_line(model).predict(x), model.predict(model_inputs(columns), verbose=0)[:, 0], rtol=1e-5
    )
    with pytest.raises(ArgumentValueError, match="at least one training row"):
        build_linear_regression(features, {"size": np.array([]), "rooms": np.array([])})


def test_saved_model_reloads_and_takes_raw_values(tmp_path):
    data = regression_data(embedded_table(), "price", ["lotsize", "airco"])
    model = train_by_gradient_descent(data)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    raw = {"lotsize": [5000.0, 8000.0], "airco": ["yes", "no"]}
    np.testing.assert_allclose(
        reloaded.predict(model_inputs(raw), verbose=0), model.predict(model_inputs(raw), verbose=0), rtol=1e-6
    )
    line = fitted_line(model)
    assert predict_from_text(reloaded, ["lotsize=5000", "airco=yes"]) == pytest.approx(
        line.predict(np.array([[5000.0, 1.0]]))[0], rel=1e-5
    )
    assert predict_from_text(reloaded, [" airco = no", "lotsize=8000"]) == pytest.approx(
        line.predict(np.array([[8000.0, 0.0]]))[0], rel=1e-5
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["lotsize=5000"], r"no value for airco"),
        (["5000", "yes"], r"give column=value for each of the model's columns \(lotsize, airco\)"),
        (["lotsize=big", "airco=yes"], r"not a number"),
        (["lotsize=5000", "airco=maybe"], r"not one of its values \(no, yes\)"),
        (["lotsize=5000", "airco=yes", "pool=no"], r"give column=value"),
    ],
)
def test_predicting_from_text_refuses_bad_values(tmp_path, values, message):
    data = regression_data(embedded_table(), "price", ["lotsize", "airco"])
    model = build_linear_regression(data.features, data.columns)
    with pytest.raises(ArgumentValueError, match=message) as raised:
        predict_from_text(model, values)
    assert raised.value.argument == "values"


def test_a_one_column_model_takes_the_bare_value():
    data = regression_data(embedded_table(), "price", ["lotsize"])
    model = build_linear_regression(data.features, data.columns)
    assert predict_from_text(model, ["5000"]) == predict_from_text(model, ["lotsize=5000"])
