"""Data loaders and input pipelines.

Each image and text loader returns a :class:`~mlrecipes.data.splits.Splits` of
unbatched ``tf.data`` datasets; :func:`~mlrecipes.data.pipeline.make_pipeline`
batches them. The corpus and sentence-pair readers return plain text, which their recipes turn into datasets.
"""

from mlrecipes.data.cifar10 import load_cifar10
from mlrecipes.data.idx import read_idx, write_idx
from mlrecipes.data.imdb import load_imdb
from mlrecipes.data.mnist import load_mnist
from mlrecipes.data.pipeline import make_pipeline, steps_per_epoch
from mlrecipes.data.sentence_pairs import load_ted_pt_en, read_pair_splits
from mlrecipes.data.splits import Splits
from mlrecipes.data.text_corpus import load_tiny_shakespeare, read_text_corpus
from mlrecipes.data.text_folder import load_text_folder

__all__ = [
    "Splits",
    "load_cifar10",
    "load_imdb",
    "load_mnist",
    "load_ted_pt_en",
    "load_text_folder",
    "load_tiny_shakespeare",
    "make_pipeline",
    "read_idx",
    "read_pair_splits",
    "read_text_corpus",
    "steps_per_epoch",
    "write_idx",
]
