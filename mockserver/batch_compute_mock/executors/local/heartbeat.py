"""The scheduling server's heartbeat, watched by its workers: no job outlives the lease.

On a shared database another server takes over scheduling once this one's lease expires
(``store.lease``). A server that is stopped (SIGSTOP) or cut off from the database keeps its
lease no longer, but its workers are separate processes and would go on running their jobs
next to the new scheduler's second attempts. So the lease thread ``beat``s after every round
trip that proved the lease held, a worker whose heartbeat is older than ``limit_s`` (well
under the lease's expiry) kills its running job and exits, and the pool hands no job to a
worker while the heartbeat is stale (a server resuming after its lease expired must not start
anything before it learns that it lost it and exits).

The beat is the modification time of a memfd that every worker inherits, set to the
``CLOCK_MONOTONIC`` time (one clock for every process of a Linux machine, untouched by
wall-clock jumps) of the proof: one ``futimens`` per beat, one ``fstat`` per check (a few
microseconds, once every ``CHECK_INTERVAL_SECONDS`` of a running job), atomic either way.
"""

from __future__ import annotations

import os
import time

__all__ = ["CHECK_INTERVAL_SECONDS", "Heartbeat", "heartbeat_age"]

#: How often a worker running a job checks the heartbeat.
CHECK_INTERVAL_SECONDS = 0.25


class Heartbeat:
    """The server's side: ``beat`` (the lease thread), ``fresh`` (the pool, per job)."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s
        self.fd = os.memfd_create("batch-compute-heartbeat", os.MFD_CLOEXEC)
        self._at = float("-inf")
        os.utime(self.fd, ns=(0, 0))  # stale until the first beat

    def beat(self, at: float) -> None:
        """The lease was proven held at ``at`` (``time.monotonic()``)."""
        if at > self._at:
            self._at = at
            nanoseconds = int(at * 1e9)
            os.utime(self.fd, ns=(nanoseconds, nanoseconds))

    def fresh(self) -> bool:
        return time.monotonic() - self._at < self.limit_s

    def close(self) -> None:
        os.close(self.fd)


def heartbeat_age(fd: int) -> float:
    """Seconds since the last beat of the heartbeat inherited as ``fd`` (a worker's side)."""
    return (time.monotonic_ns() - os.fstat(fd).st_mtime_ns) / 1e9
