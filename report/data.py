"""Load the data package: validate every CSV against its descriptor with frictionless, and keep its typed rows in pandas."""

from __future__ import annotations

import codecs
import copy
import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from report import bigdata
from report.bigdata import is_large
from report.errors import Problem, ReportError
from report.memo import remembered
from report.package_model import Display, Package
from report.package_model import FieldSpec as DeclaredField
from report.package_model import Resource as DeclaredResource
from report.project import cache_folder
from report.schema import validate
from report.strict import Mapping, char_problem, forbidden_char, line_of, load_yaml
from report.text import DateFormat, NumberFormat

if TYPE_CHECKING:
    from frictionless import Package as FrictionlessPackage
    from frictionless import Resource, Row

DESCRIPTOR_NAMES = ("datapackage.yaml", "datapackage.yml", "datapackage.json")
CSV_DEFAULTS = MappingProxyType({"delimiter": ",", "quote_char": '"', "double_quote": True, "skip_initial_space": False})
DELIMITERS = (",", ";", "\t", "|")
INT64 = (-(2**63), 2**63 - 1)
SHOWN_CHARS = 60
SHOWN_ROWS = 100  # the data page lists a dataset's rows up to this many; past it, its first rows and a summary of each column


@dataclass(frozen=True)
class Field:
    """One column of a dataset, as the descriptor declares it, with how its values print."""

    name: str
    type: str
    title: str
    description: str
    unit: str | None
    fmt: NumberFormat | DateFormat | None = None

    @property
    def temporal(self) -> bool:
        """Whether the column holds dates (or date-times)."""
        return isinstance(self.fmt, DateFormat)


@dataclass(frozen=True)
class Dataset:
    """A validated CSV with what the descriptor says about it."""

    name: str
    path: str
    title: str
    description: str
    reading: str
    precision: float
    sources: tuple[dict[str, str], ...]
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    frame: pd.DataFrame  # every row; for a large dataset, only its first rows (the rest stays in DuckDB)
    lines: tuple[int, ...]
    rows: int = 0
    store: Path | None = None  # a large dataset's DuckDB database (see report.bigdata)
    summary: tuple[dict[str, Any], ...] = ()  # per-column summary of a dataset of more than SHOWN_ROWS rows
    file: Path | None = None  # the data file, published as it is when the dataset is large

    @property
    def shown(self) -> pd.DataFrame:
        """The rows the data page lists: every row, or the first ones of a dataset it summarizes."""
        return self.frame.head(bigdata.HEAD_ROWS) if self.summary else self.frame

    @property
    def large(self) -> bool:
        """Whether the dataset is read by DuckDB and kept out of memory: report specs read it through SQL views."""
        return self.store is not None

    def field(self, name: str) -> Field:
        """The field called ``name``, or a located error naming the fields there are."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise ReportError.at(
            self.path,
            f"dataset {self.name!r} has no column {name!r}",
            expected=", ".join(f.name for f in self.fields),
            found=name,
        )

    @property
    def approximate(self) -> bool:
        """Whether the values were read off a figure rather than published as numbers."""
        return self.reading == "figure"


@dataclass(frozen=True)
class _Csv:
    """One CSV being loaded: its name as shown, its bytes, its header as written and the line each record starts on."""

    name: str
    raw: bytes
    header: list[str]
    lines: list[int]

    def line(self, record: int | None) -> int | None:
        """The line on which a record (1 for the header) starts."""
        if record is None or not 0 < record <= len(self.lines):
            return record
        return self.lines[record - 1]


def find_descriptor(data_dir: Path) -> Path:
    """The data package descriptor in ``data_dir``."""
    for name in DESCRIPTOR_NAMES:
        if (data_dir / name).is_file():
            return data_dir / name
    raise ReportError.at(
        data_dir,
        "no data package descriptor",
        expected=" or ".join(DESCRIPTOR_NAMES),
        found="none",
        fix="add data/datapackage.yaml describing each CSV (see the author's guide)",
    )


def read_descriptor(path: Path, shown: str | None = None) -> Mapping:
    """The descriptor as written, checked against its declaration: located errors for bad YAML or JSON, unknown keys and wrong types."""
    return _declared(path, shown or str(path))[0]


def _declared(path: Path, shown: str) -> tuple[Mapping, Package]:
    """The descriptor as written, and as its declaration reads it."""
    descriptor = load_yaml(path, shown, "the descriptor")
    if not isinstance(descriptor, Mapping):
        raise ReportError.at(shown, "the descriptor must be a mapping of keys", expected="resources: [...]", found=type(descriptor).__name__)
    return descriptor, validate(Package, descriptor, shown)


def load_package(data_dir: Path, root: Path | None = None, scratch: Path | None = None) -> dict[str, Dataset]:
    """Validate every CSV of the data package and return the datasets by name."""
    return read_package(data_dir, root, scratch)[0]


def read_package(data_dir: Path, root: Path | None = None, scratch: Path | None = None) -> tuple[dict[str, Dataset], Mapping]:
    """Every dataset of the data package by name, each CSV validated, and the descriptor as written (read once).

    With ``scratch``, nothing is written to the project: a large file's store is read from ``.cache/`` if kept there, else made in ``scratch``.
    """
    root = root or data_dir.parent
    descriptor_path = find_descriptor(data_dir)
    shown = _shown(descriptor_path, root)
    descriptor, declared = _declared(descriptor_path, shown)
    problems = _file_problems(declared, descriptor, data_dir, shown, root)
    if problems:
        raise ReportError(problems)
    package = _package(descriptor, descriptor_path, shown)
    datasets: dict[str, Dataset] = {}
    for declared_resource, resource in zip(declared.resources, package.resources, strict=True):
        path = data_dir / declared_resource.path
        if is_large(path):
            try:
                datasets[declared_resource.name] = _large(declared_resource, path, _shown(path, root), root, scratch)
            except ReportError as error:
                problems.extend(error.problems)
            continue
        csv_name = _shown(path, root)
        raw = _read(path, csv_name)
        # The same declaration and bytes give the same dataset: parsed and validated once per process (the live preview,
        # tests). The validation reads the file again: what it made is kept only if the file was not saved meanwhile.
        inputs = (declared_resource, resource.to_descriptor(), raw, csv_name, shown)
        loaded = remembered(
            "dataset",
            inputs,
            lambda: _load(declared_resource, resource, raw, csv_name, shown),  # noqa: B023 (called at once)
            keep=lambda: _read(path, csv_name) == raw,  # noqa: B023
        )
        if isinstance(loaded, Dataset):
            datasets[loaded.name] = loaded
        else:
            problems.extend(loaded)
    if problems:
        raise ReportError(problems)
    return datasets, descriptor


def _large(spec: DeclaredResource, path: Path, shown: str, root: Path, scratch: Path | None) -> Dataset:
    """A large data file, validated and kept by DuckDB; the dataset holds its first rows, its row count and a summary."""
    stored = bigdata.load(spec, path, shown, cache_folder(root, "data"), scratch)
    extra = {"rows": stored.rows, "store": stored.store, "summary": tuple(bigdata.summary_text(stored.summary)), "file": path}
    return described(spec, shown, stored.head, tuple(range(2, 2 + len(stored.head))), **extra)


def _read(path: Path, shown: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ReportError.at(shown, f"the CSV cannot be read: {error.strerror}", fix="check that you may read the file (its permissions and owner)") from None


def _shown(path: Path, root: Path) -> str:
    """A path as messages show it: relative to the project root when it is inside it (a link is named, not followed)."""
    try:
        return str((path.parent.resolve() / path.name).relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _short(value: object) -> str:
    """A value as the message shows it: its repr, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _file_problems(declared: Package, descriptor: Mapping, data_dir: Path, shown: str, root: Path) -> list[Problem]:
    """CSVs the descriptor names that are missing or lead outside data/, and CSVs it does not describe."""
    problems = []
    described = set()
    inside = data_dir.resolve()
    for index, resource in enumerate(declared.resources):
        path = data_dir / resource.path
        described.add(path.name)
        line = line_of(descriptor, ("resources", index, "path"))
        if not path.is_file():
            problems.append(
                Problem(
                    file=shown,
                    message=f"resource {resource.name!r} names a file that does not exist",
                    line=line,
                    expected=f"a file {_shown(path, root)}",
                    found="no such file",
                    fix="add the CSV, or correct or remove the resource's path",
                )
            )
        elif not path.resolve().is_relative_to(inside):
            problems.append(
                Problem(
                    file=_shown(path, root),
                    message="the data file is a link to a file outside data/",
                    expected="a file inside data/",
                    found=f"a link to {path.resolve()}",
                    fix="copy the file into data/ instead of linking to it: the build publishes only what data/ holds",
                )
            )
    for csv_path in sorted(p for pattern in ("*.csv", "*.tsv", "*.parquet") for p in data_dir.glob(pattern)):
        if csv_path.name not in described:
            problems.append(
                Problem(
                    file=_shown(csv_path, root),
                    message="this CSV is not described in the data package",
                    expected=f"a resource with path: {csv_path.name} in {shown}",
                    found="none",
                    fix=f"describe it in {shown}, or move it out of data/",
                )
            )
    return problems


def _package(descriptor: dict[str, Any], path: Path, shown: str) -> FrictionlessPackage:
    """The frictionless package, set to read numbers as floats and CSVs as declared (no guessing of the dialect or encoding)."""
    from frictionless import FrictionlessException, Package, Resource
    from frictionless.formats import CsvControl

    prepared = copy.deepcopy(descriptor)
    for resource in prepared["resources"]:
        resource.setdefault("encoding", "utf-8")
        for field in (resource.get("schema") or {}).get("fields") or []:
            if isinstance(field, dict) and field.get("type") == "number":
                field["floatNumber"] = True
    try:
        package = Package(prepared, basepath=str(path.parent))
    except FrictionlessException as error:
        for index, resource in enumerate(prepared["resources"]):
            try:
                Resource(resource, basepath=str(path.parent))
            except FrictionlessException as reason:
                message = f"resource {resource['name']!r} is not valid: {_reasons(reason)}"
                raise ReportError.at(shown, message, line=line_of(descriptor, ("resources", index)), fix=_DESCRIPTOR_FIX) from None
        raise ReportError.at(shown, f"the descriptor is not valid: {_reasons(error)}", fix=_DESCRIPTOR_FIX) from None
    for resource in package.resources:
        control = CsvControl.from_dialect(resource.dialect)
        for name, value in CSV_DEFAULTS.items():
            if not control.has_defined(name):
                setattr(control, name, "\t" if name == "delimiter" and resource.format == "tsv" else value)
    return package


_DESCRIPTOR_FIX = "correct the resource in the descriptor (see https://datapackage.org for the fields of a data package)"


def _reasons(error: Any) -> str:
    """What a frictionless exception says, with the reasons it gives."""
    return "; ".join([reason.message for reason in error.reasons] or [error.error.message])


def _load(spec: DeclaredResource, resource: Resource, raw: bytes, csv_name: str, descriptor_name: str) -> Dataset | list[Problem]:
    """One CSV validated and typed, or every problem it has."""
    from frictionless.formats import CsvControl

    dialect = CsvControl.from_dialect(resource.dialect).to_python()
    text, problems = _decode(raw, str(resource.encoding), csv_name, dialect, resource.schema.field_names)
    if problems:
        return problems
    data = _records(text, raw, csv_name, dialect)
    if isinstance(data, Problem):
        return [data]
    problems = _shape_problems(data, resource, descriptor_name, dialect.delimiter) or _control_problems(text, data, dialect, resource.schema.field_names)
    if problems:
        return problems
    rows: list[Row] = []
    try:
        report = resource.validate(on_row=cast(Any, rows.append), limit_errors=0)
    except (ArithmeticError, LookupError, TypeError, ValueError) as error:
        # frictionless trusts the descriptor: e.g. a text minimum on a number field fails inside its checks
        return [Problem(file=descriptor_name, message=f"resource {resource.name!r} could not be validated: {error}", fix=_DESCRIPTOR_FIX)]
    problems = _header_problems(data, resource) + _validation_problems(
        [*report.errors, *(e for task in report.tasks for e in task.errors)], data, resource, descriptor_name, rows
    )
    if not problems and not rows:
        problems.append(
            Problem(
                file=csv_name,
                message="the CSV has no data rows",
                line=2,
                expected="at least one row of data after the header",
                found="the header only",
                fix="add the rows, or remove the resource and its CSV",
            )
        )
    return problems or _dataset(spec, resource, data, csv_name, rows)


def _decode(raw: bytes, encoding: str, csv_name: str, dialect: Any, names: list[str]) -> tuple[str, list[Problem]]:
    """The file's text, or a located problem for each line with bytes that are not text in its encoding."""
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        return "", [Problem(file=csv_name, message=f"unknown encoding {encoding!r}", expected="utf-8", found=encoding, fix="declare encoding: utf-8")]
    codec, label = ("utf-8-sig", "UTF-8") if codec == "utf-8" else (codec, encoding)
    try:
        return raw.decode(codec), []
    except UnicodeDecodeError:
        pass
    problems = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode(codec)
        except UnicodeDecodeError as error:
            before = _parse(line[: error.start].decode(codec, "replace"), dialect) or [[]]
            records, index = _parse(line.decode(codec, "backslashreplace"), dialect), max(len(before[-1]) - 1, 0)
            record = records[len(before) - 1] if len(before) <= len(records) else []
            cell = record[index] if index < len(record) else line.decode(codec, "backslashreplace")
            problems.append(
                Problem(
                    file=csv_name,
                    message=f"the file is not {label} text",
                    line=number,
                    column=names[index] if index < len(names) else index + 1,
                    expected=f"{label} text",
                    found=f'the byte 0x{line[error.start]:02X} in "{cell[:SHOWN_CHARS]}"',
                    fix=f"save the file as {label} (in a spreadsheet: Save As, then CSV {label}), then check the text on that line",
                )
            )
    return "", problems


def _parse(text: str, dialect: Any) -> list[list[str]]:
    """The records of a piece of CSV text."""
    return list(csv.reader(io.StringIO(text, newline=""), dialect))


def _records(text: str, raw: bytes, csv_name: str, dialect: Any) -> _Csv | Problem:
    """The header as written and the line on which each record starts, read as frictionless reads them."""
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header: list[str] = []
    lines: list[int] = []
    start = 1
    try:
        for record in reader:
            header = header if lines else record
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        return Problem(file=csv_name, message=f"the CSV cannot be read: {error}", line=reader.line_num, fix="correct the quoting on that line")
    return _Csv(csv_name, raw, header, lines)


def _control_problems(text: str, data: _Csv, dialect: Any, names: list[str]) -> list[Problem]:
    """Each cell holding a control character (the chart renderer would abort on it), located by line and column."""
    if not forbidden_char(text):
        return []
    problems = []
    for number, record in enumerate(csv.reader(io.StringIO(text, newline=""), dialect), start=1):
        for index, cell in enumerate(record):
            match = forbidden_char(cell)
            if match:
                column = names[index] if index < len(names) else index + 1
                problems.append(char_problem(data.name, cell, match, line=data.line(number), column=column))
    return problems


def _shape_problems(data: _Csv, resource: Resource, descriptor_name: str, delimiter: str) -> list[Problem]:
    """An empty file, or a header that another delimiter would split into the columns."""
    names = resource.schema.field_names
    if not any(cell.strip() for cell in data.header):
        return [
            Problem(
                file=data.name,
                message="the CSV has no header",
                line=1,
                column=names[0] if names else None,
                expected=f"a header naming the columns: {delimiter.join(names)}",
                found=f"an empty file ({len(data.raw)} bytes)" if not data.raw.strip() else "an empty first line",
                fix="write the header on the first line, then one row per line",
            )
        ]
    if len(data.header) != 1 or len(names) < 2:
        return []
    counts = {candidate: data.header[0].count(candidate) for candidate in DELIMITERS if candidate != delimiter}
    likely = max(counts, key=lambda candidate: counts[candidate])
    if not counts[likely]:
        return []
    return [
        Problem(
            file=data.name,
            message=f"the cells look separated by {likely!r}, not by {delimiter!r}",
            line=1,
            column=names[0],
            expected=f"{len(names)} columns separated by {delimiter!r}: {delimiter.join(names)}",
            found=_short(data.header[0]),
            fix=(
                f"save the file with {delimiter!r} between cells, or declare the delimiter on the resource {resource.name!r} "
                f"in {descriptor_name}: dialect: {{delimiter: {json.dumps(likely)}}}"
            ),
        )
    ]


def _header_problems(data: _Csv, resource: Resource) -> list[Problem]:
    """Header cells with spaces around the name: frictionless would strip them, but a column name is exact."""
    names = resource.schema.field_names
    problems = []
    for index, label in enumerate(data.header):
        if label != label.strip() and label.strip():
            expected = names[index] if index < len(names) else label.strip()
            problems.append(
                Problem(
                    file=data.name,
                    message="a header cell has spaces around the column name",
                    line=data.line(1),
                    column=expected,
                    expected=repr(expected),
                    found=repr(label),
                    fix="remove the spaces around the name in the CSV's header",
                )
            )
    return problems


def _validation_problems(errors: list[Any], data: _Csv, resource: Resource, descriptor_name: str, rows: list[Row]) -> list[Problem]:
    """Each error frictionless found, located, with the numbers pandas cannot hold added: one problem per cell, the clearest."""
    blank = {error.row_number for error in errors if error.type == "blank-row"}
    kept = [e for e in errors if getattr(e, "row_number", None) not in blank or e.type == "blank-row"]
    by_cell: dict[tuple[int | None, object], Problem] = {}
    for problem in _value_problems(data, resource, rows) + [_problem(data, e, resource, descriptor_name) for e in sorted(kept, key=_rank)]:
        by_cell.setdefault((problem.line, problem.column) if problem.column else (problem.line, problem.message), problem)
    order = {name: index for index, name in enumerate(resource.schema.field_names)}
    return sorted(by_cell.values(), key=lambda p: (p.line or 0, order.get(str(p.column), -1)))


def _rank(error: Any) -> int:
    """Which error to keep when several concern one cell: a missing cell explains a required value that is missing."""
    return 0 if error.type in ("missing-cell", "extra-cell") else 1


def _value_problems(data: _Csv, resource: Resource, rows: list[Row]) -> list[Problem]:
    """Numbers frictionless reads but the report must not: NaN, infinities, digits joined by '_', integers past 64 bits."""
    problems = []
    numeric = [(index, field) for index, field in enumerate(resource.schema.fields) if field.type in ("number", "integer")]
    for row in rows:
        for index, field in numeric:
            value, cell = row[field.name], row.cells[index] if index < len(row.cells) else None
            if value is None or not isinstance(cell, str):
                continue
            if isinstance(value, float) and not math.isfinite(value):
                expected = "a finite number (not NaN, not infinity, not too large for a float)"
            elif isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
                expected = f"an integer between {INT64[0]:,} and {INT64[1]:,}"
            elif "_" in cell and getattr(field, "group_char", "") != "_":
                expected = "plain digits, with no '_' between them"
            else:
                continue
            problems.append(
                Problem(
                    file=data.name,
                    message="a cell holds a number the report cannot use",
                    line=data.line(row.row_number),
                    column=field.name,
                    expected=expected,
                    found=_short(cell),
                    fix="write the value with plain digits, or leave the cell empty if the field allows it",
                )
            )
    return problems


_HEADER_ERRORS = frozenset({"incorrect-label", "extra-label", "missing-label", "duplicate-label", "blank-label", "blank-header"})
_SOURCE_ERRORS = frozenset({"source-error", "scheme-error", "format-error", "encoding-error", "compression-error"})
_MESSAGES = MappingProxyType(
    {
        "type-error": "a cell is not of its column's type",
        "constraint-error": "a cell breaks its column's constraint",
        "missing-cell": "the row has fewer cells than the header",
        "extra-cell": "the row has more cells than the header",
        "primary-key": "the row repeats the key of an earlier row",
        "blank-row": "the row is blank",
    }
)
_CELL_FIX = "correct the cell, or change the column's type or constraints in the descriptor"


def _problem(data: _Csv, error: Any, resource: Resource, descriptor_name: str) -> Problem:
    """A frictionless error as a located problem in the CSV (or in the descriptor, for metadata errors)."""
    details = error.to_descriptor()
    kind = details["type"]
    if kind in _HEADER_ERRORS:
        return _label_problem(data, details)
    if "rowNumber" not in details and kind not in _SOURCE_ERRORS:
        return Problem(file=descriptor_name, message=details.get("message", kind), fix=_DESCRIPTOR_FIX)
    name = details.get("fieldName") or None
    field = resource.schema.get_field(name) if name and resource.schema.has_field(name) else None
    expected, found, fix = _explain(kind, details, field, len(resource.schema.fields))
    return Problem(
        file=data.name,
        message=_MESSAGES.get(kind, details.get("message", kind)),
        line=data.line(details.get("rowNumber")),
        column=name,
        expected=expected,
        found=found,
        fix=fix,
    )


def _explain(kind: str, details: dict[str, Any], field: Any, width: int) -> tuple[str | None, str | None, str]:
    """What was expected of a row or cell, what was found and how to fix it."""
    cell, note, count = details.get("cell"), details.get("note", ""), len(details.get("cells", []))
    if kind == "type-error":
        expected, fix = _type_expectation(field, note)
        return expected, _short(cell), fix
    if kind == "constraint-error" and note.startswith('constraint "required"'):
        return "a value: the column is required", "an empty cell", "fill in the cell"
    if kind == "missing-cell":
        return f"{width} cells, one per column", f"{count} cell{'s' * (count != 1)}", "add the missing cells (an empty cell still needs its comma)"
    if kind == "extra-cell":
        return (
            f"{width} cells, one per column",
            f"{_short(cell)} in cell {details.get('fieldNumber')}",
            "remove the extra cell, or quote a value with a comma",
        )
    if kind == "primary-key":
        return "each key once", note, "remove or correct the repeated row"
    if kind == "blank-row":
        return "a row of cells", "a blank row", "remove the blank row"
    return note or None, (_short(cell) if cell is not None else None), _CELL_FIX


def _type_expectation(field: Any, note: str) -> tuple[str, str]:
    """What a cell of a field's type looks like, and how to fix one that is not."""
    type_name = getattr(field, "type", None) or note.removeprefix("type is ").strip('"').split("/")[0]
    article = "an" if type_name[:1] in "aeiou" else "a"
    if type_name == "integer":
        return "an integer (plain digits: no % sign, no thousands separator, no decimals)", "write plain digits (groupChar applies to number fields only)"
    if type_name == "number":
        decimal, group = getattr(field, "decimal_char", "."), getattr(field, "group_char", "")
        written = f"{repr(group) if group else 'no'} thousands separator, {decimal!r} before decimals"
        return (
            f"a number (plain digits: no % sign, {written})",
            "write the number with plain digits, or declare the field's groupChar or decimalChar in the descriptor (e.g. groupChar: ',')",
        )
    return f"{article} {type_name}", "correct the cell, or change the column's type in the descriptor"


def _label_problem(data: _Csv, details: dict[str, Any]) -> Problem:
    """A header error: the label found against the field name the descriptor expects at that place."""
    kind, label, name = details["type"], details.get("label") or "", details.get("fieldName") or ""
    messages = {
        "incorrect-label": ("a header cell does not name the descriptor's field", repr(name), repr(label)),
        "duplicate-label": (f"the header names the column {label!r} twice", repr(name), repr(label)),
        "missing-label": (f"the header has no column {name!r}", repr(name), "no such column"),
        "extra-label": (f"the header has a column {label!r} the descriptor does not describe", "only the descriptor's fields", repr(label)),
        "blank-label": ("a header cell is empty", repr(name), "an empty cell"),
        "blank-header": ("the header is blank", "the field names", "an empty header"),
    }
    message, expected, found = messages[kind]
    return Problem(
        file=data.name,
        message=message,
        line=data.line(1),
        column=name or label or None,
        expected=expected,
        found=found,
        fix="make the CSV's header match the field names of the descriptor, in order",
    )


_DTYPES = MappingProxyType(
    {"integer": "Int64", "number": "float64", "boolean": "boolean", "year": "Int64", "date": "datetime64[ns]", "datetime": "datetime64[ns]"}
)
_DATES = ("date", "datetime", "yearmonth")


def number_format(field: DeclaredField) -> NumberFormat:
    """How a numeric column prints: from its unit, its type and its declared display."""
    display = field.display or Display()
    if field.type == "year":
        return NumberFormat("", 0, thousands=False)
    decimals = display.decimals if display.decimals is not None else 0 if field.type == "integer" else 2 if display.currency else 1
    if display.percent:
        return NumberFormat("%", decimals, display.thousands, 100)
    return NumberFormat(field.unit or "", decimals, display.thousands, 1, display.currency, display.duration)


def _column(field: DeclaredField, values: list[Any]) -> pd.Series:
    """A column's values typed for pandas (year-months as the first day of their month)."""
    if field.type == "yearmonth":
        values = [None if v is None else pd.Timestamp(year=v.year, month=v.month, day=1) for v in values]
    if field.type == "datetime":
        values = [None if v is None else pd.Timestamp(v).tz_localize(None) if pd.Timestamp(v).tzinfo else pd.Timestamp(v) for v in values]
    kind = "datetime64[ns]" if field.type in _DATES else _DTYPES.get(field.type, "string")
    column: pd.Series = pd.Series(values, name=field.name, dtype="object").astype(cast(Any, kind))
    return column


def _dataset(spec: DeclaredResource, resource: Resource, data: _Csv, csv_name: str, rows: list[Row]) -> Dataset:
    """The dataset: the typed values frictionless read (honouring decimalChar, groupChar and missingValues), and their lines."""
    declared = spec.schema_.fields
    records = [row.to_list() for row in rows]
    frame = pd.DataFrame({f.name: _column(f, [record[i] for record in records]) for i, f in enumerate(declared)})
    lines = tuple(data.line(row.row_number) or row.row_number for row in rows)
    summary = tuple(bigdata.summarize(frame)) if len(frame) > SHOWN_ROWS else ()
    return described(spec, csv_name, frame, lines, rows=len(frame), summary=summary)


def described(spec: DeclaredResource, shown: str, frame: pd.DataFrame, lines: tuple[int, ...], **extra: Any) -> Dataset:
    """A dataset from its declaration and its rows (for a large one, its first rows and what DuckDB keeps)."""
    fields = tuple(
        Field(
            name=f.name,
            type=f.type,
            title=f.title or f.name,
            description=f.description or "",
            unit=f.unit,
            fmt=DateFormat.for_values(frame[f.name], (f.display or Display()).date, with_time=f.type == "datetime")
            if f.type in _DATES
            else number_format(f)
            if f.type in ("integer", "number", "year")
            else None,
        )
        for f in spec.schema_.fields
    )
    key = spec.schema_.primaryKey
    return Dataset(
        name=spec.name,
        path=shown,
        title=spec.title or spec.name,
        description=" ".join((spec.description or "").split()),
        reading=spec.reading,
        precision=spec.precision,
        sources=tuple(source.model_dump(exclude_none=True) for source in spec.sources or ()),
        fields=fields,
        primary_key=tuple([key] if isinstance(key, str) else key or ()),
        frame=frame,
        lines=lines,
        **extra,
    )
