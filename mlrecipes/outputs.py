"""Writing a run's outputs atomically, and describing the software that made them.

Every file is first written under a temporary name in its destination folder
and then renamed over the final name, which is atomic on POSIX file systems: a
crash leaves the previous file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Give a temporary path to write to; rename it to `path` on success.

    The temporary file keeps `path`'s suffix (Keras and matplotlib choose the
    format from it). On an exception it is removed and `path` is untouched.

    Args:
        path: The final destination; its folder is created if needed.

    Yields:
        The temporary path to write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(handle)
    temporary_path = Path(temporary)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary_path, 0o666 & ~umask)  # mkstemp makes it private; give it the usual mode
    try:
        yield temporary_path
        os.replace(temporary_path, path)
    finally:
        temporary_path.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> Path:
    """Write `text` to `path` atomically and return `path`."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data: Any) -> Path:
    """Write `data` as indented JSON to `path` atomically and return `path`."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n")


def write_with(path: str | Path, save: Callable[[Path], object]) -> Path:
    """Call `save(temporary_path)`, then move the result to `path` atomically.

    For writers that take a path, such as `model.save` or `figure.savefig`.
    """
    with atomic_path(path) as temporary:
        save(temporary)
    return Path(path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "numpy"):  # TensorFlow tensors
        value = value.numpy()
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def software_versions() -> dict[str, str]:
    """The versions of Python, TensorFlow, Keras and mlrecipes in use."""
    import keras
    import tensorflow as tf

    from mlrecipes import __version__

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "mlrecipes": __version__,
    }
