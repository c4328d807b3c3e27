"""The report spec, declared once: every block an author writes in ``templates/reports/<slug>.yaml``.

The descriptions are the guide's documentation of each key; the classes validate specs and give
the JSON Schema that editors use (``schema/report.schema.json`` on the site).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from claimsite.core.schema import Block, Color, Doc, Scalar, Slug, Url, Where
from claimsite.data.descriptor import Display

D3Format = Annotated[str, Field(pattern=r"^[-+ ,.#0-9a-z%$]{1,12}$"), Doc('a d3 number format, e.g. ",d" or ".1f"')]
Shape = Literal["circle", "square", "cross", "diamond", "triangle-up", "triangle-down", "triangle-right", "triangle-left"]


def _ordered(domain: list[float]) -> list[float]:
    if not domain[0] < domain[1]:
        raise ValueError(f"a domain is [low, high] with low below high, not [{domain[0]:g}, {domain[1]:g}]")
    return domain


Domain = Annotated[list[float], Field(min_length=2, max_length=2), AfterValidator(_ordered), Doc("[low, high]: two numbers, the lower first")]


# -- values a claim reads ---------------------------------------------------------------


class Row(Block):
    """One value of a table: the row ``where`` selects (exactly one) and its value column."""

    from_: str = Field(alias="from", description="the table to read: a name under data: or views:")
    where: Where = Field(default_factory=dict, description="the columns and values that select exactly one row")
    value: str | None = Field(default=None, description="the column to read (default: the table's value column)")


def _value_kind(value: Any) -> str:
    return "row" if isinstance(value, dict) else "number"


Value = Annotated[
    Annotated[float, Tag("number")] | Annotated[Row, Tag("row")],
    Discriminator(_value_kind),
    Doc("{from: <table>, where: {<column>: <value>}}, or a number"),
]


# -- claims ------------------------------------------------------------------------------


class ClaimBase(Block):
    """What every claim has: its id, kind, check and sentence, and the groups it is checked in."""

    id: Slug = Field(description="the claim's permanent name, and its link: #claim-<id>")
    check: str = Field(description="the check the sentence rests on")
    kind: Literal["observation", "assertion"] = Field(
        default="observation", description="observation: words itself from the data; assertion: must hold, or the build stops"
    )
    text: str = Field(description="the sentence, a Jinja template over the values the check gives")
    short: str | None = Field(
        default=None,
        description="the claim said again in a few words (a template over the same values), which restate() prints, linked to the sentence",
    )
    each: str | None = Field(default=None, description="check once per value of this column (added to the where of every value read)")
    holds_in: Annotated[Literal["every", "any", "none"] | Annotated[int, Field(ge=1)], Doc("every, any, none, or a number of groups")] = Field(
        default="every", description="with each: in how many groups the check must hold: every, any, none, or at least N"
    )


NoiseRule = Literal["beyond", "within", "ignore"]
NOISE_DOC = (
    "beyond: an assertion holds only if the gap is beyond the 95% uncertainty; within: it says the gap is within it, "
    "whichever value is higher; ignore: it does not judge noise"
)


class Limits(Block):
    """Bounds on the size of a gap, in the value's unit (points for percentages)."""

    at_least: float | None = Field(default=None, description="the gap must be at least this large (points for percentages, else the unit)")
    at_most: float | None = Field(default=None, description="the gap must be at most this large (points for percentages, else the unit)")


class Compare(Limits, ClaimBase):
    """``a`` is higher than ``b`` (or lower), optionally by at least or at most some points, beyond the uncertainty."""

    check: Literal["compare"]
    a: Value = Field(description="the first value")
    b: Value = Field(description="the value it is compared with")
    expect: Literal["higher", "lower"] = Field(default="higher", description="which way round the assertion holds")
    noise: NoiseRule = Field(default="beyond", description=NOISE_DOC)


class Within(ClaimBase):
    """``a`` and ``b`` agree within a tolerance."""

    check: Literal["within"]
    a: Value = Field(description="the first value")
    b: Value = Field(description="the second value")
    tolerance: float = Field(ge=0, description="the largest gap, in points, at which they agree")


class Order(ClaimBase):
    """The listed values stand in this order, each step beyond the uncertainty."""

    check: Literal["order"]
    items: list[Value] = Field(min_length=2, description="the values, in the order the claim states")
    expect: Literal["descending", "ascending"] = Field(default="descending", description="highest first, or lowest first")
    noise: NoiseRule = Field(default="beyond", description=NOISE_DOC)


class Group(ClaimBase):
    """A claim over a group of rows of one table."""

    from_: str = Field(alias="from", description="the table to read")
    where: Where = Field(default_factory=dict, description="the rows to read (default: all)")


class Trend(Group):
    """Along an axis column, the values rise (or fall): at every step, from first to last, or by a fitted line."""

    check: Literal["trend"]
    along: str = Field(description="the column the values are ordered by")
    expect: Literal["rising", "falling"] = Field(default="rising", description="the direction an assertion states")
    method: Literal["steps", "overall", "fitted"] = Field(
        default="steps", description="steps: every step; overall: the last value against the first; fitted: the sign of a least-squares slope"
    )
    per: Literal["month", "year"] | None = Field(default=None, description="first aggregate the values per month or year of a date axis")
    stat: Literal["mean", "median", "sum", "min", "max"] = Field(default="mean", description="how values are aggregated per period")
    partial: Literal["refuse", "drop", "keep"] = Field(
        default="refuse",
        description="a period the data covers only in part (8 months of a year): refuse (an error naming it), drop it, or keep it, named as partial",
    )
    noise: NoiseRule = Field(default="beyond", description=NOISE_DOC + " (steps: each step; overall: first to last)")


class Best(Group):
    """The row with the highest value of a group is the one ``expect`` names, beyond the uncertainty."""

    check: Literal["best"]
    expect: Scalar | None = Field(default=None, description="the label of the row an assertion says is on top")
    noise: NoiseRule = Field(default="beyond", description=NOISE_DOC)


class Worst(Group):
    """The row with the lowest value of a group is the one ``expect`` names, beyond the uncertainty."""

    check: Literal["worst"]
    expect: Scalar | None = Field(default=None, description="the label of the row an assertion says is at the bottom")
    noise: NoiseRule = Field(default="beyond", description=NOISE_DOC)


class Every(Limits, Group):
    """Every value of a group (ignoring its sign) lies within bounds."""

    check: Literal["every"]


class Aggregate(Group):
    """A statistic of a group's values (mean, median, sum, min, max, count or share) lies within bounds."""

    check: Literal["aggregate"]
    stat: Literal["mean", "median", "sum", "min", "max", "count", "share"] = Field(
        default="mean", description="the statistic; share: the percentage of rows whose value is true (or 1)"
    )
    value: str | None = Field(default=None, description="the column (default: the table's value column)")
    at_least: float | None = Field(default=None, description="the statistic must be at least this")
    at_most: float | None = Field(default=None, description="the statistic must be at most this")


CHECKS: tuple[type[ClaimBase], ...] = (Compare, Within, Order, Trend, Best, Worst, Every, Aggregate)


def tag(block: type[Block], key: str) -> str:
    """The name a block's kind goes by: the one value its ``check`` or ``kind`` key takes."""
    return str(get_args(block.model_fields[key].annotation)[0])


Claim = Annotated[Compare | Within | Order | Trend | Best | Worst | Every | Aggregate, Field(discriminator="check")]


# -- charts ------------------------------------------------------------------------------


class Axis(Block):
    """An axis: the column on it and its title."""

    field: str = Field(description="the column on this axis")
    title: str | None = Field(default=None, description="the axis title (default: none)")


class ValueAxis(Axis):
    """An axis of values: its column, title, range and scale."""

    domain: Domain | None = Field(default=None, description="the axis range, [low, high] (default: fitted to the data)")
    scale: Literal["linear", "log"] = Field(default="linear", description="linear, or log for values spanning orders of magnitude (all above zero)")


class CategoryAxis(Axis):
    """An axis of categories: its column, title, order and label format."""

    type: Literal["ordinal", "quantitative"] = Field(default="ordinal", description="ordinal: evenly spaced categories; quantitative: a number line")
    sort_by: str | None = Field(default=None, description="another column to order the categories by")
    format: D3Format | None = Field(default=None, description="a d3 number format for the axis labels")


class LineAxis(Axis):
    """The axis lines and areas run along: dates, numbers or ordered categories."""

    type: Literal["temporal", "quantitative", "ordinal"] | None = Field(
        default=None, description="temporal (dates), quantitative (a number line) or ordinal (categories); default: from the column"
    )
    sort_by: str | None = Field(default=None, description="another column to order ordinal categories by")
    format: D3Format | None = Field(default=None, description="a d3 number format for the axis labels (dates print as the column says)")


class TitleAxis(Block):
    """An axis whose columns the chart names elsewhere: its title and range."""

    title: str | None = Field(default=None, description="the axis title")
    domain: Domain | None = Field(default=None, description="the axis range, [low, high]")


class Series(Block):
    """The column that splits rows into series, with their order, colours and shapes."""

    field: str = Field(description="the column that names each series")
    order: list[Scalar] | None = Field(default=None, description="the series in legend order; must list every series the data has")
    colors: list[Color] | None = Field(default=None, description="a colour per series, in order (default: a palette safe for colour blindness)")
    shapes: list[Shape] | None = Field(default=None, description="a point shape per series, in order")


class Interval(Block):
    """The uncertainty of each value, drawn as error bars or a band."""

    lower: str | None = Field(default=None, description="the column holding each value's lower bound (default: the table's 95% interval)")
    upper: str | None = Field(default=None, description="the column holding each value's upper bound (default: the table's 95% interval)")
    style: Literal["bars", "band"] | None = Field(default=None, description="error bars, or a band (default: a band on lines and areas, bars elsewhere)")

    @model_validator(mode="after")
    def _both_ends(self) -> Interval:
        if (self.lower is None) != (self.upper is None):
            raise ValueError("give lower and upper together, or neither (the table's 95% intervals)")
        return self


class Reference(Block):
    """A dashed line at the value of one row."""

    where: Where = Field(description="the row whose value the dashed line marks")


class ChartBase(Block):
    """What every chart has: its id, kind, title, caption and table."""

    id: Slug = Field(description="the chart's permanent name: its files and its link #fig-<id>")
    kind: str = Field(description="the kind of chart")
    title: str = Field(default="", description="the chart's title")
    caption: str = Field(default="", description="the caption under the chart")
    data: str = Field(description="the table drawn: a name under data: or views:")
    zoom: bool = Field(
        default=False,
        description="let readers zoom and pan the chart's number and date axes (drag, scroll); its script loads only when a reader clicks Zoom",
    )


class Points(ChartBase):
    """Points on a categorical x axis, series by colour and shape."""

    kind: Literal["points"]
    x: CategoryAxis = Field(description="the category axis")
    y: ValueAxis = Field(description="the value axis")
    series: Series = Field(description="the column that splits the points into series")
    line: list[Scalar] = Field(default_factory=list, description="series to join with a line")
    reference: Reference | None = Field(default=None, description="a dashed line at the value of one row")
    labels: str | None = Field(default=None, description="a column to label each point with")
    interval: Interval | None = Field(default=None, description="error bars from two columns")


class Dots(ChartBase):
    """A dot plot: one row per category, one dot per series."""

    kind: Literal["dots"]
    x: ValueAxis = Field(description="the value axis")
    y: Axis = Field(description="the category of each row")
    series: Series = Field(description="the column that splits the dots into series")
    zero_rule: bool = Field(default=False, description="draw a line at zero")
    interval: Interval | None = Field(default=None, description="error bars from two columns")


class End(Block):
    """One end of a dumbbell: a column, its name, colour and shape."""

    field: str = Field(description="the column of this end")
    title: str | None = Field(default=None, description="its name in the legend")
    color: Color = Field(default="#1f5a96", description="its colour")
    shape: Shape = Field(default="circle", description="its point shape")


class Dumbbell(ChartBase):
    """Two values per row, joined by a line."""

    kind: Literal["dumbbell"]
    y: Axis = Field(description="the row")
    x: TitleAxis = Field(default_factory=TitleAxis, description="the value axis")
    ends: list[End] = Field(min_length=2, max_length=2, description="the two columns to join")


class Along(ChartBase):
    """A chart along an axis: its x, its values and its series."""

    x: LineAxis = Field(description="the axis the marks run along: dates, numbers or ordered categories")
    y: ValueAxis = Field(description="the value axis")
    series: Series | None = Field(default=None, description="the column that splits the rows into series (default: one)")


class Line(Along):
    """Lines over time or along a number line, one per series, with their points."""

    kind: Literal["line"]
    points: bool = Field(default=True, description="draw a point at each value")
    interval: Interval | None = Field(default=None, description="a band (or error bars) from two columns")


class Area(Along):
    """Areas over time or along a number line, stacked by series."""

    kind: Literal["area"]
    stack: bool = Field(default=True, description="stack the series' areas (false: overlay them)")


class Bar(ChartBase):
    """Bars by category, grouped or stacked by series."""

    kind: Literal["bar"]
    x: CategoryAxis = Field(description="the category axis")
    y: ValueAxis = Field(description="the value axis (bars start at zero)")
    series: Series | None = Field(default=None, description="the column that splits each category's bar (default: one bar)")
    stack: bool = Field(default=False, description="stack the series' bars (false: side by side)")
    interval: Interval | None = Field(default=None, description="error bars from two columns (bars side by side only)")


class ColorScale(Block):
    """The value a heatmap's cells are coloured by, and the colours."""

    field: str = Field(description="the column coloured")
    title: str | None = Field(default=None, description="the legend title")
    scheme: Literal["blues", "greens", "oranges", "purples", "viridis", "blueorange", "redblue"] = Field(
        default="blues", description="the colour scheme: sequential (blues, greens, oranges, purples, viridis) or diverging (blueorange, redblue)"
    )
    domain: Domain | None = Field(default=None, description="the range of values the colours span")


class Heatmap(ChartBase):
    """A grid of two categories, each cell coloured by its value."""

    kind: Literal["heatmap"]
    x: Axis = Field(description="the column across")
    y: Axis = Field(description="the column down")
    color: ColorScale = Field(description="the value each cell is coloured by")
    labels: bool = Field(default=True, description="print each cell's value in it")


class VegaLite(ChartBase):
    """Any chart Vega-Lite can draw, written as a Vega-Lite specification; the build feeds it the table's rows."""

    kind: Literal["vega-lite"]
    spec: dict[str, Any] = Field(description="the Vega-Lite specification (mark, encoding, …) without data, URLs or expressions")


CHART_KINDS: tuple[type[ChartBase], ...] = (Points, Dots, Dumbbell, Line, Area, Bar, Heatmap, VegaLite)
Chart = Annotated[Points | Dots | Dumbbell | Line | Area | Bar | Heatmap | VegaLite, Field(discriminator="kind")]


# -- tables ------------------------------------------------------------------------------


class SampleSize(Block):
    """Sample sizes looked up in another dataset: one row per value of a column both tables have."""

    dataset: str = Field(description="the dataset holding the sample sizes, e.g. one row per benchmark")
    key: str = Field(description="the column both tables have, e.g. benchmark")
    column: str = Field(description="its column holding the sample size, e.g. problems")


class Uncertainty(Block):
    """How sure each value is: the sample size behind a percentage, a standard error, or a 95% interval."""

    n: Annotated[int | str | SampleSize | None, Doc("a number, a column, or {dataset, key, column}")] = Field(
        default=None, description="the number of trials each percentage is a share of (a Wilson interval follows)"
    )
    se: str | None = Field(default=None, description="a column of standard errors (the interval is ±1.96 of them)")
    lower: str | None = Field(default=None, description="a column of each value's 95% lower bound (with upper)")
    upper: str | None = Field(default=None, description="a column of each value's 95% upper bound (with lower)")

    @model_validator(mode="after")
    def _one_kind(self) -> Uncertainty:
        if isinstance(self.n, int) and not isinstance(self.n, bool) and self.n < 1:
            raise ValueError(f"a sample size is a whole number of trials, 1 or more, not {self.n}")
        if (self.lower is None) != (self.upper is None):
            raise ValueError("give lower and upper together")
        kinds = [name for name, given in (("n", self.n is not None), ("se", self.se is not None), ("lower/upper", self.lower is not None)) if given]
        if len(kinds) != 1:
            raise ValueError(f"give one of n, se or lower/upper, not {' and '.join(kinds) or 'none'}")
        return self


class DataTable(Block):
    """A short name for a dataset: the column holding each row's value, the one naming it, and how sure each value is."""

    dataset: str = Field(description="the resource's name in data/datapackage.yaml")
    value: str | None = Field(default=None, description="the column holding each row's value")
    label: str | None = Field(default=None, description="the column that names each row")
    uncertainty: Uncertainty | None = Field(default=None, description="how sure each value is (a figure reading's precision counts on its own)")


class MatchPart(Block):
    """A table whose rows repeat rows of another, and the column naming the row repeated."""

    from_: str = Field(alias="from", description="a table whose rows repeat rows of another")
    key: str = Field(description="the column naming the row it repeats")
    reading: str | None = Field(default=None, description="what these rows are, in the view's reading column")


class Against(Block):
    """The table the rows of a match view are paired with."""

    from_: str = Field(alias="from", description="the table the rows are matched with")
    key: str = Field(description="its column holding the names the key columns use")
    where: Where = Field(default_factory=dict, description="the rows to match with")


class Match(Block):
    """Rows of some tables paired with the row of another table they repeat."""

    match: list[MatchPart] = Field(min_length=1, description="the tables whose rows are matched")
    against: Against = Field(description="the table they are matched with")
    title: str | None = Field(default=None, description="the view's title")
    titles: dict[str, str] = Field(default_factory=dict, description="column titles for tables and tooltips")


class DifferenceOf(Block):
    """What a difference view subtracts from what."""

    from_: str = Field(alias="from", description="the table")
    baseline: Where = Field(description="the row every other row is compared with")
    by: str | None = Field(default=None, description="compare within groups of this column")
    keep_baseline: bool = Field(default=False, description="keep the baseline rows (a gain of zero)")
    titles: dict[str, str] = Field(default_factory=dict, description="column titles for tables and tooltips")


class Difference(Block):
    """Each row's value minus that of a baseline row."""

    difference: DifferenceOf = Field(description="what to subtract from what")
    title: str | None = Field(default=None, description="the view's title")


class ViewColumn(Block):
    """How a column a SQL view computes is titled and printed."""

    title: str | None = Field(default=None, description="its title in tables, tooltips and charts")
    unit: str | None = Field(default=None, description='the unit of its numbers, e.g. "%", mm; differences of "%" are in points')
    display: Display | None = Field(default=None, description="how its values print: decimals, percent (for fractions of one), currency …")


class Sql(Block):
    """A table computed in SQL (DuckDB's dialect) from the data package's datasets and the views above it, by their names."""

    sql: str = Field(min_length=1, description="one SELECT statement; it reads datasets and earlier views by name")
    title: str | None = Field(default=None, description="the view's title")
    value: str | None = Field(default=None, description="the column holding each row's value")
    label: str | None = Field(default=None, description="the column that names each row")
    columns: dict[str, ViewColumn] = Field(default_factory=dict, description="titles, units and formats of the columns it computes")
    uncertainty: Uncertainty | None = Field(default=None, description="how sure each value is, e.g. {n: <a column counting the rows>}")


def _view_kind(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    kinds = [kind for kind in ("match", "difference", "sql") if kind in value]
    return kinds[0] if len(kinds) == 1 else None


View = Annotated[
    Annotated[Match, Tag("match")] | Annotated[Difference, Tag("difference")] | Annotated[Sql, Tag("sql")],
    Discriminator(
        _view_kind,
        custom_error_type="kind_of_block",
        custom_error_message="a view is made by one of sql:, match: or difference:",
        custom_error_context={"expected": "sql: SELECT …, match: [...] with against: {...}, or difference: {...}"},
    ),
]


# -- the report --------------------------------------------------------------------------


class Cite(Block):
    """The work a report reproduces, for its Sources section."""

    title: str | None = Field(default=None, description="the cited work's title")
    authors: str | None = Field(default=None, description="its authors")
    year: int | str | None = Field(default=None, description="its year")
    id: str | None = Field(default=None, description="an identifier, e.g. arXiv:2506.18896")
    url: Url | None = Field(default=None, description="a link to it")
    code: Url | None = Field(default=None, description="a link to its code")


class ReportSpec(Block):
    """A report: its title, the tables it reads, its charts and its claims."""

    slug: Slug = Field(description="the report's folder on the site")
    title: str = Field(description="the page title")
    nav_title: str | None = Field(default=None, description="a shorter title for the navigation (default: the title)")
    summary: str = Field(default="", description="one or two sentences: the page description and link preview")
    headline: str | None = Field(default=None, description="the claim shown on the home page and in link previews")
    social_chart: str | None = Field(default=None, description="the chart on the link-preview card (default: the first)")
    listed: bool = Field(default=True, description="list the report in the navigation and on the home page")
    cite: Cite | None = Field(default=None, description="the work the report reproduces, for the page's Sources")
    data: dict[str, DataTable] = Field(default_factory=dict, description="short names for the datasets the report reads (a report may read only views)")
    views: dict[str, View] = Field(default_factory=dict, description="tables derived from the data: match or difference")
    charts: list[Chart] = Field(default_factory=list, description="the charts, each placed with figure('<id>')")
    claims: list[Claim] = Field(default_factory=list, description="the checked sentences, each placed with claim('<id>')")
    error_examples: list[Claim] = Field(default_factory=list, description="assertions the data rejects, shown with their error (guides)")
