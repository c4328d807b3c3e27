"""Scaffold a new report from a CSV: the data, its description, a starter spec and a starter page.

``new`` reads the descriptor when the CSV is already described in ``data/``, and otherwise infers one:
types (dates and years included), units from column names, the columns that name each row (the
key), and from them charts and claims that name each row fully. It says what it guessed.
"""

from __future__ import annotations

import contextlib
import copy
import html
import itertools
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from claimsite.core.errors import ReportError
from claimsite.core.schema import is_slug
from claimsite.core.strict import read_text
from claimsite.data.load import read_descriptor
from claimsite.spec.report import RESERVED_SLUGS

MAX_CHARTS = 4
SCHEMA_LINE = "# yaml-language-server: $schema=../../site/schema/report.schema.json\n"
# Column-name endings and the unit (or display) they mean: depth_mm is in mm, cost_usd is money.
UNIT_SUFFIXES: Mapping[str, dict[str, Any]] = MappingProxyType(
    {
        "mm": {"unit": "mm"},
        "cm": {"unit": "cm"},
        "km": {"unit": "km"},
        "m": {"unit": "m"},
        "kg": {"unit": "kg"},
        "g": {"unit": "g"},
        "c": {"unit": "°C"},
        "celsius": {"unit": "°C"},
        "f": {"unit": "°F"},
        "pct": {"unit": "%"},
        "percent": {"unit": "%"},
        "ms": {"unit": "ms"},
        "kwh": {"unit": "kWh"},
        "usd": {"display": {"currency": "USD"}},
        "eur": {"display": {"currency": "EUR"}},
        "gbp": {"display": {"currency": "GBP"}},
        "s": {"display": {"duration": "seconds"}},
        "sec": {"display": {"duration": "seconds"}},
        "seconds": {"display": {"duration": "seconds"}},
        "min": {"display": {"duration": "minutes"}},
        "minutes": {"display": {"duration": "minutes"}},
        "hours": {"display": {"duration": "hours"}},
        "days": {"unit": "days"},
        "elo": {"unit": "Elo"},
        "b": {"unit": "billion"},
    }
)
SHARE_WORDS = ("accuracy", "rate", "share", "ratio", "fraction", "score", "precision", "recall", "f1")


@dataclass
class Guess:
    """What ``new`` inferred from a CSV: its fields, the columns naming each row, and what a person should confirm."""

    fields: list[dict[str, Any]]
    key: list[str]
    notes: list[str] = field(default_factory=list)

    def names(self, *types: str) -> list[str]:
        return [f["name"] for f in self.fields if f["type"] in types]

    @property
    def measures(self) -> list[str]:
        """The numeric columns that are values, not part of a row's name."""
        return [name for name in self.names("number", "integer") if name not in self.key]

    @property
    def axis(self) -> str | None:
        """The key column that is a date or a year: the axis of a line chart."""
        return next((name for name in self.key if name in self.names("date", "datetime", "yearmonth", "year")), None)


def _title(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def _measure_title(name: str) -> str:
    """A measure's name without the unit its name ends in: depth_mm as Depth."""
    words = name.split("_")
    suffix = words[-1].lower()
    symbol = suffix in UNIT_SUFFIXES and (len(suffix) <= 3 or suffix in ("percent", "celsius", "seconds", "minutes"))
    return _title("_".join(words[:-1])) if len(words) > 1 and symbol else _title(name)


def _read_rows(csv: Path) -> tuple[Any, list[Any]]:
    from frictionless import describe
    from frictionless.resources import TableResource

    try:
        resource = describe(str(csv))
        if not isinstance(resource, TableResource):
            raise TypeError("not a table")
        return resource, resource.read_rows()
    except Exception as error:  # frictionless raises many kinds for unreadable files
        raise ReportError.at(csv, f"the CSV could not be read: {error}", fix="check that it is a UTF-8 CSV with a header row") from None


def infer(csv: Path) -> Guess:
    """Field names, types, units and constraints as inferred from the CSV, the key that names each row, and notes."""
    read_text(csv, str(csv), "the CSV")  # located errors for bytes that are not UTF-8 and for control characters
    resource, rows = _read_rows(csv)
    if not rows:
        raise ReportError.at(csv, "the CSV has no data rows", line=2, expected="a header and at least one row", found="a header only")
    fields, notes = [], []
    for column in resource.schema.fields:
        values = [row[column.name] for row in rows if row[column.name] is not None]
        entry: dict[str, Any] = {
            "name": column.name,
            "type": column.type,
            "title": _measure_title(column.name),
            "description": "TO CONFIRM: what this column holds.",
        }
        if column.type == "integer" and re.fullmatch(r"(year|yr|season)", column.name.lower()) and values and all(1000 <= v <= 2999 for v in values):
            entry["type"] = "year"
            notes.append(f"{column.name}: years")
        if entry["type"] in ("date", "datetime"):
            notes.append(f"{column.name}: {entry['type']}s")
        if entry["type"] in ("integer", "number") and values:
            entry.update(_unit(column.name, values, notes))
            cast = int if entry["type"] == "integer" else float
            entry["constraints"] = {"required": len(values) == len(rows), "minimum": cast(min(values)), "maximum": cast(max(values))}
        else:
            entry["constraints"] = {"required": len(values) == len(rows)}
        fields.append(entry)
    guess = Guess(fields, _key(fields, rows), notes)
    if guess.key:
        notes.insert(0, f"each row is named by {' and '.join(guess.key)} (the primary key)")
    return guess


def _unit(name: str, values: list[Any], notes: list[str]) -> dict[str, Any]:
    """The unit (or display) a numeric column's name and values suggest."""
    words = name.lower().split("_")
    found = UNIT_SUFFIXES.get(words[-1]) if len(words) > 1 else None
    if found:
        notes.append(f"{name}: " + (f"in {found['unit']}" if "unit" in found else f"printed as {next(iter(found['display'].values()))}") + " (from its name)")
        return copy.deepcopy(dict(found))
    if any(word in SHARE_WORDS for word in words) and all(0 <= v <= 1 for v in values):
        notes.append(f"{name}: fractions of one, printed as percentages")
        return {"display": {"percent": True}}
    if any(word in SHARE_WORDS for word in words) and all(0 <= v <= 100 for v in values):
        notes.append(f"{name}: a percentage")
        return {"unit": "%"}
    return {}


def _key(fields: list[dict[str, Any]], rows: list[Any]) -> list[str]:
    """The fewest non-measure columns (text, dates, years) whose values together name each row once."""
    candidates = [f["name"] for f in fields if f["type"] not in ("number", "integer", "boolean")]
    for size in range(1, min(3, len(candidates)) + 1):
        for combination in itertools.combinations(candidates, size):
            names = [tuple(row[c] for c in combination) for row in rows]
            if all(None not in n for n in names) and len(set(names)) == len(names):
                return list(combination)
    return []


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def descriptor_entry(name: str, csv_name: str, guess: Guess) -> str:
    """The data package resource for the new CSV, as YAML text to append to the descriptor."""
    resource = {
        "name": name,
        "path": csv_name,
        "title": f"TO CONFIRM: {name.replace('_', ' ')}",
        "description": "TO CONFIRM: what the table holds and how it was made.",
        "format": "csv",
        "encoding": "utf-8",
        "sources": [{"title": "TO CONFIRM: where the values come from"}],
        "reading": "table",
        "schema": {**({"primaryKey": guess.key} if guess.key else {}), "fields": guess.fields},
    }
    text = _dump([resource])
    note = "  # Inferred by claimsite new: confirm each TO CONFIRM, the types, units, primary key and the minimum/maximum constraints.\n"
    return note + "".join(f"  {line}\n" if line else "\n" for line in text.splitlines())


def _alias(column: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", column.lower()).strip("_") or "values"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"


def starter_spec(slug: str, name: str, guess: Guess) -> dict[str, Any]:
    """A report spec: a chart per measure (a line over time where the rows have dates) and claims naming each row fully."""
    measures = guess.measures
    if not measures:
        raise ReportError.at(
            "claimsite new",
            "the CSV needs at least one numeric column besides the columns that name its rows",
            found=", ".join(f"{f['name']} ({f['type']})" for f in guess.fields),
        )
    texts = guess.names("string")
    label = next((c for c in guess.key if c in texts), guess.key[0] if guess.key else (texts[0] if texts else None))
    axis = guess.axis
    group = next((c for c in guess.key if c not in (axis, label)), None) if axis else next((c for c in guess.key if c != label), None)
    series_of = label if axis and label != axis else group
    data = {_alias(m): {"dataset": name, "value": m, **({"label": label} if label else {})} for m in measures}
    charts = [_chart(m, _alias(m), axis, label, series_of, guess) for m in measures[:MAX_CHARTS]]
    if len(measures) > MAX_CHARTS:
        guess.notes.append(f"charted the first {MAX_CHARTS} of {len(measures)} measures; add the others to the spec if they matter")
    first = measures[0]
    what = jinja_text(_measure_title(first).lower())
    claims = [
        {
            "id": f"highest-{_slug(first)}",
            "check": "best",
            "from": _alias(first),
            "text": (
                f"{{% if tied %}}The highest value of {what}, {{{{ top }}}}, is shared by {{{{ ties | rows }}}}."
                f"{{% else %}}The highest value of {what} is {{{{ top }}}}, for {{{{ top.row }}}}: {{{{ margin }}}} above {{{{ runner_up.row }}}}"
                f" ({{{{ runner_up }}}}).{{% endif %}}"
            ),
        },
        {
            "id": f"lowest-{_slug(first)}",
            "check": "worst",
            "from": _alias(first),
            "text": f"The lowest value of {what} is {{{{ top }}}}, for {{{{ top.row }}}}.",
        },
    ]
    claims += [
        {
            "id": f"highest-{_slug(m)}",
            "check": "best",
            "from": _alias(m),
            "text": f"The highest value of {jinja_text(_measure_title(m).lower())} is {{{{ top }}}}, for {{{{ top.row }}}}.",
        }
        for m in measures[1:MAX_CHARTS]
    ]
    return {
        "slug": slug,
        "title": f"TO CONFIRM: {slug.replace('-', ' ').capitalize()}",
        "nav_title": slug.replace("-", " ").capitalize(),
        "summary": "TO CONFIRM: one or two sentences on what this report shows.",
        "headline": claims[0]["id"],
        "data": data,
        "charts": charts,
        "claims": claims,
    }


def _chart(measure: str, alias: str, axis: str | None, label: str | None, series: str | None, guess: Guess) -> dict[str, Any]:
    """One measure's chart: a line over the date or year axis, else dots by label and series, else bars by label."""
    along = (axis or label or "row").replace("_", " ")
    chart: dict[str, Any] = {
        "id": f"{_slug(measure)}-by-{_slug(along)}",
        "title": f"{_measure_title(measure)} by {along}" + (f" and {series.replace('_', ' ')}" if series else ""),
    }
    if axis:
        chart.update(kind="line", data=alias, x={"field": axis, "title": _title(axis)}, y={"field": measure, "title": _axis_title(measure, guess)})
        if series:
            chart["series"] = {"field": series}
    elif label and series:
        chart.update(
            kind="dots",
            data=alias,
            x={"field": measure, "title": _axis_title(measure, guess)},
            y={"field": label, "title": _title(label)},
            series={"field": series},
        )
    else:
        chart.update(
            kind="bar",
            data=alias,
            x={"field": label or guess.fields[0]["name"], "title": _title(label or guess.fields[0]["name"])},
            y={"field": measure, "title": _axis_title(measure, guess)},
        )
    return chart


def _axis_title(measure: str, guess: Guess) -> str:
    field = next(f for f in guess.fields if f["name"] == measure)
    unit = field.get("unit")
    return f"{_measure_title(measure)} ({unit})" if unit else _measure_title(measure)


STARTER_PAGE = """{{# Starter page written by claimsite new: replace the TO CONFIRM text. Numbers come from claim() and value(). #}}
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

{claims}
## Interpretation

TO CONFIRM: write each interpretation sentence as an assertion in the spec
(`kind: assertion`), so that the build fails if the data stops supporting it.

## Sources

TO CONFIRM: cite where the data comes from; the [data page](../data.md) lists each dataset.
"""


def new_report(root: Path, slug: str, csv: Path) -> tuple[list[Path], list[str]]:
    """Create a report from a CSV; refuse when the slug, the CSV or any file would be overwritten. Returns the files and what was guessed."""
    if not is_slug(slug):
        raise ReportError.at("claimsite new", "the slug must be lowercase words joined by hyphens", expected="e.g. team-results", found=slug)
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
            "claimsite new", f"a report called {slug!r} would overwrite what exists", found=", ".join(taken) or slug, fix="choose another slug"
        )
    guess = infer(csv)
    spec = starter_spec(slug, name, guess)
    charts = "".join(f'{{{{ figure("{chart["id"]}") }}}}\n\n' for chart in spec["charts"])
    claims = "".join(f'- {{{{ claim("{claim["id"]}") }}}}\n' for claim in spec["claims"])
    header = f"{SCHEMA_LINE}# Report spec written by claimsite new from {csv.name}: replace each TO CONFIRM.\n"
    base = (
        descriptor.read_text(encoding="utf-8")
        if descriptor.is_file()
        else "# Frictionless Data Package: what each CSV in data/ holds.\nname: reports\nresources:\n"
    )
    base = re.sub(r"^resources:\s*\[\]\s*$", "resources:", base, flags=re.MULTILINE)
    contents = {
        targets[1]: header + _dump(spec),
        targets[2]: STARTER_PAGE.format(charts=charts, claims=claims),
        descriptor: base.rstrip("\n") + "\n" + descriptor_entry(name, targets[0].name, guess),
    }
    data.mkdir(parents=True, exist_ok=True)
    reports.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(csv, targets[0])
    for path, text in contents.items():
        path.write_text(text, encoding="utf-8")
    return [*targets, descriptor], guess.notes


# -- a site of one's own ----------------------------------------------------------------------------

EMPTY_PACKAGE = """\
# Frictionless Data Package: what each CSV in data/ holds, field by field.
# The build validates every CSV against this file before anything is drawn or written.
# Add a CSV with `claimsite new <slug> --csv <file>`, which describes it here.
name: {name}
title: {title}
resources: []
"""
MKDOCS_YML = """\
# The site, published by MkDocs with the Material theme; the claimsite plugin adds the reports built from data/ and
# templates/ (https://www.mkdocs.org/user-guide/configuration/ for every other setting).
site_name: {title}
site_description: {description}
{site_url}copyright: {footer}

theme:
  name: material
  font: false
  features:
    - navigation.sections
    - navigation.top
    - search.highlight
    - toc.follow
  palette:
    - media: "(prefers-color-scheme: light)"
      scheme: default
      toggle:
        icon: material/weather-night
        name: Switch to dark mode
    - media: "(prefers-color-scheme: dark)"
      scheme: slate
      toggle:
        icon: material/weather-sunny
        name: Switch to light mode

plugins:
  - search
  - claimsite
"""
GITIGNORE = """\
# What a build writes: the site, the kept work of earlier builds, and the site's lock and staging folders.
/site/
.cache/
.site.lock
/.site-*/
.venv/
"""


def init_site(folder: Path, title: str, description: str, url: str | None, footer: str) -> list[Path]:
    """Start a project of one's own in ``folder`` (new or empty): mkdocs.yml with the plugin, a data package describing
    no data yet, a .gitignore and the engine's version pinned in requirements.txt. Never writes over a file."""
    files = {
        folder / "mkdocs.yml": _mkdocs_yml(title, description, url, footer),
        folder / "data" / "datapackage.yaml": EMPTY_PACKAGE.format(name=_name(title), title=json_text(title)),
        folder / ".gitignore": GITIGNORE,
        folder / "requirements.txt": pinned_engine(),
    }
    taken = [path for path in [*files, folder / "templates"] if path.exists()]
    if taken:
        raise ReportError.at(
            taken[0],
            "init starts a new project in a new or empty folder, and this one already holds a project's files",
            found=", ".join(str(path) for path in taken),
            fix="give init a new folder (claimsite init FOLDER --title ...), or add reports to this project with claimsite new",
        )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (folder / "templates" / "reports").mkdir(parents=True)
    return [*files, folder / "templates" / "reports"]


def _name(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "reports"


def _mkdocs_yml(title: str, description: str, url: str | None, footer: str) -> str:
    """The project's mkdocs.yml. The theme writes the title, description and footer into every page as HTML: they are
    written escaped, so that they show as text (R&D, <b>), never as markup."""
    shown = {key: json_text(html.escape(value, quote=False)) for key, value in (("title", title), ("description", description), ("footer", footer))}
    return MKDOCS_YML.format(**shown, site_url=f"site_url: {json_text(url)}\n" if url else "")


def pinned_engine() -> str:
    """requirements.txt: the engine exactly as it is installed here, so that every build of the project runs the same."""
    from importlib import metadata

    line = "claimsite==0\n"  # run from its sources, uninstalled: no version to pin (as before; see the closing note)
    with contextlib.suppress(metadata.PackageNotFoundError, ValueError):
        engine = metadata.distribution("claimsite")
        line = f"claimsite=={engine.version}\n"
        direct = json.loads(engine.read_text("direct_url.json") or "{}")
        vcs = direct.get("vcs_info") or {}
        if vcs.get("commit_id") and str(direct.get("url", "")).startswith("https://"):
            line = f"claimsite @ git+{direct['url']}@{vcs['commit_id']}\n"
    return "# The report engine, pinned: upgrade by changing this line (then `pip install -r requirements.txt`).\n" + line


def jinja_text(text: str) -> str:
    """Text from a CSV's header put into a claim's template so that it prints as written: as a Jinja string when it holds
    what Jinja would read as a tag (score {{ 7*7 }}) or a numeral (a name such as 'accuracy at 5' is not a number typed by hand)."""
    return "{{ " + json.dumps(text) + " }}" if re.search(r"[{}%#\d]", text) else text


def json_text(value: str) -> str:
    """A YAML scalar that is always read back as this text."""
    return yaml.safe_dump(value, default_style='"', width=10_000).strip()
