"""Linkable and shareable: stable anchors, per-figure files, link previews, and a site that works under a sub-path."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from claimsite.charts import figures
from claimsite.charts.figures import RenderCache
from claimsite.core.project import Project
from claimsite.site.build import generate
from claimsite.site.publish import publish

SUB_PATH_URL = "https://example.github.io/some-repo/"


class Page(HTMLParser):
    """The ids, links, resources and meta tags of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.urls: list[str] = []
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "meta" and ("property" in values or "name" in values):
            self.meta[values.get("property") or values["name"]] = values.get("content", "")
        for name in ("href", "src"):
            if name in values and tag in {"a", "link", "script", "img", "source"}:
                self.urls.append(values[name])


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def pages(site: Path) -> dict[str, Page]:
    return {p.relative_to(site).as_posix(): parse(p) for p in sorted(site.rglob("*.html"))}


BLANK = b'<svg xmlns="http://www.w3.org/2000/svg" class="marks" width="10" height="10" viewBox="0 0 10 10"></svg>'


def blank(text: str, chart_id: str, png: bool = True) -> tuple[bytes, bytes | None, dict[str, object]]:
    """A chart drawn as an empty SVG (a function of its module: drawings may be made in another process)."""
    return BLANK, b"PNG" if png else None, {}


def test_anchors_survive_a_data_change_that_keeps_the_orderings(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The anchors a discussion links to are the page's (sections, figures, claims), not those inside drawings: every
    # chart is drawn here as an empty SVG, in a fraction of the time (drawing is tested elsewhere).
    monkeypatch.setattr(figures, "draw", blank)
    monkeypatch.setattr(figures, "rasterise", lambda svg: b"PNG")
    publish(project, generate(Project(project), cache=RenderCache(None)), tmp_path / "before")
    changed = 0
    for csv in (project / "data").glob("*.csv"):
        lines = csv.read_text(encoding="utf-8").splitlines()
        shifted = [lines[0]] + [re.sub(r",(\d+\.\d)(,|$)", lambda m: f",{float(m.group(1)) + 0.2:.1f}{m.group(2)}", line) for line in lines[1:]]
        changed += shifted != lines
        csv.write_text("\n".join(shifted) + "\n", encoding="utf-8")
    assert changed >= 3  # every table of values; a table of counts has no decimals to shift
    publish(project, generate(Project(project), cache=RenderCache(None)), tmp_path / "after")
    before, after = pages(tmp_path / "before"), pages(tmp_path / "after")
    assert before.keys() == after.keys()
    for name, page in before.items():
        assert page.ids == after[name].ids, name
    report = before["figure6/index.html"].ids
    assert {"fig-training-samples", "fig-prm-size", "claim-reasonflux-best-prm", "key-observations", "interpretation"} <= report
    assert (tmp_path / "before" / "figure6" / "index.html").read_text() != (tmp_path / "after" / "figure6" / "index.html").read_text()


def test_every_figure_has_its_files_and_a_share_control(built_site: Path) -> None:
    report = built_site / "figure6" / "index.html"
    html = report.read_text(encoding="utf-8")
    figures = re.findall(r'<figure class="report-figure" id="fig-([a-z0-9-]+)"', html)
    assert len(figures) == 4
    for figure in figures:
        for suffix in (".png", ".svg", ".vl.json", ".csv"):
            assert (built_site / "figure6" / "figures" / f"{figure}{suffix}").is_file()
            assert f'href="figures/{figure}{suffix}"' in html
        assert f'data-image="figures/{figure}.png"' in html


def test_every_page_has_complete_link_preview_meta(built_site: Path) -> None:
    for name, page in pages(built_site).items():
        if name == "404.html":
            continue
        meta = page.meta
        for key in ("og:title", "og:description", "og:url", "og:image", "og:image:alt", "twitter:card", "twitter:image"):
            assert meta.get(key), f"{name} has no {key}"
        site_path = urlparse("https://example.github.io/reasonflux-report/").path  # site_url in mkdocs.yml
        local = built_site / urlparse(meta["og:image"]).path.removeprefix(site_path)
        assert local.is_file(), f"{name}: og:image {meta['og:image']} is not in the site"
        assert local.read_bytes()[16:24] == (1200).to_bytes(4, "big") + (630).to_bytes(4, "big")
    report = pages(built_site)["figure6/index.html"].meta
    assert report["og:description"].startswith("Of the five PRMs, ReasonFlux-PRM-7B selects the data")
    assert report["og:url"].endswith("/figure6/")


def test_the_site_works_under_a_project_sub_path(project: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish(project, generate(Project(project)), site, site_url=SUB_PATH_URL)
    for name, page in pages(site).items():
        base = urljoin(SUB_PATH_URL, name)
        for url in page.urls:
            target = urlparse(urljoin(base, url))
            if target.netloc != "example.github.io" or url.startswith(("#", "mailto:")):
                continue
            assert target.path.startswith("/some-repo/"), f"{name} links outside the sub-path: {url}"
            local = site / target.path.removeprefix("/some-repo/")
            if target.path.endswith("/"):
                local = local / "index.html"
            assert local.is_file(), f"{name}: {url} does not resolve to a file"
        if name != "404.html":
            assert page.meta["og:url"].startswith(SUB_PATH_URL)
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert all(loc.startswith(SUB_PATH_URL) for loc in re.findall(r"<loc>([^<]+)</loc>", sitemap))
