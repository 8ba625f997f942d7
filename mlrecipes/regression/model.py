r"""The linear regression model: encode the raw columns, standardize them, then one `Dense(1)` layer.

Two models, the way Keras' own structured-data examples split the work:

- `build_feature_encoder` turns the raw columns (numbers, and text for a
  categorical column) into the design matrix $X$ with Keras preprocessing
  layers. It has no weights to train: during training it runs in the input
  pipeline, and least squares solves with its output, so the exact fit and
  gradient descent see the same columns.
- `build_linear_regression` is what gradient descent trains: a
  `Normalization` layer and a `Dense(1)` layer on $X$.

`attach_encoder` puts the encoder in front of the trained model, and that
is the model to save: it takes the raw columns and needs nothing beside it:

```python
model = keras.saving.load_model("runs/linear_regression/model.keras")
model.predict({"lotsize": np.array([5000.0]), "airco": np.array(["yes"], dtype=object)})
```

(strings as a `tf.string` tensor or a NumPy array of `dtype=object`.)
`fitted_line` reads the line back in the features' own units and
`example_from_text` reads one example typed as text.

Why the encoder is not trained inside the model: under a `tf.distribute`
strategy with several replicas Keras 3.15 cannot `fit` a model fed string
tensors (it averages the first batch across replicas to build the model, and
strings cannot be added; keras-team/keras#21172), whereas numbers distribute
as usual.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import keras
import numpy as np

from mlrecipes.errors import ArgumentValueError
from mlrecipes.regression.least_squares import LinearFit, from_standardized
from mlrecipes.regression.tables import NUMERIC, Feature, parse_number

DESIGN_LAYER = "design"
NORMALIZATION_LAYER = "standardize"
LINEAR_LAYER = "linear"
LEVELS_SUFFIX = "_levels"
"""A categorical column `airco` is one-hot encoded by the layer `airco_levels`."""


def layer_name(column: str) -> str:
    """The name of a column's input layer: the column's name with what Keras refuses in names replaced by `_`."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", column)


def build_feature_encoder(features: Sequence[Feature], *, name: str = "feature_encoder") -> keras.Model:
    r"""Raw columns in, the design matrix $X$ out.

    A numeric column is one column of $X$. A categorical column with levels
    $\ell_0 < \ell_1 < \dots < \ell_k$ becomes $k$ indicator columns, one per
    level but the reference $\ell_0$ (a `StringLookup` one-hot encoding with
    $\ell_0$ as its mask token, which maps to all zeros). A value that is not
    one of the levels makes the model raise `InvalidArgumentError`, not a
    silent row of zeros.

    Args:
        features: The feature columns, in order (`RegressionData.features`).
        name: The model's name.

    Returns:
        A model from a dict of columns (numbers as float32, categories as
        strings; shape `(batch,)` or `(batch, 1)`) to `(batch, columns of X)`
        in float32.

    Raises:
        ArgumentValueError: (argument `features`) When there are none, one is
            categorical with fewer than two levels, or two columns' names give
            the same layer name.
    """
    if not features:
        raise ArgumentValueError("features", list(features), "give at least one feature column")
    names = [layer_name(feature.column) for feature in features]
    if len(set(names)) < len(names):
        clash = [feature.column for feature, name in zip(features, names) if names.count(name) > 1]
        raise ArgumentValueError("features", clash, "these columns get the same layer name; rename one of them")
    inputs, parts = {}, []
    for feature, column in zip(features, names):
        if feature.kind == NUMERIC:
            inputs[feature.column] = keras.Input(shape=(1,), name=column, dtype="float32")
            parts.append(inputs[feature.column])
            continue
        if len(feature.levels) < 2:
            raise ArgumentValueError("features", feature, "a categorical column needs at least two levels")
        inputs[feature.column] = keras.Input(shape=(1,), name=column, dtype="string")
        lookup = keras.layers.StringLookup(
            vocabulary=list(feature.levels[1:]),
            mask_token=feature.levels[0],
            num_oov_indices=0,
            output_mode="one_hot",
            name=column + LEVELS_SUFFIX,
        )
        parts.append(lookup(inputs[feature.column]))
    # float32 under any mixed-precision policy: 16 bits would round lot sizes to the nearest 16 square feet.
    design = keras.layers.Concatenate(name=DESIGN_LAYER, dtype="float32")(parts)
    return keras.Model(inputs, design, name=name)


def build_linear_regression(train_features: np.ndarray, *, name: str = "linear_regression") -> keras.Model:
    r"""Build the linear regression trained by gradient descent, on the columns of the design matrix.

    A `keras.layers.Normalization` layer, adapted to `train_features`,
    standardizes each column to $(x - \mu) / \sigma$ (mean 0 and variance 1 over
    the training rows), and a `Dense(1)` layer computes $w'^\top x' + b'$. The
    standardization is part of the model, so gradient descent sees
    well-conditioned inputs while the model takes values in their own units.
    The weights start at zero, so training starts from the flat line
    $\hat y = 0$. Both layers compute in float32 under any mixed-precision
    policy: a model with one weight per column gains nothing from 16-bit
    numbers and would lose the agreement with the exact solution.

    Args:
        train_features: `(n, d)` training rows of the design matrix (the
            output of `build_feature_encoder`); they set $\mu$ and $\sigma$.
        name: The model's name.

    Returns:
        An uncompiled model from `(batch, d)` features to `(batch, 1)` predictions.

    Raises:
        ArgumentValueError: When `train_features` is not a non-empty 2-D array.
    """
    train_features = np.asarray(train_features, dtype=np.float32)
    if train_features.ndim != 2 or not train_features.size:
        raise ArgumentValueError(
            "train_features", f"array of shape {train_features.shape}", "give a non-empty (rows, columns) array"
        )
    normalization = keras.layers.Normalization(axis=-1, name=NORMALIZATION_LAYER, dtype="float32")
    normalization.adapt(train_features)
    inputs = keras.Input(shape=(train_features.shape[1],), name="features")
    outputs = keras.layers.Dense(1, kernel_initializer="zeros", name=LINEAR_LAYER, dtype="float32")(
        normalization(inputs)
    )
    return keras.Model(inputs, outputs, name=name)


def attach_encoder(encoder: keras.Model, regression: keras.Model, *, name: str | None = None) -> keras.Model:
    """Put the feature encoder in front of a trained regression: the model that takes raw columns.

    The result is one flat model (the encoder's layers, then the regression's
    `standardize` and `linear` layers, shared with `regression`), so
    `fitted_line` reads it as it reads `regression`.

    Args:
        encoder: From `build_feature_encoder`.
        regression: From `build_linear_regression`, trained.
        name: The new model's name; default the regression's.

    Returns:
        A model from a dict of raw columns to `(batch, 1)` predictions.
    """
    standardized = regression.get_layer(NORMALIZATION_LAYER)(encoder.output)
    return keras.Model(encoder.input, regression.get_layer(LINEAR_LAYER)(standardized), name=name or regression.name)


def fitted_line(model: keras.Model) -> LinearFit:
    r"""The weights and intercept of a linear regression model, in the features' own units.

    Args:
        model: A (trained or reloaded) model from `build_linear_regression`
            or `attach_encoder`.

    Returns:
        The line $\hat y = X w + b$ the model computes on the design matrix $X$.
    """
    normalization = model.get_layer(NORMALIZATION_LAYER)
    kernel, bias = model.get_layer(LINEAR_LAYER).get_weights()
    return from_standardized(kernel, bias, np.asarray(normalization.mean), np.asarray(normalization.variance))


def example_from_text(model: keras.Model, values: Sequence[str]) -> dict[str, np.ndarray]:
    """One example typed as text, as the columns a model from `attach_encoder` takes.

    The columns, their order and their kinds come from the model itself: a
    column it reads as text is categorical and must be one of its levels; any
    other must be a number.

    Args:
        model: A (reloaded) model from `attach_encoder`.
        values: One value per feature column, in the model's order (`"5000"`,
            `"yes"`), or `column=value` pairs in any order (`"airco=yes"`).

    Returns:
        Each column's value, by column name (a float32 array or an array of one
        string), ready for `model.predict`.

    Raises:
        ArgumentValueError: (argument `values`) On the wrong number of values,
            a column named twice or not at all, a value that is not a number, or
            a level the model does not know.
    """
    columns = list(model.input)
    pairs = [value.partition("=") for value in values]
    if values and all(equals and column.strip() in columns for column, equals, _ in pairs):
        named = [(column.strip(), text.strip()) for column, _, text in pairs]
    elif len(values) == len(columns):
        named = [(column, text.strip()) for column, text in zip(columns, values)]
    else:
        raise ArgumentValueError(
            "values",
            list(values),
            f"give one value per feature column, in order ({', '.join(columns)}), or column=value pairs",
        )
    given = dict(named)
    if len(given) < len(named) or len(given) < len(columns):
        missing = [column for column in columns if column not in given]
        reason = f"no value for {', '.join(missing)}" if missing else "a column is named more than once"
        raise ArgumentValueError("values", list(values), reason)
    example = {}
    for column in columns:
        text = given[column]
        if model.input[column].dtype == "string":
            lookup = model.get_layer(layer_name(column) + LEVELS_SUFFIX)
            levels = [lookup.mask_token, *lookup.get_vocabulary()]
            if text not in levels:
                raise ArgumentValueError("values", f"{column}={text}", f"not one of its values ({', '.join(levels)})")
            example[column] = np.array([text], dtype=object)
        else:
            number = parse_number(text)
            if number is None:
                raise ArgumentValueError("values", f"{column}={text}", "not a number")
            example[column] = np.array([number], dtype=np.float32)
    return example
