"""Reports from CSV shapes the shipped reports never use: `new` then `build`, read as a reader would.

A long time series with dates and units other than percentages, a wide table of mixed units, and a
table of whole-number counts: no "points" for differences that are not of percentages, no epoch
numbers, integers printed whole, and a time axis wherever there are dates.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import pytest

from claimsite.cli.main import main
from tests.conftest import copy_project


def monthly_weather() -> str:
    """108 rows: three cities, 36 months, rainfall in mm, mean temperature in °C and a count of rainy days."""
    rows = [["city", "month", "rainfall_mm", "temperature_c", "rainy_days"]]
    for number, city in enumerate(["Lima", "Quito", "Hobart"]):
        for month in range(36):
            season = math.sin(2 * math.pi * (month % 12) / 12 + number)
            rows.append(
                [
                    city,
                    f"{2021 + month // 12}-{month % 12 + 1:02d}-01",
                    f"{60 + 45 * season + 3 * number:.1f}",
                    f"{12 + 8 * season:.1f}",
                    str(8 + round(6 * season)),
                ]
            )
    return _csv(rows)


def model_scores() -> str:
    """A wide table: one row per model, columns in billions of parameters, fractions of one, milliseconds, dollars, Elo and tokens."""
    rows = [["model", "params_b", "accuracy", "latency_ms", "cost_usd", "rating_elo", "tokens"]]
    for index, name in enumerate(["alpha", "bravo", "charlie", "delta", "echo"]):
        rows.append(
            [
                name,
                str(1.5 * (index + 1) ** 2),
                f"{0.52 + 0.07 * index:.3f}",
                f"{120 + 35 * index}",
                f"{0.4 + 0.35 * index:.2f}",
                str(1100 + 55 * index),
                str(12000 + 3500 * index),
            ]
        )
    return _csv(rows)


def league_table() -> str:
    """Whole-number counts: wins, losses and goals of four teams over three seasons."""
    rows = [["team", "season", "wins", "losses", "goals_for"]]
    for index, team in enumerate(["Rovers", "United", "Athletic", "City"]):
        for season in (2022, 2023, 2024):
            rows.append([team, str(season), str(10 + 3 * index + season % 3), str(20 - 3 * index), str(31 + 7 * index + season % 5)])
    return _csv(rows)


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


SHAPES = {"monthly-weather": monthly_weather, "model-scores": model_scores, "league-table": league_table}
EPOCH_MILLISECONDS = re.compile(r"(?<![\d.])1[0-9]{12}(?![\d])")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project with a report made by `new` from each shape, built once."""
    root = tmp_path_factory.mktemp("shapes")
    project = copy_project(root / "project")
    for slug, make in SHAPES.items():
        source = root / f"{slug}.csv"
        source.write_text(make(), encoding="utf-8")
        assert main(["--root", str(project), "new", slug, "--csv", str(source)]) == 0
    assert main(["--root", str(project), "build"]) == 0
    return project / "site"


def _claims(site: Path, slug: str) -> list[dict]:
    return [c for c in json.loads((site / "claims.json").read_text(encoding="utf-8"))["claims"] if c["report"] == slug]


def _published_text(site: Path, slug: str) -> str:
    """The report's page and every file of its figures a reader sees: SVG (with its labels), Vega-Lite specs, CSVs."""
    parts = [(site / slug / "index.html").read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8") for p in sorted((site / slug / "figures").iterdir()) if p.suffix in (".svg", ".json", ".csv")]
    return "\n".join(parts)


@pytest.mark.parametrize("slug", list(SHAPES))
def test_differences_are_in_the_values_unit_and_no_epoch_numbers_show(built: Path, slug: str) -> None:
    claims = _claims(built, slug)
    assert claims, f"{slug}: new wrote no claims"
    for claim in claims:
        units = {value["unit"] for value in claim["values"].values()}
        if "%" not in units:
            assert "points" not in claim["sentence"], claim["sentence"]
    assert not EPOCH_MILLISECONDS.search(_published_text(built, slug)), f"{slug}: an epoch number reached the page"


def test_a_time_series_gets_a_time_axis_and_readable_dates(built: Path) -> None:
    spec = json.loads((built / "monthly-weather" / "figures" / "rainfall-mm-by-month.vl.json").read_text(encoding="utf-8"))
    assert {layer["encoding"]["x"]["type"] for layer in spec["layer"]} == {"temporal"}
    sentences = " ".join(c["sentence"] for c in _claims(built, "monthly-weather"))
    assert re.search(r"(Lima|Quito|Hobart), (January|February|March|April|May|June|July|August|September|October|November|December) 202[123]", sentences)
    assert " mm" in sentences and "points" not in sentences
    svg = (built / "monthly-weather" / "figures" / "rainfall-mm-by-month.svg").read_text(encoding="utf-8")
    assert re.search(r"aria-label=\"[^\"]*Month: January 2021&#xA;Rainfall \(mm\): [\d.]+&#xA;Source: data/monthly_weather.csv, line 2", svg), (
        "marks describe dates readably, one line per value, with their source"
    )


def test_mixed_units_print_with_their_unit(built: Path) -> None:
    page = (built / "model-scores" / "index.html").read_text(encoding="utf-8")
    figures = _published_text(built, "model-scores")
    assert re.search(r"\d+\.\d billion", page), "billions of parameters print with their unit"
    assert re.search(r"8[0-9]\.\d%", figures) and "0.8" not in re.findall(r"Accuracy: ([\d.]+)", figures), "fractions of one print as percentages"
    assert "$" in figures and " ms" in figures


def test_counts_print_as_whole_numbers(built: Path) -> None:
    text = _published_text(built, "league-table")
    sentences = " ".join(c["sentence"] for c in _claims(built, "league-table"))
    assert re.search(r"\b\d+ (wins|goals)?", sentences)
    assert not re.search(r"\b\d+\.0\b", sentences), sentences
    assert not re.search(r"Wins: \d+\.0|Season: 2,0", text), "counts and years print whole, years without a thousands separator"
    spec = json.loads((built / "league-table" / "figures" / "wins-by-season.vl.json").read_text(encoding="utf-8"))
    assert {layer["encoding"]["x"]["type"] for layer in spec["layer"]} == {"quantitative"}
