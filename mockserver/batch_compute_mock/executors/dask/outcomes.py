"""Outcomes the cluster executor words itself: attempts no pool reported the end of (their
worker was lost, or a cancel reached it before they ran)."""

from __future__ import annotations

import time

from ...kernel.timestamps import stored_from_epoch
from ..outcome import JobOutcome, OutcomeStatus, StopReason

__all__ = ["lost_outcome"]


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
        started_at=stored_from_epoch(begun),
        ended_at=stored_from_epoch(now),
        runtime=round(now - begun),
        statistics=None,
        start_time=begun,
        end_time=now,
        stop_reason=stop,
    )
