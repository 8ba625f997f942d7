"""Benchmark: the Fashion-MNIST VAE recipe against the keras.io "Variational AutoEncoder", PCA and a mean image.

Contenders, on the same IDX files:

- the recipe with its default settings (latent size 16, 10 epochs on the
  55,000 training images);
- the keras.io example's architecture (conv 32 and 64 with stride 2 → dense 16
  → a code of size 2; dense 7·7·64 → transposed conv 64 and 32 with stride 2 →
  transposed conv 1), trained the example's way: pixels divided by 255 in NumPy,
  Adam at its default learning rate, batch 128, 30 epochs, on all 60,000
  training images (the example also trains on the test images; here they are
  held out). Its decoder's last layer outputs logits and the sigmoid moves into
  the loss, which is the same model with an exact cross-entropy; its loss and
  test figures come from the same `VariationalAutoencoder` as the recipe's, so
  both are scored alike (one code drawn per test image);
- PCA with as many components as the recipe's code (16), fitted on the same
  55,000 training images: the floor for the reconstruction error;
- a mean-image Bernoulli model (each pixel's probability is its mean over the
  training images; no code): the floor for the negative ELBO.

The two trained contenders run as separate processes, one after the other, and
both wall times cover the whole process (Python and TensorFlow start-up
included). The baselines are computed in this process with NumPy.

    python benchmarks/fashion_mnist_vae.py [--data-dir /usr/share/datasets/fashion-mnist] [--repeats 1]

Prints one line per contender and a verdict per target (issue 17): the recipe's
test negative ELBO at most 260 nats per image within 4 minutes; its
reconstruction error at least 15% below PCA's; a lower negative ELBO than the
keras.io architecture, in less time. Exit status 1 if any target is missed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from _harness import (
    FASHION_MNIST,
    WALL_TIME,
    Column,
    Contender,
    alternate,
    print_summaries,
    require_fashion_mnist,
    verdict,
)

LATENT_DIM = 16
TRAIN_IMAGES = 55_000  # the recipe's training split: the first 55,000 (the last 5,000 validate)
TARGET_NEG_ELBO = 260.0
TARGET_SECONDS = 240.0
TARGET_MSE_RATIO = 0.85

NEG_ELBO = Column("test_neg_elbo", "-ELBO {} nats", "6.1f")
BITS_PER_DIM = Column("test_bits_per_dim", "({} bits/dim)", ".4f")
MSE = Column("test_reconstruction_mse", "reconstruction MSE {}", ".5f")


def keras_io_vae(data_dir: Path, epochs: int, train_images: int | None, seed: int) -> None:
    """Train the keras.io VAE architecture in this process and print its test figures as JSON."""
    import keras

    from mlrecipes.data.mnist import read_idx_folder
    from mlrecipes.models.vae import VariationalAutoencoder

    keras.utils.set_random_seed(seed)
    arrays = read_idx_folder(data_dir)
    x_train = arrays["train_images"][:train_images].astype("float32") / 255.0
    test_images = arrays["test_images"]
    latent_dim = 2
    layers = keras.layers

    images = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(images)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Dense(16, activation="relu")(layers.Flatten()(x))
    encoder = keras.Model(images, [layers.Dense(latent_dim)(x), layers.Dense(latent_dim)(x)], name="encoder")
    codes = keras.Input(shape=(latent_dim,))
    x = layers.Reshape((7, 7, 64))(layers.Dense(7 * 7 * 64, activation="relu")(codes))
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    decoder = keras.Model(codes, layers.Conv2DTranspose(1, 3, padding="same")(x), name="decoder")

    vae = VariationalAutoencoder(encoder, decoder, kl_weight=1.0, input_scale=1.0, name="keras_io_vae")
    vae.compile(optimizer=keras.optimizers.Adam())
    started = time.perf_counter()
    vae.fit(x_train, epochs=epochs, batch_size=128, verbose=0)
    train_seconds = time.perf_counter() - started
    x_test = test_images.astype("float32") / 255.0
    results = vae.evaluate(x_test, batch_size=500, return_dict=True, verbose=0)
    redrawn = np.concatenate([np.asarray(vae.reconstruct(x_test[i : i + 500])) for i in range(0, len(x_test), 500)])
    figures = {
        "test_neg_elbo": results["neg_elbo"],
        "test_bits_per_dim": results["neg_elbo"] / (784 * math.log(2)),
        "test_reconstruction": results["reconstruction"],
        "test_kl": results["kl"],
        "test_reconstruction_mse": float(np.mean((x_test - redrawn) ** 2)),
        "train_seconds": train_seconds,
        "epochs": epochs,
        "parameters": vae.count_params(),
    }
    print(json.dumps(figures))


def baselines(data_dir: Path, latent_dim: int) -> dict[str, dict[str, float]]:
    """PCA's reconstruction error and the mean-image Bernoulli model's negative log-likelihood on the test images."""
    from mlrecipes.data.idx import read_idx  # NumPy only: no TensorFlow in this process

    def images(stem: str) -> np.ndarray:
        path = next(path for path in (data_dir / f"{stem}.gz", data_dir / stem) if path.is_file())
        return read_idx(path).reshape(-1, 784).astype("float64") / 255.0

    train = images("train-images-idx3-ubyte")[:TRAIN_IMAGES]
    test = images("t10k-images-idx3-ubyte")
    mean = train.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov(train - mean, rowvar=False))
    components = vectors[:, -latent_dim:]  # the directions of largest variance
    pca_mse = float(np.mean(((test - mean) @ components @ components.T + mean - test) ** 2))
    # Mean image: pixel i is Bernoulli(p_i) with p_i its training mean (kept off 0 and 1), no code.
    p = np.clip(mean, 1e-4, 1 - 1e-4)
    logits = np.log(p / (1 - p))
    nll = float(np.mean(np.sum(np.logaddexp(0.0, logits) - test * logits, axis=1)))
    return {
        f"PCA, {latent_dim} components": {"test_reconstruction_mse": pca_mse},
        "mean image, Bernoulli": {
            "test_neg_elbo": nll,
            "test_bits_per_dim": nll / (784 * math.log(2)),
            "test_reconstruction_mse": float(np.mean((test - mean) ** 2)),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=FASHION_MNIST)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each, alternating; the median is reported")
    parser.add_argument(
        "--smoke", action="store_true", help="check that the script runs: --quick recipe, 1 short keras.io epoch"
    )
    parser.add_argument("--keras-io", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=30, help=argparse.SUPPRESS)
    parser.add_argument("--train-images", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.keras_io:
        keras_io_vae(args.data_dir, args.epochs, args.train_images, args.seed)
        return 0
    require_fashion_mnist(args.data_dir)

    keras_io_flags = ["--epochs", "1", "--train-images", "2048"] if args.smoke else []
    keras_io = Contender(
        "keras.io VAE (code 2, 30 epochs)",
        (sys.executable, __file__, "--keras-io", "--data-dir", str(args.data_dir), *keras_io_flags),
        reports="stdout",
    )
    recipe = Contender.recipe(
        f"recipe (defaults, code {LATENT_DIM})",
        "fashion_mnist_vae",
        "--data-dir",
        str(args.data_dir),
        *(["--quick"] if args.smoke else []),
    )

    def progress(contender: Contender, seed: int | None, run) -> None:
        print(f"  ... {contender.name}: done in {run.wall_seconds:.0f} s", flush=True)

    results = alternate([recipe, keras_io], [None] * args.repeats, after_each=progress)
    floors = baselines(args.data_dir, LATENT_DIM)

    print(f"Fashion-MNIST from {args.data_dir}, {args.repeats} run(s) of each trained model (medians):")
    summaries = print_summaries(results, [NEG_ELBO, BITS_PER_DIM, MSE, WALL_TIME], name_width=34)
    for name, figures in floors.items():
        cells = [
            column.template.format(format(figures[column.key], column.spec)) if column.key in figures else ""
            for column in (NEG_ELBO, BITS_PER_DIM, MSE)
        ]
        print(f"  {name:34s} {'   '.join(cell for cell in cells if cell)}   (no training)")

    ours, theirs = summaries[recipe.name], summaries[keras_io.name]
    pca_mse = floors[f"PCA, {LATENT_DIM} components"]["test_reconstruction_mse"]
    statuses = [
        verdict(
            f"recipe -ELBO {ours[NEG_ELBO.key].median:.1f} <= {TARGET_NEG_ELBO:.0f} nats in "
            f"{ours[WALL_TIME.key].median:.0f} s <= {TARGET_SECONDS:.0f} s",
            ours[NEG_ELBO.key].median <= TARGET_NEG_ELBO and ours[WALL_TIME.key].median <= TARGET_SECONDS,
        ),
        verdict(
            f"recipe reconstruction MSE {ours[MSE.key].median:.5f} <= {TARGET_MSE_RATIO} x PCA's {pca_mse:.5f} "
            f"({100 * (1 - ours[MSE.key].median / pca_mse):.0f}% below)",
            ours[MSE.key].median <= TARGET_MSE_RATIO * pca_mse,
        ),
        verdict(
            f"recipe vs keras.io: -ELBO {ours[NEG_ELBO.key].median - theirs[NEG_ELBO.key].median:+.1f} nats, "
            f"wall time {ours[WALL_TIME.key].median - theirs[WALL_TIME.key].median:+.0f} s",
            ours[NEG_ELBO.key].median < theirs[NEG_ELBO.key].median
            and ours[WALL_TIME.key].median < theirs[WALL_TIME.key].median,
        ),
    ]
    return max(statuses)


if __name__ == "__main__":
    sys.exit(main())
