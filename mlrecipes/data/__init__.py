"""Data loaders and input pipelines.

Each image and text loader returns a [`Splits`][mlrecipes.data.splits.Splits] of
unbatched `tf.data` datasets; [`make_pipeline`][mlrecipes.data.pipeline.make_pipeline]
batches them. The corpus and sentence-pair readers return plain text, which their recipes turn into datasets.
"""

from __future__ import annotations

from mlrecipes.lazy import lazy_attributes

# Public name -> the module that defines it. Imported on first use, so that the
# command line can read a loader's constants without loading TensorFlow.
_EXPORTS = {
    "Splits": "splits",
    "load_cifar10": "cifar10",
    "load_imdb": "imdb",
    "load_mnist": "mnist",
    "load_ted_pt_en": "sentence_pairs",
    "load_text_folder": "text_folder",
    "load_tiny_shakespeare": "text_corpus",
    "make_pipeline": "pipeline",
    "pixel_statistics": "statistics",
    "read_idx": "idx",
    "read_pair_splits": "sentence_pairs",
    "read_text_corpus": "text_corpus",
    "steps_per_epoch": "pipeline",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_attributes(__name__, _EXPORTS)
