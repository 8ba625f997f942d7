"""A SavedModel laid out for TensorFlow Serving: `BASE/NAME/VERSION/`.

TensorFlow Serving watches a base folder and serves the highest numbered
version of each model under it, so the layout is part of the contract:

```
exports/serving/fashion_mnist_cnn/1/saved_model.pb
exports/serving/fashion_mnist_cnn/1/variables/...
```

The SavedModel comes from `keras.Model.export(format="tf_saved_model")`; its
`serve` endpoint (also the `serving_default` signature that Serving's REST
API calls) takes the model's raw inputs: 0–255 pixels, or strings for a text
classifier whose tokenizer is part of the model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import keras

from mlrecipes.errors import ArgumentValueError


def export_for_serving(model: keras.Model, base_dir: str | Path, name: str, version: int = 1) -> Path:
    """Write `model` as `base_dir/name/version/`, a SavedModel TF Serving can load.

    Args:
        model: The Keras model to serve (float or Keras-quantized).
        base_dir: The folder TF Serving is pointed at (`--model_base_path`'s parent).
        name: The model's name in request URLs (`/v1/models/NAME:predict`).
        version: The version folder, a positive integer.

    Returns:
        The version folder written. It is written beside and renamed into
        place, so a failed export leaves no half-written version behind.

    Raises:
        ArgumentValueError: For a version below 1 or a name that is not a
            plain folder name.
    """
    if not isinstance(version, int) or version < 1:
        raise ArgumentValueError("version", version, "must be a positive integer")
    if not name or Path(name).name != name or name in (".", ".."):
        raise ArgumentValueError("name", name, "must be a plain folder name")
    model_dir = Path(base_dir) / name
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / str(version)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=model_dir))
    try:
        model.export(str(staging / "saved_model"), format="tf_saved_model", verbose=False)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging / "saved_model", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
