# %% [markdown]
r"""Learn to draw clothes (Fashion-MNIST) or digits (MNIST) with a convolutional variational autoencoder.

**Task.** Each example is a 28×28 grayscale image; its pixels, divided by
255, are $x \in [0, 1]^D$ with $D = 784$. The model learns, without the
labels, a code $z \in \mathbb{R}^d$ of $d$ = `--latent-dim` numbers per
image from which the image can be redrawn, and a way to draw new images from
random codes. 55,000 images train it, 5,000 validate it during training and
10,000 test it once at the end; the labels only colour the latent-space figure.

**Model.** An *encoder* maps an image to a Gaussian over codes,
$q(z \mid x) = \mathcal{N}\bigl(\mu(x), \operatorname{diag} \sigma^2(x)\bigr)$:
two 3×3 convolutions with stride 2 and ReLU (32 and 64 filters, 28×28 →
14×14 → 7×7), a ReLU layer of 256 units, and two linear layers that give
$\mu$ and $\log \sigma^2$ (the logarithm, so that any output is a valid
variance). A *decoder* maps a code to one logit $\ell_i(z)$ per pixel: a
ReLU layer of 256 units, one that fills a 7×7×32 feature map, two 3×3
transposed convolutions with stride 2 and ReLU (32 and 16 filters, 7×7 →
14×14 → 28×28) and a 3×3 convolution to one channel. It models each pixel
as a Bernoulli variable with probability $p_i = \operatorname{sigmoid}(\ell_i)$,

$$\log p(x \mid z) = \sum_{i=1}^{D} \bigl[x_i \log p_i + (1 - x_i) \log(1 - p_i)\bigr]
= -\sum_{i=1}^{D} \bigl[\operatorname{softplus}(\ell_i) - x_i \ell_i\bigr],$$

with $\operatorname{softplus}(\ell) = \log(1 + e^{\ell})$; the right-hand
form is the one computed, exact for any logit. Codes of new images come
from the prior $p(z) = \mathcal{N}(0, I)$.

**Loss.** The log-likelihood $\log p(x) = \log \int p(x \mid z)\, p(z)\, dz$
has no closed form, but for any $q$ it is bounded below by the *evidence
lower bound* (ELBO),

$$\log p(x) \ \ge\ \operatorname{ELBO}(x) = \mathbb{E}_{z \sim q(z \mid x)} \bigl[\log p(x \mid z)\bigr]
- \operatorname{KL}\bigl(q(z \mid x) \,\|\, p(z)\bigr),$$

and training minimizes the mean over a batch of the negative ELBO: a
reconstruction term (how well the image is redrawn from its code) plus a
KL term (how far its codes stray from the prior). For two Gaussians the KL
divergence has a closed form,

$$\operatorname{KL}\bigl(\mathcal{N}(\mu, \operatorname{diag} \sigma^2) \,\|\, \mathcal{N}(0, I)\bigr)
= -\frac{1}{2} \sum_{j=1}^{d} \bigl(1 + \log \sigma_j^2 - \mu_j^2 - \sigma_j^2\bigr).$$

The expectation is estimated with one code per image and step, drawn with
the *reparameterization trick*

$$z = \mu + \sigma \odot \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, I),$$

which makes $z$ a differentiable function of $\mu$ and $\sigma$ (the noise
$\varepsilon$ does not depend on the weights), so backpropagation reaches
the encoder. `--kl-weight` $\beta$ multiplies the KL term in the training
loss; $\beta = 1$ (the default) is the ELBO, and $\beta = 0$ gives a plain
autoencoder, which codes each image as $z = \mu$ without noise and trains on
the reconstruction alone.

**Figures.** The test *negative ELBO* (one code drawn per test image), in
nats per image, is an upper bound on $-\log p(x)$; divided by $D \ln 2$ it is
in *bits per dimension*. The pixels here are gray, not binary, so the
Bernoulli likelihood of a pixel is a cross-entropy against a soft target,
whose minimum is the binary entropy of $x_i$ rather than 0: the figure
compares models scored the same way, not with likelihoods of the 256 gray
levels. The *reconstruction error* is the mean squared error
$\frac{1}{ND} \sum_{n,i} (x_{ni} - \hat x_{ni})^2$ of the test images redrawn
from their means, $\hat x = \operatorname{sigmoid}(\ell(\mu(x)))$; the best
linear code of the same size (PCA) is the floor to beat.

**Optimizer.** Adam (see the MNIST MLP recipe for its update) with a
learning rate that decays from `--learning-rate` to 0 along a half cosine.

**Training length.** About 4,300 optimizer steps: the epochs are
$\lceil 4300 / \lceil n / B \rceil \rceil$ for $n$ training images and batch
size $B$, at least 1 and at most 100: 10 epochs of the 55,000 images, more
passes over a smaller set. The run ends with the weights of its epoch with
the lowest validation loss (the negative ELBO). `--epochs` overrides the rule.

Run it:

```bash
python -m recipes.fashion_mnist_vae --data-dir /usr/share/datasets/fashion-mnist
python -m recipes.fashion_mnist_vae --data-dir /usr/share/datasets/fashion-mnist --latent-dim 2 --output-dir runs/vae2
python -m recipes.fashion_mnist_vae --model-dir runs/fashion_mnist_vae --sample 32 --output-dir runs/new-clothes
```
"""

# %% [markdown]
# ## The command line
#
# Every recipe takes the same shared flags (`--epochs`, `--batch-size`, `--learning-rate`,
# `--strategy`, `--mixed-precision`, `--output-dir`, `--data-dir`, `--quick`, ...; see
# `mlrecipes.cli.recipe_parser`) with its own defaults, and adds flags of its own: here the data
# set, the size $d$ of the code, the weight $\beta$ of the KL term and the shape of the encoder
# and decoder, and a second use of the recipe, drawing new images with a trained model
# (`--model-dir` with `--sample`). `BUDGET` sets how long training lasts when `--epochs` is not
# given (see "Training length" above).

# %%
from __future__ import annotations

import argparse
from pathlib import Path

from mlrecipes.budget import TrainingBudget
from mlrecipes.cli import check_command_line, parse_recipe_args, positive_int, recipe_parser, run_recipe
from mlrecipes.errors import UsageError

RECIPE = "fashion_mnist_vae"
SAMPLES_FILE = "samples.png"


def non_negative_float(text: str) -> float:
    """Parse a finite number that is zero or more (argparse `type`)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


# About 4,300 optimizer steps (10 epochs of 55,000 images at batch 128), 1 to 100 epochs.
BUDGET = TrainingBudget(steps=4300, min_epochs=1, max_epochs=100)


def build_parser():
    """The command line: the shared flags plus this recipe's own."""
    parser = recipe_parser(
        RECIPE,
        "Train a convolutional variational autoencoder on Fashion-MNIST or MNIST, or draw new images "
        "with a trained one (--model-dir with --sample).",
        budget=BUDGET,
        batch_size=128,
        learning_rate=2e-3,
        data_dir_help="a folder with the four MNIST-format IDX files (train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz; "
        "gzipped or not), such as /usr/share/datasets/fashion-mnist, to read instead of "
        "downloading with tensorflow-datasets",
    )
    recipe = parser.add_argument_group("this recipe")
    recipe.add_argument("--dataset", choices=("fashion_mnist", "mnist"), default="fashion_mnist", help="which data set")
    recipe.add_argument("--latent-dim", type=positive_int, default=16, help="size of the code z of each image")
    recipe.add_argument(
        "--kl-weight",
        type=non_negative_float,
        default=1.0,
        help="weight of the KL term in the loss: 1 trains on the ELBO, 0 gives a plain autoencoder",
    )
    recipe.add_argument(
        "--filters",
        type=positive_int,
        nargs=2,
        default=[32, 64],
        metavar="FILTERS",
        help="filters of the encoder's two stride-2 convolutions",
    )
    recipe.add_argument(
        "--decoder-filters",
        type=positive_int,
        nargs=2,
        default=[32, 16],
        metavar="FILTERS",
        help="filters of the decoder's two stride-2 transposed convolutions",
    )
    recipe.add_argument(
        "--dense-units", type=positive_int, default=256, help="width of the dense layer beside the code, both sides"
    )
    sample = parser.add_argument_group("drawing new images with a trained model")
    sample.add_argument(
        "--sample",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"decode N codes drawn from the prior with the model in --model-dir into {SAMPLES_FILE} in "
        "--output-dir (drawn with --seed), and write nothing else",
    )
    sample.add_argument("--model-dir", type=Path, default=None, metavar="RUN_DIR", help="a finished run's folder")
    return parser


# %% [markdown]
# ## The flags of this run
#
# As a program, the recipe takes its flags from the command line:
# `python -m recipes.fashion_mnist_vae --latent-dim 2`. In a notebook, write them in `ARGS`, as
# they would be typed, for example
# `ARGS = ["--quick", "--latent-dim", "2", "--data-dir", "/usr/share/datasets/fashion-mnist"]`.
# `ARGS = None` means the command line's flags, and in a notebook every default. `--help` is
# answered, and a bad flag refused, at once: before the seconds-long import of TensorFlow in the
# cell after.

# %% tags=["parameters"]
ARGS = None

# %%
if __name__ == "__main__":
    check_command_line(build_parser(), ARGS)

# %%
import math
from statistics import NormalDist

import keras
import numpy as np

from mlrecipes import generative_plots
from mlrecipes.data import load_mnist, make_pipeline, steps_per_epoch
from mlrecipes.models.vae import VariationalAutoencoder, build_vae
from mlrecipes.run import RecipeRun
from mlrecipes.saved_run import load_run
from mlrecipes.schedules import warmup_cosine

SHOWN_RECONSTRUCTIONS = 16
SHOWN_SAMPLES = 32
PLANE_STEPS = 15

# %% [markdown]
# ## The data
#
# `load_mnist` reads the images from a `--data-dir` of IDX files, or downloads them with
# tensorflow-datasets, and cuts them into three splits of `(image, label)` pairs: uint8 images of
# shape (28, 28, 1) and integer labels, which the model ignores (only the latent-space figure
# uses them). `--quick` keeps the first 2,048 training images and 512 each of validation and
# test. `make_pipeline` turns each split into a `tf.data` pipeline that caches the decoded images
# in memory, reshuffles the training images every epoch, batches and prefetches.


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
# `build_vae` builds the encoder, the sampling layer $z = \mu + \sigma \odot \varepsilon$ and the
# decoder of the formulas above. The model takes raw 0–255 pixels and divides them by 255
# itself, so the saved model needs no preprocessing. It defines its own loss, the reconstruction
# term plus `--kl-weight` times the KL term, and reports both terms as metrics, with the negative
# ELBO when it draws codes; so it is compiled with an optimizer only: Adam on the cosine schedule
# over the run's `steps`. The model is built and compiled inside the strategy's scope, so that its variables are
# mirrored on every replica.


# %%
def build_model(args, run, steps):
    """The variational autoencoder, compiled with its optimizer (the loss is its own)."""
    with run.strategy.scope():
        model = build_vae(
            input_shape=(28, 28, 1),
            latent_dim=args.latent_dim,
            filters=args.filters,
            decoder_filters=args.decoder_filters,
            dense_units=args.dense_units,
            kl_weight=args.kl_weight,
            input_scale=1 / 255,
            name=f"{args.dataset}_vae",
        )
        model.compile(
            optimizer=keras.optimizers.Adam(warmup_cosine(args.learning_rate, steps)), jit_compile=run.jit_compile
        )
    return model


# %% [markdown]
# ## Scoring the test images
#
# `run.evaluate` computes the loss and its two terms on the test split, in nats per image, with
# one code drawn per image. Only a model that draws codes has an ELBO (with `--kl-weight 0` the
# code is $\mu$ itself); its negative ELBO divided by $D \ln 2$ is recorded as bits per dimension.
# Then every test image is encoded to the mean $\mu(x)$ of its code and redrawn from it,
# $\hat x = \operatorname{sigmoid}(\ell(\mu(x)))$: the mean squared difference from the image,
# on pixels scaled to $[0, 1]$, is the reconstruction error. The images, their reconstructions,
# their codes and their labels are kept for the figures.


# %%
def score_test_images(run, model, test):
    """Record the test loss, bits per dimension and reconstruction error; return what the figures show."""
    scores = run.evaluate(model, test)
    pixels = math.prod(model.encoder.inputs[0].shape[1:])
    if "test_neg_elbo" in scores:
        run.metrics["test_bits_per_dim"] = round(scores["test_neg_elbo"] / (pixels * math.log(2)), 6)
    originals, redrawn, codes, labels = [], [], [], []
    for images, image_labels in test:
        means = model.encode(images)
        originals.append(np.asarray(model.scale(images)))
        redrawn.append(np.asarray(model.decode(means)))
        codes.append(np.asarray(means))
        labels.append(np.asarray(image_labels))
    originals, redrawn = np.concatenate(originals), np.concatenate(redrawn)
    codes, labels = np.concatenate(codes), np.concatenate(labels)
    run.metrics["test_reconstruction_mse"] = round(float(np.mean((originals - redrawn) ** 2)), 6)
    return pixels, originals, redrawn, codes, labels


# %% [markdown]
# ## The figures
#
# `reconstructions.png` puts the first test images above their reconstructions, and
# `prior_samples.png` shows new images: codes drawn from the prior $\mathcal{N}(0, I)$ with
# `--seed`, decoded. A code of two numbers (`--latent-dim 2`) can be drawn on a plane:
# `latent_space.png` places every test image at the mean of its code, coloured by its label, and
# `latent_plane.png` shows the images decoded from a 15×15 grid of codes, at the prior's 5% to 95%
# quantiles along each axis, so that equal steps on the grid cover equal shares of the prior.


# %%
def draw_figures(args, run, model, data, originals, redrawn, codes, labels):
    """Reconstructions, new images from the prior and, for a code of two numbers, the code plane."""
    shown = slice(0, SHOWN_RECONSTRUCTIONS)
    run.figures.append(
        generative_plots.reconstructions(
            originals[shown], redrawn[shown], run.output_dir / "reconstructions.png",
            title="Test images (above) and their reconstructions from the code's mean (below)",
        )
    )  # fmt: skip
    prior_codes = np.random.default_rng(args.seed).standard_normal((SHOWN_SAMPLES, args.latent_dim))
    run.figures.append(
        generative_plots.image_grid(
            np.asarray(model.decode(prior_codes.astype("float32"))), run.output_dir / "prior_samples.png",
            title="New images: codes drawn from the prior N(0, I), decoded",
        )
    )  # fmt: skip
    if args.latent_dim == 2:
        run.figures.append(
            generative_plots.latent_scatter(
                codes, labels, data.class_names, run.output_dir / "latent_space.png",
                title="Test images: the mean of each one's code",
            )
        )  # fmt: skip
        values = [NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, PLANE_STEPS)]
        grid = np.array([(z1, z2) for z2 in reversed(values) for z1 in values], dtype="float32")
        run.figures.append(
            generative_plots.latent_plane(
                np.asarray(model.decode(grid)), values, run.output_dir / "latent_plane.png",
                title="Images decoded from a grid of codes",
            )
        )  # fmt: skip


# %% [markdown]
# ## New images from a trained model
#
# `--model-dir RUN_DIR --sample N` trains nothing: it loads the model of a finished run, draws $N$
# codes from the prior with `--seed`, decodes them and writes the images into `samples.png` in
# `--output-dir`. `load_run` checks that the folder holds a finished run of this recipe.


# %%
def sample_images(args) -> Path:
    """`--model-dir RUN_DIR --sample N`: decode N codes from the prior into one PNG."""
    if args.model_dir is None:
        raise UsageError("--sample needs --model-dir RUN_DIR, the folder of a finished run")
    if args.sample is None:
        raise UsageError("--model-dir is only read by --sample N")
    if args.output_dir.exists() and not args.output_dir.is_dir():
        raise UsageError(f"--output-dir {args.output_dir}: exists and is not a folder")
    model = load_run(args.model_dir, recipe=RECIPE).model
    if not isinstance(model, VariationalAutoencoder):
        raise UsageError(f"--model-dir {args.model_dir}: its model.keras is not a variational autoencoder")
    codes = np.random.default_rng(args.seed).standard_normal((args.sample, model.latent_dim)).astype("float32")
    images = np.asarray(model.decode(codes))
    path = generative_plots.image_grid(
        images, args.output_dir / SAMPLES_FILE, title=f"{args.sample} images decoded from z ~ N(0, I)"
    )
    print(f"{RECIPE}: {args.sample} new images in {path}")
    return path


# %% [markdown]
# ## Training, evaluation and outputs
#
# `main` runs the steps in order (or only draws new images, given `--sample`). `RecipeRun.start`
# seeds every random generator and picks the distribution strategy and the precision policy; the
# budget gives the epochs for this many images (or `--epochs`), and the optimizer steps they make
# set the length of the learning-rate schedule. `run.fit` trains with a backup after every epoch
# (an interrupted run resumes from it), TensorBoard logs and a checkpoint of the best epoch by
# validation loss, whose weights the model ends with. The test split is scored once, at the end,
# and `run.finish` saves `model.keras`, `metrics.json` and the learning curves in `--output-dir`.


# %%
def main(argv=None):
    args = parse_recipe_args(build_parser(), argv)
    if args.sample is not None or args.model_dir is not None:
        return sample_images(args)
    run = RecipeRun.start(args, recipe=RECIPE)
    data, train, validation, test = load_data(args)

    epochs = BUDGET.epochs(data.sizes["train"], args.batch_size, override=args.epochs)
    steps = epochs * steps_per_epoch(data.sizes["train"], args.batch_size)
    model = build_model(args, run, steps)
    model.summary(print_fn=lambda line, **_: print(line), expand_nested=True)

    run.fit(model, train, validation, train_examples=data.sizes["train"], epochs=epochs)
    pixels, originals, redrawn, codes, labels = score_test_images(run, model, test)
    draw_figures(args, run, model, data, originals, redrawn, codes, labels)
    return run.finish(
        model,
        dataset=args.dataset,
        data_source=data.source,
        latent_dim=args.latent_dim,
        kl_weight=args.kl_weight,
        pixels_per_image=pixels,
    )


# %%
if __name__ == "__main__":
    run_recipe(main, ARGS)
