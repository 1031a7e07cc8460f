"""A validated ``Query`` run as SQL: one page, a count, or every match.

    search_page(conn, query, owner, position, codec) -> Page(rows, total, next_cursor)
    count(conn, query, owner) -> int
    matching_rows(conn, query, owner) -> list[RowMapping]   # sort and limit honoured
    matching_ids(conn, query, owner) -> list[str]

Paging is keyset, not OFFSET: a page starts strictly after the previous page's last row in
the total order ``query.sort`` (which always ends with ``id``), so a deep page costs what the
first one does and rows inserted meanwhile never shift a page. NULLs sort first ascending
and last descending, SQLite's own order, so ORDER BY needs no NULLS clause and indexes serve it.

``total`` is counted once, on the first page, and then carried in the cursor: every page of
one search reports the same total. A first page that holds every match needs no count.

SQLite specifics: ``json_each`` for tags and ``GLOB`` for case-sensitive patterns (``LIKE`` in
SQLite ignores ASCII case, and ``PRAGMA case_sensitive_like`` would change it for everyone).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement, Grouping

from ..service.errors import InvalidInput
from ..service.queries import Condition, CursorCodec, Node, PagePosition, Query, SortKey
from .fields import Field, Kind, fields_of, table_of

__all__ = [
    "Page",
    "count",
    "like_to_glob",
    "matching_ids",
    "matching_rows",
    "search_page",
]

_CHUNK = 8  # terms per AND/OR before nesting: SQLite caps expression depth at 1000
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@attrs.frozen
class Page:
    rows: list[RowMapping]
    total: int
    next_cursor: str | None


def search_page(
    conn: sa.Connection,
    query: Query,
    owner: str,
    position: PagePosition | None,
    codec: CursorCodec,
) -> Page:
    """One page of ``query`` for ``owner``: the first when ``position`` is None."""
    table = table_of(query.resource)
    where = _where(table, query, owner)
    if position is None:
        remaining, total = query.limit, None
    else:
        remaining, total = position.remaining, position.total
        where = sa.and_(where, _after(table, query, position.after))
    if remaining == 0:
        return Page([], count(conn, query, owner) if total is None else total, None)
    size = query.page_size if remaining is None else min(query.page_size, remaining)
    statement = sa.select(table).where(where).order_by(*_order_by(table, query.sort))
    rows = list(_execute(conn, statement.limit(size + 1)).mappings())
    more = len(rows) > size
    del rows[size:]
    if total is None:
        total = count(conn, query, owner) if more else len(rows)
    left = None if remaining is None else remaining - len(rows)
    next_cursor = None
    if more and (left is None or left > 0):
        after = tuple(rows[-1][key.field] for key in query.sort)
        next_cursor = codec.encode(
            query, PagePosition(after=after, remaining=left, total=total), owner=owner
        )
    return Page(rows, total, next_cursor)


def count(conn: sa.Connection, query: Query, owner: str) -> int:
    """The number of all matches, ignoring limit and paging."""
    table = table_of(query.resource)
    statement = sa.select(sa.func.count()).select_from(table).where(_where(table, query, owner))
    return int(_execute(conn, statement).scalar_one())


def matching_rows(conn: sa.Connection, query: Query, owner: str) -> list[RowMapping]:
    """Every match in ``query.sort`` order, at most ``query.limit`` of them (bulk by query)."""
    table = table_of(query.resource)
    return list(_execute(conn, _matching(table, query, owner, table)).mappings())


def matching_ids(conn: sa.Connection, query: Query, owner: str) -> list[str]:
    """The ids of ``matching_rows``, without reading the rows."""
    table = table_of(query.resource)
    return list(_execute(conn, _matching(table, query, owner, table.c.id)).scalars())


def _execute(conn: sa.Connection, statement: sa.Executable) -> sa.CursorResult[Any]:
    """Run ``statement``; a filter beyond SQLite's parser limits is the client's 400, not a 500."""
    try:
        return conn.execute(statement)
    except sa.exc.OperationalError as error:
        message = str(error.orig)
        if any(limit in message for limit in _SQLITE_LIMITS):
            raise InvalidInput(
                "filter is too complex for the server; split it into smaller searches"
            ) from None
        raise


_SQLITE_LIMITS = ("too large", "too many", "stack overflow", "too deep")


def _matching(table: sa.Table, query: Query, owner: str, *columns: Any) -> sa.Select[Any]:
    statement = sa.select(*columns).where(_where(table, query, owner))
    statement = statement.order_by(*_order_by(table, query.sort))
    return statement if query.limit is None else statement.limit(query.limit)


# ---------------------------------------------------------------------------------------------
# Filter


def _where(table: sa.Table, query: Query, owner: str) -> ColumnElement[bool]:
    fields = fields_of(query.resource)
    clauses = [table.c.owner == owner]
    clauses.extend(_node(table, fields, node) for node in query.filter)
    return _junction("and", clauses)


def _node(table: sa.Table, fields: Mapping[str, Field], node: Node) -> ColumnElement[bool]:
    if isinstance(node, Condition):
        return _condition(table, fields[node.field], node.op, node.value)
    if node.junction == "and":
        return _junction("and", [_node(table, fields, child) for child in node.nodes])
    # An "or" of many "eq" on one field (how the client spells "in") becomes one IN.
    clauses: list[ColumnElement[bool]] = []
    members: dict[str, list[Any]] = {}
    for child in node.nodes:
        if isinstance(child, Condition) and child.op == "eq":
            members.setdefault(child.field, []).append(child.value)
        else:
            clauses.append(_node(table, fields, child))
    for name, values in members.items():
        field = fields[name]
        if len(values) == 1:
            clauses.append(_condition(table, field, "eq", values[0]))
        elif field.kind is Kind.TAGS:
            clauses.append(_some_tag(table, lambda tag, vs=values: tag.in_(vs)))
        else:
            clauses.append(table.c[name].in_([_plain(value) for value in values]))
    return _junction("or", clauses)


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


def _condition(table: sa.Table, field: Field, op: str, value: Any) -> ColumnElement[bool]:
    if field.kind is Kind.TAGS:
        return _tags_condition(table, op, value)
    column = table.c[field.name]
    value = _plain(value)
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
            return _pattern(column, op, value)
    raise AssertionError(f"unknown op {op!r}")  # parse_* only lets known ops through


def _pattern(column: Any, op: str, value: str) -> ColumnElement[bool]:
    if op == "prefix":
        return column.op("GLOB")(_glob_literal(value) + "*")
    if op == "like":
        return column.op("GLOB")(like_to_glob(value))
    return sa.func.lower(column).op("GLOB")(like_to_glob(value.translate(_ASCII_LOWER)))


def _tags_condition(table: sa.Table, op: str, value: Any) -> ColumnElement[bool]:
    tags = table.c.tags
    match op:
        case "eq":
            return _has_tag(table, value)
        case "ne":
            return sa.not_(_has_tag(table, value))
        case "isnull":
            return sa.func.coalesce(sa.func.json_array_length(tags), 0) == 0
        case "isnotnull":
            return sa.func.json_array_length(tags) > 0
        case "prefix" | "like" | "ilike":
            return _some_tag(table, lambda tag: _pattern(tag, op, value))
    raise AssertionError(f"{op!r} on tags")  # orderings are refused by parse_*


def _has_tag(table: sa.Table, value: str) -> ColumnElement[bool]:
    """Whether the row's tags contain ``value``.

    A tag of plain characters appears quoted, verbatim, in the stored JSON text whatever the
    serialiser, so ``instr`` rules most rows out before ``json_each`` parses them (2x faster).
    """
    contains = _some_tag(table, lambda tag: tag == value)
    if _PLAIN_TAG.fullmatch(value):
        return sa.and_(sa.func.instr(table.c.tags, f'"{value}"') > 0, contains)
    return contains


_PLAIN_TAG = re.compile(r"[A-Za-z0-9 _.,:;=+*#@%!?()\[\]{}|~^$'-]*")  # never escaped in JSON


def _some_tag(table: sa.Table, test: Any) -> ColumnElement[bool]:
    """EXISTS a tag in the row's JSON array for which ``test(tag)`` holds."""
    each = sa.func.json_each(table.c.tags).table_valued("value", "type").alias("tag")
    return sa.exists().select_from(each).where(each.c.type == "text", test(each.c.value))


def like_to_glob(pattern: str) -> str:
    """A SQL LIKE pattern (``%``, ``_``, backslash escapes) as an equivalent SQLite GLOB."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(_glob_literal(next(chars, "\\")))
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(_glob_literal(char))
    return "".join(out)


def _glob_literal(text: str) -> str:
    return "".join(f"[{char}]" if char in "*?[" else char for char in text)


# ---------------------------------------------------------------------------------------------
# Order and keyset


def _order_by(table: sa.Table, sort: Sequence[SortKey]) -> list[Any]:
    return [table.c[key.field].desc() if key.descending else table.c[key.field] for key in sort]


def _after(table: sa.Table, query: Query, after: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``after`` in the order ``query.sort`` (NULL first ascending)."""
    fields = fields_of(query.resource)
    terms: list[ColumnElement[bool]] = []
    ties: list[ColumnElement[bool]] = []
    for key, raw in zip(query.sort, after, strict=True):
        value = _plain(raw)
        column = table.c[key.field]
        beyond = _beyond(column, key.descending, value, fields[key.field].nullable)
        if beyond is not None:
            terms.append(_junction("and", [*ties, beyond]))
        ties.append(column.is_(None) if value is None else column == value)
    keyset = _junction("or", terms)
    # A redundant bound on the leading key lets SQLite seek in an index instead of scanning.
    first, value = query.sort[0], _plain(after[0])
    bound = _bound(table.c[first.field], first.descending, value, fields[first.field].nullable)
    return keyset if bound is None else sa.and_(bound, keyset)


def _plain(value: Any) -> Any:
    """Booleans as the 0/1 SQLite stores; SQLAlchemy refuses ``<`` and ``>`` with True/False."""
    return int(value) if isinstance(value, bool) else value


def _beyond(column: Any, descending: bool, value: Any, nullable: bool) -> Any:
    """Values strictly after ``value`` in one key's order, or None when there are none."""
    if not descending:
        return column.is_not(None) if value is None else column > value
    if value is None:
        return None
    return sa.or_(column < value, column.is_(None)) if nullable else column < value


def _bound(column: Any, descending: bool, value: Any, nullable: bool) -> Any:
    """Values at or after ``value`` in one key's order, or None when that is every value."""
    if not descending:
        return None if value is None else column >= value
    if value is None:
        return column.is_(None)
    return sa.or_(column <= value, column.is_(None)) if nullable else column <= value
