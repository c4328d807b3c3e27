"""Charts declared in a report spec, built with Altair as Vega-Lite specs, with a text description each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd

from report import spec_model
from report.errors import ReportError
from report.spec import Report, Table
from report.text import amount as amount_text

WIDTH, HEIGHT = 360, 280
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
MAX_ROWS = 5000


@dataclass(frozen=True)
class Chart:
    """A chart ready to render: its Vega-Lite spec, the rows behind it and what it shows in words."""

    id: str
    title: str
    caption: str
    titles: dict[str, str]
    spec: dict[str, Any]
    data: pd.DataFrame
    description: str
    spec_file: str = ""


def field_ref(name: str) -> str:
    """A column name as a Vega-Lite field: dots, brackets, quotes and backslashes escaped so they are not paths."""
    return "".join("\\" + char if char in "\\.[]\"'" else char for char in name)


def _config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure(font=FONT, background="white")
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=12, titleFontSize=13, gridColor="#e4e4e4", labelColor="#222", titleColor="#222")
        .configure_legend(labelFontSize=12, titleFontSize=12, orient="bottom", columns=2, labelLimit=260, labelColor="#222", titleColor="#222")
        .configure_title(fontSize=14, fontStyle="italic", fontWeight="normal", anchor="start", color="#222")
    )


def _series_scales(series: spec_model.Series, data: pd.DataFrame) -> tuple[alt.Scale, alt.Scale, list[str]]:
    order = [str(v) for v in series.order or pd.unique(data[series.field].astype(str))]
    colors = list(series.colors or [])
    shapes = list(series.shapes or [])
    color = alt.Scale(domain=order, range=colors[: len(order)]) if colors else alt.Scale(domain=order)
    shape = alt.Scale(domain=order, range=shapes[: len(order)]) if shapes else alt.Scale(domain=order)
    return color, shape, order


def _x_sort(table: Table, x: spec_model.CategoryAxis) -> list[str] | None:
    ordered = table.frame.sort_values(x.sort_by)[x.field] if x.sort_by else table.frame[x.field].sort_values()
    return [str(v) for v in pd.unique(ordered)] if x.type == "ordinal" else None


def _tooltip(table: Table, fields: list[str]) -> list[alt.Tooltip]:
    """Tooltip rows: the columns' titles, numbers formatted as on the page (one decimal, thousands separated)."""
    tips = []
    for name in dict.fromkeys(f for f in fields if f in table.frame.columns):
        column = table.frame[name]
        title = table.titles.get(name, name.replace("_", " "))
        if pd.api.types.is_float_dtype(column):
            tips.append(alt.Tooltip(field=field_ref(name), type="quantitative", title=title, format=",.1f"))
        elif pd.api.types.is_integer_dtype(column):
            tips.append(alt.Tooltip(field=field_ref(name), type="quantitative", title=title, format=",d"))
        else:
            tips.append(alt.Tooltip(field=field_ref(name), type="nominal", title=title))
    return [*tips, alt.Tooltip(field="source", type="nominal", title="Source")]


def _domain(axis: spec_model.ValueAxis | spec_model.TitleAxis) -> Any:
    return list(axis.domain) if axis.domain is not None else alt.Undefined


def _title(axis: spec_model.Axis | spec_model.TitleAxis) -> Any:
    return axis.title if axis.title is not None else alt.Undefined


def points(report: Report, spec: spec_model.Points, table: Table) -> alt.TopLevelMixin:
    """Points by a categorical x, coloured and shaped by series, with optional lines, reference and labels."""
    x, y, series = spec.x, spec.y, spec.series
    data = _chart_data(table, [x.field, y.field, series.field, *([spec.labels] if spec.labels else [])])
    color, shape, order = _series_scales(series, data)
    sort = _x_sort(table, x)
    x_label = alt.Axis(labelAngle=0, labelExpr=_format_expr(x.format), titlePadding=8)
    x_enc = alt.X(field=field_ref(x.field), type=x.type, sort=sort, title=_title(x), axis=x_label, scale=alt.Scale(paddingOuter=0.4))
    y_enc = alt.Y(field=field_ref(y.field), type="quantitative", title=_title(y), scale=alt.Scale(domain=_domain(y), zero=False, nice=False))
    legend = alt.Legend(title=None, symbolSize=110, values=order)
    base = alt.Chart(data)
    layers = []
    if spec.reference is not None:
        rows = table.rows(spec.reference.where, report.spec_file, spec.reference.spec_line)
        if len(rows) != 1:
            raise ReportError.at(
                report.spec_file, f"chart {spec.id!r}: the reference must select one row", line=spec.reference.spec_line, found=f"{len(rows)} rows"
            )
        level = float(table.frame.iloc[rows[0]][y.field])
        layers.append(alt.Chart(pd.DataFrame({"level": [level]})).mark_rule(color="#9a9a9a", strokeDash=[4, 3], strokeWidth=1).encode(y=alt.Y("level:Q")))
    for name in spec.line:
        colors = series.colors or ["#1f5a96"]
        stroke = colors[order.index(str(name)) % len(colors)]
        layers.append(
            base.transform_filter(alt.FieldEqualPredicate(field=field_ref(series.field), equal=str(name)))
            .mark_line(color=stroke, strokeWidth=1.6, opacity=0.85)
            .encode(x=x_enc, y=y_enc)
        )
    tooltip = _tooltip(table, [series.field, x.field, y.field, *([spec.labels] if spec.labels else [])])
    layers.append(
        base.mark_point(filled=True, size=150, opacity=1).encode(
            x=x_enc,
            y=y_enc,
            color=alt.Color(field=field_ref(series.field), type="nominal", scale=color, legend=legend, title=series.field),
            shape=alt.Shape(field=field_ref(series.field), type="nominal", scale=shape, legend=legend, title=series.field),
            tooltip=tooltip,
        )
    )
    if spec.labels:
        layers.append(
            base.mark_text(dy=17, fontSize=11, color="#222").encode(
                x=x_enc, y=y_enc, text=alt.Text(field=field_ref(spec.labels), type="nominal", title=spec.labels)
            )
        )
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT, title=spec.title)


def dots(report: Report, spec: spec_model.Dots, table: Table) -> alt.TopLevelMixin:
    """A dot plot: one row per category, one dot per series along a value axis."""
    x, y, series = spec.x, spec.y, spec.series
    data = _chart_data(table, [x.field, y.field, series.field])
    color, shape, order = _series_scales(series, data)
    y_order = [str(v) for v in pd.unique(table.frame[y.field].astype(str))]
    legend = alt.Legend(title=None, symbolSize=90, values=order)
    y_enc = alt.Y(field=field_ref(y.field), type="nominal", sort=y_order, title=None, axis=alt.Axis(labelLimit=260))
    rule = (
        alt.Chart(data)
        .mark_rule(color="#d0d0d0")
        .encode(
            y=y_enc,
            x=alt.X(field=field_ref(x.field), aggregate="min", type="quantitative"),
            x2=alt.X2(field=field_ref(x.field), aggregate="max"),
        )
    )
    marks = (
        alt.Chart(data)
        .mark_point(filled=True, size=90, opacity=0.95)
        .encode(
            y=y_enc,
            x=alt.X(field=field_ref(x.field), type="quantitative", title=_title(x), scale=alt.Scale(domain=_domain(x), nice=False)),
            color=alt.Color(field=field_ref(series.field), type="nominal", scale=color, legend=legend, title=series.field),
            shape=alt.Shape(field=field_ref(series.field), type="nominal", scale=shape, legend=legend, title=series.field),
            tooltip=_tooltip(table, [y.field, series.field, x.field]),
        )
    )
    layers = [rule, marks]
    if spec.zero_rule:
        layers.insert(0, alt.Chart(pd.DataFrame({"zero": [0]})).mark_rule(color="#555", strokeWidth=1.2).encode(x=alt.X("zero:Q")))
    return alt.layer(*layers).properties(width=WIDTH + 40, height=max(160, 30 * len(y_order)), title=spec.title)


def dumbbell(report: Report, spec: spec_model.Dumbbell, table: Table) -> alt.TopLevelMixin:
    """Two values per row joined by a line: e.g. a figure reading and the published number."""
    y, x, ends = spec.y, spec.x, spec.ends
    fields = [end.field for end in ends]
    data = _chart_data(table, [y.field, *fields])
    long = data.melt(id_vars=[c for c in data.columns if c not in fields], value_vars=fields, var_name="which", value_name="measure")
    titles = {end.field: end.title or end.field for end in ends}
    long["which"] = long["which"].map(titles)
    y_order = [str(v) for v in data[y.field]]
    y_enc = alt.Y(field=field_ref(y.field), type="nominal", sort=y_order, title=None, axis=alt.Axis(labelLimit=300))
    scale = alt.Scale(domain=_domain(x), nice=False, zero=False)
    rule = (
        alt.Chart(data)
        .mark_rule(color="#b5b5b5", strokeWidth=2)
        .encode(
            y=y_enc,
            x=alt.X(field=field_ref(fields[0]), type="quantitative", scale=scale, title=_title(x)),
            x2=alt.X2(field=field_ref(fields[1])),
        )
    )
    order = list(titles.values())
    legend = alt.Legend(title=None, symbolSize=90, values=order)
    marks = (
        alt.Chart(long)
        .mark_point(filled=True, size=100, opacity=1)
        .encode(
            y=y_enc,
            x=alt.X(field="measure", type="quantitative", scale=scale, title=_title(x)),
            color=alt.Color(field="which", type="nominal", scale=alt.Scale(domain=order, range=[e.color for e in ends]), legend=legend),
            shape=alt.Shape(field="which", type="nominal", scale=alt.Scale(domain=order, range=[e.shape for e in ends]), legend=legend),
            tooltip=[
                alt.Tooltip(field=field_ref(y.field), type="nominal", title=table.titles.get(y.field, y.field)),
                alt.Tooltip(field="which", type="nominal", title="Reported in"),
                alt.Tooltip(field="measure", type="quantitative", title=x.title or "Value", format=",.1f"),
                alt.Tooltip(field="source", type="nominal", title="Source"),
            ],
        )
    )
    return alt.layer(rule, marks).properties(width=WIDTH + 40, height=max(160, 32 * len(y_order)), title=spec.title)


KINDS: dict[str, Callable[[Report, Any, Table], alt.TopLevelMixin]] = {"points": points, "dots": dots, "dumbbell": dumbbell}


def _format_expr(fmt: str | None) -> Any:
    """A Vega expression that formats numeric category labels (e.g. 1000 as 1,000); the format is declared as d3-format characters only."""
    if not fmt:
        return alt.Undefined
    return f"format(toNumber(datum.value), '{fmt}')"


def _chart_data(table: Table, columns: list[str]) -> pd.DataFrame:
    """The rows a chart draws: the columns it names and where each row comes from."""
    if len(table.frame) > MAX_ROWS:
        raise ReportError.at(
            table.sources[0][0].file if table.sources else table.name,
            f"table {table.name!r} has {len(table.frame):,} rows, more than a chart draws ({MAX_ROWS:,})",
            expected=f"at most {MAX_ROWS:,} rows",
            found=f"{len(table.frame):,}",
            fix="aggregate the data before charting it",
        )
    keep = list(dict.fromkeys(c for c in columns if c in table.frame.columns))
    keep += [c for c in table.frame.columns if c not in keep and not c.startswith("_")]
    data = table.frame[keep].copy()
    data["source"] = ["; ".join(s.describe() for s in sources) for sources in table.sources]
    return data


def _point(row: pd.Series, spec: spec_model.Points | spec_model.Dots, value_field: str, category: str, unit: str) -> str:
    """One mark in words: 'Oslo 12.5% at 2023' for points, 'Oslo -1.5 points' for dots."""
    amount = amount_text(row[value_field], unit, signed=unit == "points")
    if isinstance(spec, spec_model.Dots):
        return f"{row[category]} {amount}"
    label = f"{row[spec.labels]} " if spec.labels else ""
    return f"{label}{amount} at {_count(row[category])}"


def describe(spec: spec_model.ChartBase, table: Table) -> str:
    """The chart in words, from its data: every point it draws, for readers who cannot see it."""
    if isinstance(spec, spec_model.Dumbbell):
        parts = [
            f"{row[spec.y.field]}: " + ", ".join(f"{end.title or end.field} {amount_text(row[end.field], table.units.get(end.field, ''))}" for end in spec.ends)
            for _, row in table.frame.iterrows()
        ]
        return f"{spec.title}. " + "; ".join(parts) + "."
    assert isinstance(spec, spec_model.Points | spec_model.Dots)
    x, y, series = spec.x, spec.y, spec.series
    value_field, category = (y.field, x.field) if isinstance(spec, spec_model.Points) else (x.field, y.field)
    unit = table.units.get(value_field, "")
    frame = table.frame.sort_values(spec.x.sort_by) if isinstance(spec, spec_model.Points) and spec.x.sort_by else table.frame
    groups = []
    for name in series.order or pd.unique(frame[series.field]):
        rows = frame[frame[series.field].astype(str) == str(name)]
        if not rows.empty:
            groups.append(f"{name}: " + ", ".join(_point(row, spec, value_field, category, unit) for _, row in rows.iterrows()))
    return f"{spec.title}. " + "; ".join(groups) + "."


def _count(value: Any) -> str:
    """A category as the axis shows it: whole numbers with thousands separators, anything else as it is."""
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return f"{int(value):,}"
    return str(value)


def _named_columns(spec: spec_model.ChartBase) -> list[str]:
    """The columns a chart spec names: its axes' and series' fields, sort_by, labels and the dumbbell's ends."""
    fields: list[str | None] = []
    if isinstance(spec, spec_model.Points):
        fields += [spec.x.field, spec.x.sort_by, spec.y.field, spec.series.field, spec.labels]
    elif isinstance(spec, spec_model.Dots):
        fields += [spec.x.field, spec.y.field, spec.series.field]
    elif isinstance(spec, spec_model.Dumbbell):
        fields += [spec.y.field, *(end.field for end in spec.ends)]
    return [column for column in fields if column is not None]


def check_options(report: Report, spec: spec_model.ChartBase, table: Table) -> None:
    """Every column a chart names exists, and every series it draws is listed."""

    def fail(message: str, **detail: Any) -> ReportError:
        return ReportError.at(report.spec_file, f"chart {spec.id!r}: {message}", line=spec.spec_line, **detail)

    for column in _named_columns(spec):
        table.column(column, report.spec_file, spec.spec_line)
    series = getattr(spec, "series", None)
    if isinstance(series, spec_model.Series):
        drawn = {str(v) for v in table.frame[series.field].dropna()}
        order = [str(v) for v in series.order or []]
        if order and drawn - set(order):
            raise fail("series: order leaves out series the data has", expected=", ".join(sorted(drawn)), found=", ".join(order))
        unknown = [str(n) for n in getattr(spec, "line", []) if str(n) not in drawn]
        if unknown:
            raise fail("line: names a series the data does not have", expected=", ".join(sorted(drawn)), found=", ".join(unknown))


def build_charts(report: Report) -> dict[str, Chart]:
    """Every chart a report declares, as a Vega-Lite spec with its data inline."""
    # Altair checks every part against the schema as it is made; the whole spec is checked once, below.
    with alt.utils.schemapi.debug_mode(False):
        return _build_charts(report)


def _build_charts(report: Report) -> dict[str, Chart]:
    charts: dict[str, Chart] = {}
    for spec in report.charts:
        if spec.id in charts:
            raise ReportError.at(report.spec_file, f"two charts have the id {spec.id!r}", line=spec.spec_line, fix="give each chart its own id")
        table = report.tables.get(spec.data)
        if table is None:
            raise ReportError.at(
                report.spec_file,
                f"chart {spec.id!r}: no table called {spec.data!r}",
                line=spec.spec_line,
                expected=", ".join(report.tables),
                found=spec.data,
                fix="use a name under data: or views:",
            )
        check_options(report, spec, table)
        chart = KINDS[spec.kind](report, spec, table)
        description = describe(spec, table)
        try:
            vl = _config(chart.properties(description=description)).to_dict()
        except alt.utils.schemapi.SchemaValidationError as error:
            raise ReportError.at(
                report.spec_file, f"chart {spec.id!r} is not a valid Vega-Lite chart: {error.message}", line=spec.spec_line, fix="check the chart's options"
            ) from None
        charts[spec.id] = Chart(
            id=spec.id,
            title=spec.title,
            caption=" ".join(spec.caption.split()),
            titles={**table.titles, "source": "Source"},
            spec=vl,
            data=_chart_data(table, list(table.frame.columns)),
            description=description,
            spec_file=report.spec_file,
        )
    return charts
