"""Read a report spec (YAML) and give it its data: named tables, derived views and row look-ups."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from report.data import Dataset
from report.errors import ReportError, yaml_error
from report.text import Number, Source


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
class Table:
    """Rows a report reads: a dataset under a short name, or a view derived from datasets."""

    name: str
    title: str
    frame: pd.DataFrame
    value: str | None
    label: str | None
    sources: tuple[tuple[Source, ...], ...]
    units: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def unit(self) -> str:
        """The unit of the table's value column."""
        return self.units.get(self.value or "", "")

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

    def rows(self, where: Any, spec_file: str, line: int | None) -> list[int]:
        """Positions of the rows whose columns equal every value in ``where``."""
        if not isinstance(where, dict):
            raise ReportError.at(spec_file, "where: must map columns to values", line=line, expected="where: {<column>: <value>}", found=repr(where))
        mask = pd.Series(True, index=self.frame.index)
        for column, wanted in where.items():
            cells = self.frame[self.column(column, spec_file, line)]
            if pd.api.types.is_numeric_dtype(cells) and not pd.api.types.is_bool_dtype(cells):
                try:
                    number = float(wanted)
                except (TypeError, ValueError):
                    raise ReportError.at(spec_file, f"column {column!r} holds numbers", line=line, expected="a number", found=repr(wanted)) from None
                mask &= (cells.astype("Float64") == number).fillna(False)
            else:
                mask &= (cells.astype("string") == str(wanted)).fillna(False)
        return [int(i) for i in mask.to_numpy(dtype=bool).nonzero()[0]]

    def number(self, position: int, column: str | None, spec_file: str, line: int | None) -> Number:
        """The value of one cell, with its unit and sources; an empty or non-numeric cell is a located error."""
        name = self.column(column or self.value, spec_file, line)
        cell = self.frame.iloc[position][name]
        source = self.sources[position][0] if self.sources[position] else None
        where = {"line": source.line, "column": name} if source else {"line": line}
        if pd.isna(cell) or isinstance(cell, str | bool):
            raise ReportError.at(
                source.file if source else spec_file,
                f"{spec_file} reads this cell as a number",
                expected="a number",
                found="an empty cell" if pd.isna(cell) else repr(cell),
                fix="fill in the cell, or read another row or column",
                **where,
            )
        label = str(self.frame.iloc[position][self.label]) if self.label else ""
        return Number(float(cell), label, self.sources[position], unit=self.units.get(name, ""))


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
    """A dataset as a table, each row carrying its CSV line and its key (the primary key's values)."""
    for column in (value, label):
        if column:
            dataset.field(column)
    key_columns = list(dataset.primary_key) or [c for c in (label,) if c]
    keys = [" / ".join(str(v) for v in row) for row in dataset.frame[key_columns].itertuples(index=False)] if key_columns else [""] * len(dataset.lines)
    sources = tuple(
        (Source(dataset.path, line, dataset.name, dataset.approximate, dataset.precision, key),) for line, key in zip(dataset.lines, keys, strict=True)
    )
    units = {f.name: f.unit or "" for f in dataset.fields}
    titles = {f.name: f.title + (f" ({f.unit})" if f.unit == "%" else "") for f in dataset.fields}
    return Table(name, dataset.title, dataset.frame, value, label, sources, units, titles)


def match_view(name: str, spec: Mapping, tables: dict[str, Table], spec_file: str) -> Table:
    """Rows of some tables paired, by a key column, with the row of another table they repeat.

    Columns: ``run``, ``label`` (the key), ``reading``, ``value``, ``against`` and ``gap`` (value minus against).
    """
    against_spec = _mapping(_require(spec, "against", spec_file), "against", spec_file, spec.line)
    against = _table(tables, _require(against_spec, "from", spec_file), spec_file, against_spec.line)
    against_key = against.column(_require(against_spec, "key", spec_file), spec_file, against_spec.line)
    records, sources, unit = [], [], against.unit
    for part in _require(spec, "match", spec_file):
        part = _mapping(part, "match", spec_file, spec.line)
        table = _table(tables, _require(part, "from", spec_file), spec_file, part.line)
        key = table.column(_require(part, "key", spec_file), spec_file, part.line)
        reading = str(part.get("reading", table.title))
        for position, row in table.frame.iterrows():
            if pd.isna(row[key]):
                continue
            where = {**(against_spec.get("where") or {}), against_key: row[key]}
            matches = against.rows(where, spec_file, against_spec.line)
            if len(matches) != 1:
                raise ReportError.at(
                    table.sources[position][0].file,
                    f"{key} names a row that {against.name!r} does not have exactly once",
                    line=table.sources[position][0].line,
                    column=key,
                    expected=f"one row of {against.title} with {where}",
                    found=f"{len(matches)} rows",
                    fix=f"use the exact {against_key} of a row of {against.title}, or leave the cell empty",
                )
            value = table.number(position, None, spec_file, part.line).value
            other = against.number(matches[0], None, spec_file, against_spec.line).value
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
    units = {"value": unit, "against": unit, "gap": "points"}
    return Table(name, spec.get("title", name), frame, "gap", "run", tuple(sources), units, titles)


def difference_view(name: str, spec: Mapping, tables: dict[str, Table], spec_file: str) -> Table:
    """Each row's value minus that of a baseline row with the same ``by`` column, in points (column ``gain``)."""
    table = _table(tables, _require(spec, "from", spec_file), spec_file, spec.line)
    baseline = _mapping(_require(spec, "baseline", spec_file), "baseline", spec_file, spec.line)
    by = table.column(spec["by"], spec_file, spec.line) if spec.get("by") else None
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
        gain = table.number(position, None, spec_file, spec.line).value - table.number(matches[0], None, spec_file, spec.line).value
        records.append({**row.to_dict(), "gain": round(gain, 6)})
        sources.append(table.sources[position] + table.sources[matches[0]])
    columns = [*table.frame.columns, "gain"]
    frame = pd.DataFrame.from_records(records, columns=columns).astype({c: table.frame[c].dtype for c in table.frame.columns})
    titles = {**table.titles, "gain": "Gain (points)", **(spec.get("titles") or {})}
    return Table(name, spec.get("title", name), frame, "gain", table.label, tuple(sources), {**table.units, "gain": "points"}, titles)


def _mapping(value: Any, key: str, spec_file: str, line: int | None) -> Mapping:
    if not isinstance(value, dict):
        raise ReportError.at(spec_file, f"{key}: must be a mapping of keys", line=getattr(value, "line", line), expected=f"{key}: {{...}}", found=repr(value))
    return value if isinstance(value, Mapping) else Mapping(value)


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


SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
RESERVED_SLUGS = frozenset({"assets", "data", "changes", "claims", "search", "figures"})


def _data_tables(spec: Mapping, datasets: dict[str, Dataset], spec_file: str) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for name, entry in _mapping(_require(spec, "data", spec_file), "data", spec_file, spec.line).items():
        entry = _mapping(entry, f"data: {name}", spec_file, spec.line)
        dataset_name = _require(entry, "dataset", spec_file)
        if dataset_name not in datasets:
            raise ReportError.at(
                spec_file,
                f"no dataset called {dataset_name!r} in the data package",
                line=entry.line,
                expected=", ".join(datasets),
                found=str(dataset_name),
                fix="use the name of a resource in data/datapackage.yaml",
            )
        try:
            tables[name] = dataset_table(name, datasets[dataset_name], entry.get("value"), entry.get("label"))
        except ReportError as error:
            problem = error.problems[0]
            raise ReportError.at(spec_file, problem.message, line=entry.line, expected=problem.expected, found=problem.found) from None
    return tables


def _views(spec: Mapping, tables: dict[str, Table], spec_file: str) -> dict[str, Table]:
    for name, entry in _mapping(spec.get("views") or {}, "views", spec_file, spec.line).items():
        entry = _mapping(entry, f"views: {name}", spec_file, spec.line)
        kinds = [kind for kind in VIEWS if kind in entry]
        if len(kinds) != 1:
            raise ReportError.at(
                spec_file, f"view {name!r} must have one kind", line=entry.line, expected=" or ".join(VIEWS), found=", ".join(entry) or "nothing"
            )
        view = entry if kinds[0] == "match" else _mapping(entry[kinds[0]], kinds[0], spec_file, entry.line)
        tables[name] = VIEWS[kinds[0]](name, view, tables, spec_file)
    return tables


def load_report(path: Path, datasets: dict[str, Dataset], root: Path) -> Report:
    """The report declared by the spec at ``path``, its tables built from ``datasets``."""
    spec_file = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    spec = load_yaml(path, spec_file)
    slug = str(_require(spec, "slug", spec_file))
    if not SLUG.match(slug) or slug in RESERVED_SLUGS:
        raise ReportError.at(
            spec_file,
            "the slug must be lowercase words joined by hyphens, and not a name the site uses",
            line=spec.line,
            expected=f"e.g. team-results; not {', '.join(sorted(RESERVED_SLUGS))}",
            found=slug,
        )
    tables = _views(spec, _data_tables(spec, datasets, spec_file), spec_file)
    template = path.with_suffix(".md.j2")
    if not template.is_file():
        raise ReportError.at(spec_file, "the report has no page template", expected=str(template.relative_to(root)), found="no such file")
    for key in ("charts", "claims", "error_examples"):
        if not isinstance(spec.get(key) or [], list) or not all(isinstance(item, dict) for item in spec.get(key) or []):
            raise ReportError.at(spec_file, f"{key}: must be a list of mappings", line=spec.line, expected=f"{key}:\n  - id: ...")
    headline = spec.get("headline")
    if headline is not None and not isinstance(headline, str):
        raise ReportError.at(spec_file, "headline: must name one claim", line=spec.line, expected="headline: <claim id>", found=repr(headline))
    return Report(
        slug=slug,
        title=str(_require(spec, "title", spec_file)),
        nav_title=str(spec.get("nav_title", spec["title"])),
        summary=" ".join(str(spec.get("summary", "")).split()),
        headline=headline,
        cite=dict(spec.get("cite") or {}),
        tables=tables,
        charts=tuple(spec.get("charts") or ()),
        claims=tuple(spec.get("claims") or ()),
        spec_file=spec_file,
        template=template.name,
        listed=bool(spec.get("listed", True)),
        raw=spec,
    )
