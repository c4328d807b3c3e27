"""No number typed by hand goes unnoticed: refused in claims, listed in page templates, counted on each report's page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from claimsite.claims.literals import typed_quantities
from claimsite.cli.main import main
from claimsite.core.project import Project
from claimsite.core.strict import load_yaml
from claimsite.pages.render import Generated
from tests.conftest import ROOT, replace_in

TABLE2 = "templates/reports/table2.yaml"


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("the uncertainty of problem sets of 30 to 198", ["30", "198"]),
        ("ReasonFlux-PRM-7B leads on AIME24 in Table 2 and Figure 6, as Qwen2.5-Math does with s1k", []),
        ("a lead of 1,000 samples, 2.5 points and 95% of runs, in 2023", ["1,000", "2.5", "95%", "2023"]),
        ("{{ top }} of {{ top.n | count }} problems, {{ literal('95%') }} interval", []),
        ("see `at_least: 3` and [the data](../data.md#x-2)", []),
        ("1. a numbered item\n2. and another, with 4 cells", ["4"]),
    ],
)
def test_a_numeral_is_a_typed_number_unless_it_is_printed_from_data_or_part_of_a_name(text: str, typed: list[str]) -> None:
    assert [t.number for t in typed_quantities(text)] == typed


def test_the_shipped_claims_type_no_number_by_hand() -> None:
    for spec in Project(ROOT).report_specs():
        raw = load_yaml(spec, spec.name, "the report spec")
        for claim in raw.get("claims", []):
            for key in ("text", "short"):
                assert not typed_quantities(claim.get(key) or ""), f"{spec.name}: claim {claim['id']} types {typed_quantities(claim[key])}"


def test_a_number_typed_in_a_claim_stops_the_build_until_it_comes_from_the_data(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sizes = '{{ groups.values() | map(attribute="a.n") | min | count }} to\n      {{ groups.values() | map(attribute="a.n") | max | count }}.'
    replace_in(project / TABLE2, "problem sets of\n      " + sizes, "problem sets of 30 to 198.")
    assert main(["--root", str(project), "check"]) == 1
    err = capsys.readouterr().err
    assert "claim 'beyond-noise-against-s1k': its text types numbers by hand: 30 (" in err and "found:    30, 198" in err
    assert "Traceback" not in err
    replace_in(project / TABLE2, "problem sets of 30 to 198.", "problem sets of {{ literal('30') }} to {{ literal('198') }}.")
    assert main(["--root", str(project), "check"]) == 0


def test_check_lists_the_numbers_typed_in_page_templates(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = project / "templates/reports/table2.md.j2"
    replace_in(page, "## Where ReasonFlux-PRM-7B leads", "Eight sources, 32 scores.\n\n## Where ReasonFlux-PRM-7B leads")
    assert main(["--root", str(project), "check"]) == 0
    out = capsys.readouterr().out
    assert "1 number typed by hand in the page templates" in out
    assert "templates/reports/table2.md.j2:" in out and ": 32 (“Eight sources, 32 scores." in out


def test_each_report_says_how_many_of_its_numbers_come_from_the_data(rendered_once: Generated) -> None:
    page = rendered_once.pages["table2/index.md"]
    ending = page.rsplit('<p class="report-coverage"', 1)[1]
    said = re.search(r"Of the (\d+) numbers in this report&#39;s prose, (\d+) are read from the data .* and (\d+) are written as meant", ending)
    assert said, ending
    total, bound, meant = map(int, said.groups())
    assert bound == page.count('<span class="num') + 3  # each value with its source, and three benchmarks' sizes printed from the data
    assert meant == 2 and total == bound + meant  # the 95% of its intervals; nothing typed


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("costs $30, 30-198 problems, 3x faster and 10k samples", ["$30", "30", "198", "3x", "10k"]),
        ("a 14B model beside Qwen2.5-7B-Instruct and GPT-4o", ["14B"]),
        ("problem sets of\n198.", ["198"]),
        ("{{ x }} 30.", ["30"]),
    ],
)
def test_units_ranges_and_sentence_ends_are_typed_numbers_too(text: str, typed: list[str]) -> None:
    assert [t.number for t in typed_quantities(text)] == typed
