"""Claims: sentences backed by a check on the data. Observations adapt; assertions must hold, beyond the data's uncertainty."""

from __future__ import annotations

import dataclasses
import datetime
import functools
import itertools
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import jinja2
import pandas as pd
from jinja2.exceptions import SecurityError

from claimsite.claims.literals import literal, typed_quantities
from claimsite.core import provenance
from claimsite.core.errors import Problem, ReportError
from claimsite.core.numbers import Cell, Number, NumberFormat, difference, finalize, finalize_plain
from claimsite.core.project import GENERATED_BY, Project
from claimsite.core.provenance import Source, ViewSource
from claimsite.core.sandbox import SANDBOX_FIX, ReportSandbox, TemplateLimit, past_limit, sandboxed
from claimsite.core.uncertainty import beyond
from claimsite.data.load import load_package
from claimsite.spec import model as spec_model
from claimsite.spec.report import Report, Table, load_report

Reason = Literal["values", "noise"]
SHOWN = 5  # values a failure message lists before "and N more" (claims.json keeps more)
LISTED = 20  # numbers of one list (a trend's points, an aggregate's values) claims.json keeps: the first and last ten


@dataclass(frozen=True)
class Claim:
    """A checked sentence: what it says, what it read, whether the data supports it, and why not."""

    id: str
    kind: str
    check: str
    html: str
    text: str
    holds: bool
    values: dict[str, Any]
    line: int | None
    why: str = ""
    reason: Reason = "values"  # why an assertion fails: its values, or the uncertainty of a gap
    short_html: str = ""  # the claim said again in a few words, if the spec gives it
    written: str = ""  # its text (and short text) as the spec writes them

    @property
    def anchor(self) -> str:
        """The permanent fragment of this claim on its page."""
        return f"claim-{self.id}"

    def numbers(self, per_list: int | None = None) -> dict[str, Number]:
        """Every number the check read, flattened: ``a``, ``items.1``, ``groups.<group>.a`` …; of a list longer than
        ``per_list``, its first and last ``per_list // 2`` (claims.json grows with the claims, not with the rows)."""
        return dict(_flatten(self.values, per_list=per_list))

    def omitted(self, per_list: int) -> dict[str, int]:
        """How many numbers of each list ``numbers(per_list)`` leaves out."""
        return {name: len(value) - per_list // 2 * 2 for name, value in self.values.items() if isinstance(value, list | tuple) and len(value) > per_list}


def _flatten(values: dict[str, Any], prefix: str = "", per_list: int | None = None) -> list[tuple[str, Number]]:
    found: list[tuple[str, Number]] = []
    for name, value in values.items():
        if isinstance(value, Number):
            found.append((prefix + name, value))
        elif isinstance(value, list | tuple):
            listed = list(enumerate(value))
            if per_list is not None and len(listed) > per_list:
                listed = listed[: per_list // 2] + listed[-(per_list // 2) :]
            found += [(f"{prefix}{name}.{i}", v) for i, v in listed if isinstance(v, Number)]
        elif isinstance(value, dict) and name == "groups":
            for group, inner in value.items():
                found += _flatten({k: v for k, v in inner.items() if k != "groups"}, f"{prefix}groups.{group}.", per_list)
    return found


@dataclass(frozen=True)
class Result:
    """What a check found: whether it holds, the values its sentence may use, and, when it fails, why, in words, and
    for what reason: the values themselves, or a gap the data's uncertainty does not let it judge (a different fix)."""

    holds: bool
    values: dict[str, Any]
    why: str = ""
    reason: Reason = "values"


@dataclass
class Noise:
    """Whether a gap is beyond the uncertainty of its two values, judged on their difference's 95% interval."""

    gap: Number
    rule: str
    beyond: bool | None = field(init=False)

    def __post_init__(self) -> None:
        self.beyond = beyond(self.gap.interval)

    @property
    def allows(self) -> bool:
        """Whether the claim's noise rule accepts this gap (beyond: not within noise; within: not beyond it)."""
        if self.rule == "ignore":
            return True
        if self.rule == "within":
            return self.beyond is False
        return self.beyond is not False

    def fails(self, values: dict[str, Any], what: str) -> Result:
        """The failure of a check whose gap this rule rejects, for the uncertainty's reason."""
        return Result(False, values, self.why(what), "noise")

    def why(self, what: str) -> str:
        """Why the rule rejects the gap: its size, its count and its interval, with the method."""
        counts = f" ({self.gap.of_n})" if self.gap.of_n else ""
        if self.rule == "within" and self.beyond is None:
            return f"{what}: the data gives no uncertainty for these values, so a gap within noise cannot be shown"
        where = "beyond" if self.beyond else "within"
        return (
            f"{what}: a gap of {_abs(self.gap).text()}{counts} is {where} the uncertainty; the 95% interval of the difference is "
            f"{self.gap.interval_text()} ({self.gap.method})"
        )


class Checks:
    """The vocabulary of checks a claim can name; each returns a Result."""

    def __init__(self, report: Report, claim: spec_model.ClaimBase, where: dict[str, Any] | None = None) -> None:
        self.report = report
        self.claim = claim
        self.file = report.spec_file
        self.line = claim.spec_line
        self.extra = where or {}  # the group of a quantified claim, added to every where

    # -- reading values -------------------------------------------------------------

    def table(self, name: str) -> Table:
        if name not in self.report.tables:
            raise self.error(f"no table called {name!r}", expected=", ".join(self.report.tables), found=name, fix="use a name under data: or views:")
        table = self.report.tables[name]
        if table.total_rows:
            raise self.error(
                f"view {name!r} has {table.total_rows:,} rows, too many to check claims over row by row",
                fix="read a view that aggregates it (GROUP BY), or use check: aggregate on a smaller view",
            )
        return table

    def number(self, table: Table, position: int, column: str | None = None) -> Number:
        return table.number(position, column, self.file, self.line)

    def pair(self, a: float | spec_model.Row, b: float | spec_model.Row) -> tuple[Number, Number]:
        """Two values compared; a number stated in the spec prints in the format of the value it is compared with."""
        first, second = self.ref(a, "a"), self.ref(b, "b")
        if isinstance(a, spec_model.Row) and not isinstance(b, spec_model.Row):
            second = dataclasses.replace(second, fmt=first.fmt)
        if isinstance(b, spec_model.Row) and not isinstance(a, spec_model.Row):
            first = dataclasses.replace(first, fmt=second.fmt)
        return first, second

    def ref(self, ref: float | spec_model.Row, key: str) -> Number:
        """One value: ``{from: table, where: {column: value}}`` naming exactly one row, or a number."""
        if not isinstance(ref, spec_model.Row):
            return Number(float(ref), "stated value", ())
        table = self.table(ref.from_)
        where = {**ref.where, **self.extra}
        rows = table.rows(where, self.file, ref.spec_line or self.line)
        if len(rows) != 1:
            raise self.error(
                f"{key} must select exactly one row of {table.name!r}",
                expected="one row",
                found=f"{len(rows)} rows for {where}",
                fix="add columns to where: until one row matches",
            )
        return self.number(table, rows[0], ref.value)

    def group(self, claim: spec_model.Group) -> tuple[Table, list[int]]:
        table = self.table(claim.from_)
        return table, table.rows({**claim.where, **self.extra}, self.file, self.line)

    def error(self, message: str, **detail: Any) -> ReportError:
        return ReportError.at(self.file, f"claim {self.claim.id!r}: {message}", line=self.line, **detail)

    # -- the checks -----------------------------------------------------------------

    def compare(self, claim: spec_model.Compare) -> Result:
        """``a`` is higher than ``b`` (or lower, with ``expect: lower``), by at least/most N, beyond the uncertainty."""
        a, b = self.pair(claim.a, claim.b)
        diff = difference(a, b)
        higher = a.value > b.value
        noise = Noise(diff, claim.noise)
        # Within noise is symmetric: a gap within the uncertainty says nothing of which value is higher.
        way = claim.noise == "within" or (a.value > b.value if claim.expect == "higher" else a.value < b.value)
        holds = way and _within_limits(claim, abs(diff.value)) and noise.allows
        values = {"a": a, "b": b, "diff": diff, "gap": _abs(diff), "higher": higher, "beyond_noise": noise.beyond}
        if holds:
            return Result(True, values)
        if not way:
            why = f"{a.label or 'a'} ({a.text()}) is {'not above' if claim.expect == 'higher' else 'not below'} {b.label or 'b'} ({b.text()})"
        elif not _within_limits(claim, abs(diff.value)):
            why = f"the gap is {_abs(diff).text()}, outside {_limits_text(claim, diff.fmt)}"
        else:
            return noise.fails(values, f"{a.label or 'a'} against {b.label or 'b'}")
        return Result(False, values, why)

    def within(self, claim: spec_model.Within) -> Result:
        """``a`` and ``b`` differ by at most ``tolerance`` points."""
        a, b = self.pair(claim.a, claim.b)
        diff = difference(a, b)
        holds = abs(diff.value) <= claim.tolerance
        why = "" if holds else f"they differ by {_abs(diff).text()}, more than the tolerance of {claim.tolerance:g}"
        return Result(holds, {"a": a, "b": b, "diff": diff, "gap": _abs(diff), "beyond_noise": beyond(diff.interval)}, why)

    def order(self, claim: spec_model.Order) -> Result:
        """The listed values stand in this order, highest first (or lowest, ``expect: ascending``), each step beyond noise."""
        items = [self.ref(ref, f"items[{i}]") for i, ref in enumerate(claim.items)]
        ranked = sorted(items, key=lambda n: n.value, reverse=True)
        for x, y in itertools.pairwise(items):
            way = claim.noise == "within" or (x.value < y.value if claim.expect == "ascending" else x.value > y.value)
            noise = Noise(difference(x, y), claim.noise)
            if not way:
                return Result(False, {"items": items, "ranked": ranked}, f"{x.label} ({x.text()}) does not come before {y.label} ({y.text()})")
            if not noise.allows:
                return noise.fails({"items": items, "ranked": ranked}, f"{x.label} against {y.label}")
        return Result(True, {"items": items, "ranked": ranked})

    def trend(self, claim: spec_model.Trend) -> Result:
        """Along an axis column, the values rise (``expect: rising``) or fall: at every step, first to last, or fitted."""
        table, rows = self.group(claim)
        along = table.column(claim.along, self.file, self.line)
        if table.frame[along].iloc[rows].isna().any():
            raise self.error(f"the axis column {along!r} has empty cells in this group", fix="fill them in, or narrow where:")
        ordered = sorted(rows, key=lambda r: table.records[r][along])
        at, points = self._trend_points(claim, table, ordered, along)
        if len(points) < 2:
            raise self.error("a trend needs at least two values", found=f"{len(points)}", fix="widen where:")
        steps = [difference(b, a) for a, b in itertools.pairwise(points)]
        direction = "rising" if all(s.value > 0 for s in steps) else "falling" if all(s.value < 0 for s in steps) else "mixed"
        overall = difference(points[-1], points[0])
        slope = self._slope(table, along, at, points)
        values = {
            "points": points,
            "first": points[0],
            "last": points[-1],
            "at": at,
            "change": _abs(overall),
            "overall": overall,
            "direction": direction,
            "steps": steps,
            "slope": slope,
        }
        values["beyond_noise"] = beyond(overall.interval)
        wanted = 1 if claim.expect == "rising" else -1
        if claim.noise == "within" and claim.method != "fitted":
            # Within noise is symmetric: each step (or the change overall) stays within the uncertainty, either way.
            changes = steps if claim.method == "steps" else [overall]
            noisy = next((i for i, s in enumerate(changes) if not Noise(s, claim.noise).allows), None)
            if noisy is None:
                return Result(True, values)
            where = f"the step from {at[noisy]} to {at[noisy + 1]}" if claim.method == "steps" else f"{at[0]} against {at[-1]}"
            return Noise(changes[noisy], claim.noise).fails(values, where)
        if claim.method == "steps":
            broken = next((i for i, s in enumerate(steps) if s.value * wanted <= 0), None)
            if broken is not None:
                verb = "stays level" if steps[broken].value == 0 else "falls" if claim.expect == "rising" else "rises"
                return Result(False, values, f"{verb} from {at[broken]} to {at[broken + 1]}: {points[broken].text()} → {points[broken + 1].text()}")
            noisy = next((i for i, s in enumerate(steps) if not Noise(s, claim.noise).allows), None)
            if noisy is not None:
                return Noise(steps[noisy], claim.noise).fails(values, f"the step from {at[noisy]} to {at[noisy + 1]}")
            return Result(True, values)
        measured = overall if claim.method == "overall" else slope
        if measured.value * wanted <= 0:
            named = "from first to last" if claim.method == "overall" else "by a least-squares line"
            return Result(False, values, f"{named} the values change by {measured.signed()}, not {claim.expect}")
        if claim.method == "overall" and not Noise(overall, claim.noise).allows:
            return Noise(overall, claim.noise).fails(values, f"{at[0]} against {at[-1]}")
        return Result(True, values)

    def _trend_points(self, claim: spec_model.Trend, table: Table, ordered: list[int], along: str) -> tuple[list[Cell], list[Number]]:
        """The values along the axis: each row's, or one aggregate per month or year of a date axis (whole periods only,
        unless the claim keeps or drops the partial ones)."""
        if claim.per is None:
            return [table.cell(r, along) for r in ordered], [self.number(table, r) for r in ordered]
        dates = pd.to_datetime(table.frame[along].iloc[ordered])
        periods = dates.dt.to_period("M" if claim.per == "month" else "Y")
        partial = _partial_periods(dates, periods)
        if partial and claim.partial == "refuse":
            listed = ", ".join(f"{p.strftime('%B %Y' if claim.per == 'month' else '%Y')} ({share})" for p, share in partial.items())
            raise self.error(
                f"the data covers only part of {len(partial)} {claim.per}{'s' * (len(partial) != 1)}: {listed}",
                expected=f"whole {claim.per}s, so that each {claim.stat} is over the same span",
                found=listed,
                fix="add partial: drop (leave them out) or partial: keep (use them, named as partial) to the claim",
            )
        at, points = [], []
        for period in dict.fromkeys(periods):
            if period in partial and claim.partial == "drop":
                continue
            members = [r for r, p in zip(ordered, periods, strict=True) if p == period]
            numbers = [self.number(table, r) for r in members]
            value = _statistic(claim.stat, [n.value for n in numbers])
            shown = period.strftime("%B %Y" if claim.per == "month" else "%Y") + (f" ({partial[period]})" if period in partial else "")
            at.append(Cell(period.start_time, shown))
            sources = tuple(s for n in numbers for s in n.sources)
            points.append(Number(value, f"{claim.stat} of {shown}", sources, numbers[0].fmt, row=f"{claim.stat} of {len(numbers)} values in {shown}"))
        return at, points

    def _slope(self, table: Table, along: str, at: list[Cell], points: list[Number]) -> Number:
        """The least-squares slope of the values along the axis: per year for dates, per unit for numbers, per step otherwise."""
        first = points[0]
        raw = [c.value for c in at]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw):
            xs, per = [float(v) for v in raw], ""
        elif all(isinstance(v, datetime.date) for v in raw):
            stamps = [pd.Timestamp(v) for v in raw]
            xs, per = [(s - stamps[0]).days / 365.25 for s in stamps], " a year"
        else:
            xs, per = [float(i) for i in range(len(at))], " a step"
        ys = [p.value for p in points]
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0
        unit = first.fmt.difference().unit
        fmt = dataclasses.replace(first.fmt.difference(), unit=(unit + per).strip(), decimals=first.fmt.decimals + 1)
        return Number(slope, f"fitted slope of {first.label or 'the values'}", tuple(s for p in points for s in p.sources), fmt, change=True)

    def best(self, claim: spec_model.Best) -> Result:
        """The row with the highest value in a group is the one ``expect:`` names, beyond the uncertainty."""
        return self._extreme(claim, highest=True)

    def worst(self, claim: spec_model.Worst) -> Result:
        """The row with the lowest value in a group is the one ``expect:`` names, beyond the uncertainty."""
        return self._extreme(claim, highest=False)

    def _extreme(self, claim: spec_model.Best | spec_model.Worst, highest: bool) -> Result:
        table, rows = self.group(claim)
        if len(rows) < 2:
            raise self.error("best and worst need at least two rows", found=f"{len(rows)} rows", fix="widen where:")
        ranked = sorted((self.number(table, r) for r in rows), key=lambda n: n.value, reverse=highest)
        top, runner_up = ranked[0], ranked[1]
        margin = _abs(difference(top, runner_up))
        tied = top.value == runner_up.value
        if claim.expect is not None and not table.label:
            raise self.error(f"expect: needs table {table.name!r} to name its rows", fix=f"add label: <column> to {table.name} under data:")
        noise = Noise(difference(top, runner_up), claim.noise)
        ties = [number for number in ranked if number.value == top.value]
        values = {"top": top, "runner_up": runner_up, "margin": margin, "ranked": ranked, "tied": tied, "ties": ties, "beyond_noise": noise.beyond}
        named = next((n for n in ranked if n.label == str(claim.expect)), None) if claim.expect is not None else None
        if claim.noise == "within" and named is not None and named is not top:
            # Within noise is symmetric: the named row may stand second, as long as the leader's gap to it is within noise.
            behind = Noise(difference(top, named), claim.noise)
            values = {"top": top, "expected": named, **{k: v for k, v in values.items() if k != "top"}, "beyond_noise": behind.beyond}
            if behind.allows:
                return Result(True, values)
            return behind.fails(values, f"{top.label} against {named.label}")
        if claim.expect is not None and top.label != str(claim.expect):
            values = {"top": top, **({"expected": named} if named else {}), **{k: v for k, v in values.items() if k != "top"}}
            shown = f" ({named.label}: {named.text()})" if named else f" ({claim.expect} is not in this group)"
            return Result(False, values, f"{'the highest' if highest else 'the lowest'} is {top.label} ({top.text()}), not {claim.expect}{shown}")
        if tied and claim.noise != "within":
            return Result(False, values, f"{rows_of(ties)} tie at {top.text()}")
        if not noise.allows:
            return noise.fails(values, f"{top.label} against {runner_up.label}")
        return Result(True, values)

    def every(self, claim: spec_model.Every) -> Result:
        """Every value of a group (by size, ignoring sign) lies within ``at_most`` / ``at_least``."""
        table, rows = self.group(claim)
        if not rows:
            raise self.error("every needs at least one row", found="0 rows", fix="widen where:")
        numbers = [self.number(table, r) for r in rows]
        sizes = sorted(numbers, key=lambda n: abs(n.value))
        outside = [n for n in numbers if not _within_limits(claim, abs(n.value))]
        signs = {n.value > 0 for n in numbers if n.value}
        values = {"values": numbers, "largest": _abs(sizes[-1]), "smallest": _abs(sizes[0]), "count": len(numbers), "both_signs": len(signs) == 2}
        why = f"{_listing(outside)} {'lies' if len(outside) == 1 else 'lie'} outside {_limits_text(claim, numbers[0].fmt)}" if outside else ""
        return Result(not outside, values, why)

    def aggregate(self, claim: spec_model.Aggregate) -> Result:
        """A statistic of a group's values lies within ``at_least`` and ``at_most``."""
        table, rows = self.group(claim)
        if not rows:
            raise self.error("an aggregate needs at least one row", found="0 rows", fix="widen where:")
        column = table.column(claim.value or table.value, self.file, self.line)
        numbers = [self.number(table, r, column) for r in rows] if claim.stat not in ("count", "share") else []
        if claim.stat == "count":
            value, fmt = float(len(rows)), NumberFormat(decimals=0)
        elif claim.stat == "share":
            cells = pd.to_numeric(table.frame[column].iloc[rows].astype("Float64"), errors="coerce").dropna()
            value, fmt = 100.0 * float(cells.mean()) if len(cells) else 0.0, NumberFormat("%")
        else:
            value, fmt = _statistic(claim.stat, [n.value for n in numbers]), numbers[0].fmt
        sources = tuple(s for n in numbers for s in n.sources) or tuple(s for r in rows for s in table.sources[r])
        result = Number(value, f"{claim.stat} of {len(rows)} rows of {table.name}", sources, fmt, row=f"{claim.stat} of {len(rows)} rows")
        holds = (claim.at_least is None or value >= claim.at_least) and (claim.at_most is None or value <= claim.at_most)
        why = "" if holds else f"the {claim.stat} is {result.text()}, outside {_limits_text(claim, fmt)}"
        return Result(holds, {"value": result, "count": len(rows), "values": numbers}, why)

    def run(self) -> Result:
        """The claim's check, once, or once per group of ``each`` with the quantifier ``holds_in``."""
        check = functools.partial(CHECKS[type(self.claim)], self)
        if self.claim.each is None:
            return check(self.claim)
        return self._quantified(check)

    def _quantified(self, check: Callable[[Any], Result]) -> Result:
        column = str(self.claim.each)
        tables = [self.table(name) for name in _tables_read(self.claim)]
        names: list[Any] = list(dict.fromkeys(v for table in tables for v in table.frame[table.column(column, self.file, self.line)].dropna().tolist()))
        if not names:
            raise self.error(f"each: {column} has no values in the tables read", fix="choose a column with values")
        groups: dict[str, dict[str, Any]] = {}
        held: list[tuple[str, str]] = []
        failing: list[tuple[str, str]] = []
        reasons: set[Reason] = set()
        for name in names:
            result = Checks(self.report, self.claim, {**self.extra, column: name}).once(name)
            groups[str(name)] = {**result.values, "holds": result.holds, "group": str(name)}
            (held if result.holds else failing).append((str(name), result.why))
            if not result.holds:
                reasons.add(result.reason)
        wanted = self.claim.holds_in
        holds = {"every": not failing, "any": bool(held), "none": not held}.get(str(wanted), len(held) >= (wanted if isinstance(wanted, int) else 0))
        values = {"groups": groups, "held": len(held), "total": len(names), "holding": [n for n, _ in held], "failing": [n for n, _ in failing]}
        if holds:
            return Result(True, values)
        if wanted == "none":
            return Result(False, values, f"it holds for {', '.join(n for n, _ in held)}")
        listed = "; ".join(f"{n}: {why}" for n, why in failing[:SHOWN]) + (f"; and {len(failing) - SHOWN} more" if len(failing) > SHOWN else "")
        needed = {"every": "every group", "any": "at least one group"}.get(str(wanted), f"at least {wanted} groups")
        reason: Reason = "noise" if reasons == {"noise"} else "values"
        return Result(False, values, f"holds in {len(held)} of {len(names)} groups of {column}, not {needed}; it fails for {listed}", reason)

    def once(self, group: Any) -> Result:
        """The check in one group of a quantified claim; an error says which group."""
        check = CHECKS[type(self.claim)]
        try:
            return check(self, self.claim)
        except ReportError as error:
            problem = error.problems[0]
            raise ReportError.at(
                problem.file,
                f"{problem.message} (in the group {self.claim.each} = {group})",
                line=problem.line,
                expected=problem.expected,
                found=problem.found,
                fix=problem.fix,
            ) from None


# Each check a spec may declare, by its declaration: one entry per check, the one place a new check is added.
CHECKS: MappingProxyType[type[spec_model.ClaimBase], Callable[[Checks, Any], Result]] = MappingProxyType(
    {
        spec_model.Compare: Checks.compare,
        spec_model.Within: Checks.within,
        spec_model.Order: Checks.order,
        spec_model.Trend: Checks.trend,
        spec_model.Best: Checks.best,
        spec_model.Worst: Checks.worst,
        spec_model.Every: Checks.every,
        spec_model.Aggregate: Checks.aggregate,
    }
)


def _tables_read(claim: spec_model.ClaimBase) -> list[str]:
    """The tables a claim reads, for the groups of ``each``."""
    if isinstance(claim, spec_model.Group):
        return [claim.from_]
    refs = [claim.a, claim.b] if isinstance(claim, spec_model.Compare | spec_model.Within) else list(getattr(claim, "items", []))
    return list(dict.fromkeys(ref.from_ for ref in refs if isinstance(ref, spec_model.Row)))


def _partial_periods(dates: pd.Series, periods: pd.Series) -> dict[Any, str]:
    """The periods the dates cover only in part, at the data's own step, each with how much: '8 of 12 months'.

    Years, months and days are counted; data at another step (weekly, say) covers a period in part when its first date
    comes a step or more after the period starts, or its last a step or more before the period ends.
    """
    days = dates.dt.normalize()
    distinct = pd.Series(sorted(days.unique()))
    gaps = distinct.diff().dropna()
    if bool(((days.dt.day == 1) & (days.dt.month == 1)).all()):
        step, unit = "Y", "years"
    elif bool((days.dt.day == 1).all()):
        step, unit = "M", "months"
    elif len(gaps) == 0 or gaps.min() == pd.Timedelta(days=1):
        step, unit = "D", "days"
    else:
        step, unit = "", ""
    found: dict[Any, str] = {}
    for period in dict.fromkeys(periods):
        inside = days[(periods == period).to_numpy()]
        if step:
            whole = len(pd.period_range(period.start_time, period.end_time, freq=step))
            covered = inside.dt.to_period(step).nunique()
            if covered < whole:
                found[period] = f"{covered} of {whole} {unit}"
        elif inside.min() - period.start_time >= gaps.median() or period.end_time.normalize() - inside.max() >= gaps.median():
            found[period] = f"{inside.min():%-d %B} to {inside.max():%-d %B} only"
    return found


def _statistic(stat: str, values: list[float]) -> float:
    functions: dict[str, Callable[[list[float]], float]] = {"mean": statistics.fmean, "median": statistics.median, "sum": sum, "min": min, "max": max}
    return float(functions[stat](values))


def _within_limits(claim: Any, size: float) -> bool:
    """Whether a size meets the claim's at_least and at_most."""
    return (claim.at_least is None or size >= claim.at_least) and (claim.at_most is None or size <= claim.at_most)


def _limits_text(claim: Any, fmt: NumberFormat) -> str:
    bounds = [
        f"at least {fmt.text(claim.at_least)}" if claim.at_least is not None else "",
        f"at most {fmt.text(claim.at_most)}" if claim.at_most is not None else "",
    ]
    return " and ".join(b for b in bounds if b) or "the bounds"


def _listing(numbers: list[Number]) -> str:
    """Some values in words, at most a handful: 'A (1.0), B (2.0) and 3 more'."""
    shown = ", ".join(f"{n.row or n.label} ({n.text()})" for n in numbers[:SHOWN])
    return shown + (f" and {len(numbers) - SHOWN} more" if len(numbers) > SHOWN else "")


def _abs(number: Number) -> Number:
    """A number without its sign (its interval turned round with it)."""
    if number.value >= 0:
        return number
    flipped = (-number.interval[1], -number.interval[0]) if number.interval else None
    return dataclasses.replace(number, value=-number.value, interval=flipped)


def rows_of(numbers: list[Number]) -> str:
    """The rows of some values in words, by their labels when those tell them apart, else by their keys: 'Lima, May 2021 and Quito, May 2021'."""
    labels = [number.label for number in numbers]
    names = labels if all(labels) and len(set(labels)) == len(labels) else [number.row or number.label for number in numbers]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""


def count(number: Any) -> str:
    """A whole number with thousands separators: 10000 as 10,000."""
    return f"{int(number):,}"


@functools.cache
def _environment(plain: bool) -> ReportSandbox:
    """The sandbox a claim's text is rendered in (HTML for pages, or plain text), reading only numbers and their sources."""
    environment = sandboxed(finalize=finalize_plain if plain else finalize, readable=(Number, Source, ViewSource, Cell), keep_trailing_newline=False)
    environment.filters.update(count=count, magnitude=_abs, rows=rows_of)
    environment.globals["literal"] = literal
    return environment


@functools.lru_cache(maxsize=4096)
def _template(text: str, plain: bool) -> jinja2.Template:
    """A claim's text compiled once: a rebuild in the same process (the live preview) renders it without parsing it again."""
    return _environment(plain).from_string(text)


def _render(text: str, values: dict[str, Any], checks: Checks, plain: bool) -> str:
    try:
        with _environment(plain).bounded():
            return " ".join(_template(text, plain).render(values).split())
    except (TemplateLimit, RecursionError, OverflowError, MemoryError) as error:
        reason, fix = past_limit(error, "print the check's values; build no text piece by piece")
        raise checks.error(f"the claim's text went past a limit: {reason}", fix=fix) from None
    except jinja2.TemplateSyntaxError as error:
        raise checks.error(f"the claim's text is not a valid template: {error.message}", fix="correct the {{ }} expression") from None
    except SecurityError as error:
        raise checks.error(f"the claim's text reaches for something a report may not use: {error}", fix=SANDBOX_FIX) from None
    except jinja2.UndefinedError as error:
        raise checks.error(
            f"the claim's text uses a value its check does not give: {error.message}",
            expected=", ".join(sorted(values)),
            fix="use one of the expected names",
        ) from None
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, ZeroDivisionError) as error:
        raise checks.error(
            f"the claim's text could not be written: {error}",
            fix="print numbers as {{ a }} (not {{ a.value }}), and use only the values the check gives",
        ) from None


def evaluate(report: Report, spec: spec_model.ClaimBase) -> Claim:
    """Run one claim's check and render its sentence, in HTML and as plain text."""
    checks = Checks(report, spec)
    typed = _typed(report, spec)
    if typed is not None:
        raise ReportError([typed])
    result = checks.run()
    limits = {key: f"{value:g}" for key in ("at_least", "at_most", "tolerance") if (value := getattr(spec, key, None)) is not None}
    context = {**result.values, **limits, "holds": result.holds, "where": dict(getattr(spec, "where", {}))}
    return Claim(
        id=spec.id,
        kind=spec.kind,
        check=spec.check,
        html=_render(spec.text, context, checks, plain=False),
        text=_render(spec.text, context, checks, plain=True),
        holds=result.holds,
        values=result.values,
        line=spec.spec_line,
        why=result.why,
        reason=result.reason,
        short_html=_render(spec.short, context, checks, plain=False) if spec.short else "",
        written=spec.text + "\n" + (spec.short or ""),
    )


def _typed(report: Report, spec: spec_model.ClaimBase) -> Problem | None:
    """The problem of a claim whose text types numbers by hand (None when every number comes from the data or is marked)."""
    typed = typed_quantities(spec.text) + typed_quantities(spec.short or "")
    if not typed:
        return None
    return Problem(
        file=report.spec_file,
        line=spec.spec_line,
        message=f"claim {spec.id!r}: its text types {'a number' if len(typed) == 1 else 'numbers'} by hand: {'; '.join(map(str, typed))}",
        expected="every number of a claim printed from the data, or marked as meant as written",
        found=", ".join(t.number for t in typed),
        fix=f"print it from the check's values (see the author's guide), or, if it is meant as written, mark it: {{{{ literal({typed[0].number!r}) }}}}",
    )


def evaluate_all(report: Report, strict: bool = True) -> dict[str, Claim]:
    """Every claim of a report, checked; unless ``strict`` is off, one error listing every assertion the data rejects."""
    typed = [problem for spec in report.claims if (problem := _typed(report, spec)) is not None]
    if typed:
        raise ReportError(typed)
    claims: dict[str, Claim] = {}
    for spec in report.claims:
        claim = evaluate(report, spec)
        if claim.id in claims:
            raise ReportError.at(report.spec_file, f"two claims have the id {claim.id!r}", line=spec.spec_line, fix="give each claim its own id")
        claims[claim.id] = claim
    failures = [failure(report, claim) for claim in claims.values() if claim.kind == "assertion" and not claim.holds]
    if failures and strict:
        raise ReportError(failures)
    return claims


def failure(report: Report, claim: Claim) -> Problem:
    """The problem of an assertion the data no longer supports: the sentence, why, its values and their rows (a handful)."""
    failing = [f"groups.{group}." for group in claim.values.get("failing", [])]
    numbers = sorted(claim.numbers().items(), key=lambda item: not any(item[0].startswith(prefix) for prefix in failing))
    listed = "; ".join(f"{name} = {number.text()} ({provenance.cite(number.sources) or 'stated in the spec'})" for name, number in numbers[:SHOWN])
    more = f"; and {len(numbers) - SHOWN} more values (in claims.json)" if len(numbers) > SHOWN else ""
    noisy = claim.reason == "noise"
    return Problem(
        file=report.spec_file,
        line=claim.line,
        message=f"assertion {claim.id!r} is not supported by the data: “{claim.text}”",
        expected=f"the {claim.check} check to hold" + (f"; it fails: {claim.why}" if claim.why else ""),
        found=listed + more,
        fix=(
            "say that the gap is within noise (noise: within) and word the sentence so, or give the data that makes it sure"
            if noisy
            else "correct the data if a value is wrong; otherwise reword or remove the assertion, or make it an observation"
        ),
    )


def current_claims(project: Project) -> dict[str, Any]:
    """The claims document of a project's data and specs, failing assertions included; renders nothing."""
    root = project.root.resolve()
    datasets = load_package(project.data, root)
    reports = [load_report(path.resolve(), datasets, root) for path in project.report_specs()]
    return claims_document([(report, evaluate_all(report, strict=False)) for report in reports])


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
                    "values": {name: number.to_dict() for name, number in claim.numbers(LISTED).items()},
                    **({"values_omitted": omitted} if (omitted := claim.omitted(LISTED)) else {}),
                }
            )
    return {"generated_by": GENERATED_BY, "claims": claims}
