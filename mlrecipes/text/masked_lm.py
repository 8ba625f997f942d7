r"""Masked-language-model examples: documents to fixed-length token rows with masked positions.

Pretraining reads every token of the corpus, not only the start of each
document: `token_chunks` tokenizes the documents and cuts each one into
pieces of at most `sequence_length - 2` tokens (a final piece shorter than
`min_tokens` is dropped). `masked_lm_batch` then frames each piece as
`[CLS] piece [SEP]`, pads it with `[PAD]` and lets keras-hub's
`MaskedLMMaskGenerator` pick the positions to predict, BERT's rule: of the
$n$ tokens of a row that are not `[CLS]`, `[SEP]` or padding,
$\lceil p n \rceil$ are selected at random ($p$ = `mask_rate`; inside a
`tf.data` pipeline the generator selects exactly that many); of the
selected, 80% become `[MASK]`, 10% a random token and 10% stay as they are. The model sees the
altered row and is trained to give back the original tokens at the selected
positions only; `mask_weights` is 1 there and 0 in the padding of the
position list, so a loss with `reduction="mean_with_sample_weight"` is
the mean over the real selections (Keras' default reduction would divide by
every slot of the list, real or not).

Training batches are masked afresh each time they are drawn (a new pattern in
every epoch: "dynamic masking"); the validation and test batches are masked
once and kept, so every epoch is judged on the same positions.

`unigram_cross_entropy` gives the floor every masked-language model must
beat: predicting each hidden token from the token frequencies of the training
text alone, $-\frac{1}{|S|} \sum_{i \in S} \log q(t_i)$, with add-one smoothed
frequencies $q$.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import keras_hub
import numpy as np
import tensorflow as tf

from mlrecipes.errors import ArgumentValueError, DataError

MASK_RATE = 0.15
"""The share of tokens BERT selects for prediction."""
TOKENIZE_BATCH = 256


def token_chunks(
    documents: Sequence[str],
    tokenizer: keras_hub.tokenizers.Tokenizer,
    sequence_length: int,
    *,
    min_tokens: int = 8,
) -> tf.RaggedTensor:
    """Tokenize documents and cut them into pieces that fit a row with `[CLS]` and `[SEP]`.

    Args:
        documents: The texts.
        tokenizer: A keras-hub tokenizer (strings to ragged ids).
        sequence_length: The rows' length; pieces hold at most `sequence_length - 2` tokens.
        min_tokens: Shortest piece kept (a whole document shorter than this is kept
            if it has at least one token).

    Returns:
        A ragged `int32` tensor, one row per piece, in document order.

    Raises:
        ArgumentValueError: When `sequence_length` is below 3.
        DataError: When the documents hold no token at all.
    """
    if sequence_length < 3:
        raise ArgumentValueError("sequence_length", sequence_length, "must be 3 or more ([CLS], a token, [SEP])")
    room = sequence_length - 2
    texts = tf.data.Dataset.from_tensor_slices(tf.constant(list(documents), dtype=tf.string))
    pieces = []
    for batch in texts.batch(TOKENIZE_BATCH).map(tokenizer).as_numpy_iterator():
        for ids in batch:
            ids = np.asarray(ids, np.int32)
            for start in range(0, len(ids), room):
                piece = ids[start : start + room]
                if len(piece) >= min_tokens or (start == 0 and len(piece)):
                    pieces.append(piece)
    if not pieces:
        raise DataError("the documents hold no tokens; give text to pretrain on")
    return tf.ragged.constant(pieces, dtype=tf.int32, ragged_rank=1)


def mask_generator(
    tokenizer: keras_hub.models.BertTokenizer, sequence_length: int, mask_rate: float = MASK_RATE
) -> keras_hub.layers.MaskedLMMaskGenerator:
    """BERT's masking rule (80% `[MASK]`, 10% random, 10% unchanged) for rows of `sequence_length`."""
    return keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=tokenizer.vocabulary_size(),
        mask_selection_rate=mask_rate,
        mask_selection_length=math.ceil(mask_rate * sequence_length),
        mask_token_id=tokenizer.mask_token_id,
        unselectable_token_ids=tokenizer.special_token_ids,
        mask_token_rate=0.8,
        random_token_rate=0.1,
    )


def masked_lm_batch(
    tokenizer: keras_hub.models.BertTokenizer,
    sequence_length: int,
    masker: keras_hub.layers.MaskedLMMaskGenerator,
) -> Callable[[tf.RaggedTensor], tuple[dict[str, tf.Tensor], tf.Tensor, tf.Tensor]]:
    """The function that turns a batch of pieces into `(inputs, targets, weights)` for `BertMaskedLM`.

    Args:
        tokenizer: The tokenizer the pieces came from (for the special ids).
        sequence_length: Row length.
        masker: From `mask_generator`.

    Returns:
        A function of a ragged batch of pieces, for `tf.data.Dataset.map`:
        inputs `token_ids` (masked), `padding_mask`, `segment_ids` and
        `mask_positions`; targets, the original ids at those positions; and
        their weights (0 for unused slots).
    """
    packer = keras_hub.layers.StartEndPacker(
        sequence_length=sequence_length,
        start_value=tokenizer.cls_token_id,
        end_value=tokenizer.sep_token_id,
        pad_value=tokenizer.pad_token_id,
    )

    def frame_and_mask(pieces: tf.RaggedTensor) -> tuple[dict[str, tf.Tensor], tf.Tensor, tf.Tensor]:
        token_ids = packer(pieces)
        masked = masker(token_ids)
        inputs = {
            "token_ids": masked["token_ids"],
            "padding_mask": token_ids != tokenizer.pad_token_id,
            "segment_ids": tf.zeros_like(token_ids),
            "mask_positions": masked["mask_positions"],
        }
        return inputs, masked["mask_ids"], masked["mask_weights"]

    return frame_and_mask


def masked_once(
    pieces: tf.RaggedTensor, frame_and_mask: Callable, batch_size: int
) -> tuple[tf.data.Dataset, dict[str, np.ndarray]]:
    """Mask held-out pieces once, as a fixed data set.

    The masking runs in a `tf.data` pipeline, as for the training batches,
    so the held-out rows follow exactly the training rows' rule.

    Args:
        pieces: From `token_chunks`.
        frame_and_mask: From `masked_lm_batch`.
        batch_size: Rows per batch of the returned data set.

    Returns:
        The fixed examples, batched, and the same arrays in memory.
    """
    parts = list(tf.data.Dataset.from_tensor_slices(pieces).batch(1024).map(frame_and_mask).as_numpy_iterator())
    inputs = {key: np.concatenate([part[0][key] for part in parts]) for key in parts[0][0]}
    arrays = {
        **inputs,
        "mask_ids": np.concatenate([part[1] for part in parts]),
        "mask_weights": np.concatenate([part[2] for part in parts]),
    }
    dataset = tf.data.Dataset.from_tensor_slices((inputs, arrays["mask_ids"], arrays["mask_weights"]))
    return dataset.batch(batch_size), arrays


def unigram_cross_entropy(
    train_pieces: tf.RaggedTensor, targets: np.ndarray, weights: np.ndarray, vocabulary_size: int
) -> float:
    r"""The mean negative log-likelihood (nats) of the hidden tokens under the training text's token frequencies.

    Args:
        train_pieces: The training pieces, whose token counts (plus one for every
            vocabulary entry) give the frequencies $q$.
        targets: The hidden tokens, `mask_ids`.
        weights: 1 for a real selection, 0 for an unused slot.
        vocabulary_size: Size of the vocabulary.

    Returns:
        $-\frac{1}{|S|} \sum_{i \in S} \log q(t_i)$ over the real selections $S$.
    """
    counts = np.bincount(train_pieces.flat_values.numpy(), minlength=vocabulary_size).astype(np.float64) + 1.0
    log_q = np.log(counts / counts.sum())
    weights = np.asarray(weights, np.float64)
    return float(-(log_q[np.asarray(targets)] * weights).sum() / weights.sum())
