"""Recipes written in cells: their pages show the cells in order, and their notebooks run.

The notebooks are made by the docs build's own code (`recipe_notebook` in
docs/hooks/recipe_source.py, which serves them as `recipes/NAME.ipynb`) and executed in a Jupyter
kernel (nbclient, the `python3` kernel of this environment) with `--quick` flags written into the
notebook's parameters cell, as a reader would: any error cell fails the test.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from mlrecipes.cli import in_notebook, recipe_argv

from conftest import write_mnist_folder
from recipe_harness import assert_finished_run, read_metrics

ROOT = Path(__file__).resolve().parents[1]
CELL_MARKER = re.compile(r"^# %%(?P<options>.*)$", re.M)


def load_hook():
    spec = importlib.util.spec_from_file_location("recipe_source_hook", ROOT / "docs" / "hooks" / "recipe_source.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = load_hook()
LITERATE = hook.literate_recipes()


def mnist_format_run(folder: Path, finished: dict[str, Path]) -> list[str]:
    return ["--quick", "--data-dir", str(write_mnist_folder(folder / "idx")), "--output-dir", str(folder / "run")]


def compress_run(folder: Path, finished: dict[str, Path]) -> list[str]:
    """The notebook CNN run, a few variants and few timings (tests/test_recipe_compress.py makes them all)."""
    variants = ["--formats", "keras_int8", "pruned", "saved_model", "litert_int8", "--repeats", "3"]
    return [
        "--quick",
        "--model-dir",
        str(finished["fashion_mnist_cnn"]),
        "--output-dir",
        str(folder / "run"),
        *variants,
    ]


def cifar_folder_run(folder: Path, finished: dict[str, Path]) -> list[str]:
    """A small written CIFAR-10 folder of random images and the tests' ResNet-9, 8 times narrower."""
    import numpy as np

    from mlrecipes.testing import write_python_folder

    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (300, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, 300)
    cifar = write_python_folder(folder / "cifar-10-batches-py", images[:200], labels[:200], images[200:], labels[200:])
    small = ["--width", "0.125", "--batch-size", "32"]
    return ["--quick", *small, "--data-dir", str(cifar), "--output-dir", str(folder / "run")]


def vae_run(folder: Path, finished: dict[str, Path]) -> list[str]:
    """MNIST-format files and the tests' small VAE, with a code of 2 so that every figure is drawn."""
    small = ["--batch-size", "64", "--filters", "8", "16", "--decoder-filters", "8", "8", "--dense-units", "32"]
    return [*mnist_format_run(folder, finished), *small, "--latent-dim", "2"]


def embedded_data_run(folder: Path, finished: dict[str, Path]) -> list[str]:
    return ["--quick", "--output-dir", str(folder / "run")]


def date_pairs_run(folder: Path, finished: dict[str, Path]) -> list[str]:
    """200 dates in words and in ISO 8601, and the tests' transformer of one block a side, width 16."""
    from mlrecipes.data.sentence_pairs import write_pairs
    from mlrecipes.testing import date_pairs

    pairs = write_pairs(folder / "dates.tsv", date_pairs(200, seed=3))
    small = ["--width", "16", "--heads", "2", "--encoder-depth", "1", "--decoder-depth", "1", "--batch-size", "32"]
    return ["--quick", *small, "--examples", "3", "--data-file", str(pairs), "--output-dir", str(folder / "run")]


def english_text_run(folder: Path, finished: dict[str, Path]) -> list[str]:
    """6,000 characters of English and the tests' one-block language model, with a context of 16 bytes."""
    sentence = "The quick brown fox jumps over the lazy dog while the cat sleeps. "
    corpus = folder / "corpus.txt"
    corpus.write_text((sentence * (6000 // len(sentence) + 1))[:6000], encoding="utf-8")
    small = ["--sequence-length", "16", "--width", "16", "--heads", "2", "--depth", "1", "--batch-size", "16"]
    return ["--quick", *small, "--max-length", "20", "--data-file", str(corpus), "--output-dir", str(folder / "run")]


def labelled_texts_run(folder: Path, finished: dict[str, Path]) -> list[str]:
    """90 short texts in three topic folders and the tests' tiny transformer (width 16, 24 tokens)."""
    from test_recipe_text_classification import TINY_MODEL, write_corpus

    corpus = write_corpus(folder / "corpus", {"business": 30, "sport": 30, "tech": 30})
    return ["--quick", *TINY_MODEL, "--data-dir", str(corpus), "--output-dir", str(folder / "run")]


def unlabelled_texts_run(folder: Path, finished: dict[str, Path]) -> list[str]:
    """120 documents of 50 words in nested folders and the tests' tiny BERT encoder (width 16, one block)."""
    from test_recipe_masked_lm_pretraining import TINY_ENCODER, write_documents

    documents = write_documents(folder / "documents")
    return ["--quick", *TINY_ENCODER, "--data-dir", str(documents), "--output-dir", str(folder / "run")]


# The --quick flags each recipe's notebook runs with, given a fresh folder for its data (its outputs
# go to FOLDER/run) and the output folders of the notebooks it needs, which run before it: recipe ->
# (the recipes it needs, its flags). A recipe converted to cells needs an entry here.
QUICK_RUNS = {
    "mnist_mlp": ((), mnist_format_run),
    "fashion_mnist_cnn": ((), mnist_format_run),
    "compress": (("fashion_mnist_cnn",), compress_run),
    "cifar10_resnet": ((), cifar_folder_run),
    "fashion_mnist_vae": ((), vae_run),
    "linear_regression": ((), embedded_data_run),
    "seq2seq": ((), date_pairs_run),
    "text_generation": ((), english_text_run),
    "text_classification": ((), labelled_texts_run),
    "masked_lm_pretraining": ((), unlabelled_texts_run),
}
# The recipes that train a model, and so leave a run folder (compress measures a finished run's model).
TRAINING_RECIPES = {"mnist_mlp", "fashion_mnist_cnn", "cifar10_resnet", "fashion_mnist_vae", "linear_regression"}
TRAINING_RECIPES |= {"seq2seq", "text_generation"}
TRAINING_RECIPES |= {"text_classification", "masked_lm_pretraining"}
NOTEBOOK_SECONDS = 600


def test_the_recipes_written_in_cells():
    assert {"mnist_mlp", "fashion_mnist_cnn"} <= set(LITERATE)
    assert not sorted(set(LITERATE) - set(QUICK_RUNS)), "add the recipe's quick flags to QUICK_RUNS"


# --- The file, its cells and its page ---


def cells_as_written(source: str) -> list[tuple[str, str]]:
    """The file's cells as a reader sees them: ("markdown" | "code", text), split at `# %%` lines.

    Independent of jupytext: prose is the commented lines without their "# ", or the text
    of a triple-quoted string.
    """
    markers = list(CELL_MARKER.finditer(source))
    assert markers and markers[0].start() == 0, "a recipe file starts with a cell marker"
    cells = []
    for marker, following in zip(markers, [*markers[1:], None]):
        body = source[marker.end() + 1 : following.start() if following else len(source)].strip("\n")
        if "[markdown]" in marker["options"]:
            quoted = re.fullmatch(r'r?"""\n?(.*?)\n?"""', body, re.S)
            text = quoted[1] if quoted else "\n".join(re.sub(r"^# ?", "", line) for line in body.splitlines())
            cells.append(("markdown", text))
        else:
            cells.append(("code", body))
    return cells


@pytest.mark.parametrize("recipe", LITERATE)
def test_the_cells_are_the_whole_file(recipe):
    path = ROOT / "recipes" / f"{recipe}.py"
    source = path.read_text(encoding="utf-8")
    notebook = hook.recipe_notebook(recipe)
    # jupytext reads the cells a reader sees, and writes them back to the very same file: nothing is lost.
    assert [(cell.cell_type, cell.source) for cell in notebook.cells] == cells_as_written(source)
    assert jupytext.writes(jupytext.read(path, fmt="py:percent"), fmt="py:percent") == source
    # The first cell is the module docstring, which stays the module's __doc__.
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source == docstring.strip("\n")
    # One parameters cell, where a notebook's reader sets the flags.
    parameters = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert [cell.source for cell in parameters] == ["ARGS = None"]
    assert hook.notebook_json(recipe) == hook.notebook_json(recipe)  # the same file gives the same notebook


@pytest.mark.parametrize("recipe", LITERATE)
def test_the_page_shows_the_cells_in_order(recipe):
    path = ROOT / "docs" / "recipes" / f"{recipe}.md"
    assert path.is_file(), f"recipes/{recipe}.py has no page: create docs/recipes/{recipe}.md"
    markdown = path.read_text(encoding="utf-8")
    assert f"<!-- recipe-source: {recipe} -->" not in markdown  # not the whole file again
    for link in (f"]({recipe}.py)", f"]({recipe}.ipynb)"):
        assert link in markdown, f"docs/recipes/{recipe}.md lacks the header link {link}"
    page = hook.on_page_markdown(markdown)
    assert "<!-- recipe-" not in page
    cells = cells_as_written((ROOT / "recipes" / f"{recipe}.py").read_text(encoding="utf-8"))
    summary, _, description = cells[0][1].partition("\n\n")
    expected = [" ".join(summary.split()), description] + [
        f"```python\n{text}\n```" if kind == "code" else text for kind, text in cells[1:]
    ]
    position = 0
    for index, text in enumerate(expected):
        found = page.find(text, position)
        assert found >= 0, f"docs/recipes/{recipe}.md: part {index} of the recipe is missing or out of order:\n{text}"
        position = found + len(text)
    # Each code cell is one block of its own: the markers add as many python blocks as there are code cells.
    assert page.count("```python\n") - markdown.count("```python\n") == sum(kind == "code" for kind, _ in cells)


# --- The notebooks run ---


def parameters_index(notebook: nbformat.NotebookNode) -> int:
    return next(index for index, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))


def with_flags(notebook: nbformat.NotebookNode, argv: list[str]) -> nbformat.NotebookNode:
    """The notebook with `ARGS = argv` in a cell right after its parameters cell, as papermill does it."""
    cell = nbformat.v4.new_code_cell(f"ARGS = {argv!r}", metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(parameters_index(notebook) + 1, cell)
    return notebook


def client(notebook: nbformat.NotebookNode, folder: Path) -> NotebookClient:
    return NotebookClient(
        notebook, kernel_name="python3", timeout=NOTEBOOK_SECONDS, resources={"metadata": {"path": str(folder)}}
    )


def error_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        f"{output.ename}: {output.evalue}"
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]


def stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(output.text for output in cell.outputs if output.output_type == "stream" and output.name == "stdout")


@pytest.fixture(scope="module")
def notebook_runs(tmp_path_factory):
    """Every literate recipe's notebook executed with its quick flags, two kernels at a time.

    Recipe -> its folder, its executed notebook and the exception that stopped it (or None).
    """
    runs = {}

    async def run(recipe, kernels):
        needs, flags = QUICK_RUNS[recipe]
        for need in needs:
            await runs[need]["done"].wait()
        folder = tmp_path_factory.mktemp(f"notebook-{recipe}")
        runs[recipe].update(folder=folder, notebook=hook.recipe_notebook(recipe), error=None)
        try:
            if any(runs[need]["error"] is not None for need in needs):
                raise RuntimeError(f"not run: it needs the notebook of {needs}, which failed")
            argv = flags(folder, {need: runs[need]["folder"] / "run" for need in needs})
            with_flags(runs[recipe]["notebook"], argv)
            async with kernels:
                await client(runs[recipe]["notebook"], folder).async_execute()
        except Exception as error:
            runs[recipe]["error"] = error
        finally:
            runs[recipe]["done"].set()

    async def run_all():
        kernels = asyncio.Semaphore(2)  # two cores
        for recipe in LITERATE:
            runs[recipe] = {"done": asyncio.Event()}
        await asyncio.gather(*(run(recipe, kernels) for recipe in LITERATE))

    asyncio.run(run_all())
    return runs


@pytest.mark.parametrize("recipe", LITERATE)
def test_the_notebook_runs_with_quick_flags(recipe, notebook_runs):
    run = notebook_runs[recipe]
    if isinstance(run["error"], CellExecutionError):
        pytest.fail(f"{recipe}.ipynb: a cell failed:\n{run['error']}")
    assert run["error"] is None, run["error"]
    notebook = run["notebook"]
    assert not error_outputs(notebook)
    assert all(cell.execution_count for cell in notebook.cells if cell.cell_type == "code")  # every cell ran
    # The last cell ran the recipe, which wrote its outputs where ARGS said and named them.
    output = run["folder"] / "run"
    assert f"{recipe}: outputs in {output}/" in stdout(notebook.cells[-1])
    assert read_metrics(output)
    if recipe in TRAINING_RECIPES:
        metrics = assert_finished_run(output)
        assert metrics["recipe"] == recipe and metrics["config"]["quick"] is True and metrics["epochs"] == 1


def test_in_a_notebook_args_none_means_every_default():
    assert not in_notebook() and recipe_argv(None) == sys.argv[1:] and recipe_argv(("--quick",)) == ["--quick"]
    source = "from mlrecipes.cli import in_notebook, recipe_argv\nprint(in_notebook(), recipe_argv(None), sys.argv[1])"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys\n" + source)])
    client(notebook, ROOT).execute()
    assert stdout(notebook.cells[0]).strip() == "True [] -f"  # the kernel's own arguments are not the recipe's


def test_in_a_notebook_a_bad_flag_stops_it_before_tensorflow(tmp_path):
    notebook = with_flags(hook.recipe_notebook("mnist_mlp"), ["--data-dir", str(tmp_path / "missing")])
    with pytest.raises(CellExecutionError, match="no such folder"):
        client(notebook, tmp_path).execute()
    ran = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.execution_count]
    assert "check_command_line(build_parser(), ARGS)" in ran[-1].source  # stopped there, before `import keras`
    assert error_outputs(notebook) == [f"UsageError: --data-dir {tmp_path / 'missing'}: no such folder"]
