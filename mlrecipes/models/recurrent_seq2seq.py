r"""The LSTM encoder–decoder builder (sequence to sequence with recurrent networks).

The model scores a target sequence $y$ given a source sequence $x$ one token at a time,
$p(y \mid x) = \prod_{i} p(y_i \mid y_{<i}, x)$, as the transformer of
[`mlrecipes.models.seq2seq`][mlrecipes.models.seq2seq] does, and takes the same inputs, so the same
training and decoding code serves both. An encoder LSTM reads the source and
hands its final state $(h, c)$ to a decoder LSTM as its initial state; the
decoder reads the target so far and a dense layer scores the next token at
every position. An LSTM reads left to right, so position $i$ sees only the
decoder ids up to $i$: the decoder is causal without any mask.
"""

from __future__ import annotations

import keras

from mlrecipes.errors import ArgumentValueError


def build_recurrent_seq2seq(
    source_vocabulary_size: int,
    target_vocabulary_size: int,
    source_length: int,
    target_length: int,
    *,
    width: int = 64,
    units: int = 128,
    dropout: float = 0.0,
    name: str = "recurrent_seq2seq",
) -> keras.Model:
    r"""Build an LSTM encoder–decoder with teacher-forced decoder inputs.

    Source ids go through an embedding of `width` numbers per token and an
    encoder `keras.layers.LSTM` of `units` units, whose final output and
    cell state start the decoder `LSTM`; the decoder ids (the target
    shifted right behind a start token) go through their own embedding and
    the decoder, and a dense layer gives one logit per target token, in
    float32 even under mixed precision.

    Id 0 is padding on both sides: `mask_zero` makes the encoder skip
    padded source steps (its final state is taken after the last real token)
    and carries the decoder's padding mask to the logits, which Keras applies
    to the loss and metrics.

    Args:
        source_vocabulary_size: Number of source token ids.
        target_vocabulary_size: Number of target token ids.
        source_length: The longest source (number of source positions).
        target_length: The longest decoder input (number of target positions).
        width: Size of the token vectors.
        units: Size of the LSTM states (encoder and decoder).
        dropout: Dropout rate on the decoder's outputs, before the dense layer.
        name: The model's name.

    Returns:
        An uncompiled `keras.Model` from `{"source_ids": (batch, source_length),
        "decoder_ids": (batch, target_length)}` `int32` ids to logits of
        shape `(batch, target_length, target_vocabulary_size)`.

    Raises:
        ArgumentValueError: On a size that is not positive or a dropout rate outside [0, 1).
    """
    sizes = {
        "source_vocabulary_size": source_vocabulary_size,
        "target_vocabulary_size": target_vocabulary_size,
        "source_length": source_length,
        "target_length": target_length,
        "width": width,
        "units": units,
    }
    for argument, value in sizes.items():
        if not isinstance(value, int) or value <= 0:
            raise ArgumentValueError(argument, value, "must be a positive whole number")
    if not 0.0 <= dropout < 1.0:
        raise ArgumentValueError("dropout", dropout, "must be at least 0 and below 1")
    source_ids = keras.Input(shape=(source_length,), dtype="int32", name="source_ids")
    decoder_ids = keras.Input(shape=(target_length,), dtype="int32", name="decoder_ids")
    source = keras.layers.Embedding(source_vocabulary_size, width, mask_zero=True, name="source_embedding")(source_ids)
    _, state_h, state_c = keras.layers.LSTM(units, return_state=True, name="encoder_lstm")(source)
    target = keras.layers.Embedding(target_vocabulary_size, width, mask_zero=True, name="target_embedding")(decoder_ids)
    decoded = keras.layers.LSTM(units, return_sequences=True, name="decoder_lstm")(
        target, initial_state=[state_h, state_c]
    )
    if dropout:
        decoded = keras.layers.Dropout(dropout, name="dropout")(decoded)
    logits = keras.layers.Dense(target_vocabulary_size, dtype="float32", name="logits")(decoded)
    return keras.Model({"source_ids": source_ids, "decoder_ids": decoder_ids}, logits, name=name)
