# %% [markdown]
r"""Classify texts (sentiment, topic, spam, ...) with a small transformer encoder or a recurrent network.

**Task.** Each example is a text $x$, a string of any length, with one of $K$
labels. By default the data are IMDB movie reviews, labelled `neg` or
`pos` (25,000 for training, of which 2,500 validate, and 25,000 for testing),
loaded with tensorflow-datasets. `--data-dir` reads any folder of labelled
texts instead: one sub-folder of `.txt` files per class, the folder names
being the class names, split into `train/` and `test/` when it has those,
else with a seeded, stratified hold-out of `--test-split` of each class for
testing. A tenth of the training texts validates.

**Tokens.** A vocabulary of the `--vocabulary-size` $- 3$ most frequent
words of the training texts (Keras `TextVectorization`) numbers the words
$2, 3, \dots$; id 0 is padding, id 1 any other word (`[UNK]`) and the last
id `[CLS]`. Each text is lower-cased, stripped of punctuation and split on
white space, and becomes the ids $t_1, \dots, t_L$: `[CLS]`, then its first
$L - 1$ words, padded with 0 to $L$ = `--sequence-length`. The tokenizer
is part of the saved model, which therefore takes raw strings.

**Model.** Token $i$ starts as a learned token vector plus a learned position
vector of width $d$ (`--width`): $h^{0}_i = E_{t_i} + P_i$. Each of the
`--depth` encoder blocks mixes the tokens with multi-head self-attention.
One head projects the rows of $H \in \mathbb{R}^{L \times d}$ to queries,
keys and values $Q = H W^Q$, $K = H W^K$, $V = H W^V$ of width $d_k = d / h$
and lets each token take a weighted mean of the values:

$$\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}} + M\right) V,
\qquad M_{ij} = \begin{cases} 0 & t_j \ne 0 \\ -\infty & t_j = 0 \text{ (padding)} \end{cases}$$

with the softmax taken over each row. $h$ = `--heads` heads run side by side
and $W^O$ mixes their outputs back to width $d$. Then a two-layer network acts
on each token alone; both halves keep a residual connection and a layer
normalization:

$$U = \operatorname{LN}\big(H + \operatorname{MultiHead}(H)\big), \qquad
H' = \operatorname{LN}\big(U + \operatorname{relu}(U W_1 + b_1) W_2 + b_2\big).$$

The text's vector is the mean over its $n$ real (non-padding) tokens,
$\bar h = \frac{1}{n} \sum_{i:\, t_i \ne 0} h^{\text{last}}_i$, and
$p = \operatorname{softmax}(W \bar h + b)$ gives the probability $p_k$ of each
class. The masks make the output independent of the padding. keras-hub's
`TokenAndPositionEmbedding` and `TransformerEncoder` layers do all of this.

**Recurrent alternative.** `--architecture lstm` (or `gru`) reads the
token vectors $x_1, \dots, x_n$ one at a time instead, carrying a state from
step to step. An LSTM keeps a cell $c_t$ and an output $h_t$ of `--units`
numbers, updated through three gates with the logistic function
$\sigma(z) = 1 / (1 + e^{-z})$:

$$\begin{aligned}
i_t &= \sigma(W_i x_t + U_i h_{t-1} + b_i), &
f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f), &
o_t &= \sigma(W_o x_t + U_o h_{t-1} + b_o), \\
g_t &= \tanh(W_g x_t + U_g h_{t-1} + b_g), &
c_t &= f_t \odot c_{t-1} + i_t \odot g_t, &
h_t &= o_t \odot \tanh(c_t),
\end{aligned}$$

from $h_0 = c_0 = 0$ ($\odot$ multiplies elementwise). The text's vector is
the state after its last real token, $h_n$ (padding is skipped), with
`--bidirectional` (the default) concatenated with the state of a second
LSTM that reads the text backwards, and $p = \operatorname{softmax}(W h + b)$.
The additive cell update is what lets gradients reach early words: the
derivative of $c_t$ with respect to $c_{t-1}$ is the forget gate $f_t$ (Keras
starts its bias at 1, so $f_t \approx 0.73$), not a product of weight
matrices and activation slopes that shrinks at every step. A GRU merges the
cell and the output into one state with two gates. See the
[Recurrent networks](../concepts/recurrent-networks.md) page.

**Fine-tuning a pretrained encoder.** `--backbone PRESET` replaces the
tokenizer and the model above with a pretrained encoder and its own tokenizer:
a keras-hub preset folder (the `preset/` of
`recipes.masked_lm_pretraining`) or a keras-hub preset name, downloaded when
online. keras-hub's `TextClassifier.from_preset` frames each text as
`[CLS] pieces [SEP]` (cut or padded to `--sequence-length`, by default
the longest the encoder takes), runs the encoder, and classifies its
`[CLS]` vector through a dense layer with tanh (the "pooler") and a new
softmax layer. `--finetune` says what trains: `full`, every weight;
`lora`, for each attention block's query and value projections $W$ a
low-rank update, $x\,(W + \frac{\alpha}{r} A B)$ with $A$ of size
$d \times r$, $B$ of size $r \times d$ starting at zero and $r$ =
`--lora-rank`, so only a few percent of the numbers train; `frozen`,
only the pooler and the softmax layer; `scratch`, every weight of the same
encoder drawn afresh, the control that shows what the pretraining is worth
(the pooler trains in every mode: masked-language modelling never trains it).
See [Pretraining and fine-tuning](../concepts/pretraining.md).
`--labels-per-class N` keeps only $N$ labelled texts of each class (a
seeded draw from the training texts; `--validation-split` of them
validate), to measure how much labelling a method needs.

**Loss.** The mean cross-entropy of a batch of $N$ texts, each weighted by
its class, $\mathcal{L} = -\frac{1}{N} \sum_{n} w_{y_n} \log p_{y_n}(x_n)$. All
weights are 1, or with `--class-weight balanced` $w_c = \frac{N_{\text{train}}}{K N_c}$
for a class with $N_c$ of the $N_{\text{train}}$ training texts, so every class
weighs the same in total however rare it is. Dropout (rate
`--dropout`) in every block and before the output layer regularizes.

**Optimizer.** AdamW: Adam's running means $m_t$ and $v_t$ of the gradient
and of its square, plus a weight decay $\lambda$ (`--weight-decay`, not
applied to biases and normalization parameters) kept out of those means:
$\theta_t = \theta_{t-1} - \eta_t \lambda \theta_{t-1} - \alpha_t m_t / (\sqrt{v_t} + \epsilon)$,
with the bias corrections folded into the step,
$\alpha_t = \eta_t \sqrt{1-\beta_2^t} / (1-\beta_1^t)$, as Keras computes it.
The step size $\eta_t$ rises linearly from 0 to `--learning-rate` (by default
$10^{-3}$; fine-tuning all of a pretrained encoder, $3 \times 10^{-4}$, small
steps that keep what pretraining learned) over the
first `--warmup` of the $T$ steps (attention is unstable while Adam's
estimates are young), then falls to 0 along a half cosine.

**Training length.** About 5,632 optimizer steps: the epochs are
$\lceil 5632 / \lceil n / B \rceil \rceil$ for $n$ training texts and batch
size $B$, at least 1 and at most 8: 8 epochs on IMDB's 22,500 training
reviews and on smaller sets (on the 1,602 BBC News training articles, 12
epochs did no better than 8). The run ends with the weights of its epoch with
the best validation accuracy. A fine-tuned encoder (`--backbone`) trains
about 500 steps, 4 to 100 epochs, so that even ten labels per class get
enough updates. `--epochs` overrides the rule.

Run it:

```bash
python -m recipes.text_classification
python -m recipes.text_classification --data-dir path/to/corpus --class-weight balanced
python -m recipes.text_classification --data-dir path/to/corpus --backbone runs/masked_lm_pretraining/preset
python -m recipes.text_classification --model-dir runs/text_classification --predict "What a film!"
```
"""

# %% [markdown]
# ## The command line
#
# Every recipe takes the same shared flags (`--epochs`, `--batch-size`, `--learning-rate`,
# `--strategy`, `--mixed-precision`, `--output-dir`, `--data-dir`, `--quick`, ...; see
# `mlrecipes.cli.recipe_parser`) with its own defaults. This one adds four groups of its own: the
# data (which class folders, the test and validation shares, few labels on purpose, class
# weights), the model trained from scratch, the pretrained encoder to fine-tune instead, and the
# texts to classify with a model already trained.
#
# The learning rate's default depends on the model: $10^{-3}$ from scratch, and with `--backbone`
# one per `--finetune` mode. A pretrained encoder tuned whole wants smaller steps, which keep what
# pretraining learned (on BBC News with 50 labels per class, 0.917 test accuracy at
# $3 \times 10^{-4}$ against 0.890 at $10^{-3}$); LoRA, the head alone and the control from
# scratch do best at $10^{-3}$. `BUDGET` and `FINETUNE_BUDGET` set how long training lasts when
# `--epochs` is not given (see "Training length" above).

# %%
from __future__ import annotations

import argparse
from pathlib import Path

from mlrecipes.budget import TrainingBudget
from mlrecipes.cli import (
    check_command_line,
    count_or_share,
    fraction,
    parse_recipe_args,
    positive_float,
    positive_int,
    recipe_parser,
    run_recipe,
)
from mlrecipes.data.text_folder import BAD_FILE_POLICIES
from mlrecipes.errors import UsageError

RECIPE = "text_classification"
ARCHITECTURES = ("transformer", "lstm", "gru")
FINETUNE_MODES = ("full", "lora", "frozen", "scratch")
DEFAULT_SEQUENCE_LENGTH = 320
DEFAULT_LEARNING_RATE = 1e-3
# The learning rate with --backbone, by --finetune.
FINETUNE_LEARNING_RATES = {"full": 3e-4, "lora": 1e-3, "frozen": 1e-3, "scratch": 1e-3}

# About 5,632 optimizer steps (8 epochs of IMDB's 22,500 training reviews at batch 32), 1 to 8 epochs.
BUDGET = TrainingBudget(steps=5632, min_epochs=1, max_epochs=8)
# Fine-tuning a pretrained encoder (--backbone): about 500 steps, 4 to 100 epochs.
FINETUNE_BUDGET = TrainingBudget(steps=500, min_epochs=4, max_epochs=100)


def build_parser():
    """The command line: the shared flags plus this recipe's own."""
    parser = recipe_parser(
        RECIPE,
        "Train a transformer-encoder text classifier on IMDB reviews or a folder of labelled texts; "
        "or classify texts with a trained one (--model-dir with --predict or --predict-file).",
        budget=BUDGET,
        batch_size=32,
        learning_rate=None,
        learning_rate_help=f"(peak) learning rate (default: {DEFAULT_LEARNING_RATE:g}; with --backbone, by --finetune: "
        + ", ".join(f"{mode} {rate:g}" for mode, rate in FINETUNE_LEARNING_RATES.items())
        + ")",
        data_dir_help="a folder of labelled texts to read instead of downloading IMDB: one sub-folder of "
        ".txt files per class (its name is the class name), either directly or inside train/ and test/",
    )
    data = parser.add_argument_group("data")
    data.add_argument("--classes", nargs="+", metavar="NAME", help="the class folders to use (default: all)")
    data.add_argument(
        "--test-split",
        type=fraction,
        default=0.2,
        help="share of each class held out for testing when --data-dir has no train/ and test/ folders",
    )
    data.add_argument(
        "--validation-split",
        type=fraction,
        default=0.1,
        help="share of each class of the training texts held out for validation",
    )
    data.add_argument(
        "--bad-files",
        choices=BAD_FILE_POLICIES,
        default="skip",
        help="what to do with an empty, unreadable, binary or non-UTF-8 .txt file: skip it "
        "(counted in one warning) or stop with an error",
    )
    data.add_argument(
        "--labels-per-class",
        type=count_or_share,
        default=None,
        metavar="N",
        help="train on N labelled texts of each class in all (below 1: that share of each class), drawn with --seed "
        "from the training texts, --validation-split of them validating; the test texts are all kept",
    )
    data.add_argument(
        "--class-weight",
        choices=("none", "balanced"),
        default="none",
        help="balanced weighs each class's texts by N / (classes * N_class)",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default="transformer",
        help="the network that reads the token ids: a transformer encoder, or a recurrent LSTM or GRU layer",
    )
    model.add_argument(
        "--vocabulary-size",
        type=positive_int,
        default=12000,
        help="most token ids: the most frequent training words, plus padding, [UNK] and [CLS]",
    )
    model.add_argument(
        "--sequence-length",
        type=positive_int,
        default=None,
        help=f"tokens per text ([CLS] included); longer texts are cut (default: {DEFAULT_SEQUENCE_LENGTH}; "
        "with --backbone, the longest the encoder takes)",
    )
    model.add_argument("--width", type=positive_int, default=64, help="size of the token vectors")
    model.add_argument("--heads", type=positive_int, default=4, help="attention heads per block (transformer)")
    model.add_argument("--depth", type=positive_int, default=1, help="transformer encoder blocks (transformer)")
    model.add_argument("--units", type=positive_int, default=64, help="recurrent state size, per direction (lstm, gru)")
    model.add_argument(
        "--bidirectional",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="read each text forwards and backwards (lstm, gru)",
    )
    model.add_argument(
        "--intermediate-dim",
        type=positive_int,
        default=None,
        help="hidden units of each block's feed-forward network (default: 2 x width)",
    )
    model.add_argument("--dropout", type=fraction, default=0.1, help="dropout rate")
    model.add_argument("--weight-decay", type=positive_float, default=0.01, help="AdamW weight decay")
    model.add_argument("--warmup", type=fraction, default=0.1, help="share of the steps spent warming up")
    finetuning = parser.add_argument_group("fine-tune a pretrained encoder (instead of the model above)")
    finetuning.add_argument(
        "--backbone",
        metavar="PRESET",
        help="a keras-hub preset folder (the preset/ of a masked_lm_pretraining run) or preset name (downloaded "
        "when online, such as bert_tiny_en_uncased); its tokenizer and encoder replace the model flags above",
    )
    finetuning.add_argument(
        "--finetune",
        choices=FINETUNE_MODES,
        default="full",
        help="what trains: every weight (full), low-rank updates of the attention (lora), only the pooling and "
        "output layers (frozen), or the same encoder from random weights (scratch, the control)",
    )
    finetuning.add_argument("--lora-rank", type=positive_int, default=4, help="rank r of the LoRA updates (lora)")
    predict = parser.add_argument_group("classify texts with a trained model (instead of training)")
    predict.add_argument("--model-dir", type=Path, metavar="RUN_DIR", help="the --output-dir of a finished run")
    predict.add_argument("--predict", action="append", default=[], metavar="TEXT", help="a text (repeatable)")
    predict.add_argument(
        "--predict-file",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a UTF-8 file holding one text (repeatable)",
    )
    return parser


# %% [markdown]
# ## The flags of this run
#
# As a program, the recipe takes its flags from the command line:
# `python -m recipes.text_classification --data-dir path/to/corpus --class-weight balanced`. In a
# notebook, write them in `ARGS`, as they would be typed, for example
# `ARGS = ["--quick", "--data-dir", "path/to/corpus"]`, or, to classify texts with a trained model,
# `ARGS = ["--model-dir", "runs/text_classification", "--predict", "What a film!"]`.
# `ARGS = None` means the command line's flags, and in a notebook every default. `--help` is
# answered, and a bad flag refused, at once: before the seconds-long import of TensorFlow in the
# cell after.

# %% tags=["parameters"]
ARGS = None

# %%
if __name__ == "__main__":
    check_command_line(build_parser(), ARGS)

# %%
import keras
import numpy as np
import tensorflow as tf

from mlrecipes.data.imdb import load_imdb
from mlrecipes.data.labelled_subset import keep_labels_per_class
from mlrecipes.data.pipeline import make_pipeline, steps_per_epoch
from mlrecipes.data.text_folder import decode_text, load_text_folder
from mlrecipes.models.finetuning import build_finetuning_classifier, check_preset
from mlrecipes.models.recurrent_classifier import build_recurrent_classifier
from mlrecipes.models.transformer_classifier import build_transformer_classifier
from mlrecipes.run import RecipeRun
from mlrecipes.saved_run import load_run
from mlrecipes.schedules import warmup_cosine
from mlrecipes.text.tokenizer import attach_tokenizer, learn_tokenizer, vocabulary

# %% [markdown]
# ## The data
#
# Each split is a `tf.data` dataset of `(text, label)` pairs: the text a `tf.string` of any
# length, the label an integer. `load_text_folder` reads a `--data-dir` of class folders (skipping,
# or with `--bad-files error` refusing, files that are empty, binary or not UTF-8) and holds out a
# seeded, stratified share of each class for testing when the folder has no `train/` and `test/`;
# without `--data-dir`, `load_imdb` downloads IMDB with tensorflow-datasets. `--quick` keeps a few
# texts of each split. `--labels-per-class N` then keeps only $N$ labelled texts of each class, a
# seeded draw, to measure how much labelling a method needs; the test texts are all kept.


# %%
def load_data(args):
    """The labelled texts, split into train, validation and test."""
    if args.data_dir:
        data = load_text_folder(
            args.data_dir,
            class_names=args.classes,
            test_fraction=args.test_split,
            validation_fraction=args.validation_split,
            seed=args.seed,
            on_bad_file=args.bad_files,
        )
    else:
        data = load_imdb()
    if args.quick:
        data = data.quick()
    if args.labels_per_class:
        data = keep_labels_per_class(
            data, args.labels_per_class, validation_fraction=args.validation_split, seed=args.seed
        )
        print(f"{RECIPE}: --labels-per-class {args.labels_per_class}: {data.sizes['train']} training and "
              f"{data.sizes['validation']} validation texts kept", flush=True)  # fmt: skip
    return data


# %% [markdown]
# ## The tokens
#
# The model reads token ids, not text. Without `--backbone`, `learn_tokenizer` learns the
# vocabulary of the docstring from the training texts only (the test texts must not shape the
# model) and makes a small Keras model from strings to rows of `--sequence-length` ids. With
# `--backbone`, the tokenizer is the pretrained encoder's own: keras-hub's classifier comes with
# it as its preprocessor (`[CLS] text [SEP]`, padded), so the whole classifier is built here and
# the tokenizer taken out of it, to be put back before saving. Either way the vocabulary size is
# the number of token vectors the model embeds.


# %%
def make_tokenizer(args, data, run):
    """The tokenizer, its vocabulary size, and with --backbone the pretrained classifier it came with (else None)."""
    if args.backbone:
        with run.strategy.scope():
            pretrained = build_finetuning_classifier(
                args.backbone, data.num_classes,
                sequence_length=args.sequence_length, finetune=args.finetune,
                lora_rank=args.lora_rank, dropout=args.dropout,
            )  # fmt: skip
        tokenizer, pretrained.preprocessor = pretrained.preprocessor, None
        return tokenizer, tokenizer.tokenizer.vocabulary_size(), pretrained
    train_texts = data.train.map(lambda text, label: text)
    tokenizer = learn_tokenizer(train_texts, args.vocabulary_size, args.sequence_length or DEFAULT_SEQUENCE_LENGTH)
    vocabulary_size = len(vocabulary(tokenizer))
    print(f"{RECIPE}: a vocabulary of {vocabulary_size} tokens learned from {data.sizes['train']} training texts")
    return tokenizer, vocabulary_size, None


# %% [markdown]
# ## The pipelines
#
# The tokenizer runs once over each split, 256 texts at a time, so the cached pipelines (and the
# accelerators) only see fixed-length rows of int32 ids. The class weights of the loss,
# $w_c = N_{\text{train}} / (K N_c)$ with `--class-weight balanced` and all 1 otherwise, travel
# with each training example as a third element, the sample weight Keras multiplies its loss by.
# `make_pipeline` caches each split, reshuffles the training texts every epoch, batches and
# prefetches. When no text is left to validate (`--validation-split 0`, or so few labels per class
# that the share rounds to none), there is no validation pipeline.


# %%
def class_weights_of(args, data):
    """The weight of each class in the loss: all 1, or N / (K N_c) with --class-weight balanced."""
    labels = np.concatenate(list(data.train.map(lambda text, label: label).batch(4096).as_numpy_iterator()))
    counts = np.bincount(labels, minlength=data.num_classes)
    if args.class_weight == "balanced":
        return (counts.sum() / (data.num_classes * np.maximum(counts, 1))).astype(np.float32)
    return np.ones(data.num_classes, np.float32)


def make_pipelines(args, data, tokenizer, class_weights):
    """Batched pipelines of token ids: train (with sample weights), validation (or None) and test."""

    def tokenized(split, size):
        ids = split.batch(256).map(lambda text, label: (tokenizer(text), label)).unbatch()
        return ids.apply(tf.data.experimental.assert_cardinality(size))

    weighted = tokenized(data.train, data.sizes["train"]).map(
        lambda ids, label: (ids, label, tf.gather(class_weights, label))
    )
    train = make_pipeline(weighted, args.batch_size, shuffle=True, seed=args.seed)
    validation = None
    if data.sizes["validation"]:
        validation = make_pipeline(tokenized(data.validation, data.sizes["validation"]), args.batch_size)
    test = make_pipeline(tokenized(data.test, data.sizes["test"]), args.batch_size)
    return train, validation, test


# %% [markdown]
# ## The model
#
# From scratch, `build_transformer_classifier` builds the encoder of the docstring (keras-hub's
# `TokenAndPositionEmbedding` and `TransformerEncoder` layers, then the mean over the real tokens
# and the softmax layer), and `build_recurrent_classifier` the LSTM or GRU of `--architecture`;
# with `--backbone` the pretrained classifier comes from the tokens step. The model is built and
# compiled inside the strategy's scope, so that its variables are mirrored on every replica, with
# AdamW (no weight decay on biases and the normalization's $\gamma$ and $\beta$) on a schedule
# that warms up over the first `--warmup` of the `steps` and then falls along a half cosine.


# %%
def peak_learning_rate(args):
    """--learning-rate, or its default: by --finetune with --backbone, else DEFAULT_LEARNING_RATE."""
    return args.learning_rate or (FINETUNE_LEARNING_RATES[args.finetune] if args.backbone else DEFAULT_LEARNING_RATE)


def build_model(args, data, run, pretrained, vocabulary_size, steps):
    """The classifier of token ids, compiled with its loss, optimizer and accuracy metric."""
    with run.strategy.scope():
        if pretrained is not None:
            classifier = pretrained
        elif args.architecture == "transformer":
            classifier = build_transformer_classifier(
                vocabulary_size=vocabulary_size,
                sequence_length=args.sequence_length or DEFAULT_SEQUENCE_LENGTH,
                num_classes=data.num_classes,
                width=args.width,
                num_heads=args.heads,
                depth=args.depth,
                intermediate_dim=args.intermediate_dim,
                dropout=args.dropout,
                name=f"{data.name}_transformer",
            )
        else:
            classifier = build_recurrent_classifier(
                vocabulary_size=vocabulary_size,
                num_classes=data.num_classes,
                cell=args.architecture,
                width=args.width,
                units=args.units,
                bidirectional=args.bidirectional,
                dropout=args.dropout,
                name=f"{data.name}_{'bi' if args.bidirectional else ''}{args.architecture}",
            )
        warmup_steps = min(int(args.warmup * steps), steps - 1)
        schedule = warmup_cosine(peak_learning_rate(args), steps, warmup_steps)
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=args.weight_decay)
        optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
        classifier.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            jit_compile=run.jit_compile,
        )
    return classifier


# %% [markdown]
# ## Classifying new texts
#
# A finished run's `--output-dir` holds `model.keras`, which takes raw strings (the tokenizer is
# part of it), and `metrics.json`, which names the classes. With `--model-dir`, the recipe trains
# nothing: `predict` reads the texts of `--predict` and `--predict-file`, refusing an empty text
# or a file that is not UTF-8 text, loads the run and prints one line per text: the most probable
# class, its probability and the text (or the file's name), separated by tabs.


# %%
def predict(args):
    """Classify the texts of --predict and --predict-file with the model saved in --model-dir."""
    if args.model_dir is None:
        raise UsageError("--predict and --predict-file need --model-dir RUN_DIR, the --output-dir of a finished run")
    empty = [text for text in args.predict if not text.strip()]
    if empty:  # as --generate '' and --translate '' are: an empty text has nothing to classify
        raise UsageError(f"--predict {empty[0]!r}: the text is empty; give a text to classify")
    texts = [(text, " ".join(text.split())[:70]) for text in args.predict]
    for path in args.predict_file:
        if path.exists() and not path.is_file():
            raise UsageError(f"--predict-file {path}: not a regular file; give a UTF-8 text file")
        try:
            text, problem = decode_text(path.read_bytes())
        except OSError as error:
            raise UsageError(f"--predict-file {path}: cannot be read ({error.strerror or error})") from None
        if problem:
            raise UsageError(f"--predict-file {path}: {problem} file; give a UTF-8 text file")
        texts.append((text, str(path)))
    if not texts:
        raise UsageError("--model-dir needs texts to classify: --predict TEXT or --predict-file FILE")
    saved = load_run(args.model_dir, recipe=RECIPE, required=("class_names",))
    model, class_names = saved.model, saved.metrics["class_names"]
    probabilities = model.predict(tf.constant([text for text, _ in texts]), verbose=0)
    if probabilities.shape[-1] != len(class_names):
        raise UsageError(
            f"--model-dir {args.model_dir}: metrics.json names {len(class_names)} classes but the model "
            f"predicts {probabilities.shape[-1]}; give the --output-dir of one finished run"
        )
    for (_, shown), row in zip(texts, probabilities):
        print(f"{class_names[int(row.argmax())]}\t{row.max():.4f}\t{shown}")
    return probabilities


# %% [markdown]
# ## Training, evaluation and outputs
#
# `main` classifies texts when given `--model-dir`, `--predict` or `--predict-file`; otherwise it
# first refuses the flag combinations that cannot work, and a `--backbone` that is no preset,
# before anything is written. It then runs the steps in order. `RecipeRun.start` seeds every random
# generator and picks the distribution strategy and the precision policy; the budget gives the
# epochs for this many training texts (or `--epochs`), and the optimizer steps they make set the
# length of the learning-rate schedule. `run.fit` trains with a backup after every epoch (an
# interrupted run resumes from it), TensorBoard logs and a checkpoint of the best epoch by
# validation accuracy, whose weights the model ends with. The test split is evaluated once, at
# the end; `run.report_classifier` adds the per-class scores and draws the confusion matrix. The
# saved model has the tokenizer in front of the classifier, so it takes raw strings, and
# `metrics.json` records the class names, weights, learning rate and trainable parameters beside
# every recipe's figures.


# %%
def check_training_flags(args):
    """Refuse the flag combinations that cannot train, before anything is written."""
    if args.classes and not args.data_dir:
        raise UsageError("--classes picks class folders of --data-dir; IMDB's classes are fixed (neg, pos)")
    if args.backbone and args.architecture != "transformer":
        raise UsageError(
            f"--architecture {args.architecture} builds a model from scratch; --backbone fine-tunes the preset's "
            "encoder: give one of them"
        )
    if args.backbone:
        check_preset(args.backbone)


def main(argv=None):
    args = parse_recipe_args(build_parser(), argv)
    if args.model_dir or args.predict or args.predict_file:
        return predict(args)
    check_training_flags(args)
    run = RecipeRun.start(args, recipe=RECIPE)
    data = load_data(args)
    tokenizer, vocabulary_size, pretrained = make_tokenizer(args, data, run)
    class_weights = class_weights_of(args, data)
    train, validation, test = make_pipelines(args, data, tokenizer, class_weights)

    budget = FINETUNE_BUDGET if args.backbone else BUDGET
    epochs = budget.epochs(data.sizes["train"], args.batch_size, override=args.epochs)
    steps = epochs * steps_per_epoch(data.sizes["train"], args.batch_size)
    classifier = build_model(args, data, run, pretrained, vocabulary_size, steps)
    classifier.summary(print_fn=lambda line, **_: print(line))

    run.fit(classifier, train, validation, train_examples=data.sizes["train"], epochs=epochs, monitor="val_accuracy")
    run.evaluate(classifier, test)
    run.report_classifier(classifier, test, data.class_names, show_images=False)
    trainable = sum(int(np.prod(weight.shape)) for weight in classifier.trainable_weights)
    if args.backbone:
        classifier.preprocessor = tokenizer
        saved = classifier
    else:
        saved = attach_tokenizer(tokenizer, classifier)
    return run.finish(
        saved,
        dataset=data.name,
        data_source=data.source,
        class_names=list(data.class_names),
        class_weights=[round(float(weight), 6) for weight in class_weights],
        vocabulary_size=vocabulary_size,
        learning_rate=peak_learning_rate(args),
        trainable_parameters=trainable,
        labelled_texts={"train": data.sizes["train"], "validation": data.sizes["validation"]},
        skipped_files=len(getattr(data, "skipped", ())),
    )


# %%
if __name__ == "__main__":
    run_recipe(main, ARGS)
