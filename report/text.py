"""Text that goes onto pages: numbers with their sources, and data text made inert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from report.spec import Source

# Characters that Markdown or HTML would read as syntax; data text shows them as entities.
_INERT = {c: f"&#{ord(c)};" for c in "\\`*_{}[]#|<>&\"'~=$^"}


def inert(text: object) -> str:
    """Text from data, escaped so that neither Markdown nor HTML reads anything in it."""
    return "".join(_INERT.get(c, c) for c in str(text))


def attribute(text: object) -> str:
    """Text for an HTML attribute value: quotes escaped, and Markdown syntax too, as in ``inert``."""
    return inert(text)


@dataclass(frozen=True)
class Number:
    """A number from the data, shown with its unit and, on pages, with where it came from."""

    value: float
    label: str
    sources: tuple[Source, ...]
    unit: str = "%"
    decimals: int = 1
    points: bool = False

    def text(self) -> str:
        """The number as a sentence reads it: ``83.4%`` or ``6.2 points``."""
        number = f"{self.value:,.{self.decimals}f}"
        if self.points:
            return f"{number} points"
        return f"{number}{self.unit}" if self.unit == "%" else f"{number} {self.unit}".rstrip()

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
            f'<span class="num{" num--approx" if self.approximate else ""}" tabindex="0" '
            f'title="{attribute(self.provenance())}">{mark}{inert(self.text())}</span>'
        )

    def __float__(self) -> float:
        return float(self.value)

    def to_dict(self) -> dict[str, Any]:
        """The number for claims.json."""
        return {
            "label": self.label,
            "value": round(self.value, 6),
            "unit": "points" if self.points else self.unit,
            "approximate": self.approximate,
            "sources": [source.to_dict() for source in self.sources],
        }


def difference(a: Number, b: Number) -> Number:
    """``a - b`` in percentage points, sourced from both."""
    return Number(
        value=round(a.value - b.value, 6),
        label=f"{a.label} minus {b.label}",
        sources=a.sources + b.sources,
        decimals=max(a.decimals, b.decimals),
        points=True,
    )


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
