import keras
import numpy as np
import pytest

from mlrecipes.errors import ArgumentValueError
from mlrecipes.models import build_mlp


def test_shapes_name_and_parameter_count():
    model = build_mlp((28, 28, 1), [64, 64], 10, name="tutorial")
    assert model.name == "tutorial"
    assert model.output_shape == (None, 10)
    # 784*64+64 + 64*64+64 + 64*10+10, the classic 784-64-64-10 network.
    assert model.count_params() == 55_050
    assert [layer.name for layer in model.layers if isinstance(layer, keras.layers.Dense)] == [
        "hidden_1",
        "hidden_2",
        "logits",
    ]


def test_outputs_are_probabilities_and_rescaling_is_applied():
    model = build_mlp((4,), [8], 3, input_scale=1 / 255)
    raw = np.array([[255.0, 0.0, 127.5, 51.0]], np.float32)
    probabilities = model.predict(raw, verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-6)
    unscaled = build_mlp((4,), [8], 3)
    unscaled.set_weights(model.get_weights())
    np.testing.assert_allclose(unscaled.predict(raw / 255, verbose=0), probabilities, rtol=1e-5)


def test_no_hidden_layers_is_logistic_regression():
    model = build_mlp((5,), [], 3)
    assert model.count_params() == 5 * 3 + 3


def test_dropout_is_active_only_in_training():
    model = build_mlp((20,), [256], 2, dropout=0.5)
    x = np.ones((1, 20), np.float32)
    assert np.allclose(model(x, training=False), model(x, training=False))
    assert not np.allclose(model(x, training=True), model(x, training=True))


def test_a_training_step_lowers_the_loss():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 10)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = build_mlp((10,), [16], 2)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.7 * before


@pytest.mark.parametrize(
    "kwargs, argument, message",
    [
        (
            dict(hidden_units=[0], num_classes=10),
            "hidden_units",
            r"`hidden_units`: every layer width must be positive. Received: hidden_units=\[0\]",
        ),
        (dict(hidden_units=[8], num_classes=1), "num_classes", "at least 2 classes"),
        (dict(hidden_units=[8], num_classes=10, dropout=1.0), "dropout", "must be at least 0 and below 1"),
    ],
)
def test_bad_arguments(kwargs, argument, message):
    with pytest.raises(ArgumentValueError, match=message) as raised:
        build_mlp((28, 28), **kwargs)
    assert raised.value.argument == argument


def test_batch_norm_and_standardized_inputs():
    model = build_mlp((28, 28, 1), [256, 128], 10, batch_norm=True, input_mean=72.9, input_std=90.0)
    # The normalized layers have no bias (the normalization's shift takes its place): the recipe's
    # 236,298 weights, 768 of them the running means and variances.
    assert model.count_params() == 784 * 256 + 4 * 256 + 256 * 128 + 4 * 128 + 128 * 10 + 10 == 236_298
    momentums = [layer.momentum for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert momentums == [0.9, 0.9]
    raw = np.full((1, 28, 28, 1), 72.9, np.float32)
    standardized = model.get_layer("standardize")(keras.layers.Flatten()(raw))
    np.testing.assert_allclose(np.asarray(standardized), 0.0, atol=1e-6)


def test_rescaling_and_standardizing_are_not_both_accepted():
    with pytest.raises(ArgumentValueError, match="input_scale"):
        build_mlp((4,), [8], 3, input_scale=1 / 255, input_mean=0.5, input_std=0.2)


def test_batch_norm_running_mean_keeps_momentum_to_the_power_t_of_its_start():
    # docs/guides/training-length.md: after t steps the running mean holds m**t of its start (0),
    # so it is (1 - m**t) of the batches' mean: half-way after 70 steps at Keras' 0.99, all but
    # 0.1% at this package's 0.9.
    from mlrecipes.models.blocks import BATCH_NORM_MOMENTUM, batch_normalization

    batch = np.full((16, 3), 5.0, np.float32)
    for momentum, steps in ((0.99, 70), (BATCH_NORM_MOMENTUM, 70)):
        layer = keras.layers.BatchNormalization(momentum=momentum)
        for _ in range(steps):
            layer(batch, training=True)
        expected = 5.0 * (1 - momentum**steps)
        np.testing.assert_allclose(np.asarray(layer.moving_mean), expected, rtol=1e-4)
    assert 0.99**70 > 0.49 and BATCH_NORM_MOMENTUM**70 < 0.001
    assert batch_normalization("bn").synchronized
