"""Views in SQL: DuckDB runs a report's views over the data package's datasets (any size) and its other views.

SQL here reads tables, nothing else: one SELECT per view, no files, no network, no settings
(DuckDB's external access is off and its configuration locked before any view runs). Each row
of a view keeps where it came from: the files read, the rows that fed it (their count, group
key and filter) and the view's SQL.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from report.bigdata import connect, quote
from report.data import Dataset
from report.errors import ReportError
from report.text import Source

MAX_VIEW_ROWS = 100_000  # a view larger than this stays in DuckDB: charts and claims read views that aggregate


@dataclass(frozen=True)
class ViewSource(Source):
    """Where a row of a view comes from: the view, its SQL, the files it read, and the rows that fed the row."""

    view: str = ""
    sql: str = ""
    files: tuple[str, ...] = ()
    rows: int | None = None
    group: str = ""
    where: str = ""
    how: str = ""  # the aggregate behind the view's value column: mean, sum, count …

    def describe(self) -> str:
        """The row's origin in words: 'mean of 500 rows of data/eval_log.csv where model = 'A' (view accuracy)'."""
        files = ", ".join(self.files) or "the view's tables"
        fed = f"{self.rows:,} row{'s' * (self.rows != 1)} of {files}" if self.rows is not None else f"rows of {files}"
        fed = f"{self.how} of {fed}" if self.how and self.rows is not None else fed
        conditions = " and ".join(part for part in (self.group, self.where) if part)
        return f"{fed}{' where ' + conditions if conditions else ''} (view {self.view})"

    def to_dict(self) -> dict[str, Any]:
        """The origin for claims.json: the view, its SQL, the files, the rows, the group and the filter."""
        return {
            "view": self.view,
            "sql": self.sql,
            "files": list(self.files),
            "rows": self.rows,
            "group": self.group,
            "where": self.where,
            "aggregate": self.how,
            "dataset": self.dataset,
            "key": self.key,
            "file": self.file,
            "line": self.line,
            "approximate": False,
        }


@dataclass(frozen=True)
class ViewResult:
    """A view's rows (or, for a large view, how many there are) and where each row comes from."""

    frame: pd.DataFrame | None
    rows: int
    sources: tuple[tuple[Source, ...], ...]
    files: tuple[str, ...]


@dataclass
class Session:
    """One report's DuckDB session: every dataset and view by name, locked down before any author SQL runs."""

    spec_file: str
    con: Any
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # table name → the data files behind it

    def add(self, name: str, frame: pd.DataFrame, files: tuple[str, ...]) -> None:
        """A table the views may read: a report's match or difference view, say."""
        self.con.register(name, frame)
        self.files[name] = files

    def view(self, name: str, sql: str, line: int | None, value: str | None = None) -> ViewResult:
        """Run one view's SELECT; a located error (spec file, line, DuckDB's message) when it does not run."""
        import duckdb

        if name in self.files:
            raise self._error(f"view {name!r} has the name of a table it could read", line, fix="give the view another name")
        statements = self._statements(sql, line)
        tree = _tree(self.con, sql)
        read = sorted(_base_tables(tree) - _cte_names(tree))
        unknown = [table for table in read if table not in self.files]
        if unknown:
            raise self._error(
                f"view {name!r} reads a table that does not exist: {', '.join(unknown)}",
                line,
                expected=", ".join(sorted(self.files)),
                found=", ".join(unknown),
                fix="read a dataset of data/datapackage.yaml or a view declared above this one, by its name",
            )
        try:
            self.con.execute(f"CREATE TEMP VIEW {quote(name)} AS {statements}")
            rows = int(self.con.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0])
            frame = self.con.execute(f"SELECT * FROM {quote(name)}").df() if rows <= MAX_VIEW_ROWS else None
        except duckdb.Error as error:
            raise self._error(f"view {name!r} does not run: {_message(error)}", line, fix="correct the SQL (DuckDB's dialect)") from None
        files = tuple(dict.fromkeys(f for table in read for f in self.files.get(table, ())))
        self.files[name] = files
        sources = _provenance(self.con, name, sql, tree, frame, files, value) if frame is not None else ()
        return ViewResult(frame, rows, sources, files)

    def _statements(self, sql: str, line: int | None) -> str:
        import duckdb

        try:
            statements = self.con.extract_statements(sql)
        except duckdb.Error as error:
            raise self._error(f"the view's SQL does not parse: {_message(error)}", line, fix="correct the SQL (DuckDB's dialect)") from None
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise self._error(
                "a view is one SELECT statement",
                line,
                expected="sql: SELECT … FROM <dataset or view> …",
                found=f"{len(statements)} statements" if len(statements) != 1 else f"a {statements[0].type.name} statement",
                fix="write the view as a single SELECT (or WITH … SELECT)",
            )
        return sql.strip().rstrip(";")

    def _error(self, message: str, line: int | None, **detail: Any) -> ReportError:
        return ReportError.at(self.spec_file, message, line=line, **detail)


@contextlib.contextmanager
def session(spec_file: str, datasets: dict[str, Dataset], spill: Path | None) -> Iterator[Session]:
    """A session over every dataset (large ones from their DuckDB stores), locked: no files, network or settings from SQL."""
    con = connect(temp=spill)
    try:
        opened = Session(spec_file, con)
        for index, dataset in enumerate(datasets.values()):
            if dataset.store is not None:
                con.execute(f"ATTACH '{str(dataset.store).replace(chr(39), chr(39) * 2)}' AS stored{index} (READ_ONLY)")
                con.execute(f"CREATE TEMP VIEW {quote(dataset.name)} AS SELECT * EXCLUDE (__line) FROM stored{index}.data")
                opened.files[dataset.name] = (dataset.path,)
            else:
                opened.add(dataset.name, dataset.frame, (dataset.path,))
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield opened
    finally:
        con.close()


def _message(error: Exception) -> str:
    return " ".join(str(error).split())[:300]


def _tree(con: Any, sql: str) -> dict[str, Any]:
    """DuckDB's parse tree of the statement (an empty tree when it cannot be serialised)."""
    try:
        parsed = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    except Exception:  # the serialiser does not know every statement; provenance then names the view only
        return {}
    return parsed if not parsed.get("error") else {}


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _base_tables(tree: dict[str, Any]) -> set[str]:
    return {node["table_name"] for node in _walk(tree) if node.get("type") == "BASE_TABLE" and "table_name" in node}


def _cte_names(tree: dict[str, Any]) -> set[str]:
    return {entry["key"] for node in _walk(tree) if isinstance(node.get("cte_map"), dict) for entry in node["cte_map"].get("map", [])}


AGGREGATES = MappingProxyType(
    {"avg": "mean", "mean": "mean", "sum": "sum", "count": "count", "count_star": "count", "min": "minimum", "max": "maximum", "median": "median"}
)


def _provenance(
    con: Any, name: str, sql: str, tree: dict[str, Any], frame: pd.DataFrame, files: tuple[str, ...], value: str | None
) -> tuple[tuple[Source, ...], ...]:
    """Each row's origin: for a view that groups rows, the group key and the number of rows in it; its filter; the files."""
    node = (tree.get("statements") or [{}])[0].get("node", {})
    how = next((AGGREGATES.get(str(item.get("function_name")), "") for item in node.get("select_list", []) if value and item.get("alias") == value), "")
    where = _sql_of(con, tree, node.get("where_clause")) if node.get("type") == "SELECT_NODE" else ""
    groups = [e["column_names"][-1] for e in node.get("group_expressions", []) if e.get("class") == "COLUMN_REF"] if node.get("type") == "SELECT_NODE" else []
    groups = [g for g in groups if g in frame.columns]
    counts = _counts(con, tree, node, groups)
    sources = []
    for position, row in enumerate(frame.itertuples(index=False)):
        values = dict(zip(frame.columns, row, strict=True))
        key = tuple(_plain(values[g]) for g in groups)
        group = " and ".join(f"{g} = {_shown(v)}" for g, v in zip(groups, key, strict=True))
        rows = counts.get(key) if counts is not None else (1 if node.get("type") == "SELECT_NODE" and not _aggregates(node) else None)
        sources.append(
            (
                ViewSource(
                    files[0] if files else name,
                    position + 1,
                    name,
                    False,
                    0.0,
                    group or f"row {position + 1}",
                    "points",
                    name,
                    sql,
                    files,
                    rows,
                    group,
                    where,
                    how,
                ),
            )
        )
    return tuple(sources)


def _aggregates(node: dict[str, Any]) -> bool:
    return any(
        n.get("class") == "AGGREGATE" or n.get("function_name") in ("count_star", "count", "avg", "sum", "min", "max", "mean", "median")
        for n in _walk(node.get("select_list"))
    )


def _counts(con: Any, tree: dict[str, Any], node: dict[str, Any], groups: list[str]) -> dict[tuple[Any, ...], int] | None:
    """The rows behind each group of an aggregating view, counted with the view's own FROM and WHERE (None: not a simple SELECT)."""
    if node.get("type") != "SELECT_NODE" or not _aggregates(node) or node.get("having"):
        return None
    counting = json.loads(json.dumps(tree))
    query = counting["statements"][0]["node"]
    references = [e for e in node.get("group_expressions", []) if e.get("class") == "COLUMN_REF" and e["column_names"][-1] in groups]
    if groups and len(references) != len(node.get("group_expressions", [])):
        return None
    query["select_list"] = [*references, _count_star()]
    query["modifiers"] = []
    sql = _deserialise(con, counting)
    if sql is None:
        return None
    try:
        return {tuple(_plain(v) for v in row[:-1]): int(row[-1]) for row in con.execute(sql).fetchall()}
    except Exception:  # a statement DuckDB serialises but cannot run alone: provenance then omits the counts
        return None


def _count_star() -> dict[str, Any]:
    return {
        "class": "FUNCTION",
        "type": "FUNCTION",
        "alias": "__rows",
        "query_location": 0,
        "function_name": "count_star",
        "schema": "",
        "catalog": "",
        "children": [],
        "filter": None,
        "order_bys": {"type": "ORDER_MODIFIER", "orders": []},
        "distinct": False,
        "is_operator": False,
        "export_state": False,
    }


def _deserialise(con: Any, tree: dict[str, Any]) -> str | None:
    try:
        return str(con.execute("SELECT json_deserialize_sql(?)", [json.dumps(tree)]).fetchone()[0])
    except Exception:
        return None


def _sql_of(con: Any, tree: dict[str, Any], expression: dict[str, Any] | None) -> str:
    """One expression of the parse tree as SQL text (a view's WHERE clause, for its provenance)."""
    if not expression:
        return ""
    minimal = json.loads(json.dumps(tree))
    query = minimal["statements"][0]["node"]
    query.update(select_list=[expression], from_table={"type": "EMPTY_FROM", "alias": "", "sample": None, "query_location": 0}, where_clause=None)
    query.update(group_expressions=[], group_sets=[], having=None, modifiers=[])
    query["cte_map"] = {"map": []}
    text = _deserialise(con, minimal)
    return text.removeprefix("SELECT ").strip() if text else ""


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _shown(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)
