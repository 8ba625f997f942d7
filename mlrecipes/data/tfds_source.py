"""Loading data sets with tensorflow-datasets, failing fast when offline.

Without network, `tfds.load` retries its downloads for minutes before it
gives up. [`load_tfds`][mlrecipes.data.tfds_source.load_tfds] first asks whether the data set is already prepared
on disk; only if it is not does it download, and only after a short check that
the download host answers at all. Offline, the user gets one clear line within
seconds that says how to supply the data instead.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

from mlrecipes.errors import DataUnavailableError

# tensorflow-datasets keeps its metadata and most of its mirrors on this host.
DOWNLOAD_HOST = ("storage.googleapis.com", 443)
PROBE_SECONDS = 8.0


def network_available(host: tuple[str, int] = DOWNLOAD_HOST, timeout: float = PROBE_SECONDS) -> bool:
    """Tell, within `timeout` seconds, whether a TCP connection to `host` opens.

    Name resolution has no timeout of its own, so the whole check runs in a
    daemon thread and counts as failed when it takes longer than `timeout`.

    Args:
        host: `(hostname, port)` to try.
        timeout: Seconds to wait at most.

    Returns:
        True when the connection opened.
    """
    outcome: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection(host, timeout=timeout):
                outcome.append(True)
        except OSError:
            outcome.append(False)

    thread = threading.Thread(target=attempt, daemon=True, name="network-probe")
    thread.start()
    thread.join(timeout)
    return bool(outcome and outcome[0])


def load_tfds(
    name: str,
    splits: list[str],
    *,
    tfds_dir: str | Path | None = None,
    offline_hint: str,
    as_supervised: bool = True,
) -> tuple[list[Any], Any]:
    """Load splits of a tensorflow-datasets data set, downloading it if needed.

    Args:
        name: The tfds name, such as `"mnist"`.
        splits: Split names or slices, such as `["train", "test"]`.
        tfds_dir: Where tfds keeps prepared data (default `~/tensorflow_datasets`
            or `$TFDS_DATA_DIR`).
        offline_hint: What the user can do instead when the data cannot be
            downloaded, such as ``"pass `data_dir`, a folder with the four IDX files"``
            (arguments in backticks, which the command line words as flags).
        as_supervised: Return `(input, label)` pairs.

    Returns:
        The `tf.data.Dataset` of each split, and the data set's `tfds` info.

    Raises:
        DataUnavailableError: When the data set is not on disk and the download
            host cannot be reached.
    """
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=None if tfds_dir is None else str(tfds_dir))
    if not builder.is_prepared():
        if not network_available():
            raise DataUnavailableError(
                f"{name} is not in {builder.data_dir} and cannot be downloaded "
                f"(no connection to {DOWNLOAD_HOST[0]}): {offline_hint}"
            )
        builder.download_and_prepare()
    datasets = [builder.as_dataset(split=split, as_supervised=as_supervised, shuffle_files=False) for split in splits]
    return datasets, builder.info
