"""The build, stage by stage: data → reports → claims → charts → pages. Returns files; writes none."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from report.changes import claims_at, compare, to_markdown
from report.charts import build_charts
from report.claims import claims_document, evaluate_all
from report.data import Dataset, find_descriptor, load_package, read_descriptor
from report.errors import ReportError
from report.figures import RenderCache, dumps, render, social_card
from report.history import baseline_ref, describe_ref
from report.package_model import Package
from report.pages import FIGURES, RenderedReport, environment, front_matter_value, render_data_page, render_report_page, render_template, restate_span
from report.project import GENERATED_BY, Project
from report.schema import json_schema
from report.spec import Report, load_report
from report.spec_model import ReportSpec
from report.tables import to_csv
from report.text import inert


@dataclass
class Generated:
    """The generated part of the site: Markdown pages and other files by path under the docs folder."""

    pages: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    copies: dict[str, Path] = field(default_factory=dict)  # files published as they are (a large dataset's file)
    nav: list[dict[str, str]] = field(default_factory=list)
    reports: list[RenderedReport] = field(default_factory=list)
    renders: int = 0


def check(project: Project) -> list[RenderedReport]:
    """Validate data, specs, claims and templates; render in memory, write nothing."""
    return generate(project, cache=RenderCache(None), render_charts=False, baseline=None).reports


def generate(project: Project, cache: RenderCache | None = None, render_charts: bool = True, baseline: str | None = "auto") -> Generated:
    """Every generated page and file of the site; ``baseline`` is the git version 'What changed' compares with (None: none)."""
    cache = cache if cache is not None else RenderCache(project.cache)
    root = project.root.resolve()
    datasets = load_package(project.data, root)
    descriptor = read_descriptor(find_descriptor(project.data))
    env = environment(project.templates)
    out = Generated()
    for spec_path in project.report_specs():
        report = load_report(spec_path.resolve(), datasets, root)
        if any(r.report.slug == report.slug for r in out.reports):
            raise ReportError.at(report.spec_file, f"the slug {report.slug!r} is already taken", found=report.slug, fix="choose another slug")
        rendered = _report(report, env, cache, render_charts)
        out.reports.append(rendered)
        out.pages[f"{report.slug}/index.md"] = _with_header(render_report_page(env, rendered), f"templates/reports/{report.template}", rendered.meta)
        out.files.update({f"{report.slug}/{FIGURES}/{name}": content for name, content in rendered.files.items() if name != "social.png"})
        if "social.png" in rendered.files:
            out.files[f"{report.slug}/social.png"] = rendered.files["social.png"]
            out.files.setdefault("social.png", rendered.files["social.png"])
    out.renders = cache.renders
    listed = [r for r in out.reports if r.report.listed]
    home = render_template(env, "index.md.j2", {"reports": listed, "restate": _restate_on_home})
    out.pages["index.md"] = _with_header(home, "templates/index.md.j2")
    out.pages["data.md"] = _with_header(render_data_page(env, _published_datasets(datasets, out.reports), descriptor), "templates/data.md.j2")
    for dataset in datasets.values():
        if dataset.large and dataset.file is not None:
            out.copies[f"data/{Path(dataset.path).name}"] = dataset.file
        else:
            out.files[f"data/{Path(dataset.path).name}"] = to_csv(dataset.frame).encode()
    out.files["schema/report.schema.json"] = dumps(json_schema(ReportSpec, "A report spec (templates/reports/<slug>.yaml)", "report/spec_model.py")).encode()
    out.files["schema/datapackage.schema.json"] = dumps(json_schema(Package, "The data package (data/datapackage.yaml)", "report/package_model.py")).encode()
    document = claims_document([(r.report, r.claims) for r in out.reports])
    out.files["claims.json"] = dumps(document).encode()
    out.pages["changes.md"] = _with_header(_changes_page(env, project, document, baseline), "templates/changes.md.j2")
    # Nav titles are printed as they are by the theme: escaped here, once.
    reports = [{html.escape(r.report.nav_title): f"{r.report.slug}/index.md"} for r in out.reports if r.report.listed]
    guides = [{html.escape(r.report.nav_title): f"{r.report.slug}/index.md"} for r in out.reports if not r.report.listed]
    out.nav = [{"Home": "index.md"}, *reports, {"Data": "data.md"}, {"What changed": "changes.md"}, *guides]
    return out


def _report(report: Report, env: Any, cache: RenderCache, render_charts: bool) -> RenderedReport:
    """One report's claims, charts and their files (and its link-preview card, as ``social.png``)."""
    claims = evaluate_all(report)
    charts = build_charts(report)
    if report.headline and report.headline not in claims:
        raise ReportError.at(
            report.spec_file,
            f"headline names no claim: {report.headline!r}",
            line=report.raw.key_lines.get("headline"),
            expected=", ".join(claims),
            found=report.headline,
        )
    files: dict[str, bytes] = {}
    for chart in charts.values():
        files.update(render(chart, cache) if render_charts else {f"{chart.id}.svg": b'<svg width="1" height="1"></svg>'})
    meta: dict[str, str] = {}
    chosen = report.social_chart
    if chosen is not None and chosen not in charts:
        raise ReportError.at(
            report.spec_file,
            f"social_chart names no chart: {chosen!r}",
            line=report.raw.key_lines.get("social_chart"),
            expected=", ".join(charts),
            found=chosen,
        )
    if charts and render_charts:
        main_chart = charts[chosen or next(iter(charts))]
        subtitle = claims[report.headline].text if report.headline else report.summary
        files["social.png"] = social_card(report.title, subtitle, files[f"{main_chart.id}.svg"], cache)
        meta = {"social_image": f"{report.slug}/social.png", "social_alt": main_chart.description}
    return RenderedReport(report, claims, charts, files, meta)


def _published_datasets(datasets: dict[str, Dataset], reports: list[RenderedReport]) -> dict[str, Dataset]:
    """The datasets the data page documents: all but those only unlisted reports (such as the guide) read."""
    unlisted_only = {name for r in reports if not r.report.listed for name in r.report.datasets} - {
        name for r in reports if r.report.listed for name in r.report.datasets
    }
    return {name: dataset for name, dataset in datasets.items() if name not in unlisted_only}


def _restate_on_home(rendered: RenderedReport, claim_id: str) -> Any:
    """A report's claim said again on the home page, linked to the report."""
    if claim_id not in rendered.claims:
        raise ReportError.at(
            "templates/index.md.j2", f"restate names no claim of {rendered.report.slug!r}", expected=", ".join(rendered.claims), found=claim_id
        )
    return restate_span(rendered.claims[claim_id], f"{rendered.report.slug}/")


def _changes_page(env: Any, project: Project, document: dict[str, Any], baseline: str | None) -> str:
    """The 'What changed' page: this build's claims against those of the earlier version."""
    from markupsafe import Markup

    ref = baseline_ref(project.root) if baseline == "auto" else baseline
    previous = claims_at(project.root, ref, project.claims_cache) if ref else None
    context: dict[str, Any] = {"compared": previous is not None, "changes": Markup(""), "baseline": ""}
    if previous is not None and ref is not None:
        label = describe_ref(project.root, ref)
        context.update(baseline=label, changes=Markup(to_markdown(compare(previous, document), label, "this version", heading="##", escape=inert)))
    return render_template(env, "changes.md.j2", context)


def _with_header(text: str, source: str, meta: dict[str, str] | None = None) -> str:
    """A generated page with a first line saying what generated it (inside its front matter, if any)."""
    note = f"Generated by {GENERATED_BY} from {source}; edit that file, not this page."
    extra = "".join(f"{key}: {front_matter_value(value)}\n" for key, value in (meta or {}).items())
    if text.startswith("---\n"):
        return f"---\n# {note}\n{extra}{text[4:]}"
    return f"<!-- {note} -->\n{text}"
