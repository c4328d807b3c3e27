"""Authoring: a report is declarations only; `new` scaffolds one from any tidy CSV; the guide's examples are built."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from claimsite.charts.figures import RenderCache
from claimsite.cli.main import main
from claimsite.core.errors import ReportError
from claimsite.core.project import Project
from claimsite.data.load import load_package
from claimsite.site.build import generate
from claimsite.site.publish import publish
from claimsite.spec.model import CHART_KINDS, CHECKS, tag
from tests.conftest import ROOT, replace_in, shipped, tree

FIXTURE_CSV = Path(__file__).parent / "fixtures" / "weather.csv"


def run(*args: str, root: Path, end_to_end: bool = False) -> subprocess.CompletedProcess[str]:
    """The command line with these arguments: in this process, or (``end_to_end``) as an author runs it, in a process of its own."""
    argv = ["--root", str(root), *args]
    if end_to_end:
        return subprocess.run([sys.executable, str(ROOT / "build_report.py"), *argv], capture_output=True, text=True, timeout=300)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


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
    assert "each row is named by city and year (the primary key)" in result.stdout and "rainfall_mm: in mm (from its name)" in result.stdout
    assert (project / "data" / "weather_by_city.csv").read_bytes() == FIXTURE_CSV.read_bytes()
    spec = (project / "templates" / "reports" / "weather-by-city.yaml").read_text(encoding="utf-8")
    assert spec.startswith("# yaml-language-server: $schema=../../site/schema/report.schema.json\n# Report spec written by claimsite new")
    assert "kind: line" in spec and "field: rainfall_mm" in spec and "field: sunny_days" in spec
    descriptor = (project / "data" / "datapackage.yaml").read_text(encoding="utf-8")
    assert "name: weather_by_city" in descriptor and "TO CONFIRM" in descriptor and "minimum: 612.4" in descriptor
    resource = next(r for r in yaml.safe_load(descriptor)["resources"] if r["name"] == "weather_by_city")
    assert resource["schema"]["primaryKey"] == ["city", "year"]
    assert {f["name"]: (f["type"], f.get("unit")) for f in resource["schema"]["fields"]}["rainfall_mm"] == ("number", "mm")
    site = tmp_path / "site"
    publish(project, generate(Project(project)), site)
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="weather-by-city/"' in home
    page = (site / "weather-by-city" / "index.html").read_text(encoding="utf-8")
    assert "The highest value of rainfall is" in page and "905.0 mm</span>, for Nairobi, 2022" in page
    assert (site / "weather-by-city" / "figures" / "rainfall-mm-by-year.svg").is_file()


def test_new_refuses_to_overwrite(project: Path) -> None:
    assert run("new", "figure6", "--csv", str(FIXTURE_CSV), root=project).returncode == 1
    assert run("new", "weather", "--csv", str(FIXTURE_CSV), root=project).returncode == 0
    again = run("new", "weather", "--csv", str(FIXTURE_CSV), root=project)
    assert again.returncode == 1 and "would overwrite" in again.stderr and "Traceback" not in again.stderr
    assert run("new", "Bad Slug", "--csv", str(FIXTURE_CSV), root=project).returncode == 1


def test_the_guide_shows_every_check_and_chart_kind_with_a_built_example(guide: str) -> None:
    for check in (tag(block, "check") for block in CHECKS):
        assert f"check: {check}" in guide, f"no example of the {check} check"
    for kind in (tag(block, "kind") for block in CHART_KINDS):
        assert f"kind: {kind}" in guide, f"no example of the {kind} chart"
    assert guide.count('<figure class="report-figure"') == len(CHART_KINDS) + 2  # points twice, and a bar chart of a SQL view
    assert len(re.findall(r'<span class="claim claim--(?:observation|assertion)" id="claim-example-', guide)) == 16
    assert "not supported by the data" in guide  # the error example, produced by the build


def test_the_guides_bad_cell_example_is_the_real_message(project: Path, guide: str) -> None:
    example = guide.split("and a bad cell:\n\n```text\n", 1)[1].split("```", 1)[0].strip()
    replace_in(project / "data" / "figure6_prm_size.csv", "Skywork-PRM-7B,Skywork-PRM,7B,7,69.9", "Skywork-PRM-7B,Skywork-PRM,7B,7,69.9%")
    with pytest.raises(ReportError) as caught:
        load_package(project / "data", project)
    assert example in str(caught.value)


@pytest.mark.integration
def test_the_guide_is_not_listed_as_a_report_but_is_in_the_navigation() -> None:
    generated = generate(shipped(), cache=RenderCache(None), render_charts=False)
    assert "guide/" not in generated.pages["index.md"]
    assert generated.nav[-1] == {"Author&#x27;s guide": "guide/index.md"}


@pytest.mark.integration
def test_init_starts_a_project_of_ones_own_that_builds(tmp_path: Path) -> None:
    own = tmp_path / "team-results"
    started = run("init", str(own), "--title", "Team results", "--site-url", "https://team.example.org/results/", root=tmp_path)
    assert started.returncode == 0, started.stderr
    assert sorted(p.relative_to(own).as_posix() for p in own.rglob("*")) == [
        ".gitignore",
        "data",
        "data/datapackage.yaml",
        "mkdocs.yml",
        "requirements.txt",
        "templates",
        "templates/reports",
    ]
    assert re.search(r"^claimsite(==| @ )", (own / "requirements.txt").read_text(encoding="utf-8"), re.MULTILINE), "the engine is not pinned"
    empty = run("build", "--site-dir", str(tmp_path / "empty"), root=own)
    assert empty.returncode == 0, empty.stderr
    assert "There are no reports yet" in (tmp_path / "empty" / "index.html").read_text(encoding="utf-8")
    assert run("new", "weather", "--csv", str(FIXTURE_CSV), root=own).returncode == 0
    built = run("build", "--site-dir", str(tmp_path / "site"), root=own, end_to_end=True)
    assert built.returncode == 0, built.stderr
    pages = [p.read_text(encoding="utf-8", errors="replace") for p in (tmp_path / "site").rglob("*") if p.suffix in (".html", ".json", ".xml", ".csv")]
    assert pages and not any(re.search("reasonflux|zou et al", page, re.IGNORECASE) for page in pages)
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "<title>Reports - Team results</title>" in home and 'href="weather/"' in home
    assert "Team results. Built from data by claimsite." in home
    assert 'href="https://team.example.org/results/"' in home


def test_init_never_writes_over_a_project(project: Path) -> None:
    before = tree(project)
    refused = run("init", str(project), "--title", "Mine", root=project)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "already holds a project's files" in refused.stderr and "mkdocs.yml" in refused.stderr
    assert tree(project) == before


def test_init_writes_the_title_and_footer_as_text_never_as_markup(tmp_path: Path) -> None:
    title, footer = "R&D <script>alert(1)</script>", "<img src=x onerror=alert(1)> by us"
    assert run("init", str(tmp_path / "own"), "--title", title, "--footer", footer, root=tmp_path).returncode == 0
    config = (tmp_path / "own" / "mkdocs.yml").read_text(encoding="utf-8")
    assert "<script>" not in config and "<img" not in config
    assert "R&amp;D &lt;script&gt;alert(1)&lt;/script&gt;" in config and "&lt;img src=x onerror=alert(1)&gt; by us" in config
