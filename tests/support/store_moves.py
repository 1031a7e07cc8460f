"""Moving a job through its lifecycle with the store's own edges, for tests whose server runs
no executor (so nothing else would ever move it)."""

from __future__ import annotations

from batch_compute_mock.kernel.states import JobEdge, JobStatus
from batch_compute_mock.settings import Settings
from batch_compute_mock.store import Row, open_store

__all__ = ["move_job", "read_jobs"]


def move_job(settings: Settings, job_id: str, status: str) -> None:
    """Take a pending job to ``status`` the way an executor would (start, then end)."""
    target = JobStatus(status)
    store = open_store(settings.resolved_database_url)
    try:
        with store.write() as writer:
            if target is JobStatus.CANCELED:
                writer.transition_jobs(JobEdge.CANCEL_PENDING, [job_id], target)
                return
            writer.transition_jobs(JobEdge.START, [job_id], JobStatus.RUNNING)
            if target is not JobStatus.RUNNING:
                writer.transition_jobs(JobEdge.FINISH, [job_id], target)
    finally:
        store.close()


def read_jobs(settings: Settings, job_ids: list[str]) -> list[Row]:
    """The jobs as stored (fields the API does not show included)."""
    store = open_store(settings.resolved_database_url)
    try:
        with store.read() as reader:
            return [dict(row) for row in reader.jobs(job_ids)]
    finally:
        store.close()
