"""Package attributes imported on first use (PEP 562), so that light code never loads TensorFlow.

The command line imports constants from `mlrecipes.data`, `mlrecipes.distribute`,
`mlrecipes.generation` and `mlrecipes.regression`; their functions need
TensorFlow. Each package re-exports its functions through [`lazy_attributes`][mlrecipes.lazy.lazy_attributes],
so `from mlrecipes.data import load_mnist` still works and costs TensorFlow's
import only when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` that imports each exported name from its submodule on first use.

    Args:
        package: The package's name (`__name__`).
        exports: Each public name and the submodule (relative to `package`) that defines it.

    Returns:
        The function to assign to the package's `__getattr__`.
    """

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
