"""Large data files, read by DuckDB out of core: validated against the descriptor, with every bad cell located, and kept.

A CSV past ``LARGE_BYTES`` (or any Parquet file) is loaded once into a DuckDB database under
``.cache/data/``, keyed by the file's bytes and its description: a rebuild whose data did not change
opens that database instead of reading the file again. Memory stays bounded (DuckDB spills to disk).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from report import reading
from report.errors import ReportError
from report.package_model import Resource as DeclaredResource
from report.uptodate import code_version

LARGE_BYTES = 5_000_000
HEAD_ROWS = 20
MEMORY_LIMIT = "400MB"


@dataclass(frozen=True)
class Stored:
    """A large dataset as DuckDB keeps it: its database file, its row count, its first rows and a summary of each column."""

    store: Path
    rows: int
    head: pd.DataFrame
    summary: pd.DataFrame
    lines: tuple[int, ...]  # the first rows' lines (a CSV's) or row numbers (a Parquet file's)


def is_large(path: Path) -> bool:
    """Whether a data file is read by DuckDB: Parquet, or a CSV past the size frictionless reads in memory."""
    return path.suffix.lower() == ".parquet" or path.stat().st_size >= LARGE_BYTES


quote = reading.quote


def connect(memory_limit: str = MEMORY_LIMIT, temp: Path | None = None, threads: int | None = None) -> Any:
    """A DuckDB connection whose memory is bounded, spilling to ``temp`` (see ``spilling``); it never installs or loads extensions.

    ``threads=1`` makes results repeatable: rows come in the same order, and sums of floats add up in the same order.
    """
    import duckdb

    config: dict[str, Any] = {"memory_limit": memory_limit, "autoinstall_known_extensions": False, "autoload_known_extensions": False}
    if threads is not None:
        config["threads"] = threads
    if temp is not None:
        config["temp_directory"] = str(temp)
    return duckdb.connect(config=config)


@contextlib.contextmanager
def spilling() -> Iterator[Path]:
    """A folder of its own for DuckDB to spill to, outside the project (so that `check` writes nothing there), removed after."""
    folder = Path(tempfile.mkdtemp(prefix="report-spill-"))
    try:
        yield folder / "spill"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fingerprint(path: Path, resource: DeclaredResource) -> str:
    import duckdb

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    digest.update(resource.model_dump_json(by_alias=True).encode())
    digest.update(f"{duckdb.__version__} {code_version()}".encode())  # a store is made by this code, with this DuckDB
    return digest.hexdigest()[:24]


def load(source: reading.Source, folder: Path, scratch: Path | None = None) -> Stored:
    """The data file loaded and validated by DuckDB (or its store in ``folder`` from an earlier build); one error with every problem otherwise.

    With ``scratch``, nothing is written to ``folder``: a store kept there is read, and a new one is made in ``scratch``.
    """
    resource, path = source.declared, source.path
    store = folder / f"{resource.name}-{_fingerprint(path, resource)}.duckdb"
    if scratch is not None and not store.is_file():
        folder = scratch
        store = folder / store.name
    if not store.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f"{resource.name}-*.duckdb*"):
            stale.unlink(missing_ok=True)
        partial = store.with_name(store.name + f".{os.getpid()}.tmp")
        partial.unlink(missing_ok=True)
        try:
            with spilling() as spill:
                _build(source, partial, spill)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(store)
    with contextlib.closing(connect()) as con:
        con.execute(f"ATTACH {_literal(str(store))} AS stored (READ_ONLY)")
        rows = con.execute("SELECT count(*) FROM stored.data").fetchall()[0][0]
        head = reading.frame_of(con, source, f"(SELECT * FROM stored.data ORDER BY __line LIMIT {HEAD_ROWS})")
        summary = con.execute("SELECT * FROM stored.summary").df()
    lines = tuple(int(line) for line in head.pop("__line"))
    return Stored(store, int(rows), head, summary, lines)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _build(source: reading.Source, store: Path, spill: Path) -> None:
    """Read the file into ``store`` (table ``data``, each row with its ``__line``, and ``summary``) by the rules every data
    file is read by (``report.reading``), or raise every problem found."""
    with contextlib.closing(connect(temp=spill)) as con:
        problems = reading.read(con, source)
        if problems:
            raise ReportError(problems)
        con.execute(f"ATTACH {_literal(str(store))} AS out")
        con.execute("CREATE TABLE out.data AS SELECT * FROM typed ORDER BY __line")
        con.execute("CREATE TABLE out.summary AS SELECT * FROM (SUMMARIZE SELECT * EXCLUDE (__line) FROM out.data)")
        con.execute("DETACH out")


def head_rows(stored: Stored) -> pd.DataFrame:
    """The first rows of a large dataset, as the data page shows them."""
    return stored.head


def summary_text(summary: pd.DataFrame) -> list[dict[str, Any]]:
    """Each column's summary (type, minimum, maximum, distinct values, missing share), for the data page."""
    shown = ["column_name", "column_type", "min", "max", "approx_unique", "null_percentage"]
    frame = summary[[c for c in shown if c in summary.columns]]
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", default_handler=str))
    return records


def summarize(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The data page's summary of each column of rows held in memory, made as that of a large dataset is."""
    with contextlib.closing(connect()) as con:
        con.register("rows_in_memory", frame)
        return summary_text(con.execute("SUMMARIZE SELECT * FROM rows_in_memory").df())
