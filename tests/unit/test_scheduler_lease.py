"""The scheduler lease on a real PostgreSQL: it expires when its holder goes silent, and only
the session holding it passes the fence that scheduler writes check first."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from batch_compute_mock.store.lease import (
    LEASE_EXPIRY_SECONDS,
    LeaseLost,
    SchedulerLease,
    ask_holder,
    holds_lease,
)
from support.postgres import PostgresCluster


@pytest.fixture
def url(postgres: PostgresCluster) -> Iterator[str]:
    database = postgres.new_database()
    yield database
    postgres.drop_database(database)


@pytest.fixture
def engine(url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    yield engine
    engine.dispose()


def _acquire_within(lease: SchedulerLease, seconds: float) -> float:
    """Try every 0.2 s; how long it took (fails the test after ``seconds``)."""
    begun = time.monotonic()
    while not lease.try_acquire():
        assert time.monotonic() - begun < seconds, "the lease was not free in time"
        time.sleep(0.2)
    return time.monotonic() - begun


def test_a_silent_holder_loses_the_lease_to_another_server(url: str) -> None:
    holder, other = SchedulerLease(url), SchedulerLease(url)
    try:
        assert holder.try_acquire()
        for _ in range(4):  # a live holder keeps it
            holder.signals(0.5)
            assert not other.try_acquire()
        silent_at = holder.proven_at
        waited = _acquire_within(other, 3 * LEASE_EXPIRY_SECONDS)
        assert time.monotonic() - silent_at >= LEASE_EXPIRY_SECONDS
        print(f"lease taken {waited:.2f} s after the holder went silent")
        with pytest.raises(LeaseLost):  # the holder, resumed, learns it at its next round trip
            holder.signals(0.1)
        assert not holder.held
    finally:
        holder.release()
        other.release()


def test_only_the_session_that_holds_the_lease_passes_the_fence(
    url: str, engine: sa.Engine
) -> None:
    first, second = SchedulerLease(url), SchedulerLease(url)
    try:
        assert first.try_acquire()
        session = first.session
        assert session is not None
        with engine.begin() as connection:
            assert holds_lease(connection, session)
            (pid, _started) = session
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        _acquire_within(second, 10)
        assert second.session is not None and second.session != session
        with engine.begin() as connection:
            assert not holds_lease(connection, session)
            assert holds_lease(connection, second.session)
            # The same pid with another start time is another session.
            assert not holds_lease(connection, (second.session[0], "2000-01-01 00:00:00+00"))
    finally:
        first.release()
        second.release()


def test_every_holder_has_a_greater_term_than_the_holders_before(url: str) -> None:
    """The term fences what outlives a holder (Dask workers): whoever takes the lease next,
    and however often, has a greater one, also the same server taking it again."""
    first, second = SchedulerLease(url), SchedulerLease(url)
    terms = []
    try:
        for lease in (first, second, first, first, second):
            _acquire_within(lease, 10)
            assert lease.term is not None
            terms.append(lease.term)
            lease.release()
        assert len({term.source for term in terms}) == 1, terms  # this PostgreSQL cluster
        assert all(a.precedes(b) for a, b in itertools.pairwise(terms)), terms
    finally:
        first.release()
        second.release()


def test_asking_the_holder_waits_for_its_answer(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
    holder = SchedulerLease(url)
    try:
        assert ask_holder(engine, "reload", timeout=5)  # nobody holds it: nothing to wait for
        assert holder.try_acquire()
        assert not ask_holder(engine, "reload", timeout=1)  # held, but nobody answers
        payloads = holder.signals(0.5)
        assert [p.partition(":")[0] for p in payloads] == ["reload"]
        _, _, token = payloads[0].partition(":")
        holder.answer(token)  # an answer sent before anyone waits is lost ...
        asked: list[bool] = []

        waiter = threading.Thread(target=lambda: asked.append(ask_holder(engine, "reload", 10)))
        waiter.start()
        deadline = time.monotonic() + 10
        while not (payloads := holder.signals(0.2)):  # ... the next one is answered
            assert time.monotonic() < deadline
        holder.answer(payloads[0].partition(":")[2])
        waiter.join(10)
        assert asked == [True]
    finally:
        holder.release()
        engine.dispose()
