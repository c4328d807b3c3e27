"""Claims: sentences backed by a check on the data. Observations adapt; assertions must hold."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jinja2

from report.errors import Problem, ReportError
from report.spec import SLUG, Mapping, Report, Table
from report.text import Number, difference, finalize, finalize_plain

KINDS = ("observation", "assertion")


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

    def __init__(self, report: Report, claim: Mapping) -> None:
        self.report = report
        self.claim = claim
        self.file = report.spec_file

    # -- reading values -------------------------------------------------------------

    def table(self, name: str) -> Table:
        if name not in self.report.tables:
            raise self.error(f"no table called {name!r}", expected=", ".join(self.report.tables), found=name)
        return self.report.tables[name]

    def number(self, table: Table, position: int, column: str | None = None) -> Number:
        return table.number(position, column, self.file, self.claim.line)

    def limit(self, key: str) -> float | None:
        """A numeric option (at_least, at_most, tolerance), or None when the claim does not set it."""
        if key not in self.claim:
            return None
        value = self.claim[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"{key}: must be a number of points", expected="e.g. 2.5", found=repr(value))
        return float(value)

    def expect(self, allowed: tuple[str, ...]) -> str:
        """The claim's ``expect:``, one of ``allowed`` (the first is the default)."""
        value = self.claim.get("expect", allowed[0])
        if value not in allowed:
            raise self.error("unknown expect:", expected=" or ".join(allowed), found=repr(value))
        return str(value)

    def ref(self, ref: Any, key: str) -> Number:
        """One value: ``{from: table, where: {column: value}}`` naming exactly one row, or a number."""
        if isinstance(ref, int | float) and not isinstance(ref, bool):
            return Number(float(ref), "stated value", (), unit="%")
        if not isinstance(ref, dict) or "from" not in ref:
            raise self.error(f"{key} must name a value", expected="{from: <table>, where: {<column>: <value>}}", found=repr(ref))
        table = self.table(ref["from"])
        rows = table.rows(ref.get("where") or {}, self.file, getattr(ref, "line", self.claim.line))
        if len(rows) != 1:
            raise self.error(
                f"{key} must select exactly one row of {table.name!r}",
                expected="one row",
                found=f"{len(rows)} rows for {dict(ref.get('where', {}))}",
                fix="add columns to where: until one row matches",
            )
        return self.number(table, rows[0], ref.get("value"))

    def group(self) -> tuple[Table, list[int]]:
        table = self.table(self.need("from"))
        return table, table.rows(self.claim.get("where") or {}, self.file, self.claim.line)

    def need(self, key: str) -> Any:
        if key not in self.claim:
            raise self.error(f"the {self.claim.get('check')} check needs {key}:", expected=key, found="nothing")
        return self.claim[key]

    def error(self, message: str, **detail: Any) -> ReportError:
        return ReportError.at(self.file, f"claim {self.claim.get('id')!r}: {message}", line=self.claim.line, **detail)

    # -- the checks -----------------------------------------------------------------

    def compare(self) -> tuple[bool, dict[str, Any]]:
        """``a`` is higher than ``b`` (or lower, with ``expect: lower``), optionally by at least/most N points."""
        a, b = self.ref(self.need("a"), "a"), self.ref(self.need("b"), "b")
        diff = difference(a, b)
        higher = a.value > b.value
        holds = higher if self.expect(("higher", "lower")) == "higher" else a.value < b.value
        return holds and self._within_limits(abs(diff.value)), {"a": a, "b": b, "diff": diff, "gap": _abs(diff), "higher": higher}

    def within(self) -> tuple[bool, dict[str, Any]]:
        """``a`` and ``b`` differ by at most ``tolerance`` points."""
        a, b = self.ref(self.need("a"), "a"), self.ref(self.need("b"), "b")
        diff = difference(a, b)
        self.need("tolerance")
        return abs(diff.value) <= (self.limit("tolerance") or 0.0), {"a": a, "b": b, "diff": diff, "gap": _abs(diff)}

    def order(self) -> tuple[bool, dict[str, Any]]:
        """The listed values stand in this order, highest first (or lowest, ``expect: ascending``)."""
        listed = self.need("items")
        if not isinstance(listed, list) or len(listed) < 2:
            raise self.error("items: must list at least two values", expected="items: [{from: ..., where: ...}, ...]", found=repr(listed))
        items = [self.ref(ref, f"items[{i}]") for i, ref in enumerate(listed)]
        values = [n.value for n in items]
        ascending = self.expect(("descending", "ascending")) == "ascending"
        pairs = list(itertools.pairwise(values))
        holds = all(x < y for x, y in pairs) if ascending else all(x > y for x, y in pairs)
        ranked = sorted(items, key=lambda n: n.value, reverse=True)
        return holds, {"items": items, "ranked": ranked}

    def trend(self) -> tuple[bool, dict[str, Any]]:
        """Along an axis column, the values rise (``expect: rising``, the default) or fall at every step."""
        table, rows = self.group()
        along = table.column(self.need("along"), self.file, self.claim.line)
        expect = self.expect(("rising", "falling"))
        if table.frame[along].iloc[rows].isna().any():
            raise self.error(f"the axis column {along!r} has empty cells in this group", fix="fill them in, or narrow where:")
        ordered = sorted(rows, key=lambda r: table.frame.iloc[r][along])
        points = [self.number(table, r) for r in ordered]
        if len(points) < 2:
            raise self.error("a trend needs at least two rows", found=f"{len(points)} rows", fix="widen where:")
        steps = [b.value - a.value for a, b in itertools.pairwise(points)]
        direction = "rising" if all(s > 0 for s in steps) else "falling" if all(s < 0 for s in steps) else "mixed"
        at = [table.frame.iloc[r][along] for r in ordered]
        return direction == expect, {
            "points": points,
            "first": points[0],
            "last": points[-1],
            "at": at,
            "change": _abs(difference(points[-1], points[0])) if direction != "falling" else _abs(difference(points[0], points[-1])),
            "direction": direction,
            "steps": [difference(b, a) for a, b in itertools.pairwise(points)],
        }

    def best(self) -> tuple[bool, dict[str, Any]]:
        """The row with the highest value in a group is the one ``expect:`` names."""
        return self._extreme(highest=True)

    def worst(self) -> tuple[bool, dict[str, Any]]:
        """The row with the lowest value in a group is the one ``expect:`` names."""
        return self._extreme(highest=False)

    def _extreme(self, highest: bool) -> tuple[bool, dict[str, Any]]:
        table, rows = self.group()
        if len(rows) < 2:
            raise self.error("best and worst need at least two rows", found=f"{len(rows)} rows", fix="widen where:")
        ranked = sorted((self.number(table, r) for r in rows), key=lambda n: n.value, reverse=highest)
        top, runner_up = ranked[0], ranked[1]
        margin = _abs(difference(top, runner_up))
        tied = top.value == runner_up.value
        expect = self.claim.get("expect")
        if expect is not None and not table.label:
            raise self.error(f"expect: needs table {table.name!r} to name its rows", fix=f"add label: <column> to {table.name} under data:")
        holds = not tied and (expect is None or top.label == str(expect))
        return holds, {"top": top, "runner_up": runner_up, "margin": margin, "ranked": ranked, "tied": tied}

    def every(self) -> tuple[bool, dict[str, Any]]:
        """Every value of a group (by size, ignoring sign) lies within ``at_most`` / ``at_least`` points."""
        table, rows = self.group()
        if not rows:
            raise self.error("every needs at least one row", found="0 rows", fix="widen where:")
        numbers = [self.number(table, r) for r in rows]
        sizes = sorted(numbers, key=lambda n: abs(n.value))
        holds = all(self._within_limits(abs(n.value)) for n in numbers)
        signs = {n.value > 0 for n in numbers if n.value}
        return holds, {
            "values": numbers,
            "largest": _abs(sizes[-1]),
            "smallest": _abs(sizes[0]),
            "count": len(numbers),
            "both_signs": len(signs) == 2,
        }

    def _within_limits(self, size: float) -> bool:
        """Whether a size in points meets the claim's at_least and at_most."""
        at_least, at_most = self.limit("at_least"), self.limit("at_most")
        return (at_least is None or size >= at_least) and (at_most is None or size <= at_most)


def _abs(number: Number) -> Number:
    return Number(abs(number.value), number.label, number.sources, number.unit, number.decimals)


CHECKS: dict[str, Callable[[Checks], tuple[bool, dict[str, Any]]]] = {
    name: getattr(Checks, name) for name in ("compare", "within", "order", "trend", "best", "worst", "every")
}


def count(number: Any) -> str:
    """A whole number with thousands separators: 10000 as 10,000."""
    return f"{int(number):,}"


def _environment(plain: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        finalize=finalize_plain if plain else finalize,
        keep_trailing_newline=False,
    )
    environment.filters.update(count=count, magnitude=_abs)
    return environment


_HTML, _PLAIN = _environment(plain=False), _environment(plain=True)


def _render(text: str, values: dict[str, Any], checks: Checks, plain: bool) -> str:
    environment = _PLAIN if plain else _HTML
    try:
        return " ".join(environment.from_string(text).render(values).split())
    except jinja2.TemplateSyntaxError as error:
        raise checks.error(f"the claim's text is not a valid template: {error.message}", fix="correct the {{ }} expression") from None
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


def evaluate(report: Report, spec: Mapping) -> Claim:
    """Run one claim's check and render its sentence, in HTML and as plain text."""
    if not isinstance(spec, dict):
        raise ReportError.at(report.spec_file, "each claim must be a mapping of keys", expected="- id: ...\n  check: ...", found=repr(spec))
    checks = Checks(report, spec if isinstance(spec, Mapping) else Mapping(spec))
    claim_id = str(spec.get("id", ""))
    if not SLUG.match(claim_id):
        raise checks.error(
            "a claim needs an id: a slug of lowercase words joined by hyphens",
            expected="e.g. id: selected-data-beats-raw",
            found=repr(spec.get("id")),
            fix="name the claim by what it says, not by its numbers, so that links to it survive data changes",
        )
    kind = spec.get("kind", "observation")
    if kind not in KINDS:
        raise checks.error("unknown kind", expected=" or ".join(KINDS), found=repr(kind))
    name = spec.get("check")
    if name not in CHECKS:
        raise checks.error("unknown check", expected=", ".join(CHECKS), found=repr(name))
    holds, values = CHECKS[name](checks)
    text = checks.need("text")
    limits = {key: f"{value:g}" for key in ("at_least", "at_most", "tolerance") if (value := checks.limit(key)) is not None}
    where = spec.get("where")
    context = {**values, **limits, "holds": holds, "where": dict(where) if isinstance(where, dict) else {}}
    return Claim(
        id=claim_id,
        kind=kind,
        check=name,
        html=_render(text, context, checks, plain=False),
        text=_render(text, context, checks, plain=True),
        holds=holds,
        values=values,
        line=checks.claim.line,
    )


def evaluate_all(report: Report, strict: bool = True) -> dict[str, Claim]:
    """Every claim of a report, checked; unless ``strict`` is off, one error listing every assertion the data rejects."""
    claims: dict[str, Claim] = {}
    for spec in report.claims:
        claim = evaluate(report, spec)
        if claim.id in claims:
            raise ReportError.at(report.spec_file, f"two claims have the id {claim.id!r}", line=spec.line, fix="give each claim its own id")
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
