"""Functions: creation, settings, the bundle hand-off to the builder, start/stop, deletion."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from ..blobs.layout import DataLayout
from ..builder.build import gzip_log
from ..identity import Identity
from ..store import functions as function_rows
from ..store import jobs as job_rows
from ..store.engine import Database
from ..timestamps import utc_now
from .builds import BuildQueue
from .errors import Conflict, InvalidInput, NotFound
from .function_rules import check_function_settings, with_defaults
from .results import ResultService
from .states import (
    ACTIVE_JOB_STATUSES,
    FUNCTION_TRANSITIONS,
    FunctionStatus,
    JobStatus,
    sources_of,
)
from .wire import function_to_wire

__all__ = ["FunctionService", "parse_function_include"]

_STATISTICS_INCLUDES = frozenset({"job.statistics", "job_statistics"})
_EDITABLE = frozenset(
    {
        "name",
        "cpus",
        "memory",
        "maximum_concurrency",
        "timeout",
        "retry_count",
        "enabled",
        "auto_start",
        "environment",
    }
)


def parse_function_include(include: Iterable[str] | None) -> bool:
    """Whether ``job_statistics`` was asked for; anything else is a 400."""
    wanted = set(include or ())
    unknown = wanted - _STATISTICS_INCLUDES
    if unknown:
        raise InvalidInput(f"Unknown include {sorted(unknown)}; functions accept 'job.statistics'.")
    return bool(wanted)


class FunctionService:
    """The rules of a function's life; one instance per server, shared by all requests."""

    def __init__(
        self,
        db: Database,
        layout: DataLayout,
        builds: BuildQueue,
        results: ResultService,
    ) -> None:
        self._db = db
        self._layout = layout
        self._builds = builds
        self._results = results

    def create(self, identity: Identity, body: Mapping[str, Any]) -> dict[str, Any]:
        settings = with_defaults(body)
        check_function_settings(settings)
        now = utc_now()
        row = {
            **{key: settings[key] for key in (*_EDITABLE, "image")},
            "id": str(uuid.uuid4()),
            "owner": identity.owner,
            "namespace": identity.namespace,
            "status": FunctionStatus.AWAITING_BUNDLE.value,
            "creation_date": now,
            "modified_date": now,
        }
        with self._db.write() as conn:
            function_rows.insert_function(conn, row)
        return {
            "function": function_to_wire(row),
            "bundle_upload_url": self._layout.bundle_upload_url(row["id"]),
        }

    def get(self, identity: Identity, function_id: str, include: Iterable[str] | None) -> dict:
        with_statistics = parse_function_include(include)
        with self._db.read() as conn:
            row = self._owned(conn, identity, function_id)
            statistics = job_statistics(conn, function_id) if with_statistics else None
        return function_to_wire(row, statistics)

    def update(self, identity: Identity, function_id: str, changes: Mapping[str, Any]) -> dict:
        with self._db.write() as conn:
            row = self._owned(conn, identity, function_id)
            edits = {key: value for key, value in changes.items() if key in _EDITABLE}
            check_function_settings({**row, **edits})
            values: dict[str, Any] = {**edits, "modified_date": utc_now()}
            status = changes.get("status")
            if status is not None and status != row["status"]:
                target = FunctionStatus(status)
                if row["status"] not in sources_of(FUNCTION_TRANSITIONS, target):
                    raise Conflict(
                        f"Function {function_id} is {row['status']}; it can be started or "
                        "stopped only after a successful build."
                    )
                values["status"] = target.value
            function_rows.update_function(conn, function_id, values)
            updated = function_rows.get_function(conn, function_id)
        assert updated is not None
        if values.get("status") == FunctionStatus.READY:
            self._builds.notify_ready(function_id)
        return function_to_wire(updated)

    def delete(self, identity: Identity, function_id: str, delete_results: bool) -> None:
        with self._db.write() as conn:
            self._owned(conn, identity, function_id)
            active = job_rows.count_jobs_in(conn, function_id, ACTIVE_JOB_STATUSES)
            if active:
                raise Conflict(
                    f"Function {function_id} has {active} running job(s); cancel them or wait "
                    "for them to finish before deleting it."
                )
            job_ids = job_rows.job_ids_of_function(conn, function_id)
            job_rows.delete_jobs(conn, job_ids)
            function_rows.delete_function(conn, function_id)
        self._layout.remove_function_files(function_id, job_ids)
        if delete_results:
            self._results.delete_for_function(function_id)

    def complete_bundle(self, identity: Identity, function_id: str) -> dict:
        """The client says its upload is done: check it is there, then build in background."""
        with self._db.write() as conn:
            row = self._owned(conn, identity, function_id)
            if row["status"] != FunctionStatus.AWAITING_BUNDLE:
                raise Conflict(
                    f"Function {function_id} is {row['status']}; its bundle was already received."
                )
            if not self._layout.has_bundle(function_id):
                raise Conflict(
                    "No bundle was uploaded for this function; PUT the zip to the "
                    "bundle_upload_url first."
                )
            function_rows.set_function_status(
                conn,
                function_id,
                sources_of(FUNCTION_TRANSITIONS, FunctionStatus.BUILDING),
                FunctionStatus.BUILDING.value,
                utc_now(),
            )
            updated = function_rows.get_function(conn, function_id)
        assert updated is not None
        self._builds.submit(function_id)
        return function_to_wire(updated)

    def receive_bundle(self, function_id: str, data: bytes) -> None:
        """Store an upload that arrived through a verified pre-signed URL."""
        with self._db.read() as conn:
            row = function_rows.get_function(conn, function_id)
        if row is None:
            raise NotFound(f"Function {function_id} does not exist.")
        if row["status"] != FunctionStatus.AWAITING_BUNDLE:
            raise Conflict(
                f"Function {function_id} is {row['status']}; it no longer accepts a bundle."
            )
        self._layout.store_bundle(function_id, data)

    def build_log(self, identity: Identity, function_id: str) -> bytes:
        with self._db.read() as conn:
            row = self._owned(conn, identity, function_id)
        log = self._layout.build_log_gzip(function_id)
        if log is None:  # like a job's log before it runs: not there yet, but not missing
            return gzip_log(f"The build has not finished yet: the function is {row['status']}.\n")
        return log

    @staticmethod
    def _owned(conn: Any, identity: Identity, function_id: str) -> Any:
        row = function_rows.get_function(conn, function_id, identity.owner)
        if row is None:
            raise NotFound(f"Function {function_id} not found.")
        return row


def job_statistics(conn: Any, function_id: str) -> dict[str, int]:
    """Counts of the function's jobs for every status (zeros included)."""
    counts = function_rows.job_status_counts(conn, function_id)
    return {status.value: counts.get(status.value, 0) for status in JobStatus}
