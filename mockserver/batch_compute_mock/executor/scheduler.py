"""The scheduler: claims runnable jobs from the database and runs them on the worker pool.

One asyncio task makes *rounds*. A round wakes when something may have become runnable (a
submission, a rerun, a start, a finished job) and then, in one write transaction in a thread
(so the HTTP server on the same event loop never waits for it), records every outcome that
arrived since the last round and claims pending jobs. ``slots`` lane tasks, one per worker
process, take claimed jobs from an in-memory queue and run them on the pool; a lane that
finishes a job starts the next queued one at once, so workers never wait for a round.

Claiming ahead: up to ``slots * _CLAIM_AHEAD_PER_SLOT`` jobs are claimed at a time, and never
more than its ``maximum_concurrency`` of one function, so claimed (queued plus executing) jobs
of a function never exceed its limit, and executing jobs never exceed ``slots``. A claimed job
is ``running`` in the database from its claim on: it holds a slot reservation and waits at
most a few jobs' time for a lane (that wait shows in ``provisioning_time``). A queued job that
may not start any more is handed back to ``pending`` as if never claimed (its attempt does not
count): when its function stops or lowers ``maximum_concurrency`` (noticed by the next round,
within a second when idle), and on a graceful stop. A cancel of a queued job ends it
``canceled`` without starting it.

Under load rounds run at most every ``_ROUND_INTERVAL_SECONDS`` while the queue holds work for
every lane, so each round records and claims a batch; when the queue runs dry (a single job)
a round runs at once.

Rules kept here, and only here:
- a job runs only while its function is ``ready``; ``stopped`` functions' jobs wait;
- ``execution_count`` counts attempts; a failure or timeout is retried while attempts
  remain (``retry_count`` retries, so ``retry_count + 1`` attempts in all);
- a cancel of a running job is carried out by the pool; a job that finished first keeps
  its real outcome (the store's compare-and-set decides);
- a job killed by a graceful server stop goes back to ``pending`` without counting an
  attempt (or ends ``canceled`` if a cancel was asked for); after a crash (``kill -9``), jobs
  found running at start-up (queued ones included) are retried or failed by their retry
  policy.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

from ..blobs.layout import DataLayout
from ..service.results import ResultService, result_blob_id
from ..service.states import JobStatus
from ..store import jobs as job_rows
from ..store import outcomes as outcome_rows
from ..store.engine import Database
from ..store.tables import functions, jobs
from ..timestamps import utc_now
from .outcome import JobOutcome, OutcomeStatus, StopReason
from .pool import WorkerPool
from .spec import JobSpec

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)

_HOUSEKEEPING_SECONDS = 1.0
_CLAIM_AHEAD_PER_SLOT = 24
_ROUND_INTERVAL_SECONDS = 0.02
_ACTIVE = [JobStatus.RUNNING.value, JobStatus.CANCEL.value, JobStatus.CANCELING.value]
_CANCEL_ASKED = [JobStatus.CANCEL.value, JobStatus.CANCELING.value]
_RUNNING = [JobStatus.RUNNING.value]
_RETRIED = (OutcomeStatus.FAILURE, OutcomeStatus.TIMEOUT)


class _Claim:
    """A job this scheduler claimed: queued for a lane, then executing."""

    __slots__ = ("attempt", "claimed_at", "claimed_date", "dropped", "function", "job", "started")

    def __init__(self, job: dict[str, Any], function: dict[str, Any], claimed_date: str) -> None:
        self.job = job  # the row as it was before the claim
        self.function = function  # the function row at the claim
        self.attempt: int = job["execution_count"] + 1
        self.claimed_at = time.monotonic()
        self.claimed_date = claimed_date
        self.started = False  # a lane took it
        self.dropped = False  # handed back before it started

    @property
    def id(self) -> str:
        return self.job["id"]  # type: ignore[no-any-return]

    @property
    def function_id(self) -> str:
        return self.function["id"]  # type: ignore[no-any-return]


@attrs.frozen
class _Batch:
    """What one round writes and claims; taken from the scheduler's state on the loop."""

    finished: list[tuple[_Claim, JobOutcome]]
    returned: list[_Claim]  # never started: back to pending (or canceled)
    canceling: list[str]
    budget: int  # how many jobs may be claimed in all
    claimed_by_function: dict[str, int]
    candidates: dict[str, int]
    check: set[str]  # functions with queued jobs: re-read whether they may still start


@attrs.frozen
class _Round:
    claimed: list[_Claim]
    exhausted: list[str]
    functions: dict[str, Mapping[str, Any]]


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
        # One empty file per job a worker has started, until its outcome is recorded: after
        # a crash, it tells an attempt that ran from a claimed-ahead job that never started.
        self._started = scratch_dir.with_name("started")
        self._slots = max(1, slots)
        self._lookahead = self._slots * _CLAIM_AHEAD_PER_SLOT
        self._grace = shutdown_grace_seconds
        self._secret_env = tuple(secret_env)
        self._pool: WorkerPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lanes: list[asyncio.Task[None]] = []
        self._stopping = False
        # Owned by the event loop only:
        self._claims: dict[str, _Claim] = {}  # claimed and not yet finished or handed back
        self._claimed_by_function: Counter[str] = Counter()
        self._queue: deque[_Claim] = deque()  # claims no lane has taken (and tombstones)
        self._idle_lanes: list[asyncio.Future[None]] = []
        self._finished: list[tuple[_Claim, JobOutcome]] = []
        self._returned: list[_Claim] = []
        self._canceling: list[str] = []
        # Cancels of jobs not (yet) known here: a round in flight may be claiming them.
        self._early_cancels: set[str] = set()
        # Functions that may have pending jobs, each with a mark that changes whenever it is
        # noted again, so a round that found one exhausted does not forget a newer note.
        self._candidates: dict[str, int] = {}
        self._marks = 0
        self._check_due = False
        self._last_round = 0.0
        self._next_purge = 0.0

    # Called from any thread ----------------------------------------------------------------
    def wake(self, function_id: str) -> None:
        """The function may have runnable jobs now (a submission, a rerun, a start)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._note_runnable, function_id)

    def cancel(self, job_id: str) -> None:
        """A running job was asked to cancel: kill it now (or drop it if it has not started)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._cancel_now, job_id)

    # Lifecycle (on the event loop) ---------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._scratch.mkdir(parents=True, exist_ok=True)
        self._started.mkdir(parents=True, exist_ok=True)
        for function_id in await asyncio.to_thread(self._recover):
            self._note_runnable(function_id)
        self._pool = WorkerPool(max_workers=self._slots, drop_env=self._secret_env)
        self._lanes = [
            asyncio.create_task(self._lane(), name=f"batch-compute-lane-{index}")
            for index in range(self._slots)
        ]
        self._task = asyncio.create_task(self._run(), name="batch-compute-scheduler")
        self._wakeup.set()

    async def stop(self) -> None:
        """Stop claiming, hand queued jobs back, give running jobs the grace period, then
        kill and re-queue them."""
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        for claim in self._queue:
            if not claim.dropped:
                self._drop(claim)
        self._queue.clear()
        self._wake_lanes(len(self._idle_lanes))
        if self._lanes:
            await asyncio.wait(self._lanes, timeout=self._grace)
        if self._pool is not None:
            await self._pool.shutdown(grace_s=0.0)
        if self._lanes:
            await asyncio.wait(self._lanes)
        await asyncio.to_thread(self._round, self._take_batch(claiming=False))

    # The rounds ----------------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            if not self._wakeup.is_set():
                try:
                    await asyncio.wait_for(self._wakeup.wait(), _HOUSEKEEPING_SECONDS)
                except TimeoutError:
                    self._check_due = True
            await self._pace()
            self._wakeup.clear()
            if self._stopping:
                break
            batch = self._take_batch(claiming=True)
            if batch is not None:
                self._last_round = time.monotonic()
                try:
                    result = await asyncio.to_thread(self._round, batch)
                except Exception:  # never let one bad round stop the executor
                    log.exception("scheduler round failed")
                    self._put_back(batch)
                    await asyncio.sleep(0.5)
                    continue
                self._apply(batch, result)
            try:
                await self._housekeeping()
            except Exception:
                log.exception("scheduler housekeeping failed")

    async def _pace(self) -> None:
        """While every lane has a queued job to go on with, let outcomes gather a little."""
        if len(self._queue) >= self._slots and not self._stopping:
            wait = self._last_round + _ROUND_INTERVAL_SECONDS - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)

    async def _housekeeping(self) -> None:
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + 60.0
            await asyncio.to_thread(self._results.purge_expired)

    def _take_batch(self, claiming: bool) -> _Batch | None:
        budget = self._lookahead - len(self._claims) if claiming else 0
        check = {c.function_id for c in self._queue if not c.dropped} if claiming else set()
        batch = _Batch(
            finished=self._finished,
            returned=self._returned,
            canceling=self._canceling,
            budget=budget,
            claimed_by_function=dict(self._claimed_by_function),
            candidates=dict(self._candidates) if budget > 0 else {},
            check=check,
        )
        if claiming and not (
            batch.finished
            or batch.returned
            or batch.canceling
            or batch.candidates
            or (check and self._check_due)
        ):
            return None
        self._finished, self._returned, self._canceling = [], [], []
        self._check_due = False
        return batch

    def _put_back(self, batch: _Batch) -> None:
        self._finished[:0] = batch.finished
        self._returned[:0] = batch.returned
        self._canceling[:0] = batch.canceling
        self._wakeup.set()

    def _apply(self, batch: _Batch, result: _Round) -> None:
        for function_id in result.exhausted:
            if self._candidates.get(function_id) == batch.candidates.get(function_id):
                self._candidates.pop(function_id, None)
        queued = 0
        for claim in result.claimed:
            self._claims[claim.id] = claim
            self._claimed_by_function[claim.function_id] += 1
            if claim.id in self._early_cancels:
                self._drop(claim)
            else:
                self._queue.append(claim)
                queued += 1
        self._early_cancels.clear()
        # A function stopped or its maximum_concurrency lowered: hand back what has not started.
        for function_id in batch.check | set(result.functions):
            row = result.functions.get(function_id)
            allowed = row["maximum_concurrency"] if row and row["status"] == "ready" else 0
            excess = self._claimed_by_function.get(function_id, 0) - allowed
            for claim in reversed(self._queue):
                if excess <= 0:
                    break
                if claim.function_id == function_id and not claim.dropped:
                    self._drop(claim)
                    excess -= 1
        if len(self._queue) > 2 * self._lookahead:
            self._queue = deque(claim for claim in self._queue if not claim.dropped)
        self._wake_lanes(queued)

    # Lanes: one per worker ------------------------------------------------------------------
    async def _lane(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            claim = self._next_queued()
            if claim is None:
                idle: asyncio.Future[None] = loop.create_future()
                self._idle_lanes.append(idle)
                await idle
                continue
            outcome = await self._execute(claim)
            self._settle(claim)
            self._finished.append((claim, outcome))
            self._note_runnable(claim.function_id)

    def _next_queued(self) -> _Claim | None:
        while self._queue:
            claim = self._queue.popleft()
            if not claim.dropped:
                claim.started = True
                return claim
        return None

    def _wake_lanes(self, count: int) -> None:
        while count > 0 and self._idle_lanes:
            idle = self._idle_lanes.pop()
            if not idle.done():
                idle.set_result(None)
                count -= 1

    async def _execute(self, claim: _Claim) -> JobOutcome:
        assert self._pool is not None
        job, function = claim.job, claim.function
        try:
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
            (self._started / claim.id).touch()
            return await self._pool.run(spec)
        except Exception as error:  # a bug in the pool must not leave the job running
            log.exception("pool failed running job %s", job["id"])
            return JobOutcome(
                job_id=job["id"],
                status=OutcomeStatus.FAILURE,
                exit_code=None,
                error_reason=f"Internal executor error: {error!r}",
                started_at=None,
                ended_at=utc_now(),
                runtime=0,
                statistics=None,
            )

    # Bookkeeping on the loop -----------------------------------------------------------------
    def _note_runnable(self, function_id: str) -> None:
        self._marks += 1
        self._candidates[function_id] = self._marks
        self._wakeup.set()

    def _settle(self, claim: _Claim) -> None:
        """The claim no longer holds a slot here (finished, or handed back)."""
        del self._claims[claim.id]
        self._claimed_by_function[claim.function_id] -= 1
        if self._claimed_by_function[claim.function_id] <= 0:
            del self._claimed_by_function[claim.function_id]

    def _drop(self, claim: _Claim) -> None:
        """Hand a claim that has not started back (pending, or canceled if asked)."""
        claim.dropped = True
        self._settle(claim)
        self._returned.append(claim)
        self._note_runnable(claim.function_id)

    def _cancel_now(self, job_id: str) -> None:
        claim = self._claims.get(job_id)
        if claim is None:
            self._early_cancels.add(job_id)
        elif not claim.started:
            self._drop(claim)
        elif self._pool is not None and self._pool.cancel(job_id):
            self._canceling.append(job_id)
            self._wakeup.set()

    # Database work (in a thread) -----------------------------------------------------------
    def _round(self, batch: _Batch) -> _Round:
        """Record, then claim, in one transaction."""
        any_active: list[dict[str, Any]] = []
        if_cancel: list[dict[str, Any]] = []
        if_running: list[dict[str, Any]] = []
        result_rows: list[dict[str, Any]] = []
        now = utc_now()
        for claim, outcome in batch.finished:
            self._outcome_rows(claim, outcome, now, any_active, if_cancel, if_running, result_rows)
        for claim in batch.returned:
            if_cancel.append(_handed_back(claim, JobStatus.CANCELED, now))
            if_running.append(_handed_back(claim, JobStatus.PENDING, now))
        with self._db.write() as conn:
            if batch.canceling:
                job_rows.transition_jobs(
                    conn, batch.canceling, [JobStatus.CANCEL], {"status": JobStatus.CANCELING.value}
                )
            outcome_rows.transition_each(conn, _ACTIVE, any_active)
            outcome_rows.transition_each(conn, _CANCEL_ASKED, if_cancel)
            outcome_rows.transition_each(conn, _RUNNING, if_running)
            outcome_rows.replace_results(conn, result_rows)
            wanted = set(batch.candidates) | batch.check
            function_rows = outcome_rows.get_functions(conn, wanted) if wanted else {}
            claimed, exhausted = self._claim(conn, batch, function_rows)
        for claim, outcome in batch.finished:
            (self._started / claim.id).unlink(missing_ok=True)
            if outcome.stop_reason is not None:
                # The worker removes the scratch dir; a killed or lost one may not have.
                shutil.rmtree(self._scratch / claim.id, ignore_errors=True)
        return _Round(claimed, exhausted, function_rows)

    def _outcome_rows(
        self,
        claim: _Claim,
        outcome: JobOutcome,
        now: str,
        any_active: list[dict[str, Any]],
        if_cancel: list[dict[str, Any]],
        if_running: list[dict[str, Any]],
        result_rows: list[dict[str, Any]],
    ) -> None:
        """The updates for one finished attempt, by the status the job may be in now."""
        if outcome.started_at is None and outcome.stop_reason in (
            StopReason.CANCEL,
            StopReason.SHUTDOWN,
        ):
            # It never started: as if it had never been claimed.
            if_cancel.append(_handed_back(claim, JobStatus.CANCELED, now))
            if_running.append(_handed_back(claim, JobStatus.PENDING, now))
            return
        values: dict[str, Any] = {
            "id": claim.id,
            "exit_code": outcome.exit_code,
            "error_reason": outcome.error_reason,
            "runtime": outcome.runtime,
            "statistics": outcome.statistics,
            "provisioning_time": self._provisioning_ms(claim, outcome),
            "pull_time": 0,
            "execution_count": claim.attempt,
            "last_execution_date": outcome.started_at or claim.claimed_date,
            "last_completion_date": outcome.ended_at,
        }
        if outcome.status is OutcomeStatus.SUCCESS:
            any_active.append({**values, "status": JobStatus.SUCCESS.value})
            if outcome.result_written:
                row = self._result_row(claim, outcome, now)
                if row is not None:
                    result_rows.append(row)
            return
        if_cancel.append({**values, "status": JobStatus.CANCELED.value})
        if outcome.stop_reason is StopReason.SHUTDOWN:
            # The server is stopping: not the job's fault, so the attempt does not count.
            if_running.append(_handed_back(claim, JobStatus.PENDING, now))
        elif outcome.status in _RETRIED and claim.attempt <= claim.function["retry_count"]:
            if_running.append(
                {
                    **values,
                    "status": JobStatus.PENDING.value,
                    "last_completion_date": claim.job["last_completion_date"],
                }
            )
        else:
            if_running.append({**values, "status": outcome.status.value})

    def _result_row(self, claim: _Claim, outcome: JobOutcome, now: str) -> dict[str, Any] | None:
        function = claim.function
        blob_id = result_blob_id(function["namespace"], function["id"], claim.id)
        try:
            data = self._layout.result_path(blob_id).read_bytes()
        except OSError:
            log.exception("result of job %s is missing", claim.id)
            return None
        attributes = outcome.result_attributes or {}
        return {
            "id": blob_id,
            "owner": function["owner"],
            "namespace": function["namespace"],
            "function_id": function["id"],
            "job_id": claim.id,
            "description": attributes.get("description"),
            "expires": attributes.get("expires"),
            "extra_properties": attributes.get("extra_properties") or {},
            "geometry": attributes.get("geometry"),
            "tags": list(attributes.get("tags") or []),
            "size_bytes": len(data),
            "hash": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "created": now,
            "modified": now,
        }

    def _claim(
        self, conn: sa.Connection, batch: _Batch, function_rows: Mapping[str, Mapping[str, Any]]
    ) -> tuple[list[_Claim], list[str]]:
        exhausted: list[str] = []
        claimed: list[_Claim] = []
        budget = batch.budget
        now = utc_now()
        for function_id in sorted(batch.candidates, key=batch.candidates.__getitem__):
            if budget <= 0:
                break
            function = function_rows.get(function_id)
            if function is None or function["status"] != "ready":
                exhausted.append(function_id)  # a start or a build wakes it again
                continue
            room = function["maximum_concurrency"] - batch.claimed_by_function.get(function_id, 0)
            if room <= 0:
                continue  # a finishing job of this function wakes it again
            take = min(room, budget)
            rows = outcome_rows.claim_pending(conn, function_id, take, now)
            if len(rows) < take:
                exhausted.append(function_id)
            snapshot = dict(function)
            claimed += [_Claim(row, snapshot, now) for row in rows]
            budget -= len(rows)
        return claimed, exhausted

    @staticmethod
    def _provisioning_ms(claim: _Claim, outcome: JobOutcome) -> int:
        if outcome.start_time is None:
            return 0
        waited = outcome.start_time - (time.time() - (time.monotonic() - claim.claimed_at))
        return max(0, round(waited * 1000))

    def _recover(self) -> set[str]:
        """After a crash: jobs that were running are retried or failed; returns the functions
        that have pending jobs.

        A claimed job counts as attempted only if a worker started it, which the worker marks
        in the ``started`` directory: claimed-ahead jobs that never started go back as they
        were, whatever their retry policy.
        """
        now = utc_now()
        with self._db.write() as conn:
            stranded = conn.execute(
                sa.select(jobs.c.id, jobs.c.status, jobs.c.execution_count, functions.c.retry_count)
                .join(functions, functions.c.id == jobs.c.function_id)
                .where(jobs.c.status.in_(_ACTIVE))
            ).all()
            for job_id, status, attempts, retries in stranded:
                if not (self._started / job_id).exists():
                    unstarted = (
                        JobStatus.PENDING if status == JobStatus.RUNNING else (JobStatus.CANCELED)
                    )
                    job_rows.transition_job(
                        conn,
                        job_id,
                        _ACTIVE,
                        {"status": unstarted.value, "execution_count": max(0, attempts - 1)},
                    )
                    continue
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
        for directory in (self._scratch, self._started):
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True, exist_ok=True)
        return pending


def _handed_back(claim: _Claim, status: JobStatus, now: str) -> dict[str, Any]:
    """A claimed job that never ran: back as it was before the claim, ``pending`` or, if a
    cancel was asked for, ``canceled``."""
    job = claim.job
    return {
        "id": claim.id,
        "status": status.value,
        "exit_code": job["exit_code"],
        "error_reason": job["error_reason"],
        "runtime": job["runtime"],
        "statistics": job["statistics"],
        "provisioning_time": job["provisioning_time"],
        "pull_time": job["pull_time"],
        "execution_count": claim.attempt - 1,
        "last_execution_date": job["last_execution_date"],
        "last_completion_date": now
        if status is JobStatus.CANCELED
        else job["last_completion_date"],
    }


def _functions_with_pending_jobs(conn: sa.Connection) -> set[str]:
    rows = conn.execute(
        sa.select(jobs.c.function_id).where(jobs.c.status == JobStatus.PENDING).distinct()
    )
    return {row.function_id for row in rows}
