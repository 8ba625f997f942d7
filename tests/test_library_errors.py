"""The library speaks Python: its exceptions name arguments and values, never command-line flags."""

import ast
import gzip
from pathlib import Path

import pytest

from mlrecipes.cli import error_line
from mlrecipes.data.idx import read_idx
from mlrecipes.data.mnist import read_idx_folder
from mlrecipes.data.text_corpus import next_token_windows
from mlrecipes.errors import ArgumentValueError, DataError, InputError, UsageError
from mlrecipes.models import build_mlp

LIBRARY = Path(__file__).parents[1] / "mlrecipes"
COMMAND_LINE_MODULES = {"cli.py", "run.py"}  # they take the argparse namespace and speak flags


def test_a_builder_raises_a_keras_style_value_error():
    with pytest.raises(ValueError) as raised:  # what a Python user catches
        build_mlp((28, 28, 1), hidden_units=[0, 64], num_classes=10)
    error = raised.value
    assert isinstance(error, ArgumentValueError) and isinstance(error, InputError)
    assert error.argument == "hidden_units" and error.value == [0, 64]
    assert str(error) == (
        "Invalid value for argument `hidden_units`: every layer width must be positive. Received: hidden_units=[0, 64]"
    )
    # The command line words the same error as the flag that set the argument.
    assert (
        error_line(error, {"hidden_units": "--hidden-units"})
        == "--hidden-units 0 64: every layer width must be positive"
    )


def test_a_damaged_file_is_a_data_error_naming_the_file(tmp_path):
    damaged = tmp_path / "train-images-idx3-ubyte.gz"
    damaged.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + b"\x00\x00\x00\x02" * 3)[:-6])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: damaged or truncated gzip file"):
        read_idx(damaged)


def test_a_folder_without_the_files_names_the_argument_and_the_command_line_names_the_flag(tmp_path):
    with pytest.raises(ArgumentValueError) as raised:
        read_idx_folder(tmp_path)
    assert raised.value.argument == "data_dir" and raised.value.value == tmp_path
    assert str(raised.value).startswith("Invalid value for argument `data_dir`: missing train-images-idx3-ubyte[.gz]")
    line = error_line(raised.value, {"data_dir": "--data-dir"})
    assert line.startswith(f"--data-dir {tmp_path}: missing train-images-idx3-ubyte[.gz]")
    # Called from Python, where no flag stands for the argument, the message stays in Python terms.
    assert error_line(raised.value, {}) == str(raised.value)


def test_arguments_in_backticks_become_flags_on_the_command_line():
    with pytest.raises(DataError) as raised:
        next_token_windows("0123456789", 32, "validation")
    assert "one sequence of `sequence_length` 32 needs" in str(raised.value)
    line = error_line(raised.value, {"sequence_length": "--sequence-length"})
    assert "one sequence of --sequence-length 32 needs" in line and line.endswith("a smaller --sequence-length")


def library_raises():
    """Every raise statement of the library, with the text of its message strings."""
    for path in sorted(LIBRARY.rglob("*.py")):
        if path.name in COMMAND_LINE_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                strings = [
                    n.value for n in ast.walk(node.exc) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                ]
                yield f"{path.relative_to(LIBRARY)}:{node.lineno}", node.exc, " ".join(strings)


def test_no_library_message_names_a_command_line_flag():
    offenders = [where for where, _, text in library_raises() if " --" in f" {text}" or text.startswith("--")]
    assert not offenders, f"library messages that name --flags: {offenders}"


def test_only_the_command_line_raises_usage_error():
    offenders = [
        where
        for where, exc, _ in library_raises()
        if isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name) and exc.func.id == UsageError.__name__
    ]
    assert not offenders, f"UsageError raised outside the command line: {offenders}"
