"""Executable math of docs/concepts/autoencoders.md: each formula computed with NumPy as the page
writes it and compared with a Monte-Carlo estimate, a closed form, or what mlrecipes.models.vae computes.

Conventions as on the page: rows are examples; a code has d components, an image D pixels in [0, 1].
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlrecipes.models.vae import GaussianSample, VariationalAutoencoder, bernoulli_nll, gaussian_kl


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x), without overflow."""
    return np.logaddexp(0.0, x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def kl_closed_form(mu: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """KL(N(mu, diag sigma^2) || N(0, I)) = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2), one per row."""
    return -0.5 * np.sum(1.0 + log_var - mu**2 - np.exp(log_var), axis=-1)


def log_normal(z: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """log N(z; mean, diag var), summed over the last axis."""
    return np.sum(-0.5 * np.log(2 * np.pi * var) - (z - mean) ** 2 / (2 * var), axis=-1)


def test_gaussian_kl_closed_form_matches_monte_carlo():
    r = rng(1)
    mu = r.normal(size=(3, 4))
    log_var = r.normal(scale=0.7, size=(3, 4))
    closed = kl_closed_form(mu, log_var)
    # KL(q || p) = E_q[log q(z) - log p(z)], estimated from draws of q.
    samples = 400_000
    sigma = np.exp(0.5 * log_var)
    z = mu[:, None, :] + sigma[:, None, :] * r.standard_normal((3, samples, 4))
    log_ratio = log_normal(z, mu[:, None, :], sigma[:, None, :] ** 2) - log_normal(z, 0.0, 1.0)
    estimate, error = log_ratio.mean(axis=1), log_ratio.std(axis=1) / math.sqrt(samples)
    assert np.all(np.abs(estimate - closed) < 5 * error + 1e-3)
    # The library's version, in float32.
    np.testing.assert_allclose(
        np.asarray(gaussian_kl(*(x.astype("float32") for x in (mu, log_var)))), closed, rtol=1e-5
    )
    # Zero exactly at the prior; positive elsewhere.
    assert kl_closed_form(np.zeros((1, 4)), np.zeros((1, 4)))[0] == 0.0
    assert np.all(closed > 0)


def test_reparameterized_sample_has_mean_mu_and_variance_sigma_squared():
    mu = np.array([[-1.5, 0.0, 2.0]], "float32")
    log_var = np.array([[np.log(0.25), 0.0, np.log(4.0)]], "float32")
    draws = 200_000
    sample = GaussianSample(seed=3)
    z = np.asarray(sample(np.repeat(mu, draws, axis=0), np.repeat(log_var, draws, axis=0)), "float64")
    sigma = np.exp(0.5 * log_var[0].astype("float64"))
    # z = mu + sigma * eps with eps ~ N(0, I): mean mu, variance sigma^2 (standard errors sigma / sqrt(n), ...).
    np.testing.assert_array_less(np.abs(z.mean(axis=0) - mu[0]), 5 * sigma / math.sqrt(draws))
    np.testing.assert_allclose(z.var(axis=0), sigma**2, rtol=5 * math.sqrt(2 / draws))
    # The noise does not depend on mu or sigma: dz/dmu = 1 and dz/d(log sigma^2) = sigma * eps / 2.
    mu_variable, log_var_variable = tf.Variable(mu), tf.Variable(log_var)
    with tf.GradientTape(persistent=True) as tape:
        drawn = GaussianSample(seed=4)(mu_variable, log_var_variable)
    epsilon = (drawn.numpy() - mu) / np.exp(0.5 * log_var)
    np.testing.assert_allclose(tape.gradient(drawn, mu_variable).numpy(), np.ones_like(mu))
    np.testing.assert_allclose(
        tape.gradient(drawn, log_var_variable).numpy(), 0.5 * np.exp(0.5 * log_var) * epsilon, rtol=1e-5
    )


def test_bernoulli_log_likelihood_is_binary_cross_entropy_of_the_logits():
    r = rng(5)
    x = r.uniform(size=(4, 10))
    x[:, :3] = np.round(x[:, :3])  # some binary pixels, some gray
    logits = r.normal(scale=3.0, size=(4, 10))
    p = sigmoid(logits)
    # -log p(x | z) = -sum_i [x_i log p_i + (1 - x_i) log(1 - p_i)] = sum_i [softplus(l_i) - x_i l_i]
    cross_entropy = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1)
    logit_form = np.sum(softplus(logits) - x * logits, axis=1)
    np.testing.assert_allclose(logit_form, cross_entropy, rtol=1e-10)
    library = np.asarray(bernoulli_nll(x.reshape(4, 2, 5, 1), logits.reshape(4, 2, 5, 1)))
    np.testing.assert_allclose(library, logit_form, rtol=1e-5)
    keras_bce = 10 * np.asarray(keras.losses.binary_crossentropy(x, logits, from_logits=True))  # a mean per row
    np.testing.assert_allclose(keras_bce, logit_form, rtol=1e-5)
    # The logit form stays exact where sigmoid(l) rounds to 1: l = 40, x = 0 costs 40 nats.
    assert float(bernoulli_nll(np.zeros((1, 1)), np.full((1, 1), 40.0))[0]) == pytest.approx(40.0)
    # Gray pixels: the smallest value, at p = x, is the binary entropy of x, not 0.
    gray = np.array([[0.3]])
    entropy = -(0.3 * np.log(0.3) + 0.7 * np.log(0.7))
    assert float(bernoulli_nll(gray, np.log(gray / (1 - gray)))[0]) == pytest.approx(entropy, rel=1e-5)
    # Bits per dimension: logits 0 (p = 1/2) cost ln 2 nats a pixel, exactly 1 bit.
    pixels = 784
    nats = float(bernoulli_nll(r.uniform(size=(1, pixels)), np.zeros((1, pixels)))[0])
    assert nats / (pixels * math.log(2)) == pytest.approx(1.0, rel=1e-6)


def test_elbo_is_the_log_likelihood_minus_the_kl_to_the_posterior():
    """A model with a known evidence: p(z) = N(0, 1), p(x | z) = N(z, s^2), so p(x) = N(0, 1 + s^2)."""
    x, s2 = 1.3, 0.5
    log_evidence = -0.5 * math.log(2 * math.pi * (1 + s2)) - x**2 / (2 * (1 + s2))
    posterior_mean, posterior_var = x / (1 + s2), s2 / (1 + s2)

    def elbo(m: float, v: float) -> float:
        # E_q[log p(x | z)] - KL(q || p(z)) for q = N(m, v), both in closed form.
        expected_log_likelihood = -0.5 * math.log(2 * math.pi * s2) - ((x - m) ** 2 + v) / (2 * s2)
        return expected_log_likelihood - float(kl_closed_form(np.array([m]), np.array([math.log(v)])))

    def kl_gaussians(m: float, v: float, m2: float, v2: float) -> float:
        return 0.5 * (math.log(v2 / v) + (v + (m - m2) ** 2) / v2 - 1)

    for m, v in [(0.0, 1.0), (0.5, 0.2), (posterior_mean, 0.9), (-1.0, 3.0)]:
        # log p(x) = ELBO(q) + KL(q || p(z | x)) >= ELBO(q) ...
        assert elbo(m, v) + kl_gaussians(m, v, posterior_mean, posterior_var) == pytest.approx(log_evidence)
        assert elbo(m, v) < log_evidence
    # ... with equality when q is the posterior.
    assert elbo(posterior_mean, posterior_var) == pytest.approx(log_evidence, abs=1e-12)


def test_vae_loss_on_a_tiny_batch_equals_the_formula():
    """Encoder and decoder are single Dense layers, so the whole loss can be written out in NumPy."""
    r = rng(7)
    pixels, d, n, beta, seed = 6, 2, 5, 0.7, 11
    images = keras.Input((2, 3, 1))
    flat = keras.layers.Flatten()(images)
    encoder = keras.Model(images, [keras.layers.Dense(d)(flat), keras.layers.Dense(d)(flat)])
    codes = keras.Input((d,))
    decoder = keras.Model(codes, keras.layers.Reshape((2, 3, 1))(keras.layers.Dense(pixels)(codes)))
    w_mu, b_mu, w_var, b_var = (r.normal(scale=0.5, size=shape) for shape in [(6, d), (d,), (6, d), (d,)])
    w_dec, b_dec = r.normal(size=(d, pixels)), r.normal(size=(pixels,))
    encoder.set_weights([w_mu, b_mu, w_var, b_var])
    decoder.set_weights([w_dec, b_dec])
    model = VariationalAutoencoder(encoder, decoder, kl_weight=beta, input_scale=1 / 255, seed=seed)
    raw = r.integers(0, 256, size=(n, 2, 3, 1)).astype("uint8")

    # The page's formulas, in float64. The noise: a fresh sampler with the same seed draws the same eps.
    epsilon = np.asarray(GaussianSample(seed=seed)(np.zeros((n, d), "float32"), np.zeros((n, d), "float32")))
    x = raw.reshape(n, pixels) / 255.0
    mu, log_var = x @ w_mu + b_mu, x @ w_var + b_var
    z = mu + np.exp(0.5 * log_var) * epsilon
    logits = z @ w_dec + b_dec
    reconstruction = np.sum(softplus(logits) - x * logits, axis=1)
    kl = kl_closed_form(mu, log_var)
    expected_loss = np.mean(reconstruction + beta * kl)

    outputs = model(raw)
    np.testing.assert_allclose(np.asarray(outputs["z"]), z, rtol=1e-4, atol=1e-5)
    loss = float(model.compute_loss(x=raw, y_pred=outputs))
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert float(model.reconstruction_tracker.result()) == pytest.approx(reconstruction.mean(), rel=1e-5)
    assert float(model.kl_tracker.result()) == pytest.approx(kl.mean(), rel=1e-5)
    assert float(model.neg_elbo_tracker.result()) == pytest.approx(np.mean(reconstruction + kl), rel=1e-5)


def test_pca_reconstruction_error_is_the_mean_of_the_discarded_variances():
    r = rng(9)
    n, pixels, d = 2000, 12, 4
    x = r.normal(size=(n, pixels)) @ r.normal(size=(pixels, pixels)) * 0.1 + r.uniform(size=pixels)
    mean = x.mean(axis=0)
    covariance = (x - mean).T @ (x - mean) / n
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)  # ascending
    v = eigenvectors[:, -d:]  # the d directions of largest variance
    reconstructed = (x - mean) @ v @ v.T + mean
    mse = np.mean((x - reconstructed) ** 2)
    # MSE = (1/D) sum of the D - d smallest eigenvalues of the covariance.
    assert mse == pytest.approx(eigenvalues[:-d].sum() / pixels, rel=1e-10)
    # No other d-dimensional linear code does better: a random one, for instance.
    other, _ = np.linalg.qr(r.normal(size=(pixels, d)))
    assert np.mean((x - ((x - mean) @ other @ other.T + mean)) ** 2) > mse
