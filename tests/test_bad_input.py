"""Bad input never breaks the published site: every mistake in data/ stops the build with a located message.

Each case checks that the message names the file, the line, the column, what was expected and what was found,
and that nothing under data/ was changed by loading it.
"""

from __future__ import annotations

import atexit
import csv
import functools
import io
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from claimsite.charts.figures import RenderCache
from claimsite.charts.vegalite import MAX_ROWS
from claimsite.cli.main import main
from claimsite.core.errors import Problem, ReportError
from claimsite.core.project import Project
from claimsite.core.tables import to_csv
from claimsite.data import large as bigdata
from claimsite.data.load import load_package, reference_package
from claimsite.site.build import check, generate
from claimsite.site.publish import publish
from tests.conftest import ROOT, copy_project, replace_in, shipped, tree

SAMPLES = "data/figure6_training_samples.csv"
PRMS = "data/figure6_prm_size.csv"
TABLE2 = "data/table2_offline_selection.csv"
DESCRIPTOR = "data/datapackage.yaml"
SAMPLES_HEADER = "series,training_samples,math500_accuracy,table2_source"


def replace_bytes(path: Path, old: bytes, new: bytes) -> None:
    """Edit a file byte for byte, failing loudly if the bytes to replace are not there."""
    content = path.read_bytes()
    assert old in content, f"{old!r} not in {path}"
    path.write_bytes(content.replace(old, new, 1))


def replace_after(path: Path, marker: str, old: str, new: str) -> None:
    """Replace the first ``old`` that follows ``marker`` in a text file."""
    text = path.read_text(encoding="utf-8")
    start = text.index(marker)
    assert old in text[start:], f"{old!r} not after {marker!r} in {path}"
    path.write_text(text[:start] + text[start:].replace(old, new, 1), encoding="utf-8")


@functools.cache
def published_site() -> Path:
    """The shipped site, built once for this module, to copy where a failing build must leave it untouched."""
    folder = Path(tempfile.mkdtemp(prefix="good-site-"))
    atexit.register(shutil.rmtree, folder, True)
    site = folder / "site"
    publish(ROOT, generate(shipped()), site)
    return site


def problems_for(project: Path) -> list[Problem]:
    """The problems loading the project's data reports, the same whether its files count as small or as large, and
    such that Frictionless finds each file with a problem invalid too (but for the project's own stricter rules); a
    full build of it fails and leaves the last site and data/ untouched."""
    before = tree(project / "data")
    with pytest.raises(ReportError) as caught:
        load_package(project / "data", project)
    assert tree(project / "data") == before
    assert caught.value.problems
    with pytest.MonkeyPatch.context() as patch, pytest.raises(ReportError) as large:
        patch.setattr(bigdata, "LARGE_BYTES", 0)  # every data file read by DuckDB, into a store, as a large one is
        load_package(project / "data", project, scratch=project.parent / "stores")
    assert [str(p) for p in large.value.problems] == [str(p) for p in caught.value.problems], "a large file gets another verdict"
    for file in {p.file for p in caught.value.problems if p.message not in PROJECT_RULES and p.file.endswith(".csv")}:
        assert not reference_valid(project, file), f"Frictionless reads {file} as valid: {[str(p) for p in caught.value.problems]}"
    site = project.parent / "site"
    shutil.copytree(published_site(), site)
    site_before = tree(site)
    assert main(["--root", str(project), "build", "--site-dir", str(site)]) == 1
    assert tree(site) == site_before and tree(project / "data") == before
    return caught.value.problems


# What the project refuses that Frictionless reads: numbers a report cannot compute with, control characters, a file
# with no rows, a header name with spaces around it (Frictionless strips them), a file the descriptor does not describe
PROJECT_RULES = frozenset(
    {
        "a cell holds a number the report cannot use",
        "the text holds a control character",
        "the CSV has no data rows",
        "this CSV is not described in the data package",
        "a header cell has spaces around the column name",
    }
)


def reference_valid(project: Path, file: str) -> bool | None:
    """Whether Frictionless, reading the descriptor, finds the file valid (None: the descriptor names no such file)."""
    descriptor = yaml.safe_load((project / DESCRIPTOR).read_text(encoding="utf-8"))
    package = reference_package(descriptor, project / DESCRIPTOR, DESCRIPTOR)  # the dialect as declared, never guessed
    for declared, resource in zip(descriptor["resources"], package.resources, strict=True):
        if f"data/{declared['path']}" == file:
            return bool(resource.validate().valid)
    return None


def loads(project: Path) -> dict:
    """The datasets of the project, checking that loading changed nothing under data/, that a large file's first rows,
    lines and count are the same, and that Frictionless finds each file valid too."""
    before = tree(project / "data")
    datasets = load_package(project / "data", project)
    assert tree(project / "data") == before
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bigdata, "LARGE_BYTES", 0)
        large = load_package(project / "data", project, scratch=project.parent / "stores")
    for name, dataset in datasets.items():
        stored = large[name]
        assert stored.rows == len(dataset.frame) and stored.lines == dataset.lines[: len(stored.lines)]
        pd.testing.assert_frame_equal(stored.frame.reset_index(drop=True), dataset.frame.head(len(stored.frame)).reset_index(drop=True))
        if dataset.path.endswith(".csv"):
            assert reference_valid(project, dataset.path), f"Frictionless finds {dataset.path} invalid"
    return datasets


def only(problems: list[Problem], file: str, line: int | None) -> Problem:
    """The one problem reported at ``file:line``."""
    found = [p for p in problems if p.file == file and p.line == line]
    assert len(found) == 1, f"expected one problem at {file}:{line}, got:\n" + "\n".join(map(str, problems))
    return found[0]


def assert_located(problem: Problem, file: str, line: int, column: str | int | None, expected: str, found: str) -> None:
    """The problem names the file, the line, the column, what was expected and what was found, and prints them."""
    assert (problem.file, problem.line, problem.column) == (file, line, column), str(problem)
    assert expected in (problem.expected or ""), str(problem)
    assert found in (problem.found or ""), str(problem)
    assert problem.fix, str(problem)
    text = str(problem)
    assert text.startswith(f"{file}:{line}") and "expected:" in text and "found:" in text and "fix:" in text


# 1. Encoding


def test_latin1_byte_is_located_by_the_line_of_its_byte_offset(project: Path) -> None:
    path = project / SAMPLES
    replace_bytes(path, b"Raw data (59k)", b"Caf\xe9 (59k)")
    replace_bytes(path, b"ReasonFlux-PRM-7B,5000,89.6,", b"ReasonFlux-PRM-7B,5000,89.6,na\xefve")
    raw = path.read_bytes()
    lines = [raw.count(b"\n", 0, offset) + 1 for offset in (raw.index(b"\xef"), raw.index(b"\xe9"))]
    assert lines == [3, 6]
    problems = problems_for(project)
    assert_located(only(problems, SAMPLES, 3), SAMPLES, 3, "table2_source", "UTF-8", "0xEF")
    problem = only(problems, SAMPLES, 6)
    assert_located(problem, SAMPLES, 6, "series", "UTF-8 text", 'the byte 0xE9 in "Caf\\xe9 (59k)"')
    assert "save the file as UTF-8" in problem.fix


# 2. Byte order mark


@pytest.mark.parametrize("header", [SAMPLES_HEADER, '"series","training_samples","math500_accuracy","table2_source"'])
def test_utf8_byte_order_mark_loads_cleanly(project: Path, header: str) -> None:
    path = project / SAMPLES
    body = path.read_text(encoding="utf-8").split("\n", 1)[1]
    path.write_bytes(b"\xef\xbb\xbf" + f"{header}\n{body}".encode())
    samples = loads(project)["figure6_training_samples"]
    assert list(samples.frame.columns) == SAMPLES_HEADER.split(",")
    assert samples.frame["series"].iloc[0] == "ReasonFlux-PRM-7B"
    assert samples.lines == (2, 3, 4, 5, 6)


# 3. Shape: empty file, header only, ragged rows, duplicate and padded headers


def test_empty_file_is_reported_at_line_1(project: Path) -> None:
    (project / SAMPLES).write_bytes(b"")
    problem = only(problems_for(project), SAMPLES, 1)
    assert_located(problem, SAMPLES, 1, "series", SAMPLES_HEADER, "an empty file (0 bytes)")


def test_header_only_file_has_no_data_rows_at_line_2(project: Path) -> None:
    (project / SAMPLES).write_text(SAMPLES_HEADER + "\n", encoding="utf-8")
    problem = only(problems_for(project), SAMPLES, 2)
    assert problem.message == "the CSV has no data rows"
    assert_located(problem, SAMPLES, 2, None, "at least one row of data", "the header only")


def test_ragged_rows_are_located(project: Path) -> None:
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,10000,91.5,", "ReasonFlux-PRM-7B,10000,91.5,,surplus")
    replace_in(project / SAMPLES, "Human selected (s1k),1000,77.8,Human-curated (s1k)", "Human selected (s1k),1000,77.8")
    problems = problems_for(project)
    assert_located(only(problems, SAMPLES, 4), SAMPLES, 4, None, "4 cells, one per column", "'surplus' in cell 5")
    assert_located(only(problems, SAMPLES, 5), SAMPLES, 5, "table2_source", "4 cells, one per column", "3 cells")


def test_duplicate_header_names_the_cell_and_the_expected_field(project: Path) -> None:
    replace_in(project / SAMPLES, SAMPLES_HEADER, "series,training_samples,math500_accuracy,math500_accuracy")
    problem = only(problems_for(project), SAMPLES, 1)
    assert "twice" in problem.message
    assert_located(problem, SAMPLES, 1, "table2_source", "'table2_source'", "'math500_accuracy'")


@pytest.mark.parametrize(("label", "field"), [(" series", "series"), ("training_samples ", "training_samples")])
def test_header_padded_with_spaces_is_not_stripped_silently(project: Path, label: str, field: str) -> None:
    replace_in(project / SAMPLES, SAMPLES_HEADER, SAMPLES_HEADER.replace(field, label))
    problem = only(problems_for(project), SAMPLES, 1)
    assert_located(problem, SAMPLES, 1, field, repr(field), repr(label))


# 4. Missing and unknown columns


def test_missing_column_is_named_at_line_1(project: Path) -> None:
    path = project / SAMPLES
    path.write_text("\n".join(line.rsplit(",", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()) + "\n", encoding="utf-8")
    problem = only(problems_for(project), SAMPLES, 1)
    assert_located(problem, SAMPLES, 1, "table2_source", "'table2_source'", "no such column")


def test_unknown_extra_column_is_named_at_line_1(project: Path) -> None:
    path = project / SAMPLES
    path.write_text("\n".join(f"{line},x" for line in path.read_text(encoding="utf-8").splitlines()).replace(",x", ",notes", 1) + "\n", encoding="utf-8")
    problem = only(problems_for(project), SAMPLES, 1)
    assert_located(problem, SAMPLES, 1, "notes", "only the descriptor's fields", "'notes'")


# 5. Numbers written as text


def test_percent_thousands_and_decimal_commas_are_rejected_per_cell(project: Path) -> None:
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,1000,83.4,", "ReasonFlux-PRM-7B,1000,83%,")
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,10000,91.5,", 'ReasonFlux-PRM-7B,"10,000",91.5,')
    replace_in(project / SAMPLES, "Human selected (s1k),1000,77.8,", 'Human selected (s1k),1000,"77,8",')
    replace_in(project / SAMPLES, "Raw data (59k),59000,79.7,", "Raw data (59k),59000,about 80,")
    problems = problems_for(project)
    assert len(problems) == 4
    assert_located(only(problems, SAMPLES, 2), SAMPLES, 2, "math500_accuracy", "a number (plain digits: no % sign", "'83%'")
    assert_located(only(problems, SAMPLES, 4), SAMPLES, 4, "training_samples", "an integer (plain digits", "'10,000'")
    assert_located(only(problems, SAMPLES, 5), SAMPLES, 5, "math500_accuracy", "'.' before decimals", "'77,8'")
    assert_located(only(problems, SAMPLES, 6), SAMPLES, 6, "math500_accuracy", "a number", "'about 80'")
    assert "groupChar" in only(problems, SAMPLES, 5).fix


def test_declared_group_char_parses_thousands_into_numbers(project: Path) -> None:
    replace_after(project / DESCRIPTOR, "name: figure6_prm_size", "unit: billion parameters\n", "unit: billion parameters\n          groupChar: ','\n")
    replace_in(project / PRMS, "Qwen2.5-Math-PRM-72B,Qwen2.5-Math-PRM,72B,72,", 'Qwen2.5-Math-PRM-72B,Qwen2.5-Math-PRM,72B,"1,072.5",')
    frame = loads(project)["figure6_prm_size"].frame
    assert frame["prm_size_b"].dtype == "float64"
    assert frame["prm_size_b"].tolist() == [1.5, 7.0, 7.0, 7.0, 1072.5]


def test_declared_decimal_char_parses_decimal_commas_into_the_same_numbers(project: Path) -> None:
    shipped = load_package(ROOT / "data", ROOT)["figure6_prm_size"].frame
    replace_after(project / DESCRIPTOR, "name: figure6_prm_size", 'unit: "%"\n', "unit: \"%\"\n          decimalChar: ','\n")
    path = project / PRMS
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    for row in rows[1:]:
        row[4] = row[4].replace(".", ",")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert '"77,4"' in path.read_text(encoding="utf-8")
    frame = loads(project)["figure6_prm_size"].frame
    pd.testing.assert_frame_equal(frame, shipped)


def test_decimal_point_in_a_decimal_comma_column_is_rejected(project: Path) -> None:
    replace_after(project / DESCRIPTOR, "name: figure6_prm_size", 'unit: "%"\n', "unit: \"%\"\n          decimalChar: ','\n")
    problems = problems_for(project)
    assert len(problems) == 5
    assert_located(only(problems, PRMS, 2), PRMS, 2, "math500_accuracy", "',' before decimals", "'77.4'")


# 6. "NA" is a label, only an empty cell is missing


def test_na_is_kept_as_text_and_only_empty_cells_are_missing(project: Path) -> None:
    replace_in(project / SAMPLES, "Raw data (59k),59000,79.7,", "NA,59000,79.7,N/A")
    frame = loads(project)["figure6_training_samples"].frame
    assert frame["series"].iloc[4] == "NA" and frame["table2_source"].iloc[4] == "N/A"
    assert not frame["series"].isna().any()
    assert frame["table2_source"].isna().tolist() == [False, True, True, False, False]


# 7. Numbers that are not finite


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1e400"])
def test_non_finite_numbers_are_rejected_with_their_location(project: Path, value: str) -> None:
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,5000,89.6,", f"ReasonFlux-PRM-7B,5000,{value},")
    problem = only(problems_for(project), SAMPLES, 3)
    assert_located(problem, SAMPLES, 3, "math500_accuracy", "a finite number", repr(value))


def test_non_finite_numbers_are_rejected_without_constraints_too(project: Path) -> None:
    replace_in(project / DESCRIPTOR, "constraints: {required: true, minimum: 0, maximum: 100}", "constraints: {required: true}")
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,5000,89.6,", "ReasonFlux-PRM-7B,5000,nan,")
    assert_located(only(problems_for(project), SAMPLES, 3), SAMPLES, 3, "math500_accuracy", "a finite number", "'nan'")


# 8. Keys and constraints


def test_duplicate_primary_key_is_located(project: Path) -> None:
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,10000,91.5,", "ReasonFlux-PRM-7B,5000,91.5,")
    problem = only(problems_for(project), SAMPLES, 4)
    assert problem.message == "the row repeats the key of an earlier row"
    assert_located(problem, SAMPLES, 4, None, "each key once", "row at position")


def test_value_out_of_declared_range_is_located(project: Path) -> None:
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,5000,89.6,", "ReasonFlux-PRM-7B,5000,130,")
    assert_located(only(problems_for(project), SAMPLES, 3), SAMPLES, 3, "math500_accuracy", '"maximum" is "100"', "'130'")


# 9. Delimiters


@pytest.mark.parametrize(("delimiter", "declared"), [(";", '";"'), ("\t", '"\\t"')])
def test_other_delimiter_is_named_with_the_fix(project: Path, delimiter: str, declared: str) -> None:
    path = project / SAMPLES
    path.write_text(path.read_text(encoding="utf-8").replace(",", delimiter), encoding="utf-8")
    problem = only(problems_for(project), SAMPLES, 1)
    assert problem.message == f"the cells look separated by {delimiter!r}, not by ','"
    assert_located(problem, SAMPLES, 1, "series", "4 columns separated by ','", repr(SAMPLES_HEADER.replace(",", delimiter)))
    assert f"dialect: {{delimiter: {declared}}}" in problem.fix and DESCRIPTOR in problem.fix


def test_declared_semicolon_delimiter_loads_the_same_data(project: Path) -> None:
    shipped = load_package(ROOT / "data", ROOT)["figure6_training_samples"]
    path = project / SAMPLES
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    replace_in(project / DESCRIPTOR, "path: figure6_training_samples.csv\n", 'path: figure6_training_samples.csv\n    dialect: {delimiter: ";"}\n')
    samples = loads(project)["figure6_training_samples"]
    pd.testing.assert_frame_equal(samples.frame, shipped.frame)
    assert samples.lines == shipped.lines


# 10. The descriptor


def test_descriptor_naming_a_missing_file(project: Path) -> None:
    (project / PRMS).unlink()
    lines = (project / DESCRIPTOR).read_text(encoding="utf-8").splitlines()
    problem = only(problems_for(project), DESCRIPTOR, lines.index("    path: figure6_prm_size.csv") + 1)
    assert "figure6_prm_size" in problem.message and "does not exist" in problem.message
    assert problem.expected == f"a file {PRMS}" and problem.found == "no such file"


def test_csv_the_descriptor_does_not_describe(project: Path) -> None:
    (project / "data" / "extra.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    problem = only(problems_for(project), "data/extra.csv", None)
    assert "not described" in problem.message and problem.expected == f"a resource with path: extra.csv in {DESCRIPTOR}"


def test_invalid_descriptor_yaml_gives_line_and_column(project: Path) -> None:
    replace_in(project / DESCRIPTOR, "    reading: table\n", "    reading: table: published\n")
    lines = (project / DESCRIPTOR).read_text(encoding="utf-8").splitlines()
    line = next(number for number, text in enumerate(lines, start=1) if text == "    reading: table: published")
    problem = only(problems_for(project), DESCRIPTOR, line)
    assert problem.column == lines[line - 1].index(": published") + 1
    assert "not valid YAML" in problem.message


def test_invalid_field_type_points_at_its_line(project: Path) -> None:
    replace_after(project / DESCRIPTOR, "name: figure6_prm_size", "type: number", "type: numbr")
    lines = (project / DESCRIPTOR).read_text(encoding="utf-8").splitlines()
    line = lines.index("          type: numbr") + 1
    problem = only(problems_for(project), DESCRIPTOR, line)
    assert problem.message == "resources[1].schema.fields[3].type: is not one of the allowed values"
    assert problem.fix == "did you mean 'number'?" and "integer" in (problem.expected or "")


# 11. Every bad cell in one run


def test_several_bad_cells_in_several_files_are_reported_in_one_error(project: Path) -> None:
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,1000,83.4,", "ReasonFlux-PRM-7B,1000,n/a,")
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,5000,89.6,", "ReasonFlux-PRM-7B,5000,130,")
    replace_in(project / SAMPLES, "Raw data (59k),59000,", "Raw data (59k),-5,")
    replace_in(project / TABLE2, "Random,AIME24,16.7", "Random,AIME2024,16.7")
    located = {(p.file, p.line, p.column) for p in problems_for(project)}
    assert located == {
        (SAMPLES, 2, "math500_accuracy"),
        (SAMPLES, 3, "math500_accuracy"),
        (SAMPLES, 6, "training_samples"),
        (TABLE2, 6, "benchmark"),
    }


# 12. Column names that Vega-Lite would read as paths


@pytest.mark.parametrize(
    "family",
    ["prm_family", 'PRM "family" (it\'s)'],
)
def test_column_names_with_dots_brackets_colons_and_quotes_render_in_charts(project: Path, family: str) -> None:
    for other in (project / "templates" / "reports").glob("*.yaml"):
        if other.name != "figure6.yaml":
            other.unlink()  # only the Figure 6 report is renamed to use the new column names
    size, accuracy = "prm.size[b]", "acc: MATH500 (%)"
    yaml_family = "'" + family.replace("'", "''") + "'"
    quoted_family = '"' + family.replace('"', '""') + '"'
    replace_in(project / PRMS, "prm,prm_family,prm_size,prm_size_b,math500_accuracy,", f"prm,{quoted_family},prm_size,{size},{accuracy},")
    descriptor = project / DESCRIPTOR
    replace_after(descriptor, "name: figure6_prm_size", "- name: prm_family", f"- name: {yaml_family}")
    replace_after(descriptor, "name: figure6_prm_size", "- name: prm_size_b", f'- name: "{size}"')
    replace_after(descriptor, "name: figure6_prm_size", "- name: math500_accuracy", f'- name: "{accuracy}"')
    spec = project / "templates" / "reports" / "figure6.yaml"
    replace_in(spec, "value: math500_accuracy, label: prm,", f'value: "{accuracy}", label: prm,')
    replace_in(spec, "sort_by: prm_size_b}", f'sort_by: "{size}"}}')
    replace_after(spec, "id: prm-size", "y: {field: math500_accuracy,", f'y: {{field: "{accuracy}",')
    replace_after(spec, "id: prm-size", "field: prm_family", f"field: {yaml_family}")
    replace_in(project / "templates" / "reports" / "figure6.md.j2", 'sort_by="prm_size_b"', f'sort_by="{size}"')
    assert [f.name for f in loads(project)["figure6_prm_size"].fields] == ["prm", family, "prm_size", size, accuracy, "table2_source"]
    generated = generate(Project(project))
    svg = generated.files["figure6/figures/prm-size.svg"].decode()
    for label in ("ReasonFlux-PRM-1.5B", "ReasonFlux-PRM-7B", "Qwen2.5-Math-PRM-7B", "Skywork-PRM-7B", "Qwen2.5-Math-PRM-72B"):
        assert f">{label}</text>" in svg, label
    assert svg.count('role="graphics-symbol"') >= 5
    header = generated.files["data/figure6_prm_size.csv"].decode().splitlines()[0]
    assert next(csv.reader([header])) == ["prm", family, "prm_size", size, accuracy, "table2_source"]


# 13. More rows than a chart draws


def test_more_rows_than_a_chart_draws_is_a_located_error(project: Path) -> None:
    extra = "".join(f"Source {number},AIME24,{number % 100}.5\n" for number in range(MAX_ROWS))
    with (project / TABLE2).open("a", encoding="utf-8") as file:
        file.write(extra)
    assert len(loads(project)["table2_offline_selection"].frame) == MAX_ROWS + 32
    with pytest.raises(ReportError) as caught:
        check(Project(project))
    problem = caught.value.problems[0]
    assert problem.file == TABLE2
    assert f"{MAX_ROWS + 32:,} rows" in problem.message and problem.expected == f"at most {MAX_ROWS:,} rows"
    assert "aggregate" in problem.fix


# 15. Formula injection in the downloadable CSVs

FORMULAS = ['=HYPERLINK("http://example.com","x")', "+1", "-x", "@SUM(A1:A2)", "plain"]


def test_to_csv_neutralises_formulas_and_keeps_numbers() -> None:
    frame = pd.DataFrame(
        {
            "note": pd.array(FORMULAS, dtype="string"),
            "delta": [-1.5, 2.0, -0.25, 0.0, 1.0],
            "count": pd.array([-3, 4, None, 0, 1], dtype="Int64"),
        }
    )
    rows = list(csv.reader(io.StringIO(to_csv(frame))))
    assert rows[0] == ["note", "delta", "count"]
    assert [row[0] for row in rows[1:]] == ["'" + FORMULAS[0], "'+1", "'-x", "'@SUM(A1:A2)", "plain"]
    assert [float(row[1]) for row in rows[1:]] == [-1.5, 2.0, -0.25, 0.0, 1.0]
    assert [row[2] for row in rows[1:]] == ["-3", "4", "", "0", "1"]


def test_published_csv_neutralises_formulas_from_the_data(project: Path) -> None:
    with (project / DESCRIPTOR).open("a", encoding="utf-8") as file:
        file.write(
            "  - name: notes\n    path: notes.csv\n    title: Notes\n    format: csv\n    encoding: utf-8\n    schema:\n      fields:\n"
            "        - {name: note, type: string}\n        - {name: delta, type: number}\n        - {name: count, type: integer}\n"
        )
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([["note", "delta", "count"], *[[note, -1.5 * i, -i] for i, note in enumerate(FORMULAS)]])
    (project / "data" / "notes.csv").write_text(buffer.getvalue(), encoding="utf-8")
    generated = generate(Project(project), cache=RenderCache(None), render_charts=False)
    rows = list(csv.reader(io.StringIO(generated.files["data/notes.csv"].decode())))
    assert [row[0] for row in rows[1:]] == ["'" + FORMULAS[0], "'+1", "'-x", "'@SUM(A1:A2)", "plain"]
    assert [float(row[1]) for row in rows[1:]] == [-0.0, -1.5, -3.0, -4.5, -6.0]
    assert [row[2] for row in rows[1:]] == ["0", "-1", "-2", "-3", "-4"]


# 14. Nothing lost: a failed build leaves the published site byte for byte


def _latin1(project: Path) -> None:
    replace_bytes(project / SAMPLES, b"Raw data (59k)", b"Caf\xe9 (59k)")


def _empty(project: Path) -> None:
    (project / SAMPLES).write_bytes(b"")


def _semicolons(project: Path) -> None:
    path = project / TABLE2
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")


def _percent(project: Path) -> None:
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,5000,89.6,", "ReasonFlux-PRM-7B,5000,89.6%,")


def _nan(project: Path) -> None:
    replace_in(project / PRMS, ",7,83.7,", ",7,NaN,")


def _duplicate_key(project: Path) -> None:
    replace_in(project / TABLE2, "Random,AIME25,", "Random,AIME24,")


def _too_many_rows(project: Path) -> None:
    with (project / TABLE2).open("a", encoding="utf-8") as file:
        file.write("".join(f"Source {number},AIME24,{number % 100}.5\n" for number in range(MAX_ROWS)))


SITE_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "latin-1": (_latin1, f"{SAMPLES}:6 (column series): the file is not UTF-8 text"),
    "empty file": (_empty, f"{SAMPLES}:1 (column series): the CSV has no header"),
    "semicolons": (_semicolons, f"{TABLE2}:1 (column sft_data_source): the cells look separated by ';'"),
    "percent sign": (_percent, f"{SAMPLES}:3 (column math500_accuracy): a cell is not of its column's type"),
    "NaN": (_nan, f"{PRMS}:3 (column math500_accuracy): a cell holds a number the report cannot use"),
    "duplicate key": (_duplicate_key, f"{TABLE2}:7: the row repeats the key of an earlier row"),
    "too many rows": (_too_many_rows, f"{TABLE2}: table 'table' has {MAX_ROWS + 32:,} rows, more than a chart draws ({MAX_ROWS:,})"),
}


@pytest.fixture(scope="module")
def good_site() -> Path:
    """The shipped site, built once for this module."""
    return published_site()


# One case runs as its own process (exit status and stderr as a shell sees them); the others call the command line in-process.
END_TO_END = {"latin-1"}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(SITE_CASES))
def test_failed_build_leaves_the_site_and_the_data_untouched(good_site: Path, tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    mutate, message = SITE_CASES[case]
    project = copy_project(tmp_path / "project")
    mutate(project)
    site = tmp_path / "site"
    shutil.copytree(good_site, site)
    site_before, data_before = tree(site), tree(project / "data")
    argv = ["--root", str(project), "build", "--site-dir", str(site)]
    if case in END_TO_END:
        result = subprocess.run([sys.executable, str(ROOT / "build_report.py"), *argv], capture_output=True, text=True, timeout=300)
        code, err = result.returncode, result.stderr
    else:
        code, err = main(argv), capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err
    assert message in err, err
    assert "expected:" in err and "found:" in err and "fix:" in err
    assert tree(site) == site_before
    assert tree(project / "data") == data_before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")], "a staging folder was left behind"


# 16. Parquet files get the verdict their CSV gets

PARQUET_CASES = {
    "a type error": ("ReasonFlux-PRM-7B,1000,83.4,", "ReasonFlux-PRM-7B,1000,83%,"),
    "a constraint": ("ReasonFlux-PRM-7B,5000,89.6,", "ReasonFlux-PRM-7B,5000,130,"),
    "a number that is not finite": ("ReasonFlux-PRM-7B,5000,89.6,", "ReasonFlux-PRM-7B,5000,NaN,"),
    "a repeated key": ("ReasonFlux-PRM-7B,10000,91.5,", "ReasonFlux-PRM-7B,5000,91.5,"),
    "an empty required cell": ("Raw data (59k),59000,79.7,", "Raw data (59k),,79.7,"),
    "a control character": ("Raw data (59k),59000,", "Raw data\x07 (59k),59000,"),
}


@pytest.mark.parametrize("typed", [False, True], ids=["text columns", "typed columns"])
@pytest.mark.parametrize("case", list(PARQUET_CASES))
def test_a_parquet_file_gets_the_verdict_its_csv_gets(project: Path, case: str, typed: bool) -> None:
    import duckdb

    old, new = PARQUET_CASES[case]
    replace_in(project / SAMPLES, old, new)
    with pytest.raises(ReportError) as from_csv:
        load_package(project / "data", project)
    csv_path = project / SAMPLES
    types = "{'training_samples': 'BIGINT', 'math500_accuracy': 'DOUBLE'}" if typed and case not in ("a type error", "an empty required cell") else "{}"
    as_text = "true" if types == "{}" else "false"
    with duckdb.connect() as con:
        read = f"read_csv('{csv_path}', all_varchar = {as_text}, types = {types}, header = true, nullstr = '\\x00')"
        con.execute(f"COPY (SELECT * FROM {read}) TO '{csv_path.with_suffix('.parquet')}' (FORMAT parquet)")
    csv_path.unlink()
    replace_in(project / DESCRIPTOR, "path: figure6_training_samples.csv", "path: figure6_training_samples.parquet")
    with pytest.raises(ReportError) as from_parquet:
        load_package(project / "data", project)
    parquet = SAMPLES.removesuffix(".csv") + ".parquet"

    def found_in_parquet(found: str | None) -> str | None:  # a CSV's line is a Parquet file's row number plus one
        return re.sub(r"\(line (\d+)\)", lambda m: f"(row {int(m.group(1)) - 1})", found or "") or found

    expected = [(parquet, p.line - 1 if p.line else None, p.column, p.message, p.expected, found_in_parquet(p.found)) for p in from_csv.value.problems]
    found = [(p.file, p.line, p.column, p.message, p.expected, p.found) for p in from_parquet.value.problems]
    if types != "{}":  # a typed column shows the value it holds, not a text
        numeric = {"math500_accuracy", "training_samples"}
        expected = [(*e[:5], str(float(e[5].strip("'")))) if e[2] in numeric and e[5] != "an empty cell" else e for e in expected]
    assert found == expected


def test_a_parquet_column_the_descriptor_does_not_describe_is_an_error_as_a_csvs_is(project: Path) -> None:
    import duckdb

    csv_path = project / SAMPLES
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT *, 1 AS notes FROM read_csv('{csv_path}')) TO '{csv_path.with_suffix('.parquet')}' (FORMAT parquet)")
    csv_path.unlink()
    replace_in(project / DESCRIPTOR, "path: figure6_training_samples.csv", "path: figure6_training_samples.parquet")
    problem = only(problems_for(project), SAMPLES.removesuffix(".csv") + ".parquet", None)
    assert problem.message == "the Parquet file has a column 'notes' the descriptor does not describe" and problem.column == "notes"


@pytest.mark.parametrize(
    ("constraint", "cell", "expected"),
    [
        ("{minLength: 20}", "Raw data (59k)", 'constraint "minLength" is "20"'),
        ("{maxLength: 16}", "ReasonFlux-PRM-7B", 'constraint "maxLength" is "16"'),
        ("{pattern: '[A-Za-z -]+'}", "Raw data (59k)", 'constraint "pattern" is "[A-Za-z -]+"'),
        ("{enum: [ReasonFlux-PRM-7B, Human selected (s1k)]}", "Raw data (59k)", 'constraint "enum"'),
    ],
)
def test_every_constraint_gives_the_same_verdict_at_every_size(project: Path, constraint: str, cell: str, expected: str) -> None:
    replace_after(project / DESCRIPTOR, "name: figure6_training_samples", "constraints: {required: true}", f"constraints: {constraint}")
    problems = [p for p in problems_for(project) if p.column == "series"]
    assert all(p.message == "a cell breaks its column's constraint" and expected in (p.expected or "") for p in problems)
    assert repr(cell) in {p.found for p in problems}


def test_a_unique_column_repeating_a_value_is_located_at_every_size(project: Path) -> None:
    replace_after(
        project / DESCRIPTOR, "name: figure6_training_samples", "constraints: {required: true, minimum: 1}", "constraints: {required: true, unique: true}"
    )
    problem = only(problems_for(project), SAMPLES, 5)
    assert_located(problem, SAMPLES, 5, "training_samples", 'constraint "unique"', "1000, as on line 2")


def test_comment_rows_are_skipped_as_frictionless_skips_them(project: Path) -> None:
    shipped = load_package(ROOT / "data", ROOT)["figure6_training_samples"]
    replace_in(project / DESCRIPTOR, "path: figure6_training_samples.csv\n", "path: figure6_training_samples.csv\n    dialect: {commentChar: '#'}\n")
    replace_in(project / SAMPLES, "Raw data (59k)", "# a note, with, commas\nRaw data (59k)")
    samples = loads(project)["figure6_training_samples"]
    pd.testing.assert_frame_equal(samples.frame, shipped.frame)
    assert samples.lines[-1] == shipped.lines[-1] + 1


def test_a_cell_with_a_space_beside_its_quotes_reads_as_frictionless_reads_it(project: Path) -> None:
    replace_in(project / SAMPLES, "Raw data (59k),", '"Raw data (59k)" ,')
    samples = loads(project)["figure6_training_samples"]
    assert samples.frame["series"].iloc[-1] == "Raw data (59k) "  # as Python's csv module, and so Frictionless, read it


def test_a_parquet_files_typed_missing_value_is_missing_as_in_its_csv(project: Path) -> None:
    import duckdb

    replace_in(project / DESCRIPTOR, "constraints: {required: true, minimum: 0, maximum: 100}", "missingValues: ['', '-999']")
    replace_in(project / SAMPLES, "Raw data (59k),59000,79.7,", "Raw data (59k),59000,-999,")
    from_csv = loads(project)["figure6_training_samples"].frame
    csv_path = project / SAMPLES
    with duckdb.connect() as con:
        read = f"read_csv('{csv_path}', types = {{'math500_accuracy': 'DOUBLE'}})"
        con.execute(f"COPY (SELECT * FROM {read}) TO '{csv_path.with_suffix('.parquet')}' (FORMAT parquet)")
    csv_path.unlink()
    replace_in(project / DESCRIPTOR, "path: figure6_training_samples.csv", "path: figure6_training_samples.parquet")
    from_parquet = load_package(project / "data", project)["figure6_training_samples"].frame
    assert from_parquet["math500_accuracy"].isna().tolist() == from_csv["math500_accuracy"].isna().tolist() == [False] * 4 + [True]
