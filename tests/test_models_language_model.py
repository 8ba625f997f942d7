"""The causal language model and generation: causal masking, tying, samplers, context."""

import keras
import numpy as np
import pytest

from mlrecipes.data.text_corpus import BYTE_VOCABULARY_SIZE, next_token_windows
from mlrecipes.errors import ArgumentValueError, InputError
from mlrecipes.generation import context_length, generate_ids, generate_text, make_sampler
from mlrecipes.models.language_model import build_language_model

CONTEXT = 16
PATTERN = "hello world. "


def tiny_model(**options):
    keras.utils.set_random_seed(0)
    return build_language_model(BYTE_VOCABULARY_SIZE, CONTEXT, width=16, num_heads=2, depth=2, **options)


def test_a_tokens_output_does_not_change_when_later_tokens_change():
    model = tiny_model()
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 256, (3, CONTEXT))
    changed = ids.copy()
    changed[:, 9:] = rng.integers(1, 256, (3, CONTEXT - 9))
    before, after = np.asarray(model(ids)), np.asarray(model(changed))
    assert before.shape == (3, CONTEXT, BYTE_VOCABULARY_SIZE)
    np.testing.assert_allclose(before[:, :9], after[:, :9], atol=1e-6)  # positions 0-8 see only 0-8
    assert np.abs(before[:, 9:] - after[:, 9:]).max() > 1e-3  # the changed positions do change


def test_tied_output_projection_is_the_token_embedding_and_survives_saving(tmp_path):
    tied, untied = tiny_model(), tiny_model(tie_weights=False)
    assert untied.count_params() - tied.count_params() == BYTE_VOCABULARY_SIZE * 16
    ids = np.arange(1, 11)[None, :]
    tied.save(tmp_path / "tied.keras")
    loaded = keras.saving.load_model(tmp_path / "tied.keras")
    np.testing.assert_allclose(np.asarray(loaded(ids)), np.asarray(tied(ids)), atol=1e-6)
    # One matrix does both jobs: changing it changes the logits' scale.
    embedding = loaded.get_layer("token_embedding")
    assert len(embedding.weights) == 1
    embedding.embeddings.assign(embedding.embeddings * 2)
    assert not np.allclose(np.asarray(loaded(ids)), np.asarray(tied(ids)))


@pytest.mark.parametrize(
    "options, argument",
    [
        ({"width": 10, "num_heads": 4}, "width"),
        ({"depth": 0}, "depth"),
        ({"sequence_length": 0}, "sequence_length"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_bad_sizes_name_the_argument(options, argument):
    sizes = {"sequence_length": CONTEXT, "width": 16, "num_heads": 2, "depth": 1, "dropout": 0.0} | options
    with pytest.raises(ArgumentValueError) as raised:
        build_language_model(BYTE_VOCABULARY_SIZE, **sizes)
    assert raised.value.argument == argument


@pytest.fixture(scope="module")
def saved_pattern_model(tmp_path_factory):
    """A tiny model trained to continue a repeated sentence, saved and loaded back."""
    model = tiny_model(dropout=0.0)
    inputs, targets = next_token_windows(PATTERN * 60, CONTEXT)
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(inputs, targets, batch_size=4, epochs=24, verbose=0)
    path = tmp_path_factory.mktemp("lm") / "model.keras"
    model.save(path)
    return keras.saving.load_model(path)


@pytest.mark.parametrize("name", ["greedy", "top_k", "top_p"])
def test_generation_with_each_sampler_from_a_saved_model(saved_pattern_model, name):
    sampler = make_sampler(name, temperature=0.5, k=2, p=0.5, seed=1)
    text = generate_text(saved_pattern_model, "hello w", max_new_tokens=40, sampler=sampler)
    assert len(text) == len("hello w") + 40  # ASCII: one byte per character
    # Longer than the 16-byte context: the window slides and the pattern goes on.
    assert text == (PATTERN * 5)[: len(text)], text


def test_greedy_is_deterministic_and_sampling_follows_its_seed(saved_pattern_model):
    prompt = np.frombuffer(b"hello", dtype=np.uint8).astype("int32")[None, :]
    greedy = [generate_ids(saved_pattern_model, prompt, 8, make_sampler("greedy"), context=CONTEXT) for _ in range(2)]
    np.testing.assert_array_equal(*greedy)
    hot = [make_sampler("top_k", k=50, temperature=5.0, seed=seed) for seed in (3, 3, 4)]
    draws = [generate_ids(saved_pattern_model, prompt, 30, sampler, context=CONTEXT) for sampler in hot]
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0], draws[2])


def test_prompt_longer_than_the_context_is_refused(saved_pattern_model):
    assert context_length(saved_pattern_model) == CONTEXT
    with pytest.raises(InputError, match=r"17 bytes long but the model reads at most 16"):
        generate_text(saved_pattern_model, "x" * 17, max_new_tokens=4, sampler=make_sampler("greedy"))
    with pytest.raises(InputError, match="empty"):
        generate_text(saved_pattern_model, "", max_new_tokens=4, sampler=make_sampler("greedy"))
    assert generate_text(saved_pattern_model, "x" * 16, max_new_tokens=2, sampler=make_sampler("greedy")).startswith(
        "x" * 16
    )


@pytest.mark.parametrize("name, options", [("beam", {}), ("top_p", {"p": 0.0}), ("greedy", {"temperature": 0.0})])
def test_bad_sampler_settings_are_usage_errors(name, options):
    with pytest.raises(InputError):
        make_sampler(name, **options)
