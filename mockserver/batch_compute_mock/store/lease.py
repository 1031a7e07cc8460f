"""The scheduler lease of a PostgreSQL database: which one of the servers sharing it schedules.

The lease is a session advisory lock (``pg_try_advisory_lock``) taken on a connection of its
own. PostgreSQL holds it exactly as long as that session lives: when the holder's process
dies (even by SIGKILL) its socket closes, the session ends and the lock is free at once, with
no expiry to tune and no clocks to trust. The holder also ``LISTEN``s on that connection, so
a signal another server sends with ``pg_notify`` (a submission, a cancel, a rerun) reaches
the scheduler within milliseconds; its signals sent while no server holds the lease are
covered by the recovery the next holder runs before it schedules.

Builds are claimed the same way, one session lock per function (``build_claim``): a server
that dies mid-build lets go of it, and the scheduling server, which looks for functions left
``building`` every little while, builds them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
import sqlalchemy as sa

__all__ = ["SCHEDULER_CHANNEL", "LeaseLost", "SchedulerLease", "build_claim"]

#: The session advisory lock held by the scheduling server ("bcsched" as a bigint).
SCHEDULER_LOCK_KEY = int.from_bytes(b"bcsched", "big")
#: The first key of the two-key advisory locks a server holds on a function it builds.
BUILD_LOCK_CLASS = int.from_bytes(b"bcbu", "big") & 0x7FFF_FFFF
#: The notification channel the scheduling server listens on.
SCHEDULER_CHANNEL = "batch_compute_scheduler"


class LeaseLost(Exception):
    """The lease's connection broke: another server may hold the lease now."""


class SchedulerLease:
    """One server's side of the lease: ``try_acquire`` until it holds it, then ``signals``."""

    def __init__(self, url: str) -> None:
        self._engine = sa.create_engine(url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
        self._connection: sa.Connection | None = None
        self.held = False

    def try_acquire(self) -> bool:
        """Take the lease if no other server holds it; on success, listen for signals."""
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
            raw = self._raw()
            taken = raw.execute("SELECT pg_try_advisory_lock(%s)", (SCHEDULER_LOCK_KEY,))
            row = taken.fetchone()
            if row is None or not row[0]:
                return False
            raw.execute(f"LISTEN {SCHEDULER_CHANNEL}")
        except (sa.exc.DBAPIError, psycopg.Error):
            self._drop()
            return False
        self.held = True
        return True

    def signals(self, timeout: float) -> list[str]:
        """The payloads sent within ``timeout`` seconds (or fewer, as they arrive); raises
        ``LeaseLost`` when the connection holding the lease broke."""
        assert self.held
        try:
            raw = self._raw()
            payloads = [note.payload for note in raw.notifies(timeout=timeout, stop_after=512)]
            raw.execute("SELECT 1")  # the session (and so the lock) is still there
        except (sa.exc.DBAPIError, psycopg.Error) as error:
            self._drop()
            raise LeaseLost(str(error).splitlines()[0] if str(error) else repr(error)) from None
        return payloads

    def release(self) -> None:
        """Let go (closing the session frees the lock)."""
        self._drop()
        self._engine.dispose()

    def _raw(self) -> Any:
        assert self._connection is not None
        raw = self._connection.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        return raw

    def _drop(self) -> None:
        self.held = False
        if self._connection is not None:
            # A broken connection may fail to close; it is gone either way.
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


@contextlib.contextmanager
def build_claim(engine: sa.Engine, function_id: str) -> Iterator[bool]:
    """Whether this server may build ``function_id`` now: True while it holds the function's
    build lock (on a connection of its own, so that the lock goes with a server that dies
    mid-build and another may build it), False when another server holds it."""
    with engine.connect() as connection:
        taken = connection.execute(
            sa.text("SELECT pg_try_advisory_lock(:class, hashtext(:function_id))"),
            {"class": BUILD_LOCK_CLASS, "function_id": function_id},
        ).scalar_one()
        yield bool(taken)


def notify_scheduler(connection: sa.Connection, payload: str) -> None:
    """Send a signal to the scheduling server (whichever holds the lease)."""
    connection.execute(
        sa.text("SELECT pg_notify(:channel, :payload)"),
        {"channel": SCHEDULER_CHANNEL, "payload": payload},
    )
