"""Try multi-worker training on one machine: start N workers of a recipe.

Usage:

```bash
python -m mlrecipes.distribute.launch --workers 2 recipes.mnist_mlp --dataset fashion_mnist --data-dir DIR
```

Each worker is a separate process with its own `TF_CONFIG` naming every
worker's loopback address and its own index, and runs the recipe with
`--strategy multiworker` (`MultiWorkerMirroredStrategy`). Their output is
streamed line by line with a `[worker N]` prefix. The launcher exits with
status 0 when every worker succeeds; when one fails it stops the others and
exits with that worker's status. On real machines, set `TF_CONFIG` by hand
on each (see the "Scaling out" guide) instead.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO

from mlrecipes.cli import OneLineErrorParser, positive_int

STOP_GRACE_SECONDS = 10.0


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Pick `count` distinct TCP ports that are free on `host` right now."""
    sockets = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind((host, 0))
            sockets.append(probe)
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Tell whether a TCP port on `host` cannot be bound."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def tf_configs(addresses: Sequence[str]) -> list[str]:
    """The `TF_CONFIG` of each worker of a cluster of `addresses`."""
    cluster = {"worker": list(addresses)}
    return [
        json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}) for index in range(len(addresses))
    ]


def _stream(prefix: str, pipe: IO[str], out: IO[str], lock: threading.Lock) -> None:
    for line in pipe:
        with lock:
            out.write(f"{prefix}{line}")
            out.flush()


def build_parser() -> argparse.ArgumentParser:
    """The launcher's command line."""
    parser = OneLineErrorParser(
        prog="python -m mlrecipes.distribute.launch",
        description="Run a recipe on N local worker processes with MultiWorkerMirroredStrategy.",
    )
    parser.add_argument("--workers", type=positive_int, default=2, help="number of worker processes")
    parser.add_argument(
        "--port",
        type=positive_int,
        default=None,
        help="first port; workers use PORT, PORT+1, ... (default: free ports chosen at random)",
    )
    parser.add_argument("--timeout", type=positive_int, default=None, help="stop every worker after this many seconds")
    parser.add_argument("recipe", help="the recipe module, such as recipes.mnist_mlp")
    parser.add_argument("recipe_args", nargs=argparse.REMAINDER, help="flags passed on to the recipe")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Start the workers, stream their output and return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.recipe.replace(".", "").replace("_", "").isalnum():
        parser.error(f"argument recipe: {args.recipe!r} is not a module name such as recipes.mnist_mlp")
    if args.port is not None:
        ports = list(range(args.port, args.port + args.workers))
        if ports[-1] > 65535:
            parser.error(f"argument --port: {args.port} + {args.workers} workers goes past port 65535")
        busy = [port for port in ports if port_in_use(port)]
        if busy:
            parser.error(f"argument --port: port {busy[0]} is in use; choose another --port or leave it out")
    else:
        ports = free_ports(args.workers)
    recipe_args = list(args.recipe_args)
    if "--strategy" not in recipe_args and not any(arg.startswith("--strategy=") for arg in recipe_args):
        recipe_args += ["--strategy", "multiworker"]

    lock = threading.Lock()
    workers: list[subprocess.Popen[str]] = []
    streams: list[threading.Thread] = []
    for index, config in enumerate(tf_configs([f"127.0.0.1:{port}" for port in ports])):
        environment = {**os.environ, "TF_CONFIG": config, "PYTHONUNBUFFERED": "1"}
        worker = subprocess.Popen(
            [sys.executable, "-m", args.recipe, *recipe_args],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        workers.append(worker)
        thread = threading.Thread(
            target=_stream, args=(f"[worker {index}] ", worker.stdout, sys.stdout, lock), daemon=True
        )
        thread.start()
        streams.append(thread)

    status = _wait(workers, args.timeout)
    for thread in streams:
        thread.join(timeout=5)
    return status


def _wait(workers: list[subprocess.Popen[str]], timeout: int | None) -> int:
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            codes = [worker.poll() for worker in workers]
            failed = [(index, code) for index, code in enumerate(codes) if code not in (None, 0)]
            if failed:
                index, code = failed[0]
                sys.stderr.write(f"launch: worker {index} failed with exit status {code}; stopping the others\n")
                _stop(workers)
                return code
            if all(code == 0 for code in codes):
                return 0
            if deadline is not None and time.monotonic() > deadline:
                sys.stderr.write(f"launch: workers still running after --timeout {timeout} s; stopping them\n")
                _stop(workers)
                return 124
            time.sleep(0.2)
    except KeyboardInterrupt:
        _stop(workers)
        return 130


def _stop(workers: list[subprocess.Popen[str]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for worker in workers:
        try:
            worker.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


if __name__ == "__main__":
    sys.exit(main())
