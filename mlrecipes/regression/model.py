"""The linear regression model: standardize the features, then one ``Dense(1)`` layer.

:func:`build_linear_regression` builds it, :func:`fitted_line` reads its line
back in the features' own units, and :func:`load_regression_run` with
:func:`predict_raw` reload a finished run to predict from raw feature values.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from mlrecipes.errors import UsageError
from mlrecipes.regression.least_squares import LinearFit, from_standardized
from mlrecipes.regression.tables import FeatureEncoding, encode_row

NORMALIZATION_LAYER = "standardize"
LINEAR_LAYER = "linear"


def build_linear_regression(train_features: np.ndarray, *, name: str = "linear_regression") -> keras.Model:
    r"""Build a linear regression model that takes the features in their own units.

    A ``keras.layers.Normalization`` layer, adapted to ``train_features``,
    standardizes each column to $(x - \\mu) / \\sigma$ (mean 0 and variance 1 over
    the training rows), and a ``Dense(1)`` layer computes $w'^\\top x' + b'$. The
    standardization is part of the model, so the saved model takes raw values
    and gradient descent sees well-conditioned inputs. The weights start at
    zero, so training starts from the flat line $\\hat y = 0$. Both layers
    compute in float32 under any mixed-precision policy: a model with one weight
    per feature gains nothing from 16-bit numbers and would lose the agreement
    with the exact solution.

    Args:
        train_features: ``(n, d)`` training rows; they set $\\mu$ and $\\sigma$.
        name: The model's name.

    Returns:
        An uncompiled model from ``(batch, d)`` features to ``(batch, 1)`` predictions.

    Raises:
        UsageError: When ``train_features`` is not a non-empty 2-D array.
    """
    train_features = np.asarray(train_features, dtype=np.float32)
    if train_features.ndim != 2 or not train_features.size:
        raise UsageError(f"train_features of shape {train_features.shape}: need a non-empty (rows, columns) array")
    normalization = keras.layers.Normalization(axis=-1, name=NORMALIZATION_LAYER, dtype="float32")
    normalization.adapt(train_features)
    inputs = keras.Input(shape=(train_features.shape[1],), name="features")
    outputs = keras.layers.Dense(1, kernel_initializer="zeros", name=LINEAR_LAYER, dtype="float32")(
        normalization(inputs)
    )
    return keras.Model(inputs, outputs, name=name)


def fitted_line(model: keras.Model) -> LinearFit:
    r"""The weights and intercept of a model from :func:`build_linear_regression`, in the features' own units.

    Args:
        model: A (trained or reloaded) linear regression model.

    Returns:
        The line $\\hat y = X w + b$ the model computes on raw features.
    """
    normalization = model.get_layer(NORMALIZATION_LAYER)
    kernel, bias = model.get_layer(LINEAR_LAYER).get_weights()
    return from_standardized(kernel, bias, np.asarray(normalization.mean), np.asarray(normalization.variance))


@dataclasses.dataclass(frozen=True)
class RegressionRun:
    """A finished linear regression run, reloaded from its folder.

    Attributes:
        model: The saved model; it takes encoded, unnormalized feature rows.
        encodings: How each raw feature value is encoded, in order.
        target: The name of the predicted column.
    """

    model: keras.Model
    encodings: tuple[FeatureEncoding, ...]
    target: str


def load_regression_run(run_dir: str | Path) -> RegressionRun:
    """Reload the model and the feature encodings of a run folder.

    The folder must hold ``model.keras`` and a ``metrics.json`` with the
    ``target`` and ``encoding`` entries the ``linear_regression`` recipe writes.

    Args:
        run_dir: The run folder (the recipe's ``--output-dir``).

    Returns:
        The model, its encodings and the target's name.

    Raises:
        UsageError: When the folder, its ``metrics.json`` or its model is
            missing or unreadable.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UsageError(f"--model-dir {run_dir}: no such folder (train a model into it first)")
    try:
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        encodings = tuple(FeatureEncoding.from_dict(entry) for entry in metrics["encoding"])
        target = str(metrics["target"])
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(
            f"--model-dir {run_dir}: not a finished linear regression run (no readable metrics.json with "
            "the target and the feature encoding)"
        ) from None
    try:
        model = keras.saving.load_model(run_dir / "model.keras")
    except (OSError, ValueError, zipfile.BadZipFile):
        raise UsageError(f"--model-dir {run_dir}: no readable model.keras in it") from None
    return RegressionRun(model, encodings, target)


def predict_raw(run: RegressionRun, values: Sequence[str]) -> float:
    """Predict the target for one example given as raw text values, one per feature.

    Args:
        run: A reloaded run.
        values: One value per feature column, in order, as typed
            (``"5000"``, ``"yes"``); categorical values are one-hot encoded
            and numeric ones passed raw (the model normalizes them itself).

    Returns:
        The prediction.

    Raises:
        UsageError: On the wrong number of values or a value that cannot be encoded.
    """
    row = encode_row(run.encodings, values)
    return float(run.model.predict(row.astype("float32"), verbose=0)[0, 0])
