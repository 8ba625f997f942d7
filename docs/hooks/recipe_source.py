"""MkDocs hook: fill recipe pages from the recipe files themselves.

A page may contain, on a line of its own:

- ``<!-- recipe-docstring: NAME -->`` — replaced by the module docstring of
  ``recipes/NAME.py`` (Markdown, with its math);
- ``<!-- recipe-source: NAME -->`` — replaced by the file's full source, with
  line numbers (the Material theme adds a copy button).

So the prose and the code on the site are always those of the recipe in the
repository. A marker naming a recipe that does not exist fails the build.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- recipe-(docstring|source): ([a-z0-9_]+) -->$", re.MULTILINE)


def _recipe_file(name: str) -> Path:
    path = ROOT / "recipes" / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"docs name a recipe that does not exist: recipes/{name}.py")
    return path


def _docstring(name: str) -> str:
    source = _recipe_file(name).read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(source), clean=True) or ""
    # The docstring's "Run it::" literal blocks are reStructuredText; show them as code.
    return re.sub(
        r"::\n\n((?:    .*\n?)+)",
        lambda m: ":\n\n```bash\n" + re.sub(r"^    ", "", m.group(1), flags=re.M).rstrip() + "\n```\n",
        docstring + "\n",
    )


def _source(name: str) -> str:
    source = _recipe_file(name).read_text(encoding="utf-8").rstrip()
    return f'```python linenums="1" title="recipes/{name}.py"\n{source}\n```'


def on_page_markdown(markdown: str, **_: object) -> str:
    """Replace the recipe markers of a page (MkDocs event)."""
    return MARKER.sub(lambda m: _docstring(m.group(2)) if m.group(1) == "docstring" else _source(m.group(2)), markdown)
