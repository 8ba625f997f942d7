"""The library speaks Python: its exceptions name arguments and values, never command-line flags."""

import ast
import gzip
from pathlib import Path

import pytest

from mlrecipes.cli import error_line
from mlrecipes.data.idx import read_idx
from mlrecipes.errors import ArgumentValueError, DataError, InputError, UsageError
from mlrecipes.models import build_mlp
from mlrecipes.regression.tables import load_regression_data

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


def test_arguments_in_backticks_become_flags_on_the_command_line(tmp_path):
    with pytest.raises(ArgumentValueError) as raised:
        load_regression_data("price", ["lotsize"], csv_path=tmp_path / "x.csv", data_dir=tmp_path)
    assert "`csv_path` and `data_dir` both name the data" in str(raised.value)
    flags = {"csv_path": "--csv", "data_dir": "--data-dir"}
    assert error_line(raised.value, flags).endswith("--csv and --data-dir both name the data; give one of them")


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
