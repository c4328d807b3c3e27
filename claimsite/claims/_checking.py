"""What every claim check shares: the values it reads, what it finds (a ``Result``, with a typed reason when it
fails), and whether a gap is beyond the data's uncertainty (``Noise``)."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from claimsite.core.errors import ReportError
from claimsite.core.numbers import Number, NumberFormat
from claimsite.core.uncertainty import beyond
from claimsite.spec import model as spec_model
from claimsite.spec.report import Report, Table

Reason = Literal["values", "noise"]
SHOWN = 5  # values a failure message lists before "and N more" (claims.json keeps more)


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
            f"{what}: a gap of {magnitude(self.gap).text()}{counts} is {where} the uncertainty; the 95% interval of the difference is "
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


def within_limits(claim: Any, size: float) -> bool:
    """Whether a size meets the claim's at_least and at_most."""
    return (claim.at_least is None or size >= claim.at_least) and (claim.at_most is None or size <= claim.at_most)


def limits_text(claim: Any, fmt: NumberFormat) -> str:
    bounds = [
        f"at least {fmt.text(claim.at_least)}" if claim.at_least is not None else "",
        f"at most {fmt.text(claim.at_most)}" if claim.at_most is not None else "",
    ]
    return " and ".join(b for b in bounds if b) or "the bounds"


def listing(numbers: list[Number]) -> str:
    """Some values in words, at most a handful: 'A (1.0), B (2.0) and 3 more'."""
    shown = ", ".join(f"{n.row or n.label} ({n.text()})" for n in numbers[:SHOWN])
    return shown + (f" and {len(numbers) - SHOWN} more" if len(numbers) > SHOWN else "")


def magnitude(number: Number) -> Number:
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


def statistic(stat: str, values: list[float]) -> float:
    functions: dict[str, Callable[[list[float]], float]] = {"mean": statistics.fmean, "median": statistics.median, "sum": sum, "min": min, "max": max}
    return float(functions[stat](values))
