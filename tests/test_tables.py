"""mlrecipes.regression.tables: reading CSV files, column types, raw feature columns, missing values."""

from importlib import resources

import numpy as np
import pytest

from mlrecipes.errors import ArgumentValueError, DataError
from mlrecipes.regression.tables import (
    CATEGORICAL,
    EMBEDDED_TABLE,
    MAX_LEVELS,
    NUMERIC,
    TEXT,
    embedded_table,
    load_regression_data,
    read_table,
    regression_data,
)

HOUSES = """\
"id","price","area","pool","zone","owner"
1,100000,50.5,"yes","north","Ann"
2,150000,80,"no","south","Bob"
3,120000,60,"yes","east","Cid"
4,90000,45,"no","north","Dee"
5,200000,120,"yes","south","Eve"
"""


def write(tmp_path, text, name="houses.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_column_kinds(tmp_path):
    table = read_table(write(tmp_path, HOUSES))
    assert table.rows == 5 and list(table.columns) == ["id", "price", "area", "pool", "zone", "owner"]
    kinds = {name: column.kind for name, column in table.columns.items()}
    assert kinds == {
        "id": NUMERIC,
        "price": NUMERIC,
        "area": NUMERIC,
        "pool": CATEGORICAL,
        "zone": CATEGORICAL,
        "owner": CATEGORICAL,
    }
    assert table.columns["pool"].levels == ("no", "yes")


def test_quoted_numbers_and_excel_byte_order_mark_are_read(tmp_path):
    table = read_table(write(tmp_path, '"x","y"\n"1.5","2"\n"3","4e3"\n', encoding="utf-8-sig"))
    assert list(table.columns) == ["x", "y"]  # no "\ufeffx"
    data = regression_data(table, "y", ["x"])
    np.testing.assert_array_equal(data.columns["x"], [1.5, 3.0])
    np.testing.assert_array_equal(data.target, [2.0, 4000.0])
    assert data.columns["x"].dtype == np.float64


def test_too_many_text_values_is_text(tmp_path):
    rows = "".join(f"{i},name{i}\n" for i in range(MAX_LEVELS + 1))
    table = read_table(write(tmp_path, "y,who\n" + rows))
    assert table.columns["who"].kind == TEXT
    with pytest.raises(DataError, match=r"'who' cannot be encoded: 31 different values.*line 2.*'name0'"):
        regression_data(table, "y", ["who"])


def test_numbers_spoiled_by_a_word_are_refused_not_one_hot_encoded(tmp_path):
    table = read_table(write(tmp_path, "y,rooms\n1,3\n2,4\n3,three\n4,5\n"))
    assert table.columns["rooms"].kind == TEXT
    with pytest.raises(DataError, match=r"'rooms' holds numbers, but line 4 of .* has 'three'"):
        regression_data(table, "y", ["rooms"])


def test_columns_stay_raw_with_their_kinds_and_levels(tmp_path):
    data = regression_data(read_table(write(tmp_path, HOUSES)), "price", ["area", "pool", "zone"])
    np.testing.assert_array_equal(data.columns["area"], [50.5, 80, 60, 45, 120])
    np.testing.assert_array_equal(data.columns["pool"], ["yes", "no", "yes", "no", "yes"])
    assert data.columns["pool"].dtype == object  # strings as Keras takes them from NumPy
    assert [(feature.column, feature.kind, feature.levels) for feature in data.features] == [
        ("area", NUMERIC, ()),
        ("pool", CATEGORICAL, ("no", "yes")),
        ("zone", CATEGORICAL, ("east", "north", "south")),
    ]
    # The model's encoded columns: a yes/no column is one indicator, the first level is the reference.
    assert data.feature_names == ("area", "pool=yes", "zone=north", "zone=south")


MISSING = """\
y,x,z,unused
1,10,a,
2,,b,NA
3,30,a,?
NA,40,b,1
5,50,n/a,2
6,60,b,3
7,70,a,4
"""


def test_missing_values_are_refused_by_default_naming_counts_and_first_line(tmp_path):
    table = read_table(write(tmp_path, MISSING))
    message = r"3 row\(s\) have missing values \(y: 1, x: 1, z: 1; first on line 3\); fill them in, or drop those rows with `drop_missing`"
    with pytest.raises(DataError, match=message):
        regression_data(table, "y", ["x", "z"])


def test_dropping_missing_values_counts_them(tmp_path):
    data = regression_data(read_table(write(tmp_path, MISSING)), "y", ["x", "z"], drop_missing=True)
    assert data.rows == 4 and data.rows_read == 7 and data.rows_dropped == 3
    assert data.missing == {"y": 1, "x": 1, "z": 1}
    np.testing.assert_array_equal(data.target, [1, 3, 6, 7])
    assert data.dropped_summary == "dropped 3 of 7 rows with missing values (y: 1, x: 1, z: 1)"


def test_missing_values_in_unused_columns_do_not_matter(tmp_path):
    table = read_table(write(tmp_path, MISSING))
    assert table.columns["unused"].kind == NUMERIC  # "", NA and ? are missing, the rest are numbers
    data = regression_data(table, "x", ["unused"], drop_missing=True)
    assert data.rows == 4 and data.rows_dropped == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"empty file"),
        ("a,b\n", r"a header but no data rows"),
        ("a,a\n1,2\n", r"names 'a' more than once"),
        ("a,\n1,2\n", r"column 2 of the header has no name"),
        ("a,b\n1,2\n3\n", r"line 3 has 1 fields, the header has 2"),
    ],
)
def test_malformed_files_are_refused(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        read_table(write(tmp_path, text))


def test_a_missing_file_and_a_binary_file_are_refused(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: no such file"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"not a file"):
        read_table(tmp_path)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"a,b\n\xff\xfe,1\n")
    with pytest.raises(DataError, match=r"not a UTF-8 text file"):
        read_table(binary)


def test_column_choices_are_checked(tmp_path):
    table = read_table(write(tmp_path, HOUSES))
    with pytest.raises(ArgumentValueError, match=r"no such column in .*houses\.csv \(its columns: id, price") as raised:
        regression_data(table, "cost", ["area"])
    assert raised.value.argument == "target" and raised.value.value == "cost"
    with pytest.raises(ArgumentValueError, match=r"`features`: no such column in") as raised:
        regression_data(table, "price", ["area", "size"])
    assert raised.value.value == "size"
    with pytest.raises(DataError, match=r"line 2: target column 'zone' must hold numbers, found 'north'"):
        regression_data(table, "zone", ["area"])
    with pytest.raises(ArgumentValueError, match=r"'area' is named more than once"):
        regression_data(table, "price", ["area", "area"])
    with pytest.raises(ArgumentValueError, match=r"'price' is the target; it cannot be a feature"):
        regression_data(table, "price", ["price"])
    with pytest.raises(ArgumentValueError, match=r"name at least one feature column"):
        regression_data(table, "price", [])


def test_a_feature_with_one_value_is_refused(tmp_path):
    table = read_table(write(tmp_path, "y,x,c\n1,1,a\n2,1,a\n3,1,a\n"))
    with pytest.raises(DataError, match=r"'x' has the same value \('1'\) in every row"):
        regression_data(table, "y", ["x"])
    with pytest.raises(DataError, match=r"'c' has the same value \('a'\) in every row"):
        regression_data(table, "y", ["c"])


def test_embedded_table_is_package_data_with_its_source_note():
    files = resources.files("mlrecipes.regression") / "files"
    assert (files / EMBEDDED_TABLE).is_file()
    readme = (files / "README.md").read_text(encoding="utf-8")
    assert "Anglin" in readme and "Ecdat" in readme  # where the data comes from
    table = embedded_table()
    assert table.rows == 546 and len(table.columns) == 13
    assert table.columns["price"].kind == NUMERIC and table.columns["lotsize"].kind == NUMERIC
    assert table.columns["airco"].kind == CATEGORICAL and table.columns["airco"].levels == ("no", "yes")


def test_load_regression_data_sources(tmp_path):
    embedded = load_regression_data("price", ["lotsize"])
    assert embedded.rows == 546 and embedded.units["lotsize"] == "sq ft"
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / EMBEDDED_TABLE).write_bytes(
        (resources.files("mlrecipes.regression") / "files" / EMBEDDED_TABLE).read_bytes()
    )
    from_folder = load_regression_data("price", ["lotsize"], data_dir=folder)
    np.testing.assert_array_equal(from_folder.columns["lotsize"], embedded.columns["lotsize"])
    csv = load_regression_data("price", ["area"], csv_path=write(tmp_path, HOUSES))
    assert csv.units == {} and csv.rows == 5
    with pytest.raises(ArgumentValueError, match=r"no windsor-housing\.csv in it"):
        load_regression_data("price", ["lotsize"], data_dir=tmp_path / "elsewhere")
    with pytest.raises(ArgumentValueError, match=r"give `csv_path` or `data_dir`, not both"):
        load_regression_data("price", ["lotsize"], csv_path=tmp_path / "x.csv", data_dir=folder)
