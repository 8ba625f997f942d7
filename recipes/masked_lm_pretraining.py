# %% [markdown]
r"""Pretrain a small BERT-style encoder on unlabelled text by masked-language modelling.

**Task.** Learn about a language from raw text alone, so that a classifier
fine-tuned from the result needs few labels
(`python -m recipes.text_classification --backbone RUN/preset`). The default
text is IMDB's 50,000 unlabelled movie reviews (tensorflow-datasets
`imdb_reviews`, split `unsupervised`); `--data-dir` reads every `.txt`
file under a folder instead (one document per file, recursively) and
`--data-file` one UTF-8 file (one document per paragraph, or per line if it
has no blank line). A seeded 5% of the documents validates and another 5%
tests.

**Tokens.** A WordPiece vocabulary of at most `--vocabulary-size` pieces is
learned from the training documents (keras-hub's
`compute_word_piece_vocabulary`, from a seeded sample of at most 5,000 documents):
frequent words are one piece, rare ones split into known pieces
(`play ##ing`), so nothing is out of vocabulary. Each document is tokenized and cut
into pieces of $L - 2$ tokens, and each piece becomes a row
`[CLS] piece [SEP]` padded to $L$ = `--sequence-length`.

**Masking.** In each row, $\lceil p n \rceil$ of its $n$ tokens other than
`[CLS]`, `[SEP]` and padding are *selected* at random, $p$ =
`--mask-rate` (0.15; keras-hub's `MaskedLMMaskGenerator`). Of the
selected tokens 80% are replaced by `[MASK]`, 10% by a random token and 10%
are left unchanged; the model sees the altered row $\tilde x$ and must give
back the original token $t_i$ at every selected position $i \in S$. (Were
every selected token `[MASK]`, the model would learn nothing useful for
rows without `[MASK]`, which is every row it meets after pretraining.)
Training rows are masked afresh each epoch; the validation and test rows are
masked once and kept, so every epoch is judged on the same positions.

**Model.** A BERT encoder (keras-hub `BertBackbone`): token, position and
segment embeddings, summed and layer-normalized, then `--depth` transformer
encoder blocks of width $d$ = `--width` (multi-head self-attention over the
whole row in both directions, then a feed-forward network, each with a
residual connection and layer normalization, as in the text-classification
recipe). The masked-LM head (`BertMaskedLM`) maps the encoder's vector
$h_i$ at a selected position to logits over the vocabulary,
$z_i = \operatorname{LN}(\operatorname{gelu}(W h_i + b))\,E^\top + c$, with
$E$ the token-embedding matrix (shared with the input).

**Loss.** The cross-entropy over the selected positions only, averaged over
them:

$$\mathcal{L} = -\frac{1}{|S|} \sum_{i \in S} \log \operatorname{softmax}(z_i)_{t_i}.$$

**Metrics.** Masked-token accuracy (the share of selected positions whose
most likely token is the original) and perplexity $e^{\mathcal{L}}$ on the
held-out test rows, against a *unigram baseline* that ignores the context and
predicts every hidden token with the token frequencies $q$ of the training
text: $-\frac{1}{|S|} \sum_{i \in S} \log q(t_i)$, perplexity $e$ to that.
Perplexity reads as "as unsure as a uniform choice among that many tokens".

**Optimizer.** AdamW, weight decay `--weight-decay` (not on biases and
normalization parameters), the learning rate warming up linearly over the
first `--warmup` of the steps and then falling to 0 along a half cosine.

**Training length.** About 8,000 optimizer steps: the epochs are
$\lceil 8000 / \lceil n / B \rceil \rceil$ for $n$ training rows and batch size
$B$, at least 1 and at most 40. The run ends with the weights of its epoch
with the lowest validation loss. `--epochs` overrides the rule.

**Outputs.** Beside every recipe's files, `preset/`: the encoder and its
tokenizer as a keras-hub preset folder, for
`keras_hub.models.TextClassifier.from_preset` or
`--backbone` of the text-classification recipe; and `filled_masks.txt`,
test rows with some tokens hidden and the model's guesses.

Run it:

```bash
python -m recipes.masked_lm_pretraining
python -m recipes.masked_lm_pretraining --data-dir path/to/texts --output-dir runs/pretrained
python -m recipes.text_classification --data-dir path/to/labelled --backbone runs/pretrained/preset
```
"""

# %% [markdown]
# ## The command line
#
# Every recipe takes the same shared flags (`--epochs`, `--batch-size`, `--learning-rate`,
# `--strategy`, `--mixed-precision`, `--output-dir`, `--data-dir`, `--quick`, ...; see
# `mlrecipes.cli.recipe_parser`) with its own defaults. This one adds the text to read instead of
# IMDB's reviews (`--data-file`, besides the shared `--data-dir`) and the shape of the encoder and
# of its training: vocabulary, row length, width, heads, depth, dropout, mask rate, weight decay
# and warm-up. `BUDGET` sets how long training lasts when `--epochs` is not given (see "Training
# length" above), and `FILLED_EXAMPLES` how many test rows `filled_masks.txt` shows.

# %%
from __future__ import annotations

import math
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
from mlrecipes.data.text_folder import BAD_FILE_POLICIES
from mlrecipes.errors import UsageError

RECIPE = "masked_lm_pretraining"
FILLED_EXAMPLES = 8

# About 8,000 optimizer steps, 1 to 40 epochs.
BUDGET = TrainingBudget(steps=8000, min_epochs=1, max_epochs=40)


def build_parser():
    """The command line: the shared flags plus this recipe's own."""
    parser = recipe_parser(
        RECIPE,
        "Pretrain a small BERT encoder by masked-language modelling on unlabelled text and save it as a "
        "keras-hub preset for fine-tuning.",
        budget=BUDGET,
        batch_size=16,
        learning_rate=1e-3,
        data_dir_help="a folder of .txt files (read recursively, one document per file) to pretrain on "
        "instead of downloading IMDB's unlabelled reviews",
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--data-file", type=Path, default=None, metavar="PATH",
        help="one UTF-8 text file to pretrain on: one document per paragraph (per line if it has no blank line)",
    )  # fmt: skip
    data.add_argument(
        "--bad-files",
        choices=BAD_FILE_POLICIES,
        default="skip",
        help="what to do with an empty, unreadable, binary or non-UTF-8 .txt file of --data-dir",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--vocabulary-size", type=positive_int, default=4096, help="most WordPiece tokens, special tokens included"
    )
    model.add_argument(
        "--sequence-length", type=positive_int, default=128, help="tokens per row, [CLS] and [SEP] included"
    )
    model.add_argument("--width", type=positive_int, default=128, help="size of the token vectors")
    model.add_argument("--heads", type=positive_int, default=2, help="attention heads per block")
    model.add_argument("--depth", type=positive_int, default=2, help="transformer encoder blocks")
    model.add_argument(
        "--intermediate-dim",
        type=positive_int,
        default=None,
        help="hidden units of each feed-forward network (default: 4 x width)",
    )
    model.add_argument("--dropout", type=fraction, default=0.0, help="dropout rate in the encoder")
    model.add_argument("--mask-rate", type=fraction, default=0.15, help="share of the tokens selected for prediction")
    model.add_argument("--weight-decay", type=positive_float, default=0.01, help="AdamW weight decay")
    model.add_argument("--warmup", type=fraction, default=0.06, help="share of the steps spent warming up")
    return parser


# %% [markdown]
# ## The flags of this run
#
# As a program, the recipe takes its flags from the command line:
# `python -m recipes.masked_lm_pretraining --data-dir path/to/texts`. In a notebook, write them in
# `ARGS`, as they would be typed, for example
# `ARGS = ["--quick", "--data-dir", "path/to/texts", "--output-dir", "runs/pretrained"]`.
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

from mlrecipes.data.documents import load_imdb_unlabelled, read_document_file, read_document_folder, split_documents
from mlrecipes.data.pipeline import make_pipeline, steps_per_epoch
from mlrecipes.models.bert import build_bert_masked_lm
from mlrecipes.models.finetuning import write_preset
from mlrecipes.outputs import write_text
from mlrecipes.run import RecipeRun
from mlrecipes.schedules import warmup_cosine
from mlrecipes.text.masked_lm import (
    mask_generator,
    masked_lm_batch,
    masked_once,
    token_chunks,
    unigram_cross_entropy,
)
from mlrecipes.text.wordpiece import bert_tokenizer, learn_wordpiece_vocabulary

# %% [markdown]
# ## The data
#
# The text comes as documents, plain strings: the `.txt` files under `--data-dir`
# (`read_document_folder` skips, or with `--bad-files error` refuses, files that are empty, binary
# or not UTF-8), the paragraphs of `--data-file`, or IMDB's unlabelled reviews from
# tensorflow-datasets. `split_documents` splits them by document, with `--seed`, into training,
# validation and test documents, so no held-out row shares a document with a training row.
# `--quick` keeps a few documents of each split.


# %%
def load_corpus(args):
    """The documents, split by document into train, validation and test."""
    skipped = ()
    if args.data_dir:
        documents, skipped = read_document_folder(args.data_dir, on_bad_file=args.bad_files)
        name, source = args.data_dir.name, str(args.data_dir)
    elif args.data_file:
        documents, name, source = read_document_file(args.data_file), args.data_file.name, str(args.data_file)
    else:
        documents, name, source = load_imdb_unlabelled(), "imdb_reviews", "tensorflow-datasets"
    corpus = split_documents(documents, name=name, source=source, seed=args.seed, skipped=skipped)
    if args.quick:
        corpus = corpus.quick()
    return corpus


# %% [markdown]
# ## The tokens
#
# `learn_wordpiece_vocabulary` learns the WordPiece vocabulary from the training documents only,
# and `bert_tokenizer` makes keras-hub's `BertTokenizer` of it, with the special tokens `[PAD]`,
# `[UNK]`, `[CLS]`, `[SEP]` and `[MASK]`. `token_chunks` tokenizes every document and cuts it into
# pieces of at most $L - 2$ tokens, which leaves room for `[CLS]` and `[SEP]`; a ragged tensor
# holds the pieces of each split, one row per piece. The rows, not the documents, are the examples
# that the training budget counts.


# %%
def tokenize(args, corpus):
    """The WordPiece vocabulary, its tokenizer, and the pieces of each split (ragged rows of ids)."""
    vocabulary = learn_wordpiece_vocabulary(corpus.train, args.vocabulary_size, seed=args.seed)
    tokenizer = bert_tokenizer(vocabulary)
    pieces = {
        "train": token_chunks(corpus.train, tokenizer, args.sequence_length),
        "validation": token_chunks(corpus.validation, tokenizer, args.sequence_length),
        "test": token_chunks(corpus.test, tokenizer, args.sequence_length),
    }
    rows = {split: int(part.nrows()) for split, part in pieces.items()}
    print(f"{RECIPE}: {len(vocabulary)} WordPiece tokens; rows of {args.sequence_length} tokens: {rows}", flush=True)
    return vocabulary, tokenizer, pieces, rows


# %% [markdown]
# ## Masking
#
# `masked_lm_batch` frames a batch of pieces as rows, `[CLS] piece [SEP]` padded to $L$, and masks
# them with BERT's rule (`mask_generator`: keras-hub's `MaskedLMMaskGenerator` selecting
# $\lceil p n \rceil$ tokens, 80% of them replaced by `[MASK]`, 10% by a random token, 10% left
# unchanged). It gives the model's inputs (the altered ids, the padding mask, the segment ids and
# the selected positions), the targets (the original ids there) and their weights (0 for an unused
# slot). The training rows are masked afresh for every batch, inside the pipeline, so each epoch
# asks about other positions and the model cannot memorize the answers; batches, not single rows,
# are masked, since the generator works on a batch at a time. `masked_once` masks the validation and test rows once and keeps them,
# so every epoch is judged on the same positions, and also returns the test rows as arrays.


# %%
def masked_rows(args, tokenizer, pieces):
    """The training pipeline (masked afresh each batch), the validation and test rows (masked once), the test arrays."""
    length = args.sequence_length
    frame_and_mask = masked_lm_batch(tokenizer, length, mask_generator(tokenizer, length, args.mask_rate))
    train = (
        make_pipeline(
            tf.data.Dataset.from_tensor_slices(pieces["train"]), args.batch_size, shuffle=True, seed=args.seed
        )
        .map(frame_and_mask)
        .prefetch(tf.data.AUTOTUNE)
    )
    validation, _ = masked_once(pieces["validation"], frame_and_mask, args.batch_size)
    test, test_arrays = masked_once(pieces["test"], frame_and_mask, args.batch_size)
    return train, validation, test, test_arrays


# %% [markdown]
# ## The model
#
# `build_bert_masked_lm` builds keras-hub's `BertBackbone` (the encoder of the docstring) with its
# `BertMaskedLM` head, whose output layer shares the token-embedding matrix $E$. The loss is the
# cross-entropy of the logits at the selected positions, with the targets' weights as sample
# weights and `mean_with_sample_weight` dividing by their sum: the mean over the real selections
# $S$, as in the docstring's formula, whatever the number of unused slots. The accuracy is weighted
# the same way. The model is built and compiled inside the strategy's scope, with AdamW (no weight
# decay on biases and the normalization's $\gamma$ and $\beta$) warming up over the first
# `--warmup` of the `steps` and then falling along a half cosine. The backbone's pooler, the dense
# layer over `[CLS]` that a classifier uses, gets no gradient from this loss, so it is frozen
# here; fine-tuning trains it.


# %%
def build_model(args, run, tokenizer, steps):
    """The BERT encoder with its masked-LM head, compiled with its loss, optimizer and accuracy metric."""
    with run.strategy.scope():
        masked_lm = build_bert_masked_lm(
            tokenizer.vocabulary_size(), args.sequence_length,
            width=args.width, depth=args.depth, num_heads=args.heads,
            intermediate_dim=args.intermediate_dim, dropout=args.dropout,
        )  # fmt: skip
        optimizer = keras.optimizers.AdamW(
            warmup_cosine(args.learning_rate, steps, min(int(args.warmup * steps), steps - 1)),
            weight_decay=args.weight_decay,
        )
        optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
        masked_lm.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            jit_compile=run.jit_compile,
        )
        masked_lm.backbone.get_layer("pooled_dense").trainable = False
    return masked_lm


# %% [markdown]
# ## Scoring against the unigram baseline
#
# After training, `held_out_scores` runs the model over the fixed test rows and sums, over every
# selected position, the negative log-probability of the original token and whether the most
# likely token is it: their means are the test loss $\mathcal{L}$ (perplexity $e^{\mathcal{L}}$)
# and the masked-token accuracy. `unigram_cross_entropy` scores the same hidden tokens with the
# baseline that ignores the context, the training pieces' token frequencies $q$ (each count plus
# one, so no token has probability 0). A model that learned something from the context beats it.


# %%
def held_out_scores(model: keras.Model, rows: tf.data.Dataset) -> dict[str, float]:
    """Mean negative log-likelihood (nats) and accuracy over every selected position of fixed masked rows."""
    nll, correct, count = 0.0, 0.0, 0.0
    for inputs, targets, weights in rows:
        log_p = tf.nn.log_softmax(tf.cast(model(inputs, training=False), tf.float32))
        picked = tf.gather(log_p, targets, batch_dims=2)
        weights = tf.cast(weights, tf.float32)
        nll -= float(tf.reduce_sum(picked * weights))
        correct += float(
            tf.reduce_sum(tf.cast(tf.argmax(log_p, -1, output_type=tf.int32) == targets, tf.float32) * weights)
        )
        count += float(tf.reduce_sum(weights))
    return {"loss": nll / count, "accuracy": correct / count, "masked_tokens": int(count)}


def score(run, masked_lm, tokenizer, train_pieces, test, test_arrays):
    """Score the test rows and the unigram baseline, into the run's metrics."""
    test_scores = held_out_scores(masked_lm, test)
    unigram = unigram_cross_entropy(
        train_pieces, test_arrays["mask_ids"], test_arrays["mask_weights"], tokenizer.vocabulary_size()
    )
    run.metrics.update(
        {
            "test_masked_accuracy": round(test_scores["accuracy"], 6),
            "test_loss": round(test_scores["loss"], 6),
            "test_perplexity": round(math.exp(test_scores["loss"]), 3),
            "unigram_test_loss": round(unigram, 6),
            "unigram_test_perplexity": round(math.exp(unigram), 3),
            "test_masked_tokens": test_scores["masked_tokens"],
        }
    )
    print(
        f"{RECIPE}: held-out masked tokens: accuracy {test_scores['accuracy']:.4f}, perplexity "
        f"{math.exp(test_scores['loss']):.1f} (unigram baseline {math.exp(unigram):.1f})",
        flush=True,
    )


# %% [markdown]
# ## Filled-in masks and the preset
#
# Figures alone do not show what the model learned, so `filled_masks` writes a few test rows three
# times: as the model saw them (with `[MASK]` and random tokens), with the model's guess at every
# selected position, and with the original tokens. The first of them is printed too. `write_preset`
# saves the encoder and its tokenizer as a keras-hub preset folder, `preset/`, which
# `keras_hub.models.TextClassifier.from_preset` and the text-classification recipe's `--backbone`
# load. In a run on several machines only the chief writes them.


# %%
def filled_masks(model: keras.Model, tokenizer, arrays: dict[str, np.ndarray], count: int) -> str:
    """Test rows with their hidden tokens, the model's guesses and the truth, as text."""
    lines = []
    for row in range(min(count, len(arrays["token_ids"]))):
        inputs = {
            key: arrays[key][row : row + 1] for key in ("token_ids", "padding_mask", "segment_ids", "mask_positions")
        }
        guesses = np.asarray(model(inputs, training=False))[0].argmax(-1)
        shown, guessed, true = (arrays["token_ids"][row].copy() for _ in range(3))
        for slot, position in enumerate(arrays["mask_positions"][row]):
            if arrays["mask_weights"][row][slot]:
                guessed[position], true[position] = guesses[slot], arrays["mask_ids"][row][slot]
        real = arrays["padding_mask"][row].astype(bool)
        texts = [str(tokenizer.detokenize(ids[real][1:-1])) for ids in (shown, guessed, true)]
        lines += [f"input:   {texts[0]}", f"filled:  {texts[1]}", f"truth:   {texts[2]}", ""]
    return "\n".join(lines)


def write_outputs(run, masked_lm, tokenizer, test_arrays):
    """filled_masks.txt and the keras-hub preset, in the run's output folder."""
    examples = filled_masks(masked_lm, tokenizer, test_arrays, FILLED_EXAMPLES)
    print(examples.split("\n\n")[0])
    if run.is_chief:
        run.figures.append(write_text(run.output_dir / "filled_masks.txt", examples))
        run.figures.append(write_preset(masked_lm.backbone, tokenizer, run.output_dir / "preset"))


# %% [markdown]
# ## Training, evaluation and outputs
#
# `main` refuses `--data-dir` with `--data-file` before anything is written, then runs the steps in
# order. `RecipeRun.start` seeds every random generator and picks the distribution strategy and
# the precision policy; the budget gives the epochs for this many training rows (or `--epochs`),
# and the optimizer steps they make set the length of the learning-rate schedule. `run.fit` trains
# with a backup after every epoch (an interrupted run resumes from it), TensorBoard logs and a
# checkpoint of the best epoch by validation loss, whose weights the model ends with. The test rows
# are scored once, at the end, and `run.finish` saves `model.keras` (the masked-LM model),
# `metrics.json` (with the documents, rows, vocabulary size and the encoder's parameters) and the
# learning curves in `--output-dir`.


# %%
def main(argv=None):
    args = parse_recipe_args(build_parser(), argv)
    if args.data_dir and args.data_file:
        raise UsageError("--data-dir and --data-file both name the text to pretrain on; give one")
    run = RecipeRun.start(args, recipe=RECIPE)
    corpus = load_corpus(args)
    vocabulary, tokenizer, pieces, rows = tokenize(args, corpus)
    train, validation, test, test_arrays = masked_rows(args, tokenizer, pieces)

    epochs = BUDGET.epochs(rows["train"], args.batch_size, override=args.epochs)
    steps = epochs * steps_per_epoch(rows["train"], args.batch_size)
    masked_lm = build_model(args, run, tokenizer, steps)
    masked_lm.summary(print_fn=lambda line, **_: print(line))

    run.fit(masked_lm, train, validation, train_examples=rows["train"], epochs=epochs)
    score(run, masked_lm, tokenizer, pieces["train"], test, test_arrays)
    write_outputs(run, masked_lm, tokenizer, test_arrays)
    return run.finish(
        masked_lm,
        dataset=corpus.name,
        data_source=corpus.source,
        documents=corpus.sizes,
        rows=rows,
        vocabulary_size=len(vocabulary),
        skipped_files=len(corpus.skipped),
        backbone_parameters=int(masked_lm.backbone.count_params()),
    )


# %%
if __name__ == "__main__":
    run_recipe(main, ARGS)
