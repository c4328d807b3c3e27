"""Render the Markdown pages from Jinja templates: every number from the data, every claim checked."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import jinja2
import pandas as pd
import yaml
from jinja2.exceptions import SecurityError
from markupsafe import Markup

from claimsite.charts.figures import dumps, dumps_lines
from claimsite.charts.vegalite import Chart
from claimsite.claims.changes import claims_at, compare, to_markdown
from claimsite.claims.check import Claim, claims_document, count, evaluate, failure
from claimsite.claims.literals import Typed, literal, marked, typed_quantities
from claimsite.core.errors import ReportError
from claimsite.core.history import baseline_ref, describe_ref
from claimsite.core.links import link_problem
from claimsite.core.numbers import Number, finalize, inert
from claimsite.core.project import GENERATED_BY, Project
from claimsite.core.provenance import Source, ViewSource
from claimsite.core.sandbox import SANDBOX_FIX, CompiledTemplates, ProjectLoader, ReportSandbox, TemplateLimit, past_limit, sandboxed
from claimsite.core.schema import Block, json_schema, option_rows
from claimsite.core.tables import markdown_table, to_csv
from claimsite.data import descriptor
from claimsite.data.descriptor import Package
from claimsite.data.load import SHOWN_ROWS, Dataset, Field
from claimsite.spec import model as spec_model
from claimsite.spec.model import ReportSpec
from claimsite.spec.report import Report, Table

FIGURES = "figures"
SHOWN_TYPED = 8  # typed numbers a report's coverage line names
DOCUMENTED_BLOCKS: Mapping[str, type[Block]] = MappingProxyType(
    {
        "report": spec_model.ReportSpec,
        "match": spec_model.Match,
        "difference": spec_model.Difference,
        "sql": spec_model.Sql,
        **{spec_model.tag(kind, "kind"): kind for kind in spec_model.CHART_KINDS},
        **{spec_model.tag(check, "check"): check for check in spec_model.CHECKS},
        "resource": descriptor.Resource,
        "field": descriptor.FieldSpec,
        "package": descriptor.Package,
    }
)


@dataclass(frozen=True)
class RenderedReport:
    """What one report contributes to the site."""

    report: Report
    claims: dict[str, Claim]
    charts: dict[str, Chart]
    files: dict[str, bytes]
    meta: dict[str, str] = field(default_factory=dict)


DEFAULTS = Path(__file__).resolve().parent / "defaults"  # the home, data and What changed pages, unless the project has its own
SITE_PAGES = ("index.md.j2", "data.md.j2", "changes.md.j2")


def shown_template(templates: Path, name: str) -> str:
    """How a message names a page template: the project's own, or the engine's default it may override."""
    return f"templates/{name}" if (templates / name).is_file() else f"claimsite's default {name} (copy it to templates/{name} to change it)"


def environment(templates: Path, compiled: CompiledTemplates | None = None) -> jinja2.Environment:
    """The Jinja environment for pages: sandboxed, undefined values fail, data text is inert; templates compiled once
    into ``compiled`` (kept in memory), if given."""
    env = sandboxed(
        finalize=finalize,
        loader=ProjectLoader(templates, "templates", defaults=ProjectLoader(DEFAULTS, "claimsite's default templates")),
        bytecode_cache=compiled,
        readable=(Number, Source, ViewSource, Claim, Dataset, Field, Report, RenderedReport, Chart),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["count"] = count
    env.filters["url"] = safe_url
    env.filters["code"] = code
    env.filters["anchor"] = anchor
    env.filters["yaml"] = front_matter_value
    env.filters["plural"] = plural
    return env


def plural(number: object, word: str, many: str | None = None) -> str:
    """A count and its noun, agreeing: 1 chart, 3 charts (``many`` for an irregular plural)."""
    n = len(number) if isinstance(number, list | tuple | dict) else int(str(number))
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def front_matter_value(text: object) -> Markup:
    """A front matter string: quoted for YAML, HTML-escaped because the theme prints it into tags as is."""
    return Markup(json.dumps(html.escape(" ".join(str(text).split())), ensure_ascii=False))


def code(text: object) -> Markup:
    """Text from data as inline code (HTML, so that nothing in it is read as Markdown or decoded twice)."""
    return Markup(f"<code>{html.escape(' '.join(str(text).splitlines()))}</code>")


def safe_url(url: object) -> Markup:
    """A link target from data: http(s), or a relative path; anything else (``javascript:``…) is refused."""
    text = html.unescape(str(url)).strip()
    problem = link_problem(str(url))
    if problem:
        raise ReportError.at("data/datapackage.yaml", problem, expected="https://…", found=text, fix="correct the link")
    return Markup(quote(text, safe="/:#?=&%~+@!$,;-._"))


def anchor(text: object) -> Markup:
    """A fragment id from a name: lowercase letters, digits and hyphens."""
    return Markup(re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "section")


# Characters that Markdown reads as syntax, written as entities where data text lands in a chart (labels and
# descriptions): the browser shows them the same, and no later reading of the page can take them for links or emphasis.
_MARKDOWN_SYNTAX = MappingProxyType(str.maketrans({c: f"&#{ord(c)};" for c in "[]*_`{}|~\\"}))


def _inert_svg_text(svg: str) -> str:
    svg = re.sub(r'(aria-label=")([^"]*)(")', lambda m: m.group(1) + m.group(2).translate(_MARKDOWN_SYNTAX) + m.group(3), svg)
    return re.sub(r">([^<]+)<", lambda m: ">" + m.group(1).translate(_MARKDOWN_SYNTAX) + "<", svg)


def inline_svg(svg: bytes, css_class: str, label: str) -> str:
    """A drawn chart to put in the page as it is: one line, classed, named for screen readers (its marks describe themselves).

    Its shape is declared (aspect-ratio), so that the page can leave a chart out of view unrendered (content-visibility
    in report.css) and still give it its exact place.
    """
    text = svg.decode()
    opening = text[: text.index(">") + 1]
    size = re.search(r' width="([\d.]+)" height="([\d.]+)"', opening) or re.search(r' viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', opening)
    if size is None:
        raise ValueError(f"a drawing with no size: {opening[:200]}")
    shape = f' style="aspect-ratio: {size[1]} / {size[2]}"'
    named = opening.replace("<svg ", f'<svg role="group" aria-label="{html.escape(label, quote=True)}" focusable="false"{shape} ', 1)
    named = named.replace('class="marks"', f'class="marks {css_class}"', 1)
    return _inert_svg_text(named + text[len(opening) :].replace("\n", " "))


# Where a chart's drawing goes in a page: Markdown and the search index skip it (an inline SVG is most of a report's
# HTML); the drawing is put in place of the mark in the page's HTML (Generated.drawn).
DRAWING_MARK = re.compile(r"<!--drawing:([0-9a-f]{24})-->")


def figure_block(chart: Chart, files: dict[str, bytes], drawings: dict[str, str], caption: str = "") -> Markup:
    """A figure: the chart drawn in the page (at a desktop's width and a phone's), its downloads and its data.

    The drawing itself goes into ``drawings``, under the key of its mark in the page.
    """
    base = f"{FIGURES}/{chart.id}"
    caption_text = caption or inert(chart.caption)
    downloads = " · ".join(f"[{label}]({base}{suffix})" for label, suffix in (("PNG", ".png"), ("SVG", ".svg"), ("Vega-Lite", ".vl.json"), ("CSV", ".csv")))
    rows = chart.data.drop(columns=["source"])
    table = markdown_table(rows.head(SHOWN_ROWS), chart.titles, chart.formats)
    if len(rows) > SHOWN_ROWS:
        table += f"\n\nThe first {SHOWN_ROWS} of {len(rows):,} rows; the [CSV]({base}.csv) has them all."
    narrow = files.get(f"{chart.id}.narrow.svg")
    drawn = inline_svg(files[f"{chart.id}.svg"], "chart-wide" if narrow else "chart-only", chart.description)
    if narrow:
        drawn += inline_svg(narrow, "chart-narrow", chart.description)
    key = hashlib.sha256(drawn.encode()).hexdigest()[:24]
    drawings[key] = drawn
    # A chart that zooms names its Vega specs; the page's script loads the runtime only when a reader clicks Zoom.
    vega = f' data-vega="{base}.vg.json"' + (f' data-vega-narrow="{base}.narrow.vg.json"' if narrow else "") if chart.zoom else ""
    zoom = (
        ' <button class="fig-share fig-zoom" type="button" aria-pressed="false" title="Zoom and pan this chart: drag it, or scroll over it">Zoom</button>'
        if chart.zoom
        else ""
    )
    return Markup(
        f'<figure class="report-figure" id="fig-{chart.id}" markdown="1">\n'
        f'<div class="report-chart"{vega} markdown="0"><!--drawing:{key}--></div>\n'
        '<figcaption markdown="1">\n'
        f'<a class="fig-anchor" href="#fig-{chart.id}" title="Link to this figure">{inert(chart.title)}</a>{". " + caption_text if caption_text else ""}\n'
        f'<span class="fig-downloads">Download: {downloads}'
        f' <button class="fig-share" type="button" data-image="{base}.png" data-caption="{inert(chart.title)}"'
        f' title="Copy a Markdown snippet of this figure for a discussion">Share</button>{zoom}</span>\n'
        "</figcaption>\n"
        "</figure>\n\n"
        f'<details class="report-data" markdown="1">\n<summary>Data behind this chart</summary>\n\n{table}\n\n</details>\n'
    )


def claim_span(claim: Claim) -> Markup:
    """A claim in running text, with its permanent anchor and a link to it."""
    return Markup(
        f'<span class="claim claim--{claim.kind}" id="{claim.anchor}" data-claim="{inert(claim.id)}">{claim.html}'
        f'<a class="claim-link" href="#{claim.anchor}" title="Link to this sentence" aria-label="Link to this sentence"></a></span>'
    )


def restate_ref(claim: Claim) -> Markup:
    """A claim referred back to on its own page: its short form, a link to the full sentence."""
    return Markup(
        f'<a class="claim-ref claim-ref--{claim.kind}" href="#{claim.anchor}" data-claim="{inert(claim.id)}" '
        f'title="The full sentence, checked against the data">{claim.short_html}</a>'
    )


def restate_span(claim: Claim, page: str = "") -> Markup:
    """A claim said in full on another page (the home page's headline), linked to where it is made."""
    return Markup(
        f'<span class="claim claim--{claim.kind} claim--restated">{claim.html}'
        f'<a class="claim-link" href="{page}#{claim.anchor}" title="Where this is shown" aria-label="Where this is shown"></a></span>'
    )


class Helpers:
    """Functions a report template calls: claim(), restate(), figure(), value(), cell(), listing() …"""

    NAMES = ("claim", "restate", "figure", "value", "cell", "listing", "precision", "data_table", "source", "failing", "options", "literal")

    def __init__(self, rendered: RenderedReport, drawings: dict[str, str]) -> None:
        self.rendered = rendered
        self.drawings = drawings
        self.report = rendered.report
        self.shown = f"templates/reports/{rendered.report.template}"
        self.used: set[str] = set()
        self.cells = 0  # numbers printed from the data without a source of their own (a cell, a precision)

    def literal(self, text: object) -> str:
        """A number the author means as written (``{{ literal("95%") }}``): printed as given, counted as typed."""
        return literal(text)

    def context(self) -> dict[str, Callable[..., Any]]:
        """The helpers by the names templates call them."""
        return {name: getattr(self, name) for name in self.NAMES}

    def _lookup(self, what: str, names: Mapping[str, Any], name: str) -> Any:
        if name not in names:
            raise ReportError.at(self.shown, f"{what} {name!r} does not exist", expected=", ".join(names), found=name, fix="use one of the expected names")
        return names[name]

    def _row(self, name: str, where: dict[str, Any]) -> tuple[Table, int]:
        table = self._lookup("table", self.report.tables, name)
        rows = table.rows(where, self.shown, None)
        if len(rows) != 1:
            raise ReportError.at(self.shown, f"{name} has {len(rows)} rows where {where}", expected="exactly one row", found=f"{len(rows)} rows")
        return table, rows[0]

    def claim(self, claim_id: str) -> Markup:
        """The claim's sentence with its anchor and link; each claim must appear once."""
        found = self._lookup("claim", self.rendered.claims, claim_id)
        if claim_id in self.used:
            raise ReportError.at(self.shown, f"claim({claim_id!r}) is placed twice", fix="place it once; say it again elsewhere with restate()")
        self.used.add(claim_id)
        return claim_span(found)

    def restate(self, claim_id: str) -> Markup:
        """The claim said again in its short form, linked to its full sentence (which appears once on the page)."""
        claim = self._lookup("claim", self.rendered.claims, claim_id)
        if not claim.short_html:
            raise ReportError.at(
                self.report.spec_file,
                f"restate({claim_id!r}) needs the claim said in a few words",
                line=claim.line,
                expected="short: on the claim, e.g. short: Accuracy rises by {{ change }}.",
                found="no short:",
                fix=f"add short: to claim {claim_id!r}; the page says each full sentence once and refers back to it",
            )
        return restate_ref(claim)

    def figure(self, chart_id: str, caption: str = "") -> Markup:
        """The chart with its caption, downloads and data table."""
        return figure_block(self._lookup("chart", self.rendered.charts, chart_id), self.rendered.files, self.drawings, caption)

    def value(self, name: str, column: str | None = None, **where: Any) -> Number:
        """One value of a table, with its unit and source."""
        table, row = self._row(name, where)
        return table.number(row, column, self.shown, None)

    def cell(self, name: str, column: str, **where: Any) -> Any:
        """One cell of a table as the page prints it (a date readably, a whole number whole); a measured number carries its source."""
        table, row = self._row(name, where)
        cell = table.frame.iloc[row][table.column(column, self.shown, None)]
        if isinstance(cell, float) and not cell.is_integer() and not pd.isna(cell):
            return table.number(row, column, self.shown, None)
        if pd.api.types.is_numeric_dtype(table.frame[column]):
            self.cells += 1
        return table.cell(row, column)

    def listing(self, name: str, column: str, sort_by: str | None = None) -> str:
        """The distinct values of a column, joined by commas."""
        table = self._lookup("table", self.report.tables, name)
        name = table.column(column, self.shown, None)
        frame = table.frame.reset_index(drop=True)
        positions = list(frame.sort_values(table.column(sort_by, self.shown, None), kind="stable").index) if sort_by else list(frame.index)
        return ", ".join(dict.fromkeys(table.text(position, name) for position in positions))

    def precision(self, name: str) -> str:
        """How far a table's readings may be off, e.g. '±0.3 points'."""
        sources = self._lookup("table", self.report.tables, name).sources
        first = sources[0][0] if sources and sources[0] else None
        self.cells += isinstance(first, Source)
        return f"±{first.precision:g} points" if isinstance(first, Source) else ""

    def data_table(self, name: str) -> Markup:
        """A table as Markdown."""
        table = self._lookup("table", self.report.tables, name)
        return Markup(markdown_table(table.frame, table.titles, table.formats))

    def source(self, kind: str, item_id: str) -> Markup:
        """The YAML of a claim, chart, view or error example of the spec as written, as a code block (for guides)."""
        if kind == "view":
            views = self.report.raw.get("views") or {}
            entry = self._lookup("view", dict(views), item_id)
            text = yaml.safe_dump({"views": {item_id: json.loads(json.dumps(entry))}}, sort_keys=False, allow_unicode=True, width=100)
            return Markup("```yaml\n" + text.replace("```", "` ` `") + "```")
        kinds = {"claim": "claims", "chart": "charts", "error_example": "error_examples"}
        written = self.report.raw.get(kinds.get(kind, ""), ())
        entry = self._lookup(kind.replace("_", " "), {str(i.get("id")): i for i in written if isinstance(i, dict)}, item_id)
        text = yaml.safe_dump([json.loads(json.dumps(entry))], sort_keys=False, allow_unicode=True, width=100)
        return Markup("```yaml\n" + text.replace("```", "` ` `") + "```")

    def options(self, block: str) -> Markup:
        """The keys a block of a spec or of the descriptor takes, as a table generated from their declaration (for guides)."""
        model = self._lookup("block", DOCUMENTED_BLOCKS, block)
        lines = ["| Key | Takes | Default | What it does |", "| --- | --- | --- | --- |"]
        for key, takes, default, doc in option_rows(model):
            lines.append(f"| {code(key)} | {inert(takes)} | {inert(default)} | {inert(doc)} |")
        return Markup("\n".join(lines))

    def failing(self, claim_id: str) -> Markup:
        """The error an assertion of the spec's ``error_examples`` gives, as the build prints it (for guides)."""
        examples = {example.id: example for example in self.report.error_examples}
        claim = evaluate(self.report, self._lookup("error example", examples, claim_id))
        if claim.holds:
            raise ReportError.at(self.report.spec_file, f"the error example {claim_id!r} holds", expected="an assertion the data rejects", found="it holds")
        return Markup("```text\n" + str(ReportError([failure(self.report, claim)])) + "\n```")


def render_report_page(env: jinja2.Environment, rendered: RenderedReport, drawings: dict[str, str]) -> str:
    """The report's Markdown page, its charts' drawings put in ``drawings``; every claim of the spec must appear on it."""
    report = rendered.report
    helpers = Helpers(rendered, drawings)
    headline = rendered.claims[report.headline].text if report.headline else report.summary
    text = render_template(env, f"reports/{report.template}", {"report": report, "cite": report.cite, "headline": headline, **helpers.context()})
    missing = [c for c in rendered.claims if c not in helpers.used]
    if missing:
        raise ReportError.at(
            f"templates/reports/{report.template}",
            "claims declared in the spec do not appear on the page",
            expected="{{ claim('<id>') }} for each claim",
            found="missing: " + ", ".join(missing),
            fix=f"place them in the template, or remove them from {report.spec_file}",
        )
    used = [rendered.claims[c] for c in helpers.used if c in rendered.claims]
    return text + coverage(text, template_source(env, f"reports/{report.template}"), used, helpers.cells)


def template_source(env: jinja2.Environment, name: str) -> str:
    """A page template's text, as written."""
    assert env.loader is not None
    return env.loader.get_source(env, name)[0]


def coverage(page: str, source: str, claims: list[Claim], cells: int = 0) -> str:
    """The line that ends a report's page: how many of the numbers in its prose come from the data, and which are typed."""
    bound = page.count('<span class="num') + cells
    typed = typed_quantities(source)
    meant = marked(source) + sum(marked(c.written) for c in claims)
    total = bound + len(typed) + meant
    if not total:
        return ""
    parts = [f"{bound:,} are read from the data (each shows its source when pointed at or focused)"]
    if meant:
        parts.append(f"{meant:,} {'is' if meant == 1 else 'are'} written as meant (such as a confidence level)")
    if typed:
        shown = ", ".join(inert(t.number) for t in typed[:SHOWN_TYPED]) + (" …" if len(typed) > SHOWN_TYPED else "")
        parts.append(f"{len(typed):,} {'is' if len(typed) == 1 else 'are'} typed in its text ({shown})")
    said = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return f'\n\n<p class="report-coverage" markdown="0">Of the {total:,} numbers in this report&#39;s prose, {said}.</p>\n'


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """A template rendered, with located errors for syntax mistakes and undefined values."""
    shown = f"templates/{name}"
    try:
        with env.bounded() if isinstance(env, ReportSandbox) else contextlib.nullcontext():
            return env.get_template(name).render(context)
    except (TemplateLimit, RecursionError, OverflowError, MemoryError) as error:
        file, line = _template_place(error, env, shown)
        reason, fix = past_limit(error, "loop over the report's values rather than over large ranges, and build no text piece by piece")
        raise ReportError.at(file, f"the template went past a limit: {reason}", line=line, fix=fix) from None
    except jinja2.TemplateSyntaxError as error:
        where = f"templates/{error.name}" if error.name else shown
        raise ReportError.at(where, f"template syntax error: {error.message}", line=error.lineno, fix="correct the Jinja syntax on that line") from None
    except SecurityError as error:
        file, line = _template_place(error, env, shown)
        raise ReportError.at(file, f"the template reaches for something a report may not use: {error}", line=line, fix=SANDBOX_FIX) from None
    except jinja2.UndefinedError as error:
        file, line = _template_place(error, env, shown)
        raise ReportError.at(
            file, f"the template uses a value that does not exist: {error.message}", line=line, fix="check the name, or define it in the report spec"
        ) from None
    except jinja2.TemplateNotFound as error:
        file, line = _template_place(error, env, shown)
        if error.name == name:
            raise ReportError.at(shown, "template not found", fix="create it, or correct the name") from None
        raise ReportError.at(
            file,
            f"the template includes {error.name!r}, which cannot be read: {error.message or 'no such template'}",
            line=line,
            fix="create it, or correct the name",
        ) from None


def _template_place(error: BaseException, env: jinja2.Environment, shown: str) -> tuple[str, int | None]:
    """The template file and line an error was raised from (Jinja gives template frames their file and line), as messages show it."""
    place: tuple[str, int | None] = (shown, None)
    loader = env.loader if isinstance(env.loader, ProjectLoader) else None
    traceback = error.__traceback__
    while traceback is not None and loader is not None:
        shown_here = loader.place(traceback.tb_frame.f_code.co_filename)
        if shown_here is not None:
            place = (shown_here, traceback.tb_lineno)
        traceback = traceback.tb_next
    return place


def render_data_page(env: jinja2.Environment, datasets: dict[str, Dataset], descriptor: dict[str, Any]) -> str:
    """The page documenting each dataset: its source, fields, values and a CSV download."""

    def fields_table(dataset: Dataset) -> Markup:
        lines = ["| Column | Type | Unit | Description |", "| --- | --- | --- | --- |"]
        for f in dataset.fields:
            lines.append(f"| {code(f.name)} | {f.type} | {inert(f.unit or '')} | {inert(f.description)} |")
        return Markup("\n".join(lines))

    def values_table(dataset: Dataset) -> Markup:
        return Markup(markdown_table(dataset.shown, {f.name: f.title for f in dataset.fields}, {f.name: f.fmt for f in dataset.fields if f.fmt}))

    def summary_table(dataset: Dataset) -> Markup:
        lines = ["| Column | Type | Smallest | Largest | Distinct values (about) | Missing |", "| --- | --- | ---: | ---: | ---: | ---: |"]
        for row in dataset.summary:
            cells = [code(row.get("column_name", "")), dataset.field(str(row.get("column_name", ""))).type]
            cells += [inert(str(row.get(key, "") if row.get(key) is not None else "")) for key in ("min", "max")]
            cells += [f"{int(row.get('approx_unique') or 0):,}", f"{float(row.get('null_percentage') or 0):g}%"]
            lines.append("| " + " | ".join(cells) + " |")
        return Markup("\n".join(lines))

    context = {"datasets": datasets, "package": descriptor, "fields_table": fields_table, "values_table": values_table, "summary_table": summary_table}
    return render_template(env, "data.md.j2", context)


@dataclass
class Generated:
    """The generated part of the site: Markdown pages and other files by path under the docs folder."""

    pages: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    copies: dict[str, Path] = field(default_factory=dict)  # files published as they are (a large dataset's file)
    nav: list[dict[str, str]] = field(default_factory=list)
    reports: list[RenderedReport] = field(default_factory=list)
    renders: int = 0
    drawings: dict[str, str] = field(default_factory=dict)  # each chart's inline drawing, by the key of its mark in a page
    typed: dict[str, list[Typed]] = field(default_factory=dict)  # the numbers each page template types by hand, by its path

    def drawn(self, page: str) -> str:
        """A page (its HTML, or its Markdown) with each chart's drawing in place of its mark."""
        return DRAWING_MARK.sub(lambda found: self.drawings.get(found.group(1), found.group(0)), page)


def assemble(project: Project, reports: list[RenderedReport], datasets: dict[str, Dataset], descriptor: dict[str, Any], baseline: str | None) -> Generated:
    """The site's pages and files from its rendered reports: each page with its header, the data, claims.json, schemas and nav."""
    env = environment(project.templates)
    out = Generated(reports=reports)
    for rendered in reports:
        report = rendered.report
        out.pages[f"{report.slug}/index.md"] = _with_header(
            render_report_page(env, rendered, out.drawings), f"templates/reports/{report.template}", rendered.meta
        )
        cards = ("social.png", "social.svg")
        out.files.update({f"{report.slug}/{FIGURES}/{name}": content for name, content in rendered.files.items() if name not in cards})
        out.files.update({f"{report.slug}/{name}": rendered.files[name] for name in cards if name in rendered.files})
        if "social.png" in rendered.files:
            out.files.setdefault("social.png", rendered.files["social.png"])
    for name in [f"reports/{r.report.template}" for r in reports]:
        with contextlib.suppress(jinja2.TemplateNotFound):
            out.typed[f"templates/{name}"] = typed_quantities(template_source(env, name))
    for name in SITE_PAGES:
        if (project.templates / name).is_file():
            out.typed[f"templates/{name}"] = typed_quantities(template_source(env, name))
    listed = [r for r in reports if r.report.listed]
    home = render_template(
        env, "index.md.j2", {"reports": listed, "restate": functools.partial(_restate_on_home, shown_template(project.templates, "index.md.j2"))}
    )
    out.pages["index.md"] = _with_header(home, shown_template(project.templates, "index.md.j2"))
    data_page = render_data_page(env, _published_datasets(datasets, reports), descriptor)
    out.pages["data.md"] = _with_header(data_page, shown_template(project.templates, "data.md.j2"))
    for dataset in datasets.values():
        if dataset.large and dataset.file is not None:
            out.copies[f"data/{Path(dataset.path).name}"] = dataset.file
        else:
            out.files[f"data/{Path(dataset.path).name}"] = to_csv(dataset.frame).encode()
    out.files.update(_schema_files())
    document = claims_document([(r.report, r.claims) for r in reports])
    out.files["claims.json"] = dumps_lines(document, "claims").encode()
    out.pages["changes.md"] = _with_header(_changes_page(env, project, document, baseline), shown_template(project.templates, "changes.md.j2"))
    # Nav titles are printed as they are by the theme: escaped here, once.
    listed_nav = [{html.escape(r.report.nav_title): f"{r.report.slug}/index.md"} for r in reports if r.report.listed]
    guides = [{html.escape(r.report.nav_title): f"{r.report.slug}/index.md"} for r in reports if not r.report.listed]
    out.nav = [{"Home": "index.md"}, *listed_nav, {"Data": "data.md"}, {"What changed": "changes.md"}, *guides]
    return out


@functools.cache
def _schema_files() -> dict[str, bytes]:
    """The JSON Schemas of a report spec and of the data package, for editors: made from their declarations, once per process."""
    return {
        "schema/report.schema.json": dumps(json_schema(ReportSpec, "A report spec (templates/reports/<slug>.yaml)", "claimsite/spec/model.py")).encode(),
        "schema/datapackage.schema.json": dumps(json_schema(Package, "The data package (data/datapackage.yaml)", "claimsite/data/descriptor.py")).encode(),
    }


def _published_datasets(datasets: dict[str, Dataset], reports: list[RenderedReport]) -> dict[str, Dataset]:
    """The datasets the data page documents: all but those only unlisted reports (such as the guide) read."""
    unlisted_only = {name for r in reports if not r.report.listed for name in r.report.datasets} - {
        name for r in reports if r.report.listed for name in r.report.datasets
    }
    return {name: dataset for name, dataset in datasets.items() if name not in unlisted_only}


def _restate_on_home(shown: str, rendered: RenderedReport, claim_id: str) -> Any:
    """A report's claim said again on the home page, linked to the report."""
    if claim_id not in rendered.claims:
        raise ReportError.at(shown, f"restate names no claim of {rendered.report.slug!r}", expected=", ".join(rendered.claims), found=claim_id)
    return restate_span(rendered.claims[claim_id], f"{rendered.report.slug}/")


def _changes_page(env: Any, project: Project, document: dict[str, Any], baseline: str | None) -> str:
    """The 'What changed' page: this build's claims against those of the earlier version."""
    ref = baseline_ref(project.root) if baseline == "auto" else baseline
    previous = claims_at(project.root, ref, project.claims_cache) if ref else None
    context: dict[str, Any] = {"compared": previous is not None, "changes": Markup(""), "baseline": ""}
    if previous is not None and ref is not None:
        label = describe_ref(project.root, ref)
        context.update(baseline=label, changes=Markup(to_markdown(compare(previous, document), label, "this version", heading="##", escape=inert)))
    return render_template(env, "changes.md.j2", context)


def _with_header(text: str, source: str, meta: dict[str, str] | None = None) -> str:
    """A generated page with a first line saying what generated it (inside its front matter, if any)."""
    note = f"Generated by {GENERATED_BY} from {source}" + ("; edit that file, not this page." if source.startswith("templates/") else ".")
    extra = "".join(f"{key}: {front_matter_value(value)}\n" for key, value in (meta or {}).items())
    if text.startswith("---\n"):
        return f"---\n# {note}\n{extra}{text[4:]}"
    return f"<!-- {note} -->\n{text}"
