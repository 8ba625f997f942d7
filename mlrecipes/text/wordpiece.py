"""WordPiece vocabularies and BERT tokenizers, learned from a corpus.

WordPiece (used by BERT) splits a word it does not know into pieces it knows:
with `play`, `##ing` and `##ed` in the vocabulary, `playing` becomes
`play ##ing` (`##` marks a piece that continues a word), so a vocabulary of
a few thousand pieces covers every word of the corpus and almost nothing maps
to `[UNK]`. `learn_wordpiece_vocabulary` learns the pieces with
keras-hub's `compute_word_piece_vocabulary` (tensorflow-text's greedy
learner) and `bert_tokenizer` wraps them in a keras-hub
`BertTokenizer`, which lower-cases, strips accents, splits off punctuation
and then splits each word into the longest pieces of the vocabulary, left to
right. Its first ids are the special tokens:

```text
0 [PAD]   1 [UNK]   2 [CLS]   3 [SEP]   4 [MASK]   5, 6, ... the pieces
```

The learner runs in Python and its time grows with the number of distinct
words: 36 s for the 1,602 BBC News training articles on 2 CPU cores. A large
corpus therefore learns its vocabulary from a seeded sample of at most
`max_texts` texts, which covers the frequent words and pieces just as well.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras_hub
import numpy as np
import tensorflow as tf

from mlrecipes.errors import ArgumentValueError

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
"""The tokens every vocabulary starts with, in this order (ids 0-4)."""
MAX_VOCABULARY_TEXTS = 5000
"""The texts a vocabulary is learned from, at most (a seeded sample of a larger corpus)."""


def learn_wordpiece_vocabulary(
    texts: Sequence[str],
    vocabulary_size: int,
    *,
    lowercase: bool = True,
    max_texts: int = MAX_VOCABULARY_TEXTS,
    seed: int = 0,
) -> list[str]:
    """Learn a WordPiece vocabulary from texts.

    Args:
        texts: The training texts.
        vocabulary_size: The most tokens the vocabulary may hold, the five
            special tokens included. A small corpus may give fewer: the
            learner keeps only pieces that occur often enough.
        lowercase: Lower-case the texts first (as an "uncased" BERT does).
        max_texts: Learn from a seeded random sample of at most this many texts.
        seed: Seed of that sample.

    Returns:
        The vocabulary: the special tokens, then the pieces.

    Raises:
        ArgumentValueError: When `vocabulary_size` leaves no room beside the
            special tokens, or the texts hold no words.
    """
    if vocabulary_size <= len(SPECIAL_TOKENS):
        raise ArgumentValueError(
            "vocabulary_size", vocabulary_size, f"must be more than the {len(SPECIAL_TOKENS)} special tokens"
        )
    texts = [text for text in texts if text.strip()]
    if not texts:
        raise ArgumentValueError("texts", [], "no text to learn a vocabulary from; give at least one non-empty text")
    if len(texts) > max_texts:
        picked = np.sort(np.random.default_rng(seed).choice(len(texts), size=max_texts, replace=False))
        texts = [texts[index] for index in picked]
    return keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(texts).batch(256),
        vocabulary_size,
        lowercase=lowercase,
        strip_accents=lowercase,
        reserved_tokens=list(SPECIAL_TOKENS),
    )


def bert_tokenizer(vocabulary: Sequence[str], *, lowercase: bool = True) -> keras_hub.models.BertTokenizer:
    """A keras-hub `BertTokenizer` over a learned vocabulary.

    Args:
        vocabulary: A vocabulary from `learn_wordpiece_vocabulary` (or
            any list starting with the special tokens).
        lowercase: Must match how the vocabulary was learned.

    Returns:
        The tokenizer: strings to ragged `int32` ids, and back with `detokenize`.

    Raises:
        ArgumentValueError: When the vocabulary lacks a special token.
    """
    missing = [token for token in SPECIAL_TOKENS if token not in vocabulary]
    if missing:
        raise ArgumentValueError("vocabulary", f"{len(vocabulary)} tokens", f"lacks the special token(s) {missing}")
    return keras_hub.models.BertTokenizer(vocabulary=list(vocabulary), lowercase=lowercase)
