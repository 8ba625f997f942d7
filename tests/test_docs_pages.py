"""The docs pages themselves: every recipe has its page, every formula page names the
test that proves it, every page is in the navigation, and the guides' code runs."""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import runpy
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import write_mnist_folder

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RECIPES = sorted(path.stem for path in (ROOT / "recipes").glob("*.py") if not path.name.startswith("_"))
PAGES = sorted(path for path in DOCS.rglob("*.md") if "hooks" not in path.relative_to(DOCS).parts)
TEST_REFERENCE = re.compile(r"\btests/(test_\w+\.py)::(test_\w+)")
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>```+)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$", re.M | re.S
)


def page_name(path: Path) -> str:
    return path.relative_to(DOCS).as_posix()


def prose(markdown: str) -> str:
    """The page without its fenced code blocks and inline code spans."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", markdown))


def has_formulas(markdown: str) -> bool:
    """Whether the page's prose holds $$...$$ or $...$ math (arithmatex's delimiters)."""
    text = prose(markdown)
    return "$$" in text or re.search(r"(?<![\\$])\$(?=\S)[^$\n]+?(?<![\s\\])\$(?!\d)", text) is not None


def python_blocks(markdown: str) -> list[str]:
    """The page's ```python blocks, in order, dedented (blocks inside list items are indented)."""
    return [
        textwrap.dedent(match["body"])
        for match in FENCE.finditer(markdown)
        if match["info"].strip().startswith("python")
    ]


@functools.cache
def defined_tests(test_file: str) -> frozenset[str]:
    """The test functions a file in tests/ defines."""
    tree = ast.parse((ROOT / "tests" / test_file).read_text(encoding="utf-8"))
    return frozenset(
        node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    )


# --- Pages and references ---


@pytest.mark.parametrize("recipe", RECIPES)
def test_every_recipe_has_a_page_rendered_from_its_source(recipe):
    page = DOCS / "recipes" / f"{recipe}.md"
    assert page.is_file(), f"recipes/{recipe}.py has no page: create docs/recipes/{recipe}.md"
    lines = page.read_text(encoding="utf-8").splitlines()
    for marker in (f"<!-- recipe-docstring: {recipe} -->", f"<!-- recipe-source: {recipe} -->"):
        assert marker in lines, f"docs/recipes/{recipe}.md lacks the line {marker}"


def test_pages_with_formulas_name_the_tests_that_prove_them():
    formula_pages = [path for path in PAGES if has_formulas(path.read_text(encoding="utf-8"))]
    assert any(page_name(path).startswith("concepts/") for path in formula_pages)
    unproven = [
        page_name(path) for path in formula_pages if not TEST_REFERENCE.search(path.read_text(encoding="utf-8"))
    ]
    assert not unproven, f"pages with formulas that name no test (tests/test_x.py::test_y): {unproven}"


def test_every_test_a_page_names_exists():
    missing = []
    for path in PAGES:
        for test_file, function in TEST_REFERENCE.findall(path.read_text(encoding="utf-8")):
            if not (ROOT / "tests" / test_file).is_file() or function not in defined_tests(test_file):
                missing.append(f"{page_name(path)}: tests/{test_file}::{function}")
    assert not missing, f"pages name tests that do not exist: {missing}"


def test_every_docs_math_test_is_named_on_a_page():
    named = {function for path in PAGES for _, function in TEST_REFERENCE.findall(path.read_text(encoding="utf-8"))}
    orphans = sorted(defined_tests("test_docs_math.py") - named)
    assert not orphans, f"tests/test_docs_math.py tests no page names (which formula do they prove?): {orphans}"


def test_the_formula_detector():
    assert has_formulas("the loss $\\mathcal{L} = 0$ here")
    assert has_formulas("$$\ny = x\n$$")
    assert not has_formulas("costs $5 and $6")
    assert not has_formulas("`export X=$HOME` and\n```bash\necho $PWD $HOME\n```\n")


def nav_pages(entries) -> set[str]:
    pages: set[str] = set()
    for entry in entries if isinstance(entries, list) else [entries]:
        if isinstance(entry, str):
            pages.add(entry)
        elif isinstance(entry, dict):
            for value in entry.values():
                pages |= nav_pages(value)
    return pages


class _AnyTagLoader(yaml.SafeLoader):
    """Reads mkdocs.yml, ignoring Python tags such as !!python/name."""


_AnyTagLoader.add_multi_constructor("", lambda loader, suffix, node: None)


def test_every_page_is_in_the_navigation():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_AnyTagLoader)
    in_nav = nav_pages(config["nav"])
    assert not sorted(in_nav - {page_name(path) for path in PAGES}), "the nav names pages that do not exist"
    missing = sorted(page_name(path) for path in PAGES if page_name(path) not in in_nav)
    assert not missing, f"pages missing from the nav of mkdocs.yml: {missing}"


# --- The guides' code runs ---

SNIPPET_RUNNER = textwrap.dedent(
    r"""
    import contextlib, io, json, os, runpy, socket, sys, time, traceback

    real_connect = socket.socket.connect

    def loopback_only(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")):
            raise OSError(f"snippets must not touch the network (tried {address!r})")
        return real_connect(self, address)

    socket.socket.connect = loopback_only
    results = {}
    for page in json.load(open(sys.argv[1])):
        os.chdir(page["dir"])
        namespace = {"__name__": "__main__"}
        output = io.StringIO()
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(output):
                for index, block in enumerate(page["blocks"]):
                    exec(compile(block, f"{page['name']} (python block {index + 1})", "exec"), namespace)
            results[page["name"]] = {"ok": True, "output": output.getvalue(), "seconds": time.perf_counter() - started}
        except BaseException:
            results[page["name"]] = {"ok": False, "output": output.getvalue(), "error": traceback.format_exc()}
    # Shell commands of the pages that are Python console scripts: run in this process too
    # (one TensorFlow start-up for everything), exactly as the installed script runs them.
    for command in json.load(open(sys.argv[2])):
        os.chdir(command["dir"])
        sys.argv = command["argv"]
        output = io.StringIO()
        status = 0
        try:
            with contextlib.redirect_stdout(output):
                runpy.run_path(command["argv"][0], run_name="__main__")
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        except BaseException:
            status, output = 1, io.StringIO(output.getvalue() + traceback.format_exc())
        results[command["name"]] = {"ok": status == 0, "output": output.getvalue()}
    print("SNIPPET-RESULTS " + json.dumps(results))
    """
)


def prepare_saving_guide(folder: Path) -> None:
    """A finished mnist_mlp run's model.keras (as the recipe builds and compiles it) and IDX test images."""
    import keras

    from mlrecipes.models.mlp import build_mlp

    keras.utils.set_random_seed(0)
    model = build_mlp((28, 28, 1), [32, 16], 10, dropout=0.1, input_scale=1 / 255, name="mnist_mlp")
    steps = 4
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    rng = np.random.default_rng(0)
    model.fit(
        rng.integers(0, 256, (128, 28, 28, 1)).astype("uint8"),
        rng.integers(0, 10, 128),
        batch_size=32,
        epochs=1,
        verbose=0,
    )
    (folder / "runs" / "mnist_mlp").mkdir(parents=True)
    model.save(folder / "runs" / "mnist_mlp" / "model.keras")
    write_mnist_folder(folder / "fashion-mnist", train=10, test=20)


def prepare_copying_guide(folder: Path, keras_home: Path) -> None:
    """my-data.npz for load_my_data, and Keras' download cache of Fashion-MNIST (small, fake)."""
    rng = np.random.default_rng(0)
    np.savez(
        folder / "my-data.npz", images=rng.integers(0, 256, (100, 28, 28, 1)).astype("uint8"), labels=np.arange(100) % 3
    )
    write_mnist_folder(keras_home / "datasets" / "fashion-mnist", train=5600, test=200)


SNIPPET_PAGES = {
    "guides/saving-and-exporting.md": ["(8, 10)", "0.0", "(2, 10)"],
    "guides/copying-a-recipe.md": ["{'train': 80, 'validation': 10, 'test': 10} 3", "test accuracy"],
    "concepts/data-pipelines.md": ["(128, 28, 28, 1) (128,)"],
}


@pytest.fixture(scope="module")
def snippet_runs(tmp_path_factory):
    """Run every python block of each page in SNIPPET_PAGES, in order, in a fresh folder and process."""
    base = tmp_path_factory.mktemp("snippets")
    keras_home = base / "keras-home"
    folders = {name: base / name.replace("/", "-").removesuffix(".md") for name in SNIPPET_PAGES}
    for folder in folders.values():
        folder.mkdir()
    prepare_saving_guide(folders["guides/saving-and-exporting.md"])
    prepare_copying_guide(folders["guides/copying-a-recipe.md"], keras_home)
    pages = [
        {"name": name, "dir": str(folders[name]), "blocks": python_blocks((DOCS / name).read_text(encoding="utf-8"))}
        for name in SNIPPET_PAGES
    ]
    commands = [
        {
            "name": "saved_model_cli",
            "dir": str(folders["guides/saving-and-exporting.md"]),
            "argv": saved_model_cli_command(),
        }
    ]
    (base / "pages.json").write_text(json.dumps(pages))
    (base / "commands.json").write_text(json.dumps(commands))
    (base / "runner.py").write_text(SNIPPET_RUNNER)
    environment = {**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "2"}
    finished = subprocess.run(
        [sys.executable, str(base / "runner.py"), str(base / "pages.json"), str(base / "commands.json")],
        capture_output=True, text=True, timeout=600, env=environment, cwd=base,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    line = next(line for line in finished.stdout.splitlines() if line.startswith("SNIPPET-RESULTS "))
    return {"results": json.loads(line.removeprefix("SNIPPET-RESULTS ")), "folders": folders, "pages": pages}


def test_python_snippets_run(snippet_runs):
    for page in snippet_runs["pages"]:
        assert page["blocks"], f"{page['name']} has no python blocks"
    for name, expected in SNIPPET_PAGES.items():
        result = snippet_runs["results"][name]
        assert result["ok"], f"a python block of {name} fails:\n{result['error']}"
        for text in expected:
            assert text in result["output"], f"{name}: expected {text!r} in the output of its code:\n{result['output']}"
    saving = snippet_runs["folders"]["guides/saving-and-exporting.md"]
    assert (saving / "fine-tuned.keras").is_file()
    assert (saving / "exported" / "mnist_mlp" / "1" / "saved_model.pb").is_file()
    assert (snippet_runs["folders"]["guides/copying-a-recipe.md"] / "fashion_mnist_mlp.keras").is_file()


def saved_model_cli_command() -> list[str]:
    """The page's `saved_model_cli show ...` command, with the installed script's full path."""
    page = (DOCS / "guides" / "saving-and-exporting.md").read_text(encoding="utf-8")
    command = shlex.split(next(line for line in page.splitlines() if line.startswith("saved_model_cli show")))
    command[0] = str(Path(sys.executable).with_name("saved_model_cli"))
    return command


def test_saved_model_cli_command_runs(snippet_runs):
    result = snippet_runs["results"]["saved_model_cli"]
    assert result["ok"], result["output"][-2000:]
    output = result["output"]
    # What the page says it prints.
    assert "inputs['inputs']" in output and "DT_FLOAT" in output and "(-1, 28, 28, 1)" in output
    assert "outputs['output_0']" in output and "(-1, 10)" in output


def test_a_copied_recipe_runs_as_a_script(tmp_path, monkeypatch, capsys):
    project = tmp_path / "my_project"
    project.mkdir()
    script = project / "train.py"
    script.write_text((ROOT / "recipes" / "mnist_mlp.py").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script), "--help"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(script), run_name="__main__")
    assert exited.value.code == 0
    help_text = capsys.readouterr().out
    assert "--strategy" in help_text and "--mixed-precision" in help_text and "--hidden-units" in help_text
