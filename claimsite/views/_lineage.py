"""Which source rows fed each value of a SQL view, computed by running the view's SQL rewritten to carry them.

Every relation a view may read has a lineage twin in the schema ``lineage``: the same columns, and hidden ones.
``__lin_row`` holds the source rows its row derives from; a column an aggregate (or a window) made also has
``__lin_col_<column>``, the rows that fed that value, and, for an aggregate, ``__lin_n_<column>``, how many input
rows it read. A source row is one BIGINT: the data file's index shifted by ``FILE_SHIFT`` bits, plus the row's line
(CSV) or row number (Parquet); a dataset's row carries one (a BIGINT), a derived row a list (BIGINT[]).

The rewrite covers what analysts write: SELECT with joins, WHERE, GROUP BY (and GROUP BY ALL), HAVING, QUALIFY,
DISTINCT, aggregates with FILTER and DISTINCT, window functions, UNION [ALL], WITH, subqueries in FROM and UNPIVOT.
Anything else raises ``Unsupported``; so does a rewrite whose rows differ from the view's own (the caller compares
them), and the view's values then name the view and its files without claiming a count.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

FILE_SHIFT = 40
SCHEMA = "lineage"
ROW = "__lin_row"
PREFIX = "__lin_"
_COLUMN = "__lin_col_"
_COUNT = "__lin_n_"
EMPTY = "[]::BIGINT[]"
POSITIONAL = frozenset({"lag", "lead", "first_value", "last_value", "nth_value", "any_value"})


class Unsupported(Exception):
    """The view's SQL uses something the rewrite does not carry lineage through."""


def column_lineage(name: str) -> str:
    """The hidden column with the source rows of a column's values."""
    return _COLUMN + name


def column_count(name: str) -> str:
    """The hidden column with how many input rows fed a column's aggregate."""
    return _COUNT + name


def hidden(name: str) -> bool:
    """Whether a column is one of the rewrite's own."""
    return name.startswith(PREFIX)


@dataclass(frozen=True)
class Shape:
    """What the rewrite knows of a relation: its columns and which of them carry their own lineage and counts."""

    columns: tuple[str, ...]
    per_column: frozenset[str] = frozenset()
    counted: frozenset[str] = frozenset()
    scalar: bool = False  # the row's lineage is one source row (BIGINT), not a list

    @property
    def hidden_columns(self) -> list[str]:
        """Its hidden columns, in the order the rewrite writes them."""
        return [ROW, *(column_lineage(c) for c in sorted(self.per_column)), *(column_count(c) for c in sorted(self.counted))]

    @classmethod
    def of(cls, described: list[tuple[str, str]]) -> Shape:
        """The shape of a relation from its columns and their DuckDB types (a column's own lineage found by its name in
        any case, as DuckDB finds columns)."""
        names = [name for name, _ in described]
        types = dict(described)
        if ROW not in types:
            raise Unsupported("the relation lost its lineage")
        columns = tuple(n for n in names if not hidden(n))
        by_lower = {c.lower(): c for c in columns}
        per_column = {by_lower.get(n.removeprefix(_COLUMN).lower()) for n in names if n.startswith(_COLUMN)}
        counted = {by_lower.get(n.removeprefix(_COUNT).lower()) for n in names if n.startswith(_COUNT)}
        if None in per_column or None in counted:
            raise Unsupported("a hidden column names no column of the relation")
        return cls(columns, frozenset(c for c in per_column if c), frozenset(c for c in counted if c), scalar=not types[ROW].endswith("[]"))


@dataclass(frozen=True)
class Lin:
    """A lineage expression in SQL: one source row (``scalar``) or a list of them."""

    sql: str
    scalar: bool = False

    def as_list(self) -> str:
        return f"[{self.sql}]" if self.scalar else self.sql

    def collected(self, condition: str | None = None, over: str = "") -> str:
        """The lineage of many rows gathered into one list (an aggregate, or a window ``over``), optionally filtered."""
        gathered = f"list({self.sql}){f' FILTER (WHERE {condition})' if condition else ''}{over}"
        return gathered if self.scalar else f"flatten({gathered})"


def concat(parts: list[Lin]) -> Lin:
    """The union of some lineages (a joined row's, or a value's that reads several columns)."""
    unique = list(dict.fromkeys(parts))
    if not unique:
        return Lin(EMPTY)
    if len(unique) == 1:
        return unique[0]
    text = unique[0].as_list()
    for part in unique[1:]:
        text = f"list_concat({text}, {part.as_list()})"
    return Lin(text)


def distinct(lin: Lin) -> Lin:
    return lin if lin.scalar else Lin(f"list_distinct({lin.sql})")


@dataclass
class _Item:
    """One relation in a SELECT's FROM clause, under its alias."""

    alias: str
    shape: Shape
    visible: bool = True  # a semi or anti join's right side adds no rows to the output

    def ref(self, column: str) -> str:
        return f"{_quote(self.alias)}.{_quote(column)}"  # DuckDB finds a column by its name in any case

    @property
    def row(self) -> Lin:
        return Lin(self.ref(ROW), self.shape.scalar)

    def lineage(self, column: str) -> Lin:
        name = self._actual(column)
        if name is not None and name in self.shape.per_column:
            return Lin(self.ref(column_lineage(name)))
        return self.row

    def count(self, column: str) -> str | None:
        name = self._actual(column)
        return self.ref(column_count(name)) if name is not None and name in self.shape.counted else None

    def has(self, column: str) -> bool:
        return self._actual(column) is not None

    def _actual(self, column: str) -> str | None:
        return next((c for c in self.shape.columns if c.lower() == column.lower()), None)


@dataclass
class Rewriter:
    """Rewrites one view's SQL to carry lineage; ``describe`` asks DuckDB for the columns (and types) of a query."""

    relations: Mapping[str, Shape]  # what a view may read, by name: its lineage twin is lineage."<name>"
    describe: Callable[[str], list[tuple[str, str]]]
    aggregates: frozenset[str]  # DuckDB's aggregate function names
    _ctes: dict[str, Shape] = field(default_factory=dict)
    _cte_sql: list[str] = field(default_factory=list)
    _aliases: Iterator[int] = field(default_factory=itertools.count)

    def rewrite(self, sql: str) -> tuple[str, Shape]:
        """The view's SQL rewritten to carry lineage, and the shape of what it gives."""
        try:
            tree = sqlglot.parse_one(sql, read="duckdb")
        except sqlglot.errors.SqlglotError as error:
            raise Unsupported(f"the SQL is not read: {error}") from None
        node = self._query(tree)
        text = node.sql("duckdb")
        return text, self._shape(text)

    # -- queries ------------------------------------------------------------------

    def _query(self, node: exp.Expr) -> exp.Expr:
        node = node.copy()
        outer = dict(self._ctes), list(self._cte_sql)
        with_ = node.args.get("with_")
        if with_ is not None:
            if with_.args.get("recursive"):
                raise Unsupported("a recursive WITH")
            for cte in with_.expressions:
                body = self._query(cte.this)
                cte.set("this", body)
                self._cte_sql.append(f"{_quote(cte.alias)} AS ({body.sql('duckdb')})")
                self._ctes[cte.alias.lower()] = self._shape(body.sql("duckdb"))
        try:
            if isinstance(node, exp.Select):
                result: exp.Expr = self._select(node)
            elif isinstance(node, exp.Union):
                result = self._union(node)
            elif isinstance(node, exp.Subquery):
                result = exp.Subquery(this=self._query(node.this))
            elif isinstance(node, exp.Pivot) and node.args.get("unpivot"):
                result = self._unpivot_statement(node)
            else:
                raise Unsupported(f"a {type(node).__name__} query")
        finally:
            self._ctes, self._cte_sql = outer
        if with_ is not None and isinstance(result, exp.Select | exp.Union):
            result.set("with_", with_)
        return result

    def _shape(self, sql: str) -> Shape:
        prefix = f"WITH {', '.join(self._cte_sql)} " if self._cte_sql else ""
        return Shape.of(self.describe(f"{prefix}SELECT * FROM ({sql})"))

    def _union(self, node: exp.Union) -> exp.Expr:
        """UNION [ALL]: each side's hidden columns renamed after the left side's columns, by position."""
        if type(node) is not exp.Union or node.args.get("by_name"):
            raise Unsupported("INTERSECT, EXCEPT or UNION BY NAME")
        left, right = self._query(node.this), self._query(node.expression)
        shapes = [self._shape(left.sql("duckdb")), self._shape(right.sql("duckdb"))]
        names = shapes[0].columns
        if len(shapes[1].columns) != len(names):
            raise Unsupported("sides of a UNION with different numbers of columns")
        positions = range(len(names))
        own = [i for i in positions if any(names[i] in s.per_column if s is shapes[0] else s.columns[i] in s.per_column for s in shapes)]
        counted = [i for i in positions if any(names[i] in s.counted if s is shapes[0] else s.columns[i] in s.counted for s in shapes)]
        sides = []
        for side, shape in zip((left, right), shapes, strict=True):
            excluded = ", ".join(_quote(h) for h in shape.hidden_columns)
            filled = [Lin(ROW, shape.scalar).as_list() + f" AS {ROW}"]
            filled += [
                (_quote(column_lineage(shape.columns[i])) if shape.columns[i] in shape.per_column else Lin(ROW, shape.scalar).as_list())
                + f" AS {_quote(column_lineage(names[i]))}"
                for i in own
            ]
            filled += [
                (_quote(column_count(shape.columns[i])) if shape.columns[i] in shape.counted else "NULL::BIGINT") + f" AS {_quote(column_count(names[i]))}"
                for i in counted
            ]
            sides.append(f"SELECT * EXCLUDE ({excluded}), {', '.join(filled)} FROM ({side.sql('duckdb')})")
        order, limit, offset = node.args.get("order"), node.args.get("limit"), node.args.get("offset")
        text = f"{sides[0]} UNION ALL {sides[1]}"
        if node.args.get("distinct"):
            gathered = [f"list_distinct(flatten(list({ROW}))) AS {ROW}"]
            gathered += [f"list_distinct(flatten(list({_quote(column_lineage(names[i]))}))) AS {_quote(column_lineage(names[i]))}" for i in own]
            gathered += [f"sum({_quote(column_count(names[i]))}) AS {_quote(column_count(names[i]))}" for i in counted]
            hidden_all = [ROW, *(column_lineage(names[i]) for i in own), *(column_count(names[i]) for i in counted)]
            text = f"SELECT * EXCLUDE ({', '.join(_quote(h) for h in hidden_all)}), {', '.join(gathered)} FROM ({text}) GROUP BY ALL"
        wrapped = sqlglot.parse_one(f"SELECT * FROM ({text})", read="duckdb")
        for key, value in (("order", order), ("limit", limit), ("offset", offset)):
            if value is not None:
                wrapped.set(key, value)
        return wrapped

    # -- SELECT ---------------------------------------------------------------------

    def _select(self, node: exp.Select) -> exp.Expr:
        if node.args.get("kind") or node.args.get("into"):
            raise Unsupported("SELECT INTO or a struct SELECT")
        if any(isinstance(n, exp.Columns) or (isinstance(n, exp.Anonymous) and n.name.lower() == "columns") for n in node.walk()):
            raise Unsupported("COLUMNS(...)")
        items = self._from(node)
        distinct_ = node.args.get("distinct")
        if distinct_ is not None and distinct_.args.get("on") is not None:
            raise Unsupported("DISTINCT ON")
        scope = _Scope(items, self.aggregates)
        if scope.aggregating(node):
            self._aggregated(node, scope)
        else:
            self._plain(node, scope)
        if distinct_ is not None:
            return self._distinct(node)
        return node

    def _from(self, node: exp.Select) -> list[_Item]:
        source = node.args.get("from_")
        if source is None:
            return []
        items = [self._item(source)]
        for join in node.args.get("joins") or []:
            if join.args.get("method") == "NATURAL" or join.args.get("kind") in ("POSITIONAL", "LATERAL") or join.args.get("method") in ("POSITIONAL",):
                raise Unsupported("a NATURAL, POSITIONAL or LATERAL join")
            item = self._item(join)
            item.visible = join.args.get("kind") not in ("SEMI", "ANTI")
            items.append(item)
        return items

    def _item(self, holder: exp.Expr) -> _Item:
        """One FROM or JOIN item, replaced by its lineage twin (a table) or rewritten (a subquery)."""
        target = holder.this
        if isinstance(target, exp.Table) and isinstance(target.this, exp.Identifier) and not target.args.get("db") and not target.args.get("catalog"):
            name = target.name
            alias = target.alias or name
            pivots = target.args.get("pivots") or []
            if name.lower() in self._ctes:
                shape = self._ctes[name.lower()]
                replacement: exp.Expr = exp.Table(this=exp.to_identifier(name, quoted=True), alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
            else:
                relation = next((key for key in self.relations if key.lower() == name.lower()), None)
                if relation is None:
                    raise Unsupported(f"a table the view may not read: {name}")
                shape = self.relations[relation]
                replacement = exp.Table(
                    this=exp.to_identifier(relation, quoted=True),
                    db=exp.to_identifier(SCHEMA, quoted=True),
                    alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)),
                )
            if pivots:
                return self._unpivot_in_from(holder, replacement, alias, shape, pivots)
            holder.set("this", replacement)
            return _Item(alias, shape)
        if isinstance(target, exp.Subquery) and not target.args.get("pivots"):
            alias = target.alias or f"__lin_s{next(self._aliases)}"
            inner = self._query(target.this)
            holder.set("this", exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True))))
            if target.args.get("alias") is not None and target.args["alias"].columns:
                raise Unsupported("a subquery whose columns are renamed")
            return _Item(alias, self._shape(inner.sql("duckdb")))
        raise Unsupported(f"a {type(target).__name__} in FROM")

    def _unpivot_in_from(self, holder: exp.Expr, replacement: exp.Expr, alias: str, shape: Shape, pivots: list[exp.Expr]) -> _Item:
        """``FROM t UNPIVOT (value FOR name IN (a, b))``: each output row comes from one input row."""
        if len(pivots) != 1 or not pivots[0].args.get("unpivot"):
            raise Unsupported("PIVOT")
        pivot = pivots[0]
        values = pivot.expressions
        fields = pivot.args.get("fields") or []
        if len(values) != 1 or len(fields) != 1 or not isinstance(fields[0], exp.In):
            raise Unsupported("an UNPIVOT of several value columns")
        name_column, listed = fields[0].this.name, [e.name for e in fields[0].expressions]
        text = f"UNPIVOT {replacement.sql('duckdb')} ON {', '.join(_quote(c) for c in listed)} INTO NAME {_quote(name_column)} VALUE {_quote(values[0].name)}"
        return self._unpivoted(holder, text, alias, shape, listed, name_column, values[0].name)

    def _unpivot_statement(self, node: exp.Pivot) -> exp.Expr:
        target = node.this
        holder = exp.From(this=target.copy())
        item = self._item(holder)
        into = node.args.get("into")
        if into is None or any(not isinstance(e, exp.Column) for e in node.expressions):
            raise Unsupported("an UNPIVOT without INTO NAME … VALUE …, or over COLUMNS(...)")
        listed = [e.name for e in node.expressions]
        name_column, values = into.this.name, [e.name for e in into.expressions]
        if len(values) != 1:
            raise Unsupported("an UNPIVOT into several value columns")
        text = f"UNPIVOT {holder.this.sql('duckdb')} ON {', '.join(_quote(c) for c in listed)} INTO NAME {_quote(name_column)} VALUE {_quote(values[0])}"
        wrapped = exp.From(this=exp.Table(this=exp.to_identifier("x")))
        self._unpivoted(wrapped, text, item.alias, item.shape, listed, name_column, values[0])
        return exp.select("*").from_(wrapped.this)

    def _unpivoted(self, holder: exp.Expr, text: str, alias: str, shape: Shape, listed: list[str], name_column: str, value: str) -> _Item:
        """The unpivot, with the value column's lineage picked from the column each row came from."""
        item = _Item(alias, shape)
        actual = [next((c for c in shape.columns if c.lower() == name.lower()), name) for name in listed]
        moved = [c for c in actual if c in shape.per_column or c in shape.counted]
        if moved:
            excluded = ", ".join(
                [_quote(column_lineage(c)) for c in moved if c in shape.per_column] + [_quote(column_count(c)) for c in moved if c in shape.counted]
            )
            lineage = " ".join(
                f"WHEN {_string(c)} THEN {_quote(column_lineage(c)) if c in shape.per_column else ROW if not shape.scalar else f'[{ROW}]'}" for c in actual
            )
            counts = " ".join(f"WHEN {_string(c)} THEN {_quote(column_count(c)) if c in shape.counted else 'NULL::BIGINT'}" for c in actual)
            parts = [f"CASE {_quote(name_column)} {lineage} END AS {_quote(column_lineage(value))}"]
            if any(c in shape.counted for c in actual):
                parts.append(f"CASE {_quote(name_column)} {counts} END AS {_quote(column_count(value))}")
            text = f"SELECT * EXCLUDE ({excluded}), {', '.join(parts)} FROM ({text})"
        subquery = exp.Subquery(this=sqlglot.parse_one(text, read="duckdb"), alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        holder.set("this", subquery)
        item.shape = self._shape(text)
        return item

    def _plain(self, node: exp.Select, scope: _Scope) -> None:
        """A SELECT without aggregates: each row keeps its input row's lineage; a computed column, that of what it reads."""
        row = concat([item.row for item in scope.visible])
        added: list[str] = []
        columns: list[tuple[str, Lin, str | None]] = []
        for expression in list(node.expressions):
            if isinstance(expression, exp.Star) or (isinstance(expression, exp.Column) and isinstance(expression.this, exp.Star)):
                columns += self._star(expression, scope)
                continue
            name = expression.alias_or_name
            if not name or (not expression.alias and not isinstance(expression, exp.Column)):
                raise Unsupported("a computed column without a name (write … AS name)")
            lineage, count = scope.value(expression)
            columns.append((name, lineage, count))
        for name, lineage, count in columns:
            if lineage != row or len(scope.visible) > 1:
                added.append(f"{distinct(lineage).as_list()} AS {_quote(column_lineage(name))}")
            if count is not None:
                added.append(f"{count} AS {_quote(column_count(name))}")
        added.insert(0, f"{row.sql if row.scalar else distinct(row).sql} AS {ROW}")
        node.select(*added, append=True, dialect="duckdb", copy=False)

    def _star(self, star: exp.Expr, scope: _Scope) -> list[tuple[str, Lin, str | None]]:
        """``*`` or ``t.*`` (with EXCLUDE): the hidden columns left out, the columns' own lineage passed on."""
        qualifier = star.table if isinstance(star, exp.Column) else ""
        inner = star.this if isinstance(star, exp.Column) else star
        if inner.args.get("replace") or inner.args.get("rename"):
            raise Unsupported("* REPLACE or RENAME")
        items = [i for i in scope.visible if not qualifier or i.alias.lower() == qualifier.lower()]
        excluded = [e.name.lower() for e in inner.args.get("except_") or []]
        hidden_refs = [exp.column(h, table=item.alias, quoted=True) for item in items for h in item.shape.hidden_columns]
        if qualifier:
            hidden_refs = [exp.column(h, quoted=True) for item in items for h in item.shape.hidden_columns]
        inner.set("except_", [*(inner.args.get("except_") or []), *hidden_refs])
        passed: list[tuple[str, Lin, str | None]] = []
        names = [c for item in items for c in item.shape.columns if c.lower() not in excluded]
        repeated = {c for c in names if names.count(c) > 1}
        for item in items:
            for column in item.shape.columns:
                if column.lower() in excluded or column in repeated:
                    continue
                passed.append((column, item.lineage(column), item.count(column)))
        return passed

    def _aggregated(self, node: exp.Select, scope: _Scope) -> None:
        """A SELECT that aggregates: a group's rows feed its lineage; an aggregate's value, the rows it read."""
        row = concat([item.row for item in scope.visible])
        whole = Lin(row.collected())
        added = [f"list_distinct({whole.sql}) AS {ROW}"]
        for expression in list(node.expressions):
            if isinstance(expression, exp.Star) or (isinstance(expression, exp.Column) and isinstance(expression.this, exp.Star)):
                raise Unsupported("* in a SELECT that aggregates")
            if any(True for _ in expression.find_all(exp.Window)):
                raise Unsupported("a window over aggregates")
            name = expression.alias_or_name
            calls = scope.calls(expression)
            if not calls:
                # A group's key: the rows of the group, or, if it reads a column with a lineage of its own, that lineage gathered
                lineage, _ = scope.value(expression)
                if lineage != row or len(scope.visible) > 1:
                    if not name:
                        raise Unsupported("a computed column without a name (write … AS name)")
                    added.append(f"list_distinct({lineage.collected()}) AS {_quote(column_lineage(name))}")
                continue
            if not expression.alias:
                raise Unsupported("an aggregate without a name (write … AS name)")
            parts, counts = [], []
            for call in calls:
                lineage, count = scope.aggregate(call)
                parts.append(lineage)
                counts.append(count)
            if any(part != whole for part in parts):  # else it read every row of its group: the row's lineage says so
                added.append(f"list_distinct({concat(parts).sql}) AS {_quote(column_lineage(name))}")
            if len(counts) == 1:
                added.append(f"{counts[0]} AS {_quote(column_count(name))}")
        node.select(*added, append=True, dialect="duckdb", copy=False)

    def _distinct(self, node: exp.Select) -> exp.Expr:
        if node.args.get("order") or node.args.get("limit") or node.args.get("offset"):
            raise Unsupported("SELECT DISTINCT with ORDER BY or LIMIT")
        node.set("distinct", None)
        shape = self._shape(node.sql("duckdb"))
        gathered = [f"list_distinct({Lin(ROW, shape.scalar).collected()}) AS {ROW}"]
        gathered += [f"list_distinct(flatten(list({_quote(column_lineage(c))}))) AS {_quote(column_lineage(c))}" for c in sorted(shape.per_column)]
        gathered += [f"sum({_quote(column_count(c))}) AS {_quote(column_count(c))}" for c in sorted(shape.counted)]
        excluded = ", ".join(_quote(h) for h in shape.hidden_columns)
        return sqlglot.parse_one(f"SELECT * EXCLUDE ({excluded}), {', '.join(gathered)} FROM ({node.sql('duckdb')}) GROUP BY ALL", read="duckdb")


@dataclass
class _Scope:
    """The FROM items of one SELECT, for finding the lineage of what its expressions read."""

    items: list[_Item]
    aggregates: frozenset[str]

    @property
    def visible(self) -> list[_Item]:
        return [item for item in self.items if item.visible]

    def is_aggregate(self, node: exp.Expr) -> bool:
        if isinstance(node, exp.AggFunc):
            return True
        return isinstance(node, exp.Anonymous) and node.name.lower() in self.aggregates

    def calls(self, expression: exp.Expr) -> list[exp.Expr]:
        """The aggregate calls in an expression, outside windows and outside other aggregates."""
        found: list[exp.Expr] = []

        def visit(node: exp.Expr) -> None:
            if isinstance(node, exp.Window):
                return
            if isinstance(node, exp.Filter) and self.is_aggregate(node.this):
                found.append(node)
                return
            if self.is_aggregate(node):
                found.append(node)
                return
            if isinstance(node, exp.Subquery | exp.Select):
                raise Unsupported("a subquery in a column")
            for child in node.iter_expressions():
                visit(child)

        visit(expression)
        return found

    def aggregating(self, node: exp.Select) -> bool:
        if node.args.get("group") is not None or node.args.get("having") is not None:
            return True
        return any(self.calls(e) for e in node.expressions)

    def column(self, column: exp.Column) -> tuple[Lin, str | None]:
        """The lineage of one column reference (and the count behind it, when an aggregate upstream made it)."""
        name, qualifier = column.name, column.table
        items = [i for i in self.items if (i.alias.lower() == qualifier.lower() if qualifier else i.has(name))]
        if not items:
            raise Unsupported(f"a column the rewrite cannot place: {column.sql('duckdb')}")
        if len(items) == 1:
            return items[0].lineage(name), items[0].count(name)
        return concat([item.lineage(name) for item in items]), None

    def lineage(self, expression: exp.Expr) -> Lin:
        """The union of the lineages of the columns an expression reads (the row's, when it reads none)."""
        columns = [c for c in expression.find_all(exp.Column) if not isinstance(c.this, exp.Star)]
        if any(isinstance(n, exp.Subquery | exp.Select) for n in expression.walk()):
            raise Unsupported("a subquery in a column")
        if not columns:
            return concat([item.row for item in self.visible])
        return concat([self.column(c)[0] for c in columns])

    def value(self, expression: exp.Expr) -> tuple[Lin, str | None]:
        """A non-aggregate column's lineage: its columns', or its windows' (each over the rows of its frame)."""
        windows = list(expression.find_all(exp.Window))
        target = expression.this if isinstance(expression, exp.Alias) else expression
        if not windows:
            columns = list(target.find_all(exp.Column))
            if any(isinstance(n, exp.Subquery | exp.Select) for n in target.walk()):
                raise Unsupported("a subquery in a column")
            if not columns:
                return Lin(EMPTY), None
            if isinstance(target, exp.Column):
                return self.column(target)
            return concat([self.column(c)[0] for c in columns]), None
        parts = [self.window(w) for w in windows]
        outside = target.transform(lambda node: exp.null() if isinstance(node, exp.Window) else node)
        others = [self.column(c)[0] for c in outside.find_all(exp.Column)]
        return concat(parts + others), None

    def window(self, window: exp.Window) -> Lin:
        """The rows a window function's value reads: its frame's (an aggregate), one row's (lag, lead …) or its partition's."""
        function = window.this
        condition = None
        if isinstance(function, exp.IgnoreNulls | exp.RespectNulls):
            raise Unsupported("IGNORE or RESPECT NULLS in a window")
        if isinstance(function, exp.Filter):
            condition = function.expression.this.sql("duckdb")
            function = function.this
        arguments = [a for a in function.iter_expressions() if not isinstance(a, exp.Order)]
        name = (function.name if isinstance(function, exp.Anonymous) else function.sql_name()).lower()
        spec = window.copy()
        if name in POSITIONAL or isinstance(function, exp.Lag | exp.Lead | exp.FirstValue | exp.LastValue | exp.NthValue):
            if not arguments:
                raise Unsupported(f"{name} without a column")
            moved = function.copy()
            first = next(a for a in moved.iter_expressions() if not isinstance(a, exp.Order))
            first.replace(sqlglot.parse_one(self.lineage(arguments[0]).as_list(), read="duckdb"))
            if isinstance(moved, exp.Lag | exp.Lead) and moved.args.get("default") is not None:
                moved.set("default", None)
            spec.set("this", moved)
            return Lin(f"coalesce({spec.sql('duckdb')}, {EMPTY})")
        if self.is_aggregate(function):
            values = _read_arguments(function)
            conditions = ([f"({condition})"] if condition else []) + [f"({a.sql('duckdb')}) IS NOT NULL" for a in values]
            fed = concat([self.lineage(a) for a in values]) if values else concat([i.row for i in self.visible])
            frame = spec.copy()
            frame.set("this", exp.null())
            return Lin(fed.collected(" AND ".join(conditions) or None, frame.sql("duckdb").removeprefix("NULL")))
        ordered = window.args.get("order")
        ranked = [self.lineage(o.this) for o in ordered.expressions] if ordered is not None else []
        partition = window.args.get("partition_by") or []
        over = f" OVER ({'PARTITION BY ' + ', '.join(p.sql('duckdb') for p in partition) if partition else ''})"
        return Lin(concat(ranked or [i.row for i in self.visible]).collected(None, over))

    def aggregate(self, call: exp.Expr) -> tuple[Lin, str]:
        """An aggregate call's lineage (the rows it read: its FILTER's, with a value) and how many rows that is."""
        conditions = []
        function = call
        if isinstance(call, exp.Filter):
            conditions.append(f"({call.expression.this.sql('duckdb')})")
            function = call.this
        distinct_ = isinstance(function.args.get("this"), exp.Distinct)
        read = _read_arguments(function)
        conditions += [f"({a.sql('duckdb')}) IS NOT NULL" for a in read]
        condition = " AND ".join(conditions) or None
        lineage = concat([self.lineage(a) for a in read]) if read else concat([i.row for i in self.visible])
        counted = f"count(DISTINCT {read[0].sql('duckdb')})" if distinct_ and len(read) == 1 else "count(*)"
        count = f"{counted}{f' FILTER (WHERE {condition})' if condition else ''}"
        return Lin(lineage.collected(condition)), count


def _read_arguments(function: exp.Expr) -> list[exp.Expr]:
    """The arguments an aggregate reads values from (not ``*``, literals such as a quantile's fraction, or an ORDER BY)."""
    inner = function.args.get("this")
    arguments = list(inner.expressions) if isinstance(inner, exp.Distinct) else [a for a in function.iter_expressions() if not isinstance(a, exp.Order)]
    if isinstance(function, exp.Count) and isinstance(inner, exp.Star):
        return []
    read = [a for a in arguments if not isinstance(a, exp.Star | exp.Literal)]
    return read[:1] if isinstance(function, exp.PercentileCont | exp.PercentileDisc | exp.Quantile) else read


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
