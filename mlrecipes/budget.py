"""How long a recipe trains by default: a budget of optimizer steps that scales with the data.

A fixed number of epochs suits one data set's size only. Six passes over
55,000 images at batch 512 are 645 optimizer steps; six passes over 1,000
images are 12, far too few to train anything. So a recipe states its default
length as a number of optimizer steps, and the epochs follow from the size of
the training split:

    epochs = clamp(ceil(steps / steps_per_epoch), min_epochs, max_epochs),
    steps_per_epoch = ceil(train_examples / batch_size).

A large data set gets the steps it needs in a few passes (at least
`min_epochs`); a small one gets more passes, up to `max_epochs`, beyond
which extra passes over the same few examples only overfit (the run then keeps
the weights of its best validation epoch anyway). `--epochs` overrides the rule.

This module imports neither TensorFlow nor Keras: the command line shows the
rule in `--help` before TensorFlow loads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def steps_per_epoch(examples: int, batch_size: int, *, drop_remainder: bool = False) -> int:
    """Optimizer steps (batches) in one pass over `examples` examples.

    Args:
        examples: Examples in the split.
        batch_size: Global batch size.
        drop_remainder: Whether a last, smaller batch is dropped.

    Returns:
        `ceil(examples / batch_size)`, or `floor` when the remainder is dropped.
    """
    return examples // batch_size if drop_remainder else math.ceil(examples / batch_size)


@dataclass(frozen=True)
class TrainingBudget:
    """A recipe's default training length: about `steps` optimizer steps, in whole epochs.

    Attributes:
        steps: The optimizer steps to aim for.
        min_epochs: Passes over the data however large it is.
        max_epochs: Passes over the data however small it is.
    """

    steps: int
    min_epochs: int = 1
    max_epochs: int = 100

    def __post_init__(self) -> None:
        if self.steps <= 0:
            raise ValueError(f"steps must be positive; received steps={self.steps}")
        if not 1 <= self.min_epochs <= self.max_epochs:
            raise ValueError(
                "min_epochs and max_epochs must satisfy 1 <= min_epochs <= max_epochs; "
                f"received min_epochs={self.min_epochs}, max_epochs={self.max_epochs}"
            )

    def epochs(self, train_examples: int, batch_size: int, *, override: int | None = None) -> int:
        """The number of epochs for a training split of `train_examples`.

        Args:
            train_examples: Examples in one pass over the training data.
            batch_size: Global batch size.
            override: Epochs asked for explicitly (`--epochs`); returned as they are when given.

        Returns:
            `override`, or `ceil(steps / steps_per_epoch)` clamped to `[min_epochs, max_epochs]`.
        """
        if override is not None:
            return override
        wanted = math.ceil(self.steps / max(1, steps_per_epoch(train_examples, batch_size)))
        return min(self.max_epochs, max(self.min_epochs, wanted))

    def describe(self) -> str:
        """The rule in words, for `--help` and the docs.

        Returns:
            For example `"enough epochs for about 864 optimizer steps, at least 1 and at most 40"`.
        """
        return f"enough epochs for about {self.steps:,} optimizer steps, at least {self.min_epochs} and at most {self.max_epochs}"
