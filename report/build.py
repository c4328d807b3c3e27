"""The build, stage by stage: data → reports → claims → charts → pages. Returns files; writes none."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from report.charts import build_charts
from report.claims import Claim, evaluate_all
from report.data import find_descriptor, load_package, read_descriptor
from report.errors import ReportError
from report.figures import RenderCache, dumps, render, social_card
from report.pages import FIGURES, RenderedReport, environment, front_matter_value, render_data_page, render_report_page, render_template, restate_span
from report.spec import Report, load_report
from report.tables import to_csv
from report.text import inert

GENERATED_BY = "build_report.py"


@dataclass
class Generated:
    """The generated part of the site: Markdown pages and other files by path under the docs folder."""

    pages: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    nav: list[dict[str, str]] = field(default_factory=list)
    reports: list[RenderedReport] = field(default_factory=list)
    renders: int = 0


@dataclass(frozen=True)
class Project:
    """Where a project keeps its parts, relative to its root folder."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def cache(self) -> Path:
        return self.root / ".cache" / "charts"

    def report_specs(self) -> list[Path]:
        """Every report spec, in a stable order."""
        return sorted((self.templates / "reports").glob("*.yaml"))


def current_claims(project: Project) -> dict[str, Any]:
    """The claims document of a project's data and specs, failing assertions included; renders nothing."""
    root = project.root.resolve()
    datasets = load_package(project.data, root)
    reports = [load_report(path.resolve(), datasets, root) for path in project.report_specs()]
    return claims_document([(report, evaluate_all(report, strict=False)) for report in reports])


def check(project: Project) -> list[RenderedReport]:
    """Validate data, specs, claims and templates; render in memory, write nothing."""
    return generate(project, cache=RenderCache(None), render_charts=False).reports


def generate(project: Project, cache: RenderCache | None = None, render_charts: bool = True, baseline: str | None = "auto") -> Generated:
    """Every generated page and file of the site; ``baseline`` is the git version 'What changed' compares with."""
    cache = cache if cache is not None else RenderCache(project.cache)
    root = project.root.resolve()
    datasets = load_package(project.data, root)
    descriptor = read_descriptor(find_descriptor(project.data))
    env = environment(project.templates)
    out = Generated()
    specs = project.report_specs()
    if not specs:
        raise ReportError.at(
            "templates/reports", "no report spec found", expected="templates/reports/<slug>.yaml", found="none", fix="add a report (see the author's guide)"
        )
    slugs: set[str] = set()
    for spec_path in specs:
        report = load_report(spec_path.resolve(), datasets, root)
        if report.slug in slugs or report.slug in {"data", "assets", "claims", "search"}:
            raise ReportError.at(report.spec_file, f"the slug {report.slug!r} is already taken", found=report.slug, fix="choose another slug")
        slugs.add(report.slug)
        claims = evaluate_all(report)
        charts = build_charts(report)
        files: dict[str, bytes] = {}
        for chart in charts.values():
            if render_charts:
                files.update(render(chart, cache))
            else:
                files[f"{chart.id}.svg"] = b'<svg width="1" height="1"></svg>'
        rendered = RenderedReport(report, claims, charts, files)
        page = render_report_page(env, rendered)
        main_chart = charts[report.raw.get("social_chart") or next(iter(charts))] if charts else None
        meta = {}
        if main_chart is not None and render_charts:
            subtitle = claims[report.headline].text if report.headline else report.summary
            card = social_card(report.title, subtitle, files[f"{main_chart.id}.svg"], cache)
            out.files[f"{report.slug}/social.png"] = card
            out.files.setdefault("social.png", card)
            meta = {"social_image": f"{report.slug}/social.png", "social_alt": main_chart.description}
        out.pages[f"{report.slug}/index.md"] = _with_header(page, f"templates/reports/{report.template}", meta)
        out.files.update({f"{report.slug}/{FIGURES}/{name}": content for name, content in files.items()})
        if report.listed:
            out.nav.append({report.nav_title: f"{report.slug}/index.md"})
        out.reports.append(rendered)
    out.renders = cache.renders
    listed = [r for r in out.reports if r.report.listed]
    home = render_template(env, "index.md.j2", {"reports": listed, "restate": lambda r, claim_id: restate_span(r.claims[claim_id], f"{r.report.slug}/")})
    out.pages["index.md"] = _with_header(home, "templates/index.md.j2")
    out.pages["data.md"] = _with_header(render_data_page(env, datasets, descriptor), "templates/data.md.j2")
    for dataset in datasets.values():
        out.files[f"data/{Path(dataset.path).name}"] = to_csv(dataset.frame).encode()
    document = claims_document([(r.report, r.claims) for r in out.reports])
    out.files["claims.json"] = dumps(document).encode()
    out.pages["changes.md"] = _with_header(_changes_page(env, project, document, baseline), "templates/changes.md.j2")
    guides = [{r.report.nav_title: f"{r.report.slug}/index.md"} for r in out.reports if not r.report.listed]
    out.nav = [{"Home": "index.md"}, *out.nav, {"Data": "data.md"}, {"What changed": "changes.md"}, *guides]
    return out


def _changes_page(env: Any, project: Project, document: dict[str, Any], baseline: str | None) -> str:
    """The 'What changed' page: this build's claims against those of the earlier version."""
    from markupsafe import Markup

    from report.changes import baseline_ref, claims_at, compare, describe_ref, to_markdown

    ref = baseline_ref(project.root) if baseline == "auto" else baseline
    previous = claims_at(project.root, ref, project.root / ".cache" / "claims") if ref else None
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


def claims_document(reports: list[tuple[Report, dict[str, Claim]]]) -> dict[str, Any]:
    """Every claim of the site, for machines: what it says, whether it holds, and what it read."""
    claims = []
    for report, report_claims in reports:
        for claim in report_claims.values():
            claims.append(
                {
                    "id": claim.id,
                    "report": report.slug,
                    "kind": claim.kind,
                    "check": claim.check,
                    "sentence": claim.text,
                    "status": ("holds" if claim.holds else "fails") if claim.kind == "assertion" else "observed",
                    "holds": claim.holds,
                    "page": f"{report.slug}/",
                    "anchor": claim.anchor,
                    "values": {name: number.to_dict() for name, number in claim.numbers().items()},
                }
            )
    return {"generated_by": GENERATED_BY, "claims": claims}


def load_json(path: Path) -> Any:
    """A JSON file, with a located error when it does not parse."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ReportError.at(path, f"not valid JSON: {error.msg}", line=error.lineno, column=error.colno) from None
