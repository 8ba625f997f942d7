"""The docs pages themselves: every recipe has its page, every formula page names the
test that proves it, every page is in the navigation, every Chinese page (`x.zh.md`) keeps
the formulas, figures and code of its English page, and the guides' code runs."""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import os
import posixpath
import re
import runpy
import shlex
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from markdown.extensions.toc import slugify

from conftest import write_mnist_folder

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RECIPES = sorted(path.stem for path in (ROOT / "recipes").glob("*.py") if not path.name.startswith("_"))
PAGES = sorted(path for path in DOCS.rglob("*.md") if "hooks" not in path.relative_to(DOCS).parts)
# The Chinese site (mkdocs-static-i18n, suffix structure): docs/x.zh.md translates docs/x.md.
TRANSLATIONS = [path for path in PAGES if path.name.endswith(".zh.md")]
TEST_REFERENCE = re.compile(r"\btests/(test_\w+\.py)::(test_\w+)")
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>```+)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$", re.M | re.S
)
DISPLAY_FORMULA = re.compile(r"\$\$.+?\$\$", re.S)
INLINE_FORMULA = re.compile(r"(?<![\\$])\$(?=\S)[^$\n]+?(?<![\s\\])\$(?!\d)")
HEADING = re.compile(r"^#{1,6}[ \t]+(?P<text>.+?)(?:[ \t]*\{[^}\n]*#(?P<id>[\w-]+)[^}\n]*\})?[ \t]*$", re.M)
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)|<img\b[^>]*\bsrc=\"([^\"]+)\"")


def page_name(path: Path) -> str:
    return path.relative_to(DOCS).as_posix()


def prose(markdown: str) -> str:
    """The page without its fenced code blocks and inline code spans."""
    return re.sub(r"`[^`\n]*`", "", FENCE.sub("", markdown))


def has_formulas(markdown: str) -> bool:
    """Whether the page's prose holds $$...$$ or $...$ math (arithmatex's delimiters)."""
    text = prose(markdown)
    return "$$" in text or INLINE_FORMULA.search(text) is not None


def formulas(markdown: str) -> Counter[str]:
    """The page's display ($$...$$) and inline ($...$) formulas, each as written, with how often."""
    text = prose(markdown)
    display = DISPLAY_FORMULA.findall(text)
    return Counter(display + INLINE_FORMULA.findall(DISPLAY_FORMULA.sub(" ", text)))


def figures(markdown: str, name: str) -> Counter[str]:
    """The image files page `name` shows, as paths from the site's root, with how often.

    A Markdown image is relative to the page's file; an <img> tag, which MkDocs leaves alone, to
    the page's URL: "figures/a.png" on the home page is "../figures/a.png" on the Chinese one (/zh/).
    """
    english = english_name(name)
    url = "" if english == "index.md" else english.removesuffix("index.md").removesuffix(".md").rstrip("/") + "/"
    url = ("zh/" if name.endswith(".zh.md") else "") + url
    shown = []
    for markdown_src, html_src in IMAGE.findall(FENCE.sub("", markdown)):
        base = posixpath.dirname(english) if markdown_src else url
        shown.append(posixpath.normpath(posixpath.join(base, markdown_src or html_src)))
    return Counter(shown)


def code_blocks(markdown: str) -> Counter[str]:
    """The page's fenced code blocks (info string and body), with how often."""
    return Counter(match["info"].strip() + "\n" + textwrap.dedent(match["body"]) for match in FENCE.finditer(markdown))


def heading_ids(markdown: str) -> list[str]:
    """The ids of the page's headings, in order: an attr_list {#id}, or the one the toc extension makes."""
    return [
        match["id"] or slugify(re.sub(r"[`*]", "", match["text"]), "-")
        for match in HEADING.finditer(FENCE.sub("", markdown))
    ]


def english_name(name: str) -> str:
    """The English page a page translates ("concepts/x.zh.md" -> "concepts/x.md"); itself if English."""
    return name.removesuffix(".zh.md") + ".md" if name.endswith(".zh.md") else name


def python_blocks(markdown: str) -> list[str]:
    """The page's ```python blocks, in order, dedented (blocks inside list items are indented)."""
    return [
        textwrap.dedent(match["body"])
        for match in FENCE.finditer(markdown)
        if match["info"].strip().startswith("python")
    ]


@functools.cache
def recipe_hook():
    """docs/hooks/recipe_source.py: the build's hook that fills a page's recipe markers."""
    spec = importlib.util.spec_from_file_location("recipe_source_hook", DOCS / "hooks" / "recipe_source.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_built(markdown: str) -> str:
    """The page's Markdown as the site shows it: its recipe markers replaced by the recipe's prose and code."""
    return recipe_hook().on_page_markdown(markdown)


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
    text = page.read_text(encoding="utf-8")
    lines = text.splitlines()
    # A recipe written in cells (CONTRIBUTING.md, "Recipe file format") shows them section by section, below a
    # header that links to the file and its notebook (tests/test_notebooks.py checks the sections); the others
    # show their docstring and whole file.
    in_cells = re.search(r"^# %%", (ROOT / "recipes" / f"{recipe}.py").read_text(encoding="utf-8"), re.M)
    markers = ("summary", "sections") if in_cells else ("docstring", "source")
    for marker in (f"<!-- recipe-{kind}: {recipe} -->" for kind in markers):
        assert marker in lines, f"docs/recipes/{recipe}.md lacks the line {marker}"
    if in_cells:
        for link in (f"[View source]({recipe}.py)", f"[Download notebook]({recipe}.ipynb)"):
            assert link in text, f"docs/recipes/{recipe}.md lacks the header link {link}"
        assert f"<!-- recipe-source: {recipe} -->" not in lines  # the file is shown once, in its sections


def test_pages_with_formulas_name_the_tests_that_prove_them():
    # A translation has the formulas and named tests of its English page as built (a recipe's Chinese page writes
    # out the formulas its English page takes from the recipe file): test_a_translation_keeps_... holds it to them.
    formula_pages = [
        path for path in PAGES if path not in TRANSLATIONS and has_formulas(path.read_text(encoding="utf-8"))
    ]
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
    """English pages are in the nav; a Chinese page x.zh.md takes the place of x.md there on the Chinese site."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_AnyTagLoader)
    in_nav = nav_pages(config["nav"])
    assert not sorted(in_nav - {page_name(path) for path in PAGES}), "the nav names pages that do not exist"
    assert not [name for name in in_nav if name.endswith(".zh.md")], "the nav names a .zh.md page, not its x.md"
    missing = sorted(page_name(path) for path in PAGES if english_name(page_name(path)) not in in_nav)
    assert not missing, f"pages missing from the nav of mkdocs.yml (for x.zh.md: x.md): {missing}"


def nav_titles(entries) -> set[str]:
    titles: set[str] = set()
    for entry in entries if isinstance(entries, list) else [entries]:
        if isinstance(entry, dict):
            for title, value in entry.items():
                titles |= {title} | nav_titles(value)
    return titles


def test_every_nav_title_has_a_chinese_translation():
    """The Chinese site's navigation is Chinese; the API pages keep their module names."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_AnyTagLoader)
    i18n = next(plugin["i18n"] for plugin in config["plugins"] if isinstance(plugin, dict) and "i18n" in plugin)
    chinese = next(language for language in i18n["languages"] if language["locale"] == "zh")
    untranslated = sorted(
        title
        for title in nav_titles(config["nav"])
        if not title.startswith("mlrecipes.") and title not in chinese["nav_translations"]
    )
    assert not untranslated, f"nav titles without a zh nav_translations entry in mkdocs.yml: {untranslated}"


def test_the_translation_checks():
    page = "Loss $\\mathcal{L}$ at ![curve](../figures/a.png)\n\n$$\ny = x\n$$\n\n```bash\necho $HOME\n```\n"
    assert formulas(page) == Counter(["$\\mathcal{L}$", "$$\ny = x\n$$"])
    assert figures(page, "concepts/x.md") == figures(page, "concepts/x.zh.md") == Counter(["figures/a.png"])
    home, chinese_home = '<img src="figures/a.png" alt="a">', '<img alt="a" src="../figures/a.png">'
    assert figures(home, "index.md") == figures(chinese_home, "index.zh.md") == Counter(["figures/a.png"])
    assert figures(home, "index.zh.md") != figures(home, "index.md")  # on /zh/ that src is another file
    assert code_blocks(page) == Counter(["bash\necho $HOME\n"])
    # A formula changed by one character, a figure or code block dropped: all noticed.
    assert formulas(page.replace("y = x", "y = z")) != formulas(page)
    assert not figures(page.replace("![curve](../figures/a.png)", ""), "concepts/x.md") and not code_blocks("no code")
    assert english_name("concepts/x.zh.md") == "concepts/x.md" and english_name("index.md") == "index.md"
    headings = "# Loss functions\n\n## 2-D `Conv2D`\n\n```bash\n# not a heading\n```\n\n### 交叉熵 {#cross-entropy}\n"
    assert heading_ids(headings) == ["loss-functions", "2-d-conv2d", "cross-entropy"]


@pytest.mark.parametrize("translation", TRANSLATIONS, ids=page_name)
def test_a_translation_keeps_the_formulas_figures_code_and_tests_of_its_english_page(translation):
    """So the formula tests that prove the English page prove the Chinese one, and both show the same figures.

    Both pages as built: a recipe page's formulas and code come from the recipe file, on the English page
    through `recipe-sections`, on the Chinese one as translated prose around `recipe-code` markers.
    """
    english = DOCS / english_name(page_name(translation))
    assert english.is_file(), f"{page_name(translation)} translates {page_name(english)}, which does not exist"
    original, translated = (as_built(path.read_text(encoding="utf-8")) for path in (english, translation))
    checks = {
        "formulas": lambda markdown, _: formulas(markdown),
        "figures": figures,
        "code blocks": lambda markdown, _: code_blocks(markdown),
        "named tests": lambda markdown, _: Counter(TEST_REFERENCE.findall(markdown)),
    }
    for what, extract in checks.items():
        expected, found = extract(original, page_name(english)), extract(translated, page_name(translation))
        assert found == expected, (
            f"{page_name(translation)} and {page_name(english)} differ in their {what}: "
            f"only in the English page {sorted((expected - found).elements())}, "
            f"only in the translation {sorted((found - expected).elements())}"
        )
    # A link to x.md#anchor works in both languages only if the translated headings keep the English ids.
    assert heading_ids(translated) == heading_ids(original), (
        f"the headings of {page_name(translation)} need the ids of {page_name(english)}'s, in order "
        f"(write '## 标题 {{#id}}'): {heading_ids(original)}, not {heading_ids(translated)}"
    )


def prose_around_code_cells(recipe: str) -> list[str]:
    """The recipe's prose cells, joined, between its code cells: item k comes before code cell k + 1 (item 0 holds
    the docstring), the last item after the last code cell."""
    groups: list[list[str]] = [[]]
    for cell in recipe_hook().recipe_notebook(recipe).cells:
        if cell.cell_type == "code":
            groups.append([])
        elif cell.cell_type == "markdown":
            groups[-1].append(cell.source.strip("\n"))
    return ["\n\n".join(group) for group in groups]


RECIPE_TRANSLATIONS = [path for path in TRANSLATIONS if page_name(path).startswith("recipes/")]


@pytest.mark.parametrize("translation", RECIPE_TRANSLATIONS, ids=page_name)
def test_a_translated_recipe_page_shows_each_code_cell_once_in_order_after_its_prose(translation):
    """A recipe's translated page: its own prose in place of each prose cell of the file (the same headings and
    formulas), and a `recipe-code` marker in place of each code cell, so the code shown is the file's, where the
    file has it. A prose cell added, moved or removed in the recipe fails this until the translation follows."""
    name, recipe = page_name(translation), translation.name.removesuffix(".zh.md")
    assert recipe in recipe_hook().literate_recipes(), f"{name}: recipes/{recipe}.py is not written in cells"
    markdown = translation.read_text(encoding="utf-8")
    english = re.findall(r"^<!-- recipe-(?:summary|sections|docstring|source): .*$", markdown, re.M)
    assert not english, f"{name} shows the recipe's English prose {english}: translate it, code by recipe-code"
    for link in (f"]({recipe}.py)", f"]({recipe}.ipynb)"):
        assert link in markdown, f"{name} lacks the header link {link}"
    prose_cells = prose_around_code_cells(recipe)
    cells = len(prose_cells) - 1
    markers = list(recipe_hook().CODE_MARKER.finditer(markdown))
    assert [(marker[1], int(marker[2])) for marker in markers] == [(recipe, n) for n in range(1, cells + 1)], (
        f"{name} needs the lines <!-- recipe-code: {recipe} N --> for N = 1, ..., {cells} (its code cells), "
        f"each once, in order; it has {[marker[0] for marker in markers]}"
    )
    bounds = [0, *(point for marker in markers for point in marker.span()), len(markdown)]
    for index, (start, end, expected) in enumerate(zip(bounds[::2], bounds[1::2], prose_cells)):
        segment, where = markdown[start:end], f"{name}, after code cell {index}" if index else f"{name}, header"
        ids, expected_ids = heading_ids(segment), heading_ids(expected)
        if 0 < index < cells:  # between two code cells: the translated prose cells, or nothing if there are none
            assert bool(segment.strip()) == bool(expected), (
                f"{where}: prose where the file has none, or none where it has some"
            )
            assert ids == expected_ids, f"{where}: headings {ids}, but the file's prose cells there have {expected_ids}"
            assert formulas(segment) == formulas(expected), f"{where}: not the formulas of the file's prose there"
            assert code_blocks(segment) == code_blocks(expected), f"{where}: not the code blocks of the file's prose"
        else:  # the page's own title and header come first, its own sections (Run it, Results ...) last
            ends = ids[len(ids) - len(expected_ids) :] if index == 0 else ids[: len(expected_ids)]
            assert ends == expected_ids, (
                f"{where}: headings {ids}, but the file's prose cells there have {expected_ids}"
            )
            assert formulas(expected) <= formulas(segment), f"{where}: lacks formulas of the file's prose there"
            assert code_blocks(expected) <= code_blocks(segment), f"{where}: lacks code blocks of the file's prose"


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
