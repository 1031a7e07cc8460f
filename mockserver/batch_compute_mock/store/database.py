"""The database: engines, the SQLite settings, and the schema brought up to date on open.

SQLite settings follow huey: WAL so readers never block the writer, a busy timeout so a
second writer waits instead of failing, ``synchronous=NORMAL`` (safe against application
crashes, which is what restart recovery needs), and ``BEGIN IMMEDIATE`` for every write
transaction, so a compare-and-set never fails half-way with "database is locked".
Reads go through a second engine in autocommit mode and never take the write lock.

PostgreSQL gets the same discipline: every write transaction first takes one
transaction-scoped advisory lock (``pg_advisory_xact_lock``), so write transactions run one at
a time across every server sharing the database, exactly as ``BEGIN IMMEDIATE`` makes them
on SQLite. Each compare-and-set, claim and read-then-write in a write transaction is then as
safe with several servers as it is with one, and no write ever fails with a serialization
error to retry. Reads run in autocommit (each statement sees the latest commit) and never
wait for it.

The schema is versioned with Alembic (``migrations/``). ``migrate`` runs on every open: a new
database is created at the latest revision, one made before migrations existed (its tables
but no ``alembic_version``) is stamped with the baseline first, and an up-to-date one costs a
single query.
"""

from __future__ import annotations

import time
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
    "DatabaseUnavailable",
    "current_revision",
    "head_revision",
    "known_revisions",
    "migrate",
]

BASELINE_REVISION = "0001"
#: The advisory lock every PostgreSQL write transaction holds ("batchcmp" as a bigint).
WRITE_LOCK_KEY = int.from_bytes(b"batchcmp", "big") & 0x7FFF_FFFF_FFFF_FFFF
_MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseUnavailable(Exception):
    """The database URL is malformed, names a database we do not support, or cannot be
    reached; the message says which, with the URL's password hidden."""


class Database:
    """Owns the engines; ``read()`` and ``write()`` hand out short-lived connections."""

    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        try:
            self.url = url = _with_driver(url)
        except (sa.exc.ArgumentError, ValueError) as error:  # ValueError: e.g. a bad port
            raise DatabaseUnavailable(  # the URL itself may hold a password: not repeated
                "malformed database URL: use sqlite:///PATH or "
                "postgresql+psycopg://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
            ) from error
        self.dialect = sa.engine.make_url(url).get_backend_name()
        if self.dialect == "sqlite":
            self._writer = sa.create_engine(url, pool_size=4, max_overflow=4)
            sa.event.listen(self._writer, "connect", _tune_sqlite)
            sa.event.listen(self._writer, "begin", _begin_immediate)
            self._reader = sa.create_engine(url, pool_size=8, max_overflow=8)
            sa.event.listen(self._reader, "connect", _tune_sqlite)
        elif self.dialect == "postgresql":
            self._writer = sa.create_engine(url, pool_size=4, max_overflow=4, pool_pre_ping=True)
            sa.event.listen(self._writer, "begin", _take_write_lock)
            # No pre-ping per checkout (a round trip per GET): a connection idle for a while
            # is pinged, and one found cut fails its request with a 503 and is replaced.
            self._reader = sa.create_engine(
                url, pool_size=8, max_overflow=8, isolation_level="AUTOCOMMIT"
            )
            sa.event.listen(self._reader, "checkout", _ping_if_idle)
            sa.event.listen(self._reader, "checkin", _note_checkin)
        else:
            raise DatabaseUnavailable(
                f"unsupported database {self.safe_url!r}: use sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST/DATABASE"
            )
        if upgrade:
            try:
                migrate(self)
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
                self.dispose()
                raise DatabaseUnavailable(f"cannot open {self.safe_url}: {error.orig}") from None

    @property
    def safe_url(self) -> str:
        """The URL with its password hidden, for messages and banners."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

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


def _with_driver(url: str) -> str:
    """``postgresql://`` (or ``postgres://``) means psycopg 3, the driver the server ships with."""
    parsed = sa.engine.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


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


#: A pooled read connection idle longer than this is pinged before it is handed out.
_IDLE_PING_SECONDS = 10.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that sat idle (the server may have dropped it meanwhile); a failed
    ping makes the pool replace it, as ``pool_pre_ping`` would, without a round trip on
    every busy checkout."""
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < _IDLE_PING_SECONDS:
        return
    try:
        dbapi_connection.execute("SELECT 1")
    except Exception as error:
        raise sa.exc.DisconnectionError(f"idle connection dropped: {error}") from error


def _take_write_lock(connection: sa.Connection) -> None:
    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
