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

A holder whose lease connection breaks may no longer be the only scheduler (its session, and
so its lock, may be gone): it exits at once, like a crash, and the next holder recovers its
jobs. Its supervisor (systemd, Kubernetes) starts it again as a standby.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable

from ..store import Store
from ..store.lease import LeaseLost, SchedulerLease
from .scheduler import Scheduler

__all__ = ["SchedulingRole"]

log = logging.getLogger(__name__)

ACQUIRE_INTERVAL_SECONDS = 1.0
PENDING_POLL_SECONDS = 2.0
BUILDS_POLL_SECONDS = 5.0
_SIGNAL_WAIT_SECONDS = 0.5
#: The exit status of a server that lost the lease (EX_TEMPFAIL: start it again).
LOST_LEASE_EXIT_STATUS = 75
_SIGNALS = ("wake", "cancel", "forget")


class SchedulingRole:
    """The job rules' signals (``service.jobs.ExecutorSignals``) for this server, and its
    part in who schedules (see the module docstring)."""

    def __init__(
        self,
        scheduler: Scheduler,
        store: Store,
        resume_builds: Callable[[], None] = lambda: None,
    ) -> None:
        self._scheduler = scheduler
        self._resume_builds = resume_builds
        self._store = store
        self._lease: SchedulerLease | None = store.open_lease() if store.shared else None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
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

    # Lifecycle (on the event loop) -----------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._lease is None or await asyncio.to_thread(self._lease.try_acquire):
            try:
                await self._scheduler.start()
            except BaseException:
                if self._lease is not None:
                    self._lease.release()
                raise
            self.active = True
        if self._lease is None:
            return
        self._thread = threading.Thread(
            target=self._hold, name="batch-compute-scheduler-lease", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        """Stop scheduling (running jobs get their grace period and are re-queued), then let
        the lease go so that another server takes over."""
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        if self.active:
            self.active = False
            await self._scheduler.stop()
        if self._lease is not None:
            self._lease.release()

    # The lease (its own thread) ----------------------------------------------------------------
    def _hold(self) -> None:
        assert self._lease is not None and self._loop is not None
        next_poll = 0.0
        next_builds = time.monotonic() + BUILDS_POLL_SECONDS
        while not self._stopping.is_set():
            if not self._lease.held:
                if self._lease.try_acquire() and not self._take_over():
                    self._lease.release()
                self._stopping.wait(0 if self._lease.held else ACQUIRE_INTERVAL_SECONDS)
                continue
            try:
                payloads = self._lease.signals(_SIGNAL_WAIT_SECONDS)
            except LeaseLost as error:
                if not self._stopping.is_set():
                    self._loop.call_soon_threadsafe(_exit_lost, str(error))
                return
            for payload in payloads:
                kind, _, identifier = payload.partition(":")
                if kind in _SIGNALS and identifier:
                    getattr(self._scheduler, kind)(identifier)
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + PENDING_POLL_SECONDS
                self._poll_pending()
            if time.monotonic() >= next_builds:
                next_builds = time.monotonic() + BUILDS_POLL_SECONDS
                self._poll_builds()

    def _take_over(self) -> bool:
        """Start the scheduler now that this server holds the lease (its recovery runs
        first); False if it could not start."""
        assert self._loop is not None
        try:
            asyncio.run_coroutine_threadsafe(self._scheduler.start(), self._loop).result()
        except Exception:
            log.exception("could not start scheduling; the lease is let go")
            return False
        self.active = True
        log.info("this server schedules jobs now (it holds the scheduler lease)")
        return True

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


def _exit_lost(reason: str) -> None:
    log.critical(
        "the scheduler lease was lost (%s): another server may schedule now, so this one "
        "exits at once; the next scheduler recovers its jobs",
        reason,
    )
    logging.shutdown()
    os._exit(LOST_LEASE_EXIT_STATUS)
