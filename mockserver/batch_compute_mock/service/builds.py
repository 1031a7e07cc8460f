"""Builds run in the background: a bundle is validated and unpacked off the request path.

``POST .../bundle`` only moves the function to ``building`` and submits it here; the build
itself (``builder.build``, in a limited child process: ``builder.isolated``) is awaited by a
worker thread and ends the function in ``ready`` (or ``stopped`` when ``auto_start`` is
false) or ``build_failed``, which also fails the jobs submitted while it built. Functions
found ``building`` at start-up (the server died mid-build) are simply built again; where
several servers share a database, a build holds the function's build claim
(``Store.build_claim``), so a function another live server builds is left to it, and the
scheduling server calls ``resume`` every little while to build what a dead one left.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..blobs import BlobStore
from ..blobs.keys import build_log_key, bundle_key
from ..builder.build import BuildResult, EnvironmentOptions, gzip_log
from ..builder.bundle import BundleLimits
from ..builder.cache import BundleCache
from ..builder.isolated import BuildLimits, build_in_child
from ..kernel.events import JobEvent, event_row
from ..kernel.states import FunctionEdge, FunctionStatus, JobEdge, JobStatus
from ..kernel.timestamps import utc_now
from ..store import Store

__all__ = ["BuildQueue"]

log = logging.getLogger(__name__)


class BuildQueue:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        cache: BundleCache,
        limits: BundleLimits,
        build_limits: BuildLimits | None = None,
        on_ready: Callable[[str], None] = lambda _function_id: None,
        journal: bool = False,
        environments: EnvironmentOptions | None = None,
    ) -> None:
        self._journal = journal
        self._store = store
        self._blobs = blobs
        self._cache = cache
        self._limits = limits
        self._build_limits = build_limits or BuildLimits()
        self._environments = environments or EnvironmentOptions()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="build")
        self.on_ready = on_ready

    def submit(self, function_id: str) -> Future[None]:
        return self._pool.submit(self._build, function_id)

    def notify_ready(self, function_id: str) -> None:
        """Tell the executor a function can run jobs (after a build or a start)."""
        self.on_ready(function_id)

    def resume(self) -> None:
        """Build again whatever was building when the server last stopped."""
        with self._store.read() as store:
            for function_id in store.function_ids_in_status(FunctionStatus.BUILDING):
                self.submit(function_id)

    def forget(self, function_id: str) -> None:
        """The function is deleted: drop its unpacked bundle."""
        self._cache.forget(function_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _build(self, function_id: str) -> None:
        with self._store.build_claim(function_id) as mine:
            if not mine:
                return  # another server sharing the database builds it right now
            with self._store.read() as store:
                row = store.function(function_id)
            if row is not None and row["status"] != FunctionStatus.BUILDING:
                return  # built meanwhile (a resume raced the build it found)
            self._build_claimed(function_id)

    def _build_claimed(self, function_id: str) -> None:
        try:
            outcome = self._run_build(function_id)
        except Exception as error:  # a bug in the builder must not leave it "building"
            log.exception("build of function %s crashed", function_id)
            reason = f"internal error in the builder: {error!r}"
            outcome = BuildResult(False, f"Build failed: {reason}\n", reason)
        with self._store.read() as store:
            if store.function(function_id) is None:  # deleted while it built
                self._cache.forget(function_id)
                return
        self._blobs.write_bytes(build_log_key(function_id), gzip_log(outcome.log))
        with self._store.write() as store:
            row = store.function(function_id)
            if row is None:
                return
            now = utc_now()
            if outcome.ok:
                target = FunctionStatus.READY if row["auto_start"] else FunctionStatus.STOPPED
                edge = FunctionEdge.BUILT
            else:
                target, edge = FunctionStatus.BUILD_FAILED, FunctionEdge.BUILD_FAILED
            changes = {"modified_date": now, "environment_spec": outcome.environment_spec}
            built = store.transition_function(edge, function_id, target, changes)
            if built and target == FunctionStatus.BUILD_FAILED:
                # Jobs submitted while it built can never run: end them now, not never.
                waiting = [
                    job
                    for job in store.jobs(store.job_ids_of_function(function_id))
                    if JobEdge.ABANDON.allows(job["status"])
                ]
                if self._journal:
                    store.append_journal([event_row(j, JobEvent.FAILED, time=now) for j in waiting])
                store.transition_jobs(
                    JobEdge.ABANDON,
                    [job["id"] for job in waiting],
                    JobStatus.FAILURE,
                    {
                        "error_reason": _build_failed_reason(outcome.reason),
                        "last_completion_date": now,
                    },
                )
        if target == FunctionStatus.READY:
            self.notify_ready(function_id)

    def _run_build(self, function_id: str) -> BuildResult:
        """The build, in its child process, of the bundle fetched to a local file."""
        with self._store.read() as store:
            row = store.function(function_id)
            image = row["image"] if row is not None else ""
        environment = dataclasses.replace(self._environments, image=image)
        with tempfile.TemporaryDirectory(prefix="build-") as workspace:
            zip_path = Path(workspace) / f"{function_id}.zip"
            self._blobs.fetch_file(bundle_key(function_id), zip_path)
            return build_in_child(
                zip_path,
                self._cache.path(function_id),
                self._limits,
                self._build_limits,
                environment,
            )


def _build_failed_reason(reason: str | None) -> str:
    """A waiting job's ``error_reason``: the build's own short reason, when there is one."""
    if not reason:
        return "The function failed to build; see its build log."
    short = reason if len(reason) <= 300 else reason[:297] + "..."
    return f"The function failed to build ({short}); see its build log."
