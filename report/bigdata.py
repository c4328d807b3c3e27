"""Large data files, read by DuckDB out of core: validated against the descriptor, with every bad cell located, and kept.

A CSV past ``LARGE_BYTES`` (or any Parquet file) is loaded once into a DuckDB database under
``.cache/data/``, keyed by the file's bytes and its description: a rebuild whose data did not change
opens that database instead of reading the file again. Memory stays bounded (DuckDB spills to disk).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from report.errors import Problem, ReportError
from report.package_model import FieldSpec
from report.package_model import Resource as DeclaredResource

LARGE_BYTES = 5_000_000
HEAD_ROWS = 20
SHOWN_PROBLEMS = 50
MEMORY_LIMIT = "400MB"
STORE_VERSION = "2"  # bump when what a store holds changes
TYPES = MappingProxyType(
    {
        "string": "VARCHAR",
        "integer": "BIGINT",
        "number": "DOUBLE",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "datetime": "TIMESTAMP",
        "year": "INTEGER",
        "time": "TIME",
    }
)
CONTROL_PATTERN = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"


@dataclass(frozen=True)
class Stored:
    """A large dataset as DuckDB keeps it: its database file, its row count, its first rows and a summary of each column."""

    store: Path
    rows: int
    head: pd.DataFrame
    summary: pd.DataFrame


def is_large(path: Path) -> bool:
    """Whether a data file is read by DuckDB: Parquet, or a CSV past the size frictionless reads in memory."""
    return path.suffix.lower() == ".parquet" or path.stat().st_size >= LARGE_BYTES


def quote(name: str) -> str:
    """A name as a DuckDB identifier: any column name is safe in SQL once quoted."""
    return '"' + name.replace('"', '""') + '"'


def connect(memory_limit: str = MEMORY_LIMIT, temp: Path | None = None, threads: int | None = None) -> Any:
    """A DuckDB connection whose memory is bounded, spilling to ``temp`` (see ``spilling``); it never installs or loads extensions.

    ``threads=1`` makes results repeatable: rows come in the same order, and sums of floats add up in the same order.
    """
    import duckdb

    config: dict[str, Any] = {"memory_limit": memory_limit, "autoinstall_known_extensions": False, "autoload_known_extensions": False}
    if threads is not None:
        config["threads"] = threads
    if temp is not None:
        config["temp_directory"] = str(temp)
    return duckdb.connect(config=config)


@contextlib.contextmanager
def spilling() -> Iterator[Path]:
    """A folder of its own for DuckDB to spill to, outside the project (so that `check` writes nothing there), removed after."""
    folder = Path(tempfile.mkdtemp(prefix="report-spill-"))
    try:
        yield folder / "spill"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fingerprint(path: Path, resource: DeclaredResource) -> str:
    import duckdb

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    digest.update(resource.model_dump_json(by_alias=True).encode())
    digest.update(f"{duckdb.__version__} {STORE_VERSION}".encode())
    return digest.hexdigest()[:24]


def load(resource: DeclaredResource, path: Path, shown: str, folder: Path, scratch: Path | None = None) -> Stored:
    """The data file loaded and validated by DuckDB (or its store in ``folder`` from an earlier build); one error with every problem otherwise.

    With ``scratch``, nothing is written to ``folder``: a store kept there is read, and a new one is made in ``scratch``.
    """
    store = folder / f"{resource.name}-{_fingerprint(path, resource)}.duckdb"
    if scratch is not None and not store.is_file():
        folder = scratch
        store = folder / store.name
    if not store.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f"{resource.name}-*.duckdb*"):
            stale.unlink(missing_ok=True)
        partial = store.with_name(store.name + f".{os.getpid()}.tmp")
        partial.unlink(missing_ok=True)
        try:
            with spilling() as spill:
                _build(resource, path, shown, partial, spill)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(store)
    with contextlib.closing(connect()) as con:
        con.execute(f"ATTACH {_literal(str(store))} AS stored (READ_ONLY)")
        rows = con.execute("SELECT count(*) FROM stored.data").fetchone()[0]
        head = con.execute(f"SELECT * EXCLUDE (__line) FROM stored.data ORDER BY __line LIMIT {HEAD_ROWS}").df()
        summary = con.execute("SELECT * FROM stored.summary").df()
    return Stored(store, int(rows), head, summary)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _build(resource: DeclaredResource, path: Path, shown: str, store: Path, spill: Path) -> None:
    """Read the file into ``store`` (table ``data`` with each row's ``__line``, and ``summary``), or raise every problem found."""
    fields = resource.schema_.fields
    problems = _header_problems(resource, path, shown) if path.suffix.lower() != ".parquet" else []
    if problems:
        raise ReportError(problems)
    with contextlib.closing(connect(temp=spill)) as con:
        con.execute(f"ATTACH {_literal(str(store))} AS out")
        if path.suffix.lower() == ".parquet":
            columns = ", ".join(f"CAST({quote(f.name)} AS {TYPES.get(f.type, 'VARCHAR')}) AS {quote(f.name)}" for f in fields)
            con.execute(f"CREATE TABLE out.data AS SELECT {columns}, row_number() OVER () AS __line FROM read_parquet({_literal(str(path))})")
        else:
            con.execute(f"CREATE TABLE out.data AS SELECT *, row_number() OVER () + 1 AS __line FROM read_csv({_literal(str(path))}, {_csv_options(resource)})")
            problems = _rejected(con, shown, fields)
        skipped = sorted({int(line) for (line,) in con.execute("SELECT DISTINCT line FROM reject_errors").fetchall()}) if problems else []
        problems = problems + [_relined(p, skipped) for p in _constraint_problems(con, resource, shown)]
        problems.sort(key=lambda p: p.line or 0)
        if problems:
            raise ReportError(problems)
        con.execute("CREATE TABLE out.summary AS SELECT * FROM (SUMMARIZE SELECT * EXCLUDE (__line) FROM out.data)")


def _relined(problem: Problem, skipped: list[int]) -> Problem:
    """A problem found in the rows DuckDB kept, with its line counted in the file (rows it could not read come out of the count)."""
    if problem.line is None or not skipped:
        return problem
    line = problem.line
    for rejected in skipped:
        if rejected <= line:
            line += 1
    return dataclasses.replace(problem, line=line)


def _csv_options(resource: DeclaredResource) -> str:
    dialect = resource.dialect
    delimiter = dialect.delimiter if dialect and dialect.delimiter else "\t" if resource.format == "tsv" else ","
    columns = "{" + ", ".join(f"{_literal(f.name)}: {_literal(TYPES.get(f.type, 'VARCHAR'))}" for f in resource.schema_.fields) + "}"
    missing = resource.schema_.missingValues or [""]
    options = {
        "header": "true",
        "delim": _literal(delimiter),
        "quote": _literal(dialect.quoteChar if dialect and dialect.quoteChar else '"'),
        "columns": columns,
        "nullstr": "[" + ", ".join(_literal(m) for m in missing) + "]",
        "store_rejects": "true",
        "auto_detect": "false",
        "encoding": _literal((resource.encoding or "utf-8").lower()),
    }
    decimal = next((f.decimalChar for f in resource.schema_.fields if f.decimalChar), None)
    if decimal:
        options["decimal_separator"] = _literal(decimal)
    return ", ".join(f"{key} = {value}" for key, value in options.items())


def _header_problems(resource: DeclaredResource, path: Path, shown: str) -> list[Problem]:
    """The header line against the descriptor's field names, read without reading the rest of the file."""
    with path.open("rb") as handle:
        first = handle.readline().decode(resource.encoding or "utf-8", "replace").lstrip("\ufeff")
    dialect = resource.dialect
    delimiter = dialect.delimiter if dialect and dialect.delimiter else "\t" if resource.format == "tsv" else ","
    header = next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
    names = [f.name for f in resource.schema_.fields]
    if header == names:
        return []
    return [
        Problem(
            file=shown,
            message="the header does not name the descriptor's fields, in order",
            line=1,
            expected=delimiter.join(names),
            found=delimiter.join(header) or "an empty line",
            fix="make the CSV's header match the field names of the descriptor, in order",
        )
    ]


def _rejected(con: Any, shown: str, fields: list[FieldSpec]) -> list[Problem]:
    """Every cell DuckDB could not read as its declared type, from its rejects table: line, column, expected, found."""
    rows = con.execute(
        "SELECT line, column_name, error_type, csv_line, error_message FROM reject_errors ORDER BY line LIMIT ?", [SHOWN_PROBLEMS + 1]
    ).fetchall()
    if not rows:
        return []
    total = con.execute("SELECT count(*) FROM reject_errors").fetchone()[0]
    types = {f.name: f.type for f in fields}
    problems = []
    for line, column, kind, text, message in rows[:SHOWN_PROBLEMS]:
        column = column if column in types else None
        found = _cell(text, list(types), column) if column else str(text)[:80]
        problems.append(
            Problem(
                file=shown,
                message="a cell is not of its column's type" if kind == "CAST" else f"the row cannot be read ({str(kind).lower().replace('_', ' ')})",
                line=int(line),
                column=column,
                expected=f"a value of type {types[column]}" if column else "one cell per column",
                found=found,
                fix="correct the cell, or change the column's type in the descriptor" if column else str(message).split("\n")[0][:160],
            )
        )
    if total > SHOWN_PROBLEMS:
        problems.append(Problem(file=shown, message=f"and {total - SHOWN_PROBLEMS:,} more rows that cannot be read", fix="correct the file, then build again"))
    return problems


def _cell(line: str, names: list[str], column: str) -> str:
    record = next(csv.reader(io.StringIO(str(line))), [])
    index = names.index(column)
    return repr(record[index]) if index < len(record) else repr(str(line)[:80])


def _constraint_problems(con: Any, resource: DeclaredResource, shown: str) -> list[Problem]:
    """Each value that breaks its column's constraints, the primary key repeated and control characters, found in SQL."""
    problems: list[Problem] = []
    for field in resource.schema_.fields:
        for condition, parameters, expected in _conditions(field):
            rows = con.execute(f"SELECT __line, {quote(field.name)} FROM out.data WHERE {condition} ORDER BY __line LIMIT 20", parameters).fetchall()
            problems += [
                Problem(
                    file=shown,
                    message="a cell breaks its column's constraint" if "control" not in expected else "the text holds a control character",
                    line=int(line),
                    column=field.name,
                    expected=expected,
                    found=repr(value) if value is not None else "an empty cell",
                    fix="correct the cell, or change the column's constraints in the descriptor",
                )
                for line, value in rows
            ]
    key = resource.schema_.primaryKey
    key = [key] if isinstance(key, str) else list(key or [])
    if key:
        columns = ", ".join(quote(k) for k in key)
        repeated = con.execute(
            f"SELECT min(__line), max(__line), count(*) FROM out.data GROUP BY {columns} HAVING count(*) > 1 ORDER BY min(__line) LIMIT 20"
        ).fetchall()
        problems += [
            Problem(
                file=shown,
                message="the row repeats the key of an earlier row",
                line=int(last),
                expected=f"each {', '.join(key)} once",
                found=f"{count} rows with the key of line {first}",
                fix="remove or correct the repeated row",
            )
            for first, last, count in repeated
        ]
    return sorted(problems, key=lambda p: p.line or 0)[:SHOWN_PROBLEMS]


def _conditions(field: FieldSpec) -> Iterator[tuple[str, list[Any], str]]:
    """SQL conditions that find the rows breaking a field's constraints, with their parameters and what was expected."""
    name = quote(field.name)
    if field.type == "string":
        yield f"regexp_matches({name}, '{CONTROL_PATTERN}')", [], "printable text, without control characters"
    constraints = field.constraints
    if constraints is None:
        return
    if constraints.required:
        yield f"{name} IS NULL", [], "a value: the column is required"
    for key, operator in (("minimum", "<"), ("maximum", ">"), ("exclusiveMinimum", "<="), ("exclusiveMaximum", ">=")):
        bound = getattr(constraints, key)
        if bound is not None:
            yield (
                f"{name} {operator} ?",
                [bound],
                f"a value {'at least' if key == 'minimum' else 'at most' if key == 'maximum' else 'above' if key == 'exclusiveMinimum' else 'below'} {bound}",
            )
    if constraints.enum:
        yield f"{name} NOT IN (SELECT unnest(?))", [list(constraints.enum)], f"one of {', '.join(map(str, constraints.enum))}"
    if constraints.pattern:
        yield f"NOT regexp_full_match(CAST({name} AS VARCHAR), ?)", [constraints.pattern], f"text matching {constraints.pattern}"
    if constraints.unique:
        yield f"{name} IN (SELECT {name} FROM out.data GROUP BY {name} HAVING count(*) > 1)", [], "each value once"


def head_rows(stored: Stored) -> pd.DataFrame:
    """The first rows of a large dataset, as the data page shows them."""
    return stored.head


def summary_text(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """Each column's summary (type, minimum, maximum, distinct values, missing share), for the data page."""
    shown = ["column_name", "column_type", "min", "max", "approx_unique", "null_percentage"]
    frame = summary[[c for c in shown if c in summary.columns]]
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", default_handler=str))
    return records


def summarize(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The data page's summary of each column of rows held in memory, made as that of a large dataset is."""
    with contextlib.closing(connect()) as con:
        con.register("rows_in_memory", frame)
        return summary_text(con.execute("SUMMARIZE SELECT * FROM rows_in_memory").df())
