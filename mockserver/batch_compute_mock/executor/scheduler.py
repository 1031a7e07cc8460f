"""The scheduler: claims runnable jobs from the database and runs them on the worker pool.

One asyncio task owns every running job. It wakes when something may have become runnable
(a submission, a rerun, a start, a finished job) and then, in one write transaction,
records the outcomes that arrived since it last looked and claims as many pending jobs as
the free slots and each function's ``maximum_concurrency`` allow. Database work runs in a
thread, so the HTTP server on the same event loop never waits for it.

Rules kept here, and only here:
- a job runs only while its function is ``ready``; ``stopped`` functions' jobs wait;
- ``execution_count`` counts attempts; a failure or timeout is retried while attempts
  remain (``retry_count`` retries, so ``retry_count + 1`` attempts in all);
- a cancel of a running job is carried out by the pool; a job that finished first keeps
  its real outcome (the store's compare-and-set decides);
- a job killed by a graceful server stop goes back to ``pending`` without counting an
  attempt; after a crash (``kill -9``), jobs found running at start-up are retried or
  failed by their retry policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import shutil
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..blobs.layout import DataLayout
from ..service.results import ResultService, result_blob_id
from ..service.states import JobStatus
from ..store import functions as function_rows
from ..store import jobs as job_rows
from ..store.engine import Database
from ..store.tables import functions, jobs
from ..timestamps import utc_now
from .outcome import JobOutcome, OutcomeStatus, StopReason
from .pool import WorkerPool
from .spec import JobSpec

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)

_HOUSEKEEPING_SECONDS = 1.0
_ACTIVE = [JobStatus.RUNNING.value, JobStatus.CANCEL.value, JobStatus.CANCELING.value]


class Scheduler:
    def __init__(
        self,
        db: Database,
        layout: DataLayout,
        results: ResultService,
        scratch_dir: Path,
        slots: int,
        shutdown_grace_seconds: float,
        secret_env: Iterable[str] = (),
    ) -> None:
        self._db = db
        self._layout = layout
        self._results = results
        self._scratch = scratch_dir
        self._slots = max(1, slots)
        self._grace = shutdown_grace_seconds
        self._secret_env = tuple(secret_env)
        self._pool: WorkerPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Owned by the scheduler task only:
        self._running: dict[str, asyncio.Task[None]] = {}
        self._running_by_function: Counter[str] = Counter()
        self._finished: list[tuple[dict[str, Any], JobOutcome]] = []
        self._canceling: list[str] = []
        # Functions that may have pending jobs, each with a mark that changes whenever it is
        # noted again, so a round that found one exhausted does not forget a newer note.
        self._candidates: dict[str, int] = {}
        self._marks = 0
        self._claimed_at: dict[str, float] = {}
        self._next_purge = 0.0

    # Called from any thread ----------------------------------------------------------------
    def wake(self, function_id: str) -> None:
        """The function may have runnable jobs now (a submission, a rerun, a start)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._note_runnable, function_id)

    def cancel(self, job_id: str) -> None:
        """A running job was asked to cancel: kill it now."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._cancel_now, job_id)

    # Lifecycle (on the event loop) ---------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._scratch.mkdir(parents=True, exist_ok=True)
        for function_id in await asyncio.to_thread(self._recover):
            self._note_runnable(function_id)
        self._pool = WorkerPool(max_workers=self._slots, drop_env=self._secret_env)
        self._task = asyncio.create_task(self._run(), name="batch-compute-scheduler")
        self._wakeup.set()

    async def stop(self) -> None:
        """Stop claiming, give running jobs the grace period, then kill and re-queue them."""
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        running = list(self._running.values())
        if running:
            await asyncio.wait(running, timeout=self._grace)
        if self._pool is not None:
            await self._pool.shutdown(grace_s=0.0)
        if running:
            await asyncio.wait(running)
        await asyncio.to_thread(self._record_and_claim, self._take_finished(), [], 0, {})

    # The loop ------------------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), _HOUSEKEEPING_SECONDS)
            self._wakeup.clear()
            if self._stopping:
                break
            free = self._slots - len(self._running)
            candidates = dict(self._candidates) if free > 0 else {}
            try:
                claimed, exhausted = await asyncio.to_thread(
                    self._record_and_claim,
                    self._take_finished(),
                    self._take_canceling(),
                    free,
                    candidates,
                )
                await self._housekeeping()
            except Exception:  # never let one bad round stop the executor
                log.exception("scheduler round failed")
                await asyncio.sleep(0.5)
                continue
            for function_id in exhausted:
                if self._candidates.get(function_id) == candidates.get(function_id):
                    self._candidates.pop(function_id, None)
            for job, function in claimed:
                self._start(job, function)

    async def _housekeeping(self) -> None:
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + 60.0
            await asyncio.to_thread(self._results.purge_expired)

    def _start(self, job: dict[str, Any], function: dict[str, Any]) -> None:
        job_id = job["id"]
        self._running_by_function[function["id"]] += 1
        self._running[job_id] = asyncio.create_task(self._execute(job, function))

    async def _execute(self, job: dict[str, Any], function: dict[str, Any]) -> None:
        assert self._pool is not None
        spec = JobSpec(
            job_id=job["id"],
            function_id=function["id"],
            bundle_dir=self._layout.built_dir(function["id"]),
            work_dir=self._scratch / job["id"],
            log_path=self._layout.job_log_path(job["id"]),
            result_path=self._layout.result_path(
                result_blob_id(function["namespace"], function["id"], job["id"])
            ),
            args=job["args"],
            kwargs=job["kwargs"],
            environment={**(function["environment"] or {}), **(job["environment"] or {})},
            timeout_s=float(function["timeout"]),
            memory_mib=int(function["memory"]),
        )
        try:
            outcome = await self._pool.run(spec)
        except Exception as error:  # a bug in the pool must not leave the job running
            log.exception("pool failed running job %s", job["id"])
            outcome = JobOutcome(
                job_id=job["id"],
                status=OutcomeStatus.FAILURE,
                exit_code=None,
                error_reason=f"Internal executor error: {error!r}",
                started_at=None,
                ended_at=utc_now(),
                runtime=0,
                statistics=None,
            )
        self._finished.append(({**job, "function": function}, outcome))
        del self._running[job["id"]]
        self._running_by_function[function["id"]] -= 1
        self._note_runnable(function["id"])

    def _note_runnable(self, function_id: str) -> None:
        self._marks += 1
        self._candidates[function_id] = self._marks
        self._wakeup.set()

    def _cancel_now(self, job_id: str) -> None:
        if self._pool is not None and self._pool.cancel(job_id):
            self._canceling.append(job_id)
            self._wakeup.set()

    def _take_finished(self) -> list[tuple[dict[str, Any], JobOutcome]]:
        finished, self._finished = self._finished, []
        return finished

    def _take_canceling(self) -> list[str]:
        canceling, self._canceling = self._canceling, []
        return canceling

    # Database work (in a thread) -----------------------------------------------------------
    def _record_and_claim(
        self,
        finished: list[tuple[dict[str, Any], JobOutcome]],
        canceling: list[str],
        free: int,
        candidates: dict[str, int],
    ) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], list[str]]:
        """One round: returns the claimed (job, function) pairs and the candidate functions
        found to have no more pending jobs."""
        if not finished and not canceling and (free <= 0 or not candidates):
            return [], []
        with self._db.write() as conn:
            job_rows.transition_jobs(
                conn, canceling, [JobStatus.CANCEL], {"status": JobStatus.CANCELING.value}
            )
            for job, _outcome in finished:
                self._record(conn, job, _outcome)
            claimed, exhausted = self._claim(conn, free, candidates) if free > 0 else ([], [])
        for job, _outcome in finished:
            shutil.rmtree(self._scratch / job["id"], ignore_errors=True)
            self._claimed_at.pop(job["id"], None)
        return claimed, exhausted

    def _record(self, conn: sa.Connection, job: dict[str, Any], outcome: JobOutcome) -> None:
        function = job["function"]
        if outcome.stop_reason is StopReason.SHUTDOWN:
            # The server is stopping: not the job's fault, so the attempt does not count.
            job_rows.transition_job(
                conn,
                job["id"],
                _ACTIVE,
                {"status": JobStatus.PENDING.value, "execution_count": jobs.c.execution_count - 1},
            )
            return
        current = job_rows.get_job(conn, job["id"])
        if current is None:
            return
        canceled = current["status"] in (JobStatus.CANCEL, JobStatus.CANCELING)
        status = JobStatus(outcome.status.value)
        if canceled and outcome.status is not OutcomeStatus.SUCCESS:
            status = JobStatus.CANCELED
        retry = (
            status in (JobStatus.FAILURE, JobStatus.TIMEOUT)
            and current["execution_count"] <= function["retry_count"]
        )
        values: dict[str, Any] = {
            "status": JobStatus.PENDING.value if retry else status.value,
            "exit_code": outcome.exit_code,
            "error_reason": outcome.error_reason,
            "runtime": outcome.runtime,
            "statistics": outcome.statistics,
            "provisioning_time": self._provisioning_ms(job["id"], outcome),
            "pull_time": 0,
        }
        if outcome.started_at is not None:
            values["last_execution_date"] = outcome.started_at
        if not retry:
            values["last_completion_date"] = outcome.ended_at
        job_rows.transition_job(conn, job["id"], _ACTIVE, values)
        if outcome.result_written and status is JobStatus.SUCCESS:
            self._record_result(conn, job, function, outcome)

    def _record_result(
        self,
        conn: sa.Connection,
        job: dict[str, Any],
        function: dict[str, Any],
        outcome: JobOutcome,
    ) -> None:
        blob_id = result_blob_id(function["namespace"], function["id"], job["id"])
        data = self._layout.result_path(blob_id).read_bytes()
        attributes = outcome.result_attributes or {}
        now = utc_now()
        self._results.record(
            conn,
            {
                "id": blob_id,
                "owner": function["owner"],
                "namespace": function["namespace"],
                "function_id": function["id"],
                "job_id": job["id"],
                "description": attributes.get("description"),
                "expires": attributes.get("expires"),
                "extra_properties": attributes.get("extra_properties") or {},
                "geometry": attributes.get("geometry"),
                "tags": list(attributes.get("tags") or []),
                "size_bytes": len(data),
                "hash": hashlib.md5(data, usedforsecurity=False).hexdigest(),
                "created": now,
                "modified": now,
            },
        )

    def _claim(
        self, conn: sa.Connection, free: int, candidates: dict[str, int]
    ) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], list[str]]:
        exhausted: list[str] = []
        claimed: list[tuple[dict[str, Any], dict[str, Any]]] = []
        now = utc_now()
        for function_id in sorted(candidates, key=candidates.__getitem__):
            if free <= 0:
                break
            function = function_rows.get_function(conn, function_id)
            if function is None or function["status"] != "ready":
                exhausted.append(function_id)  # a start or a build wakes it again
                continue
            room = function["maximum_concurrency"] - self._running_by_function[function_id]
            if room <= 0:
                continue  # a finishing job of this function wakes it again
            take = min(room, free)
            rows = (
                conn.execute(
                    sa.select(jobs)
                    .where(jobs.c.function_id == function_id, jobs.c.status == JobStatus.PENDING)
                    .order_by(jobs.c.creation_date, jobs.c.id)
                    .limit(take)
                )
                .mappings()
                .all()
            )
            if len(rows) < take:
                exhausted.append(function_id)
            ids = [row["id"] for row in rows]
            job_rows.transition_jobs(
                conn,
                ids,
                [JobStatus.PENDING],
                {
                    "status": JobStatus.RUNNING.value,
                    "execution_count": jobs.c.execution_count + 1,
                    "last_execution_date": now,
                },
            )
            claimed_at = time.monotonic()
            for row in rows:
                self._claimed_at[row["id"]] = claimed_at
                claimed.append((dict(row), dict(function)))
            free -= len(rows)
        return claimed, exhausted

    def _provisioning_ms(self, job_id: str, outcome: JobOutcome) -> int:
        claimed = self._claimed_at.get(job_id)
        if claimed is None or outcome.start_time is None:
            return 0
        waited = outcome.start_time - (time.time() - (time.monotonic() - claimed))
        return max(0, round(waited * 1000))

    def _recover(self) -> set[str]:
        """After a crash: jobs that were running are retried or failed; returns the functions
        that have pending jobs."""
        now = utc_now()
        with self._db.write() as conn:
            stranded = conn.execute(
                sa.select(jobs.c.id, jobs.c.status, jobs.c.execution_count, functions.c.retry_count)
                .join(functions, functions.c.id == jobs.c.function_id)
                .where(jobs.c.status.in_(_ACTIVE))
            ).all()
            for job_id, status, attempts, retries in stranded:
                if status != JobStatus.RUNNING:
                    values: dict[str, Any] = {"status": JobStatus.CANCELED.value}
                elif attempts <= retries:
                    values = {"status": JobStatus.PENDING.value}
                else:
                    values = {"status": JobStatus.FAILURE.value, "exit_code": None}
                if status == JobStatus.RUNNING:
                    values["error_reason"] = (
                        f"The server stopped while attempt {attempts} of {retries + 1} ran."
                    )
                values["last_completion_date"] = now if values["status"] != "pending" else None
                job_rows.transition_job(conn, job_id, _ACTIVE, values)
            pending = _functions_with_pending_jobs(conn)
        shutil.rmtree(self._scratch, ignore_errors=True)
        self._scratch.mkdir(parents=True, exist_ok=True)
        return pending


def _functions_with_pending_jobs(conn: sa.Connection) -> set[str]:
    rows = conn.execute(
        sa.select(jobs.c.function_id).where(jobs.c.status == JobStatus.PENDING).distinct()
    )
    return {row.function_id for row in rows}
