"""The ``trend`` check: along an axis column, the values rise (``expect: rising``) or fall: at every step, first to last, or fitted."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import statistics
from typing import Any

import pandas as pd

from claimsite.claims._checking import Checks, Noise, Result, magnitude, statistic
from claimsite.core.numbers import Cell, Number, difference
from claimsite.core.uncertainty import beyond
from claimsite.spec import model as spec_model
from claimsite.spec.report import Table


def check(checks: Checks, claim: spec_model.Trend) -> Result:
    """Along an axis column, the values rise (``expect: rising``) or fall: at every step, first to last, or fitted."""
    table, rows = checks.group(claim)
    along = table.column(claim.along, checks.file, checks.line)
    if table.frame[along].iloc[rows].isna().any():
        raise checks.error(f"the axis column {along!r} has empty cells in this group", fix="fill them in, or narrow where:")
    ordered = sorted(rows, key=lambda r: table.records[r][along])
    at, points = trend_points(checks, claim, table, ordered, along)
    if len(points) < 2:
        raise checks.error("a trend needs at least two values", found=f"{len(points)}", fix="widen where:")
    steps = [difference(b, a) for a, b in itertools.pairwise(points)]
    direction = "rising" if all(s.value > 0 for s in steps) else "falling" if all(s.value < 0 for s in steps) else "mixed"
    overall = difference(points[-1], points[0])
    slope = fitted_slope(checks, table, along, at, points)
    values = {
        "points": points,
        "first": points[0],
        "last": points[-1],
        "at": at,
        "change": magnitude(overall),
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


def trend_points(checks: Checks, claim: spec_model.Trend, table: Table, ordered: list[int], along: str) -> tuple[list[Cell], list[Number]]:
    """The values along the axis: each row's, or one aggregate per month or year of a date axis (whole periods only,
    unless the claim keeps or drops the partial ones)."""
    if claim.per is None:
        return [table.cell(r, along) for r in ordered], [checks.number(table, r) for r in ordered]
    dates = pd.to_datetime(table.frame[along].iloc[ordered])
    periods = dates.dt.to_period("M" if claim.per == "month" else "Y")
    partial = _partial_periods(dates, periods)
    if partial and claim.partial == "refuse":
        listed = ", ".join(f"{p.strftime('%B %Y' if claim.per == 'month' else '%Y')} ({share})" for p, share in partial.items())
        raise checks.error(
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
        numbers = [checks.number(table, r) for r in members]
        value = statistic(claim.stat, [n.value for n in numbers])
        shown = period.strftime("%B %Y" if claim.per == "month" else "%Y") + (f" ({partial[period]})" if period in partial else "")
        at.append(Cell(period.start_time, shown))
        sources = tuple(s for n in numbers for s in n.sources)
        points.append(Number(value, f"{claim.stat} of {shown}", sources, numbers[0].fmt, row=f"{claim.stat} of {len(numbers)} values in {shown}"))
    return at, points


def fitted_slope(checks: Checks, table: Table, along: str, at: list[Cell], points: list[Number]) -> Number:
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
