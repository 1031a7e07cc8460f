"""Outcomes the cluster executor words itself: attempts that never ran on a pool."""

from __future__ import annotations

import time

from ...kernel.timestamps import format_timestamp, parse_timestamp
from ..outcome import JobOutcome, OutcomeStatus, StopReason
from ..outcome import not_started as never_began

__all__ = ["lost_outcome", "not_started"]


def _stored(epoch: float) -> str:
    return format_timestamp(parse_timestamp(epoch))


def lost_outcome(
    job_id: str, *, canceled: bool = False, started: float | None = None, detail: str = ""
) -> JobOutcome:
    """The attempt began but its worker was lost (or it was canceled before it ran)."""
    now = time.time()
    begun = now if started is None else started
    if canceled:
        status, reason, stop = OutcomeStatus.CANCELED, "Canceled", StopReason.CANCEL
    else:
        status, stop = OutcomeStatus.FAILURE, StopReason.WORKER_LOST
        reason = detail or "The Dask worker running the job was lost"
    return JobOutcome(
        job_id=job_id,
        status=status,
        exit_code=None,
        error_reason=reason,
        started_at=_stored(begun),
        ended_at=_stored(now),
        runtime=round(now - begun),
        statistics=None,
        start_time=begun,
        end_time=now,
        stop_reason=stop,
    )


def not_started(job_id: str, reason: StopReason, text: str) -> JobOutcome:
    """The attempt never began (canceled while queued, or the server is stopping)."""
    status = OutcomeStatus.FAILURE if reason is StopReason.WORKER_LOST else OutcomeStatus.CANCELED
    return never_began(job_id, status, reason, text)
