"""Where a value comes from: one row of a data file, or the rows a SQL view read to make it, said in bounded words.

A value read from a dataset names its file and line (a CSV's) or row (a Parquet file's). A value a SQL view made
names the rows that fed it, computed by its lineage (see ``claimsite.views._lineage``): how many, of which file, selected by
what (``model = 'A' and benchmark = 'B'``, said only once checked to select exactly those rows), and which lines.
However many rows a value summarises, its words stay under ``MAX_TEXT`` characters and its record in claims.json
lists at most ``MAX_RANGES`` runs of lines.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

MAX_TEXT = 1000  # characters of a value's provenance in words, however many rows it summarises
MAX_RANGES = 20  # runs of lines a claims.json record lists
SHOWN_RANGES = 3  # runs of lines the words list
MAX_WHERE = 300  # characters of a selection in words; a longer one is not said
FEW = 3  # rows of one file said one by one, in the order read (a difference's two values); more are counted


def row_unit(path: str) -> str:
    """What a file's rows are counted in: a CSV's lines, a Parquet file's rows."""
    return "row" if path.lower().endswith(".parquet") else "line"


@dataclass(frozen=True)
class Source:
    """One row of a data file: its line (a CSV's, counting the header as 1) or row number (a Parquet file's), and its key."""

    file: str
    line: int
    dataset: str
    approximate: bool
    precision: float
    key: str = ""
    precision_unit: str = "points"

    @property
    def how(self) -> str:
        """How the values of its file were obtained."""
        return f"read off the figure, about ±{self.precision:g} {self.precision_unit}" if self.approximate else "published in a table"

    def cite(self) -> str:
        """The row, as a message cites it: ``data/x.csv line 5``."""
        return f"{self.file} {row_unit(self.file)} {self.line}"

    def describe(self) -> str:
        """The source in words, as a tooltip shows it."""
        return f"{self.file}, {row_unit(self.file)} {self.line}; {self.how}"

    def to_dict(self) -> dict[str, Any]:
        """The source for claims.json."""
        return {row_unit(self.file): self.line, "file": self.file, "dataset": self.dataset, "key": self.key, "approximate": self.approximate}


@dataclass(frozen=True, eq=False)
class Rows:
    """Some rows of one data file: their lines (or row numbers), sorted, and the selection that picks exactly them, if known."""

    file: str
    dataset: str
    lines: npt.NDArray[np.int64] = field(repr=False)
    where: str = ""

    @property
    def count(self) -> int:
        return len(self.lines)

    def ranges(self, limit: int | None = None) -> list[tuple[int, int]]:
        """The lines as runs of consecutive lines, the first ``limit`` of them."""
        if not len(self.lines):
            return []
        breaks = np.flatnonzero(np.diff(self.lines) != 1)
        starts = np.concatenate(([0], breaks + 1))[:limit]
        ends = np.concatenate((breaks, [len(self.lines) - 1]))[:limit]
        return [(int(self.lines[s]), int(self.lines[e])) for s, e in zip(starts, ends, strict=True)]

    def runs(self) -> int:
        return int(np.count_nonzero(np.diff(self.lines) != 1) + 1) if len(self.lines) else 0

    def where_text(self) -> str:
        return f" where {self.where}" if self.where else ""

    def lines_text(self) -> str:
        """The lines in words: ``line 5``, ``lines 2–25,001``, ``lines 2–9, 12 and 40–41, and 7 more runs``."""
        unit = row_unit(self.file)
        if self.count == 1:
            return f"{unit} {int(self.lines[0]):,}"
        shown = ", ".join(f"{a:,}" if a == b else f"{a:,}–{b:,}" for a, b in self.ranges(SHOWN_RANGES))
        more = self.runs() - SHOWN_RANGES
        return f"{unit}s {shown}" + (f", and {more:,} more run{'s' * (more != 1)}" if more > 0 else "")

    def describe(self) -> str:
        """``25,000 rows of data/log.csv where model = 'A'`` (or, with no selection in words, their lines)."""
        if self.count == 1:
            return f"{self.file}, {self.lines_text()}"
        return f"{self.count:,} rows of {self.file}" + (self.where_text() or f" ({self.lines_text()})")

    def cite(self) -> str:
        """The rows as a message cites them: ``data/log.csv lines 2–25,001 (25,000 rows where model = 'A')``."""
        if self.count == 1:
            return f"{self.file} {self.lines_text()}"
        return f"{self.file} {self.lines_text()} ({self.count:,} rows{self.where_text()})"

    def to_dict(self) -> dict[str, Any]:
        """The rows for claims.json: their file, count, selection and runs of lines (at most ``MAX_RANGES``)."""
        ranges = self.ranges(MAX_RANGES)
        found: dict[str, Any] = {"file": self.file, "dataset": self.dataset, "rows": self.count, f"{row_unit(self.file)}s": [list(r) for r in ranges]}
        if self.runs() > MAX_RANGES:
            found["more_runs"] = self.runs() - MAX_RANGES
        if self.where:
            found["where"] = self.where
        return found


@dataclass(frozen=True, eq=False)
class ViewSource:
    """Where a value of a SQL view comes from: the view, the aggregate that made it and the source rows that fed it."""

    view: str
    sql: str
    row: int  # the view's row, from 1
    spec_file: str
    spec_line: int | None
    files: tuple[str, ...]
    datasets: tuple[str, ...] = ()  # the datasets of those files
    inputs: tuple[Rows, ...] = ()  # the source rows, per file (exact when ``exact``)
    how: str = ""  # the aggregate that made the value: mean, sum, count …
    fed: int | None = None  # how many input rows the aggregate read (values of a view it reads, or rows of a file)
    exact: bool = False  # whether the lineage was computed (else only the view and its files are known)
    key: str = ""  # the row's key in words

    @property
    def approximate(self) -> bool:
        return False

    @property
    def file(self) -> str:
        return self.files[0] if self.files else self.view

    @property
    def total(self) -> int:
        return sum(rows.count for rows in self.inputs)

    def describe(self) -> str:
        """``mean of 500 rows of data/log.csv where model = 'A' (view accuracy)``, bounded."""
        if not self.exact:
            return _bounded(f"computed by view {self.view} from {', '.join(self.files) or 'no data file'}")
        if not self.inputs:
            return _bounded(f"stated in view {self.view}, from no data file")
        fed = " and ".join(rows.describe() for rows in self.inputs)
        direct = self.fed is not None and len(self.inputs) == 1 and self.fed == self.total
        if self.how and direct:
            text = f"{self.how} of {fed}"
        elif self.how and self.fed is not None:
            text = f"{self.how} of {self.fed:,} value{'s' * (self.fed != 1)}, from {fed}"
        else:
            text = fed
        return _bounded(f"{text} (view {self.view})")

    def cite(self) -> str:
        """The rows behind the value, as a message cites them, or the view's row when none is known."""
        if self.exact and self.inputs:
            return _bounded("; ".join(rows.cite() for rows in self.inputs) + f", via view {self.view}")
        return f"view {self.view} row {self.row}" + (f" ({self.key})" if self.key else "")

    def to_dict(self) -> dict[str, Any]:
        """The origin for claims.json: the view, its SQL, the aggregate and the rows of each file (bounded)."""
        found: dict[str, Any] = {"view": self.view, "sql": self.sql, "row": self.row, "key": self.key, "files": list(self.files), "exact": self.exact}
        if self.how:
            found["aggregate"] = self.how
        if self.fed is not None:
            found["values"] = self.fed
        if self.exact:
            found["from"] = [rows.to_dict() for rows in self.inputs]
        return found


AnySource = Source | ViewSource


def describe(sources: Sequence[AnySource]) -> str:
    """Where some values come from, in words: one row, many rows of a file grouped, each view's rows merged; bounded."""
    return _bounded("; ".join(part for part, _ in _groups(sources)))


def cite(sources: Sequence[AnySource], limit: int = 2) -> str:
    """The rows behind some values, as a failure message cites them (a handful), or '' when there are none."""
    cited = [c for _, c in _groups(sources)]
    more = len(cited) - limit
    return _bounded("; ".join(cited[:limit]) + (f"; and {more} more" if more > 0 else ""))


def to_dicts(sources: Sequence[AnySource]) -> list[dict[str, Any]]:
    """Sources for claims.json, grouped as ``describe`` groups them: one record per single row, file or view."""
    records: list[dict[str, Any]] = []
    for group in _grouped(sources):
        first = group[0]
        if isinstance(first, Source):
            if len(group) == 1:
                records.append(first.to_dict())
            else:
                rows = _rows_of([s for s in group if isinstance(s, Source)])
                records.append({**rows.to_dict(), "approximate": first.approximate})
        elif len(group) == 1:
            records.append(first.to_dict())
        else:
            views = [s for s in group if isinstance(s, ViewSource)]
            merged = _merged_inputs(views)
            records.append(
                {
                    "view": first.view,
                    "sql": first.sql,
                    "view_rows": len(views),
                    "files": list(first.files),
                    "exact": merged is not None,
                    **({"from": [rows.to_dict() for rows in merged]} if merged is not None else {}),
                }
            )
    return records


def _grouped(sources: Iterable[AnySource]) -> list[list[AnySource]]:
    groups: dict[tuple[str, str], dict[AnySource, None]] = {}  # each group's sources once, in the order read
    for source in sources:
        key = ("file", source.file) if isinstance(source, Source) else ("view", source.view)
        groups.setdefault(key, {})[source] = None
    return [list(group) for group in groups.values()]


def _groups(sources: Iterable[AnySource]) -> list[tuple[str, str]]:
    """Each group of sources in words and as cited."""
    said = []
    for group in _grouped(sources):
        first = group[0]
        if len(group) == 1:
            said.append((first.describe(), first.cite()))
        elif isinstance(first, Source) and len(group) <= FEW:
            lines = [f"{s.line:,}" for s in group if isinstance(s, Source)]
            listed = f"{row_unit(first.file)}s {', '.join(lines[:-1])} and {lines[-1]}"
            said.append((f"{first.file}, {listed}; {first.how}", f"{first.file} {listed}"))
        elif isinstance(first, Source):
            rows = _rows_of([s for s in group if isinstance(s, Source)])
            said.append((f"{rows.describe()}; {first.how}", rows.cite()))
        else:
            views = [s for s in group if isinstance(s, ViewSource)]
            merged = _merged_inputs(views)
            head = f"{len(views):,} rows of view {first.view}"
            if merged is None:
                said.append((f"{head}, computed from {', '.join(first.files)}", head))
            else:
                fed = " and ".join(rows.describe() for rows in merged)
                said.append((f"{head}, from {fed}", "; ".join(rows.cite() for rows in merged) + f", via view {first.view}"))
    return said


def _rows_of(sources: list[Source]) -> Rows:
    first = sources[0]
    return Rows(first.file, first.dataset, np.unique(np.array([s.line for s in sources], dtype=np.int64)))


def _merged_inputs(views: list[ViewSource]) -> list[Rows] | None:
    """The source rows of several rows of one view, per file (None when any row's lineage is unknown)."""
    return _merged(tuple(views))


@functools.lru_cache(maxsize=256)
def _merged(views: tuple[ViewSource, ...]) -> list[Rows] | None:
    if not all(view.exact for view in views):
        return None
    by_file: dict[str, list[Rows]] = {}
    for view in views:
        for rows in view.inputs:
            by_file.setdefault(rows.file, []).append(rows)
    merged = []
    for file, parts in by_file.items():
        where = parts[0].where if all(part.where == parts[0].where for part in parts) else ""
        merged.append(Rows(file, parts[0].dataset, np.unique(np.concatenate([part.lines for part in parts])), where))
    return merged


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
