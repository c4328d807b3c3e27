"""Text that goes onto pages: numbers with their sources, and data text made inert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Characters that Markdown or HTML would read as syntax; data text shows them as entities.
_INERT = {c: f"&#{ord(c)};" for c in "\\`*_{}[]#|<>&\"'~=$^"}


def inert(text: object) -> str:
    """Text from data, escaped so that neither Markdown nor HTML reads anything in it (in text or in attributes).

    Line breaks become spaces: a line break in a cell would otherwise end a table row or start a block.
    """
    return "".join(_INERT.get(c, c) for c in " ".join(str(text).splitlines()))


@dataclass(frozen=True)
class Source:
    """Where one value comes from: a CSV line (and the row's key), and whether it was read off a figure."""

    file: str
    line: int
    dataset: str
    approximate: bool
    precision: float
    key: str = ""

    def describe(self) -> str:
        """The source in words, as a tooltip shows it."""
        how = f"read off the figure, about ±{self.precision:g} points" if self.approximate else "published in a table"
        return f"{self.file}, line {self.line}; {how}"

    def to_dict(self) -> dict[str, Any]:
        """The source for claims.json."""
        return {"file": self.file, "line": self.line, "dataset": self.dataset, "key": self.key, "approximate": self.approximate}


@dataclass(frozen=True)
class Number:
    """A number from the data, shown with its unit and, on pages, with where it came from."""

    value: float
    label: str
    sources: tuple[Source, ...]
    unit: str = "%"
    decimals: int = 1

    def text(self) -> str:
        """The number as a sentence reads it: ``83.4%``, ``6.2 points`` or ``1,000.0 samples``."""
        return amount(self.value, self.unit, self.decimals)

    @property
    def approximate(self) -> bool:
        """Whether any value behind this number was read off a figure."""
        return any(source.approximate for source in self.sources)

    def provenance(self) -> str:
        """Where the number comes from, one source per line."""
        what = f"{self.label}: " if self.label else ""
        return what + "; ".join(source.describe() for source in self.sources)

    def __str__(self) -> str:
        return self.text()

    def __html__(self) -> str:
        mark = "~" if self.approximate else ""
        return (
            f'<span class="num{" num--approx" if self.approximate else ""}" tabindex="0" title="{inert(self.provenance())}">{mark}{inert(self.text())}</span>'
        )

    def __float__(self) -> float:
        return float(self.value)

    def to_dict(self) -> dict[str, Any]:
        """The number for claims.json."""
        return {
            "label": self.label,
            "value": round(self.value, 6),
            "unit": self.unit,
            "approximate": self.approximate,
            "sources": [source.to_dict() for source in self.sources],
        }


def difference(a: Number, b: Number) -> Number:
    """``a - b`` in percentage points, sourced from both."""
    return Number(
        value=round(a.value - b.value, 6),
        label=f"{a.label} minus {b.label}",
        sources=a.sources + b.sources,
        unit="points",
        decimals=max(a.decimals, b.decimals),
    )


def amount(value: float, unit: str, decimals: int = 1, signed: bool = False) -> str:
    """A number with its unit: ``83.4%``, ``-1.5 points``, ``12.0 mm``; the one place numbers are formatted."""
    number = f"{value:+,.{decimals}f}" if signed else f"{value:,.{decimals}f}"
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}".rstrip()


def finalize(value: Any) -> str:
    """How a page template shows ``{{ value }}``: our markup as is, anything else inert."""
    if hasattr(value, "__html__"):
        return value.__html__()
    if isinstance(value, float):
        raise TypeError("a bare float reached a page: show numbers with value() so they carry their source")
    return inert(value)


def finalize_plain(value: Any) -> str:
    """How plain text (claims.json, alt text, previews) shows ``{{ value }}``."""
    return str(value)
