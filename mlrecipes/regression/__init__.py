"""Linear regression: reading tables, the exact least-squares fit, the Keras model, reports and plots.

- :mod:`mlrecipes.regression.tables` reads a CSV file (or the embedded Windsor
  house prices) into features and a target.
- :mod:`mlrecipes.regression.least_squares` solves the normal equations exactly.
- :mod:`mlrecipes.regression.model` builds the Keras model trained by gradient descent.
- :mod:`mlrecipes.regression.report` compares the two fits;
  :mod:`mlrecipes.regression.plots` draws them.
"""

from mlrecipes.regression.least_squares import fit_least_squares, regression_metrics
from mlrecipes.regression.model import build_linear_regression
from mlrecipes.regression.tables import load_regression_data

__all__ = ["build_linear_regression", "fit_least_squares", "load_regression_data", "regression_metrics"]
