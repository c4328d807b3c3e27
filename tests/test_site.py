"""The whole site: a strict MkDocs build that is offline, complete, atomic, reproducible and incremental."""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from claimsite.cache.memo import forget
from claimsite.charts.engine import Engine
from claimsite.charts.figures import RenderCache
from claimsite.cli.main import main
from claimsite.core.errors import ReportError
from claimsite.core.project import Project
from claimsite.site.build import generate
from claimsite.site.publish import publish
from tests.conftest import ROOT, replace_in, shipped

RESOURCE_ATTRIBUTES = {("script", "src"), ("link", "href"), ("img", "src"), ("source", "src"), ("iframe", "src"), ("video", "src"), ("audio", "src")}


class Resources(HTMLParser):
    """Every URL a page loads (scripts, styles, images, frames), not the links a reader may follow."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.blocking: list[str] = []  # scripts the parser waits for: neither deferred nor async

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src") and not {"defer", "async"} & values.keys() and values.get("type") != "module":
            self.blocking.append(values["src"] or "")
        if tag == "link" and values.get("rel") in {"canonical", "alternate", "next", "prev"}:
            return
        for name, value in attrs:
            if (tag, name) in RESOURCE_ATTRIBUTES and value:
                self.urls.append(value)
        style = values.get("style") or ""
        self.urls += re.findall(r"url\(([^)]+)\)", style)


def tree(folder: Path) -> dict[str, str]:
    """Every file under a folder with the hash of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_site_has_its_pages_figures_and_downloads(built_site: Path) -> None:
    for path in ("index.html", "figure6/index.html", "data/index.html", "claims.json", "404.html", "sitemap.xml", "assets/vendor/vega/vega.min.js"):
        assert (built_site / path).is_file(), path
    for chart in ("training-samples", "prm-size", "table2-benchmarks", "figure-vs-table"):
        for suffix in (".svg", ".png", ".vl.json", ".vg.json", ".csv"):
            assert (built_site / "figure6" / "figures" / f"{chart}{suffix}").is_file()
    assert (built_site / "data" / "table2_offline_selection.csv").read_text().startswith("sft_data_source,benchmark,accuracy\n")


def test_no_page_loads_anything_from_another_host(built_site: Path) -> None:
    for page in built_site.rglob("*.html"):
        parser = Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        offsite = [u for u in parser.urls if urlparse(u).scheme or u.startswith("//")]
        assert not offsite, f"{page.relative_to(built_site)} loads {offsite}"
    css = "".join(p.read_text(encoding="utf-8") for p in built_site.rglob("*.css"))
    assert "fonts.googleapis" not in css and "@import url(http" not in css


def test_no_page_waits_for_a_script_before_its_first_paint(built_site: Path) -> None:
    """The theme's script and the report's are deferred: a phone shows the text before downloading and starting them."""
    for page in built_site.rglob("*.html"):
        parser = Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        assert any("javascripts/bundle." in url for url in parser.urls), f"{page.relative_to(built_site)} has no theme script"
        assert not parser.blocking, f"{page.relative_to(built_site)} waits for {parser.blocking}"


def test_the_sites_own_script_and_stylesheet_are_published_minified(built_site: Path) -> None:
    """The page loads the site's script and stylesheet without their comments and spaces (the engine keeps them as written)."""
    for path in ("assets/report.js", "assets/report.css"):
        published, source = (built_site / path).read_text(encoding="utf-8"), (ROOT / "claimsite" / "site" / "theme" / path).read_text(encoding="utf-8")
        assert published.startswith(f"/* Minified by claimsite from its {path} */\n"), path
        assert len(published) < 0.8 * len(source), f"{path}: {len(published)} bytes published from {len(source)}"


def test_report_page_draws_its_charts_in_the_page_with_no_chart_runtime(built_site: Path) -> None:
    page = (built_site / "figure6" / "index.html").read_text(encoding="utf-8")
    assert page.count('class="report-chart"') == 4
    assert page.count('class="marks chart-wide"') == 4 and page.count('class="marks chart-narrow"') == 4 and "<!--drawing:" not in page
    assert 'role="group" aria-label="SFT on Qwen2.5-14B-Instruct. ReasonFlux-PRM-7B: 83.4% at 1,000' in page
    # Each mark describes itself: the tooltip, the keyboard and screen readers read it; no chart runtime loads.
    assert 'aria-label="Training data: ReasonFlux-PRM-7B&#xA;Number of training samples: 1,000&#xA;Accuracy on MATH500 (%): 83.4' in page
    assert "vega" not in page.lower().replace("vega-lite", "").replace(".vg.json", "")
    assert 'src="../assets/report.js"' in page


def test_every_source_value_and_no_contradicted_seed_statement(built_site: Path) -> None:
    text = " ".join(re.sub(r"<[^>]+>", " ", (built_site / p).read_text(encoding="utf-8")) for p in ("figure6/index.html", "data/index.html"))
    for value in ("83.4", "89.6", "91.5", "77.8", "79.7", "77.4", "83.7", "75.0", "69.9", "79.1"):
        assert value in text
    table = (ROOT / "data" / "table2_offline_selection.csv").read_text().splitlines()[1:]
    for line in table:
        assert line.rsplit(",", 1)[1] in text
    for wrong in ("logarithmic", "log scale)", "diminishing returns", "~92", "(74%)", "by 4%", "performing worse than the 7B"):
        assert wrong not in text, wrong


def test_claims_have_permanent_anchors_and_are_published(built_site: Path) -> None:
    claims = json.loads((built_site / "claims.json").read_text(encoding="utf-8"))["claims"]
    assert {c["report"] for c in claims} == {"figure6", "table2", "guide"}
    assert len(claims) >= 25
    for claim in claims:
        page = (built_site / claim["page"] / "index.html").read_text(encoding="utf-8")
        assert f'id="{claim["anchor"]}"' in page
        assert claim["status"] in {"holds", "observed"}
        files = [f for value in claim["values"].values() for source in value["sources"] for f in ([source["file"]] if "file" in source else source["files"])]
        assert all(f.startswith("data/") for f in files)
    figure6 = (built_site / "figure6" / "index.html").read_text(encoding="utf-8")
    assert figure6.count('id="claim-') == sum(1 for c in claims if c["report"] == "figure6")


def test_a_failing_build_leaves_the_site_untouched(project: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish(project, generate(Project(project)), site)
    before = tree(site)
    replace_in(
        project / "data" / "figure6_prm_size.csv", "Qwen2.5-Math-PRM-72B,Qwen2.5-Math-PRM,72B,72,79.1", "Qwen2.5-Math-PRM-72B,Qwen2.5-Math-PRM,72B,72,95.0"
    )
    with pytest.raises(ReportError, match="qwen-family-size"):
        publish(project, generate(Project(project)), site)
    assert tree(site) == before


def test_an_exception_half_way_through_mkdocs_leaves_the_site_untouched(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mkdocs.commands.build as mkdocs_build

    site = tmp_path / "site"
    generated = generate(Project(project))
    publish(project, generated, site)
    before = tree(site)
    real = mkdocs_build._build_page
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(mkdocs_build, "_build_page", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        publish(project, generated, site)
    assert tree(site) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site-")]


def test_two_builds_are_byte_identical_whether_charts_come_from_the_cache_or_from_two_engines(built_site: Path, tmp_path: Path) -> None:
    forget()  # every dataset read and chart made anew too, not kept from the shared site's build in this process
    with Engine.started(2) as engine:  # every chart drawn anew, by two engines, against the shared site's cached drawings
        drawn = generate(shipped(), cache=RenderCache(None), engine=engine)
        assert engine.workers == 2
    assert drawn.renders >= 16
    publish(ROOT, drawn, tmp_path / "two")
    assert tree(built_site) == tree(tmp_path / "two")


@pytest.mark.integration
def test_charts_are_still_drawn_when_the_chart_engines_die() -> None:
    """A chart engine killed mid-build (out of memory, say) costs time, not the build: its jobs are done in the build's process."""
    with Engine.started(2) as engine:
        assert list(engine.map(pow, [(2, n) for n in range(4)])) == [1, 2, 4, 8]  # the workers are up
        workers = list(engine._pool._processes.values()) if engine._pool else []
        assert len(workers) == 2
        for worker in workers:
            worker.kill()
            worker.join()
        assert list(engine.map(pow, [(3, n) for n in range(5)])) == [1, 3, 9, 27, 81]
        assert engine.workers == 0
        assert list(engine.map(pow, [(5, n) for n in range(4)])) == [1, 5, 25, 125]


def test_the_number_of_chart_engines_is_checked(project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("REPORT_WORKERS", "two")
    assert main(["--root", str(project), "build"]) == 1
    assert "REPORT_WORKERS: must be a whole number of processes" in capsys.readouterr().err
    assert not (project / "site").exists()


def test_a_rebuild_with_no_change_renders_and_rewrites_nothing(project: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    first = generate(Project(project))
    publish(project, first, site)
    stamps = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    again = generate(Project(project))
    changed = publish(project, again, site)
    assert again.renders == 0
    assert changed == []
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()} == stamps


def test_one_changed_csv_rerenders_only_the_charts_that_read_it(project: Path) -> None:
    generate(Project(project))
    replace_in(project / "data" / "figure6_prm_size.csv", "Skywork-PRM-7B,Skywork-PRM,7B,7,69.9", "Skywork-PRM-7B,Skywork-PRM,7B,7,70.2")
    renders = generate(Project(project)).renders
    # Figure 6's right panel and its figure-vs-table comparison, and the guide's two charts of that
    # table; not Figure 6's link-preview card (drawn from the left panel), nothing of the Table 2 report.
    assert renders == 4


def test_the_live_preview_keeps_the_last_good_site_after_a_mistake(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mkdocs.config import load_config

    from claimsite.site.plugin import NAME, BuildStopped, Session, attach

    config = load_config(config_file=str(project / "mkdocs.yml"))
    session = Session(keep_last_good=True)
    attach(config, session)
    plugin = config.plugins[NAME]
    plugin.on_config(config)
    good = session.current
    assert good is not None
    replace_in(project / "data" / "figure6_prm_size.csv", "7,69.9", "7,69.9%")
    plugin.on_config(config)  # prints the located error, keeps serving the last good site
    assert session.current is good
    session.keep_last_good = False
    with pytest.raises(BuildStopped, match=r"figure6_prm_size\.csv:5"):
        plugin.on_config(config)


def test_the_live_preview_rebuilds_the_pages_a_change_reaches_and_no_other(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from claimsite.site.plugin import Session, attach

    session = Session(keep_last_good=True)  # as the live preview gives one to every rebuild
    site = tmp_path / "site"

    def rebuild() -> set[str]:
        """A rebuild as the live preview makes it; the pages whose HTML it rewrote."""
        before = {p: p.stat().st_mtime_ns for p in site.rglob("*.html")}
        config = load_config(config_file=str(project / "mkdocs.yml"), site_dir=str(site))
        attach(config, session)
        build(config, dirty=True)
        return {p.relative_to(site).as_posix() for p in site.rglob("*.html") if before.get(p) != p.stat().st_mtime_ns}

    assert {"index.html", "table2/index.html", "figure6/index.html"} <= rebuild()
    replace_in(project / "templates" / "reports" / "table2.md.j2", "- The values are listed", "- Every value is listed")
    assert rebuild() - {"404.html"} == {"table2/index.html"}  # the theme's 404 page is written on every build
    assert "Every value is listed" in (site / "table2" / "index.html").read_text(encoding="utf-8")
    replace_in(project / "templates" / "reports" / "table2.yaml", "nav_title: Table 2", "nav_title: Table Two")
    rewritten = rebuild()  # the navigation changed: every page shows it
    assert {"index.html", "figure6/index.html", "data/index.html", "table2/index.html"} <= rewritten
    assert "Table Two" in (site / "figure6" / "index.html").read_text(encoding="utf-8")


def test_the_command_line_skips_a_build_whose_inputs_did_not_change(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:

    site = tmp_path / "site"
    arguments = ["--root", str(project), "build", "--site-dir", str(site)]
    assert main(arguments) == 0
    stamps = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(arguments) == 0
    assert "is up to date" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()} == stamps

    replace_in(project / "data" / "figure6_prm_size.csv", "Skywork-PRM-7B,Skywork-PRM,7B,7,69.9", "Skywork-PRM-7B,Skywork-PRM,7B,7,70.2")
    assert main(arguments) == 0
    assert "Built" in capsys.readouterr().out
    assert "70.2" in (site / "figure6" / "index.html").read_text(encoding="utf-8")

    (site / "index.html").write_text("edited by hand", encoding="utf-8")  # a touched site is rebuilt too
    assert main(arguments) == 0
    assert "edited by hand" not in (site / "index.html").read_text(encoding="utf-8")
