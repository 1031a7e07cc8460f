"""The executor's interface: what the scheduler asks of whatever runs the jobs.

An executor runs ``JobSpec``s and answers each with a ``JobOutcome``; it never touches the
database (the scheduler records outcomes). Results and logs go to the blob store under the
spec's keys. ``on_start`` is called once, synchronously, at the moment the job is handed to a
worker (never for a job that does not start), so the scheduler counts exactly the attempts
that began.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..kernel.terms import Term
from .outcome import JobOutcome
from .spec import JobSpec

__all__ = ["Executor"]


class Executor(Protocol):
    #: How many jobs it runs at once.
    slots: int

    async def start(self, term: Term | None = None) -> None:
        """Be ready to run jobs. ``term`` tells later holders of the scheduler lease from
        earlier ones (``kernel.terms``): an executor whose workers outlive servers fences
        with it. None: this server holds no lease (it is the only one)."""

    async def run(self, spec: JobSpec, on_start: Callable[[], None]) -> JobOutcome:
        """Run one attempt to its end and say how it ended (never raises for what the job
        does). Cancelling the awaiting task cancels the job."""

    def cancel(self, job_id: str) -> bool:
        """Ask a queued or running job to end ``canceled``; False if it is not here."""

    async def shutdown(self, grace_s: float) -> None:
        """Stop taking jobs; running ones get ``grace_s``, then end with ``StopReason.SHUTDOWN``."""
