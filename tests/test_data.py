"""Loading and validating the data package: good data loads, bad cells are located."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from claimsite.cache import memo
from claimsite.core.errors import ReportError
from claimsite.data.load import load_package
from tests.conftest import ROOT, replace_in

SAMPLES = "data/figure6_training_samples.csv"


def errors_for(project: Path) -> ReportError:
    with pytest.raises(ReportError) as caught:
        load_package(project / "data", project)
    return caught.value


def test_shipped_data_loads_with_types_and_lines() -> None:
    datasets = load_package(ROOT / "data", ROOT)
    assert set(datasets) == {
        "figure6_training_samples",
        "figure6_prm_size",
        "table2_offline_selection",
        "benchmark_sizes",
        "example_city_weather",
        "example_eval_log",
    }
    samples = datasets["figure6_training_samples"]
    assert samples.frame["training_samples"].tolist() == [1000, 5000, 10000, 1000, 59000]
    assert samples.lines == (2, 3, 4, 5, 6)
    assert samples.approximate and not datasets["table2_offline_selection"].approximate
    assert len(datasets["table2_offline_selection"].frame) == 32
    assert samples.field("math500_accuracy").unit == "%"
    weather = datasets["example_city_weather"]
    assert str(weather.frame["month"].dtype) == "datetime64[us]" and weather.field("month").temporal
    assert str(weather.frame["rainy_days"].dtype) == "Int64"


def test_every_source_notes_value_is_in_the_data() -> None:
    datasets = load_package(ROOT / "data", ROOT)
    left = datasets["figure6_training_samples"].frame
    right = datasets["figure6_prm_size"].frame
    table = datasets["table2_offline_selection"].frame
    assert left["math500_accuracy"].tolist() == [83.4, 89.6, 91.5, 77.8, 79.7]
    assert right.set_index("prm")["math500_accuracy"].to_dict() == {
        "ReasonFlux-PRM-1.5B": 77.4,
        "ReasonFlux-PRM-7B": 83.7,
        "Qwen2.5-Math-PRM-7B": 75.0,
        "Skywork-PRM-7B": 69.9,
        "Qwen2.5-Math-PRM-72B": 79.1,
    }
    published = {
        "Human-curated (s1k)": [33.3, 33.3, 78.8, 41.4],
        "Random": [16.7, 20.0, 68.4, 34.8],
        "Math-Shepherd-PRM-7B": [13.3, 6.7, 67.8, 33.3],
        "Skywork-PRM-7B": [13.3, 13.3, 71.8, 37.9],
        "Qwen2.5-Math-PRM-7B": [26.7, 20.0, 73.2, 39.4],
        "Qwen2.5-Math-PRM-72B": [33.3, 26.7, 77.0, 39.4],
        "Qwen2.5-Math-PRM-72B, on model responses": [36.7, 26.7, 77.8, 40.9],
        "ReasonFlux-PRM-7B": [40.0, 33.3, 84.8, 47.5],
    }
    wide = table.pivot(index="sft_data_source", columns="benchmark", values="accuracy")[["AIME24", "AIME25", "MATH500", "GPQA-Diamond"]]
    assert {source: row.tolist() for source, row in wide.iterrows()} == published


def test_value_out_of_range_names_file_line_column(project: Path) -> None:
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,5000,89.6,", "ReasonFlux-PRM-7B,5000,130,")
    problem = errors_for(project).problems[0]
    assert (problem.file, problem.line, problem.column) == (SAMPLES, 3, "math500_accuracy")
    assert problem.found == "'130'" and "100" in problem.expected


def test_text_in_a_numeric_column_is_located_and_all_bad_cells_reported(project: Path) -> None:
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,5000,89.6,", "ReasonFlux-PRM-7B,5000,89.6%,")
    replace_in(project / SAMPLES, "Raw data (59k),59000,", 'Raw data (59k),"59,000",')
    error = errors_for(project)
    located = {(p.line, p.column, p.found) for p in error.problems}
    assert located == {(3, "math500_accuracy", "'89.6%'"), (6, "training_samples", "'59,000'")}
    assert "a number" in str(error) and "an integer" in str(error)


def test_ragged_row_and_duplicate_key(project: Path) -> None:
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,10000,91.5,", "ReasonFlux-PRM-7B,5000,91.5")
    kinds = {(p.line, p.message) for p in errors_for(project).problems}
    assert (4, "the row has fewer cells than the header") in kinds
    assert (4, "the row repeats the key of an earlier row") in kinds


def test_csv_not_described_and_descriptor_naming_a_missing_file(project: Path) -> None:
    (project / "data" / "extra.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (project / "data" / "figure6_prm_size.csv").unlink()
    messages = [str(p) for p in errors_for(project).problems]
    assert any("data/datapackage.yaml" in m and "figure6_prm_size.csv" in m and "does not exist" in m for m in messages)
    assert any(m.startswith("data/extra.csv") and "not described" in m for m in messages)


def test_command_line_prints_located_error_without_traceback(project: Path) -> None:
    replace_in(project / SAMPLES, "ReasonFlux-PRM-7B,5000,89.6,", "ReasonFlux-PRM-7B,5000,130,")
    result = subprocess.run([sys.executable, str(ROOT / "build_report.py"), "--root", str(project), "check"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{SAMPLES}:3 (column math500_accuracy)" in result.stderr
    assert "expected:" in result.stderr and "found:    '130'" in result.stderr


def test_a_dataset_is_parsed_once_per_process_and_again_once_its_csv_changes(project: Path) -> None:
    """The live preview rereads only what changed: the same bytes give the same rows without parsing them again (each
    build its own copy), and a saved change is read at once."""
    from claimsite.data import load as data

    memo.forget()
    calls: list[str] = []
    original = data._load

    def counted(*args: Any) -> Any:
        calls.append(args[3])
        return original(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "_load", counted)
        first = load_package(project / "data", project)
        again = load_package(project / "data", project)
        assert calls == sorted(set(calls), key=calls.index) and len(calls) == len(first)  # each CSV parsed once
        assert again["figure6_prm_size"].frame.equals(first["figure6_prm_size"].frame)
        assert again["figure6_prm_size"].frame is not first["figure6_prm_size"].frame
        replace_in(project / "data" / "figure6_prm_size.csv", "Skywork-PRM-7B,Skywork-PRM,7B,7,69.9", "Skywork-PRM-7B,Skywork-PRM,7B,7,70.2")
        changed = load_package(project / "data", project)
    assert calls[-1] == "data/figure6_prm_size.csv" and len(calls) == len(first) + 1
    assert 70.2 in changed["figure6_prm_size"].frame["math500_accuracy"].tolist()


@pytest.mark.parametrize("large", [False, True], ids=["small", "large"])
def test_dates_far_from_today_are_read_as_written(tmp_path: Path, large: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """An open end written 9999-12-31, or a first day 0001-01-01, is a date like any other (not past a calendar's range)."""
    from claimsite.data import large as bigdata

    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    for file in (ROOT / "data").iterdir():
        (project / "data" / file.name).write_bytes(file.read_bytes())
    with (project / "data" / "example_city_weather.csv").open("a", encoding="utf-8") as rows:
        rows.write("Nowhere,0001-01-01,1.0,1.0,0.5,1.5,1\nNowhere,9999-12-31,2.0,2.0,1.5,2.5,2\n")
    if large:
        monkeypatch.setattr(bigdata, "LARGE_BYTES", 0)
    weather = load_package(project / "data", project)["example_city_weather"]
    if large:  # kept by DuckDB: the data page's summary of the column gives its range
        (month,) = [column for column in weather.summary if column["column_name"] == "month"]
        assert (month["min"], month["max"]) == ("0001-01-01", "9999-12-31")
    else:
        months = weather.frame["month"]
        assert (str(months.min().date()), str(months.max().date())) == ("0001-01-01", "9999-12-31")
