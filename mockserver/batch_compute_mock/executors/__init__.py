"""Executors: what runs job attempts, behind one interface (``protocol.Executor``).

``spec.JobSpec`` goes in, ``outcome.JobOutcome`` comes out; ``local`` is the warm worker pool
on this machine (the default).
"""

from __future__ import annotations

from .outcome import JobOutcome, OutcomeStatus, StopReason
from .protocol import Executor
from .spec import JobSpec

__all__ = ["Executor", "JobOutcome", "JobSpec", "OutcomeStatus", "StopReason"]
