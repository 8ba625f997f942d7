"""Evaluating a classifier beyond its accuracy: confusion matrix and per-class scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np


def predict_labels(model: keras.Model, dataset: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run a classifier over a batched dataset of `(inputs, labels)`.

    Args:
        model: A model whose output is one score per class.
        dataset: Batched `tf.data.Dataset` of `(inputs, labels)`.

    Returns:
        `(true_labels, predicted_labels, probabilities)` as NumPy arrays, in
        the dataset's order.
    """
    true_parts, probability_parts = [], []
    for inputs, labels in dataset:
        probability_parts.append(np.asarray(model(inputs, training=False), dtype=np.float32))
        true_parts.append(np.asarray(labels))
    probabilities = np.concatenate(probability_parts)
    return np.concatenate(true_parts).astype(np.int64), probabilities.argmax(axis=-1), probabilities


def confusion_counts(true_labels: Sequence[int], predicted_labels: Sequence[int], num_classes: int) -> np.ndarray:
    """Count `matrix[i, j]`: examples of true class `i` predicted as `j`."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true_labels), np.asarray(predicted_labels)), 1)
    return matrix


def per_class_scores(matrix: np.ndarray, class_names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of each class from a confusion matrix.

    precision = TP / (TP + FP), recall = TP / (TP + FN) and
    F1 = 2 · precision · recall / (precision + recall); a ratio with a zero
    denominator is reported as 0.

    Returns:
        Class name to `{"precision", "recall", "f1", "support"}`.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    true_positives = np.diag(matrix)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    precision = np.divide(true_positives, predicted, out=np.zeros_like(true_positives), where=predicted > 0)
    recall = np.divide(true_positives, actual, out=np.zeros_like(true_positives), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    return {
        name: {
            "precision": round(float(precision[i]), 6),
            "recall": round(float(recall[i]), 6),
            "f1": round(float(f1[i]), 6),
            "support": int(actual[i]),
        }
        for i, name in enumerate(class_names)
    }
