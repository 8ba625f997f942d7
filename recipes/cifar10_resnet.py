# %% [markdown]
r"""Classify small colour photographs (CIFAR-10) with a residual network, trained the fast way.

**Task.** Each example is a 32×32 colour image $x \in \{0, \dots, 255\}^{32 \times 32 \times 3}$
of one of ten classes: airplane, automobile, bird, cat, deer, dog, frog,
horse, ship, truck. 45,000 images train the model, 5,000 validate it during
training (`--validation-size 0` trains on all 50,000, as the published
speed records do) and 10,000 test it once at the end.

**Model.** ResNet-9, the network of David Page's "How to train your ResNet"
(2018). The model first standardizes each colour channel,
$\hat x = (x - \mu_c) / \sigma_c$ with the training set's mean and standard
deviation. A layer $\operatorname{cbr}(x) = \operatorname{relu}(\operatorname{bn}(W * x))$
is a 3×3 convolution $W * x$, batch normalization
$\operatorname{bn}(z) = \gamma (z - \mu_B) / \sqrt{\sigma_B^2 + \epsilon} + \beta$
(with the batch's mean and variance of each channel during training, running
averages at test time) and a ReLU. A stem $\operatorname{cbr}$ with 64 channels
is followed by three stages of 128, 256 and 512 channels; each stage is a
$\operatorname{cbr}$ with 2×2 max pooling that halves the resolution
(32 → 16 → 8 → 4), and stages 1 and 3 add a residual block

$$y = x + \operatorname{cbr}_2(\operatorname{cbr}_1(x)),$$

whose identity path gives the gradient a route to the early layers that
bypasses the block's weights: with $F = \operatorname{cbr}_2 \circ \operatorname{cbr}_1$,
$\partial y / \partial x = I + \partial F / \partial x$. A
global max pooling leaves 512 features $h$, and the output is
$p = \operatorname{softmax}(W_o h / 8)$; the fixed division keeps early
predictions soft. 6.57 million weights, 9 weight layers.

**Loss.** Cross-entropy against label-smoothed targets: the true class gets
$1 - \varepsilon$ and the $\varepsilon$ left is spread over all $K = 10$ classes,

$$q_k = (1 - \varepsilon)\,[k = y] + \frac{\varepsilon}{K}, \qquad
\mathcal{L} = -\frac{1}{N} \sum_{n=1}^{N} \sum_{k=1}^{K} q_k \log p_k(x_n),$$

with $\varepsilon = 0.2$. The network is then never pushed towards infinite
logits, which makes it better calibrated and slightly more accurate.

**Optimizer.** Stochastic gradient descent with Nesterov momentum $\mu = 0.9$
and decoupled weight decay $\lambda$; with the gradient $g_t$ of the batch loss,

$$\theta \leftarrow (1 - \eta_t \lambda)\,\theta, \qquad
v_t = \mu v_{t-1} - \eta_t g_t, \qquad
\theta \leftarrow \theta + \mu v_t - \eta_t g_t .$$

$\lambda = 5 \times 10^{-3}$ equals Page's L2 penalty of $5 \times 10^{-4}$,
which momentum amplifies by $1 / (1 - \mu) = 10$. The learning rate rises
linearly from 0 to $\eta_{\max} = 0.4$ over the first 5 of 24 epochs and then
decays to 0 along a half cosine,
$\eta_t = \eta_{\max} \tfrac{1}{2} \left(1 + \cos \tfrac{\pi (t - w)}{T - w}\right)$
for the steps $t$ after the $w$ warm-up steps, of $T$ in all: a "one-cycle"
schedule that lets a large batch (512) train with a large step.

**Augmentation.** Every training batch is altered on the fly inside the
`tf.data` pipeline: each image is padded by 4 pixels (reflecting its
border), cropped back to 32×32 at a random offset, mirrored left to right
with probability 1/2, and an 8×8 square is set to the mean colour (cutout).

**Training length.** About 2,112 optimizer steps: the epochs are
$\lceil 2112 / \lceil n / B \rceil \rceil$ for $n$ training images and batch
size $B$, at least 1 and at most 100: 24 epochs on CIFAR-10's 45,000 training
images, more passes over a smaller set of your own. The run ends with the
weights of its epoch with the best validation accuracy. `--epochs`
overrides the rule.

Run it:

```bash
python -m recipes.cifar10_resnet --strategy gpu --mixed-precision
python -m recipes.cifar10_resnet --data-dir ~/data/cifar-10-batches-py
python -m recipes.cifar10_resnet --width 0.25 --epochs 10   # a CPU-sized network
```
"""

# %% [markdown]
# ## The command line
#
# Every recipe takes the same shared flags (`--epochs`, `--batch-size`, `--learning-rate`,
# `--strategy`, `--mixed-precision`, `--output-dir`, `--data-dir`, `--quick`, ...; see
# `mlrecipes.cli.recipe_parser`) with its own defaults, and adds flags of its own: here the width
# of the network, the label smoothing $\varepsilon$, the weight decay $\lambda$, the length of the
# warm-up, the side of the cutout square and the size of the validation split. `BUDGET` sets how
# long training lasts when `--epochs` is not given (see "Training length" above).

# %%
from __future__ import annotations

from mlrecipes.budget import TrainingBudget
from mlrecipes.cli import (
    check_command_line,
    fraction,
    non_negative_int,
    parse_recipe_args,
    positive_float,
    recipe_parser,
    run_recipe,
)
from mlrecipes.data.cifar10 import FOLDER_HELP

# About 2,112 optimizer steps (24 epochs of 45,000 images at batch 512), 1 to 100 epochs.
BUDGET = TrainingBudget(steps=2112, min_epochs=1, max_epochs=100)


def build_parser():
    """The command line: the shared flags plus this recipe's own."""
    parser = recipe_parser(
        "cifar10_resnet",
        "Train a residual network (ResNet-9) on CIFAR-10 with augmentation, label smoothing, "
        "weight decay and a warm-up + cosine learning-rate schedule.",
        budget=BUDGET,
        batch_size=512,
        learning_rate=0.4,
        data_dir_help=f"a folder with {FOLDER_HELP}, to read instead of downloading with tensorflow-datasets",
    )
    recipe = parser.add_argument_group("this recipe")
    recipe.add_argument(
        "--width", type=positive_float, default=1.0, help="multiply every layer's channels (0.25 is 16x cheaper)"
    )
    recipe.add_argument("--label-smoothing", type=fraction, default=0.2, help="share of each target spread evenly")
    recipe.add_argument(
        "--weight-decay", type=positive_float, default=5e-3, help="decoupled weight decay, per unit learning rate"
    )
    recipe.add_argument(
        "--warmup-epochs", type=positive_float, default=5.0, help="epochs of linear learning-rate warm-up"
    )
    recipe.add_argument("--cutout", type=non_negative_int, default=8, help="side of the cutout square; 0 for none")
    recipe.add_argument(
        "--validation-size",
        type=non_negative_int,
        default=5000,
        help="training images held out for validation; 0 trains on all 50,000",
    )
    return parser


# %% [markdown]
# ## The flags of this run
#
# As a program, the recipe takes its flags from the command line:
# `python -m recipes.cifar10_resnet --width 0.25`. In a notebook, write them in `ARGS`, as they
# would be typed, for example
# `ARGS = ["--quick", "--width", "0.25", "--data-dir", "/data/cifar-10-batches-py"]`.
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
import tensorflow as tf

from mlrecipes.data.augment import make_augmentation
from mlrecipes.data.cifar10 import MEAN_PIXEL, STD_PIXEL, load_cifar10
from mlrecipes.data.pipeline import make_pipeline, steps_per_epoch
from mlrecipes.models.resnet import build_resnet
from mlrecipes.run import RecipeRun
from mlrecipes.schedules import warmup_cosine

# %% [markdown]
# ## The data
#
# `load_cifar10` reads the "CIFAR-10 python version" folder given by `--data-dir`, or downloads
# CIFAR-10 with tensorflow-datasets, and cuts it into three splits of `(image, label)` pairs: uint8
# images of shape (32, 32, 3) and integer labels, the last `--validation-size` training images (at
# most a tenth of them) held out for validation. `--quick` keeps 256 training images and 128 each
# of validation and test: the full network trains at a few images a second on a CPU.


# %%
def load_data(args):
    """The three splits of CIFAR-10, or a few hundred images of them with `--quick`."""
    data = load_cifar10(data_dir=args.data_dir, validation_size=args.validation_size)
    if args.quick:
        data = data.quick(train=256, evaluation=128)
    return data


# %% [markdown]
# ## Augmentation and the input pipelines
#
# Every training batch is altered on the fly, inside the `tf.data` pipeline, so that the network
# never sees the same picture twice: padded by 4 pixels, cropped back at a random offset,
# mirrored with probability 1/2, and an 8×8 square (`--cutout`) painted in the mean colour. The
# random draws depend only on `--seed`, so a run can be repeated. `make_pipeline` caches the
# decoded images in memory, reshuffles the training images every epoch, batches, applies the
# function given as `map_batch` to each batch and prefetches.
#
# The smoothed loss wants one-hot targets, so every pipeline the model trains and is scored on
# turns the labels into one-hot vectors. The per-class report wants class indices instead, so
# the test split gets a second, plain pipeline for it. With `--validation-size 0` there is no
# validation pipeline.


# %%
def make_pipelines(args, data):
    """Batched pipelines: augmented training batches, and one-hot targets for the loss everywhere."""
    augment = make_augmentation(args.seed, padding=4, flip=True, cutout=args.cutout, fill=MEAN_PIXEL)

    def one_hot(images, labels):
        return images, tf.one_hot(labels, data.num_classes)

    def augment_one_hot(images, labels):
        return one_hot(*augment(images, labels))

    train = make_pipeline(data.train, args.batch_size, shuffle=True, seed=args.seed, map_batch=augment_one_hot)
    validation = (
        make_pipeline(data.validation, args.batch_size, map_batch=one_hot) if data.sizes["validation"] else None
    )
    test = make_pipeline(data.test, args.batch_size, map_batch=one_hot)
    test_with_indices = make_pipeline(data.test, args.batch_size)
    return train, validation, test, test_with_indices


# %% [markdown]
# ## The model and its optimizer
#
# `build_resnet` builds the ResNet-9 of the formulas above, `--width` times as many channels in
# every layer. Its first layer standardizes raw pixels with CIFAR-10's mean and standard deviation
# per channel, so the saved model takes uint8 images and needs no preprocessing. The model is
# built and compiled inside the strategy's scope, so that its variables are mirrored on every
# replica: SGD with Nesterov momentum and decoupled weight decay on the one-cycle schedule
# (`warmup` steps up to `--learning-rate`, then a half cosine down to 0 at `steps`), and the
# cross-entropy against label-smoothed targets.


# %%
def build_model(args, data, run, steps, warmup):
    """ResNet-9, compiled with its smoothed loss, its optimizer and the accuracy metric."""
    with run.strategy.scope():
        model = build_resnet(
            input_shape=(32, 32, 3),
            num_classes=data.num_classes,
            width=args.width,
            input_mean=MEAN_PIXEL,
            input_std=STD_PIXEL,
            name="cifar10_resnet9",
        )
        schedule = warmup_cosine(args.learning_rate, steps, warmup)
        model.compile(
            optimizer=keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=args.weight_decay),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=args.label_smoothing),
            metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
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
    run = RecipeRun.start(args, recipe="cifar10_resnet")
    data = load_data(args)
    train, validation, test, test_with_indices = make_pipelines(args, data)

    epochs = BUDGET.epochs(data.sizes["train"], args.batch_size, override=args.epochs)
    epoch_steps = steps_per_epoch(data.sizes["train"], args.batch_size)
    steps = epochs * epoch_steps
    warmup = min(steps - 1, round(args.warmup_epochs * epoch_steps))
    model = build_model(args, data, run, steps, warmup)
    model.summary(print_fn=lambda line, **_: print(line))

    run.fit(model, train, validation, train_examples=data.sizes["train"], epochs=epochs, monitor="val_accuracy")
    run.evaluate(model, test)
    run.report_classifier(model, test_with_indices, data.class_names)
    return run.finish(model, dataset="cifar10", data_source=data.source, width=args.width)


# %%
if __name__ == "__main__":
    run_recipe(main, ARGS)
