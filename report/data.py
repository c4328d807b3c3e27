"""Load the data package: validate every CSV against its descriptor, then read it into pandas."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from report.errors import Problem, ReportError

DESCRIPTOR_NAMES = ("datapackage.yaml", "datapackage.yml", "datapackage.json")
READINGS = {"figure": "read off the figure", "table": "published in a table"}


@dataclass(frozen=True)
class Field:
    """One column of a dataset, as the descriptor declares it."""

    name: str
    type: str
    title: str
    description: str
    unit: str | None


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
    frame: pd.DataFrame
    lines: tuple[int, ...]
    digest: str

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

    def provenance(self, row: int) -> str:
        """Where the values of a row come from, in words a reader understands."""
        how = READINGS.get(self.reading, self.reading)
        note = f"{how}, about ±{self.precision:g} points" if self.approximate else how
        return f"{self.path}, line {self.lines[row]}; {note}"


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


def read_descriptor(path: Path) -> dict[str, Any]:
    """The descriptor as a dict, with a located error for bad YAML or JSON."""
    try:
        descriptor = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise ReportError.at(
            path,
            f"the descriptor is not valid YAML: {error.problem}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise ReportError.at(path, "the descriptor has no list of resources", expected="resources: [...]")
    return descriptor


def load_package(data_dir: Path, root: Path | None = None) -> dict[str, Dataset]:
    """Validate every CSV of the data package and return the datasets by name."""
    root = root or data_dir.parent
    descriptor_path = find_descriptor(data_dir)
    descriptor = read_descriptor(descriptor_path)
    shown = _shown(descriptor_path, root)
    problems = _file_problems(descriptor, data_dir, shown, root)
    if problems:
        raise ReportError(problems)
    problems = _validate(descriptor_path, root)
    if problems:
        raise ReportError(problems)
    return {resource["name"]: _dataset(resource, data_dir, root) for resource in descriptor["resources"]}


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _file_problems(descriptor: dict, data_dir: Path, shown: str, root: Path) -> list[Problem]:
    """CSVs the descriptor names but that are missing, and CSVs it does not describe."""
    problems = []
    described = set()
    for resource in descriptor["resources"]:
        path = data_dir / str(resource.get("path", ""))
        described.add(path.name)
        if not path.is_file():
            problems.append(
                Problem(
                    file=shown,
                    message=f"resource {resource.get('name')!r} names a file that does not exist",
                    expected=f"a file {_shown(path, root)}",
                    found="no such file",
                    fix="add the CSV, or correct or remove the resource's path",
                )
            )
    for csv_path in sorted(data_dir.glob("*.csv")):
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


def _validate(descriptor_path: Path, root: Path) -> list[Problem]:
    """Every bad cell, row and header the validator finds, located in its CSV."""
    from frictionless import Package  # imported here: it is only needed to validate

    report = Package(str(descriptor_path)).validate()
    problems = [Problem(file=_shown(descriptor_path, root), message=e.message) for e in report.errors]
    for task in report.tasks:
        csv_name = _shown(descriptor_path.parent / task.place, root) if task.place else task.name
        for error in task.errors:
            problems.append(_problem(csv_name, error))
    return problems


_HEADER_ERRORS = {"incorrect-label", "extra-label", "missing-label", "duplicate-label", "blank-label"}
_MESSAGES = {
    "type-error": "a cell is not of its column's type",
    "constraint-error": "a cell breaks its column's constraint",
    "missing-cell": "the row has fewer cells than the header",
    "extra-cell": "the row has more cells than the header",
    "primary-key": "the row repeats the key of an earlier row",
    "blank-row": "the row is blank",
}


def _problem(csv_name: str, error: Any) -> Problem:
    data = error.to_descriptor()
    kind = data["type"]
    cell = data.get("cell")
    note = data.get("note", "")
    expected, found = note or None, (repr(cell) if cell is not None else None)
    fix = "correct the cell, or change the column's type or constraints in the descriptor"
    if kind == "type-error":
        type_name = note.removeprefix("type is ").strip('"').split("/")[0]
        article = "an" if type_name[:1] in "aeiou" else "a"
        expected = f"{article} {type_name} (plain digits: no % sign, no thousands separator)"
    elif kind == "missing-cell":
        expected, found = f"{len(data.get('cells', [])) + 1} or more cells", f"{len(data.get('cells', []))} cells"
        fix = "add the missing cells (an empty cell still needs its comma)"
    elif kind == "extra-cell":
        expected, found = "no cell past the last column", f"{cell!r} in cell {data.get('fieldNumber')}"
        fix = "remove the extra cell, or quote a value that contains a comma"
    elif kind == "primary-key":
        expected, found = "each key once", note
        fix = "remove or correct the repeated row"
    elif kind in _HEADER_ERRORS:
        return Problem(
            file=csv_name,
            message=data.get("message", kind),
            line=1,
            column=data.get("label") or data.get("fieldName") or None,
            fix="make the CSV header match the field names of the descriptor",
        )
    return Problem(
        file=csv_name,
        message=_MESSAGES.get(kind, data.get("message", kind)),
        line=data.get("rowNumber"),
        column=data.get("fieldName") or None,
        expected=expected,
        found=found,
        fix=fix,
    )


_DTYPES = {"integer": "Int64", "number": "float64", "boolean": "boolean"}


def _dataset(resource: dict[str, Any], data_dir: Path, root: Path) -> Dataset:
    path = data_dir / resource["path"]
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    schema = resource.get("schema", {})
    fields = tuple(
        Field(
            name=f["name"],
            type=f.get("type", "string"),
            title=f.get("title", f["name"]),
            description=f.get("description", ""),
            unit=f.get("unit"),
        )
        for f in schema.get("fields", [])
    )
    dtypes = {f.name: _DTYPES.get(f.type, "string") for f in fields}
    frame = pd.read_csv(io.StringIO(text), dtype=dtypes, keep_default_na=False, na_values={f.name: [""] for f in fields})
    return Dataset(
        name=resource["name"],
        path=_shown(path, root),
        title=resource.get("title", resource["name"]),
        description=" ".join(str(resource.get("description", "")).split()),
        reading=str(resource.get("reading", "table")),
        precision=float(resource.get("precision", 0)),
        sources=tuple(resource.get("sources", [])),
        fields=fields,
        primary_key=tuple(schema.get("primaryKey", [])),
        frame=frame,
        lines=_row_lines(text),
        digest=hashlib.sha256(raw).hexdigest(),
    )


def _row_lines(text: str) -> tuple[int, ...]:
    """The line on which each data row starts, counting the header as line 1."""
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    lines = []
    start = reader.line_num + 1
    for row in reader:
        if row:
            lines.append(start)
        start = reader.line_num + 1
    return tuple(lines)
