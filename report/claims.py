"""Claims: sentences backed by a check on the data. Observations adapt; assertions must hold."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.sandbox import SecurityError

from report import spec_model
from report.errors import Problem, ReportError
from report.sandbox import SANDBOX_FIX, sandboxed
from report.spec import Report, Table
from report.text import Number, Source, difference, finalize, finalize_plain


@dataclass(frozen=True)
class Claim:
    """A checked sentence: what it says, what it read, and whether the data supports it."""

    id: str
    kind: str
    check: str
    html: str
    text: str
    holds: bool
    values: dict[str, Any]
    line: int | None

    @property
    def anchor(self) -> str:
        """The permanent fragment of this claim on its page."""
        return f"claim-{self.id}"

    def numbers(self) -> dict[str, Number]:
        """Every number the check read, flattened: ``a``, ``items.1``, ``points.0`` …"""
        flat: dict[str, Number] = {}
        for name, value in self.values.items():
            if isinstance(value, Number):
                flat[name] = value
            elif isinstance(value, list | tuple):
                flat.update({f"{name}.{i}": v for i, v in enumerate(value) if isinstance(v, Number)})
        return flat


class Checks:
    """The vocabulary of checks a claim can name; each returns (holds, values for its text)."""

    def __init__(self, report: Report, claim: spec_model.ClaimBase) -> None:
        self.report = report
        self.claim = claim
        self.file = report.spec_file
        self.line = claim.spec_line

    # -- reading values -------------------------------------------------------------

    def table(self, name: str) -> Table:
        if name not in self.report.tables:
            raise self.error(f"no table called {name!r}", expected=", ".join(self.report.tables), found=name, fix="use a name under data: or views:")
        return self.report.tables[name]

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
        rows = table.rows(ref.where, self.file, ref.spec_line or self.line)
        if len(rows) != 1:
            raise self.error(
                f"{key} must select exactly one row of {table.name!r}",
                expected="one row",
                found=f"{len(rows)} rows for {dict(ref.where)}",
                fix="add columns to where: until one row matches",
            )
        return self.number(table, rows[0], ref.value)

    def group(self, claim: spec_model.Group) -> tuple[Table, list[int]]:
        table = self.table(claim.from_)
        return table, table.rows(claim.where, self.file, self.line)

    def error(self, message: str, **detail: Any) -> ReportError:
        return ReportError.at(self.file, f"claim {self.claim.id!r}: {message}", line=self.line, **detail)

    # -- the checks -----------------------------------------------------------------

    def compare(self, claim: spec_model.Compare) -> tuple[bool, dict[str, Any]]:
        """``a`` is higher than ``b`` (or lower, with ``expect: lower``), optionally by at least/most N points."""
        a, b = self.pair(claim.a, claim.b)
        diff = difference(a, b)
        higher = a.value > b.value
        holds = higher if claim.expect == "higher" else a.value < b.value
        return holds and _within_limits(claim, abs(diff.value)), {"a": a, "b": b, "diff": diff, "gap": _abs(diff), "higher": higher}

    def within(self, claim: spec_model.Within) -> tuple[bool, dict[str, Any]]:
        """``a`` and ``b`` differ by at most ``tolerance`` points."""
        a, b = self.pair(claim.a, claim.b)
        diff = difference(a, b)
        return abs(diff.value) <= claim.tolerance, {"a": a, "b": b, "diff": diff, "gap": _abs(diff)}

    def order(self, claim: spec_model.Order) -> tuple[bool, dict[str, Any]]:
        """The listed values stand in this order, highest first (or lowest, ``expect: ascending``)."""
        items = [self.ref(ref, f"items[{i}]") for i, ref in enumerate(claim.items)]
        values = [n.value for n in items]
        pairs = list(itertools.pairwise(values))
        holds = all(x < y for x, y in pairs) if claim.expect == "ascending" else all(x > y for x, y in pairs)
        ranked = sorted(items, key=lambda n: n.value, reverse=True)
        return holds, {"items": items, "ranked": ranked}

    def trend(self, claim: spec_model.Trend) -> tuple[bool, dict[str, Any]]:
        """Along an axis column, the values rise (``expect: rising``, the default) or fall at every step."""
        table, rows = self.group(claim)
        along = table.column(claim.along, self.file, self.line)
        if table.frame[along].iloc[rows].isna().any():
            raise self.error(f"the axis column {along!r} has empty cells in this group", fix="fill them in, or narrow where:")
        ordered = sorted(rows, key=lambda r: table.frame.iloc[r][along])
        points = [self.number(table, r) for r in ordered]
        if len(points) < 2:
            raise self.error("a trend needs at least two rows", found=f"{len(points)} rows", fix="widen where:")
        steps = [b.value - a.value for a, b in itertools.pairwise(points)]
        direction = "rising" if all(s > 0 for s in steps) else "falling" if all(s < 0 for s in steps) else "mixed"
        at = [table.cell(r, along) for r in ordered]
        return direction == claim.expect, {
            "points": points,
            "first": points[0],
            "last": points[-1],
            "at": at,
            "change": _abs(difference(points[-1], points[0])) if direction != "falling" else _abs(difference(points[0], points[-1])),
            "direction": direction,
            "steps": [difference(b, a) for a, b in itertools.pairwise(points)],
        }

    def best(self, claim: spec_model.Best) -> tuple[bool, dict[str, Any]]:
        """The row with the highest value in a group is the one ``expect:`` names."""
        return self._extreme(claim, highest=True)

    def worst(self, claim: spec_model.Worst) -> tuple[bool, dict[str, Any]]:
        """The row with the lowest value in a group is the one ``expect:`` names."""
        return self._extreme(claim, highest=False)

    def _extreme(self, claim: spec_model.Best | spec_model.Worst, highest: bool) -> tuple[bool, dict[str, Any]]:
        table, rows = self.group(claim)
        if len(rows) < 2:
            raise self.error("best and worst need at least two rows", found=f"{len(rows)} rows", fix="widen where:")
        ranked = sorted((self.number(table, r) for r in rows), key=lambda n: n.value, reverse=highest)
        top, runner_up = ranked[0], ranked[1]
        margin = _abs(difference(top, runner_up))
        tied = top.value == runner_up.value
        if claim.expect is not None and not table.label:
            raise self.error(f"expect: needs table {table.name!r} to name its rows", fix=f"add label: <column> to {table.name} under data:")
        holds = not tied and (claim.expect is None or top.label == str(claim.expect))
        ties = [number for number in ranked if number.value == top.value]
        return holds, {"top": top, "runner_up": runner_up, "margin": margin, "ranked": ranked, "tied": tied, "ties": ties}

    def every(self, claim: spec_model.Every) -> tuple[bool, dict[str, Any]]:
        """Every value of a group (by size, ignoring sign) lies within ``at_most`` / ``at_least`` points."""
        table, rows = self.group(claim)
        if not rows:
            raise self.error("every needs at least one row", found="0 rows", fix="widen where:")
        numbers = [self.number(table, r) for r in rows]
        sizes = sorted(numbers, key=lambda n: abs(n.value))
        holds = all(_within_limits(claim, abs(n.value)) for n in numbers)
        signs = {n.value > 0 for n in numbers if n.value}
        return holds, {
            "values": numbers,
            "largest": _abs(sizes[-1]),
            "smallest": _abs(sizes[0]),
            "count": len(numbers),
            "both_signs": len(signs) == 2,
        }

    def run(self) -> tuple[bool, dict[str, Any]]:
        """The claim's check: (whether it holds, the values its text may use)."""
        check: Callable[[Any], tuple[bool, dict[str, Any]]] = getattr(self, self.claim.check)
        return check(self.claim)


def _within_limits(claim: spec_model.Limits, size: float) -> bool:
    """Whether a size in points meets the claim's at_least and at_most."""
    return (claim.at_least is None or size >= claim.at_least) and (claim.at_most is None or size <= claim.at_most)


def _abs(number: Number) -> Number:
    return dataclasses.replace(number, value=abs(number.value))


def rows(numbers: list[Number]) -> str:
    """The rows of some values in words: 'Lima, May 2021, Quito, May 2021 and Hobart, May 2021'."""
    names = [number.row or number.label for number in numbers]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""


def count(number: Any) -> str:
    """A whole number with thousands separators: 10000 as 10,000."""
    return f"{int(number):,}"


@functools.cache
def _environment(plain: bool) -> jinja2.Environment:
    """The sandbox a claim's text is rendered in (HTML for pages, or plain text), reading only numbers and their sources."""
    environment = sandboxed(finalize=finalize_plain if plain else finalize, readable=(Number, Source), keep_trailing_newline=False)
    environment.filters.update(count=count, magnitude=_abs, rows=rows)
    return environment


def _render(text: str, values: dict[str, Any], checks: Checks, plain: bool) -> str:
    environment = _environment(plain)
    try:
        return " ".join(environment.from_string(text).render(values).split())
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
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, ZeroDivisionError, OverflowError) as error:
        raise checks.error(
            f"the claim's text could not be written: {error}",
            fix="print numbers as {{ a }} (not {{ a.value }}), and use only the values the check gives",
        ) from None


def evaluate(report: Report, spec: spec_model.ClaimBase) -> Claim:
    """Run one claim's check and render its sentence, in HTML and as plain text."""
    checks = Checks(report, spec)
    holds, values = checks.run()
    limits = {key: f"{value:g}" for key in ("at_least", "at_most", "tolerance") if (value := getattr(spec, key, None)) is not None}
    context = {**values, **limits, "holds": holds, "where": dict(getattr(spec, "where", {}))}
    return Claim(
        id=spec.id,
        kind=spec.kind,
        check=spec.check,
        html=_render(spec.text, context, checks, plain=False),
        text=_render(spec.text, context, checks, plain=True),
        holds=holds,
        values=values,
        line=spec.spec_line,
    )


def evaluate_all(report: Report, strict: bool = True) -> dict[str, Claim]:
    """Every claim of a report, checked; unless ``strict`` is off, one error listing every assertion the data rejects."""
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
    """The problem of an assertion the data no longer supports: the sentence, its values and their rows."""
    values = "; ".join(
        f"{name} = {number.text()} ({', '.join(f'{s.file} line {s.line}' for s in number.sources) or 'stated in the spec'})"
        for name, number in claim.numbers().items()
    )
    return Problem(
        file=report.spec_file,
        line=claim.line,
        message=f"assertion {claim.id!r} is not supported by the data: “{claim.text}”",
        expected=f"the {claim.check} check to hold",
        found=values,
        fix="correct the data if a value is wrong; otherwise reword or remove the assertion, or make it an observation",
    )
