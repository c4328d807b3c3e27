"""Mistakes in a report spec or page template stop the build with a located message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimsite.core.errors import ReportError
from claimsite.core.project import Project
from claimsite.site.build import check
from tests.conftest import replace_in

SPEC = "templates/reports/figure6.yaml"
PAGE = "templates/reports/figure6.md.j2"
GUIDE = "templates/reports/guide.yaml"

# (file, text to replace, replacement, what the message must say)
CASES = {
    "where on a column with empty cells": (
        SPEC,
        "where: {series: ReasonFlux-PRM-7B}\n    along",
        "where: {table2_source: ReasonFlux-PRM-7B}\n    along",
        "at least two values",
    ),
    "where given as a list": (SPEC, "where: {prm_size: 7B}", "where: [prm_size, 7B]", "where: must be a mapping of keys"),
    "text where a number column is selected": (SPEC, "training_samples: 1000}}", 'training_samples: "1k"}}', "holds numbers"),
    "a value column that does not exist": (
        SPEC,
        "a: {from: prms, where: {prm: ReasonFlux-PRM-7B}}",
        "a: {from: prms, where: {prm: ReasonFlux-PRM-7B}, value: acc}",
        "no column 'acc'",
    ),
    "a limit that is not a number": (SPEC, "at_most: 2.5", "at_most: two", "at_most: must be a number"),
    "a typo in expect": (SPEC, "expect: rising", "expect: rise", "did you mean 'rising'?"),
    "an axis column that does not exist": (SPEC, "along: training_samples\n    expect", "along: samples\n    expect", "no column 'samples'"),
    "a claim text that prints a bare number": (SPEC, "a gain of\n      {{ change }}", "a gain of\n      {{ change.value }}", "could not be written"),
    "a view key that does not exist": (
        SPEC,
        "key: table2_source, reading: Figure 6 left",
        "key: table_source, reading: Figure 6 left",
        "no column 'table_source'",
    ),
    "a view that is not a mapping": (
        SPEC,
        "  figure_vs_table:\n    match:",
        "  broken: 3\n  figure_vs_table:\n    match:",
        "a view is made by one of sql:, match: or difference:",
    ),
    "a chart field that does not exist": (SPEC, "labels: prm\n", "labels: prm_name\n", "no column 'prm_name'"),
    "a chart without its series": (SPEC, "    series:\n      field: prm_family\n", "    colours:\n      field: prm_family\n", "missing key 'series'"),
    "a series order that leaves out a series": (
        SPEC,
        "order: [ReasonFlux-PRM, Qwen2.5-Math-PRM, Skywork-PRM]",
        "order: [ReasonFlux-PRM, Qwen2.5-Math-PRM]",
        "leaves out",
    ),
    "a line through a series that does not exist": (SPEC, "line: [ReasonFlux-PRM-7B]", "line: [ReasonFlux-PRM-8B]", "line: names a series"),
    "a reserved slug": (SPEC, "slug: figure6", "slug: changes", "is a name the site uses"),
    "a social chart that does not exist": (SPEC, "nav_title: Figure 6\n", "nav_title: Figure 6\nsocial_chart: training\n", "social_chart names no chart"),
    "a headline that is a list": (SPEC, "headline: reasonflux-best-prm", "headline: [reasonflux-best-prm]", "headline: must be text"),
    "a claim placed twice": (PAGE, '- {{ claim("human-vs-raw") }}\n', '- {{ claim("human-vs-raw") }}\n- {{ claim("human-vs-raw") }}\n', "placed twice"),
    "a cell column that does not exist": (PAGE, 'cell("samples", "training_samples"', 'cell("samples", "samples"', "no column 'samples'"),
    "zoom on a chart with no number or date axis": (
        GUIDE,
        "    kind: heatmap\n",
        "    kind: heatmap\n    zoom: true\n",
        "zoom: needs a single chart with a number or date axis",
    ),
    "a guide example that is not a mapping": (GUIDE, "error_examples:\n", "error_examples:\n  - just text\n", "error_examples[0]: must be a mapping of keys"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_spec_or_template_mistake_is_a_located_error(project: Path, case: str) -> None:
    file, old, new, message = CASES[case]
    replace_in(project / file, old, new)
    try:
        check(Project(project))
    except ReportError as error:
        text = str(error)
        assert message in text, text
        assert error.problems[0].file.startswith(("templates/", "data/")), text
    else:
        pytest.fail(f"{case}: the build did not stop")


def test_an_empty_cell_read_as_a_number_names_its_file_line_and_column(project: Path) -> None:
    replace_in(
        project / "data" / "datapackage.yaml",
        'unit: "%"\n          constraints: {required: true, minimum: 0, maximum: 100}',
        'unit: "%"\n          constraints: {minimum: 0, maximum: 100}',
    )
    replace_in(project / "data" / "figure6_training_samples.csv", "Human selected (s1k),1000,77.8,", "Human selected (s1k),1000,,")
    with pytest.raises(ReportError) as caught:
        check(Project(project))
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.column, problem.found) == ("data/figure6_training_samples.csv", 5, "math500_accuracy", "an empty cell")
