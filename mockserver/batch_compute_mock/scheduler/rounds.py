"""The scheduler's database work: one round records starts and outcomes, then claims.

A round runs in a thread, in one write transaction, on a ``Batch`` the scheduler took from
its in-memory state; it returns a ``RoundResult`` the scheduler applies back on the event
loop. Its order is fixed: cancels being carried out, then starts, then outcomes, then claims,
so an outcome always finds its start recorded and a claim sees every finished job.

A claim writes nothing: the claimed jobs stay ``pending`` and the scheduler keeps them in
memory (``Claim``), passing their ids back (``Batch.held``) so the next claims skip them. A
start is recorded as ``pending -> running`` with one more attempt, only if the job is still as
it was claimed; if not (canceled, deleted, or canceled and rerun meanwhile), the claim is
*lost*: the scheduler kills the run and its outcome is never recorded.

How an attempt's end is recorded (``_outcome_rows``), and what recovery does after a crash:
- every attempt that began counts in ``execution_count``, exactly once;
- a failure or a timeout is retried while the job's own attempts (those the server did not cut
  short) are within ``retry_count + 1``;
- an attempt cut short by the server (a graceful stop, or a crash found at start-up) is an
  *interruption*: the job goes back to ``pending`` without using a retry, at most
  ``MAX_INTERRUPTIONS`` times, after which it fails with a reason that says so (a job that
  kills the server every time must not bring it down forever);
- a job being canceled when the server stopped ends ``canceled``.

Every transaction here first calls ``fence`` on its writer: on a shared database it checks
that this server still holds the scheduler lease, and ends the process if not (see
``leadership``), so a scheduler that lost its lease commits nothing as scheduler.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs

from ..blobs import BlobStore
from ..blobs.keys import job_log_key, result_key
from ..executors import JobOutcome, OutcomeStatus, StopReason
from ..kernel.events import ENDINGS, JobEvent, event_row
from ..kernel.ids import result_blob_id
from ..kernel.states import JobEdge, JobStatus
from ..kernel.timestamps import parse_timestamp, utc_now
from ..store import Row, Start, Store, Writer
from .ledger import Ledger

__all__ = [
    "MAX_INTERRUPTIONS",
    "Batch",
    "Claim",
    "ClaimState",
    "JobFaults",
    "RoundResult",
    "RoundWriter",
]

log = logging.getLogger(__name__)

#: How many attempts the server may cut short before the job fails instead of running again.
MAX_INTERRUPTIONS = 5
_RETRIED = (OutcomeStatus.FAILURE, OutcomeStatus.TIMEOUT)


class JobFaults(Protocol):
    """Faults a test injected (``testing.faults.FaultBook``); none on a production server."""

    def job_fault(self, function: Row, job_id: str, attempt: int) -> dict[str, Any] | None: ...
    def hold(self, function: Row, job_id: str, age_seconds: float) -> float: ...


class ClaimState(enum.Enum):
    QUEUED = "queued"  # waits in memory for a lane; the job is pending
    TAKEN = "taken"  # a lane handed it to the executor, which has not started it yet
    STARTED = "started"  # a worker runs it; the next round records the start
    RUNNING = "running"  # its start is recorded: the job is running
    LOST = "lost"  # its start could not be recorded: killed, outcome ignored
    FORGOTTEN = "forgotten"  # dropped before it started; the job was never touched


class Claim:
    """A pending job this scheduler holds, from its claim until its outcome is taken."""

    __slots__ = ("attempt", "claimed_at", "function", "job", "start_date", "state")

    def __init__(self, job: dict[str, Any], function: Row) -> None:
        self.job = job  # jobs.CLAIM_COLUMNS as read at the claim
        self.function = function  # the function row at the claim
        self.attempt: int = job["execution_count"] + 1
        self.claimed_at = time.monotonic()
        self.state = ClaimState.QUEUED
        self.start_date: str | None = None  # when a worker started it

    @property
    def id(self) -> str:
        return self.job["id"]  # type: ignore[no-any-return]

    @property
    def function_id(self) -> str:
        return self.function["id"]  # type: ignore[no-any-return]

    def start(self) -> Start:
        assert self.start_date is not None
        return Start(
            job_id=self.id,
            execution_count=self.job["execution_count"],
            last_completion_date=self.job["last_completion_date"],
            started_at=self.start_date,
        )


@attrs.frozen
class Batch:
    """What one round writes and claims; taken from the scheduler's state on the loop."""

    starts: list[Claim]
    finished: list[tuple[Claim, JobOutcome]]
    canceling: list[str]
    budget: int  # how many jobs may be claimed in all
    claimed_by_function: dict[str, int]
    candidates: dict[str, int]
    held: dict[str, list[str]]  # claimed jobs by function: pending, but not to claim again
    check: set[str]  # functions with queued jobs: re-read whether they may still start


@attrs.frozen
class RoundResult:
    claimed: list[Claim]
    exhausted: list[str]
    functions: Mapping[str, Row]
    lost: set[str]  # ids of the batch's starts that could not be recorded
    held_back: dict[str, tuple[str, float]]  # job id -> (function id, seconds): a test's hold


@attrs.define
class _Outcomes:
    """The updates of one round's finished attempts, in the order they are applied.

    A job is in one status, so of the rows for one attempt only one applies: a success wins
    over a cancel that was asked too late; otherwise an asked cancel wins (``canceled``), and
    only a job still ``running`` is retried or ended with its attempt's status.
    """

    succeeded: list[dict[str, Any]] = attrs.Factory(list)  # FINISH (running or canceling)
    canceled: list[dict[str, Any]] = attrs.Factory(list)  # CONFIRM_CANCEL, if it was asked
    retried: list[dict[str, Any]] = attrs.Factory(list)  # RETRY, if still running
    ended: list[dict[str, Any]] = attrs.Factory(list)  # FINISH, if still running
    results: list[dict[str, Any]] = attrs.Factory(list)


class RoundWriter:
    """Runs rounds (and the recovery at start-up) against the store. With ``journal``, each
    start and each end of an attempt is also appended to the job journal. ``fence`` is
    called first in each transaction (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        ledger: Ledger,
        journal: bool = False,
        faults: JobFaults | None = None,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._ledger = ledger
        self._journal = journal
        self._faults = faults
        self.fence: Callable[[Writer], None] = lambda _store: None

    def run(self, batch: Batch) -> RoundResult:
        """Record, then claim, in one transaction."""
        outcomes = _Outcomes()
        with self._store.write() as store:
            self.fence(store)
            if batch.canceling:
                store.transition_jobs(JobEdge.BEGIN_CANCELING, batch.canceling, JobStatus.CANCELING)
            starts = [claim.start() for claim in batch.starts]
            marked = store.record_starts(starts) if starts else set()
            lost = {start.job_id for start in starts} - marked
            now = utc_now()
            discarded: list[tuple[Claim, JobOutcome]] = []
            recorded: list[Claim] = []
            for claim, outcome in batch.finished:
                if claim.state is ClaimState.LOST or claim.id in lost:
                    discarded.append((claim, outcome))
                else:
                    recorded.append(claim)
                    _outcome_rows(claim, outcome, now, outcomes)
            before = _statuses(store, recorded) if self._journal else {}
            store.transition_each(JobEdge.FINISH, outcomes.succeeded)
            store.transition_each(JobEdge.CONFIRM_CANCEL, outcomes.canceled)
            store.transition_each(JobEdge.RETRY, outcomes.retried)
            store.transition_each(JobEdge.FINISH, outcomes.ended)
            store.put_results(outcomes.results)
            if self._journal:
                started = [c for c in batch.starts if c.id in marked]
                store.append_journal(_journal_rows(store, started, recorded, before, now))
            orphan_logs, orphan_results = _orphans(store, discarded)
            wanted = set(batch.candidates) | batch.check
            function_rows = store.functions(wanted)
            claimed, exhausted, held_back = _claim(store, batch, function_rows, self._faults)
        try:  # the round is committed: a failure here must not make it run again
            self._ledger.settled(claim.id for claim, _ in batch.finished)
            for job_id in orphan_logs:
                self._blobs.delete(job_log_key(job_id))
            for blob_id in orphan_results:
                self._blobs.delete(result_key(blob_id))
        except Exception:  # leftover entries are harmless: recovery checks execution_count
            log.exception("could not tidy up after a committed scheduler round")
        return RoundResult(claimed, exhausted, function_rows, lost, held_back)

    def recover(self) -> set[str]:
        """After a crash: every attempt that was running (recorded or only in the ledger) was
        interrupted; jobs being canceled end ``canceled``. Returns the functions with pending
        jobs."""
        began = self._ledger.entries()
        now = utc_now()
        events: list[dict[str, Any]] = []
        with self._store.write() as store:
            self.fence(store)
            for job in store.active_jobs():
                if job["status"] != JobStatus.RUNNING:
                    values = {"status": JobStatus.CANCELED.value, "last_completion_date": now}
                    store.transition_each(JobEdge.CONFIRM_CANCEL, [{"id": job["id"], **values}])
                    events.append(event_row(job, JobEvent.CANCELED, job["execution_count"], now))
                    continue
                events += _interrupted(store, job, job["execution_count"], now)
            for job in store.jobs(sorted(began)):
                attempt = began[job["id"]]
                if job["status"] == JobStatus.PENDING and attempt > job["execution_count"]:
                    events += _interrupted(store, job, attempt, now)  # its start not recorded
            if self._journal:
                store.append_journal(events)
            pending = store.functions_with_pending_jobs()
        self._ledger.clear()
        return pending


def _interrupted(store: Writer, job: Row, attempt: int, now: str) -> list[dict[str, Any]]:
    """Attempt ``attempt`` of ``job`` was cut short by the server: run it again, or give up.
    Returns the journal events of what happened."""
    interruptions = job["interruptions"] + 1
    reason = f"The server stopped while attempt {attempt} ran"
    counts = {"execution_count": attempt, "interruptions": interruptions}
    failed = event_row(job, JobEvent.ATTEMPT_FAILED, attempt, now)
    if interruptions <= MAX_INTERRUPTIONS:
        if job["status"] == JobStatus.RUNNING:
            row = {"id": job["id"], "status": JobStatus.PENDING.value, **counts}
            store.transition_each(
                JobEdge.RETRY, [{**row, "error_reason": f"{reason}; it runs again."}]
            )
        else:
            store.update_job(job["id"], {**counts, "error_reason": f"{reason}; it runs again."})
        return [failed, event_row(job, JobEvent.RETRIED, attempt, now)]
    ending = {
        **counts,
        "exit_code": None,
        "last_completion_date": now,
        "error_reason": (
            f"{reason}: the server stopped {interruptions} times while this job ran, so it is "
            "not run again (the job may be what stops the server)"
        ),
    }
    edge = JobEdge.FINISH if job["status"] == JobStatus.RUNNING else JobEdge.ABANDON
    store.transition_each(edge, [{"id": job["id"], "status": JobStatus.FAILURE.value, **ending}])
    return [event_row(job, JobEvent.FAILED, attempt, now)]


def _outcome_rows(claim: Claim, outcome: JobOutcome, now: str, rows: _Outcomes) -> None:
    """The updates for one finished attempt, by the status the job may be in now."""
    values: dict[str, Any] = {
        "id": claim.id,
        "exit_code": outcome.exit_code,
        "error_reason": outcome.error_reason,
        "runtime": outcome.runtime,
        "statistics": outcome.statistics,
        "provisioning_time": _provisioning_ms(claim, outcome),
        "pull_time": 0,
        "execution_count": claim.attempt,
        "last_execution_date": outcome.started_at or claim.start_date,
        "last_completion_date": outcome.ended_at,
    }
    if outcome.status is OutcomeStatus.SUCCESS:
        rows.succeeded.append({**values, "status": JobStatus.SUCCESS.value})
        if outcome.result_written:
            rows.results.append(_result_row(claim, outcome, now))
        return
    rows.canceled.append({**values, "status": JobStatus.CANCELED.value})
    if outcome.status is OutcomeStatus.CANCELED and outcome.stop_reason is not StopReason.SHUTDOWN:
        return  # killed because a cancel was asked: the row above is all there is to record
    interruptions = claim.job["interruptions"]
    if outcome.stop_reason is StopReason.SHUTDOWN:
        # The server is stopping: not the job's fault, so no retry is used up.
        interruptions += 1
        if interruptions <= MAX_INTERRUPTIONS:
            rows.retried.append(
                {
                    "id": claim.id,
                    "status": JobStatus.PENDING.value,
                    "execution_count": claim.attempt,
                    "interruptions": interruptions,
                }
            )
            return
        values["error_reason"] = (
            f"The server stopped {interruptions} times while this job ran, so it is not run again"
        )
        rows.ended.append(
            {**values, "status": JobStatus.FAILURE.value, "interruptions": interruptions}
        )
        return
    own_attempts = claim.attempt - interruptions
    if outcome.status in _RETRIED and own_attempts <= claim.function["retry_count"]:
        rows.retried.append(
            {
                **values,
                "status": JobStatus.PENDING.value,
                "last_completion_date": claim.job["last_completion_date"],
            }
        )
    else:
        rows.ended.append({**values, "status": outcome.status.value})


def _result_row(claim: Claim, outcome: JobOutcome, now: str) -> dict[str, Any]:
    function = claim.function
    attributes = outcome.result_attributes or {}
    return {
        "id": result_blob_id(function["namespace"], function["id"], claim.id),
        "owner": function["owner"],
        "namespace": function["namespace"],
        "function_id": function["id"],
        "job_id": claim.id,
        "description": attributes.get("description"),
        "expires": attributes.get("expires"),
        "extra_properties": attributes.get("extra_properties") or {},
        "geometry": attributes.get("geometry"),
        "tags": list(attributes.get("tags") or []),
        "size_bytes": outcome.result_size,
        "hash": outcome.result_hash or "",
        "created": now,
        "modified": now,
    }


def _statuses(store: Writer, claims: list[Claim]) -> dict[str, str]:
    return store.job_statuses([claim.id for claim in claims]) if claims else {}


def _journal_rows(
    store: Writer,
    started: list[Claim],
    recorded: list[Claim],
    before: Mapping[str, str],
    now: str,
) -> list[dict[str, Any]]:
    """The round's events: each recorded start, and each attempt whose end changed its job."""

    def job(claim: Claim) -> dict[str, Any]:
        return {"id": claim.id, "function_id": claim.function_id, "owner": claim.function["owner"]}

    rows = [event_row(job(c), JobEvent.STARTED, c.attempt, c.start_date or now) for c in started]
    after = _statuses(store, recorded)
    for claim in recorded:
        status = after.get(claim.id)
        if status is None or status == before.get(claim.id):
            continue
        if status == JobStatus.PENDING:
            rows.append(event_row(job(claim), JobEvent.ATTEMPT_FAILED, claim.attempt, now))
            rows.append(event_row(job(claim), JobEvent.RETRIED, claim.attempt, now))
        elif status in ENDINGS:
            rows.append(event_row(job(claim), ENDINGS[status], claim.attempt, now))
    return rows


def _orphans(
    store: Writer, discarded: list[tuple[Claim, JobOutcome]]
) -> tuple[list[str], list[str]]:
    """Blobs a discarded run left that nothing records: logs of jobs deleted meanwhile,
    results no result row holds (as result blob ids)."""
    if not discarded:
        return [], []
    present = store.existing_job_ids(claim.id for claim, _ in discarded)
    blob_ids = [
        result_blob_id(claim.function["namespace"], claim.function_id, claim.id)
        for claim, outcome in discarded
        if outcome.result_written
    ]
    kept = store.existing_result_ids(blob_ids) if blob_ids else set()
    return (
        [claim.id for claim, _ in discarded if claim.id not in present],
        [blob_id for blob_id in blob_ids if blob_id not in kept],
    )


def _claim(
    store: Writer, batch: Batch, function_rows: Mapping[str, Row], faults: JobFaults | None
) -> tuple[list[Claim], list[str], dict[str, tuple[str, float]]]:
    exhausted: list[str] = []
    claimed: list[Claim] = []
    held_back: dict[str, tuple[str, float]] = {}
    budget = batch.budget
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
        rows = store.pending_to_claim(function_id, take, batch.held.get(function_id, ()))
        if len(rows) < take:
            exhausted.append(function_id)
        if faults is not None:
            rows = [row for row in rows if not _held(faults, function, row, held_back)]
        snapshot = dict(function)
        claimed += [Claim(row, snapshot) for row in rows]
        budget -= len(rows)
    return claimed, exhausted, held_back


def _held(
    faults: JobFaults, function: Row, row: Row, held_back: dict[str, tuple[str, float]]
) -> bool:
    """Whether a test's ``pending`` fault keeps this job pending a while longer."""
    age = time.time() - parse_timestamp(row["creation_date"]).timestamp()
    wait = faults.hold(function, row["id"], age)
    if wait > 0:
        held_back[row["id"]] = (function["id"], wait)
    return wait > 0


def _provisioning_ms(claim: Claim, outcome: JobOutcome) -> int:
    """From the claim to the worker's start: the wait for a lane and a worker."""
    if outcome.start_time is None:
        return 0
    waited = outcome.start_time - (time.time() - (time.monotonic() - claim.claimed_at))
    return max(0, round(waited * 1000))
