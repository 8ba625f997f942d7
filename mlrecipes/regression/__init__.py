"""Linear regression: reading tables, the exact least-squares fit, the Keras model, reports and plots.

- :mod:`mlrecipes.regression.tables` reads a CSV file (or the embedded Windsor
  house prices) into features and a target.
- :mod:`mlrecipes.regression.least_squares` solves the normal equations exactly.
- :mod:`mlrecipes.regression.model` builds the Keras model trained by gradient descent.
- :mod:`mlrecipes.regression.report` compares the two fits;
  :mod:`mlrecipes.regression.plots` draws them.
"""

from __future__ import annotations

import importlib
from typing import Any

# Public name -> the module that defines it, imported on first use (the
# command line reads the tables' constants without loading TensorFlow).
_EXPORTS = {
    "build_linear_regression": "model",
    "fit_least_squares": "least_squares",
    "load_regression_data": "tables",
    "regression_metrics": "least_squares",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"mlrecipes.regression.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
