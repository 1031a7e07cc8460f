"""``DaskExecutor``: the ``Executor`` that runs each job attempt as a task on a Dask cluster.

    executor = DaskExecutor(scheduler_address="tcp://host:8786", blobs=blobs, slots=64)

Each attempt becomes one task (``worker.run_job``) restricted to the function's ``cpus`` and
``memory`` as Dask worker resources, so a worker never takes more jobs than it has room for.
The attempt counts as started (``on_start``) when the task marks its Dask ``Event`` on a
worker, not when it is submitted. A cancel of a queued attempt cancels its future; a cancel of
a running one reaches the worker's pool through ``Client.run`` (a future's cancel does not
stop a running task). A lost worker ends the attempt ``failure`` (``StopReason.WORKER_LOST``);
the server's retry policy decides what follows. ``slots`` caps the attempts in flight across
the whole cluster (the server's global cap). Workers get the blob URL with each task, never
database credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

import attrs
from distributed import Client, Event
from distributed.client import Future

from ...blobs import BlobStore
from ..outcome import JobOutcome, StopReason
from ..spec import JobSpec
from .outcomes import lost_outcome, not_started
from .worker import FALLBACK_NAME, BatchComputePlugin, cancel_job, run_job

__all__ = ["DaskExecutor"]

log = logging.getLogger(__name__)
MIB = 1024 * 1024


@attrs.define
class _Attempt:
    future: Future
    started: bool = False
    cancel: StopReason | None = None


class DaskExecutor:
    """Runs jobs on the Dask cluster at ``scheduler_address``; see the module docstring.

    Workers started without our plugin (a plain ``dask worker``) get it from here, with
    ``worker_sandbox`` and ``job_network`` as their job sandbox (``serve``'s own settings).
    """

    def __init__(
        self,
        *,
        scheduler_address: str,
        blobs: BlobStore,
        slots: int,
        connect_timeout_s: float = 30.0,
        worker_sandbox: str = "auto",
        job_network: bool = True,
    ) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots = slots
        self._address = scheduler_address
        self._blob_url = blobs.url
        self._timeout = connect_timeout_s
        self._fallback = BatchComputePlugin(
            fallback=True, sandbox=worker_sandbox, job_network=job_network
        )
        self._client: Client | None = None
        self._attempts: dict[str, _Attempt] = {}
        self._background: set[asyncio.Future[Any]] = set()
        self._closed = False

    async def start(self) -> None:
        """Connect to the scheduler; workers started without our plugin get it too."""
        self._client = await Client(  # type: ignore[misc]
            self._address, asynchronous=True, timeout=self._timeout, set_as_default=False
        )
        await self._client.register_plugin(self._fallback, name=FALLBACK_NAME)

    async def run(self, spec: JobSpec, on_start: Callable[[], None] = lambda: None) -> JobOutcome:
        client = self._client
        if self._closed or client is None:
            return not_started(spec.job_id, StopReason.SHUTDOWN, "Canceled: the server is stopping")
        key = f"batch-compute-{spec.job_id}-{spec.attempt}-{uuid.uuid4().hex[:8]}"
        mark = Event(f"{key}-started", client=client)
        future = client.submit(
            run_job,
            attrs.asdict(spec),
            self._blob_url,
            mark.name,
            key=key,
            pure=False,
            resources={"cpus": float(spec.cpus), "memory": float(spec.memory_mib * MIB)},
        )
        attempt = self._attempts[spec.job_id] = _Attempt(future)
        try:
            outcome = await self._follow(spec, attempt, mark, on_start)
        except asyncio.CancelledError:
            self.cancel(spec.job_id)
            raise
        finally:
            if self._attempts.get(spec.job_id) is attempt:
                del self._attempts[spec.job_id]
            self._keep(mark.clear())  # removes the event from the scheduler
        if self._closed and outcome.stop_reason is StopReason.CANCEL:
            outcome = attrs.evolve(
                outcome,
                stop_reason=StopReason.SHUTDOWN,
                error_reason="Canceled: the server is shutting down",
            )
        return outcome

    async def _follow(
        self, spec: JobSpec, attempt: _Attempt, mark: Event, on_start: Callable[[], None]
    ) -> JobOutcome:
        ended = asyncio.ensure_future(_result(attempt.future))
        began = asyncio.ensure_future(mark.wait())
        try:
            await asyncio.wait({ended, began}, return_when=asyncio.FIRST_COMPLETED)
            if (began.done() and not began.exception()) or (ended.done() and _ran(ended)):
                attempt.started = True
                on_start()
            return await ended
        except asyncio.CancelledError:
            if not ended.done():
                raise
            reason = attempt.cancel or StopReason.CANCEL
            text = "Canceled" if reason is StopReason.CANCEL else "Canceled: the server is stopping"
            return not_started(spec.job_id, reason, text)
        except Exception as error:  # KilledWorker (lost too often), or the worker's own fault
            detail = f"The Dask worker running the job was lost: {type(error).__name__}: {error}"
            if not attempt.started:
                return not_started(spec.job_id, StopReason.WORKER_LOST, detail)
            return lost_outcome(spec.job_id, detail=detail)
        finally:
            began.cancel()

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued attempt's future, and tell every worker to stop it if it runs."""
        attempt = self._attempts.get(job_id)
        if attempt is None or self._client is None:
            return False
        self._stop(job_id, attempt, StopReason.CANCEL)
        return True

    def _stop(self, job_id: str, attempt: _Attempt, reason: StopReason) -> None:
        client = self._client
        assert client is not None
        attempt.cancel = attempt.cancel or reason
        if not attempt.started:
            self._keep(client.cancel(attempt.future))
        self._keep(client.run(cancel_job, job_id, on_error="ignore"))

    def _keep(self, work: Any) -> None:
        """Run ``work`` in the background, holding it until it ends."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Future[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("a background call to the Dask scheduler failed: %r", task.exception())

    async def shutdown(self, grace_s: float) -> None:
        """Stop taking jobs; running ones get ``grace_s``, then they are stopped (they end
        ``StopReason.SHUTDOWN``); then disconnect."""
        self._closed = True
        client = self._client
        if client is None:
            return
        pending = [a.future for a in self._attempts.values()]
        if pending and grace_s > 0:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.gather(*map(_result, pending)), grace_s)
        for job_id, attempt in list(self._attempts.items()):
            self._stop(job_id, attempt, StopReason.SHUTDOWN)
        deadline = asyncio.get_running_loop().time() + 10.0
        while self._attempts and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        if self._background:
            await asyncio.wait(set(self._background), timeout=5.0)
        self._client = None
        await client.close()


async def _result(future: Future) -> Any:
    return await future


def _ran(ended: asyncio.Future[Any]) -> bool:
    """A task that ended before we saw its start mark: did it run a job?"""
    if ended.cancelled() or ended.exception() is not None:
        return False
    outcome = ended.result()
    return isinstance(outcome, JobOutcome) and outcome.started_at is not None
