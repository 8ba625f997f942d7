"""The recurrent (LSTM or GRU) text classifier builder."""

from __future__ import annotations

import keras

from mlrecipes.errors import ArgumentValueError
from mlrecipes.models.blocks import classifier_head

CELLS = ("lstm", "gru")
"""The recurrent cells `build_recurrent_classifier` takes."""


def build_recurrent_classifier(
    vocabulary_size: int,
    num_classes: int,
    *,
    cell: str = "lstm",
    width: int = 64,
    units: int = 64,
    bidirectional: bool = True,
    dropout: float = 0.1,
    name: str = "recurrent_classifier",
) -> keras.Model:
    """Build a recurrent classifier of token-id sequences.

    Token ids go through a learned embedding (`width` numbers per token),
    then one recurrent layer (`keras.layers.LSTM` or `keras.layers.GRU`
    with `units` units) reads them one step at a time and keeps its final
    state as the text's vector; dropout and a float32 softmax layer give the
    class probabilities. `bidirectional` adds a second layer that reads the
    text backwards and concatenates both final states, so the vector no
    longer depends mostly on the last words read.

    Id 0 is padding: the embedding's mask (`mask_zero=True`) makes the
    recurrent layers skip padded steps, so a text's final state is taken after
    its last real token, however much padding follows it.

    Args:
        vocabulary_size: Number of token ids (the tokenizer's vocabulary).
        num_classes: Number of output classes (at least 2).
        cell: `"lstm"` or `"gru"`.
        width: Size of the token vectors.
        units: Size of the recurrent state (of each direction).
        bidirectional: Read the text in both directions.
        dropout: Dropout rate on the text's vector, before the output layer.
        name: The model's name.

    Returns:
        An uncompiled `keras.Model` from `int32` ids of shape
        `(batch, length)`, any length, to `num_classes` probabilities.

    Raises:
        ArgumentValueError: On an unknown cell, a size that is not positive,
            fewer than 2 classes or a dropout rate outside [0, 1).
    """
    if cell not in CELLS:
        raise ArgumentValueError("cell", cell, f"choose from {', '.join(CELLS)}")
    for argument, value in {"vocabulary_size": vocabulary_size, "width": width, "units": units}.items():
        if not isinstance(value, int) or value <= 0:
            raise ArgumentValueError(argument, value, "must be a positive whole number")
    if num_classes < 2:
        raise ArgumentValueError("num_classes", num_classes, "a classifier needs at least 2 classes")
    if not 0.0 <= dropout < 1.0:
        raise ArgumentValueError("dropout", dropout, "must be at least 0 and below 1")
    inputs = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = keras.layers.Embedding(vocabulary_size, width, mask_zero=True, name="token_embedding")(inputs)
    layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    recurrent = layer(units, name=cell)
    if bidirectional:
        recurrent = keras.layers.Bidirectional(recurrent, name=f"bidirectional_{cell}")
    x = recurrent(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, classifier_head(x, num_classes), name=name)
