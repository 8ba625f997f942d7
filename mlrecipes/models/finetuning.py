"""Pretrained encoders as keras-hub presets: write one, check one, fine-tune one as a text classifier.

A keras-hub *preset* is a folder (`config.json`, `model.weights.h5`,
`tokenizer.json`, `assets/`, `metadata.json`) or the name of one that
keras-hub downloads from Kaggle (`bert_tiny_en_uncased` ...).
`write_preset` writes the encoder and tokenizer of a pretraining run as
one, atomically; `check_preset` refuses what is not one before any work;
`build_finetuning_classifier` loads one with
`keras_hub.models.TextClassifier.from_preset` and sets what trains:

| mode | what trains |
|---|---|
| `full` | every weight of the encoder and the new classification layer |
| `lora` | rank-`r` LoRA updates of each attention block's query and value projections (and their biases, which Keras leaves trainable), plus the pooling and classification layers; the encoder's other weights stay frozen |
| `frozen` | only the pooling and classification layers (feature extraction) |
| `scratch` | every weight, but the encoder's are drawn afresh: the same architecture and tokenizer without the pretraining, the control of a transfer-learning experiment |

The pooling layer (`pooled_dense`: tanh of a dense layer over the `[CLS]`
vector) trains in every mode, because masked-language modelling never trains
it: without the next-sentence task of the original BERT nothing reaches it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import keras
import keras_hub

from mlrecipes.errors import ArgumentValueError, DataUnavailableError

FINETUNE_MODES = ("full", "lora", "frozen", "scratch")
POOLING_LAYER = "pooled_dense"
PRESET_FILES = ("config.json", "tokenizer.json")


def write_preset(backbone: keras_hub.models.Backbone, tokenizer: keras_hub.tokenizers.Tokenizer, folder: Path) -> Path:
    """Save an encoder and its tokenizer as a keras-hub preset folder, atomically.

    Beside the encoder and the tokenizer it holds the text-classifier
    preprocessor, set to the encoder's longest input, so that
    `keras_hub.models.TextClassifier.from_preset(folder, num_classes=K)`
    works as it is. The folder is written beside its destination under a temporary name and
    renamed when complete, so an interrupted save never leaves half a preset.
    An existing preset folder there is replaced.

    Args:
        backbone: The encoder.
        tokenizer: Its tokenizer.
        folder: The preset folder to write.

    Returns:
        `folder`.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        backbone.save_to_preset(str(temporary))
        tokenizer.save_to_preset(str(temporary))
        # A classifier preprocessor that cuts texts to the encoder's longest input: without it,
        # TextClassifier.from_preset pads to keras-hub's default of 512 and fails on a shorter encoder.
        longest = backbone.get_config().get("max_sequence_length")
        preprocessor_class = _classifier_preprocessor_class(type(backbone))
        if longest and preprocessor_class is not None:
            preprocessor_class(tokenizer, sequence_length=longest).save_to_preset(str(temporary))
        os.chmod(temporary, 0o777 & ~_umask())
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(temporary, folder)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return folder


def _classifier_preprocessor_class(backbone_class: type) -> type | None:
    """keras-hub's text-classifier preprocessor for a backbone class (`BertBackbone` -> `BertTextClassifierPreprocessor`)."""
    pending = [keras_hub.models.TextClassifierPreprocessor]
    while pending:
        candidate = pending.pop()
        if getattr(candidate, "backbone_cls", None) is backbone_class:
            return candidate
        pending += candidate.__subclasses__()
    return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_preset(preset: str) -> str:
    """Refuse a `preset` that is neither a keras-hub preset folder nor a preset name, without loading it.

    Args:
        preset: A folder written by `write_preset` (or any keras-hub
            preset folder), a keras-hub preset name such as
            `bert_tiny_en_uncased`, or a `kaggle://` / `hf://` handle.

    Returns:
        `preset`.

    Raises:
        ArgumentValueError: (argument `backbone`) When `preset` names a
            path that does not exist, a folder without a preset's files or
            with a `config.json` that is not a keras-hub backbone's, or an
            unknown preset name.
    """
    path = Path(preset)
    if path.exists():
        if not path.is_dir():
            raise ArgumentValueError("backbone", preset, "is a file; give a preset folder or a keras-hub preset name")
        missing = [name for name in PRESET_FILES if not (path / name).is_file()]
        if missing:
            raise ArgumentValueError(
                "backbone",
                preset,
                f"not a keras-hub preset folder (no {' or '.join(missing)}); give the preset/ folder of a "
                "masked_lm_pretraining run or a keras-hub preset name such as bert_tiny_en_uncased",
            )
        try:
            config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ArgumentValueError("backbone", preset, f"its config.json cannot be read ({error})") from None
        class_name = config.get("class_name", "") if isinstance(config, dict) else ""
        if not class_name.endswith("Backbone"):
            raise ArgumentValueError(
                "backbone", preset, f"its config.json describes {class_name or 'no class'}, not a keras-hub backbone"
            )
        return preset
    if "://" in preset:
        return preset
    if "/" in preset or preset.startswith("."):
        raise ArgumentValueError("backbone", preset, "no such folder; give a preset folder or a keras-hub preset name")
    known = sorted(keras_hub.models.TextClassifier.presets)
    if preset not in known:
        examples = ", ".join(name for name in known if name.startswith("bert_"))[:200]
        raise ArgumentValueError(
            "backbone", preset, f"no such folder and not a keras-hub text-classifier preset name (such as {examples})"
        )
    return preset


def build_finetuning_classifier(
    preset: str,
    num_classes: int,
    *,
    sequence_length: int | None = None,
    finetune: str = "full",
    lora_rank: int = 4,
    dropout: float = 0.1,
) -> keras_hub.models.TextClassifier:
    """Load a pretrained encoder and its tokenizer as a classifier of raw strings.

    `keras_hub.models.TextClassifier.from_preset` builds the task the
    preset's backbone calls for (`BertTextClassifier` for a BERT encoder): a
    preprocessor (the preset's tokenizer, `[CLS] text [SEP]`, cut or padded
    to `sequence_length`), the encoder, its pooled `[CLS]` vector, dropout
    and a new softmax layer of `num_classes`. The preprocessor stays
    attached: the model takes raw strings, and so does its saved file.

    Args:
        preset: A preset folder or name (see `check_preset`).
        num_classes: Number of classes (at least 2).
        sequence_length: Tokens per text, `[CLS]` and `[SEP]` included; at
            most the encoder's `max_sequence_length`, which is the default.
        finetune: What trains: `"full"`, `"lora"`, `"frozen"` or
            `"scratch"` (see the module docstring).
        lora_rank: Rank of the LoRA updates (`finetune="lora"`).
        dropout: Dropout rate before the classification layer.

    Returns:
        The uncompiled classifier; it outputs probabilities.

    Raises:
        ArgumentValueError: On an unknown `finetune`, `lora_rank` below 1,
            fewer than 2 classes, a `sequence_length` longer than the
            encoder's, or a preset that is not one (see `check_preset`).
        DataUnavailableError: When a preset name cannot be downloaded (offline).
    """
    if finetune not in FINETUNE_MODES:
        raise ArgumentValueError("finetune", finetune, f"must be one of {', '.join(FINETUNE_MODES)}")
    if lora_rank < 1:
        raise ArgumentValueError("lora_rank", lora_rank, "must be 1 or more")
    if num_classes < 2:
        raise ArgumentValueError("num_classes", num_classes, "must be 2 or more")
    check_preset(preset)
    try:
        backbone = keras_hub.models.Backbone.from_preset(preset, load_weights=finetune != "scratch")
    except (OSError, ConnectionError) as error:
        raise DataUnavailableError(
            f"cannot download the keras-hub preset {preset!r} ({_short(error)}); offline, give `backbone` "
            "a preset folder, such as the preset/ folder of a masked_lm_pretraining run"
        ) from None
    except Exception as error:  # kagglehub and keras-hub raise their own classes when a download fails
        if Path(preset).exists():
            raise
        raise DataUnavailableError(
            f"cannot load the keras-hub preset {preset!r} ({_short(error)}); offline, give `backbone` a preset folder"
        ) from None
    longest = backbone.get_config().get("max_sequence_length")
    if sequence_length is None:
        sequence_length = longest or 512
    if sequence_length < 3:
        raise ArgumentValueError("sequence_length", sequence_length, "must be 3 or more ([CLS], a token, [SEP])")
    if longest is not None and sequence_length > longest:
        raise ArgumentValueError(
            "sequence_length", sequence_length, f"must be at most {longest}, the longest input of the encoder {preset}"
        )
    preprocessor = keras_hub.models.TextClassifierPreprocessor.from_preset(preset, sequence_length=sequence_length)
    classifier = keras_hub.models.TextClassifier.from_preset(
        preset,
        num_classes=num_classes,
        backbone=backbone,
        preprocessor=preprocessor,
        activation="softmax",
        dropout=dropout,
        load_weights=False,
    )
    if finetune == "lora":
        backbone.enable_lora(rank=lora_rank)
    elif finetune == "frozen":
        for layer in backbone._flatten_layers(include_self=False):
            layer.trainable = False
    if finetune in ("lora", "frozen"):
        backbone.get_layer(POOLING_LAYER).trainable = True
    return classifier


def trainable_fraction(model: keras.Model) -> float:
    """The share of a model's weights (numbers, not tensors) that training updates."""
    trainable = sum(int(keras.ops.size(weight)) for weight in model.trainable_weights)
    return trainable / max(1, model.count_params())


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:100] + ("..." if len(text) > 100 else "")
