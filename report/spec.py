"""Read a report spec (YAML) and give it its data: named tables, derived views and row look-ups."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from report.data import Dataset
from report.errors import ReportError, yaml_error


class Mapping(dict):
    """A YAML mapping that remembers the line it started on, for located errors."""

    line: int | None = None


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Mapping:
    result = Mapping(loader.construct_mapping(node, deep=True))
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(path: Path, shown: str) -> Mapping:
    """A YAML file whose mappings know their line; a located error when it does not parse."""
    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        raise yaml_error(error, shown, "the report spec") from None
    if not isinstance(loaded, dict):
        raise ReportError.at(shown, "a report spec must be a mapping of keys", found=type(loaded).__name__)
    return loaded


@dataclass(frozen=True)
class Source:
    """Where one value comes from: a CSV line, and whether it was read off a figure."""

    file: str
    line: int
    dataset: str
    approximate: bool
    precision: float

    def describe(self) -> str:
        """The source in words, as a tooltip shows it."""
        how = f"read off the figure, about ±{self.precision:g} points" if self.approximate else "published in a table"
        return f"{self.file}, line {self.line}; {how}"

    def to_dict(self) -> dict[str, Any]:
        """The source for claims.json."""
        return {"file": self.file, "line": self.line, "dataset": self.dataset, "approximate": self.approximate}


@dataclass(frozen=True)
class Table:
    """Rows a report reads: a dataset under a short name, or a view derived from datasets."""

    name: str
    title: str
    frame: pd.DataFrame
    value: str | None
    label: str | None
    sources: tuple[tuple[Source, ...], ...]
    datasets: tuple[str, ...]
    unit: str = "%"
    titles: dict[str, str] = field(default_factory=dict)

    def rows(self, where: dict[str, Any], spec_file: str, line: int | None) -> list[int]:
        """Positions of the rows whose columns equal every value in ``where``."""
        mask = pd.Series(True, index=self.frame.index)
        for column, wanted in where.items():
            if column not in self.frame.columns:
                raise ReportError.at(
                    spec_file,
                    f"table {self.name!r} has no column {column!r}",
                    line=line,
                    expected=", ".join(c for c in self.frame.columns if not c.startswith("_")),
                    found=column,
                    fix="name one of the expected columns",
                )
            cells = self.frame[column]
            if pd.api.types.is_numeric_dtype(cells):
                mask &= cells.astype("Float64") == float(wanted)
            else:
                mask &= cells.astype("string") == str(wanted)
        return [int(i) for i in mask.to_numpy().nonzero()[0]]


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
    charts: tuple[Mapping, ...]
    claims: tuple[Mapping, ...]
    spec_file: str
    template: str
    listed: bool = True
    raw: Mapping = field(repr=False, default_factory=Mapping)


def _require(spec: Mapping, key: str, spec_file: str) -> Any:
    if key not in spec:
        raise ReportError.at(spec_file, f"missing key {key!r}", line=getattr(spec, "line", None), fix=f"add {key}: to this block")
    return spec[key]


def dataset_table(name: str, dataset: Dataset, value: str | None, label: str | None) -> Table:
    """A dataset as a table, each row carrying its CSV line."""
    for column in (value, label):
        if column:
            dataset.field(column)
    units = [f.unit for f in dataset.fields if f.name == value and f.unit]
    sources = tuple((Source(dataset.path, line, dataset.name, dataset.approximate, dataset.precision),) for line in dataset.lines)
    titles = {f.name: f.title + (f" ({f.unit})" if f.unit == "%" else "") for f in dataset.fields}
    return Table(name, dataset.title, dataset.frame, value, label, sources, (dataset.name,), units[0] if units else "", titles)


def match_view(name: str, spec: Mapping, tables: dict[str, Table], spec_file: str) -> Table:
    """Rows of some tables paired, by a key column, with the row of another table they repeat.

    Columns: ``run``, ``label`` (the key), ``reading``, ``value``, ``against`` and ``gap`` (value minus against).
    """
    against_spec = _require(spec, "against", spec_file)
    against = _table(tables, _require(against_spec, "from", spec_file), spec_file, against_spec.line)
    records, sources, datasets = [], [], set(against.datasets)
    for part in _require(spec, "match", spec_file):
        table = _table(tables, _require(part, "from", spec_file), spec_file, part.line)
        datasets.update(table.datasets)
        key = _require(part, "key", spec_file)
        for position, row in table.frame.iterrows():
            if pd.isna(row[key]):
                continue
            where = {**against_spec.get("where", {}), against_spec["key"]: row[key]}
            matches = against.rows(where, spec_file, against_spec.line)
            if len(matches) != 1:
                raise ReportError.at(
                    table.sources[position][0].file,
                    f"{key} names a row that {against.name!r} does not have exactly once",
                    line=table.sources[position][0].line,
                    column=key,
                    expected=f"one row of {against.title} with {where}",
                    found=f"{len(matches)} rows",
                    fix=f"use the exact {against_spec['key']} of a row of {against.title}, or leave the cell empty",
                )
            value, other = float(row[table.value]), float(against.frame.iloc[matches[0]][against.value])
            reading = str(part.get("reading", table.title))
            records.append(
                {"run": f"{row[key]} ({reading})", "label": str(row[key]), "reading": reading, "value": value, "against": other, "gap": round(value - other, 6)}
            )
            sources.append(table.sources[position] + against.sources[matches[0]])
    frame = pd.DataFrame.from_records(records, columns=["run", "label", "reading", "value", "against", "gap"])
    titles = {
        "run": "Run",
        "label": "Key",
        "reading": "Reading",
        "value": "Value",
        "against": "Against",
        "gap": "Difference (points)",
        **(spec.get("titles") or {}),
    }
    return Table(name, spec.get("title", name), frame, "gap", "run", tuple(sources), tuple(sorted(datasets)), "%", titles)


def difference_view(name: str, spec: Mapping, tables: dict[str, Table], spec_file: str) -> Table:
    """Each row's value minus that of a baseline row with the same ``by`` column, in points (column ``gain``)."""
    table = _table(tables, _require(spec, "from", spec_file), spec_file, spec.line)
    baseline, by = _require(spec, "baseline", spec_file), spec.get("by")
    records, sources = [], []
    for position, row in table.frame.iterrows():
        where = {**baseline, **({by: row[by]} if by else {})}
        matches = table.rows(where, spec_file, spec.line)
        if len(matches) != 1:
            raise ReportError.at(
                spec_file, f"view {name!r}: the baseline must select one row", line=spec.line, expected="one row", found=f"{len(matches)} rows for {where}"
            )
        if matches[0] == position and not spec.get("keep_baseline", False):
            continue
        base = table.frame.iloc[matches[0]]
        records.append({**row.to_dict(), "gain": round(float(row[table.value]) - float(base[table.value]), 6)})
        sources.append(table.sources[position] + table.sources[matches[0]])
    columns = [*table.frame.columns, "gain"]
    frame = pd.DataFrame.from_records(records, columns=columns).astype({c: table.frame[c].dtype for c in table.frame.columns})
    titles = {**table.titles, "gain": "Gain (points)", **(spec.get("titles") or {})}
    return Table(name, spec.get("title", name), frame, "gain", table.label, tuple(sources), table.datasets, "points", titles)


VIEWS = {"match": match_view, "difference": difference_view}


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


def load_report(path: Path, datasets: dict[str, Dataset], root: Path) -> Report:
    """The report declared by the spec at ``path``, its tables built from ``datasets``."""
    spec_file = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    spec = load_yaml(path, spec_file)
    tables: dict[str, Table] = {}
    for name, entry in _require(spec, "data", spec_file).items():
        dataset_name = _require(entry, "dataset", spec_file)
        if dataset_name not in datasets:
            raise ReportError.at(
                spec_file,
                f"no dataset called {dataset_name!r} in the data package",
                line=entry.line,
                expected=", ".join(datasets),
                found=dataset_name,
                fix="use the name of a resource in data/datapackage.yaml",
            )
        try:
            tables[name] = dataset_table(name, datasets[dataset_name], entry.get("value"), entry.get("label"))
        except ReportError as error:
            raise ReportError.at(
                spec_file, error.problems[0].message, line=entry.line, expected=error.problems[0].expected, found=error.problems[0].found
            ) from None
    for name, entry in (spec.get("views") or {}).items():
        kinds = [kind for kind in VIEWS if kind in entry]
        if len(kinds) != 1:
            raise ReportError.at(
                spec_file, f"view {name!r} must have one kind", line=entry.line, expected=" or ".join(VIEWS), found=", ".join(entry) or "nothing"
            )
        tables[name] = VIEWS[kinds[0]](name, entry if kinds[0] == "match" else entry[kinds[0]], tables, spec_file)
    template = path.with_suffix(".md.j2")
    if not template.is_file():
        raise ReportError.at(spec_file, "the report has no page template", expected=str(template.relative_to(root)), found="no such file")
    slug = str(_require(spec, "slug", spec_file))
    return Report(
        slug=slug,
        title=str(_require(spec, "title", spec_file)),
        nav_title=str(spec.get("nav_title", spec["title"])),
        summary=" ".join(str(spec.get("summary", "")).split()),
        headline=spec.get("headline"),
        cite=dict(spec.get("cite") or {}),
        tables=tables,
        charts=tuple(spec.get("charts") or ()),
        claims=tuple(spec.get("claims") or ()),
        spec_file=spec_file,
        template=template.name,
        listed=bool(spec.get("listed", True)),
        raw=spec,
    )
