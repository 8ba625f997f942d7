"""Executable math: every formula on the concept pages (docs/concepts/), computed
with NumPy exactly as the page writes it and compared with TensorFlow/Keras.

Each test is named on the page whose formulas it checks; tests/test_docs_pages.py
fails when a page with formulas names no test, or names one that does not exist.
Conventions as on the pages: rows are examples, a Dense layer computes X W + b
with the kernel W of shape (inputs, units), as Keras stores it.
"""

from __future__ import annotations

import functools
import math
import operator

import keras
import ml_dtypes
import numpy as np
import pytest
import tensorflow as tf

from mlrecipes.data.pipeline import make_pipeline
from mlrecipes.models.mlp import build_mlp
from mlrecipes.precision import choose_policy

RTOL = 1e-5
ATOL = 1e-5


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(z)_k = exp(z_k) / sum_j exp(z_j), computed as exp(z - max z) / sum exp(z - max z)."""
    shifted = z - z.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    """LN(x) = gamma * (x - mu) / sqrt(sigma^2 + eps) + beta over the last axis."""
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """softmax(Q K^T / sqrt(d_k) + M) V, with M = 0 where mask is True and -inf elsewhere."""
    d_k = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores) @ v


def causal_mask(length: int) -> np.ndarray:
    """True where query i may attend to key j: j <= i."""
    return np.tril(np.ones((length, length), dtype=bool))


def float32(*arrays: np.ndarray) -> list[np.ndarray]:
    return [np.asarray(array, dtype="float32") for array in arrays]


# --- Gradient descent and backpropagation (docs/concepts/gradient-descent.md) ---


def test_gradient_descent_step_matches_keras_sgd():
    theta0 = rng(1).normal(size=(5,)).astype("float32")
    gradient = rng(2).normal(size=(5,)).astype("float32")
    eta = 0.1
    variable = keras.Variable(theta0)
    keras.optimizers.SGD(learning_rate=eta).apply_gradients([(tf.constant(gradient), variable)])
    # theta <- theta - eta * grad L
    np.testing.assert_allclose(variable.numpy(), theta0 - eta * gradient, rtol=RTOL, atol=1e-7)


def test_momentum_steps_match_keras_sgd():
    r = rng(32)
    theta0 = r.normal(size=(4,)).astype("float32")
    gradients = [r.normal(size=(4,)).astype("float32") for _ in range(4)]
    eta, mu = 0.05, 0.9
    for nesterov in (False, True):
        variable = keras.Variable(theta0)
        optimizer = keras.optimizers.SGD(learning_rate=eta, momentum=mu, nesterov=nesterov)
        theta, v = theta0.astype("float64"), np.zeros(4)
        for g in gradients:
            optimizer.apply_gradients([(tf.constant(g), variable)])
            v = mu * v - eta * g  # v <- mu v - eta g
            theta = theta + (mu * v - eta * g if nesterov else v)
            np.testing.assert_allclose(variable.numpy(), theta, rtol=1e-5, atol=1e-6)
    # A constant gradient: Keras' steps tend to -eta g / (1 - mu), 1/(1 - mu) = 10 plain steps.
    for nesterov in (False, True):
        variable = keras.Variable(np.zeros(1, "float32"))
        optimizer = keras.optimizers.SGD(learning_rate=eta, momentum=mu, nesterov=nesterov)
        step = tf.function(lambda: optimizer.apply_gradients([(tf.ones(1), variable)]))  # noqa: B023 - used in this loop
        for _ in range(200):  # mu^200 < 1e-9: the geometric series has converged
            before = variable.numpy().copy()
            step()
        assert float(variable.numpy()[0] - before[0]) == pytest.approx(-eta / (1 - mu), rel=1e-4)


def test_backpropagation_of_an_mlp_matches_gradient_tape():
    r = rng(3)
    n, d, hidden, classes = 16, 6, 5, 4
    x, w1, b1, w2, b2 = float32(
        r.normal(size=(n, d)), r.normal(size=(d, hidden)), r.normal(size=(hidden,)),
        r.normal(size=(hidden, classes)), r.normal(size=(classes,)),
    )  # fmt: skip
    labels = r.integers(0, classes, size=n)
    y = one_hot(labels, classes)

    # Forward pass, as on the page.
    z1 = x @ w1 + b1
    h1 = relu(z1)
    z2 = h1 @ w2 + b2
    p = softmax(z2)
    loss = -np.mean(np.log(p[np.arange(n), labels]))
    # Backward pass, as on the page.
    delta2 = (p - y) / n
    grad_w2 = h1.T @ delta2
    grad_b2 = delta2.sum(axis=0)
    delta1 = (delta2 @ w2.T) * (z1 > 0)
    grad_w1 = x.T @ delta1
    grad_b1 = delta1.sum(axis=0)
    # The column-vector form, one example at a time, with V = W^T (units x inputs).
    v1, v2 = w1.T, w2.T
    grad_v1 = np.zeros_like(v1, dtype="float64")
    for row in range(n):
        delta2_col = ((p[row] - y[row]) / n)[:, None]
        delta1_col = (v2.T @ delta2_col) * (z1[row] > 0)[:, None]
        grad_v1 += delta1_col @ x[row][None, :]  # delta_1 h_0^T
    np.testing.assert_allclose(grad_v1, grad_w1.T, rtol=1e-6, atol=1e-9)

    # The same network in Keras, differentiated by TensorFlow.
    inputs = keras.Input((d,))
    hidden_layer = keras.layers.Dense(hidden, activation="relu")
    output_layer = keras.layers.Dense(classes, activation="softmax")
    model = keras.Model(inputs, output_layer(hidden_layer(inputs)))
    model.set_weights([w1, b1, w2, b2])
    with tf.GradientTape() as tape:
        keras_loss = keras.losses.SparseCategoricalCrossentropy()(labels, model(x))
    grads = tape.gradient(keras_loss, model.trainable_weights)

    np.testing.assert_allclose(float(keras_loss), loss, rtol=RTOL)
    for ours, theirs in zip([grad_w1, grad_b1, grad_w2, grad_b2], grads):
        np.testing.assert_allclose(theirs.numpy(), ours, rtol=1e-4, atol=1e-6)


def test_adam_step_matches_keras_adam():
    r = rng(4)
    theta = r.normal(size=(7,)).astype("float32")
    gradients = [r.normal(size=(7,)).astype("float32") * scale for scale in (1.0, 1e-3, 10.0)]
    eta, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-7
    variable = keras.Variable(theta.copy())
    optimizer = keras.optimizers.Adam(learning_rate=eta, beta_1=beta1, beta_2=beta2, epsilon=eps)

    m = np.zeros_like(theta, dtype="float64")
    v = np.zeros_like(theta, dtype="float64")
    ours = theta.astype("float64")
    textbook = theta.astype("float64")
    for t, g in enumerate(gradients, start=1):
        optimizer.apply_gradients([(tf.constant(g), variable)])
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        # The page's form (Keras's): eta_t = eta sqrt(1 - beta2^t) / (1 - beta1^t), eps outside.
        eta_t = eta * np.sqrt(1 - beta2**t) / (1 - beta1**t)
        ours = ours - eta_t * m / (np.sqrt(v) + eps)
        # The textbook form with eps replaced by eps / sqrt(1 - beta2^t) is the same step.
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        textbook = textbook - eta * m_hat / (np.sqrt(v_hat) + eps / np.sqrt(1 - beta2**t))
        np.testing.assert_allclose(variable.numpy(), ours, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(textbook, ours, rtol=1e-12, atol=1e-12)


def test_adam_epsilon_is_added_to_the_uncorrected_root():
    """For gradients of the size of epsilon the printed form (eps on sqrt(v_hat)) is a different step."""
    eta, beta1, beta2, eps = 1.0, 0.9, 0.999, 1e-7
    g = np.array([1e-7, -3e-7, 2e-8], dtype="float32")
    variable = keras.Variable(np.zeros(3, "float32"))
    keras.optimizers.Adam(learning_rate=eta, epsilon=eps).apply_gradients([(tf.constant(g), variable)])
    g = g.astype("float64")
    m, v = (1 - beta1) * g, (1 - beta2) * g**2
    keras_form = -eta * np.sqrt(1 - beta2) / (1 - beta1) * m / (np.sqrt(v) + eps)
    m_hat, v_hat = m / (1 - beta1), v / (1 - beta2)
    printed_form = -eta * m_hat / (np.sqrt(v_hat) + eps)
    np.testing.assert_allclose(variable.numpy(), keras_form, rtol=1e-5)
    assert np.all(np.abs(printed_form - keras_form) > 0.1 * np.abs(keras_form))  # eps_hat = 31.6 eps at t = 1
    # With eps_hat_t = eps / sqrt(1 - beta2^t) the printed form is Keras' step.
    np.testing.assert_allclose(-eta * m_hat / (np.sqrt(v_hat) + eps / np.sqrt(1 - beta2)), keras_form, rtol=1e-12)
    assert 1 / math.sqrt(1 - beta2) == pytest.approx(31.6, abs=0.05)


def test_decoupled_weight_decay_matches_keras_adamw():
    r = rng(33)
    theta = r.normal(size=(6,)).astype("float32")
    gradients = [r.normal(size=(6,)).astype("float32") for _ in range(3)]
    eta0, lam, beta1, beta2, eps, total = 0.1, 0.5, 0.9, 0.999, 1e-7, 4
    schedule = keras.optimizers.schedules.CosineDecay(eta0, total)
    variable = keras.Variable(theta.copy())
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=lam)
    ours, m, v = theta.astype("float64"), np.zeros(6), np.zeros(6)
    for t, g in enumerate(gradients, start=1):
        optimizer.apply_gradients([(tf.constant(g), variable)])
        eta = eta0 * 0.5 * (1 + math.cos(math.pi * (t - 1) / total))  # the current learning rate
        ours = (1 - eta * lam) * ours  # theta <- (1 - eta lambda) theta, with eta, not alpha_t ...
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g.astype("float64") ** 2
        alpha = eta * np.sqrt(1 - beta2**t) / (1 - beta1**t)
        ours = ours - alpha * m / (np.sqrt(v) + eps)  # ... then the Adam step
        np.testing.assert_allclose(variable.numpy(), ours, rtol=1e-5, atol=1e-6)
        if t == 1:  # the alternatives are measurably different steps
            adam_step = alpha * m / (np.sqrt(v) + eps)
            decay_after = (1 - eta * lam) * (theta - adam_step)
            decay_by_alpha = (1 - alpha * lam) * theta - adam_step
            assert np.abs(decay_after - ours).max() > 1e-3 and np.abs(decay_by_alpha - ours).max() > 1e-2

    # Plain SGD: the decoupled decay is the same update as an L2 penalty (lambda/2)||theta||^2 in the loss;
    # through Adam's scaling it is not.
    for make, same in (
        (lambda **kw: keras.optimizers.SGD(0.1, **kw), True),
        (lambda **kw: keras.optimizers.Adam(0.1, **kw), False),
    ):
        decayed, penalized = keras.Variable(theta.copy()), keras.Variable(theta.copy())
        make(weight_decay=lam).apply_gradients([(tf.constant(gradients[0]), decayed)])
        make().apply_gradients([(tf.constant(gradients[0] + lam * theta), penalized)])
        assert np.allclose(decayed.numpy(), penalized.numpy(), rtol=1e-5, atol=1e-6) == same


def test_cosine_decay_matches_keras_schedule():
    eta0, total = 3e-3, 100
    schedule = keras.optimizers.schedules.CosineDecay(eta0, total)
    for t in [0, 1, 25, 50, 99, 100, 150]:
        expected = eta0 * 0.5 * (1 + math.cos(math.pi * min(t, total) / total))
        assert float(schedule(t)) == pytest.approx(expected, rel=1e-5, abs=1e-6 * eta0)


def test_warmup_then_cosine_matches_keras_schedule():
    eta_max, total, warmup = 0.4, 120, 20
    schedule = keras.optimizers.schedules.CosineDecay(0.0, total - warmup, warmup_target=eta_max, warmup_steps=warmup)
    for t in [0, 1, 10, 19, 20, 21, 70, 119, 120, 200]:
        if t < warmup:
            expected = eta_max * t / warmup
        else:
            expected = eta_max * 0.5 * (1 + math.cos(math.pi * min(t - warmup, total - warmup) / (total - warmup)))
        assert float(schedule(t)) == pytest.approx(expected, rel=1e-5, abs=1e-6 * eta_max)


# --- Loss functions (docs/concepts/loss-functions.md) ---


def test_softmax_matches_keras_and_ignores_a_shift():
    z = rng(5).normal(size=(4, 6)) * 5
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)  # the definition, unshifted
    np.testing.assert_allclose(keras.ops.softmax(z.astype("float32")).numpy(), p, rtol=1e-5)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)
    np.testing.assert_allclose(softmax(z + 1000.0), p, rtol=1e-12)  # softmax(z + c) = softmax(z)


def test_mean_squared_error_and_its_gradient():
    r = rng(6)
    y, y_hat = float32(r.normal(size=(10, 1)), r.normal(size=(10, 1)))
    mse = np.mean((y - y_hat) ** 2)
    assert float(keras.losses.MeanSquaredError()(y, y_hat)) == pytest.approx(mse, rel=1e-6)
    prediction = tf.Variable(y_hat)
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, prediction)
    # d MSE / d y_hat_n = (2/N)(y_hat_n - y_n): no factor 1/2 in Keras' loss.
    np.testing.assert_allclose(tape.gradient(loss, prediction).numpy(), 2 / len(y) * (y_hat - y), rtol=1e-5)
    # Several outputs per example: the mean over the outputs, then over the batch.
    y, y_hat = float32(r.normal(size=(10, 3)), r.normal(size=(10, 3)))
    assert float(keras.losses.MeanSquaredError()(y, y_hat)) == pytest.approx(np.mean((y - y_hat) ** 2), rel=1e-6)


def test_cross_entropy_matches_keras_losses():
    r = rng(7)
    n, classes = 12, 5
    z = r.normal(size=(n, classes)).astype("float32") * 3
    labels = r.integers(0, classes, size=n)
    p = softmax(z.astype("float64"))
    # L = -(1/N) sum_n log p_{y_n} = -(1/N) sum_n sum_k Y_nk log P_nk
    nll = -np.mean(np.log(p[np.arange(n), labels]))
    np.testing.assert_allclose(nll, -np.mean(np.sum(one_hot(labels, classes) * np.log(p), axis=1)))
    # log p_k = z_k - log sum_j exp(z_j)
    log_p = z - np.log(np.exp(z.astype("float64")).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(-np.mean(log_p[np.arange(n), labels]), nll, rtol=1e-6)

    sparse = keras.losses.SparseCategoricalCrossentropy()
    sparse_logits = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    categorical = keras.losses.CategoricalCrossentropy()
    assert float(sparse(labels, p.astype("float32"))) == pytest.approx(nll, rel=1e-5)
    assert float(sparse_logits(labels, z)) == pytest.approx(nll, rel=1e-5)
    assert float(categorical(one_hot(labels, classes), p.astype("float32"))) == pytest.approx(nll, rel=1e-5)


def test_cross_entropy_of_softmax_outputs_uses_the_logits():
    sparse = keras.losses.SparseCategoricalCrossentropy()
    categorical = keras.losses.CategoricalCrossentropy()
    labels = np.array([2])
    logits = tf.Variable([[30.0, 0.0, 0.0]])  # confidently wrong: p_y = e^-30 / (1 + 2 e^-30)
    expected_loss = 30 + math.log(1 + 2 * math.exp(-30))
    expected_gradient = softmax(np.array([[30.0, 0.0, 0.0]])) - one_hot(labels, 3)  # p - e_y
    softmax_layer = keras.layers.Activation("softmax")  # how the recipes' models end

    @tf.function
    def in_a_graph():  # as model.fit runs it
        with tf.GradientTape() as tape:
            loss = sparse(labels, softmax_layer(logits))
        return loss, tape.gradient(loss, logits)

    with tf.GradientTape(persistent=True) as tape:
        probabilities = softmax_layer(logits)
        eager_losses = [sparse(labels, probabilities), categorical(one_hot(labels, 3), probabilities)]
    for loss, gradient in [(loss, tape.gradient(loss, logits)) for loss in eager_losses] + [in_a_graph()]:
        assert float(loss) == pytest.approx(expected_loss, rel=1e-6)  # 30, not -log(1e-7) = 16.1
        np.testing.assert_allclose(gradient.numpy(), expected_gradient, atol=1e-6)  # -1 and +1: no saturation

    # Probabilities from elsewhere are clipped to [1e-7, 1 - 1e-7]: a zero probability costs -log(1e-7) ...
    given = tf.Variable([[1.0, 0.0, 0.0]])
    with tf.GradientTape() as tape:
        loss = sparse(labels, given)
    assert float(loss) == pytest.approx(-math.log(1e-7), rel=1e-3)
    assert -math.log(1e-7) == pytest.approx(16.1, abs=0.05)
    # ... and passes no gradient back through the clip.
    np.testing.assert_array_equal(tape.gradient(loss, given).numpy(), 0.0)

    # Binary cross-entropy does the same with a sigmoid activation.
    z = tf.Variable([[30.0]])
    binary = keras.losses.BinaryCrossentropy()
    assert float(binary(np.zeros((1, 1)), keras.layers.Activation("sigmoid")(z))) == pytest.approx(30.0, rel=1e-6)
    clipped = 1 - float(np.float32(1 - 1e-7))  # 1 - 1e-7 rounded to float32, about 1.19e-7
    assert float(binary(np.zeros((1, 1)), np.ones((1, 1), "float32"))) == pytest.approx(-math.log(clipped), rel=1e-4)


def test_label_smoothing_matches_keras():
    r = rng(34)
    n, classes, smoothing = 10, 10, 0.2
    p = softmax(r.normal(size=(n, classes)))
    labels = r.integers(0, classes, size=n)
    q = (1 - smoothing) * one_hot(labels, classes) + smoothing / classes
    np.testing.assert_allclose(q.sum(axis=1), 1.0)
    expected = -np.mean(np.sum(q * np.log(p), axis=1))
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=smoothing)
    assert float(loss(one_hot(labels, classes).astype("float32"), p.astype("float32"))) == pytest.approx(
        expected, rel=1e-5
    )
    # Per example, d L / d z = p - q: zero exactly where p = q, at finite logits.
    logits = tf.Variable(np.log(p).astype("float32"))
    summed = keras.losses.CategoricalCrossentropy(label_smoothing=smoothing, from_logits=True, reduction="sum")
    with tf.GradientTape() as tape:
        value = summed(one_hot(labels, classes).astype("float32"), logits)
    np.testing.assert_allclose(tape.gradient(value, logits).numpy(), p - q, atol=1e-6)


def test_binary_cross_entropy_matches_keras():
    r = rng(8)
    z = r.normal(size=(20, 1)).astype("float32") * 2
    y = r.integers(0, 2, size=(20, 1)).astype("float32")
    p = 1 / (1 + np.exp(-z.astype("float64")))
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert float(keras.losses.BinaryCrossentropy()(y, p.astype("float32"))) == pytest.approx(bce, rel=1e-5)
    logits = tf.Variable(z)
    with tf.GradientTape() as tape:
        loss = keras.losses.BinaryCrossentropy(from_logits=True)(y, logits)
    assert float(loss) == pytest.approx(bce, rel=1e-5)
    # d loss / d z = (sigma(z) - y) / N
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(), (p - y) / len(y), rtol=1e-4, atol=1e-7)


def test_softmax_cross_entropy_gradient_is_p_minus_onehot():
    r = rng(9)
    n, classes = 8, 10
    z = r.normal(size=(n, classes)).astype("float32")
    labels = r.integers(0, classes, size=n)
    logits = tf.Variable(z)
    with tf.GradientTape() as tape:
        # Summed over the batch, so the gradient of each row is exactly p - e_y.
        loss = tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
    expected = softmax(z.astype("float64")) - one_hot(labels, classes)
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(), expected, rtol=1e-5, atol=1e-6)
    # The same through an explicit softmax layer (what the recipes' models end with).
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(labels, keras.ops.softmax(logits)))
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(), expected, rtol=1e-4, atol=1e-5)


# --- Linear regression (docs/concepts/linear-regression.md) ---


def regression_data(seed: int = 10, n: int = 200, d: int = 3):
    r = rng(seed)
    x = r.normal(loc=[50.0, -3.0, 0.0][:d], scale=[10.0, 1.0, 0.1][:d], size=(n, d))
    true_w = np.array([0.5, -2.0, 30.0][:d])
    y = x @ true_w + 4.0 + r.normal(scale=0.5, size=n)
    return x, y


def test_normal_equations_match_lstsq():
    x, y = regression_data()
    x1 = np.hstack([x, np.ones((len(x), 1))])  # X~ = [X, 1]
    theta = np.linalg.solve(x1.T @ x1, x1.T @ y)  # X~^T X~ theta = X~^T y
    theta_inverse = np.linalg.inv(x1.T @ x1) @ x1.T @ y
    theta_lstsq = np.linalg.lstsq(x1, y, rcond=None)[0]
    np.testing.assert_allclose(theta, theta_lstsq, rtol=1e-8)
    np.testing.assert_allclose(theta_inverse, theta_lstsq, rtol=1e-6)
    # At the optimum the residual is orthogonal to every column: X~^T (y - X~ theta) = 0.
    np.testing.assert_allclose(x1.T @ (y - x1 @ theta), 0.0, atol=1e-7 * np.abs(x1.T @ y).max())
    assert abs(np.sum(y - x1 @ theta)) < 1e-8 * np.abs(y).sum()  # the column of ones: residuals sum to 0
    # Full column rank: X~^T X~ is positive definite.
    assert np.linalg.matrix_rank(x1) == x1.shape[1] and np.linalg.eigvalsh(x1.T @ x1).min() > 0


def test_dependent_columns_have_many_least_squares_solutions():
    x, y = regression_data(n=50)
    for dependent in (np.full((50, 1), 7.0), x[:, :1] + 2 * x[:, 1:2]):  # a constant feature; a combination
        x1 = np.hstack([x, dependent, np.ones((50, 1))])
        assert np.linalg.matrix_rank(x1) == x1.shape[1] - 1  # not full column rank
        assert np.linalg.eigvalsh(x1.T @ x1).min() < 1e-9 * np.linalg.eigvalsh(x1.T @ x1).max()  # singular
        smallest = np.linalg.lstsq(x1, y, rcond=None)[0]
        null = np.linalg.svd(x1)[2][-1]  # x1 @ null = 0
        np.testing.assert_allclose(x1 @ null, 0.0, atol=1e-9)
        other = smallest + 3.0 * null  # another minimizer: the same predictions, the same loss
        np.testing.assert_allclose(x1 @ other, x1 @ smallest, rtol=1e-9)
        np.testing.assert_allclose(x1.T @ x1 @ other, x1.T @ y, rtol=1e-6)  # solves the normal equations too
        assert np.linalg.norm(smallest) < np.linalg.norm(other)  # lstsq returns the smallest
        np.testing.assert_allclose(smallest @ null, 0.0, atol=1e-8 * np.linalg.norm(smallest))


def test_linear_regression_gradient():
    x, y = regression_data(n=32)
    x1 = np.hstack([x, np.ones((len(x), 1))])
    theta = rng(11).normal(size=x1.shape[1])
    gradient = 2 / len(y) * x1.T @ (x1 @ theta - y)
    variable = tf.Variable(theta)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((tf.linalg.matvec(tf.constant(x1), variable) - y) ** 2)
    np.testing.assert_allclose(tape.gradient(loss, variable).numpy(), gradient, rtol=1e-10)


def test_gradient_descent_converges_below_two_over_lambda_max():
    x, y = regression_data(n=100)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    x1 = np.hstack([x, np.ones((len(x), 1))])
    hessian = 2 / len(y) * x1.T @ x1
    lambda_max = np.linalg.eigvalsh(hessian).max()
    best = np.linalg.lstsq(x1, y, rcond=None)[0]

    # One step multiplies the error along each eigenvector of H by 1 - eta * lambda.
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    theta, eta = rng(36).normal(size=x1.shape[1]), 0.3
    stepped = theta - eta * (2 / len(y)) * x1.T @ (x1 @ theta - y)
    np.testing.assert_allclose(
        eigenvectors.T @ (stepped - best), (1 - eta * eigenvalues) * (eigenvectors.T @ (theta - best)), atol=1e-9
    )

    def run(eta: float, steps: int = 2000) -> float:
        theta = np.zeros(x1.shape[1])
        for _ in range(steps):
            theta = theta - eta * (2 / len(y)) * x1.T @ (x1 @ theta - y)
        return float(np.abs(theta - best).max())

    assert run(0.95 * 2 / lambda_max) < 1e-6
    assert run(1.05 * 2 / lambda_max, steps=300) > 1e3


def test_keras_dense_trained_by_gradient_descent_reaches_the_closed_form():
    x, y = regression_data(n=256)
    x1 = np.hstack([x, np.ones((len(x), 1))])
    theta = np.linalg.lstsq(x1, y, rcond=None)[0]

    keras.utils.set_random_seed(0)
    normalization = keras.layers.Normalization()
    normalization.adapt(x.astype("float32"))
    inputs = keras.Input((x.shape[1],))
    model = keras.Model(inputs, keras.layers.Dense(1)(normalization(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.3), loss="mse")
    full_batch = tf.data.Dataset.from_tensors((x.astype("float32"), y.astype("float32"))).repeat()
    model.fit(full_batch, steps_per_epoch=300, epochs=1, shuffle=False, verbose=0)  # 300 full-batch gradient steps

    # Undo the standardisation x' = (x - mu) / sigma: w = w' / sigma, b = b' - sum(w' mu / sigma).
    w_prime, b_prime = (weights.astype("float64") for weights in model.layers[-1].get_weights())
    mu = normalization.mean.numpy().ravel().astype("float64")
    sigma = np.sqrt(normalization.variance.numpy().ravel().astype("float64"))
    np.testing.assert_allclose(mu, x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(sigma, x.std(axis=0, ddof=0), rtol=1e-4)  # the 1/N standard deviation
    x_std = (x[:5] - mu) / sigma  # x' = (x - mu) / sigma is what the layer computes
    np.testing.assert_allclose(normalization(x[:5].astype("float32")).numpy(), x_std, rtol=1e-4, atol=1e-4)
    w = w_prime.ravel() / sigma
    b = b_prime[0] - np.sum(w_prime.ravel() * mu / sigma)
    np.testing.assert_allclose(np.append(w, b), theta, rtol=2e-3, atol=2e-3)


def test_r2_score_matches_keras():
    x, y = regression_data(n=64)
    prediction = x @ np.array([0.4, -2.2, 29.0]) + 3.0
    r2 = 1 - np.sum((y - prediction) ** 2) / np.sum((y - y.mean()) ** 2)

    def keras_r2(prediction):
        metric = keras.metrics.R2Score()
        metric.update_state(y[:, None].astype("float32"), prediction[:, None].astype("float32"))
        return float(metric.result())

    assert keras_r2(prediction) == pytest.approx(r2, rel=1e-4)
    assert keras_r2(y) == pytest.approx(1.0, abs=1e-6)  # a perfect fit
    assert keras_r2(np.full_like(y, y.mean())) == pytest.approx(0.0, abs=1e-5)  # always the mean
    worse = y.mean() - (y - y.mean())
    assert keras_r2(worse) == pytest.approx(1 - 4 * np.sum((y - y.mean()) ** 2) / np.sum((y - y.mean()) ** 2), rel=1e-4)
    assert keras_r2(worse) < 0


# --- Multilayer perceptrons (docs/concepts/multilayer-perceptrons.md) ---


def test_mlp_forward_pass_matches_keras():
    model = build_mlp((4, 4, 1), [8, 6], 3, input_scale=1 / 255, name="forward")
    x = rng(12).integers(0, 256, size=(5, 4, 4, 1)).astype("float32")
    w1, b1, w2, b2, w3, b3 = model.get_weights()
    h0 = x.reshape(5, -1) / 255
    h1 = relu(h0 @ w1 + b1)
    h2 = relu(h1 @ w2 + b2)
    p = softmax(h2 @ w3 + b3)
    np.testing.assert_allclose(model(x).numpy(), p, rtol=1e-5, atol=1e-6)


def test_mlp_parameter_count():
    widths = [784, 256, 128, 10]
    count = sum((widths[i - 1] + 1) * widths[i] for i in range(1, len(widths)))
    assert count == 235_146
    assert build_mlp((28, 28, 1), [256, 128], 10).count_params() == count


def test_stacked_linear_layers_are_one_linear_layer():
    r = rng(13)
    x, w1, b1, w2, b2 = float32(*(r.normal(size=shape) for shape in [(5, 4), (4, 6), (6,), (6, 3), (3,)]))
    two = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6), keras.layers.Dense(3)])
    two.set_weights([w1, b1, w2, b2])
    one = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    one.set_weights([w1 @ w2, b1 @ w2 + b2])  # (X W1 + b1) W2 + b2 = X (W1 W2) + (b1 W2 + b2)
    np.testing.assert_allclose(two(x).numpy(), one(x).numpy(), rtol=1e-4, atol=1e-5)
    # With a relu between them, no single linear layer does it.
    nonlinear = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="relu"), keras.layers.Dense(3)])
    nonlinear.set_weights([w1, b1, w2, b2])
    assert not np.allclose(nonlinear(x).numpy(), one(x).numpy(), atol=1e-3)


def test_inverted_dropout_keeps_the_expectation():
    rate = 0.25
    layer = keras.layers.Dropout(rate, seed=1)
    h = np.full((400, 500), 2.0, dtype="float32")
    dropped = layer(h, training=True).numpy()
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], 2.0 / (1 - rate), rtol=1e-6)  # m h / (1 - r)
    assert abs(1 - kept.mean() - rate) < 0.01  # P(m = 0) = r
    assert abs(dropped.mean() - 2.0) < 0.02  # E[h~] = h
    np.testing.assert_array_equal(layer(h, training=False).numpy(), h)  # identity at inference


def test_glorot_and_he_initializers():
    fan_in, fan_out = 300, 200
    layer = keras.layers.Dense(fan_out)
    layer.build((None, fan_in))
    kernel = layer.kernel.numpy()
    a = math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(kernel).max() <= a
    assert np.abs(kernel).max() > 0.99 * a
    assert kernel.var() == pytest.approx(2 / (fan_in + fan_out), rel=0.03)  # a^2 / 3
    np.testing.assert_array_equal(layer.bias.numpy(), 0.0)
    for name in ("he_normal", "he_uniform"):
        he = keras.layers.Dense(fan_out, kernel_initializer=name)
        he.build((None, fan_in))
        assert he.kernel.numpy().var() == pytest.approx(2 / fan_in, rel=0.03)


# --- Convolution, pooling and residual connections (docs/concepts/convolution.md) ---


def conv2d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """Y[i, j, o] = b_o + sum_{u, v, c} X[s i + u, s j + v, c] K[u, v, c, o] ('valid' padding)."""
    kh, kw, _, c_out = kernel.shape
    h_out = (x.shape[0] - kh) // stride + 1
    w_out = (x.shape[1] - kw) // stride + 1
    y = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            patch = x[stride * i : stride * i + kh, stride * j : stride * j + kw, :]
            y[i, j] = bias + np.tensordot(patch, kernel, axes=([0, 1, 2], [0, 1, 2]))
    return y


def test_convolution_is_cross_correlation():
    r = rng(14)
    x = r.normal(size=(1, 9, 8, 3)).astype("float32")
    for stride in (1, 2):
        layer = keras.layers.Conv2D(4, (3, 2), strides=stride)
        out = layer(x).numpy()
        kernel, bias = layer.get_weights()
        np.testing.assert_allclose(out[0], conv2d(x[0], kernel, bias, stride), rtol=1e-4, atol=1e-5)
    # Cross-correlation, not convolution: scipy's convolve2d with the flipped kernel, not with the kernel.
    signal = pytest.importorskip("scipy.signal")
    single = keras.layers.Conv2D(1, (3, 2), use_bias=False)
    out = single(x[:, :, :, :1]).numpy()[0, :, :, 0]
    kernel = single.get_weights()[0][:, :, 0, 0]
    np.testing.assert_allclose(out, signal.correlate2d(x[0, :, :, 0], kernel, mode="valid"), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        out, signal.convolve2d(x[0, :, :, 0], kernel[::-1, ::-1], mode="valid"), rtol=1e-4, atol=1e-5
    )
    assert not np.allclose(out, signal.convolve2d(x[0, :, :, 0], kernel, mode="valid"), atol=1e-3)
    # 'same' padding = zero padding, then the same sum.
    same = keras.layers.Conv2D(2, 3, padding="same")
    out = same(x).numpy()
    kernel, bias = same.get_weights()
    padded = np.pad(x[0], ((1, 1), (1, 1), (0, 0)))
    np.testing.assert_allclose(out[0], conv2d(padded, kernel, bias, 1), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("n,k,s", [(32, 3, 1), (32, 3, 2), (28, 5, 1), (7, 2, 2), (9, 4, 3), (224, 7, 2)])
def test_convolution_output_size(n, k, s):
    x = np.zeros((1, n, n, 1), dtype="float32")
    for p in (0, 1, 2):  # p zeros on each side, then no more padding
        padded = keras.layers.ZeroPadding2D(p)(x) if p else x
        out = keras.layers.Conv2D(1, k, strides=s, padding="valid")(padded).shape[1]
        assert out == math.floor((n + 2 * p - k) / s) + 1
    same = keras.layers.Conv2D(1, k, strides=s, padding="same")(x).shape[1]
    pooled = keras.layers.MaxPooling2D(k, strides=s)(x).shape[1]
    assert pooled == math.floor((n - k) / s) + 1
    assert same == math.ceil(n / s)


@pytest.mark.parametrize("n,k,s", [(8, 3, 2), (7, 4, 1), (9, 2, 2), (10, 5, 3), (6, 3, 1), (5, 7, 1)])
def test_same_padding_puts_the_odd_zero_after(n, k, s):
    x = rng(37).normal(size=(1, n, n, 2)).astype("float32")
    layer = keras.layers.Conv2D(3, k, strides=s, padding="same", bias_initializer="random_normal")
    out = layer(x).numpy()[0]
    kernel, bias = layer.get_weights()
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)  # P
    before, after = total // 2, total - total // 2
    padded = np.pad(x[0], ((before, after), (before, after), (0, 0)))
    np.testing.assert_allclose(out, conv2d(padded, kernel, bias, s), rtol=1e-4, atol=1e-5)
    if total % 2:  # the other split is a different result
        other = np.pad(x[0], ((after, before), (after, before), (0, 0)))
        assert not np.allclose(out, conv2d(other, kernel, bias, s), atol=1e-3)
    if s == 1 and k % 2:
        assert before == after == (k - 1) // 2


def receptive_field(layers: list[tuple[int, int]]) -> int:
    """r_L = 1 + sum_l (k_l - 1) prod_{m < l} s_m."""
    return 1 + sum((k - 1) * math.prod(s for _, s in layers[:index]) for index, (k, _) in enumerate(layers))


@pytest.mark.parametrize(
    "stack",
    [
        [("conv", 3, 1), ("conv", 3, 1)],
        [("conv", 3, 1)] * 3,
        [("conv", 7, 1)],
        [("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1), ("conv", 3, 2), ("conv", 3, 1)],
        [("conv", 5, 2), ("pool", 3, 2), ("conv", 3, 1)],
    ],
)
def test_receptive_field_of_a_stack(stack):
    n = 48
    layers = [keras.Input((n, n, 1))]
    for kind, k, s in stack:  # all-ones kernels and average pooling: every input in the field counts
        if kind == "conv":
            layers.append(keras.layers.Conv2D(1, k, strides=s, use_bias=False, kernel_initializer="ones"))
        else:
            layers.append(keras.layers.AveragePooling2D(k, strides=s))
    model = keras.Sequential(layers)
    x = tf.Variable(np.zeros((1, n, n, 1), "float32"))
    jump = math.prod(s for _, _, s in stack)  # J
    r = receptive_field([(k, s) for _, k, s in stack])
    for i in (0, 1, 3):
        with tf.GradientTape() as tape:
            output = model(x)[0, i, i, 0]
        seen = np.flatnonzero(tape.gradient(output, x).numpy()[0, :, i * jump, 0])
        assert (seen.min(), seen.max()) == (i * jump, i * jump + r - 1)  # inputs iJ ... iJ + r - 1
        assert len(seen) == r
    if stack == [("conv", 3, 1)] * 3:
        assert r == 7 == receptive_field([(7, 1)])
        channels = 8
        three = keras.Sequential(
            [keras.Input((9, 9, channels))] + [keras.layers.Conv2D(channels, 3, use_bias=False) for _ in range(3)]
        )
        one = keras.Sequential([keras.Input((9, 9, channels)), keras.layers.Conv2D(channels, 7, use_bias=False)])
        assert (three.count_params(), one.count_params()) == (27 * channels**2, 49 * channels**2)
    if stack == [("conv", 3, 1), ("conv", 3, 1)]:
        assert r == 5


def test_convolution_parameter_count():
    layer = keras.layers.Conv2D(64, (3, 3))
    layer.build((None, 32, 32, 16))
    assert layer.count_params() == (3 * 3 * 16 + 1) * 64


def test_max_and_average_pooling():
    x = rng(15).normal(size=(1, 6, 7, 2)).astype("float32")
    k, s = 2, 2
    h_out, w_out = (6 - k) // s + 1, (7 - k) // s + 1
    expected_max = np.zeros((h_out, w_out, 2))
    expected_mean = np.zeros((h_out, w_out, 2))
    for i in range(h_out):
        for j in range(w_out):
            window = x[0, s * i : s * i + k, s * j : s * j + k, :]
            expected_max[i, j] = window.max(axis=(0, 1))
            expected_mean[i, j] = window.mean(axis=(0, 1))
    np.testing.assert_allclose(keras.layers.MaxPooling2D(k)(x).numpy()[0], expected_max, rtol=1e-6)
    np.testing.assert_allclose(keras.layers.AveragePooling2D(k)(x).numpy()[0], expected_mean, rtol=1e-5)
    np.testing.assert_allclose(keras.layers.GlobalAveragePooling2D()(x).numpy()[0], x[0].mean(axis=(0, 1)), rtol=1e-5)
    np.testing.assert_allclose(keras.layers.GlobalMaxPooling2D()(x).numpy()[0], x[0].max(axis=(0, 1)), rtol=1e-6)


def test_batch_normalization_training_and_inference():
    r = rng(16)
    x = r.normal(loc=3.0, scale=2.0, size=(32, 5, 5, 4)).astype("float32")
    layer = keras.layers.BatchNormalization()
    layer.build(x.shape)
    gamma, beta, moving_mean, moving_var = float32(
        r.uniform(0.5, 2, 4), r.normal(size=4), r.normal(size=4), r.uniform(0.5, 2, 4)
    )
    layer.set_weights([gamma, beta, moving_mean, moving_var])
    eps, momentum = 1e-3, 0.99

    inference = layer(x, training=False).numpy()
    np.testing.assert_allclose(
        inference, gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta, rtol=1e-4, atol=1e-5
    )

    training = layer(x, training=True).numpy()
    mu_b = x.mean(axis=(0, 1, 2))
    var_b = x.var(axis=(0, 1, 2))  # the biased (1/m) batch variance
    np.testing.assert_allclose(training, gamma * (x - mu_b) / np.sqrt(var_b + eps) + beta, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), momentum * moving_mean + (1 - momentum) * mu_b, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), momentum * moving_var + (1 - momentum) * var_b, rtol=1e-4)

    # fit trains in training mode (the running averages move); predict uses the running averages.
    model = keras.Sequential([keras.Input(x.shape[1:]), layer])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    mean_before = layer.moving_mean.numpy().copy()
    model.train_on_batch(x, np.zeros_like(x))
    np.testing.assert_allclose(layer.moving_mean.numpy(), momentum * mean_before + (1 - momentum) * mu_b, rtol=1e-5)
    running_mean, running_var = layer.moving_mean.numpy(), layer.moving_variance.numpy()
    np.testing.assert_allclose(
        model.predict(x, verbose=0),
        gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta,
        rtol=1e-4,
        atol=1e-4,
    )


def test_residual_block_and_its_jacobian():
    keras.utils.set_random_seed(1)
    channels = 3
    inputs = keras.Input((5, 5, channels))
    conv1 = keras.layers.Conv2D(channels, 3, padding="same", activation="relu")
    conv2 = keras.layers.Conv2D(channels, 3, padding="same")
    block = keras.Model(inputs, keras.layers.Add()([inputs, conv2(conv1(inputs))]))  # y = x + F(x)
    x = rng(17).normal(size=(2, 5, 5, channels)).astype("float32")
    (k1, b1), (k2, b2) = conv1.get_weights(), conv2.get_weights()

    def f(sample):  # F(x) = conv2(relu(conv1(x)))
        padded = np.pad(sample, ((1, 1), (1, 1), (0, 0)))
        hidden = relu(conv2d(padded, k1, b1, 1))
        return conv2d(np.pad(hidden, ((1, 1), (1, 1), (0, 0))), k2, b2, 1)

    expected = np.stack([sample + f(sample) for sample in x])
    np.testing.assert_allclose(block(x).numpy(), expected, rtol=1e-4, atol=1e-5)

    # dy/dx = I + dF/dx.
    residual_branch = keras.Model(inputs, conv2(conv1(inputs)))
    xt = tf.constant(x[:1])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(xt)
        y = block(xt)
        fx = residual_branch(xt)
    jac_y = tf.reshape(tape.jacobian(y, xt), (xt.shape.num_elements(), -1)).numpy()
    jac_f = tf.reshape(tape.jacobian(fx, xt), (xt.shape.num_elements(), -1)).numpy()
    np.testing.assert_allclose(jac_y, np.eye(len(jac_y)) + jac_f, atol=1e-5)
    # The gradient reaching x is dL/dy + dL/dy dF/dx: it contains dL/dy itself.
    upstream = rng(39).normal(size=xt.shape).astype("float32")
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = block(xt)
    reaching_x = tape.gradient(y, xt, output_gradients=tf.constant(upstream)).numpy().ravel()
    # jac_f[a, b] = dF_a / dx_b (tape.jacobian(F, x) has F's shape first), so dL/dy dF/dx = jac_f^T g.
    g = upstream.ravel()
    np.testing.assert_allclose(reaching_x, g + jac_f.T @ g, rtol=1e-4, atol=1e-4)

    # A projection shortcut when the shapes differ: y = x W_s + F(x) with a 1x1, stride-2 convolution.
    projection = keras.layers.Conv2D(6, 1, strides=2, use_bias=False)
    branch = keras.layers.Conv2D(6, 3, strides=2, padding="same")
    y = keras.layers.Add()([projection(x), branch(x)]).numpy()
    (ws,) = projection.get_weights()
    np.testing.assert_allclose(y - branch(x).numpy(), x[:, ::2, ::2, :] @ ws[0, 0], rtol=1e-4, atol=1e-5)


# --- Attention and transformers (docs/concepts/attention.md) ---


def identity_attention_weights(d: int) -> list[np.ndarray]:
    """One head whose projections are identities: then MultiHeadAttention is plain attention."""
    eye = np.eye(d, dtype="float32")
    zeros = np.zeros((1, d), dtype="float32")
    projection = eye[:, None, :]  # (d_model, heads=1, key_dim=d)
    return [projection, zeros, projection, zeros, projection, zeros, eye[None, :, :], np.zeros(d, "float32")]


def test_scaled_dot_product_attention():
    r = rng(18)
    batch, t_q, t_k, d = 2, 4, 6, 8
    q, k, v = float32(r.normal(size=(batch, t_q, d)), r.normal(size=(batch, t_k, d)), r.normal(size=(batch, t_k, d)))
    expected = attention(q.astype("float64"), k.astype("float64"), v.astype("float64"))

    layer = keras.layers.MultiHeadAttention(num_heads=1, key_dim=d)
    layer(q, v, key=k)
    layer.set_weights(identity_attention_weights(d))
    np.testing.assert_allclose(layer(q, v, key=k).numpy(), expected, rtol=1e-4, atol=1e-5)
    # keras.ops.dot_product_attention takes (batch, time, heads, d_k).
    ops_result = keras.ops.dot_product_attention(q[:, :, None], k[:, :, None], v[:, :, None])
    np.testing.assert_allclose(np.asarray(ops_result)[:, :, 0], expected, rtol=1e-4, atol=1e-5)
    # Every output row is a convex combination of the value rows.
    weights = softmax(q @ np.swapaxes(k, 1, 2) / np.sqrt(d))
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-6)
    assert (weights > 0).all()


def test_causal_mask():
    r = rng(19)
    t, d = 5, 4
    x = r.normal(size=(1, t, d)).astype("float32")
    expected = attention(x.astype("float64"), x, x, mask=causal_mask(t))
    layer = keras.layers.MultiHeadAttention(num_heads=1, key_dim=d)
    layer(x, x)
    layer.set_weights(identity_attention_weights(d))
    np.testing.assert_allclose(layer(x, x, use_causal_mask=True).numpy(), expected, rtol=1e-4, atol=1e-5)
    # Position i sees only positions j <= i: the first output is the first value, whatever follows.
    np.testing.assert_allclose(expected[0, 0], x[0, 0], rtol=1e-6)
    changed = x.copy()
    changed[0, 3:] += 10.0
    np.testing.assert_allclose(attention(changed, changed, changed, causal_mask(t))[0, :3], expected[0, :3], rtol=1e-6)


def test_padding_mask_and_masked_mean():
    r = rng(35)
    t, real, d = 6, 4, 5  # 4 real tokens, then 2 padding positions
    x = r.normal(size=(1, t, d)).astype("float32")
    keys_allowed = np.arange(t) < real
    mask = np.broadcast_to(keys_allowed, (t, t))  # M_ij = -inf where key j is padding
    expected = attention(x.astype("float64"), x, x, mask=mask)
    layer = keras.layers.MultiHeadAttention(num_heads=1, key_dim=d)
    layer(x, x)
    layer.set_weights(identity_attention_weights(d))
    np.testing.assert_allclose(layer(x, x, attention_mask=mask[None]).numpy(), expected, rtol=1e-4, atol=1e-5)
    # Masked weights are exactly 0 (Keras adds -1e9, not -inf), the others sum to 1.
    _, scores = layer(x, x, attention_mask=mask[None], return_attention_scores=True)
    scores = scores.numpy()[0, 0]  # (queries, keys) of the one head
    assert np.all(scores[:, real:] == 0.0) and np.all(scores[:, :real] > 0)
    np.testing.assert_allclose(scores.sum(axis=-1), 1.0, rtol=1e-6)
    # The real positions do not depend on what the padding holds.
    other = x.copy()
    other[0, real:] = 100.0
    np.testing.assert_allclose(
        layer(other, other, attention_mask=mask[None]).numpy()[0, :real], expected[0, :real], rtol=1e-4, atol=1e-5
    )
    # Mean over the n real tokens only.
    pooled = keras.layers.GlobalAveragePooling1D()(x, mask=keys_allowed[None]).numpy()[0]
    np.testing.assert_allclose(pooled, x[0, :real].mean(axis=0), rtol=1e-5)


def test_dot_product_variance_is_d_k():
    r = rng(20)
    for d_k in (16, 64, 256):
        q, k = r.normal(size=(20_000, d_k)), r.normal(size=(20_000, d_k))
        dots = np.sum(q * k, axis=1)
        assert dots.var() == pytest.approx(d_k, rel=0.05)
        assert (dots / np.sqrt(d_k)).var() == pytest.approx(1.0, rel=0.05)


def multi_head(xq, xkv, weights, heads, mask=None):
    """MHA = Concat(head_1..head_H) W^O + b^O, head_h = Attention(X W^Q_h + b^Q_h, ...)."""
    wq, bq, wk, bk, wv, bv, wo, bo = weights
    outputs = []
    for h in range(heads):
        q = xq @ wq[:, h, :] + bq[h]
        k = xkv @ wk[:, h, :] + bk[h]
        v = xkv @ wv[:, h, :] + bv[h]
        outputs.append(attention(q, k, v, mask))
    concat = np.concatenate(outputs, axis=-1)  # (..., H * d_v)
    return concat @ wo.reshape(-1, wo.shape[-1]) + bo


def random_weights(layer: keras.layers.Layer, seed: int) -> list[np.ndarray]:
    """Random values for every weight (biases and gains too, so none of them goes untested)."""
    r = rng(seed)
    weights = [(r.normal(size=w.shape) * 0.3).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    return [w.astype("float64") for w in weights]


def test_multi_head_attention_matches_keras():
    r = rng(21)
    heads, key_dim, d_model = 3, 4, 10
    xq, xkv = float32(r.normal(size=(2, 5, d_model)), r.normal(size=(2, 7, d_model)))
    layer = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim)
    layer(xq, xkv)
    weights = random_weights(layer, 22)
    np.testing.assert_allclose(layer(xq, xkv).numpy(), multi_head(xq, xkv, weights, heads), rtol=1e-4, atol=1e-5)
    # Self-attention with a causal mask.
    layer(xq, xq)
    np.testing.assert_allclose(
        layer(xq, xq, use_causal_mask=True).numpy(),
        multi_head(xq, xq, weights, heads, mask=causal_mask(5)),
        rtol=1e-4,
        atol=1e-5,
    )
    assert layer.count_params() == 3 * (d_model + 1) * heads * key_dim + (heads * key_dim + 1) * d_model
    # Without a mask, self-attention is permutation-equivariant: permuted rows in, permuted rows out.
    permutation = np.array([3, 0, 4, 1, 2])
    np.testing.assert_allclose(
        layer(xq[:, permutation], xq[:, permutation]).numpy(),
        layer(xq, xq).numpy()[:, permutation],
        rtol=1e-4,
        atol=1e-5,
    )


def test_layer_normalization_matches_keras():
    r = rng(23)
    x = r.normal(loc=2.0, scale=3.0, size=(2, 5, 8)).astype("float32")
    layer = keras.layers.LayerNormalization()  # epsilon 1e-3
    layer.build(x.shape)
    gamma, beta = random_weights(layer, 24)
    np.testing.assert_allclose(
        layer(x).numpy(), layer_norm(x.astype("float64"), gamma, beta, 1e-3), rtol=1e-4, atol=1e-5
    )


def feed_forward(x, w1, b1, w2, b2):
    """FFN(x) = relu(x W_1 + b_1) W_2 + b_2, applied at every position."""
    return relu(x @ w1 + b1) @ w2 + b2


def named_weights(layer: keras.layers.Layer, seed: int) -> dict[str, np.ndarray]:
    random_weights(layer, seed)
    return {w.path.split("/", 1)[1]: w.numpy().astype("float64") for w in layer.weights}


def attention_weights(weights: dict[str, np.ndarray], name: str) -> list[np.ndarray]:
    return [
        weights[f"{name}/{part}/{kind}"]
        for part in ("query", "key", "value", "attention_output")
        for kind in ("kernel", "bias")
    ]


def test_transformer_encoder_layer_matches_keras_hub():
    keras_hub = pytest.importorskip("keras_hub")
    heads, d_model, d_ff = 2, 6, 12
    x = rng(25).normal(size=(2, 5, d_model)).astype("float32")
    encoder = keras_hub.layers.TransformerEncoder(intermediate_dim=d_ff, num_heads=heads)
    encoder(x)
    w = named_weights(encoder, 26)
    eps = encoder.layer_norm_epsilon
    # Post-LN (the original transformer and keras_hub's default):
    # H = LN(X + MHA(X, X, X)), Y = LN(H + FFN(H))
    h = layer_norm(
        x + multi_head(x, x, attention_weights(w, "self_attention_layer"), heads),
        w["self_attention_layer_norm/gamma"], w["self_attention_layer_norm/beta"], eps,
    )  # fmt: skip
    ffn = feed_forward(
        h, w["feedforward_intermediate_dense/kernel"], w["feedforward_intermediate_dense/bias"],
        w["feedforward_output_dense/kernel"], w["feedforward_output_dense/bias"],
    )  # fmt: skip
    y = layer_norm(h + ffn, w["feedforward_layer_norm/gamma"], w["feedforward_layer_norm/beta"], eps)
    np.testing.assert_allclose(encoder(x).numpy(), y, rtol=1e-4, atol=1e-4)
    assert eps == 1e-5 and keras.layers.LayerNormalization().epsilon == 1e-3
    # Without positions the encoder ignores order: permuted rows in, permuted rows out.
    permutation = np.array([2, 4, 0, 1, 3])
    np.testing.assert_allclose(
        encoder(x[:, permutation]).numpy(), encoder(x).numpy()[:, permutation], rtol=1e-4, atol=1e-4
    )

    # Pre-LN (normalize_first=True): H = X + MHA(LN(X)), Y = H + FFN(LN(H)).
    pre = keras_hub.layers.TransformerEncoder(intermediate_dim=d_ff, num_heads=heads, normalize_first=True)
    pre(x)
    w = named_weights(pre, 27)
    n1 = layer_norm(x, w["self_attention_layer_norm/gamma"], w["self_attention_layer_norm/beta"], eps)
    h = x + multi_head(n1, n1, attention_weights(w, "self_attention_layer"), heads)
    n2 = layer_norm(h, w["feedforward_layer_norm/gamma"], w["feedforward_layer_norm/beta"], eps)
    y = h + feed_forward(
        n2, w["feedforward_intermediate_dense/kernel"], w["feedforward_intermediate_dense/bias"],
        w["feedforward_output_dense/kernel"], w["feedforward_output_dense/bias"],
    )  # fmt: skip
    np.testing.assert_allclose(pre(x).numpy(), y, rtol=1e-4, atol=1e-4)


def test_transformer_decoder_layer_matches_keras_hub():
    keras_hub = pytest.importorskip("keras_hub")
    heads, d_model, d_ff = 2, 6, 12
    r = rng(28)
    target = r.normal(size=(2, 4, d_model)).astype("float32")
    memory = r.normal(size=(2, 7, d_model)).astype("float32")  # the encoder's output
    decoder = keras_hub.layers.TransformerDecoder(intermediate_dim=d_ff, num_heads=heads)
    decoder(target, memory)
    w = named_weights(decoder, 29)
    eps = decoder.layer_norm_epsilon
    # A = LN(Y + MaskedMHA(Y, Y, Y)), C = LN(A + MHA(A, Z, Z)), out = LN(C + FFN(C))
    a = layer_norm(
        target + multi_head(target, target, attention_weights(w, "self_attention"), heads, mask=causal_mask(4)),
        w["self_attention_layer_norm/gamma"], w["self_attention_layer_norm/beta"], eps,
    )  # fmt: skip
    c = layer_norm(
        a + multi_head(a, memory, attention_weights(w, "cross_attention"), heads),
        w["cross_attention_layer_norm/gamma"], w["cross_attention_layer_norm/beta"], eps,
    )  # fmt: skip
    ffn = feed_forward(
        c, w["feedforward_intermediate_dense/kernel"], w["feedforward_intermediate_dense/bias"],
        w["feedforward_output_dense/kernel"], w["feedforward_output_dense/bias"],
    )  # fmt: skip
    out = layer_norm(c + ffn, w["feedforward_layer_norm/gamma"], w["feedforward_layer_norm/beta"], eps)
    np.testing.assert_allclose(decoder(target, memory).numpy(), out, rtol=1e-4, atol=1e-4)
    # Output i depends on target positions j <= i only (and on all of Z).
    changed = target.copy()
    changed[:, 2:] += 5.0
    np.testing.assert_allclose(decoder(changed, memory).numpy()[:, :2], out[:, :2], rtol=1e-4, atol=1e-4)
    assert not np.allclose(decoder(target, memory + 1.0).numpy()[:, 0], out[:, 0], atol=1e-3)

    # Decoder-only (no encoder sequence): the same layer without the cross-attention half.
    only = keras_hub.layers.TransformerDecoder(intermediate_dim=d_ff, num_heads=heads)
    only(target)
    w = named_weights(only, 38)
    assert not any("cross_attention" in name for name in w)
    a = layer_norm(
        target + multi_head(target, target, attention_weights(w, "self_attention"), heads, mask=causal_mask(4)),
        w["self_attention_layer_norm/gamma"], w["self_attention_layer_norm/beta"], eps,
    )  # fmt: skip
    ffn = feed_forward(
        a, w["feedforward_intermediate_dense/kernel"], w["feedforward_intermediate_dense/bias"],
        w["feedforward_output_dense/kernel"], w["feedforward_output_dense/bias"],
    )  # fmt: skip
    out = layer_norm(a + ffn, w["feedforward_layer_norm/gamma"], w["feedforward_layer_norm/beta"], eps)
    np.testing.assert_allclose(only(target).numpy(), out, rtol=1e-4, atol=1e-4)


def test_sinusoidal_position_encoding_matches_keras_hub():
    keras_hub = pytest.importorskip("keras_hub")
    length, d = 50, 16
    t = np.arange(length)[:, None]
    i = np.arange(d // 2)[None, :]
    angle = t / 10000 ** (2 * i / d)
    pe = np.zeros((length, d))
    pe[:, 0::2] = np.sin(angle)  # PE(t, 2i) = sin(t / 10000^(2i/d))
    pe[:, 1::2] = np.cos(angle)  # PE(t, 2i+1) = cos(t / 10000^(2i/d))
    encoded = keras_hub.layers.SinePositionEncoding()(np.zeros((1, length, d), "float32")).numpy()[0]
    np.testing.assert_allclose(encoded, pe, atol=1e-4)
    # Shifting by delta rotates each (sin, cos) pair by omega_i * delta, whatever t is.
    delta = 7
    omega = 10000.0 ** (-2 * np.arange(d // 2) / d)
    cos, sin = np.cos(omega * delta), np.sin(omega * delta)
    shifted_sin = cos * pe[:-delta, 0::2] + sin * pe[:-delta, 1::2]
    shifted_cos = -sin * pe[:-delta, 0::2] + cos * pe[:-delta, 1::2]
    np.testing.assert_allclose(shifted_sin, pe[delta:, 0::2], atol=1e-9)
    np.testing.assert_allclose(shifted_cos, pe[delta:, 1::2], atol=1e-9)


def test_token_and_position_embedding_matches_keras_hub():
    keras_hub = pytest.importorskip("keras_hub")
    vocabulary, length, d = 20, 6, 4
    layer = keras_hub.layers.TokenAndPositionEmbedding(vocabulary, length, d)
    tokens = np.array([[3, 1, 4, 1, 5, 9]])
    layer(tokens)
    w = named_weights(layer, 30)
    token_table = next(value for name, value in w.items() if "token_embedding" in name)
    position_table = next(value for name, value in w.items() if "position_embedding" in name)
    # h_t = E[x_t] + P[t]
    expected = token_table[tokens[0]] + position_table[np.arange(length)]
    np.testing.assert_allclose(layer(tokens).numpy()[0], expected, rtol=1e-5, atol=1e-6)


# --- Data pipelines (docs/concepts/data-pipelines.md) ---


@pytest.mark.parametrize("n,b", [(100, 32), (96, 32), (5, 8), (60_000, 512)])
def test_batches_per_epoch(n, b):
    dataset = tf.data.Dataset.range(n)
    assert int(dataset.batch(b).cardinality()) == math.ceil(n / b)
    assert int(dataset.batch(b, drop_remainder=True).cardinality()) == n // b
    assert int(make_pipeline(dataset, b).cardinality()) == math.ceil(n / b)  # the recipes keep the last batch


def test_shuffle_buffer_bounds_how_far_an_element_moves():
    n, buffer = 200, 10
    for seed in range(5):
        order = list(tf.data.Dataset.range(n).shuffle(buffer, seed=seed).as_numpy_iterator())
        assert sorted(order) == list(range(n))  # a permutation: nothing lost, nothing repeated
        assert all(element <= position + buffer - 1 for position, element in enumerate(order))
    # buffer 1 keeps the order; buffer >= n can put any element first.
    assert list(tf.data.Dataset.range(n).shuffle(1).as_numpy_iterator()) == list(range(n))
    firsts = {int(next(iter(tf.data.Dataset.range(n).shuffle(n, seed=s)))) for s in range(8)}
    assert max(firsts) > buffer

    # Seeded: a new order every epoch, and the same orders from every copy of the pipeline (every worker).
    def two_epochs():
        shuffled = tf.data.Dataset.range(n).shuffle(n, seed=7)
        return [list(shuffled.as_numpy_iterator()) for _ in range(2)]

    first, second = two_epochs(), two_epochs()
    assert first[0] != first[1] and first == second


def test_shard_gives_every_wth_element():
    n, workers = 23, 3
    shards = [list(tf.data.Dataset.range(n).shard(workers, w).as_numpy_iterator()) for w in range(workers)]
    for w, shard in enumerate(shards):
        assert shard == [i for i in range(n) if i % workers == w]
    assert sorted(functools.reduce(operator.iadd, shards, [])) == list(range(n))
    policy = make_pipeline(tf.data.Dataset.range(n), 4).options().experimental_distribute.auto_shard_policy
    assert policy == tf.data.experimental.AutoShardPolicy.DATA


# --- Distributed training (docs/concepts/distributed-training.md) ---


def test_all_reduce_of_per_replica_gradients_is_the_global_batch_gradient():
    r = rng(31)
    replicas, global_batch, d, classes = 4, 32, 5, 3
    x = r.normal(size=(global_batch, d)).astype("float32")
    labels = r.integers(0, classes, size=global_batch)
    w = tf.Variable(r.normal(size=(d, classes)).astype("float32"))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    with tf.GradientTape() as tape:
        global_loss = loss_fn(labels, x @ w)  # (1/B) sum over the global batch
    global_gradient = tape.gradient(global_loss, w).numpy()

    per_replica = global_batch // replicas  # B / R examples each
    summed = np.zeros_like(global_gradient)
    for replica in range(replicas):
        part = slice(replica * per_replica, (replica + 1) * per_replica)
        with tf.GradientTape() as tape:
            # Each replica's mean loss, scaled by 1/R (what Keras does under a strategy) ...
            local_loss = loss_fn(labels[part], x[part] @ w) / replicas
        summed += tape.gradient(local_loss, w).numpy()  # ... and the all-reduce sums.
    np.testing.assert_allclose(summed, global_gradient, rtol=1e-5, atol=1e-7)
    # A custom loop divides each replica's sum by the global batch: (1/B) sum_{n in S_r} l_n.
    per_example = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    part = slice(0, per_replica)
    losses = per_example(labels[part], x[part] @ w)
    average = tf.nn.compute_average_loss(losses, global_batch_size=global_batch)
    assert float(average) == pytest.approx(float(tf.reduce_sum(losses)) / global_batch, rel=1e-6)
    assert float(average) == pytest.approx(float(loss_fn(labels[part], x[part] @ w)) / replicas, rel=1e-5)


# --- Mixed precision (docs/concepts/mixed-precision.md) ---


def test_float16_and_bfloat16_limits():
    half = np.finfo(np.float16)
    assert float(half.max) == (2 - 2**-10) * 2**15 == 65504
    assert float(half.smallest_normal) == 2**-14
    assert float(half.smallest_subnormal) == 2**-24
    assert float(half.eps) == 2**-10
    single = np.finfo(np.float32)
    assert (single.nexp, single.nmant) == (8, 23) and (half.nexp, half.nmant) == (5, 10)
    assert float(single.max) == pytest.approx(3.4e38, rel=0.01) and float(single.smallest_normal) == 2**-126
    bf16 = tf.bfloat16
    assert float(bf16.max) == pytest.approx((2 - 2**-7) * 2**127, rel=1e-6)
    assert float(bf16.max) == pytest.approx(3.4e38, rel=0.01)
    bf16_info = ml_dtypes.finfo(bf16.as_numpy_dtype)
    assert (bf16_info.nexp, bf16_info.nmant) == (8, 7)
    assert float(bf16_info.smallest_normal) == 2**-126 and float(bf16_info.eps) == 2**-7
    # bfloat16 keeps 8 bits of precision: 1 + 2^-7 is representable, 1 + 2^-8 rounds to 1.
    assert float(tf.cast(tf.constant(1 + 2**-7), bf16)) == 1 + 2**-7
    assert float(tf.cast(tf.constant(1 + 2**-8), bf16)) == 1.0
    assert float(tf.cast(tf.constant(2**-126), bf16)) == 2**-126
    assert float(single.eps) == 2**-23


def test_loss_scaling_rescues_small_gradients():
    gradient = 1e-8
    assert np.float16(gradient) == 0  # below 2^-25: rounded to zero
    assert np.float16(2**-25) == 0 and np.float16(1.01 * 2**-25) == 2**-24  # half the smallest subnormal
    # Subnormals (below 2^-14) keep only a few bits: far coarser than float16's relative 2^-11 rounding.
    small = 3.3e-7
    assert abs(float(np.float16(small)) - small) / small > 2**-7
    assert abs(float(np.float16(small * 2**15)) / 2**15 - small) / small < 2**-11
    scale = 2**15
    scaled = np.float16(gradient * scale)
    assert scaled != 0
    assert float(scaled) / scale == pytest.approx(gradient, rel=1e-3)  # unscaled in float32
    assert float(tf.cast(tf.constant(gradient), tf.bfloat16)) == pytest.approx(gradient, rel=1e-2)  # no scaling needed
    with np.errstate(over="ignore"):
        assert np.isinf(np.float16(70000.0))  # too large a scale overflows instead


def test_loss_scale_optimizer_skips_non_finite_steps():
    weights = keras.Variable(np.ones(3, "float32"))
    defaults = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD())
    assert (defaults.initial_scale, defaults.dynamic_growth_steps) == (2**15, 2000)
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), dynamic_growth_steps=2)
    optimizer.build([weights])
    scale = float(optimizer.dynamic_scale)
    assert scale == 2**15
    assert float(optimizer.scale_loss(tf.constant(2.0))) == 2.0 * scale

    # A finite scaled gradient S*g: the update uses g = (S*g)/S.
    g = np.array([0.5, -1.0, 2.0], "float32")
    optimizer.apply([tf.constant(g * scale)], [weights])
    np.testing.assert_allclose(weights.numpy(), 1 - 0.1 * g, rtol=1e-6)
    after_first = weights.numpy().copy()
    # A non-finite gradient: the step is skipped and S is halved.
    optimizer.apply([tf.constant([np.inf, 1.0, 1.0], dtype="float32")], [weights])
    np.testing.assert_array_equal(weights.numpy(), after_first)
    assert float(optimizer.dynamic_scale) == scale / 2
    # dynamic_growth_steps finite steps in a row: S is doubled.
    for _ in range(2):
        optimizer.apply([tf.constant(np.zeros(3, "float32"))], [weights])
    assert float(optimizer.dynamic_scale) == scale


@pytest.mark.parametrize(
    "mode,on_gpu,compute,variables",
    [
        ("off", False, "float32", "float32"),
        ("auto", True, "float16", "float32"),
        ("auto", False, "bfloat16", "float32"),
        ("float16", False, "float16", "float32"),
        ("bfloat16", True, "bfloat16", "float32"),
    ],
)
def test_mixed_precision_policies(mode, on_gpu, compute, variables):
    policy = keras.mixed_precision.DTypePolicy(choose_policy(mode, on_gpu=on_gpu))
    assert (policy.compute_dtype, policy.variable_dtype) == (compute, variables)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = build_mlp((4,), [8], 3, name="policy")
        hidden = model.get_layer("hidden_1")
        assert hidden.compute_dtype == compute and hidden.kernel.dtype == variables
        assert hidden(np.zeros((1, 4), "float32")).dtype == compute
        assert model(np.zeros((1, 4), "float32")).dtype == "float32"  # the softmax output stays float32
        if compute == "float16":
            model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
            assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    finally:
        keras.mixed_precision.set_global_policy(previous)
