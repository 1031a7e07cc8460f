"""The ``job_starts`` table: the start ledger of a database several servers share.

An attempt is noted the moment a worker takes it, on the scheduler's event loop, so noting
must be one short round trip: a connection of its own (no pool checkout, no pre-ping), in
autocommit (it neither waits for a round's write transaction nor is rolled back with one),
and a plain statement psycopg prepares once. On a local network that is a fraction of a
millisecond per start. A database that stops answering must not hang the event loop: the
connection has a connect timeout and a statement timeout, and its socket gives up when the
server stops acknowledging (``lease.bounded_connection``); the scheduler logs a failed note and
goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import psycopg
import sqlalchemy as sa

from .lease import STATEMENT_TIMEOUT_SECONDS, bounded_connection

__all__ = ["StartRecords"]

_NOTE = (
    "INSERT INTO job_starts (job_id, attempt) VALUES (%s, %s) "
    "ON CONFLICT (job_id) DO UPDATE SET attempt = EXCLUDED.attempt"
)

_FORGET = "DELETE FROM job_starts WHERE job_id = ANY(%s)"


class StartRecords:
    """Notes, forgets and lists started attempts on one autocommit connection (any thread)."""

    def __init__(self, url: str) -> None:
        self._engine = sa.create_engine(
            url,
            poolclass=sa.NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args=bounded_connection(STATEMENT_TIMEOUT_SECONDS),
        )
        self._connection: sa.Connection | None = None
        self._lock = threading.Lock()

    def note(self, job_id: str, attempt: int) -> None:
        self._run(lambda raw: raw.execute(_NOTE, (job_id, attempt), prepare=True))

    def forget(self, job_ids: Iterable[str]) -> None:
        ids = list(job_ids)
        if ids:
            self._run(
                lambda raw: raw.execute("DELETE FROM job_starts WHERE job_id = ANY(%s)", (ids,))
            )

    def noted(self) -> dict[str, int]:
        rows = self._run(
            lambda raw: raw.execute("SELECT job_id, attempt FROM job_starts").fetchall()
        )
        return {job_id: attempt for job_id, attempt in rows}

    def clear(self) -> None:
        self._run(lambda raw: raw.execute("DELETE FROM job_starts"))

    def close(self) -> None:
        with self._lock:
            self._drop()
        self._engine.dispose()

    def _run(self, work: Any) -> Any:
        """``work(raw psycopg connection)``, connecting first if needed; a broken connection
        is dropped (the next call reconnects) and the error raised."""
        with self._lock:
            if self._connection is None:
                self._connection = self._engine.connect()
            raw = self._connection.connection.driver_connection
            assert isinstance(raw, psycopg.Connection)
            try:
                return work(raw)
            except psycopg.OperationalError:  # QueryCanceled (the timeout) is one too
                self._drop()
                raise

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None
