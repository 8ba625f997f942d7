"""Executable math of docs/concepts/recurrent-networks.md: each formula in NumPy, compared with Keras."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

RTOL = 1e-5
ATOL = 1e-5


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def inputs(batch=3, steps=6, features=4, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, steps, features)).astype(np.float32)


def randomized(layer, seed=1, scale=0.5):
    """Give a built layer random weights (biases included, which Keras starts at 0 or 1)."""
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(scale=scale, size=w.shape).astype(np.float32) for w in layer.get_weights()])
    return layer


def test_simple_rnn_step_matches_keras():
    x = inputs()
    layer = keras.layers.SimpleRNN(5, return_sequences=True)
    layer(x)
    W, U, b = randomized(layer).get_weights()
    h = np.zeros((x.shape[0], 5), np.float32)
    states = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W + h @ U + b)  # h_t = tanh(W x_t + U h_{t-1} + b), rows as examples
        states.append(h)
    np.testing.assert_allclose(np.stack(states, axis=1), layer(x), rtol=RTOL, atol=ATOL)


def test_backpropagation_through_time_is_the_product_of_step_jacobians():
    x = inputs(batch=1, steps=5)
    layer = keras.layers.SimpleRNN(3, return_sequences=True)
    layer(x)
    W, U, b = randomized(layer, scale=0.6).get_weights()
    h0 = tf.Variable(np.random.default_rng(2).normal(size=(1, 3)).astype(np.float32))
    # Unroll by hand from a given h_1 (here h0 plays h_1), so that the tape sees the whole chain.
    with tf.GradientTape() as tape:
        h = h0
        hs = []
        for t in range(1, x.shape[1]):
            h = tf.tanh(x[:, t] @ W + h @ U + b)
            hs.append(h)
        final = h
    jacobian = tape.jacobian(final, h0)[0, :, 0, :].numpy()  # d h_T / d h_1, (units, units)
    # The page: d h_T / d h_1 = prod_t diag(1 - h_t^2) U, in the column convention h_t = tanh(U^T h + ...).
    expected = np.eye(3, dtype=np.float32)
    for h_t in hs:
        step = np.diag(1 - h_t.numpy()[0] ** 2) @ U.T  # d h_t / d h_{t-1} with rows-as-examples weights
        expected = step @ expected
    np.testing.assert_allclose(jacobian, expected, rtol=1e-4, atol=1e-6)


def test_simple_rnn_gradient_vanishes_at_most_like_the_norm_of_u_to_the_power_of_the_distance():
    steps = 40
    x = inputs(batch=1, steps=steps, seed=3)
    layer = keras.layers.SimpleRNN(8)
    layer(x)
    W, U, _ = randomized(layer, seed=4, scale=0.1).get_weights()
    norm_u = np.linalg.norm(U, 2)
    assert norm_u < 1
    x_var = tf.Variable(x)
    with tf.GradientTape() as tape:
        final = layer(x_var)
        loss = tf.reduce_sum(final)
    gradient = tape.gradient(loss, x_var).numpy()[0]  # d loss / d x_t for every step t
    by_distance = np.linalg.norm(gradient, axis=1)[::-1]  # distance 0 = the last step
    # Each step back multiplies by at most ||U||, and the input enters through W:
    # ||d loss / d x_{T-k}|| <= ||1|| ||U||^k ||W||.
    bound = np.sqrt(8) * norm_u ** np.arange(steps) * np.linalg.norm(W, 2)
    assert np.all(by_distance <= bound * (1 + 1e-4))
    assert by_distance[30] < 1e-6 * by_distance[0]  # 30 steps back, the signal is gone


def lstm_by_hand(x, kernel, recurrent, bias, units):
    """The page's LSTM: gates i, f, g, o (Keras' kernel order), c_t = f c + i g, h_t = o tanh(c_t)."""
    h = np.zeros((x.shape[0], units), np.float32)
    c = np.zeros_like(h)
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), c


def test_lstm_step_matches_keras():
    x = inputs()
    layer = keras.layers.LSTM(5, return_sequences=True, return_state=True)
    layer(x)
    kernel, recurrent, bias = randomized(layer).get_weights()
    sequence, _, cell = layer(x)
    expected_sequence, expected_cell = lstm_by_hand(x, kernel, recurrent, bias, 5)
    np.testing.assert_allclose(sequence, expected_sequence, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(cell, expected_cell, rtol=RTOL, atol=ATOL)


def test_lstm_cell_gradient_is_the_forget_gate():
    units = 4
    cell = keras.layers.LSTMCell(units)
    x = inputs(batch=2, steps=1)[:, 0]
    h_previous = np.random.default_rng(5).normal(size=(2, units)).astype(np.float32)
    c_previous = tf.Variable(np.random.default_rng(6).normal(size=(2, units)).astype(np.float32))
    cell(x, [h_previous, c_previous])
    kernel, recurrent, bias = randomized(cell, seed=7).get_weights()
    with tf.GradientTape() as tape:
        _, (_, c_new) = cell(x, [h_previous, c_previous])
    jacobian = tape.batch_jacobian(c_new, c_previous).numpy()
    forget = sigmoid((x @ kernel + h_previous @ recurrent + bias)[:, units : 2 * units])
    for example in range(2):
        np.testing.assert_allclose(jacobian[example], np.diag(forget[example]), rtol=RTOL, atol=ATOL)


def test_lstm_forget_bias_starts_at_one():
    layer = keras.layers.LSTM(6)
    layer(inputs())
    bias = layer.get_weights()[2]
    np.testing.assert_array_equal(bias[6:12], 1.0)  # b_f
    np.testing.assert_array_equal(np.concatenate([bias[:6], bias[12:]]), 0.0)
    assert abs(sigmoid(1.0) - 0.73) < 0.005  # the forget gate before training, for small inputs


def test_gru_step_matches_keras():
    x = inputs()
    layer = keras.layers.GRU(5, return_sequences=True)  # reset_after=True, Keras' default
    layer(x)
    kernel, recurrent, bias = randomized(layer).get_weights()
    input_bias, recurrent_bias = bias  # (2, 3 * units): b and b' of the page
    units = 5
    h = np.zeros((x.shape[0], units), np.float32)
    states = []
    for t in range(x.shape[1]):
        xw = x[:, t] @ kernel + input_bias
        hu = h @ recurrent + recurrent_bias
        z = sigmoid(xw[:, :units] + hu[:, :units])
        r = sigmoid(xw[:, units : 2 * units] + hu[:, units : 2 * units])
        candidate = np.tanh(xw[:, 2 * units :] + r * hu[:, 2 * units :])
        h = z * h + (1 - z) * candidate
        states.append(h)
    np.testing.assert_allclose(np.stack(states, axis=1), layer(x), rtol=RTOL, atol=ATOL)
