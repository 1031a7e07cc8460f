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
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["SearchDialect", "SqliteSearch", "like_to_glob", "search_dialect"]

Test = Callable[[Any], ColumnElement[bool]]
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


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


def search_dialect(name: str) -> SearchDialect:
    """The dialect for a SQLAlchemy backend name."""
    if name == "sqlite":
        return SqliteSearch()
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


def _glob_literal(text: str) -> str:
    return "".join(f"[{char}]" if char in "*?[" else char for char in text)
