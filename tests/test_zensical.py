"""The example site built with Zensical, the successor of MkDocs and Material, as well as with MkDocs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from claimsite.cli.main import main
from claimsite.site.zensical import DIFFERENCES
from tests.conftest import ROOT, copy_project, replace_in

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("zensical") / "project")
    assert main(["--root", str(project), "build", "--publisher", "zensical"]) == 0
    return project / "site"


def text_of(page: Path) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def test_every_page_figure_and_download_is_published(zensical_site: Path) -> None:
    for path in ("index.html", "figure6/index.html", "table2/index.html", "guide/index.html", "data/index.html", "changes/index.html", "claims.json"):
        assert (zensical_site / path).is_file(), path
    for suffix in (".svg", ".png", ".vl.json", ".csv"):
        assert (zensical_site / "figure6" / "figures" / f"prm-size{suffix}").is_file(), suffix
    assert (zensical_site / "data" / "figure6_prm_size.csv").is_file()
    assert (zensical_site / "assets" / "report.css").read_text(encoding="utf-8").startswith("/* Minified by claimsite")
    assert (zensical_site / "assets" / "vendor" / "vega" / "vega.min.js").is_file()


def test_a_report_page_reads_as_under_mkdocs(zensical_site: Path, built_site: Path) -> None:
    zensical, mkdocs = (
        (zensical_site / "figure6" / "index.html").read_text(encoding="utf-8"),
        (built_site / "figure6" / "index.html").read_text(encoding="utf-8"),
    )
    # The same checked sentences, each with its anchor; the same charts drawn into the page; the same data tables.
    claims = re.findall(r'id="claim-([a-z0-9-]+)"', mkdocs)
    assert claims and re.findall(r'id="claim-([a-z0-9-]+)"', zensical) == claims
    assert zensical.count('class="report-chart"') == mkdocs.count('class="report-chart"') == 4
    assert zensical.count("<svg") >= 4 and "<!--drawing:" not in zensical
    assert 'markdown="1"' not in zensical and "{ #" not in zensical  # Markdown inside HTML and attribute lists were read
    assert '<script src="../assets/report.js" defer' in zensical
    read = text_of(zensical_site / "figure6" / "index.html").replace("~", "")  # an approximate value is marked with a tilde
    sentences = [c["sentence"] for c in json.loads((zensical_site / "claims.json").read_text(encoding="utf-8"))["claims"] if c["report"] == "figure6"]
    assert sentences and all(sentence in read for sentence in sentences)


def test_a_false_claim_stops_a_zensical_build_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = copy_project(tmp_path / "project")
    replace_in(project / "data" / "figure6_prm_size.csv", "Qwen2.5-Math-PRM,72B,72,79.1", "Qwen2.5-Math-PRM,72B,72,99.1")
    assert main(["--root", str(project), "build", "--publisher", "zensical"]) == 1
    assert not (project / "site").exists()
    said = capsys.readouterr().err
    assert "figure6_prm_size.csv" in said and "Qwen2.5-Math-PRM-72B" in said


def test_the_readme_lists_what_a_zensical_build_lacks() -> None:
    readme = re.sub(r"\s+", " ", (ROOT / "README.md").read_text(encoding="utf-8"))
    for difference in DIFFERENCES:
        assert difference in readme, f"the README does not say: {difference}"
