"""How a job attempt ended: ``JobOutcome`` and the rules that word it.

Exit codes (``JobOutcome.exit_code``) follow the shell's convention so they are always
non-negative:

    0          ``main`` returned (also a bare ``sys.exit()`` / ``os._exit(0)``)
    1          ``main`` raised, or the result could not be serialised
    n          ``sys.exit(n)`` / ``os._exit(n)``
    128 + sig  the job process died from signal ``sig``: 137 (SIGKILL) for a timeout, a cancel,
               a fork-bomb kill or the kernel's OOM killer; 139 for a segmentation fault;
               143 when a SIGTERM grace period ended the job
    None       the job never started (canceled while queued, or the pool was shut down)

``error_reason`` is ``None`` on success and otherwise one human line, e.g.
``ValueError: bad input``, ``Exited with code 3``, ``Killed by signal SIGSEGV (segmentation
fault)``, ``Timed out after 5 s``, ``Canceled``.

``statistics`` follows wire-protocol section 3.6; see ``job_statistics``.
"""

from __future__ import annotations

import signal
import time
from enum import StrEnum
from typing import Any

import attrs

from ..kernel.timestamps import stored_from_epoch

__all__ = [
    "STOPPED_STATUS",
    "JobOutcome",
    "OutcomeStatus",
    "StopReason",
    "describe_signal",
    "job_statistics",
    "not_started",
    "signal_exit_code",
]


class OutcomeStatus(StrEnum):
    """The terminal job status an attempt ends in (a subset of the wire's JobStatus)."""

    SUCCESS = "success"
    FAILURE = "failure"
    TIMEOUT = "timeout"
    CANCELED = "canceled"


class StopReason(StrEnum):
    """Why the executor killed a job on purpose (``None`` when the job ended by itself)."""

    TIMEOUT = "timeout"
    CANCEL = "cancel"
    SHUTDOWN = "shutdown"
    FORK_BOMB = "fork_bomb"
    WORKER_LOST = "worker_lost"


#: The status of an attempt the executor stopped (or never began), by why.
STOPPED_STATUS = {
    StopReason.TIMEOUT: OutcomeStatus.TIMEOUT,
    StopReason.CANCEL: OutcomeStatus.CANCELED,
    StopReason.SHUTDOWN: OutcomeStatus.CANCELED,
    StopReason.FORK_BOMB: OutcomeStatus.FAILURE,
    StopReason.WORKER_LOST: OutcomeStatus.FAILURE,
}


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


@attrs.frozen(kw_only=True)
class JobOutcome:
    """The result of one attempt, as the scheduler records it.

    ``started_at``/``ended_at`` are in the stored timestamp form; ``start_time``/``end_time``
    are the same instants as precise epoch seconds. ``runtime`` is whole seconds (rounded).
    ``result_written`` says the result bytes are stored under the spec's ``result_key``
    (``result_size`` bytes, MD5 ``result_hash``); then ``result_attributes`` holds
    ``description``, ``expires`` (stored form), ``extra_properties`` (dict), ``geometry``
    (GeoJSON dict) and ``tags`` (list), unset ones ``None``/empty.
    ``worker_pid`` is the warm job process that ran the job (it runs the next job of the
    same function too, unless this job was stopped, crashed it or left something running);
    ``supervisor_pid`` is the worker process supervising it.
    ``stop_reason`` tells a deliberate kill (see ``StopReason``) from a job that ended by itself.
    """

    job_id: str
    status: OutcomeStatus = attrs.field(converter=OutcomeStatus)
    exit_code: int | None
    error_reason: str | None = attrs.field(converter=_optional_str)
    started_at: str | None
    ended_at: str
    runtime: int
    statistics: dict[str, Any] | None
    result_written: bool = False
    result_attributes: dict[str, Any] | None = None
    result_size: int = 0
    result_hash: str | None = None
    start_time: float | None = None
    end_time: float = 0.0
    worker_pid: int | None = None
    supervisor_pid: int | None = None
    log_truncated: bool = False
    stop_reason: StopReason | None = attrs.field(
        default=None, converter=attrs.converters.optional(StopReason)
    )

    @property
    def succeeded(self) -> bool:
        return self.status is OutcomeStatus.SUCCESS


def signal_exit_code(signum: int) -> int:
    return 128 + signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def describe_signal(signum: int) -> str:
    """``Killed by signal SIGSEGV (segmentation fault)``."""
    text = signal.strsignal(signum) or ""
    detail = f" ({text[0].lower()}{text[1:]})" if text else ""
    return f"Killed by signal {signal_name(signum)}{detail}"


def job_statistics(*, cpu_ns: int, wall_s: float, peak_bytes: int, limit_bytes: int) -> dict:
    """Wire-protocol 3.6 statistics from one measurement at the end of the job.

    ``cpu.time`` is user+system CPU of the job process and the children it waited for;
    ``cpu.total`` is that as a percentage of the wall time (over 100 with several threads).
    ``memory.peak_bytes`` is the peak resident set size; percentages are relative to the
    function's memory. Only the peak is measured, so ``total_*`` repeat it. Each timeseries
    holds that single sample; network counters are not measured and are 0.
    """
    cpu_percent = int(cpu_ns / (wall_s * 1e7)) if wall_s > 0 else 0
    peak_percent = int(peak_bytes * 100 / limit_bytes) if limit_bytes > 0 else 0
    return {
        "cpu": {"total": cpu_percent, "time": cpu_ns, "timeseries": [[cpu_percent, cpu_ns]]},
        "memory": {
            "total_bytes": peak_bytes,
            "total_percentage": peak_percent,
            "peak_bytes": peak_bytes,
            "peak_percentage": peak_percent,
            "timeseries": [[peak_percent, peak_bytes]],
        },
        "network": {
            "rx_bytes": 0,
            "tx_bytes": 0,
            "rx_dropped": 0,
            "tx_dropped": 0,
            "rx_errors": 0,
            "tx_errors": 0,
        },
    }


def not_started(job_id: str, reason: StopReason, error_reason: str) -> JobOutcome:
    """The outcome of an attempt that never began: no start time, no runtime, ended now."""
    now = time.time()
    return JobOutcome(
        job_id=job_id,
        status=STOPPED_STATUS[reason],
        exit_code=None,
        error_reason=error_reason,
        started_at=None,
        ended_at=stored_from_epoch(now),
        runtime=0,
        statistics=None,
        end_time=now,
        stop_reason=reason,
    )
