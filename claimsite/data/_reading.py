"""Reading a data file into typed rows: one set of rules for what a valid cell is, at every size, CSV and Parquet alike.

A CSV is read in two passes. The first, in Python, reads its structure as Frictionless reads it: the encoding, the
header against the descriptor's fields, each record's line and width, and blank rows. The second, in DuckDB, reads
every cell as text. Each distinct text of a column is then judged once: by Frictionless's own reader for the field's
type (so that a cell means what the descriptor says: ``groupChar``, ``decimalChar``, ``bareNumber``, date formats,
true and false values), by the project's stricter rules (no control characters, finite numbers, 64-bit integers, no
``_`` between digits) and by the field's constraints; keys and unique values are checked over the rows, in SQL. A
Parquet file's columns go the same way, its typed values judged as they are. The typed rows end in a DuckDB table
with each row's line (a CSV's) or row number (a Parquet file's): the caller keeps it in memory (a small file, whose
rows a report reads as a DataFrame) or in a database under ``.cache/data/`` (a large one).

Problems are located by file, line and column, at most ``SHOWN_PROBLEMS`` of them, then counted.
"""

from __future__ import annotations

import array
import codecs
import contextlib
import csv
import decimal
import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from claimsite.core.errors import Problem
from claimsite.core.strict import char_problem, forbidden_char, safe_repr
from claimsite.data.descriptor import FieldSpec
from claimsite.data.descriptor import Resource as DeclaredResource

if TYPE_CHECKING:
    from frictionless import Field as ReferenceField

SHOWN_PROBLEMS = 50
SHOWN_CHARS = 60
INT64 = (-(2**63), 2**63 - 1)
DELIMITERS = (",", ";", "\t", "|")
NEVER = "\x00\x01never a cell\x01\x00"  # what DuckDB would read as NULL: no cell is, so every cell comes as text
# How each type is kept: in DuckDB, and as the column of a DataFrame a report reads
STORED = MappingProxyType(
    {"integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE", "datetime": "TIMESTAMP", "year": "BIGINT", "yearmonth": "DATE"}
)
FRAMED = MappingProxyType(
    {
        "integer": "Int64",
        "number": "float64",
        "boolean": "boolean",
        "year": "Int64",
        "date": "datetime64[us]",
        "datetime": "datetime64[us]",
        "yearmonth": "datetime64[us]",
    }
)
# A Parquet column's own type that holds a field's values as they are (other columns are read as text and judged as a CSV's)
NATIVE = MappingProxyType(
    {
        "integer": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"),
        "number": ("FLOAT", "DOUBLE", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DECIMAL"),
        "boolean": ("BOOLEAN",),
        "date": ("DATE",),
        "datetime": ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"),
        "string": ("VARCHAR",),
        "year": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT"),
    }
)
CELL_FIX = "correct the cell, or change the column's type or constraints in the descriptor"
_HEADER_FIX = "make the CSV's header match the field names of the descriptor, in order"


def quote(name: str) -> str:
    """A name as a DuckDB identifier: any column name is safe in SQL once quoted."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A text as a DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def short(value: object) -> str:
    """A value as a message shows it: its repr, cut to a readable length."""
    return safe_repr(value, SHOWN_CHARS)


@dataclass(frozen=True)
class Source:
    """One data file being read: its path, its name as messages show it, its declaration and the descriptor's name."""

    path: Path
    shown: str
    declared: DeclaredResource
    reference: Any  # the resource as Frictionless reads the descriptor (its fields give the reference readers)
    descriptor: str

    @property
    def fields(self) -> list[FieldSpec]:
        return list(self.declared.schema_.fields)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def parquet(self) -> bool:
        return self.path.suffix.lower() == ".parquet"


@dataclass
class Found:
    """Problems found so far: the first ``SHOWN_PROBLEMS`` by place, and how many there are in all."""

    problems: list[Problem]
    total: int = 0

    def add(self, problem: Problem) -> None:
        self.total += 1
        self.problems.append(problem)

    def listed(self, file: str, order: list[str]) -> list[Problem]:
        """The problems in file order, one per cell (the first found, the clearest), then how many more there are."""
        by_cell: dict[tuple[Any, ...], Problem] = {}
        for problem in self.problems:
            by_cell.setdefault((problem.line, problem.column) if problem.column else (problem.line, problem.message), problem)
        columns = {name: index for index, name in enumerate(order)}
        listed = sorted(by_cell.values(), key=lambda p: (p.line or 0, columns.get(str(p.column), -1)))
        more = self.total - len(self.problems) + max(len(listed) - SHOWN_PROBLEMS, 0)
        listed = listed[:SHOWN_PROBLEMS]
        if more > 0:
            listed.append(Problem(file=file, message=f"and {more:,} more problems", fix="correct the file, then build again"))
        return listed


# -- a CSV's structure ------------------------------------------------------------------------------------------


@dataclass
class Structure:
    """What the first pass found: the line each record starts on (None: the record's number plus one), and the problems."""

    lines: array.array[int] | None
    records: int
    problems: list[Problem]  # the first pass's problems
    length: int | None = 0  # the characters of every cell, to check another reader read the same cells (None: no need)
    fatal: bool = True  # whether they stop the read (the encoding, the header): rows of the wrong width or blank do not
    found: Found | None = None  # the rows' problems, to which the cells' are added


def csv_dialect(source: Source) -> Any:
    """The CSV dialect Frictionless reads the file with, as Python's csv module takes it."""
    from frictionless.formats import CsvControl

    return CsvControl.from_dialect(source.reference.dialect).to_python()


def structure(source: Source, encoding: str) -> Structure:
    """The CSV's encoding, header, record lines and widths, and blank rows, read as Frictionless reads them."""
    dialect = csv_dialect(source)
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        problem = Problem(file=source.shown, message=f"unknown encoding {encoding!r}", expected="utf-8", found=encoding, fix="declare encoding: utf-8")
        return Structure(None, 0, [problem])
    codec, label = ("utf-8-sig", "UTF-8") if codec == "utf-8" else (codec, encoding)
    try:
        return _records(source, codec, dialect)
    except UnicodeDecodeError:
        return Structure(None, 0, _undecodable(source, codec, label, dialect))


def quick_structure(source: Source, encoding: str) -> Structure | None:
    """The structure of a plain file without reading it record by record: UTF-8 text, no quotes and no comments, so that
    each line after the header is one record (DuckDB then checks each has the header's width). None: read it all."""
    declared = source.declared.dialect
    if codecs.lookup(encoding).name != "utf-8" or (declared and (declared.commentChar or declared.skipInitialSpace or declared.escapeChar)):
        return None
    dialect = csv_dialect(source)
    quote_byte = (dialect.quotechar or '"').encode()
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    newlines, last = 0, b"\n"
    header: list[str] | None = None
    with source.path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            if quote_byte in chunk or b"\r" in chunk:
                return None
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                return None
            if header is None:
                first = text.split("\n", 1)[0]
                if first == text or not first.strip():
                    return None  # a first line longer than a chunk, or blank: the full pass reads it
                header = _parse(first, dialect)[0]
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    if header is None or _header(source, header, dialect.delimiter):
        return None  # empty, or a header with problems: the full pass says which
    records = newlines + (last != b"\n") - 1
    if records < 1:
        return None  # no data rows: the full pass says so
    return Structure(None, records, [], None, fatal=False, found=Found([]))


def _records(source: Source, codec: str, dialect: Any) -> Structure:
    found = Found([])
    lines = array.array("q")
    names = source.names
    width = len(names)
    comment = source.declared.dialect.commentChar if source.declared.dialect else None
    length = 0
    with source.path.open(encoding=codec, newline="") as handle:
        reader = csv.reader(handle, dialect)
        start, header, plain = 1, None, True
        try:
            for record in reader:
                if header is None:
                    header = record
                    problems = _header(source, record, dialect.delimiter)
                    if problems:
                        return Structure(None, 0, problems)
                elif comment and record and record[0].startswith(comment):
                    plain = False  # a comment row, which Frictionless skips
                else:
                    plain = plain and start == len(lines) + 2
                    lines.append(start)
                    length += sum(map(len, record))
                    if len(record) != width or not any(record):
                        _width(source, found, record, start, width)
                start = reader.line_num + 1
        except csv.Error as error:
            problem = Problem(file=source.shown, message=f"the CSV cannot be read: {error}", line=reader.line_num, fix="correct the quoting on that line")
            return Structure(None, 0, [*found.listed(source.shown, names), problem])
    if header is None:
        return Structure(None, 0, [_empty(source, "an empty file (0 bytes)" if not source.path.stat().st_size else "an empty first line", dialect.delimiter)])
    if not lines and not found.total:
        problem = Problem(
            file=source.shown,
            message="the CSV has no data rows",
            line=2,
            expected="at least one row of data after the header",
            found="the header only",
            fix="add the rows, or remove the resource and its CSV",
        )
        return Structure(None, 0, [problem])
    return Structure(None if plain else lines, len(lines), found.problems, length, fatal=False, found=found)


def _empty(source: Source, found: str, delimiter: str) -> Problem:
    return Problem(
        file=source.shown,
        message="the CSV has no header",
        line=1,
        column=source.names[0] if source.names else None,
        expected=f"a header naming the columns: {delimiter.join(source.names)}",
        found=found,
        fix="write the header on the first line, then one row per line",
    )


def _header(source: Source, header: list[str], delimiter: str) -> list[Problem]:
    """The header against the descriptor's fields, by Frictionless's rules (a name differs, is missing, repeated or extra)."""
    names = source.names
    if not any(cell.strip() for cell in header):
        return [_empty(source, "an empty first line", delimiter)]
    if len(header) == 1 and len(names) >= 2:
        counts = {candidate: header[0].count(candidate) for candidate in DELIMITERS if candidate != delimiter}
        likely = max(counts, key=lambda candidate: counts[candidate])
        if counts[likely]:
            return [
                Problem(
                    file=source.shown,
                    message=f"the cells look separated by {likely!r}, not by {delimiter!r}",
                    line=1,
                    column=names[0],
                    expected=f"{len(names)} columns separated by {delimiter!r}: {delimiter.join(names)}",
                    found=short(header[0]),
                    fix=(
                        f"save the file with {delimiter!r} between cells, or declare the delimiter on the resource {source.declared.name!r} "
                        f"in {source.descriptor}: dialect: {{delimiter: {json.dumps(likely)}}}"
                    ),
                )
            ]
    sensitive = not (source.declared.dialect and source.declared.dialect.caseSensitiveHeader is False)
    problems = []
    for index, label in enumerate(header):
        name = names[index] if index < len(names) else None
        same = label == name if sensitive else name is not None and label.lower() == name.lower()
        if name is None:
            problems.append(
                _label(
                    source,
                    label or f"cell {index + 1}",
                    f"the header has a column {label!r} the descriptor does not describe",
                    "only the descriptor's fields",
                    repr(label),
                )
            )
        elif label != label.strip() and label.strip():
            problems.append(
                _label(
                    source,
                    name,
                    "a header cell has spaces around the column name",
                    repr(name),
                    repr(label),
                    "remove the spaces around the name in the CSV's header",
                )
            )
        elif not label:
            problems.append(_label(source, name, "a header cell is empty", repr(name), "an empty cell"))
        elif label in header[:index]:
            problems.append(_label(source, name, f"the header names the column {label!r} twice", repr(name), repr(label)))
        elif not same:
            problems.append(_label(source, name, "a header cell does not name the descriptor's field", repr(name), repr(label)))
    problems += [_label(source, name, f"the header has no column {name!r}", repr(name), "no such column") for name in names[len(header) :]]
    return problems


def _label(source: Source, column: str, message: str, expected: str, found: str, fix: str = _HEADER_FIX) -> Problem:
    return Problem(file=source.shown, message=message, line=1, column=column, expected=expected, found=found, fix=fix)


def _width(source: Source, found: Found, record: list[str], line: int, width: int) -> None:
    """A record's width against the header's, and a blank record, as Frictionless reports them."""
    if not any(record):  # every cell empty: Frictionless's blank row
        found.add(Problem(file=source.shown, message="the row is blank", line=line, expected="a row of cells", found="a blank row", fix="remove the blank row"))
    elif len(record) < width:
        count = len(record)
        found.add(
            Problem(
                file=source.shown,
                message="the row has fewer cells than the header",
                line=line,
                column=source.names[count],
                expected=f"{width} cells, one per column",
                found=f"{count} cell{'s' * (count != 1)}",
                fix="add the missing cells (an empty cell still needs its comma)",
            )
        )
    elif len(record) > width:
        found.add(
            Problem(
                file=source.shown,
                message="the row has more cells than the header",
                line=line,
                expected=f"{width} cells, one per column",
                found=f"{short(record[width])} in cell {width + 1}",
                fix="remove the extra cell, or quote a value with a comma",
            )
        )


def _undecodable(source: Source, codec: str, label: str, dialect: Any) -> list[Problem]:
    """Each line with bytes that are not text in the file's encoding, located by its line and cell."""
    found = Found([])
    names = source.names
    with source.path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode(codec)
            except UnicodeDecodeError as error:
                before = _parse(line[: error.start].decode(codec, "replace"), dialect) or [[]]
                records, index = _parse(line.decode(codec, "backslashreplace"), dialect), max(len(before[-1]) - 1, 0)
                record = records[len(before) - 1] if len(before) <= len(records) else []
                cell = record[index] if index < len(record) else line.decode(codec, "backslashreplace")
                found.add(
                    Problem(
                        file=source.shown,
                        message=f"the file is not {label} text",
                        line=number,
                        column=names[index] if index < len(names) else index + 1,
                        expected=f"{label} text",
                        found=f'the byte 0x{line[error.start]:02X} in "{cell.rstrip(chr(13) + chr(10))[:SHOWN_CHARS]}"',
                        fix=f"save the file as {label} (in a spreadsheet: Save As, then CSV {label}), then check the text on that line",
                    )
                )
    return found.listed(source.shown, names)


def _parse(text: str, dialect: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), dialect))


# -- every cell as text, in DuckDB ------------------------------------------------------------------------------


def load_text(con: Any, source: Source, shape: Structure, encoding: str) -> None:
    """The CSV's cells as text in table ``raw`` (one column per field, and ``__line``), read by DuckDB where it reads the
    dialect as Python does, else by Python."""
    import duckdb

    dialect = csv_dialect(source)
    declared = source.declared.dialect
    native = codecs.lookup(encoding).name == "utf-8" and not (
        declared and (declared.skipInitialSpace or declared.escapeChar or declared.doubleQuote is False or declared.commentChar)
    )
    if shape.problems:  # rows of the wrong width, or blank: only Python reads them as Frictionless does
        _load_text_by_python(con, source, encoding, dialect)
        return
    if native:
        options = {
            "header": "true",
            "delim": literal(dialect.delimiter),
            "quote": literal(dialect.quotechar or '"'),
            "escape": literal(dialect.quotechar or '"'),
            "columns": "{" + ", ".join(f"{literal(name)}: 'VARCHAR'" for name in source.names) + "}",
            "nullstr": literal(NEVER),
            "auto_detect": "false",
            "strict_mode": "true",
        }
        try:
            con.execute(
                f"CREATE TEMP TABLE raw_cells AS SELECT *, row_number() OVER () AS __record FROM read_csv({literal(str(source.path))}, "
                + ", ".join(f"{key} = {value}" for key, value in options.items())
                + ")"
            )
            lengths = " + ".join(f"coalesce(sum(length({quote(name)})), 0)" for name in source.names) if shape.length is not None else "0"
            count, length = con.execute(f"SELECT count(*), {lengths} FROM raw_cells").fetchall()[0]
            # else DuckDB read the records otherwise (a blank line skipped, spaces beside a quote kept): Python reads them
            native = count == shape.records and (shape.length is None or length == shape.length)
        except duckdb.Error:
            native = False
        if not native:
            con.execute("DROP TABLE IF EXISTS raw_cells")
    if not native:
        if shape.length is None:
            raise _Unplain
        _load_text_by_python(con, source, encoding, dialect)
        return
    if shape.lines is None:
        con.execute("CREATE TEMP TABLE raw AS SELECT * EXCLUDE (__record), __record + 1 AS __line FROM raw_cells")
    else:
        con.register("raw_lines", pd.DataFrame({"__line": shape.lines}))
        con.execute("CREATE TEMP TABLE raw AS SELECT * EXCLUDE (__record) FROM (SELECT * FROM raw_cells ORDER BY __record) POSITIONAL JOIN raw_lines")
        con.unregister("raw_lines")
    con.execute("DROP TABLE raw_cells")


def _load_text_by_python(con: Any, source: Source, encoding: str, dialect: Any) -> None:
    """The cells read by Python's csv module into ``raw``, in batches (an encoding or dialect DuckDB does not read the
    same way, or rows of the wrong width: a missing cell is empty, an extra one left out, a blank row skipped)."""
    width = len(source.names)
    columns = ", ".join(f"{quote(name)} VARCHAR" for name in source.names)
    con.execute(f"CREATE TEMP TABLE raw ({columns}, __line BIGINT)")
    codec = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    with source.path.open(encoding=codec, newline="") as handle:
        reader = csv.reader(handle, dialect)
        next(reader, None)
        start = reader.line_num + 1
        batch: list[list[Any]] = []
        comment = source.declared.dialect.commentChar if source.declared.dialect else None
        for record in reader:
            if any(record) and not (comment and record[0].startswith(comment)):  # a blank row, or a comment, is not data
                batch.append([*record[:width], *[""] * (width - len(record)), start])
            start = reader.line_num + 1
            if len(batch) == 50_000:
                _append(con, source, batch)
                batch = []
        _append(con, source, batch)


def _append(con: Any, source: Source, batch: list[list[Any]]) -> None:
    if batch:
        con.append("raw", pd.DataFrame(batch, columns=[*source.names, "__line"], dtype=object).astype({"__line": "int64"}))


def load_parquet(con: Any, source: Source) -> list[Problem]:
    """A Parquet file's columns in table ``raw`` with each row's number as ``__line``: a column of a type that holds the
    field's values as they are is kept so, any other is read as text; a column missing or not described is a problem."""
    import duckdb

    path = literal(str(source.path))
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall()
    except duckdb.Error as error:
        return [
            Problem(file=source.shown, message=f"the Parquet file cannot be read: {' '.join(str(error).split())[:200]}", fix="write the file again as Parquet")
        ]
    types = {str(row[0]): str(row[1]) for row in described}
    problems = [
        Problem(
            file=source.shown,
            message=f"the Parquet file has no column {name!r}",
            column=name,
            expected=", ".join(source.names),
            found=", ".join(types),
            fix="write the column, or correct the field names in the descriptor",
        )
        for name in source.names
        if name not in types
    ]
    problems += [
        Problem(
            file=source.shown,
            message=f"the Parquet file has a column {name!r} the descriptor does not describe",
            column=name,
            expected="only the descriptor's fields",
            found=repr(name),
            fix=f"describe it in {source.descriptor}, or leave it out of the file",
        )
        for name in types
        if name not in source.names
    ]
    if problems:
        return problems
    columns = []
    for field in source.fields:
        native = types[field.name].split("(")[0] in NATIVE.get(field.type, ())
        columns.append(quote(field.name) if native else f"CAST({quote(field.name)} AS VARCHAR) AS {quote(field.name)}")
    try:
        con.execute(f"CREATE TEMP TABLE raw AS SELECT {', '.join(columns)}, row_number() OVER () AS __line FROM read_parquet({path})")
    except duckdb.Error as error:
        return [
            Problem(file=source.shown, message=f"the Parquet file cannot be read: {' '.join(str(error).split())[:200]}", fix="write the file again as Parquet")
        ]
    return []


# -- each distinct cell judged once -----------------------------------------------------------------------------


@dataclass
class Judge:
    """The rules for one column's cells: Frictionless's reader for its type, the project's own rules and its constraints."""

    field: FieldSpec
    reference: ReferenceField
    missing: frozenset[str]

    def __post_init__(self) -> None:
        self.read: Callable[[Any], Any] = self.reference.create_value_reader()
        constraints = self.field.constraints
        self.required = bool(constraints and constraints.required)
        self.bounds: list[tuple[str, Any, Any, Callable[[Any, Any], bool]]] = []
        if constraints is not None:
            for key, holds in (
                ("minimum", lambda v, b: v >= b),
                ("maximum", lambda v, b: v <= b),
                ("exclusiveMinimum", lambda v, b: v > b),
                ("exclusiveMaximum", lambda v, b: v < b),
            ):
                bound = getattr(constraints, key)
                if bound is not None:
                    self.bounds.append((key, bound, self._typed(bound), holds))
        self.enum = [self._typed(v) for v in constraints.enum] if constraints and constraints.enum else None
        self.pattern = re.compile(constraints.pattern) if constraints and constraints.pattern else None

    @property
    def missing_numbers(self) -> list[float]:
        """The missing values that are numbers (-999): a typed column's value equal to one is missing too."""
        numbers = []
        for text in self.missing:
            with contextlib.suppress(ValueError):
                numbers.append(float(text))
        return numbers if self.field.type in ("number", "integer", "year") else []

    def missing_value(self, value: Any) -> bool:
        """Whether a typed value stands for 'no value'."""
        return not isinstance(value, bool) and isinstance(value, int | float) and float(value) in self.missing_numbers

    def _typed(self, value: Any) -> Any:
        typed = self.read(value) if isinstance(value, str) or self.field.type in ("date", "datetime", "time", "yearmonth") else value
        if typed is None and not isinstance(value, str):
            typed = self.read(str(value))
        return typed if typed is not None else value

    def text(self, text: str) -> tuple[Any, tuple[str, str, str] | None]:
        """A cell as written: its typed value, or what is wrong with it (message, expected, fix)."""
        if forbidden_char(text):
            return None, ("control", "", "")
        value = self.read(text)
        if value is None:
            expected, fix = type_expectation(self.field)
            return None, ("a cell is not of its column's type", expected, fix)
        return self.value(value, text)

    def value(self, value: Any, text: str | None = None) -> tuple[Any, tuple[str, str, str] | None]:
        """A typed value (a Parquet file's, or a cell read): the project's own rules, then the field's constraints."""
        if isinstance(value, str) and text is None and forbidden_char(value):
            return None, ("control", "", "")
        problem = self._usable(value, text) or self._bounded(value) or self._listed(value)
        return (None, problem) if problem else (value, None)

    def _usable(self, value: Any, text: str | None) -> tuple[str, str, str] | None:
        """A number the report can compute with: finite, within 64 bits, written without '_' between digits."""
        if self.field.type not in ("number", "integer") or isinstance(value, bool):
            return None
        if isinstance(value, float) and not math.isfinite(value):
            return _UNUSABLE, "a finite number (not NaN, not infinity, not too large for a float)", _UNUSABLE_FIX
        if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
            return _UNUSABLE, f"an integer between {INT64[0]:,} and {INT64[1]:,}", _UNUSABLE_FIX
        if text is not None and "_" in text and (self.field.groupChar or "") != "_":
            return _UNUSABLE, "plain digits, with no '_' between them", _UNUSABLE_FIX
        return None

    def _bounded(self, value: Any) -> tuple[str, str, str] | None:
        """The field's minimum and maximum (exclusive or not)."""
        for key, bound, typed, holds in self.bounds:
            with contextlib.suppress(TypeError):
                if not holds(value, typed):
                    return _BREAKS, f'constraint "{key}" is "{bound}"', CELL_FIX
        return None

    def _listed(self, value: Any) -> tuple[str, str, str] | None:
        """The field's allowed values, lengths and pattern."""
        constraints = self.field.constraints
        if constraints is None:
            return None
        if self.enum is not None and value not in self.enum:
            return _BREAKS, f'constraint "enum" is "{constraints.enum}"', CELL_FIX
        if isinstance(value, str | list | dict):
            if constraints.minLength is not None and len(value) < constraints.minLength:
                return _BREAKS, f'constraint "minLength" is "{constraints.minLength}"', CELL_FIX
            if constraints.maxLength is not None and len(value) > constraints.maxLength:
                return _BREAKS, f'constraint "maxLength" is "{constraints.maxLength}"', CELL_FIX
        if self.pattern is not None and isinstance(value, str) and not self.pattern.fullmatch(value):
            return _BREAKS, f'constraint "pattern" is "{self.pattern.pattern}"', CELL_FIX
        return None


_UNUSABLE = "a cell holds a number the report cannot use"
_UNUSABLE_FIX = "write the value with plain digits, or leave the cell empty if the field allows it"
_BREAKS = "a cell breaks its column's constraint"


def type_expectation(field: FieldSpec) -> tuple[str, str]:
    """What a cell of a field's type looks like, and how to fix one that is not."""
    if field.type == "integer":
        return "an integer (plain digits: no % sign, no thousands separator, no decimals)", "write plain digits (groupChar applies to number fields only)"
    if field.type == "number":
        decimal_char, group = field.decimalChar or ".", field.groupChar or ""
        written = f"{repr(group) if group else 'no'} thousands separator, {decimal_char!r} before decimals"
        return (
            f"a number (plain digits: no % sign, {written})",
            "write the number with plain digits, or declare the field's groupChar or decimalChar in the descriptor (e.g. groupChar: ',')",
        )
    shown = f"{field.type} ({field.format})" if field.format and field.format != "default" else field.type
    article = "an" if shown[:1] in "aeiou" else "a"
    return f"{article} {shown}", "correct the cell, or change the column's type in the descriptor"


def judges(source: Source) -> list[Judge]:
    """A judge per field, each with the field's reference reader (numbers as floats, as the report computes with)."""
    schema_missing = source.declared.schema_.missingValues or [""]
    made = []
    for field, reference in zip(source.fields, source.reference.schema.fields, strict=True):
        if field.type == "number":
            reference.float_number = True
        made.append(Judge(field, reference, frozenset(field.missingValues if field.missingValues is not None else schema_missing)))
    return made


def judge_columns(con: Any, source: Source, found: Found) -> list[str]:
    """Judge each column's distinct cells; the typed column of each field as SQL over ``raw`` (and its verdict tables).

    A cell is found again by its text: a CSV's as written, a typed Parquet column's as DuckDB writes the value.
    """
    typed = []
    rows = con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
    for index, judge in enumerate(judges(source)):
        name = quote(judge.field.name)
        kind = str(con.execute(f"SELECT typeof({name}) FROM raw LIMIT 1").fetchall()[0][0]) if rows else "VARCHAR"
        text = kind == "VARCHAR"
        key = f"raw.{name}" if text else f"CAST(raw.{name} AS VARCHAR)"
        verdicts: list[tuple[Any, ...]] = []
        for cell, value in con.execute(f"SELECT DISTINCT {key}, raw.{name} FROM raw WHERE raw.{name} IS NOT NULL").fetchall():
            if cell in judge.missing or (not text and judge.missing_value(value)):  # a missing value, as written or as a typed value
                continue
            judged, problem = judge.text(cell) if text else judge.value(value)
            verdicts.append((cell, _stored(judged, judge.field.type), *(problem or ("", "", "")), short(cell) if text else str(value)))
        table = f"verdict_{index}"
        frame = pd.DataFrame(verdicts, columns=["cell", "value", "problem", "expected", "fix", "shown"], dtype=object)
        con.register(f"{table}_frame", frame)
        store = STORED.get(judge.field.type, "VARCHAR")
        con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT CAST(cell AS VARCHAR) AS cell, CAST(value AS {store}) AS value, * EXCLUDE (cell, value) FROM {table}_frame"
        )
        con.unregister(f"{table}_frame")
        _cell_problems(con, source, judge, table, key, found)
        if judge.required or judge.field.name in _key(source):
            written = ", ".join(literal(m) for m in judge.missing)
            numbers = ", ".join(repr(number) for number in judge.missing_numbers)
            empty = f"{name} IS NULL" + (f" OR {key} IN ({written})" if written else "") + (f" OR raw.{name} IN ({numbers})" if numbers and not text else "")
            for (line,) in con.execute(f"SELECT __line FROM raw WHERE {empty} ORDER BY __line LIMIT {SHOWN_PROBLEMS}").fetchall():
                found.add(
                    Problem(
                        file=source.shown,
                        message=_BREAKS,
                        line=int(line),
                        column=judge.field.name,
                        expected="a value: the column is required",
                        found="an empty cell",
                        fix="fill in the cell",
                    )
                )
        typed.append(f"(SELECT value FROM {table} WHERE cell = {key}) AS {name}")
    return typed


def _stored(value: Any, kind: str) -> Any:
    """A typed value as its verdict table holds it until DuckDB casts it to the column's type."""
    if value is None:
        return None
    if kind == "datetime" and getattr(value, "tzinfo", None) is not None:
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if kind == "yearmonth":
        return f"{value.year:04d}-{value.month:02d}-01"
    if isinstance(value, decimal.Decimal):
        return float(value)
    if kind in ("date", "datetime", "time") and hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if kind == "datetime" else value.isoformat()
    if kind in ("object", "array", "geojson", "geopoint", "duration", "any", "time", "string"):
        return value if isinstance(value, str) else str(value)
    return value


def _cell_problems(con: Any, source: Source, judge: Judge, table: str, key: str, found: Found) -> None:
    """Each cell whose text (or value) the judge refuses, by line, at most SHOWN_PROBLEMS of a column."""
    joined = f"FROM raw JOIN {table} AS v ON {key} = v.cell WHERE v.problem <> ''"
    rows = con.execute(f"SELECT raw.__line, v.cell, v.problem, v.expected, v.fix, v.shown {joined} ORDER BY raw.__line LIMIT {SHOWN_PROBLEMS}").fetchall()
    found.total += max(con.execute(f"SELECT count(*) {joined}").fetchall()[0][0] - len(rows), 0)
    for line, cell, message, expected, fix, shown in rows:
        if message == "control":
            match = forbidden_char(str(cell))
            assert match is not None
            found.add(char_problem(source.shown, str(cell), match, line=int(line), column=judge.field.name))
        else:
            found.add(Problem(file=source.shown, message=message, line=int(line), column=judge.field.name, expected=expected, found=shown, fix=fix))


def _key(source: Source) -> list[str]:
    key = source.declared.schema_.primaryKey
    return [key] if isinstance(key, str) else list(key or [])


def _unit(source: Source) -> str:
    return "row" if source.parquet else "line"


def key_problems(con: Any, source: Source, found: Found) -> None:
    """Rows that repeat the primary key of an earlier row, and values a unique column holds twice, found in SQL over ``typed``."""
    key = _key(source)
    if key:
        columns = ", ".join(quote(k) for k in key)
        repeated = con.execute(
            f"SELECT __line, first_value(__line) OVER (PARTITION BY {columns} ORDER BY __line) AS first, "
            f"first_value(__position) OVER (PARTITION BY {columns} ORDER BY __line) AS position "
            f"FROM (SELECT *, row_number() OVER (ORDER BY __line) + 1 AS __position FROM typed) "
            f"QUALIFY __line <> first ORDER BY __line LIMIT {SHOWN_PROBLEMS}"
        ).fetchall()
        for line, first, position in repeated:
            found.add(
                Problem(
                    file=source.shown,
                    message="the row repeats the key of an earlier row",
                    line=int(line),
                    expected="each key once",
                    found=f"the same as in the row at position {position} ({_unit(source)} {first})",
                    fix="remove or correct the repeated row",
                )
            )
    for field in source.fields:
        if field.constraints and field.constraints.unique:
            name = quote(field.name)
            rows = con.execute(
                f"SELECT __line, {name}, first_value(__line) OVER (PARTITION BY {name} ORDER BY __line) AS first FROM typed "
                f"WHERE {name} IS NOT NULL QUALIFY __line <> first ORDER BY __line LIMIT {SHOWN_PROBLEMS}"
            ).fetchall()
            for line, value, first in rows:
                found.add(
                    Problem(
                        file=source.shown,
                        message=_BREAKS,
                        line=int(line),
                        column=field.name,
                        expected='constraint "unique" is "True"',
                        found=f"{short(value)}, as on {_unit(source)} {first}",
                        fix=CELL_FIX,
                    )
                )


# -- the whole read ---------------------------------------------------------------------------------------------


def read(con: Any, source: Source) -> list[Problem]:
    """Read the data file into table ``typed`` of ``con`` (each field typed, and ``__line``); the problems, if any (then no table)."""
    encoding = source.declared.encoding or "utf-8"
    found = Found([])
    if source.parquet:
        problems = load_parquet(con, source)
        if problems:
            return problems
    else:
        shape = quick_structure(source, encoding)
        if shape is not None:
            try:
                load_text(con, source, shape, encoding)
            except _Unplain:  # lines that are not one record each, or of another width: read record by record
                shape = None
        if shape is None:
            shape = structure(source, encoding)
            if shape.fatal:
                return shape.problems
            load_text(con, source, shape, encoding)
        found = shape.found or found
    typed = judge_columns(con, source, found)
    con.execute(f"CREATE TEMP TABLE typed AS SELECT {', '.join(typed)}, __line FROM raw ORDER BY __line")
    key_problems(con, source, found)
    return found.listed(source.shown, source.names)


class _Unplain(Exception):
    """A file the quick structure took for plain is not: it is read record by record."""


def frame_of(con: Any, source: Source, relation: str = "typed") -> pd.DataFrame:
    """The typed rows as a DataFrame, each column of its field's dtype, with ``__line``."""
    frame: pd.DataFrame = con.execute(f"SELECT * FROM {relation} ORDER BY __line").df()
    for field in source.fields:
        column = frame[field.name]
        kind = FRAMED.get(field.type)
        frame[field.name] = column.astype(cast(Any, kind)) if kind else column.astype(object).where(column.notna(), None).astype("string")
    return frame
