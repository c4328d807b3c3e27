"""Properties of loading: whatever bytes a CSV holds, load_package gives datasets or a ReportError, never another exception."""

from __future__ import annotations

import csv
import io
import math
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from claimsite.core.errors import ReportError
from claimsite.data.load import load_package

DESCRIPTOR = """\
resources:
  - name: sample
    path: sample.csv
    schema:
      primaryKey: [label, count]
      fields:
        - {name: label, type: string, constraints: {required: true}}
        - {name: count, type: integer, constraints: {required: true, minimum: 0}}
        - {name: share, type: number, constraints: {minimum: 0, maximum: 100}}
"""
HEADER = ["label", "count", "share"]
pytestmark = pytest.mark.slow  # a sweep of many generated inputs: not in the unit tier

SETTINGS = settings(max_examples=60, deadline=None)

ODD_CELLS = ["", " ", "NA", "NaN", "nan", "inf", "-Infinity", "1e400", "sNaN", "1,234", "83%", "83,4", "1_000", "=SUM(A1)", "-x", '"', "\ufeff", "\x00"]
cells = st.one_of(
    st.sampled_from(ODD_CELLS),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=8),
)
headers = st.one_of(
    st.just(HEADER),
    st.permutations(HEADER).map(list),
    st.lists(st.sampled_from([*HEADER, " label", "count ", "", "extra"]), min_size=0, max_size=4),
)
# Control characters are rejected with their line and column (a test in test_hardening.py): valid labels hold none.
labels = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters="\ufffe\uffff"), min_size=1, max_size=8)
shares = st.one_of(st.just(""), st.floats(min_value=0, max_value=100).map(repr))
good_rows = st.tuples(labels, st.integers(min_value=0, max_value=10**6).map(str), shares).map(list)
tables = st.tuples(headers, st.lists(st.one_of(good_rows, good_rows, st.lists(cells, min_size=2, max_size=4)), max_size=6))
texts = st.text(alphabet=st.sampled_from(list('abc019.,;\t"\n\r -%é\ufeff\x00')), max_size=200)


def check_loads_or_reports(content: bytes) -> None:
    """Load a one-CSV package holding ``content``: it gives a well-formed dataset or a located ReportError."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        data = root / "data"
        data.mkdir()
        (data / "datapackage.yaml").write_text(DESCRIPTOR, encoding="utf-8")
        (data / "sample.csv").write_bytes(content)
        try:
            datasets = load_package(data, root)
        except ReportError as error:
            assert error.problems
            assert all(problem.file in ("data/sample.csv", "data/datapackage.yaml") for problem in error.problems)
            assert str(error)
            return
        frame = datasets["sample"].frame
        assert list(frame.columns) == HEADER
        assert len(frame) == len(datasets["sample"].lines) > 0
        assert str(frame["count"].dtype) == "Int64" and str(frame["share"].dtype) == "float64"
        assert all(math.isfinite(value) for value in frame["share"].dropna())
        assert (data / "sample.csv").read_bytes() == content


def as_csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8", "surrogatepass")


@SETTINGS
@given(st.binary(max_size=300))
@example(b"")
@example(b"\xef\xbb\xbf")
@example(b"label,count,share\n")
@example(b"label,count,share\nCaf\xe9,1,2\n")
def test_random_bytes_load_or_report(content: bytes) -> None:
    check_loads_or_reports(content)


@SETTINGS
@given(texts)
@example('label,count,share\n"a\n')
@example("label,count,share\r\na,1,2\r")
@example("label;count;share\na;1;2\n")
def test_random_text_with_commas_quotes_and_newlines_loads_or_reports(text: str) -> None:
    check_loads_or_reports(text.encode("utf-8"))


@SETTINGS
@given(tables)
@example((HEADER, [["a", "1", "sNaN"]]))
@example((HEADER, [["a", "1", "1e400"], ["b", str(2**64), "1"]]))
@example((HEADER, [["a", "1", "2"], ["a", "1", "3"]]))
def test_random_cells_in_the_schema_shape_load_or_report(table: tuple[list[str], list[list[str]]]) -> None:
    header, rows = table
    check_loads_or_reports(as_csv(header, rows))


@SETTINGS
@given(st.lists(good_rows, min_size=1, max_size=8, unique_by=lambda row: (row[0], row[1])))
def test_valid_tables_load_with_their_values_and_lines(rows: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "data").mkdir()
        (root / "data" / "datapackage.yaml").write_text(DESCRIPTOR, encoding="utf-8")
        (root / "data" / "sample.csv").write_bytes(as_csv(HEADER, rows))
        sample = load_package(root / "data", root)["sample"]
    frame = sample.frame
    assert frame["label"].tolist() == [row[0] for row in rows]
    assert frame["count"].tolist() == [int(row[1]) for row in rows]
    assert [None if pd.isna(value) else value for value in frame["share"]] == [float(row[2]) if row[2] else None for row in rows]
    starts = [2]
    for row in rows[:-1]:
        starts.append(starts[-1] + sum(cell.count("\n") + cell.count("\r") - cell.count("\r\n") for cell in row) + 1)
    assert list(sample.lines) == starts
