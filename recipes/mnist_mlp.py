# %% [markdown]
r"""Classify handwritten digits (MNIST) or clothes (Fashion-MNIST) with a multilayer perceptron.

**Task.** Each example is a 28×28 grayscale image $x$ with pixel values
0–255 and one of ten labels $y \in \{0, \dots, 9\}$: digits for MNIST, kinds
of clothing for Fashion-MNIST. 55,000 images train the model, 5,000 validate
it during training and 10,000 test it once at the end.

**Model.** A multilayer perceptron (MLP) flattens the image into a vector
of 784 pixels and standardizes it, $h_0 = (x - \mu) / \sigma$, with the mean
$\mu$ and standard deviation $\sigma$ of the training pixels (computed from
the data, so other images work as well). It then applies $L$ fully connected
layers,

$$h_\ell = \operatorname{relu}\bigl(\operatorname{bn}(W_\ell h_{\ell-1})\bigr), \qquad \ell = 1, \dots, L-1,$$

where batch normalization rescales each unit with the mean $m_B$ and variance
$s_B^2$ of the batch (running averages of them at test time),
$\operatorname{bn}(z) = \gamma (z - m_B) / \sqrt{s_B^2 + \epsilon} + \beta$,
with learned $\gamma$ and $\beta$ ($\beta$ takes the place of the bias), and
the output layer is

$$p = \operatorname{softmax}(W_L h_{L-1} + b_L), \qquad
\operatorname{softmax}(z)_k = \frac{e^{z_k}}{\sum_{j=1}^{10} e^{z_j}},$$

where $\operatorname{relu}(z) = \max(0, z)$ elementwise and $p_k$ is the
predicted probability of class $k$. The default has two hidden layers of 256
and 128 units (784-256-128-10, 236,298 weights, 768 of them the
normalization's running means and variances). Standardized inputs and normalized
layers keep every layer's values near mean 0 and spread 1, which lets Adam
take large steps from the start. During training, dropout sets
each hidden unit to zero with probability $r$ and multiplies the others by
$1/(1-r)$, so the expected activation is unchanged and nothing needs to be
rescaled at test time.

**Loss.** The mean cross-entropy of a batch of $N$ examples,

$$\mathcal{L} = -\frac{1}{N} \sum_{n=1}^{N} \log p_{y_n}(x_n),$$

is the negative log-likelihood of the true labels. Its gradient with respect
to the output layer's pre-activations $z$ is simply $p - e_{y}$ (predicted
probabilities minus the one-hot true label); backpropagation carries it to
every weight by the chain rule, which TensorFlow computes automatically.

**Optimizer.** Adam keeps running averages of the gradient $g_t$ and of its
square, corrects their start-up bias, and scales each weight's step by them:

$$m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
\theta_t = \theta_{t-1} - \alpha_t \frac{m_t}{\sqrt{v_t} + \epsilon}, \quad
\alpha_t = \eta_t \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t},$$

with $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 10^{-7}$. This is Keras'
form: the bias corrections $1/(1-\beta_1^t)$ and $1/(1-\beta_2^t)$ are folded
into the step size $\alpha_t$, so $\epsilon$ is added to $\sqrt{v_t}$; the
textbook form adds it to the bias-corrected root and differs only by the size
of $\epsilon$. The step size
$\eta_t$ starts at `--learning-rate` and decays to zero along a half cosine
over the run, which settles the weights at the end instead of leaving them
bouncing at a constant step.

**Training length.** About 756 optimizer steps: the epochs are
$\lceil 756 / \lceil n / B \rceil \rceil$ for $n$ training images and batch
size $B$, at least 1 and at most 20. On the 55,000 images that is 7 epochs;
1,000 images (900 to train on) get 20 short ones, 40 steps, where 7 epochs
would be 14 steps; more passes over so few images only overfit. The run ends
with the weights of its epoch with the best validation accuracy: the last,
unless a later epoch got worse. `--epochs` overrides the rule.

Run it:

```bash
python -m recipes.mnist_mlp
python -m recipes.mnist_mlp --dataset fashion_mnist --data-dir /usr/share/datasets/fashion-mnist
```
"""

# %% [markdown]
# ## The command line
#
# Every recipe takes the same shared flags (`--epochs`, `--batch-size`, `--learning-rate`,
# `--strategy`, `--mixed-precision`, `--output-dir`, `--data-dir`, `--quick`, ...; see
# `mlrecipes.cli.recipe_parser`) with its own defaults, and adds flags of its own: here the data
# set and the shape of the network. `BUDGET` sets how long training lasts when `--epochs` is not
# given (see "Training length" above).

# %%
from __future__ import annotations

import argparse

from mlrecipes.budget import TrainingBudget
from mlrecipes.cli import check_command_line, fraction, parse_recipe_args, positive_int, recipe_parser, run_recipe

# About 756 optimizer steps (7 epochs of 55,000 images at batch 512), 1 to 20 epochs.
BUDGET = TrainingBudget(steps=756, min_epochs=1, max_epochs=20)


def build_parser():
    """The command line: the shared flags plus this recipe's own."""
    parser = recipe_parser(
        "mnist_mlp",
        "Train a multilayer perceptron on MNIST or Fashion-MNIST.",
        budget=BUDGET,
        batch_size=512,
        learning_rate=6e-3,
        data_dir_help="a folder with the four MNIST-format IDX files (train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz; "
        "gzipped or not) to read instead of downloading with tensorflow-datasets",
    )
    recipe = parser.add_argument_group("this recipe")
    recipe.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist", help="which data set")
    recipe.add_argument(
        "--hidden-units",
        type=positive_int,
        nargs="+",
        default=[256, 128],
        metavar="UNITS",
        help="width of each hidden layer, for example --hidden-units 64 64",
    )
    recipe.add_argument("--dropout", type=fraction, default=0.1, help="dropout rate after each hidden layer")
    recipe.add_argument(
        "--batch-norm",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="batch-normalize every hidden layer",
    )
    return parser


# %% [markdown]
# ## The flags of this run
#
# As a program, the recipe takes its flags from the command line:
# `python -m recipes.mnist_mlp --hidden-units 64 64`. In a notebook, write them in `ARGS`,
# as they would be typed, for example
# `ARGS = ["--quick", "--dataset", "fashion_mnist", "--data-dir", "/usr/share/datasets/fashion-mnist"]`.
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

from mlrecipes.data import load_mnist, make_pipeline, pixel_statistics, steps_per_epoch
from mlrecipes.models import build_mlp
from mlrecipes.run import RecipeRun
from mlrecipes.schedules import warmup_cosine

# %% [markdown]
# ## The data
#
# `load_mnist` reads the images from a `--data-dir` of IDX files, or downloads them with
# tensorflow-datasets, and cuts them into three splits of `(image, label)` pairs: uint8 images of
# shape (28, 28, 1) and integer labels. `--quick` keeps the first 2,048 training images and 512
# each of validation and test. `make_pipeline` turns each split into a `tf.data` pipeline that
# caches the decoded images in memory, reshuffles the training images every epoch, batches and
# prefetches (the concept page "Data pipelines" explains why in this order).


# %%
def load_data(args):
    """The three splits, and a batched pipeline for each."""
    data = load_mnist(args.dataset, data_dir=args.data_dir)
    if args.quick:
        data = data.quick()
    train = make_pipeline(data.train, args.batch_size, shuffle=True, seed=args.seed)
    validation = make_pipeline(data.validation, args.batch_size)
    test = make_pipeline(data.test, args.batch_size)
    return data, train, validation, test


# %% [markdown]
# ## The model
#
# `build_mlp` builds the network of the formulas above. Its first layer standardizes raw 0–255
# pixels with the training pixels' mean and standard deviation, so the saved model needs no
# preprocessing. The model is built and compiled inside the strategy's scope, so that its variables
# are mirrored on every replica, with Adam on the cosine schedule over the run's `steps`.


# %%
def build_model(args, data, run, steps):
    """The multilayer perceptron, compiled with its loss, optimizer and accuracy metric."""
    (mean,), (std,) = pixel_statistics(data.train)
    with run.strategy.scope():
        model = build_mlp(
            input_shape=(28, 28, 1),
            hidden_units=args.hidden_units,
            num_classes=data.num_classes,
            dropout=args.dropout,
            batch_norm=args.batch_norm,
            input_mean=mean,
            input_std=std,
            name=f"{args.dataset}_mlp",
        )
        model.compile(
            optimizer=keras.optimizers.Adam(warmup_cosine(args.learning_rate, steps)),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            jit_compile=run.jit_compile,
        )
    return model


# %% [markdown]
# ## Training, evaluation and outputs
#
# `main` runs the steps in order. `RecipeRun.start` seeds every random generator and picks the
# distribution strategy and the precision policy; the budget gives the epochs for this many images
# (or `--epochs`), and the optimizer steps they make set the length of the learning-rate schedule.
# `run.fit` trains with a backup after every epoch (an interrupted run resumes from it), TensorBoard
# logs and a checkpoint of the best epoch by validation accuracy, whose weights the model ends with.
# The test split is evaluated once, at the end; `run.report_classifier` draws the confusion matrix
# and test images with their predicted labels, and `run.finish` saves `model.keras`, `metrics.json`
# and the learning curves in `--output-dir`.


# %%
def main(argv=None):
    args = parse_recipe_args(build_parser(), argv)
    run = RecipeRun.start(args, recipe="mnist_mlp")
    data, train, validation, test = load_data(args)

    epochs = BUDGET.epochs(data.sizes["train"], args.batch_size, override=args.epochs)
    steps = epochs * steps_per_epoch(data.sizes["train"], args.batch_size)
    model = build_model(args, data, run, steps)
    model.summary(print_fn=lambda line, **_: print(line))

    run.fit(model, train, validation, train_examples=data.sizes["train"], epochs=epochs, monitor="val_accuracy")
    run.evaluate(model, test)
    run.report_classifier(model, test, data.class_names)
    return run.finish(model, dataset=args.dataset, data_source=data.source)


# %%
if __name__ == "__main__":
    run_recipe(main, ARGS)
