# %% [markdown]
r"""Generate text with a small GPT-style transformer language model.

**Task.** Learn the distribution of a text one token at a time, then continue
a prompt. The default corpus is tensorflow-datasets' `tiny_shakespeare`
(about 1 million characters of Shakespeare's plays); `--data-file` takes any
UTF-8 text file or folder of them, of which the first 90% trains, the next 5%
validates and the last 5% tests. Tokens are UTF-8 bytes
(`keras_hub.tokenizers.ByteTokenizer`): a vocabulary of 256, no unknown
tokens, and for English text one token per character.

**Model.** A decoder-only transformer: token and position embeddings, $L$
blocks of `keras_hub.layers.TransformerDecoder` without cross-attention,
and an output projection tied to the token embedding, giving logits
$z_i \in \mathbb{R}^{256}$ at every position $i$ of a window
$t_1, \dots, t_n$. Inside each block, causal self-attention lets position
$i$ attend only to positions $j \le i$:

$$\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\Big(\frac{Q K^\top}{\sqrt{d_k}} + M\Big) V,
\qquad M_{ij} = \begin{cases} 0 & j \le i \\ -\infty & j > i, \end{cases}$$

so $p(t_{i+1} \mid t_1, \dots, t_i) = \operatorname{softmax}(z_i)_{t_{i+1}}$
cannot peek at the token it predicts, and one pass over a window trains all
$n$ next-token predictions at once.

**Loss.** The cross-entropy of the next tokens, the mean negative
log-likelihood (NLL, in nats) over all $N$ predicted tokens,

$$\mathcal{L} = -\frac{1}{N} \sum_{i=1}^{N} \log p(t_{i+1} \mid t_{\le i}).$$

**Figures.** Perplexity is $\exp(\mathcal{L})$: the model is as unsure as a
uniform choice among that many tokens (here per byte). Bits per character
count the same NLL in bits and per character rather than per token:

$$\text{bpc} = \frac{N \mathcal{L}}{C \ln 2},$$

where $C$ is the number of characters the $N$ predicted bytes spell ($C = N$
for ASCII text; a character such as "é" takes two bytes). A uniform guess
over 256 bytes scores 8 bpc.

**Generation.** `--generate "PROMPT" --model-dir RUN_DIR` continues a prompt
with a keras-hub sampler (`greedy`, `top_k` or `top_p`, with
`--temperature`), one byte at a time, feeding each new byte back in. A
prompt longer than the model's context (`--sequence-length` bytes) is
refused with exit status 2, not truncated.

**Training length.** About 555 optimizer steps: the epochs are
$\lceil 555 / \lceil n / B \rceil \rceil$ for $n$ training windows and batch
size $B$, at least 1 and at most 50: one epoch of BBC News' 4.5 million
training bytes (35,462 windows of 128), 5 of tiny_shakespeare's 1 million. The run ends
with the weights of its epoch with the lowest validation loss. `--epochs`
overrides the rule.

Run it:

```bash
python -m recipes.text_generation
python -m recipes.text_generation --data-file my-book.txt
python -m recipes.text_generation --generate "ROMEO:" --model-dir runs/text_generation --sampler top_p
```
"""

# %% [markdown]
# ## The command line
#
# Every recipe takes the same shared flags (`--epochs`, `--batch-size`, `--learning-rate`,
# `--strategy`, `--mixed-precision`, `--output-dir`, `--data-dir`, `--quick`, ...; see
# `mlrecipes.cli.recipe_parser`) with its own defaults, and adds flags of its own: here the text,
# the context and the size of the model, and how to generate: the samples a run writes, or a
# second use of the recipe, continuing a prompt with a finished run (`--generate` and
# `--model-dir`). `BUDGET` sets how long training lasts when `--epochs` is not given (see
# "Training length" above).

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
from mlrecipes.errors import UsageError
from mlrecipes.generation import SAMPLERS

# About 555 optimizer steps (one epoch of the 4.5 million training bytes of BBC News at batch 64), 1 to 50 epochs.
BUDGET = TrainingBudget(steps=555, min_epochs=1, max_epochs=50)


def build_parser():
    """The command line: the shared flags plus this recipe's own."""
    parser = recipe_parser(
        "text_generation",
        "Train a small transformer language model on a text and generate text with it.",
        budget=BUDGET,
        batch_size=64,
        learning_rate=4e-3,
        data_dir_help="where tensorflow-datasets keeps (or downloads) tiny_shakespeare; default its own folder",
    )
    recipe = parser.add_argument_group("this recipe")
    recipe.add_argument(
        "--data-file", type=Path, default=None, metavar="PATH",
        help="a UTF-8 text file, or a folder of them, to train on instead of tiny_shakespeare",
    )  # fmt: skip
    recipe.add_argument("--sequence-length", type=positive_int, default=128, help="context: bytes the model reads")
    recipe.add_argument("--width", type=positive_int, default=128, help="size of the token vectors")
    recipe.add_argument("--heads", type=positive_int, default=4, help="attention heads per block")
    recipe.add_argument("--depth", type=positive_int, default=2, help="transformer decoder blocks")
    recipe.add_argument("--dropout", type=fraction, default=0.0, help="dropout rate inside each block")
    recipe.add_argument("--untied", action="store_true", help="give the output projection its own weights")
    generation = parser.add_argument_group("generation (samples of a run, or --generate)")
    generation.add_argument(
        "--generate", dest="prompt", default=None, metavar="PROMPT", help="continue PROMPT with a trained model"
    )
    generation.add_argument("--model-dir", type=Path, default=None, metavar="RUN_DIR", help="a finished run's folder")
    generation.add_argument("--sampler", choices=SAMPLERS, default="top_k", help="how to pick each next byte")
    generation.add_argument("--temperature", type=positive_float, default=0.8, help="divides the logits")
    generation.add_argument("--top-k", type=positive_int, default=10, help="bytes top_k draws from")
    generation.add_argument("--top-p", type=positive_float, default=0.9, help="probability mass top_p draws from")
    generation.add_argument("--max-length", type=positive_int, default=300, help="bytes to generate")
    return parser


# %% [markdown]
# ## The flags of this run
#
# As a program, the recipe takes its flags from the command line:
# `python -m recipes.text_generation --data-file my-book.txt`. In a notebook, write them in
# `ARGS`, as they would be typed, for example `ARGS = ["--quick", "--data-file", "my-book.txt"]`,
# or `ARGS = ["--generate", "ROMEO:", "--model-dir", "runs/text_generation"]` to continue a prompt
# with a finished run. `ARGS = None` means the command line's flags, and in a notebook every
# default. `--help` is answered, and a bad flag refused, at once: before the seconds-long import
# of TensorFlow in the cell after.

# %% tags=["parameters"]
ARGS = None

# %%
if __name__ == "__main__":
    check_command_line(build_parser(), ARGS)

# %%
import keras

from mlrecipes.data.pipeline import make_pipeline, steps_per_epoch
from mlrecipes.data.text_corpus import BYTE_VOCABULARY_SIZE, load_tiny_shakespeare, read_text_corpus, window_dataset
from mlrecipes.generation import generate_text, make_sampler
from mlrecipes.models.language_model import build_language_model
from mlrecipes.outputs import write_text
from mlrecipes.run import RecipeRun
from mlrecipes.saved_run import load_run
from mlrecipes.schedules import warmup_cosine

# %% [markdown]
# ## The data
#
# `read_text_corpus` reads a `--data-file` (a UTF-8 file, or every file of a folder, joined by
# blank lines) and cuts it into three consecutive parts: the first 90% trains, the next 5%
# validates, the last 5% tests, so that no held-out sentence also appears in training. Without
# one, `load_tiny_shakespeare` loads tiny_shakespeare's own three parts with tensorflow-datasets.
# `--quick` keeps the first 40,000 characters for training and 8,000 each for validation and test.
#
# `window_dataset` encodes each part as UTF-8 bytes and cuts it into consecutive windows of
# `--sequence-length` bytes; the targets of a window are the bytes one position later, the next
# byte at every position. A last incomplete window is dropped. It also counts the predicted
# bytes $N$ and the characters $C$ they spell, which turn the loss into bits per character.
# `make_pipeline` makes each part a `tf.data` pipeline that caches the windows, reshuffles the
# training windows every epoch, batches and prefetches.


# %%
def load_data(args):
    """The text, a batched pipeline of windows per part, and what the parts count."""
    corpus = read_text_corpus(args.data_file) if args.data_file else load_tiny_shakespeare(args.data_dir)
    if args.quick:
        corpus = corpus.quick()
    length = args.sequence_length
    train_windows, train_tokens, _ = window_dataset(corpus.train, length, "train")
    validation_windows, validation_tokens, validation_characters = window_dataset(
        corpus.validation, length, "validation"
    )
    test_windows, test_tokens, test_characters = window_dataset(corpus.test, length, "test")
    train = make_pipeline(train_windows, args.batch_size, shuffle=True, seed=args.seed)
    validation = make_pipeline(validation_windows, args.batch_size)
    test = make_pipeline(test_windows, args.batch_size)
    counts = {
        "train_windows": train_tokens // length,
        "validation": (validation_tokens, validation_characters),
        "test": (test_tokens, test_characters),
    }
    return corpus, train, validation, test, counts


# %% [markdown]
# ## The model
#
# `build_language_model` builds the causal transformer of the formulas above: `--depth` blocks of
# `--width` with `--heads` attention heads, reading windows of up to `--sequence-length` bytes, its
# output projection tied to the token embedding unless `--untied`. It is built and compiled inside
# the strategy's scope, so that its variables are mirrored on every replica, with the
# cross-entropy of the next byte computed from the logits, next-byte accuracy, and Adam on a
# learning rate that rises linearly over the first 5% of the run's `steps`, then decays to 0 along
# a half cosine.


# %%
def build_model(args, run, steps):
    """The language model, compiled with its loss, optimizer and next-byte accuracy."""
    with run.strategy.scope():
        model = build_language_model(
            BYTE_VOCABULARY_SIZE, args.sequence_length,
            width=args.width, num_heads=args.heads, depth=args.depth,
            dropout=args.dropout, tie_weights=not args.untied,
        )  # fmt: skip
        schedule = warmup_cosine(args.learning_rate, steps, steps // 20)
        model.compile(
            optimizer=keras.optimizers.Adam(schedule),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            jit_compile=run.jit_compile,
        )
    return model


# %% [markdown]
# ## Perplexity and bits per character
#
# The evaluated loss is the mean NLL $\mathcal{L}$ per predicted byte, in nats;
# `language_model_scores` turns it into the docstring's two figures: perplexity
# $\exp(\mathcal{L})$, and bits per character $N \mathcal{L} / (C \ln 2)$ with the part's $N$ bytes
# and $C$ characters. Both are recorded for the test text and for the validation text, whose
# loss is evaluated once more with the weights the model ended with.


# %%
def language_model_scores(mean_nll: float, tokens: int, characters: int) -> dict[str, float]:
    """Perplexity and bits per character from the mean NLL per token (in nats)."""
    return {
        "perplexity": round(math.exp(mean_nll), 4),
        "bits_per_character": round(mean_nll * tokens / characters / math.log(2), 4),
    }


def record_scores(model, validation, test_metrics, counts, run):
    """Perplexity and bits per character of the test and validation text, into `metrics.json`."""
    validation_metrics = model.evaluate(validation, return_dict=True, verbose=0)
    test_scores = language_model_scores(test_metrics["test_loss"], *counts["test"])
    validation_scores = language_model_scores(validation_metrics["loss"], *counts["validation"])
    run.metrics.update(
        {
            **{f"test_{key}": value for key, value in test_scores.items()},
            "validation_loss": round(float(validation_metrics["loss"]), 6),
            **{f"validation_{key}": value for key, value in validation_scores.items()},
        }
    )


# %% [markdown]
# ## Samples
#
# The trained model continues the start of the test text, its first `SAMPLE_PROMPT_BYTES` bytes
# (fewer if the context is shorter, and never half a character), once with each sampler: `greedy`
# always takes the most probable next byte, `top_k` draws among the `--top-k` most probable, and
# `top_p` among the fewest whose probabilities add up to `--top-p`, all after dividing the logits
# by `--temperature`; the draws are seeded with `--seed`. `generate_text` adds one byte at a time, each
# predicted from the last `--sequence-length` bytes, so `--max-length` may exceed the context. The
# continuations go to `samples.txt` (written by the chief worker only); the last is printed.


# %%
SAMPLE_PROMPT_BYTES = 40


def write_samples(model, corpus, run, args):
    """The start of the test text continued by each sampler, into samples.txt."""
    length = args.sequence_length
    prompt = corpus.test.encode("utf-8")[: min(SAMPLE_PROMPT_BYTES, length)].decode("utf-8", errors="ignore")
    samples = []
    for name in SAMPLERS:
        sampler = make_sampler(name, temperature=args.temperature, k=args.top_k, p=args.top_p, seed=args.seed)
        text = generate_text(model, prompt, max_new_tokens=args.max_length, sampler=sampler)
        samples.append(f"=== {name} (temperature {args.temperature}) ===\n{text}\n")
    if run.is_chief:
        run.figures.append(write_text(run.output_dir / "samples.txt", "\n".join(samples)))
    print(samples[-1])


# %% [markdown]
# ## Continuing a prompt with a finished run
#
# `--generate PROMPT --model-dir RUN_DIR` trains nothing: `load_run` reloads the run's
# `model.keras` (and refuses a folder that holds no finished text_generation run), and the prompt
# is continued by `--max-length` bytes with the sampler of `--sampler` and printed with its
# continuation. A prompt longer than the model's context is refused, not cut.


# %%
def continue_prompt(args) -> str:
    """`--generate PROMPT --model-dir RUN_DIR`: print the prompt and its continuation."""
    if args.model_dir is None:
        raise UsageError("--generate needs --model-dir RUN_DIR, the folder of a finished run")
    model = load_run(args.model_dir, recipe="text_generation").model
    sampler = make_sampler(args.sampler, temperature=args.temperature, k=args.top_k, p=args.top_p, seed=args.seed)
    text = generate_text(model, args.prompt, max_new_tokens=args.max_length, sampler=sampler)
    print(text)
    return text


# %% [markdown]
# ## Training, evaluation and outputs
#
# `main` continues a prompt when `--generate` is given, and otherwise runs the steps in order.
# `RecipeRun.start` seeds every random generator and picks the distribution strategy and the
# precision policy; the budget gives the epochs for this many training windows (or `--epochs`),
# and the optimizer steps they make set the length of the learning-rate schedule. `run.fit` trains
# with a backup after every epoch (an interrupted run resumes from it), TensorBoard logs and a
# checkpoint of the epoch with the lowest validation loss, whose weights the model ends with. The
# test text is evaluated once, at the end; `run.finish` saves `model.keras`, `metrics.json` and
# the learning curves in `--output-dir`.


# %%
def main(argv=None):
    args = parse_recipe_args(build_parser(), argv)
    if args.prompt is not None:
        return continue_prompt(args)
    run = RecipeRun.start(args, recipe="text_generation")
    corpus, train, validation, test, counts = load_data(args)

    epochs = BUDGET.epochs(counts["train_windows"], args.batch_size, override=args.epochs)
    steps = epochs * steps_per_epoch(counts["train_windows"], args.batch_size)
    model = build_model(args, run, steps)
    model.summary(print_fn=lambda line, **_: print(line))

    run.fit(model, train, validation, train_examples=counts["train_windows"], epochs=epochs)
    test_metrics = run.evaluate(model, test)
    record_scores(model, validation, test_metrics, counts, run)
    write_samples(model, corpus, run, args)
    return run.finish(model, dataset=corpus.name, data_source=corpus.source, characters=corpus.sizes)


# %%
if __name__ == "__main__":
    run_recipe(main, ARGS)
