"""Train on part of the labels: a seeded, stratified subset of the labelled texts, for transfer-learning experiments.

Pretraining pays off when labels are scarce; `keep_labels_per_class`
makes them scarce on purpose. From the training and validation examples
together it draws, for each class, either a fixed number of examples or a
share of the class, at random with a seed, then holds out
`validation_fraction` of each class's draw for validation (at least one
example stays in training). So `per_class=10` means ten labelled examples of
each class in all, as a user with ten labelled examples per class has; the
test split is untouched.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from mlrecipes.data.splits import Splits
from mlrecipes.data.text_folder import stratified_split
from mlrecipes.errors import ArgumentValueError


def _arrays(dataset: tf.data.Dataset) -> tuple[list[bytes], np.ndarray]:
    texts, labels = [], []
    for text, label in dataset.batch(4096).as_numpy_iterator():
        texts += list(text)
        labels.append(label)
    return texts, (np.concatenate(labels) if labels else np.zeros(0, np.int64))


def keep_labels_per_class(
    splits: Splits, per_class: int | float, *, validation_fraction: float = 0.1, seed: int = 42
) -> Splits:
    """Keep a seeded, stratified subset of the labelled (training and validation) examples.

    Args:
        splits: Splits of `(input, label)` pairs.
        per_class: A whole number: that many examples of each class; a number
            between 0 and 1: that share of each class (at least one example).
        validation_fraction: Share of each class's draw held out for
            validation, in [0, 1); 0 trains on all of it.
        seed: Seed of the draws.

    Returns:
        The splits with the smaller training and validation splits, in a seeded
        random order; the test split is the same.

    Raises:
        ArgumentValueError: When `per_class` is not positive, is a fraction of
            1 or more that is not a whole number, or asks for more examples than a class has.
    """
    whole = float(per_class).is_integer() and per_class >= 1
    if not (whole or 0 < per_class < 1):
        raise ArgumentValueError(
            "labels_per_class", per_class, "must be a whole number of examples (1 or more) or a share between 0 and 1"
        )
    if not 0 <= validation_fraction < 1:
        raise ArgumentValueError("validation_fraction", validation_fraction, "must be at least 0 and below 1")
    texts, labels = _arrays(splits.train.concatenate(splits.validation))
    rng = np.random.default_rng(seed)
    picked = []
    for label, name in enumerate(splits.class_names):
        members = np.flatnonzero(labels == label)
        wanted = int(per_class) if whole else max(1, round(per_class * len(members)))
        if wanted > len(members):
            raise ArgumentValueError(
                "labels_per_class", per_class, f"class {name!r} has only {len(members)} labelled training examples"
            )
        picked.append(rng.choice(members, size=wanted, replace=False))
    picked = np.concatenate(picked)
    kept, held_out = stratified_split(labels[picked], validation_fraction, seed)
    train, validation = picked[kept], picked[held_out]

    def dataset(indices: np.ndarray) -> tf.data.Dataset:
        return tf.data.Dataset.from_tensor_slices(
            (tf.constant([texts[i] for i in indices], dtype=tf.string, shape=(len(indices),)), labels[indices])
        )

    return dataclasses.replace(
        splits,
        train=dataset(train),
        validation=dataset(validation),
        sizes={**splits.sizes, "train": len(train), "validation": len(validation)},
    )
