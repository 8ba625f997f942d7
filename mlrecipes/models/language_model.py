r"""The causal transformer language model builder (GPT-style), from keras-hub layers.

A language model gives the probability of a token sequence one token at a time,

$$p(t_1, \dots, t_T) = \prod_{i=1}^{T} p(t_i \mid t_1, \dots, t_{i-1}),$$

and is trained by minimizing the cross-entropy of the next tokens, the mean
negative log-likelihood $-\frac{1}{T}\sum_{i=1}^{T} \log p(t_i \mid t_1, \dots, t_{i-1})$.
Causal self-attention makes one pass over a sequence predict every next token
at once without peeking: position $i$ attends only to positions $j \le i$,

$$\operatorname{softmax}\Big(\frac{q_i k_j^\top}{\sqrt{d_k}} + M_{ij}\Big), \qquad
M_{ij} = \begin{cases} 0 & j \le i \\ -\infty & j > i, \end{cases}$$

with $d_k$ the width of one attention head's queries and keys, so a token's
output never depends on the tokens after it.
"""

from __future__ import annotations

import keras
import keras_hub

from mlrecipes.models.blocks import check_transformer_sizes


def build_language_model(
    vocabulary_size: int,
    sequence_length: int,
    *,
    width: int = 128,
    num_heads: int = 4,
    depth: int = 2,
    intermediate_dim: int | None = None,
    dropout: float = 0.1,
    tie_weights: bool = True,
    name: str = "language_model",
) -> keras.Model:
    r"""Build a decoder-only transformer that predicts the next token at every position.

    Token ids go through a `keras_hub.layers.ReversibleEmbedding` (one
    learned vector per token) plus a `keras_hub.layers.PositionEmbedding`
    (one learned vector per position) — the two halves of
    `keras_hub.layers.TokenAndPositionEmbedding`, kept apart so that the
    token embedding can also be the output layer — then `depth` blocks of
    `keras_hub.layers.TransformerDecoder` without cross-attention (causal
    multi-head self-attention and a two-layer feed-forward network, each with
    a residual connection and layer normalization), and finally the output
    projection to one logit per vocabulary entry.

    With `tie_weights` the output projection is the transposed token
    embedding, $z_i = E h_i$ with $E$ the (vocabulary × width) embedding
    matrix (Press and Wolf, 2017): fewer weights, often a lower loss on small
    data. Without it the same `ReversibleEmbedding` keeps a separate output
    matrix. The logits are computed in float32 even under mixed precision.

    The model has no padding mask: in training every window is full, and in
    generation the only padding is after the last real token, where the
    causal mask already hides it.

    Args:
        vocabulary_size: Number of token ids.
        sequence_length: The context: the longest sequence the model reads
            (the number of position vectors); shorter sequences are allowed.
        width: Size of the token vectors, kept through every block.
        num_heads: Attention heads per block; `width` must be a multiple.
        depth: Number of decoder blocks.
        intermediate_dim: Hidden units of each feed-forward network; default
            `4 * width`.
        dropout: Dropout rate inside every block.
        tie_weights: Share the token embedding with the output projection.
        name: The model's name.

    Returns:
        An uncompiled `keras.Model` from `int32` ids of shape
        `(batch, length)`, `length <= sequence_length`, to float32 logits
        of shape `(batch, length, vocabulary_size)`; the logits at position
        $i$ score the token at position $i + 1$.

    Raises:
        ArgumentValueError: On a size that is not positive, a `width` that
            `num_heads` does not divide or a dropout rate outside [0, 1).
    """
    check_transformer_sizes(
        width, num_heads, dropout, vocabulary_size=vocabulary_size, sequence_length=sequence_length, depth=depth
    )
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    initializer = keras.initializers.RandomNormal(stddev=0.02)  # as GPT-2: tokens and positions alike
    token_embedding = keras_hub.layers.ReversibleEmbedding(
        vocabulary_size, width, tie_weights=tie_weights, embeddings_initializer=initializer, name="token_embedding"
    )
    tokens = token_embedding(token_ids)
    positions = keras_hub.layers.PositionEmbedding(sequence_length, initializer=initializer, name="position_embedding")(
        tokens
    )
    hidden = keras.layers.Add(name="token_plus_position")([tokens, positions])
    for block in range(depth):
        hidden = keras_hub.layers.TransformerDecoder(
            intermediate_dim=intermediate_dim or 4 * width,
            num_heads=num_heads,
            dropout=dropout,
            activation="gelu",
            normalize_first=True,
            name=f"decoder_block_{block + 1}",
        )(hidden)  # no encoder sequence: self-attention only, causal by default
    hidden = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(hidden)
    logits = token_embedding(hidden, reverse=True)
    logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model(token_ids, logits, name=name)
