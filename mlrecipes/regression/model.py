r"""The linear regression model: encode the raw columns, standardize them, then one ``Dense(1)`` layer.

The model takes the table's columns as they are — numbers, and text for a
categorical column — and does its own encoding with Keras preprocessing layers,
so a saved ``model.keras`` predicts from raw values with nothing beside it::

    model = keras.saving.load_model("runs/linear_regression/model.keras")
    model.predict(model_inputs({"lotsize": [5000.0], "airco": ["yes"]}))

:func:`build_feature_encoder` is that encoding on its own (raw columns to the
design matrix $X$ that least squares solves with); :func:`build_linear_regression`
puts the standardization and the linear layer on top of it; :func:`fitted_line`
reads the line back in the features' own units; :func:`predict_from_text`
predicts one example typed as ``column=value`` pairs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from mlrecipes.errors import ArgumentValueError
from mlrecipes.regression.least_squares import LinearFit, from_standardized
from mlrecipes.regression.tables import CATEGORICAL, NUMERIC, Feature, parse_number

DESIGN_LAYER = "design"
NORMALIZATION_LAYER = "standardize"
LINEAR_LAYER = "linear"
_LEVELS_SUFFIX = "_levels"


def _layer_name(column: str) -> str:
    """A layer name made from a column's name (letters, digits and underscores only)."""
    return re.sub(r"\W", "_", column) or "column"


def _encode(features: Sequence[Feature]) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
    """The raw inputs, one per feature column, and the design matrix the layers make of them."""
    if not features:
        raise ArgumentValueError("features", list(features), "give at least one feature")
    inputs, parts = {}, []
    for feature in features:
        name = _layer_name(feature.column)
        if feature.kind == NUMERIC:
            inputs[feature.column] = keras.Input(shape=(1,), name=name, dtype="float32")
            parts.append(inputs[feature.column])
        elif feature.kind == CATEGORICAL and len(feature.levels) >= 2:
            inputs[feature.column] = keras.Input(shape=(1,), name=name, dtype="string")
            # One 0/1 column per level; a value that is not a level is an error, not a silent zero.
            one_hot = keras.layers.StringLookup(
                vocabulary=list(feature.levels),
                num_oov_indices=0,
                output_mode="one_hot",
                name=name + _LEVELS_SUFFIX,
            )(inputs[feature.column])
            # Leave out the reference level (the first): its column is 1 minus the others.
            levels = len(feature.levels)
            as_sequence = keras.layers.Reshape((levels, 1), name=f"{name}_as_sequence")(one_hot)
            without_reference = keras.layers.Cropping1D((1, 0), name=f"{name}_without_reference")(as_sequence)
            parts.append(keras.layers.Reshape((levels - 1,), name=f"{name}_indicators")(without_reference))
        else:
            raise ArgumentValueError(
                "features", feature.column, "a feature is numeric, or categorical with at least two levels"
            )
    join = keras.layers.Concatenate(name=DESIGN_LAYER) if len(parts) > 1 else keras.layers.Identity(name=DESIGN_LAYER)
    return inputs, join(parts if len(parts) > 1 else parts[0])


def model_inputs(columns: Mapping[str, Sequence[float] | Sequence[str] | np.ndarray]) -> dict[str, tf.Tensor]:
    """Raw columns as the model takes them: ``(rows, 1)`` tensors, float32 numbers or strings.

    Args:
        columns: Each feature column's values, by column name.

    Returns:
        The tensors, by column name.
    """
    tensors = {}
    for name, values in columns.items():
        array = np.asarray(values)
        if array.dtype.kind in "USO":
            tensors[name] = tf.constant(array.astype(str).reshape(-1, 1))
        else:
            tensors[name] = tf.constant(array.astype("float32").reshape(-1, 1))
    return tensors


def build_feature_encoder(features: Sequence[Feature], *, name: str = "feature_encoder") -> keras.Model:
    r"""The model's encoding on its own: raw columns in, the design matrix $X$ out.

    A numeric column is one column of $X$; a categorical column with levels
    $\ell_0 < \dots < \ell_k$ becomes $k$ indicator columns (``StringLookup``
    one-hot, the reference level $\ell_0$ left out).

    Args:
        features: The feature columns, in order (from
            `mlrecipes.regression.tables.RegressionData.features`).
        name: The model's name.

    Returns:
        A model from a dict of ``(batch, 1)`` columns to ``(batch, columns of X)``.
    """
    inputs, design = _encode(features)
    return keras.Model(inputs, design, name=name)


def design_matrix(features: Sequence[Feature], columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """The design matrix $X$ (float64) that the model computes from raw columns.

    Least squares solves with exactly the columns gradient descent sees.

    Args:
        features: The feature columns, in order.
        columns: Their raw values, by column name.

    Returns:
        ``(rows, columns of X)`` in float64.
    """
    encoder = build_feature_encoder(features)
    return np.asarray(encoder(model_inputs(columns)), dtype=np.float64)


def build_linear_regression(
    features: Sequence[Feature], train_columns: Mapping[str, np.ndarray], *, name: str = "linear_regression"
) -> keras.Model:
    r"""Build a linear regression model that takes the raw columns.

    The columns are encoded into the design matrix $X$ (see
    :func:`build_feature_encoder`). A ``keras.layers.Normalization`` layer,
    adapted to the training rows of $X$, standardizes each column to
    $(x - \mu) / \sigma$ (mean 0 and variance 1 over the training rows), and a
    ``Dense(1)`` layer computes $w'^\top x' + b'$. Encoding and standardization
    are part of the model, so the saved model takes raw values and gradient
    descent sees well-conditioned inputs. The weights start at zero, so
    training starts from the flat line $\hat y = 0$. The layers compute in
    float32 under any mixed-precision policy: a model with one weight per
    column gains nothing from 16-bit numbers and would lose the agreement with
    the exact solution.

    Args:
        features: The feature columns, in order.
        train_columns: The training rows' raw values, by column name; they set
            $\mu$ and $\sigma$.
        name: The model's name.

    Returns:
        An uncompiled model from a dict of ``(batch, 1)`` raw columns to
        ``(batch, 1)`` predictions.

    Raises:
        ArgumentValueError: When there are no features or no training rows.
    """
    rows = {len(np.asarray(values)) for values in train_columns.values()}
    if not train_columns or rows == {0}:
        raise ArgumentValueError("train_columns", dict(train_columns), "give at least one training row")
    inputs, design = _encode(features)
    normalization = keras.layers.Normalization(axis=-1, name=NORMALIZATION_LAYER, dtype="float32")
    normalization.adapt(design_matrix(features, train_columns).astype("float32"))
    outputs = keras.layers.Dense(1, kernel_initializer="zeros", name=LINEAR_LAYER, dtype="float32")(
        normalization(design)
    )
    return keras.Model(inputs, outputs, name=name)


def fitted_line(model: keras.Model) -> LinearFit:
    r"""The weights and intercept of a model from :func:`build_linear_regression`, in the features' own units.

    Args:
        model: A (trained or reloaded) linear regression model.

    Returns:
        The line $\hat y = X w + b$ the model computes on the design matrix $X$.
    """
    normalization = model.get_layer(NORMALIZATION_LAYER)
    kernel, bias = model.get_layer(LINEAR_LAYER).get_weights()
    return from_standardized(kernel, bias, np.asarray(normalization.mean), np.asarray(normalization.variance))


def predict_from_text(model: keras.Model, values: Sequence[str]) -> float:
    """Predict the target for one example typed as ``column=value`` pairs.

    The columns and their kinds come from the model itself: a column the model
    reads as text is categorical and must be one of its levels; any other must
    be a number.

    Args:
        model: A (reloaded) model from :func:`build_linear_regression`.
        values: One ``column=value`` pair per feature column, in any order
            (``"lotsize=5000"``, ``"airco=yes"``); a model of one column also
            takes the bare value (``"5000"``).

    Returns:
        The prediction.

    Raises:
        ArgumentValueError: (argument ``values``) On a pair that is not
            ``column=value``, a column the model does not take or that is
            missing, a value that is not a number, or a level the model does
            not know.
    """
    expected = dict(model.input.items())
    given: dict[str, str] = {}
    if len(expected) == 1 and len(values) == 1 and "=" not in values[0]:
        values = [f"{next(iter(expected))}={values[0]}"]
    for pair in values:
        column, equals, text = pair.partition("=")
        if not equals or column.strip() not in expected:
            raise ArgumentValueError(
                "values", pair, f"give column=value for each of the model's columns ({', '.join(expected)})"
            )
        given[column.strip()] = text.strip()
    missing = [name for name in expected if name not in given]
    if missing:
        raise ArgumentValueError("values", list(values), f"no value for {', '.join(missing)}")
    columns: dict[str, list] = {}
    for name, tensor in expected.items():
        text = given[name]
        if tensor.dtype == "string":
            levels = model.get_layer(_layer_name(name) + _LEVELS_SUFFIX).get_vocabulary()
            if text not in levels:
                raise ArgumentValueError("values", f"{name}={text}", f"not one of its values ({', '.join(levels)})")
            columns[name] = [text]
        else:
            number = parse_number(text)
            if number is None:
                raise ArgumentValueError("values", f"{name}={text}", "not a number")
            columns[name] = [number]
    return float(model.predict(model_inputs(columns), verbose=0)[0, 0])
