"""The built site in a real Chromium: what a reader sees, on desktop, on a phone, in dark mode and without JavaScript."""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import os
import re
import shutil
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from claimsite.core.project import Project
from claimsite.site.build import generate
from claimsite.site.publish import publish
from tests.browser import CHROMIUM_ARGS, NO_CHROMIUM, Watch, find_chromium, luminance, serve, wait_for_charts

pytestmark = pytest.mark.browser

ROOT = Path(__file__).parent.parent
REPORT = "figure6/index.html"
EXPECTED_PAGES = {"index.html", REPORT, "data/index.html", "404.html"}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
MODES: dict[str, dict[str, Any]] = {
    "desktop-light": {"viewport": DESKTOP, "color_scheme": "light"},
    "desktop-dark": {"viewport": DESKTOP, "color_scheme": "dark"},
    "phone": {"viewport": PHONE, "color_scheme": "light"},
}
SHOWN = ":is(.chart-wide, .chart-only)"  # the drawing a desktop window shows (a phone shows .chart-narrow)
POINT = "g.mark-symbol.role-mark path"  # a data point; legend symbols are role-legend-symbol
POINT_MARKS = f"{SHOWN} {POINT}"
TIMEOUT_MS = 15_000


def site_path() -> str:
    """The path the site is published under (GitHub Pages: /<repository>/), from site_url in mkdocs.yml; "" for the root."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return urlsplit(config.get("site_url") or "/").path.strip("/")


def plotted_columns(chart: dict[str, Any]) -> tuple[str, ...]:
    """The data column each point mark of a chart shows, one per mark drawn for a row (a dumbbell draws one per end)."""
    kinds: dict[str, Callable[[dict[str, Any]], tuple[str, ...]]] = {
        "points": lambda c: (c["y"]["field"],),
        "dots": lambda c: (c["x"]["field"],),
        "dumbbell": lambda c: tuple(end["field"] for end in c["ends"]),
        "line": lambda c: (c["y"]["field"],) if c.get("points", True) else (),
        "area": lambda c: (c["y"]["field"],),
        "bar": lambda c: (),  # bars, cells and custom marks are not point symbols
        "heatmap": lambda c: (),
        "vega-lite": lambda c: (),
    }
    if chart["kind"] not in kinds:
        pytest.fail(f"chart {chart['id']!r}: tell plotted_columns() in this file which columns a {chart['kind']!r} chart plots")
    return kinds[chart["kind"]](chart)


@functools.cache
def report_specs() -> tuple[dict[str, Any], ...]:
    """The report specs of templates/reports/, as written."""
    return tuple(yaml.safe_load(f.read_text(encoding="utf-8")) for f in sorted((ROOT / "templates" / "reports").glob("*.yaml")))


def report_charts() -> dict[str, dict[str, tuple[str, ...]]]:
    """For each report page, the columns each of its charts plots, from the report specs in templates/reports/."""
    found = {}
    for spec in report_specs():
        found[f"{spec['slug']}/index.html"] = {chart["id"]: plotted_columns(chart) for chart in spec.get("charts") or []}
    assert REPORT in found, f"no report spec has the slug of {REPORT}"
    return found


@pytest.fixture(scope="module")
def web_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the local server serves; the site sits under it at its published path, so absolute links (404.html) work."""
    return tmp_path_factory.mktemp("web")


@pytest.fixture(scope="module")
def site(web_root: Path, built_site: Path) -> Path:
    """The shipped site (built once per test run with the project's own build), under the web root at its published path."""
    site_dir = web_root / site_path()
    shutil.copytree(built_site, site_dir)
    return site_dir


@pytest.fixture(scope="module")
def pages(site: Path) -> list[str]:
    """Every HTML page of the built site, relative to its root, the home page first."""
    found = sorted((p.relative_to(site).as_posix() for p in site.rglob("*.html")), key=lambda p: (p != "index.html", p))
    assert found, "the site has no page"
    return found


@pytest.fixture(scope="module")
def axe_url(web_root: Path, site: Path) -> str:
    """Where the pages load axe-core from: the test's own server, beside the site, so that the browser compiles it once."""
    shutil.copyfile(AXE, web_root / AXE.name)
    return "/" + AXE.name


@pytest.fixture(scope="module")
def base_url(web_root: Path, site: Path) -> Iterator[str]:
    """The URL of the site's home, served by a local HTTP server for the module."""
    with serve(web_root) as origin:
        yield urljoin(origin, site.relative_to(web_root).as_posix() + "/") if site != web_root else origin


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module; Playwright gives it a fresh temporary profile, removed on close."""
    executable = find_chromium()
    if executable is None:
        pytest.fail(NO_CHROMIUM, pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """A page of the site in its own browser context (a tab that `then` takes to other pages), with everything it
    loaded and logged since it was opened or last went on."""

    page: Page
    watch: Watch
    base_url: str
    javascript: bool = True

    def go(self, path: str, idle: bool = False) -> Visit:
        """Open ``path`` of the site in this page and wait for its charts, if any; ``idle`` also waits for late loads (the search index)."""
        self.page.goto(urljoin(self.base_url, path), wait_until="networkidle" if idle else "load")
        if self.javascript and self.page.locator(".report-chart").count():
            wait_for_charts(self.page, TIMEOUT_MS)
        return self

    def then(self, path: str, idle: bool = False, viewport: dict[str, int] | None = None) -> Visit:
        """Open ``path`` in the same tab (resized to ``viewport`` first), as a reader following a link; what it loads
        and logs is watched anew."""
        self.watch.clear()
        if viewport is not None:
            self.page.set_viewport_size({"width": viewport["width"], "height": viewport["height"]})
        return self.go(path, idle)

    def problems(self) -> list[str]:
        """Requests to another host, failed loads, console errors and uncaught exceptions, each described."""
        return (
            [f"request to another host: {url}" for url in self.watch.foreign_requests()]
            + [f"failed request: {failure}" for failure in self.watch.failed]
            + [f"console error: {error}" for error in self.watch.console_errors]
            + [f"uncaught error: {error}" for error in self.watch.page_errors]
        )

    def assert_clean(self) -> None:
        """Nothing loaded from another host, no failed load, no console error, no uncaught exception."""
        assert self.problems() == []


@pytest.fixture
def visit(browser: Browser, base_url: str) -> Iterator[Callable[..., Visit]]:
    """A page in a new context (``viewport``, ``color_scheme``…) opened at ``path``; ``idle=True`` also waits for late loads."""
    contexts: list[BrowserContext] = []

    def open_page(path: str, idle: bool = False, **options: Any) -> Visit:
        context = browser.new_context(**{"viewport": DESKTOP, **options})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        watch = Watch()
        opened = Visit(watch.attach(context.new_page()), watch, base_url, javascript=options.get("java_script_enabled", True))
        return opened.go(path, idle)

    yield open_page
    for context in contexts:
        context.close()


def in_tab(visit: Callable[..., Visit], opened: Visit | None, path: str, idle: bool = False, **options: Any) -> Visit:
    """``path`` in the tab ``opened`` (resized to the ``viewport`` of ``options``, if any), or in a new tab made with
    ``options`` when there is none yet."""
    return visit(path, idle, **options) if opened is None else opened.then(path, idle, options.get("viewport"))


def chart_ids(page: Page) -> list[str]:
    """The id of each chart on the page (its figure is ``fig-<id>``)."""
    ids = page.eval_on_selector_all(".report-chart", "charts => charts.map(c => c.closest('figure').id)")
    assert ids, "the page shows no chart"
    assert all(i.startswith("fig-") for i in ids), ids
    return [i.removeprefix("fig-") for i in ids]


def chart_rows(page: Page, chart: str) -> list[dict[str, str]]:
    """The rows of a chart's data, as published at ``figures/<id>.csv`` beside the page."""
    response = page.request.get(urljoin(page.url, f"figures/{chart}.csv"))
    assert response.ok, f"figures/{chart}.csv: HTTP {response.status}"
    return list(csv.DictReader(io.StringIO(response.text())))


def png_size(path: Path) -> tuple[int, int]:
    """The width and height of a PNG file, from its header."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_site_has_its_pages(pages: list[str]) -> None:
    """The built site has the home page, the report, the data page and a 404 page (the tests below visit every page)."""
    assert set(pages) >= EXPECTED_PAGES, f"missing: {sorted(EXPECTED_PAGES - set(pages))}"


AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
AXE_RUN = """(rules) => axe.run(document, {resultTypes: ["violations"], ...(rules ? {runOnly: {type: "rule", values: rules}} : {})})
    .then(result => result.violations
        .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join("; ")}`))"""
# The dark palette changes colours only: there, the rules whose verdict depends on colour (every rule runs in light).
COLOUR_RULES = {"desktop-light": None, "desktop-dark": ["color-contrast", "link-in-text-block"]}


def phone_problems(page: Page) -> list[str]:
    """On a phone: the page does not scroll sideways, and every chart fits the screen, unclipped."""
    found = []
    widths = page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    if widths["scroll"] > widths["inner"]:
        found.append(f"the page is {widths['scroll']} px wide in a {widths['inner']} px window")
    for box in page.locator(".report-chart").all():
        bounds = box.bounding_box()
        drawing = box.locator(".chart-narrow, .chart-only").first.bounding_box()
        if bounds is None or drawing is None:
            found.append("a chart is not displayed")
            continue
        if bounds["x"] < 0 or bounds["x"] + bounds["width"] > PHONE["width"]:
            found.append(f"a chart does not fit the screen: {bounds}")
        if drawing["width"] > bounds["width"] + 1 or drawing["height"] > bounds["height"] + 1:
            found.append(f"a chart is clipped: {drawing} in {bounds}")
    return found


OUTSIDE_ITS_CHART = """() => [...document.querySelectorAll('.report-chart svg')].filter(svg => svg.getBoundingClientRect().width > 0)
    .flatMap(svg => {
        const box = svg.getBoundingClientRect();
        return [...svg.querySelectorAll('text')].filter(text => text.textContent.trim()).map(text => [text, text.getBoundingClientRect()])
            .filter(([, r]) => r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
            .map(([text, r]) => `${svg.closest('figure').id}: "${text.textContent}" reaches ${Math.round(Math.max(box.left - r.left,
                r.right - box.right, box.top - r.top, r.bottom - box.bottom))} px past the chart`);
    })"""


def screenshot_dir() -> Path:
    """Where screenshots go: TEST_OUTPUT_DIR, else test-output/screenshots/ (git-ignored)."""
    configured = os.environ.get("TEST_OUTPUT_DIR")
    return Path(configured) if configured else ROOT / "test-output" / "screenshots"


@pytest.mark.parametrize("mode", MODES)
def test_every_page_in_each_mode_loads_clean_is_accessible_and_fits(visit: Callable[..., Visit], pages: list[str], axe_url: str, mode: str) -> None:
    """Every page, on a desktop in light and dark and on a phone, each mode in a fresh browser, one tab going from
    page to page:

    - shows its title and its stylesheet, and loads only from its own server, with no failed request, console
      error or script error (its late loads, such as the search index, included: waited for on the light desktop
      at each folder depth);
    - has no accessibility violation by axe-core, at any level, run offline in the page (every rule in the
      light palette, the colour rules in the dark one);
    - draws every chart's text (titles, labels, legends) inside the chart;
    - on a phone, does not scroll sideways and every chart fits the screen, unclipped;
    - is saved as a PNG of the window (the report also at its first chart); UPDATE_SCREENSHOT=1 refreshes
      docs/assets/screenshot.png from the light desktop one.
    """
    options = MODES[mode]
    size = (options["viewport"]["width"], options["viewport"]["height"])
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    opened: Visit | None = None  # one tab per mode, as a reader's: the site's files cached after the first page
    for path in pages:
        # Late loads (the search index and worker) are the same in every mode and on every page of a folder depth:
        # waited for on the light desktop, at the site's root (home, 404) and one folder down (a report).
        idle = mode == "desktop-light" and path in ("index.html", "404.html", REPORT)
        opened = in_tab(visit, opened, path, idle, **options)
        page = opened.page
        found = opened.problems()
        if not page.locator("h1").first.is_visible():
            found.append("no visible h1")
        if not page.evaluate("[...document.styleSheets].some(sheet => sheet.href && new URL(sheet.href).pathname.endsWith('.css') && sheet.cssRules.length)"):
            found.append("no stylesheet applied")
        found += page.evaluate(OUTSIDE_ITS_CHART)  # a title or label drawn past the chart's edge
        if mode == "phone":
            found += phone_problems(page)
        else:
            page.add_script_tag(url=axe_url)
            found += [f"accessibility: {violation}" for violation in page.evaluate(AXE_RUN, COLOUR_RULES[mode])]
        name = path.removesuffix(".html").removesuffix("/index").replace("/", "-")
        shot = folder / f"{name}-{mode}.png"
        page.screenshot(path=str(shot))
        if png_size(shot) != size:
            found.append(f"the screenshot is {png_size(shot)}, not the window's {size}")
        if path == REPORT:
            page.locator(".report-figure").first.scroll_into_view_if_needed()
            page.wait_for_timeout(400)  # the header swaps site name for page title, in a 0.25 s transition
            chart_shot = folder / f"{name}-chart-{mode}.png"
            page.screenshot(path=str(chart_shot))
            if mode == "desktop-light" and os.environ.get("UPDATE_SCREENSHOT") == "1":
                shutil.copyfile(chart_shot, ROOT / "docs" / "assets" / "screenshot.png")
        if found:
            problems[path] = found
    assert problems == {}


def test_each_chart_is_drawn_in_the_page_with_one_mark_per_data_row(visit: Callable[..., Visit]) -> None:
    """On every report, each chart is an SVG in the page (no image, no chart runtime) with a described point mark per
    row of its published data (a dumbbell, one per end), made interactive by the page's own script."""
    opened: Visit | None = None
    for path, plotted in report_charts().items():
        if not plotted:
            continue
        opened = in_tab(visit, opened, path)
        page = opened.page
        charts = chart_ids(page)
        assert set(charts) <= set(plotted), f"{path}: charts not in the report spec: {sorted(set(charts) - set(plotted))}"
        for chart in charts:
            box = page.locator(f"#fig-{chart} .report-chart")
            assert box.get_attribute("data-interactive") == "true"
            assert box.locator(f"svg{SHOWN}").count() == 1 and box.locator("img").count() == 0, f"{path} {chart}: not drawn as one SVG in the page"
            rows = chart_rows(page, chart)
            assert rows, f"{path} {chart}: no data"
            marks = box.locator(POINT_MARKS)
            assert marks.count() == len(rows) * len(plotted[chart]), f"{path} {chart}: {marks.count()} point marks for {len(rows)} rows"
            assert all(label.strip() for label in marks.evaluate_all("ms => ms.map(m => m.getAttribute('aria-label') || '')")), (
                f"{path} {chart}: a mark has no description"
            )
        assert not [url for url in opened.watch.requests if "vega" in urlsplit(url).path], f"{path}: a chart runtime or spec was loaded"
        opened.assert_clean()


MARK_CENTRES = """marks => marks.map(mark => {
  const box = mark.getBoundingClientRect(), x = box.x + box.width / 2, y = box.y + box.height / 2;
  return (box.width || box.height) && x >= 0 && y >= 0 && x < innerWidth && y < innerHeight ? [x, y] : null;
})"""
TOOLTIP_SHOWN = """() => {
  // The tooltip as the reader sees it, once it shows; then hidden, so that the next hover must show it anew.
  const tip = document.querySelector('.report-tooltip');
  if (!tip || tip.hidden || tip.getClientRects().length === 0) return false;
  const box = tip.getBoundingClientRect();
  const shown = {cells: [...tip.querySelectorAll('td')].map(td => td.innerText), box: [box.x, box.y, box.width, box.height],
                 inside: box.x >= 0 && box.y >= 0 && box.right <= innerWidth && box.bottom <= innerHeight};
  tip.hidden = true;
  return shown;
}"""
FOCUSED = """() => {
  // Where the focus is, said as the tests compare it: the figure of a chart's mark (not of a legend entry), 'out' outside
  // the report's text, and the focused element's label and the tooltip's text.
  const e = document.activeElement, tip = document.querySelector('.report-tooltip');
  const figure = e && !e.closest('.legend-entry') && e.closest('.report-chart svg') && e.closest('figure');
  const shown = tip && !tip.hidden && tip.getClientRects().length > 0;
  return {where: !e || !e.closest('article') ? 'out' : figure ? figure.id : '', label: e && e.getAttribute('aria-label'),
          tip: shown ? tip.innerText : null};
}"""
RECORD_KEYS = f"""() => {{
  // Where each key press left the focus, recorded as the key comes up: many presses, one round trip to read them.
  window.keysSeen = [];
  const focused = {FOCUSED};
  document.addEventListener('keyup', event => window.keysSeen.push({{key: event.key, ...focused()}}), true);
}}"""


def press(page: Page, key: str, times: int) -> list[dict[str, Any]]:
    """Press ``key`` ``times`` times; where each press left the focus (RECORD_KEYS must have run in the page)."""
    page.evaluate("window.keysSeen = []")
    for _ in range(times):
        page.keyboard.press(key)
    seen: list[dict[str, Any]] = page.evaluate("window.keysSeen")
    assert [entry["key"] for entry in seen] == [key] * times, seen
    return seen


def numbers_in(cells: list[str]) -> list[float]:
    """The numbers among a tooltip's cells."""
    return [float(c.replace(",", "")) for c in cells if re.fullmatch(r"-?[\d,]+(\.\d+)?", c.strip())]


def listed_reports() -> list[str]:
    """The report pages the home page lists (the author's guide is not one)."""
    return [f"{spec['slug']}/index.html" for spec in report_specs() if spec.get("listed", True) and spec.get("charts")]


@pytest.mark.parametrize("path", listed_reports())
def test_every_point_shows_its_values_to_the_mouse_and_the_keyboard(visit: Callable[..., Visit], path: str) -> None:
    """On each report, hovering each point mark shows a tooltip, inside the window, with that point's value; leaving
    hides it. The keyboard reaches each chart with Tab (one stop a chart), the arrow keys go from mark to mark, each
    showing its tooltip, and Escape hides it."""
    plotted = report_charts()[path]
    opened = visit(path)
    page = opened.page
    tip = page.locator(".report-tooltip")
    for chart in chart_ids(page):
        rows = chart_rows(page, chart)
        page.locator(f"#fig-{chart}").scroll_into_view_if_needed()
        marks = page.locator(f"#fig-{chart} {POINT_MARKS}")
        centres = marks.evaluate_all(MARK_CENTRES)
        for index, centre in enumerate(centres):
            row, column = rows[index % len(rows)], plotted[chart][index // len(rows)]
            if centre is None:  # below the window: scrolled to
                marks.nth(index).scroll_into_view_if_needed()
                box = marks.nth(index).bounding_box()
                assert box is not None, f"{chart} point {index} is not displayed"
                centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
            page.mouse.move(*centre)
            shown = page.wait_for_function(TOOLTIP_SHOWN).json_value()
            assert float(row[column]) in numbers_in(shown["cells"]), f"{chart} point {index}: tooltip {shown['cells']!r} lacks {column} = {row[column]}"
            assert shown["inside"], f"{chart} point {index}: the tooltip leaves the window: {shown['box']}"
        if centres:  # the last point again: its tooltip shows, and leaving the chart hides it
            page.mouse.move(1, DESKTOP["height"] - 1)
            page.mouse.move(*centre)
            tip.wait_for(state="visible")
            page.mouse.move(1, DESKTOP["height"] - 1)
            tip.wait_for(state="hidden")
    # The keyboard: Tab from the report's title stops once in each chart's marks (and at each legend entry), to the end of its text.
    page.evaluate(RECORD_KEYS)
    page.evaluate("(() => { const title = document.querySelector('article h1'); title.tabIndex = -1; title.focus(); })()")
    seen: list[dict[str, Any]] = []
    while len(seen) < 500 and all(entry["where"] != "out" for entry in seen):
        seen += press(page, "Tab", 25)
    stops = [entry["where"] for entry in seen]
    assert "out" in stops, "Tab never left the report's text"
    stops = stops[: stops.index("out")]
    assert all(entry["tip"] for entry in seen[: len(stops)] if entry["where"]), f"a focused mark shows no tooltip: {seen}"
    for last, where in itertools.pairwise(stops):
        assert not where or where != last, f"Tab stopped at two marks of {where}"
    reached = [stop for stop in stops if stop]
    assert reached == [f"fig-{chart}" for chart in chart_ids(page)], f"Tab reached {reached}"
    for chart in chart_ids(page):
        marks = page.locator(f"#fig-{chart} {SHOWN} [role='graphics-symbol'][tabindex]")
        labels = [label or "" for label in marks.evaluate_all("marks => marks.map(m => m.getAttribute('aria-label'))")]
        marks.first.focus()
        for index, focused in enumerate([page.evaluate(FOCUSED), *press(page, "ArrowRight", len(labels) - 1)]):
            assert focused["label"] == labels[index], f"{chart}: the arrow keys skipped mark {index}"
            assert focused["tip"] is not None and focused["tip"].replace("\t", ": ").split("\n")[0] == labels[index].split("\n")[0], (
                f"{chart}: the tooltip is not the focused mark {index}'s"
            )
        page.keyboard.press("Escape")
        tip.wait_for(state="hidden")
    opened.assert_clean()


def test_a_tap_on_a_phone_shows_a_points_values(visit: Callable[..., Visit]) -> None:
    """On a touch screen, tapping a point shows its tooltip; tapping elsewhere hides it."""
    opened = visit(REPORT, viewport=PHONE, has_touch=True, is_mobile=True)
    page = opened.page
    mark = page.locator(f"#fig-prm-size .chart-narrow {POINT}").first
    mark.scroll_into_view_if_needed()
    mark.tap()
    tip = page.locator(".report-tooltip")
    tip.wait_for(state="visible")
    assert (mark.get_attribute("aria-label") or "").split("\n")[0] in tip.inner_text().replace("\t", ": ")
    page.locator("h1").first.tap()
    tip.wait_for(state="hidden")
    opened.assert_clean()


def test_a_legend_entry_shows_its_series_alone(visit: Callable[..., Visit]) -> None:
    """Hovering a legend entry dims the other series' marks; clicking it keeps them dimmed until clicked again."""
    opened = visit(REPORT)
    page = opened.page
    chart = page.locator(f"#fig-prm-size {SHOWN}")
    entries = chart.locator(".legend-entry")
    assert entries.count() >= 2, "the legend entries are not buttons"
    points = chart.locator(POINT)
    dimmed = chart.locator(f"{POINT}.mark-dimmed")
    entries.first.hover()
    kept = points.count() - dimmed.count()
    assert 0 < kept < points.count(), f"{kept} of {points.count()} points stay bright while hovering one series"
    page.mouse.move(1, 1)
    assert dimmed.count() == 0
    entries.first.click()
    page.mouse.move(1, 1)
    assert points.count() - dimmed.count() == kept and entries.first.get_attribute("aria-pressed") == "true"
    entries.first.click()
    page.mouse.move(1, 1)
    assert dimmed.count() == 0 and entries.first.get_attribute("aria-pressed") == "false"
    opened.assert_clean()


WIDTHS = (320, 600, 1024, 1600)
MIN_TEXT_PX = 10  # the smallest chart text a reader should have to read, as drawn
CHART_LAYOUT = """() => [...document.querySelectorAll('.report-chart')].map(box => {
  const svg = [...box.querySelectorAll('svg')].find(s => s.getBoundingClientRect().width > 0);
  const drawn = svg.getBoundingClientRect(), column = box.closest('.md-typeset').getBoundingClientRect();
  const scale = drawn.width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  return {id: box.closest('figure').id, left: drawn.left, top: drawn.top + scrollY, width: drawn.width, height: drawn.height,
          shape: drawn.width * svg.viewBox.baseVal.height / svg.viewBox.baseVal.width, column: column.width, text: Math.min(...sizes)};
})"""


def test_charts_fill_the_column_at_every_width_legibly_and_do_not_move(visit: Callable[..., Visit]) -> None:
    """From 320 to 1600 px wide, each chart fills the text column at its drawing's shape (in view or not), its
    smallest text is legible, and it is laid out the same with and without the page's script (nothing moves when
    the page becomes interactive)."""
    problems = []
    plain: Visit | None = None  # a tab with JavaScript off and one with it on, each loading the page anew at each width
    opened: Visit | None = None
    for width in WIDTHS:
        viewport = {"width": width, "height": 900}
        plain = in_tab(visit, plain, REPORT, java_script_enabled=False, viewport=viewport)
        static = plain.page.evaluate(CHART_LAYOUT)
        opened = in_tab(visit, opened, REPORT, viewport=viewport)
        interactive = opened.page.evaluate(CHART_LAYOUT)
        opened.assert_clean()
        for chart in interactive:
            if abs(chart["width"] - chart["column"]) > 1:
                problems.append(f"{width} px: {chart['id']} is {chart['width']:.0f} px wide in a {chart['column']:.0f} px column")
            if abs(chart["height"] - chart["shape"]) > 1:  # out of view, a chart is not laid out: its box alone keeps its place
                problems.append(f"{width} px: {chart['id']} takes {chart['height']:.0f} px, not its drawing's {chart['shape']:.0f} px")
            if chart["text"] < MIN_TEXT_PX:
                problems.append(f"{width} px: {chart['id']} prints text at {chart['text']:.1f} px")
        if static != interactive:
            problems.append(f"{width} px: the charts move when the page becomes interactive: {static} → {interactive}")
    assert problems == [], "\n".join(problems)


def test_charts_are_drawn_without_javascript(visit: Callable[..., Visit]) -> None:
    """With JavaScript off, every chart is still drawn in the page, at a readable size, and described for screen readers."""
    opened = visit(REPORT, java_script_enabled=False)
    page = opened.page
    drawings = page.locator(f".report-chart svg{SHOWN}")
    assert drawings.count() == len(chart_ids(page)), "a chart is not drawn"
    for index in range(drawings.count()):
        drawing = drawings.nth(index)
        drawing.scroll_into_view_if_needed()
        box = drawing.bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 200, f"chart {index} is drawn too small: {box}"
        assert drawing.get_attribute("role") == "group" and (drawing.get_attribute("aria-label") or "").strip(), f"chart {index} has no description"
        assert drawing.locator(POINT).count() > 0, f"chart {index} draws no point"
    opened.assert_clean()


def chart_colours(page: Page, chart: str) -> dict[str, list[float]]:
    """The luminance of a chart's background (behind it, if it is transparent) and of its texts, as shown."""
    shown = page.locator(f"#fig-{chart} svg{SHOWN}").evaluate(
        r"""svg => {
          const fill = getComputedStyle(svg.querySelector('rect')).fill;
          const clear = fill === 'none' || /^rgba\(.*,\s*0\)$/.test(fill);
          return {background: clear ? getComputedStyle(document.body).backgroundColor : fill,
                  text: [...svg.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => getComputedStyle(t).fill)};
        }"""
    )
    return {"background": [luminance(shown["background"])], "text": [luminance(colour) for colour in shown["text"]]}


def test_charts_follow_the_palette_and_its_toggle(visit: Callable[..., Visit]) -> None:
    """In dark mode the page and its charts are dark with light text; the palette toggle turns both light, text dark."""
    opened = visit(REPORT, color_scheme="dark")
    page = opened.page
    assert page.get_attribute("body", "data-md-color-scheme") == "slate"
    for scheme in ("slate", "default"):
        for chart in chart_ids(page):
            colours = chart_colours(page, chart)
            assert colours["text"], f"{chart}: no text"
            if scheme == "slate":
                assert colours["background"][0] < 0.1 and min(colours["text"]) > 0.4, f"{chart} in dark mode: {colours}"
            else:
                assert colours["background"][0] > 0.9 and max(colours["text"]) < 0.2, f"{chart} in light mode: {colours}"
        if scheme == "slate":
            page.locator("label.md-header__button[for^='__palette']:visible").first.click()
            page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'default'")
    opened.assert_clean()


def test_the_palette_follows_the_system_until_the_reader_chooses_and_keeps_the_choice(visit: Callable[..., Visit]) -> None:
    """With no choice made, the page follows the system's light or dark setting, even as it changes; the toggle (by
    mouse, or Enter on its keyboard stop) switches the palette and the choice holds on the next page, whatever the system."""
    opened = visit(REPORT, color_scheme="dark")
    page = opened.page
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    assert page.evaluate(scheme) == "slate"
    page.emulate_media(color_scheme="light")
    page.wait_for_function(f"{scheme} === 'default'")
    page.emulate_media(color_scheme="dark")
    page.wait_for_function(f"{scheme} === 'slate'")
    toggle = page.locator("label.md-header__button[for^='__palette']:visible")
    assert toggle.count() == 1, "one palette toggle shows"
    browser_scheme = "document.querySelector('meta[name=color-scheme]').content"  # for the browser's own controls
    page.wait_for_function(f"{browser_scheme} === 'dark'")
    toggle.click()  # the reader chooses light
    page.wait_for_function(f"{scheme} === 'default' && {browser_scheme} === 'light'")
    assert page.evaluate("document.querySelector('meta[name=theme-color]').content") == "#4051b5"  # the header's indigo
    opened.then("index.html")
    assert page.evaluate(scheme) == "default", "the choice did not hold on the next page"
    page.wait_for_selector("input[name='__palette']:checked", state="attached")  # the site's script has started
    page.emulate_media(color_scheme="light")
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(100)
    assert page.evaluate(scheme) == "default", "the system's change overrode the reader's choice"
    page.locator("input[name='__palette']:checked").focus()
    page.keyboard.press("Enter")  # the toggle's keyboard stop: on to the next palette
    page.wait_for_function(f"{scheme} === 'slate' && {browser_scheme} === 'dark'")
    page.keyboard.press(" ")
    page.wait_for_function(f"{scheme} === 'default'")
    opened.assert_clean()


LIGHT_CHOSEN = {"index": 0, "color": {"media": "(prefers-color-scheme: light)", "scheme": "default", "primary": "indigo", "accent": "indigo"}}


@pytest.mark.parametrize(
    ("system", "stored", "scheme"),
    [("dark", None, "slate"), ("light", None, "default"), ("dark", LIGHT_CHOSEN, "default")],
    ids=["dark-system", "light-system", "light-chosen-on-a-dark-system"],
)
def test_the_page_itself_applies_the_readers_palette_before_any_script_loads(
    browser: Browser, base_url: str, system: str, stored: dict[str, Any] | None, scheme: str
) -> None:
    """Scripts are deferred, so the page's own inline code picks the palette while it is parsed: a reader's choice,
    else (a first visit) the palette of their system, so that a dark first paint is dark. Here no script file loads."""
    context = browser.new_context(viewport=PHONE, color_scheme=system)  # type: ignore[arg-type]
    try:
        context.route("**/*.js", lambda route: route.abort())
        if stored is not None:  # as the theme stores a choice: under the site's path, read by its inline script
            context.add_init_script(
                f"try {{ localStorage.setItem(new URL('..', location).pathname + '.__palette', {json.dumps(json.dumps(stored))}) }} catch (e) {{}}"
            )
        page = context.new_page()
        page.goto(urljoin(base_url, REPORT), wait_until="load")
        assert page.evaluate("document.documentElement.classList.contains('no-js')"), "the theme's script ran"
        assert page.get_attribute("body", "data-md-color-scheme") == scheme
    finally:
        context.close()


def test_print_shows_the_report_alone_with_its_links_spelled_out(visit: Callable[..., Visit]) -> None:
    """Printed, a report has no navigation, header or footer; charts are whole, light and wide; links show their URL."""
    opened = visit(REPORT, color_scheme="dark")
    page = opened.page
    page.emulate_media(media="print")
    for hidden in (".md-header", ".md-sidebar--primary", ".md-footer", ".fig-share"):
        assert not page.locator(hidden).first.is_visible(), f"{hidden} is printed"
    for chart in chart_ids(page):
        colours = chart_colours(page, chart)
        assert colours["background"][0] > 0.9 and max(colours["text"]) < 0.2, f"{chart} is not printed light: {colours}"
        assert page.locator(f"#fig-{chart}").evaluate("f => getComputedStyle(f).breakInside") == "avoid"
    link = page.locator(".md-content a[href^='http']").first
    href = link.get_attribute("href") or ""
    assert href in link.evaluate("a => getComputedStyle(a, '::after').content"), f"the printed link does not show {href}"
    assert len(page.pdf()) > 10_000
    opened.assert_clean()


def test_light_palette_has_a_light_page(visit: Callable[..., Visit]) -> None:
    """In light mode the page background is light."""
    opened = visit(REPORT, color_scheme="light")
    body = opened.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert luminance(body) > 0.7, f"body background {body} is not light"
    opened.assert_clean()


@pytest.mark.parametrize("target", ["claim-reasonflux-best-prm", "fig-training-samples"])
def test_link_to_a_fragment_shows_its_target(visit: Callable[..., Visit], target: str) -> None:
    """Opening the report at #<id> shows that element in the window, below the sticky header, once the charts are drawn."""
    opened = visit(f"{REPORT}#{target}")
    page = opened.page
    page.wait_for_timeout(300)  # let any late layout shift land before measuring
    rect = page.locator(f"[id='{target}']").evaluate("e => e.getBoundingClientRect().toJSON()")
    header = page.locator(".md-header").evaluate("e => e.getBoundingClientRect().bottom")
    height = page.evaluate("window.innerHeight")
    assert page.evaluate("window.scrollY") > 0, "the page did not scroll"
    assert rect["top"] >= header - 1, f"#{target} is hidden under the header: top {rect['top']}, header ends at {header}"
    assert rect["bottom"] <= height, f"#{target} is below the window: bottom {rect['bottom']} > {height}"
    opened.assert_clean()


def test_search_finds_a_word_of_the_report(visit: Callable[..., Visit]) -> None:
    """Typing a PRM's name into the search box lists a result that links into the site."""
    opened = visit("index.html")
    page = opened.page
    toggle = page.locator('label.md-header__button[for="__search"]')
    if toggle.is_visible():  # narrow windows show a search button; wide ones the field itself
        toggle.click()
    field = page.locator(".md-search__input")
    field.click()
    field.press_sequentially("Skywork")  # Material searches on key events; fill() sends none
    results = page.locator(".md-search-result__item")
    results.first.wait_for(state="visible")
    assert "skywork" in results.first.inner_text().lower(), results.first.inner_text()
    link = results.first.locator("a").first.get_attribute("href") or ""
    assert urlsplit(urljoin(page.url, link)).hostname == "127.0.0.1", f"a search result links away: {link}"
    opened.assert_clean()


def test_tables_sort_by_a_clicked_column(visit: Callable[..., Visit]) -> None:
    """Clicking a column header sorts the table by it, numbers as numbers; clicking again reverses it."""
    page = visit("data/index.html").page
    table = page.locator("details.report-data table").nth(2)  # Table 2's values: a column of numbers third
    page.locator("details.report-data summary").nth(2).click()
    header = table.locator("thead th").nth(2)
    header.locator("button").click()
    values = [float(v) for v in table.locator("tbody tr td:nth-child(3)").all_inner_texts()]
    assert values == sorted(values) and header.get_attribute("aria-sort") == "ascending"
    header.locator("button").click()
    values = [float(v) for v in table.locator("tbody tr td:nth-child(3)").all_inner_texts()]
    assert values == sorted(values, reverse=True)


PAYLOADS = [
    "<script>window.__ran=1</script>",
    '<img src=x onerror="window.__ran=2">',
    "</script><script>window.__ran=3</script>",
    "[x](javascript:window.__ran=4)",
    "a | b | c",
    "`code`",
    "# heading",
    "{{ 7*7 }}",
]


@pytest.fixture(scope="module")
def payload_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """A site built from data whose labels and descriptor text are markup, script and template payloads; served locally."""
    from claimsite.cli.scaffold import new_report
    from tests.conftest import copy_project

    project = copy_project(tmp_path_factory.mktemp("payload") / "project")
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["label", "group", "score"])
    writer.writerows([payload, PAYLOADS[(index + 3) % len(PAYLOADS)], 10.0 + index] for index, payload in enumerate(PAYLOADS))
    source = tmp_path_factory.mktemp("payload-csv") / "payloads.csv"
    source.write_text(rows.getvalue(), encoding="utf-8")
    new_report(project, "payloads", source)  # a report whose labels, series, claims and tooltips all carry payloads
    descriptor = project / "data" / "datapackage.yaml"
    described = descriptor.read_text(encoding="utf-8").replace("How the SFT training data was chosen.", json.dumps(" ".join(PAYLOADS[:4])))
    descriptor.write_text(described.replace("The evaluation benchmark.", json.dumps("<b onmouseover=alert(1)>x</b>")), encoding="utf-8")
    web = tmp_path_factory.mktemp("payload-web")
    publish(project, generate(Project(project)), web / site_path())
    with serve(web) as origin:
        yield urljoin(origin, site_path() + "/"), ["payloads/index.html", "data/index.html", "index.html"]


def test_untrusted_text_is_shown_as_written_and_never_runs(browser: Browser, payload_site: tuple[str, list[str]]) -> None:
    """Payloads in CSV cells and descriptor text appear literally on the page; no script runs, no javascript: link exists."""
    base, paths = payload_site
    context = browser.new_context(viewport=DESKTOP)
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        seen = ""
        for path in paths:
            page.goto(urljoin(base, path), wait_until="load")
            if page.locator(".report-chart").count():
                wait_for_charts(page, TIMEOUT_MS)
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            for point in page.locator(POINT_MARKS).all()[:12]:  # tooltips show labels too
                point.hover()
            assert page.evaluate("() => window.__ran") is None, f"a payload ran on {path}"
            assert page.locator("a[href^='javascript:' i]").count() == 0
            seen += page.locator("body").inner_text()
        assert not dialogs
        for payload in PAYLOADS:
            assert payload in seen, f"{payload!r} is not shown as written"
        assert "<b onmouseover=alert(1)>x</b>" in seen
    finally:
        context.close()


def test_share_copies_a_markdown_snippet_of_the_figure(browser: Browser, base_url: str) -> None:
    """ "Share" under a figure copies Markdown for a discussion: the PNG, linked to the figure's anchor, and the caption."""
    context = browser.new_context(viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(urljoin(base_url, REPORT))
        button = page.locator("#fig-prm-size .fig-share")
        button.click()
        snippet = page.evaluate("() => navigator.clipboard.readText()")
        page_url = urljoin(base_url, "figure6/")
        assert snippet.startswith(f"[![SFT on Qwen2.5-14B-Instruct]({page_url}figures/prm-size.png)]({page_url}#fig-prm-size)")
        assert page.request.get(f"{page_url}figures/prm-size.png").ok
        assert button.inner_text() == "Copied"
    finally:
        context.close()


def test_the_chart_runtime_loads_only_when_a_reader_zooms(visit: Callable[..., Visit]) -> None:
    """A chart that declares zoom: is drawn like any other; clicking Zoom loads the chart runtime and its spec from the
    site, redraws it at the same size (nothing moves), scrolling zooms its axis, its points keep their tooltips, and
    Reset puts the drawing back. No other page ever loads the runtime."""
    opened = visit(REPORT)
    opened.page.locator(f"#fig-prm-size {POINT_MARKS}").first.hover()
    opened.go("guide/index.html")
    page = opened.page
    runtime = lambda: [urlsplit(url).path.rsplit("/", 1)[-1] for url in opened.watch.requests if "vega" in urlsplit(url).path or url.endswith(".vg.json")]  # noqa: E731
    assert runtime() == [], "the chart runtime loaded before a reader asked"
    figure = page.locator("#fig-example-line")
    box = figure.locator(".report-chart")
    box.scroll_into_view_if_needed()
    before = box.bounding_box()
    figure.locator(".fig-zoom").click()
    zoomed = figure.locator(".report-zoomed svg")
    zoomed.wait_for()
    assert runtime() == ["vega.min.js", "example-line.vg.json"]
    assert box.bounding_box() == before, "the chart moved or changed size when it became zoomable"
    ticks = "ts => ts.map(t => t.textContent)"
    labels = zoomed.locator(".role-axis-label text").evaluate_all(ticks)
    area = zoomed.bounding_box()
    assert area is not None
    page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2)
    page.mouse.wheel(0, -400)
    page.wait_for_function(
        "([svg, before]) => [...svg.querySelectorAll('.role-axis-label text')].map(t => t.textContent).join() !== before",
        arg=[zoomed.element_handle(), ",".join(labels)],
    )
    mark = zoomed.locator(f"{POINT}[tabindex]").first
    mark.focus()
    page.locator(".report-tooltip").wait_for(state="visible")
    figure.locator(".fig-zoom").click()
    assert figure.locator(".report-zoomed").count() == 0 and box.bounding_box() == before
    assert figure.locator(".fig-zoom").get_attribute("aria-pressed") == "false"
    opened.assert_clean()
