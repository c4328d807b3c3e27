"""Tables on pages and in downloads: Markdown tables of data, and CSVs safe to open in a spreadsheet."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd

from claimsite.core.numbers import DateFormat, NumberFormat, inert

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed so it stays text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(frame: pd.DataFrame) -> str:
    """The frame as CSV for download: numbers stay numbers, formula-like text is neutralised."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(_neutralise)
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def markdown_table(frame: pd.DataFrame, titles: dict[str, str] | None = None, formats: Mapping[str, NumberFormat | DateFormat] | None = None) -> str:
    """A Markdown table of the frame: cells are inert text, numbers right-aligned and printed in their column's format."""
    titles, formats = titles or {}, formats or {}
    columns = [c for c in frame.columns if not str(c).startswith("_")]
    numeric = {c: pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in columns}
    head = "| " + " | ".join(inert(titles.get(c, c)) for c in columns) + " |"
    rule = "| " + " | ".join("---:" if numeric[c] else "---" for c in columns) + " |"
    lines = [head, rule]
    for _, row in frame.iterrows():
        cells = []
        for column in columns:
            value, fmt = row[column], formats.get(column)
            if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
                cells.append("")
            elif isinstance(fmt, DateFormat):
                cells.append(inert(fmt.text(value)))
            elif numeric[column]:
                default = NumberFormat(decimals=1 if pd.api.types.is_float_dtype(frame[column]) else 0)
                cells.append(inert((fmt if isinstance(fmt, NumberFormat) else default).cell(float(value))))
            else:
                cells.append(inert(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
