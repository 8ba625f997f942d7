r"""Learning-rate schedules shared by the recipes.

Every recipe that decays its learning rate uses `warmup_cosine`: a
linear warm-up from 0 to the peak rate $\eta_{\max}$ over the first $w$ steps,
then a half cosine that reaches exactly 0 at the last step $T$,

$$\eta_t = \begin{cases}
\eta_{\max} \, t / w, & t < w, \\
\frac{\eta_{\max}}{2} \left(1 + \cos \frac{\pi (t - w)}{T - w}\right), & w \le t \le T.
\end{cases}$$

It is Keras' own `CosineDecay` with the decay spread over the $T - w$ steps
after the warm-up; giving `CosineDecay` all $T$ steps as `decay_steps` next
to a warm-up would stop the run before the cosine reaches 0.
"""

from __future__ import annotations

import keras

from mlrecipes.errors import ArgumentValueError


def warmup_cosine(
    peak_learning_rate: float, total_steps: int, warmup_steps: int = 0
) -> keras.optimizers.schedules.LearningRateSchedule:
    """A linear warm-up to `peak_learning_rate`, then a half cosine down to 0 at `total_steps`.

    Args:
        peak_learning_rate: The rate at the end of the warm-up (the recipes' `--learning-rate`).
        total_steps: Optimizer steps in the whole run; the rate is 0 after the last one.
        warmup_steps: Steps of linear warm-up from 0; 0 starts at the peak.

    Returns:
        A Keras schedule to give the optimizer as its `learning_rate`.

    Raises:
        ArgumentValueError: On a rate that is not positive, fewer than 1 step,
            or a warm-up that leaves no step to decay over.
    """
    if not peak_learning_rate > 0:
        raise ArgumentValueError("peak_learning_rate", peak_learning_rate, "must be a positive number")
    if total_steps < 1:
        raise ArgumentValueError("total_steps", total_steps, "must be 1 or more")
    if not 0 <= warmup_steps < total_steps:
        raise ArgumentValueError(
            "warmup_steps", warmup_steps, f"must be at least 0 and below total_steps ({total_steps})"
        )
    if warmup_steps == 0:
        return keras.optimizers.schedules.CosineDecay(peak_learning_rate, decay_steps=total_steps)
    return keras.optimizers.schedules.CosineDecay(
        0.0,
        decay_steps=total_steps - warmup_steps,
        warmup_target=peak_learning_rate,
        warmup_steps=warmup_steps,
    )
