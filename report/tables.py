"""Tables on pages and in downloads: Markdown tables of data, and CSVs safe to open in a spreadsheet."""

from __future__ import annotations

import io

import pandas as pd

from report.text import inert

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


def markdown_table(frame: pd.DataFrame, titles: dict[str, str] | None = None, decimals: int = 1) -> str:
    """A Markdown table of the frame; cells are inert text, numbers right-aligned."""
    titles = titles or {}
    columns = [c for c in frame.columns if not str(c).startswith("_")]
    numeric = {c: pd.api.types.is_numeric_dtype(frame[c]) for c in columns}
    head = "| " + " | ".join(inert(titles.get(c, c)) for c in columns) + " |"
    rule = "| " + " | ".join("---:" if numeric[c] else "---" for c in columns) + " |"
    lines = [head, rule]
    for _, row in frame.iterrows():
        cells = []
        for column in columns:
            value = row[column]
            if pd.isna(value):
                cells.append("")
            elif numeric[column] and pd.api.types.is_float_dtype(frame[column]):
                cells.append(f"{value:.{decimals}f}")
            elif numeric[column]:
                cells.append(f"{int(value):,}")
            else:
                cells.append(inert(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
