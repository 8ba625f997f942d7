"""Turning a split into a fast `tf.data` input pipeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from mlrecipes.budget import steps_per_epoch

__all__ = ["make_pipeline", "steps_per_epoch"]


def make_pipeline(
    dataset: tf.data.Dataset,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int | None = None,
    shuffle_buffer: int = 60_000,
    cache: bool = True,
    map_batch: Callable[..., Any] | None = None,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Cache, shuffle, batch, transform and prefetch a split.

    The order is the one the `tf.data` performance guide recommends: cache the
    decoded examples once, shuffle them anew each epoch, batch, apply any
    per-batch transformation (augmentation) in parallel, and prefetch so the
    next batch is ready while the model trains on this one.

    The pipeline is sharded by data (not by file) under multi-worker training,
    since most splits here are built in memory.

    Args:
        dataset: Unbatched examples.
        batch_size: Global batch size.
        shuffle: Reshuffle every epoch (for training).
        seed: Shuffle seed, for reproducible order.
        shuffle_buffer: Examples in the shuffle buffer; the split size gives a
            perfect shuffle.
        cache: Keep the examples in memory after the first pass.
        map_batch: A function applied to each batch, such as augmentation.
        drop_remainder: Drop a last, smaller batch (needed on TPUs).

    Returns:
        The batched, prefetched dataset.
    """
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder, num_parallel_calls=tf.data.AUTOTUNE)
    if map_batch is not None:
        dataset = dataset.map(map_batch, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
