"""The scheduler lease of a PostgreSQL database: which one of the servers sharing it schedules.

The lease is a session advisory lock (``pg_try_advisory_lock``) taken on a connection of its
own. PostgreSQL holds it exactly as long as that session lives: when the holder's process
dies (even by SIGKILL) its socket closes, the session ends and the lock is free at once. A
holder that is alive but silent (stopped with SIGSTOP, or cut off by a network partition that
keeps its TCP session open) must not hold it forever either, so the session carries a
server-side expiry, ``idle_session_timeout`` = ``LEASE_EXPIRY_SECONDS``: the holder proves
the session alive with a round trip every half second, and PostgreSQL ends a session that
stays silent longer, which frees the lock. Its client side gives up on an unanswered socket
as quickly (``tcp_user_timeout``), so a partitioned holder learns it lost the lease.

Expiry alone is not safe: the old holder may resume after another server took over. So every
transaction a scheduler writes as scheduler first checks, under the database's write lock,
that the lock is still granted to this lease's session (``holds_lease``: its backend pid and
start time in ``pg_locks``); the next holder's recovery takes that write lock too, so a write
either commits before the recovery reads, or finds the lease gone and aborts.

The holder also ``LISTEN``s on that connection, so a signal another server sends with
``pg_notify`` (a submission, a cancel, a rerun) reaches the scheduler within milliseconds; its
signals sent while no server holds the lease are covered by the recovery the next holder runs
before it schedules. A server that must know the holder acted (a test control's restore)
sends a signal with a token and waits for the token on ``ANSWER_CHANNEL`` (``ask_holder``).

Builds are claimed the same way, one session lock per function (``build_claim``): a server
that dies mid-build lets go of it, and the scheduling server, which looks for functions left
``building`` every little while, builds them.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import sqlalchemy as sa

from ..kernel.terms import Term

__all__ = [
    "ANSWER_CHANNEL",
    "LEASE_EXPIRY_SECONDS",
    "SCHEDULER_CHANNEL",
    "LeaseLost",
    "LeaseSession",
    "SchedulerLease",
    "ask_holder",
    "build_claim",
    "holds_lease",
]

#: The session advisory lock held by the scheduling server ("bcsched" as a bigint).
SCHEDULER_LOCK_KEY = int.from_bytes(b"bcsched", "big")
#: The first key of the two-key advisory locks a server holds on a function it builds.
BUILD_LOCK_CLASS = int.from_bytes(b"bcbu", "big") & 0x7FFF_FFFF
#: The notification channel the scheduling server listens on.
SCHEDULER_CHANNEL = "batch_compute_scheduler"
#: Where the scheduling server answers a signal that carried a token (``ask_holder``).
ANSWER_CHANNEL = "batch_compute_scheduler_answers"
#: How long PostgreSQL keeps the lease of a holder that went silent (its session's
#: ``idle_session_timeout``); the holder speaks every half second.
LEASE_EXPIRY_SECONDS = 5.0
#: How long a connect, or a statement on the lease's or the start ledger's connection, may
#: take before it fails instead of hanging (a partitioned network answers nothing).
CONNECT_TIMEOUT_SECONDS = 5
STATEMENT_TIMEOUT_SECONDS = 5.0

#: The lease's session: the PostgreSQL backend pid and start time that hold the lock.
LeaseSession = tuple[int, str]
_HOLDS = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks AS l, pg_stat_get_activity(l.pid) AS a "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :high AND l.objid = :low "
    "AND l.objsubid = 1 AND l.pid = :pid AND a.backend_start::text = :started)"
)


class LeaseLost(Exception):
    """The lease's connection broke: another server may hold the lease now."""


class SchedulerLease:
    """One server's side of the lease: ``try_acquire`` until it holds it, then ``signals``."""

    def __init__(self, url: str) -> None:
        self._engine = sa.create_engine(
            url,
            poolclass=sa.NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args=bounded_connection(
                STATEMENT_TIMEOUT_SECONDS, idle_session_timeout=LEASE_EXPIRY_SECONDS
            ),
        )
        self._connection: sa.Connection | None = None
        self.held = False
        #: The session holding the lock while ``held`` (what ``holds_lease`` checks).
        self.session: LeaseSession | None = None
        #: The last acquisition's term (``kernel.terms``): this PostgreSQL cluster's identifier
        #: and a transaction id taken with the lock held, greater than every earlier holder's.
        self.term: Term | None = None
        #: ``time.monotonic()`` just before the last round trip that proved the lease held:
        #: the lease lasts at least ``LEASE_EXPIRY_SECONDS`` past it.
        self.proven_at = float("-inf")

    def try_acquire(self) -> bool:
        """Take the lease if no other server holds it; on success, listen for signals."""
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
            raw = self._raw()
            asked = time.monotonic()
            taken = raw.execute(
                "SELECT pg_try_advisory_lock(%s), pg_backend_pid(), "
                "(SELECT backend_start::text FROM pg_stat_get_activity(pg_backend_pid()))",
                (SCHEDULER_LOCK_KEY,),
            )
            row = taken.fetchone()
            if row is None or not row[0]:
                return False
            # Taken once the lock is: a transaction id handed out now is greater than any
            # an earlier holder took (PostgreSQL hands them out in increasing order).
            numbered = raw.execute(
                "SELECT (SELECT system_identifier FROM pg_control_system())::text, txid_current()"
            ).fetchone()
            raw.execute(f"LISTEN {SCHEDULER_CHANNEL}")
        except (sa.exc.DBAPIError, psycopg.Error):
            self._drop()
            return False
        self.session = (int(row[1]), str(row[2]))
        assert numbered is not None
        self.term = Term(f"postgresql:{numbered[0]}", int(numbered[1]))
        self.proven_at = asked
        self.held = True
        return True

    def signals(self, timeout: float) -> list[str]:
        """The payloads sent within ``timeout`` seconds (or fewer, as they arrive); raises
        ``LeaseLost`` when the connection holding the lease broke (or PostgreSQL ended the
        session: it stayed silent past the expiry)."""
        assert self.held
        try:
            raw = self._raw()
            payloads = [note.payload for note in raw.notifies(timeout=timeout, stop_after=512)]
            asked = time.monotonic()
            raw.execute("SELECT 1")  # the session (and so the lock) is still there
        except (sa.exc.DBAPIError, psycopg.Error) as error:
            self._drop()
            raise LeaseLost(str(error).splitlines()[0] if str(error) else repr(error)) from None
        self.proven_at = asked
        return payloads

    def answer(self, token: str) -> None:
        """Tell the server waiting in ``ask_holder`` for ``token`` that it was acted on."""
        try:
            self._raw().execute("SELECT pg_notify(%s, %s)", (ANSWER_CHANNEL, token))
        except (sa.exc.DBAPIError, psycopg.Error) as error:
            self._drop()
            raise LeaseLost(str(error).splitlines()[0] if str(error) else repr(error)) from None

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
        self.session = None
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


def holds_lease(connection: sa.Connection, session: LeaseSession) -> bool:
    """Whether the scheduler lease is still held by ``session`` (see the module docstring)."""
    pid, started = session
    return bool(
        connection.execute(
            sa.text(_HOLDS),
            {
                "high": SCHEDULER_LOCK_KEY >> 32,
                "low": SCHEDULER_LOCK_KEY & 0xFFFF_FFFF,
                "pid": pid,
                "started": started,
            },
        ).scalar_one()
    )


def ask_holder(engine: sa.Engine, kind: str, timeout: float) -> bool:
    """Send signal ``kind`` with a fresh token to the scheduling server and wait until it
    answers that it acted on it. True once it answered, or at once when no server holds the
    lease (the next holder's recovery starts from what the database says); False when the
    holder did not answer within ``timeout`` seconds."""
    token = uuid.uuid4().hex
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        raw.autocommit = True
        raw.execute(f"LISTEN {ANSWER_CHANNEL}")
        held = raw.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s AND objid = %s AND objsubid = 1)",
            (SCHEDULER_LOCK_KEY >> 32, SCHEDULER_LOCK_KEY & 0xFFFF_FFFF),
        ).fetchone()
        if held is None or not held[0]:
            return True
        raw.execute("SELECT pg_notify(%s, %s)", (SCHEDULER_CHANNEL, f"{kind}:{token}"))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            for note in raw.notifies(timeout=left):
                if note.payload == token:
                    return True
        return False


def bounded_connection(
    statement_timeout: float, idle_session_timeout: float | None = None
) -> dict[str, Any]:
    """psycopg connect arguments that keep a connection from hanging for ever: a connect
    timeout, a statement timeout, and a socket that gives up when the server stops
    acknowledging (``tcp_user_timeout``) or stops answering keepalives; with
    ``idle_session_timeout``, PostgreSQL ends the session when it stays idle that long."""
    milliseconds = round(statement_timeout * 1000)
    options = f"-c statement_timeout={milliseconds}"
    if idle_session_timeout is not None:
        options += f" -c idle_session_timeout={round(idle_session_timeout * 1000)}"
    return {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "options": options,
        "tcp_user_timeout": milliseconds,
        "keepalives": 1,
        "keepalives_idle": max(1, round(statement_timeout / 2)),
        "keepalives_interval": 1,
        "keepalives_count": 2,
    }
