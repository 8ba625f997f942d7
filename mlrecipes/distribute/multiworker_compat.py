"""Make Keras 3's `fit` work under `MultiWorkerMirroredStrategy`.

Keras 3's TensorFlow trainer fails under `tf.distribute.MultiWorkerMirroredStrategy`
(upstream: https://github.com/keras-team/keras/issues/20585, open since
TensorFlow 2.16, and https://github.com/tensorflow/tensorflow/issues/72388), in
two places:

1. `TensorFlowTrainer._maybe_symbolic_build` builds the model on a batch it
   gets by reducing a per-replica *data* batch with
   `strategy.reduce("MEAN", ...)` eagerly, which the collective strategy
   cannot do with integer inputs ("Attempt to convert a value ... PerReplica
   ... to a Tensor"). Building needs only the shapes and dtypes of one batch,
   so this module builds on one local replica's batch instead.
2. `reduce_per_replica` reduces the step's logs with
   `strategy.reduce("MEAN", v, axis=0)`, which fails for the rank-0 loss and
   metric values. This module reduces rank-0 values with `axis=None` (the
   mean over replicas) and keeps `axis=0` for batched values.

[`apply`][mlrecipes.distribute.multiworker_compat.apply] installs both fixes. It is called only when a recipe builds a
`MultiWorkerMirroredStrategy`, only patches Keras 3 versions up to
[`LAST_AFFECTED`][mlrecipes.distribute.multiworker_compat.LAST_AFFECTED], and the patched functions behave exactly as
the originals under every other strategy. Remove this module once the upstream issues are fixed.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

LAST_AFFECTED = (3, 15)
"""The newest Keras (major, minor) patched: 3.15.1, the newest checked here, still has both bugs."""

_applied = False


def is_affected(version: str = keras.__version__) -> bool:
    """Whether this Keras version has the multi-worker `fit` bugs (Keras 3.0 to 3.15)."""
    parts = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    return (3, 0) <= parts <= LAST_AFFECTED


def _is_multi_worker(strategy: Any) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def apply() -> bool:
    """Install the fixes into Keras' TensorFlow trainer, once.

    Returns:
        True when the fixes are in place, False when this Keras is not affected.
    """
    global _applied
    if _applied:
        return True
    if not is_affected():
        return False
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    original_build = tf_trainer.TensorFlowTrainer._maybe_symbolic_build
    original_reduce = tf_trainer.reduce_per_replica

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        if strategy is None or not _is_multi_worker(strategy) or iterator is None:
            return original_build(self, iterator=iterator, data_batch=data_batch)
        for _, _, it in iterator:
            batch = next(it)
            data_batch = tree.map_structure(
                lambda value: (
                    strategy.experimental_local_results(value)[0]
                    if isinstance(value, tf.distribute.DistributedValues)
                    else value
                ),
                batch,
            )
            break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def reduce_per_replica(values, strategy, reduction):
        if not _is_multi_worker(strategy) or reduction not in ("auto", "mean"):
            return original_reduce(values, strategy, reduction)

        def _mean(value):
            local = (
                strategy.experimental_local_results(value)[0]
                if isinstance(value, tf.distribute.DistributedValues)
                else value
            )
            rank = getattr(getattr(local, "shape", None), "rank", 0)
            return strategy.reduce("MEAN", value, axis=0 if rank else None)

        return tree.map_structure(_mean, values)

    tf_trainer.TensorFlowTrainer._maybe_symbolic_build = _maybe_symbolic_build
    tf_trainer.reduce_per_replica = reduce_per_replica
    _applied = True
    return True
