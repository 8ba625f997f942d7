"""Shared fixtures. Tests never touch the network: connections beyond loopback fail."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest

from mlrecipes.testing import write_idx

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

# Test processes for `-n auto` (setup.cfg): TensorFlow spreads each training test over every core, and each
# process holds a TensorFlow of its own, so more processes than 4 add memory more than speed.
MOST_TEST_PROCESSES = 4


def pytest_xdist_auto_num_workers(config):
    """How many processes pytest-xdist starts for `-n auto`: one per core, at most `MOST_TEST_PROCESSES`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(MOST_TEST_PROCESSES, cores)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Refuse every connection that is not to this machine."""
    real_connect = socket.socket.connect

    def guarded_connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith(("127.", "/")) or host in ("localhost", "::1")):
            raise OSError(f"tests must not touch the network (tried {address!r})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only(socket.getaddrinfo))


def _loopback_only(real):
    def getaddrinfo(host, *args, **kwargs):
        if host not in (None, "localhost", "127.0.0.1", "::1", "") and not str(host).startswith("127."):
            raise socket.gaierror(f"tests must not touch the network (tried to resolve {host!r})")
        return real(host, *args, **kwargs)

    return getaddrinfo


def make_digit_like_images(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Learnable fake 28x28 images: class k lights up row band k, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=count).astype(np.uint8)
    images = rng.integers(0, 60, size=(count, 28, 28)).astype(np.uint8)
    for index, label in enumerate(labels):
        images[index, 2 * label + 4 : 2 * label + 7, 4:24] = 230
    return images, labels


def write_mnist_folder(folder: Path, *, train: int = 600, test: int = 200, gz: bool = True) -> Path:
    """Write the four MNIST-format IDX files of a small learnable data set."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    train_images, train_labels = make_digit_like_images(train, seed=1)
    test_images, test_labels = make_digit_like_images(test, seed=2)
    write_idx(folder / f"train-images-idx3-ubyte{suffix}", train_images)
    write_idx(folder / f"train-labels-idx1-ubyte{suffix}", train_labels)
    write_idx(folder / f"t10k-images-idx3-ubyte{suffix}", test_images)
    write_idx(folder / f"t10k-labels-idx1-ubyte{suffix}", test_labels)
    return folder


@pytest.fixture
def mnist_folder(tmp_path) -> Path:
    """A folder with small, learnable MNIST-format IDX files."""
    return write_mnist_folder(tmp_path / "mnist-idx")


@pytest.fixture
def network(monkeypatch):
    """Pretend the tfds download host answers (for mocked tfds data)."""
    monkeypatch.setattr("mlrecipes.data.tfds_source.network_available", lambda *args, **kwargs: True)


@pytest.fixture
def unused_port() -> int:
    """A loopback TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
