"""Large data files, read by DuckDB out of core: validated against the descriptor, with every bad cell located, and kept.

A CSV past ``LARGE_BYTES`` (or any Parquet file) is loaded once into a DuckDB database under
``.cache/data/``, keyed by the file's bytes and its description: a rebuild whose data did not change
opens that database instead of reading the file again. Memory stays bounded (DuckDB spills to disk).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from claimsite.cache import keeper
from claimsite.core.errors import ReportError
from claimsite.core.fingerprint import code_version
from claimsite.core.limits import limits
from claimsite.data import _reading as reading
from claimsite.data.descriptor import Resource as DeclaredResource

LARGE_BYTES = 5_000_000
HEAD_ROWS = 20


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


def connect(temp: Path | None = None, threads: int | None = None) -> Any:
    """A DuckDB connection whose memory and spill are bounded (see ``claimsite.core.limits``), spilling to ``temp`` (see
    ``spilling``); it never installs or loads extensions.

    ``threads=1`` makes results repeatable: rows come in the same order, and sums of floats add up in the same order.
    """
    import duckdb

    bounds = limits()
    config: dict[str, Any] = {
        "memory_limit": f"{bounds.memory_mb:g}MB",
        "max_temp_directory_size": f"{bounds.spill_mb:g}MB",
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads is not None:
        config["threads"] = threads
    if temp is not None:
        config["temp_directory"] = str(temp)
    return duckdb.connect(config=config)


@contextlib.contextmanager
def watched(con: Any, seconds: float) -> Iterator[None]:
    """Interrupt the connection's query if it runs past ``seconds`` (DuckDB then raises its InterruptException)."""
    timer = threading.Timer(seconds, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


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
    if scratch is not None and not trusted(store):
        folder = scratch
        store = folder / store.name
    if not trusted(store):
        try:
            _make(source, folder, store)
        except OSError:  # a cache folder that cannot be written (or a full disk): this build keeps the store apart
            folder = _apart()
            store = folder / store.name
            _make(source, folder, store)
    with contextlib.closing(connect()) as con:
        con.execute(f"ATTACH {_literal(str(store))} AS stored (READ_ONLY)")
        locked(con)
        rows = con.execute("SELECT count(*) FROM stored.data").fetchall()[0][0]
        head = reading.frame_of(con, source, f"(SELECT * FROM stored.data ORDER BY __line LIMIT {HEAD_ROWS})")
        summary = con.execute("SELECT * FROM stored.summary").df()
    lines = tuple(int(line) for line in head.pop("__line"))
    return Stored(store, int(rows), head, summary, lines)


@functools.cache
def _apart() -> Path:
    """A temporary folder of this process for stores the project's cache cannot take, removed when the process ends."""
    folder = Path(tempfile.mkdtemp(prefix="report-stores-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def trusted(store: Path) -> bool:
    """Whether a store is one this user's build made, unchanged since (sealed beside it): any other is made again."""
    return store.is_file() and keeper.file_sealed(store, _seal(store), f"store {store.name}")


def _seal(store: Path) -> Path:
    return store.with_name(store.name + ".seal")


def _make(source: reading.Source, folder: Path, store: Path) -> None:
    """Read the data file into a new store, sealed; builds running at once each make their own, and the last one kept wins."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"{source.declared.name}-*.duckdb"):  # stores of earlier versions of the file (never one being made)
        if stale != store:
            stale.unlink(missing_ok=True)
            _seal(stale).unlink(missing_ok=True)
    partial = store.with_name(store.name + f".{os.getpid()}.tmp")
    partial.unlink(missing_ok=True)
    try:
        with spilling() as spill:
            _build(source, partial, spill)
        seal = keeper.file_seal(partial, f"store {store.name}")
        seal_partial = _seal(partial)
        seal_partial.write_bytes(seal)
        partial.replace(store)
        seal_partial.replace(_seal(store))
    except BaseException:
        partial.unlink(missing_ok=True)
        _seal(partial).unlink(missing_ok=True)
        raise


def locked(con: Any) -> None:
    """No file, network or setting reachable from SQL any more: a store's views (if any) cannot read the machine."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _build(source: reading.Source, store: Path, spill: Path) -> None:
    """Read the file into ``store`` (table ``data``, each row with its ``__line``, and ``summary``) by the rules every data
    file is read by (``claimsite.data._reading``), or raise every problem found."""
    with contextlib.closing(connect(temp=spill)) as con:
        problems = reading.read(con, source)
        if problems:
            raise ReportError(problems)
        con.execute(f"ATTACH {_literal(str(store))} AS out")
        con.execute("CREATE TABLE out.data AS SELECT * FROM typed ORDER BY __line")
        summary = _summary(con, "out.data")
        con.register("summary_rows", summary)
        con.execute("CREATE TABLE out.summary AS SELECT * FROM summary_rows")
        con.execute("DETACH out")


def head_rows(stored: Stored) -> pd.DataFrame:
    """The first rows of a large dataset, as the data page shows them."""
    return stored.head


def _summary(con: Any, table: str) -> pd.DataFrame:
    """Each column's type, least and greatest value, distinct values (roughly) and missing share, in one pass over ``table``.

    DuckDB's SUMMARIZE would also average every column, which fails on a date as far off as 9999-12-31."""
    columns = [(name, kind) for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall() if name != "__line"]
    if not columns:
        return pd.DataFrame(columns=["column_name", "column_type", "min", "max", "approx_unique", "null_percentage"])
    measures = []
    for name, _ in columns:
        column = reading.quote(name)
        measures += [
            f"min({column})::VARCHAR",
            f"max({column})::VARCHAR",
            f"approx_count_distinct({column})",
            f"round(100.0 * count_if({column} IS NULL) / greatest(count(*), 1), 2)",
        ]
    found = con.execute(f"SELECT {', '.join(measures)} FROM {table}").fetchall()[0]
    return pd.DataFrame(
        [(name, kind, *found[4 * i : 4 * i + 4]) for i, (name, kind) in enumerate(columns)],
        columns=["column_name", "column_type", "min", "max", "approx_unique", "null_percentage"],
    )


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
        return summary_text(_summary(con, "rows_in_memory"))
