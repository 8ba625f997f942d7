import keras
import numpy as np
import pytest

from mlrecipes.errors import ArgumentValueError
from mlrecipes.models.resnet import build_resnet, resnet_depth
from mlrecipes.precision import apply_policy


def weight_layers(model):
    return [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]


def test_default_is_page_resnet9_for_32x32_images():
    model = build_resnet()
    assert model.name == "resnet9"
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 10)
    assert len(weight_layers(model)) == 9 == resnet_depth((1, 0, 1))
    # Convolutions 3*3*(3*64 + 64*128 + 2*128*128 + 128*256 + 256*512 + 2*512*512),
    # the bias-free 512x10 output layer, and 4 batch-norm values per channel.
    convolutions = 9 * (3 * 64 + 64 * 128 + 2 * 128 * 128 + 128 * 256 + 256 * 512 + 2 * 512 * 512)
    batch_norm = 4 * (64 + 128 * 3 + 256 + 512 * 3)
    assert model.count_params() == convolutions + 512 * 10 + batch_norm == 6_577_600
    assert model.get_layer("stage1_pool").output.shape == (None, 16, 16, 128)
    assert model.get_layer("stage3_block1_add").output.shape == (None, 4, 4, 512)
    assert model.get_layer("global_max").output.shape == (None, 512)


def test_width_depth_classes_and_shapes():
    model = build_resnet((64, 48, 1), 5, stage_filters=(16, 32), blocks_per_stage=(2, 1), width=0.5, stem_filters=8)
    assert model.name == "resnet10" and len(weight_layers(model)) == 10
    assert model.get_layer("stem_conv").filters == 4
    assert model.get_layer("stage2_block1_add").output.shape == (None, 16, 12, 16)
    images = np.random.default_rng(0).integers(0, 255, size=(3, 64, 48, 1)).astype(np.float32)
    probabilities = model.predict(images, verbose=0)
    assert probabilities.shape == (3, 5)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


def test_residual_blocks_add_their_input():
    model = build_resnet((8, 8, 3), 2, stem_filters=4, stage_filters=(4,), blocks_per_stage=(1,), batch_norm=False)
    add = model.get_layer("stage1_block1_add")
    assert next(tensor.name for tensor in add.input) == model.get_layer("stage1_relu").output.name
    for layer in model.layers:  # zero the residual branch: the block must pass its input through
        if layer.name.startswith("stage1_block1_b_conv"):
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    images = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype(np.float32)
    before = keras.Model(model.input, model.get_layer("stage1_relu").output).predict(images, verbose=0)
    after = keras.Model(model.input, add.output).predict(images, verbose=0)
    np.testing.assert_allclose(after, before, rtol=1e-6)


def test_a_training_step_lowers_the_loss():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=128)
    images = rng.normal(size=(128, 16, 16, 3)).astype(np.float32)
    images[labels == 1, 4:12, 4:12, 0] += 2.0
    model = build_resnet((16, 16, 3), 2, width=0.0625)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    loss = keras.losses.SparseCategoricalCrossentropy()

    def training_loss():  # with batch statistics: the running averages need many more steps to settle
        return float(loss(labels, model(images, training=True)))

    before = training_loss()
    model.fit(images, labels, epochs=4, batch_size=32, verbose=0)
    assert training_loss() < 0.5 * before


def test_mixed_precision_policy_is_applied_and_the_output_stays_float32():
    try:
        apply_policy("auto", on_gpu=False)
        model = build_resnet(width=0.125)
        conv = model.get_layer("stage2_conv")
        assert conv.compute_dtype == "bfloat16" and conv.variable_dtype == "float32"
        for name in ("logits", "scale_logits", "probabilities"):
            assert model.get_layer(name).compute_dtype == "float32", name
        assert model(np.ones((2, 32, 32, 3), np.float32)).dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize(
    "input_shape, kwargs, argument, message",
    [
        (
            (32, 32),
            {},
            "input_shape",
            r"`input_shape`: expected \(height, width, channels\).*Received: input_shape=\(32, 32\)",
        ),
        ((4, 32, 32, 3), {}, "input_shape", "expected \\(height, width, channels\\)"),
        (
            (4, 4, 3),
            {},
            "input_shape",
            "4x4 images are too small for 3 stages that each halve the size; they need at least 8x8",
        ),
        (
            (32, 32, 3),
            dict(stage_filters=(8, 8), blocks_per_stage=(1,)),
            "blocks_per_stage",
            r"give one block count per stage \(stage_filters=\[8, 8\]\)",
        ),
        ((32, 32, 3), dict(blocks_per_stage=(1, -1, 1)), "blocks_per_stage", "every block count must be 0 or more"),
        ((32, 32, 3), dict(stem_filters=0), "stem_filters", "stem_filters=0"),
        ((32, 32, 3), dict(stage_filters=(8, 0, 8)), "stage_filters", "one positive filter count per stage"),
        ((32, 32, 3), dict(stage_filters=(), blocks_per_stage=()), "stage_filters", "stage_filters=\\[\\]"),
        ((32, 32, 3), dict(width=0.0), "width", "width=0.0"),
        ((32, 32, 3), dict(num_classes=1), "num_classes", "at least 2 classes"),
    ],
)
def test_bad_arguments_are_one_line_errors_naming_the_argument(input_shape, kwargs, argument, message):
    with pytest.raises(ArgumentValueError, match=message) as raised:
        build_resnet(input_shape, **kwargs)
    assert raised.value.argument == argument
    assert "\n" not in str(raised.value)
