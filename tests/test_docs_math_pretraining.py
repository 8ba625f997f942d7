"""Executable math of docs/concepts/pretraining.md: each formula checked against what keras-hub and Keras compute.

Conventions as on the page: rows are examples, a Dense layer computes y = x W + b with W of shape (d_in, d_out),
and LoRA's factors are Keras' lora_kernel_a = A (d_in, r) and lora_kernel_b = B (r, d_out).
"""

from __future__ import annotations

import math
import random

import h5py
import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

VOCABULARY, PAD, CLS, SEP, MASK = 1000, 0, 1, 2, 3
P, MASK_RATE, RANDOM_RATE = 0.15, 0.8, 0.1


def mask_generator(selection_length: int = 128) -> keras_hub.layers.MaskedLMMaskGenerator:
    return keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=VOCABULARY,
        mask_selection_rate=P,
        mask_token_id=MASK,
        mask_selection_length=selection_length,
        unselectable_token_ids=[PAD, CLS, SEP],
        mask_token_rate=MASK_RATE,
        random_token_rate=RANDOM_RATE,
    )


def sentences(lengths: np.ndarray, width: int = 128, seed: int = 0) -> np.ndarray:
    """[CLS] w_1 ... w_n [SEP] [PAD] ...: n ordinary tokens (ids 4 and up, never [MASK]) per row."""
    rng = np.random.default_rng(seed)
    batch = np.full((len(lengths), width), PAD, "int32")
    for row, n in enumerate(lengths):
        batch[row, 0], batch[row, n + 1] = CLS, SEP
        batch[row, 1 : n + 1] = rng.integers(SEP + 2, VOCABULARY, n)
    return batch


def check_masking(tokens: np.ndarray, out: dict) -> tuple[np.ndarray, np.ndarray]:
    """What holds for every draw; returns the original and the new token of every selected position."""
    positions, weights = np.asarray(out["mask_positions"]), np.asarray(out["mask_weights"])
    original, masked = np.asarray(out["mask_ids"]), np.asarray(out["token_ids"])
    selected = weights > 0
    rows = np.broadcast_to(np.arange(len(tokens))[:, None], positions.shape)
    # The slots are the selected positions, then padding with weight 0.
    assert np.all(np.diff(weights, axis=1) <= 0) and set(np.unique(weights)) <= {0.0, 1.0}
    np.testing.assert_array_equal(original[selected], tokens[rows[selected], positions[selected]])
    # Special and padding tokens are never selected, and unselected tokens are never changed.
    assert not np.isin(tokens[rows[selected], positions[selected]], [PAD, CLS, SEP]).any()
    touched = np.zeros(tokens.shape, bool)
    touched[rows[selected], positions[selected]] = True
    np.testing.assert_array_equal(masked[~touched], tokens[~touched])
    return original[selected], masked[rows[selected], positions[selected]]


def assert_80_10_10(original: np.ndarray, new: np.ndarray) -> None:
    """[MASK] 80%, random 10%, unchanged 10%; the uniform random draw may hit [MASK] or the original (1/V each)."""
    s = len(original)
    for observed, expected in [
        (np.sum(new == MASK), MASK_RATE + RANDOM_RATE / VOCABULARY),
        (np.sum(new == original), 1 - MASK_RATE - RANDOM_RATE + RANDOM_RATE / VOCABULARY),
        (np.sum((new != MASK) & (new != original)), RANDOM_RATE * (1 - 2 / VOCABULARY)),
    ]:
        assert abs(observed - s * expected) < 5 * math.sqrt(s * expected * (1 - expected)), (observed, s, expected)


def test_mask_generator_selects_p_of_the_selectable_tokens_and_splits_them_80_10_10():
    lengths = np.random.default_rng(1).integers(30, 126, 200)
    tokens = sentences(lengths)
    random.seed(0)  # called eagerly, the generator draws with Python's random module
    out = mask_generator()(tokens)
    assert set(out) == {"token_ids", "mask_positions", "mask_ids", "mask_weights"}
    original, new = check_masking(tokens, out)
    # Eagerly, each selectable token is selected independently with probability p: binomial counts.
    selectable = int(lengths.sum())
    assert abs(len(original) - P * selectable) < 5 * math.sqrt(selectable * P * (1 - P))
    assert len(original) / selectable == pytest.approx(P, abs=0.01)
    assert_80_10_10(original, new)


def test_mask_generator_in_tf_data_selects_exactly_ceil_p_n_per_sequence():
    lengths = np.concatenate([[100, 20, 1], np.random.default_rng(2).integers(30, 126, 197)])
    tokens = sentences(lengths)
    tf.random.set_seed(0)
    dataset = tf.data.Dataset.from_tensor_slices(tokens).batch(len(tokens)).map(mask_generator())
    out = {key: value.numpy() for key, value in next(iter(dataset)).items()}
    original, new = check_masking(tokens, out)
    # In a tf.data pipeline (tf-text's RandomItemSelector): exactly ceil(p n) of the n selectable tokens,
    # the product taken in float32, where 0.15 is slightly above 0.15: 100 tokens give 16, not 15.
    per_row = out["mask_weights"].sum(axis=1)
    np.testing.assert_array_equal(per_row, np.ceil(lengths.astype("float32") * np.float32(P)))
    assert per_row[:3].tolist() == [16, 3, 1]
    assert_80_10_10(original, new)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits.astype("float64")
    return logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)


def test_masked_lm_loss_is_the_mean_over_the_selected_positions():
    keras.utils.set_random_seed(0)
    vocabulary, length, slots = 50, 16, 6
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=vocabulary, num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32,
        max_sequence_length=length,
    )  # fmt: skip
    model = keras_hub.models.BertMaskedLM(backbone)
    tokens = np.random.default_rng(3).integers(4, vocabulary, (4, length)).astype("int32")
    tokens[:, 0], tokens[:, -1] = CLS, SEP
    random.seed(1)
    generator = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=vocabulary, mask_selection_rate=0.25, mask_token_id=MASK, mask_selection_length=slots,
        unselectable_token_ids=[PAD, CLS, SEP],
    )  # fmt: skip
    out = {key: np.asarray(value) for key, value in generator(tokens).items()}
    weights, targets = out["mask_weights"], out["mask_ids"]
    selected = int(weights.sum())
    assert 0 < selected < weights.size  # some slots are padding
    x = {
        "token_ids": out["token_ids"],
        "segment_ids": np.zeros_like(tokens),
        "padding_mask": np.ones_like(tokens),
        "mask_positions": out["mask_positions"],
    }
    logits = np.asarray(model(x))  # the model scores only the slots: (batch, slots, vocabulary)
    assert logits.shape == (4, slots, vocabulary)

    # L = -(1/|S|) sum_{i in S} log p(t_i | x~), in NumPy.
    nll = -np.take_along_axis(log_softmax(logits), targets[..., None], axis=-1)[..., 0]
    expected = float(np.sum(weights * nll) / selected)
    mean_over_selected = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight"
    )
    assert float(mean_over_selected(targets, logits, sample_weight=weights)) == pytest.approx(expected, rel=1e-5)
    model.compile(loss=mean_over_selected, weighted_metrics=[keras.metrics.SparseCategoricalAccuracy()])
    result = model.evaluate(x, targets, sample_weight=weights, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(expected, rel=1e-5)
    # Keras' default reduction divides by all slots, padding included: |S| / (B K) times L.
    model.compile()  # keras-hub's default: SparseCategoricalCrossentropy(from_logits=True)
    default = model.evaluate(x, targets, sample_weight=weights, verbose=0, return_dict=True)["loss"]
    assert default == pytest.approx(expected * selected / weights.size, rel=1e-5)

    # Logits at the padding slots (unselected positions) do not change the loss.
    changed = logits.copy()
    changed[weights == 0] = np.random.default_rng(4).normal(scale=10.0, size=changed[weights == 0].shape)
    assert float(mean_over_selected(targets, changed, sample_weight=weights)) == pytest.approx(expected, rel=1e-6)

    # Masked-token accuracy: the fraction of selected positions whose argmax is the original token.
    hits = (np.arange(slots)[None, :] % 2 == 0) & (weights > 0)
    scored = logits.copy()
    np.put_along_axis(scored, targets[..., None], np.where(hits, 100.0, -100.0)[..., None], axis=-1)
    accuracy = keras.metrics.SparseCategoricalAccuracy()
    accuracy.update_state(targets, scored, sample_weight=weights)
    assert 0 < hits.sum() < selected
    assert float(accuracy.result()) == pytest.approx(hits.sum() / selected)
    # Perplexity exp(L): a model that knows nothing (uniform over V) has L = log V, perplexity V.
    uniform = np.zeros_like(logits)
    assert math.exp(float(mean_over_selected(targets, uniform, sample_weight=weights))) == pytest.approx(vocabulary)


def test_unigram_baseline_cross_entropy_is_the_entropy_of_the_frequencies():
    counts = np.array([500, 250, 125, 60, 40, 20, 5])  # a sample whose empirical distribution is q
    q = counts / counts.sum()
    targets = np.repeat(np.arange(len(q)), counts)
    constant = np.tile(np.log(q), (len(targets), 1)).astype("float32")  # every token predicted with q
    cross_entropy = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(targets, constant))
    entropy = float(-np.sum(q * np.log(q)))
    assert cross_entropy == pytest.approx(entropy, rel=1e-5)
    assert math.exp(cross_entropy) < len(q)  # perplexity exp(H) below the uniform V
    # Any other context-free prediction p does worse: H(q, p) = H(q) + KL(q || p) > H(q).
    p = np.random.default_rng(5).dirichlet(np.ones(len(q)))
    other = float(keras.losses.SparseCategoricalCrossentropy()(targets, np.tile(p, (len(targets), 1))))
    assert other == pytest.approx(entropy + np.sum(q * np.log(q / p)), rel=1e-5)
    # Its accuracy is the frequency of the most frequent token.
    accuracy = keras.metrics.SparseCategoricalAccuracy()
    accuracy.update_state(targets, constant)
    assert float(accuracy.result()) == pytest.approx(q.max())


def test_dense_lora_is_the_frozen_kernel_plus_a_scaled_low_rank_product():
    keras.utils.set_random_seed(6)
    d, r = 128, 4
    layer = keras.layers.Dense(d)
    x = np.random.default_rng(7).normal(size=(5, d)).astype("float32")
    before = np.asarray(layer(x))
    w, b = (v.numpy().astype("float64") for v in (layer.kernel, layer.bias))
    layer.enable_lora(rank=r)
    a, bb = layer.lora_kernel_a, layer.lora_kernel_b
    assert layer.lora_alpha == r  # alpha defaults to the rank: scale alpha / r = 1
    assert tuple(a.shape) == (d, r) and tuple(bb.shape) == (r, d)
    assert np.all(bb.numpy() == 0) and np.any(a.numpy() != 0)  # B starts at zero, A at random
    np.testing.assert_array_equal(np.asarray(layer(x)), before)  # so the layer starts as the pretrained one
    # Trainable: A and B, r (d_in + d_out) = 1,024 numbers against 16,384 (6.25%) -- and Keras leaves the bias trainable.
    assert {v.path.split("/")[-1] for v in layer.trainable_weights} == {"lora_kernel_a", "lora_kernel_b", "bias"}
    lora_numbers = int(np.prod(a.shape) + np.prod(bb.shape))
    assert lora_numbers == r * (d + d) == 1024 and lora_numbers / (d * d) == 0.0625
    # With B = 0 only B gets a gradient: dL/dA = (alpha/r) x^T G B^T = 0, dL/dB = (alpha/r) (x A)^T G.
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.sin(layer(x)))
    grad_a, grad_b = tape.gradient(loss, [a, bb])
    assert np.all(grad_a.numpy() == 0) and np.any(grad_b.numpy() != 0)

    # After an update of B: y = x (W + (alpha/r) A B) + b, here with alpha = 8, scale 2.
    layer2 = keras.layers.Dense(d)
    layer2(x)
    w2, b2 = (v.numpy().astype("float64") for v in (layer2.kernel, layer2.bias))
    layer2.enable_lora(rank=r, lora_alpha=8)
    for lora_layer in (layer, layer2):
        lora_layer.lora_kernel_b.assign(np.random.default_rng(8).normal(size=(r, d)).astype("float32"))
    for lora_layer, alpha, kernel, bias in [(layer, r, w, b), (layer2, 8, w2, b2)]:
        factor_a, factor_b = (v.numpy().astype("float64") for v in (lora_layer.lora_kernel_a, lora_layer.lora_kernel_b))
        update = alpha / r * factor_a @ factor_b
        np.testing.assert_allclose(np.asarray(lora_layer(x)), x @ (kernel + update) + bias, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(lora_layer.kernel.numpy(), kernel + update, rtol=1e-5, atol=1e-5)
        assert np.linalg.matrix_rank(update) == r


def test_einsum_dense_lora_factors_only_the_last_axis_of_a_multi_head_kernel():
    """A query projection as Keras' MultiHeadAttention builds it: kernel (d, H, d_h)."""
    keras.utils.set_random_seed(9)
    d, heads, head_dim, r, alpha = 32, 2, 16, 4, 8
    layer = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, heads, head_dim), bias_axes="de")
    x = np.random.default_rng(10).normal(size=(3, 5, d)).astype("float32")
    before = np.asarray(layer(x))
    w, b = (v.numpy().astype("float64") for v in (layer.kernel, layer.bias))
    layer.enable_lora(rank=r, lora_alpha=alpha)
    assert tuple(layer.lora_kernel_a.shape) == (d, heads, r) and tuple(layer.lora_kernel_b.shape) == (r, head_dim)
    np.testing.assert_array_equal(np.asarray(layer(x)), before)
    layer.lora_kernel_b.assign(np.random.default_rng(11).normal(size=(r, head_dim)).astype("float32"))
    a, bb = layer.lora_kernel_a.numpy().astype("float64"), layer.lora_kernel_b.numpy().astype("float64")
    update = alpha / r * np.einsum("chr,re->che", a, bb)  # one A_h per head, B shared: Delta W_h = A_h B
    expected = np.einsum("abc,cde->abde", x, w + update) + b
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-4, atol=1e-4)
    # r (d H + d_h) numbers, not the paper's r (d + H d_h); the d x (H d_h) update has rank up to H r.
    assert a.size + bb.size == r * (d * heads + head_dim) == 320
    assert np.linalg.matrix_rank(update.reshape(d, heads * head_dim)) == heads * r


def test_saving_merges_the_lora_update_into_the_kernel(tmp_path):
    keras.utils.set_random_seed(12)
    d, r = 128, 4
    inputs = keras.Input((d,))
    layer = keras.layers.Dense(d)
    model = keras.Model(inputs, layer(inputs))
    layer.enable_lora(rank=r, lora_alpha=8)
    layer.lora_kernel_b.assign(np.random.default_rng(13).normal(size=(r, d)).astype("float32"))
    x = np.random.default_rng(14).normal(size=(5, d)).astype("float32")
    y = np.asarray(model(x))
    model.save(tmp_path / "model.keras")
    # The file holds the merged kernel W + (alpha/r) A B and the bias: d_in d_out + d_out numbers.
    plain_inputs = keras.Input((d,))
    plain = keras.Model(plain_inputs, keras.layers.Dense(d)(plain_inputs))
    plain.load_weights(tmp_path / "model.keras")
    assert plain.count_params() == d * d + d
    np.testing.assert_allclose(np.asarray(plain(x)), y, rtol=1e-5, atol=1e-5)
    # load_model rebuilds a Dense with its configured lora_rank, both factors reset to zero.
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    reloaded_layer = reloaded.layers[-1]
    assert reloaded.count_params() == d * d + d + r * (d + d)
    assert np.all(reloaded_layer.lora_kernel_a.numpy() == 0) and np.all(reloaded_layer.lora_kernel_b.numpy() == 0)
    np.testing.assert_allclose(np.asarray(reloaded(x)), y, rtol=1e-5, atol=1e-5)
    # With A = B = 0 neither factor gets a gradient: such a LoRA cannot train on.
    factors = [reloaded_layer.lora_kernel_a, reloaded_layer.lora_kernel_b]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.sin(reloaded(x)))
    assert all(np.all(g.numpy() == 0) for g in tape.gradient(loss, factors))


def test_bert_backbone_lora_trains_only_query_and_value_factors_and_saves_them_apart(tmp_path):
    keras.utils.set_random_seed(15)
    config = dict(
        vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=32, intermediate_dim=64, max_sequence_length=16
    )
    backbone = keras_hub.models.BertBackbone(**config)
    rng = np.random.default_rng(16)
    x = {
        "token_ids": rng.integers(0, 100, (2, 16)).astype("int32"),
        "segment_ids": np.zeros((2, 16), "int32"),
        "padding_mask": np.ones((2, 16), "int32"),
    }
    pretrained_weights = backbone.get_weights()
    total = backbone.count_params()
    before = np.asarray(backbone(x)["sequence_output"])
    r = 4
    backbone.enable_lora(rank=r)
    np.testing.assert_array_equal(np.asarray(backbone(x)["sequence_output"]), before)
    lora_layers = [
        layer
        for layer in backbone._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.EinsumDense) and layer.lora_enabled
    ]
    assert sorted({layer.name for layer in lora_layers}) == ["query", "value"] and len(lora_layers) == 4
    # Every other weight is frozen: trainable are the factors, r (prod(kernel.shape[:-1]) + kernel.shape[-1])
    # numbers per layer, and the biases of the query and value layers.
    lora_numbers = sum(r * (math.prod(layer.kernel.shape[:-1]) + layer.kernel.shape[-1]) for layer in lora_layers)
    bias_numbers = sum(math.prod(layer.bias.shape) for layer in lora_layers)
    assert lora_numbers == 4 * r * (32 * 2 + 16) == 1280
    assert backbone.count_params() == total + lora_numbers
    trainable = sum(math.prod(v.shape) for v in backbone.trainable_weights)
    assert trainable == lora_numbers + bias_numbers
    assert trainable / backbone.count_params() < 0.07

    # Simulate fine-tuning, then save: .keras merges (original parameter count), .lora.h5 keeps the factors.
    for layer in lora_layers:
        layer.lora_kernel_b.assign(rng.normal(scale=0.1, size=layer.lora_kernel_b.shape).astype("float32"))
    tuned = np.asarray(backbone(x)["sequence_output"])
    assert not np.allclose(tuned, before)
    backbone.save(tmp_path / "tuned.keras")
    reloaded = keras.saving.load_model(tmp_path / "tuned.keras")
    assert reloaded.count_params() == total
    np.testing.assert_allclose(np.asarray(reloaded(x)["sequence_output"]), tuned, rtol=1e-5, atol=1e-5)
    backbone.save_lora_weights(tmp_path / "task.lora.h5")
    with h5py.File(tmp_path / "task.lora.h5") as file:
        stored = []
        file.visititems(lambda name, item: stored.append(item.size) if isinstance(item, h5py.Dataset) else None)
    assert sum(stored) == lora_numbers + 1  # the factors and the rank
    fresh = keras_hub.models.BertBackbone(**config)
    fresh.set_weights(pretrained_weights)
    fresh.load_lora_weights(tmp_path / "task.lora.h5")
    np.testing.assert_allclose(np.asarray(fresh(x)["sequence_output"]), tuned, rtol=1e-5, atol=1e-5)
