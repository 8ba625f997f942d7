"""Sentence pairs for sequence-to-sequence models: read, split and encode.

A pair is a source sentence and its target, such as a Portuguese sentence and
its English translation. [`read_pairs`][mlrecipes.data.sentence_pairs.read_pairs] reads a tab-separated file (one
pair per line, the layout of the Tatoeba/Anki exports, whose third column of
attribution is ignored); [`load_ted_pt_en`][mlrecipes.data.sentence_pairs.load_ted_pt_en] loads tensorflow-datasets'
`ted_hrlr_translate/pt_to_en`. ([`mlrecipes.testing.date_pairs`][mlrecipes.testing.dates.date_pairs] generates
dates written in words with their ISO form, a task whose right answer is known
exactly, for tests and benchmarks.)

[`encode_pairs`][mlrecipes.data.sentence_pairs.encode_pairs] turns pairs into the arrays of a teacher-forced
encoder–decoder: UTF-8 bytes as ids (`keras_hub.tokenizers.ByteTokenizer`),
packed and padded with 0 by `keras_hub.layers.StartEndPacker`:

```text
source        "may 2nd, 1999"   ->  m a y ␣ 2 n d , ␣ 1 9 9 9 0 0 ...
decoder_ids   STX 1 9 9 9 - 0 5 - 0 2 0 ...     (the target, shifted right)
labels        1 9 9 9 - 0 5 - 0 2 ETX 0 ...     (the target, then the end)
```

The start and end tokens are the ASCII control bytes STX (2, "start of text")
and ETX (3, "end of text"), which no text in a pair may contain.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from pathlib import Path

import keras_hub
import numpy as np
import tensorflow as tf

from mlrecipes.data.text_corpus import byte_tokenizer
from mlrecipes.data.tfds_source import load_tfds
from mlrecipes.errors import ArgumentValueError, DataError
from mlrecipes.text.tokenizer import PAD_ID

START_ID = 2  # ASCII STX, "start of text"
END_ID = 3  # ASCII ETX, "end of text"
RESERVED_CHARACTERS = {"\x00": "NUL", "\x02": "STX", "\x03": "ETX"}
# Of a pairs file, after a seeded shuffle: 80% train, 10% validation, 10% test.
VALIDATION_FRACTION = 0.1
TEST_FRACTION = 0.1
MIN_PAIRS = 10

Pair = tuple[str, str]


@dataclasses.dataclass(frozen=True)
class PairSplits:
    """Sentence pairs cut into train, validation and test.

    Attributes:
        name: The data set's name.
        train: Training pairs `(source, target)`.
        validation: Held-out pairs for choosing settings and early stopping.
        test: Held-out pairs for the final figures only.
        source: Where they came from (a path or `"tensorflow-datasets"`).
    """

    name: str
    train: list[Pair]
    validation: list[Pair]
    test: list[Pair]
    source: str

    @property
    def sizes(self) -> dict[str, int]:
        """Pairs in each split."""
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}

    def quick(self, train: int = 512, evaluation: int = 64) -> PairSplits:
        """The first pairs of each split, for smoke tests."""
        return dataclasses.replace(
            self, train=self.train[:train], validation=self.validation[:evaluation], test=self.test[:evaluation]
        )


def read_pairs(path: str | Path) -> list[Pair]:
    """Read a tab-separated file of `source<TAB>target` lines.

    Blank lines are skipped; columns after the second (the attribution of
    Tatoeba/Anki exports) are ignored.

    Args:
        path: The file, UTF-8.

    Returns:
        The pairs, in file order.

    Raises:
        ArgumentValueError: When the file is missing, not UTF-8 or empty, or a line
            lacks a tab or has an empty source or target.
    """
    path = Path(path)
    if not path.is_file():
        raise ArgumentValueError("data_file", path, "no such file; give a file of source<TAB>target lines")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ArgumentValueError(
            "data_file", path, f"not UTF-8 text (offset {error.start}): convert it to UTF-8"
        ) from None
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        columns = line.split("\t")
        if len(columns) < 2:
            raise ArgumentValueError(
                "data_file",
                path,
                f"line {number} has no tab ({line[:40]!r}); "
                "each line must be source<TAB>target, as in Tatoeba/Anki exports",
            )
        source, target = columns[0].strip(), columns[1].strip()
        if not source or not target:
            raise ArgumentValueError(
                "data_file", path, f"line {number} has an empty {'source' if not source else 'target'}"
            )
        pairs.append((source, target))
    if not pairs:
        raise ArgumentValueError("data_file", path, "is empty; give a file of source<TAB>target lines")
    check_reserved_characters(pairs, str(path))
    return pairs


def check_reserved_characters(pairs: Sequence[Pair], where: str) -> None:
    """Reject pairs that contain the padding, start or end byte.

    Raises:
        DataError: Naming the first such pair.
    """
    for index, pair in enumerate(pairs):
        for text in pair:
            for character, name in RESERVED_CHARACTERS.items():
                if character in text:
                    raise DataError(
                        f"{where}: pair {index + 1} contains the control character {name} "
                        f"({ord(character):#04x}), which marks padding or sentence bounds; remove it"
                    )


def split_pairs(
    pairs: Sequence[Pair],
    name: str,
    source: str,
    *,
    seed: int = 42,
    validation_fraction: float = VALIDATION_FRACTION,
    test_fraction: float = TEST_FRACTION,
) -> PairSplits:
    """Shuffle pairs with a seed and cut them into train, validation and test.

    Raises:
        DataError: With fewer than `MIN_PAIRS` pairs.
    """
    if len(pairs) < MIN_PAIRS:
        raise DataError(f"{source}: has {len(pairs)} pairs; at least {MIN_PAIRS} are needed to train and test")
    order = list(pairs)
    random.Random(seed).shuffle(order)
    test_size = max(1, round(len(order) * test_fraction))
    validation_size = max(1, round(len(order) * validation_fraction))
    train_end = len(order) - test_size - validation_size
    return PairSplits(
        name, order[:train_end], order[train_end : train_end + validation_size], order[-test_size:], source
    )


def read_pair_splits(path: str | Path, seed: int = 42) -> PairSplits:
    """[`read_pairs`][mlrecipes.data.sentence_pairs.read_pairs] and [`split_pairs`][mlrecipes.data.sentence_pairs.split_pairs] 80 / 10 / 10."""
    path = Path(path)
    return split_pairs(read_pairs(path), name=path.stem, source=str(path), seed=seed)


def load_ted_pt_en(tfds_dir: str | Path | None = None) -> PairSplits:
    """Load `ted_hrlr_translate/pt_to_en`: TED talk transcripts, Portuguese to English.

    About 51,800 train, 1,190 validation and 1,800 test pairs.

    Raises:
        DataUnavailableError: When it is not on disk and cannot be downloaded.
    """
    datasets, _ = load_tfds(
        "ted_hrlr_translate/pt_to_en",
        ["train", "validation", "test"],
        tfds_dir=tfds_dir,
        offline_hint="pass `data_file`, a file of source<TAB>target lines, instead",
        as_supervised=True,
    )
    train, validation, test = (
        [(pt.decode("utf-8").strip(), en.decode("utf-8").strip()) for pt, en in dataset.as_numpy_iterator()]
        for dataset in datasets
    )
    splits = PairSplits("ted_hrlr_translate/pt_to_en", train, validation, test, "tensorflow-datasets")
    for part in (splits.train, splits.validation, splits.test):
        check_reserved_characters(part, splits.name)
    return splits


def write_pairs(path: str | Path, pairs: Sequence[Pair]) -> Path:
    """Write pairs as a tab-separated file that [`read_pairs`][mlrecipes.data.sentence_pairs.read_pairs] reads."""
    path = Path(path)
    path.write_text("".join(f"{source}\t{target}\n" for source, target in pairs), encoding="utf-8")
    return path


# --- Encoding ---


def byte_lengths(texts: Sequence[str]) -> np.ndarray:
    """The length of each text in UTF-8 bytes (= tokens)."""
    return np.array([len(text.encode("utf-8")) for text in texts])


def encode_sources(sources: Sequence[str], source_length: int) -> np.ndarray:
    """Source texts as `(count, source_length)` byte ids, cut or padded with 0."""
    packer = keras_hub.layers.StartEndPacker(source_length, pad_value=PAD_ID)
    return np.asarray(packer(byte_tokenizer()(tf.constant(list(sources), dtype=tf.string))), dtype=np.int32)


def encode_pairs(
    pairs: Sequence[Pair], source_length: int, target_length: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Pairs as the inputs and labels of a teacher-forced encoder–decoder.

    Args:
        pairs: `(source, target)` texts.
        source_length: Source ids per example; longer sources are cut.
        target_length: Decoder positions; a target keeps at most
            `target_length - 1` bytes, so that its end token fits.

    Returns:
        `({"source_ids", "decoder_ids"}, labels)`, `int32` arrays:
        `decoder_ids` is `STX` then the target; `labels` is the target
        then `ETX`; both padded with 0 to `target_length`.
    """
    # Each packer keeps the first target_length - 1 bytes and adds its start or end token.
    targets = byte_tokenizer()(tf.constant([target for _, target in pairs], dtype=tf.string))
    decoder_ids = keras_hub.layers.StartEndPacker(target_length, start_value=START_ID, pad_value=PAD_ID)(targets)
    labels = keras_hub.layers.StartEndPacker(target_length, end_value=END_ID, pad_value=PAD_ID)(targets)
    inputs = {
        "source_ids": encode_sources([source for source, _ in pairs], source_length),
        "decoder_ids": np.asarray(decoder_ids, dtype=np.int32),
    }
    return inputs, np.asarray(labels, dtype=np.int32)
