"""Views in SQL: DuckDB runs a report's views over the data package's datasets (any size) and its other views.

SQL here reads tables, nothing else: one SELECT per view, no files, no network, no settings
(DuckDB's external access is off and its configuration locked before any view runs). Each value
of a view keeps where it came from, computed rather than guessed: the view's SQL runs again,
rewritten to carry the source rows of every value (``claimsite.views._lineage``), and the rows that fed each
value are counted, cited by line and, where a selection in words picks exactly them, described by it.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import sqlglot
from sqlglot import exp

from claimsite.core.errors import ReportError
from claimsite.core.limits import Limits, limits
from claimsite.core.provenance import MAX_WHERE, AnySource, Rows, Source, ViewSource
from claimsite.data.large import connect, locked, quote, spilling, watched
from claimsite.data.load import Dataset
from claimsite.views import _lineage as lineage

MAX_VIEW_ROWS = 100_000  # a view larger than this stays in DuckDB: charts and claims read views that aggregate
MAX_WHERE_COLUMNS = 6  # columns a selection in words names at most
LINE_MASK = (1 << lineage.FILE_SHIFT) - 1
AGGREGATES = MappingProxyType(
    {
        "avg": "mean",
        "mean": "mean",
        "sum": "sum",
        "fsum": "sum",
        "kahan_sum": "sum",
        "count": "count",
        "count_star": "count",
        "min": "minimum",
        "max": "maximum",
        "median": "median",
    }
)


@dataclass(frozen=True)
class ViewResult:
    """A view's rows (or, for a large view, how many there are) and where each value comes from."""

    frame: pd.DataFrame | None
    rows: int
    sources: tuple[tuple[AnySource, ...], ...]  # each row's (its value column's, when the view names one)
    files: tuple[str, ...]
    column_sources: dict[str, tuple[tuple[AnySource, ...], ...]] = field(default_factory=dict)  # each value's, by column


@dataclass
class Session:
    """One report's DuckDB session: every dataset and view by name (and its lineage twin), locked before any author SQL runs."""

    spec_file: str
    con: Any
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # table name → the data files behind it
    shapes: dict[str, lineage.Shape] = field(default_factory=dict)  # tables with a lineage twin
    paths: list[str] = field(default_factory=list)  # data files by their index in a source row's id
    datasets: dict[str, str] = field(default_factory=dict)  # data file → the dataset it holds
    columns: dict[str, set[str]] = field(default_factory=dict)  # table → the columns its SQL (and what it reads) names
    aggregates: frozenset[str] = frozenset()

    def index(self, path: str) -> int:
        if path not in self.paths:
            self.paths.append(path)
        return self.paths.index(path)

    def add_dataset(self, dataset: Dataset, relation: str, line: str) -> None:
        """A dataset the views may read, from a relation holding its rows and each row's line (or row number)."""
        self.con.execute(f"CREATE TEMP VIEW {quote(dataset.name)} AS SELECT * EXCLUDE ({quote(line)}) FROM {relation}")
        self.con.execute(
            f"CREATE VIEW {lineage.SCHEMA}.{quote(dataset.name)} AS SELECT * EXCLUDE ({quote(line)}), "
            f"({self.index(dataset.path)}::BIGINT << {lineage.FILE_SHIFT}) | {quote(line)} AS {lineage.ROW} FROM {relation}"
        )
        self.files[dataset.name] = (dataset.path,)
        self.datasets[dataset.path] = dataset.name
        self.shapes[dataset.name] = lineage.Shape(tuple(f.name for f in dataset.fields), scalar=True)
        self.columns[dataset.name] = set()

    def add(self, name: str, frame: pd.DataFrame, sources: tuple[tuple[AnySource, ...], ...]) -> None:
        """A table the views may read: a report's match or difference view, its rows' lineage taken from their sources."""
        self.con.register(name, frame)
        self.files[name] = tuple(dict.fromkeys(s.file for row in sources for s in row))
        self.columns[name] = set()
        ids = [self._ids(row) for row in sources]
        if any(i is None for i in ids) or len(ids) != len(frame):
            return
        twin = frame.copy()
        twin[lineage.ROW] = pd.Series(ids, dtype=object, index=frame.index)
        self.con.register(f"__lineage_{name}", twin)
        self.con.execute(f"CREATE VIEW {lineage.SCHEMA}.{quote(name)} AS SELECT * FROM {quote('__lineage_' + name)}")
        self.shapes[name] = lineage.Shape(tuple(map(str, frame.columns)))

    def _ids(self, sources: tuple[AnySource, ...]) -> list[int] | None:
        found: list[int] = []
        for source in sources:
            if isinstance(source, Source):
                found.append((self.index(source.file) << lineage.FILE_SHIFT) | source.line)
            elif source.exact:
                found += [(self.index(rows.file) << lineage.FILE_SHIFT) | int(line) for rows in source.inputs for line in rows.lines]
            else:
                return None
        return found

    def view(self, name: str, sql: str, line: int | None, value: str | None = None) -> ViewResult:
        """Run one view's SELECT; a located error (spec file, line, DuckDB's message) when it does not run."""
        import duckdb

        if name.lower() in (table.lower() for table in self.files):
            raise self._error(f"view {name!r} has the name of a table it could read", line, fix="give the view another name")
        statements = self._statements(sql, line)
        tree = _tree(self.con, sql)
        reaching = _reaching(tree)
        if reaching:
            raise self._error(
                f"view {name!r} calls {reaching}, which reads the machine rather than the data",
                line,
                expected="tables, views and functions of their values",
                found=reaching,
                fix="read a dataset or a view by its name; settings, files and the database's catalog are out of a view's reach",
            )
        known = {table.lower(): table for table in self.files}
        ctes = {cte.lower() for cte in _cte_names(tree)}
        mentioned = {table.lower() for table in _base_tables(tree)}
        # A CTE may shadow a dataset's name and read it: the dataset is read all the same
        read = sorted(known[table] for table in mentioned if table in known)
        unknown = sorted(table for table in _base_tables(tree) if table.lower() not in known and table.lower() not in ctes)
        if unknown:
            raise self._error(
                f"view {name!r} reads a table that does not exist: {', '.join(unknown)}",
                line,
                expected=", ".join(sorted(self.files)),
                found=", ".join(unknown),
                fix="read a dataset of data/datapackage.yaml or a view declared above this one, by its name",
            )
        bounds = limits()
        with watched(self.con, bounds.view_seconds):
            try:
                self.con.execute(f"CREATE TEMP VIEW {quote(name)} AS {statements}")
                rows = int(self.con.execute(f"SELECT count(*) FROM {quote(name)}").fetchall()[0][0])
                frame = self._rows(name, line, bounds) if rows <= MAX_VIEW_ROWS else None
            except duckdb.InterruptException:
                raise self._slow(name, line, bounds) from None
            except duckdb.Error as error:
                raise self._error(f"view {name!r} does not run: {_message(error)}", line, fix="correct the SQL (DuckDB's dialect)") from None
            files = tuple(dict.fromkeys(f for table in read for f in self.files.get(table, ())))
            self.files[name] = files
            self.columns[name] = _named_columns(sql) | {c for table in read for c in self.columns.get(table, set())}
            try:
                traced = self._trace(name, statements, frame)
            except duckdb.InterruptException:
                raise self._slow(name, line, bounds) from None
        if frame is None:
            return ViewResult(None, rows, (), files)
        if traced is None:
            keys = _row_keys(frame)
            named = tuple(self.datasets.get(f, "") for f in files)
            untraced = tuple((ViewSource(name, sql, i + 1, self.spec_file, line, files, named, key=keys[i]),) for i in range(len(frame)))
            return ViewResult(frame, rows, untraced, files)
        return self._sourced(name, sql, line, traced, files, value)

    def _trace(self, name: str, sql: str, frame: pd.DataFrame | None) -> pd.DataFrame | None:
        """The view's rows with their lineage (None when it cannot be computed exactly, or for a view too large to hold)."""
        import duckdb

        try:
            rewritten, shape = lineage.Rewriter(self.shapes, self._describe, self.aggregates).rewrite(sql)
            self.con.execute(f"CREATE VIEW {lineage.SCHEMA}.{quote(name)} AS {rewritten}")
            self.shapes[name] = shape
            if frame is None:
                return None
            traced: pd.DataFrame = self.con.execute(f"SELECT * FROM {lineage.SCHEMA}.{quote(name)}").df()
        except duckdb.InterruptException:
            raise
        except (lineage.Unsupported, duckdb.Error, sqlglot.errors.SqlglotError, AttributeError, TypeError, ValueError, KeyError):
            # what the rewrite cannot follow, or follows into SQL DuckDB refuses: the view's values say so, with no count
            self.shapes.pop(name, None)
            return None
        if not _same_rows(frame, traced[[c for c in traced.columns if not lineage.hidden(str(c))]]):
            self.shapes.pop(name, None)
            return None
        return traced

    def _rows(self, name: str, line: int | None, bounds: Limits) -> pd.DataFrame:
        """The view's rows, held in memory for charts and claims, unless they would take more than the limit."""
        columns = self.con.execute(f"DESCRIBE {quote(name)}").fetchall()
        sizes = " + ".join(f"coalesce(sum(strlen(CAST({quote(str(c[0]))} AS VARCHAR))), 0)" for c in columns) or "0"
        size = int(self.con.execute(f"SELECT {sizes} FROM {quote(name)}").fetchall()[0][0])
        if size > bounds.view_mb * 1_000_000:
            raise self._error(
                f"view {name!r} holds {size / 1_000_000:,.0f} MB of values, more than a report holds in memory",
                line,
                expected=f"at most {bounds.view_mb:g} MB",
                found=f"{size / 1_000_000:,.0f} MB",
                fix="aggregate or select fewer columns (long texts are rarely what a chart needs), " + bounds.raise_fix("view_mb"),
            )
        frame: pd.DataFrame = self.con.execute(f"SELECT * FROM {quote(name)}").df()
        return frame

    def _slow(self, name: str, line: int | None, bounds: Limits) -> ReportError:
        return self._error(
            f"view {name!r} took longer than {bounds.view_seconds:g} s and was stopped",
            line,
            expected=f"a view that runs within {bounds.view_seconds:g} s",
            found="a query still running (a recursive WITH, a join of every row with every row, a huge range?)",
            fix="make the view cheaper (join on keys, aggregate first), " + bounds.raise_fix("view_seconds"),
        )

    def _describe(self, sql: str) -> list[tuple[str, str]]:
        relation = self.con.sql(sql)
        return list(zip(map(str, relation.columns), map(str, relation.types), strict=True))

    def _sourced(self, name: str, sql: str, line: int | None, traced: pd.DataFrame, files: tuple[str, ...], value: str | None) -> ViewResult:
        """Each value's source: the rows that fed it, per file, with the aggregate that made it and their selection in words."""
        visible = [str(c) for c in traced.columns if not lineage.hidden(str(c))]
        frame = traced[visible].reset_index(drop=True)
        hows = _aggregates(sql)
        keys = _row_keys(frame)
        row_ids = [_id_array(ids) for ids in traced[lineage.ROW]]
        spelled = {str(c).lower(): str(c) for c in traced.columns}  # a hidden column may spell its column's name in another case
        own = {c: spelled[lineage.column_lineage(c).lower()] for c in visible if lineage.column_lineage(c).lower() in spelled}
        counted = {c: spelled[lineage.column_count(c).lower()] for c in visible if lineage.column_count(c).lower() in spelled}
        per_column = {c: [_id_array(ids) for ids in traced[hidden]] for c, hidden in own.items()}
        counts = {c: traced[hidden].tolist() for c, hidden in counted.items()}
        selections = self._selections(name, sql, [row_ids, *per_column.values()])

        def sources(column: str | None) -> tuple[tuple[AnySource, ...], ...]:
            ids = per_column.get(column or "", row_ids)
            fed = counts.get(column or "")
            made = []
            for position, row_id in enumerate(ids):
                inputs = tuple(
                    Rows(self.paths[index], self.datasets.get(self.paths[index], ""), lines, selections.get(_fingerprint(index, lines), ""))
                    for index, lines in _by_file(row_id)
                )
                count = fed[position] if fed is not None and not _missing(fed[position]) else None
                how = hows.get((column or "").lower(), "")
                made.append((ViewSource(name, sql, position + 1, self.spec_file, line, files, read, inputs, how, count, True, keys[position]),))
            return tuple(made)

        read = tuple(self.datasets.get(f, "") for f in files)
        column_sources = {c: sources(c) for c in visible if c in per_column or c in counts or c.lower() in hows}
        return ViewResult(frame, len(frame), column_sources.get(value or "", sources(None)), files, column_sources)

    def _selections(self, name: str, sql: str, id_lists: list[list[np.ndarray]]) -> dict[tuple[int, bytes], str]:
        """A selection in words for each set of source rows it picks exactly: ``model = 'A' and benchmark = 'B'``.

        Its terms are the columns the view's SQL (and the views it reads) names that hold one value over the set, then,
        if those pick more rows, the columns with no empty cell in it, then the view's own WHERE; a selection is said
        only once counted to pick the set's rows and no other.
        """
        wanted: dict[int, dict[bytes, np.ndarray]] = {}
        for ids_per_row in id_lists:
            for ids in ids_per_row:
                for index, lines in _by_file(ids):
                    if len(lines) > 1:
                        wanted.setdefault(index, {})[lines.tobytes()] = lines
        found: dict[tuple[int, bytes], str] = {}
        names = {c.lower() for c in self.columns.get(name, set())}
        filtered = _direct_filter(sql)
        for index, sets in wanted.items():
            dataset = self.datasets.get(self.paths[index])
            if dataset is None:
                continue
            candidates = [c for c in self.shapes[dataset].columns if c.lower() in names]
            where = filtered[1] if filtered and filtered[0].lower() == dataset.lower() else ""
            for fingerprint, text in _Selection(self.con, dataset, index, list(sets.values()), candidates, where).said().items():
                found[(index, fingerprint)] = text
        return found

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


@dataclass
class _Selection:
    """Selections in words for sets of rows of one dataset, each checked by counting the rows it picks."""

    con: Any
    dataset: str
    index: int
    sets: list[np.ndarray]
    candidates: list[str]
    where: str  # the view's own filter, when the view reads this dataset directly

    def said(self) -> dict[bytes, str]:
        if not self.candidates and not self.where:
            return {}
        members = pd.DataFrame(
            {
                "__set": np.repeat(np.arange(len(self.sets)), [len(s) for s in self.sets]),
                "__line": np.concatenate(self.sets) | (self.index << lineage.FILE_SHIFT),
            }
        )
        self.con.register("__lineage_sets", members)
        try:
            terms = self._terms()
        finally:
            self.con.unregister("__lineage_sets")
        found: dict[bytes, str] = {}
        pending = set(terms)
        for tier in range(3):
            by_shape: dict[tuple[tuple[str, ...], tuple[str, ...]], list[int]] = {}
            for number in pending:
                constants, nonempty = terms[number]
                shape = (tuple(constants), tuple(nonempty) if tier else ())
                if len(shape[0]) + len(shape[1]) <= MAX_WHERE_COLUMNS and (shape[0] or (tier == 2 and self.where)):
                    by_shape.setdefault(shape, []).append(number)
            for (columns, filled), numbers in by_shape.items():
                conditions = [f"{quote(c)} IS NOT NULL" for c in filled] + ([f"({self.where})"] if tier == 2 and self.where else [])
                counted = self._counted(columns, conditions)
                for number in numbers:
                    constants = terms[number][0]
                    if counted is not None and counted.get(tuple(_plain(constants[c]) for c in columns)) == len(self.sets[number]):
                        said = [f"{_name(c)} = {_shown(constants[c])}" for c in columns] + [f"{_name(c)} IS NOT NULL" for c in filled]
                        said += [f"({self.where})"] if tier == 2 and self.where else []
                        text = " and ".join(said)
                        if len(text) <= MAX_WHERE:
                            found[self.sets[number].tobytes()] = text
                        pending.discard(number)
        return found

    def _terms(self) -> dict[int, tuple[dict[str, Any], list[str]]]:
        """For each set: the candidate columns holding one value over it (and that value), and those with no empty cell in it."""
        checks = ", ".join(f"count(DISTINCT {quote(c)}), count({quote(c)}), any_value({quote(c)})" for c in self.candidates) or "1"
        rows = self.con.execute(
            f"SELECT __set, count(*), {checks} FROM __lineage_sets JOIN {lineage.SCHEMA}.{quote(self.dataset)} ON __line = {lineage.ROW} GROUP BY __set"
        ).fetchall()
        gaps = self.con.execute(
            f"SELECT {', '.join(f'count(*) > count({quote(c)})' for c in self.candidates) or 'true'} FROM {quote(self.dataset)}"
        ).fetchall()[0]
        nullable = {c for c, gap in zip(self.candidates, gaps, strict=False) if gap}
        terms = {}
        for row in rows:
            total, constants, filled = row[1], {}, []
            for i, column in enumerate(self.candidates):
                distinct_, present, value = row[2 + 3 * i : 5 + 3 * i]
                if present == total:
                    filled.append(column)
                    if distinct_ == 1:
                        constants[column] = value
            terms[int(row[0])] = (constants, [c for c in filled if c not in constants and c in nullable])
        return terms

    def _counted(self, columns: tuple[str, ...], conditions: list[str]) -> dict[tuple[Any, ...], int] | None:
        import duckdb

        listed = ", ".join(quote(c) for c in columns)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        query = f"SELECT {listed}, count(*) FROM {quote(self.dataset)}{where} GROUP BY ALL" if columns else f"SELECT count(*) FROM {quote(self.dataset)}{where}"
        try:
            return {tuple(_plain(v) for v in row[:-1]): int(row[-1]) for row in self.con.execute(query).fetchall()}
        except duckdb.Error:  # the view's filter does not read alone (it names another table's columns)
            return None


@contextlib.contextmanager
def session(spec_file: str, datasets: dict[str, Dataset]) -> Iterator[Session]:
    """A session over every dataset (large ones from their DuckDB stores), locked: no files, network or settings from SQL."""
    with spilling() as spill, contextlib.closing(connect(temp=spill, threads=1)) as con:
        opened = Session(spec_file, con)
        con.execute(f"CREATE SCHEMA {lineage.SCHEMA}")
        opened.aggregates = frozenset(
            str(name).lower() for (name,) in con.execute("SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'aggregate'").fetchall()
        )
        for index, dataset in enumerate(datasets.values()):
            if dataset.store is not None:
                con.execute(f"ATTACH '{str(dataset.store).replace(chr(39), chr(39) * 2)}' AS stored{index} (READ_ONLY)")
                opened.add_dataset(dataset, f"stored{index}.data", "__line")
            else:
                con.register(f"__rows{index}", dataset.frame.assign(__line=np.asarray(dataset.lines, dtype=np.int64)))
                opened.add_dataset(dataset, f"__rows{index}", "__line")
        locked(con)
        yield opened


def _message(error: Exception) -> str:
    return " ".join(str(error).split())[:300]


def _tree(con: Any, sql: str) -> dict[str, Any]:
    """DuckDB's parse tree of the statement (an empty tree when it cannot be serialised), to find the tables it reads."""
    try:
        parsed = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    except Exception:  # the serialiser does not know every statement; the tables read are then checked by DuckDB alone
        return {}
    return parsed if not parsed.get("error") else {}


# Functions a view may read rows from (besides tables): their rows are made from their arguments alone
TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
# Functions that read the machine (settings, files, the catalog, the environment) rather than a value
MACHINE = re.compile(r"^(duckdb_|pragma_|pg_|current_(setting|database|catalog|schema|schemas|user|query|role)$|getenv$|version$|user$|session_user$|txid_)")


def _reaching(tree: dict[str, Any]) -> str | None:
    """The first function of a view's parse tree that reads the machine, or any table function but a few that make rows
    from their arguments; 'its SQL, which cannot be checked' when DuckDB gives no tree (fail closed)."""
    if not tree:
        return "SQL the build cannot check"
    for node in _walk(tree):
        name = str(node.get("function_name") or (node.get("function") or {}).get("function_name") or "").lower()
        if node.get("type") == "TABLE_FUNCTION" and name not in TABLE_FUNCTIONS:
            return f"{name}()"
        if node.get("class") == "FUNCTION" and MACHINE.match(name):
            return f"{name}()"
    return None


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


def _named_columns(sql: str) -> set[str]:
    """The column names a view's SQL mentions (candidates for a selection in words)."""
    try:
        return {column.name for column in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Column) if column.name}
    except sqlglot.errors.SqlglotError:
        return set()


def _direct_filter(sql: str) -> tuple[str, str] | None:
    """The table a view's SELECT reads alone, and its WHERE clause, when it reads one table and filters it."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return None
    source, where = tree.args.get("from_"), tree.args.get("where")
    if not isinstance(tree, exp.Select) or tree.args.get("with_") or tree.args.get("joins") or where is None:
        return None  # a CTE may shadow the dataset's name: its WHERE would not read the dataset's rows
    if source is None or not isinstance(source.this, exp.Table):
        return None
    return source.this.name, where.this.sql("duckdb")


def _aggregates(sql: str) -> dict[str, str]:
    """The aggregate that makes each column of the view's outer SELECT, in words (mean, sum …), where one call makes it."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return {}
    if not isinstance(tree, exp.Select):
        return {}
    found = {}
    for expression in tree.expressions:
        made = expression.this if isinstance(expression, exp.Alias) else expression
        made = made.this if isinstance(made, exp.Filter) else made
        name = (made.name if isinstance(made, exp.Anonymous) else made.sql_name() if isinstance(made, exp.AggFunc) else "").lower()
        if isinstance(made, exp.Count) and isinstance(made.this, exp.Star):
            name = "count"
        if name in AGGREGATES and expression.alias_or_name:
            found[expression.alias_or_name.lower()] = AGGREGATES[name]
    return found


def _row_keys(frame: pd.DataFrame) -> list[str]:
    """Each row of a view named by its text and date columns: ``model = 'A', benchmark = 'B'``."""
    keys = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])][:MAX_WHERE_COLUMNS]
    return (
        [", ".join(f"{k} = {_shown(v)}" for k, v in zip(keys, row, strict=True)) for row in frame[keys].itertuples(index=False)] if keys else [""] * len(frame)
    )


def _id_array(ids: Any) -> np.ndarray:
    """A value's source rows as sorted ids (a dataset's row has one; a derived row, a list the rewrite made distinct)."""
    if _missing(ids):
        return np.zeros(0, dtype=np.int64)
    array = np.atleast_1d(np.asarray(ids))
    if array.dtype.kind == "f":
        array = array[~np.isnan(array)]
    elif array.dtype.kind == "O":
        array = np.array([v for v in array.tolist() if not _missing(v)], dtype=np.int64)
    return np.sort(array.astype(np.int64))


def _by_file(ids: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Source rows (sorted ids) split by file: (the file's index, its lines, sorted)."""
    if not len(ids):
        return []
    files = ids >> lineage.FILE_SHIFT
    if files[0] == files[-1]:
        return [(int(files[0]), ids & LINE_MASK)]
    bounds = np.flatnonzero(np.diff(files)) + 1
    return [(int(part[0] >> lineage.FILE_SHIFT), part & LINE_MASK) for part in np.split(ids, bounds)]


def _fingerprint(index: int, lines: np.ndarray) -> tuple[int, bytes]:
    return (index, lines.tobytes())


def _same_rows(expected: pd.DataFrame, found: pd.DataFrame) -> bool:
    """Whether two results hold the same rows, in any order (numbers equal to 12 significant digits)."""
    if list(map(str, expected.columns)) != list(map(str, found.columns)) or len(expected) != len(found):
        return False

    def canonical(frame: pd.DataFrame) -> list[tuple[str, ...]]:
        return sorted(tuple(_canonical(v) for v in row) for row in frame.itertuples(index=False))

    return canonical(expected) == canonical(found)


def _canonical(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "∅"
    if isinstance(value, float | np.floating):
        return f"{float(value):.12g}"
    return repr(_plain(value))


def _name(column: str) -> str:
    """A column's name as a selection in words writes it: bare when it is a plain word, else quoted."""
    return column if column.isidentifier() and column.isascii() else quote(column)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    """A value of a result as Python holds it (a tuple for a list)."""
    if isinstance(value, np.ndarray):
        return tuple(_plain(v) for v in value.tolist())
    return value.item() if hasattr(value, "item") else value


def _shown(value: Any) -> str:
    """A value as a selection in words writes it, as SQL would: text and dates quoted."""
    value = _plain(value)
    if isinstance(value, datetime.datetime):
        midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
        value = value.strftime("%Y-%m-%d") if midnight else value.isoformat(sep=" ")
    elif isinstance(value, datetime.date):
        value = value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)
