"""Data loaders and input pipelines.

Each loader returns a :class:`~mlrecipes.data.splits.Splits` of unbatched
``tf.data`` datasets; :func:`~mlrecipes.data.pipeline.make_pipeline` batches them.
"""

from mlrecipes.data.idx import read_idx, write_idx
from mlrecipes.data.mnist import load_mnist
from mlrecipes.data.pipeline import make_pipeline, steps_per_epoch
from mlrecipes.data.splits import Splits

__all__ = ["Splits", "load_mnist", "make_pipeline", "read_idx", "steps_per_epoch", "write_idx"]
