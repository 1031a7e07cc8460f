"""Builds run in the background: a bundle is validated and unpacked off the request path.

``POST .../bundle`` only moves the function to ``building`` and submits it here; the build
itself (``builder.build``, in a limited child process: ``builder.isolated``) is awaited by a
worker thread and ends the function in ``ready`` (or ``stopped`` when ``auto_start`` is
false) or ``build_failed``, which also fails the jobs submitted while it built. Functions
found ``building`` at start-up (the server died mid-build) are simply built again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from ..blobs.layout import DataLayout
from ..builder.bundle import BundleLimits
from ..builder.isolated import BuildLimits, build_in_child
from ..store import functions as function_rows
from ..store.engine import Database
from ..store.tables import jobs
from ..timestamps import utc_now
from .states import FunctionStatus, JobStatus

__all__ = ["BuildQueue"]

log = logging.getLogger(__name__)


class BuildQueue:
    def __init__(
        self,
        db: Database,
        layout: DataLayout,
        limits: BundleLimits,
        build_limits: BuildLimits | None = None,
        on_ready: Callable[[str], None] = lambda _function_id: None,
    ) -> None:
        self._db = db
        self._layout = layout
        self._limits = limits
        self._build_limits = build_limits or BuildLimits()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="build")
        self.on_ready = on_ready

    def submit(self, function_id: str) -> Future[None]:
        return self._pool.submit(self._build, function_id)

    def notify_ready(self, function_id: str) -> None:
        """Tell the executor a function can run jobs (after a build or a start)."""
        self.on_ready(function_id)

    def resume(self) -> None:
        """Build again whatever was building when the server last stopped."""
        with self._db.read() as conn:
            for function_id in function_rows.functions_in_status(conn, FunctionStatus.BUILDING):
                self.submit(function_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _build(self, function_id: str) -> None:
        try:
            outcome = build_in_child(
                self._layout.bundle_path(function_id),
                self._layout.built_dir(function_id),
                self._limits,
                self._build_limits,
            )
            ok, text = outcome.ok, outcome.log
        except Exception as error:  # a bug in the builder must not leave it "building"
            log.exception("build of function %s crashed", function_id)
            ok, text = False, f"Build failed: internal error in the builder: {error!r}\n"
        self._layout.write_build_log(function_id, text)
        with self._db.write() as conn:
            row = function_rows.get_function(conn, function_id)
            if row is None:
                return
            target = FunctionStatus.BUILD_FAILED
            if ok:
                target = FunctionStatus.READY if row["auto_start"] else FunctionStatus.STOPPED
            now = utc_now()
            built = function_rows.set_function_status(
                conn, function_id, [FunctionStatus.BUILDING], target, now
            )
            if built and target == FunctionStatus.BUILD_FAILED:
                # Jobs submitted while it built can never run: end them now, not never.
                conn.execute(
                    jobs.update()
                    .where(jobs.c.function_id == function_id, jobs.c.status == JobStatus.PENDING)
                    .values(
                        status=JobStatus.FAILURE.value,
                        error_reason="The function failed to build; see its build log.",
                        last_completion_date=now,
                    )
                )
        if target == FunctionStatus.READY:
            self.notify_ready(function_id)
