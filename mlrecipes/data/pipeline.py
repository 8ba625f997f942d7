"""Turning a split into a fast ``tf.data`` input pipeline."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import tensorflow as tf


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

    The order is the one the ``tf.data`` performance guide recommends: cache the
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


def steps_per_epoch(examples: int, batch_size: int, *, drop_remainder: bool = False) -> int:
    """Batches in one pass over ``examples`` examples.

    Args:
        examples: Examples in the split.
        batch_size: Global batch size.
        drop_remainder: Whether a last, smaller batch is dropped.

    Returns:
        ``ceil(examples / batch_size)``, or ``floor`` when the remainder is dropped.
    """
    return examples // batch_size if drop_remainder else math.ceil(examples / batch_size)
