"""mlrecipes.regression.model: the feature encoder, Normalization + Dense(1) trained to the exact fit, raw columns in."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlrecipes.errors import ArgumentValueError
from mlrecipes.regression.least_squares import fit_least_squares, regression_metrics
from mlrecipes.regression.model import (
    attach_encoder,
    build_feature_encoder,
    build_linear_regression,
    example_from_text,
    fitted_line,
)
from mlrecipes.regression.tables import CATEGORICAL, NUMERIC, Feature, embedded_table, regression_data
from recipes import linear_regression
from recipes.linear_regression import build_parser

DEFAULTS = build_parser().parse_args([])
MULTI_FEATURES = ["lotsize", "bedrooms", "bathrms", "stories", "airco", "prefarea"]


def design(data):
    """The design matrix X the recipe solves and trains with: the encoder's output, in float64."""
    encoder = build_feature_encoder(data.features)
    return encoder, np.asarray(encoder.predict(data.columns, verbose=0), dtype=np.float64)


def train_by_gradient_descent(x, y, *, epochs=None, learning_rate=DEFAULTS.learning_rate):
    """Full-batch SGD with the recipe's default settings (its budget's epochs for these rows)."""
    epochs = epochs or linear_regression.BUDGET.epochs(len(y), DEFAULTS.batch_size)
    keras.utils.set_random_seed(0)
    model = build_linear_regression(x)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mean_squared_error")
    model.fit(x.astype("float32"), y.astype("float32"), batch_size=DEFAULTS.batch_size, epochs=epochs, verbose=0)
    return model


def predictions(model, x):
    return model.predict(x.astype("float32"), verbose=0)[:, 0]


def three_significant_figures(value):
    return float(f"{value:.3g}")


def test_defaults_are_full_batch_on_the_embedded_data():
    assert DEFAULTS.batch_size >= embedded_table().rows


def test_gradient_descent_reaches_the_reference_line_on_the_embedded_data():
    data = regression_data(embedded_table(), "price", ["lotsize"])
    _, x = design(data)
    np.testing.assert_array_equal(x[:, 0], data.columns["lotsize"])  # a numeric column passes through
    model = train_by_gradient_descent(x, data.target)
    line, exact = fitted_line(model), fit_least_squares(x, data.target)
    # The quality bar: slope 6.5988 and intercept 34136.19 to 3 significant figures ...
    assert three_significant_figures(line.weights[0]) == three_significant_figures(6.5988) == 6.60
    assert three_significant_figures(line.intercept) == three_significant_figures(34136.19) == 34100
    # ... and the trained model's MSE on the full data within 0.1% of the exact minimum.
    trained_mse = regression_metrics(data.target, predictions(model, x)).mse
    exact_mse = regression_metrics(data.target, exact.predict(x)).mse
    assert exact_mse <= trained_mse * (1 + 1e-6) and trained_mse <= exact_mse * 1.001
    # Much closer than the bar in fact: the same line up to float32 rounding.
    assert line.weights[0] == pytest.approx(exact.weights[0], rel=1e-4)
    assert line.intercept == pytest.approx(exact.intercept, rel=1e-4)


def test_gradient_descent_agrees_with_the_closed_form_on_several_features():
    data = regression_data(embedded_table(), "price", MULTI_FEATURES)
    assert data.feature_names == ("lotsize", "bedrooms", "bathrms", "stories", "airco=yes", "prefarea=yes")
    _, x = design(data)
    np.testing.assert_array_equal(x[:, 4], data.columns["airco"] == "yes")  # airco=yes, "no" the reference
    model = train_by_gradient_descent(x, data.target)
    line, exact = fitted_line(model), fit_least_squares(x, data.target)
    trained_mse = regression_metrics(data.target, predictions(model, x)).mse
    assert trained_mse <= regression_metrics(data.target, exact.predict(x)).mse * 1.001
    np.testing.assert_allclose(line.weights, exact.weights, rtol=2e-2)
    assert line.intercept == pytest.approx(exact.intercept, rel=2e-2)


def test_too_few_epochs_do_not_reach_the_bar():
    # The check above can fail: one step from zero is far from the minimum.
    data = regression_data(embedded_table(), "price", ["lotsize"])
    _, x = design(data)
    model = train_by_gradient_descent(x, data.target, epochs=1)
    exact = fit_least_squares(x, data.target)
    trained_mse = regression_metrics(data.target, predictions(model, x)).mse
    assert trained_mse > regression_metrics(data.target, exact.predict(x)).mse * 1.5


ZONES = (Feature("area", NUMERIC), Feature("zone", CATEGORICAL, ("east", "north", "south")))


def test_the_encoder_makes_indicator_columns_and_refuses_unknown_levels():
    encoder = build_feature_encoder(ZONES)
    columns = {"area": np.array([50.0, 80.0, 60.0]), "zone": np.array(["north", "south", "east"], dtype=object)}
    # "east", the reference, is all zeros; a column of shape (batch, 1) works as well as (batch,).
    np.testing.assert_array_equal(encoder.predict(columns, verbose=0), [[50, 1, 0], [80, 0, 1], [60, 0, 0]])
    np.testing.assert_array_equal(
        encoder({"area": tf.constant([[70.0]]), "zone": tf.constant([["south"]])}), [[70, 0, 1]]
    )
    with pytest.raises(tf.errors.InvalidArgumentError):  # a level the encoder never saw is not a silent zero
        encoder({"area": tf.constant([1.0]), "zone": tf.constant(["west"])})
    with pytest.raises(ArgumentValueError, match="at least two levels"):
        build_feature_encoder([Feature("zone", CATEGORICAL, ("east",))])
    with pytest.raises(ArgumentValueError, match="same layer name") as raised:
        build_feature_encoder([Feature("lot size", NUMERIC), Feature("lot_size", NUMERIC)])
    assert raised.value.argument == "features" and raised.value.value == ["lot size", "lot_size"]
    with pytest.raises(ArgumentValueError, match="at least one feature column"):
        build_feature_encoder([])


def test_the_model_normalizes_inside_and_fitted_line_matches_its_predictions():
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.normal(5000.0, 2000.0, 30), rng.normal(2.0, 1.0, 30)])
    model = build_linear_regression(x)
    normalization = model.get_layer("standardize")
    np.testing.assert_allclose(np.ravel(normalization.mean), x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(np.ravel(normalization.variance), x.var(axis=0), rtol=1e-4)
    model.get_layer("linear").set_weights([np.array([[1500.0], [-700.0]], "float32"), np.array([60000.0], "float32")])
    np.testing.assert_allclose(fitted_line(model).predict(x), predictions(model, x), rtol=1e-5)
    with pytest.raises(ArgumentValueError, match=r"`train_features`: give a non-empty \(rows, columns\) array"):
        build_linear_regression(np.zeros((0, 2)))


def test_the_saved_model_takes_raw_columns_and_reloads_alone(tmp_path):
    data = regression_data(embedded_table(), "price", ["lotsize", "airco"])
    encoder, x = design(data)
    trained = train_by_gradient_descent(x, data.target)
    model = attach_encoder(encoder, trained)
    assert list(model.input) == ["lotsize", "airco"] and model.name == trained.name
    np.testing.assert_allclose(model.predict(data.columns, verbose=0)[:, 0], predictions(trained, x), rtol=1e-6)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    raw = {"lotsize": np.array([5000.0, 8000.0]), "airco": np.array(["yes", "no"], dtype=object)}
    line = fitted_line(trained)
    np.testing.assert_allclose(reloaded.predict(raw, verbose=0)[:, 0], line.predict([[5000, 1], [8000, 0]]), rtol=1e-5)
    np.testing.assert_allclose(fitted_line(reloaded).weights, line.weights, rtol=1e-6)
    with pytest.raises(tf.errors.InvalidArgumentError):
        reloaded.predict({"lotsize": np.array([5000.0]), "airco": np.array(["maybe"], dtype=object)}, verbose=0)


def test_example_from_text_reads_values_in_order_or_by_name():
    model = attach_encoder(build_feature_encoder(ZONES), build_linear_regression(np.array([[1.0, 0, 1], [2, 1, 0]])))
    in_order = example_from_text(model, ["70", " south "])
    by_name = example_from_text(model, ["zone=south", "area = 70"])
    for example in (in_order, by_name):
        assert list(example) == ["area", "zone"]
        assert example["area"].tolist() == [70.0] and example["zone"].tolist() == ["south"]
    assert model.predict(in_order, verbose=0).shape == (1, 1)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["70"], r"give one value per feature column, in order \(area, zone\), or column=value pairs"),
        (["area=70"], r"no value for zone"),
        (["zone=north", "zone=south"], r"no value for area"),
        (["area=70", "zone=north", "area=80"], r"named more than once"),
        (["big", "north"], r"not a number\. Received: values='area=big'"),
        (["70", "west"], r"not one of its values \(east, north, south\)"),
    ],
)
def test_example_from_text_refuses_bad_values(values, message):
    model = attach_encoder(build_feature_encoder(ZONES), build_linear_regression(np.array([[1.0, 0, 1], [2, 1, 0]])))
    with pytest.raises(ArgumentValueError, match=message) as raised:
        example_from_text(model, values)
    assert raised.value.argument == "values"
