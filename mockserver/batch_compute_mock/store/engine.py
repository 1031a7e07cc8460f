"""The database: SQLite in WAL mode by default, any SQLAlchemy URL otherwise.

SQLite settings follow huey: WAL so readers never block the writer, a busy timeout so a
second writer waits instead of failing, ``synchronous=NORMAL`` (safe against application
crashes, which is what restart recovery needs), and ``BEGIN IMMEDIATE`` for every write
transaction, so a compare-and-set never fails half-way with "database is locked".
Reads go through a second engine in autocommit mode and never take the write lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from .tables import metadata

__all__ = ["Database"]


class Database:
    """Owns the engines; ``read()`` and ``write()`` hand out short-lived connections."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self._writer = sa.create_engine(url, pool_size=4, max_overflow=4)
            sa.event.listen(self._writer, "connect", _tune_sqlite)
            sa.event.listen(self._writer, "begin", _begin_immediate)
            self._reader = sa.create_engine(url, pool_size=8, max_overflow=8)
            sa.event.listen(self._reader, "connect", _tune_sqlite)
        else:
            self._writer = self._reader = sa.create_engine(url)
        metadata.create_all(self._writer)

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A connection for queries; on SQLite every statement sees the latest commit."""
        with self._reader.connect() as connection:
            yield connection
            connection.rollback()

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A transaction holding the write lock; committed on success, rolled back on error."""
        with self._writer.begin() as connection:
            yield connection

    def dispose(self) -> None:
        self._reader.dispose()
        self._writer.dispose()


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the driver: "begin" below decides for writes,
    # and reads run in autocommit.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _begin_immediate(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
