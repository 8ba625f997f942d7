"""Mixed precision: computing in 16-bit floats while keeping float32 weights.

`--mixed-precision` sets the global Keras dtype policy before the model is
built. GPUs are fastest in float16, which needs loss scaling to keep small
gradients from rounding to zero (Keras' `compile` wraps the optimizer in a
`LossScaleOptimizer` under the `mixed_float16` policy); CPUs and TPUs use
bfloat16, whose float32-sized exponent needs no loss scaling. Output layers
are built with `dtype="float32"` so the softmax and the loss stay in float32.
"""

from __future__ import annotations

from mlrecipes.errors import ArgumentValueError

MODES = ("off", "auto", "bfloat16", "float16")
"""The accepted `mode` values (and `--mixed-precision` choices)."""


def choose_policy(mode: str, *, on_gpu: bool) -> str:
    """Name the Keras dtype policy for a `--mixed-precision` mode.

    Args:
        mode: `off`, `auto`, `bfloat16` or `float16`.
        on_gpu: Whether the model trains on GPUs.

    Returns:
        `"float32"`, `"mixed_bfloat16"` or `"mixed_float16"`.

    Raises:
        ArgumentValueError: On an unknown mode.
    """
    if mode not in MODES:
        raise ArgumentValueError("mixed_precision", mode, f"unknown mode; choose from {', '.join(MODES)}")
    if mode == "off":
        return "float32"
    if mode == "auto":
        return "mixed_float16" if on_gpu else "mixed_bfloat16"
    return f"mixed_{mode}"


def apply_policy(mode: str, *, on_gpu: bool) -> str:
    """Set the global Keras dtype policy for `mode` and return its name."""
    import keras  # here, not at the top: the command line reads MODES without loading TensorFlow

    policy = choose_policy(mode, on_gpu=on_gpu)
    keras.mixed_precision.set_global_policy(policy)
    return policy
