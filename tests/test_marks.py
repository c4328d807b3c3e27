"""Nothing hidden: in every chart kind, marks of equal values stay distinguishable.

A report of three groups with identical values draws each kind of chart (so that every mark of one
series has a twin in the others); no two marks with different descriptions may then be drawn at the
same place with the same shape and size, in the wide or the narrow drawing. The shipped site, whose
Table 2 holds equal scores, is held to the same rule.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from claimsite.cli.main import main
from claimsite.spec.model import CHART_KINDS, tag
from tests.conftest import copy_project

MARK = re.compile(r"<path\b([^>]*\baria-label=\"[^\"]*\"[^>]*)/?>")
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')
GROUPS = ("North", "South", "East")
MONTHS = ("2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01")
TIED = (40, 55, 55, 70)  # every group has these scores: each value has two twins; two months tie within a group

EVERY_KIND = """
views:
  north: {sql: "SELECT month, score, other FROM ties WHERE \\"group\\" = 'North'", value: score, label: month}
charts:
  - {id: tie-points, kind: points, data: score, x: {field: step, type: ordinal}, y: {field: score}, series: {field: group}}
  - {id: tie-points-line, kind: points, data: score, x: {field: step, type: ordinal}, y: {field: score}, series: {field: group}, line: [North, South, East]}
  - {id: tie-dots, kind: dots, data: score, x: {field: score}, y: {field: month}, series: {field: group}}
  - id: tie-dumbbell
    kind: dumbbell
    data: north
    y: {field: month}
    ends: [{field: score, title: Score}, {field: other, title: Other, color: "#c05621"}]
  - {id: tie-line, kind: line, data: score, x: {field: month}, y: {field: score}, series: {field: group}}
  - {id: tie-line-plain, kind: line, data: score, x: {field: month}, y: {field: score}, series: {field: group}, points: false}
  - {id: tie-steps, kind: line, data: score, x: {field: step}, y: {field: score}, series: {field: group}}
  - {id: tie-area, kind: area, data: score, x: {field: month}, y: {field: score}, series: {field: group}, stack: false}
  - {id: tie-area-stacked, kind: area, data: score, x: {field: month}, y: {field: score}, series: {field: group}}
  - {id: tie-bar, kind: bar, data: score, x: {field: month}, y: {field: score}, series: {field: group}}
  - {id: tie-bar-stacked, kind: bar, data: score, x: {field: month}, y: {field: score}, series: {field: group}, stack: true}
  - {id: tie-heatmap, kind: heatmap, data: score, x: {field: group}, y: {field: month}, color: {field: score}}
"""


def tied_csv() -> str:
    rows = ["group,month,step,score,other"]
    for group in GROUPS:
        rows += [f"{group},{month},{step},{score},{score if step != 3 else score + 5}" for step, (month, score) in enumerate(zip(MONTHS, TIED, strict=True), 1)]
    return "\n".join(rows) + "\n"


def hidden_marks(svg: str) -> list[str]:
    """Pairs of marks with different descriptions drawn at the same place, in the same shape and size."""
    places: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for match in MARK.finditer(svg):
        attributes = dict(ATTRIBUTE.findall(match.group(1)))
        if attributes.get("aria-hidden") == "true" or attributes.get("opacity") == "0":
            continue
        place = (attributes.get("transform", ""), attributes.get("d", ""), attributes.get("stroke-width", ""))
        places[place].add(html.unescape(attributes["aria-label"]).replace("\n", "; "))
    return [" | ".join(sorted(labels)) for labels in places.values() if len(labels) > 1]


def tied_charts() -> list[dict[str, str]]:
    """The charts of the tied report, as declared."""
    charts: list[dict[str, str]] = yaml.safe_load(EVERY_KIND)["charts"]
    return charts


@pytest.fixture(scope="module")
def tied_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report drawing every chart kind from three groups with identical values, built once."""
    root = tmp_path_factory.mktemp("ties")
    project = copy_project(root / "project")
    source = root / "ties.csv"
    source.write_text(tied_csv(), encoding="utf-8")
    assert main(["--root", str(project), "new", "ties", "--csv", str(source)]) == 0
    spec = project / "templates" / "reports" / "ties.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text[: text.index("\ncharts:")] + EVERY_KIND + text[text.index("\nclaims:") :], encoding="utf-8")
    page = project / "templates" / "reports" / "ties.md.j2"
    figures = "\n\n".join(f'{{{{ figure("{chart["id"]}") }}}}' for chart in tied_charts())
    text = page.read_text(encoding="utf-8")
    page.write_text(text[: text.index("## Charts")] + "## Charts\n\n" + figures + "\n\n" + text[text.index("## Key observations") :], encoding="utf-8")
    assert main(["--root", str(project), "build"]) == 0
    return project / "site"


def test_the_tied_report_draws_every_chart_kind(tied_site: Path) -> None:
    """Every kind a report can declare is in the tied report (a new kind must be added above)."""
    kinds = {chart["kind"] for chart in tied_charts()}
    declared = {tag(kind, "kind") for kind in CHART_KINDS}
    assert declared - {"vega-lite"} <= kinds, f"kinds without a tied chart: {sorted(declared - kinds)}"
    assert len(list((tied_site / "ties" / "figures").glob("*.narrow.svg"))) == len(tied_charts())


def test_equal_values_stay_distinguishable_in_every_chart_kind(tied_site: Path) -> None:
    found = {svg.name: hidden_marks(svg.read_text(encoding="utf-8")) for svg in sorted((tied_site / "ties" / "figures").glob("*.svg"))}
    assert {name: pairs for name, pairs in found.items() if pairs} == {}


def test_equal_values_stay_distinguishable_on_the_shipped_site(built_site: Path) -> None:
    found = {svg.relative_to(built_site).as_posix(): hidden_marks(svg.read_text(encoding="utf-8")) for svg in sorted(built_site.glob("*/figures/*.svg"))}
    assert found, "the shipped site has no chart"
    assert {name: pairs for name, pairs in found.items() if pairs} == {}


def test_the_checker_finds_marks_drawn_on_each_other() -> None:
    """The rule above can fail: two points of different rows at one place are found."""
    twin = '<path aria-label="{}" role="graphics-symbol" transform="translate(10,20)" d="M1,0A1,1,0,1,1,-1,0" stroke-width="2"/>'
    assert hidden_marks(twin.format("A: 1") + twin.format("B: 1")) == ["A: 1 | B: 1"]
    assert hidden_marks(twin.format("A: 1") + twin.format("B: 1").replace("M1,0", "M2,0")) == []
