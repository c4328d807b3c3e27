"""Pages stay light however many rows a chart or a claim summarises: provenance in bounded words, thinned hover targets."""

from __future__ import annotations

import gzip
import html
import json
import re

import pytest

from bench import synth
from claimsite.charts.vegalite import DESCRIBED, MAX_TARGETS
from claimsite.core.project import Project
from claimsite.pages.render import Generated
from claimsite.site.build import generate
from tests.conftest import copy_project


@pytest.fixture(scope="module")
def heavy(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The benchmark's heavy case, built with its charts drawn: a log through a SQL view, a line over 1,461 days of two
    cities with a trend and a claim over every day, and a share over 10,000 answers."""
    project = copy_project(tmp_path_factory.mktemp("heavy") / "project")
    synth.add_weight(project, rows=2_000)
    return generate(Project(project))


def test_no_source_text_is_longer_than_a_kilobyte(heavy: Generated) -> None:
    page = heavy.drawn(heavy.pages["daily/index.md"])
    said = [html.unescape(text) for text in re.findall(r'(?:title|aria-label)="([^"]*)"', page)]
    assert said and max(map(len, said)) <= 1000, max(said, key=len)[:300]
    share = next(text for text in said if "10,000 rows of data/synthetic_answers.csv" in text)
    assert "lines 2–10,001" in share


def test_a_dense_line_keeps_a_marker_with_a_tooltip_for_each_stretchs_high_and_low_only(heavy: Generated) -> None:
    svg = heavy.files["daily/figures/daily.svg"].decode()
    marks = svg.count('role="graphics-symbol"')
    assert 0 < marks <= 2 * (MAX_TARGETS + 2)  # two cities
    assert heavy.files["daily/figures/daily.csv"].decode().count("\n") == 2 * 1461 + 1  # the download has every day


def test_the_description_summarises_a_long_series(heavy: Generated) -> None:
    chart = next(r for r in heavy.reports if r.report.slug == "daily").charts["daily"]
    assert len(chart.description) < 1000
    assert chart.description.startswith("Daily temperature. Lima: 1,461 values, from ")
    assert chart.description.count(";") <= DESCRIBED


def test_the_page_and_claims_json_stay_light(heavy: Generated) -> None:
    page = heavy.drawn(heavy.pages["daily/index.md"])
    assert len(gzip.compress(page.encode())) < 250_000
    assert "The first 100 of 2,922 rows" in page
    claims = heavy.files["claims.json"]
    assert len(claims) < 200_000
    every = next(c for c in json.loads(claims)["claims"] if c["id"] == "every-day")
    assert len(every["values"]) <= 30 and every["values_omitted"] == {"values": 1461 - 20}
