"""What can happen to a job, as the test controls' journal records it.

Events are appended in the order they happen, one per job per happening, by the code that made
it happen (the job service for submissions, cancels of pending jobs, reruns and deletes; the
scheduler for starts and the ends of attempts). Recording is on only while a server's test
controls are, so a production server pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from .states import JobStatus
from .timestamps import utc_now

__all__ = ["ENDINGS", "JobEvent", "event_row"]


class JobEvent(StrEnum):
    SUBMITTED = "submitted"
    STARTED = "started"
    ATTEMPT_FAILED = "attempt_failed"  #: an attempt ended without success; another follows
    RETRIED = "retried"  #: back to pending for another attempt (a retry or a rerun)
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELED = "canceled"
    DELETED = "deleted"


#: The event of each final status.
ENDINGS: Mapping[str, JobEvent] = {
    JobStatus.SUCCESS: JobEvent.SUCCEEDED,
    JobStatus.FAILURE: JobEvent.FAILED,
    JobStatus.TIMEOUT: JobEvent.TIMED_OUT,
    JobStatus.CANCELED: JobEvent.CANCELED,
}


def event_row(
    job: Mapping[str, Any], event: JobEvent, attempt: int | None = None, time: str | None = None
) -> dict[str, Any]:
    """A journal row for ``job`` (a row with ``id``, ``function_id`` and ``owner``)."""
    return {
        "time": time or utc_now(),
        "owner": job["owner"],
        "function_id": job["function_id"],
        "job_id": job["id"],
        "attempt": attempt,
        "event": event.value,
    }
