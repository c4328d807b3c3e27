"""Load the data package: validate every CSV against its descriptor with frictionless, and keep its typed rows in pandas."""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pandas as pd

from claimsite.cache.memo import remembered
from claimsite.core.errors import Problem, ReportError
from claimsite.core.numbers import DateFormat, NumberFormat
from claimsite.core.project import cache_folder
from claimsite.core.schema import validate
from claimsite.core.strict import Mapping, line_of, load_yaml
from claimsite.data import _reading as reading
from claimsite.data import large as out_of_core
from claimsite.data.descriptor import Display, Package
from claimsite.data.descriptor import FieldSpec as DeclaredField
from claimsite.data.descriptor import Resource as DeclaredResource
from claimsite.data.large import is_large

if TYPE_CHECKING:
    from frictionless import Package as FrictionlessPackage
    from frictionless import Resource

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
    store: Path | None = None  # a large dataset's DuckDB database (see claimsite.data.large)
    summary: tuple[dict[str, Any], ...] = ()  # per-column summary of a dataset of more than SHOWN_ROWS rows
    file: Path | None = None  # the data file, published as it is when the dataset is large

    @property
    def shown(self) -> pd.DataFrame:
        """The rows the data page lists: every row, or the first ones of a dataset it summarizes."""
        return self.frame.head(out_of_core.HEAD_ROWS) if self.summary else self.frame

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
    package = reference_package(descriptor, descriptor_path, shown)
    datasets: dict[str, Dataset] = {}
    for declared_resource, resource in zip(declared.resources, package.resources, strict=True):
        path = data_dir / declared_resource.path
        if is_large(path):
            try:
                source = reading.Source(path, _shown(path, root), declared_resource, resource, shown)
                datasets[declared_resource.name] = _large(source, root, scratch)
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
            lambda: _load(declared_resource, resource, path, csv_name, shown),  # noqa: B023 (called at once)
            keep=lambda: _read(path, csv_name) == raw,  # noqa: B023
        )
        if isinstance(loaded, Dataset):
            datasets[loaded.name] = loaded
        else:
            problems.extend(loaded)
    if problems:
        raise ReportError(problems)
    return datasets, descriptor


def _large(source: reading.Source, root: Path, scratch: Path | None) -> Dataset:
    """A large data file, validated and kept by DuckDB; the dataset holds its first rows, its row count and a summary."""
    spec, shown, path = source.declared, source.shown, source.path
    stored = out_of_core.load(source, cache_folder(root, "data"), scratch)
    extra = {"rows": stored.rows, "store": stored.store, "summary": tuple(out_of_core.summary_text(stored.summary)), "file": path}
    return described(spec, shown, stored.head, stored.lines, **extra)


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


def reference_package(descriptor: dict[str, Any], path: Path, shown: str) -> FrictionlessPackage:
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


def _load(spec: DeclaredResource, resource: Resource, path: Path, csv_name: str, descriptor_name: str) -> Dataset | list[Problem]:
    """One CSV validated and typed, by the rules every data file is read by (``claimsite.data._reading``), or every problem it has."""
    source = reading.Source(path, csv_name, spec, resource, descriptor_name)
    with contextlib.closing(out_of_core.connect(threads=1)) as con:
        problems = reading.read(con, source)
        if problems:
            return problems
        frame = reading.frame_of(con, source)
    lines = tuple(int(line) for line in frame.pop("__line"))
    summary = tuple(out_of_core.summarize(frame)) if len(frame) > SHOWN_ROWS else ()
    return described(spec, csv_name, frame, lines, rows=len(frame), summary=summary)


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
