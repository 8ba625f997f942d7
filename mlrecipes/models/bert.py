"""The BERT-style encoder and its masked-language-model head, from keras-hub."""

from __future__ import annotations

import keras_hub

from mlrecipes.errors import ArgumentValueError


def build_bert_masked_lm(
    vocabulary_size: int,
    sequence_length: int,
    *,
    width: int = 128,
    depth: int = 2,
    num_heads: int = 2,
    intermediate_dim: int | None = None,
    dropout: float = 0.1,
) -> keras_hub.models.BertMaskedLM:
    """Build a BERT encoder with a masked-language-model head, from random weights.

    The encoder is keras-hub's `BertBackbone`: token, position and segment
    embeddings summed and layer-normalized, then `depth` transformer
    encoder blocks of width `width`; it also holds a `pooled_dense` layer
    (tanh of a dense layer over the `[CLS]` vector) that classifiers use
    and masked-language modelling leaves untrained. `BertMaskedLM` adds the
    head that predicts a token at each masked position: a dense layer with
    GELU, a layer normalization and an output projection that shares the
    token embedding's weights, giving logits over the vocabulary.

    Args:
        vocabulary_size: Number of token ids.
        sequence_length: The longest row the encoder reads (its position
            embeddings); fine-tuning may use this many tokens, no more.
        width: Size of the token vectors.
        depth: Number of transformer blocks.
        num_heads: Attention heads per block; must divide `width`.
        intermediate_dim: Hidden units of each block's feed-forward network;
            default `4 * width`, as BERT.
        dropout: Dropout rate in the encoder.

    Returns:
        The uncompiled `BertMaskedLM` (without a preprocessor: it takes the
        dictionaries of [`mlrecipes.text.masked_lm.masked_lm_batch`][mlrecipes.text.masked_lm.masked_lm_batch]); its
        encoder is `.backbone`.

    Raises:
        ArgumentValueError: On a size that is not positive, a `width` that
            `num_heads` does not divide, or a dropout rate outside [0, 1).
    """
    for argument, value in (
        ("vocabulary_size", vocabulary_size),
        ("sequence_length", sequence_length),
        ("width", width),
        ("depth", depth),
        ("num_heads", num_heads),
    ):
        if value < 1:
            raise ArgumentValueError(argument, value, "must be 1 or more")
    if width % num_heads:
        raise ArgumentValueError("num_heads", num_heads, f"must divide width={width}")
    if not 0 <= dropout < 1:
        raise ArgumentValueError("dropout", dropout, "must be in [0, 1)")
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=vocabulary_size,
        num_layers=depth,
        num_heads=num_heads,
        hidden_dim=width,
        intermediate_dim=intermediate_dim or 4 * width,
        dropout=dropout,
        max_sequence_length=sequence_length,
    )
    return keras_hub.models.BertMaskedLM(backbone, preprocessor=None)
