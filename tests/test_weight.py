"""Pages stay light however many rows a chart or a claim summarises: provenance in bounded words, thinned hover targets."""

from __future__ import annotations

import gzip
import html
import json
import re

import numpy as np
import pandas as pd
import pytest

from report.build import generate
from report.charts import DESCRIBED, MAX_TARGETS
from report.pages import Generated
from report.project import Project
from tests.conftest import copy_project

DESCRIPTOR = """
  - name: daily
    path: daily.csv
    title: Daily temperature
    schema:
      fields:
        - {name: city, type: string}
        - {name: day, type: date}
        - {name: temperature_c, type: number, unit: °C}
  - name: answers
    path: answers.csv
    title: Answers
    schema:
      fields:
        - {name: question, type: integer}
        - {name: correct, type: integer}
"""
SPEC = """slug: heavy
title: Heavy data
data:
  daily: {dataset: daily, value: temperature_c, label: city}
  answers: {dataset: answers, value: correct}
charts:
  - id: temperature
    kind: line
    title: Daily temperature
    data: daily
    x: {field: day}
    y: {field: temperature_c}
    series: {field: city}
    points: true
claims:
  - id: warming
    check: trend
    from: daily
    where: {city: Lima}
    along: day
    per: year
    method: overall
    noise: ignore
    text: "From {{ at[0] }} to {{ at[-1] }}, Lima's yearly mean moves by {{ change }}."
  - id: share
    check: aggregate
    from: answers
    value: correct
    stat: share
    text: "{{ value }} of the answers are correct."
  - id: every-day
    check: every
    from: daily
    where: {city: Lima}
    at_most: 100
    text: "Every day stays under {{ largest }}."
"""


@pytest.fixture(scope="module")
def heavy(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """A report over 1,461 days of two cities and 10,000 answers, built with its charts drawn."""
    project = copy_project(tmp_path_factory.mktemp("heavy") / "project")
    days = pd.date_range("2020-01-01", "2023-12-31", freq="D")
    frame = pd.concat(
        pd.DataFrame({"city": city, "day": days.strftime("%Y-%m-%d"), "temperature_c": (offset + 8 * np.sin(days.day_of_year / 365 * 6.283)).round(1)})
        for city, offset in (("Lima", 19.0), ("Oslo", 6.0))
    )
    frame.to_csv(project / "data" / "daily.csv", index=False)
    pd.DataFrame({"question": range(1, 10_001), "correct": [int(i % 7 < 4) for i in range(10_000)]}).to_csv(project / "data" / "answers.csv", index=False)
    with (project / "data" / "datapackage.yaml").open("a", encoding="utf-8") as descriptor:
        descriptor.write(DESCRIPTOR)
    (project / "templates" / "reports" / "heavy.yaml").write_text(SPEC, encoding="utf-8")
    (project / "templates" / "reports" / "heavy.md.j2").write_text(
        "---\ntitle: Heavy\n---\n# Heavy\n\n{{ figure('temperature') }}\n\n{{ claim('warming') }} {{ claim('share') }} {{ claim('every-day') }}\n",
        encoding="utf-8",
    )
    return generate(Project(project))  # the shipped charts come drawn with the copy: only this report's are drawn


def test_no_source_text_is_longer_than_a_kilobyte(heavy: Generated) -> None:
    page = heavy.drawn(heavy.pages["heavy/index.md"])
    said = [html.unescape(text) for text in re.findall(r'(?:title|aria-label)="([^"]*)"', page)]
    assert said and max(map(len, said)) <= 1000, max(said, key=len)[:300]
    share = next(text for text in said if text.startswith("mean of 10000") or "10,000 rows of data/answers.csv" in text)
    assert "lines 2–10,001" in share


def test_a_dense_line_keeps_a_marker_with_a_tooltip_for_each_stretchs_high_and_low_only(heavy: Generated) -> None:
    svg = heavy.files["heavy/figures/temperature.svg"].decode()
    marks = svg.count('role="graphics-symbol"')
    assert 0 < marks <= 2 * (MAX_TARGETS + 2)  # two cities
    assert heavy.files["heavy/figures/temperature.csv"].decode().count("\n") == 2 * 1461 + 1  # the download has every day


def test_the_description_summarises_a_long_series(heavy: Generated) -> None:
    chart = next(r for r in heavy.reports if r.report.slug == "heavy").charts["temperature"]
    assert len(chart.description) < 1000
    assert chart.description.startswith("Daily temperature. Lima: 1,461 values, from ")
    assert chart.description.count(";") <= DESCRIBED


def test_the_page_and_claims_json_stay_light(heavy: Generated) -> None:
    page = heavy.drawn(heavy.pages["heavy/index.md"])
    assert len(gzip.compress(page.encode())) < 250_000
    assert "The first 100 of 2,922 rows" in page
    claims = heavy.files["claims.json"]
    assert len(claims) < 200_000
    every = next(c for c in json.loads(claims)["claims"] if c["id"] == "every-day")
    assert len(every["values"]) <= 30 and every["values_omitted"] == {"values": 1461 - 20}
