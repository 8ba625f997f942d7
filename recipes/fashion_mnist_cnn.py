# %% [markdown]
r"""Classify clothes (Fashion-MNIST) with a small convolutional network.

**Task.** Each example is a 28×28 grayscale image $x$ with pixel values 0–255
of one of ten kinds of clothing: T-shirt/top, trouser, pullover, dress, coat,
sandal, shirt, sneaker, bag, ankle boot. 55,000 images train the model, 5,000
validate it during training and 10,000 test it once at the end.

**Model.** The network first standardizes the pixels,
$\hat x = (x - \mu) / \sigma$ with the training images' mean $\mu$ and
standard deviation $\sigma$ (72.9 and 90.0 for Fashion-MNIST; computed from
the training split, so other images work as well). A convolution with $C'$ filters of
size 3×3 then computes, at every pixel $(i, j)$ of its $C$-channel input,

$$z_{i,j,c'} = \sum_{u=0}^{2} \sum_{v=0}^{2} \sum_{c=1}^{C} W_{u,v,c,c'} \, \hat x_{i+u-1,\, j+v-1,\, c},$$

with $\hat x = 0$ outside the image ("same" padding: the output keeps the
input's height and width): the same few weights $W$ slide over the whole
image, so a pattern is recognized wherever it appears. 2×2 max pooling keeps the largest of each
block of four values, $m_{i,j,c} = \max_{u,v \in \{0,1\}} z_{2i+u,\, 2j+v,\, c}$,
which halves the height and width and tolerates small shifts. Batch
normalization rescales each channel with the mean $\mu_B$ and variance
$\sigma_B^2$ of the batch (at test time, running averages of them that keep
a fraction 0.9 of their value at each step, so they settle within a few dozen
steps),
$\operatorname{bn}(m) = \gamma (m - \mu_B) / \sqrt{\sigma_B^2 + \epsilon} + \beta$
with learned $\gamma$ and $\beta$, which lets a large learning rate train
stably; then $\operatorname{relu}(z) = \max(0, z)$. Two such blocks
(convolution, pooling, normalization, ReLU), of 32 and 64 filters, take the
image from 28×28 to 14×14 and 7×7, the 7·7·64 = 3,136 values are flattened into a vector $h$, and the
classifier head is

$$p = \operatorname{softmax}\bigl(W_2 \operatorname{drop}(\operatorname{relu}(\operatorname{bn}(W_1 \operatorname{drop}(h))))\bigr),$$

a hidden layer of 128 units between two dropout layers (422,314 weights
in all, most of them in $W_1$). Dropout sets each
value to zero with probability $r$ during training and multiplies the others
by $1/(1-r)$, so nothing changes at test time. Pooling comes right after the
convolution, so that normalization and ReLU run on a quarter of the values;
both are increasing functions (the normalization when $\gamma > 0$), which
commute with a maximum, so this differs from pooling last only in the values
the batch statistics are taken over.

**Loss.** The mean cross-entropy of the true labels,
$\mathcal{L} = -\frac{1}{N} \sum_{n=1}^{N} \log p_{y_n}(x_n)$.

**Optimizer.** Adam (see the MNIST MLP recipe for its update) with a
"one-cycle" learning rate: it rises linearly from 0 to $\eta_{\max}$ = `--learning-rate`
over the first `--warmup-epochs` and then decays to 0 along a half cosine,

$$\eta_t = \frac{\eta_{\max}}{2} \left(1 + \cos \frac{\pi (t - w)}{T - w}\right), \qquad w \le t \le T,$$

for $T$ steps in all, $w$ of them warm-up. The warm-up keeps the first,
large steps from throwing the still random weights far off; the decay lets
the weights settle at the end. With it, a few epochs are enough.

**Training length.** About 3,010 optimizer steps: the epochs are
$\lceil 3010 / \lceil n / B \rceil \rceil$ for $n$ training images and batch
size $B$, at least 1 and at most 30. On the 55,000 images that is 7 epochs;
1,000 images (900 to train on) get 30 epochs, 240 steps, where 7 epochs would
be 56 steps, too few for the batch-normalization averages and the weights to
settle. The run ends with the weights of its epoch with the best validation
accuracy: the last, unless a later epoch got worse. `--epochs` overrides
the rule.

Run it:

```bash
python -m recipes.fashion_mnist_cnn --data-dir /usr/share/datasets/fashion-mnist
python -m recipes.fashion_mnist_cnn --filters 32 64 128 --epochs 12   # deeper and longer
```
"""

# %% [markdown]
# ## The command line
#
# Every recipe takes the same shared flags (`--epochs`, `--batch-size`, `--learning-rate`,
# `--strategy`, `--mixed-precision`, `--output-dir`, `--data-dir`, `--quick`, ...; see
# `mlrecipes.cli.recipe_parser`) with its own defaults, and adds flags of its own: here the shape
# of the network and the length of the warm-up. `BUDGET` sets how long training lasts when
# `--epochs` is not given (see "Training length" above).

# %%
from __future__ import annotations

from mlrecipes.budget import TrainingBudget
from mlrecipes.cli import (
    check_command_line,
    fraction,
    parse_recipe_args,
    positive_float,
    positive_int,
    recipe_parser,
    run_recipe,
)

# About 3,010 optimizer steps (7 epochs of 55,000 images at batch 128), 1 to 30 epochs.
BUDGET = TrainingBudget(steps=3010, min_epochs=1, max_epochs=30)


def build_parser():
    """The command line: the shared flags plus this recipe's own."""
    parser = recipe_parser(
        "fashion_mnist_cnn",
        "Train a small convolutional network (conv, pooling, batch norm, dropout, dense) on Fashion-MNIST.",
        budget=BUDGET,
        batch_size=128,
        learning_rate=3e-3,
        data_dir_help="a folder with the four Fashion-MNIST IDX files (train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz; "
        "gzipped or not), such as /usr/share/datasets/fashion-mnist, to read instead of "
        "downloading with tensorflow-datasets",
    )
    recipe = parser.add_argument_group("this recipe")
    recipe.add_argument(
        "--filters",
        type=positive_int,
        nargs="+",
        default=[32, 64],
        metavar="FILTERS",
        help="filters of each conv-and-pool block, one block per number (at most 4 blocks fit 28x28 images)",
    )
    recipe.add_argument(
        "--convs-per-block",
        type=positive_int,
        default=1,
        metavar="N",
        help="convolutions in each block: the first before the pooling, the others after it, at half the size",
    )
    recipe.add_argument(
        "--dense-units",
        type=positive_int,
        nargs="*",
        default=[128],
        metavar="UNITS",
        help="width of each hidden dense layer; none for a linear classifier on the features",
    )
    recipe.add_argument("--dropout", type=fraction, default=0.3, help="dropout rate before each dense layer")
    recipe.add_argument(
        "--warmup-epochs", type=positive_float, default=1.0, help="epochs of linear learning-rate warm-up"
    )
    return parser


# %% [markdown]
# ## The flags of this run
#
# As a program, the recipe takes its flags from the command line:
# `python -m recipes.fashion_mnist_cnn --filters 32 64 128`. In a notebook, write them in `ARGS`,
# as they would be typed, for example
# `ARGS = ["--quick", "--data-dir", "/usr/share/datasets/fashion-mnist"]`.
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
from mlrecipes.models.cnn import build_cnn
from mlrecipes.run import RecipeRun
from mlrecipes.schedules import warmup_cosine

# %% [markdown]
# ## The data
#
# `load_mnist` reads Fashion-MNIST from a `--data-dir` of IDX files, or downloads it with
# tensorflow-datasets, and cuts it into three splits of `(image, label)` pairs: uint8 images of
# shape (28, 28, 1) and integer labels. `--quick` keeps the first 2,048 training images and 512
# each of validation and test. `make_pipeline` turns each split into a `tf.data` pipeline that
# caches the decoded images in memory, reshuffles the training images every epoch, batches and
# prefetches.


# %%
def load_data(args):
    """The three splits, and a batched pipeline for each."""
    data = load_mnist("fashion_mnist", data_dir=args.data_dir)
    if args.quick:
        data = data.quick()
    train = make_pipeline(data.train, args.batch_size, shuffle=True, seed=args.seed)
    validation = make_pipeline(data.validation, args.batch_size)
    test = make_pipeline(data.test, args.batch_size)
    return data, train, validation, test


# %% [markdown]
# ## The model
#
# `build_cnn` builds the network of the formulas above: one block of convolution ("same"
# padding), 2×2 max pooling, batch normalization and ReLU per number of `--filters`, then the
# dense head. Its first layer standardizes raw 0–255 pixels with the training pixels' mean and
# standard deviation, so the saved model needs no preprocessing. The model is built and compiled
# inside the strategy's scope, so that its variables are mirrored on every replica, with Adam on
# the one-cycle schedule: `warmup` steps up to `--learning-rate`, then a half cosine down to 0 at
# `steps`.


# %%
def build_model(args, data, run, steps, warmup):
    """The convolutional network, compiled with its loss, optimizer and accuracy metric."""
    (mean,), (std,) = pixel_statistics(data.train)
    with run.strategy.scope():
        model = build_cnn(
            input_shape=(28, 28, 1),
            num_classes=data.num_classes,
            filters=args.filters,
            padding="same",
            convs_per_block=args.convs_per_block,
            batch_norm=True,
            dense_units=args.dense_units,
            dropout=args.dropout,
            input_mean=mean,
            input_std=std,
            name="fashion_mnist_cnn",
        )
        schedule = warmup_cosine(args.learning_rate, steps, warmup)
        model.compile(
            optimizer=keras.optimizers.Adam(schedule),
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
# (or `--epochs`), and the optimizer steps they make set the length of the learning-rate schedule,
# `--warmup-epochs` of them warm-up (at most all steps but the last). `run.fit` trains with a
# backup after every epoch (an interrupted run resumes from it), TensorBoard logs and a checkpoint
# of the best epoch by validation accuracy, whose weights the model ends with. The test split is
# evaluated once, at the end; `run.report_classifier` draws the confusion matrix and test images
# with their predicted labels, and `run.finish` saves `model.keras`, `metrics.json` and the
# learning curves in `--output-dir`.


# %%
def main(argv=None):
    args = parse_recipe_args(build_parser(), argv)
    run = RecipeRun.start(args, recipe="fashion_mnist_cnn")
    data, train, validation, test = load_data(args)

    epochs = BUDGET.epochs(data.sizes["train"], args.batch_size, override=args.epochs)
    epoch_steps = steps_per_epoch(data.sizes["train"], args.batch_size)
    steps = epochs * epoch_steps
    warmup = min(steps - 1, round(args.warmup_epochs * epoch_steps))
    model = build_model(args, data, run, steps, warmup)
    model.summary(print_fn=lambda line, **_: print(line))

    run.fit(model, train, validation, train_examples=data.sizes["train"], epochs=epochs, monitor="val_accuracy")
    run.evaluate(model, test)
    run.report_classifier(model, test, data.class_names)
    return run.finish(model, dataset="fashion_mnist", data_source=data.source)


# %%
if __name__ == "__main__":
    run_recipe(main, ARGS)
