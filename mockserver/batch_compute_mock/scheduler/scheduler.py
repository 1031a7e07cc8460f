"""The scheduler: claims runnable jobs from the database and runs them on an executor.

One asyncio task makes *rounds*. A round wakes when something may have changed (a submission,
a rerun, a start of a function, a job started or finished by a lane) and then, in one write
transaction in a thread (so the HTTP server on the same event loop never waits for it; see
``rounds``), records every start and then every outcome that arrived since the last round,
and claims pending jobs. ``slots`` lane tasks, one per executor slot, take claimed jobs from
an in-memory queue and run them on the executor; a lane that finishes a job starts the next
queued one at once, so workers never wait for a round.

Claims are held in memory only. A claimed job stays ``pending`` in the database while it
waits in the queue; the claim query skips the jobs held here. When the executor hands a job
to a worker (``on_start``), the start is written to the start ledger (``ledger``) and the next
round (within ``_ROUND_INTERVAL_SECONDS`` under load, at once otherwise) marks it ``running``
with one more attempt and its real start as ``last_execution_date``: ``running`` means a
worker has it. Up to ``slots * _CLAIM_AHEAD_PER_SLOT`` jobs are held at a time, and
never more than its ``maximum_concurrency`` of one function, so held (queued plus executing)
jobs of a function never exceed its limit, and executing jobs never exceed ``slots``.

What happens to a held job that may not start any more:
- canceled (``JobService`` has already made it ``canceled`` in the database and signals
  ``cancel``): a queued one is forgotten, one the executor has not started yet is withdrawn;
  a started one is killed, its start is not recorded (the job is no longer pending) and its
  outcome is ignored;
- deleted (a delete does not signal the scheduler): a queued one is started by a lane like
  any other, but its start cannot be recorded, so the next round kills the run and ignores
  its outcome (and removes the log and result files it left);
- its function stopped, deleted or its ``maximum_concurrency`` lowered (noticed by the next
  round, within a second when idle): queued ones over the limit are forgotten;
- graceful stop: queued ones are forgotten.
Forgetting writes nothing: the job is pending, as it was.

Rules kept here, and only here:
- a job runs only while its function is ``ready``; ``stopped`` functions' jobs wait;
- ``execution_count`` counts every attempt that began, once; a failure or timeout is retried
  while the job's own attempts remain (``retry_count + 1`` in all), and an attempt the server
  cut short (a graceful stop, a crash) runs again without using a retry (``rounds``);
- a cancel of a running job is carried out by the executor; a job that finished first keeps
  its real outcome (the store's compare-and-set decides);
- a job killed by a graceful server stop goes back to ``pending`` (or ends ``canceled`` if a
  cancel was asked for); after a crash (``kill -9``), recovery finds every attempt that was
  running from the database and the start ledger.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Collection
from functools import partial
from pathlib import Path

from ..blobs import BlobStore
from ..blobs.keys import bundle_key, job_log_key, result_key
from ..executors import Executor, JobOutcome, JobSpec, OutcomeStatus
from ..kernel.ids import result_blob_id
from ..kernel.terms import Term
from ..kernel.timestamps import utc_now
from ..store import Store, Writer
from .ledger import Ledger, StartLedger
from .rounds import Batch, Claim, ClaimState, JobFaults, RoundResult, RoundWriter

__all__ = ["Scheduler"]

log = logging.getLogger(__name__)

_HOUSEKEEPING_SECONDS = 1.0
_CLAIM_AHEAD_PER_SLOT = 24
_ROUND_INTERVAL_SECONDS = 0.02
#: Rounds failing in a row before ``trouble`` reports it (one failure is usually a blip).
_FAILED_ROUNDS_REPORTED = 3


class Scheduler:
    """See the module docstring. ``housekeeping`` runs in a thread about once a minute (the
    expiry of results); ``ledger_dir`` holds the start ledger (or is the ledger itself: a
    shared one, see ``ledger``). With ``journal`` every start and
    end of an attempt is journaled; ``faults`` are a test's injected faults (test controls)."""

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        executor: Executor,
        ledger_dir: Path | Ledger,
        shutdown_grace_seconds: float,
        housekeeping: Callable[[], object] = lambda: None,
        journal: bool = False,
        faults: JobFaults | None = None,
    ) -> None:
        self._ledger = StartLedger(ledger_dir) if isinstance(ledger_dir, Path) else ledger_dir
        self._store = store
        self._writer = RoundWriter(store, blobs, self._ledger, journal, faults)
        self._faults = faults
        self._executor = executor
        self._slots = max(1, executor.slots)
        self._lookahead = self._slots * _CLAIM_AHEAD_PER_SLOT
        self._grace = shutdown_grace_seconds
        self._housekeeping_work = housekeeping
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lanes: list[asyncio.Task[None]] = []
        self._stopping = False
        # Owned by the event loop only:
        self._claims: dict[str, Claim] = {}  # held: queued or executing
        self._claimed_by_function: Counter[str] = Counter()
        self._queue: deque[Claim] = deque()  # claims no lane has taken (and forgotten ones)
        self._idle_lanes: list[asyncio.Future[None]] = []
        self._starts: list[Claim] = []
        self._finished: list[tuple[Claim, JobOutcome]] = []
        self._canceling: list[str] = []
        # Jobs canceled or edited while a round is in flight: if it claims them, let go.
        self._round_in_flight = False
        self._early_forgets: set[str] = set()
        # Functions that may have pending jobs, each with a mark that changes whenever it is
        # noted again, so a round that found one exhausted does not forget a newer note.
        self._candidates: dict[str, int] = {}
        self._marks = 0
        self._check_due = False
        self._last_round = 0.0
        self._next_purge = 0.0
        # Jobs a test's "pending" fault holds back: job id -> function id, until the timer set
        # for the hold lets the job go (timers are the only clock here: uvloop's may fire a
        # millisecond before time.monotonic reaches the deadline they were set for).
        self._fault_held: dict[str, str] = {}
        self._failed_rounds = 0
        self._last_failure = ""

    @property
    def trouble(self) -> str | None:
        """Why no job can run, when rounds keep failing (``/healthz`` reports it), else None:
        a round that fails the same way forever would otherwise show only in the log."""
        if self._failed_rounds < _FAILED_ROUNDS_REPORTED:
            return None
        return f"{self._failed_rounds} scheduler rounds in a row failed: {self._last_failure}"

    def fence_with(self, fence: Callable[[Writer], None]) -> None:
        """Call ``fence`` first in every transaction this scheduler writes (``rounds``)."""
        self._writer.fence = fence

    # Called from any thread ----------------------------------------------------------------
    def wake(self, function_id: str) -> None:
        """The function may have runnable jobs now (a submission, a rerun, a start)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._note_runnable, function_id)

    def cancel(self, job_id: str) -> None:
        """A job was canceled (``pending -> canceled``) or asked to cancel (``running ->
        cancel``): forget it if it waits here, kill it if it runs."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._cancel_now, job_id)

    def forget(self, job_id: str) -> None:
        """A pending job was edited or deleted: a claim holding its old row is let go, so the
        job is read afresh if it is claimed again. (A job a lane started in the last few
        milliseconds, before the round recorded the start, goes on with what it had; a
        deleted one is then killed when its start fails to record.)"""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._forget_now, job_id)

    # Lifecycle (on the event loop) ---------------------------------------------------------
    async def start(self, term: Term | None = None) -> None:
        """Recover, then schedule; ``term`` is the executor's (see ``Executor.start``)."""
        self._loop = asyncio.get_running_loop()
        for function_id in await asyncio.to_thread(self._writer.recover):
            self._note_runnable(function_id)
        await self._executor.start(term)
        self._lanes = [
            asyncio.create_task(self._lane(), name=f"batch-compute-lane-{index}")
            for index in range(self._slots)
        ]
        self._task = asyncio.create_task(self._run(), name="batch-compute-scheduler")
        self._wakeup.set()

    async def stop(self) -> None:
        """Stop claiming, forget queued jobs, give running jobs the grace period, then kill
        and re-queue them."""
        self._stopping = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
        for claim in self._queue:
            if claim.state is ClaimState.QUEUED:
                self._forget(claim)
        self._queue.clear()
        self._wake_lanes(len(self._idle_lanes))
        if self._lanes:
            await asyncio.wait(self._lanes, timeout=self._grace)
        await self._executor.shutdown(grace_s=0.0)
        if self._lanes:
            await asyncio.wait(self._lanes)
        final = self._take_batch(claiming=False)
        assert final is not None
        await asyncio.to_thread(self._writer.run, final)
        self._ledger.close()

    async def stop_jobs(
        self, job_ids: Collection[str] | None = None, timeout: float = 30.0
    ) -> None:
        """Let go of these held jobs (all, with ``None``): forget queued ones, kill started ones,
        and return once none of them is held any more (their outcomes have arrived)."""
        targets = [
            claim for claim in self._claims.values() if job_ids is None or claim.id in job_ids
        ]
        for claim in targets:
            if claim.state is ClaimState.QUEUED:
                self._forget(claim)
            elif claim.state is ClaimState.TAKEN:
                self._withdraw(claim)
            else:
                self._executor.cancel(claim.id)
        deadline = time.monotonic() + timeout
        while any(claim.id in self._claims for claim in targets):
            if time.monotonic() > deadline:
                raise TimeoutError("held jobs did not stop in time")
            await asyncio.sleep(0.01)
        self._fault_held = {
            job_id: held
            for job_id, held in self._fault_held.items()
            if job_ids is not None and job_id not in job_ids
        }

    async def stop_deleted(self) -> None:
        """Let go of the held jobs whose rows are gone (a test control's reset elsewhere)."""
        held = list(self._claims)
        if not held:
            return
        present = await asyncio.to_thread(self._existing, held)
        await self.stop_jobs(set(held) - present)

    def _existing(self, job_ids: list[str]) -> set[str]:
        with self._store.read() as store:
            return store.existing_job_ids(job_ids)

    async def reload(self) -> None:
        """The store was replaced under us (a restore): let go of everything held, recover what
        the new state says was running, and look for pending jobs again."""
        if self._loop is None:
            return  # not scheduling here (another server holds the lease): nothing held
        await self.stop_jobs()
        for function_id in await asyncio.to_thread(self._writer.recover):
            self._note_runnable(function_id)

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
                self._round_in_flight = True
                try:
                    result = await asyncio.to_thread(self._writer.run, batch)
                except Exception as error:  # never let one bad round stop the executor
                    log.exception("scheduler round failed")
                    self._failed_rounds += 1
                    self._last_failure = f"{type(error).__name__}: {error}".splitlines()[0][:300]
                    self._put_back(batch)
                    await asyncio.sleep(0.5)
                    continue
                finally:
                    self._round_in_flight = False
                self._failed_rounds = 0
                self._apply(batch, result)
            try:
                await self._housekeeping()
            except Exception:
                log.exception("scheduler housekeeping failed")

    async def _pace(self) -> None:
        """While every lane has a queued job to go on with, let starts and outcomes gather."""
        if len(self._queue) >= self._slots and not self._stopping:
            wait = self._last_round + _ROUND_INTERVAL_SECONDS - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)

    async def _housekeeping(self) -> None:
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + 60.0
            await asyncio.to_thread(self._housekeeping_work)

    def _take_batch(self, claiming: bool) -> Batch | None:
        budget = self._lookahead - len(self._claims) if claiming else 0
        queued = [c for c in self._queue if c.state is ClaimState.QUEUED] if claiming else []
        held: dict[str, list[str]] = {}
        for claim in self._claims.values():
            held.setdefault(claim.function_id, []).append(claim.id)
        for job_id, function_id in self._fault_held.items():
            held.setdefault(function_id, []).append(job_id)
        batch = Batch(
            starts=self._starts,
            finished=self._finished,
            canceling=self._canceling,
            budget=budget,
            claimed_by_function=dict(self._claimed_by_function),
            candidates=dict(self._candidates) if budget > 0 else {},
            held=held,
            check={claim.function_id for claim in queued},
        )
        if claiming and not (
            batch.starts
            or batch.finished
            or batch.canceling
            or batch.candidates
            or (batch.check and self._check_due)
        ):
            return None
        self._starts, self._finished, self._canceling = [], [], []
        self._check_due = False
        return batch

    def _put_back(self, batch: Batch) -> None:
        self._starts[:0] = batch.starts
        self._finished[:0] = batch.finished
        self._canceling[:0] = batch.canceling
        self._wakeup.set()

    def _apply(self, batch: Batch, result: RoundResult) -> None:
        assert self._loop is not None
        for job_id, (function_id, wait) in result.held_back.items():
            self._fault_held[job_id] = function_id
            self._loop.call_later(wait, self._end_hold, job_id)
        for function_id in result.exhausted:
            if self._candidates.get(function_id) == batch.candidates.get(function_id):
                self._candidates.pop(function_id, None)
        for claim in batch.starts:
            if claim.id not in result.lost:
                claim.state = ClaimState.RUNNING
                continue
            # Canceled or deleted before its start was recorded: it must not run on.
            claim.state = ClaimState.LOST
            if claim.id in self._claims:
                self._executor.cancel(claim.id)
        queued = 0
        for claim in result.claimed:
            self._claims[claim.id] = claim
            self._claimed_by_function[claim.function_id] += 1
            if claim.id in self._early_forgets:
                self._forget(claim)
            else:
                self._queue.append(claim)
                queued += 1
        self._early_forgets.clear()
        # A function stopped, deleted or its maximum_concurrency lowered: forget what has not
        # started.
        for function_id in batch.check | set(result.functions):
            row = result.functions.get(function_id)
            allowed = row["maximum_concurrency"] if row and row["status"] == "ready" else 0
            excess = self._claimed_by_function.get(function_id, 0) - allowed
            for claim in reversed(self._queue):
                if excess <= 0:
                    break
                if claim.function_id == function_id and claim.state is ClaimState.QUEUED:
                    self._forget(claim)
                    excess -= 1
        if len(self._queue) > 2 * self._lookahead:
            self._queue = deque(c for c in self._queue if c.state is ClaimState.QUEUED)
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
            claim.state = ClaimState.TAKEN
            outcome = await self._execute(claim)
            self._settle(claim)
            if claim.state is ClaimState.TAKEN or claim.state is ClaimState.FORGOTTEN:
                claim.state = ClaimState.FORGOTTEN  # never started: the job is as it was
            else:
                self._finished.append((claim, outcome))
            self._note_runnable(claim.function_id)

    def _began(self, claim: Claim) -> None:
        """The executor hands the claimed job to a worker now: the attempt counts."""
        if claim.state is not ClaimState.TAKEN:
            return
        claim.state = ClaimState.STARTED
        claim.start_date = utc_now()
        try:
            self._ledger.began(claim.id, claim.attempt)
        except Exception:  # losing one attempt's crash insurance beats wedging its worker
            log.exception("could not note the start of job %s in the start ledger", claim.id)
        self._starts.append(claim)
        self._wakeup.set()

    def _next_queued(self) -> Claim | None:
        while self._queue:
            claim = self._queue.popleft()
            if claim.state is ClaimState.QUEUED:
                return claim
        return None

    def _wake_lanes(self, count: int) -> None:
        while count > 0 and self._idle_lanes:
            idle = self._idle_lanes.pop()
            if not idle.done():
                idle.set_result(None)
                count -= 1

    async def _execute(self, claim: Claim) -> JobOutcome:
        job, function = claim.job, claim.function
        try:
            spec = JobSpec(
                job_id=job["id"],
                function_id=function["id"],
                attempt=claim.attempt,
                bundle_key=bundle_key(function["id"]),
                log_key=job_log_key(job["id"]),
                result_key=result_key(
                    result_blob_id(function["namespace"], function["id"], job["id"])
                ),
                args=job["args"],
                kwargs=job["kwargs"],
                environment={**(function["environment"] or {}), **(job["environment"] or {})},
                timeout_s=float(function["timeout"]),
                memory_mib=int(function["memory"]),
                cpus=float(function["cpus"]),
                python_environment=function.get("environment_spec"),
                fault=self._faults.job_fault(function, job["id"], claim.attempt)
                if self._faults is not None
                else None,
            )
            return await self._executor.run(spec, partial(self._began, claim))
        except Exception as error:  # a bug in the executor must not leave the job running
            log.exception("the executor failed running job %s", job["id"])
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
    def _end_hold(self, job_id: str) -> None:
        function_id = self._fault_held.pop(job_id, None)
        if function_id is not None:
            self._note_runnable(function_id)

    def _note_runnable(self, function_id: str) -> None:
        self._marks += 1
        self._candidates[function_id] = self._marks
        self._wakeup.set()

    def _settle(self, claim: Claim) -> None:
        """The claim no longer holds a slot here (finished, or forgotten)."""
        del self._claims[claim.id]
        self._claimed_by_function[claim.function_id] -= 1
        if self._claimed_by_function[claim.function_id] <= 0:
            del self._claimed_by_function[claim.function_id]

    def _withdraw(self, claim: Claim) -> None:
        """Take back a claim the executor has not started; its lane settles it."""
        claim.state = ClaimState.FORGOTTEN
        self._executor.cancel(claim.id)

    def _forget(self, claim: Claim) -> None:
        """Let go of a claim that has not started: the job is pending, as it was."""
        claim.state = ClaimState.FORGOTTEN
        self._settle(claim)
        self._note_runnable(claim.function_id)

    def _forget_now(self, job_id: str) -> None:
        claim = self._claims.get(job_id)
        if claim is None:
            if self._round_in_flight:
                self._early_forgets.add(job_id)
        elif claim.state is ClaimState.QUEUED:
            self._forget(claim)
        elif claim.state is ClaimState.TAKEN:
            self._withdraw(claim)

    def _cancel_now(self, job_id: str) -> None:
        claim = self._claims.get(job_id)
        if claim is None:
            if self._round_in_flight:
                self._early_forgets.add(job_id)
        elif claim.state is ClaimState.QUEUED:
            self._forget(claim)
        elif claim.state is ClaimState.TAKEN:
            self._withdraw(claim)
        elif self._executor.cancel(job_id):
            # ``cancel -> canceling`` if it was running; a job canceled while pending matches
            # nothing, and its start will not be recorded.
            self._canceling.append(job_id)
            self._wakeup.set()
