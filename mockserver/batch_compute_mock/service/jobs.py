"""Jobs: submission (one or a thousand at a time), edits, cancel, rerun, deletion, logs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from ..blobs import BlobStore
from ..blobs.keys import job_log_key
from ..kernel.errors import Conflict, InvalidInput, NotFound, ValidationFailed
from ..kernel.events import JobEvent, event_row
from ..kernel.states import ACTIVE_JOB_STATUSES, FunctionStatus, JobEdge, JobStatus
from ..kernel.timestamps import utc_now
from ..store import Reader, Row, Store, Writer
from .batch_stamps import batch_stamps
from .environment import environment_errors
from .identity import Identity
from .log_window import LogWindow, read_log_window
from .storage import ResultStorage
from .wire import job_to_wire

__all__ = ["ExecutorSignals", "JobService", "parse_job_include"]

_TIMINGS = "timings"
_EDITABLE = ("args", "kwargs", "environment", "tags")


class ExecutorSignals(Protocol):
    """What the job rules tell the executor; it never has to poll the database for these."""

    def wake(self, function_id: str) -> None: ...
    def cancel(self, job_id: str) -> None: ...
    def forget(self, job_id: str) -> None: ...


class _NoExecutor:
    def wake(self, function_id: str) -> None:
        pass

    def cancel(self, job_id: str) -> None:
        pass

    def forget(self, job_id: str) -> None:
        pass


def _check_environment(environment: Mapping[str, Any] | None) -> None:
    """422 naming each bad variable of a job's environment."""
    problems = environment_errors(environment)
    if problems:
        raise ValidationFailed({"environment": problems})


def _check_bulk_environments(environments: Sequence[Mapping[str, Any] | None]) -> None:
    """422 naming each bad variable of a bulk submission, with the job's index."""
    problems = [
        f"bulk_environments[{index}]: {problem}"
        for index, environment in enumerate(environments)
        for problem in environment_errors(environment)
    ]
    if problems:
        raise ValidationFailed({"bulk_environments": problems})


def parse_job_include(include: Iterable[str] | None) -> bool:
    """Whether timings were asked for; anything else is a 400."""
    unknown = set(include or ()) - {_TIMINGS}
    if unknown:
        raise InvalidInput(f"Unknown include {sorted(unknown)}; jobs accept 'timings'.")
    return bool(include)


class JobService:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        results: ResultStorage,
        executor: ExecutorSignals | None = None,
        journal: bool = False,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._results = results
        self._journal = journal
        self.executor: ExecutorSignals = executor or _NoExecutor()

    # Submission ----------------------------------------------------------------------------
    def create(self, identity: Identity, body: Mapping[str, Any]) -> dict[str, Any]:
        _check_environment(body.get("environment"))
        with self._store.write() as store:
            function = self._accepting_function(store, identity, body["function_id"])
            (job_id,), (created,) = batch_stamps(1)
            row = self._new_job(identity, function["id"], body, job_id, created)
            store.insert_jobs([row])
            store.update_function(function["id"], {"modified_date": utc_now()})
            self._record(store, [row], JobEvent.SUBMITTED)
        self.executor.wake(function["id"])
        return job_to_wire(row)

    def create_bulk(self, identity: Identity, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        bulk_args: list[Any] = body["bulk_args"]
        bulk_kwargs = body.get("bulk_kwargs")
        bulk_environments = body.get("bulk_environments")
        errors = {
            field: [
                f"{field} has {len(values)} items but bulk_args has {len(bulk_args)}; "
                "they must be aligned one to one."
            ]
            for field, values in (
                ("bulk_kwargs", bulk_kwargs),
                ("bulk_environments", bulk_environments),
            )
            if values is not None and len(values) != len(bulk_args)
        }
        if errors:
            raise ValidationFailed(errors)
        _check_bulk_environments(bulk_environments or [])
        reference_id = body.get("reference_id")
        with self._store.write() as store:
            if reference_id:
                earlier = store.jobs_for_reference(identity.owner, reference_id)
                if earlier:
                    return [job_to_wire(row) for row in earlier]
            function = self._accepting_function(store, identity, body["function_id"])
            # One clock reading and one template per batch; the shared defaults are one object
            # each, so the store encodes them once.
            ids, dates = batch_stamps(len(bulk_args))
            template = self._new_job(
                identity,
                function["id"],
                {"tags": body.get("tags") or []},
                job_id="",  # each row's own below
                creation_date="",
                reference_id=reference_id,
            )
            no_kwargs: dict[str, Any] = {}
            rows = []
            for index, args in enumerate(bulk_args):
                kwargs = bulk_kwargs[index] if bulk_kwargs else None
                row = template.copy()
                row["id"] = ids[index]
                row["creation_date"] = dates[index]
                row["args"] = args if args is not None else []
                row["kwargs"] = kwargs if kwargs is not None else no_kwargs
                row["environment"] = bulk_environments[index] if bulk_environments else None
                row["batch_index"] = index
                rows.append(row)
            store.insert_jobs(rows)
            store.update_function(function["id"], {"modified_date": utc_now()})
            self._record(store, rows, JobEvent.SUBMITTED)
        self.executor.wake(function["id"])
        return [job_to_wire(row) for row in rows]

    # One job -------------------------------------------------------------------------------
    def get(self, identity: Identity, job_id: str, include: Iterable[str] | None) -> dict:
        timings = parse_job_include(include)
        with self._store.read() as store:
            return job_to_wire(self._owned(store, identity, job_id), timings)

    def update(self, identity: Identity, job_id: str, changes: Mapping[str, Any]) -> dict:
        with self._store.write() as store:
            row = self._owned(store, identity, job_id)
            edits = {key: changes[key] for key in _EDITABLE if key in changes}
            _check_environment(edits.get("environment"))
            inputs = sorted(set(edits) - {"tags"})
            if inputs and row["status"] != JobStatus.PENDING:
                raise Conflict(
                    f"Job {job_id} is {row['status']}; {', '.join(inputs)} can only change while "
                    "it is pending (tags can change at any time)."
                )
            if "tags" in edits and edits["tags"] is None:
                edits["tags"] = []
            if edits:
                store.update_job(job_id, edits)
            updated = store.job(job_id)
        assert updated is not None
        if inputs:
            self.executor.forget(job_id)
        return job_to_wire(updated)

    def delete(self, identity: Identity, job_id: str, delete_results: bool) -> None:
        with self._store.write() as store:
            row = self._owned(store, identity, job_id)
            if row["status"] in ACTIVE_JOB_STATUSES:
                raise Conflict(f"Job {job_id} is {row['status']}; cancel it before deleting it.")
            store.delete_jobs([job_id])
            self._record(store, [row], JobEvent.DELETED)
        self.executor.forget(job_id)
        self._blobs.delete(job_log_key(job_id))
        if delete_results:
            self._results.delete_for_jobs([job_id])

    def cancel(self, identity: Identity, job_id: str) -> dict:
        with self._store.write() as store:
            self._owned(store, identity, job_id)
            signaled = self._cancel_rows(store, [job_id])
            row = store.job(job_id)
        for signaled_id in signaled:
            self.executor.cancel(signaled_id)
        assert row is not None
        return job_to_wire(row)

    def log(self, identity: Identity, job_id: str) -> bytes:
        """The job's log as JSON lines (empty until the job has printed something)."""
        with self._store.read() as store:
            self._owned(store, identity, job_id)
        try:
            return self._blobs.read_bytes(job_log_key(job_id))
        except FileNotFoundError:
            return b""

    def log_window(
        self, identity: Identity, job_id: str, offset: int | None, limit: int = 1 << 20
    ) -> LogWindow:
        """Whole lines of the job's log after ``offset``, or its tail when ``offset`` is None
        (see ``service.log_window``)."""
        with self._store.read() as store:
            self._owned(store, identity, job_id)
        return read_log_window(self._blobs, job_log_key(job_id), offset, limit)

    # By query ------------------------------------------------------------------------------
    def cancel_matching(self, identity: Identity, rows: Sequence[Mapping[str, Any]]) -> list[dict]:
        ids = [row["id"] for row in rows]
        with self._store.write() as store:
            signaled = self._cancel_rows(store, ids)
            affected = [
                row
                for row in store.jobs(ids)
                if row["status"] in (JobStatus.CANCELED, JobStatus.CANCEL)
            ]
        for signaled_id in signaled:
            self.executor.cancel(signaled_id)
        return [job_to_wire(row) for row in affected]

    def rerun_matching(self, identity: Identity, rows: Sequence[Mapping[str, Any]]) -> list[dict]:
        """Rerun what matched and ended without success (``JobEdge.RERUN``); other jobs,
        running ones included, are left as they are."""
        candidates = [row for row in rows if JobEdge.RERUN.allows(row["status"])]
        with self._store.write() as store:
            for function_id in sorted({row["function_id"] for row in candidates}):
                function = store.function(function_id, identity.owner)
                if function is not None and not function["enabled"]:
                    raise Conflict(
                        f"Function {function_id} is disabled; enable it before rerunning its jobs."
                    )
            ids = [row["id"] for row in candidates]
            store.transition_jobs(
                JobEdge.RERUN,
                ids,
                JobStatus.PENDING,
                {
                    "error_reason": None,
                    "exit_code": None,
                    "execution_count": 0,
                    "interruptions": 0,
                    "runtime": None,
                    "statistics": None,
                },
            )
            rerun = [row for row in store.jobs(ids) if row["status"] == JobStatus.PENDING]
            self._record(store, rerun, JobEvent.RETRIED)
        for function_id in {row["function_id"] for row in rerun}:
            self.executor.wake(function_id)
        return [job_to_wire(row) for row in rerun]

    def delete_matching(
        self, identity: Identity, rows: Sequence[Mapping[str, Any]], delete_results: bool
    ) -> list[str]:
        with self._store.write() as store:
            current = store.jobs([row["id"] for row in rows])
            deleted = [row for row in current if row["status"] not in ACTIVE_JOB_STATUSES]
            ids = [row["id"] for row in deleted]
            store.delete_jobs(ids)
            self._record(store, deleted, JobEvent.DELETED)
        for row in current:
            if row["status"] == JobStatus.PENDING:
                self.executor.forget(row["id"])
        for job_id in ids:
            self._blobs.delete(job_log_key(job_id))
        if delete_results:
            self._results.delete_for_jobs(ids)
        return ids

    # Helpers -------------------------------------------------------------------------------
    def _cancel_rows(self, store: Writer, job_ids: Sequence[str]) -> list[str]:
        """Cancel pending jobs at once and flag running ones; returns the ids of both, which
        the executor must hear of: it may hold a pending job it claimed, or have started it
        a moment ago (the next round would mark it running)."""
        by_status: dict[str, list[Row]] = {JobStatus.PENDING: [], JobStatus.RUNNING: []}
        for row in store.jobs(job_ids):
            if row["status"] in by_status:
                by_status[row["status"]].append(row)
        pending = [row["id"] for row in by_status[JobStatus.PENDING]]
        running = [row["id"] for row in by_status[JobStatus.RUNNING]]
        store.transition_jobs(
            JobEdge.CANCEL_PENDING,
            pending,
            JobStatus.CANCELED,
            {"last_completion_date": utc_now()},
        )
        store.transition_jobs(JobEdge.ASK_CANCEL, running, JobStatus.CANCEL)
        # In this write transaction nothing else moved them: every pending one is canceled.
        self._record(store, by_status[JobStatus.PENDING], JobEvent.CANCELED)
        return pending + running

    def _record(self, store: Writer, rows: Sequence[Row], event: JobEvent) -> None:
        """Journal ``event`` for these jobs, when the journal is on (test controls). A job is
        submitted the moment it is created: that event bears its ``creation_date``, from
        which the scheduler counts too (a ``pending`` fault's hold)."""
        if self._journal and rows:
            if event is JobEvent.SUBMITTED:
                entries = [event_row(row, event, time=row["creation_date"]) for row in rows]
            else:
                now = utc_now()
                entries = [event_row(row, event, time=now) for row in rows]
            store.append_journal(entries)

    def _accepting_function(self, store: Reader, identity: Identity, function_id: str) -> Row:
        function = store.function(function_id, identity.owner)
        if function is None:
            raise NotFound(f"Function {function_id} not found.")
        if not function["enabled"]:
            raise Conflict(f"Function {function_id} is disabled; enable it to submit jobs.")
        if function["status"] == FunctionStatus.BUILD_FAILED:
            raise Conflict(
                f"Function {function_id} failed to build and can't run jobs; see its build log."
            )
        return function

    @staticmethod
    def _new_job(
        identity: Identity,
        function_id: str,
        body: Mapping[str, Any],
        job_id: str,
        creation_date: str,
        reference_id: str | None = None,
        batch_index: int | None = None,
    ) -> dict[str, Any]:
        return {
            "id": job_id,
            "function_id": function_id,
            "owner": identity.owner,
            "creation_date": creation_date,
            "args": body.get("args") if body.get("args") is not None else [],
            "kwargs": body.get("kwargs") if body.get("kwargs") is not None else {},
            "environment": body.get("environment"),
            "tags": body.get("tags") or [],
            "status": JobStatus.PENDING.value,
            "error_reason": None,
            "execution_count": 0,
            "interruptions": 0,
            "exit_code": None,
            "runtime": None,
            "last_execution_date": None,
            "last_completion_date": None,
            "statistics": None,
            "provisioning_time": None,
            "pull_time": None,
            "reference_id": reference_id,
            "batch_index": batch_index,
        }

    @staticmethod
    def _owned(store: Reader, identity: Identity, job_id: str) -> Row:
        row = store.job(job_id, identity.owner)
        if row is None:
            raise NotFound(f"Job {job_id} not found.")
        return row
