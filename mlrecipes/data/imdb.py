"""IMDB movie reviews (sentiment): from tensorflow-datasets, or the `aclImdb` folder.

The Large Movie Review Dataset (Maas et al., 2011) holds 50,000 English movie
reviews from IMDB, labelled `neg` (rating 4 or less out of 10) or `pos`
(7 or more), half for training and half for testing, with 25,000 of each
label. The last `validation_size` training reviews are held out for
validation.

tensorflow-datasets downloads it once (as `imdb_reviews`, about 80 MB) to
`~/tensorflow_datasets`. Offline, unpack the original archive
(`aclImdb_v1.tar.gz`) anywhere and read it as a folder of labelled texts with
[`mlrecipes.data.text_folder.load_text_folder`][mlrecipes.data.text_folder.load_text_folder] and
`class_names=("neg", "pos")` (its `train/unsup` folder holds unlabelled
reviews).
"""

from __future__ import annotations

from pathlib import Path

from mlrecipes.data.splits import Splits
from mlrecipes.data.tfds_source import load_tfds

TFDS_NAME = "imdb_reviews"
OFFLINE_HINT = (
    "pass `data_dir`, a folder of labelled texts, instead, such as the unpacked aclImdb archive "
    "(https://ai.stanford.edu/~amaas/data/sentiment/) with `classes` neg pos"
)


def load_imdb(*, validation_size: int = 2500, tfds_dir: str | Path | None = None) -> Splits:
    """Load IMDB reviews as train, validation and test splits of `(text, label)`.

    Args:
        validation_size: Training reviews held out (the last ones) for
            validation; capped at a tenth of the training reviews.
        tfds_dir: Where tensorflow-datasets keeps its data.

    Returns:
        The splits: `tf.string` reviews and `int64` labels, 0 for `neg`
        and 1 for `pos`.

    Raises:
        DataUnavailableError: When the data set is not on disk and cannot be
            downloaded.
    """
    (train, test), info = load_tfds(
        TFDS_NAME, ["train", "test"], tfds_dir=tfds_dir, offline_hint=OFFLINE_HINT, as_supervised=True
    )
    num_train, num_test = int(train.cardinality()), int(test.cardinality())
    if num_train < 0 or num_test < 0:
        num_train = info.splits["train"].num_examples
        num_test = info.splits["test"].num_examples
    held_out = min(validation_size, num_train // 10) or 1
    return Splits(
        name=TFDS_NAME,
        train=train.take(num_train - held_out),
        validation=train.skip(num_train - held_out),
        test=test,
        sizes={"train": num_train - held_out, "validation": held_out, "test": num_test},
        class_names=tuple(info.features["label"].names),
        source="tensorflow-datasets",
    )
