"""The database: engines, the SQLite settings, and the schema brought up to date on open.

SQLite settings follow huey: WAL so readers never block the writer, a busy timeout so a
second writer waits instead of failing, ``synchronous=NORMAL`` (safe against application
crashes, which is what restart recovery needs), and ``BEGIN IMMEDIATE`` for every write
transaction, so a compare-and-set never fails half-way with "database is locked".
Reads go through a second engine in autocommit mode and never take the write lock.

The schema is versioned with Alembic (``migrations/``). ``migrate`` runs on every open: a new
database is created at the latest revision, one made before migrations existed (its tables
but no ``alembic_version``) is stamped with the baseline first, and an up-to-date one costs a
single query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

__all__ = [
    "BASELINE_REVISION",
    "Database",
    "current_revision",
    "head_revision",
    "known_revisions",
    "migrate",
]

BASELINE_REVISION = "0001"
_MIGRATIONS = Path(__file__).with_name("migrations")


class Database:
    """Owns the engines; ``read()`` and ``write()`` hand out short-lived connections."""

    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        self.url = url
        self.dialect = sa.engine.make_url(url).get_backend_name()
        if self.dialect == "sqlite":
            self._writer = sa.create_engine(url, pool_size=4, max_overflow=4)
            sa.event.listen(self._writer, "connect", _tune_sqlite)
            sa.event.listen(self._writer, "begin", _begin_immediate)
            self._reader = sa.create_engine(url, pool_size=8, max_overflow=8)
            sa.event.listen(self._reader, "connect", _tune_sqlite)
        else:
            self._writer = self._reader = sa.create_engine(url, pool_pre_ping=True)
        if upgrade:
            migrate(self)

    @property
    def writer_engine(self) -> sa.Engine:
        return self._writer

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


def migrate(database: Database) -> str:
    """Bring the schema to the latest revision; returns it."""
    with database.write() as connection:
        if current_revision(connection) is None and sa.inspect(connection).has_table("jobs"):
            _alembic(connection, "stamp", BASELINE_REVISION)  # made before migrations existed
        _alembic(connection, "upgrade", "head")
        revision = current_revision(connection)
    assert revision is not None
    return revision


def current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def known_revisions() -> list[str]:
    """Every revision of the schema, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _alembic(connection: sa.Connection, action: str, revision: str) -> None:
    config = _config()
    config.attributes["connection"] = connection
    getattr(command, action)(config, revision)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


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
