"""Scaffold a new report from a CSV: the data, its description, a starter spec and a starter page."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from report.data import read_descriptor
from report.errors import ReportError
from report.schema import is_slug
from report.spec import RESERVED_SLUGS

PALETTE = ["#1f5a96", "#c05621", "#2f7d32", "#6b2170", "#8a6d00", "#00796b", "#ad1457", "#455a64"]
SHAPES = ["circle", "triangle-up", "diamond", "square", "cross", "triangle-down", "circle", "square"]


def infer_fields(csv: Path) -> list[dict[str, Any]]:
    """Field names and types as frictionless infers them, with constraints a person should confirm."""
    from frictionless import describe

    try:
        resource = describe(str(csv))
        rows = resource.read_rows()
    except Exception as error:  # frictionless raises many kinds for unreadable files
        raise ReportError.at(csv, f"the CSV could not be read: {error}", fix="check that it is a UTF-8 CSV with a header row") from None
    if not rows:
        raise ReportError.at(csv, "the CSV has no data rows", line=2, expected="a header and at least one row", found="a header only")
    fields = []
    for field in resource.schema.fields:
        entry: dict[str, Any] = {"name": field.name, "type": field.type, "title": field.name.replace("_", " ").capitalize()}
        values = [row[field.name] for row in rows if row[field.name] is not None]
        entry["description"] = "TO CONFIRM: what this column holds."
        if field.type in {"integer", "number"} and values:
            cast = int if field.type == "integer" else float
            entry["constraints"] = {"required": len(values) == len(rows), "minimum": cast(min(values)), "maximum": cast(max(values))}
        else:
            entry["constraints"] = {"required": len(values) == len(rows)}
        fields.append(entry)
    return fields


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def descriptor_entry(name: str, csv_name: str, fields: list[dict[str, Any]]) -> str:
    """The data package resource for the new CSV, as YAML text to append to the descriptor."""
    resource = {
        "name": name,
        "path": csv_name,
        "title": f"TO CONFIRM: {name.replace('_', ' ')}",
        "description": "TO CONFIRM: what the table holds and how it was made.",
        "format": "csv",
        "encoding": "utf-8",
        "sources": [{"title": "TO CONFIRM: where the values come from", "path": "https://example.org/"}],
        "reading": "table",
        "precision": 0.05,
        "schema": {"fields": fields},
    }
    text = _dump([resource])
    note = "  # Inferred by build_report.py new: confirm each TO CONFIRM, the types and the minimum/maximum constraints.\n"
    return note + "".join(f"  {line}\n" if line else "\n" for line in text.splitlines())


def starter_spec(slug: str, name: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
    """A report spec with one chart per value column and example claims."""
    numbers = [f["name"] for f in fields if f["type"] == "number"] + [f["name"] for f in fields if f["type"] == "integer"]
    labels = [f["name"] for f in fields if f["type"] not in {"integer", "number"}]
    if not numbers or not labels:
        raise ReportError.at(
            "build_report.py new",
            "the CSV needs at least one text column and one numeric column",
            found=", ".join(f"{f['name']} ({f['type']})" for f in fields),
        )
    label, series = labels[0], labels[1] if len(labels) > 1 else labels[0]
    charts = [
        {
            "id": f"{column.replace('_', '-')}-by-{label.replace('_', '-')}".lower(),
            "kind": "dots",
            "title": f"{column.replace('_', ' ').capitalize()} by {label.replace('_', ' ')}",
            "data": "main",
            "x": {"field": column, "title": column.replace("_", " ").capitalize()},
            "y": {"field": label, "title": label.replace("_", " ").capitalize()},
            "series": {"field": series, "colors": PALETTE, "shapes": SHAPES},
        }
        for column in numbers
    ]
    claims = [
        {
            "id": "highest-value",
            "check": "best",
            "from": "main",
            "text": "The highest value is {{ top.label }} ({{ top }}), {{ margin }} ahead of {{ runner_up.label }}.",
        },
        {"id": "lowest-value", "check": "worst", "from": "main", "text": "The lowest value is {{ top.label }} ({{ top }})."},
    ]
    return {
        "slug": slug,
        "title": f"TO CONFIRM: {slug.replace('-', ' ').capitalize()}",
        "nav_title": slug.replace("-", " ").capitalize(),
        "summary": "TO CONFIRM: one or two sentences on what this report shows.",
        "headline": "highest-value",
        "data": {"main": {"dataset": name, "value": numbers[0], "label": label}},
        "charts": charts,
        "claims": claims,
    }


STARTER_PAGE = """{{# Starter page written by build_report.py new: replace the TO CONFIRM text. Numbers come from claim() and value(). #}}
---
title: {{{{ report.nav_title | yaml }}}}
description: {{{{ headline | yaml }}}}
---

# {{{{ report.title }}}}

{{{{ report.summary }}}}

## Overview

TO CONFIRM: what was measured, on what, and why it matters.

## Charts

{charts}
## Key observations

- {{{{ claim("highest-value") }}}}
- {{{{ claim("lowest-value") }}}}

## Interpretation

TO CONFIRM: write each interpretation sentence as an assertion in the spec
(`kind: assertion`), so that the build fails if the data stops supporting it.

## Sources

TO CONFIRM: cite where the data comes from; the [data page](../data.md) lists each dataset.
"""


def new_report(root: Path, slug: str, csv: Path) -> list[Path]:
    """Create a report from a CSV; refuse when the slug, the CSV or any file would be overwritten."""
    if not is_slug(slug):
        raise ReportError.at("build_report.py new", "the slug must be lowercase words joined by hyphens", expected="e.g. team-results", found=slug)
    if not csv.is_file():
        raise ReportError.at(csv, "no such CSV file", fix="give the path of an existing CSV")
    data, reports = root / "data", root / "templates" / "reports"
    name = slug.replace("-", "_")
    targets = [data / f"{name}.csv", reports / f"{slug}.yaml", reports / f"{slug}.md.j2"]
    taken = [str(t.relative_to(root)) for t in targets if t.exists()]
    descriptor = data / "datapackage.yaml"
    existing = read_descriptor(descriptor, "data/datapackage.yaml") if descriptor.is_file() else {"resources": []}
    if any(r.get("name") == name for r in existing.get("resources", [])):
        taken.append(f"resource {name!r} in data/datapackage.yaml")
    if taken or slug in RESERVED_SLUGS:
        raise ReportError.at(
            "build_report.py new", f"a report called {slug!r} would overwrite what exists", found=", ".join(taken) or slug, fix="choose another slug"
        )
    fields = infer_fields(csv)
    spec = starter_spec(slug, name, fields)
    charts = "".join(f'{{{{ figure("{chart["id"]}") }}}}\n\n' for chart in spec["charts"])
    header = f"# Report spec written by build_report.py new from {csv.name}: replace each TO CONFIRM.\n"
    base = (
        descriptor.read_text(encoding="utf-8")
        if descriptor.is_file()
        else "# Frictionless Data Package: what each CSV in data/ holds.\nname: reports\nresources:\n"
    )
    contents = {
        targets[1]: header + _dump(spec),
        targets[2]: STARTER_PAGE.format(charts=charts),
        descriptor: base.rstrip("\n") + "\n" + descriptor_entry(name, targets[0].name, fields),
    }
    reports.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(csv, targets[0])
    for path, text in contents.items():
        path.write_text(text, encoding="utf-8")
    return [*targets, descriptor]
