"""Turning `--strategy` into a `tf.distribute` strategy.

The choice itself ([`choose_strategy`][mlrecipes.distribute.strategy.choose_strategy]) is a pure function of what was
asked for and what hardware is present, so it is tested without any GPU or
TPU; [`resolve_strategy`][mlrecipes.distribute.strategy.resolve_strategy] looks at the machine and builds the strategy.
The model must be built and compiled inside `strategy.scope()`, and the
batch size the recipe passes to its pipeline is the global one.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tensorflow as tf

from mlrecipes.distribute import STRATEGY_NAMES, WORKER_TIMEOUT
from mlrecipes.errors import ArgumentValueError, ConfigurationError


def tpu_configured(environ: Mapping[str, str] | None = None, dev: Path = Path("/dev")) -> bool:
    """Tell whether this machine has, or names, a TPU, without any network call.

    True on a Cloud TPU VM (`/dev/accel*` or `/dev/vfio/<n>` devices) or
    when `TPU_NAME` (or Colab's `COLAB_TPU_ADDR`) is set.
    """
    environ = os.environ if environ is None else environ
    if environ.get("TPU_NAME") or environ.get("COLAB_TPU_ADDR"):
        return True
    if any(dev.glob("accel[0-9]*")):
        return True
    vfio = dev / "vfio"
    return vfio.is_dir() and any(child.name.isdigit() for child in vfio.iterdir())


def choose_strategy(requested: str, *, gpus: int, tpu: bool, tf_config: bool) -> str:
    """Decide which kind of strategy to build.

    Args:
        requested: The `--strategy` value.
        gpus: Number of GPUs visible to TensorFlow.
        tpu: Whether a TPU is configured (see [`tpu_configured`][mlrecipes.distribute.strategy.tpu_configured]).
        tf_config: Whether `TF_CONFIG` describes a multi-worker cluster.

    Returns:
        One of `"tpu"`, `"multiworker"`, `"mirrored"`, `"gpu"`,
        `"cpu"`: for `auto`, a TPU if configured, else a multi-worker
        cluster if `TF_CONFIG` names one, else all GPUs when there are
        several, else the one GPU, else the CPU.

    Raises:
        ArgumentValueError: When the requested hardware is absent.
    """
    if requested not in STRATEGY_NAMES:
        raise ArgumentValueError("strategy", requested, f"unknown; choose from {', '.join(STRATEGY_NAMES)}")
    if requested == "auto":
        if tpu:
            return "tpu"
        if tf_config:
            return "multiworker"
        if gpus > 1:
            return "mirrored"
        return "gpu" if gpus == 1 else "cpu"
    if requested == "gpu" and gpus == 0:
        raise ArgumentValueError(
            "strategy",
            "gpu",
            "TensorFlow sees no GPU (is the CUDA build installed? pip install 'mlrecipes[gpu]'); "
            "use `strategy` cpu or auto",
        )
    if requested == "multiworker" and not tf_config:
        raise ArgumentValueError(
            "strategy",
            "multiworker",
            "TF_CONFIG is not set; set it to the cluster's JSON (see docs 'Scaling out') or start the "
            "workers with python -m mlrecipes.distribute.launch",
        )
    return requested


def read_tf_config(environ: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Read and check the `TF_CONFIG` environment variable.

    Returns:
        The parsed cluster description, or None when `TF_CONFIG` is unset or
        names no more than one worker and no chief.

    Raises:
        ArgumentValueError: When `TF_CONFIG` is not valid JSON or its task is not in
            its cluster.
    """
    environ = os.environ if environ is None else environ
    text = environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"TF_CONFIG is not valid JSON ({error.msg} at character {error.pos})") from None
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict):
        raise ConfigurationError('TF_CONFIG must be a JSON object with a "cluster" object and a "task" object')
    cluster = config["cluster"]
    task = config.get("task")
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise ConfigurationError('TF_CONFIG needs "task": {"type": "worker", "index": N}')
    members = cluster.get(task["type"])
    if not isinstance(members, list) or not members:
        raise ConfigurationError(f"TF_CONFIG task type {task['type']!r} is not in its cluster ({', '.join(cluster)})")
    index = task["index"]
    if not isinstance(index, int) or not 0 <= index < len(members):
        raise ConfigurationError(
            f"TF_CONFIG task index {index!r} is out of range: cluster has {len(members)} "
            f"{task['type']} address(es), so the index must be 0 to {len(members) - 1}"
        )
    workers = len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    return config if workers > 1 else None


LOGICAL_CPUS_PER_CORE = 4
"""`--devices cpu:N` splits the CPU into at most this many logical devices per core.

TensorFlow accepts any number, but each logical device runs a replica with its
own threads: far beyond the cores a run only slows down, and with hundreds it
did not start within 10 minutes here.
"""


def max_logical_cpus() -> int:
    """The largest `N` that `cpu:N` may ask for on this machine."""
    return LOGICAL_CPUS_PER_CORE * (os.cpu_count() or 1)


def parse_devices(spec: str) -> list[str] | int:
    """Read a `--devices` value.

    Returns:
        The number of logical CPU devices for `cpu:N`, else the device names.

    Raises:
        ArgumentValueError: When the value is neither `cpu:N` (N >= 1) nor a list of
            `/gpu:K` or `/cpu:K` names.
    """
    spec = spec.strip()
    if spec.lower().startswith("cpu:") and "," not in spec:
        count = spec[4:]
        if not count.isdigit() or int(count) < 1:
            raise ArgumentValueError("devices", spec, "cpu:N needs a whole number N of 1 or more, such as cpu:2")
        limit = max_logical_cpus()
        if int(count) > limit:
            raise ArgumentValueError(
                "devices",
                spec,
                f"more logical CPU devices than this machine can usefully make: at most {limit} "
                f"({LOGICAL_CPUS_PER_CORE} per core of its {os.cpu_count() or 1})",
            )
        return int(count)
    names = [name.strip() for name in spec.split(",") if name.strip()]
    pattern = re.compile(r"^/?(job:[\w-]+/)?(replica:\d+/)?(task:\d+/)?(device:)?(gpu|cpu|GPU|CPU):\d+$")
    bad = [name for name in names if not pattern.match(name)]
    if not names or bad:
        raise ArgumentValueError(
            "devices", spec, f"{bad[0] if bad else 'empty'} is not a device; give cpu:N or names like /gpu:0,/gpu:1"
        )
    return names


def resolve_strategy(
    requested: str = "auto",
    *,
    tpu_name: str | None = None,
    devices: str | None = None,
    worker_timeout: int | None = None,
) -> tf.distribute.Strategy:
    """Build the `tf.distribute` strategy that `--strategy` asks for.

    Args:
        requested: One of `auto`, `cpu`, `gpu`, `mirrored`,
            `multiworker`, `tpu`.
        tpu_name: The TPU's name or address for `tpu`; default `TPU_NAME`
            or the local TPU VM.
        devices: For `mirrored`: `cpu:N` (split the CPU into N logical
            devices) or a comma-separated list of devices; default all GPUs.
        worker_timeout: For `multiworker`: seconds to wait for every worker
            in `TF_CONFIG` to join; default `mlrecipes.distribute.WORKER_TIMEOUT`.

    Returns:
        The strategy; call `strategy.scope()` around building and compiling.
        A single device (`cpu`, `gpu`, or `auto` with at most one GPU)
        gets TensorFlow's default strategy, which adds no overhead.

    Raises:
        ArgumentValueError: When the asked-for hardware or cluster is absent.
    """
    if devices is not None and requested != "mirrored":
        raise ArgumentValueError(
            "devices", devices, f"only `strategy` mirrored takes a device list (got `strategy` {requested})"
        )
    tf_config = read_tf_config()
    gpus = len(tf.config.list_physical_devices("GPU"))
    kind = choose_strategy(
        requested,
        gpus=gpus,
        tpu=tpu_name is not None or tpu_configured(),
        tf_config=tf_config is not None,
    )
    if kind == "tpu":
        try:
            return _tpu_strategy(tpu_name)
        except ArgumentValueError:
            if requested == "tpu":
                raise
            kind = choose_strategy("auto", gpus=gpus, tpu=False, tf_config=tf_config is not None)
    if kind == "multiworker":
        from mlrecipes.distribute import multiworker_compat

        multiworker_compat.apply()  # keras-team/keras#20585
        return _multiworker_strategy(tf_config, WORKER_TIMEOUT if worker_timeout is None else worker_timeout)
    if kind == "mirrored":
        if devices is None:
            return tf.distribute.MirroredStrategy()
        wanted = parse_devices(devices)
        if isinstance(wanted, int):
            _split_cpu(wanted)
            wanted = [f"/cpu:{index}" for index in range(wanted)]
        return tf.distribute.MirroredStrategy(devices=wanted)
    if kind == "cpu" and gpus:
        # Hide the GPUs rather than pin a OneDeviceStrategy to the CPU: the
        # default strategy has no per-step distribution overhead (measured
        # here: OneDeviceStrategy made a small MLP's epoch twice as slow).
        tf.config.set_visible_devices([], "GPU")
    # One device (one GPU, or the CPU): the default strategy places every
    # variable and op on it.
    return tf.distribute.get_strategy()


def _split_cpu(count: int) -> None:
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == count:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        raise ArgumentValueError(
            "devices",
            f"cpu:{count}",
            "TensorFlow's devices were already set up in this process; split the CPU before anything else runs",
        ) from None


def bound_worker_registration(timeout_seconds: int) -> None:
    """Make a multi-worker strategy give up when a worker does not join in time.

    Without this, `MultiWorkerMirroredStrategy()` waits forever for a worker
    that never starts or cannot be reached, and ignores SIGTERM while it waits.
    This configures TensorFlow's coordination service the way the strategy
    would, plus a registration barrier with a deadline: every task then fails
    with `tf.errors.DeadlineExceededError` after `timeout_seconds` unless
    all have joined. Must run before the strategy is created.

    Args:
        timeout_seconds: How long every task waits for the others.
    """
    from tensorflow.python.distribute import multi_worker_util
    from tensorflow.python.eager import context

    cluster = tf.distribute.cluster_resolver.TFConfigClusterResolver().cluster_spec()
    context.context().configure_coordination_service(
        service_type="standalone",
        service_leader=multi_worker_util.coordination_leader(cluster),
        cluster_register_timeout_in_ms=timeout_seconds * 1000,
    )
    config = context.context().coordination_service  # the CoordinationServiceConfig protocol buffer
    for job in ("chief", "worker"):
        if job in cluster.jobs:
            config.coordinated_job_list.add(name=job, num_tasks=cluster.num_tasks(job))
    # Without the barrier the leader itself waits for the missing workers with no deadline.
    config.cluster_register_with_barrier = True


def _multiworker_strategy(tf_config: dict[str, Any] | None, timeout_seconds: int) -> tf.distribute.Strategy:
    bound_worker_registration(timeout_seconds)
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (tf.errors.DeadlineExceededError, tf.errors.UnavailableError) as error:
        cluster = (tf_config or {}).get("cluster", {})
        addresses = ", ".join(address for job in ("chief", "worker") for address in cluster.get(job, []))
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ArgumentValueError(
            "strategy",
            "multiworker",
            f"not every worker of TF_CONFIG ({addresses}) joined within `worker_timeout` {timeout_seconds} s "
            f"({first_line}); "
            "start them all and check the addresses",
        ) from None


def _tpu_strategy(tpu_name: str | None) -> tf.distribute.Strategy:
    tpu_name = tpu_name or os.environ.get("TPU_NAME") or None
    if tpu_name is None and not tpu_configured():
        raise ArgumentValueError(
            "strategy",
            "tpu",
            "no TPU here (not a Cloud TPU VM, and neither a TPU name nor TPU_NAME is set); "
            "use `strategy` auto, cpu or gpu",
        )
    if tpu_name and tpu_name.startswith("grpc://"):
        # The TPU runtime waits indefinitely for an address that does not
        # answer; check that it does, within seconds.
        host, _, port = tpu_name.removeprefix("grpc://").rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=10).close()
        except (OSError, ValueError) as error:
            raise ArgumentValueError("tpu", tpu_name, f"does not answer ({error})") from None
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_name or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ArgumentValueError(
            "strategy",
            "tpu",
            f"no TPU could be reached{f' named {tpu_name!r}' if tpu_name else ''} ({first_line}); "
            "run on a Cloud TPU VM or name the TPU (`tpu`)",
        ) from None
    return tf.distribute.TPUStrategy(resolver)


def strategy_name(strategy: tf.distribute.Strategy) -> str:
    """A short name for a strategy, for metrics and logs.

    The class name, such as `"MirroredStrategy"`; the single-device default
    strategy is called `"DefaultStrategy"`.
    """
    name = type(strategy).__name__
    public = {
        "_DefaultDistributionStrategy": "DefaultStrategy",
        "CollectiveAllReduceStrategy": "MultiWorkerMirroredStrategy",
        "TPUStrategyV2": "TPUStrategy",
    }
    return public.get(name, name)
