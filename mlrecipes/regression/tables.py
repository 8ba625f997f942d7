r"""CSV tables for regression: reading them, each column's kind, missing values.

[`read_table`][mlrecipes.regression.tables.read_table] reads a CSV file with a header line into a
[`Table`][mlrecipes.regression.tables.Table] and decides each column's type from its values:

- **numeric** when every value that is not missing is a finite number;
- **categorical** when it holds text with at most [`MAX_LEVELS`][mlrecipes.regression.tables.MAX_LEVELS] different
  values, such as `yes`/`no` or a neighbourhood's name;
- **text** otherwise: names, dates, too many different values, or numbers
  spoiled by a stray word (a column where most values are numbers but some are
  not, such as `3` beside `three`, is taken for a numeric column with bad
  values, not silently one-hot encoded). Such a column cannot be encoded and is
  refused as a feature, naming the first offending line.

[`regression_data`][mlrecipes.regression.tables.regression_data] chooses the target column and the feature columns of a
regression and keeps them raw: numbers, or text for a categorical column, with its levels. Turning them into numbers is
the model's job
([`mlrecipes.regression.model.build_feature_encoder`][mlrecipes.regression.model.build_feature_encoder]), so that a
saved model takes raw values: a categorical column with levels $\ell_0 < \ell_1 < \dots < \ell_k$ (in sorted order)
becomes $k$ indicator columns `name=level` that are 1 in the rows with that level and 0 elsewhere: one-hot encoding with
the first level left out as the reference. A `yes`/`no` column thus becomes one column `name=yes`. Leaving one level out
keeps the columns and the intercept linearly independent (all $k+1$ indicators would add up to the intercept's column of
ones), so the least-squares solution is unique and each indicator's weight reads as "the difference from the reference
level".

**Missing values** are the empty string and `NA`, `N/A`, `NaN`,
`null` and `?` (any case). Rows with a missing value in a column the
regression uses are refused by default ([`mlrecipes.errors.DataError`][mlrecipes.errors.DataError]
naming the columns, the count and the first line); with `drop_missing=True`
they are left out and counted in [`RegressionData.missing`][mlrecipes.regression.tables.RegressionData]. Missing values
in columns the regression does not use do not matter.

The embedded table ([`embedded_table`][mlrecipes.regression.tables.embedded_table]) holds the sale prices of 546
houses in Windsor, Canada, in 1987, from Anglin, P. and Gençay, R. (1996),
"Semiparametric estimation of a hedonic price function", *Journal of Applied
Econometrics* 11, 633–648 (distributed as `Housing` in the R package Ecdat):
`price` (Canadian dollars), `lotsize` (square feet), `bedrooms`,
`bathrms`, `stories`, `garagepl` (garage places) and the yes/no columns
`driveway`, `recroom`, `fullbase`, `gashw` (gas hot-water heating),
`airco` and `prefarea` (preferred neighbourhood).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from mlrecipes.errors import ArgumentValueError, DataError

MISSING_VALUES = frozenset({"", "na", "n/a", "nan", "null", "?"})
"""Cell values (compared in lower case, without surrounding spaces) that mean "missing"."""

MAX_LEVELS = 30
"""The most different values a text column may hold and still be encoded as categorical."""

EMBEDDED_TABLE = "windsor-housing.csv"
"""The file name of the embedded table inside the package (`mlrecipes/regression/files/`)."""

EMBEDDED_UNITS = {
    "price": "CAD",
    "lotsize": "sq ft",
    "bedrooms": "bedroom",
    "bathrms": "bathroom",
    "stories": "storey",
    "garagepl": "garage place",
}
"""The units of the embedded table's numeric columns (prices are Canadian dollars)."""

NUMERIC = "numeric"
CATEGORICAL = "categorical"
TEXT = "text"


def is_missing(value: str) -> bool:
    """Whether a cell's text means "missing" (see [`MISSING_VALUES`][mlrecipes.regression.tables.MISSING_VALUES])."""
    return value.strip().lower() in MISSING_VALUES


def parse_number(value: str) -> float | None:
    """The finite number a table cell holds, or `None` when it holds none (text, `inf`, `nan`)."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a table.

    Attributes:
        name: The header of the column.
        values: Each row's value as text, without surrounding spaces; `None`
            where the value is missing.
        kind: `"numeric"`, `"categorical"` or `"text"` (see the module
            docstring).
    """

    name: str
    values: tuple[str | None, ...]
    kind: str

    @classmethod
    def from_values(cls, name: str, cells: Sequence[str]) -> Column:
        """Build a column from its cells' text, deciding its kind."""
        values = tuple(None if is_missing(cell) else cell.strip() for cell in cells)
        present = [value for value in values if value is not None]
        numbers = sum(parse_number(value) is not None for value in present)
        if numbers == len(present):
            kind = NUMERIC
        elif numbers <= len(present) // 2 and len(set(present)) <= MAX_LEVELS:
            kind = CATEGORICAL
        else:
            kind = TEXT
        return cls(name, values, kind)

    @property
    def levels(self) -> tuple[str, ...]:
        """The different values that are not missing, sorted."""
        return tuple(sorted({value for value in self.values if value is not None}))

    @property
    def mostly_numbers(self) -> bool:
        """Whether more than half of the present values are numbers."""
        present = [value for value in self.values if value is not None]
        return sum(parse_number(value) is not None for value in present) > len(present) // 2

    def first_non_number(self) -> tuple[int, str] | None:
        """The row index and text of the first present value that is not a number."""
        for index, value in enumerate(self.values):
            if value is not None and parse_number(value) is None:
                return index, value
        return None


@dataclasses.dataclass(frozen=True)
class Table:
    """A CSV file's columns, by header.

    Attributes:
        columns: Every column, in file order.
        lines: The file line number of each row (the header is line 1), for
            messages.
        source: Where the table came from (a path, or `"embedded"`).
    """

    columns: dict[str, Column]
    lines: tuple[int, ...]
    source: str

    @property
    def rows(self) -> int:
        """The number of data rows."""
        return len(self.lines)

    def column(self, name: str, role: str) -> Column:
        """The column called `name`.

        Args:
            name: A header of the table.
            role: The argument that named it (`"target"`, `"features"`), for the message.

        Raises:
            ArgumentValueError: When the table has no such column.
        """
        if name not in self.columns:
            names = list(self.columns)
            shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
            raise ArgumentValueError(role, name, f"no such column in {self.source} (its columns: {shown})")
        return self.columns[name]


def read_table(path: str | Path, *, source: str | None = None) -> Table:
    """Read a CSV file with one header line.

    Fields may be quoted; a UTF-8 byte-order mark (as Excel writes) is skipped.
    Every row must have as many fields as the header.

    Args:
        path: The CSV file.
        source: How to name the file in messages; default the path.

    Returns:
        The table, with each column's kind decided.

    Raises:
        DataError: When the file is missing, unreadable, not UTF-8 text, has
            no header or no data rows, repeats a header, or has a row of the
            wrong length.
    """
    path = Path(path)
    source = source or str(path)
    if not path.exists():
        raise DataError(f"{source}: no such file")
    if not path.is_file():
        raise DataError(f"{source}: not a file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            rows, lines = [], []
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue  # blank line
                if header is not None and len(row) != len(header):
                    raise DataError(
                        f"{source}: line {reader.line_num} has {len(row)} fields, the header has {len(header)}"
                    )
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise DataError(f"{source}: not a UTF-8 text file") from None
    except csv.Error as error:
        raise DataError(f"{source}: not a readable CSV file ({error})") from None
    except OSError as error:
        raise DataError(f"{source}: cannot be read ({error.strerror})") from None
    if header is None:
        raise DataError(f"{source}: empty file; a CSV file with a header line is needed")
    names = [name.strip() for name in header]
    if any(not name for name in names):
        raise DataError(f"{source}: column {names.index('') + 1} of the header has no name")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"{source}: the header names {repeated[0]!r} more than once")
    if not rows:
        raise DataError(f"{source}: a header but no data rows")
    columns = {name: Column.from_values(name, [row[index] for row in rows]) for index, name in enumerate(names)}
    return Table(columns, tuple(lines), source)


def embedded_table() -> Table:
    """The Windsor house-price table shipped inside the package (546 rows)."""
    with resources.as_file(resources.files("mlrecipes.regression") / "files" / EMBEDDED_TABLE) as path:
        return read_table(path, source=f"the embedded {EMBEDDED_TABLE}")


@dataclasses.dataclass(frozen=True)
class Feature:
    """A table column used as a feature, and what kind of values it holds.

    Turning it into numbers is the model's business
    ([`mlrecipes.regression.model.build_feature_encoder`][mlrecipes.regression.model.build_feature_encoder]): a numeric
    column is one input column; a categorical column becomes one 0/1 indicator column per level but the first, the
    reference.

    Attributes:
        column: The table column.
        kind: `"numeric"` or `"categorical"`.
        levels: For a categorical column, every level in sorted order; the
            first is the reference and gets no indicator column.
    """

    column: str
    kind: str
    levels: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the model's encoded columns: `lotsize`, or `driveway=yes` per level."""
        if self.kind == NUMERIC:
            return (self.column,)
        return tuple(f"{self.column}={level}" for level in self.levels[1:])


@dataclasses.dataclass(frozen=True)
class RegressionData:
    """The raw columns of a regression, with the rows that can be used.

    Attributes:
        columns: Each feature column's values in the rows used: float64 for a
            numeric column, strings (NumPy `dtype=object`) for a categorical one.
        target: The target, float64 of shape `(rows,)`.
        target_name: The target column's name.
        features: The feature columns, in order, with their kinds and levels.
        source: Where the table came from.
        rows_read: Data rows in the table.
        missing: For each used column, how many rows were left out because of
            a missing value there (empty when none were). A row missing several
            values counts in each of those columns.
        rows_dropped: Rows left out because of missing values.
        units: The unit of each column where it is known (the embedded
            table's, see [`EMBEDDED_UNITS`][mlrecipes.regression.tables.EMBEDDED_UNITS]), for reports.
    """

    columns: dict[str, np.ndarray]
    target: np.ndarray
    target_name: str
    features: tuple[Feature, ...]
    source: str
    rows_read: int
    missing: dict[str, int]
    rows_dropped: int
    units: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The name of each column the model's encoding makes (`lotsize`, `airco=yes` ...)."""
        return tuple(name for feature in self.features for name in feature.names)

    @property
    def rows(self) -> int:
        """Rows used."""
        return len(self.target)

    @property
    def dropped_summary(self) -> str:
        """One line saying how many rows were dropped for missing values, and where ("" if none)."""
        if not self.rows_dropped:
            return ""
        counts = ", ".join(f"{name}: {count}" for name, count in self.missing.items())
        return f"dropped {self.rows_dropped} of {self.rows_read} rows with missing values ({counts})"


def regression_data(
    table: Table, target: str, features: Sequence[str], *, drop_missing: bool = False
) -> RegressionData:
    """Choose a target and features from a table, and the rows that have all their values.

    Args:
        table: The table.
        target: The column to predict; it must be numeric.
        features: The columns to predict it from: numeric or categorical.
        drop_missing: Leave out rows with a missing value in the target or a
            feature, counting them, instead of refusing them.

    Returns:
        The raw feature columns and the target.

    Raises:
        ArgumentValueError: On a column that does not exist or is named twice,
            or a target that is also a feature.
        DataError: On a target that is not numeric, a feature that is neither
            numeric nor categorical, missing values (unless `drop_missing`),
            no rows left, or a feature with one value only.
    """
    if not features:
        raise ArgumentValueError("features", list(features), "name at least one feature column")
    repeated = sorted({name for name in features if list(features).count(name) > 1})
    if repeated:
        raise ArgumentValueError("features", list(features), f"column {repeated[0]!r} is named more than once")
    if target in features:
        raise ArgumentValueError(
            "features", list(features), f"column {target!r} is the target; it cannot be a feature as well"
        )
    target_column = table.column(target, "target")
    feature_columns = [table.column(name, "features") for name in features]
    if target_column.kind != NUMERIC:
        index, value = target_column.first_non_number() or (0, "")
        raise DataError(
            f"{table.source} line {table.lines[index]}: target column {target!r} must hold numbers, found {value!r}"
        )
    for column in feature_columns:
        if column.kind == TEXT:
            index, value = column.first_non_number() or (0, "")
            where = f"line {table.lines[index]} of {table.source} has {value!r}"
            if column.mostly_numbers:
                raise DataError(
                    f"feature column {column.name!r} holds numbers, but {where}; correct that value, or mark it "
                    "missing (empty or NA)"
                )
            raise DataError(
                f"feature column {column.name!r} cannot be encoded: {len(column.levels)} different values, "
                f"not numbers ({where}); a feature must be numeric or a category with at most {MAX_LEVELS} "
                "different values"
            )

    used = [target_column, *feature_columns]
    complete = np.array([all(column.values[row] is not None for column in used) for row in range(table.rows)])
    missing = {column.name: count for column in used if (count := sum(value is None for value in column.values))}
    if missing and not drop_missing:
        first = table.lines[int(np.argmin(complete))]
        counts = ", ".join(f"{name}: {count}" for name, count in missing.items())
        raise DataError(
            f"{table.source}: {int((~complete).sum())} row(s) have missing values ({counts}; first on line "
            f"{first}); fill them in, or drop those rows with `drop_missing`"
        )
    keep = np.flatnonzero(complete)
    if not len(keep):
        raise DataError(f"{table.source}: no row has values in all of the columns {', '.join(c.name for c in used)}")

    largest = float(np.finfo(np.float32).max)  # the model computes in float32
    for column in (target_column, *feature_columns):
        if column.kind != NUMERIC:
            continue
        for row in keep:
            if abs(parse_number(column.values[row])) > largest:
                raise DataError(
                    f"{table.source} line {table.lines[row]}: column {column.name!r} holds {column.values[row]}, "
                    f"beyond the float32 range (±{largest:.3g}) the model computes in; rescale that column"
                )
    chosen, columns = [], {}
    for column in feature_columns:
        values = [column.values[row] for row in keep]
        if len(set(values)) < 2:
            raise DataError(
                f"feature column {column.name!r} has the same value ({values[0]!r}) in every row used; "
                "it cannot be told apart from the intercept"
            )
        if column.kind == NUMERIC:
            chosen.append(Feature(column.name, NUMERIC))
            columns[column.name] = np.array([parse_number(value) for value in values], dtype=np.float64)
        else:
            chosen.append(Feature(column.name, CATEGORICAL, tuple(sorted(set(values)))))
            columns[column.name] = np.array(values, dtype=object)  # as Keras takes strings from NumPy
    return RegressionData(
        columns=columns,
        target=np.array([parse_number(target_column.values[row]) for row in keep], dtype=np.float64),
        target_name=target,
        features=tuple(chosen),
        source=table.source,
        rows_read=table.rows,
        missing=missing,
        rows_dropped=table.rows - len(keep),
    )


def load_regression_data(
    target: str,
    features: Sequence[str],
    *,
    csv_path: str | Path | None = None,
    data_dir: str | Path | None = None,
    drop_missing: bool = False,
) -> RegressionData:
    """Read a table (a CSV file, a folder's copy of the embedded one, or the embedded one) and choose its columns.

    Args:
        target: The column to predict.
        features: The columns to predict it from.
        csv_path: A CSV file to read.
        data_dir: A folder holding [`EMBEDDED_TABLE`][mlrecipes.regression.tables.EMBEDDED_TABLE] to read instead of the
            embedded copy.
        drop_missing: Leave out rows with missing values instead of refusing them.

    Returns:
        The raw feature columns and target (see [`regression_data`][mlrecipes.regression.tables.regression_data]).

    Raises:
        ArgumentValueError: When both `csv_path` and `data_dir` are given, or
            `data_dir` holds no table.
        DataError: When the file is missing or unreadable, or
            [`regression_data`][mlrecipes.regression.tables.regression_data] refuses the columns.
    """
    if csv_path is not None and data_dir is not None:
        raise ArgumentValueError("data_dir", data_dir, "give `csv_path` or `data_dir`, not both")
    if csv_path is not None:
        table = read_table(csv_path)
    elif data_dir is not None:
        path = Path(data_dir) / EMBEDDED_TABLE
        if not path.is_file():
            raise ArgumentValueError(
                "data_dir", data_dir, f"no {EMBEDDED_TABLE} in it (for another table use `csv_path`)"
            )
        table = read_table(path)
    else:
        table = embedded_table()
    data = regression_data(table, target, features, drop_missing=drop_missing)
    return data if csv_path is not None else dataclasses.replace(data, units=dict(EMBEDDED_UNITS))
