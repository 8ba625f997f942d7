# %% [markdown]
r"""Make a trained classifier smaller and faster: quantize, prune, distill, export, and measure each.

**Task.** Take the finished run of an image or text classifier recipe
(`--model-dir RUN`: `mnist_mlp`, `fashion_mnist_cnn`, `cifar10_resnet` or
`text_classification`), load its data again with the same splits, and
produce smaller variants of its model, each measured on the test split:
file size (raw and gzipped), test accuracy, **agreement** (the share of test
examples on which the variant predicts the same class as the float model),
and CPU latency per example at batch 1 and at batch 256 (medians of repeated
timings).

**Quantization** stores a float $x$ as an integer $q$ with a scale $s$ and
a zero point $z$,

$$q = \operatorname{clamp}\bigl(\operatorname{round}(x / s) + z,\; q_{\min},\; q_{\max}\bigr),
\qquad \hat x = s\,(q - z),$$

so every value inside the range is recovered within $|x - \hat x| \le s/2$.
For int8 weights, $s = \max_i |w_i| / 127$ per output channel and $z = 0$.
Keras' `model.quantize("int8")` (and `"int4"`) does this to `Dense`-like
kernels only, not to convolutions; LiteRT's converter quantizes every
layer: "dynamic-range int8" stores int8 weights, "full int8" also runs the
activations in int8, with $s$ and $z$ calibrated on a sample of training
inputs.

**Pruning** zeroes the weights of smallest magnitude, raising the sparsity
along $s_t = s_f\bigl(1 - (1 - t/T)^3\bigr)$ while the model fine-tunes, so
the others learn to make up for them. The file keeps its size; gzip then
shrinks the runs of zeros.

**Distillation** trains a student network, at most a quarter of the
teacher's size, on the teacher's outputs softened by a temperature $T$,
$q^{(T)}_k = \exp(z_k/T) / \sum_j \exp(z_j/T)$, with the loss

$$\mathcal{L} = \alpha\, T^2\, \mathrm{KL}\bigl(q^{(T)}_{\text{teacher}} \,\|\, q^{(T)}_{\text{student}}\bigr)
+ (1 - \alpha)\, \mathrm{CE}\bigl(y, q^{(1)}_{\text{student}}\bigr);$$

the same student trained on the labels alone ($\alpha = 0$), with the same
seed, steps and learning rate, is the control.

**Exports.** A SavedModel laid out for TensorFlow Serving (`NAME/1/`, a
`serve` signature taking raw pixels, or raw strings for text), and `.tflite`
files run by the LiteRT interpreter of `ai-edge-litert`. A text classifier's
tokenizer (string operations) stays out of the `.tflite` file, which takes
token ids; its vocabulary is written beside it.

Run it:

```bash
python -m recipes.fashion_mnist_cnn --data-dir /usr/share/datasets/fashion-mnist --output-dir runs/cnn
python -m recipes.compress --model-dir runs/cnn
python -m recipes.compress --model-dir runs/cnn --formats litert_int8 pruned --sparsity 0.9
```
"""

# %% [markdown]
# ## The command line
#
# The shared flags (`--batch-size`, `--learning-rate`, `--epochs`, `--seed`, `--output-dir`,
# `--data-dir`, `--quick` ...) apply to the two trainings this recipe runs: the pruned model's
# fine-tuning and the students. `--data-dir` defaults to the run's own. `--formats` picks the
# variants; `BUDGET` sets how long a student trains (about the CNN recipe's 3,010 steps), and
# `PRUNE_BUDGET` how long the pruned model fine-tunes.

# %%
from __future__ import annotations

from pathlib import Path

from mlrecipes.budget import TrainingBudget
from mlrecipes.cli import (
    check_command_line,
    fraction,
    parse_recipe_args,
    positive_float,
    positive_int,
    recipe_parser,
    run_recipe,
)

BUDGET = TrainingBudget(steps=3010, min_epochs=1, max_epochs=30)
PRUNE_BUDGET = TrainingBudget(steps=1300, min_epochs=1, max_epochs=10)
FORMATS = (
    "keras_int8",
    "keras_int4",
    "pruned",
    "distilled",
    "saved_model",
    "litert_float32",
    "litert_dynamic_int8",
    "litert_int8",
)


def build_parser():
    """The command line: the shared flags plus this recipe's own."""
    parser = recipe_parser(
        "compress",
        "Quantize, prune and distill the model of a finished classifier run, export it for TF Serving "
        "and LiteRT, and measure every variant.",
        budget=BUDGET,
        batch_size=128,
        learning_rate=3e-3,
        data_dir_help="where the run's data are, if not where the run read them (its --data-dir)",
    )
    recipe = parser.add_argument_group("this recipe")
    recipe.add_argument(
        "--model-dir", type=Path, required=True, metavar="RUN_DIR", help="the --output-dir of a finished run"
    )
    recipe.add_argument(
        "--formats", nargs="+", choices=FORMATS, default=list(FORMATS), metavar="FORMAT",
        help=f"the variants to make: {', '.join(FORMATS)} (default: all)",
    )  # fmt: skip
    recipe.add_argument("--sparsity", type=fraction, default=0.8, help="share of each weight matrix to prune")
    recipe.add_argument(
        "--prune-scope", choices=("global", "layer"), default="global",
        help="one magnitude threshold for all weight matrices, or --sparsity of each matrix",
    )  # fmt: skip
    recipe.add_argument(
        "--prune-learning-rate", type=positive_float, default=5e-4, help="peak learning rate of the pruned fine-tuning"
    )
    recipe.add_argument("--temperature", type=positive_float, default=2.0, help="distillation temperature T (≥ 1)")
    recipe.add_argument("--alpha", type=fraction, default=0.5, help="weight of the teacher's term in the loss")
    recipe.add_argument(
        "--calibration-examples", type=positive_int, default=512, help="training inputs that calibrate full int8"
    )
    recipe.add_argument("--repeats", type=positive_int, default=50, help="timed calls per latency figure")
    return parser


# %% [markdown]
# ## The flags of this run
#
# In a notebook, write the flags in `ARGS` as they would be typed, for example
# `ARGS = ["--model-dir", "runs/cnn", "--quick"]`; `ARGS = None` takes the command line's.

# %% tags=["parameters"]
ARGS = None

# %%
if __name__ == "__main__":
    check_command_line(build_parser(), ARGS)

# %%
import keras
import numpy as np
import tensorflow as tf

from mlrecipes.compression.distillation import DistillationLoss, LabelAccuracy, teacher_logits, with_teacher_logits
from mlrecipes.compression.litert import LiteRTModel, export_litert
from mlrecipes.compression.measure import agreement, file_size, gzipped_size, median_latency
from mlrecipes.compression.pruning import MagnitudePruning, sparsity
from mlrecipes.compression.quantization import inference_copy, quantized_copy
from mlrecipes.compression.report import accuracy_against_size, markdown_table
from mlrecipes.compression.run_data import TEXT_RECIPES, load_classifier_run, load_run_data, text_classifier_parts
from mlrecipes.compression.serving import export_for_serving
from mlrecipes.data import make_pipeline, pixel_statistics, steps_per_epoch
from mlrecipes.errors import UsageError
from mlrecipes.models.cnn import build_cnn
from mlrecipes.outputs import write_json, write_text
from mlrecipes.plots import dataset_title
from mlrecipes.run import RecipeRun
from mlrecipes.schedules import warmup_cosine
from mlrecipes.text.tokenizer import vocabulary

# %% [markdown]
# ## The teacher and its data
#
# `load_classifier_run` reloads the run's `model.keras` and `metrics.json` (and refuses a run that
# is not a classifier's); `load_run_data` loads its data with the run's own splits. A text
# classifier is saved as strings → tokenizer → classifier of token ids: the numeric part is what
# gets compressed, so the texts go through the tokenizer once, here, and every split becomes
# `(token ids, label)` pairs.


# %%
def load_teacher_and_data(args):
    """The run's model (the numeric part), its tokenizer for text, and its splits as (input, label) pairs."""
    saved = load_classifier_run(args.model_dir)
    data = load_run_data(saved.metrics, data_dir=args.data_dir)
    if args.quick:
        data = data.quick()
    tokenizer, teacher = None, saved.model
    if saved.metrics["recipe"] in TEXT_RECIPES:
        tokenizer, teacher = text_classifier_parts(saved.model)
        splits = {name: getattr(data, name).batch(256).map(lambda t, y: (tokenizer(t), y)).unbatch() for name in
                  ("train", "validation", "test")}  # fmt: skip
    else:
        splits = {name: getattr(data, name) for name in ("train", "validation", "test")}
    return saved, data, tokenizer, inference_copy(teacher), splits


def as_arrays(split):
    """A split as two NumPy arrays, inputs and labels."""
    inputs, labels = zip(*split.batch(4096).as_numpy_iterator())
    return np.concatenate(inputs), np.concatenate(labels)


# %% [markdown]
# ## Measuring a variant
#
# Every variant is judged the same way, against the float model's own test predictions. Keras
# models are timed through a compiled `tf.function` (the fastest way Keras runs a batch), `.tflite`
# files through the LiteRT interpreter; latency is the median of `--repeats` calls, divided by the
# batch size.


# %%
def measure(name, path, predict, x_test, y_test, reference, args, **extra):
    """One row of the table."""
    predictions = np.concatenate([predict(x_test[i : i + 256]) for i in range(0, len(x_test), 256)])
    row = {
        "variant": name,
        "file": str(path.relative_to(args.output_dir)),
        "bytes": file_size(path),
        "gzipped_bytes": gzipped_size(path),
        "test_accuracy": round(float(np.mean(np.argmax(predictions, -1) == y_test)), 4),
        "agreement": round(agreement(predictions, reference), 4),
        "latency_batch_1_ms": 1e3 * median_latency(predict, x_test[:1], repeats=args.repeats),
        "latency_batch_256_ms": 1e3 * median_latency(predict, x_test[:256], repeats=max(args.repeats // 10, 3)) / 256,
        **extra,
    }
    print(f"compress: {name}: {row['bytes'] / 1000:,.1f} KB ({row['gzipped_bytes'] / 1000:,.1f} KB gzipped), "
          f"accuracy {row['test_accuracy']:.4f}, agreement {row['agreement']:.4f}", flush=True)  # fmt: skip
    return row


def keras_predictor(model):
    """A compiled inference function of a Keras model, returning NumPy arrays."""
    call = tf.function(lambda batch: model(batch, training=False), reduce_retracing=True)
    return lambda batch: keras.ops.convert_to_numpy(call(tf.constant(batch)))


# %% [markdown]
# ## Pruning
#
# A copy of the teacher fine-tunes on the training split while `MagnitudePruning` raises the
# share of zeros among its weight matrices to `--sparsity` over the first two thirds of the steps
# and then holds the masks fixed. By default one magnitude threshold applies to all matrices
# together (`--prune-scope global`), so the large dense layer gives up more than the first
# convolution's few weights. The pruned model is saved as it is (the zeros take as much room as any
# number) and as a dynamic-range int8 `.tflite` file, whose gzipped size is what pruning buys.


# %%
def prune(teacher, splits, data, run, args):
    """A pruned, fine-tuned copy of the teacher."""
    epochs = 1 if args.quick else PRUNE_BUDGET.epochs(data.sizes["train"], args.batch_size)
    steps = epochs * steps_per_epoch(data.sizes["train"], args.batch_size)
    with run.strategy.scope():
        model = inference_copy(teacher)
        model.compile(
            optimizer=keras.optimizers.Adam(warmup_cosine(args.prune_learning_rate, steps)),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
    train = make_pipeline(splits["train"], args.batch_size, shuffle=True, seed=args.seed)
    pruning = MagnitudePruning(args.sparsity, ramp_steps=max(1, 2 * steps // 3), scope=args.prune_scope)
    model.fit(train, epochs=epochs, callbacks=[pruning], shuffle=False, verbose=2)
    print(f"compress: pruned to sparsity {sparsity(model):.3f} in {epochs} epoch(s) of fine-tuning", flush=True)
    return model


# %% [markdown]
# ## Distillation
#
# The student is a small network of the same kind as the input: for images a CNN with 16 and 32
# filters and 32 hidden units; for token ids the mean of 16-dimensional word vectors and a linear
# layer (a "bag of embeddings"). It is trained twice from the same initial weights: on the
# teacher's logits (computed once, stored beside each example) with `DistillationLoss`, and on
# the labels alone. Both train on logits and are saved with a softmax on top.


# %%
def build_student(teacher, data, splits, vocabulary_size):
    """The student: logits out, built fresh."""
    num_classes = data.num_classes
    if vocabulary_size:
        ids = keras.Input(shape=teacher.inputs[0].shape[1:], dtype="int32", name="token_ids")
        x = keras.layers.Embedding(vocabulary_size, 16, mask_zero=True, name="embedding")(ids)
        x = keras.layers.GlobalAveragePooling1D(name="mean")(x)
        return keras.Model(ids, keras.layers.Dense(num_classes, name="logits")(x), name="student")
    shape = tuple(teacher.inputs[0].shape[1:])
    mean, std = pixel_statistics(splits["train"])
    student = build_cnn(
        input_shape=shape, num_classes=num_classes, filters=[16, 32], padding="same", batch_norm=True,
        dense_units=[32], dropout=0.2, input_mean=mean, input_std=std, name="student",
    )  # fmt: skip
    return keras.Model(student.inputs, student.get_layer("logits").output, name="student")


def train_student(student, train, loss, metric, data, args):
    """Train a student on its pipeline for the budget's epochs; return it with a softmax on top."""
    epochs = BUDGET.epochs(data.sizes["train"], args.batch_size, override=args.epochs)
    steps = epochs * steps_per_epoch(data.sizes["train"], args.batch_size)
    student.compile(optimizer=keras.optimizers.Adam(warmup_cosine(args.learning_rate, steps)), loss=loss,
                    metrics=[metric])  # fmt: skip
    student.fit(train, epochs=epochs, shuffle=False, verbose=2)
    probabilities = keras.layers.Activation("softmax", name="probabilities")(student.outputs[0])
    return keras.Model(student.inputs, probabilities, name=student.name)


def distill(teacher, splits, data, vocabulary_size, run, args):
    """The student trained on the teacher's softened outputs, and the same student on labels alone."""
    train_logits = teacher_logits(teacher, splits["train"].map(lambda x, y: x))
    soft = with_teacher_logits(splits["train"], train_logits)
    with run.strategy.scope():
        student = build_student(teacher, data, splits, vocabulary_size)
        alone = keras.models.clone_model(student)  # the same network, from the same initial weights
        alone.set_weights(student.get_weights())
        distilled = train_student(
            student, make_pipeline(soft, args.batch_size, shuffle=True, seed=args.seed),
            DistillationLoss(args.temperature, args.alpha), LabelAccuracy(name="accuracy"), data, args,
        )  # fmt: skip
        alone = train_student(
            alone, make_pipeline(splits["train"], args.batch_size, shuffle=True, seed=args.seed),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"), data, args,
        )  # fmt: skip
    return distilled, alone


# %% [markdown]
# ## All variants, side by side
#
# `main` measures the float model first (the reference every other row is compared with), then
# makes and measures each variant of `--formats`: Keras int8 and int4 copies, the pruned model,
# the two students, the TF Serving SavedModel and the three `.tflite` files (full int8 calibrated
# on `--calibration-examples` training inputs). It writes the table (`compression.md`),
# `metrics.json` with every row, and the figure of accuracy against size.


# %%
def main(argv=None):
    args = parse_recipe_args(build_parser(), argv)
    run = RecipeRun.start(args, recipe="compress")
    saved, data, tokenizer, teacher, splits = load_teacher_and_data(args)
    out = Path(args.output_dir)
    vocabulary_size = len(vocabulary(tokenizer)) if tokenizer is not None else 0
    if "distilled" in args.formats:  # the student must be at most a quarter of the teacher
        student_size = build_student(teacher, data, splits, vocabulary_size).count_params()
        if student_size > teacher.count_params() / 4:
            raise UsageError(
                f"--formats distilled: the teacher in {args.model_dir} has only {teacher.count_params():,} "
                f"parameters, and the student ({student_size:,}) must have at most a quarter of them; "
                "leave 'distilled' out of --formats for so small a model"
            )
    x_test, y_test = as_arrays(splits["test"])
    float_predict = keras_predictor(teacher)
    reference = np.concatenate([float_predict(x_test[i : i + 256]) for i in range(0, len(x_test), 256)])
    keras_dir, litert_dir = out / "keras", out / "litert"
    keras_dir.mkdir(parents=True, exist_ok=True)
    litert_dir.mkdir(parents=True, exist_ok=True)

    def keras_row(name, model, file_name, **extra):
        path = keras_dir / file_name
        model.save(path)
        return measure(name, path, keras_predictor(model), x_test, y_test, reference, args, **extra)

    def litert_row(name, model, file_name, quantization, **extra):
        path = export_litert(model, litert_dir / file_name, quantization=quantization,
                             representative_inputs=lambda: calibration)  # fmt: skip
        return measure(name, path, LiteRTModel(path), x_test, y_test, reference, args, **extra)

    if "litert_int8" in args.formats:  # full int8 calibrates on a sample of training inputs
        calibration = [as_arrays(splits["train"].take(args.calibration_examples))[0]]
    rows = [keras_row("Keras float32", teacher, "float32.keras", parameters=teacher.count_params())]
    for mode in ("int8", "int4"):
        if f"keras_{mode}" in args.formats:
            rows.append(keras_row(f"Keras {mode}", quantized_copy(teacher, mode), f"{mode}.keras"))
    if "pruned" in args.formats:
        pruned = inference_copy(prune(teacher, splits, data, run, args))
        rows.append(keras_row(f"pruned {args.sparsity:.0%}", pruned, "pruned.keras", sparsity=sparsity(pruned)))
        rows.append(litert_row(f"pruned {args.sparsity:.0%} + LiteRT dynamic int8", pruned,
                               "pruned_dynamic_int8.tflite", "dynamic_int8"))  # fmt: skip
    if "distilled" in args.formats:
        distilled, alone = distill(teacher, splits, data, vocabulary_size, run, args)
        size = {
            "parameters": distilled.count_params(),
            "share_of_teacher": distilled.count_params() / teacher.count_params(),
        }
        rows.append(keras_row("student, distilled", distilled, "student_distilled.keras", **size))
        rows.append(keras_row("student, labels only", alone, "student_alone.keras", **size))
    if "saved_model" in args.formats:
        # TF Serving takes raw inputs: the whole saved model, tokenizer included for text.
        name = saved.metrics.get("recipe", "model")
        served = export_for_serving(saved.model, out / "serving", name)
        loaded = tf.saved_model.load(str(served))  # (the signature needs `loaded` alive: it owns the variables)
        signature = loaded.signatures["serving_default"]
        (input_name,) = signature.structured_input_signature[1]
        if tokenizer is None:
            rows.append(measure("SavedModel (TF Serving)", served,
                                lambda batch: signature(**{input_name: tf.constant(batch, tf.float32)})["output_0"].numpy(),
                                x_test, y_test, reference, args))  # fmt: skip
        else:
            print(f"compress: SavedModel for TF Serving in {served} (takes raw strings)", flush=True)
    for quantization in ("float32", "dynamic_int8", "int8"):
        if f"litert_{quantization}" in args.formats:
            rows.append(litert_row(f"LiteRT {quantization.replace('_', '-')}", teacher, f"{quantization}.tflite",
                                   quantization))  # fmt: skip
    if tokenizer is not None and any(f.startswith("litert") for f in args.formats):
        write_text(litert_dir / "vocabulary.txt", "\n".join(vocabulary(tokenizer)) + "\n")

    table = markdown_table(rows)
    print(table, flush=True)
    write_text(out / "compression.md", table)
    title = f"{dataset_title(saved.metrics.get('dataset', ''))}: {saved.metrics.get('recipe')}, compressed"
    accuracy_against_size(rows, out / "accuracy_vs_size.png", title=title)
    metrics = {"recipe": "compress", "source_run": str(args.model_dir), "source_recipe": saved.metrics.get("recipe"),
               "dataset": saved.metrics.get("dataset"), "test_examples": len(y_test), "variants": rows,
               "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}  # fmt: skip
    write_json(out / "metrics.json", metrics)
    print(f"compress: outputs in {out}/: compression.md, metrics.json, accuracy_vs_size.png, keras/, litert/"
          + (", serving/" if "saved_model" in args.formats else ""), flush=True)  # fmt: skip
    return metrics


# %%
if __name__ == "__main__":
    run_recipe(main, ARGS)
