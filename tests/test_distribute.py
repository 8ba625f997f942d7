import json

import pytest
import tensorflow as tf

from mlrecipes.distribute import choose_strategy, read_tf_config, resolve_strategy, strategy_name, tpu_configured
from mlrecipes.errors import InputError


@pytest.mark.parametrize(
    "gpus, tpu, tf_config, expected",
    [
        (0, False, False, "cpu"),
        (1, False, False, "gpu"),
        (2, False, False, "mirrored"),
        (8, False, False, "mirrored"),
        (0, True, False, "tpu"),
        (4, True, False, "tpu"),
        (0, False, True, "multiworker"),
        (2, False, True, "multiworker"),
    ],
)
def test_auto_picks_the_best_hardware_present(gpus, tpu, tf_config, expected):
    assert choose_strategy("auto", gpus=gpus, tpu=tpu, tf_config=tf_config) == expected


def test_explicit_choices_are_kept():
    assert choose_strategy("cpu", gpus=4, tpu=True, tf_config=False) == "cpu"
    assert choose_strategy("mirrored", gpus=0, tpu=False, tf_config=False) == "mirrored"
    assert choose_strategy("tpu", gpus=0, tpu=False, tf_config=False) == "tpu"


def test_gpu_without_gpu_is_a_clear_error():
    with pytest.raises(InputError, match="`strategy`: TensorFlow sees no GPU"):
        choose_strategy("gpu", gpus=0, tpu=False, tf_config=False)


def test_multiworker_without_tf_config_is_a_clear_error():
    with pytest.raises(InputError, match="TF_CONFIG is not set"):
        choose_strategy("multiworker", gpus=0, tpu=False, tf_config=False)


def test_unknown_strategy():
    with pytest.raises(InputError, match="choose from auto, cpu"):
        choose_strategy("horovod", gpus=0, tpu=False, tf_config=False)


def test_tpu_detection_without_network(tmp_path):
    assert not tpu_configured({}, dev=tmp_path)
    assert tpu_configured({"TPU_NAME": "my-tpu"}, dev=tmp_path)
    (tmp_path / "accel0").touch()
    assert tpu_configured({}, dev=tmp_path)
    other = tmp_path / "other"
    (other / "vfio").mkdir(parents=True)
    (other / "vfio" / "vfio").touch()  # the control node alone is no TPU
    assert not tpu_configured({}, dev=other)
    (other / "vfio" / "0").touch()
    assert tpu_configured({}, dev=other)


def _config(workers, index, kind="worker"):
    return {"TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": kind, "index": index}})}


def test_tf_config_reading():
    assert read_tf_config({}) is None
    assert read_tf_config(_config(["localhost:1"], 0)) is None  # one worker is no cluster
    assert read_tf_config(_config(["localhost:1", "localhost:2"], 1))["task"]["index"] == 1


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"TF_CONFIG": "{not json"}, "not valid JSON"),
        ({"TF_CONFIG": "[]"}, "JSON object"),
        ({"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1"]}})}, '"task"'),
        (_config(["a:1", "b:2"], 2), "index 2 is out of range.*0 to 1"),
        (_config(["a:1", "b:2"], 0, kind="ps"), "'ps' is not in its cluster"),
    ],
)
def test_malformed_tf_config(environ, message):
    with pytest.raises(InputError, match=message):
        read_tf_config(environ)


def test_single_device_gets_the_default_strategy():
    strategy = resolve_strategy("cpu")
    assert strategy is tf.distribute.get_strategy()
    assert strategy_name(strategy) == "DefaultStrategy"
    assert strategy.num_replicas_in_sync == 1
    assert strategy_name(resolve_strategy("auto")) == "DefaultStrategy"


def test_asking_for_a_gpu_on_this_machine_fails_clearly():
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(InputError, match="no GPU"):
        resolve_strategy("gpu")


def test_asking_for_a_tpu_where_there_is_none_fails_fast(monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    monkeypatch.setattr("mlrecipes.distribute.strategy.tpu_configured", lambda: False)
    with pytest.raises(InputError, match="`strategy`: no TPU here"):
        resolve_strategy("tpu")


def test_an_unreachable_tpu_address_fails_fast(unused_port):
    with pytest.raises(InputError, match="does not answer"):
        resolve_strategy("tpu", tpu_name=f"grpc://127.0.0.1:{unused_port}")


def test_auto_falls_back_when_the_named_tpu_is_unreachable(monkeypatch, unused_port):
    monkeypatch.setenv("TPU_NAME", f"grpc://127.0.0.1:{unused_port}")
    assert strategy_name(resolve_strategy("auto")) == "DefaultStrategy"
