"""The harness the recipe tests share: run a recipe as its command line does and check what it leaves.

- `runner(recipe.main)` gives the test file's ``exit_status(argv)``: the recipe run
  through `mlrecipes.cli.run_recipe`, in this process, as ``python -m recipes.NAME``
  runs it, and the exit status it ends with;
- `read_metrics` and `assert_finished_run` read and check a finished run folder;
- `assert_one_line_error` checks a refusal: one line on stderr naming the problem,
  and nothing written;
- `python_process` and `program_error` run a recipe (or the launcher) as a real
  program; `mnist_mlp_killed_mid_epoch` is one that dies as a crashed machine does.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from mlrecipes.cli import run_recipe

ROOT = Path(__file__).resolve().parents[1]


def exit_status(main: Callable[[Sequence[str] | None], object], argv: Sequence[str]) -> int:
    """Run a recipe's ``main`` as its command line does; the exit status it ends with."""
    with pytest.raises(SystemExit) as exited:
        run_recipe(main, list(argv))
    return exited.value.code


def runner(main: Callable[[Sequence[str] | None], object]) -> Callable[[Sequence[str]], int]:
    """`exit_status` for one recipe: ``exit_status = runner(mnist_mlp.main)``."""
    return functools.partial(exit_status, main)


def read_metrics(run_dir: Path) -> dict[str, Any]:
    """The ``metrics.json`` of a finished run."""
    return json.loads((run_dir / "metrics.json").read_text())


RUN_OUTPUTS = ("model.keras", "metrics.json", "history.csv", "learning_curves.png")
"""What every recipe's training run writes."""


def assert_finished_run(run_dir: Path, *outputs: str) -> dict[str, Any]:
    """`RUN_OUTPUTS` and the named outputs are there, the backup is gone, no temporary (dot) file is left.

    Returns:
        The run's metrics.
    """
    for name in [*RUN_OUTPUTS, *outputs]:
        assert (run_dir / name).is_file(), name
    assert not (run_dir / "backup").exists()  # removed once training finished
    assert not [path.name for path in run_dir.iterdir() if path.name.startswith(".")]  # no temporaries
    return read_metrics(run_dir)


def assert_one_line_error(
    capsys: pytest.CaptureFixture[str], *fragments: str, nothing_at: Path | None = None, quiet: bool = False
) -> str:
    """A refusal: exactly one line on stderr, holding every fragment; nothing written.

    Args:
        capsys: The test's capture; what it holds so far is read (and consumed).
        *fragments: Texts the error line must contain.
        nothing_at: A path the refused run must not have created (its ``--output-dir``).
        quiet: Also require that nothing was printed on stdout.

    Returns:
        The error line, without its newline.
    """
    captured = capsys.readouterr()
    error = captured.err
    assert error.endswith("\n") and error.count("\n") == 1, error
    assert "Traceback" not in error
    for fragment in fragments:
        assert fragment in error, (fragment, error)
    if nothing_at is not None:
        assert not nothing_at.exists()
    if quiet:
        assert captured.out == ""
    return error.rstrip("\n")


def python_process(*args: str | Path, timeout: float = 120, **options: Any) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` (``-m MODULE ...``, ``-c SOURCE ...``) as its own process, its output captured as text."""
    command = [sys.executable, *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, **options)


def program_error(finished: subprocess.CompletedProcess[str]) -> str:
    """A program's refusal: exit status 2, no traceback; its last line on stderr (the error line)."""
    assert finished.returncode == 2, finished.stderr[-3000:]
    assert "Traceback" not in finished.stderr
    return finished.stderr.strip().splitlines()[-1]


# Runs recipes.mnist_mlp with the flags it is given and, where WHEN holds, SIGKILLs itself in the
# middle of its third epoch, after the backup of the second: nothing gets a chance to clean up, as
# when a machine dies. Run it with `python -c`, or write it to a file to launch it as a module.
_KILLED_MID_EPOCH = """
import json, os, signal, sys
import keras
import mlrecipes.run
from mlrecipes.cli import run_recipe
from recipes import mnist_mlp

class KillMidEpoch(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
    def on_train_batch_end(self, batch, logs=None):
        if self.current == 2 and batch == 2:
            os.kill(os.getpid(), signal.SIGKILL)

if WHEN:
    original = mlrecipes.run.standard_callbacks
    mlrecipes.run.standard_callbacks = lambda *a, **k: original(*a, **k) + [KillMidEpoch()]
run_recipe(mnist_mlp.main, sys.argv[1:])
"""


def mnist_mlp_killed_mid_epoch(when: str = "True") -> str:
    """A program that runs mnist_mlp and kills itself mid-run where the Python expression ``when`` holds."""
    return _KILLED_MID_EPOCH.replace("WHEN", when)
