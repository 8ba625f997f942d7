"""The docs site as a reader sees it: built with `mkdocs build --strict`, served on a
loopback port and loaded page by page in headless Chromium (every page, except the Chinese
site's copies of English pages that have no translation: their content is the English page's).

For every page: no console errors, every formula typeset by MathJax (no raw TeX left, no
TeX errors), every image loaded. Every recipe page shows its full source (a recipe written in
cells: each code cell as a block of its own, in order) and its figures. No page
shows reStructuredText from a docstring (a `:func:` role, a `::` marker) as text.
Screenshots of the home page and a recipe page go to test-artifacts/.

Needs Debian's `chromium` and `chromium-driver` packages and the `selenium` package; the
browser test is skipped, saying which is missing, without them.
"""

from __future__ import annotations

import contextlib
import functools
import html.parser
import http.server
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
BUILD_SECONDS_LIMIT = 60
SCREENSHOT_RECIPE = "mnist_mlp"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1600",
    # Nothing but this machine resolves: a page that needs the internet fails here, as it would offline.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

# Runs in the page: waits for MathJax's first typesetting pass (if the page loads MathJax).
WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const started = Date.now();
(function poll() {
  const mathjax = window.MathJax;
  if (mathjax && mathjax.startup && mathjax.startup.promise) {
    mathjax.startup.promise.then(() => done("typeset"), (error) => done("MathJax failed: " + error));
  } else if (Date.now() - started > 10000) {
    done("no MathJax");
  } else {
    setTimeout(poll, 50);
  }
})();
"""

# Runs in the page: what a reader sees.
INSPECT_PAGE = r"""
const article = document.querySelector("article") || document.body;
const skip = new Set(["PRE", "CODE", "SCRIPT", "STYLE", "NOSCRIPT", "TEXTAREA", "MJX-CONTAINER"]);
const texts = [];
const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  let node = walker.currentNode.parentElement, inside = false;
  for (; node && node !== article.parentElement; node = node.parentElement) {
    if (skip.has(node.tagName.toUpperCase())) { inside = true; break; }
  }
  if (!inside) texts.push(walker.currentNode.textContent);
}
const math = Array.from(document.querySelectorAll(".arithmatex"));
const images = Array.from(article.querySelectorAll("img"));
const codeBlocks = Array.from(document.querySelectorAll("table.highlighttable")).map((table) => ({
  filename: (table.querySelector("th.filename") || {}).textContent || "",
  code: (table.querySelector("td.code code") || {}).textContent || "",
  visible: table.getBoundingClientRect().height > 0,
  copyButton: Boolean(table.querySelector('.md-code__button[data-md-type="copy"], button.md-clipboard')),
}));
// Code blocks without line numbers: a recipe written in cells shows each code cell as one.
const codeCells = Array.from(article.querySelectorAll("div.highlight")).filter((block) => !block.querySelector("table")).map((block) => ({
  code: (block.querySelector("pre code") || {}).textContent || "",
  visible: block.getBoundingClientRect().height > 0,
  copyButton: Boolean(block.querySelector('.md-code__button[data-md-type="copy"], button.md-clipboard')),
}));
return {
  title: document.title,
  text: texts.join(" "),
  math: math.length,
  typeset: math.filter((element) => element.querySelector("mjx-container")).length,
  // TeX errors (a missing brace) become merror nodes; unknown macros are shown in red.
  texErrors: Array.from(document.querySelectorAll('mjx-merror, [data-mml-node="merror"]'))
    .map((element) => element.getAttribute("data-mjx-error") || element.textContent)
    .concat(Array.from(document.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]')).map((element) => "undefined " + element.textContent)),
  images: images.map((image) => ({src: image.currentSrc || image.src, loaded: image.complete && image.naturalWidth > 0})),
  codeBlocks: codeBlocks,
  codeCells: codeCells,
};
"""


def build_site(site_dir: Path, config: Path = ROOT / "mkdocs.yml") -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    finished = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site_dir)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    return finished, time.perf_counter() - started


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site_dir = tmp_path_factory.mktemp("site")
    finished, seconds = build_site(site_dir)
    return {"dir": site_dir, "build": finished, "seconds": seconds}


def test_site_builds_strictly_in_under_a_minute(site):
    build = site["build"]
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stderr[-4000:]}"
    assert site["seconds"] < BUILD_SECONDS_LIMIT, f"building the site took {site['seconds']:.1f} s"
    assert (site["dir"] / "index.html").is_file()


# reStructuredText that Markdown leaves as it is: a Sphinx role (":func:`name`"; the backticks become code, the
# role stays text) or a literal-block marker ("Example::" before an indented block).
RAW_RESTRUCTUREDTEXT = re.compile(
    r":(?:py:)?(?:func|class|meth|attr|data|const|mod|exc|obj|ref|doc|term):"  # a role
    r"|::(?=\s|$)"  # "::" ending a word; not "absl::Log" or "tests/x.py::test_y"
)


class ProseText(html.parser.HTMLParser):
    """The text of a page outside code, scripts and styles, one line per block element."""

    BREAK = "\x00"
    SKIP = frozenset({"code", "pre", "kbd", "samp", "script", "style", "textarea", "svg"})
    BLOCKS = frozenset({"p", "li", "td", "th", "dd", "dt", "div", "h1", "h2", "h3", "h4", "h5", "h6", "br", "summary"})

    def __init__(self):
        super().__init__()
        self.skipping = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append(self.BREAK)

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append(self.BREAK)

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)

    @classmethod
    def lines(cls, page: str) -> list[str]:
        parser = cls()
        parser.feed(page)
        parser.close()
        return [" ".join(line.split()) for line in "".join(parser.parts).split(cls.BREAK) if line.strip()]


def raw_restructuredtext(site_dir: Path) -> dict[str, list[str]]:
    """Page to the passages of its prose that show a raw reST role or `::` marker."""
    found = {}
    for page in sorted(site_dir.rglob("*.html")):
        passages = [
            "..." + line[max(0, match.start() - 60) : match.end() + 40] + "..."
            for line in ProseText.lines(page.read_text(encoding="utf-8"))
            for match in RAW_RESTRUCTUREDTEXT.finditer(line)
        ]
        if passages:
            found[page.relative_to(site_dir).as_posix()] = passages
    return found


def test_the_reference_pages_show_no_restructuredtext(site):
    """Docstrings are Markdown: a `:func:` role or an `Example::` marker would show as typed."""
    if site["build"].returncode != 0:
        pytest.fail("the site did not build; see test_site_builds_strictly_in_under_a_minute")
    assert "api/cli/index.html" in {page.relative_to(site["dir"]).as_posix() for page in site["dir"].rglob("*.html")}
    # What the two mistakes look like once built, beside code and test ids that are fine.
    sample = "<p>Reads :func:<code>x</code>.</p><p>Usage::\n</p><pre><code>absl::Log</code></pre><li>t.py::test_y</li>"
    assert ProseText.lines(sample) == ["Reads :func:.", "Usage::", "t.py::test_y"]
    assert [bool(RAW_RESTRUCTUREDTEXT.search(line)) for line in ProseText.lines(sample)] == [True, True, False]
    found = raw_restructuredtext(site["dir"])
    assert not found, "pages showing reStructuredText as text:\n" + "\n".join(
        f"  {page}: " + " | ".join(passages) for page, passages in found.items()
    )


def test_recipes_written_in_cells_are_served_with_their_notebooks(site):
    """Beside its page, the site serves such a recipe's file and its notebook, and the page's header links to both."""
    import jupytext
    import nbformat

    if site["build"].returncode != 0:
        pytest.fail("the site did not build; see test_site_builds_strictly_in_under_a_minute")
    site_dir = site["dir"]
    recipes = [path for path in sorted((ROOT / "recipes").glob("*.py")) if written_in_cells(path.read_text("utf-8"))]
    assert {"mnist_mlp", "fashion_mnist_cnn"} <= {path.stem for path in recipes}
    for path in recipes:
        name = path.stem
        assert (site_dir / "recipes" / f"{name}.py").read_text(encoding="utf-8") == path.read_text(encoding="utf-8")
        notebook = nbformat.read(site_dir / "recipes" / f"{name}.ipynb", as_version=4)
        nbformat.validate(notebook)
        expected = jupytext.read(path, fmt="py:percent")
        assert [(cell.cell_type, cell.source) for cell in notebook.cells] == [
            (cell.cell_type, cell.source) for cell in expected.cells
        ]
        assert not any(cell.get("outputs") for cell in notebook.cells)  # served unexecuted
        assert notebook.metadata.kernelspec.name == "python3"
        for page in (site_dir / "recipes" / name / "index.html", site_dir / "zh" / "recipes" / name / "index.html"):
            if not page.is_file():  # tests/test_docs_pages.py requires the page
                continue
            base = page.parent.relative_to(site_dir).as_posix()
            hrefs = re.findall(r'<a class="md-button"[^>]* href="([^"]+)"', page.read_text(encoding="utf-8"))
            targets = {posixpath.normpath(posixpath.join(base, href)) for href in hrefs}
            assert {f"recipes/{name}.py", f"recipes/{name}.ipynb"} <= targets, (page, hrefs)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def served_site(site):
    if site["build"].returncode != 0:
        pytest.fail("the site did not build; see test_site_builds_strictly_in_under_a_minute")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site["dir"]))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def find_browser() -> tuple[str, str]:
    """The Chromium binary and chromedriver, or skip saying what is missing."""
    chromium = next(
        (path for path in ("/usr/lib/chromium/chromium", shutil.which("chromium")) if path and Path(path).is_file()),
        None,
    )
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").is_file() else None
    )
    if not chromium or not driver:
        message = "headless Chromium is not installed: apt-get install chromium chromium-driver"
        if os.environ.get("MLRECIPES_REQUIRE_BROWSER"):  # set by .ci/run, which installs it
            pytest.fail(message)
        pytest.skip(message)
    return chromium, driver


@contextlib.contextmanager
def chromium_driver():
    """A headless Chromium driven by selenium, with a fresh profile; skips without them."""
    chromium, driver_path = find_browser()
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="the selenium package is not installed: pip install selenium"
    )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    with chromium_driver() as driver:
        yield driver


def site_pages(site_dir: Path) -> list[str]:
    """Every page of the built site, as a path relative to its root ("" for the home page)."""
    pages = []
    for index in sorted(site_dir.rglob("index.html")):
        relative = index.parent.relative_to(site_dir).as_posix()
        pages.append("" if relative == "." else relative + "/")
    return pages


def inspect(browser, url: str) -> dict:
    browser.get(url)
    mathjax = browser.execute_async_script(WAIT_FOR_MATHJAX)
    page = browser.execute_script(INSPECT_PAGE)
    page["mathjax"] = mathjax
    page["console_errors"] = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    return page


# Recipes whose data cannot be fetched on the machine that builds these docs: their pages show no
# figures, and must say so in these words instead (on the Chinese site, zh/, in Chinese).
NOT_RUN_HERE = {
    "cifar10_resnet": {
        "en": "No figures are shown here, since none come from a real CIFAR-10 run.",
        "zh": "这里不展示任何图，因为没有一张图来自真实的 CIFAR-10 运行。",
    }
}


def written_in_cells(source: str) -> bool:
    """Whether a recipe file is written in cells (jupytext's percent format; see CONTRIBUTING.md)."""
    return re.search(r"^# %%", source, re.M) is not None


def code_cells(name: str) -> list[str]:
    import jupytext

    notebook = jupytext.read(ROOT / "recipes" / f"{name}.py", fmt="py:percent")
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def cell_problems(name: str, page: dict) -> list[str]:
    """What is wrong with the code of a recipe page that shows the recipe's cells: each code cell, in
    order, a visible block with a copy button."""
    problems = []
    shown = iter(page["codeCells"])
    for number, code in enumerate(code_cells(name), start=1):
        block = next((block for block in shown if block["code"].rstrip() == code.rstrip()), None)
        if block is None:
            problems.append(f"code cell {number} of recipes/{name}.py is not shown, or not in order")
            break
        if not block["visible"]:
            problems.append(f"code cell {number} is not visible")
        if not block["copyButton"]:
            problems.append(f"code cell {number} has no copy button")
    return problems


def page_problems(relative: str, page: dict) -> list[str]:
    """What is wrong with a page as a reader sees it (an empty list when nothing)."""
    problems = [f"console error: {message}" for message in page["console_errors"]]
    if page["math"]:
        if page["mathjax"] != "typeset":
            problems.append(f"MathJax did not run: {page['mathjax']}")
        if page["typeset"] != page["math"]:
            problems.append(f"{page['math'] - page['typeset']} of {page['math']} formulas not typeset")
    problems += [f"TeX error: {error}" for error in page["texErrors"]]
    for raw in ("$$", "\\(", "\\[", "\\frac", "\\mathcal"):
        if raw in page["text"]:
            start = page["text"].index(raw)
            problems.append(f"raw TeX {raw!r} in the text: ...{page['text'][max(0, start - 60) : start + 60]}...")
    problems += [f"image not loaded: {image['src']}" for image in page["images"] if not image["loaded"]]
    # The Chinese site (zh/) has the same recipe pages, with the same source and figures.
    if relative.removeprefix("zh/").startswith("recipes/") and relative.removeprefix("zh/") != "recipes/":
        name = relative.strip("/").split("/")[-1]
        source = (ROOT / "recipes" / f"{name}.py").read_text(encoding="utf-8").rstrip()
        blocks = [block for block in page["codeBlocks"] if block["filename"].strip() == f"recipes/{name}.py"]
        if written_in_cells(source):
            problems += cell_problems(name, page)
        elif not blocks:
            problems.append(f"no code block titled recipes/{name}.py")
        else:
            block = blocks[0]
            if block["code"].rstrip() != source:
                problems.append(f"the code block is not the full source of recipes/{name}.py")
            if not block["visible"]:
                problems.append("the code block is not visible")
            if not block["copyButton"]:
                problems.append("the code block has no copy button")
        if name in NOT_RUN_HERE:
            reason = NOT_RUN_HERE[name]["zh" if relative.startswith("zh/") else "en"]
            if reason not in page["text"]:
                problems.append(f"a recipe page without figures that does not say why ({reason!r})")
        elif not page["images"]:
            problems.append("a recipe page without figures")
    return problems


def english_in_the_chinese_frame(site_dir: Path, relative: str) -> bool:
    """Whether a page of the Chinese site (zh/) is an English page without images in the Chinese site's frame.

    mkdocs-static-i18n builds a page that has no `.zh.md` source from its English source. Its content
    is then the English page's, walked at its English address, and the frame (menus, language switch,
    scripts) is the one the translated pages show, so the browser walk leaves it out. A page with
    images is walked anyway: its image paths are relative to zh/.
    """
    if not relative.startswith("zh/"):
        return False
    source = ROOT / "docs" / f"{relative.removeprefix('zh/').strip('/') or 'index'}.zh.md"
    return not source.is_file() and "<img" not in (site_dir / relative / "index.html").read_text(encoding="utf-8")


def test_every_page_in_headless_chromium(site, served_site, browser):
    built = site_pages(site["dir"])
    pages = [page for page in built if not english_in_the_chinese_frame(site["dir"], page)]
    assert "" in pages and f"recipes/{SCREENSHOT_RECIPE}/" in pages
    assert "zh/" in pages and f"zh/recipes/{SCREENSHOT_RECIPE}/" in pages, "the Chinese site was not built"
    # Every English page is walked, and every Chinese page that is not an English page in the Chinese frame.
    left_out = sorted(set(built) - set(pages))
    assert all(page.startswith("zh/") and page.removeprefix("zh/") in pages for page in left_out), left_out
    ARTIFACTS.mkdir(exist_ok=True)
    problems: dict[str, list[str]] = {}
    math_pages = 0
    for relative in pages:
        page = inspect(browser, served_site + relative)
        math_pages += bool(page["typeset"])
        if relative in ("", f"recipes/{SCREENSHOT_RECIPE}/"):
            name = "docs-home.png" if relative == "" else f"docs-recipe-{SCREENSHOT_RECIPE}.png"
            assert browser.save_screenshot(str(ARTIFACTS / name))
        found = page_problems(relative, page)
        if found:
            problems[relative or "(home)"] = found
    assert not problems, "pages with problems:\n" + "\n".join(
        f"  {page}: " + "; ".join(found) for page, found in problems.items()
    )
    assert math_pages >= 2, "hardly any page showed typeset math"
    assert (ARTIFACTS / "docs-home.png").stat().st_size > 10_000


LANGUAGE_SWITCH = re.compile(r'<a href="([^"]*)" hreflang="([\w-]+)" class="md-select__link">')


def test_the_language_switch_stays_on_the_page(site):
    """On every page the header's English / 中文 links lead to the same page in each language."""
    if site["build"].returncode != 0:
        pytest.fail("the site did not build; see test_site_builds_strictly_in_under_a_minute")
    pages = site_pages(site["dir"])
    wrong = []
    for relative in pages:
        html = (site["dir"] / relative / "index.html").read_text(encoding="utf-8")
        links = {language: href for href, language in LANGUAGE_SWITCH.findall(html)}
        english = relative.removeprefix("zh/")
        expected = {"en": posixpath.normpath(english or "."), "zh": posixpath.normpath("zh/" + english)}
        if {
            language: posixpath.normpath(posixpath.join(relative, href)) for language, href in links.items()
        } != expected:
            wrong.append(f"{relative or '(home)'}: {links}")
    assert "zh/" in pages and not wrong, "language switches that do not lead to the same page:\n" + "\n".join(wrong)
