"""The train, validation and test splits of a data set, as one object."""

from __future__ import annotations

import dataclasses
from typing import Any

QUICK_TRAIN_EXAMPLES = 2048
QUICK_EVAL_EXAMPLES = 512


@dataclasses.dataclass(frozen=True)
class Splits:
    """A data set cut into train, validation and test splits.

    Each split is an unbatched `tf.data.Dataset` of `(input, label)` pairs;
    batching and shuffling belong to the recipe's pipeline.

    Attributes:
        name: The data set's name, such as `"fashion_mnist"`.
        train: Training examples.
        validation: Held-out examples for choosing settings and early stopping.
        test: Held-out examples for the final figure only.
        sizes: Number of examples in each split, by split name.
        class_names: Name of each class, by label index.
        source: Where the data came from (a folder, or `"tensorflow-datasets"`).
    """

    name: str
    train: Any
    validation: Any
    test: Any
    sizes: dict[str, int]
    class_names: tuple[str, ...]
    source: str

    @property
    def num_classes(self) -> int:
        """The number of classes."""
        return len(self.class_names)

    def quick(self, train: int = QUICK_TRAIN_EXAMPLES, evaluation: int = QUICK_EVAL_EXAMPLES) -> Splits:
        """Return the first few examples of each split, for smoke tests.

        Args:
            train: Training examples to keep.
            evaluation: Validation and test examples to keep, each.
        """
        return dataclasses.replace(
            self,
            train=self.train.take(train),
            validation=self.validation.take(evaluation),
            test=self.test.take(evaluation),
            sizes={
                "train": min(train, self.sizes["train"]),
                "validation": min(evaluation, self.sizes["validation"]),
                "test": min(evaluation, self.sizes["test"]),
            },
        )
