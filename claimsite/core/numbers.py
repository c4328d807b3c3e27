"""Text that goes onto pages: numbers with their sources, and data text made inert."""

from __future__ import annotations

import dataclasses
import datetime
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd

from claimsite.core import provenance
from claimsite.core.provenance import AnySource
from claimsite.core.uncertainty import MOVER, NEWCOMBE, WILSON, beyond, mover

# Characters that Markdown or HTML would read as syntax; data text shows them as entities.
_INERT = MappingProxyType({c: f"&#{ord(c)};" for c in "\\`*_{}[]#|<>&\"'~=$^"})


def inert(text: object) -> str:
    """Text from data, escaped so that neither Markdown nor HTML reads anything in it (in text or in attributes).

    Line breaks become spaces: a line break in a cell would otherwise end a table row or start a block.
    """
    return "".join(_INERT.get(c, c) for c in " ".join(str(text).splitlines()))


CURRENCY_SYMBOLS = MappingProxyType({"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "CHF": "CHF "})
DURATION_SECONDS = MappingProxyType({"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400})


def symbol_unit(unit: str) -> bool:
    """Whether a unit is a short symbol ("%", "mm", "°C") that a column title carries, rather than a word ("samples")."""
    return bool(unit) and len(unit) <= 4 and " " not in unit


@dataclass(frozen=True)
class NumberFormat:
    """How a column's numbers print everywhere (text, tables, tooltips, axes), from its unit and declared display."""

    unit: str = ""
    decimals: int = 1
    thousands: bool = True
    scale: float = 1.0  # 100 for fractions of one printed as percentages
    currency: str | None = None
    duration: str | None = None  # the unit the values are in, printed as 1 h 05 min

    def text(self, value: float, signed: bool = False) -> str:
        """A value with its unit, as a sentence reads it: ``83.4%``, ``+2.1 °C``, ``1,691 samples``, ``€12.50``."""
        sign = "+" if signed and value >= 0 else "-" if value < 0 else ""
        if self.duration:
            return sign + _duration(abs(value) * DURATION_SECONDS[self.duration], self.decimals)
        number = self.cell(abs(value))
        if self.currency:
            return f"{sign}{CURRENCY_SYMBOLS.get(self.currency, self.currency + ' ')}{number}"
        return f"{sign}{number}{self.unit}" if self.unit == "%" else f"{sign}{number} {self.unit}".rstrip()

    def cell(self, value: float) -> str:
        """A value as a table cell shows it, without its unit (the column title carries it)."""
        if self.duration:
            return _duration(value * DURATION_SECONDS[self.duration], self.decimals)
        scaled = value * self.scale
        return f"{scaled:{',' if self.thousands else ''}.{self.decimals}f}"

    def difference(self) -> NumberFormat:
        """The format of a difference of two such values: percentages differ by points, other units by the unit."""
        if self.unit == "%":
            return NumberFormat("points", self.decimals, self.thousands, self.scale)
        return self

    def axis(self) -> str | None:
        """A d3 number format for an axis of these values (None: Vega's default)."""
        if self.scale == 100:
            return f".{max(self.decimals - 1, 0)}%"
        if self.decimals == 0:
            return ",d" if self.thousands else "d"
        return None


PERCENT = NumberFormat("%")
PLAIN = NumberFormat()


def _duration(seconds: float, decimals: int) -> str:
    """A duration in words: ``45.2 s``, ``3 min 05 s``, ``1 h 02 min``, ``2 d 4 h``."""
    if seconds < 60:
        return f"{seconds:.{decimals}f} s"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s"


@dataclass(frozen=True)
class DateFormat:
    """How a column's dates print: a strftime pattern, chosen from the data's resolution or declared."""

    pattern: str = "%-d %B %Y"

    def text(self, value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
            return ""
        return pd.Timestamp(value).strftime(self.pattern)

    @classmethod
    def for_values(cls, values: pd.Series, declared: str | None = None, with_time: bool = False) -> DateFormat:
        """The declared pattern, or the coarsest that tells these dates apart: a year, a month, a day (and the time)."""
        if declared:
            return cls(declared)
        stamps = pd.to_datetime(values.dropna())
        if with_time and not (stamps == stamps.dt.normalize()).all():
            return cls("%-d %B %Y %H:%M")
        if len(stamps) and (stamps.dt.day == 1).all() and (stamps.dt.month == 1).all():
            return cls("%Y")
        if len(stamps) and (stamps.dt.day == 1).all():
            return cls("%B %Y")
        return cls("%-d %B %Y")


@dataclass(frozen=True)
class Number:
    """A number from the data, shown with its unit, how sure it is and, on pages, where it came from."""

    value: float
    label: str
    sources: tuple[AnySource, ...]
    fmt: NumberFormat = PERCENT
    row: str = ""  # the row in words, by the columns that name it: "Lima, July 2023"
    interval: tuple[float, float] | None = None  # the 95% interval, in the value's own scale
    method: str = ""  # how the interval was found, in words
    n: int | None = None  # the trials a percentage is a share of
    n_unit: str = ""  # what the trials are: problems, questions
    cells: tuple[tuple[str, Any], ...] = ()  # the row's other cells, for {{ top.<column> }}
    change: bool = False  # a difference of two values: printed with its sign where a sign matters
    parts: tuple[Number, Number] | None = field(default=None, repr=False, compare=False)  # a difference: its two values

    @property
    def unit(self) -> str:
        """The unit it prints with ("%", "points", "mm" …)."""
        return self.fmt.unit

    def text(self) -> str:
        """The number as a sentence reads it: ``83.4%``, ``6.2 points`` or ``1,000 samples``."""
        return self.fmt.text(self.value)

    def signed(self) -> str:
        """The number with its sign, for a change: ``+2.1 °C``."""
        return self.fmt.text(self.value, signed=True)

    @property
    def share(self) -> float | None:
        """The value as a fraction of one, when it is a percentage (None otherwise)."""
        if self.fmt.scale == 100:
            return self.value
        return self.value / 100 if self.fmt.unit == "%" else None

    @property
    def low(self) -> Number:
        """The lower end of its 95% interval (the value itself when nothing is known of its uncertainty)."""
        return dataclasses.replace(self, value=self.interval[0] if self.interval else self.value, interval=None)

    @property
    def high(self) -> Number:
        """The upper end of its 95% interval."""
        return dataclasses.replace(self, value=self.interval[1] if self.interval else self.value, interval=None)

    def interval_text(self) -> str:
        """The 95% interval in words: ``22.7% to 59.4%``, ``-20.0 to +26.4 points`` (empty when unknown)."""
        if self.interval is None:
            return ""
        low, high = (self.fmt.text(end, signed=self.change) for end in self.interval)
        unit = f" {self.fmt.unit}" if self.fmt.unit and self.fmt.unit != "%" else ""
        return f"{low.removesuffix(unit)} to {high}"

    @property
    def of_n(self) -> str:
        """The count behind a percentage: ``12 of 30 problems`` (a difference: ``1 problem of 30``); empty when unknown."""
        if self.n is None:
            return ""
        share = self.value / 100 if self.fmt.unit in ("%", "points") and self.fmt.scale == 1 else self.value
        count = round(abs(share) * self.n)
        unit = self.n_unit[:-1] if count == 1 and self.n_unit.endswith("s") else self.n_unit
        if self.change:
            return f"{count:,} {unit} of {self.n:,}".replace("  ", " ")
        return f"{count:,} of {self.n:,} {self.n_unit}".rstrip()

    @property
    def beyond_noise(self) -> bool | None:
        """For a change: whether its 95% interval leaves out zero (None when nothing is known of its uncertainty)."""
        return beyond(self.interval)

    @property
    def approximate(self) -> bool:
        """Whether any value behind this number was read off a figure."""
        return any(source.approximate for source in self.sources)

    def provenance(self) -> str:
        """Where the number comes from, one source per line, and how sure it is."""
        what = f"{self.label}: " if self.label else ""
        sure = f"; 95% interval {self.interval_text()} ({self.method}{', ' + self.of_n if self.of_n else ''})" if self.interval else ""
        return what + provenance.describe(self.sources) + sure

    def __getitem__(self, column: str) -> Any:
        """Another cell of the row this value comes from: ``{{ top.region }}``, ``{{ top["n"] }}``."""
        for name, cell in self.cells:
            if name == column:
                return cell
        raise KeyError(column)

    def __str__(self) -> str:
        return self.text()

    def __html__(self) -> str:
        mark = "~" if self.approximate else ""
        return (
            f'<span class="num{" num--approx" if self.approximate else ""}" tabindex="0" title="{inert(self.provenance())}">{mark}{inert(self.text())}</span>'
        )

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def to_dict(self) -> dict[str, Any]:
        """The number for claims.json."""
        found: dict[str, Any] = {
            "label": self.label,
            "value": round(self.value, 6),
            "unit": self.unit,
            "text": self.text(),
            "approximate": self.approximate,
            "sources": provenance.to_dicts(self.sources),
        }
        if self.interval is not None:
            found["interval95"] = [round(end, 6) for end in self.interval]
            found["method"] = self.method
        if self.n is not None:
            found["n"] = self.n
        return found


@dataclass(frozen=True)
class Cell:
    """A value of the data that is not a measured number (a label, a date, a count on an axis): its value and how it prints."""

    value: Any
    shown: str

    def __str__(self) -> str:
        return self.shown

    def __html__(self) -> str:
        return inert(self.shown)

    def __int__(self) -> int:
        return int(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __eq__(self, other: object) -> bool:
        return bool(self.value == (other.value if isinstance(other, Cell) else other))

    def __hash__(self) -> int:
        return hash(self.value)


def difference(a: Number, b: Number) -> Number:
    """``a - b``, sourced from both: in points for percentages, else in their unit, with its 95% interval when either value has one.

    Two gains over the same baseline differ as the two values do: the baseline's uncertainty cancels out.
    """
    if a.parts and b.parts and a.parts[1].sources == b.parts[1].sources:
        shared = difference(a.parts[0], b.parts[0])
        return dataclasses.replace(shared, label=f"{a.label} minus {b.label}", sources=a.sources + b.sources, fmt=a.fmt, row=a.row)
    interval, method = None, ""
    if a.interval is not None or b.interval is not None:
        interval = mover(a.value, a.interval, b.value, b.interval)
        method = NEWCOMBE if a.method.startswith(WILSON) and b.method.startswith(WILSON) else MOVER
        if a.approximate or b.approximate:
            method += ", each value widened by its reading precision"
    return Number(
        value=round(a.value - b.value, 6),
        label=f"{a.label} minus {b.label}",
        sources=a.sources + b.sources,
        fmt=a.fmt.difference(),
        row=a.row,
        interval=interval,
        method=method,
        n=a.n if a.n == b.n else None,
        n_unit=a.n_unit,
        change=True,
        parts=(a, b),
    )


def amount(value: float, unit: str, decimals: int = 1, signed: bool = False) -> str:
    """A number with a unit given by name: ``83.4%``, ``-1.5 points``, ``12.0 mm`` (for values that carry no format)."""
    return NumberFormat(unit, decimals).text(value, signed=signed)


def readable(value: Any) -> Any:
    """A value as a page prints it: a date readably (3 July 2023), anything else as it is."""
    if isinstance(value, datetime.datetime | pd.Timestamp):
        return value.strftime("%-d %B %Y %H:%M") if (value.hour, value.minute) != (0, 0) else value.strftime("%-d %B %Y")
    if isinstance(value, datetime.date):
        return value.strftime("%-d %B %Y")
    return value


def finalize(value: Any) -> str:
    """How a page template shows ``{{ value }}``: our markup as is, anything else inert."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    if isinstance(value, float):
        raise TypeError("a bare float reached a page: show numbers with value() so they carry their source")
    return inert(readable(value))


def finalize_plain(value: Any) -> str:
    """How plain text (claims.json, alt text, previews) shows ``{{ value }}``."""
    return str(readable(value))
