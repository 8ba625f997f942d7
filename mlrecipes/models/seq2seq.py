r"""The encoder–decoder transformer builder (sequence to sequence), from keras-hub layers.

The model scores a target sequence $y$ given a source sequence $x$ one token at a time,

$$p(y \mid x) = \prod_{i=1}^{T} p(y_i \mid y_{<i}, x).$$

An encoder reads the whole source with (unmasked) self-attention; a decoder
reads the target so far with causal self-attention and looks at the encoder's
outputs through cross-attention, $\operatorname{softmax}(q_i K^\top / \sqrt{d})\,V$
with queries $q_i$ from the decoder and keys $K$ and values $V$ from the
encoder, padded source positions left out.
"""

from __future__ import annotations

import warnings

import keras
import keras_hub

from mlrecipes.models.blocks import check_transformer_sizes


def build_seq2seq(
    source_vocabulary_size: int,
    target_vocabulary_size: int,
    source_length: int,
    target_length: int,
    *,
    width: int = 128,
    num_heads: int = 4,
    encoder_depth: int = 2,
    decoder_depth: int = 2,
    intermediate_dim: int | None = None,
    dropout: float = 0.1,
    name: str = "seq2seq",
) -> keras.Model:
    r"""Build an encoder–decoder transformer with teacher-forced decoder inputs.

    Source ids go through a `keras_hub.layers.TokenAndPositionEmbedding` and
    `encoder_depth` blocks of `keras_hub.layers.TransformerEncoder`; the
    decoder ids (the target shifted right behind a start token) go through
    their own `TokenAndPositionEmbedding` and `decoder_depth` blocks of
    `keras_hub.layers.TransformerDecoder`, each with causal self-attention
    and cross-attention to the encoder's outputs; a dense layer gives one
    logit per target token, in float32 even under mixed precision.

    Id 0 is padding on both sides: `mask_zero` makes the embeddings carry a
    padding mask that keras-hub's layers apply, so no attention reads a padded
    source or decoder position, and that Keras applies to the loss and
    metrics, so padded target positions count for nothing.

    Args:
        source_vocabulary_size: Number of source token ids.
        target_vocabulary_size: Number of target token ids.
        source_length: The longest source (number of source positions).
        target_length: The longest decoder input (number of target positions).
        width: Size of the token vectors in both stacks.
        num_heads: Attention heads per block; `width` must be a multiple.
        encoder_depth: Number of encoder blocks.
        decoder_depth: Number of decoder blocks.
        intermediate_dim: Hidden units of each feed-forward network; default `4 * width`.
        dropout: Dropout rate inside every block.
        name: The model's name.

    Returns:
        An uncompiled `keras.Model` from `{"source_ids": (batch, source_length),
        "decoder_ids": (batch, target_length)}` `int32` ids to logits of
        shape `(batch, target_length, target_vocabulary_size)`; the logits at
        position $i$ score target token $y_{i+1}$ from decoder ids $y_{\le i}$
        (position 0 holds the start token).

    Raises:
        ArgumentValueError: On a size that is not positive, a `width` that
            `num_heads` does not divide or a dropout rate outside [0, 1).
    """
    check_transformer_sizes(
        width,
        num_heads,
        dropout,
        source_vocabulary_size=source_vocabulary_size,
        target_vocabulary_size=target_vocabulary_size,
        source_length=source_length,
        target_length=target_length,
        encoder_depth=encoder_depth,
        decoder_depth=decoder_depth,
    )
    with warnings.catch_warnings():
        # keras-hub applies the padding masks itself; Keras warns that some of
        # its inner layers (position embedding, attention projections) ignore them.
        warnings.filterwarnings("ignore", message=r"Layer '\w+' \(of type \w+\) was passed an input with a mask")
        return _build(
            source_vocabulary_size, target_vocabulary_size, source_length, target_length,
            width, num_heads, encoder_depth, decoder_depth, intermediate_dim or 4 * width, dropout, name,
        )  # fmt: skip


def _build(
    source_vocabulary_size: int,
    target_vocabulary_size: int,
    source_length: int,
    target_length: int,
    width: int,
    num_heads: int,
    encoder_depth: int,
    decoder_depth: int,
    intermediate_dim: int,
    dropout: float,
    name: str,
) -> keras.Model:
    source_ids = keras.Input(shape=(source_length,), dtype="int32", name="source_ids")
    decoder_ids = keras.Input(shape=(target_length,), dtype="int32", name="decoder_ids")

    encoded = keras_hub.layers.TokenAndPositionEmbedding(
        source_vocabulary_size, source_length, width, mask_zero=True, name="source_embedding"
    )(source_ids)
    for block in range(encoder_depth):
        encoded = keras_hub.layers.TransformerEncoder(
            intermediate_dim, num_heads, dropout=dropout, name=f"encoder_block_{block + 1}"
        )(encoded)

    decoded = keras_hub.layers.TokenAndPositionEmbedding(
        target_vocabulary_size, target_length, width, mask_zero=True, name="target_embedding"
    )(decoder_ids)
    for block in range(decoder_depth):
        decoded = keras_hub.layers.TransformerDecoder(
            intermediate_dim, num_heads, dropout=dropout, name=f"decoder_block_{block + 1}"
        )(decoded, encoded)  # causal self-attention, then cross-attention to the encoder
    logits = keras.layers.Dense(target_vocabulary_size, dtype="float32", name="logits")(decoded)
    return keras.Model({"source_ids": source_ids, "decoder_ids": decoder_ids}, logits, name=name)
