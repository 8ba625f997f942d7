"""The shared command line: --help answers at once, without TensorFlow; each default shown once; flag errors."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlrecipes.budget import TrainingBudget
from mlrecipes.cli import error_line, recipe_parser
from mlrecipes.errors import ArgumentValueError, DataError

RECIPES = sorted(path.stem for path in (Path(__file__).parents[1] / "recipes").glob("*.py") if path.stem[0] != "_")

# Run a recipe as `python -m recipes.NAME ARGS...`, then report whether TensorFlow was imported.
PROBE = """
import runpy, sys
name, sys.argv = sys.argv[1], ["recipes." + sys.argv[1], *sys.argv[2:]]
try:
    runpy.run_module("recipes." + name, run_name="__main__")
except SystemExit as exit:
    print("exit", exit.code, "tensorflow" in sys.modules)
"""


def run_probe(*args):
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    return result, time.perf_counter() - started


def test_every_recipe_is_found():
    assert {"mnist_mlp", "linear_regression", "text_classification"} <= set(RECIPES)


@pytest.mark.parametrize("recipe", RECIPES)
def test_help_answers_at_once_without_tensorflow(recipe):
    result, seconds = run_probe(recipe, "--help")
    assert result.stdout.rstrip().endswith("exit 0 False"), result.stdout[-300:] + result.stderr[-500:]
    assert f"python -m recipes.{recipe}" in result.stdout
    assert "oneDNN" not in result.stderr and "cuda" not in result.stderr.lower()
    assert seconds < 5, f"--help took {seconds:.1f} s"  # measured: about 0.1 s; TensorFlow alone takes 3-10 s


@pytest.mark.parametrize("recipe", RECIPES)
def test_bad_flag_is_refused_before_tensorflow_loads(recipe):
    result, _ = run_probe(recipe, "--epochs", "zero")
    assert result.stdout.rstrip().endswith("exit 2 False")
    assert result.stderr.strip() == (
        f"python -m recipes.{recipe}: error: argument --epochs: 'zero' is not a whole number (see --help)"
    )


def test_each_default_is_shown_once():
    budget = TrainingBudget(steps=500, min_epochs=2, max_epochs=30)
    parser = recipe_parser(
        "demo", "A demo.", budget=budget, batch_size=64, learning_rate=0.01, data_dir_help="a folder"
    )
    parser.add_argument("--units", type=int, nargs="+", default=[256, 128], help="widths")
    parser.add_argument("--rate", type=float, default=0.0, help="a rate")
    text = " ".join(parser.format_help().split())
    assert "(default: 64)" in text and "(default: 256 128)" in text
    # --epochs has no fixed default: its help states the budget rule, once.
    assert text.count("(default: enough epochs for about 500 optimizer steps, at least 2 and at most 30;") == 1
    assert "(default: 0.0)" in text  # a zero default is still a default
    assert text.count("(default: 300)") == 1 and "(default 300)" not in text  # --worker-timeout
    assert "(default: False)" not in text and "(default: None)" not in text  # switches, unset flags


def test_library_errors_are_worded_as_flags():
    error = ArgumentValueError("hidden_units", [0, 64], "every layer width must be positive")
    assert str(error) == (
        "Invalid value for argument `hidden_units`: every layer width must be positive. Received: hidden_units=[0, 64]"
    )
    assert (
        error_line(error, {"hidden_units": "--hidden-units"})
        == "--hidden-units 0 64: every layer width must be positive"
    )
    assert error_line(error, {}) == str(error)  # not a flag of this program: the Python wording stays
    assert error_line(DataError("x.csv line 3: 'abc' is not a number"), {}) == "x.csv line 3: 'abc' is not a number"
