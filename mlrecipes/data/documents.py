"""Unlabelled documents for pretraining: IMDB's unlabelled reviews, a folder of `.txt` files, or one file.

A pretraining corpus is a list of documents (strings). Three sources:

- `load_imdb_unlabelled`: the 50,000 unlabelled reviews of IMDB
  (tensorflow-datasets `imdb_reviews`, split `unsupervised`), downloaded once;
- `read_document_folder`: every `.txt` file under a folder, recursively
  (hidden files and folders skipped), one document per file — the unpacked
  `aclImdb/train/unsup` folder, or a labelled corpus read without its labels;
- `read_document_file`: one UTF-8 file, cut into documents at blank
  lines (or, when it has none, one document per line).

`split_documents` then holds out a seeded random share of the documents
for validation and for testing, so no held-out sentence is also trained on.
Bad files in a folder (empty, binary, not UTF-8, unreadable) are skipped and
counted in one warning line, as [`mlrecipes.data.text_folder`][mlrecipes.data.text_folder] does.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mlrecipes.data.text_folder import TEXT_SUFFIX, SkippedFile, decode_text, report_skipped, skipped_summary
from mlrecipes.data.tfds_source import load_tfds
from mlrecipes.errors import ArgumentValueError, DataError

HELD_OUT_FRACTION = 0.05
"""Of a corpus, the share of documents that validates, and again the share that tests."""
MIN_DOCUMENTS = 3
"""A corpus needs a document for each of training, validation and testing."""
IMDB_OFFLINE_HINT = (
    "pass `data_dir`, a folder of .txt files, instead, such as the unpacked aclImdb archive's train/unsup "
    "(https://ai.stanford.edu/~amaas/data/sentiment/), or `data_file`, one text file"
)


@dataclasses.dataclass(frozen=True)
class Documents:
    """A corpus of documents split into train, validation and test.

    Attributes:
        name: The corpus' name (`"imdb_reviews"` or the folder's or file's name).
        train: Documents to learn from.
        validation: Held-out documents for choosing the epoch.
        test: Held-out documents for the final figures only.
        source: Where they came from (a path or `"tensorflow-datasets"`).
        skipped: Files of a folder that were left out, and why.
    """

    name: str
    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...]
    source: str
    skipped: tuple[SkippedFile, ...] = ()

    @property
    def sizes(self) -> dict[str, int]:
        """Documents in each part."""
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}

    def quick(self, train: int = 400, evaluation: int = 40) -> Documents:
        """The first documents of each part, for smoke tests."""
        return dataclasses.replace(
            self, train=self.train[:train], validation=self.validation[:evaluation], test=self.test[:evaluation]
        )


def split_documents(
    documents: Sequence[str],
    *,
    name: str,
    source: str,
    held_out_fraction: float = HELD_OUT_FRACTION,
    seed: int = 42,
    skipped: Sequence[SkippedFile] = (),
) -> Documents:
    """Hold out a seeded random share of the documents for validation and another for testing.

    Args:
        documents: The corpus; empty documents are dropped.
        name: The corpus' name.
        source: Where it came from.
        held_out_fraction: Share of the documents in each held-out part (at
            least one document each).
        seed: Seed of the draw; the same seed gives the same parts.
        skipped: Files left out while reading, recorded with the parts.

    Returns:
        The parts, each in a seeded random order.

    Raises:
        DataError: When fewer than three non-empty documents remain.
    """
    documents = [document for document in documents if document.strip()]
    if len(documents) < MIN_DOCUMENTS:
        raise DataError(
            f"{source}: {len(documents)} non-empty document(s); pretraining needs at least {MIN_DOCUMENTS} "
            "(one each to train, validate and test), and far more to learn anything"
        )
    order = np.random.default_rng(seed).permutation(len(documents))
    held_out = max(1, round(held_out_fraction * len(documents)))
    held_out = min(held_out, (len(documents) - 1) // 2)
    validation, test, train = np.split(order, [held_out, 2 * held_out])
    pick = lambda indices: tuple(documents[index] for index in indices)  # noqa: E731
    return Documents(name, pick(train), pick(validation), pick(test), source, tuple(skipped))


def read_document_folder(folder: str | Path, *, on_bad_file: str = "skip") -> tuple[list[str], list[SkippedFile]]:
    """Read every `.txt` file under a folder, recursively, one document per file.

    Args:
        folder: The folder.
        on_bad_file: `"skip"` (count bad files in one warning) or `"error"`.

    Returns:
        The documents (in path order) and the files skipped.

    Raises:
        ArgumentValueError: (argument `data_dir`) When the folder does not
            exist, holds no `.txt` file, or none that holds text.
        DataError: With `on_bad_file="error"`, at the first bad file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        reason = "is a file, not a folder" if folder.exists() else "no such folder"
        raise ArgumentValueError("data_dir", folder, f"{reason}; give a folder of .txt files")
    paths = []
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        paths += [
            Path(root) / name
            for name in sorted(files)
            if name.lower().endswith(TEXT_SUFFIX) and not name.startswith(".")
        ]
    if not paths:
        raise ArgumentValueError("data_dir", folder, "holds no .txt file (searched recursively)")
    documents, skipped = [], []
    for path in paths:
        if not path.is_file():
            text, problem = None, "not a regular file"
        else:
            try:
                text, problem = decode_text(path.read_bytes())
            except OSError:
                text, problem = None, "unreadable"
        if problem is None:
            documents.append(text)
        elif on_bad_file == "error":
            raise DataError(f"{path}: {problem} file; fix or remove it, or skip bad files")
        else:
            skipped.append(SkippedFile(path, problem))
    if not documents:
        summary = skipped_summary(skipped)
        raise ArgumentValueError("data_dir", folder, f"none of its {len(paths)} .txt files holds text ({summary})")
    report_skipped(folder, skipped)
    return documents, skipped


def read_document_file(path: str | Path) -> list[str]:
    """Read one UTF-8 text file as documents: its paragraphs, or its lines if it has no blank line.

    Args:
        path: The file.

    Returns:
        The non-empty documents, in file order.

    Raises:
        ArgumentValueError: (argument `data_file`) When the file is missing,
            not a regular file, unreadable, binary, not UTF-8 or empty.
    """
    path = Path(path)
    if not path.is_file():
        reason = "not a regular file" if path.exists() else "no such file"
        raise ArgumentValueError("data_file", path, f"{reason}; give a UTF-8 text file")
    try:
        text, problem = decode_text(path.read_bytes())
    except OSError as error:
        raise ArgumentValueError("data_file", path, f"cannot be read ({error.strerror or error})") from None
    if problem:
        raise ArgumentValueError("data_file", path, f"{problem} file; give a UTF-8 text file with some text")
    text = text.replace("\r\n", "\n")
    parts = re.split(r"\n\s*\n", text) if re.search(r"\n\s*\n", text) else text.split("\n")
    return [part.strip() for part in parts if part.strip()]


def load_imdb_unlabelled(tfds_dir: str | Path | None = None) -> list[str]:
    """The 50,000 unlabelled IMDB reviews, from tensorflow-datasets (downloaded once).

    Args:
        tfds_dir: Where tensorflow-datasets keeps its data.

    Returns:
        The reviews.

    Raises:
        DataUnavailableError: When the data set is not on disk and cannot be downloaded.
    """
    (reviews,), _ = load_tfds(
        "imdb_reviews", ["unsupervised"], tfds_dir=tfds_dir, offline_hint=IMDB_OFFLINE_HINT, as_supervised=True
    )
    return [text.decode("utf-8") for text, _ in reviews.as_numpy_iterator()]
