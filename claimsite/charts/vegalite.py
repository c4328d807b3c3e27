"""Charts declared in a report spec, built with Altair as Vega-Lite specs, with a text description each."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from itertools import pairwise
from types import MappingProxyType
from typing import Any

import altair as alt
import jsonschema
import numpy as np
import pandas as pd

from claimsite.cache.memo import remembered
from claimsite.core.errors import ReportError
from claimsite.core.numbers import DateFormat, NumberFormat
from claimsite.spec import model as spec_model
from claimsite.spec.report import Report, Table

WIDTH, HEIGHT = 360, 280
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
MAX_ROWS = 5000
MAX_TARGETS = 120  # marks with a tooltip per series of a line or area: past it, each stretch's highest and lowest
DESCRIBED = 24  # values per series a chart's description lists: past it, their range, highest and lowest
# Okabe and Ito's palette, which readers with any common colour-vision deficiency tell apart (yellow last: faint on white).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000", "#F0E442")
INK = "__ink__"  # the colour of the value printed in a heatmap's cell
TEXT = "__text__"  # prefix of the columns holding each value as the page prints it, for tooltips and labels
DESCRIPTION = "__description__"  # each mark's tooltip rows, one per line: its aria-label in the SVG
DODGE = "__dodge__"  # each mark's offset in pixels, where marks of several series would coincide on a categorical axis
DODGE_STEP = 11  # pixels between marks that would coincide
NEAR = 0.035  # marks closer than this share of their axis overlap: about a mark's width on a phone's plot
SIZE = "__size__"  # each point's size, smaller inside an earlier series' point at the same place on a continuous axis


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
    formats: dict[str, NumberFormat | DateFormat] | None = None
    zoom: bool = False
    spec_line: int | None = None
    authored: bool = False  # written as Vega-Lite by the author: drawn in a process of its own, within its time limit


def field_ref(name: str) -> str:
    """A column name as a Vega-Lite field: dots, brackets, quotes and backslashes escaped so they are not paths."""
    return "".join("\\" + char if char in "\\.[]\"'" else char for char in name)


def site_config() -> dict[str, Any]:
    """The site's chart look, fresh for each chart (a shared dict would carry one chart's changes into the next)."""
    return {
        "font": FONT,
        "background": "white",
        "view": {"stroke": None},
        "axis": {"labelFontSize": 12, "titleFontSize": 13, "gridColor": "#e4e4e4", "labelColor": "#222", "titleColor": "#222"},
        "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom", "columns": 2, "labelLimit": 260, "labelColor": "#222", "titleColor": "#222"},
        "title": {"fontSize": 14, "fontStyle": "italic", "fontWeight": "normal", "anchor": "start", "color": "#222"},
    }


def _config(chart: alt.TopLevelMixin, description: str) -> dict[str, Any]:
    """The chart's Vega-Lite spec with the site's look and its description, set in one step (each Altair call copies the chart)."""
    # Our own charts are checked against the Vega-Lite schema by the tests; an author's vega-lite block is checked as it is read.
    spec: dict[str, Any] = chart.to_dict(validate=False)
    spec["config"] = {**site_config(), **spec.get("config", {})}
    spec["description"] = description
    return spec


# -- data and encodings shared by every kind -------------------------------------------------


def _rows(table: Table, columns: list[str]) -> pd.DataFrame:
    """The rows a chart draws, as published beside it: the columns it names first, then the others, and where each row comes from."""
    rows = table.total_rows or len(table.frame)
    if rows > MAX_ROWS:
        raise ReportError.at(
            table.sources[0][0].file if table.sources else table.name,
            f"table {table.name!r} has {rows:,} rows, more than a chart draws ({MAX_ROWS:,})",
            expected=f"at most {MAX_ROWS:,} rows",
            found=f"{rows:,}",
            fix=(
                "chart a SQL view that aggregates it, e.g. views: "
                f"{{by_group: {{sql: 'SELECT <key>, avg(<value>) AS <value> FROM {table.name} GROUP BY <key>'}}}}"
            ),
        )
    keep = list(dict.fromkeys(c for c in columns if c in table.frame.columns))
    keep += [c for c in table.frame.columns if c not in keep and not c.startswith("_")]
    data = table.frame[keep].copy()
    for column, spread in table.spreads.items():
        if column in data.columns:
            for end, name in enumerate(interval_columns(column)):
                data[name] = [None if interval is None else round(interval[end], 6) for interval in spread.intervals]
    data["source"] = ["; ".join(s.describe() for s in sources) for sources in table.sources]
    return data


def interval_columns(column: str) -> tuple[str, str]:
    """The columns of a value's 95% interval in the published data: ``accuracy_low95`` and ``accuracy_high95``."""
    return f"{column}_low95", f"{column}_high95"


def chart_titles(table: Table) -> dict[str, str]:
    """Column titles for a chart's data table and tooltips, with its intervals' columns."""
    titles = {**table.titles, "source": "Source"}
    for column in table.spreads:
        low, high = interval_columns(column)
        titles[low], titles[high] = f"{table.titles.get(column, column)}, 95% low", f"{table.titles.get(column, column)}, 95% high"
    return titles


def chart_formats(table: Table) -> dict[str, NumberFormat | DateFormat]:
    """How a chart's data table prints each column: its intervals' bounds as the value itself (its unit, decimals, currency)."""
    formats = dict(table.formats)
    for column in table.spreads:
        for bound in interval_columns(column):
            formats[bound] = table.number_format(column)
    return formats


def _vega_data(table: Table, columns: list[str]) -> pd.DataFrame:
    """The rows as the chart's Vega data: each value also as the page prints it, so tooltips read exactly like the text."""
    data = _rows(table, columns)
    for column in [c for c in table.frame.columns if not c.startswith("_")]:
        data[TEXT + column] = [table.text(position, column) for position in range(len(table.frame))]
    return data


def _tooltip(table: Table, fields: list[str]) -> list[tuple[str, str]]:
    """Tooltip rows, as (column, title): each column as the page prints it, then the source."""
    tips = [(TEXT + name, table.titles.get(name, name.replace("_", " "))) for name in dict.fromkeys(f for f in fields if f in table.frame.columns)]
    return [*tips, ("source", "Source")]


def _described(layer: alt.Chart, tips: list[tuple[str, str]]) -> alt.Chart:
    """A layer whose marks each carry their tooltip rows: as Vega's tooltip, and as the mark's description.

    The description becomes the mark's ``aria-label`` in the SVG, one "Title: value" per line: screen readers read it,
    and the page's script shows it as the mark's tooltip, with no chart runtime.
    """
    lines = " + '\\n' + ".join(f"{json.dumps(title + ': ')} + replace('' + datum[{json.dumps(column)}], /\\s+/g, ' ')" for column, title in tips)
    return layer.transform_calculate(**{DESCRIPTION: lines}).encode(
        tooltip=[alt.Tooltip(field=field_ref(column), type="nominal", title=title) for column, title in tips],
        description=alt.Description(field=DESCRIPTION, type="nominal"),
    )


def _coinciding(data: pd.DataFrame, position: list[str], series: str | None, near: tuple[str, float] | None = None) -> list[tuple[int, int]]:
    """For each row: its series' place among the series with a mark at the same position, and how many there are.

    With ``near`` (a value column and a distance), marks on the same category whose values lie within that distance
    of each other, one to the next, count as at the same position: drawn there, they would hide each other in part.
    """
    if series is None or series not in data.columns:
        return [(0, 1)] * len(data)
    value, distance = near if near is not None else ("", 0.0)
    keys: list[tuple[str, ...]] = list(zip(*(data[column].astype(str) for column in position if column != value), strict=True)) or [()] * len(data)
    if value:
        numbers = pd.to_numeric(data[value], errors="coerce").tolist()
        rows_of: dict[tuple[str, ...], list[int]] = {}
        for row, key in enumerate(keys):
            rows_of.setdefault(key, []).append(row)
        cluster = [0] * len(data)
        for rows in rows_of.values():
            ordered = sorted(rows, key=lambda r: (math.isnan(numbers[r]), 0.0 if math.isnan(numbers[r]) else numbers[r]))
            for previous, row in pairwise(ordered):
                close = abs(numbers[row] - numbers[previous]) <= distance  # never for a missing value
                cluster[row] = cluster[previous] + (0 if close else 1)
        keys = [(*key, str(cluster[row])) for row, key in enumerate(keys)]
    names = list(data[series].astype(str))
    groups: dict[tuple[str, ...], list[str]] = {}
    for key, name in zip(keys, names, strict=True):
        if name not in groups.setdefault(key, []):
            groups[key].append(name)
    return [(groups[key].index(name), len(groups[key])) for key, name in zip(keys, names, strict=True)]


def _dodge(data: pd.DataFrame, channel: str, position: list[str], series: str | None, value: str = "", domain: list[float] | None = None) -> Any:
    """An offset along a categorical axis that moves marks aside only where marks of several series would coincide
    (with ``value``, also where they would overlap: closer than a mark's width on an axis spanning ``domain`` or the data).

    The axis must be a point scale (see `_lanes`), so that marks that move nowhere stay on their tick.
    """
    near = None
    if value:
        numbers = pd.to_numeric(data[value], errors="coerce").dropna()
        low, high = (domain[0], domain[1]) if domain else (float(numbers.min()), float(numbers.max())) if len(numbers) else (0.0, 0.0)
        near = (value, (high - low) * NEAR)
    data[DODGE] = [(place - (count - 1) / 2) * DODGE_STEP for place, count in _coinciding(data, position, series, near)]
    identity = alt.Scale(domain=[-1, 1], range=[-1, 1])
    if channel == "x":
        return alt.XOffset(field=DODGE, type="quantitative", scale=identity, title=None)
    return alt.YOffset(field=DODGE, type="quantitative", scale=identity, title=None)


def _lanes(padding: float) -> alt.Scale:
    """A categorical axis as points (each value a tick), which offsets move marks around rather than across a band."""
    return alt.Scale(type="point", padding=padding)


def _targets(data: pd.DataFrame, x: str, y: str, series: str | None) -> pd.DataFrame:
    """The rows a line or area marks, each with its tooltip: every row, or, in a series with more values than the width
    can tell apart, the highest and the lowest of each stretch of it (and its first and last). The line is drawn through
    every value, and the chart's data download holds them all."""
    groups = [rows for _, rows in data.groupby(series, sort=False, dropna=False)] if series and series in data.columns else [data]
    if all(len(rows) <= MAX_TARGETS for rows in groups):
        return data
    kept: set[Any] = set()
    for rows in groups:
        if len(rows) <= MAX_TARGETS:
            kept |= set(rows.index)
            continue
        ordered = rows.sort_values(x, kind="stable")
        stretch = np.arange(len(ordered)) * (MAX_TARGETS // 2) // len(ordered)
        values = pd.Series(ordered[y].astype("Float64").to_numpy(), index=ordered.index)
        kept |= {ordered.index[0], ordered.index[-1]}
        for _, part in values.groupby(stretch):
            if part.notna().any():
                kept |= {part.idxmax(), part.idxmin()}
    return data.loc[[i for i in data.index if i in kept]].copy()


def _nested(data: pd.DataFrame, x: Any, y: Any, series: spec_model.Series | None, size: float) -> Any:
    """Point sizes on a continuous axis, where marks cannot move aside: a later series' mark drawn smaller inside an earlier one."""
    if series is None:
        return alt.value(size)
    data[SIZE] = [size * 0.4**place for place, _ in _coinciding(data, [x.field, y.field], series.field)]
    return alt.Size(field=SIZE, type="quantitative", scale=None, legend=None)


def _series_scales(series: spec_model.Series, data: pd.DataFrame) -> tuple[alt.Scale, alt.Scale, list[str]]:
    order = [str(v) for v in series.order or pd.unique(data[series.field].astype(str))]
    colors = list(series.colors or PALETTE)
    shapes = list(series.shapes or [])
    color = alt.Scale(domain=order, range=[colors[i % len(colors)] for i in range(len(order))])
    shape = alt.Scale(domain=order, range=shapes[: len(order)]) if shapes else alt.Scale(domain=order)
    return color, shape, order


def _color(series: spec_model.Series | None, data: pd.DataFrame, legend: bool = True) -> Any:
    """The colour channel of a chart's series (one colour, the palette's first, when there are none); ``legend`` off for a second layer."""
    if series is None:
        return alt.value(PALETTE[0])
    scale, _, order = _series_scales(series, data)
    shown = alt.Legend(title=None, values=order) if legend else None
    return alt.Color(field=field_ref(series.field), type="nominal", scale=scale, legend=shown, title=series.field)


def _x_sort(table: Table, x: spec_model.CategoryAxis) -> list[str] | None:
    ordered = table.frame.sort_values(x.sort_by)[x.field] if x.sort_by else table.frame[x.field].sort_values()
    return [str(v) for v in pd.unique(ordered)]


def _domain(axis: spec_model.ValueAxis | spec_model.TitleAxis | spec_model.ColorScale) -> Any:
    return list(axis.domain) if axis.domain is not None else alt.Undefined


def _title(axis: spec_model.Axis | spec_model.TitleAxis) -> Any:
    return axis.title if axis.title is not None else alt.Undefined


def _value_axis(report: Report, spec: spec_model.ChartBase, table: Table, axis: spec_model.ValueAxis, zero: bool = False) -> dict[str, Any]:
    """The scale and axis of a value axis: its domain, linear or log, and numbers formatted as the column says."""
    if axis.scale == "log" and (pd.to_numeric(table.frame[axis.field], errors="coerce").dropna() <= 0).any():
        raise ReportError.at(
            report.spec_file,
            f"chart {spec.id!r}: a log scale needs values above zero",
            line=axis.spec_line,
            expected=f"every value of {axis.field} above zero",
            found="zero or a negative value",
            fix="use scale: linear, or chart values above zero",
        )
    values = pd.to_numeric(table.frame[axis.field], errors="coerce").dropna()
    if axis.domain is not None and len(values) and (values.min() < axis.domain[0] or values.max() > axis.domain[1]):
        outside = int(((values < axis.domain[0]) | (values > axis.domain[1])).sum())
        raise ReportError.at(
            report.spec_file,
            f"chart {spec.id!r}: the domain [{axis.domain[0]:g}, {axis.domain[1]:g}] leaves out {outside} of {len(values)} values of {axis.field}",
            line=axis.spec_line,
            expected=f"a domain that holds every value: from {values.min():g} to {values.max():g}",
            found=f"[{axis.domain[0]:g}, {axis.domain[1]:g}]",
            fix="widen the domain, or remove it to fit the axis to the data",
        )
    fmt = table.number_format(axis.field).axis()
    return {
        "scale": alt.Scale(domain=_domain(axis), type=axis.scale, zero=zero and axis.scale == "linear", nice=False),
        "axis": alt.Axis(format=fmt) if fmt else alt.Undefined,
        "title": _title(axis),
    }


def _line_x(table: Table, x: spec_model.LineAxis) -> alt.X:
    """The x channel of a line or area: dates on a time axis, numbers on a number line, anything else as ordered categories."""
    fmt = table.formats.get(x.field)
    column = table.frame[x.field]
    kind = x.type or ("temporal" if isinstance(fmt, DateFormat) else "quantitative" if pd.api.types.is_numeric_dtype(column) else "ordinal")
    if kind == "temporal":
        pattern = fmt.pattern if isinstance(fmt, DateFormat) else "%-d %B %Y"
        return alt.X(field=field_ref(x.field), type="temporal", title=_title(x), axis=alt.Axis(format=pattern.replace("%B", "%b"), labelAngle=0))
    if kind == "quantitative":
        axis = alt.Axis(format=x.format) if x.format else alt.Axis(format=table.number_format(x.field).axis() or alt.Undefined)
        return alt.X(field=field_ref(x.field), type="quantitative", title=_title(x), axis=axis, scale=alt.Scale(zero=False, nice=False))
    return alt.X(**_category(table, x.field, x.sort_by), title=_title(x), axis=alt.Axis(labelAngle=0))


def _interval(base: alt.Chart, interval: spec_model.Interval, x: Any, y_field: str, color: Any, horizontal: bool, band: bool) -> alt.Chart:
    """Error bars (a rule from lower to upper) or a band, in the series' colours; by default, the table's 95% intervals."""
    lower, upper = (interval.lower, interval.upper) if interval.lower and interval.upper else interval_columns(y_field)
    if isinstance(color, alt.Color):  # the marks' layer draws the legend; this one would add its own symbols to it
        color = color.copy(deep=True)
        color.legend = None
    low, high = field_ref(lower), field_ref(upper)
    drawn: alt.Chart
    if band:
        drawn = base.mark_area(opacity=0.18, clip=True, aria=False).encode(x=x, y=alt.Y(field=low, type="quantitative"), y2=alt.Y2(field=high), color=color)
    elif horizontal:
        drawn = base.mark_rule(strokeWidth=1.5, clip=True, aria=False).encode(y=x, x=alt.X(field=low, type="quantitative"), x2=alt.X2(field=high), color=color)
    else:
        drawn = base.mark_rule(strokeWidth=1.5, clip=True, aria=False).encode(x=x, y=alt.Y(field=low, type="quantitative"), y2=alt.Y2(field=high), color=color)
    return drawn


# -- the kinds ------------------------------------------------------------------------------


def points(report: Report, spec: spec_model.Points, table: Table) -> alt.TopLevelMixin:
    """Points by a categorical x, coloured and shaped by series, with optional lines, reference and labels."""
    x, y, series = spec.x, spec.y, spec.series
    data = _vega_data(table, [x.field, y.field, series.field, *([spec.labels] if spec.labels else [])])
    color, shape, order = _series_scales(series, data)
    categorical = x.type != "quantitative"
    # Marks of several series at one place: moved aside along categories, drawn one inside the other on a number line.
    offset = _dodge(data, "x", [x.field, y.field], series.field, y.field, y.domain) if categorical else alt.Undefined
    size = alt.value(150) if categorical else _nested(data, x, y, series, 150)
    sort = _x_sort(table, x) if x.type == "ordinal" else None
    x_label = alt.Axis(labelAngle=0, labelExpr=_format_expr(x.format), titlePadding=8)
    x_enc = alt.X(
        field=field_ref(x.field),
        type=x.type,
        sort=sort,
        title=_title(x),
        axis=x_label,
        scale=_lanes(1.0 if spec.labels else 0.4) if categorical else alt.Undefined,
    )
    value = _value_axis(report, spec, table, y)
    y_enc = alt.Y(field=field_ref(y.field), type="quantitative", **value)
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
        layers.append(
            alt.Chart(pd.DataFrame({"level": [level]})).mark_rule(color="#9a9a9a", strokeDash=[4, 3], strokeWidth=1, aria=False).encode(y=alt.Y("level:Q"))
        )
    series_title = table.titles.get(series.field, series.field)
    colour = alt.Color(field=field_ref(series.field), type="nominal", scale=color, legend=legend, title=series_title)
    if spec.interval is not None:
        drawn = _interval(base, spec.interval, x_enc, y.field, colour, horizontal=False, band=spec.interval.style == "band")
        layers.append(drawn.encode(xOffset=offset) if spec.interval.style != "band" else drawn)
    for name in spec.line:
        colors = series.colors or PALETTE
        stroke = colors[order.index(str(name)) % len(colors)]
        layers.append(
            base.transform_filter(alt.FieldEqualPredicate(field=field_ref(series.field), equal=str(name)))
            .mark_line(color=stroke, strokeWidth=1.6, opacity=0.85, aria=False)
            .encode(x=x_enc, y=y_enc, xOffset=offset)
        )
    tooltip = _tooltip(table, [series.field, x.field, y.field, *([spec.labels] if spec.labels else [])])
    marks = base.mark_point(filled=True, opacity=1).encode(
        x=x_enc,
        y=y_enc,
        xOffset=offset,
        size=size,
        color=colour,
        shape=alt.Shape(field=field_ref(series.field), type="nominal", scale=shape, legend=legend, title=series_title),
    )
    layers.append(_described(marks, tooltip))
    if spec.labels:
        layers.append(
            base.mark_text(dy=17, fontSize=12, color="#222", aria=False).encode(
                x=x_enc, y=y_enc, xOffset=offset, text=alt.Text(field=field_ref(spec.labels), type="nominal", title=spec.labels)
            )
        )
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT, title=spec.title)


def dots(report: Report, spec: spec_model.Dots, table: Table) -> alt.TopLevelMixin:
    """A dot plot: one row per category, one dot per series along a value axis."""
    x, y, series = spec.x, spec.y, spec.series
    data = _vega_data(table, [x.field, y.field, series.field])
    color, shape, order = _series_scales(series, data)
    offset = _dodge(data, "y", [x.field, y.field], series.field, x.field, x.domain)
    series_title = table.titles.get(series.field, series.field)
    y_order = [str(v) for v in pd.unique(table.frame[y.field].astype(str))]
    legend = alt.Legend(title=None, symbolSize=90, values=order)
    y_enc = alt.Y(field=field_ref(y.field), type="nominal", sort=y_order, title=None, axis=alt.Axis(labelLimit=260), scale=_lanes(0.5))
    value = _value_axis(report, spec, table, x)
    rule = (
        alt.Chart(data)
        .mark_rule(color="#d0d0d0", aria=False)
        .encode(
            y=y_enc,
            x=alt.X(field=field_ref(x.field), aggregate="min", type="quantitative"),
            x2=alt.X2(field=field_ref(x.field), aggregate="max"),
        )
    )
    colour = alt.Color(field=field_ref(series.field), type="nominal", scale=color, legend=legend, title=series_title)
    marks = (
        alt.Chart(data)
        .mark_point(filled=True, size=90, opacity=0.95)
        .encode(
            y=y_enc,
            yOffset=offset,
            x=alt.X(field=field_ref(x.field), type="quantitative", **value),
            color=colour,
            shape=alt.Shape(field=field_ref(series.field), type="nominal", scale=shape, legend=legend, title=series_title),
        )
    )
    layers: list[alt.Chart] = [rule, _described(marks, _tooltip(table, [y.field, series.field, x.field]))]
    if spec.interval is not None:
        layers.insert(1, _interval(alt.Chart(data), spec.interval, y_enc, x.field, colour, horizontal=True, band=False).encode(yOffset=offset))
    if spec.zero_rule:
        layers.insert(0, alt.Chart(pd.DataFrame({"zero": [0]})).mark_rule(color="#555", strokeWidth=1.2, aria=False).encode(x=alt.X("zero:Q")))
    return alt.layer(*layers).properties(width=WIDTH + 40, height=max(160, 30 * len(y_order)), title=spec.title)


def dumbbell(report: Report, spec: spec_model.Dumbbell, table: Table) -> alt.TopLevelMixin:
    """Two values per row joined by a line: e.g. a figure reading and the published number."""
    y, x, ends = spec.y, spec.x, spec.ends
    fields = [end.field for end in ends]
    data = _rows(table, [y.field, *fields])
    long = data.melt(id_vars=[c for c in data.columns if c not in fields], value_vars=fields, var_name="which", value_name="measure")
    fmt = table.number_format(fields[0])
    long[TEXT + "measure"] = [fmt.cell(v) if pd.notna(v) else "" for v in long["measure"]]
    titles = {end.field: end.title or end.field for end in ends}
    long["which"] = long["which"].map(titles)
    y_order = [str(v) for v in data[y.field]]
    y_enc = alt.Y(field=field_ref(y.field), type="nominal", sort=y_order, title=None, axis=alt.Axis(labelLimit=300), scale=_lanes(0.5))
    scale = alt.Scale(domain=_domain(x), nice=False, zero=False)
    rule = (
        alt.Chart(data)
        .mark_rule(color="#b5b5b5", strokeWidth=2, aria=False)
        .encode(
            y=y_enc,
            x=alt.X(field=field_ref(fields[0]), type="quantitative", scale=scale, title=_title(x)),
            x2=alt.X2(field=field_ref(fields[1])),
        )
    )
    order = list(titles.values())
    offset = _dodge(long, "y", [y.field, "measure"], "which", "measure", x.domain)
    legend = alt.Legend(title=None, symbolSize=90, values=order)
    marks = (
        alt.Chart(long)
        .mark_point(filled=True, size=100, opacity=1)
        .encode(
            y=y_enc,
            yOffset=offset,
            x=alt.X(field="measure", type="quantitative", scale=scale, title=_title(x)),
            color=alt.Color(field="which", type="nominal", scale=alt.Scale(domain=order, range=[e.color for e in ends]), legend=legend, title="Reported in"),
            shape=alt.Shape(field="which", type="nominal", scale=alt.Scale(domain=order, range=[e.shape for e in ends]), legend=legend, title="Reported in"),
        )
    )
    long[TEXT + y.field] = long[y.field].astype(str)
    tips = [(TEXT + y.field, table.titles.get(y.field, y.field)), ("which", "Reported in"), (TEXT + "measure", x.title or "Value"), ("source", "Source")]
    return alt.layer(rule, _described(marks, tips)).properties(width=WIDTH + 40, height=max(160, 32 * len(y_order)), title=spec.title)


def line(report: Report, spec: spec_model.Line, table: Table) -> alt.TopLevelMixin:
    """Lines along dates, numbers or ordered categories, one per series, line and points in the same colour."""
    x, y, series = spec.x, spec.y, spec.series
    data = _vega_data(table, [x.field, y.field, *([series.field] if series else [])])
    x_enc = _line_x(table, x)
    y_enc = alt.Y(field=field_ref(y.field), type="quantitative", **_value_axis(report, spec, table, y))
    colour = _color(series, data)
    base = alt.Chart(data)
    layers: list[alt.Chart] = []
    if spec.interval is not None:
        layers.append(_interval(base, spec.interval, x_enc, y.field, _color(series, data, legend=False), horizontal=False, band=spec.interval.style != "bars"))
    layers.append(base.mark_line(strokeWidth=2, aria=False).encode(x=x_enc, y=y_enc, color=colour))
    tooltip = _tooltip(table, [*([series.field] if series else []), x.field, y.field])
    targets = _targets(data, x.field, y.field, series.field if series else None)
    shown = spec.points and len(targets) == len(data)  # a marker per value, unless there are more than the width can show
    points = (
        alt.Chart(targets).mark_point(filled=True, opacity=1 if shown else 0).encode(x=x_enc, y=y_enc, color=colour, size=_nested(targets, x, y, series, 45))
    )
    layers.append(_described(points, tooltip))
    return alt.layer(*layers).properties(width=WIDTH + 80, height=HEIGHT, title=spec.title)


def area(report: Report, spec: spec_model.Area, table: Table) -> alt.TopLevelMixin:
    """Areas along dates or numbers, stacked (or overlaid) by series."""
    x, y, series = spec.x, spec.y, spec.series
    data = _vega_data(table, [x.field, y.field, *([series.field] if series else [])])
    x_enc = _line_x(table, x)
    value = _value_axis(report, spec, table, y, zero=True)
    y_enc = alt.Y(field=field_ref(y.field), type="quantitative", stack="zero" if spec.stack else None, **value)
    colour = _color(series, data)
    base = alt.Chart(data)
    tooltip = _tooltip(table, [*([series.field] if series else []), x.field, y.field])
    areas = base.mark_area(opacity=0.85 if spec.stack else 0.4, aria=False).encode(x=x_enc, y=y_enc, color=colour)
    targets = data if spec.stack else _targets(data, x.field, y.field, series.field if series else None)
    sizes = _nested(targets, x, y, series, 30) if not spec.stack else alt.value(30)
    opacity = 0.9 if len(targets) == len(data) else 0
    marks = _described(alt.Chart(targets).mark_point(filled=True, opacity=opacity).encode(x=x_enc, y=y_enc, color=colour, size=sizes), tooltip)
    return alt.layer(areas, marks).properties(width=WIDTH + 80, height=HEIGHT, title=spec.title)


def bar(report: Report, spec: spec_model.Bar, table: Table) -> alt.TopLevelMixin:
    """Bars by category, side by side (or stacked) by series, with error bars where the spec gives an interval."""
    x, y, series = spec.x, spec.y, spec.series
    if spec.stack and spec.interval is not None:
        raise ReportError.at(
            report.spec_file, f"chart {spec.id!r}: error bars need bars side by side", line=spec.spec_line, fix="remove interval:, or set stack: false"
        )
    data = _vega_data(table, [x.field, y.field, *([series.field] if series else [])])
    category = _category(table, x.field, x.sort_by)
    x_enc = alt.X(**category, title=_title(x), axis=_category_axis(category["sort"], WIDTH + 80))
    value = _value_axis(report, spec, table, y, zero=True)
    y_enc = alt.Y(field=field_ref(y.field), type="quantitative", stack="zero" if spec.stack else None, **value)
    colour = _color(series, data)
    offset = alt.XOffset(field=field_ref(series.field), type="nominal", sort=_series_scales(series, data)[2]) if series and not spec.stack else alt.Undefined
    base = alt.Chart(data)
    tooltip = _tooltip(table, [*([series.field] if series else []), x.field, y.field])
    layers = [_described(base.mark_bar().encode(x=x_enc, y=y_enc, color=colour, xOffset=offset), tooltip)]
    if spec.interval is not None:
        rule = _interval(base, spec.interval, x_enc, y.field, alt.value("#333333"), horizontal=False, band=False)
        layers.append(rule.encode(xOffset=offset))
    return alt.layer(*layers).properties(width=WIDTH + 80, height=HEIGHT, title=spec.title)


def heatmap(report: Report, spec: spec_model.Heatmap, table: Table) -> alt.TopLevelMixin:
    """A grid of two categories, each cell coloured by its value, the value printed in it."""
    x, y, color = spec.x, spec.y, spec.color
    data = _vega_data(table, [x.field, y.field, color.field])
    across, down = _category(table, x.field), _category(table, y.field)
    width = max(WIDTH, 44 * len(across["sort"]))
    x_enc = alt.X(**across, title=_title(x), axis=_category_axis(across["sort"], width))
    y_enc = alt.Y(**down, title=_title(y), axis=alt.Axis(labelLimit=280))
    fill = alt.Color(
        field=field_ref(color.field),
        type="quantitative",
        scale=alt.Scale(scheme=color.scheme, domain=_domain(color)),
        title=color.title or table.titles.get(color.field, color.field),
        legend=alt.Legend(orient="right", format=table.number_format(color.field).axis() or alt.Undefined),
    )
    data[INK] = _ink(table.frame[color.field], color)
    base = alt.Chart(data)
    layers = [_described(base.mark_rect().encode(x=x_enc, y=y_enc, color=fill), _tooltip(table, [y.field, x.field, color.field]))]
    if spec.labels:
        text = alt.Text(field=field_ref(TEXT + color.field), type="nominal")
        for ink in ("white", "#111111"):
            on = base.transform_filter(alt.FieldEqualPredicate(field=INK, equal=ink))
            layers.append(on.mark_text(fontSize=12, color=ink, aria=False).encode(x=x_enc, y=y_enc, text=text))
    return alt.layer(*layers).properties(width=width, height=max(160, 28 * len(down["sort"])), title=spec.title)


def _ink(values: pd.Series, color: spec_model.ColorScale) -> list[str]:
    """The colour of each cell's printed value: white on the dark end (or ends) of the scheme, near-black elsewhere."""
    numbers = pd.to_numeric(values, errors="coerce")
    low, high = color.domain if color.domain is not None else (numbers.min(), numbers.max())
    span = (high - low) or 1.0
    diverging = color.scheme in ("blueorange", "redblue")
    inks = []
    for value in numbers:
        share = 0.0 if pd.isna(value) else (value - low) / span
        dark = abs(share - 0.5) > 0.35 if diverging else share > 0.6
        inks.append("white" if dark else "#111111")
    return inks


def _category_axis(labels: list[str], width: int) -> alt.Axis:
    """An axis of categories: labels level when they fit, slanted when they would overlap."""
    crowded = len(labels) * (max((len(label) for label in labels), default=0) * 6.5 + 8) > width
    return alt.Axis(labelAngle=-40 if crowded else 0, labelAlign="right" if crowded else "center", labelLimit=160)


def _category(table: Table, column: str, sort_by: str | None = None) -> dict[str, Any]:
    """An ordinal channel over a column's values as the page prints them ("July 2023", "1,000"), in order.

    The order is that of ``sort_by``, else the values' own order for dates and numbers, else the data's.
    """
    cells = table.frame[column]
    if sort_by:
        positions = list(table.frame.reset_index(drop=True).sort_values(sort_by, kind="stable").index)
    elif pd.api.types.is_numeric_dtype(cells) or pd.api.types.is_datetime64_any_dtype(cells):
        positions = list(cells.reset_index(drop=True).sort_values(kind="stable").index)
    else:
        positions = list(range(len(cells)))
    order = list(dict.fromkeys(table.text(position, column) for position in positions))
    return {"field": field_ref(TEXT + column), "type": "ordinal", "sort": order}


# Keys that would make a Vega-Lite specification load from elsewhere, link out, or run an expression written in it.
_UNSAFE_KEYS = frozenset({"url", "href", "expr", "calculate", "labelExpr", "signal", "update", "test", "datasets", "data", "loader", "filter"})


def vega_lite(report: Report, spec: spec_model.VegaLite, table: Table) -> alt.TopLevelMixin:
    """A chart written as Vega-Lite, fed the table's rows (each value also as the page prints it); checked against the schema."""
    unsafe = _unsafe_key(spec.spec)
    if unsafe:
        raise ReportError.at(
            report.spec_file,
            f"chart {spec.id!r}: a Vega-Lite spec here may not use {unsafe}:",
            line=spec.spec_line,
            expected="mark, encoding, layer, params, transform without expressions, and other declarative keys",
            found=unsafe,
            fix="compute the values in a view of the spec instead; the build feeds the chart its table and allows no URLs or expressions",
        )
    values = alt.utils.sanitize_pandas_dataframe(_vega_data(table, list(table.frame.columns))).to_dict(orient="records")
    written = {"width": WIDTH + 80, "height": HEIGHT, **spec.spec, "title": spec.title or spec.spec.get("title", ""), "data": {"values": values}}
    kind = next((cls for key, cls in _COMPOSITES.items() if key in written), alt.Chart)
    try:
        return kind.from_dict(written, validate=True)
    except (alt.utils.schemapi.SchemaValidationError, jsonschema.exceptions.ValidationError, ValueError, TypeError) as error:
        message = getattr(error, "message", str(error)).splitlines()[0]
        raise ReportError.at(
            report.spec_file,
            f"chart {spec.id!r}: not a valid Vega-Lite specification: {message}",
            line=spec.spec_line,
            fix="check it against the Vega-Lite documentation",
        ) from None


COMPOUND = ("hconcat", "vconcat", "concat", "facet", "repeat")  # Vega-Lite keys of a chart made of several charts

_COMPOSITES: Mapping[str, Any] = MappingProxyType(
    {
        "layer": alt.LayerChart,
        "hconcat": alt.HConcatChart,
        "vconcat": alt.VConcatChart,
        "concat": alt.ConcatChart,
        "facet": alt.FacetChart,
        "repeat": alt.RepeatChart,
    }
)


def _unsafe_key(value: Any) -> str | None:
    """What in a Vega-Lite spec could run code or reach another host: a key that takes an expression or a URL, an
    expression inside a filter (alone, or in an and/or/not), or a value that loads a resource (``url(…)``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "filter" and (isinstance(item, str) or _expression_in_predicate(item)):
                return "filter with an expression"
            if key in _UNSAFE_KEYS and key != "filter":
                return str(key)
            found = _unsafe_key(item)
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _unsafe_key(item)
            if found:
                return found
    if isinstance(value, str) and _LOADS.search(value):
        return "url(…) in a value"
    return None


_LOADS = re.compile(r"url\s*\(|@import|expression\s*\(", re.IGNORECASE)


def _expression_in_predicate(predicate: Any) -> bool:
    """Whether a filter's predicate (a field predicate, or an and/or/not of them) holds an expression string anywhere."""
    if isinstance(predicate, str):
        return True
    if isinstance(predicate, dict):
        if "expr" in predicate:
            return True
        return any(_expression_in_predicate(operand) for key in ("and", "or", "not") if key in predicate for operand in _operands(predicate[key]))
    return False


def _operands(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


# Each chart kind a spec may declare, by its declaration: the one table a new kind is added to.
KINDS: Mapping[type[spec_model.ChartBase], Callable[[Report, Any, Table], alt.TopLevelMixin]] = MappingProxyType(
    {
        spec_model.Points: points,
        spec_model.Dots: dots,
        spec_model.Dumbbell: dumbbell,
        spec_model.Line: line,
        spec_model.Area: area,
        spec_model.Bar: bar,
        spec_model.Heatmap: heatmap,
        spec_model.VegaLite: vega_lite,
    }
)


def _format_expr(fmt: str | None) -> Any:
    """A Vega expression that formats numeric category labels (e.g. 1000 as 1,000); the format is declared as d3-format characters only."""
    if not fmt:
        return alt.Undefined
    return f"format(toNumber(datum.value), '{fmt}')"


# -- the chart in words -------------------------------------------------------------------------


def _series_groups(table: Table, series: spec_model.Series | None, frame_order: list[int]) -> list[tuple[str, list[int]]]:
    """The rows of each series (in legend order), or all rows as one group."""
    if series is None:
        return [("", frame_order)]
    names = [str(v) for v in series.order or pd.unique(table.frame[series.field].astype(str))]
    values = table.frame[series.field].astype(str)
    return [(name, [r for r in frame_order if values.iloc[r] == name]) for name in names]


def describe(spec: spec_model.ChartBase, table: Table) -> str:
    """The chart in words, from its data: every value it draws, as the page prints it, for readers who cannot see it."""
    positions = list(range(len(table.frame)))
    if isinstance(spec, spec_model.Dumbbell):
        parts = [
            f"{table.text(r, spec.y.field)}: " + ", ".join(f"{end.title or end.field} {_amount(table, r, end.field)}" for end in spec.ends) for r in positions
        ]
        return f"{spec.title}. " + _listed(parts) + "."
    if isinstance(spec, spec_model.Heatmap):
        parts = [f"{table.text(r, spec.y.field)}, {table.text(r, spec.x.field)}: {_amount(table, r, spec.color.field)}" for r in positions]
        return f"{spec.title}. " + _listed(parts) + "."
    if isinstance(spec, spec_model.VegaLite):
        shown = [c for c in table.frame.columns if not c.startswith("_")]
        return f"{spec.title}. " + _listed(["; ".join(f"{table.titles.get(c, c)} {table.text(r, c)}" for c in shown) for r in positions]) + "."
    assert isinstance(spec, spec_model.Points | spec_model.Dots | spec_model.Line | spec_model.Area | spec_model.Bar)
    if isinstance(spec, spec_model.Dots):
        value_field, category = spec.x.field, spec.y.field
    else:
        value_field, category = spec.y.field, spec.x.field
    sort_by = getattr(spec.x, "sort_by", None) if not isinstance(spec, spec_model.Dots) else None
    if not sort_by and isinstance(spec, spec_model.Line | spec_model.Area | spec_model.Bar):
        sort_by = category  # along the axis: in date or number order
    frame = table.frame.reset_index(drop=True)
    frame_order = list(frame.sort_values(sort_by, kind="stable").index) if sort_by else list(frame.index)
    groups = []
    for name, rows in _series_groups(table, spec.series, frame_order):
        if len(rows) > DESCRIBED:  # too many to list: the range, and where it is highest and lowest
            values = table.frame[value_field].iloc[rows].astype("Float64")
            high, low = rows[int(values.to_numpy(na_value=-math.inf).argmax())], rows[int(values.to_numpy(na_value=math.inf).argmin())]
            marks = [_mark(table, spec, r, value_field, category) for r in (rows[0], rows[-1], high, low)]
            items = f"{len(rows):,} values, from {marks[0]} to {marks[1]}; highest {marks[2]}; lowest {marks[3]}"
            groups.append(f"{name}: {items}" if name else items)
        elif rows:
            items = ", ".join(_mark(table, spec, r, value_field, category) for r in rows)
            groups.append(f"{name}: {items}" if name else items)
    return f"{spec.title}. " + _listed(groups) + "."


def _listed(parts: list[str]) -> str:
    """Parts of a description, at most ``DESCRIBED`` of them (the data download and the data table hold every value)."""
    more = len(parts) - DESCRIBED
    return "; ".join(parts[:DESCRIBED]) + (f"; and {more:,} more (see the data)" if more > 0 else "")


def _amount(table: Table, position: int, column: str) -> str:
    value = table.frame.iloc[position][column]
    return table.number_format(column).text(float(value)) if pd.notna(value) else "no value"


def _mark(table: Table, spec: spec_model.ChartBase, position: int, value_field: str, category: str) -> str:
    """One mark in words: 'Quito 12.5% at 2023' for points, 'Quito -1.5 points' for dots, '12.5 mm in July 2023' for lines."""
    value = table.frame.iloc[position][value_field]
    fmt = table.number_format(value_field)
    amount = fmt.text(float(value), signed=fmt.unit == "points") if pd.notna(value) else "no value"
    if isinstance(spec, spec_model.Dots):
        return f"{table.text(position, category)} {amount}"
    label = f"{table.text(position, spec.labels)} " if isinstance(spec, spec_model.Points) and spec.labels else ""
    where = "in" if isinstance(table.formats.get(category), DateFormat) else "at"
    return f"{label}{amount} {where} {table.text(position, category)}"


# -- checks and assembly ------------------------------------------------------------------------


def _named_columns(spec: spec_model.ChartBase) -> list[str]:
    """The columns a chart spec names: its axes', series' and intervals' fields, sort_by, labels and the dumbbell's ends."""
    fields: list[str | None] = []
    for option in ("x", "y", "color"):
        axis = getattr(spec, option, None)
        fields += [getattr(axis, "field", None), getattr(axis, "sort_by", None)]
    series = getattr(spec, "series", None)
    fields.append(series.field if series is not None else None)
    interval = getattr(spec, "interval", None)
    fields += [interval.lower, interval.upper] if interval is not None else []
    labels = getattr(spec, "labels", None)
    fields.append(labels if isinstance(labels, str) else None)
    fields += [end.field for end in getattr(spec, "ends", [])]
    return [column for column in fields if column is not None]


def check_options(report: Report, spec: spec_model.ChartBase, table: Table) -> None:
    """Every column a chart names exists, and every series it draws is listed."""

    def fail(message: str, **detail: Any) -> ReportError:
        return ReportError.at(report.spec_file, f"chart {spec.id!r}: {message}", line=spec.spec_line, **detail)

    for column in _named_columns(spec):
        table.column(column, report.spec_file, spec.spec_line)
    interval = getattr(spec, "interval", None)
    if interval is not None and not interval.lower:
        value = spec.x.field if isinstance(spec, spec_model.Dots) else getattr(getattr(spec, "y", None), "field", "")
        if value not in table.spreads:
            raise fail(
                f"interval: draws the 95% intervals of {value}, but table {table.name!r} knows none",
                expected="uncertainty: declared on the table under data:, or interval: {lower: <column>, upper: <column>}",
                found="no uncertainty",
                fix="declare how sure the values are under data:, or name the interval's columns",
            )
    series = getattr(spec, "series", None)
    if isinstance(series, spec_model.Series):
        drawn = {str(v) for v in table.frame[series.field].dropna()}
        order = [str(v) for v in series.order or []]
        if order and drawn - set(order):
            raise fail("series: order leaves out series the data has", expected=", ".join(sorted(drawn)), found=", ".join(order))
        unknown = [str(n) for n in getattr(spec, "line", None) or [] if str(n) not in drawn] if isinstance(spec, spec_model.Points) else []
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
        charts[spec.id] = _remembered(report, spec, table)
    return charts


def _remembered(report: Report, spec: spec_model.Chart, table: Table) -> Chart:
    """The chart, made once per process for the same declaration and rows: the live preview and a rebuild in the same
    process (tests) make only the charts whose declaration or data changed."""
    inputs = (spec, report.spec_file, {name: getattr(table, name) for name in _TABLE_PARTS})
    return remembered("chart", inputs, lambda: _chart(report, spec, table))


_TABLE_PARTS = tuple(f.name for f in fields(Table))


def _chart(report: Report, spec: spec_model.Chart, table: Table) -> Chart:
    check_options(report, spec, table)
    chart = KINDS[type(spec)](report, spec, table)
    description = describe(spec, table)
    try:
        vl = _config(chart, description)
    except alt.utils.schemapi.SchemaValidationError as error:
        raise ReportError.at(
            report.spec_file, f"chart {spec.id!r} is not a valid Vega-Lite chart: {error.message}", line=spec.spec_line, fix="check the chart's options"
        ) from None
    if spec.zoom:
        _zoomable(report, spec, vl)
    return Chart(
        id=spec.id,
        title=spec.title,
        caption=" ".join(spec.caption.split()),
        titles=chart_titles(table),
        spec=vl,
        data=_rows(table, list(table.frame.columns)),
        description=description,
        spec_file=report.spec_file,
        formats=chart_formats(table),
        zoom=spec.zoom,
        spec_line=spec.spec_line,
        authored=isinstance(spec, spec_model.VegaLite),
    )


_CONTINUOUS = frozenset({"quantitative", "temporal"})
ZOOM_PADDING = 8  # pixels


def _zoomable(report: Report, spec: spec_model.ChartBase, vl: dict[str, Any]) -> None:
    """Bind the chart's number and date axes to dragging and scrolling (drawn the same; Vega acts on it when a reader zooms).

    Marks are clipped to the plot, so that marks zoomed out of it do not spill over the axes; the zoomed scales are
    padded by half a point's width, so that the points at their ends are drawn whole.
    """
    layers = vl.get("layer") or [vl]
    axes = [
        channel
        for channel in ("x", "y")
        if any((layer.get("encoding") or {}).get(channel, {}).get("type") in _CONTINUOUS for layer in layers if isinstance(layer, dict))
    ]
    if not axes or any(key in vl for key in COMPOUND):
        raise ReportError.at(
            report.spec_file,
            f"chart {spec.id!r}: zoom: needs a single chart with a number or date axis",
            line=spec.spec_line,
            expected="a line, area, points, dots, dumbbell or bar chart",
            found=spec.kind,
            fix="remove zoom: from this chart",
        )
    first = next((layer for layer in layers if all(channel in (layer.get("encoding") or {}) for channel in axes)), layers[0])
    first["params"] = [*first.get("params", []), {"name": "zoom", "select": {"type": "interval", "encodings": axes}, "bind": "scales"}]
    for layer in layers:
        mark = layer.get("mark")
        if mark is not None:
            layer["mark"] = {**(mark if isinstance(mark, dict) else {"type": mark}), "clip": True}
        for channel in axes:
            encoding = (layer.get("encoding") or {}).get(channel)
            if isinstance(encoding, dict) and encoding.get("type") in _CONTINUOUS:
                encoding["scale"] = {"padding": ZOOM_PADDING, **(encoding.get("scale") or {})}
                # The x axis's end labels sit ZOOM_PADDING in from its ends: still flush with them, not centred past them.
                axis = encoding.get("axis", {})
                if channel == "x" and isinstance(axis, dict):
                    encoding["axis"] = {"labelFlush": ZOOM_PADDING + 1, **axis}
