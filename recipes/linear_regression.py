r"""Predict house prices with linear regression, trained by gradient descent and checked against the exact solution.

**Task.** Predict a number $y$ (a house's sale price) from $d$ features
$x \in \mathbb{R}^d$ (its lot size in square feet, and optionally more). The
default data, embedded in the package, are 546 house sales in Windsor, Canada,
in 1987 (Anglin and Gençay, 1996); by default the recipe fits ``price``
against ``lotsize``. ``--csv FILE --target COLUMN --features COLUMN ...`` fits
any CSV file instead: numeric columns are used as they are; yes/no and other
categorical columns are one-hot encoded, one 0/1 column per value except the
first in sorted order, the reference (so ``airco`` becomes ``airco=yes``, whose
weight is the price difference from ``no``). That encoding is made of Keras
preprocessing layers (``StringLookup``), in front of the trained layers in the
saved model. Rows with a missing value in a used column are refused with a
one-line error; ``--drop-missing`` leaves them out instead and says how many.

**Model.** A straight line (with several features, a hyperplane):

$$\hat y = w^\top x + b = \sum_{j=1}^{d} w_j x_j + b.$$

Inside the model a ``Normalization`` layer first standardizes each feature,
$z_j = (x_j - \mu_j) / \sigma_j$, with the mean $\mu_j$ and standard deviation
$\sigma_j$ of the training rows, and one ``Dense(1)`` layer computes
$\hat y = w'^\top z + b'$. That is the same line in other units,

$$w_j = \frac{w'_j}{\sigma_j}, \qquad b = b' - \sum_{j=1}^{d} \frac{w'_j \mu_j}{\sigma_j},$$

and the recipe reports $w$ and $b$ in the data's own units (dollars per square
foot, dollars). The saved model takes raw values: it encodes and standardizes
them itself.

**Loss.** The mean squared error over the $N$ training rows. Stack the
standardized rows into $Z$, put a column of ones beside them,
$\tilde Z = [Z, \mathbf{1}]$, and write $\theta = (w', b')$:

$$\mathcal{L}(\theta) = \frac{1}{N} \sum_{n=1}^{N} (\hat y_n - y_n)^2
= \frac{1}{N} \lVert \tilde Z \theta - y \rVert^2, \qquad
\nabla_\theta \mathcal{L} = \frac{2}{N} \tilde Z^\top (\tilde Z \theta - y).$$

**Gradient descent.** Starting from $\theta = 0$, each step moves against the
gradient with the learning rate $\eta$ (Keras' ``SGD``):

$$\theta_{t+1} = \theta_t - \eta \, \nabla_\theta \mathcal{L}(\theta_t).$$

The default batch holds every training row, so each epoch is one exact
gradient step (full-batch gradient descent; a ``--csv`` file with more rows
than ``--batch-size`` gets mini-batches). The loss is a quadratic with the
constant Hessian $H = \frac{2}{N} \tilde Z^\top \tilde Z$, and each step
multiplies the distance to the minimum along an eigenvector of $H$ with
eigenvalue $\lambda$ by $1 - \eta \lambda$: gradient descent converges exactly
when $\eta < 2 / \lambda_{\max}$ (the recipe prints that limit and refuses a
plain ``sgd`` learning rate at or above it), and the slowest direction, that
of $\lambda_{\min}$, sets the pace. Standardizing brings the eigenvalues
together: for one feature $H = 2I$ whatever the units of $x$, so the default
$\eta = 0.2$ shrinks the distance by $0.6$ per step. Without it, lot sizes in
the thousands would force a tiny $\eta$ and a very slow intercept.
``--optimizer momentum`` (heavy-ball momentum 0.9) and ``adam`` are there to
compare; Adam moves each weight by about $\eta$ per step whatever the
gradient, so on prices in dollars it needs a learning rate in dollars.

**The exact solution.** The loss is smallest where its gradient vanishes,
which gives the normal equations. In the original units, with
$\tilde X = [X, \mathbf{1}]$ and $\hat\theta = (w, b)$:

$$\tilde X^\top \tilde X \, \hat\theta = \tilde X^\top y, \qquad
\hat\theta = (\tilde X^\top \tilde X)^{-1} \tilde X^\top y.$$

The recipe solves them with ``numpy.linalg.lstsq`` (stabler than forming the
inverse) on the same training rows, converts gradient descent's $(w', b')$
back to original units as above, and prints both fits side by side with the
mean squared error, the mean absolute error and
$R^2 = 1 - \sum_n (y_n - \hat y_n)^2 / \sum_n (y_n - \bar y)^2$ on the
training and the test rows. With the defaults, gradient descent's training MSE
ends within 0.1% of the exact minimum (in fact within float32 rounding).

**Train and test rows.** By default the line is fitted on all 546 rows, the
classic example: gradient descent and the normal equations then give the
published line for this data, a slope of 6.5988 dollars per square foot and an
intercept of 34136.19 dollars (MSE $5.0741 \times 10^8$, $R^2$ 0.2871).
``--test-fraction 0.2`` holds out a seeded random 20% (109 rows) instead: both
fits see only the 437 training rows, so they are still compared on equal
terms, and the test rows measure how well the line predicts houses it has not
seen. Fitted on those 437 rows the slope is 6.35 dollars per square foot; that
it moves by 4% with the sample is itself a lesson.

``--data-dir DIR`` reads ``DIR/windsor-housing.csv`` (the same table) instead
of the embedded copy. ``--predict`` loads a finished run and prints its
model's prediction for raw feature values, one per feature in order or as
``column=value`` pairs: the saved ``model.keras`` takes the raw columns, by
name, and needs nothing beside it.

**Training length.** About 40 gradient steps: the epochs are
$\lceil 40 / \lceil n / B \rceil \rceil$ for $n$ training rows and batch size
$B$, at least 1 and at most 40. With the default batch of 4,096 rows, a table
of up to 4,096 rows gets 40 full-batch steps; a larger one fewer passes of
several steps each. ``--epochs`` overrides the rule.

Run it::

    python -m recipes.linear_regression
    python -m recipes.linear_regression --test-fraction 0.2
    python -m recipes.linear_regression --features lotsize bedrooms bathrms stories airco prefarea
    python -m recipes.linear_regression --csv houses.csv --target price --features area rooms pool
    python -m recipes.linear_regression --predict 5000 --model-dir runs/linear_regression
    python -m recipes.linear_regression --features lotsize airco --output-dir runs/airco
    python -m recipes.linear_regression --predict lotsize=5000 airco=yes --model-dir runs/airco
"""

from __future__ import annotations

import sys
from pathlib import Path

from mlrecipes.budget import TrainingBudget
from mlrecipes.cli import check_command_line, fraction, parse_recipe_args, recipe_parser, run_recipe
from mlrecipes.errors import ArgumentValueError, UsageError
from mlrecipes.regression.tables import EMBEDDED_TABLE

RECIPE = "linear_regression"
DEFAULT_TARGET, DEFAULT_FEATURES = "price", ["lotsize"]
OPTIMIZERS = ("sgd", "momentum", "adam")


# How long to train: about 40 optimizer steps (40 full-batch epochs of a table of up to 4,096 rows), 1 to 40 epochs.
BUDGET = TrainingBudget(steps=40, min_epochs=1, max_epochs=40)


def build_parser():
    """The command line: the shared flags plus this recipe's own."""
    parser = recipe_parser(
        RECIPE,
        "Fit a linear regression by gradient descent and compare it with the exact least-squares solution.",
        budget=BUDGET,
        batch_size=4096,
        learning_rate=0.2,
        data_dir_help=f"a folder holding {EMBEDDED_TABLE} to read instead of the copy embedded in the package "
        "(for another table use --csv)",
    )
    recipe = parser.add_argument_group("this recipe")
    recipe.add_argument(
        "--csv", dest="csv_path", type=Path, default=None, metavar="PATH", help="a CSV file with a header line to fit"
    )
    recipe.add_argument(
        "--target", default=None, metavar="COLUMN", help=f"the column to predict (default {DEFAULT_TARGET})"
    )
    recipe.add_argument(
        "--features",
        nargs="+",
        default=None,
        metavar="COLUMN",
        help=f"the columns to predict it from: numeric, yes/no or categorical (default {' '.join(DEFAULT_FEATURES)})",
    )
    recipe.add_argument(
        "--drop-missing",
        action="store_true",
        help="leave out rows with a missing value in a used column, with a counted warning "
        "(by default they are refused)",
    )
    recipe.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="sgd is plain gradient descent")
    recipe.add_argument(
        "--test-fraction",
        type=fraction,
        default=0.0,
        help="share of the rows held out, seeded, for testing (default 0: fit all rows, the classic example)",
    )
    recipe.add_argument(
        "--predict",
        nargs="+",
        default=None,
        metavar="VALUE",
        help="print the prediction of the model in --model-dir for these raw feature values: one per feature, in "
        "order, or COLUMN=VALUE pairs",
    )
    recipe.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="the run folder --predict loads (default --output-dir)",
    )
    return parser


if __name__ == "__main__":
    # Answer --help and refuse bad flags now, before the seconds-long import of TensorFlow below.
    check_command_line(build_parser())

import keras
import numpy as np
import tensorflow as tf

from mlrecipes.data.pipeline import make_pipeline
from mlrecipes.regression.least_squares import check_design, fit_least_squares, largest_stable_learning_rate
from mlrecipes.regression.model import (
    attach_encoder,
    build_feature_encoder,
    build_linear_regression,
    example_from_text,
    fitted_line,
)
from mlrecipes.regression.report import GRADIENT_DESCENT, LEAST_SQUARES, compare_fits, draw_figures, weight_labels
from mlrecipes.regression.tables import load_regression_data
from mlrecipes.run import RecipeRun
from mlrecipes.saved_run import load_run


def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """``--optimizer``: plain gradient descent, gradient descent with momentum 0.9, or Adam."""
    if name == "momentum":
        return keras.optimizers.SGD(learning_rate, momentum=0.9)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    return keras.optimizers.SGD(learning_rate)


def main(argv=None):
    args = parse_recipe_args(build_parser(), argv)
    if args.predict is not None:
        return predict(args)
    if args.model_dir is not None:
        raise UsageError("--model-dir is only read by --predict")
    if args.csv_path is not None and args.data_dir is not None:
        raise UsageError("--csv and --data-dir both name the data; give one of them")
    if args.csv_path is not None and (args.target is None or args.features is None):
        raise UsageError(f"--csv {args.csv_path}: name the columns to use with --target COLUMN --features COLUMN ...")

    # Data: the raw feature columns (one row per house) and the target y,
    # shuffled with the seed and cut into training and test rows. Everything
    # is checked here, before anything is written.
    data = load_regression_data(
        args.target or DEFAULT_TARGET,
        args.features or DEFAULT_FEATURES,
        csv_path=args.csv_path,
        data_dir=args.data_dir,
        drop_missing=args.drop_missing,
    )
    if data.rows_dropped:
        print(f"{RECIPE}: warning: {data.dropped_summary}", file=sys.stderr, flush=True)
    order = np.random.default_rng(args.seed).permutation(data.rows)
    test_rows = round(data.rows * args.test_fraction)
    if args.test_fraction and not test_rows:
        raise UsageError(f"--test-fraction {args.test_fraction} of {data.rows} rows holds out no row; use 0 or more")
    train_index, test_index = np.sort(order[test_rows:]), np.sort(order[:test_rows])

    # The strategy and precision policy come first: they configure TensorFlow's
    # devices, which the feature encoder below sets running.
    run = RecipeRun.start(args, recipe=RECIPE)
    if run.replicas > 1 and any(count % run.replicas for count in (len(train_index), test_rows, args.batch_size)):
        raise UsageError(  # Keras 3 fails on batches that do not split evenly (keras-team/keras#19246)
            f"--strategy {args.strategy} with {run.replicas} replicas: {len(train_index)} training rows, "
            f"{test_rows} test rows and --batch-size {args.batch_size} must all divide by {run.replicas}; use "
            "--strategy cpu (two weights gain nothing from several devices) or change --test-fraction"
        )

    # The design matrix X: the feature encoder (Keras preprocessing layers that
    # turn a categorical column into 0/1 indicators) makes it of the raw
    # columns, once. Least squares solves with this X and gradient descent
    # trains on it; the saved model carries the encoder in front.
    encoder = build_feature_encoder(data.features)
    x = np.asarray(encoder.predict(data.columns, batch_size=4096, verbose=0), dtype=np.float64)
    splits = {"train": (x[train_index], data.target[train_index])}
    if test_rows:
        splits["test"] = (x[test_index], data.target[test_index])
    x_train, y_train = splits["train"]
    check_design(x_train, data.feature_names, rows_name="training rows")

    # The exact solution: least squares on the same training rows, in float64.
    exact = fit_least_squares(x_train, y_train)

    # Gradient descent on this quadratic diverges at 2 / lambda_max and above.
    limit = largest_stable_learning_rate((x_train - x_train.mean(axis=0)) / x_train.std(axis=0))
    print(f"{RECIPE}: full-batch gradient descent is stable below learning rate {limit:.4g} here")
    if args.optimizer == "sgd" and args.learning_rate >= limit * (1 - 1e-9):
        raise UsageError(
            f"--learning-rate {args.learning_rate:g}: gradient descent diverges at {limit:.4g} and above for "
            "these features (2 / the largest eigenvalue of the loss's Hessian); use a smaller one"
        )

    # Input pipeline: rows of X and targets. With the default batch size one
    # batch holds every training row: one exact gradient step per epoch.
    def pipeline(x, y, shuffle=False):
        rows = tf.data.Dataset.from_tensor_slices((x.astype("float32"), y.astype("float32")[:, None]))
        return make_pipeline(rows, args.batch_size, shuffle=shuffle, seed=args.seed)

    train = pipeline(x_train, y_train, shuffle=True)
    test = pipeline(*splits["test"]) if test_rows else None

    # Model: a Normalization layer adapted to the training rows, then one
    # Dense(1) layer, trained on the mean squared error.
    with run.strategy.scope():
        model = build_linear_regression(x_train, name=f"{RECIPE}_{data.target_name}")
        model.compile(
            optimizer=make_optimizer(args.optimizer, args.learning_rate),
            loss=keras.losses.MeanSquaredError(),
            metrics=[keras.metrics.MeanAbsoluteError(name="mae"), keras.metrics.R2Score(name="r2")],
            jit_compile=run.jit_compile,
        )
    model.summary(print_fn=lambda line, **_: print(line))

    # Train. The test rows are evaluated after each epoch only to draw their
    # loss curve: checkpointing and early stopping watch the training loss.
    epochs = BUDGET.epochs(len(y_train), args.batch_size, override=args.epochs)
    run.fit(model, train, test, train_examples=len(y_train), epochs=epochs, monitor="loss")
    if test is not None:
        run.evaluate(model, test)

    # Both fits side by side, in the data's own units, scored alike in float64.
    comparison = compare_fits(
        {
            GRADIENT_DESCENT: (fitted_line(model), lambda x: model.predict(x.astype("float32"), verbose=0)),
            LEAST_SQUARES: (exact, exact.predict),
        },
        splits,
    )
    held_out = f"{test_rows} test rows held out" if test_rows else "no test rows"
    print(f"\n{RECIPE}: {data.target_name} fitted on {len(y_train)} training rows, {held_out}")
    print(comparison.table(weight_labels(data), target_unit=data.units.get(data.target_name, "")) + "\n", flush=True)
    run.figures += draw_figures(comparison, splits, run.history, run.output_dir, data=data, title=RECIPE)

    # Saved: the encoder in front of the trained layers, a model of the raw columns.
    return run.finish(
        attach_encoder(encoder, model),
        dataset=Path(data.source).stem if args.csv_path else "windsor-housing",
        data_source=data.source,
        target=data.target_name,
        features=[feature.column for feature in data.features],
        rows={"read": data.rows_read, "dropped_missing": data.rows_dropped, "train": len(y_train), "test": test_rows},
        optimizer=args.optimizer,
        largest_stable_learning_rate=limit,
        **comparison.to_dict(data.feature_names),
        train_mse_gap=comparison.train_mse_gap,
    )


def predict(args):
    """Print a finished run's prediction for raw feature values; its saved model alone computes it."""
    if any(value is not None for value in (args.csv_path, args.target, args.features, args.data_dir)):
        raise UsageError(
            "--predict takes its features from the run in --model-dir; leave out --csv, --target, "
            "--features and --data-dir"
        )
    saved = load_run(args.model_dir or args.output_dir, recipe=RECIPE, required=("target",))
    try:
        example = example_from_text(saved.model, args.predict)
    except ArgumentValueError as error:
        value = " ".join(error.value) if isinstance(error.value, list) else error.value
        raise UsageError(f"--predict {value}: {error.reason}") from None
    value = float(saved.model.predict(example, verbose=0)[0, 0])
    given = ", ".join(
        f"{column}={values[0]}" if values.dtype == object else f"{column}={values[0]:.7g}"
        for column, values in example.items()
    )
    print(f"{saved.metrics['target']} predicted for {given}: {value:.7g}")
    return value


if __name__ == "__main__":
    run_recipe(main)
