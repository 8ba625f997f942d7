"""Distillation on augmented images ("consistent" teaching): the student and the teacher see the same batch.

`recipes.compress` distills from the teacher's logits stored once for the
unaltered training images. The alternative (Beyer et al., 2022, "Knowledge
distillation: A good teacher is patient and consistent") alters every batch
at random and runs the teacher on the very images the student sees, which
`keras.distillation.Distiller` does. This script measures it on a finished
`recipes.fashion_mnist_cnn` run:

1. the teacher's test accuracy on the test images as they are, shifted by up
   to `--padding` pixels, mirrored, and both (the augmentation's draws). The
   teacher is the run's model, or with `--teacher-epochs N` a fresh copy of
   its network trained for N epochs on augmented batches (seed 42, the CNN
   recipe's one-cycle schedule and warm-up epoch), so that it has seen
   images like the ones it teaches on;
2. for each seed, the compress recipe's student trained on the same augmented
   batches twice, from the same initial weights: with the teacher run on each
   batch (`Distiller`, `LogitsDistillation`, temperature T, weight 1 - alpha on
   the labels) and on the labels alone.

It prints each seed's pair, the median and [lowest–highest] of each student,
and PASS/FAIL for "the distilled median beats the median on labels alone". Each seed takes about 8 minutes on 2 CPU cores.

    python benchmarks/consistent_distillation.py --run runs/fashion_mnist_cnn --seeds 0 1
    python benchmarks/consistent_distillation.py --run runs/fashion_mnist_cnn --teacher-epochs 15 --seeds 0
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from mlrecipes.cli import non_negative_int

from _harness import FASHION_MNIST, require_fashion_mnist, verdict


def accuracy(model, dataset) -> float:
    """Test accuracy of a classifier on batched `(input, label)` pairs."""
    from mlrecipes.evaluation import predict_labels

    labels, predicted, _ = predict_labels(model, dataset)
    return float((predicted == labels).mean())


def augmented_batches(train, seed: int, args):
    """The training images in shuffled batches, each shifted by up to `--padding` pixels and mirrored at random."""
    from mlrecipes.data import make_pipeline
    from mlrecipes.data.augment import make_augmentation

    augment = make_augmentation(seed, padding=args.padding, flip=True)
    return make_pipeline(train, args.batch_size, shuffle=True, seed=seed, map_batch=augment)


def train_augmented_teacher(model, splits, train_size: int, args):
    """A fresh copy of the run's network, trained on shifted and mirrored batches as the CNN recipe trains."""
    import keras

    from mlrecipes.data import steps_per_epoch
    from mlrecipes.schedules import warmup_cosine

    keras.utils.set_random_seed(42)
    teacher = keras.models.clone_model(model)  # the same layers, new initial weights
    epoch_steps = steps_per_epoch(train_size, args.batch_size)
    schedule = warmup_cosine(args.learning_rate, args.teacher_epochs * epoch_steps, epoch_steps)
    teacher.compile(optimizer=keras.optimizers.Adam(schedule), loss=keras.losses.SparseCategoricalCrossentropy())
    train = augmented_batches(splits["train"], 42, args)
    start = time.perf_counter()
    teacher.fit(train, epochs=args.teacher_epochs, verbose=0)
    print(f"teacher trained on augmented batches for {args.teacher_epochs} epochs "
          f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
    return teacher


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a finished fashion_mnist_cnn run (the teacher)")
    parser.add_argument("--data-dir", type=Path, default=FASHION_MNIST, help="the Fashion-MNIST IDX files")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="student seeds")
    parser.add_argument("--epochs", type=int, default=20, help="epochs each student trains")
    parser.add_argument("--temperature", type=float, default=1.0, help="distillation temperature T")
    parser.add_argument("--alpha", type=float, default=0.5, help="weight of the teacher's term")
    parser.add_argument("--padding", type=int, default=2, help="random shift, in pixels (0: none)")
    parser.add_argument("--teacher-epochs", type=non_negative_int, default=0,
                        help="train a fresh copy of the run's network on augmented batches for this many epochs "
                        "and teach with it (default: 0, the run's own model)")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    args = parser.parse_args()
    data_dir = require_fashion_mnist(args.data_dir)

    import keras

    from mlrecipes.compression.run_data import load_classifier_run, load_run_data
    from mlrecipes.data import steps_per_epoch
    from mlrecipes.data.augment import make_augmentation
    from mlrecipes.errors import InputError
    from mlrecipes.schedules import warmup_cosine
    from recipes.compress import build_student

    try:
        saved = load_classifier_run(args.run)
    except InputError as error:
        parser.error(f"--run {args.run}: {getattr(error, 'reason', error)}")
    if saved.metrics.get("recipe") != "fashion_mnist_cnn":
        parser.error(f"--run {args.run}: is a {saved.metrics.get('recipe')} run; give a fashion_mnist_cnn run")
    data = load_run_data(saved.metrics, data_dir=data_dir)
    splits = {name: getattr(data, name) for name in ("train", "validation", "test")}
    teacher = saved.model
    if args.teacher_epochs:
        teacher = train_augmented_teacher(teacher, splits, data.sizes["train"], args)
    teacher_logits = keras.Model(teacher.inputs, teacher.get_layer("logits").output, name="teacher")

    test = splits["test"].batch(512)
    for name, shift, flip in [("as they are", 0, False), ("shifted", args.padding, False), ("mirrored", 0, True),
                              ("shifted and mirrored", args.padding, True)]:  # fmt: skip
        altered = test if not (shift or flip) else test.map(make_augmentation(0, padding=shift, flip=flip))
        print(f"teacher on test images {name}: {accuracy(teacher, altered):.4f}", flush=True)

    steps = args.epochs * steps_per_epoch(data.sizes["train"], args.batch_size)
    pairs = []
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        train = augmented_batches(splits["train"], seed, args)
        student = build_student(teacher, data, splits, 0)
        alone = keras.models.clone_model(student)  # the same network, from the same initial weights
        alone.set_weights(student.get_weights())
        distiller = keras.distillation.Distiller(
            teacher=teacher_logits, student=student, student_loss_weight=1.0 - args.alpha,
            distillation_losses=keras.distillation.LogitsDistillation(temperature=args.temperature),
        )  # fmt: skip
        pair = []
        for model, trained in ((distiller, student), (alone, alone)):
            model.compile(optimizer=keras.optimizers.Adam(warmup_cosine(args.learning_rate, steps)),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
            start = time.perf_counter()
            model.fit(train, epochs=args.epochs, verbose=0)
            pair.append(accuracy(trained, test))
            print(f"  seed {seed}: {'distilled' if model is distiller else 'labels only'} {pair[-1]:.4f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
        pairs.append(pair)
    distilled, labels_only = ([pair[index] for pair in pairs] for index in (0, 1))
    for name, figures in (("distilled", distilled), ("labels only", labels_only)):
        print(f"{name}: median {statistics.median(figures):.4f} [{min(figures):.4f}–{max(figures):.4f}]")
    return verdict(f"consistent distillation: median {statistics.median(distilled):.4f} against "
                   f"{statistics.median(labels_only):.4f} on labels alone over seeds {', '.join(map(str, args.seeds))}",
                   statistics.median(distilled) > statistics.median(labels_only))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
