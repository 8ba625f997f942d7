r"""Autoregressive generation with keras-hub samplers: continue a text, or decode a target.

A trained model gives the distribution of the next token,
$p_k = \operatorname{softmax}(z / \tau)_k$ for logits $z$ and temperature
$\tau$ (below 1 sharpens it, above 1 flattens it). Generation appends one
token at a time and feeds the longer sequence back in. How the next token is
picked is the sampler's business (`keras_hub.samplers`):

- `greedy`: the most probable token, $\arg\max_k p_k$ (deterministic; $\tau$ has no effect);
- `top_k`: draw from the $k$ most probable tokens, renormalized;
- `top_p` (nucleus sampling): draw from the smallest set of most probable
  tokens whose probabilities add up to at least $p$, renormalized.

[`generate_text`][mlrecipes.generation.decoding.generate_text] continues a prompt with a causal language model;
[`decode_sequences`][mlrecipes.generation.decoding.decode_sequences] runs the decoding loop of an encoder–decoder model,
from a start token until an end token.
"""

from __future__ import annotations

import keras
import keras_hub
import numpy as np
import tensorflow as tf
from keras import ops

from mlrecipes.data.text_corpus import byte_tokenizer, encode
from mlrecipes.errors import ArgumentValueError
from mlrecipes.generation import SAMPLERS


def make_sampler(
    name: str, *, temperature: float = 1.0, k: int = 10, p: float = 0.9, seed: int | None = None
) -> keras_hub.samplers.Sampler:
    """The keras-hub sampler of that name.

    Args:
        name: `"greedy"`, `"top_k"` or `"top_p"`.
        temperature: Divides the logits before the softmax; must be positive.
        k: Tokens to draw from, for `top_k`.
        p: Probability mass to draw from, for `top_p`; in (0, 1].
        seed: Seed of the random draws, for reproducible samples.

    Raises:
        ArgumentValueError: On an unknown name or a value out of range.
    """
    if not temperature > 0:
        raise ArgumentValueError("temperature", temperature, "must be a positive number")
    if name == "greedy":
        return keras_hub.samplers.GreedySampler(temperature=temperature)
    if name == "top_k":
        if not (isinstance(k, int) and k >= 1):
            raise ArgumentValueError("k", k, "must be a positive whole number")
        return keras_hub.samplers.TopKSampler(k=k, seed=seed, temperature=temperature)
    if name == "top_p":
        if not 0.0 < p <= 1.0:
            raise ArgumentValueError("p", p, "must be above 0 and at most 1")
        return keras_hub.samplers.TopPSampler(p=p, seed=seed, temperature=temperature)
    raise ArgumentValueError("name", name, f"choose one of {', '.join(SAMPLERS)}")


def context_length(model: keras.Model) -> int:
    """The longest sequence a language model of [`mlrecipes.models.language_model`][mlrecipes.models.language_model] reads."""
    return int(model.get_layer("position_embedding").sequence_length)


def generate_ids(
    model: keras.Model,
    prompt_ids: np.ndarray,
    max_new_tokens: int,
    sampler: keras_hub.samplers.Sampler,
    *,
    context: int,
) -> np.ndarray:
    """Continue a batch of equally long prompts by `max_new_tokens` ids.

    The model reads at most its last `context` ids: once the text is longer,
    a window of `context` ids slides along with the end of the text. The
    model is called on the whole window at every step (no attention cache):
    simple, and fast enough for small models.

    Args:
        model: A causal language model from ids `(batch, length)` to logits
            `(batch, length, vocabulary)`.
        prompt_ids: `(batch, prompt_length)` ids, `1 <= prompt_length <= context`.
        max_new_tokens: Ids to append.
        sampler: How to pick each next id.
        context: The model's context length.

    Returns:
        `(batch, prompt_length + max_new_tokens)` ids: the prompts and their continuations.
    """
    prompt_ids = np.asarray(prompt_ids, dtype=np.int32)
    batch, prompt_length = prompt_ids.shape
    total = prompt_length + max_new_tokens
    buffer_length = max(total, context)  # the window must fit in the buffer
    buffer = np.zeros((batch, buffer_length), dtype=np.int32)
    buffer[:, :prompt_length] = prompt_ids
    mask = np.zeros_like(buffer, dtype=bool)
    mask[:, :prompt_length] = True  # the sampler never overwrites the prompt

    @tf.function(reduce_retracing=True)
    def window_logits(ids, start, position):
        window = ops.slice(ids, [0, start], [batch, context])
        return model(window, training=False)[:, position]

    def next_logits(ids, cache, index):
        # The logits at position index - 1 score the id at position index.
        start = ops.maximum(index - context, 0)
        return window_logits(ids, start, index - 1 - start), None, cache

    generated = sampler(next_logits, ops.convert_to_tensor(buffer), index=prompt_length, mask=mask)
    return np.asarray(generated)[:, :total]


def generate_text(
    model: keras.Model,
    prompt: str,
    *,
    max_new_tokens: int,
    sampler: keras_hub.samplers.Sampler,
    context: int | None = None,
) -> str:
    """Continue a prompt with a byte-level causal language model.

    A prompt longer than the model's context is refused, not truncated, so
    that what conditions the continuation is exactly what the user wrote.

    Args:
        model: The language model of `recipes/text_generation.py`.
        prompt: The text to continue; at least one character.
        max_new_tokens: Bytes to generate (a character may take up to 4).
        sampler: How to pick each next byte (see [`make_sampler`][mlrecipes.generation.decoding.make_sampler]).
        context: The model's context; default read from the model.

    Returns:
        The prompt followed by its continuation. Bytes that do not form valid
        UTF-8 (a character cut at the end) show as U+FFFD; NUL bytes are dropped.

    Raises:
        ArgumentValueError: On an empty prompt or one longer than the context.
    """
    context = context or context_length(model)
    ids = encode(prompt)
    if len(ids) == 0:
        raise ArgumentValueError("prompt", prompt, "the prompt is empty; give at least one character to continue")
    if len(ids) > context:
        raise ArgumentValueError(
            "prompt",
            prompt,
            f"the prompt is {len(ids)} bytes long but the model reads at most {context} "
            f"(its sequence length): shorten the prompt to its last {context} bytes or fewer",
        )
    return detokenize(generate_ids(model, ids[None, :], max_new_tokens, sampler, context=context)[0])


def decode_sequences(
    model: keras.Model,
    source_ids: np.ndarray,
    *,
    target_length: int,
    start_id: int,
    end_id: int,
    sampler: keras_hub.samplers.Sampler | None = None,
) -> list[np.ndarray]:
    """The decoding loop of an encoder–decoder model: from a start id to an end id.

    The decoder input starts as `[start_id]`; at step $i$ the model scores
    the next id from the source and the ids so far, the sampler picks one,
    and it is appended, until every sequence has produced `end_id` or
    `target_length` ids. (In training the decoder reads the true previous
    ids instead — teacher forcing — so one pass trains every position.)

    Args:
        model: A model from `{"source_ids", "decoder_ids"}` of shapes
            `(batch, source_length)` and `(batch, target_length)` to logits
            `(batch, target_length, vocabulary)`.
        source_ids: `(batch, source_length)` source ids, padded with 0.
        target_length: The decoder's length (its number of positions).
        start_id: The id every decoder input starts with.
        end_id: The id that ends a sequence.
        sampler: How to pick each id; default greedy.

    Returns:
        One array of ids per source, without the start id and cut before the
        first end id.
    """
    sampler = sampler or keras_hub.samplers.GreedySampler()
    source_ids = ops.convert_to_tensor(np.asarray(source_ids, dtype=np.int32))
    batch = int(source_ids.shape[0])
    buffer = np.zeros((batch, target_length + 1), dtype=np.int32)
    buffer[:, 0] = start_id
    mask = np.zeros_like(buffer, dtype=bool)
    mask[:, 0] = True

    @tf.function(reduce_retracing=True)
    def logits_at(ids, position):
        decoder_ids = ids[:, :target_length]
        return model({"source_ids": source_ids, "decoder_ids": decoder_ids}, training=False)[:, position]

    def next_logits(ids, cache, index):
        return logits_at(ids, index - 1), None, cache

    generated = np.asarray(
        sampler(next_logits, ops.convert_to_tensor(buffer), index=1, mask=mask, stop_token_ids=[end_id])
    )[:, 1:]
    sequences = []
    for row in generated:
        ends = np.flatnonzero(row == end_id)
        sequences.append(row[: ends[0]] if len(ends) else row)
    return sequences


def detokenize(ids: np.ndarray) -> str:
    """The text of byte ids (`keras_hub.tokenizers.ByteTokenizer`), padding (0) dropped."""
    ids = np.asarray(ids)
    ids = ids[ids != 0]
    return str(byte_tokenizer().detokenize(tf.constant(ids, dtype=tf.int32)))
