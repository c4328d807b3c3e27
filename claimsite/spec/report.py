"""Read a report spec (YAML) and give it its data: named tables, derived views and row look-ups."""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import pandas as pd

from claimsite.cache.memo import remembered
from claimsite.core.errors import ReportError
from claimsite.core.numbers import PLAIN, Cell, DateFormat, Number, NumberFormat, difference, symbol_unit
from claimsite.core.provenance import AnySource, Source, ViewSource
from claimsite.core.schema import validate
from claimsite.core.strict import Mapping, load_yaml
from claimsite.core.uncertainty import WILSON, Z, wilson
from claimsite.data import descriptor
from claimsite.data.load import Dataset, number_format
from claimsite.spec import model as spec_model
from claimsite.views.sql import Session, session


@dataclass(frozen=True)
class Spread:
    """How sure each value of a column is: its 95% interval per row, the sample size behind it, and how it was found."""

    intervals: tuple[tuple[float, float] | None, ...]
    ns: tuple[int | None, ...]
    n_unit: str
    method: str
    parts: tuple[tuple[Number, Number] | None, ...] = ()  # for a column of differences: the two values of each


@dataclass(frozen=True)
class Table:
    """Rows a report reads: a dataset under a short name, or a view derived from datasets."""

    name: str
    title: str
    frame: pd.DataFrame
    value: str | None
    label: str | None
    sources: tuple[tuple[AnySource, ...], ...]  # each row's (for a SQL view, its value column's)
    formats: dict[str, NumberFormat | DateFormat] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    keys: tuple[str, ...] = ()
    spreads: dict[str, Spread] = field(default_factory=dict)
    changes: frozenset[str] = frozenset()  # columns of differences (gap, gain): printed signed in intervals
    total_rows: int = 0  # a view too large to hold: its number of rows (charts and claims read views that aggregate)
    column_sources: dict[str, tuple[tuple[AnySource, ...], ...]] = field(default_factory=dict)  # a SQL view's values, by column

    def sources_of(self, position: int, column: str | None) -> tuple[AnySource, ...]:
        """Where one cell comes from: its column's own sources (an aggregate's rows), else its row's."""
        return self.column_sources.get(column or "", self.sources)[position]

    @property
    def unit(self) -> str:
        """The unit of the table's value column."""
        return self.number_format(self.value).unit

    @functools.cached_property
    def records(self) -> list[dict[str, Any]]:
        """The rows as mappings of column to value, read once (a cell read through pandas indexing costs a row each time)."""
        return cast(list[dict[str, Any]], self.frame.to_dict("records"))

    def number_format(self, column: str | None) -> NumberFormat:
        """How the numbers of a column print (plain numbers when the descriptor says nothing)."""
        fmt = self.formats.get(column or "")
        return fmt if isinstance(fmt, NumberFormat) else PLAIN

    def column(self, name: Any, spec_file: str, line: int | None) -> str:
        """``name`` if it is a column of the table, else a located error listing the columns."""
        if name not in self.frame.columns:
            raise ReportError.at(
                spec_file,
                f"table {self.name!r} has no column {name!r}",
                line=line,
                expected=", ".join(c for c in self.frame.columns if not str(c).startswith("_")),
                found=str(name),
                fix="name one of the expected columns",
            )
        return str(name)

    def _as_cell(self, column: str, wanted: Any, spec_file: str, line: int | None) -> Any:
        """``wanted`` as a cell of ``column`` compares: a date, a number or text (what `where:` and keys match by)."""
        cells = self.frame[column]
        if pd.api.types.is_datetime64_any_dtype(cells):
            try:
                return pd.Timestamp(wanted)
            except (TypeError, ValueError):
                raise ReportError.at(spec_file, f"column {column!r} holds dates", line=line, expected="a date, e.g. 2023-07-01", found=repr(wanted)) from None
        if pd.api.types.is_numeric_dtype(cells) and not pd.api.types.is_bool_dtype(cells):
            try:
                return float(wanted)
            except (TypeError, ValueError):
                raise ReportError.at(spec_file, f"column {column!r} holds numbers", line=line, expected="a number", found=repr(wanted)) from None
        return str(wanted)

    def _comparable(self, column: str) -> pd.Series:
        cells = self.frame[column]
        if pd.api.types.is_datetime64_any_dtype(cells):
            return cells
        if pd.api.types.is_numeric_dtype(cells) and not pd.api.types.is_bool_dtype(cells):
            return cells.astype("Float64")
        return cells.astype("string")

    def rows(self, where: Any, spec_file: str, line: int | None) -> list[int]:
        """Positions of the rows whose columns equal every value in ``where``."""
        if not isinstance(where, dict):
            raise ReportError.at(spec_file, "where: must map columns to values", line=line, expected="where: {<column>: <value>}", found=repr(where))
        mask = pd.Series(True, index=self.frame.index)
        for column, wanted in where.items():
            name = self.column(column, spec_file, line)
            mask &= (self._comparable(name) == self._as_cell(name, wanted, spec_file, line)).fillna(False)
        return [int(i) for i in mask.to_numpy(dtype=bool).nonzero()[0]]

    def lookup(self, column: str, among: list[int], spec_file: str, line: int | None) -> Callable[[Any], list[int]]:
        """Which of the rows ``among`` have ``column`` equal to a value, compared as `rows` does: indexed once, then each lookup is direct."""
        cells = self._comparable(column).tolist()
        index: dict[Any, list[int]] = {}
        for position in among:
            if not pd.isna(cells[position]):
                index.setdefault(cells[position], []).append(position)
        return lambda wanted: [] if pd.isna(wanted) else index.get(self._as_cell(column, wanted, spec_file, line), [])

    def text(self, position: int, column: str) -> str:
        """One cell as a sentence shows it: a date readably, a number in its format (without its unit), text as it is."""
        value = self.records[position][column]
        if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
            return ""
        fmt = self.formats.get(column)
        if isinstance(fmt, DateFormat):
            return fmt.text(value)
        if isinstance(fmt, NumberFormat) and not isinstance(value, bool | str):
            return fmt.cell(float(value))
        return str(value)

    def cell(self, position: int, column: str) -> Cell:
        """One cell as a value a sentence can print (readably) and compare or count (as its value)."""
        value = self.records[position][column]
        return Cell(value.item() if hasattr(value, "item") else value, self.text(position, column))

    def row_name(self, position: int) -> str:
        """The row in words, by the columns that name it: ``Lima, July 2023``."""
        return ", ".join(self.text(position, column) for column in self.keys if column != self.value)

    def number(self, position: int, column: str | None, spec_file: str, line: int | None) -> Number:
        """The value of one cell, with its unit and sources; an empty or non-numeric cell is a located error."""
        name = self.column(column or self.value, spec_file, line)
        cell = self.records[position][name]
        sources = self.sources_of(position, name)
        unusable = pd.isna(cell) or isinstance(cell, str | bool) or isinstance(self.formats.get(name), DateFormat)
        if not unusable and not math.isfinite(float(cell)):  # an overflowing sum or a division by zero in a view
            unusable = True
        if unusable:
            found = "an empty cell" if pd.isna(cell) else repr(cell)
            made = next((s for s in sources if isinstance(s, ViewSource)), None)
            if made is not None:
                raise ReportError.at(
                    made.spec_file,
                    f"{spec_file} reads a number from view {made.view!r}, row {made.row}" + (f" ({made.key})" if made.key else "") + f", column {name!r}",
                    line=made.spec_line,
                    expected="a finite number",
                    found=("NULL" if pd.isna(cell) else repr(cell)) + " from the view's SQL",
                    fix=f"leave such rows out of the view (WHERE isfinite({name})), or read another row or column",
                )
            source = next((s for s in sources if isinstance(s, Source)), None)
            raise ReportError.at(
                source.file if source else spec_file,
                f"{spec_file} reads this cell as a number",
                line=source.line if source else line,
                column=name if source else None,
                expected="a number",
                found=found,
                fix="fill in the cell, or read another row or column",
            )
        label = self.text(position, self.label) if self.label else ""
        spread = self.spreads.get(name)
        cells = tuple((column, self.cell(position, column)) for column in self.frame.columns if not str(column).startswith("_"))
        return Number(
            float(cell),
            label,
            sources,
            self.number_format(name),
            row=self.row_name(position),
            interval=spread.intervals[position] if spread else None,
            method=spread.method if spread and spread.intervals[position] else "",
            n=spread.ns[position] if spread else None,
            n_unit=spread.n_unit if spread else "",
            cells=cells,
            change=name in self.changes,
            parts=spread.parts[position] if spread and spread.parts else None,
        )


@dataclass(frozen=True)
class Report:
    """A report as its spec declares it, with its tables ready to read."""

    slug: str
    title: str
    nav_title: str
    summary: str
    headline: str | None
    cite: dict[str, Any]
    tables: dict[str, Table]
    charts: tuple[spec_model.Chart, ...]
    claims: tuple[spec_model.Claim, ...]
    spec_file: str
    template: str
    listed: bool = True
    social_chart: str | None = None
    error_examples: tuple[spec_model.Claim, ...] = ()
    datasets: tuple[str, ...] = ()
    raw: Mapping = field(repr=False, default_factory=Mapping)


def dataset_table(name: str, dataset: Dataset, value: str | None, label: str | None, spread: Spread | None = None) -> Table:
    """A dataset as a table, each row carrying its CSV line and its key (the primary key's values)."""
    if dataset.large:
        raise ReportError.at(
            dataset.path,
            f"dataset {dataset.name!r} has {dataset.rows:,} rows: a report reads a dataset this large through a SQL view",
            expected="a view under views: that aggregates it, read by charts and claims",
            found=f"data: {{…, dataset: {dataset.name}}}",
            fix=f"declare e.g. views: {{summary: {{sql: 'SELECT <key>, avg(<value>) AS <value>, count(*) AS n FROM {dataset.name} GROUP BY <key>'}}}}",
        )
    for column in (value, label):
        if column:
            dataset.field(column)
    key_columns = list(dataset.primary_key) or [c for c in (label,) if c]
    keys = [" / ".join(str(v) for v in row) for row in dataset.frame[key_columns].itertuples(index=False)] if key_columns else [""] * len(dataset.lines)
    formats = {f.name: f.fmt for f in dataset.fields if f.fmt is not None}
    value_format = formats.get(value or "")
    precision_unit = value_format.difference().unit if isinstance(value_format, NumberFormat) and value_format.unit else "points"
    sources = tuple(
        (Source(dataset.path, line, dataset.name, dataset.approximate, dataset.precision, key, precision_unit),)
        for line, key in zip(dataset.lines, keys, strict=True)
    )
    titles = {f.name: f.title + (f" ({f.unit})" if f.unit and symbol_unit(f.unit) and f.unit not in f.title else "") for f in dataset.fields}
    spreads = {value: spread} if value and spread else {}
    return Table(name, dataset.title, dataset.frame, value, label, sources, formats, titles, tuple(key_columns), spreads)


def _spread(
    uncertain: spec_model.Uncertainty | None,
    value: str | None,
    frame: pd.DataFrame,
    formats: dict[str, NumberFormat | DateFormat],
    units: dict[str, str],
    widen: float,
    datasets: dict[str, Dataset],
    fail: Any,
) -> Spread | None:
    """The 95% interval of each value of a table's value column: from its sample size, standard error or interval columns,
    widened by the reading precision of values read off a figure; None when nothing is known of it."""
    if value is None or (uncertain is None and not widen):
        return None
    values = [None if pd.isna(v) else float(v) for v in frame[value]]
    reading = f", widened by the ±{widen:g} reading precision" if widen else ""

    def column(name: str) -> pd.Series:
        if name not in frame.columns:
            raise fail(f"no column {name!r} for the uncertainty", expected=", ".join(map(str, frame.columns)), found=name)
        return frame[name]

    if uncertain is None:
        intervals = [None if v is None else (v - widen, v + widen) for v in values]
        return Spread(tuple(intervals), (None,) * len(values), "", f"the reading precision, ±{widen:g}")
    if uncertain.n is not None:
        fmt = formats.get(value)
        percent = isinstance(fmt, NumberFormat) and (fmt.scale == 100 or fmt.unit == "%")
        if not isinstance(fmt, NumberFormat) or not percent:
            raise fail(
                "a sample size gives an interval only for percentages",
                expected=f'{value} with unit: "%" or display: {{percent: true}}',
                fix="give se: or lower: and upper: columns",
            )
        scale = 1.0 if fmt.scale == 100 else 100.0
        ns, n_unit = _sample_sizes(uncertain.n, frame, units, datasets, fail, column)
        _check_trials(values, ns, fail)
        intervals = []
        for v, n in zip(values, ns, strict=True):
            if v is None or n is None:
                intervals.append(None)
                continue
            low, high = wilson(min(max(round(v / scale * n), 0), n), n)
            intervals.append((low * scale - widen, high * scale + widen))
        return Spread(tuple(intervals), tuple(ns), n_unit, WILSON + reading)
    if uncertain.se is not None:
        errors = [None if pd.isna(e) else float(e) for e in column(uncertain.se)]
        _check_errors(values, errors, fail)
        intervals = [None if v is None or e is None else (v - Z * e - widen, v + Z * e + widen) for v, e in zip(values, errors, strict=True)]
        return Spread(tuple(intervals), (None,) * len(values), "", "±1.96 standard errors" + reading)
    lows, highs = column(str(uncertain.lower)), column(str(uncertain.upper))
    intervals = [None if pd.isna(lo) or pd.isna(hi) else (float(lo), float(hi)) for lo, hi in zip(lows, highs, strict=True)]
    _check_bounds(values, intervals, uncertain, fail)
    return Spread(tuple(intervals), (None,) * len(values), "", f"the columns {uncertain.lower} and {uncertain.upper}")


def _check_trials(values: list[float | None], ns: list[int | None], fail: Any) -> None:
    """Each value with a sample size of 1 or more: a value with no trials behind it would read as exact, beating any other."""
    for position, (v, n) in enumerate(zip(values, ns, strict=True)):
        if v is not None and (n is None or n <= 0):
            raise fail(
                f"row {position + 1} has {'no sample size' if n is None else f'a sample size of {n}'}",
                expected="a whole number of trials, 1 or more, for each value",
                found="an empty cell" if n is None else str(n),
                fix="fill in the number of trials behind the value (or leave the value empty too)",
            )


def _check_errors(values: list[float | None], errors: list[float | None], fail: Any) -> None:
    """Each value with a standard error of 0 or more."""
    for position, (v, e) in enumerate(zip(values, errors, strict=True)):
        if v is not None and (e is None or e < 0 or not math.isfinite(e)):
            raise fail(
                f"row {position + 1} has {'no standard error' if e is None else f'a standard error of {e:g}'}",
                expected="a standard error of 0 or more for each value",
                found="an empty cell" if e is None else f"{e:g}",
                fix="fill in the value's standard error (it cannot be negative)",
            )


def _check_bounds(values: list[float | None], intervals: list[tuple[float, float] | None], uncertain: spec_model.Uncertainty, fail: Any) -> None:
    """Each value with an interval around it."""
    for position, (v, bounds) in enumerate(zip(values, intervals, strict=True)):
        if v is not None and (bounds is None or not bounds[0] <= v <= bounds[1]):
            said = "is missing" if bounds is None else f"runs from {bounds[0]:g} to {bounds[1]:g}, leaving out its value {v:g}"
            raise fail(
                f"row {position + 1}'s interval {said}",
                expected=f"a lower bound at most the value and an upper bound at least it ({uncertain.lower} <= value <= {uncertain.upper})",
                found="an empty cell" if bounds is None else f"{bounds[0]:g} to {bounds[1]:g}",
                fix="correct the bounds of the interval",
            )


def _sample_sizes(
    n: int | str | spec_model.SampleSize, frame: pd.DataFrame, units: dict[str, str], datasets: dict[str, Dataset], fail: Any, column: Any
) -> tuple[list[int | None], str]:
    """The sample size behind each row: one number, a column of the table, or a lookup in another dataset."""
    if isinstance(n, int):
        return [n] * len(frame), ""
    if isinstance(n, str):
        return [_trials(v, fail) for v in column(n)], units.get(n, "")
    if n.dataset not in datasets:
        raise fail(f"no dataset called {n.dataset!r} for the sample sizes", expected=", ".join(datasets), found=n.dataset)
    lookup = datasets[n.dataset]
    lookup.field(n.key), lookup.field(n.column)
    sizes = {str(k): _trials(v, fail) for k, v in zip(lookup.frame[n.key], lookup.frame[n.column], strict=True) if not pd.isna(v)}
    keys = column(n.key)
    missing = sorted({str(k) for k in keys} - set(sizes))
    if missing:
        raise fail(f"{n.dataset!r} has no sample size for {', '.join(missing)}", expected=f"a row of {lookup.path} for each {n.key}", found="none")
    return [sizes[str(k)] for k in keys], lookup.field(n.column).unit or ""


def _trials(value: Any, fail: Any) -> int | None:
    """A sample size as a whole number of trials (None for an empty cell); a fraction or an infinity is a located error."""
    if pd.isna(value):
        return None
    number = float(value)
    if not math.isfinite(number) or not number.is_integer():
        raise fail("a sample size is not a whole number", expected="a whole number of trials", found=f"{number:g}", fix="give the number of trials")
    return int(number)


def _dataset_spread(entry: spec_model.DataTable, dataset: Dataset, datasets: dict[str, Dataset], spec_file: str) -> Spread | None:
    """The spread of a dataset's value column, as its entry under data: declares it (and its reading precision)."""

    def fail(message: str, **detail: Any) -> ReportError:
        line = entry.uncertainty.spec_line if entry.uncertainty else entry.spec_line
        return ReportError.at(spec_file, f"data {entry.dataset!r}: {message}", line=line, **detail)

    formats = {f.name: f.fmt for f in dataset.fields if f.fmt is not None}
    units = {f.name: f.unit or "" for f in dataset.fields}
    widen = dataset.precision if dataset.approximate else 0.0
    return _spread(entry.uncertainty, entry.value, dataset.frame, formats, units, widen, datasets, fail)


def match_view(name: str, spec: spec_model.Match, tables: dict[str, Table], spec_file: str) -> Table:
    """Rows of some tables paired, by a key column, with the row of another table they repeat.

    Columns: ``run``, ``label`` (the key), ``reading``, ``value``, ``against`` and ``gap`` (value minus against).
    """
    against_spec = spec.against
    against = _table(tables, against_spec.from_, spec_file, against_spec.spec_line)
    against_key = against.column(against_spec.key, spec_file, against_spec.spec_line)
    records, sources = [], []
    numbers: list[tuple[Number, Number, Number]] = []
    fmt = against.number_format(against.value)
    against_rows = against.lookup(against_key, against.rows(against_spec.where, spec_file, against_spec.spec_line), spec_file, against_spec.spec_line)
    for part in spec.match:
        table = _table(tables, part.from_, spec_file, part.spec_line)
        key = table.column(part.key, spec_file, part.spec_line)
        reading = part.reading if part.reading is not None else table.title
        for position, row in enumerate(table.frame.to_dict("records")):
            if pd.isna(row[key]):
                continue
            where = {**against_spec.where, against_key: row[key]}
            matches = against_rows(row[key])
            if len(matches) != 1:
                file, line = _place(table.sources[position], spec_file, part.spec_line)
                raise ReportError.at(
                    file,
                    f"{key} names a row that {against.name!r} does not have exactly once",
                    line=line,
                    column=key,
                    expected=f"one row of {against.title} with {where}",
                    found=f"{len(matches)} rows",
                    fix=f"use the exact {against_key} of a row of {against.title}, or leave the cell empty",
                )
            value = table.number(position, None, spec_file, part.spec_line)
            other = against.number(matches[0], None, spec_file, against_spec.spec_line)
            records.append(
                {
                    "run": f"{row[key]} ({reading})",
                    "label": str(row[key]),
                    "reading": reading,
                    "value": value.value,
                    "against": other.value,
                    "gap": round(value.value - other.value, 6),
                }
            )
            numbers.append((value, other, difference(value, other)))
            sources.append(table.sources[position] + against.sources[matches[0]])
    frame = pd.DataFrame.from_records(records, columns=["run", "label", "reading", "value", "against", "gap"])
    titles = {
        "run": "Run",
        "label": "Key",
        "reading": "Reading",
        "value": "Value",
        "against": "Against",
        "gap": f"Difference ({fmt.difference().unit})" if fmt.difference().unit else "Difference",
        **spec.titles,
    }
    formats: dict[str, NumberFormat | DateFormat] = {"value": fmt, "against": fmt, "gap": fmt.difference()}
    spreads = {column: _spread_of([row[i] for row in numbers]) for i, column in enumerate(("value", "against", "gap"))}
    return Table(
        name, spec.title or name, frame, "gap", "run", tuple(sources), formats, titles, ("run",), {k: v for k, v in spreads.items() if v}, frozenset({"gap"})
    )


def _place(sources: tuple[AnySource, ...], spec_file: str, line: int | None) -> tuple[str, int | None]:
    """Where a row of a table is written: its data file's line, or the view that made it."""
    source = sources[0] if sources else None
    if isinstance(source, Source):
        return source.file, source.line
    if isinstance(source, ViewSource):
        return source.spec_file, source.spec_line
    return spec_file, line


def _spread_of(numbers: list[Number]) -> Spread | None:
    """The spread of a derived column, from the numbers it holds (None when none of them has an interval)."""
    if not any(number.interval for number in numbers):
        return None
    method = next(number.method for number in numbers if number.interval)
    n_unit = next((number.n_unit for number in numbers if number.n_unit), "")
    parts = tuple(number.parts for number in numbers)
    return Spread(tuple(number.interval for number in numbers), tuple(number.n for number in numbers), n_unit, method, parts)


def difference_view(name: str, spec: spec_model.Difference, tables: dict[str, Table], spec_file: str) -> Table:
    """Each row's value minus that of a baseline row with the same ``by`` column, in points (column ``gain``)."""
    of = spec.difference
    line = of.spec_line
    table = _table(tables, of.from_, spec_file, line)
    by = table.column(of.by, spec_file, line) if of.by else None
    records, sources, gains, values = [], [], [], []
    baseline = table.rows(of.baseline, spec_file, line)
    baseline_of = table.lookup(by, baseline, spec_file, line) if by else None
    for position, row in enumerate(table.frame.to_dict("records")):
        where = {**of.baseline, **({by: row[by]} if by else {})}
        matches = baseline_of(row[by]) if baseline_of and by else baseline
        if len(matches) != 1:
            raise ReportError.at(
                spec_file, f"view {name!r}: the baseline must select one row", line=line, expected="one row", found=f"{len(matches)} rows for {where}"
            )
        if matches[0] == position and not of.keep_baseline:
            continue
        value = table.number(position, None, spec_file, line)
        gain = difference(value, table.number(matches[0], None, spec_file, line))
        records.append({**row, "gain": gain.value})
        gains.append(gain)
        values.append(value)
        sources.append(table.sources[position] + table.sources[matches[0]])
    columns = [*table.frame.columns, "gain"]
    frame = pd.DataFrame.from_records(records, columns=columns).astype({c: table.frame[c].dtype for c in table.frame.columns})
    gain_format = table.number_format(table.value).difference()
    titles = {**table.titles, "gain": f"Gain ({gain_format.unit})" if gain_format.unit else "Gain", **of.titles}
    found = {"gain": _spread_of(gains), table.value or "": _spread_of(values)}
    spreads = {column: spread for column, spread in found.items() if spread}
    return Table(
        name,
        spec.title or name,
        frame,
        "gain",
        table.label,
        tuple(sources),
        {**table.formats, "gain": gain_format},
        titles,
        table.keys,
        spreads,
        frozenset({"gain"}),
    )


def _table(tables: dict[str, Table], name: str, spec_file: str, line: int | None) -> Table:
    if name not in tables:
        raise ReportError.at(
            spec_file,
            f"no table called {name!r}",
            line=line,
            expected=", ".join(tables),
            found=name,
            fix="use a name declared under data: or views:",
        )
    return tables[name]


RESERVED_SLUGS = frozenset({"assets", "data", "changes", "claims", "search", "figures", "schema"})


def _data_tables(spec: spec_model.ReportSpec, datasets: dict[str, Dataset], spec_file: str) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for name, entry in spec.data.items():
        if entry.dataset not in datasets:
            raise ReportError.at(
                spec_file,
                f"no dataset called {entry.dataset!r} in the data package",
                line=entry.spec_line,
                expected=", ".join(datasets),
                found=entry.dataset,
                fix="use the name of a resource in data/datapackage.yaml",
            )
        try:
            dataset = datasets[entry.dataset]
            tables[name] = dataset_table(name, dataset, entry.value, entry.label, _dataset_spread(entry, dataset, datasets, spec_file))
        except ReportError as error:
            problem = error.problems[0]
            if problem.file == spec_file:
                raise
            raise ReportError.at(spec_file, problem.message, line=entry.spec_line, expected=problem.expected, found=problem.found) from None
    return tables


def _views(spec: spec_model.ReportSpec, tables: dict[str, Table], datasets: dict[str, Dataset], spec_file: str) -> dict[str, Table]:
    """The report's views, in the order declared: SQL views run in DuckDB, and can read the datasets and every view above them."""
    with session(spec_file, datasets) if _has_sql(spec) else contextlib.nullcontext() as sql:
        for name, view in spec.views.items():
            if name in tables:
                raise ReportError.at(spec_file, f"the view {name!r} has the name of a table under data:", line=view.spec_line, fix="give the view another name")
            if isinstance(view, spec_model.Sql):
                assert sql is not None  # opened above whenever a view is in SQL
                tables[name] = sql_view(name, view, sql, datasets, spec_file)
                continue
            tables[name] = match_view(name, view, tables, spec_file) if isinstance(view, spec_model.Match) else difference_view(name, view, tables, spec_file)
            if sql is not None:
                sql.add(name, tables[name].frame, tables[name].sources)
    return tables


def _has_sql(spec: spec_model.ReportSpec) -> bool:
    """Whether a view of the spec is in SQL (it may read any dataset)."""
    return any(isinstance(view, spec_model.Sql) for view in spec.views.values())


def sql_view(name: str, view: spec_model.Sql, sql: Session, datasets: dict[str, Dataset], spec_file: str) -> Table:
    """A SQL view as a table: its rows, each with where it came from, and its columns titled and printed as their sources', or as declared."""
    result = sql.view(name, view.sql, view.spec_line, view.value)
    if result.frame is None:
        return Table(name, view.title or name, pd.DataFrame(), view.value, view.label, (), total_rows=result.rows)
    frame = result.frame
    sources = {f.name: f for dataset in datasets.values() if dataset.path in result.files for f in dataset.fields}
    formats: dict[str, NumberFormat | DateFormat] = {}
    titles: dict[str, str] = {}
    units: dict[str, str] = {}
    for column in map(str, frame.columns):
        declared, source = view.columns.get(column), sources.get(column)
        numeric = pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column])
        if declared is not None:
            kind: Literal["integer", "number"] = "integer" if pd.api.types.is_integer_dtype(frame[column]) else "number"
            formats[column] = number_format(descriptor.FieldSpec(name=column, type=kind, unit=declared.unit, display=declared.display)) if numeric else PLAIN
            units[column] = declared.unit or ""
            titles[column] = declared.title or (source.title if source else column)
        elif source is not None:
            if source.fmt is not None:
                formats[column] = source.fmt
            units[column], titles[column] = source.unit or "", source.title or column
        elif pd.api.types.is_datetime64_any_dtype(frame[column]):
            formats[column] = DateFormat.for_values(frame[column])
        elif numeric:
            formats[column] = NumberFormat(decimals=0 if pd.api.types.is_integer_dtype(frame[column]) else 1)
        unit = units.get(column, "")
        if unit and symbol_unit(unit) and unit not in titles.get(column, column):
            titles[column] = f"{titles.get(column, column)} ({unit})"
    for named in (view.value, view.label):
        if named and named not in frame.columns:
            raise ReportError.at(
                spec_file, f"view {name!r} has no column {named!r}", line=view.spec_line, expected=", ".join(map(str, frame.columns)), found=named
            )

    def fail(message: str, **detail: Any) -> ReportError:
        return ReportError.at(spec_file, f"view {name!r}: {message}", line=view.uncertainty.spec_line if view.uncertainty else view.spec_line, **detail)

    spread = _spread(view.uncertainty, view.value, frame, formats, units, 0.0, datasets, fail)
    keys = tuple(c for c in map(str, frame.columns) if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_datetime64_any_dtype(frame[c]))
    spreads = {view.value: spread} if view.value and spread else {}
    return Table(
        name,
        view.title or name,
        frame,
        view.value,
        view.label,
        result.sources,
        formats,
        titles,
        keys or ((view.label,) if view.label else ()),
        spreads,
        column_sources=result.column_sources,
    )


def _datasets_read(spec: spec_model.ReportSpec, tables: dict[str, Table], datasets: dict[str, Dataset]) -> tuple[str, ...]:
    """The datasets a report reads: under data:, through its views (SQL included), and for sample sizes."""
    by_path = {dataset.path: name for name, dataset in datasets.items()}
    read = list(_named_datasets(spec))
    for table in tables.values():
        for sources in table.sources:
            for source in sources:
                read += [by_path[f] for f in (*getattr(source, "files", ()), source.file) if f in by_path]
    return tuple(dict.fromkeys(read))


def _named_datasets(spec: spec_model.ReportSpec) -> tuple[str, ...]:
    """The datasets a spec names: under data:, and for sample sizes."""
    uncertain = [entry.uncertainty for entry in spec.data.values()] + [getattr(view, "uncertainty", None) for view in spec.views.values()]
    named = [entry.dataset for entry in spec.data.values()] + [u.n.dataset for u in uncertain if u is not None and isinstance(u.n, spec_model.SampleSize)]
    return tuple(dict.fromkeys(named))


def read_spec(path: Path, spec_file: str) -> tuple[spec_model.ReportSpec, Mapping]:
    """A report spec checked against its declaration, and the mapping as written (for guides that show it)."""
    raw = load_yaml(path, spec_file, "the report spec")
    if not isinstance(raw, Mapping):
        raise ReportError.at(spec_file, "a report spec must be a mapping of keys", expected="slug: …, title: …, data: …", found=type(raw).__name__)
    return validate(spec_model.ReportSpec, raw, spec_file), raw


def load_report(path: Path, datasets: dict[str, Dataset], root: Path) -> Report:
    """The report declared by the spec at ``path``, its tables built from ``datasets``."""
    spec_file = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    spec, raw = read_spec(path, spec_file)
    if spec.slug in RESERVED_SLUGS:
        raise ReportError.at(
            spec_file,
            f"the slug {spec.slug!r} is a name the site uses",
            line=raw.key_lines.get("slug"),
            expected=f"another slug than {', '.join(sorted(RESERVED_SLUGS))}",
            found=spec.slug,
            fix="choose another slug",
        )
    # The same data and view declarations give the same tables: built once per process (the live preview, tests). A SQL
    # view may read any dataset; other views read only the datasets the spec names.
    read = datasets if _has_sql(spec) else {name: datasets.get(name) for name in _named_datasets(spec)}
    tables = remembered(
        "report tables",
        (spec.data, spec.views, read, spec_file),
        lambda: _views(spec, _data_tables(spec, datasets, spec_file), datasets, spec_file),
    )
    template = path.with_suffix(".md.j2")
    if not template.is_file():
        raise ReportError.at(spec_file, "the report has no page template", expected=str(template.relative_to(root)), found="no such file")
    return Report(
        slug=spec.slug,
        title=spec.title,
        nav_title=spec.nav_title or spec.title,
        summary=" ".join(spec.summary.split()),
        headline=spec.headline,
        cite=spec.cite.model_dump(exclude_none=True) if spec.cite else {},
        tables=tables,
        charts=tuple(spec.charts),
        claims=tuple(spec.claims),
        spec_file=spec_file,
        template=template.name,
        listed=spec.listed,
        social_chart=spec.social_chart,
        error_examples=tuple(spec.error_examples),
        datasets=_datasets_read(spec, tables, datasets),
        raw=raw,
    )
