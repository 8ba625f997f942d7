r"""Magnitude pruning: set the smallest weights to zero while fine-tuning.

The maintained pruning library for Keras (tensorflow-model-optimization)
needs Keras 2, so this module does it with a callback. The weight matrices
(kernels of `Dense`, `Conv2D`, `EinsumDense`, embedding tables) keep their
largest-magnitude entries, by one threshold for all of them (or per matrix);
the rest are set to zero after every training step. The target sparsity is reached gradually, along the cubic schedule of
Zhu and Gupta (2017),

$$s_t = s_f \bigl(1 - (1 - t / T)^3\bigr), \qquad 0 \le t \le T,$$

so the network has time to shift what the removed weights did onto the
others. Zeros cost as much as any number in a dense file; they pay off once
the file is compressed (gzip), or with a sparse runtime.
"""

from __future__ import annotations

import keras
import numpy as np

from mlrecipes.errors import ArgumentValueError


def prunable_weights(model: keras.Model) -> list[keras.Variable]:
    """The weight matrices magnitude pruning acts on.

    Every trainable variable with two or more dimensions: the kernels of
    dense and convolution layers and the embedding tables. Biases and
    normalization scales (one number per unit) stay whole.

    Args:
        model: A Keras model.

    Returns:
        The variables, in the model's order.
    """
    return [weight for weight in model.trainable_weights if len(weight.shape) >= 2]


def sparsity(model: keras.Model) -> float:
    """The share of zeros among the prunable weights of `model`.

    Args:
        model: A Keras model.

    Returns:
        A number between 0 and 1.
    """
    weights = [keras.ops.convert_to_numpy(weight) for weight in prunable_weights(model)]
    total = sum(weight.size for weight in weights)
    return float(sum(int(np.count_nonzero(weight == 0)) for weight in weights) / max(total, 1))


def cubic_sparsity(step: int, total_steps: int, final_sparsity: float) -> float:
    """The target sparsity after `step` of `total_steps` (Zhu and Gupta's schedule).

    Args:
        step: Optimizer steps taken.
        total_steps: Steps over which sparsity rises to `final_sparsity`.
        final_sparsity: The sparsity to reach.

    Returns:
        $s_f (1 - (1 - t/T)^3)$, and `final_sparsity` from step `total_steps` on.
    """
    progress = min(max(step / max(total_steps, 1), 0.0), 1.0)
    return final_sparsity * (1.0 - (1.0 - progress) ** 3)


def magnitude_mask(weight: np.ndarray, sparsity: float) -> np.ndarray:
    """Keep the largest-magnitude entries of `weight`: a 0/1 mask of its shape.

    Args:
        weight: A weight matrix.
        sparsity: The share of entries to zero.

    Returns:
        A float mask with `round(sparsity * weight.size)` zeros, at the
        entries of smallest absolute value (ties broken by position).
    """
    count = round(sparsity * weight.size)
    mask = np.ones(weight.size, dtype=weight.dtype)
    if count:
        mask[np.argsort(np.abs(weight), axis=None, kind="stable")[:count]] = 0
    return mask.reshape(weight.shape)


def magnitude_masks(weights: list[np.ndarray], sparsity: float, *, scope: str = "global") -> list[np.ndarray]:
    """Masks that zero the smallest-magnitude entries of several weight matrices.

    Args:
        weights: The weight matrices.
        sparsity: The share of entries to zero.
        scope: `"global"`: one magnitude threshold for all the matrices
            together, so a large, redundant matrix (a dense layer over
            flattened features) loses more than a small one (the first
            convolution's few filters); `"layer"`: `sparsity` of every
            matrix on its own.

    Returns:
        One 0/1 mask per matrix, of its shape.

    Raises:
        ArgumentValueError: (argument `scope`) For another scope.
    """
    if scope == "layer":
        return [magnitude_mask(weight, sparsity) for weight in weights]
    if scope != "global":
        raise ArgumentValueError("scope", scope, "must be 'global' or 'layer'")
    flat = magnitude_mask(np.concatenate([np.abs(weight).ravel() for weight in weights]), sparsity)
    ends = np.cumsum([weight.size for weight in weights])[:-1]
    return [mask.reshape(weight.shape) for mask, weight in zip(np.split(flat, ends), weights)]


class MagnitudePruning(keras.callbacks.Callback):
    """Prune a model's weight matrices to a target sparsity during `fit`.

    Every `frequency` steps until `ramp_steps`, the masks are recomputed from
    the current magnitudes at the schedule's sparsity (see `magnitude_masks`
    for `scope`); after
    every step the masks are applied, so a pruned weight that the optimizer
    moved is zero again. From `ramp_steps` on the masks are fixed and the
    remaining weights fine-tune around them.

    Args:
        final_sparsity: The share of each matrix's entries to zero, in [0, 1).
        ramp_steps: Optimizer steps over which sparsity rises to
            `final_sparsity` (typically two thirds of the fine-tuning run).
        frequency: Steps between mask updates while sparsity rises.
        scope: `"global"` (one threshold for all matrices) or `"layer"`
            (`final_sparsity` of each matrix).

    Raises:
        ArgumentValueError: For a sparsity outside [0, 1), a step count below 1
            or an unknown scope.

    Example:
        ```python
        pruning = MagnitudePruning(0.8, ramp_steps=600)
        model.fit(train, epochs=3, callbacks=[pruning])
        sparsity(model)  # 0.8
        ```
    """

    def __init__(self, final_sparsity: float, ramp_steps: int, frequency: int = 50, scope: str = "global"):
        super().__init__()
        if scope not in ("global", "layer"):
            raise ArgumentValueError("scope", scope, "must be 'global' or 'layer'")
        if not 0.0 <= final_sparsity < 1.0:
            raise ArgumentValueError("final_sparsity", final_sparsity, "must be at least 0 and below 1")
        if ramp_steps < 1:
            raise ArgumentValueError("ramp_steps", ramp_steps, "must be at least 1")
        if frequency < 1:
            raise ArgumentValueError("frequency", frequency, "must be at least 1")
        self.final_sparsity = final_sparsity
        self.ramp_steps = ramp_steps
        self.frequency = frequency
        self.scope = scope
        self.step = 0
        self.masks: list[np.ndarray] = []
        self._mask_tensors: list = []

    def _update_masks(self) -> None:
        target = cubic_sparsity(self.step, self.ramp_steps, self.final_sparsity)
        weights = [keras.ops.convert_to_numpy(weight) for weight in prunable_weights(self.model)]
        self.masks = magnitude_masks(weights, target, scope=self.scope)
        # Kept as tensors of the weights' dtype: applying them after every step stays on the device.
        self._mask_tensors = [keras.ops.convert_to_tensor(mask, dtype=weight.dtype) for weight, mask in
                              zip(prunable_weights(self.model), self.masks)]  # fmt: skip

    def _apply_masks(self) -> None:
        for weight, mask in zip(prunable_weights(self.model), self._mask_tensors):
            weight.assign(weight * mask)

    def on_train_begin(self, logs=None) -> None:
        """Start from the model's weights, unpruned (the schedule's sparsity is 0 at step 0)."""
        self._update_masks()
        self._apply_masks()

    def on_train_batch_end(self, batch, logs=None) -> None:
        """Count the step, update the masks on schedule, and zero the pruned weights."""
        self.step += 1
        if (self.step <= self.ramp_steps and self.step % self.frequency == 0) or self.step == self.ramp_steps:
            self._update_masks()
        self._apply_masks()

    def on_train_end(self, logs=None) -> None:
        """Leave the model at the final sparsity, even after a run shorter than the ramp."""
        if self.step < self.ramp_steps:  # a run shorter than the ramp still ends at the target
            self.step = self.ramp_steps
            self._update_masks()
        self._apply_masks()
