"""What differs between databases, each difference in one place.

The search compiler (``search``) asks its ``SearchDialect`` for the few expressions SQL
spells differently: the tag tests (tags are a JSON array in a column), the text patterns
(``prefix``, ``like``, ``ilike`` with the semantics ``service.queries`` documents: case
sensitive but for ``ilike``, which folds ASCII only), how a value is bound, and which errors
mean "this filter is too complex" (the client's 400, not a 500).

SQLite: ``json_each`` for tags (with an ``instr`` pre-check that rules most rows out before any
JSON is parsed) and ``GLOB`` for case-sensitive patterns (SQLite's ``LIKE`` ignores ASCII case,
and ``PRAGMA case_sensitive_like`` would change it for every connection). NULLs sort first
ascending and last descending, which is the order the API documents, so ORDER BY needs no
NULLS clause and plain indexes serve it.

PostgreSQL: tags are ``jsonb`` (schema ``Tags``), tested with ``?`` / ``?|`` (string elements
only, as ``json_each``'s ``type = 'text'``) that a GIN index serves, and
``jsonb_array_elements_text`` for patterns. Patterns are ``LIKE`` with every API pattern
rewritten to PostgreSQL's own escaping (a trailing backslash is a literal one, as on SQLite,
where PostgreSQL would refuse it), and ``ilike`` folds ASCII only through ``translate`` (its
``ILIKE`` folds by locale). Text columns are ``COLLATE "C"``, so comparisons and sorts go by
code point as on SQLite. NULLs sort last ascending there, so nullable keys say NULLS FIRST /
NULLS LAST.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

__all__ = [
    "PostgresSearch",
    "SearchDialect",
    "SqliteSearch",
    "like_to_glob",
    "like_to_like",
    "search_dialect",
]

Test = Callable[[Any], ColumnElement[bool]]
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ASCII_LOWER = str.maketrans(_UPPER, _LOWER)


class SearchDialect:
    """The expressions a search needs that each database spells its own way."""

    name = "generic"

    def bind(self, value: Any) -> Any:
        """A filter or cursor value as the column compares it."""
        return value

    def order(self, column: Any, descending: bool, nullable: bool) -> Any:
        """ORDER BY term: NULLs first ascending, last descending."""
        return column.desc() if descending else column

    def pattern(self, column: Any, op: str, value: str) -> ColumnElement[bool]:
        raise NotImplementedError

    def some_tag(self, tags: Any, test: Test) -> ColumnElement[bool]:
        """Whether some tag in the row's JSON array satisfies ``test``."""
        raise NotImplementedError

    def has_tag(self, tags: Any, value: str) -> ColumnElement[bool]:
        return self.some_tag(tags, lambda tag: tag == value)

    def has_any_tag(self, tags: Any, values: list[str]) -> ColumnElement[bool]:
        """Whether some tag is one of ``values``."""
        return self.some_tag(tags, lambda tag: tag.in_(values))

    def has_no_tags(self, tags: Any) -> ColumnElement[bool]:
        raise NotImplementedError

    def too_complex(self, error: sa.exc.DBAPIError) -> bool:
        """Whether the database refused a statement for its size or depth."""
        return False


class SqliteSearch(SearchDialect):
    name = "sqlite"
    _LIMITS = ("too large", "too many", "stack overflow", "too deep")
    # Characters that JSON never escapes: such a tag appears verbatim, quoted, in the text.
    _PLAIN_TAG = re.compile(r"[A-Za-z0-9 _.,:;=+*#@%!?()\[\]{}|~^$'-]*")

    def bind(self, value: Any) -> Any:
        # Booleans as the 0/1 SQLite stores; SQLAlchemy refuses < and > with True/False.
        return int(value) if isinstance(value, bool) else value

    def pattern(self, column: Any, op: str, value: str) -> ColumnElement[bool]:
        if op == "prefix":
            return column.op("GLOB")(_glob_literal(value) + "*")
        if op == "like":
            return column.op("GLOB")(like_to_glob(value))
        folded = like_to_glob(value.translate(_ASCII_LOWER))
        return sa.func.lower(column).op("GLOB")(folded)

    def some_tag(self, tags: Any, test: Test) -> ColumnElement[bool]:
        each = sa.func.json_each(tags).table_valued("value", "type").alias("tag")
        return sa.exists().select_from(each).where(each.c.type == "text", test(each.c.value))

    def has_tag(self, tags: Any, value: str) -> ColumnElement[bool]:
        contains = self.some_tag(tags, lambda tag: tag == value)
        if self._PLAIN_TAG.fullmatch(value):  # instr rules most rows out first (2x faster)
            return sa.and_(sa.func.instr(tags, f'"{value}"') > 0, contains)
        return contains

    def has_no_tags(self, tags: Any) -> ColumnElement[bool]:
        return sa.func.coalesce(sa.func.json_array_length(tags), 0) == 0

    def too_complex(self, error: sa.exc.DBAPIError) -> bool:
        message = str(error.orig)
        return isinstance(error, sa.exc.OperationalError) and any(
            limit in message for limit in self._LIMITS
        )


class PostgresSearch(SearchDialect):
    name = "postgresql"
    # SQLSTATE class 54, "program limit exceeded": stack depth, too many arguments, ...
    _LIMIT_CLASS = "54"
    # psycopg's own refusal of a statement with more parameters than the protocol carries.
    _CLIENT_LIMITS = ("parameters must be between",)

    def bind(self, value: Any) -> Any:
        # A boolean as a typed parameter: SQLAlchemy refuses < and > with a bare True/False.
        if isinstance(value, bool):
            return sa.literal(value, sa.Boolean())
        # Integers as bigint: the API takes any 64-bit value, an integer column holds 32 bits,
        # and a parameter cast to the column's type would overflow (int4 vs int8 compares
        # with the column's index, as a numeric would not).
        if isinstance(value, int):
            return sa.literal(value, sa.BigInteger())
        return value

    def order(self, column: Any, descending: bool, nullable: bool) -> Any:
        if not nullable:
            return column.desc() if descending else column
        return column.desc().nulls_last() if descending else column.asc().nulls_first()

    def pattern(self, column: Any, op: str, value: str) -> ColumnElement[bool]:
        if op == "prefix":
            return column.like(_like_literal(value) + "%", escape="\\")
        if op == "like":
            return column.like(like_to_like(value), escape="\\")
        folded = like_to_like(value.translate(_ASCII_LOWER))
        return sa.func.translate(column, _UPPER, _LOWER).like(folded, escape="\\")

    def some_tag(self, tags: Any, test: Test) -> ColumnElement[bool]:
        each = sa.func.jsonb_array_elements(_array_or_empty(tags)).table_valued("value")
        each = each.alias("tag")
        text = each.c.value.op("#>>")(sa.literal_column("'{}'"))  # a JSON string's text
        return (
            sa.exists()
            .select_from(each)
            .where(sa.func.jsonb_typeof(each.c.value) == "string", test(text))
        )

    def has_tag(self, tags: Any, value: str) -> ColumnElement[bool]:
        return tags.op("?")(value)  # type: ignore[no-any-return]

    def has_any_tag(self, tags: Any, values: list[str]) -> ColumnElement[bool]:
        return tags.op("?|")(postgresql.array(values, type_=sa.String))  # type: ignore[no-any-return]

    def has_no_tags(self, tags: Any) -> ColumnElement[bool]:
        return sa.func.jsonb_array_length(_array_or_empty(tags)) == 0

    def too_complex(self, error: sa.exc.DBAPIError) -> bool:
        sqlstate = getattr(error.orig, "sqlstate", None) or ""
        message = str(error.orig)
        return sqlstate.startswith(self._LIMIT_CLASS) or any(
            limit in message for limit in self._CLIENT_LIMITS
        )


def _array_or_empty(tags: Any) -> Any:
    """The tags when they are an array, else ``[]`` (PostgreSQL's array functions refuse a
    scalar, where SQLite's treat it as no elements)."""
    return sa.case(
        (sa.func.jsonb_typeof(tags) == "array", tags),
        else_=sa.literal_column("'[]'::jsonb"),
    )


def search_dialect(name: str) -> SearchDialect:
    """The dialect for a SQLAlchemy backend name."""
    if name == "sqlite":
        return SqliteSearch()
    if name == "postgresql":
        return PostgresSearch()
    raise ValueError(f"no search dialect for the {name!r} database")


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


def like_to_like(pattern: str) -> str:
    """An API LIKE pattern in PostgreSQL's spelling with ``\\`` as the escape: the same
    wildcards, every other character literal (a trailing lone backslash too)."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(_like_literal(next(chars, "\\")))
        elif char in "%_":
            out.append(char)
        else:
            out.append(_like_literal(char))
    return "".join(out)


def _like_literal(text: str) -> str:
    return "".join(f"\\{char}" if char in "\\%_" else char for char in text)


def _glob_literal(text: str) -> str:
    return "".join(f"[{char}]" if char in "*?[" else char for char in text)
