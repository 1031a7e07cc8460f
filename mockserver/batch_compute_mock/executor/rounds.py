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
"""

from __future__ import annotations

import enum
import hashlib
import logging
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

from ..blobs.layout import DataLayout
from ..service.results import result_blob_id
from ..service.states import ACTIVE_JOB_STATUSES, JobStatus
from ..store import jobs as job_rows
from ..store import outcomes as outcome_rows
from ..store.engine import Database
from ..store.tables import functions, jobs
from ..timestamps import utc_now
from .outcome import JobOutcome, OutcomeStatus, StopReason

__all__ = ["Batch", "Claim", "ClaimState", "RoundResult", "RoundWriter"]

log = logging.getLogger(__name__)

_ACTIVE = sorted(ACTIVE_JOB_STATUSES)
_CANCEL_ASKED = [JobStatus.CANCEL.value, JobStatus.CANCELING.value]
_RUNNING = [JobStatus.RUNNING.value]
_RETRIED = (OutcomeStatus.FAILURE, OutcomeStatus.TIMEOUT)
_FUNCTIONS_WITH_PENDING_JOBS = (
    sa.select(jobs.c.function_id).where(jobs.c.status == JobStatus.PENDING.value).distinct()
)


class ClaimState(enum.Enum):
    QUEUED = "queued"  # waits in memory for a lane; the job is pending
    STARTED = "started"  # a lane runs it; the next round records the start
    RUNNING = "running"  # its start is recorded: the job is running
    LOST = "lost"  # its start could not be recorded: killed, outcome ignored
    FORGOTTEN = "forgotten"  # dropped before it started; the job was never touched


class Claim:
    """A pending job this scheduler holds, from its claim until its outcome is taken."""

    __slots__ = ("attempt", "claimed_at", "function", "job", "start_date", "state")

    def __init__(self, job: dict[str, Any], function: dict[str, Any]) -> None:
        self.job = job  # CLAIM_COLUMNS as read at the claim
        self.function = function  # the function row at the claim
        self.attempt: int = job["execution_count"] + 1
        self.claimed_at = time.monotonic()
        self.state = ClaimState.QUEUED
        self.start_date: str | None = None  # when a lane started it

    @property
    def id(self) -> str:
        return self.job["id"]  # type: ignore[no-any-return]

    @property
    def function_id(self) -> str:
        return self.function["id"]  # type: ignore[no-any-return]


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
    functions: Mapping[str, sa.RowMapping]
    lost: set[str]  # ids of the batch's starts that could not be recorded


class RoundWriter:
    """Runs rounds (and the recovery at start-up) against the database."""

    def __init__(self, db: Database, layout: DataLayout, scratch_dir: Path) -> None:
        self._db = db
        self._layout = layout
        self._scratch = scratch_dir

    def run(self, batch: Batch) -> RoundResult:
        """Record, then claim, in one transaction."""
        any_active: list[dict[str, Any]] = []
        if_cancel: list[dict[str, Any]] = []
        if_running: list[dict[str, Any]] = []
        result_rows: list[dict[str, Any]] = []
        starts = [_start_row(claim) for claim in batch.starts]
        with self._db.write() as conn:
            if batch.canceling:
                job_rows.transition_jobs(
                    conn, batch.canceling, [JobStatus.CANCEL], {"status": JobStatus.CANCELING.value}
                )
            marked = outcome_rows.mark_running(conn, starts) if starts else set()
            lost = {start["id"] for start in starts} - marked
            now = utc_now()
            discarded: list[tuple[Claim, JobOutcome]] = []
            for claim, outcome in batch.finished:
                if claim.state is ClaimState.LOST or claim.id in lost:
                    discarded.append((claim, outcome))
                else:
                    self._outcome_rows(
                        claim, outcome, now, any_active, if_cancel, if_running, result_rows
                    )
            outcome_rows.transition_each(conn, _ACTIVE, any_active)
            outcome_rows.transition_each(conn, _CANCEL_ASKED, if_cancel)
            outcome_rows.transition_each(conn, _RUNNING, if_running)
            outcome_rows.replace_results(conn, result_rows)
            orphans = self._orphans(conn, discarded)
            wanted = set(batch.candidates) | batch.check
            function_rows = outcome_rows.get_functions(conn, wanted)
            claimed, exhausted = _claim(conn, batch, function_rows)
        self._layout.remove_job_logs(orphans[0])
        self._layout.remove_results(orphans[1])
        for claim, outcome in batch.finished:
            if outcome.stop_reason is not None:
                # The worker removes the scratch dir; a killed or lost one may not have.
                shutil.rmtree(self._scratch / claim.id, ignore_errors=True)
        return RoundResult(claimed, exhausted, function_rows, lost)

    def recover(self) -> set[str]:
        """After a crash: jobs that were running are retried or failed by their retry policy,
        those being canceled end ``canceled``; returns the functions with pending jobs.

        Only a started job is ever ``running``, so each of these ran an attempt.
        """
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
            pending = set(conn.execute(_FUNCTIONS_WITH_PENDING_JOBS).scalars())
        shutil.rmtree(self._scratch, ignore_errors=True)
        self._scratch.mkdir(parents=True, exist_ok=True)
        return pending

    # Outcomes --------------------------------------------------------------------------------
    def _outcome_rows(
        self,
        claim: Claim,
        outcome: JobOutcome,
        now: str,
        any_active: list[dict[str, Any]],
        if_cancel: list[dict[str, Any]],
        if_running: list[dict[str, Any]],
        result_rows: list[dict[str, Any]],
    ) -> None:
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
            any_active.append({**values, "status": JobStatus.SUCCESS.value})
            if outcome.result_written:
                row = self._result_row(claim, outcome, now)
                if row is not None:
                    result_rows.append(row)
            return
        if_cancel.append({**values, "status": JobStatus.CANCELED.value})
        if outcome.stop_reason is StopReason.SHUTDOWN:
            # The server is stopping: not the job's fault, so the attempt does not count.
            if_running.append(
                {
                    "id": claim.id,
                    "status": JobStatus.PENDING.value,
                    "execution_count": claim.attempt - 1,
                    "last_execution_date": claim.job["last_execution_date"],
                }
            )
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

    def _result_row(self, claim: Claim, outcome: JobOutcome, now: str) -> dict[str, Any] | None:
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

    @staticmethod
    def _orphans(
        conn: sa.Connection, discarded: list[tuple[Claim, JobOutcome]]
    ) -> tuple[list[str], list[str]]:
        """Files a discarded run left that nothing records: logs of jobs deleted meanwhile,
        results no result row holds."""
        if not discarded:
            return [], []
        present = outcome_rows.present_job_ids(conn, [claim.id for claim, _ in discarded])
        blob_ids = [
            result_blob_id(claim.function["namespace"], claim.function_id, claim.id)
            for claim, outcome in discarded
            if outcome.result_written
        ]
        kept = outcome_rows.present_result_ids(conn, blob_ids) if blob_ids else set()
        return (
            [claim.id for claim, _ in discarded if claim.id not in present],
            [blob_id for blob_id in blob_ids if blob_id not in kept],
        )


def _start_row(claim: Claim) -> dict[str, Any]:
    return {
        "id": claim.id,
        "execution_count": claim.job["execution_count"],
        "last_completion_date": claim.job["last_completion_date"],
        "last_execution_date": claim.start_date,
    }


def _claim(
    conn: sa.Connection, batch: Batch, function_rows: Mapping[str, sa.RowMapping]
) -> tuple[list[Claim], list[str]]:
    exhausted: list[str] = []
    claimed: list[Claim] = []
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
        rows = outcome_rows.oldest_pending(conn, function_id, take, batch.held.get(function_id, ()))
        if len(rows) < take:
            exhausted.append(function_id)
        snapshot = dict(function)
        claimed += [Claim(row, snapshot) for row in rows]
        budget -= len(rows)
    return claimed, exhausted


def _provisioning_ms(claim: Claim, outcome: JobOutcome) -> int:
    """From the claim to the worker's start: the wait for a lane and a worker."""
    if outcome.start_time is None:
        return 0
    waited = outcome.start_time - (time.time() - (time.monotonic() - claim.claimed_at))
    return max(0, round(waited * 1000))
