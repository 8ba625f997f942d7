"""Linear regression: reading tables, the exact least-squares fit, the Keras model, reports and plots.

- [`mlrecipes.regression.tables`][mlrecipes.regression.tables] reads a CSV file (or the embedded Windsor
  house prices) into raw feature columns, each numeric or categorical, and a target.
- [`mlrecipes.regression.least_squares`][mlrecipes.regression.least_squares] solves the normal equations exactly.
- [`mlrecipes.regression.model`][mlrecipes.regression.model] builds the Keras models: the feature encoder
  (raw columns to the design matrix), the regression trained by gradient descent,
  and the two joined into the model that is saved.
- [`mlrecipes.regression.report`][mlrecipes.regression.report] compares the two fits;
  [`mlrecipes.regression.plots`][mlrecipes.regression.plots] draws them.
"""

from __future__ import annotations

from mlrecipes.lazy import lazy_attributes

# Public name -> the module that defines it, imported on first use (the
# command line reads the tables' constants without loading TensorFlow).
_EXPORTS = {
    "attach_encoder": "model",
    "build_feature_encoder": "model",
    "build_linear_regression": "model",
    "fit_least_squares": "least_squares",
    "load_regression_data": "tables",
    "regression_metrics": "least_squares",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_attributes(__name__, _EXPORTS)
