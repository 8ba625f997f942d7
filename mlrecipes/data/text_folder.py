"""A folder of labelled texts: one sub-folder per class, one `.txt` file per text.

This is the layout of the original `aclImdb` archive and of most public text
corpora:

```text
corpus/                      corpus/
  business/001.txt             train/
  business/002.txt               neg/0_3.txt
  sport/001.txt                  pos/0_9.txt
  ...                          test/
                                 neg/ ...  pos/ ...
```

The class names are the sub-folder names, sorted (or the ones you pick, in the
order you give them). When the folder holds both `train/` and `test/`,
those are the splits; otherwise a seeded, stratified hold-out (by default 20%
of each class) becomes the test split. Either way a seeded, stratified tenth
of the training texts is held out for validation.

Only files whose name ends in `.txt` are read; other files and hidden
folders are ignored. Each file is one text, decoded as UTF-8 (a byte-order mark
is allowed).

**Bad files.** A `.txt` entry that is not a regular file (a named pipe, a
device: reading one could block for ever), or a file that is empty (or only
white space), cannot be read, holds binary data (a NUL byte) or is not valid
UTF-8 is a *bad file*.
By default (`on_bad_file="skip"`) bad files are left out and counted, and one
warning line on standard error says how many of each kind were skipped and
names the first; `on_bad_file="error"` stops at the first one with a
[`mlrecipes.errors.DataError`][mlrecipes.errors.DataError] instead. (The BBC News corpus, for one,
has a single Latin-1 file among 2,225 UTF-8 ones.) A class left with no texts,
or fewer than two classes, is always an error.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mlrecipes.data.splits import Splits
from mlrecipes.errors import ArgumentValueError, DataError

if TYPE_CHECKING:
    import tensorflow as tf

TEXT_SUFFIX = ".txt"
SPLIT_FOLDERS = ("train", "test")
BAD_FILE_POLICIES = ("skip", "error")
BAD_FILE_KINDS = ("empty", "unreadable", "binary", "not UTF-8", "not a regular file")


@dataclasses.dataclass(frozen=True)
class SkippedFile:
    """A `.txt` file left out of the data, and why.

    Attributes:
        path: The file.
        reason: One of `"empty"`, `"unreadable"`, `"binary"` or `"not UTF-8"`.
    """

    path: Path
    reason: str


@dataclasses.dataclass(frozen=True)
class TextSplits(Splits):
    """[`Splits`][mlrecipes.data.splits.Splits] of `(text, label)` pairs, with the files left out.

    Attributes:
        skipped: Every bad file that was skipped, in the order met.
    """

    skipped: tuple[SkippedFile, ...] = ()


@dataclasses.dataclass(frozen=True)
class LabelledTexts:
    """The texts of one folder of class sub-folders, in memory.

    Attributes:
        texts: One string per file.
        labels: The class index of each text.
        class_names: Name of each class, by label index.
        skipped: The bad files that were left out.
    """

    texts: list[str]
    labels: np.ndarray
    class_names: tuple[str, ...]
    skipped: tuple[SkippedFile, ...]


def decode_text(data: bytes) -> tuple[str | None, str | None]:
    """Decode one file's bytes as UTF-8 text.

    Returns:
        `(text, None)`, or `(None, reason)` when the bytes are empty (or
        only white space), binary (they hold a NUL byte) or not UTF-8.
    """
    if b"\x00" in data:
        return None, "binary"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    if not text.strip():
        return None, "empty"
    return text, None


def class_folders(folder: Path) -> list[str]:
    """The names of the visible sub-folders of `folder`, sorted."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as error:
        raise ArgumentValueError("data_dir", folder, f"cannot list the folder ({error.strerror or error})") from None
    return [entry.name for entry in entries if entry.is_dir() and not entry.name.startswith(".")]


def text_files(folder: Path) -> list[Path]:
    """The visible `.txt` entries directly inside `folder` that are not folders, sorted by name."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as error:
        raise ArgumentValueError("data_dir", folder, f"cannot list the folder ({error.strerror or error})") from None
    return [
        folder / entry.name
        for entry in entries
        if entry.name.lower().endswith(TEXT_SUFFIX) and not entry.name.startswith(".") and not entry.is_dir()
    ]


def read_labelled_texts(
    folder: str | Path,
    class_names: Sequence[str] | None = None,
    *,
    on_bad_file: str = "skip",
) -> LabelledTexts:
    """Read every `.txt` file of a folder's class sub-folders.

    Args:
        folder: A folder with one sub-folder of `.txt` files per class.
        class_names: The classes to read, in label order; None reads every
            visible sub-folder, in sorted order.
        on_bad_file: `"skip"` leaves bad files out (and lists them in
            `skipped`); `"error"` raises at the first one.

    Returns:
        The texts, their labels and the skipped files.

    Raises:
        ArgumentValueError: On fewer than two classes, a missing class folder, a class
            with no readable texts, or (`on_bad_file="error"`) a bad file.
    """
    folder = Path(folder)
    if on_bad_file not in BAD_FILE_POLICIES:
        raise ArgumentValueError("on_bad_file", on_bad_file, f"choose from {', '.join(BAD_FILE_POLICIES)}")
    found = class_folders(folder)
    if class_names is None:
        class_names = found
    else:
        missing = [name for name in class_names if name not in found]
        if missing:
            raise ArgumentValueError(
                "data_dir",
                folder,
                f"no class folder {', '.join(map(repr, missing))}; "
                f"it has {', '.join(map(repr, found)) or 'no sub-folders'}",
            )
        if len(set(class_names)) != len(class_names):
            raise ArgumentValueError("classes", list(class_names), "each class may be named only once")
    if len(class_names) < 2:
        raise ArgumentValueError(
            "data_dir",
            folder,
            f"found {len(class_names)} class folder(s) "
            f"({', '.join(class_names) or 'none'}); a classifier needs at least two sub-folders "
            f"of {TEXT_SUFFIX} files, one per class",
        )
    texts: list[str] = []
    labels: list[int] = []
    skipped: list[SkippedFile] = []
    for label, name in enumerate(class_names):
        count = 0
        files = text_files(folder / name)
        for path in files:
            if path.exists() and not path.is_file():  # a named pipe or a device could block: never read one
                text, reason = None, "not a regular file"
            else:
                try:
                    text, reason = decode_text(path.read_bytes())
                except OSError:
                    text, reason = None, "unreadable"
            if text is None:
                if on_bad_file == "error":
                    raise DataError(
                        f"{path}: {reason} file; every {TEXT_SUFFIX} file must be non-empty UTF-8 text "
                        "(or skip bad files: on_bad_file='skip')"
                    )
                skipped.append(SkippedFile(path, reason))
                continue
            texts.append(text)
            labels.append(label)
            count += 1
        if count == 0:
            bad = len(files)
            raise ArgumentValueError(
                "data_dir",
                folder,
                f"class folder {name!r} holds no readable {TEXT_SUFFIX} files"
                + (f" ({bad} bad file(s) skipped)" if bad else "")
                + "; every class needs at least one text",
            )
    return LabelledTexts(texts, np.asarray(labels, dtype=np.int64), tuple(class_names), tuple(skipped))


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split example indices in two, keeping each class's share in both parts.

    From each class, `round(fraction * n)` randomly drawn examples go to the
    held-out part, but never all of them: a class always keeps at least one
    example in the first part. Both parts are shuffled, so classes are mixed.

    Args:
        labels: The class index of each example.
        fraction: Share of each class to hold out, in [0, 1).
        seed: Seed of the random draw; the same seed gives the same split.

    Returns:
        `(kept, held_out)` index arrays.
    """
    rng = np.random.default_rng(seed)
    kept, held_out = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        count = min(round(fraction * len(members)), len(members) - 1)
        held_out.append(members[:count])
        kept.append(members[count:])
    return rng.permutation(np.concatenate(kept)), rng.permutation(np.concatenate(held_out))


def skipped_summary(skipped: Sequence[SkippedFile]) -> str:
    """The skipped files counted by reason, such as `"2 empty, 1 not UTF-8"`."""
    counts = {kind: sum(1 for item in skipped if item.reason == kind) for kind in BAD_FILE_KINDS}
    return ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)


def report_skipped(folder: Path, skipped: Sequence[SkippedFile]) -> None:
    """Print one warning line on standard error that counts the skipped files."""
    if not skipped:
        return
    summary = skipped_summary(skipped)
    print(
        f"warning: {folder}: skipped {len(skipped)} bad {TEXT_SUFFIX} file(s) ({summary}), first {skipped[0].path}",
        file=sys.stderr,
        flush=True,
    )


def _dataset(texts: Sequence[str], labels: np.ndarray) -> tf.data.Dataset:
    import tensorflow as tf  # here: BAD_FILE_POLICIES is read by the command line, before TensorFlow loads

    return tf.data.Dataset.from_tensor_slices((tf.constant(list(texts), dtype=tf.string), labels))


def load_text_folder(
    folder: str | Path,
    *,
    class_names: Sequence[str] | None = None,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.1,
    seed: int = 42,
    on_bad_file: str = "skip",
) -> TextSplits:
    """Load a folder of labelled texts as train, validation and test splits.

    Args:
        folder: Class sub-folders of `.txt` files, or `train/` and
            `test/` folders that each hold the same class sub-folders.
        class_names: The classes to use, in label order; None uses every
            class sub-folder, sorted. (Pick classes to leave a folder out, such
            as `aclImdb/train/unsup`.)
        test_fraction: Without `train/` and `test/`, the share of each
            class held out for testing.
        validation_fraction: The share of each class of the training texts
            held out for validation.
        seed: Seed of the hold-out draws and of the order of the texts.
        on_bad_file: `"skip"` or `"error"` (see the module docstring).

    Returns:
        Splits of `(text, label)` pairs: `tf.string` scalars and `int64`
        labels, each split in a seeded random order.

    Raises:
        ArgumentValueError: On a folder that does not fit the layout (see
            [`read_labelled_texts`][mlrecipes.data.text_folder.read_labelled_texts]), or fractions outside [0, 1).
    """
    folder = Path(folder)
    for argument, value in (("test_fraction", test_fraction), ("validation_fraction", validation_fraction)):
        if not 0.0 <= value < 1.0:
            raise ArgumentValueError(argument, value, "must be at least 0 and below 1")
    found = class_folders(folder)
    present = [name for name in SPLIT_FOLDERS if name in found]
    if len(present) == 1:
        other = ({*SPLIT_FOLDERS} - {present[0]}).pop()
        raise ArgumentValueError(
            "data_dir",
            folder,
            f"has {present[0]}/ but no {other}/; give both train/ and test/ "
            "(each with the same class folders), or class folders only",
        )
    if present:
        train_path, test_path = folder / "train", folder / "test"
        if class_names is None:
            train_classes, test_classes = class_folders(train_path), class_folders(test_path)
            if train_classes != test_classes:
                only_train = sorted(set(train_classes) - set(test_classes))
                only_test = sorted(set(test_classes) - set(train_classes))
                differences = "; ".join(
                    f"only in {where}/: {', '.join(names)}"
                    for where, names in (("train", only_train), ("test", only_test))
                    if names
                )
                raise ArgumentValueError(
                    "data_dir",
                    folder,
                    f"train/ and test/ hold different class folders ({differences}); "
                    "pick the classes to use (`classes`)",
                )
        train_part = read_labelled_texts(train_path, class_names, on_bad_file=on_bad_file)
        test_part = read_labelled_texts(test_path, train_part.class_names, on_bad_file=on_bad_file)
        order = np.random.default_rng(seed).permutation(len(test_part.labels))
        test_texts, test_labels = [test_part.texts[i] for i in order], test_part.labels[order]
        pool_texts, pool_labels = train_part.texts, train_part.labels
        names, skipped = train_part.class_names, train_part.skipped + test_part.skipped
        split_seed = seed
    else:
        everything = read_labelled_texts(folder, class_names, on_bad_file=on_bad_file)
        kept, held_out = stratified_split(everything.labels, test_fraction, seed)
        test_texts, test_labels = [everything.texts[i] for i in held_out], everything.labels[held_out]
        pool_texts = [everything.texts[i] for i in kept]
        pool_labels = everything.labels[kept]
        names, skipped = everything.class_names, everything.skipped
        split_seed = seed + 1
    train_index, validation_index = stratified_split(pool_labels, validation_fraction, split_seed)
    if not len(test_labels):
        raise ArgumentValueError(
            "data_dir", folder, "no texts left for testing; use more texts or a larger test fraction"
        )
    report_skipped(folder, skipped)
    return TextSplits(
        name=folder.name,
        train=_dataset([pool_texts[i] for i in train_index], pool_labels[train_index]),
        validation=_dataset([pool_texts[i] for i in validation_index], pool_labels[validation_index]),
        test=_dataset(test_texts, test_labels),
        sizes={"train": len(train_index), "validation": len(validation_index), "test": len(test_labels)},
        class_names=names,
        source=str(folder),
        skipped=tuple(skipped),
    )
