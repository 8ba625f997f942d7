"""Reloading a finished run: its `model.keras` and its `metrics.json`.

Every recipe writes both into its `--output-dir`; the recipes that predict
from a saved model (`--model-dir RUN`) reload them with [`load_run`][mlrecipes.saved_run.load_run]:

```python
run = load_run("runs/text_classification", recipe="text_classification")
run.model.predict(...)
run.metrics["class_names"]
```

The model loads in Keras' safe mode: a file holding a `Lambda` layer (code)
is refused, not executed.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras

from mlrecipes.errors import ArgumentValueError

MODEL_FILE = "model.keras"
METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class SavedRun:
    """A finished run, reloaded.

    Attributes:
        path: The run folder.
        model: The trained model, as saved.
        metrics: The run's `metrics.json` (test figures, configuration, and
            whatever the recipe needs to predict, such as class names).
    """

    path: Path
    model: keras.Model
    metrics: dict[str, Any]


def load_run(
    run_dir: str | Path, *, recipe: str, required: tuple[str, ...] = (), description: str | None = None
) -> SavedRun:
    """Reload the model and the metrics of a finished run folder.

    Args:
        run_dir: The run folder (the recipe's `--output-dir`).
        recipe: The recipe that must have written it, such as `"text_classification"`;
            a run that `metrics.json` says another recipe wrote is refused.
        required: Entries that `metrics.json` must hold for the caller.
        description: What the error messages call the run expected ("not a saved
            DESCRIPTION run"), when the caller takes the runs of several recipes;
            by default `recipe`.

    Returns:
        The reloaded run.

    Raises:
        ArgumentValueError: (argument `model_dir`) When the folder is missing,
            holds no finished run of `recipe`, or its files cannot be read.
    """
    path = Path(run_dir)
    kind = description or recipe

    def refuse(reason: str) -> ArgumentValueError:
        return ArgumentValueError("model_dir", path, f"{reason}; expected the output folder of a finished {kind} run")

    if not path.is_dir():
        raise refuse("holds no saved run (no such folder)")
    if not (path / MODEL_FILE).is_file() or not (path / METRICS_FILE).is_file():
        raise refuse(f"holds no saved run (no {MODEL_FILE} and {METRICS_FILE})")
    try:
        metrics = json.loads((path / METRICS_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise refuse(f"not a saved {kind} run ({METRICS_FILE}: {_short(error)})") from None
    if not isinstance(metrics, dict):
        raise refuse(f"not a saved {kind} run ({METRICS_FILE} is not a JSON object)")
    written_by = metrics.get("recipe")
    if written_by is not None and written_by != recipe:
        raise refuse(f"not a saved {kind} run (it is a {written_by} run)")
    missing = [key for key in required if key not in metrics]
    if missing:
        raise refuse(f"not a saved {kind} run ({METRICS_FILE} has no {', '.join(missing)})")
    try:
        model = keras.saving.load_model(path / MODEL_FILE, safe_mode=True)
    except (OSError, ValueError, TypeError, KeyError, zipfile.BadZipFile) as error:
        raise refuse(f"not a saved {kind} run ({MODEL_FILE}: {_short(error)})") from None
    return SavedRun(path, model, metrics)


def _short(error: BaseException) -> str:
    return " ".join(str(error).split())[:200]
