"""Authoring: a report is declarations only; `new` scaffolds one from any tidy CSV; the guide's examples are built."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from report.build import Project, generate
from report.data import load_package
from report.errors import ReportError
from report.figures import RenderCache
from report.site import publish
from report.spec_model import CHART_KINDS, CHECKS, tag
from tests.conftest import ROOT, replace_in

FIXTURE_CSV = Path(__file__).parent / "fixtures" / "weather.csv"


def run(*args: str, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "build_report.py"), "--root", str(root), *args], capture_output=True, text=True, timeout=300)


def test_the_package_names_no_report_dataset_or_model() -> None:
    datasets = load_package(ROOT / "data", ROOT)
    names = set(datasets)
    names |= {p.stem for p in Project(ROOT).report_specs() if p.stem != "guide"}
    for dataset in datasets.values():
        names |= {f.name for f in dataset.fields if "_" in f.name or any(c.isdigit() for c in f.name)}
        for column in dataset.frame.select_dtypes(include=["string", "object"]).columns:
            names |= {str(v) for v in dataset.frame[column].dropna() if len(str(v)) >= 4}
    names |= {"ReasonFlux", "Qwen", "Skywork", "MATH500", "Shepherd"}
    source = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "report").glob("*.py")}
    found = sorted((name, file) for file, text in source.items() for name in names if name in text)
    assert not found, f"the package names report-specific things: {found}"


def test_new_scaffolds_a_report_that_builds_at_once(project: Path, tmp_path: Path) -> None:
    result = run("new", "weather-by-city", "--csv", str(FIXTURE_CSV), root=project)
    assert result.returncode == 0, result.stderr
    assert (project / "data" / "weather_by_city.csv").read_bytes() == FIXTURE_CSV.read_bytes()
    spec = (project / "templates" / "reports" / "weather-by-city.yaml").read_text(encoding="utf-8")
    assert spec.startswith("# Report spec written by build_report.py new")
    assert "kind: dots" in spec and "field: rainfall_mm" in spec and "field: sunny_days" in spec
    descriptor = (project / "data" / "datapackage.yaml").read_text(encoding="utf-8")
    assert "name: weather_by_city" in descriptor and "TO CONFIRM" in descriptor and "minimum: 612.4" in descriptor
    site = tmp_path / "site"
    publish(project, generate(Project(project)), site)
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="weather-by-city/"' in home
    page = (site / "weather-by-city" / "index.html").read_text(encoding="utf-8")
    assert "The highest value is Nairobi" in page
    assert (site / "weather-by-city" / "figures" / "rainfall-mm-by-city.svg").is_file()


def test_new_refuses_to_overwrite(project: Path) -> None:
    assert run("new", "figure6", "--csv", str(FIXTURE_CSV), root=project).returncode == 1
    assert run("new", "weather", "--csv", str(FIXTURE_CSV), root=project).returncode == 0
    again = run("new", "weather", "--csv", str(FIXTURE_CSV), root=project)
    assert again.returncode == 1 and "would overwrite" in again.stderr and "Traceback" not in again.stderr
    assert run("new", "Bad Slug", "--csv", str(FIXTURE_CSV), root=project).returncode == 1


@pytest.fixture(scope="module")
def guide() -> str:
    return generate(Project(ROOT), cache=RenderCache(None), render_charts=False).pages["guide/index.md"]


def test_the_guide_shows_every_check_and_chart_kind_with_a_built_example(guide: str) -> None:
    for check in (tag(block, "check") for block in CHECKS):
        assert f"check: {check}" in guide, f"no example of the {check} check"
    for kind in (tag(block, "kind") for block in CHART_KINDS):
        assert f"kind: {kind}" in guide, f"no example of the {kind} chart"
    assert guide.count('<figure class="report-figure"') == len(CHART_KINDS) + 1  # points twice: with and without labels
    assert len(re.findall(r'<span class="claim claim--(?:observation|assertion)" id="claim-example-', guide)) == 10
    assert "not supported by the data" in guide  # the error example, produced by the build


def test_the_guides_bad_cell_example_is_the_real_message(project: Path, guide: str) -> None:
    example = guide.split("and a bad cell:\n\n```text\n", 1)[1].split("```", 1)[0].strip()
    replace_in(project / "data" / "figure6_prm_size.csv", "Skywork-PRM-7B,Skywork-PRM,7B,7,69.9", "Skywork-PRM-7B,Skywork-PRM,7B,7,69.9%")
    with pytest.raises(ReportError) as caught:
        load_package(project / "data", project)
    assert example in str(caught.value)


def test_the_guide_is_not_listed_as_a_report_but_is_in_the_navigation() -> None:
    generated = generate(Project(ROOT), cache=RenderCache(None), render_charts=False)
    assert "guide/" not in generated.pages["index.md"]
    assert generated.nav[-1] == {"Author&#x27;s guide": "guide/index.md"}
