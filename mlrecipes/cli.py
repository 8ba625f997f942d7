"""The command line shared by every recipe.

Every recipe builds its parser with [`recipe_parser`][mlrecipes.cli.recipe_parser], so all recipes take
the same flags (`--epochs`, `--batch-size`, `--strategy`, ...) and adds its
own on top. [`run_recipe`][mlrecipes.cli.run_recipe] wraps a recipe's `main` so that bad input
ends with a one-line message and exit status 2 instead of a traceback.

This module, and everything it imports, loads without TensorFlow: a recipe
parses its command line before importing TensorFlow, so `--help` and bad
flags are answered at once.
"""

from __future__ import annotations

import argparse
import atexit
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from mlrecipes.budget import TrainingBudget
from mlrecipes.distribute import STRATEGY_NAMES, WORKER_TIMEOUT
from mlrecipes.errors import ArgumentValueError, InputError, UsageError
from mlrecipes.precision import MODES as PRECISION_MODES
from mlrecipes.tf_logs import hide_tensorflow_logs

XLA_MODES = ("auto", "on", "off")

QUICK_HELP = (
    "smoke test: train on a tiny slice of the data for one short epoch "
    "(seconds, not minutes); the figures it prints mean nothing"
)


class DefaultsOnceFormatter(argparse.HelpFormatter):
    """Help that states each flag's default once: appended unless the help already gives it.

    Switches (`store_true`) and flags without a default show none.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "default" in text
            or action.default is None
            or action.default is False
            or action.default == argparse.SUPPRESS
            or isinstance(action, argparse._StoreTrueAction)
            or not action.option_strings
        ):
            return text
        shown = _format_value(action.default).replace("%", "%%")  # argparse %-formats help strings
        return f"{text} (default: {shown})"


class OneLineErrorParser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are one line and exit with status 2."""

    def error(self, message: str) -> NoReturn:  # noqa: D102 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _number(text: str, convert: Callable[[str], float], noun: str) -> float:
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None


def positive_int(text: str) -> int:
    """Parse a strictly positive integer (argparse `type`)."""
    value = int(_number(text, int, "whole number"))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive whole number (1, 2, ...)")
    return value


def non_negative_int(text: str) -> int:
    """Parse an integer that is zero or more (argparse `type`)."""
    value = int(_number(text, int, "whole number"))
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


MAX_SEED = 2**32 - 1  # NumPy's and TensorFlow's seeds are 32-bit


def seed(text: str) -> int:
    """Parse a random seed: a whole number from 0 to 2**32 - 1 (argparse `type`)."""
    value = non_negative_int(text)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"{text!r} must be at most {MAX_SEED} (2**32 - 1)")
    return value


def positive_float(text: str) -> float:
    """Parse a strictly positive, finite number (argparse `type`)."""
    value = _number(text, float, "number")
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def fraction(text: str) -> float:
    """Parse a number in [0, 1), such as a dropout rate (argparse `type`)."""
    value = _number(text, float, "number")
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 0 and below 1")
    return value


def count_or_share(text: str) -> int | float:
    """Parse a whole number of 1 or more, or a share between 0 and 1, such as `10` or `0.25` (argparse `type`)."""
    value = _number(text, float, "number")
    if value >= 1 and value.is_integer():
        return int(value)
    if 0 < value < 1:
        return value
    raise argparse.ArgumentTypeError(f"{text!r} must be a whole number (1, 2, ...) or a share between 0 and 1")


def recipe_parser(
    name: str,
    description: str,
    *,
    budget: TrainingBudget,
    batch_size: int,
    learning_rate: float | None,
    data_dir_help: str,
    learning_rate_help: str = "(peak) learning rate",
) -> argparse.ArgumentParser:
    """Build the parser that every recipe starts from.

    Args:
        name: The recipe's module name, such as `"mnist_mlp"`; it names the
            program in messages and the default output folder `runs/NAME`.
        description: One paragraph for `--help`.
        budget: How long to train when `--epochs` is not given (shown in `--help`).
        batch_size: Default global batch size.
        learning_rate: Default (peak) learning rate; None when the recipe
            chooses it later (say by model), which `learning_rate_help` then explains.
        data_dir_help: What `--data-dir` must hold for this recipe.
        learning_rate_help: The help of `--learning-rate`.

    Returns:
        A parser with the shared flags; the recipe adds its own flags to it.
    """
    parser = OneLineErrorParser(
        prog=f"python -m recipes.{name}",
        description=description,
        formatter_class=DefaultsOnceFormatter,
    )
    group = parser.add_argument_group("training (shared by every recipe)")
    group.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help=f"passes over the training data (default: {budget.describe()}; see the recipe's 'Training length')",
    )
    group.add_argument(
        "--batch-size",
        type=positive_int,
        default=batch_size,
        help="global batch size: the sum over all replicas (each replica gets batch-size / replicas)",
    )
    group.add_argument("--learning-rate", type=positive_float, default=learning_rate, help=learning_rate_help)
    group.add_argument("--seed", type=seed, default=42, help="seed for weights, shuffling and splits")
    group.add_argument(
        "--strategy",
        choices=STRATEGY_NAMES,
        default="auto",
        help="tf.distribute strategy: auto picks a TPU if one is configured, all GPUs "
        "(MirroredStrategy) if there are several, else the single device; cpu and gpu pin "
        "one device; multiworker reads TF_CONFIG; tpu uses --tpu",
    )
    group.add_argument(
        "--devices",
        default=None,
        metavar="SPEC",
        help="devices for --strategy mirrored: a comma-separated list such as /gpu:0,/gpu:2, "
        "or cpu:N to split the CPU into N logical devices (to try data parallelism without GPUs); "
        "default: all GPUs",
    )
    group.add_argument(
        "--worker-timeout",
        type=positive_int,
        default=WORKER_TIMEOUT,
        metavar="SECONDS",
        help="for --strategy multiworker: how long to wait for every worker in TF_CONFIG to join "
        "before giving up with an error",
    )
    group.add_argument(
        "--tpu",
        default=None,
        metavar="NAME",
        help="TPU name or grpc:// address for --strategy tpu (default: the TPU_NAME "
        "environment variable, or the local TPU VM)",
    )
    group.add_argument(
        "--mixed-precision",
        nargs="?",
        const="auto",
        default="off",
        choices=PRECISION_MODES,
        metavar="MODE",
        help="compute in 16-bit floats, keep weights in float32: 'auto' (the flag alone) "
        "picks float16 on GPUs and bfloat16 on CPUs and TPUs; or name 'bfloat16' or "
        "'float16'; 'off' computes in float32",
    )
    group.add_argument(
        "--xla",
        choices=XLA_MODES,
        default="auto",
        help="XLA compilation of the training step: auto lets Keras decide (on for GPUs "
        "and TPUs), on forces it, off disables it",
    )
    group.add_argument(
        "--output-dir",
        type=Path,
        default=Path("runs") / name,
        help="where the model, metrics.json, history and figures go",
    )
    group.add_argument("--data-dir", type=Path, default=None, help=data_dir_help)
    group.add_argument(
        "--early-stopping",
        type=non_negative_int,
        default=0,
        metavar="PATIENCE",
        help="stop after PATIENCE epochs without a lower validation loss and keep the best "
        "weights; 0 trains for all --epochs",
    )
    group.add_argument(
        "--restart",
        action="store_true",
        help="start training from scratch even if an interrupted run left a backup in --output-dir "
        "(by default the run resumes from its last finished epoch)",
    )
    group.add_argument(
        "--deterministic",
        action="store_true",
        help="turn on TensorFlow's op determinism, so that runs with the same --seed give the same "
        "weights (slower on GPUs)",
    )
    group.add_argument("--quick", action="store_true", help=QUICK_HELP)
    group.add_argument(
        "--tf-logs",
        action="store_true",
        help="show TensorFlow's own C++ log lines (oneDNN, CUDA probing, CPU instructions) on standard error; "
        "by default a run shows only its own lines",
    )
    return parser


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel running a notebook.

    A kernel's `sys.argv` holds the kernel's own arguments (`-f kernel.json`),
    not a recipe's flags.
    """
    if "ipykernel" not in sys.modules:
        return False
    from IPython import get_ipython

    return hasattr(get_ipython(), "kernel")


def recipe_argv(argv: Sequence[str] | None = None) -> list[str]:
    """The flags a recipe runs with.

    A recipe file starts with a parameters cell, `ARGS = None`, and hands
    `ARGS` to [`check_command_line`][mlrecipes.cli.check_command_line] and
    [`run_recipe`][mlrecipes.cli.run_recipe]. As a program, None means the
    command line's flags; in a notebook it means none (every default), and a
    reader sets the flags by editing that cell, for example
    `ARGS = ["--quick", "--data-dir", "/usr/share/datasets/fashion-mnist"]`.
    Papermill users can pass `-p ARGS` the same way: the cell is tagged
    `parameters`.

    Args:
        argv: The flags as they would be typed, or None.

    Returns:
        `argv`; for None, `sys.argv[1:]`, or `[]` in a notebook (see
        [`in_notebook`][mlrecipes.cli.in_notebook]).
    """
    if argv is not None:
        return list(argv)
    return [] if in_notebook() else sys.argv[1:]


def parse_recipe_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse a recipe's command line and check what can be checked before any work.

    `--quick` sets the epochs to 1. `--data-dir` must be an existing folder.

    Args:
        parser: The recipe's parser (from [`recipe_parser`][mlrecipes.cli.recipe_parser]).
        argv: Arguments; None for the program's own (see [`recipe_argv`][mlrecipes.cli.recipe_argv]).

    Returns:
        The parsed arguments.

    Raises:
        UsageError: On a `--data-dir` that is not a readable folder.
    """
    args = parser.parse_args(recipe_argv(argv))
    _FLAGS.clear()
    _FLAGS.update(flag_names(parser))
    if args.quick:
        args.epochs = 1
    check_data_dir(args.data_dir)
    return args


def check_data_dir(path: Path | None) -> None:
    """Reject a `--data-dir` that does not exist or is not a folder.

    Raises:
        UsageError: If `path` is given and is not an existing folder.
    """
    if path is None:
        return
    if not path.exists():
        raise UsageError(f"--data-dir {path}: no such folder")
    if not path.is_dir():
        raise UsageError(f"--data-dir {path}: not a folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise UsageError(f"--data-dir {path}: folder is not readable")


# The flags of the last parsed recipe command line, by argument name
# (``hidden_units`` -> ``--hidden-units``), to word library errors as flags.
_FLAGS: dict[str, str] = {}


def flag_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Map each argument name of `parser` to its long flag (`hidden_units` -> `--hidden-units`)."""
    return {action.dest: max(action.option_strings, key=len) for action in parser._actions if action.option_strings}


def _format_value(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(str(item) for item in value)
    return str(value)


def error_line(error: InputError, flags: dict[str, str] | None = None) -> str:
    """Word a library error for the command line: name the flag, not the Python argument.

    Args:
        error: The exception raised by the library.
        flags: Argument names to flags; default: those of the last recipe command
            line parsed by [`parse_recipe_args`][mlrecipes.cli.parse_recipe_args].

    Returns:
        One line, such as `--hidden-units 0: every layer width must be positive`;
        an error that names no argument (or an argument that is not a flag) keeps
        its own message, with the arguments it names in backticks (`data_dir`)
        replaced by their flags (`--data-dir`).
    """
    flags = _FLAGS if flags is None else flags
    if isinstance(error, ArgumentValueError) and error.argument in flags:
        line = f"{flags[error.argument]} {_format_value(error.value)}: {error.reason}"
    else:
        line = str(error)
    # Library messages name other arguments in backticks, as Keras does (`data_dir`): name their flags.
    return re.sub(r"`(\w+)`", lambda match: flags.get(match.group(1), match.group(0)), line)


def _program_name() -> str:
    return Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else "recipe"


def check_command_line(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> None:
    """Answer `--help` and refuse bad flags before the recipe imports TensorFlow.

    A recipe calls this first when run as a program: `--help` prints and
    exits, and a bad flag (or `--data-dir` that is not a folder) ends with
    one line and exit status 2, all within a fraction of a second. Otherwise
    it hides TensorFlow's C++ log lines (unless `--tf-logs`; see
    `mlrecipes.tf_logs`) and returns, and the recipe goes on to import
    TensorFlow and run `main`.

    In a notebook, bad input raises its exception instead (the notebook shows
    it and stops), since exiting would stop the kernel.

    Args:
        parser: The recipe's parser (from `recipe_parser`).
        argv: Arguments; None for the program's own (see [`recipe_argv`][mlrecipes.cli.recipe_argv]).
    """
    try:
        args = parse_recipe_args(parser, argv)
    except InputError as error:
        if in_notebook():
            raise
        sys.stderr.write(f"{_program_name()}: error: {error_line(error)}\n")
        sys.exit(2)
    if not args.tf_logs:
        hide_tensorflow_logs()


def run_recipe(main: Callable[[Sequence[str] | None], object], argv: Sequence[str] | None = None) -> object:
    """Run a recipe's `main` as a program and exit.

    Bad input (any [`InputError`][mlrecipes.errors.InputError]) becomes one line on
    standard error that names the flag, and exit status 2; Ctrl-C becomes exit
    status 130. Anything else is a bug and raises with its traceback.

    In a notebook (see [`in_notebook`][mlrecipes.cli.in_notebook]) it does not
    exit, which would stop the kernel: it returns what `main` returns, and
    errors raise as in any cell.

    When `main` is the program itself (`python -m recipes.NAME`, so `main` is defined in `__main__`), a
    finished run ends its process at once, without Python's teardown of TensorFlow's objects and
    threads: every output is written and closed by then, and that teardown took 1.4 s here, as long
    as a small recipe trains. Called from other code (a test, a script that imports the recipe), it
    raises `SystemExit` like `sys.exit`.

    Args:
        main: The recipe's entry point; it takes the argument list.
        argv: Arguments; None for the program's own (see [`recipe_argv`][mlrecipes.cli.recipe_argv]).

    Returns:
        In a notebook, the result of `main`; as a program it never returns.
    """
    if in_notebook():
        return main(argv)
    try:
        main(argv)
    except InputError as error:
        sys.stderr.write(f"{_program_name()}: error: {error_line(error)}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write(f"{_program_name()}: interrupted\n")
        sys.exit(130)
    if getattr(main, "__module__", None) == "__main__":
        end_process(0)
    sys.exit(0)


def end_process(status: int) -> NoReturn:
    """End the process with `status` at once, after its `atexit` handlers and with its output flushed.

    Skips the rest of the interpreter's teardown (garbage collection of every object, joining
    TensorFlow's threads), so only for a program whose outputs are all written and closed. Under a
    profiler or a tracer (`python -m cProfile`, `coverage run`), which write their results after the
    program, it exits as usual.

    Args:
        status: The exit status.
    """
    if sys.gettrace() is not None or sys.getprofile() is not None:
        sys.exit(status)
    atexit._run_exitfuncs()  # what `atexit` promises (coverage data, logging's flush) still happens
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
