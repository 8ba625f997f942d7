import keras
import numpy as np
import pytest

from mlrecipes.errors import ArgumentValueError
from mlrecipes.models.cnn import build_cnn, smallest_input_size
from mlrecipes.precision import apply_policy


def test_defaults_without_batch_norm_are_the_keras_simple_mnist_convnet():
    model = build_cnn((28, 28, 1), 10, batch_norm=False, name="convnet")
    assert model.name == "convnet"
    assert model.output_shape == (None, 10)
    # 3*3*32+32 + 3*3*32*64+64 + 1600*10+10: the 34,826 weights of the keras.io example.
    assert model.count_params() == 34_826
    assert model.get_layer("block1_pool").output.shape == (None, 13, 13, 32)
    assert model.get_layer("block2_pool").output.shape == (None, 5, 5, 64)
    assert model.get_layer("flatten").output.shape == (None, 1600)


def test_pooling_before_relu_equals_the_textbook_order():
    """conv -> pool -> relu computes exactly what conv -> relu -> pool does."""
    keras.utils.set_random_seed(1)
    model = build_cnn((12, 12, 2), 3, filters=(4,), batch_norm=False, dropout=0.0)
    images = np.random.default_rng(0).normal(size=(5, 12, 12, 2)).astype(np.float32)
    conv = model.get_layer("block1_conv1")
    textbook = keras.Sequential([keras.Input((12, 12, 2)), conv, keras.layers.ReLU(), keras.layers.MaxPooling2D(2)])
    ours = keras.Model(model.input, model.get_layer("block1_conv1_relu").output)
    np.testing.assert_allclose(ours.predict(images, verbose=0), textbook.predict(images, verbose=0), rtol=1e-6)


@pytest.mark.parametrize(
    "input_shape, kwargs, output_grid",
    [
        ((28, 28, 1), dict(filters=(16, 32, 64), padding="same"), (3, 3, 64)),
        ((32, 32, 3), dict(filters=(8, 8), convs_per_block=2), (3, 3, 8)),  # 30, 15, 13; 11, 5, 3
        ((64, 48, 3), dict(filters=(8,), padding="same"), (32, 24, 8)),
        ((10, 10, 1), dict(filters=(4, 4)), (1, 1, 4)),
    ],
)
def test_any_image_shape(input_shape, kwargs, output_grid):
    model = build_cnn(input_shape, 7, **kwargs)
    last_relu = [layer for layer in model.layers if layer.name.endswith("_relu")][-1]
    assert tuple(last_relu.output.shape[1:]) == output_grid
    images = np.random.default_rng(0).integers(0, 255, size=(2, *input_shape)).astype(np.float32)
    probabilities = model.predict(images, verbose=0)
    assert probabilities.shape == (2, 7)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


def test_batch_norm_dense_layers_and_global_heads():
    model = build_cnn((28, 28, 1), 10, filters=(8, 16), dense_units=(32,), head="average")
    assert isinstance(model.get_layer("block2_conv1_bn"), keras.layers.BatchNormalization)
    assert model.get_layer("block1_conv1").use_bias is False  # batch norm's beta is the bias
    assert model.get_layer("global_average").output.shape == (None, 16)
    assert model.get_layer("dense_1").output.shape == (None, 32)
    assert build_cnn((28, 28, 1), 10, head="max").get_layer("global_max").output.shape == (None, 64)


def test_standardization_lets_the_model_take_raw_pixels():
    model = build_cnn((8, 8, 3), 4, filters=(4,), input_mean=(100.0, 110.0, 120.0), input_std=(50.0, 60.0, 70.0))
    standardized = keras.Model(model.input, model.get_layer("standardize").output)
    pixels = np.full((1, 8, 8, 3), 150.0, np.float32)
    np.testing.assert_allclose(standardized.predict(pixels, verbose=0)[0, 0, 0], [1.0, 40 / 60, 30 / 70], rtol=1e-5)


def test_a_training_step_lowers_the_loss():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=256)
    images = rng.normal(size=(256, 12, 12, 1)).astype(np.float32)
    images[labels == 1, 3:9, 3:9] += 2.0  # class 1 has a bright square
    model = build_cnn((12, 12, 1), 2, filters=(8,), dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    before = model.evaluate(images, labels, verbose=0)
    model.fit(images, labels, epochs=4, batch_size=32, verbose=0)
    assert model.evaluate(images, labels, verbose=0) < 0.5 * before


def test_mixed_precision_policy_is_applied_and_the_output_stays_float32():
    try:
        apply_policy("bfloat16", on_gpu=False)
        model = build_cnn((28, 28, 1), 10, dense_units=(16,))
        conv = model.get_layer("block1_conv1")
        assert conv.compute_dtype == "bfloat16" and conv.variable_dtype == "float32"
        assert model.get_layer("logits").compute_dtype == "float32"
        assert model.get_layer("probabilities").compute_dtype == "float32"
        assert model(np.ones((2, 28, 28, 1), np.float32)).dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_smallest_input_size():
    assert smallest_input_size(2, 1, 3, "valid") == 10  # 10 -> 8 -> 4 -> 2 -> 1
    assert smallest_input_size(3, 1, 3, "same") == 8
    build_cnn((10, 10, 1), 2)
    with pytest.raises(ArgumentValueError) as raised:
        build_cnn((9, 10, 1), 2)
    assert raised.value.argument == "filters"  # the blocks are what a user changes


@pytest.mark.parametrize(
    "input_shape, kwargs, argument, message",
    [
        (
            (28, 28),
            {},
            "input_shape",
            r"`input_shape`: expected \(height, width, channels\).*Received: input_shape=\(28, 28\)",
        ),
        ((1, 28, 28, 1), {}, "input_shape", "expected \\(height, width, channels\\)"),
        ((28, 0, 1), {}, "input_shape", "positive whole numbers"),
        ((8, 8, 1), {}, "filters", "8x8 images are too small for 2 conv-and-pool blocks .* at least 10x10"),
        (
            (28, 28, 1),
            dict(filters=(8,) * 5, padding="same"),
            "filters",
            "28x28 images are too small for 5 .* at least 32x32",
        ),
        ((28, 28, 1), dict(num_classes=1), "num_classes", "at least 2 classes"),
        ((28, 28, 1), dict(filters=()), "filters", "one positive filter count per block"),
        ((28, 28, 1), dict(convs_per_block=0), "convs_per_block", "must be at least 1"),
        ((28, 28, 1), dict(kernel_size=0), "kernel_size", "must be at least 1"),
        ((28, 28, 1), dict(padding="full"), "padding", "`padding`: choose from same, valid. Received: padding='full'"),
        ((28, 28, 1), dict(head="attention"), "head", "head='attention'"),
        ((28, 28, 1), dict(dense_units=(16, 0)), "dense_units", "every layer width must be positive"),
        ((28, 28, 1), dict(dropout=1.0), "dropout", "at least 0 and below 1"),
        ((28, 28, 1), dict(input_mean=0.5), "input_std", "give both"),
        ((28, 28, 3), dict(input_mean=(1, 2), input_std=1), "input_mean", "one number or one per channel"),
    ],
)
def test_bad_arguments_are_one_line_errors_naming_the_argument(input_shape, kwargs, argument, message):
    kwargs = {"num_classes": 10, **kwargs}
    with pytest.raises(ArgumentValueError, match=message) as raised:
        build_cnn(input_shape, **kwargs)
    assert raised.value.argument == argument
    assert "\n" not in str(raised.value)
