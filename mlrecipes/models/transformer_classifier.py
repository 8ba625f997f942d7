"""The transformer-encoder text classifier builder, from keras-hub layers."""

from __future__ import annotations

import keras
import keras_hub

from mlrecipes.errors import ArgumentValueError
from mlrecipes.text.tokenizer import PAD_ID


def build_transformer_classifier(
    vocabulary_size: int,
    sequence_length: int,
    num_classes: int,
    *,
    width: int = 64,
    num_heads: int = 4,
    depth: int = 2,
    intermediate_dim: int | None = None,
    dropout: float = 0.1,
    name: str = "transformer_classifier",
) -> keras.Model:
    """Build a transformer-encoder classifier of token-id sequences.

    Token ids go through `keras_hub.layers.TokenAndPositionEmbedding` (a
    learned vector per token plus one per position), `depth` blocks of
    `keras_hub.layers.TransformerEncoder` (multi-head self-attention and a
    two-layer feed-forward network, each with a residual connection and layer
    normalization), the mean of the encoder's outputs over the real tokens,
    dropout, and a softmax layer computed in float32 even under mixed
    precision.

    Id 0 is padding: a padding mask (`token_ids != 0`) keeps every attention
    layer from attending to padded positions and leaves them out of the mean,
    so the output does not depend on how much padding follows a text.

    Args:
        vocabulary_size: Number of token ids (the tokenizer's vocabulary).
        sequence_length: The longest sequence of ids the model takes (the
            number of position vectors); shorter sequences are allowed.
        num_classes: Number of output classes (at least 2).
        width: Size of the token vectors, kept through every block.
        num_heads: Attention heads per block; `width` must be a multiple.
        depth: Number of encoder blocks.
        intermediate_dim: Hidden units of each block's feed-forward network;
            default `2 * width`.
        dropout: Dropout rate in every block and before the output layer.
        name: The model's name.

    Returns:
        An uncompiled `keras.Model` from `int32` ids of shape
        `(batch, length)` (`length <= sequence_length`) to `num_classes`
        probabilities.

    Raises:
        ArgumentValueError: On a size that is not positive, a `width` that
            `num_heads` does not divide, fewer than 2 classes or a dropout
            rate outside [0, 1).
    """
    intermediate_dim = 2 * width if intermediate_dim is None else intermediate_dim
    sizes = {
        "vocabulary_size": vocabulary_size,
        "sequence_length": sequence_length,
        "width": width,
        "num_heads": num_heads,
        "depth": depth,
        "intermediate_dim": intermediate_dim,
    }
    for key, value in sizes.items():
        if value <= 0:
            raise ArgumentValueError(key, value, "must be a positive whole number")
    if num_classes < 2:
        raise ArgumentValueError("num_classes", num_classes, "a classifier needs at least 2 classes")
    if width % num_heads:
        raise ArgumentValueError("width", width, f"must be a multiple of num_heads={num_heads}")
    if not 0.0 <= dropout < 1.0:
        raise ArgumentValueError("dropout", dropout, "must be at least 0 and below 1")

    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    padding_mask = keras.ops.not_equal(token_ids, PAD_ID)
    x = keras_hub.layers.TokenAndPositionEmbedding(
        vocabulary_size=vocabulary_size,
        sequence_length=sequence_length,
        embedding_dim=width,
        name="token_and_position_embedding",
    )(token_ids)
    for block in range(1, depth + 1):
        x = keras_hub.layers.TransformerEncoder(
            intermediate_dim=intermediate_dim,
            num_heads=num_heads,
            dropout=dropout,
            name=f"encoder_{block}",
        )(x, padding_mask=padding_mask)
    x = keras.layers.GlobalAveragePooling1D(name="mean_over_tokens")(x, mask=padding_mask)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(x)
    outputs = keras.layers.Activation("softmax", dtype="float32", name="probabilities")(logits)
    return keras.Model(token_ids, outputs, name=name)
