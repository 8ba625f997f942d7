"""recipes.linear_regression end to end: the comparison, the outputs, --predict, bad input."""

import contextlib
import io
import json
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

from mlrecipes.cli import run_recipe
from mlrecipes.regression.least_squares import fit_least_squares, regression_metrics
from mlrecipes.regression.tables import embedded_table, regression_data
from recipes import linear_regression

OUTPUTS = [
    "model.keras",
    "metrics.json",
    "history.csv",
    "fitted_line.png",
    "learning_curves.png",
    "residuals.png",
]

HOUSES = "area,rooms,pool,price\n" + "".join(
    f"{area},{rooms},{pool},{price}\n"
    for area, rooms, pool, price in [
        (50, 3, "no", 122000),
        (80, 2, "yes", 174000),
        (60, 4, "yes", 163500),
        (45, 2, "no", 99500),
        (120, 3, "yes", 246500),
        (70, 1, "no", 134000),
        (95, 4, "yes", 213000),
        (55, 1, "no", 107500),
        (100, 2, "no", 190000),
        (65, 3, "yes", 161000),
        (85, 4, "no", 181500),
        (75, 2, "yes", 166000),
    ]
)


def run(argv):
    """Run the recipe as its command line does; return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exited:
        run_recipe(linear_regression.main, argv)
    return exited.value.code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """One run with the default settings (the embedded data, every row)."""
    output = tmp_path_factory.mktemp("linear") / "run"
    status, out, err = run(["--output-dir", str(output)])
    assert status == 0, err
    return output, out


@pytest.fixture(scope="module")
def split_run(tmp_path_factory):
    """One run holding out a seeded 20% of the rows."""
    output = tmp_path_factory.mktemp("linear_split") / "run"
    status, out, err = run(["--test-fraction", "0.2", "--output-dir", str(output)])
    assert status == 0, err
    return output, out


def test_default_run_writes_every_output(default_run):
    output, out = default_run
    for name in OUTPUTS:
        assert (output / name).is_file(), name
    # One figure of the loss per epoch (the regression's own, against the exact minimum), not two.
    assert {path.name for path in output.glob("*.png")} == {"fitted_line.png", "learning_curves.png", "residuals.png"}
    assert not (output / "backup").exists()
    assert not [path for path in output.iterdir() if path.name.startswith(".")]  # no temporaries
    metrics = json.loads((output / "metrics.json").read_text())
    assert metrics["dataset"] == "windsor-housing" and metrics["target"] == "price"
    assert metrics["features"] == ["lotsize"] and metrics["optimizer"] == "sgd"
    assert metrics["rows"] == {"read": 546, "dropped_missing": 0, "train": 546, "test": 0}
    assert metrics["epochs"] == 40 and metrics["config"]["learning_rate"] == 0.2
    assert str(output) in out


def test_test_fraction_compares_both_fits_on_a_seeded_split(split_run):
    output, out = split_run
    metrics = json.loads((output / "metrics.json").read_text())
    descent, exact = metrics["gradient_descent"], metrics["least_squares"]
    # The recipe's least squares is the exact fit of its own training rows ...
    data = regression_data(embedded_table(), "price", ["lotsize"])
    x = data.columns["lotsize"][:, None]
    order = np.random.default_rng(42).permutation(546)
    train, test = np.sort(order[109:]), np.sort(order[:109])
    reference = fit_least_squares(x[train], data.target[train])
    assert exact["weights"]["lotsize"] == pytest.approx(reference.weights[0], rel=1e-12)
    assert exact["test"]["mse"] == pytest.approx(
        regression_metrics(data.target[test], reference.predict(x[test])).mse, rel=1e-12
    )
    # ... and gradient descent lands on it: within 0.1% on the training MSE, same line to 3 figures.
    assert -1e-6 <= metrics["train_mse_gap"] <= 1e-3  # float32 rounding can put it a hair below
    assert descent["train"]["mse"] <= exact["train"]["mse"] * 1.001
    assert f"{descent['weights']['lotsize']:.3g}" == f"{exact['weights']['lotsize']:.3g}"
    assert f"{descent['intercept']:.3g}" == f"{exact['intercept']:.3g}"
    for split, rows in (("train", 437), ("test", 109)):
        assert descent[split]["rows"] == rows
        assert descent[split]["r2"] == pytest.approx(exact[split]["r2"], abs=1e-3)
    assert metrics["test_loss"] == pytest.approx(descent["test"]["mse"], rel=1e-4)  # Keras agrees
    # The embedded prices are Canadian dollars.
    assert "lotsize (CAD per sq ft)" in out and "test MSE (CAD²)" in out and "within the 0.1% bar" in out


def test_saved_model_takes_raw_lot_sizes_and_predict_reads_the_run(default_run, capsys):
    output, _ = default_run
    metrics = json.loads((output / "metrics.json").read_text())
    line = metrics["gradient_descent"]
    expected = line["weights"]["lotsize"] * 5000 + line["intercept"]
    model = keras.saving.load_model(output / "model.keras")  # takes the raw column, by name
    raw = {"lotsize": np.array([[5000.0]], "float32")}
    assert float(model.predict(raw, verbose=0)[0, 0]) == pytest.approx(expected, rel=1e-5)
    before = sorted(path.name for path in output.iterdir())
    status, out, err = run(["--predict", "5000", "--model-dir", str(output)])
    assert status == 0, err
    assert out.startswith("price predicted for lotsize=5000: ")
    assert float(out.split(": ")[1]) == pytest.approx(expected, rel=1e-5)
    assert sorted(path.name for path in output.iterdir()) == before  # --predict writes nothing


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["big"], r"--predict lotsize=big: not a number$"),
        (["5000", "6000"], r"--predict 5000 6000: give one value per feature column, in order \(lotsize\), or"),
        (["lotsize=1", "lotsize=2"], r"--predict lotsize=1 lotsize=2: a column is named more than once$"),
    ],
)
def test_bad_predict_values_are_one_line_exit_2(default_run, values, message):
    output, _ = default_run
    before = sorted(path.name for path in output.iterdir())
    status, out, err = run(["--predict", *values, "--model-dir", str(output)])
    assert status == 2 and not out
    assert len(err.strip().splitlines()) == 1 and re.search(message, err.strip()), err
    assert sorted(path.name for path in output.iterdir()) == before


def test_default_run_reproduces_the_reference_line(default_run):
    output, out = default_run
    metrics = json.loads((output / "metrics.json").read_text())
    descent, exact = metrics["gradient_descent"], metrics["least_squares"]
    # The published line for this data, to 3 significant figures ...
    assert f"{descent['weights']['lotsize']:.3g}" == "6.6" and f"{descent['intercept']:.3g}" == "3.41e+04"
    assert exact["weights"]["lotsize"] == pytest.approx(6.5988, abs=5e-5)
    assert exact["intercept"] == pytest.approx(34136.19, abs=5e-3)
    # ... and the MSE of gradient descent's model on the full data within 0.1% of the exact minimum.
    assert descent["train"]["rows"] == 546 and "test" not in descent
    assert exact["train"]["mse"] == pytest.approx(5.0741e8, rel=1e-4)
    assert exact["train"]["mse"] * (1 - 1e-6) <= descent["train"]["mse"] <= exact["train"]["mse"] * 1.001
    assert "no test rows" in out


def test_csv_with_several_features_and_a_yes_no_column(tmp_path):
    csv = tmp_path / "houses.csv"
    csv.write_text(HOUSES)
    output = tmp_path / "run"
    argv = [
        "--csv",
        str(csv),
        "--target",
        "price",
        "--features",
        "area",
        "rooms",
        "pool",
        "--test-fraction",
        "0.25",
        "--output-dir",
        str(output),
    ]
    status, out, err = run(argv)
    assert status == 0, err
    assert (output / "predicted_vs_actual.png").is_file() and not (output / "fitted_line.png").exists()
    metrics = json.loads((output / "metrics.json").read_text())
    assert metrics["dataset"] == "houses" and metrics["rows"]["train"] == 9 and metrics["rows"]["test"] == 3
    assert list(metrics["gradient_descent"]["weights"]) == ["area", "rooms", "pool=yes"]
    assert metrics["train_mse_gap"] <= 1e-3
    assert "pool=yes (price, against no)" in out
    line = metrics["gradient_descent"]
    weights = line["weights"]
    expected = 90 * weights["area"] + 3 * weights["rooms"] + weights["pool=yes"] + line["intercept"]
    # --predict takes the values in order or by name ...
    for values in (["90", "3", "yes"], ["pool=yes", "area=90", "rooms=3"]):
        status, out, err = run(["--predict", *values, "--model-dir", str(output)])
        assert status == 0, err
        assert out.startswith("price predicted for area=90, rooms=3, pool=yes: ")
        assert float(out.split(": ")[1]) == pytest.approx(expected, rel=1e-5)
    # ... and model.keras alone (no metrics.json beside it) takes the raw columns, text for pool.
    alone = tmp_path / "alone"
    alone.mkdir()
    (output / "model.keras").rename(alone / "model.keras")
    model = keras.saving.load_model(alone / "model.keras", safe_mode=True)
    raw = {"area": np.array([90.0, 50.0]), "rooms": np.array([3.0, 1.0]), "pool": np.array(["yes", "no"], dtype=object)}
    second = 50 * weights["area"] + weights["rooms"] + line["intercept"]
    np.testing.assert_allclose(model.predict(raw, verbose=0)[:, 0], [expected, second], rtol=1e-5)


def test_missing_values_are_dropped_with_a_counted_warning(tmp_path):
    csv = tmp_path / "gaps.csv"
    csv.write_text(HOUSES + "NA,2,no,99000\n77,,yes,150000\n")
    output = tmp_path / "run"
    argv = [
        "--csv",
        str(csv),
        "--target",
        "price",
        "--features",
        "area",
        "rooms",
        "--drop-missing",
        "--epochs",
        "2",
        "--output-dir",
        str(output),
    ]
    status, _, err = run(argv)
    assert status == 0, err
    assert "warning: dropped 2 of 14 rows with missing values (area: 1, rooms: 1)" in err
    assert json.loads((output / "metrics.json").read_text())["rows"]["dropped_missing"] == 2


BAD_INPUT = [
    (["--csv", "{tmp}/nope.csv", "--target", "price", "--features", "area"], r"nope\.csv: no such file"),
    (["--csv", "{houses}", "--target", "cost", "--features", "area"], r"--target cost: no such column in"),
    (["--csv", "{houses}", "--target", "price", "--features", "area", "size"], r"--features size: no such column in"),
    (["--features", "lotsize", "bedroom"], r"--features bedroom: no such column in the embedded windsor-housing\.csv"),
    (["--csv", "{names}", "--target", "price", "--features", "owner"], r"'owner' cannot be encoded: 40 different"),
    (
        ["--csv", "{gaps}", "--target", "price", "--features", "area"],
        r"1 row\(s\) have missing values \(area: 1; first on line 14\)",
    ),
    (
        ["--csv", "{tiny}", "--target", "price", "--features", "area", "rooms", "--test-fraction", "0"],
        r"2 training rows for 2 feature column\(s\) \(area, rooms\): a linear fit needs at least 3",
    ),
    (["--csv", "{houses}"], r"name the columns to use with --target"),
    (["--learning-rate", "1.5"], r"--learning-rate 1\.5: gradient descent diverges at 1 and above"),
    (["--test-fraction", "0.0005"], r"--test-fraction 0\.0005 of 546 rows holds out no row"),
    (["--model-dir", "{tmp}"], r"--model-dir is only read by --predict"),
    (["--predict", "5000", "--model-dir", "{tmp}/none"], r"--model-dir .*none: holds no saved run \(no such folder\)"),
    (["--predict", "5000", "--model-dir", "{tmp}"], r"holds no saved run \(no model\.keras and metrics\.json\)"),
    (["--predict", "5000", "--features", "lotsize"], r"--predict takes its features from the run"),
    (["--data-dir", "{tmp}"], r"no windsor-housing\.csv in it"),
    (["--csv", "{houses}", "--data-dir", "{tmp}"], r"--csv and --data-dir both name the data; give one of them"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUT)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, argv, message):
    houses, names, gaps, tiny = (tmp_path / name for name in ("houses.csv", "names.csv", "gaps.csv", "tiny.csv"))
    houses.write_text(HOUSES)
    names.write_text("price,owner\n" + "".join(f"{1000 + i},person{i}\n" for i in range(40)))
    gaps.write_text(HOUSES + ",2,no,99000\n")
    tiny.write_text("area,rooms,price\n1,2,3\n4,6,5\n")
    before = sorted(tmp_path.iterdir())
    output = tmp_path / "run"
    argv = [part.format(tmp=tmp_path, houses=houses, names=names, gaps=gaps, tiny=tiny) for part in argv]
    status, _out, err = run([*argv, "--output-dir", str(output)])
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert re.search(message, err), err
    assert not output.exists() and sorted(tmp_path.iterdir()) == before  # nothing written


def test_command_line_error_is_one_line_without_traceback(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "recipes.linear_regression",
            "--csv",
            str(tmp_path / "missing.csv"),
            "--target",
            "y",
            "--features",
            "x",
            "--output-dir",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == f"linear_regression: error: {tmp_path / 'missing.csv'}: no such file"
    assert "Traceback" not in result.stderr and not (tmp_path / "run").exists()


def test_categorical_features_train_on_two_replicas_and_the_model_keeps_raw_inputs(tmp_path):
    # Keras 3.15 cannot fit a model fed strings on several replicas (keras-team/keras#21172). The recipe runs
    # the feature encoder in the input pipeline, so only numbers reach the strategy; the saved model has it in front.
    output = tmp_path / "run"
    command = [sys.executable, "-m", "recipes.linear_regression", "--strategy", "mirrored", "--devices", "cpu:2"]
    command += ["--features", "lotsize", "airco", "--epochs", "3", "--output-dir", str(output)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    metrics = json.loads((output / "metrics.json").read_text())
    assert metrics["replicas"] == 2 and list(metrics["gradient_descent"]["weights"]) == ["lotsize", "airco=yes"]
    line = metrics["gradient_descent"]
    expected = 5000 * line["weights"]["lotsize"] + line["weights"]["airco=yes"] + line["intercept"]
    status, out, err = run(["--predict", "5000", "yes", "--model-dir", str(output)])
    assert status == 0, err
    assert out.startswith("price predicted for lotsize=5000, airco=yes: ")
    assert float(out.split(": ")[1]) == pytest.approx(expected, rel=1e-5)
