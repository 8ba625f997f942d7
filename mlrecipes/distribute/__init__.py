"""Distributed training: the `tf.distribute` strategy, the local multi-worker launcher and a Keras fix.

- [`mlrecipes.distribute.strategy`][mlrecipes.distribute.strategy] turns `--strategy` into a strategy.
- [`mlrecipes.distribute.launch`][mlrecipes.distribute.launch] starts several local workers
  (`python -m mlrecipes.distribute.launch`).
- [`mlrecipes.distribute.multiworker_compat`][mlrecipes.distribute.multiworker_compat] patches Keras for
  `MultiWorkerMirroredStrategy`.

The strategy functions are re-exported here but imported on first use, so that
the launcher (which never trains) starts without loading TensorFlow.
"""

from __future__ import annotations

from mlrecipes.lazy import lazy_attributes

STRATEGY_NAMES = ("auto", "cpu", "gpu", "mirrored", "multiworker", "tpu")
"""The strategies `resolve_strategy` knows (and `--strategy` accepts)."""

WORKER_TIMEOUT = 300
"""Seconds a multi-worker run waits, by default, for every worker to join."""

_STRATEGY_EXPORTS = (
    "choose_strategy",
    "parse_devices",
    "read_tf_config",
    "resolve_strategy",
    "strategy_name",
    "tpu_configured",
)

__all__ = ["STRATEGY_NAMES", "WORKER_TIMEOUT", *_STRATEGY_EXPORTS]

__getattr__ = lazy_attributes(__name__, dict.fromkeys(_STRATEGY_EXPORTS, "strategy"))
