"""Every row claims.json cites is a row of the file it names, and a claim moves when a row it cites changes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from claimsite.claims.check import claims_document, evaluate_all
from claimsite.core.errors import ReportError
from claimsite.core.project import Project
from claimsite.data.load import Dataset, load_package
from claimsite.pages.render import Generated
from claimsite.spec.report import load_report
from tests.conftest import ROOT

SHOWN_PER_SET = 3  # rows of a value's cited rows mutated one at a time: the first, one in the middle and the last


def cited(source: dict[str, Any]) -> Iterator[tuple[str, list[int]]]:
    """The rows one source of claims.json cites, per file: (file, lines)."""
    if "file" in source and isinstance(source.get("line") or source.get("row"), int):
        yield source["file"], [source.get("line") or source["row"]]
    elif "file" in source:
        yield source["file"], [n for a, b in source.get("lines") or source.get("rows_cited") or [] for n in range(a, b + 1)]
    for rows in source.get("from", []):
        yield rows["file"], [n for a, b in rows.get("lines") or rows.get("rows") or [] for n in range(a, b + 1)]


def citations(document: dict[str, Any]) -> dict[tuple[str, int], set[tuple[str, str]]]:
    """Each cited row of a data file, with the claims that cite it (by report and id)."""
    found: dict[tuple[str, int], set[tuple[str, str]]] = {}
    for claim in document["claims"]:
        for value in claim["values"].values():
            for source in value["sources"]:
                for file, lines in cited(source):
                    picked = lines if len(lines) <= SHOWN_PER_SET else [lines[0], lines[len(lines) // 2], lines[-1]]
                    for line in picked:
                        found.setdefault((file, line), set()).add((claim["report"], claim["id"]))
    return found


def changed(value: Any) -> Any:
    """A number made different: halved, or 1 for a zero (a per-example result that was wrong now right)."""
    if isinstance(value, bool) or value is None or pd.isna(value):
        return value
    if not isinstance(value, int | float):
        return value
    if value == 0:
        return 1
    return value // 2 if isinstance(value, int) and value // 2 != value else value / 2


@pytest.fixture(scope="module")
def datasets() -> dict[str, Dataset]:
    return load_package(ROOT / "data", ROOT)


def test_every_cited_row_is_a_row_of_its_file_and_changing_it_moves_the_claim(rendered_once: Generated, datasets: dict[str, Dataset]) -> None:
    document = json.loads(rendered_once.files["claims.json"])
    cites = citations(document)
    by_path = {dataset.path: dataset for dataset in datasets.values()}
    specs = {path.stem: path for path in Project(ROOT).report_specs()}
    assert len(cites) >= 40
    records = {(c["report"], c["id"]): c for c in document["claims"]}
    untouched = []
    for (file, line), claims in sorted(cites.items()):
        dataset = by_path[file]
        assert line in dataset.lines, f"claims.json cites {file} line {line}, which is not a row of it"
        position = dataset.lines.index(line)
        frame = dataset.frame.copy()
        for column in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column]):
                cell = frame.at[position, column]
                frame.at[position, column] = changed(cell.item() if hasattr(cell, "item") else cell)
        mutated = {**datasets, dataset.name: dataclasses.replace(dataset, frame=frame)}
        for slug in sorted({report for report, _ in claims}):
            try:
                report = load_report(specs[slug], mutated, ROOT)
                after = {(slug, c["id"]): c for c in claims_document([(report, evaluate_all(report, strict=False))])["claims"]}
            except ReportError:
                continue  # the change stops the build: the claim cannot be published unnoticed
            for key in (key for key in claims if key[0] == slug):
                if after.get(key) == records[key]:
                    untouched.append(f"{file} line {line} → {key[1]}")
    assert not untouched, f"changing these cited rows left the claim citing them as it was: {untouched[:10]}"


def test_a_value_of_a_joined_view_cites_the_row_it_came_from(rendered_once: Generated) -> None:
    """The guide joins Table 2 with the benchmarks' sizes: its leader's accuracy cites Table 2's row for it, not a row number of the view."""
    document = json.loads(rendered_once.files["claims.json"])
    joined = next(c for c in document["claims"] if c["id"] == "example-sql-join")
    top = [
        line for source in joined["values"]["top"]["sources"] for file, lines in cited(source) for line in lines if file == "data/table2_offline_selection.csv"
    ]
    rows = (ROOT / "data" / "table2_offline_selection.csv").read_text(encoding="utf-8").splitlines()
    assert len(top) == 1 and rows[top[0] - 1] == "ReasonFlux-PRM-7B,MATH500,84.8"
