"""``DaskExecutor``: the ``Executor`` that runs each job attempt as a task on a Dask cluster.

    executor = DaskExecutor(scheduler_address="tcp://host:8786", blobs=blobs, slots=64)

Each attempt becomes one task (``worker.run_job``) restricted to the function's ``cpus`` and
``memory`` as Dask worker resources, so a worker never takes more jobs than it has room for.

Few scheduler round trips per job, because they, not the jobs, bound the throughput of short
jobs: attempts handed over in one event-loop turn go to the scheduler in one ``Client.map``
per resource shape; a worker announces a start on the ``STARTED_TOPIC`` event topic (sent on
its batched stream, not a round trip), which calls ``on_start``, and its outcome on
``ENDED_TOPIC``; the outcomes of finished tasks the server did not hear about are gathered in
batches. No per-job round trip is left.

A cancel of a queued attempt cancels its future; a cancel of a running one reaches the
worker's pool through ``Client.run`` (a future's cancel does not stop a running task). A lost
worker ends an attempt that began there ``failure`` (``StopReason.WORKER_LOST``; the task,
given again to another worker, answers ``RERUN`` instead of running the job); one that never
began runs again without using an attempt; the server's retry policy decides what follows.
Should a task given again run anyway (the loss reached that worker late), its second start
ends the attempt as lost and the run is stopped. ``slots`` caps the attempts in flight across
the whole cluster (the server's global cap). Workers get the blob URL with each task, never
database credentials. An attempt no worker has room for stays with the scheduler (it runs when
a worker with room joins) and ``on_waiting`` is told why (``room``), so the job can say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import attrs
from distributed import Client
from distributed.client import Future, FuturesCancelledError
from distributed.client import _wait as wait_for_future

from ...blobs import BlobStore
from ..outcome import JobOutcome, StopReason
from ..spec import JobSpec
from .outcomes import lost_outcome, not_started
from .room import no_room_reason
from .worker import (
    ENDED_TOPIC,
    FALLBACK_NAME,
    RERUN,
    STARTED_TOPIC,
    TASK_PREFIX,
    BatchComputePlugin,
    cancel_job,
    run_job,
)

__all__ = ["DaskExecutor"]

log = logging.getLogger(__name__)
MIB = 1024 * 1024
#: How long an attempt waits before the executor asks whether any worker has room for it.
ROOM_CHECK_SECONDS = 1.0


@attrs.define(eq=False)
class _Attempt:
    spec: JobSpec
    key: str
    on_start: Callable[[], None]
    ended: asyncio.Future[JobOutcome]
    future: Future | None = None
    watcher: asyncio.Future[None] | None = None  # waits for the task to end
    started: bool = False
    worker: str = ""
    cancel: StopReason | None = None
    submitted: float = 0.0  # loop time it was handed to the scheduler
    waiting: str | None = None  # why it waits, as last told (``on_waiting``)


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
        on_waiting: Callable[[str, str | None], None] = lambda job_id, reason: None,
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
        self._attempts: dict[str, _Attempt] = {}  # by job id
        self._by_key: dict[str, _Attempt] = {}
        self._to_submit: list[_Attempt] = []
        self._finished: list[_Attempt] = []
        self._collecting: asyncio.Task[None] | None = None
        self._background: set[asyncio.Future[Any]] = set()
        self._on_waiting = on_waiting
        self._room_check: asyncio.Task[None] | None = None
        self._scheduler_id: str | None = None  # the scheduler our plugin is registered with
        self._closed = False

    async def start(self) -> None:
        """Connect to the scheduler, hear workers' start marks; workers started without our
        plugin get it too."""
        self._client = await Client(  # type: ignore[misc]
            self._address, asynchronous=True, timeout=self._timeout, set_as_default=False
        )
        self._client.subscribe_topic(STARTED_TOPIC, self._heard_start)
        self._client.subscribe_topic(ENDED_TOPIC, self._heard_end)
        await self._client.register_plugin(self._fallback, name=FALLBACK_NAME)
        self._scheduler_id = self._client.scheduler_info().get("id")
        self._room_check = asyncio.ensure_future(self._check_room())

    async def run(self, spec: JobSpec, on_start: Callable[[], None] = lambda: None) -> JobOutcome:
        if self._closed or self._client is None:
            return not_started(spec.job_id, StopReason.SHUTDOWN, "Canceled: the server is stopping")
        loop = asyncio.get_running_loop()
        key = f"{TASK_PREFIX}{spec.job_id}-{spec.attempt}-{uuid.uuid4().hex[:8]}"
        attempt = _Attempt(spec, key, on_start, loop.create_future())
        self._attempts[spec.job_id] = self._by_key[key] = attempt
        if not self._to_submit:
            loop.call_soon(self._submit)
        self._to_submit.append(attempt)
        try:
            outcome = await asyncio.shield(attempt.ended)
        except asyncio.CancelledError:
            self.cancel(spec.job_id)
            raise
        finally:
            self._drop(attempt)
        if self._closed and outcome.stop_reason is StopReason.CANCEL:
            outcome = attrs.evolve(
                outcome,
                stop_reason=StopReason.SHUTDOWN,
                error_reason="Canceled: the server is shutting down",
            )
        return outcome

    def _drop(self, attempt: _Attempt) -> None:
        if self._attempts.get(attempt.spec.job_id) is attempt:
            del self._attempts[attempt.spec.job_id]
        self._by_key.pop(attempt.key, None)
        if attempt.watcher is not None:
            attempt.watcher.cancel()  # a released future's end is never reported
        if attempt.future is not None:
            attempt.future.release()

    def _submit(self) -> None:
        """Hand every attempt queued in this loop turn to the scheduler: one ``map`` per
        resource shape."""
        client = self._client
        batch, self._to_submit = self._to_submit, []
        shapes: dict[tuple[float, float], list[_Attempt]] = defaultdict(list)
        for attempt in batch:
            if attempt.ended.done():
                continue  # canceled before it was handed over
            if client is None or self._closed:
                _end(attempt, not_started(attempt.spec.job_id, StopReason.SHUTDOWN, _STOPPING))
                continue
            spec = attempt.spec
            shapes[(float(spec.cpus), float(spec.memory_mib * MIB))].append(attempt)
        for (cpus, memory), group in shapes.items():
            assert client is not None
            futures = client.map(
                run_job,
                [attrs.asdict(a.spec) for a in group],
                [self._blob_url] * len(group),
                [a.key for a in group],
                key=[a.key for a in group],
                pure=False,
                resources={"cpus": cpus, "memory": memory},
            )
            now = asyncio.get_running_loop().time()
            for attempt, future in zip(group, futures, strict=True):
                attempt.future = future
                attempt.submitted = now
                attempt.watcher = self._keep(self._watch(attempt, future))

    def _heard_start(self, event: tuple[float, Any]) -> None:
        """A worker began an attempt (``STARTED_TOPIC``)."""
        _, message = event
        if not isinstance(message, dict):
            return
        attempt = self._by_key.get(str(message.get("key")))
        if attempt is None:
            return
        worker = str(message.get("worker"))
        if attempt.started and attempt.worker and worker != attempt.worker:
            # Given again after its worker was lost, and run anyway: stop that run.
            _end(attempt, lost_outcome(attempt.spec.job_id, detail=_LOST_RAN_AGAIN))
            self._stop(attempt, StopReason.CANCEL)
            return
        attempt.worker = worker
        self._began(attempt)

    def _heard_end(self, event: tuple[float, Any]) -> None:
        """A worker reports an attempt's outcome (``ENDED_TOPIC``)."""
        _, message = event
        if not isinstance(message, dict):
            return
        attempt = self._by_key.get(str(message.get("key")))
        if attempt is not None and not attempt.ended.done():
            self._ended(attempt, JobOutcome(**message["outcome"]))

    def _ended(self, attempt: _Attempt, outcome: JobOutcome) -> None:
        if outcome.error_reason == RERUN:
            _end(attempt, self._rerun(attempt))
            return
        if _ran(outcome):  # it may have ended before its start was heard
            self._began(attempt)
        _end(attempt, outcome)

    def _began(self, attempt: _Attempt) -> None:
        if not attempt.started and not attempt.ended.done():
            attempt.started = True
            attempt.on_start()
            if attempt.waiting is not None:
                attempt.waiting = None
                self._on_waiting(attempt.spec.job_id, None)

    async def _plugin_on_a_new_scheduler(self) -> None:
        """After the client reconnected to a restarted scheduler, register the plugin for
        plain workers there again (a scheduler keeps plugins in memory only)."""
        client = self._client
        identity = client.scheduler_info().get("id") if client is not None else None
        if client is None or not identity or identity == self._scheduler_id:
            return
        try:
            await client.register_plugin(self._fallback, name=FALLBACK_NAME)
        except Exception as error:  # not reachable right now: try again next time
            log.debug("cannot register the worker plugin: %r", error)
            return
        self._scheduler_id = identity

    async def _check_room(self) -> None:
        """Every ``ROOM_CHECK_SECONDS`` (after seeing to a restarted scheduler's plugin):
        attempts handed over that long ago and not begun,
        that no worker has room for, are told to ``on_waiting`` with the reason (and told
        again with None when that changes or they begin)."""
        loop = asyncio.get_running_loop()
        while not self._closed and self._client is not None:
            await asyncio.sleep(ROOM_CHECK_SECONDS)
            await self._plugin_on_a_new_scheduler()
            now = loop.time()
            waiting = [
                a
                for a in self._by_key.values()
                if a.future is not None
                and not a.started
                and not a.ended.done()
                and now - a.submitted >= ROOM_CHECK_SECONDS
            ]
            if not waiting or self._client is None:
                continue
            try:
                identity = await self._client.scheduler.identity(n_workers=-1)
            except Exception as error:  # the scheduler is away: nothing to say now
                log.debug("cannot read the cluster's workers: %r", error)
                continue
            workers = list((identity.get("workers") or {}).values())
            for attempt in waiting:
                spec = attempt.spec
                reason = no_room_reason(float(spec.cpus), float(spec.memory_mib * MIB), workers)
                if reason != attempt.waiting and not attempt.started:
                    attempt.waiting = reason
                    self._on_waiting(spec.job_id, reason)

    async def _watch(self, attempt: _Attempt, future: Future) -> None:
        """Wait for the task to end (no round trip: the scheduler reports it), then have its
        outcome collected."""
        with contextlib.suppress(FuturesCancelledError):  # a canceled task has ended too
            await wait_for_future([future])
        self._finished.append(attempt)
        if self._collecting is None or self._collecting.done():
            self._collecting = asyncio.ensure_future(self._collect())

    async def _collect(self) -> None:
        """Gather the outcomes of finished tasks, many per round trip."""
        await asyncio.sleep(0)  # let the other futures finishing now join this batch
        while self._finished:
            batch, self._finished = self._finished, []
            done = [
                a
                for a in batch
                if a.future is not None and a.future.status == "finished" and not a.ended.done()
            ]
            results: list[Any] = []
            if done:
                try:
                    results = await self._gather([a.future for a in done])
                except Exception as error:  # a worker holding a result was lost
                    for attempt in done:
                        await self._settle(attempt, error)
                    done = []
            for attempt, outcome in zip(done, results, strict=True):
                self._ended(attempt, outcome)
            for attempt in batch:
                if attempt.future is not None and attempt.future.status != "finished":
                    await self._settle(attempt, None)

    def _rerun(self, attempt: _Attempt) -> JobOutcome:
        """The task was given again after its worker was lost: the attempt failed if it began
        there, else it never ran (the job waits for its next turn)."""
        if attempt.started:
            return lost_outcome(attempt.spec.job_id, detail=_LOST)
        return not_started(attempt.spec.job_id, StopReason.WORKER_LOST, _LOST)

    async def _gather(self, futures: list[Any]) -> list[Any]:
        client = self._client
        assert client is not None
        return list(await client.gather(futures))

    async def _settle(self, attempt: _Attempt, error: BaseException | None) -> None:
        """An attempt whose task did not hand back an outcome: canceled, its worker lost, or
        the scheduler. One that began failed (its retry policy decides); one that did not
        never ran (the job waits for its next turn)."""
        if attempt.ended.done():
            return
        spec = attempt.spec
        canceled = attempt.future is not None and attempt.future.status == "cancelled"
        if canceled and attempt.cancel is not None:  # as we asked
            reason = attempt.cancel
            text = "Canceled" if reason is StopReason.CANCEL else _STOPPING
            if attempt.started:
                _end(attempt, lost_outcome(spec.job_id, canceled=True))
            else:
                _end(attempt, not_started(spec.job_id, reason, text))
            return
        if canceled:  # by Dask, not by us: the client lost the scheduler
            detail = "The connection to the Dask scheduler was lost"
        else:
            if error is None and attempt.future is not None:
                with contextlib.suppress(Exception):
                    error = await attempt.future.exception()
            # KilledWorker (lost too often), or the worker's own fault
            detail = f"{_LOST}: {type(error).__name__}: {error}"
        if not attempt.started:
            _end(attempt, not_started(spec.job_id, StopReason.WORKER_LOST, detail))
        else:
            _end(attempt, lost_outcome(spec.job_id, detail=detail))

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued attempt's future, and tell every worker to stop it if it runs."""
        attempt = self._attempts.get(job_id)
        if attempt is None or self._client is None:
            return False
        self._stop(attempt, StopReason.CANCEL)
        return True

    def _stop(self, attempt: _Attempt, reason: StopReason) -> None:
        client = self._client
        assert client is not None
        attempt.cancel = attempt.cancel or reason
        if attempt.future is None:  # not handed over yet
            text = "Canceled" if reason is StopReason.CANCEL else _STOPPING
            _end(attempt, not_started(attempt.spec.job_id, reason, text))
            return
        if not attempt.started:
            self._keep(client.cancel(attempt.future))
        spec = attempt.spec
        self._keep(client.run(cancel_job, spec.job_id, spec.attempt, on_error="ignore"))

    def _keep(self, work: Any) -> asyncio.Future[Any]:
        """Run ``work`` in the background, holding it until it ends."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Future[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("a background call to the Dask scheduler failed: %r", task.exception())

    async def shutdown(self, grace_s: float) -> None:
        """Stop taking jobs; running ones get ``grace_s``, then they are stopped (they end
        ``StopReason.SHUTDOWN``); then disconnect."""
        self._closed = True
        if self._room_check is not None:
            self._room_check.cancel()
        client = self._client
        if client is None:
            return
        pending = [a.ended for a in self._attempts.values()]
        if pending and grace_s > 0:
            await asyncio.wait(pending, timeout=grace_s)
        for attempt in list(self._attempts.values()):
            self._stop(attempt, StopReason.SHUTDOWN)
        deadline = asyncio.get_running_loop().time() + 10.0
        while self._attempts and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        if self._background:
            await asyncio.wait(set(self._background), timeout=5.0)
        self._client = None
        client.unsubscribe_topic(STARTED_TOPIC)
        client.unsubscribe_topic(ENDED_TOPIC)
        await client.close()


_STOPPING = "Canceled: the server is stopping"
_LOST = "The Dask worker running the job was lost"
_LOST_RAN_AGAIN = f"{_LOST} (its task began again on another worker and was stopped)"


def _end(attempt: _Attempt, outcome: JobOutcome) -> None:
    if not attempt.ended.done():
        attempt.ended.set_result(outcome)


def _ran(outcome: Any) -> bool:
    """A task that ended before we heard its start: did it run a job?"""
    return isinstance(outcome, JobOutcome) and outcome.started_at is not None
