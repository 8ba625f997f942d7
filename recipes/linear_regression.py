# %% [markdown]
r"""Predict house prices with linear regression, trained by gradient descent and checked against the exact solution.

**Task.** Predict a number $y$ (a house's sale price) from $d$ features
$x \in \mathbb{R}^d$ (its lot size in square feet, and optionally more). The
default data, embedded in the package, are 546 house sales in Windsor, Canada,
in 1987 (Anglin and Gençay, 1996); by default the recipe fits `price`
against `lotsize`. `--csv FILE --target COLUMN --features COLUMN ...` fits
any CSV file instead: numeric columns are used as they are; yes/no and other
categorical columns are one-hot encoded, one 0/1 column per value except the
first in sorted order, the reference (so `airco` becomes `airco=yes`, whose
weight is the price difference from `no`). That encoding is made of Keras
preprocessing layers (`StringLookup`), in front of the trained layers in the
saved model. Rows with a missing value in a used column are refused with a
one-line error; `--drop-missing` leaves them out instead and says how many.

**Model.** A straight line (with several features, a hyperplane):

$$\hat y = w^\top x + b = \sum_{j=1}^{d} w_j x_j + b.$$

Inside the model a `Normalization` layer first standardizes each feature,
$z_j = (x_j - \mu_j) / \sigma_j$, with the mean $\mu_j$ and standard deviation
$\sigma_j$ of the training rows, and one `Dense(1)` layer computes
$\hat y = w'^\top z + b'$. That is the same line in other units,

$$w_j = \frac{w'_j}{\sigma_j}, \qquad b = b' - \sum_{j=1}^{d} \frac{w'_j \mu_j}{\sigma_j},$$

and the recipe reports $w$ and $b$ in the data's own units (for the Windsor
data, Canadian dollars per square foot and Canadian dollars). The saved model
takes raw values: it encodes and standardizes them itself.

**Loss.** The mean squared error over the $N$ training rows. Stack the
standardized rows into $Z$, put a column of ones beside them,
$\tilde Z = [Z, \mathbf{1}]$, and write $\theta = (w', b')$:

$$\mathcal{L}(\theta) = \frac{1}{N} \sum_{n=1}^{N} (\hat y_n - y_n)^2
= \frac{1}{N} \lVert \tilde Z \theta - y \rVert^2, \qquad
\nabla_\theta \mathcal{L} = \frac{2}{N} \tilde Z^\top (\tilde Z \theta - y).$$

**Gradient descent.** Starting from $\theta = 0$, each step moves against the
gradient with the learning rate $\eta$ (Keras' `SGD`):

$$\theta_{t+1} = \theta_t - \eta \, \nabla_\theta \mathcal{L}(\theta_t).$$

The default batch holds every training row, so each epoch is one exact
gradient step (full-batch gradient descent; a `--csv` file with more rows
than `--batch-size` gets mini-batches). The loss is a quadratic with the
constant Hessian $H = \frac{2}{N} \tilde Z^\top \tilde Z$, and each step
multiplies the distance to the minimum along an eigenvector of $H$ with
eigenvalue $\lambda$ by $1 - \eta \lambda$: gradient descent converges exactly
when $\eta < 2 / \lambda_{\max}$ (the recipe prints that limit and refuses a
plain `sgd` learning rate at or above it), and the slowest direction, that
of $\lambda_{\min}$, sets the pace. Standardizing brings the eigenvalues
together: for one feature $H = 2I$ whatever the units of $x$, so the default
$\eta = 0.2$ shrinks the distance by $0.6$ per step. Without it, lot sizes in
the thousands would force a tiny $\eta$ and a very slow intercept.
`--optimizer momentum` (heavy-ball momentum 0.9) and `adam` are there to
compare; Adam moves each weight by about $\eta$ per step whatever the
gradient, so on prices in Canadian dollars its learning rate is an amount of
Canadian dollars too.

**The exact solution.** The loss is smallest where its gradient vanishes,
which gives the normal equations. In the original units, with
$\tilde X = [X, \mathbf{1}]$ and $\hat\theta = (w, b)$:

$$\tilde X^\top \tilde X \, \hat\theta = \tilde X^\top y, \qquad
\hat\theta = (\tilde X^\top \tilde X)^{-1} \tilde X^\top y.$$

The recipe solves them with `numpy.linalg.lstsq` (stabler than forming the
inverse) on the same training rows, converts gradient descent's $(w', b')$
back to original units as above, and prints both fits side by side with the
mean squared error, the mean absolute error and
$R^2 = 1 - \sum_n (y_n - \hat y_n)^2 / \sum_n (y_n - \bar y)^2$ on the
training and the test rows, and how far gradient descent's training MSE ends
above the exact minimum: it should be within 0.1%.

**Train and test rows.** By default the line is fitted on all 546 rows, the
classic example: gradient descent and the normal equations then give the
published line for this data, a slope of 6.5988 Canadian dollars (CAD) per
square foot and an intercept of 34136.19 CAD (MSE $5.0741 \times 10^8$ CAD², $R^2$
0.2871).
`--test-fraction 0.2` holds out a seeded random 20% (109 rows) instead: both
fits see only the 437 training rows, so they are still compared on equal
terms, and the test rows measure how well the line predicts houses it has not
seen. Fitted on those 437 rows the slope is 6.35 CAD per square foot; that
it moves by 4% with the sample is itself a lesson.

`--data-dir DIR` reads `DIR/windsor-housing.csv` (the same table) instead
of the embedded copy. `--predict` loads a finished run and prints its
model's prediction for raw feature values, one per feature in order or as
`column=value` pairs: the saved `model.keras` takes the raw columns, by
name, and needs nothing beside it.

**Training length.** About 40 gradient steps: the epochs are
$\lceil 40 / \lceil n / B \rceil \rceil$ for $n$ training rows and batch size
$B$, at least 1 and at most 40. With the default batch of 4,096 rows, a table
of up to 4,096 rows gets 40 full-batch steps; a larger one fewer passes of
several steps each. `--epochs` overrides the rule.

Run it:

```bash
python -m recipes.linear_regression
python -m recipes.linear_regression --test-fraction 0.2
python -m recipes.linear_regression --features lotsize bedrooms bathrms stories airco prefarea
python -m recipes.linear_regression --csv houses.csv --target price --features area rooms pool
python -m recipes.linear_regression --predict 5000 --model-dir runs/linear_regression
python -m recipes.linear_regression --features lotsize airco --output-dir runs/airco
python -m recipes.linear_regression --predict lotsize=5000 airco=yes --model-dir runs/airco
```
"""

# %% [markdown]
# ## The command line
#
# Every recipe takes the same shared flags (`--epochs`, `--batch-size`, `--learning-rate`,
# `--strategy`, `--mixed-precision`, `--output-dir`, `--data-dir`, `--quick`, ...; see
# `mlrecipes.cli.recipe_parser`) with its own defaults, and adds flags of its own: here the table
# and its columns, the optimizer, the share of rows held out for testing, and a second use of the
# recipe, predicting with a finished run's model (`--predict`). `BUDGET` sets how long training
# lasts when `--epochs` is not given (see "Training length" above).

# %%
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

# About 40 optimizer steps (40 full-batch epochs of a table of up to 4,096 rows), 1 to 40 epochs.
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


# %% [markdown]
# ## The flags of this run
#
# As a program, the recipe takes its flags from the command line:
# `python -m recipes.linear_regression --test-fraction 0.2`. In a notebook, write them in `ARGS`,
# as they would be typed, for example
# `ARGS = ["--features", "lotsize", "bedrooms", "airco", "--test-fraction", "0.2"]`.
# `ARGS = None` means the command line's flags, and in a notebook every default. `--help` is
# answered, and a bad flag refused, at once: before the seconds-long import of TensorFlow in the
# cell after.

# %% tags=["parameters"]
ARGS = None

# %%
if __name__ == "__main__":
    check_command_line(build_parser(), ARGS)

# %%
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

# %% [markdown]
# ## The data
#
# `load_regression_data` reads the table (the embedded Windsor house sales, the same table in
# `--data-dir`, or a `--csv` file) and keeps the target and the feature columns, raw: numbers
# stay numbers, yes/no and other categorical columns stay text. Everything is checked here,
# before anything is written: columns that do not exist, a target that is not numeric, a text
# column with too many different values to encode, missing values (refused, or left out and
# counted with `--drop-missing`). The rows are then shuffled with `--seed` and the first
# `--test-fraction` of them held out as test rows; by default there are none, and the line is
# fitted on every row.


# %%
def load_data(args):
    """The table's target and raw feature columns, and the row numbers of the training and test rows."""
    if args.csv_path is not None and args.data_dir is not None:
        raise UsageError("--csv and --data-dir both name the data; give one of them")
    if args.csv_path is not None and (args.target is None or args.features is None):
        raise UsageError(f"--csv {args.csv_path}: name the columns to use with --target COLUMN --features COLUMN ...")
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
    return data, np.sort(order[test_rows:]), np.sort(order[:test_rows])


# %% [markdown]
# ## The design matrix
#
# `build_feature_encoder` makes Keras preprocessing layers that turn the raw columns into the
# design matrix $X$: a numeric column as it is, a categorical one as 0/1 indicator columns
# (`StringLookup`). It runs once, here, on every row; least squares solves with this $X$, and
# gradient descent trains on it. Running it in front of training, rather than inside the trained
# model, means that only numbers reach the replicas of a distribution strategy. The saved model
# gets the encoder in front again at the end, so that it takes the raw columns.
#
# `check_design` refuses a design that has no unique least-squares solution: fewer training rows
# than parameters (a weight per column and the intercept), a constant column, or a column that is
# a linear combination of the others.


# %%
def design_matrix(data, train_index, test_index):
    """The feature encoder, and each split's `(X, y)`: the rows of the design matrix and their targets."""
    encoder = build_feature_encoder(data.features)
    x = np.asarray(encoder.predict(data.columns, batch_size=4096, verbose=0), dtype=np.float64)
    splits = {"train": (x[train_index], data.target[train_index])}
    if len(test_index):
        splits["test"] = (x[test_index], data.target[test_index])
    check_design(splits["train"][0], data.feature_names, rows_name="training rows")
    return encoder, splits


# %% [markdown]
# ## The exact solution, and how large a step can be
#
# `fit_least_squares` solves the normal equations on the training rows, in float64: the line that
# gradient descent should reach. `largest_stable_learning_rate` computes $2 / \lambda_{\max}$ for
# the standardized training rows, the learning rate at which gradient descent on this quadratic
# starts to diverge; a plain `sgd` learning rate at or above it is refused.


# %%
def exact_solution(args, x_train, y_train):
    """The least-squares fit, and the largest stable learning rate of full-batch gradient descent."""
    exact = fit_least_squares(x_train, y_train)
    limit = largest_stable_learning_rate((x_train - x_train.mean(axis=0)) / x_train.std(axis=0))
    print(f"{RECIPE}: full-batch gradient descent is stable below learning rate {limit:.4g} here")
    if args.optimizer == "sgd" and args.learning_rate >= limit * (1 - 1e-9):
        raise UsageError(
            f"--learning-rate {args.learning_rate:g}: gradient descent diverges at {limit:.4g} and above for "
            "these features (2 / the largest eigenvalue of the loss's Hessian); use a smaller one"
        )
    return exact, limit


# %% [markdown]
# ## The input pipelines
#
# Rows of $X$ and their targets, in float32, batched by `make_pipeline`; the training rows are
# reshuffled every epoch. With the default batch size one batch holds every training row, so
# each epoch is one exact gradient step.


# %%
def make_pipelines(args, splits):
    """A batched `tf.data` pipeline of the training rows, and of the test rows if there are any."""

    def pipeline(x, y, shuffle=False):
        rows = tf.data.Dataset.from_tensor_slices((x.astype("float32"), y.astype("float32")[:, None]))
        return make_pipeline(rows, args.batch_size, shuffle=shuffle, seed=args.seed)

    train = pipeline(*splits["train"], shuffle=True)
    test = pipeline(*splits["test"]) if "test" in splits else None
    return train, test


# %% [markdown]
# ## The model
#
# `build_linear_regression` makes the model of the formulas above: a `Normalization` layer adapted
# to the training rows, then one `Dense(1)` layer whose weights start at zero. It is compiled with
# the mean squared error as its loss, the mean absolute error and $R^2$ as metrics, and the
# `--optimizer`: plain gradient descent, gradient descent with momentum 0.9, or Adam. The model
# is built inside the strategy's scope, so that its variables are mirrored on every replica.


# %%
def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """`--optimizer`: plain gradient descent, gradient descent with momentum 0.9, or Adam."""
    if name == "momentum":
        return keras.optimizers.SGD(learning_rate, momentum=0.9)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    return keras.optimizers.SGD(learning_rate)


def build_model(args, run, data, x_train):
    """The linear regression on the design matrix, compiled with its loss, optimizer and metrics."""
    with run.strategy.scope():
        model = build_linear_regression(x_train, name=f"{RECIPE}_{data.target_name}")
        model.compile(
            optimizer=make_optimizer(args.optimizer, args.learning_rate),
            loss=keras.losses.MeanSquaredError(),
            metrics=[keras.metrics.MeanAbsoluteError(name="mae"), keras.metrics.R2Score(name="r2")],
            jit_compile=run.jit_compile,
        )
    return model


# %% [markdown]
# ## Both fits side by side
#
# `compare_fits` converts gradient descent's weights back to the data's own units and scores both
# fits on the same rows with the same float64 arithmetic: the mean squared error, the mean
# absolute error and $R^2$. The table printed puts them side by side, each weight labelled with
# its unit (for the embedded data, prices in Canadian dollars, CAD), and says whether gradient
# descent's training MSE ends within 0.1% of the exact minimum. `draw_figures` draws the data with
# both lines (with several features, the predicted against the actual target), the learning
# curves (the loss per epoch against the exact minimum) and the residuals, each titled by the
# data set.


# %%
def compare(args, run, model, exact, data, splits):
    """Score both fits on every split, print them side by side and draw the figures."""
    comparison = compare_fits(
        {
            GRADIENT_DESCENT: (fitted_line(model), lambda x: model.predict(x.astype("float32"), verbose=0)),
            LEAST_SQUARES: (exact, exact.predict),
        },
        splits,
    )
    rows = {split: len(y) for split, (_, y) in splits.items()}
    held_out = f"{rows['test']} test rows held out" if "test" in rows else "no test rows"
    print(f"\n{RECIPE}: {data.target_name} fitted on {rows['train']} training rows, {held_out}")
    print(comparison.table(weight_labels(data), target_unit=data.units.get(data.target_name, "")) + "\n", flush=True)
    title = Path(data.source).name if args.csv_path else "Windsor house sales, 1987"
    run.figures += draw_figures(comparison, splits, run.history, run.output_dir, data=data, title=title)
    return comparison


# %% [markdown]
# ## Predicting with a finished run
#
# `--predict` trains nothing: it loads `model.keras` from `--model-dir` (default `--output-dir`)
# and prints its prediction for raw feature values, one per feature in order or as
# `column=value` pairs. The saved model takes the raw columns by name and encodes them itself;
# from `metrics.json` only the target's name is read.


# %%
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


# %% [markdown]
# ## Training, evaluation and outputs
#
# `main` runs the steps in order (or only predicts, given `--predict`). `RecipeRun.start` seeds
# every random generator and picks the distribution strategy and the precision policy; it comes
# before the feature encoder, which sets TensorFlow's devices running. Keras 3 fails on batches
# that do not split evenly over several replicas
# ([keras-team/keras#19246](https://github.com/keras-team/keras/issues/19246)), so the row counts
# and the batch size are checked against the replicas first. The budget gives the epochs (or
# `--epochs`). `run.fit` passes the test rows as validation data only to record their loss per
# epoch: the best epoch, whose weights the model ends with, is judged by the training loss.
# `run.finish` saves the model with the encoder in front, a model of the raw columns, and
# `metrics.json` with both fits in `--output-dir`; the learning curves are the ones drawn above,
# so it draws no others.


# %%
def main(argv=None):
    args = parse_recipe_args(build_parser(), argv)
    if args.predict is not None:
        return predict(args)
    if args.model_dir is not None:
        raise UsageError("--model-dir is only read by --predict")
    data, train_index, test_index = load_data(args)

    run = RecipeRun.start(args, recipe=RECIPE)
    if run.replicas > 1 and any(count % run.replicas for count in (len(train_index), len(test_index), args.batch_size)):
        raise UsageError(
            f"--strategy {args.strategy} with {run.replicas} replicas: {len(train_index)} training rows, "
            f"{len(test_index)} test rows and --batch-size {args.batch_size} must all divide by {run.replicas}; use "
            "--strategy cpu (two weights gain nothing from several devices) or change --test-fraction"
        )

    encoder, splits = design_matrix(data, train_index, test_index)
    x_train, y_train = splits["train"]
    exact, limit = exact_solution(args, x_train, y_train)
    train, test = make_pipelines(args, splits)
    model = build_model(args, run, data, x_train)
    model.summary(print_fn=lambda line, **_: print(line))

    epochs = BUDGET.epochs(len(y_train), args.batch_size, override=args.epochs)
    run.fit(model, train, test, train_examples=len(y_train), epochs=epochs, monitor="loss")
    if test is not None:
        run.evaluate(model, test)
    comparison = compare(args, run, model, exact, data, splits)

    return run.finish(
        attach_encoder(encoder, model),
        dataset=Path(data.source).stem if args.csv_path else "windsor-housing",
        draw_learning_curves=False,
        data_source=data.source,
        target=data.target_name,
        features=[feature.column for feature in data.features],
        rows={
            "read": data.rows_read,
            "dropped_missing": data.rows_dropped,
            "train": len(y_train),
            "test": len(test_index),
        },
        optimizer=args.optimizer,
        largest_stable_learning_rate=limit,
        **comparison.to_dict(data.feature_names),
        train_mse_gap=comparison.train_mse_gap,
    )


# %%
if __name__ == "__main__":
    run_recipe(main, ARGS)
