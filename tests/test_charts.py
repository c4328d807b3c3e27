"""Charts: valid Vega-Lite v6, faithful to Figure 6, described in words, rendered to files."""

from __future__ import annotations

import json

import altair as alt
import jsonschema
import pytest

from claimsite.charts.engine import Engine
from claimsite.charts.figures import RenderCache, render_charts
from claimsite.charts.vegalite import Chart, build_charts, field_ref
from claimsite.core.project import Project
from claimsite.data.load import load_package
from claimsite.spec.report import load_report
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def charts() -> dict[str, Chart]:
    spec = ROOT / "templates" / "reports" / "figure6.yaml"
    return build_charts(load_report(spec, load_package(ROOT / "data", ROOT), ROOT))


def layer_with(spec: dict, mark: str) -> dict:
    """The layer of a layered spec whose mark is ``mark``."""
    for layer in spec["layer"]:
        kind = layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        if kind == mark:
            return layer
    raise AssertionError(f"no {mark} layer")


@pytest.mark.parametrize("spec", sorted((ROOT / "templates" / "reports").glob("*.yaml")), ids=lambda path: path.stem)
def test_every_chart_validates_against_the_vega_lite_schema(spec) -> None:
    # The build skips Altair's own validation (half its chart time): every chart kind the shipped reports use is checked here.
    schema = alt.vegalite.v6.schema.core.load_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    charts = build_charts(load_report(spec, load_package(ROOT / "data", ROOT), ROOT))
    assert charts
    for chart in charts.values():
        validator.validate(chart.spec)
        assert "/v6." in chart.spec["$schema"]


def test_left_panel_is_faithful_to_the_figure(charts: dict[str, Chart]) -> None:
    spec = charts["training-samples"].spec
    assert spec["title"] == "SFT on Qwen2.5-14B-Instruct"
    points = layer_with(spec, "point")
    x, y = points["encoding"]["x"], points["encoding"]["y"]
    assert x["field"] == "training_samples" and x["type"] == "ordinal"  # categorical, not a log scale
    assert x["sort"] == ["1000", "5000", "10000", "59000"]
    assert y["scale"]["domain"] == [60, 93] and y["title"] == "Accuracy on MATH500 (%)"
    assert points["encoding"]["shape"]["scale"]["range"] == ["circle", "triangle-up", "square"]
    rule = layer_with(spec, "rule")
    assert rule["mark"]["strokeDash"] and spec["datasets"][rule["data"]["name"]] == [{"level": 83.4}]
    line = layer_with(spec, "line")
    assert line["transform"][0]["filter"] == {"field": "series", "equal": "ReasonFlux-PRM-7B"}


def test_right_panel_labels_each_point_and_orders_sizes(charts: dict[str, Chart]) -> None:
    spec = charts["prm-size"].spec
    assert layer_with(spec, "point")["encoding"]["x"]["sort"] == ["1.5B", "7B", "72B"]
    assert layer_with(spec, "text")["encoding"]["text"]["field"] == "prm"
    assert spec["title"] == "SFT on Qwen2.5-14B-Instruct"


def test_description_lists_every_value(charts: dict[str, Chart]) -> None:
    text = charts["training-samples"].description
    assert "ReasonFlux-PRM-7B: 83.4% at 1,000, 89.6% at 5,000, 91.5% at 10,000" in text
    assert charts["training-samples"].spec["description"] == text


def test_comparison_pairs_figure_readings_with_table_rows(charts: dict[str, Chart]) -> None:
    data = charts["figure-vs-table"].data
    pairs = {(row.run, row.value, row.against) for row in data.itertuples()}
    assert ("Qwen2.5-Math-PRM-72B (Figure 6 right)", 79.1, 77.0) in pairs
    assert ("Human-curated (s1k) (Figure 6 left)", 77.8, 78.8) in pairs
    assert len(pairs) == 6


def test_field_names_with_path_characters_are_escaped() -> None:
    assert field_ref("a.b[0]") == "a\\.b\\[0\\]"


def test_render_writes_every_format_and_caches_by_spec(charts: dict[str, Chart], tmp_path) -> None:
    cache = RenderCache(tmp_path)
    files = render_charts([charts["prm-size"]], cache, Engine())[0]
    assert set(files) == {f"prm-size{s}" for s in (".svg", ".narrow.svg", ".png", ".vg.json", ".vl.json", ".csv")}
    assert files["prm-size.svg"].startswith(b"<svg") and b"Skywork-PRM-7B" in files["prm-size.svg"]
    # Drawn for a desktop's column and a phone's: the one the page shows fits the column, with legible text.
    assert b'width="688"' in files["prm-size.svg"][:400] and b'width="360"' in files["prm-size.narrow.svg"][:400]
    assert files["prm-size.png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(files["prm-size.vg.json"])["$schema"].startswith("https://vega.github.io/schema/vega/")
    assert cache.renders == 1
    again = render_charts([charts["prm-size"]], cache, Engine())[0]
    assert cache.renders == 1 and again == files


def test_project_finds_the_shipped_report() -> None:
    assert [p.name for p in Project(ROOT).report_specs()] == ["figure6.yaml", "guide.yaml", "table2.yaml"]


def test_every_chart_kind_a_spec_may_declare_has_one_builder_registered() -> None:
    from claimsite.charts.vegalite import KINDS
    from claimsite.spec.model import CHART_KINDS

    assert set(KINDS) == set(CHART_KINDS)
