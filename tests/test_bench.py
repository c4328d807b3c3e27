"""The benchmark harness in its smoke mode: it runs to the end and reports builds, rebuilds, the live preview and synthetic reports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from claimsite.pages.render import Generated

ROOT = Path(__file__).resolve().parent.parent
SECONDS = re.compile(r"\| \d+\.\d\d s \|")


def _row(table: str, start: str) -> str:
    """The line of the timings table whose first cell starts with ``start``."""
    timings = table.split("\n## Timings\n", 1)[-1].split("\n## ", 1)[0]
    rows = [line for line in timings.splitlines() if line.startswith(f"| {start}")]
    assert rows, f"no row starting with {start!r} in:\n{timings}"
    return rows[0]


@pytest.mark.bench
def test_smoke_run_reports_cold_build_rebuild_and_synthetic_reports(tmp_path: Path) -> None:
    out = tmp_path / "smoke.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
    table = out.read_text(encoding="utf-8")
    assert table in done.stdout, "the run prints the table it writes"
    assert SECONDS.search(_row(table, "Cold full build"))
    rebuild = _row(table, "Rebuild, no input change")
    assert SECONDS.search(rebuild)
    assert "| 0 charts rendered" in rebuild
    assert SECONDS.search(_row(table, "Cold build, 2 synthetic reports"))
    results = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert results["rebuild_no_change"]["charts_rendered_max"] == 0
    assert results["synthetic_reports"]["2"]["charts_rendered"] >= 6, "two reports of three charts each, all rendered"
    preview = _row(table, "Preview: one CSV value changed")
    if results["config"]["browser"]:
        assert SECONDS.search(preview), "the live preview is timed in the smoke run (one edit)"
        assert results["preview"]["runs"] == 1
    else:
        assert "not measured" in preview
    assert "Live preview" in table.split("\n## Timings\n", 1)[0], "the preview has a line in the targets"
    weight = results["weight"]
    assert weight["longest_source_chars"] <= 1000 and weight["claims_json_bytes"] > 0 and weight["daily_page"]["before"]["gzip_bytes"] > 0
    assert "No source text over 1 KB" in table.split("\n## Timings\n", 1)[0]
    assert str(ROOT) not in table, "no path of this machine in the results"


def test_the_stage_split_knows_which_datasets_each_chart_reads(rendered_once: Generated) -> None:
    """The benchmark's one-changed-CSV case picks the charts to expect from this mapping: it follows the report specs."""
    from bench.stages import chart_datasets

    found = {f"{r.report.slug}/{chart}": datasets for r in rendered_once.reports for chart, datasets in chart_datasets(r).items()}
    assert found["figure6/training-samples"] == ["figure6_training_samples"]
    assert found["table2/gains-over-s1k"] == ["table2_offline_selection"]
    assert found["figure6/figure-vs-table"] == ["figure6_prm_size", "figure6_training_samples", "table2_offline_selection"]
