"""Which server schedules: the one server of a SQLite database; one at a time on a shared one.

Why one scheduler rather than every server claiming with ``SKIP LOCKED``: a scheduler holds
its claims in memory and writes nothing until a worker starts a job, and its recovery treats
every ``running`` job as its own, interrupted. Both are exact with one scheduler, and several
would need claims written to the database (a write per job before it may start) and per-server
ownership of running jobs. One scheduler per database keeps the hot path as it is; the other
servers serve the API, which is what a load balancer spreads.

On a shared database each server tries to take the lease (``store.lease``) about every
``ACQUIRE_INTERVAL_SECONDS``; the holder starts its scheduler, whose recovery first ends or
re-queues every attempt the previous holder left (read from the database and the shared start
ledger), so a server killed with SIGKILL loses no job, and its workers die with it (they
are its children, ``PR_SET_PDEATHSIG``), so none runs twice at once. The servers that do not
hold the lease pass on what the job rules signal (``wake``, ``cancel``, ``forget``) with
``pg_notify``; the holder also looks for pending jobs every ``PENDING_POLL_SECONDS`` in case a
signal was lost, and every ``BUILDS_POLL_SECONDS`` for functions left ``building`` by a server
that died mid-build (``resume_builds``: a function another live server builds is left to it).
A test control's restore or reset on a server that does not schedule asks the holder to
``reload`` (let go of everything, recover from the restored state) or ``purge`` (stop the jobs
whose rows are gone), and waits for its answer.

A holder that is alive but silent loses the lease too. Its lease thread, which does nothing
else, proves the lease held with a round trip every ``SIGNAL_WAIT_SECONDS`` (0.5 s) and
beats the workers' heartbeat (``executors.local.heartbeat``) after each. The timings, from the
last round trip of a holder that goes silent (SIGSTOP, a network partition):

- after ``WORKER_HEARTBEAT_LIMIT_SECONDS`` (2 s) plus at most a quarter second, each of its
  workers kills its running job and exits, and its pool starts nothing more;
- after ``LEASE_EXPIRY_SECONDS`` (5 s), PostgreSQL ends the silent session
  (``idle_session_timeout``), which frees the lock; a partitioned holder's own socket gives up
  about as soon (``tcp_user_timeout``);
- within ``ACQUIRE_INTERVAL_SECONDS`` (1 s) more another server takes the lease and recovers
  the attempts the old holder left: its jobs run again, never next to their old attempts.

A holder that resumes, or whose lease connection breaks, may no longer be the only scheduler:
its lease thread logs it and ends the process at once (``os._exit``, status
``LOST_LEASE_EXIT_STATUS``), without going through the event loop, which may be blocked. Until
then it writes nothing as scheduler: every scheduler transaction first checks, under the
database's write lock, that this server's lease session still holds the lease (``fence``), and
ends the process if not. Its supervisor (systemd, Kubernetes) starts it again as a standby.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Coroutine
from typing import Any, NoReturn

from ..executors.local.heartbeat import Heartbeat
from ..store import Store, Writer
from ..store.lease import LEASE_EXPIRY_SECONDS, LeaseLost, SchedulerLease
from .scheduler import Scheduler

__all__ = ["SchedulerUnreachable", "SchedulingRole"]

log = logging.getLogger(__name__)

ACQUIRE_INTERVAL_SECONDS = 1.0
PENDING_POLL_SECONDS = 2.0
BUILDS_POLL_SECONDS = 5.0
SIGNAL_WAIT_SECONDS = 0.5
#: How old the heartbeat may grow before the workers kill their jobs: well under the lease's
#: expiry, so they are dead before another server may take over.
WORKER_HEARTBEAT_LIMIT_SECONDS = 2.0
assert WORKER_HEARTBEAT_LIMIT_SECONDS + 1.0 < LEASE_EXPIRY_SECONDS
#: The exit status of a server that lost the lease (EX_TEMPFAIL: start it again).
LOST_LEASE_EXIT_STATUS = 75
#: How long a test control waits for the scheduling server to act on its request.
ASK_TIMEOUT_SECONDS = 60.0
_SIGNALS = ("wake", "cancel", "forget")


class SchedulerUnreachable(Exception):
    """The scheduling server did not answer a request in time."""


class SchedulingRole:
    """The job rules' signals (``service.jobs.ExecutorSignals``) for this server, and its
    part in who schedules (see the module docstring). ``heartbeat`` is beaten while the lease
    is proven held (the local executor's workers watch it)."""

    def __init__(
        self,
        scheduler: Scheduler,
        store: Store,
        resume_builds: Callable[[], None] = lambda: None,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self._scheduler = scheduler
        self._resume_builds = resume_builds
        self._store = store
        self._heartbeat = heartbeat
        self._lease: SchedulerLease | None = store.open_lease() if store.shared else None
        if self._lease is not None:
            scheduler.fence_with(self._fence)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._polls: threading.Thread | None = None
        self._stopping = threading.Event()
        self._closing = False  # a stop began: take no lease any more
        self._starting: concurrent.futures.Future[None] | None = None
        self._asks: list[tuple[concurrent.futures.Future[None], str]] = []
        #: Whether this server's scheduler runs (it holds the lease, or needs none).
        self.active = False

    @property
    def trouble(self) -> str | None:
        """Why this server's scheduler runs no job, when its rounds keep failing."""
        return self._scheduler.trouble if self.active else None

    # Signals (from any thread) ---------------------------------------------------------------
    def wake(self, function_id: str) -> None:
        self._signal("wake", function_id)

    def cancel(self, job_id: str) -> None:
        self._signal("cancel", job_id)

    def forget(self, job_id: str) -> None:
        self._signal("forget", job_id)

    def _signal(self, kind: str, identifier: str) -> None:
        if self.active or self._lease is None:
            getattr(self._scheduler, kind)(identifier)
            return
        try:
            self._store.notify_scheduler(f"{kind}:{identifier}")
        except Exception:  # the change is committed; the holder's pending poll finds it
            log.warning("could not signal the scheduling server (%s %s)", kind, identifier)

    # Test controls (on the event loop) -------------------------------------------------------
    async def stop_jobs(self, job_ids: Collection[str] | None = None) -> None:
        """The rows of these jobs (all, with ``None``) are deleted: the scheduler, wherever it
        runs, stops those it holds; returns once it has."""
        if self.active or self._lease is None:
            await self._scheduler.stop_jobs(job_ids)
        else:
            await self._ask("purge")

    async def reload(self) -> None:
        """The state was replaced (a restore): the scheduler, wherever it runs, lets go of
        everything it holds and recovers from the new state; returns once it has."""
        if self.active or self._lease is None:
            await self._scheduler.reload()
        else:
            await self._ask("reload")

    async def _ask(self, kind: str) -> None:
        if not await asyncio.to_thread(self._store.ask_scheduler, kind, ASK_TIMEOUT_SECONDS):
            raise SchedulerUnreachable(
                f"the scheduling server did not confirm the {kind} within {ASK_TIMEOUT_SECONDS:g} s"
            )

    # Lifecycle (on the event loop) -----------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._lease is None:
            await self._scheduler.start()
            self.active = True
            return
        held = await asyncio.to_thread(self._lease.try_acquire)
        if held:
            self._beat()
        # The lease thread runs first: it keeps the lease's session alive during the recovery.
        self._thread = threading.Thread(
            target=self._hold, name="batch-compute-scheduler-lease", daemon=True
        )
        self._thread.start()
        if not held:
            return
        try:
            await self._scheduler.start(self._lease.term)
        except BaseException:
            self._closing = True
            self._stopping.set()
            await asyncio.to_thread(self._thread.join)
            self._lease.release()
            raise
        self._became_active()

    async def stop(self) -> None:
        """Stop scheduling (running jobs get their grace period and are re-queued), then let
        the lease go so that another server takes over. The lease thread goes on proving the
        lease (and beating the workers' heartbeat) until the scheduler has stopped."""
        self._closing = True
        if self.active:
            self.active = False
            await self._scheduler.stop()
        self._stopping.set()
        for thread in (self._thread, self._polls):
            if thread is not None:
                await asyncio.to_thread(thread.join)
        starting, self._starting = self._starting, None
        if starting is not None:  # it took the lease over while the stop began
            try:
                await asyncio.wrap_future(starting)
                self.active = True
            except Exception:
                pass  # it never started: nothing to stop
        if self.active:
            self.active = False
            await self._scheduler.stop()
        if self._lease is not None:
            self._lease.release()

    # The lease (its own thread, which does nothing that may take long) ---------------------------
    def _hold(self) -> None:
        assert self._lease is not None and self._loop is not None
        while not self._stopping.is_set():
            if not self._lease.held:
                if not self._closing and self._lease.try_acquire():
                    self._beat()
                    self._starting = self._on_loop(self._scheduler.start(self._lease.term))
                    continue
                self._stopping.wait(ACQUIRE_INTERVAL_SECONDS)
                continue
            try:
                payloads = self._lease.signals(SIGNAL_WAIT_SECONDS)
            except LeaseLost as error:
                if self._stopping.is_set():
                    return
                _exit_lost(str(error))
            self._beat()
            for payload in payloads:
                self._dispatch(payload)
            self._check_start()
            self._answer_asks()

    def _beat(self) -> None:
        if self._heartbeat is not None and self._lease is not None:
            self._heartbeat.beat(self._lease.proven_at)

    def _dispatch(self, payload: str) -> None:
        kind, _, identifier = payload.partition(":")
        if not identifier:
            return
        if kind in _SIGNALS:
            getattr(self._scheduler, kind)(identifier)
        elif kind == "reload":
            self._asks.append((self._on_loop(self._scheduler.reload()), identifier))
        elif kind == "purge":
            self._asks.append((self._on_loop(self._scheduler.stop_deleted()), identifier))

    def _check_start(self) -> None:
        """The scheduler started after this server took the lease: it schedules now (or, if
        it could not start, the lease is let go)."""
        starting = self._starting
        if starting is None or not starting.done():
            return
        self._starting = None
        error = starting.exception()
        if error is not None:
            log.error("could not start scheduling; the lease is let go", exc_info=error)
            assert self._lease is not None
            self._lease.release()
            return
        self._became_active()
        log.info("this server schedules jobs now (it holds the scheduler lease)")

    def _answer_asks(self) -> None:
        """Tell the servers waiting on a ``reload`` or ``purge`` that it is done."""
        assert self._lease is not None
        waiting = []
        for future, token in self._asks:
            if not future.done():
                waiting.append((future, token))
                continue
            if future.exception() is not None:
                log.error("a test control's request failed", exc_info=future.exception())
                continue  # no answer: the asking server reports it
            try:
                self._lease.answer(token)
            except LeaseLost as error:
                _exit_lost(str(error))
        self._asks = waiting

    def _on_loop(self, work: Coroutine[Any, Any, None]) -> concurrent.futures.Future[None]:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(work, self._loop)

    def _became_active(self) -> None:
        self.active = True
        self._polls = threading.Thread(
            target=self._poll, name="batch-compute-scheduler-polls", daemon=True
        )
        self._polls.start()

    def _fence(self, writer: Writer) -> None:
        """First in every scheduler transaction: this server must still hold the lease."""
        assert self._lease is not None
        session = self._lease.session
        if session is None or not writer.holds_scheduler_lease(session):
            _exit_lost("the lock is no longer this server's (checked before a scheduler write)")

    # Polls (their own thread: a slow database must not hold up the lease) --------------------
    def _poll(self) -> None:
        next_builds = time.monotonic() + BUILDS_POLL_SECONDS
        while not self._stopping.wait(PENDING_POLL_SECONDS):
            self._poll_pending()
            if time.monotonic() >= next_builds:
                next_builds = time.monotonic() + BUILDS_POLL_SECONDS
                self._poll_builds()

    def _poll_builds(self) -> None:
        try:
            self._resume_builds()
        except Exception:  # the database is away: the next poll tries again
            log.warning("could not look for builds left behind", exc_info=True)

    def _poll_pending(self) -> None:
        try:
            with self._store.read() as store:
                pending = store.functions_with_pending_jobs()
        except Exception:  # the database is away: the next poll tries again
            log.warning("could not look for pending jobs", exc_info=True)
            return
        for function_id in pending:
            self._scheduler.wake(function_id)


def _exit_lost(reason: str) -> NoReturn:
    """End the process now, from whichever thread found the lease lost."""
    log.critical(
        "the scheduler lease was lost (%s): another server may schedule now, so this one "
        "exits at once; the next scheduler recovers its jobs",
        reason,
    )
    logging.shutdown()
    os._exit(LOST_LEASE_EXIT_STATUS)
