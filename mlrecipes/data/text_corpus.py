"""A text corpus for language modelling: read, split, and cut into next-token windows.

A corpus is one long string. [`read_text_corpus`][mlrecipes.data.text_corpus.read_text_corpus] reads a UTF-8 text file
or every file of a folder; [`load_tiny_shakespeare`][mlrecipes.data.text_corpus.load_tiny_shakespeare] loads the default
corpus from tensorflow-datasets. Either gives a [`TextCorpus`][mlrecipes.data.text_corpus.TextCorpus] with a train,
validation and test part. [`next_token_windows`][mlrecipes.data.text_corpus.next_token_windows] turns a part into the
training examples of a language model: the bytes of the text as token ids (`keras_hub.tokenizers.ByteTokenizer`, one id
per UTF-8 byte, so any text is covered and nothing is out of vocabulary), cut into windows of `sequence_length` inputs
whose targets are the same ids shifted by one:

```text
text      "To be, or not"
inputs     T  o  ␣  b  e  ,  ...
targets    o  ␣  b  e  ,  ␣  ...
```
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import keras_hub
import numpy as np
import tensorflow as tf

from mlrecipes.data.tfds_source import load_tfds
from mlrecipes.errors import ArgumentValueError, DataError

# One token per byte: ids 0-255.
BYTE_VOCABULARY_SIZE = 256
# Of a file corpus: the first 90% trains, the next 5% validates, the last 5% tests.
VALIDATION_FRACTION = 0.05
TEST_FRACTION = 0.05


def byte_tokenizer() -> keras_hub.tokenizers.ByteTokenizer:
    """The tokenizer of the text recipes: UTF-8 bytes as ids 0-255, case kept."""
    return keras_hub.tokenizers.ByteTokenizer(lowercase=False)


def characters_in(token_ids: np.ndarray) -> int:
    """The number of characters that a run of UTF-8 byte ids spells.

    Every UTF-8 character has exactly one byte that is not a continuation byte
    (`10xxxxxx`), so counting those counts characters, even in a window that
    starts or ends inside a character.
    """
    token_ids = np.asarray(token_ids)
    return int(np.count_nonzero((token_ids & 0b1100_0000) != 0b1000_0000))


@dataclasses.dataclass(frozen=True)
class TextCorpus:
    """A corpus cut into train, validation and test text.

    Attributes:
        name: The corpus' name (`"tiny_shakespeare"` or the file's name).
        train: The training text.
        validation: Held-out text for choosing settings and early stopping.
        test: Held-out text for the final figures only.
        source: Where it came from (a path or `"tensorflow-datasets"`).
    """

    name: str
    train: str
    validation: str
    test: str
    source: str

    @property
    def sizes(self) -> dict[str, int]:
        """Characters in each part."""
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}

    def quick(self, train: int = 40_000, evaluation: int = 8_000) -> TextCorpus:
        """The first characters of each part, for smoke tests."""
        return dataclasses.replace(
            self, train=self.train[:train], validation=self.validation[:evaluation], test=self.test[:evaluation]
        )


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path}: not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start}): "
            "convert it to UTF-8, for example with iconv -t UTF-8"
        ) from None


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file, or every file in a folder (sorted by path, recursively).

    Files of a folder are joined with a blank line; hidden files are skipped.

    Args:
        path: A text file or a folder of them.

    Returns:
        The text.

    Raises:
        ArgumentValueError: When the path does not exist, a file is not UTF-8, or
            there is no text at all.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(
            file
            for file in path.rglob("*")
            if file.is_file() and not any(part.startswith(".") for part in file.relative_to(path).parts)
        )
        if not files:
            raise ArgumentValueError(
                "data_file", path, "the folder has no files; give a UTF-8 text file or a folder of them"
            )
    elif path.is_file():
        files = [path]
    elif path.exists():
        raise ArgumentValueError("data_file", path, "not a regular file or a folder (a named pipe or a device?)")
    else:
        raise ArgumentValueError("data_file", path, "no such file or folder")
    try:
        text = "\n\n".join(_decode(file, file.read_bytes()) for file in files)
    except OSError as error:
        raise ArgumentValueError("data_file", path, f"cannot be read ({error.strerror})") from None
    if not text.strip():
        raise ArgumentValueError("data_file", path, "is empty; give a UTF-8 text file with some text")
    return text


def split_text(
    text: str,
    name: str,
    source: str,
    validation_fraction: float = VALIDATION_FRACTION,
    test_fraction: float = TEST_FRACTION,
) -> TextCorpus:
    """Cut a text into train, validation and test parts, in this order.

    The held-out parts come from the end of the text, not from random places,
    so that no held-out sentence also appears (overlapping a window) in training.

    Args:
        text: The whole corpus.
        name: The corpus' name.
        source: Where it came from.
        validation_fraction: Share of the characters that validate.
        test_fraction: Share of the characters (the last ones) that test.
    """
    train_end = len(text) - math.ceil(len(text) * (validation_fraction + test_fraction))
    validation_end = len(text) - math.ceil(len(text) * test_fraction)
    return TextCorpus(name, text[:train_end], text[train_end:validation_end], text[validation_end:], source)


def read_text_corpus(path: str | Path) -> TextCorpus:
    """Read a text file or folder and split it 90 / 5 / 5 (see [`split_text`][mlrecipes.data.text_corpus.split_text])."""
    path = Path(path)
    return split_text(read_text(path), name=path.stem or path.name, source=str(path))


def load_tiny_shakespeare(tfds_dir: str | Path | None = None) -> TextCorpus:
    """Load tensorflow-datasets' `tiny_shakespeare` (40,000 lines of Shakespeare's plays).

    Each of its train, validation and test splits is one long text.

    Args:
        tfds_dir: Where tfds keeps prepared data (default: its own default).

    Raises:
        DataUnavailableError: When it is not on disk and cannot be downloaded.
    """
    datasets, _ = load_tfds(
        "tiny_shakespeare",
        ["train", "validation", "test"],
        tfds_dir=tfds_dir,
        offline_hint="pass `data_file`, a UTF-8 text file (or a folder of them), instead",
        as_supervised=False,
    )
    train, validation, test = (
        "".join(example["text"].decode("utf-8") for example in dataset.as_numpy_iterator()) for dataset in datasets
    )
    return TextCorpus("tiny_shakespeare", train, validation, test, "tensorflow-datasets")


def encode(text: str) -> np.ndarray:
    """The byte-token ids of a text, as a 1-D `int32` array."""
    return np.asarray(byte_tokenizer()(tf.constant(text)), dtype=np.int32)


def next_token_windows(text: str, sequence_length: int, part: str = "text") -> tuple[np.ndarray, np.ndarray]:
    """Cut a text into windows of next-token examples.

    The ids are cut into consecutive, non-overlapping windows of
    `sequence_length` inputs; the targets are the ids one position later,
    so every id but the first is predicted exactly once. A last incomplete
    window is dropped.

    Args:
        text: The text.
        sequence_length: Tokens per window (the model's context).
        part: What the text is, for the error message ("train", ...).

    Returns:
        `(inputs, targets)`, two `int32` arrays of shape `(windows, sequence_length)`.

    Raises:
        DataError: When the text is shorter than one window plus one token.
    """
    ids = encode(text)
    windows = (len(ids) - 1) // sequence_length
    if windows < 1:
        raise DataError(
            f"the {part} text has {len(ids)} bytes, fewer than the {sequence_length + 1} that one sequence of "
            f"`sequence_length` {sequence_length} needs: give more text (the validation and test parts are "
            f"{VALIDATION_FRACTION:.0%} and {TEST_FRACTION:.0%} of it each) or a smaller `sequence_length`"
        )
    inputs = ids[: windows * sequence_length].reshape(windows, sequence_length)
    targets = ids[1 : windows * sequence_length + 1].reshape(windows, sequence_length)
    return inputs, targets


def window_dataset(text: str, sequence_length: int, part: str = "text") -> tuple[tf.data.Dataset, int, int]:
    """[`next_token_windows`][mlrecipes.data.text_corpus.next_token_windows] as an unbatched `tf.data.Dataset` of `(inputs, targets)`.

    Returns:
        The dataset, the number of predicted tokens (bytes) and the number of
        characters those tokens spell (for bits per character).
    """
    inputs, targets = next_token_windows(text, sequence_length, part)
    return tf.data.Dataset.from_tensor_slices((inputs, targets)), targets.size, characters_in(targets)
