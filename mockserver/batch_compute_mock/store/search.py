"""A validated ``Query`` run as SQL: one page, a count, or every match.

    searcher = Searcher(search_dialect("sqlite"))
    searcher.page(conn, query, owner, position) -> Page(rows, total, next_position)
    searcher.count(conn, query, owner) -> int
    searcher.matching_rows(conn, query, owner) -> list[RowMapping]   # sort and limit honoured

Paging is keyset, not OFFSET: a page starts strictly after the previous page's last row in
the total order ``query.sort`` (which always ends with ``id``), so a deep page costs what the
first one does and rows inserted meanwhile never shift a page. NULLs sort first ascending
and last descending.

``total`` is counted once, on the first page, and then carried in the position: every page of
one search reports the same total. A first page that holds every match needs no count, and a
job search filtered by function and status only reads the maintained counts (``job_counts``).

What SQL spells differently per database lives in ``dialects``; this module is the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement, Grouping

from ..kernel.errors import InvalidInput
from ..kernel.query import Condition, Field, Kind, Node, PagePosition, Query, SortKey, fields_of
from . import job_counts, schema
from .count_scope import count_scope
from .dialects import SearchDialect
from .protocol import Page

__all__ = ["Searcher"]

_CHUNK = 8  # terms per AND/OR before nesting: SQLite caps expression depth at 1000
_TABLES = {"functions": schema.functions, "jobs": schema.jobs}


class Searcher:
    """Compiles and runs searches with one database's ``SearchDialect``."""

    def __init__(self, dialect: SearchDialect) -> None:
        self.dialect = dialect

    def page(
        self, conn: sa.Connection, query: Query, owner: str, position: PagePosition | None
    ) -> Page:
        """One page of ``query`` for ``owner``: the first when ``position`` is None."""
        table = _TABLES[query.resource]
        where = self._where(table, query, owner)
        if position is None:
            remaining, total = query.limit, None
        else:
            remaining, total = position.remaining, position.total
            where = sa.and_(where, self._after(table, query, position.after))
        if remaining == 0:
            return Page([], self.count(conn, query, owner) if total is None else total, None)
        size = query.page_size if remaining is None else min(query.page_size, remaining)
        statement = sa.select(table).where(where).order_by(*self._order_by(table, query))
        rows: list[RowMapping] = list(self._execute(conn, statement.limit(size + 1)).mappings())
        more = len(rows) > size
        del rows[size:]
        if total is None:
            total = self.count(conn, query, owner) if more else len(rows)
        left = None if remaining is None else remaining - len(rows)
        next_position = None
        if more and (left is None or left > 0):
            after = tuple(rows[-1][key.field] for key in query.sort)
            next_position = PagePosition(after=after, remaining=left, total=total)
        return Page(list(rows), total, next_position)

    def count(self, conn: sa.Connection, query: Query, owner: str) -> int:
        """The number of all matches, ignoring limit and paging: from the maintained counts
        when the filter names only functions and statuses, else by counting the matches."""
        scope = count_scope(query.filter) if query.resource == "jobs" else None
        if scope is not None:
            return int(self._execute(conn, job_counts.total_query(owner, scope)).scalar_one())
        table = _TABLES[query.resource]
        where = self._where(table, query, owner)
        statement = sa.select(sa.func.count()).select_from(table).where(where)
        return int(self._execute(conn, statement).scalar_one())

    def matching_rows(self, conn: sa.Connection, query: Query, owner: str) -> list[RowMapping]:
        """Every match in ``query.sort`` order, at most ``query.limit`` of them."""
        table = _TABLES[query.resource]
        statement = sa.select(table).where(self._where(table, query, owner))
        statement = statement.order_by(*self._order_by(table, query))
        if query.limit is not None:
            statement = statement.limit(query.limit)
        return list(self._execute(conn, statement).mappings())

    def _execute(self, conn: sa.Connection, statement: sa.Executable) -> sa.CursorResult[Any]:
        """Run ``statement``; a filter beyond the database's limits is the client's 400."""
        try:
            return conn.execute(statement)
        except sa.exc.DBAPIError as error:
            if self.dialect.too_complex(error):
                raise InvalidInput(
                    "filter is too complex for the server; split it into smaller searches"
                ) from None
            raise

    # Filter ------------------------------------------------------------------------------

    def _where(self, table: sa.Table, query: Query, owner: str) -> ColumnElement[bool]:
        fields = fields_of(query.resource)
        clauses = [table.c.owner == owner]
        clauses.extend(self._node(table, fields, node) for node in query.filter)
        return _junction("and", clauses)

    def _node(
        self, table: sa.Table, fields: Mapping[str, Field], node: Node
    ) -> ColumnElement[bool]:
        if isinstance(node, Condition):
            return self._condition(table, fields[node.field], node.op, node.value)
        if node.junction == "and":
            return _junction("and", [self._node(table, fields, child) for child in node.nodes])
        # An "or" of many "eq" on one field (how the client spells "in") becomes one IN.
        clauses: list[ColumnElement[bool]] = []
        members: dict[str, list[Any]] = {}
        for child in node.nodes:
            if isinstance(child, Condition) and child.op == "eq":
                members.setdefault(child.field, []).append(child.value)
            else:
                clauses.append(self._node(table, fields, child))
        for name, values in members.items():
            field = fields[name]
            if len(values) == 1:
                clauses.append(self._condition(table, field, "eq", values[0]))
            elif field.kind is Kind.TAGS:
                clauses.append(self.dialect.has_any_tag(table.c.tags, values))
            else:
                clauses.append(table.c[name].in_([self.dialect.bind(value) for value in values]))
        return _junction("or", clauses)

    def _condition(self, table: sa.Table, field: Field, op: str, value: Any) -> ColumnElement[bool]:
        if field.kind is Kind.TAGS:
            return self._tags_condition(table.c.tags, op, value)
        column = table.c[field.name]
        value = self.dialect.bind(value)
        match op:
            case "eq":
                return column == value
            case "ne":
                return column.is_distinct_from(value) if field.nullable else column != value
            case "lt":
                return column < value
            case "lte":
                return column <= value
            case "gt":
                return column > value
            case "gte":
                return column >= value
            case "isnull":
                return column.is_(None)
            case "isnotnull":
                return column.is_not(None)
            case "prefix" | "like" | "ilike":
                return self.dialect.pattern(column, op, value)
        raise AssertionError(f"unknown op {op!r}")  # parse_* only lets known ops through

    def _tags_condition(self, tags: Any, op: str, value: Any) -> ColumnElement[bool]:
        match op:
            case "eq":
                return self.dialect.has_tag(tags, value)
            case "ne":
                return sa.not_(self.dialect.has_tag(tags, value))
            case "isnull":
                return self.dialect.has_no_tags(tags)
            case "isnotnull":
                return sa.not_(self.dialect.has_no_tags(tags))
            case "prefix" | "like" | "ilike":
                return self.dialect.some_tag(tags, lambda tag: self.dialect.pattern(tag, op, value))
        raise AssertionError(f"{op!r} on tags")  # orderings are refused by parse_*

    # Order and keyset --------------------------------------------------------------------

    def _order_by(self, table: sa.Table, query: Query) -> list[Any]:
        fields = fields_of(query.resource)
        return [
            self.dialect.order(table.c[key.field], key.descending, fields[key.field].nullable)
            for key in query.sort
        ]

    def _after(self, table: sa.Table, query: Query, after: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after ``after`` in the order ``query.sort`` (NULL first ascending)."""
        fields = fields_of(query.resource)
        terms: list[ColumnElement[bool]] = []
        ties: list[ColumnElement[bool]] = []
        for key, raw in zip(query.sort, after, strict=True):
            value = self.dialect.bind(raw)
            column = table.c[key.field]
            beyond = _beyond(column, key, value, fields[key.field].nullable)
            if beyond is not None:
                terms.append(_junction("and", [*ties, beyond]))
            ties.append(column.is_(None) if value is None else column == value)
        keyset = _junction("or", terms)
        # A redundant bound on the leading key lets the database seek in an index.
        first, value = query.sort[0], self.dialect.bind(after[0])
        bound = _bound(table.c[first.field], first, value, fields[first.field].nullable)
        return keyset if bound is None else sa.and_(bound, keyset)


def _junction(junction: str, clauses: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    """AND/OR of ``clauses``, nested in parenthesised chunks so the parse tree stays shallow."""
    combine = sa.and_ if junction == "and" else sa.or_
    if not clauses:
        return sa.true() if junction == "and" else sa.false()
    if len(clauses) == 1:
        return clauses[0]
    if len(clauses) <= _CHUNK:
        return combine(*clauses)
    groups: list[ColumnElement[bool]] = [
        _Parens(combine(*clauses[start : start + _CHUNK]))
        for start in range(0, len(clauses), _CHUNK)
    ]
    return _junction(junction, groups)


class _Parens(Grouping[bool]):
    """A parenthesised AND/OR that ``sa.and_``/``sa.or_`` keep nested instead of flattening."""

    inherit_cache = True
    operator = None  # Grouping would forward this to the inner list, which invites flattening


def _beyond(column: Any, key: SortKey, value: Any, nullable: bool) -> Any:
    """Values strictly after ``value`` in one key's order, or None when there are none."""
    if not key.descending:
        return column.is_not(None) if value is None else column > value
    if value is None:
        return None
    return sa.or_(column < value, column.is_(None)) if nullable else column < value


def _bound(column: Any, key: SortKey, value: Any, nullable: bool) -> Any:
    """Values at or after ``value`` in one key's order, or None when that is every value."""
    if not key.descending:
        return None if value is None else column >= value
    if value is None:
        return column.is_(None)
    return sa.or_(column <= value, column.is_(None)) if nullable else column <= value
