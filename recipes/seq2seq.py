# %% [markdown]
r"""Translate sentences with an encoder–decoder transformer or LSTM (sequence to sequence).

**Task.** Map a source sentence $x$ to a target sentence $y$. The default
data is tensorflow-datasets' `ted_hrlr_translate/pt_to_en` (TED talks,
Portuguese to English: about 51,800 training, 1,190 validation and 1,800
test pairs); `--data-file` takes a tab-separated file of
`source<TAB>target` lines (the layout of the Tatoeba/Anki exports), shuffled
with `--seed` and cut 80 / 10 / 10. Tokens are UTF-8 bytes
(`keras_hub.tokenizers.ByteTokenizer`) on both sides, with two ASCII control
bytes as start (STX) and end (ETX) tokens and 0 as padding.

**Model.** An encoder of `keras_hub.layers.TransformerEncoder` blocks reads
the whole source with self-attention; a decoder of
`keras_hub.layers.TransformerDecoder` blocks reads the target so far with
causal self-attention and consults the encoder's outputs $H$ through
cross-attention, $\operatorname{softmax}(Q H_K^\top / \sqrt{d_k}) H_V$ with
queries from the decoder and keys and values from the encoder. Padding is
masked everywhere. The model factorizes

$$p(y \mid x) = \prod_{i=1}^{T} p(y_i \mid y_1, \dots, y_{i-1}, x),$$

with $y_T$ the end token. `--architecture lstm` replaces both stacks with
recurrent networks (see the [Recurrent networks](../concepts/recurrent-networks.md)
page): an encoder LSTM reads the source and its final state $(h, c)$ starts a
decoder LSTM, which reads the target so far one token at a time; it learns
keras.io's addition task (`"535+61"` to `"596"`; `benchmarks/addition_rnn.py`).

**Training: teacher forcing.** The decoder's input is the *true* target
shifted right behind the start token, $(\text{STX}, y_1, \dots, y_{T-1})$,
and its output at position $i$ is scored against $y_i$, so one pass trains
every position. The loss is the cross-entropy of the target tokens, the mean
over the $N$ non-padding target tokens of a batch,

$$\mathcal{L} = -\frac{1}{N} \sum_{n} \sum_{i=1}^{T_n} \log p(y_{n,i} \mid y_{n,<i}, x_n),$$

and token accuracy is the share of those positions where the most probable
token is the true one (given the true prefix).

**Inference: autoregressive decoding.** At test time there is no true
prefix: decoding starts from STX, appends the most probable token (greedy,
`keras_hub.samplers.GreedySampler`) and feeds it back, until ETX or the
target length. The test split is decoded this way and scored by exact match
(the share of outputs equal to the reference) and corpus BLEU (SacreBLEU's
method, `keras_hub.metrics.Bleu`: the geometric mean of the clipped 1- to
4-gram precisions times a brevity penalty, on a 0–1 scale).

**Training length.** About 1,000 optimizer steps: the epochs are
$\lceil 1000 / \lceil n / B \rceil \rceil$ for $n$ training pairs and batch
size $B$, at least 4 and at most 40: 4 epochs of 16,000 date pairs or of the
51,800 TED pairs, more for a smaller file of your own. The run ends with the
weights of its epoch with the lowest validation loss. `--epochs` overrides
the rule.

Run it:

```bash
python -m recipes.seq2seq
python -m recipes.seq2seq --data-file por.txt
python -m recipes.seq2seq --translate "Obrigado." --model-dir runs/seq2seq
python -m recipes.seq2seq --architecture lstm --data-file sums.tsv   # see benchmarks/addition_rnn.py
```
"""

# %% [markdown]
# ## The command line
#
# Every recipe takes the same shared flags (`--epochs`, `--batch-size`, `--learning-rate`,
# `--strategy`, `--mixed-precision`, `--output-dir`, `--data-dir`, `--quick`, ...; see
# `mlrecipes.cli.recipe_parser`) with its own defaults, and adds flags of its own: here the
# sentence pairs, their lengths in bytes, the architecture and its sizes, and a second use of the
# recipe, translating one sentence with a finished run (`--translate` and `--model-dir`). Lengths
# read off the data stop at `MAX_AUTOMATIC_LENGTH` bytes. `BUDGET` sets how long training lasts
# when `--epochs` is not given (see "Training length" above).

# %%
from __future__ import annotations

from pathlib import Path

from mlrecipes.budget import TrainingBudget
from mlrecipes.cli import check_command_line, fraction, parse_recipe_args, positive_int, recipe_parser, run_recipe
from mlrecipes.errors import UsageError

MAX_AUTOMATIC_LENGTH = 128
ARCHITECTURES = ("transformer", "lstm")

# About 1,000 optimizer steps (4 epochs of 16,000 pairs at batch 64), 4 to 40 epochs.
BUDGET = TrainingBudget(steps=1000, min_epochs=4, max_epochs=40)


def build_parser():
    """The command line: the shared flags plus this recipe's own."""
    parser = recipe_parser(
        "seq2seq",
        "Train an encoder-decoder transformer or LSTM on sentence pairs and translate with it.",
        budget=BUDGET,
        batch_size=64,
        learning_rate=1e-3,
        data_dir_help="where tensorflow-datasets keeps (or downloads) ted_hrlr_translate; default its own folder",
    )
    recipe = parser.add_argument_group("this recipe")
    recipe.add_argument(
        "--data-file", type=Path, default=None, metavar="PATH",
        help="a UTF-8 file of source<TAB>target lines to train on instead of ted_hrlr_translate/pt_to_en",
    )  # fmt: skip
    recipe.add_argument(
        "--source-length", type=positive_int, default=None,
        help=f"source bytes the model reads (longer ones are cut); default: the longest training source, "
        f"at most {MAX_AUTOMATIC_LENGTH}",
    )  # fmt: skip
    recipe.add_argument(
        "--target-length", type=positive_int, default=None,
        help=f"decoder positions (target bytes + 1); default: the longest training target + 1, "
        f"at most {MAX_AUTOMATIC_LENGTH}",
    )  # fmt: skip
    recipe.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default="transformer",
        help="encoder-decoder transformer, or LSTM encoder and decoder",
    )
    recipe.add_argument("--width", type=positive_int, default=128, help="size of the token vectors")
    recipe.add_argument("--heads", type=positive_int, default=4, help="attention heads per block (transformer)")
    recipe.add_argument(
        "--encoder-depth", type=positive_int, default=2, help="transformer encoder blocks (transformer)"
    )
    recipe.add_argument(
        "--decoder-depth", type=positive_int, default=2, help="transformer decoder blocks (transformer)"
    )
    recipe.add_argument("--units", type=positive_int, default=128, help="LSTM state size (lstm)")
    recipe.add_argument("--dropout", type=fraction, default=0.1, help="dropout rate inside each block")
    recipe.add_argument("--examples", type=positive_int, default=20, help="test translations to write to examples.txt")
    translation = parser.add_argument_group("translation with a trained model")
    translation.add_argument("--translate", default=None, metavar="SENTENCE", help="translate SENTENCE and print it")
    translation.add_argument("--model-dir", type=Path, default=None, metavar="RUN_DIR", help="a finished run's folder")
    return parser


# %% [markdown]
# ## The flags of this run
#
# As a program, the recipe takes its flags from the command line:
# `python -m recipes.seq2seq --data-file por.txt`. In a notebook, write them in `ARGS`, as they
# would be typed, for example `ARGS = ["--quick", "--data-file", "por.txt"]`, or
# `ARGS = ["--translate", "Obrigado.", "--model-dir", "runs/seq2seq"]` to translate with a finished
# run. `ARGS = None` means the command line's flags, and in a notebook every default. `--help` is
# answered, and a bad flag refused, at once: before the seconds-long import of TensorFlow in the
# cell after.

# %% tags=["parameters"]
ARGS = None

# %%
if __name__ == "__main__":
    check_command_line(build_parser(), ARGS)

# %%
import keras
import keras_hub
import numpy as np
import tensorflow as tf

from mlrecipes.data.pipeline import make_pipeline, steps_per_epoch
from mlrecipes.data.sentence_pairs import (
    END_ID,
    START_ID,
    byte_lengths,
    encode_pairs,
    encode_sources,
    load_ted_pt_en,
    read_pair_splits,
)
from mlrecipes.data.text_corpus import BYTE_VOCABULARY_SIZE
from mlrecipes.generation import decode_sequences, detokenize
from mlrecipes.models.recurrent_seq2seq import build_recurrent_seq2seq
from mlrecipes.models.seq2seq import build_seq2seq
from mlrecipes.outputs import write_text
from mlrecipes.run import RecipeRun
from mlrecipes.saved_run import load_run
from mlrecipes.schedules import warmup_cosine

# %% [markdown]
# ## The data
#
# `read_pair_splits` reads a `--data-file` of `source<TAB>target` lines, shuffles the pairs with
# `--seed` and cuts them 80 / 10 / 10; without one, `load_ted_pt_en` loads the TED talks with
# tensorflow-datasets, already split. `--quick` keeps the first 512 training pairs and 64 each of
# validation and test. Unless `--source-length` and `--target-length` are given, the model's
# lengths are those of the longest training sentences in bytes, the target's plus one for the
# start or end token, at most `MAX_AUTOMATIC_LENGTH`; longer sentences are cut.
#
# `encode_pairs` turns each pair into the three sequences of teacher forcing, as byte ids padded
# with 0: the source; the decoder's input, the target shifted right behind STX; and the labels,
# the target followed by ETX. `make_pipeline` makes each split a `tf.data` pipeline that caches the
# arrays, reshuffles the training pairs every epoch, batches and prefetches.


# %%
def load_data(args):
    """The sentence pairs, the model's source and target lengths, and a batched pipeline per split."""
    data = read_pair_splits(args.data_file, seed=args.seed) if args.data_file else load_ted_pt_en(args.data_dir)
    if args.quick:
        data = data.quick()
    source_length = args.source_length or int(
        min(byte_lengths([source for source, _ in data.train]).max(), MAX_AUTOMATIC_LENGTH)
    )
    target_length = args.target_length or int(
        min(byte_lengths([target for _, target in data.train]).max() + 1, MAX_AUTOMATIC_LENGTH)
    )
    print(f"seq2seq: {data.sizes} pairs; source length {source_length}, target length {target_length} bytes")
    train, validation, test = (
        make_pipeline(tf.data.Dataset.from_tensor_slices(encode_pairs(pairs, source_length, target_length)),
                      args.batch_size, shuffle=shuffle, seed=args.seed)
        for pairs, shuffle in ((data.train, True), (data.validation, False), (data.test, False))
    )  # fmt: skip
    return data, source_length, target_length, train, validation, test


# %% [markdown]
# ## The model
#
# `build_seq2seq` builds the transformer of the formulas above (`--width`, `--heads`,
# `--encoder-depth`, `--decoder-depth`); `build_recurrent_seq2seq` the LSTM encoder and decoder
# (`--width` for the token vectors, `--units` for the state). Both take the 256 byte values as
# their vocabulary on each side (STX is 2, ETX 3) and end in next-token logits at every decoder
# position. Their embeddings mark id 0 as padding, and Keras carries that mask to the logits, so
# the loss and the token accuracy count only real target tokens: the $N$ of the loss above.
#
# The model is built and compiled inside the strategy's scope, so that its variables are mirrored
# on every replica, with the cross-entropy computed from the logits and Adam on a learning rate
# that rises linearly over the first 5% of the run's `steps`, then decays to 0 along a half cosine.


# %%
def build_model(args, run, source_length, target_length, steps):
    """The encoder–decoder of `--architecture`, compiled with its loss, optimizer and token accuracy."""
    with run.strategy.scope():
        if args.architecture == "transformer":
            model = build_seq2seq(
                BYTE_VOCABULARY_SIZE, BYTE_VOCABULARY_SIZE, source_length, target_length,
                width=args.width, num_heads=args.heads, encoder_depth=args.encoder_depth,
                decoder_depth=args.decoder_depth, dropout=args.dropout,
            )  # fmt: skip
        else:
            model = build_recurrent_seq2seq(
                BYTE_VOCABULARY_SIZE, BYTE_VOCABULARY_SIZE, source_length, target_length,
                width=args.width, units=args.units, dropout=args.dropout, name="lstm_seq2seq",
            )  # fmt: skip
        schedule = warmup_cosine(args.learning_rate, steps, steps // 20)
        model.compile(
            optimizer=keras.optimizers.Adam(schedule),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="token_accuracy")],
            jit_compile=run.jit_compile,
        )
    return model


# %% [markdown]
# ## Decoding
#
# `translate` decodes as the docstring's "Inference" describes. The sources are encoded as in
# training, `DECODE_BATCH` at a time; `decode_sequences` starts each decoder input with STX, asks
# the model for the logits of the next position, appends the most probable byte and repeats,
# until every sentence of the batch has produced ETX or the decoder's positions are used up.
# `detokenize` turns the bytes back into text.


# %%
DECODE_BATCH = 256


def translate(model: keras.Model, sources: list[str]) -> list[str]:
    """Greedy autoregressive decoding of a list of source sentences."""
    source_length = int(model.input["source_ids"].shape[1])
    target_length = int(model.input["decoder_ids"].shape[1])
    outputs = []
    for start in range(0, len(sources), DECODE_BATCH):
        source_ids = encode_sources(sources[start : start + DECODE_BATCH], source_length)
        decoded = decode_sequences(model, source_ids, target_length=target_length, start_id=START_ID, end_id=END_ID)
        outputs.extend(detokenize(ids) for ids in decoded)
    return outputs


# %% [markdown]
# ## Scoring the translations
#
# The trained model translates every test source, and the translations are scored against the
# references: exact match, the share of translations equal to their reference, and corpus BLEU
# (`keras_hub.metrics.Bleu`, one reference per sentence). Both join the test loss and token
# accuracy in `metrics.json`. The first `--examples` test pairs, each with its translation, go to
# `examples.txt` (written by the chief worker only), and the first is printed.


# %%
def score_translations(model, data, run, args):
    """Decode the test split; record exact match and BLEU; write the first pairs to examples.txt."""
    sources = [source for source, _ in data.test]
    references = [target for _, target in data.test]
    translations = translate(model, sources)
    bleu = keras_hub.metrics.Bleu()
    bleu.update_state(tf.constant(references)[:, None], tf.constant(translations))
    run.metrics.update(
        {
            "test_exact_match": round(float(np.mean([out == ref for out, ref in zip(translations, references)])), 6),
            "test_bleu": round(float(bleu.result()), 6),
        }
    )
    examples = "".join(
        f"source:     {source}\nreference:  {reference}\ntranslated: {translation}\n\n"
        for source, reference, translation in list(zip(sources, references, translations))[: args.examples]
    )
    if run.is_chief:
        run.figures.append(write_text(run.output_dir / "examples.txt", examples))
    print(examples[: examples.find("\n\n") + 1])


# %% [markdown]
# ## Translating with a finished run
#
# `--translate SENTENCE --model-dir RUN_DIR` trains nothing: `load_run` reloads the run's
# `model.keras` (and refuses a folder that holds no finished seq2seq run), and the sentence is
# decoded as the test split was and printed. A sentence longer than the model's source length is
# cut, with a warning.


# %%
def translate_sentence(args) -> str:
    """`--translate SENTENCE --model-dir RUN_DIR`: print the translation."""
    if args.model_dir is None:
        raise UsageError("--translate needs --model-dir RUN_DIR, the folder of a finished run")
    if not args.translate.strip():
        raise UsageError("--translate '': the sentence is empty; give a sentence to translate")
    model = load_run(args.model_dir, recipe="seq2seq").model
    source_length = int(model.input["source_ids"].shape[1])
    if len(args.translate.encode("utf-8")) > source_length:
        print(f"seq2seq: warning: the sentence is longer than the model's {source_length} source bytes; its end is cut")
    (translation,) = translate(model, [args.translate])
    print(translation)
    return translation


# %% [markdown]
# ## Training, evaluation and outputs
#
# `main` translates one sentence when `--translate` is given, and otherwise runs the steps in
# order. `RecipeRun.start` seeds every random generator and picks the distribution strategy and the
# precision policy; the budget gives the epochs for this many pairs (or `--epochs`), and the
# optimizer steps they make set the length of the learning-rate schedule. `run.fit` trains with
# teacher forcing, with a backup after every epoch (an interrupted run resumes from it), TensorBoard
# logs and a checkpoint of the epoch with the lowest validation loss, whose weights the model ends
# with. The test split is evaluated once with teacher forcing (loss and token accuracy), then
# decoded; `run.finish` saves `model.keras`, `metrics.json` and the learning curves in
# `--output-dir`.


# %%
def main(argv=None):
    args = parse_recipe_args(build_parser(), argv)
    if args.translate is not None:
        return translate_sentence(args)
    run = RecipeRun.start(args, recipe="seq2seq")
    data, source_length, target_length, train, validation, test = load_data(args)

    epochs = BUDGET.epochs(data.sizes["train"], args.batch_size, override=args.epochs)
    steps = epochs * steps_per_epoch(data.sizes["train"], args.batch_size)
    model = build_model(args, run, source_length, target_length, steps)
    model.summary(print_fn=lambda line, **_: print(line))

    run.fit(model, train, validation, train_examples=data.sizes["train"], epochs=epochs)
    run.evaluate(model, test)
    score_translations(model, data, run, args)
    return run.finish(
        model, dataset=data.name, data_source=data.source, pairs=data.sizes,
        source_length=source_length, target_length=target_length,
    )  # fmt: skip


# %%
if __name__ == "__main__":
    run_recipe(main, ARGS)
