"""mlrecipes.compression: quantization, pruning, distillation, exports and measures, on small models."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlrecipes.compression.distillation import DistillationLoss, teacher_logits, with_teacher_logits
from mlrecipes.compression.litert import LiteRTModel, export_litert
from mlrecipes.compression.measure import agreement
from mlrecipes.compression.pruning import (
    MagnitudePruning,
    cubic_sparsity,
    magnitude_mask,
    magnitude_masks,
    sparsity,
)
from mlrecipes.compression.quantization import inference_copy, quantizable_layers, quantized_copy
from mlrecipes.compression.serving import export_for_serving
from mlrecipes.errors import ArgumentValueError


def small_classifier(seed: int = 0) -> keras.Model:
    """A trained-looking classifier of 8x8x1 images: conv, dense, softmax."""
    keras.utils.set_random_seed(seed)
    images = keras.Input((8, 8, 1), name="images")
    x = keras.layers.Rescaling(1 / 255)(images)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(32, activation="relu", name="hidden")(x)
    logits = keras.layers.Dense(4, name="logits")(x)
    return keras.Model(images, keras.layers.Activation("softmax", name="probabilities")(logits))


def images(count: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 8, 8, 1)).astype(np.float32)


# --- quantization --------------------------------------------------------------------------------


def test_the_quantization_formula_matches_keras_and_bounds_the_error():
    w = np.random.default_rng(0).normal(size=(64, 16)).astype(np.float32)
    s = np.abs(w).max(axis=0) / 127  # one scale per output channel, zero point 0
    q = np.clip(np.round(w / s), -127, 127)
    keras_q, keras_scale = keras.quantizers.abs_max_quantize(w, axis=0)  # Keras stores 1/s
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(keras_q), q)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_scale).ravel(), 1 / s, rtol=1e-5)
    assert np.all(np.abs(w - s * q) <= s / 2 + 1e-7)


def test_litert_int8_weights_follow_the_formula(tmp_path):
    model = small_classifier()
    path = export_litert(model, tmp_path / "dynamic.tflite", quantization="dynamic_int8")
    interpreter = LiteRTModel(path).interpreter
    kernel = model.get_layer("hidden").kernel.numpy()  # (inputs, units); LiteRT stores (units, inputs)
    stored = [
        detail
        for detail in interpreter.get_tensor_details()
        if detail["dtype"] == np.int8 and tuple(detail["shape"]) == kernel.T.shape
    ]
    assert len(stored) == 1
    q = interpreter.get_tensor(stored[0]["index"]).astype(np.float32)
    params = stored[0]["quantization_parameters"]
    s, z = params["scales"], params["zero_points"]
    assert np.all(z == 0) and len(s) == kernel.shape[1]  # symmetric, one scale per output unit
    np.testing.assert_allclose(s, np.abs(kernel).max(axis=0) / 127, rtol=1e-5)
    assert np.all(np.abs(kernel.T - s[:, None] * (q - z[:, None])) <= s[:, None] / 2 + 1e-7)


def test_litert_int8_inputs_use_the_scale_and_zero_point(tmp_path):
    """A full-integer file with int8 inputs: its (s, z) are the asymmetric formula's, and q = round(x/s) + z."""
    model = small_classifier()
    sample = images(200)
    a, b = float(sample.min()), float(sample.max())

    def representative_dataset():
        for example in sample:
            yield [example[None]]

    int8_io = tmp_path / "int8_io.tflite"
    model.export(
        str(int8_io), format="litert", verbose=False, optimizations=[tf.lite.Optimize.DEFAULT],
        representative_dataset=representative_dataset, inference_input_type=tf.int8,
        target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
    )  # fmt: skip
    with_int8_inputs = LiteRTModel(int8_io)
    assert with_int8_inputs.input_dtype == np.int8
    ((s, z),) = [detail["quantization"] for detail in with_int8_inputs.interpreter.get_input_details()]
    assert s == pytest.approx((b - a) / 255, rel=1e-3) and z == -128 - round(a / s)
    # LiteRTModel quantizes float inputs with the formula; the float-input file quantizes inside, with the
    # same calibration: both must compute the same thing.
    float_io = export_litert(
        model, tmp_path / "float_io.tflite", quantization="int8", representative_inputs=lambda: [sample]
    )
    x = images(50, seed=7)
    np.testing.assert_allclose(with_int8_inputs.predict(x), LiteRTModel(float_io).predict(x), atol=1e-6)


def test_keras_quantization_covers_dense_layers_only_and_leaves_the_model_alone(tmp_path):
    model = small_classifier()
    assert [layer.name for layer in quantizable_layers(model, "int4")] == ["hidden", "logits"]
    x = images(64)
    before = model.predict(x, verbose=0)
    copy = quantized_copy(model, "int8")
    assert copy.get_layer("hidden").quantization_mode == "int8"
    assert copy.get_layer("conv").kernel.dtype == "float32"  # Keras does not quantize convolutions
    np.testing.assert_array_equal(model.predict(x, verbose=0), before)  # the original is untouched
    copy.save(tmp_path / "int8.keras")
    reloaded = keras.saving.load_model(tmp_path / "int8.keras")
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), copy.predict(x, verbose=0), atol=1e-6)
    assert agreement(copy.predict(x, verbose=0), before) >= 0.95


def test_quantizing_a_model_without_dense_layers_is_refused():
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs)))
    with pytest.raises(ArgumentValueError, match="`mode`.*has none"):
        quantized_copy(model, "int4")
    with pytest.raises(ArgumentValueError, match="int8, int4"):
        quantized_copy(model, "int2")


def test_an_inference_copy_has_the_weights_and_no_optimizer(tmp_path):
    model = small_classifier()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(images(32), np.zeros(32), epochs=1, verbose=0)
    copy = inference_copy(model)
    np.testing.assert_array_equal(copy.predict(images(4), verbose=0), model.predict(images(4), verbose=0))
    model.save(tmp_path / "trained.keras")
    copy.save(tmp_path / "copy.keras")
    assert (tmp_path / "copy.keras").stat().st_size < 0.5 * (tmp_path / "trained.keras").stat().st_size


# --- pruning -------------------------------------------------------------------------------------


def test_the_cubic_schedule_and_the_magnitude_mask():
    assert cubic_sparsity(0, 100, 0.8) == 0.0
    assert cubic_sparsity(50, 100, 0.8) == pytest.approx(0.8 * (1 - 0.5**3))
    assert cubic_sparsity(100, 100, 0.8) == cubic_sparsity(500, 100, 0.8) == pytest.approx(0.8)
    weight = np.array([[0.5, -0.1], [-2.0, 0.05]], np.float32)
    np.testing.assert_array_equal(magnitude_mask(weight, 0.5), [[1, 0], [1, 0]])
    assert magnitude_mask(weight, 0.0).all()


def test_magnitude_pruning_reaches_the_target_and_keeps_pruned_weights_at_zero():
    model = small_classifier()
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    x, y = images(256), np.random.default_rng(0).integers(0, 4, 256)
    pruning = MagnitudePruning(0.8, ramp_steps=8, frequency=2, scope="layer")
    model.fit(x, y, batch_size=16, epochs=2, callbacks=[pruning], verbose=0)  # 32 steps, 24 with fixed masks
    assert sparsity(model) == pytest.approx(0.8, abs=0.01)
    for weight in (model.get_layer("conv").kernel, model.get_layer("hidden").kernel):
        assert np.mean(weight.numpy() == 0) == pytest.approx(0.8, abs=0.01)  # every matrix, not just overall
    assert np.count_nonzero(model.get_layer("hidden").bias.numpy() == 0) < 32  # biases are not pruned
    hidden = model.get_layer("hidden").kernel.numpy()
    assert gzipped_size_of(hidden) < 0.5 * gzipped_size_of(np.random.default_rng(0).normal(size=hidden.shape))


def gzipped_size_of(array: np.ndarray) -> int:
    import gzip

    return len(gzip.compress(array.astype(np.float32).tobytes(), 9))


def test_global_pruning_takes_more_from_large_matrices():
    model = small_classifier()
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    model.fit(images(64), np.zeros(64), batch_size=16, epochs=1, callbacks=[MagnitudePruning(0.8, 2, 1)], verbose=0)
    assert sparsity(model) == pytest.approx(0.8, abs=0.01)
    conv, hidden = (np.mean(model.get_layer(name).kernel.numpy() == 0) for name in ("conv", "hidden"))
    assert conv < 0.8 < hidden  # the 72 conv weights are larger than most of the 9,216 dense ones
    weights = [np.array([[3.0, -0.5]]), np.array([[0.1], [2.0], [-0.2]])]
    masks = magnitude_masks(weights, 0.6)  # one threshold: the 3 smallest of 5 go, wherever they are
    assert [mask.tolist() for mask in masks] == [[[1, 0]], [[0], [1], [0]]]


def test_pruning_refuses_impossible_settings():
    with pytest.raises(ArgumentValueError, match="`final_sparsity`"):
        MagnitudePruning(1.0, ramp_steps=10)
    with pytest.raises(ArgumentValueError, match="`ramp_steps`"):
        MagnitudePruning(0.5, ramp_steps=0)
    with pytest.raises(ArgumentValueError, match="`scope`"):
        MagnitudePruning(0.5, ramp_steps=10, scope="row")


# --- distillation --------------------------------------------------------------------------------


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_the_distillation_loss_is_the_documented_formula():
    rng = np.random.default_rng(0)
    student, teacher = rng.normal(size=(6, 5)), 3 * rng.normal(size=(6, 5))
    labels = rng.integers(0, 5, 6)
    t, alpha = 4.0, 0.7
    q_t, q_s = softmax(teacher / t), softmax(student / t)
    kl = np.sum(q_t * (np.log(q_t) - np.log(q_s)), axis=-1)
    ce = -np.log(softmax(student)[np.arange(6), labels])
    expected = np.mean(alpha * t**2 * kl + (1 - alpha) * ce)
    y_true = np.concatenate([labels[:, None], teacher], axis=1).astype(np.float32)
    loss = DistillationLoss(temperature=t, alpha=alpha)(y_true, student.astype(np.float32))
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_the_t_squared_factor_keeps_the_soft_gradient_at_the_scale_of_one_over_t():
    """d/dz of T^2 KL(q_t || q_s) is T (q_s - q_t): without T^2 it would shrink as 1/T."""
    rng = np.random.default_rng(1)
    student = tf.Variable(rng.normal(size=(1, 5)).astype(np.float32))
    teacher = rng.normal(size=(1, 5)).astype(np.float32)
    y_true = np.concatenate([[[0.0]], teacher], axis=1).astype(np.float32)
    for t in (1.0, 4.0, 10.0):
        with tf.GradientTape() as tape:
            loss = DistillationLoss(temperature=t, alpha=1.0)(y_true, student)
        gradient = tape.gradient(loss, student).numpy()
        expected = t * (softmax(student.numpy() / t) - softmax(teacher / t))
        np.testing.assert_allclose(gradient, expected, atol=1e-6)


def test_log_probabilities_soften_exactly_like_logits():
    model = small_classifier()
    x = images(16)
    logits = keras.Model(model.inputs, model.get_layer("logits").output).predict(x, verbose=0)
    from_probabilities = teacher_logits(model, tf.data.Dataset.from_tensor_slices(x))
    np.testing.assert_allclose(softmax(from_probabilities / 3), softmax(logits / 3), atol=1e-5)


def test_teacher_logits_travel_with_their_examples():
    pairs = tf.data.Dataset.from_tensor_slices((np.arange(3, dtype=np.float32), np.array([2, 0, 1])))
    logits = np.array([[1, 2], [3, 4], [5, 6]], np.float32)
    rows = [target.tolist() for _, target in with_teacher_logits(pairs, logits).as_numpy_iterator()]
    assert rows == [[2, 1, 2], [0, 3, 4], [1, 5, 6]]


def test_bad_distillation_settings_are_refused():
    with pytest.raises(ArgumentValueError, match="`temperature`"):
        DistillationLoss(temperature=0.5)
    with pytest.raises(ArgumentValueError, match="`alpha`"):
        DistillationLoss(alpha=1.5)


# --- exports -------------------------------------------------------------------------------------

# How close each export must predict to the float Keras model (probabilities, on random inputs).
TOLERANCES = {"float32": 1e-5, "dynamic_int8": 0.05, "int8": 0.1}


@pytest.mark.parametrize("quantization", sorted(TOLERANCES))
def test_each_litert_export_predicts_like_the_keras_model(quantization, tmp_path):
    model = small_classifier()
    x = images(300)
    path = export_litert(
        model, tmp_path / f"{quantization}.tflite", quantization=quantization, representative_inputs=lambda: [x[:200]]
    )
    assert [p.name for p in tmp_path.iterdir()] == [f"{quantization}.tflite"]  # no partial file left
    litert = LiteRTModel(path)
    assert litert.input_dtype == np.float32  # full int8 inside, float at the edges
    expected = model.predict(x, verbose=0)
    got = litert.predict(x, batch_size=64)  # resized from the traced batch of 1
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) <= TOLERANCES[quantization]
    assert agreement(got, expected) >= 0.9
    np.testing.assert_allclose(litert(x[:1]), got[:1], atol=1e-6)  # batch 1 after batch 64


def test_quantized_litert_files_are_about_a_quarter_of_the_float_file(tmp_path):
    model = small_classifier()
    sizes = {
        quantization: export_litert(
            model,
            tmp_path / f"{quantization}.tflite",
            quantization=quantization,
            representative_inputs=lambda: [images(50)],
        )
        .stat()
        .st_size
        for quantization in TOLERANCES
    }
    assert sizes["dynamic_int8"] < 0.35 * sizes["float32"] and sizes["int8"] < 0.35 * sizes["float32"]


def test_export_refusals(tmp_path):
    model = small_classifier()
    with pytest.raises(ArgumentValueError, match="`quantization`.*float32, dynamic_int8, int8"):
        export_litert(model, tmp_path / "m.tflite", quantization="float16")
    with pytest.raises(ArgumentValueError, match="`representative_inputs`"):
        export_litert(model, tmp_path / "m.tflite", quantization="int8")
    (tmp_path / "not.tflite").write_text("hello")
    with pytest.raises(ArgumentValueError, match="`path`.*not a LiteRT model"):
        LiteRTModel(tmp_path / "not.tflite")
    with pytest.raises(ArgumentValueError, match="no such .tflite file"):
        LiteRTModel(tmp_path / "missing.tflite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not.tflite"]


def test_the_serving_layout_and_a_rest_request(tmp_path):
    model = small_classifier()
    version = export_for_serving(model, tmp_path / "serving", "shapes")
    assert version == tmp_path / "serving" / "shapes" / "1"
    assert (version / "saved_model.pb").is_file() and (version / "variables").is_dir()
    assert sorted(p.name for p in (tmp_path / "serving" / "shapes").iterdir()) == ["1"]  # no staging left
    # TF Serving's REST body for one example, as the deployment guide sends it:
    request = json.dumps({"instances": images(1).tolist()})
    signature = tf.saved_model.load(str(version)).signatures["serving_default"]
    (input_name,) = signature.structured_input_signature[1]
    assert input_name == "images"
    instances = tf.constant(json.loads(request)["instances"], tf.float32)
    response = {"predictions": signature(**{input_name: instances})["output_0"].numpy().tolist()}
    np.testing.assert_allclose(response["predictions"], model.predict(images(1), verbose=0), atol=1e-5)
    export_for_serving(model, tmp_path / "serving", "shapes", version=2)
    assert sorted(p.name for p in (tmp_path / "serving" / "shapes").iterdir()) == ["1", "2"]
    with pytest.raises(ArgumentValueError, match="`version`"):
        export_for_serving(model, tmp_path / "serving", "shapes", version=0)
    with pytest.raises(ArgumentValueError, match="`name`"):
        export_for_serving(model, tmp_path / "serving", "../up")
