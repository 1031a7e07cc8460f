"""Functions: creation, settings, the bundle hand-off to the builder, start/stop, deletion."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from ..blobs import BlobStore
from ..blobs.keys import build_log_key, bundle_key, job_log_key
from ..builder.build import gzip_log
from ..kernel.errors import Conflict, InvalidInput, NotFound
from ..kernel.events import JobEvent, event_row
from ..kernel.states import ACTIVE_JOB_STATUSES, FunctionEdge, FunctionStatus, JobStatus
from ..kernel.timestamps import utc_now
from ..store import Reader, Row, Store
from .builds import BuildQueue
from .function_rules import check_function_settings, with_defaults
from .identity import Identity
from .presigned import PresignedUrls
from .storage import ResultStorage
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
        store: Store,
        blobs: BlobStore,
        urls: PresignedUrls,
        builds: BuildQueue,
        results: ResultStorage,
        journal: bool = False,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._urls = urls
        self._builds = builds
        self._results = results
        self._journal = journal

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
        with self._store.write() as store:
            store.insert_function(row)
        return {
            "function": function_to_wire(row),
            "bundle_upload_url": self._urls.bundle_upload_url(row["id"]),
        }

    def get(self, identity: Identity, function_id: str, include: Iterable[str] | None) -> dict:
        with_statistics = parse_function_include(include)
        with self._store.read() as store:
            row = self._owned(store, identity, function_id)
            statistics = job_statistics(store, function_id) if with_statistics else None
        return function_to_wire(row, statistics)

    def update(self, identity: Identity, function_id: str, changes: Mapping[str, Any]) -> dict:
        started = False
        with self._store.write() as store:
            row = self._owned(store, identity, function_id)
            edits = {key: value for key, value in changes.items() if key in _EDITABLE}
            check_function_settings({**row, **edits})
            store.update_function(function_id, {**edits, "modified_date": utc_now()})
            status = changes.get("status")
            if status is not None and status != row["status"]:
                target = FunctionStatus(status)
                edge = FunctionEdge.START if target == FunctionStatus.READY else FunctionEdge.STOP
                if not store.transition_function(edge, function_id, target):
                    raise Conflict(
                        f"Function {function_id} is {row['status']}; it can be started or "
                        "stopped only after a successful build."
                    )
                started = target == FunctionStatus.READY
            updated = store.function(function_id)
        assert updated is not None
        if started:
            self._builds.notify_ready(function_id)
        return function_to_wire(updated)

    def delete(self, identity: Identity, function_id: str, delete_results: bool) -> None:
        with self._store.write() as store:
            self._owned(store, identity, function_id)
            active = store.count_jobs_in(function_id, ACTIVE_JOB_STATUSES)
            if active:
                raise Conflict(
                    f"Function {function_id} has {active} running job(s); cancel them or wait "
                    "for them to finish before deleting it."
                )
            job_ids = store.delete_function(function_id)
            if self._journal and job_ids:
                now, owner = utc_now(), identity.owner
                store.append_journal(
                    [
                        event_row(
                            {"id": job_id, "function_id": function_id, "owner": owner},
                            JobEvent.DELETED,
                            time=now,
                        )
                        for job_id in job_ids
                    ]
                )
        self._blobs.delete(bundle_key(function_id))
        self._blobs.delete(build_log_key(function_id))
        self._builds.forget(function_id)
        for job_id in job_ids:
            self._blobs.delete(job_log_key(job_id))
        if delete_results:
            self._results.delete_for_function(function_id)

    def complete_bundle(self, identity: Identity, function_id: str) -> dict:
        """The client says its upload is done: check it is there, then build in background."""
        with self._store.write() as store:
            row = self._owned(store, identity, function_id)
            if row["status"] != FunctionStatus.AWAITING_BUNDLE:
                raise Conflict(
                    f"Function {function_id} is {row['status']}; its bundle was already received."
                )
            if not self._blobs.exists(bundle_key(function_id)):
                raise Conflict(
                    "No bundle was uploaded for this function; PUT the zip to the "
                    "bundle_upload_url first."
                )
            store.transition_function(
                FunctionEdge.RECEIVE_BUNDLE,
                function_id,
                FunctionStatus.BUILDING,
                {"modified_date": utc_now()},
            )
            updated = store.function(function_id)
        assert updated is not None
        self._builds.submit(function_id)
        return function_to_wire(updated)

    def receive_bundle(self, function_id: str, data: bytes) -> None:
        """Store an upload that arrived through a verified pre-signed URL."""
        with self._store.read() as store:
            row = store.function(function_id)
        if row is None:
            raise NotFound(f"Function {function_id} does not exist.")
        if row["status"] != FunctionStatus.AWAITING_BUNDLE:
            raise Conflict(
                f"Function {function_id} is {row['status']}; it no longer accepts a bundle."
            )
        self._blobs.write_bytes(bundle_key(function_id), data)

    def build_log(self, identity: Identity, function_id: str) -> bytes:
        with self._store.read() as store:
            row = self._owned(store, identity, function_id)
        try:
            return self._blobs.read_bytes(build_log_key(function_id))
        except FileNotFoundError:  # like a job's log before it runs: not there yet, not missing
            return gzip_log(f"The build has not finished yet: the function is {row['status']}.\n")

    def python_of(self, identity: Identity, function_id: str) -> str:
        """Where the function's jobs run, in words: its environment's Python and packages, or
        the server's own Python (built with ``--requirements check``, or not built yet)."""
        with self._store.read() as store:
            row = self._owned(store, identity, function_id)
        spec = row.get("environment_spec")
        if not spec:
            if row["status"] in (FunctionStatus.READY, FunctionStatus.STOPPED):
                return "the server's own Python (requirements checked, not installed)"
            if row["status"] == FunctionStatus.BUILD_FAILED:
                return "nothing: the build failed"
            return "not built yet"
        requirements = list(spec.get("requirements") or [])
        listed = ", ".join(requirements) if requirements else "no requirements"
        return f"Python {spec.get('version')} in an environment of its own ({listed})"

    @staticmethod
    def _owned(store: Reader, identity: Identity, function_id: str) -> Row:
        row = store.function(function_id, identity.owner)
        if row is None:
            raise NotFound(f"Function {function_id} not found.")
        return row


def job_statistics(store: Reader, function_id: str) -> dict[str, int]:
    """Counts of the function's jobs for every status (zeros included)."""
    counts = store.job_status_counts(function_id)
    return {status.value: counts.get(status.value, 0) for status in JobStatus}
