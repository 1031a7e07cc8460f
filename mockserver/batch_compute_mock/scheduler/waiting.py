"""``WaitingNotes``: a pending job's ``error_reason`` says why it waits, when the executor knows.

An executor that cannot start a job for a reason of its own (on a Dask cluster: no worker has
room for the function's ``cpus``/``memory``) tells it here; the job stays ``pending`` and its
record says why, through the API, instead of waiting in silence. When the job begins, or the
reason goes away, the note is removed, unless something else has replaced it meanwhile.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from ..kernel.states import JobStatus
from ..store import Store

__all__ = ["WaitingNotes"]

log = logging.getLogger(__name__)


class WaitingNotes:
    """``notes(job_id, reason)``: note why the job waits; ``reason=None`` removes the note.

    Writes happen in order on one thread of their own, never on the event loop."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._written: dict[str, str] = {}  # job id -> the note it holds
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="waiting-notes")

    def __call__(self, job_id: str, reason: str | None) -> None:
        done = self._thread.submit(self._write, job_id, reason)
        done.add_done_callback(_report)

    def _write(self, job_id: str, reason: str | None) -> None:
        with self._store.write() as store:
            job = store.job(job_id)
            if job is None:
                self._written.pop(job_id, None)
                return
            if reason is not None:
                if job["status"] == JobStatus.PENDING and job["error_reason"] != reason:
                    store.update_job(job_id, {"error_reason": reason})
                    self._written[job_id] = reason
                return
            note = self._written.pop(job_id, None)
            if note is not None and job["error_reason"] == note:
                store.update_job(job_id, {"error_reason": None})


def _report(done: Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("could not note why a job waits: %r", done.exception())
