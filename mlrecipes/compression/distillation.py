r"""Knowledge distillation: train a small student on a large teacher's softened outputs.

The teacher's class probabilities carry more than the label: which wrong
classes look alike. Softening them with a temperature $T > 1$,

$$q_k^{(T)} = \frac{\exp(z_k / T)}{\sum_j \exp(z_j / T)},$$

spreads that knowledge over all classes, and the student learns from

$$\mathcal{L} = \alpha\, T^2\, \mathrm{KL}\bigl(q^{(T)}_{\text{teacher}} \,\|\, q^{(T)}_{\text{student}}\bigr)
+ (1 - \alpha)\, \mathrm{CE}\bigl(y, q^{(1)}_{\text{student}}\bigr)$$

(Hinton et al., 2015). The gradient of the softened term scales as
$1/T^2$, so the factor $T^2$ keeps the two terms' balance when $T$ changes.

The teacher's logits are computed once, before training, and travel with
each example in the data set (`with_teacher_logits`): for a teacher much
larger than the student that is several times faster than running the
teacher at every step, as `keras.distillation.Distiller` does. It requires a
pipeline without random augmentation, since the stored logits belong to the
unaugmented inputs.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from mlrecipes.errors import ArgumentValueError


def teacher_logits(teacher: keras.Model, inputs: tf.data.Dataset, *, batch_size: int = 512) -> np.ndarray:
    r"""The teacher's logits for every example of an unbatched data set of inputs.

    A classifier that ends in a softmax gives probabilities $p$; their
    logarithms are logits up to a constant per example, which softmax
    ignores, so $\log p$ stands in for the logits.

    Args:
        teacher: A trained classifier (probabilities or logits out).
        inputs: Unbatched inputs, in a fixed order.
        batch_size: Examples per prediction batch.

    Returns:
        A float32 array of shape `(examples, classes)`.
    """
    outputs = teacher.predict(inputs.batch(batch_size), verbose=0)
    if np.all(outputs >= 0) and np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3):
        outputs = np.log(np.clip(outputs, 1e-12, None))
    return outputs.astype(np.float32)


def with_teacher_logits(examples: tf.data.Dataset, logits: np.ndarray) -> tf.data.Dataset:
    """Pair every `(input, label)` with the teacher's logits: `(input, [label, logits...])`.

    Args:
        examples: Unbatched `(input, label)` pairs, in the order `logits` were computed.
        logits: From `teacher_logits`, one row per example.

    Returns:
        Unbatched `(input, target)` pairs whose target is a float32 vector:
        the label, then the teacher's logits (what `DistillationLoss` reads).
    """
    stored = tf.data.Dataset.from_tensor_slices(logits)
    return tf.data.Dataset.zip(examples, stored).map(
        lambda pair, row: (pair[0], tf.concat([tf.cast(tf.reshape(pair[1], [1]), tf.float32), row], axis=0)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


@keras.saving.register_keras_serializable(package="mlrecipes")
class DistillationLoss(keras.losses.Loss):
    r"""Hinton et al.'s distillation loss, on targets from `with_teacher_logits`.

    `y_true` is `[label, teacher logits...]` per example and `y_pred` the
    student's logits; the loss is
    $\alpha T^2 \mathrm{KL}(q^{(T)}_t \| q^{(T)}_s) + (1-\alpha) \mathrm{CE}(y, q^{(1)}_s)$.

    Args:
        temperature: $T$, at least 1; larger spreads the teacher's probabilities more.
        alpha: $\alpha$, the weight of the teacher's term, in [0, 1]; 0 is
            training on labels alone.
        name: The loss's name.

    Raises:
        ArgumentValueError: For a temperature below 1 or an alpha outside [0, 1].
    """

    def __init__(self, temperature: float = 4.0, alpha: float = 0.9, name: str = "distillation", **kwargs):
        super().__init__(name=name, **kwargs)
        if not temperature >= 1.0:
            raise ArgumentValueError("temperature", temperature, "must be at least 1")
        if not 0.0 <= alpha <= 1.0:
            raise ArgumentValueError("alpha", alpha, "must be between 0 and 1")
        self.temperature = float(temperature)
        self.alpha = float(alpha)

    def call(self, y_true, y_pred):
        """The loss of each example: `y_true` is `[label, teacher logits...]`, `y_pred` the student's logits."""
        ops = keras.ops
        labels = ops.cast(y_true[:, 0], "int32")
        teacher = ops.cast(y_true[:, 1:], y_pred.dtype)
        t = self.temperature
        soft_teacher = ops.softmax(teacher / t, axis=-1)
        log_soft_teacher = ops.log_softmax(teacher / t, axis=-1)
        log_soft_student = ops.log_softmax(y_pred / t, axis=-1)
        kl = ops.sum(soft_teacher * (log_soft_teacher - log_soft_student), axis=-1)
        hard = keras.losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=True)
        return self.alpha * t * t * kl + (1.0 - self.alpha) * hard

    def get_config(self) -> dict:
        """The temperature and alpha, for saving and reloading."""
        return {**super().get_config(), "temperature": self.temperature, "alpha": self.alpha}


@keras.saving.register_keras_serializable(package="mlrecipes")
class LabelAccuracy(keras.metrics.SparseCategoricalAccuracy):
    """Accuracy of logits against the label in column 0 of distillation targets."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Count the examples whose highest logit is their label's."""
        return super().update_state(y_true[:, :1], y_pred, sample_weight)
