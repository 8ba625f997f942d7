"""mlrecipes.models.vae: shapes, the loss and its terms, the plain autoencoder, saving, bad arguments."""

from __future__ import annotations

import json
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlrecipes.errors import ArgumentValueError
from mlrecipes.models.vae import (
    GaussianSample,
    VariationalAutoencoder,
    build_vae,
    build_vae_decoder,
    build_vae_encoder,
)

from recipe_harness import python_process

SMALL = dict(latent_dim=3, filters=(4, 8), decoder_filters=(8, 4), dense_units=16)


def images(count: int = 6, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 28, 28, 1)).astype("uint8")


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def loss_terms(model: VariationalAutoencoder, batch: np.ndarray, outputs: dict) -> tuple[np.ndarray, np.ndarray]:
    """Reconstruction and KL per image, in NumPy (float64), from the model's outputs."""
    x = batch.reshape(len(batch), -1).astype("float64") * model.input_scale
    logits = np.asarray(outputs["logits"], "float64").reshape(len(batch), -1)
    mu, log_var = (np.asarray(outputs[key], "float64") for key in ("z_mean", "z_log_var"))
    reconstruction = (softplus(logits) - x * logits).sum(axis=1)
    kl = -0.5 * (1 + log_var - mu**2 - np.exp(log_var)).sum(axis=1)
    return reconstruction, kl


def test_shapes_and_ranges():
    model = build_vae(**SMALL)
    batch = images()
    outputs = model(batch)
    assert set(outputs) == {"z_mean", "z_log_var", "z", "logits"}
    for key in ("z_mean", "z_log_var", "z"):
        assert tuple(outputs[key].shape) == (6, 3)
    assert tuple(outputs["logits"].shape) == (6, 28, 28, 1)
    assert model.latent_dim == 3 and model.samples_codes
    codes = np.asarray(model.encode(batch))
    assert codes.shape == (6, 3)
    np.testing.assert_allclose(codes, np.asarray(outputs["z_mean"]), rtol=1e-5, atol=1e-6)
    reconstructed = np.asarray(model.reconstruct(batch))
    assert reconstructed.shape == (6, 28, 28, 1) and reconstructed.min() >= 0.0 and reconstructed.max() <= 1.0
    decoded = np.asarray(model.decode(np.zeros((2, 3), "float32")))
    assert decoded.shape == (2, 28, 28, 1)
    # Other shapes: 32x32 color images, three stride-2 convolutions (32 -> 16 -> 8 -> 4).
    color = build_vae((32, 32, 3), 5, filters=(8, 8, 8), decoder_filters=(8, 8, 8), dense_units=0)
    assert tuple(color.encoder.outputs[0].shape) == (None, 5)
    assert tuple(color.decoder.outputs[0].shape) == (None, 32, 32, 3)


def test_builders_alone():
    encoder = build_vae_encoder((28, 28, 1), 4, filters=(4,), dense_units=0)
    decoder = build_vae_decoder((28, 28, 1), 4, filters=(4,), dense_units=8)
    mean, log_var = encoder(np.zeros((2, 28, 28, 1), "float32"))
    assert tuple(mean.shape) == tuple(log_var.shape) == (2, 4)
    assert tuple(decoder(np.zeros((2, 4), "float32")).shape) == (2, 28, 28, 1)
    assert encoder.get_layer("conv_1").output.shape[1:3] == (14, 14)


@pytest.mark.parametrize("kl_weight", [1.0, 0.25])
def test_loss_is_reconstruction_plus_weighted_kl(kl_weight):
    keras.utils.set_random_seed(1)
    model = build_vae(**SMALL, kl_weight=kl_weight)
    batch = images(8)
    outputs = model(batch, training=True)
    loss = float(model.compute_loss(x=batch, y=None, y_pred=outputs))
    reconstruction, kl = loss_terms(model, batch, outputs)
    assert loss == pytest.approx(np.mean(reconstruction + kl_weight * kl), rel=1e-5)
    assert float(model.reconstruction_tracker.result()) == pytest.approx(reconstruction.mean(), rel=1e-5)
    assert float(model.kl_tracker.result()) == pytest.approx(kl.mean(), rel=1e-5)
    assert float(model.neg_elbo_tracker.result()) == pytest.approx((reconstruction + kl).mean(), rel=1e-5)
    # The drawn code is mu + sigma * eps: eps recovered from z is finite and varies.
    mu, log_var, z = (np.asarray(outputs[key]) for key in ("z_mean", "z_log_var", "z"))
    epsilon = (z - mu) / np.exp(0.5 * log_var)
    assert np.all(np.isfinite(epsilon)) and epsilon.std() > 0.3


def test_evaluate_reports_the_terms_and_ignores_labels():
    keras.utils.set_random_seed(2)
    model = build_vae(**SMALL, kl_weight=0.5)
    model.compile(optimizer="adam")
    batch = images(16)
    labels = np.arange(16) % 10
    results = model.evaluate(batch, labels, batch_size=16, return_dict=True, verbose=0)
    assert set(results) == {"loss", "reconstruction", "kl", "neg_elbo"}
    assert results["loss"] == pytest.approx(results["reconstruction"] + 0.5 * results["kl"], rel=1e-5)
    assert results["neg_elbo"] == pytest.approx(results["reconstruction"] + results["kl"], rel=1e-5)
    # An untrained decoder's logits are near 0: about ln 2 nats per pixel.
    assert 0.5 * 784 * np.log(2) < results["reconstruction"] < 2 * 784 * np.log(2)
    without_labels = model.evaluate(batch, batch_size=16, return_dict=True, verbose=0)
    assert set(without_labels) == set(results)


def test_training_lowers_the_loss():
    keras.utils.set_random_seed(3)
    model = build_vae(**SMALL)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    batch = np.zeros((64, 28, 28, 1), "uint8")
    batch[:, 10:18, 6:22] = 255  # one bright band: easy to learn
    history = model.fit(batch, batch_size=16, epochs=10, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]


def test_gradients_reach_the_log_variance_through_the_sample():
    """The reparameterization trick: the reconstruction term alone has a gradient with respect to sigma."""
    keras.utils.set_random_seed(4)
    model = build_vae(**SMALL)
    batch = images(4)
    log_var_kernel = model.encoder.get_layer("z_log_var").kernel
    with tf.GradientTape() as tape:
        outputs = model(batch, training=True)
        logits = outputs["logits"]
        reconstruction = tf.reduce_sum(tf.nn.softplus(logits) - model.scale(batch) * logits)
    gradient = tape.gradient(reconstruction, log_var_kernel)
    assert gradient is not None and float(tf.reduce_max(tf.abs(gradient))) > 0


def test_kl_weight_zero_is_a_plain_autoencoder():
    keras.utils.set_random_seed(5)
    model = build_vae(**SMALL, kl_weight=0.0)
    assert not model.samples_codes and model.neg_elbo_tracker is None
    batch = images(6)
    first, second = model(batch, training=True), model(batch, training=True)
    np.testing.assert_array_equal(np.asarray(first["z"]), np.asarray(first["z_mean"]))  # no noise
    np.testing.assert_array_equal(np.asarray(first["logits"]), np.asarray(second["logits"]))  # deterministic
    loss = float(model.compute_loss(x=batch, y_pred=first))
    reconstruction, _ = loss_terms(model, batch, first)
    assert loss == pytest.approx(reconstruction.mean(), rel=1e-5)
    model.compile(optimizer="adam")
    results = model.evaluate(batch, batch_size=6, return_dict=True, verbose=0)
    assert set(results) == {"loss", "reconstruction", "kl"}
    assert results["loss"] == pytest.approx(results["reconstruction"], rel=1e-6)


def test_save_and_reload_in_safe_mode(tmp_path):
    keras.utils.set_random_seed(6)
    model = build_vae(**SMALL, kl_weight=0.5, name="fashion_vae")
    model.compile(optimizer="adam")
    batch = images(32)
    model.fit(batch, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "vae.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(reloaded, VariationalAutoencoder) and reloaded.name == "fashion_vae"
    assert (reloaded.kl_weight, reloaded.input_scale, reloaded.latent_dim) == (0.5, model.input_scale, 3)
    for saved, loaded in zip(model.get_weights(), reloaded.get_weights()):
        np.testing.assert_array_equal(saved, loaded)
    np.testing.assert_array_equal(np.asarray(model.encode(batch)), np.asarray(reloaded.encode(batch)))
    codes = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(model.decode(codes)), np.asarray(reloaded.decode(codes)))
    np.testing.assert_array_equal(np.asarray(model.decoder(codes)), np.asarray(reloaded.decoder(codes)))
    # It trains on after reloading (the optimizer state came with it).
    reloaded.fit(batch, batch_size=16, epochs=1, verbose=0)


def test_seeded_sampling_is_reproducible():
    mean, log_var = np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32")
    first = np.asarray(GaussianSample(seed=7)(mean, log_var))
    second = np.asarray(GaussianSample(seed=7)(mean, log_var))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, np.asarray(GaussianSample(seed=8)(mean, log_var)))


@pytest.mark.parametrize(
    "arguments, argument",
    [
        (dict(latent_dim=0), "latent_dim"),
        (dict(latent_dim=-2), "latent_dim"),
        (dict(latent_dim=1.5), "latent_dim"),
        (dict(kl_weight=-1.0), "kl_weight"),
        (dict(kl_weight=float("nan")), "kl_weight"),
        (dict(kl_weight=float("inf")), "kl_weight"),
        (dict(kl_weight="a lot"), "kl_weight"),
        (dict(input_scale=0.0), "input_scale"),
        (dict(dense_units=-1), "dense_units"),
        (dict(filters=()), "filters"),
        (dict(filters=(8, 0), decoder_filters=(8, 8)), "filters"),
        (dict(filters=(4, 4, 4), decoder_filters=(4, 4, 4)), "filters"),  # 28 is not divisible by 8
        (dict(decoder_filters=(8,)), "decoder_filters"),
        (dict(input_shape=(28, 28)), "input_shape"),
    ],
)
def test_bad_arguments(arguments, argument):
    with pytest.raises(ArgumentValueError) as raised:
        build_vae(**{**SMALL, **arguments})
    assert raised.value.argument == argument
    assert f"Invalid value for argument `{argument}`" in str(raised.value)


def test_mismatched_encoder_and_decoder():
    encoder = build_vae_encoder(latent_dim=4, filters=(4, 4), dense_units=0)
    decoder = build_vae_decoder(latent_dim=5, filters=(4, 4), dense_units=0)
    with pytest.raises(ArgumentValueError, match="codes of size 5 but the encoder makes codes of size 4"):
        VariationalAutoencoder(encoder, decoder)
    one_output = keras.Model(encoder.inputs, encoder.outputs[0])
    with pytest.raises(ArgumentValueError, match=r"\[z_mean, z_log_var\]"):
        VariationalAutoencoder(one_output, decoder)


def test_sample_weights_are_refused():
    model = build_vae(**SMALL)
    model.compile(optimizer="adam")
    with pytest.raises(ArgumentValueError, match="sample_weight"):
        model.fit(images(4), np.zeros(4), sample_weight=np.ones(4), batch_size=4, verbose=0)


MIRRORED_STEP = textwrap.dedent(
    """
    import json
    import numpy as np
    import keras, tensorflow as tf
    from mlrecipes.distribute import resolve_strategy
    from mlrecipes.models.vae import build_vae

    mirrored = resolve_strategy("mirrored", devices="cpu:2")
    images = np.random.default_rng(0).integers(0, 256, (32, 28, 28, 1)).astype("uint8")

    def one_step(strategy):
        keras.utils.set_random_seed(7)
        with strategy.scope():
            model = build_vae(latent_dim=3, filters=(4, 8), decoder_filters=(8, 4), dense_units=16, kl_weight=0.0)
            model.compile(optimizer=keras.optimizers.SGD(0.01))
        before = model.get_weights()
        history = model.fit(tf.data.Dataset.from_tensor_slices(images).batch(32), epochs=1, verbose=0).history
        after = model.get_weights()
        moved = max(float(np.abs(a - b).max()) for a, b in zip(before, after))
        return after, history["loss"][0], moved, strategy.num_replicas_in_sync

    single, single_loss, moved, one = one_step(tf.distribute.get_strategy())
    mirror, mirror_loss, _, two = one_step(mirrored)
    print(json.dumps({"replicas": [one, two], "losses": [single_loss, mirror_loss], "moved": moved,
                      "max_difference": max(float(np.abs(a - b).max()) for a, b in zip(single, mirror))}))
    """
)


def test_mirrored_on_two_logical_cpus_matches_one_device():
    """Each replica returns its share of the batch mean: the summed gradients are those of one device."""
    finished = python_process("-c", MIRRORED_STEP, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    assert result["replicas"] == [1, 2]
    assert result["losses"][1] == pytest.approx(result["losses"][0], rel=1e-5)
    assert result["moved"] > 1e-3 and result["max_difference"] < 1e-5
