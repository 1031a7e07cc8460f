"""``DaskExecutor``: the ``Executor`` that runs job attempts as tasks on a Dask cluster.

    executor = DaskExecutor(scheduler_address="tcp://host:8786", blobs=blobs, slots=64)

Attempts of one function go several to a task (``worker.run_jobs``, sized by ``batching`` so
every worker stays busy), which runs them one after another in one worker-resource slot:
restricted to the function's ``cpus`` and ``memory`` as Dask worker resources, so a worker
never takes more jobs than it has room for.

Few scheduler round trips and tasks per job, because they, not the jobs, bound the
throughput of short jobs: attempts handed over in one event-loop turn go to the scheduler in
one ``Client.map`` per function and resource shape; a worker announces each start on the
``STARTED_TOPIC`` event topic (sent on its batched stream, not a round trip), which calls
``on_start``, and each outcome on ``ENDED_TOPIC``; the outcomes of finished tasks the server
did not hear about are gathered in batches (``gathering``: one that cannot be had spoils only
its own). No per-job round trip is left.

A cancel of an attempt that has not begun ends it at once: its task skips it (and is canceled
when nothing of it is left); a cancel of a running one reaches the worker's pool through
``Client.run`` (a future's cancel does not stop a running task). A lost worker ends an
attempt that began there ``failure`` (``StopReason.WORKER_LOST``; the task, given again to
another worker, answers ``RERUN`` instead of running its jobs); one that never began runs
again without using an attempt, unless workers were lost ``MAX_UNHEARD_LOSSES`` times while it
was the one its task was at before it was heard to start (the job may be what kills them):
then the attempt fails. The server's retry policy decides what follows. Should a task given
again run anyway (the loss reached that worker late), its second start ends the attempt as
lost and the run is stopped. ``slots`` caps the attempts in flight across the whole cluster
(the server's global cap). Workers get the blob URL with each task, never database
credentials.

Workers outlive the server that schedules, so ``start`` takes the cluster over for this
server's blob store (``worker.take_over``): the attempts an earlier server began (one that
died or hung and lost the scheduler lease, or this one before a restart) are stopped, and their
tasks refused, before this one runs anything; the jobs those attempts had run again here,
never twice at once. The takeover carries this server's term (``kernel.terms``), so a server
that takes over late, after a later holder of the lease did, is refused and does not schedule.
An attempt no worker has room for stays with the scheduler (it runs when a worker with room
joins) and ``on_waiting`` is told why (``room``), so the job can say so.
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
from ...kernel.terms import Term
from ..outcome import JobOutcome, StopReason, not_started
from ..spec import JobSpec
from .batching import HOLD_SECONDS, MAX_BATCH, batch_sizes, cluster_room, enough_queued
from .gathering import gather_each
from .outcomes import lost_outcome
from .room import no_room_reason
from .worker import (
    ENDED_TOPIC,
    FALLBACK_NAME,
    RERUN,
    SCHEDULER_TOPIC,
    STARTED_TOPIC,
    TAKEOVER_WAIT_SECONDS,
    TASK_PREFIX,
    BatchComputePlugin,
    NewerScheduler,
    cancel_job,
    outcome_from_text,
    run_jobs,
    take_over,
)

__all__ = ["DaskExecutor", "TakeoverIncomplete"]

log = logging.getLogger(__name__)
MIB = 1024 * 1024
#: How long an attempt waits before the executor asks whether any worker has room for it.
ROOM_CHECK_SECONDS = 1.0
#: How often a job's worker may be lost before its start was heard, before the attempt fails.
MAX_UNHEARD_LOSSES = 3
_LOSSES_MEMORY = 100_000  # jobs whose losses are counted


class TakeoverIncomplete(RuntimeError):
    """Attempts an earlier server began still run on a worker: scheduling must not start."""


@attrs.define(eq=False)
class _Attempt:
    spec: JobSpec
    key: str  # names the attempt in the workers' events
    on_start: Callable[[], None]
    ended: asyncio.Future[JobOutcome]
    task: _Task | None = None  # the Dask task that carries it, once handed over
    started: bool = False
    worker: str = ""
    cancel: StopReason | None = None
    submitted: float = 0.0  # loop time it was handed to the scheduler
    queued: bool = False  # handed over, not begun nor ended (counted in ``_queued``)
    waiting: str | None = None  # why it waits, as last told (``on_waiting``)


@attrs.define(eq=False)
class _Task:
    """One Dask task: attempts of one function, run one after another on one worker."""

    key: str
    attempts: list[_Attempt]
    future: Future | None = None
    watcher: asyncio.Future[None] | None = None  # waits for the task to end
    suspect: _Attempt | None = None  # the one running when its worker was lost, if any
    blamed: bool = False  # ``suspect`` is chosen

    def open(self) -> bool:
        return any(not a.ended.done() for a in self.attempts)


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
        self._held: list[_Attempt] = []  # waiting to fill a task (``batching``)
        self._release: asyncio.Handle | None = None  # hands the held ones over
        self._queued: dict[tuple[float, float], int] = defaultdict(int)  # by resource shape
        self._finished: list[_Task] = []
        self._collecting: asyncio.Task[None] | None = None
        self._background: set[asyncio.Future[Any]] = set()
        self._on_waiting = on_waiting
        self._room_check: asyncio.Task[None] | None = None
        self._scheduler_id: str | None = None  # the scheduler our plugin is registered with
        self._workers: list[dict[str, Any]] = []  # the cluster's, as last read
        self._losses: dict[str, int] = {}  # job id -> its workers lost before it was heard
        self._name = uuid.uuid4().hex  # this server, to the workers (``SCHEDULER_TOPIC``)
        self._term = Term(f"server:{self._name}", 0)  # and its term (``start``)
        self._closed = False

    async def start(self, term: Term | None = None) -> None:
        """Connect to the scheduler, hear workers' start marks; workers started without our
        plugin get it too; take over from the servers before (``term``, see ``Executor``;
        without one, this server's own, which follows whatever server was named before)."""
        if term is not None:
            self._term = term
        self._client = await Client(  # type: ignore[misc]
            self._address, asynchronous=True, timeout=self._timeout, set_as_default=False
        )
        try:
            self._listen(self._client)
            await self._client.register_plugin(self._fallback, name=FALLBACK_NAME)
            self._scheduler_id = self._client.scheduler_info().get("id")
            await self._take_over()
        except BaseException:
            client, self._client = self._client, None
            await client.close()
            raise
        await self._read_workers()
        self._room_check = asyncio.ensure_future(self._check_room())

    async def _take_over(self) -> None:
        """Name this server on ``SCHEDULER_TOPIC`` (workers that join later read it) and have
        every worker stop the attempts other servers began for our blob store; raise
        ``TakeoverIncomplete`` if any still runs, so that nothing runs twice at once."""
        assert self._client is not None
        await self._name_ourselves(self._client)
        answers = await asyncio.wait_for(
            self._client.run(take_over, self._blob_url, self._name, self._term, on_error="return"),
            TAKEOVER_WAIT_SECONDS + self._timeout,
        )
        for answer in answers.values():
            if isinstance(answer, NewerScheduler):  # this server is late: it must not schedule
                raise TakeoverIncomplete(str(answer))
        still = {worker: answer for worker, answer in answers.items() if answer}
        failed = {w for w, answer in answers.items() if isinstance(answer, BaseException)}
        if failed:  # one that left the cluster cannot be told (its attempts end when it closes)
            identity = await self._client.scheduler.identity(n_workers=-1)
            for worker in failed - set(identity.get("workers") or {}):
                log.warning("Dask worker %s left before it could be taken over", worker)
                del still[worker]
        if still:
            raise TakeoverIncomplete(
                f"attempts an earlier server began have not stopped on these workers: {still}"
            )
        stopped = sum(len(a) for a in answers.values() if not isinstance(a, BaseException))
        if stopped:
            log.info("stopped %d attempts an earlier server began on the cluster", stopped)

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
        self._unqueue(attempt)
        if self._attempts.get(attempt.spec.job_id) is attempt:
            del self._attempts[attempt.spec.job_id]
        self._by_key.pop(attempt.key, None)
        task = attempt.task
        if task is not None and not task.open():
            if task.watcher is not None:
                task.watcher.cancel()  # a released future's end is never reported
            if task.future is not None:
                task.future.release()

    def _unqueue(self, attempt: _Attempt) -> None:
        """The attempt began or ended: one fewer waits with Dask; held ones may go now."""
        if not attempt.queued:
            return
        attempt.queued = False
        shape = _shape(attempt.spec)
        self._queued[shape] -= 1
        if self._held and self._release is None:
            room = cluster_room(*shape, self._workers)
            if not enough_queued(self._queued[shape], room):
                self._release = asyncio.get_running_loop().call_soon(self._hand_over_held)

    def _hand_over_held(self) -> None:
        self._release = None
        held, self._held = self._held, []
        self._submit(held)

    def _submit(self, held: list[_Attempt] | None = None) -> None:
        """Hand attempts queued in this loop turn (or ``held`` ones) to the scheduler: one
        ``map`` per function and resource shape, several attempts per task (``batching``).
        While Dask has enough of a shape queued, a few new ones are held back to fill a task."""
        client = self._client
        if held is None:
            batch, self._to_submit = self._to_submit, []
        else:
            batch = held
        groups: dict[tuple[str, float, float], list[_Attempt]] = defaultdict(list)
        for attempt in batch:
            if attempt.ended.done():
                continue  # canceled before it was handed over
            if client is None or self._closed:
                _end(attempt, not_started(attempt.spec.job_id, StopReason.SHUTDOWN, _STOPPING))
                continue
            groups[(attempt.spec.function_id, *_shape(attempt.spec))].append(attempt)
        loop = asyncio.get_running_loop()
        now = loop.time()
        for (_, cpus, memory), group in groups.items():
            assert client is not None
            room = cluster_room(cpus, memory, self._workers)
            queued = self._queued[(cpus, memory)]
            if held is None and len(group) < MAX_BATCH and enough_queued(queued, room):
                self._held.extend(group)
                if self._release is None:
                    self._release = loop.call_later(HOLD_SECONDS, self._hand_over_held)
                continue
            tasks: list[_Task] = []
            for size in batch_sizes(len(group), room, queued):
                attempts, group = group[:size], group[size:]
                key = f"{TASK_PREFIX}{attempts[0].spec.job_id}-{size}-{uuid.uuid4().hex[:8]}"
                tasks.append(_Task(key, attempts))
            log.debug("%d attempts in %d tasks", sum(len(t.attempts) for t in tasks), len(tasks))
            futures = client.map(
                run_jobs,
                [[attrs.asdict(a.spec) for a in t.attempts] for t in tasks],
                [self._blob_url] * len(tasks),
                [[a.key for a in t.attempts] for t in tasks],
                [t.key for t in tasks],
                [self._name] * len(tasks),
                key=[t.key for t in tasks],
                pure=False,
                resources={"cpus": cpus, "memory": memory},
            )
            for task, future in zip(tasks, futures, strict=True):
                task.future = future
                for attempt in task.attempts:
                    attempt.task = task
                    attempt.submitted = now
                    attempt.queued = True
                self._queued[(cpus, memory)] += len(task.attempts)
                task.watcher = self._keep(self._watch(task))

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
            self._ended(attempt, outcome_from_text(str(message["outcome"])))

    def _ended(self, attempt: _Attempt, outcome: JobOutcome) -> None:
        if outcome.error_reason == RERUN:
            self._task_lost(attempt, None)
            return
        if _ran(outcome):  # it may have ended before its start was heard
            self._began(attempt)
        self._losses.pop(attempt.spec.job_id, None)
        _end(attempt, outcome)

    def _began(self, attempt: _Attempt) -> None:
        if not attempt.started and not attempt.ended.done():
            attempt.started = True
            self._unqueue(attempt)
            attempt.on_start()
            if attempt.waiting is not None:
                attempt.waiting = None
                self._on_waiting(attempt.spec.job_id, None)

    def _listen(self, client: Client) -> None:
        """Hear the workers' start and end events (again after a scheduler restart: a
        scheduler keeps subscriptions in memory, and the client does not renew them)."""
        client.subscribe_topic(STARTED_TOPIC, self._heard_start)
        client.subscribe_topic(ENDED_TOPIC, self._heard_end)

    async def _plugin_on_a_new_scheduler(self) -> None:
        """After the client reconnected to a restarted scheduler, listen there again and
        register the plugin for plain workers there again (a scheduler keeps plugins in
        memory only)."""
        client = self._client
        identity = client.scheduler_info().get("id") if client is not None else None
        if client is None or not identity or identity == self._scheduler_id:
            return
        self._listen(client)
        try:
            await client.register_plugin(self._fallback, name=FALLBACK_NAME)
            await self._name_ourselves(client)  # a new scheduler has no history
        except Exception as error:  # not reachable right now: try again next time
            log.debug("cannot register the worker plugin: %r", error)
            return
        self._scheduler_id = identity

    async def _name_ourselves(self, client: Client) -> None:
        named = {"blob_url": self._blob_url, "scheduler": self._name, "term": list(self._term)}
        await client.log_event(SCHEDULER_TOPIC, named)

    async def _read_workers(self) -> None:
        """The cluster's workers and their resources, for ``batching`` and ``room``."""
        if self._client is None:
            return
        try:
            identity = await self._client.scheduler.identity(n_workers=-1)
        except Exception as error:  # the scheduler is away: keep what we knew
            log.debug("cannot read the cluster's workers: %r", error)
            return
        self._workers = list((identity.get("workers") or {}).values())

    async def _check_room(self) -> None:
        """Every ``ROOM_CHECK_SECONDS`` (after seeing to a restarted scheduler's plugin, and
        reading the cluster's workers while attempts are in flight): attempts handed over
        that long ago and not begun, that no worker has room for, are told to ``on_waiting``
        with the reason (and told again with None when that changes or they begin)."""
        loop = asyncio.get_running_loop()
        while not self._closed and self._client is not None:
            await asyncio.sleep(ROOM_CHECK_SECONDS)
            await self._plugin_on_a_new_scheduler()
            if not self._by_key:
                continue
            await self._read_workers()
            now = loop.time()
            waiting = [
                a
                for a in self._by_key.values()
                if a.task is not None
                and not a.started
                and not a.ended.done()
                and now - a.submitted >= ROOM_CHECK_SECONDS
            ]
            for attempt in waiting:
                spec = attempt.spec
                memory = float(spec.memory_mib * MIB)
                reason = no_room_reason(float(spec.cpus), memory, self._workers)
                if reason != attempt.waiting and not attempt.started:
                    attempt.waiting = reason
                    self._on_waiting(spec.job_id, reason)

    async def _watch(self, task: _Task) -> None:
        """Wait for the task to end (no round trip: the scheduler reports it), then have its
        outcomes collected."""
        assert task.future is not None
        with contextlib.suppress(FuturesCancelledError):  # a canceled task has ended too
            await wait_for_future([task.future])
        self._finished.append(task)
        if self._collecting is None or self._collecting.done():
            self._collecting = asyncio.ensure_future(self._collect())

    async def _collect(self) -> None:
        """Gather the outcomes of finished tasks the workers' events did not bring, many
        tasks per round trip; a task whose result cannot be had affects its attempts only."""
        await asyncio.sleep(0)  # let the other futures finishing now join this batch
        while self._finished:
            batch, self._finished = self._finished, []
            done = [
                t
                for t in batch
                if t.future is not None and t.future.status == "finished" and t.open()
            ]
            results = await gather_each(self._client, [t.future for t in done])
            for task, result in zip(done, results, strict=True):
                if isinstance(result, BaseException):
                    for attempt in task.attempts:
                        await self._settle(attempt, result)
                    continue
                for attempt, outcome in zip(task.attempts, result, strict=True):
                    if not attempt.ended.done():
                        self._ended(attempt, outcome)
            for task in batch:
                if task.future is not None and task.future.status != "finished":
                    for attempt in task.attempts:
                        await self._settle(attempt, None)

    def _task_lost(self, attempt: _Attempt, detail: str | None) -> None:
        """The task carrying ``attempt`` was lost with its worker (given again, it answered
        ``RERUN``; or Dask gave up on it). The attempt failed if it began there; else it
        never ran and the job waits for its next turn, unless its worker was lost too often
        before the job was heard to start: the job may be what kills it."""
        spec = attempt.spec
        text = detail or _LOST
        if attempt.started:
            _end(attempt, lost_outcome(spec.job_id, detail=text))
            return
        if self._suspect(attempt):
            losses = self._losses.pop(spec.job_id, 0) + 1
            if losses >= MAX_UNHEARD_LOSSES:
                self._began(attempt)  # the attempt counts: the retry policy decides
                _end(attempt, lost_outcome(spec.job_id, detail=_lost_unheard(losses)))
                return
            self._losses[spec.job_id] = losses
            while len(self._losses) > _LOSSES_MEMORY:
                del self._losses[next(iter(self._losses))]
        _end(attempt, not_started(spec.job_id, StopReason.WORKER_LOST, text))

    @staticmethod
    def _suspect(attempt: _Attempt) -> bool:
        """Whether the attempt may have been running when its task's worker was lost: the
        first of its task's attempts the worker had not finished (they run in order)."""
        task = attempt.task
        if task is None:
            return True
        if not task.blamed:
            task.blamed = True
            task.suspect = next((a for a in task.attempts if not a.ended.done()), None)
        return task.suspect is attempt

    async def _settle(self, attempt: _Attempt, error: BaseException | None) -> None:
        """An attempt whose task did not hand back an outcome: canceled, its worker lost, or
        the scheduler. One that began failed (its retry policy decides); one that did not
        never ran (the job waits for its next turn)."""
        if attempt.ended.done():
            return
        spec = attempt.spec
        future = attempt.task.future if attempt.task is not None else None
        canceled = future is not None and future.status == "cancelled"
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
            if not attempt.started:
                _end(attempt, not_started(spec.job_id, StopReason.WORKER_LOST, detail))
            else:
                _end(attempt, lost_outcome(spec.job_id, detail=detail))
            return
        if error is None and future is not None:
            with contextlib.suppress(Exception):
                error = await future.exception()
        # KilledWorker (lost too often), or the worker's own fault
        self._task_lost(attempt, f"{_LOST}: {type(error).__name__}: {error}")

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued attempt's future, and tell every worker to stop it if it runs."""
        attempt = self._attempts.get(job_id)
        if attempt is None or self._client is None:
            return False
        self._stop(attempt, StopReason.CANCEL)
        return True

    def _stop(self, attempt: _Attempt, reason: StopReason) -> None:
        """End an attempt that has not begun at once (its task skips it, or is canceled when
        nothing of it is left); stop a running one on its worker."""
        client = self._client
        assert client is not None
        attempt.cancel = attempt.cancel or reason
        task = attempt.task
        if not attempt.started:
            text = "Canceled" if reason is StopReason.CANCEL else _STOPPING
            _end(attempt, not_started(attempt.spec.job_id, reason, text))
            if task is None:  # not handed over yet
                return
            if task.future is not None and not task.open():
                self._keep(client.cancel(task.future))
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


def _lost_unheard(losses: int) -> str:
    return (
        f"The Dask worker given this job was lost {losses} times before the job was heard to "
        "start (the job may be what kills its worker), so this attempt failed"
    )


def _shape(spec: JobSpec) -> tuple[float, float]:
    """The Dask worker resources a job takes: ``cpus`` and ``memory`` (bytes)."""
    return float(spec.cpus), float(spec.memory_mib * MIB)


def _end(attempt: _Attempt, outcome: JobOutcome) -> None:
    if not attempt.ended.done():
        attempt.ended.set_result(outcome)


def _ran(outcome: Any) -> bool:
    """A task that ended before we heard its start: did it run a job?"""
    return isinstance(outcome, JobOutcome) and outcome.started_at is not None
