r"""The variational autoencoder: a convolutional encoder and decoder, and the model that trains them.

The encoder maps an image $x$ to the mean $\mu$ and the log-variance
$\log \sigma^2$ of a Gaussian over a small code $z$; the decoder maps a code to
one logit per pixel, $\Pr(x_i = 1 \mid z) = \operatorname{sigmoid}(\ell_i)$.
`VariationalAutoencoder` joins them and trains both on the negative evidence
lower bound (ELBO), per image in nats,

$$-\operatorname{ELBO}(x) = \underbrace{\sum_{i} \bigl[\operatorname{softplus}(\ell_i) - x_i \ell_i\bigr]}_{-\log p(x \mid z)}
\; + \; \beta \underbrace{\left(-\frac{1}{2} \sum_{j} \bigl(1 + \log \sigma_j^2 - \mu_j^2 - \sigma_j^2\bigr)\right)}_{\operatorname{KL}(q(z \mid x) \,\|\, \mathcal{N}(0, I))},
\qquad z = \mu + \sigma \odot \varepsilon, \quad \varepsilon \sim \mathcal{N}(0, I),$$

where $\operatorname{softplus}(\ell) - x \ell = -[x \log p + (1 - x) \log(1 - p)]$
with $p = \operatorname{sigmoid}(\ell)$ is the Bernoulli negative log-likelihood
(binary cross-entropy) of a pixel $x_i \in [0, 1]$, written with the logit so
that it is exact for any $\ell$, and $\beta$ is `kl_weight` ($\beta = 1$ is
the ELBO itself). With $\beta = 0$ the model is a plain autoencoder: it codes
each image as its mean $z = \mu$, draws no noise, and trains on the
reconstruction term alone.

The loss is defined in `VariationalAutoencoder.compute_loss`, which Keras' own
`train_step` and `test_step` both call: `fit` trains on it (under any
`tf.distribute` strategy and with mixed precision's loss scaling) and
`evaluate` reports it, with its two terms, on held-out data. Every class is
registered for serialization, so a trained model saves as `.keras` and
reloads in safe mode with its encoder and decoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf
from keras import ops

from mlrecipes.errors import ArgumentValueError
from mlrecipes.models.blocks import image_shape

PACKAGE = "mlrecipes"


def _check_filters(filters: Sequence[int], height: int, width: int) -> list[int]:
    filters = [int(count) for count in filters]
    if not filters or any(count <= 0 for count in filters):
        raise ArgumentValueError("filters", filters, "give one positive filter count per stride-2 convolution")
    factor = 2 ** len(filters)
    if height % factor or width % factor:
        raise ArgumentValueError(
            "filters",
            filters,
            f"{len(filters)} stride-2 convolutions need a height and width divisible by {factor}, "
            f"and {height}x{width} is not (use fewer convolutions)",
        )
    return filters


def _number(value: Any) -> float:
    """`value` as a float; NaN (which fails every range check) when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _check_sizes(latent_dim: int, dense_units: int) -> None:
    if not isinstance(latent_dim, int) or latent_dim < 1:
        raise ArgumentValueError("latent_dim", latent_dim, "must be a whole number, 1 or more")
    if not isinstance(dense_units, int) or dense_units < 0:
        raise ArgumentValueError("dense_units", dense_units, "must be a whole number, 0 (no dense layer) or more")


def build_vae_encoder(
    input_shape: Sequence[int] = (28, 28, 1),
    latent_dim: int = 16,
    *,
    filters: Sequence[int] = (32, 64),
    dense_units: int = 256,
    name: str = "encoder",
) -> keras.Model:
    r"""Build the encoder: images in [0, 1] to the mean and log-variance of their codes.

    Each entry of `filters` is a 3×3 convolution with stride 2 and ReLU, which
    halves the height and width (28×28 → 14×14 → 7×7 for two); the feature map is
    flattened, passed through a ReLU layer of `dense_units`, and two linear
    layers give $\mu$ and $\log \sigma^2$.

    Args:
        input_shape: `(height, width, channels)` of one image; height and
            width must be divisible by `2 ** len(filters)`.
        latent_dim: Size of the code $z$.
        filters: Filters of each stride-2 convolution.
        dense_units: Width of the hidden dense layer; 0 for none.
        name: The model's name.

    Returns:
        A `keras.Model` from images to `[z_mean, z_log_var]`, each of shape
        `(batch, latent_dim)`, in float32 under any precision policy.

    Raises:
        ArgumentValueError: On a bad shape, `latent_dim` below 1, a negative
            `dense_units`, or filters that do not fit the image size.
    """
    height, width, channels = image_shape(input_shape)
    _check_sizes(latent_dim, dense_units)
    filters = _check_filters(filters, height, width)
    images = keras.Input(shape=(height, width, channels), name="images")
    x = images
    for index, count in enumerate(filters, start=1):
        x = keras.layers.Conv2D(count, 3, strides=2, padding="same", activation="relu", name=f"conv_{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dense_units:
        x = keras.layers.Dense(dense_units, activation="relu", name="dense")(x)
    z_mean = keras.layers.Dense(latent_dim, dtype="float32", name="z_mean")(x)
    z_log_var = keras.layers.Dense(latent_dim, dtype="float32", name="z_log_var")(x)
    return keras.Model(images, [z_mean, z_log_var], name=name)


def build_vae_decoder(
    output_shape: Sequence[int] = (28, 28, 1),
    latent_dim: int = 16,
    *,
    filters: Sequence[int] = (32, 16),
    dense_units: int = 256,
    name: str = "decoder",
) -> keras.Model:
    r"""Build the decoder: codes to one logit per pixel.

    The encoder run backwards: a ReLU layer of `dense_units`, a ReLU layer
    that fills a feature map of `filters[0]` channels at `1 / 2 ** len(filters)`
    of the image size (7×7 for 28×28 images and two entries), one 3×3
    transposed convolution with stride 2 and ReLU per entry of `filters`
    (each doubles the height and width), and a 3×3 convolution to the image's
    channels. Its outputs are
    logits $\ell$: $\operatorname{sigmoid}(\ell)$ is the probability, or the
    mean intensity, of each pixel.

    Args:
        output_shape: `(height, width, channels)` of the images to produce.
        latent_dim: Size of the code $z$.
        filters: Filters of each transposed convolution, from the smallest
            feature map up. The transposed convolutions at the larger sizes
            cost the most of the whole model: with (32, 16) rather than
            (64, 32), the encoder's (32, 64) reversed, a training step of
            the default model takes half the CPU time, for a test negative
            ELBO 2 nats higher on Fashion-MNIST (242.9 rather than 240.7
            nats per image after 10 epochs, measured).
        dense_units: Width of the first hidden dense layer; 0 for none.
        name: The model's name.

    Returns:
        A `keras.Model` from codes of shape `(batch, latent_dim)` to logits
        of shape `(batch, *output_shape)`, in float32 under any precision policy.

    Raises:
        ArgumentValueError: On a bad shape, `latent_dim` below 1, a negative
            `dense_units`, or filters that do not fit the image size.
    """
    height, width, channels = image_shape(output_shape)
    _check_sizes(latent_dim, dense_units)
    filters = _check_filters(filters, height, width)
    factor = 2 ** len(filters)
    codes = keras.Input(shape=(latent_dim,), name="codes")
    x = codes
    if dense_units:
        x = keras.layers.Dense(dense_units, activation="relu", name="dense")(x)
    x = keras.layers.Dense((height // factor) * (width // factor) * filters[0], activation="relu", name="expand")(x)
    x = keras.layers.Reshape((height // factor, width // factor, filters[0]), name="feature_map")(x)
    for index, count in enumerate(filters, start=1):
        x = keras.layers.Conv2DTranspose(
            count, 3, strides=2, padding="same", activation="relu", name=f"deconv_{index}"
        )(x)
    logits = keras.layers.Conv2D(channels, 3, padding="same", dtype="float32", name="pixel_logits")(x)
    return keras.Model(codes, logits, name=name)


@keras.saving.register_keras_serializable(package=PACKAGE)
class GaussianSample(keras.layers.Layer):
    """The reparameterization trick: `z = z_mean + exp(z_log_var / 2) * eps` with `eps ~ N(0, I)`.

    The noise comes from the layer's own seed generator, whose state Keras keeps
    with the model's variables, so that a seeded run draws the same noise.

    Args:
        seed: Seed of the noise; None takes one from Keras' global seed
            (`keras.utils.set_random_seed`).
        **kwargs: Passed to `keras.layers.Layer`.
    """

    def __init__(self, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, z_mean_shape=None, z_log_var_shape=None):  # noqa: D102 - Keras API: no weights to make
        self.built = True

    def call(self, z_mean, z_log_var):
        """Draw one code per row of `z_mean`."""
        epsilon = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, z_mean_shape, z_log_var_shape):  # noqa: D102 - Keras API
        return z_mean_shape

    def get_config(self) -> dict[str, Any]:  # noqa: D102 - Keras API
        return {**super().get_config(), "seed": self.seed}


def gaussian_kl(z_mean: Any, z_log_var: Any) -> Any:
    r"""The KL divergence from `N(z_mean, exp(z_log_var))` to `N(0, I)`, in nats, one per row.

    `KL = -1/2 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)`, the closed form
    for a diagonal Gaussian against the standard normal.

    Args:
        z_mean: Means $\mu$, shape `(batch, latent_dim)`.
        z_log_var: Log-variances $\log \sigma^2$, same shape.

    Returns:
        A tensor of shape `(batch,)`.
    """
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def bernoulli_nll(targets: Any, logits: Any) -> Any:
    r"""The Bernoulli negative log-likelihood of images, in nats, one per image.

    `sum_i softplus(l_i) - x_i * l_i`, the binary cross-entropy of each pixel
    $x_i \in [0, 1]$ against `sigmoid(l_i)`, summed over the pixels (and
    channels) of each image; exact for any logit, large ones included.

    Args:
        targets: Images in [0, 1], shape `(batch, height, width, channels)`.
        logits: The decoder's logits, same shape.

    Returns:
        A tensor of shape `(batch,)`.
    """
    logits = ops.cast(logits, "float32")
    targets = ops.cast(targets, "float32")
    per_pixel = ops.softplus(logits) - targets * logits
    return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=-1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class VariationalAutoencoder(keras.Model):
    r"""An encoder and a decoder trained together on the negative ELBO (see the module's formula).

    Calling the model on a batch of raw images encodes them, draws one code per
    image (the mean itself when `kl_weight` is 0) and decodes it. `compile`
    it with an optimizer only (no `loss`): the loss is its own. `fit` and
    `evaluate` then report, per image in nats:

    - `loss`: reconstruction + `kl_weight` × KL, what training minimizes;
    - `reconstruction`: $-\log p(x \mid z)$, the Bernoulli negative
      log-likelihood of the pixels given the sampled code;
    - `kl`: the KL divergence of the code's distribution from $\mathcal{N}(0, I)$;
    - `neg_elbo`: reconstruction + KL, the negative ELBO, an upper bound on
      $-\log p(x)$ (only when `kl_weight` > 0: a plain autoencoder draws no
      code, so its reconstruction term bounds nothing).

    Inputs and labels: the model takes a batch of images, or `(images,
    labels)` pairs whose labels it ignores, so a classifier's input pipeline
    trains it as it is. Sample weights are not supported.

    Args:
        encoder: A model from images in [0, 1] to `[z_mean, z_log_var]`, such
            as `build_vae_encoder` builds.
        decoder: A model from codes to pixel logits, such as `build_vae_decoder` builds.
        kl_weight: The weight $\beta$ of the KL term, 0 or more: 1 trains on the
            ELBO, 0 gives a plain (deterministic) autoencoder.
        input_scale: What the model multiplies its raw inputs by to bring them
            into [0, 1] (`1/255` for 8-bit pixels, 1 for inputs already there).
        seed: Seed of the sampling noise; None takes one from Keras' global seed.
        **kwargs: Passed to `keras.Model`, such as `name`.

    Attributes:
        encoder: The encoder.
        decoder: The decoder.
        kl_weight: The weight of the KL term.
        input_scale: The scale of the raw inputs.
        latent_dim: The size of the codes.
        samples_codes: Whether a call draws codes (`kl_weight` > 0) rather
            than using their means.

    Raises:
        ArgumentValueError: On a negative or non-finite `kl_weight`, a
            `input_scale` that is not positive, or an encoder and decoder
            whose code sizes differ.
    """

    def __init__(
        self,
        encoder: keras.Model,
        decoder: keras.Model,
        *,
        kl_weight: float = 1.0,
        input_scale: float = 1 / 255,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if not 0.0 <= _number(kl_weight) < float("inf"):
            raise ArgumentValueError("kl_weight", kl_weight, "must be a number, 0 or more")
        if not 0.0 < _number(input_scale) < float("inf"):
            raise ArgumentValueError("input_scale", input_scale, "must be a positive number")
        encoder_codes = encoder.outputs[0].shape[-1] if len(encoder.outputs) == 2 else None
        if encoder_codes is None:
            raise ArgumentValueError("encoder", encoder.name, "must output two tensors, [z_mean, z_log_var]")
        decoder_codes = decoder.inputs[0].shape[-1]
        if encoder_codes != decoder_codes:
            raise ArgumentValueError(
                "decoder",
                decoder.name,
                f"takes codes of size {decoder_codes} but the encoder makes codes of size {encoder_codes}",
            )
        self.encoder = encoder
        self.decoder = decoder
        self.kl_weight = float(kl_weight)
        self.input_scale = float(input_scale)
        self.seed = seed
        self.latent_dim = int(encoder_codes)
        self.samples_codes = self.kl_weight > 0
        self.sampler = GaussianSample(seed=seed, name="sample")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.neg_elbo_tracker = keras.metrics.Mean(name="neg_elbo") if self.samples_codes else None

    def build(self, input_shape=None):  # noqa: D102 - Keras API: the encoder and decoder come built
        self.sampler.build()
        self.built = True

    def scale(self, images: Any) -> Any:
        """Raw inputs to images in [0, 1]: cast to float32 and multiply by `input_scale`."""
        return ops.cast(images, "float32") * self.input_scale

    def call(self, inputs: Any, training: bool | None = None) -> dict[str, Any]:
        """Encode, draw a code (or take the mean) and decode.

        Args:
            inputs: Raw images.
            training: Whether the encoder and decoder run in training mode.

        Returns:
            A dict of `z_mean`, `z_log_var`, `z` (the code decoded) and
            `logits` (the decoder's output for `z`).
        """
        z_mean, z_log_var = self.encoder(self.scale(inputs), training=training)
        z = self.sampler(z_mean, z_log_var) if self.samples_codes else z_mean
        logits = self.decoder(z, training=training)
        return {"z_mean": z_mean, "z_log_var": z_log_var, "z": z, "logits": logits}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The mean over the batch of reconstruction + `kl_weight` × KL, in nats per image.

        Keras' `train_step` and `test_step` call this with `y_pred =
        self(x)`; it also updates the `reconstruction`, `kl` and
        `neg_elbo` trackers. Labels `y` are ignored.
        """
        del y, training
        if sample_weight is not None:
            raise ArgumentValueError("sample_weight", "(a tensor)", "is not supported by the variational autoencoder")
        if y_pred is None:
            y_pred = self(x)
        reconstruction = bernoulli_nll(self.scale(x), y_pred["logits"])
        kl = gaussian_kl(ops.cast(y_pred["z_mean"], "float32"), ops.cast(y_pred["z_log_var"], "float32"))
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        if self.neg_elbo_tracker is not None:
            self.neg_elbo_tracker.update_state(reconstruction + kl)
        loss = ops.mean(reconstruction + self.kl_weight * kl)
        for extra in self.losses:  # weight regularizers of the encoder or decoder, if any
            loss = loss + ops.sum(ops.cast(extra, "float32"))
        # Under a tf.distribute strategy each replica returns its share of the
        # global mean: Keras sums the replicas' gradients.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return loss / replicas if replicas > 1 else loss

    def encode(self, images):
        r"""The codes' means $\mu$ of raw images, shape `(batch, latent_dim)`."""
        return self.encoder(self.scale(images), training=False)[0]

    def decode(self, z):
        """Decode codes to images in [0, 1]: `sigmoid` of the decoder's logits."""
        return ops.sigmoid(ops.cast(self.decoder(z, training=False), "float32"))

    def reconstruct(self, images):
        """Reconstruct raw images from their codes' means; images in [0, 1]."""
        return self.decode(self.encode(images))

    def get_config(self) -> dict[str, Any]:  # noqa: D102 - Keras API
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "kl_weight": self.kl_weight,
            "input_scale": self.input_scale,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> VariationalAutoencoder:  # noqa: D102 - Keras API
        config = dict(config)
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        decoder = keras.saving.deserialize_keras_object(config.pop("decoder"))
        return cls(encoder, decoder, **config)


def build_vae(
    input_shape: Sequence[int] = (28, 28, 1),
    latent_dim: int = 16,
    *,
    filters: Sequence[int] = (32, 64),
    decoder_filters: Sequence[int] = (32, 16),
    dense_units: int = 256,
    kl_weight: float = 1.0,
    input_scale: float = 1 / 255,
    seed: int | None = None,
    name: str = "vae",
) -> VariationalAutoencoder:
    """Build a convolutional variational autoencoder (with `kl_weight=0`, a plain autoencoder).

    The encoder is `build_vae_encoder` with `filters`, the decoder
    `build_vae_decoder` with `decoder_filters`; both use `dense_units`.

    Args:
        input_shape: `(height, width, channels)` of one image.
        latent_dim: Size of the code $z$, 1 or more.
        filters: Filters of the encoder's stride-2 convolutions.
        decoder_filters: Filters of the decoder's stride-2 transposed
            convolutions, as many as `filters`.
        dense_units: Width of the dense layer beside the code in the encoder and the decoder; 0 for none.
        kl_weight: Weight of the KL term, 0 or more (1: the ELBO; 0: a plain autoencoder).
        input_scale: Multiplies the raw inputs into [0, 1] (`1/255` for 8-bit pixels).
        seed: Seed of the sampling noise; None takes one from Keras' global seed.
        name: The model's name.

    Returns:
        An uncompiled, built `VariationalAutoencoder`; compile it with an optimizer only.

    Raises:
        ArgumentValueError: On any bad argument.
    """
    height, width, channels = image_shape(input_shape)
    encoder = build_vae_encoder(input_shape, latent_dim, filters=filters, dense_units=dense_units)
    if len(decoder_filters) != len(filters):
        raise ArgumentValueError(
            "decoder_filters",
            list(decoder_filters),
            f"give as many as filters ({len(filters)}), so that the decoder undoes the encoder's down-sampling",
        )
    decoder = build_vae_decoder(input_shape, latent_dim, filters=decoder_filters, dense_units=dense_units)
    model = VariationalAutoencoder(encoder, decoder, kl_weight=kl_weight, input_scale=input_scale, seed=seed, name=name)
    model.build((None, height, width, channels))
    return model
