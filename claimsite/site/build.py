"""The build, stage by stage: data → specs → claims → chart specs → chart drawing → social cards → pages. Returns files; writes none."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from claimsite.charts import figures
from claimsite.charts.engine import Engine
from claimsite.charts.figures import RenderCache
from claimsite.charts.vegalite import Chart, build_charts
from claimsite.claims.check import Claim, evaluate_all
from claimsite.core.errors import ReportError
from claimsite.core.project import Project
from claimsite.data.load import read_package
from claimsite.pages.render import Generated, RenderedReport, assemble
from claimsite.spec.report import Report, load_report

STAGES = ("data", "specs", "claims", "chart specs", "chart drawing", "social cards", "pages")  # in order; the benchmark reports them


@dataclass
class Clock:
    """The seconds each stage of a build took, and how many units (reports, charts) it handled: for `build --timings` and the benchmark."""

    seconds: dict[str, float] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str, units: int = 1) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            self.units[name] = self.units.get(name, 0) + units


def check(project: Project) -> Generated:
    """Validate data, specs, claims and templates; render in memory, write nothing (a large file new to the project is
    read into a temporary folder, removed after)."""
    with tempfile.TemporaryDirectory(prefix="report-check-") as scratch:
        return generate(project, cache=RenderCache(None), render_charts=False, baseline=None, scratch=Path(scratch))


def generate(
    project: Project,
    cache: RenderCache | None = None,
    render_charts: bool = True,
    baseline: str | None = "auto",
    engine: Engine | None = None,
    clock: Clock | None = None,
    scratch: Path | None = None,
) -> Generated:
    """Every generated page and file of the site; ``baseline`` is the git version 'What changed' compares with (None: none).

    ``engine`` draws the charts (one started early by the command line, or else one started here if there is much to
    draw); ``clock`` receives the seconds of each stage.
    """
    cache = cache if cache is not None else RenderCache(project.cache)
    clock = clock if clock is not None else Clock()
    root = project.root.resolve()
    with clock.stage("data"):
        datasets, descriptor = read_package(project.data, root, scratch)
    reports: list[Report] = []
    for spec_path in project.report_specs():
        with clock.stage("specs"):
            report = load_report(spec_path.resolve(), datasets, root)
        if any(earlier.slug == report.slug for earlier in reports):
            raise ReportError.at(report.spec_file, f"the slug {report.slug!r} is already taken", found=report.slug, fix="choose another slug")
        reports.append(report)
    claims: list[dict[str, Claim]] = []
    charts: list[dict[str, Chart]] = []
    for report in reports:
        with clock.stage("claims"):
            claims.append(evaluate_all(report))
        with clock.stage("chart specs"):
            charts.append(build_charts(report))
        _check_references(report, claims[-1], charts[-1])
    with contextlib.ExitStack() as stack:
        if engine is None:
            engine = stack.enter_context(Engine())
        every = [chart for drawn in charts for chart in drawn.values()]
        with clock.stage("chart drawing", len(every)):
            if render_charts:
                files = iter(figures.render_charts(every, cache, engine))
            else:
                files = iter([{f"{chart.id}.svg": b'<svg width="1" height="1"></svg>'} for chart in every])
            published = [{name: content for chart in drawn.values() for name, content in next(files).items()} for drawn in charts]
        with clock.stage("social cards", len(reports)):
            metas = _social_cards(reports, claims, charts, published, cache, engine) if render_charts else [{} for _ in reports]
    rendered = [RenderedReport(*parts) for parts in zip(reports, claims, charts, published, metas, strict=True)]
    with clock.stage("pages"):
        out = assemble(project, rendered, datasets, descriptor, baseline)
    out.renders = cache.renders
    return out


def _check_references(report: Report, claims: dict[str, Claim], charts: dict[str, Chart]) -> None:
    """The spec's headline names one of its claims, and its social chart one of its charts."""
    if report.headline and report.headline not in claims:
        raise ReportError.at(
            report.spec_file,
            f"headline names no claim: {report.headline!r}",
            line=report.raw.key_lines.get("headline"),
            expected=", ".join(claims),
            found=report.headline,
        )
    chosen = report.social_chart
    if chosen is not None and chosen not in charts:
        raise ReportError.at(
            report.spec_file,
            f"social_chart names no chart: {chosen!r}",
            line=report.raw.key_lines.get("social_chart"),
            expected=", ".join(charts),
            found=chosen,
        )


def _social_cards(
    reports: list[Report], claims: list[dict[str, Claim]], charts: list[dict[str, Chart]], published: list[dict[str, bytes]], cache: RenderCache, engine: Engine
) -> list[dict[str, str]]:
    """Each report's link-preview card (added to its files as ``social.png``) and the page metadata that points to it."""
    cards: list[tuple[int, str]] = []
    metas: list[dict[str, str]] = [{} for _ in reports]
    for i, report in enumerate(reports):
        if not charts[i]:
            continue
        main_chart = charts[i][report.social_chart or next(iter(charts[i]))]
        subtitle = claims[i][report.headline].text if report.headline else report.summary
        cards.append((i, figures.card_svg(report.title, subtitle, published[i][f"{main_chart.id}.svg"])))
        published[i]["social.svg"] = cards[-1][1].encode()
        metas[i] = {"social_image": f"{report.slug}/social.png", "social_alt": main_chart.description}
    for (i, _), png in zip(cards, figures.social_cards([svg for _, svg in cards], cache, engine), strict=True):
        published[i]["social.png"] = png
    return metas
