import numpy as np
import tensorflow as tf

from mlrecipes import plots
from mlrecipes.evaluation import confusion_counts, per_class_scores, predict_labels
from mlrecipes.models import build_mlp

PNG = b"\x89PNG\r\n\x1a\n"


def test_confusion_counts_and_scores_on_a_worked_example():
    true = [0, 0, 0, 1, 1, 2]
    predicted = [0, 0, 1, 1, 2, 2]
    matrix = confusion_counts(true, predicted, 3)
    assert matrix.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    scores = per_class_scores(matrix, ["a", "b", "c"])
    assert scores["a"] == {"precision": 1.0, "recall": round(2 / 3, 6), "f1": 0.8, "support": 3}
    assert scores["b"]["precision"] == 0.5 and scores["b"]["recall"] == 0.5
    assert scores["c"]["precision"] == 0.5 and scores["c"]["recall"] == 1.0


def test_a_class_never_predicted_scores_zero_not_nan():
    scores = per_class_scores(confusion_counts([0, 1], [0, 0], 2), ["a", "b"])
    assert scores["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_predict_labels_keeps_the_dataset_order():
    model = build_mlp((2,), [], 2)
    model.set_weights([np.array([[5.0, -5.0], [-5.0, 5.0]]), np.zeros(2)])
    x = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [0, 1]], np.float32)
    y = np.array([0, 1, 1, 1, 0])
    true, predicted, probabilities = predict_labels(model, tf.data.Dataset.from_tensor_slices((x, y)).batch(2))
    assert true.tolist() == y.tolist()
    assert predicted.tolist() == [0, 1, 0, 1, 1]
    assert probabilities.shape == (5, 2)


def test_figures_are_png_files(tmp_path):
    curves = plots.learning_curves(
        {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]},
        tmp_path / "curves.png",
    )
    images = np.random.default_rng(0).integers(0, 255, (7, 28, 28, 1))
    grid = plots.prediction_grid(
        images, [0, 1, 2, 0, 1, 2, 0], [0, 1, 1, 0, 1, 2, 2], ["a", "b", "c"], tmp_path / "grid.png"
    )
    matrix = plots.confusion_matrix(np.array([[5, 1], [2, 7]]), ["cat", "dog"], tmp_path / "cm.png")
    for path in (curves, grid, matrix):
        assert path.read_bytes()[:8] == PNG
        assert path.stat().st_size > 5000


def test_learning_curves_are_titled_by_the_data_set(mnist_folder, tmp_path, monkeypatch):
    from recipes import mnist_mlp

    titles = []
    original = plots.learning_curves
    monkeypatch.setattr(plots, "learning_curves", lambda *a, title="", **k: titles.append(title) or original(*a, **k))
    argv = ["--dataset", "fashion_mnist", "--data-dir", str(mnist_folder), "--output-dir", str(tmp_path / "run")]
    mnist_mlp.main([*argv, "--quick", "--hidden-units", "8"])
    assert titles == ["Fashion-MNIST: mnist_mlp"]
    assert plots.dataset_title("cifar10") == "CIFAR-10" and plots.dataset_title("bbc") == "bbc"
