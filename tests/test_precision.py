import keras
import numpy as np
import pytest

from mlrecipes.cli import error_line
from mlrecipes.errors import ArgumentValueError
from mlrecipes.models import build_mlp
from mlrecipes.precision import apply_policy, choose_policy


@pytest.mark.parametrize(
    "mode, on_gpu, expected",
    [
        ("off", True, "float32"),
        ("auto", True, "mixed_float16"),
        ("auto", False, "mixed_bfloat16"),
        ("bfloat16", True, "mixed_bfloat16"),
        ("float16", False, "mixed_float16"),
    ],
)
def test_policy_choice(mode, on_gpu, expected):
    assert choose_policy(mode, on_gpu=on_gpu) == expected


def test_unknown_mode():
    with pytest.raises(
        ArgumentValueError, match="argument `mixed_precision`: unknown mode; choose from off, auto"
    ) as raised:
        choose_policy("int8", on_gpu=False)
    flags = {"mixed_precision": "--mixed-precision"}
    assert (
        error_line(raised.value, flags)
        == "--mixed-precision int8: unknown mode; choose from off, auto, bfloat16, float16"
    )


def test_policy_is_applied_and_the_output_stays_float32():
    try:
        assert apply_policy("auto", on_gpu=False) == "mixed_bfloat16"
        model = build_mlp((8,), [16], 3)
        hidden = model.get_layer("hidden_1")
        assert hidden.compute_dtype == "bfloat16" and hidden.variable_dtype == "float32"
        assert model.get_layer("probabilities").compute_dtype == "float32"
        assert model(np.ones((2, 8), np.float32)).dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")
