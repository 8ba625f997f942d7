"""Data parallelism for real on this CPU: mirrored replicas and a two-worker cluster."""

import json
import os
import re
import signal
import socket
import textwrap
import time

import pytest

from mlrecipes.distribute import multiworker_compat, parse_devices
from mlrecipes.distribute.launch import tf_configs
from mlrecipes.errors import ArgumentValueError
from recipes import mnist_mlp

from recipe_harness import (
    ROOT,
    assert_one_line_error,
    mnist_mlp_killed_mid_epoch,
    python_process,
    read_metrics,
    runner,
)


def test_compat_patch_is_limited_to_affected_keras_versions():
    assert multiworker_compat.is_affected("3.15.1")
    assert multiworker_compat.is_affected("3.0.0")
    assert not multiworker_compat.is_affected("2.15.0")
    assert not multiworker_compat.is_affected("3.16.0")


def test_generated_tf_configs():
    configs = [json.loads(text) for text in tf_configs(["127.0.0.1:5000", "127.0.0.1:5001"])]
    assert [config["task"] for config in configs] == [{"type": "worker", "index": 0}, {"type": "worker", "index": 1}]
    assert configs[0]["cluster"] == {"worker": ["127.0.0.1:5000", "127.0.0.1:5001"]}


@pytest.mark.parametrize(
    "spec, expected", [("cpu:2", 2), ("/gpu:0,/gpu:1", ["/gpu:0", "/gpu:1"]), ("GPU:3", ["GPU:3"])]
)
def test_device_lists(spec, expected):
    assert parse_devices(spec) == expected


@pytest.mark.parametrize("spec", ["cpu:0", "cpu:x", "tpu:0", "", "/gpu:0,nonsense"])
def test_bad_device_lists(spec):
    with pytest.raises(ArgumentValueError, match="argument `devices`"):
        parse_devices(spec)


exit_status = runner(mnist_mlp.main)


def test_devices_only_with_mirrored(tmp_path, capsys):
    assert exit_status(["--output-dir", str(tmp_path / "run"), "--devices", "cpu:2", "--strategy", "cpu"]) == 2
    assert_one_line_error(capsys, "only --strategy mirrored takes a device list", nothing_at=tmp_path / "run")


@pytest.mark.parametrize(
    "tf_config, message",
    [
        ("{bad json", "TF_CONFIG is not valid JSON"),
        (
            '{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 5}}',
            "index 5 is out of range",
        ),
    ],
)
def test_malformed_tf_config_is_one_line(monkeypatch, tmp_path, capsys, tf_config, message):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    assert exit_status(["--output-dir", str(tmp_path / "run"), "--strategy", "multiworker"]) == 2
    assert_one_line_error(capsys, message, nothing_at=tmp_path / "run")


MIRRORED_STEP = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from mlrecipes.distribute import resolve_strategy
    import keras, tensorflow as tf
    from mlrecipes.models import build_mlp

    mirrored = resolve_strategy("mirrored", devices="cpu:2")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 12)).astype("float32")
    y = rng.integers(0, 3, size=64)

    def one_step(strategy):
        keras.utils.set_random_seed(7)
        with strategy.scope():
            model = build_mlp((12,), [16], 3)
            model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
        model.fit(data, epochs=1, verbose=0)
        return model.get_weights(), strategy.num_replicas_in_sync

    single, one = one_step(tf.distribute.get_strategy())
    mirror, two = one_step(mirrored)
    print(json.dumps({"replicas": [one, two],
                      "max_difference": max(float(np.abs(a - b).max()) for a, b in zip(single, mirror)),
                      "moved": max(float(np.abs(a).max()) for a in single)}))
    """
)


def test_mirrored_on_two_logical_cpus_matches_one_device():
    finished = python_process("-c", MIRRORED_STEP, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    assert result["replicas"] == [1, 2]
    # Global batch 64 = 2 replicas x 32: the averaged gradient is the same.
    assert result["max_difference"] < 1e-5


def test_launcher_trains_two_workers_in_sync(mnist_folder, tmp_path):
    output = tmp_path / "run"
    command = ["-m", "mlrecipes.distribute.launch", "--workers", "2", "--timeout", "400", "recipes.mnist_mlp"]
    command += ["--data-dir", str(mnist_folder), "--output-dir", str(output), "--epochs", "2", "--batch-size", "64"]
    finished = python_process(*command, timeout=500)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    fingerprints = dict(
        re.findall(r"\[worker (\d)\] mnist_mlp: (?:chief|worker) done, weights sha256 (\w+)", finished.stdout)
    )
    assert set(fingerprints) == {"0", "1"}
    assert fingerprints["0"] == fingerprints["1"]  # both workers end with the same weights
    metrics = read_metrics(output)
    assert metrics["strategy"] == "MultiWorkerMirroredStrategy" and metrics["replicas"] == 2
    assert metrics["weights_sha256"] == fingerprints["0"]
    assert (output / "model.keras").is_file()
    assert not list(output.rglob(".worker-*"))  # the other worker cleaned up


def test_launcher_refuses_a_port_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = ["-m", "mlrecipes.distribute.launch", "--workers", "2", "--port", str(port), "recipes.mnist_mlp"]
        finished = python_process(*command, timeout=60)
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines() == [
        f"python -m mlrecipes.distribute.launch: error: argument --port: port {port} is in use; choose another --port or leave it out (see --help)"
    ]


def test_a_failing_worker_fails_the_launch(tmp_path):
    command = ["-m", "mlrecipes.distribute.launch", "--workers", "2", "recipes.mnist_mlp"]
    finished = python_process(*command, "--data-dir", tmp_path / "none")
    assert finished.returncode == 2
    assert "no such folder" in finished.stdout
    assert "failed with exit status 2" in finished.stderr


@pytest.mark.parametrize("index", [0, 1], ids=["peer-missing", "leader-missing"])
def test_an_unreachable_peer_is_a_clear_error_within_the_worker_timeout(mnist_folder, tmp_path, index):
    # Two free ports, of which only this worker's own gets a server: the other worker never starts.
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", 0))
        second.bind(("127.0.0.1", 0))
        addresses = [f"127.0.0.1:{sock.getsockname()[1]}" for sock in (first, second)]
    tf_config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
    output = tmp_path / "run"
    command = ["-m", "recipes.mnist_mlp", "--strategy", "multiworker", "--worker-timeout", "5"]
    command += ["--data-dir", str(mnist_folder), "--output-dir", str(output)]
    environment = {**os.environ, "TF_CONFIG": json.dumps(tf_config)}
    started = time.monotonic()
    finished = python_process(*command, timeout=240, env=environment)
    assert finished.returncode == 2, finished.stderr[-3000:]
    assert time.monotonic() - started < 180  # bounded: without the timeout it waits forever
    # Our one line; TensorFlow's own C++ log lines about the failed registration come around it.
    ours = [line for line in finished.stderr.splitlines() if line.startswith("mnist_mlp: error:")]
    assert len(ours) == 1 and "--strategy multiworker: not every worker of TF_CONFIG" in ours[0]
    assert addresses[1 - index] in ours[0] and "--worker-timeout 5 s" in ours[0]
    assert "Traceback" not in finished.stderr
    assert not output.exists()


def test_a_cluster_with_a_killed_worker_resumes_from_its_backup(mnist_folder, tmp_path):
    # A recipe module for the launcher whose worker 1 SIGKILLs itself in the middle of its third
    # epoch, after both workers backed up the second: as when one machine of a cluster dies.
    when = 'json.loads(os.environ["TF_CONFIG"])["task"]["index"] == 1'
    (tmp_path / "kills_worker_one.py").write_text(mnist_mlp_killed_mid_epoch(when))
    output = tmp_path / "run"
    flags = ["--data-dir", str(mnist_folder), "--output-dir", str(output), "--epochs", "4", "--batch-size", "64"]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}

    def launch(module):
        command = ["-m", "mlrecipes.distribute.launch", "--workers", "2", "--timeout", "300", module, *flags]
        return python_process(*command, timeout=400, env=environment, cwd=ROOT)

    killed = launch("kills_worker_one")
    assert killed.returncode != 0
    assert f"launch: worker 1 failed with exit status {-signal.SIGKILL}; stopping the others" in killed.stderr
    assert not (output / "metrics.json").exists()

    resumed = launch("recipes.mnist_mlp")  # the same job again
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    for worker in (0, 1):
        lines = [line for line in resumed.stdout.splitlines() if line.startswith(f"[worker {worker}] ")]
        assert any("resuming an interrupted run after epoch 2 of 4" in line for line in lines), worker
        assert not any("Epoch 1/4" in line for line in lines) and any("Epoch 3/4" in line for line in lines)
    fingerprints = dict(
        re.findall(r"\[worker (\d)\] mnist_mlp: (?:chief|worker) done, weights sha256 (\w+)", resumed.stdout)
    )
    assert set(fingerprints) == {"0", "1"} and fingerprints["0"] == fingerprints["1"]
    metrics = read_metrics(output)
    assert metrics["resumed_from_epoch"] == 2 and metrics["epochs"] == 4
    assert not list(output.rglob(".worker-*")) and not (output / "backup").exists()
