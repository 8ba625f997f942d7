"""MkDocs hook: fill recipe pages from the recipe files themselves, and serve each recipe as a notebook.

A recipe file is a Python script in jupytext's percent format: `# %% [markdown]` cells of
prose (the first one is the module docstring) between `# %%` cells of code (see
CONTRIBUTING.md, "Recipe file format"). A page may contain, on a line of its own:

- `<!-- recipe-summary: NAME -->` — replaced by the first paragraph of the module docstring of
  `recipes/NAME.py`, its one-line description;
- `<!-- recipe-sections: NAME -->` — replaced by the file's cells in order: prose cells as
  Markdown (the docstring without its first paragraph, which the summary shows), code cells as
  `python` blocks (the Material theme adds a copy button);
- `<!-- recipe-code: NAME N -->` — replaced by the N-th code cell of the file (counting from 1),
  rendered as in `recipe-sections`. A translated page (`docs/recipes/NAME.zh.md`) has its own,
  translated prose for the docstring and each section, and this marker after each section for its
  code cells, so that the code is never copied into a translation (see CONTRIBUTING.md,
  "Translated recipe pages").

Beside the page, the site serves the file itself, `recipes/NAME.py`, and the same cells as a
notebook, `recipes/NAME.ipynb` (written by jupytext, not executed), so the page links to them as
`NAME.py` and `NAME.ipynb`. `tests/test_notebooks.py` executes the notebooks that
`recipe_notebook` makes here.

Recipes not yet written in cells use the older markers: `<!-- recipe-docstring: NAME -->` (the
module docstring, Markdown with its math) and `<!-- recipe-source: NAME -->` (the whole file, with
line numbers).

So the prose and the code on the site are always those of the recipe in the repository. A marker
naming a recipe that does not exist, or `recipe-summary`/`recipe-sections` naming one that is not
written in cells, fails the build.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jupytext
import nbformat
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- recipe-(docstring|source|summary|sections): ([a-z0-9_]+) -->$", re.MULTILINE)
CODE_MARKER = re.compile(r"^<!-- recipe-code: ([a-z0-9_]+) ([0-9]+) -->$", re.MULTILINE)
CELL_FORMAT = "py:percent"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _recipe_file(name: str) -> Path:
    path = ROOT / "recipes" / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"docs name a recipe that does not exist: recipes/{name}.py")
    return path


def literate_recipes() -> list[str]:
    """The recipes written in cells (their files hold `# %%` cell markers), by name."""
    return sorted(
        path.stem
        for path in (ROOT / "recipes").glob("*.py")
        if not path.name.startswith("_") and re.search(r"^# %%", path.read_text(encoding="utf-8"), re.M)
    )


def recipe_notebook(name: str) -> nbformat.NotebookNode:
    """The cells of `recipes/NAME.py` as an unexecuted notebook, read by jupytext.

    The notebook names the `python3` kernel, and its cells get ids from their
    position, so that the same file always gives the same notebook.
    """
    if name not in literate_recipes():
        raise ValueError(f"recipes/{name}.py is not written in cells (# %% markers); see CONTRIBUTING.md")
    notebook = jupytext.read(_recipe_file(name), fmt=CELL_FORMAT)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
    return notebook


def notebook_json(name: str) -> str:
    """`recipes/NAME.ipynb`: the recipe's notebook as jupytext writes it."""
    return jupytext.writes(recipe_notebook(name), fmt="ipynb")


def _cells(name: str) -> tuple[str, str, list[nbformat.NotebookNode]]:
    """The module docstring's first paragraph, the rest of it, and the cells after it."""
    first, *cells = recipe_notebook(name).cells
    if first.cell_type != "markdown":
        raise ValueError(f"recipes/{name}.py must start with a markdown cell: its module docstring")
    summary, _, rest = first.source.partition("\n\n")
    return summary, rest, cells


def summary(name: str) -> str:
    """The recipe's one-line description: the first paragraph of its docstring, on one line."""
    return " ".join(_cells(name)[0].split())


def sections(name: str) -> str:
    """The recipe's cells as Markdown, in the file's order: prose as it is, code in `python` blocks.

    The docstring's first paragraph is left out: the page's header shows it (`recipe-summary`).
    """
    _, rest, cells = _cells(name)
    parts = [rest.strip("\n")]
    for cell in cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source.strip("\n"))
        elif cell.cell_type == "code":
            parts.append(_python_block(cell.source))
    return "\n\n".join(part for part in parts if part)


def _python_block(code: str) -> str:
    return f"```python\n{code}\n```"


def code_cells(name: str) -> list[str]:
    """The sources of the recipe's code cells, in the file's order."""
    return [cell.source for cell in recipe_notebook(name).cells if cell.cell_type == "code"]


def code_cell(name: str, number: int) -> str:
    """The recipe's `number`-th code cell (counting from 1) as a `python` block, as `sections` shows it."""
    cells = code_cells(name)
    if not 1 <= number <= len(cells):
        raise ValueError(f"recipes/{name}.py has {len(cells)} code cells, not a cell {number}")
    return _python_block(cells[number - 1])


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


RENDER = {"docstring": _docstring, "source": _source, "summary": summary, "sections": sections}


def on_page_markdown(markdown: str, **_: object) -> str:
    """Replace the recipe markers of a page (MkDocs event)."""
    markdown = CODE_MARKER.sub(lambda m: code_cell(m.group(1), int(m.group(2))), markdown)
    return MARKER.sub(lambda m: RENDER[m.group(1)](m.group(2)), markdown)


# After the i18n plugin's on_files (priority -100), which cannot handle files made in memory: the
# two files are then the same for every language, at recipes/NAME.py and recipes/NAME.ipynb.
@event_priority(-110)
def on_files(files: Files, config: object, **_: object) -> Files:
    """Serve every recipe written in cells as `recipes/NAME.py` and `recipes/NAME.ipynb` (MkDocs event)."""
    for name in literate_recipes():
        files.append(File.generated(config, f"recipes/{name}.py", abs_src_path=str(_recipe_file(name))))
        files.append(File.generated(config, f"recipes/{name}.ipynb", content=notebook_json(name)))
    return files
