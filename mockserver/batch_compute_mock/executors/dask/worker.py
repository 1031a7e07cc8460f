"""The worker side: ``BatchComputePlugin`` and the task functions the server sends.

A Dask worker with this plugin runs each job attempt on a ``LocalExecutor`` of its own (the
warm pool: a supervisor per slot, a warm job process per function), so a job on the cluster
gets exactly what it gets on one machine. The pool reads bundles and writes logs and results
through the blob store named by the task (the server's blob URL); the worker never sees the
database. Its slots are the worker's threads: Dask's ``cpus``/``memory`` resources decide how
many jobs it takes at once.

A task announces the attempt it begins on ``STARTED_TOPIC`` and its outcome on ``ENDED_TOPIC``
(events on the worker's batched stream to the scheduler, not round trips), which the server
hears.

Worker loss: when a worker dies the scheduler tells every subscriber of its ``all`` topic which
tasks were processing there, before it hands them to other workers. Each worker's plugin
listens, so a task it is given again after a loss answers ``RERUN`` at once instead of running
the job a second time; the server then fails the attempt (if it heard it start) or lets it run
again (if it never began), and its retry policy decides.

Takeover: workers outlive the server that schedules. The server that begins to schedule for a
blob store (another server took over, or this one restarted) names itself on
``SCHEDULER_TOPIC`` and calls ``take_over`` on every worker, which stops the attempts the
servers before it began and refuses their tasks from then on, and answers once those have
ended (or says which have not: then the new server does not schedule); only then does it run
anything. A worker that joins later reads the topic's history. Each name carries the server's
term (``kernel.terms``), and a worker follows the latest holder of the lease it has heard of: a
server that names itself late (it was stopped, or cut off, since it took the lease) supersedes
nobody, and its ``take_over`` fails with ``NewerScheduler``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

import attrs
from distributed import Client, WorkerPlugin, get_worker
from distributed.core import Status

from ...blobs import open_blobs
from ...builder.sandbox import SandboxMode, SandboxPolicy, probe
from ...kernel.terms import Term
from ..local.limits import machine_memory
from ..local.pool import LocalExecutor
from ..outcome import JobOutcome, StopReason, not_started
from ..spec import JobSpec
from .outcomes import lost_outcome

__all__ = [
    "ENDED_TOPIC",
    "PLUGIN_NAME",
    "RERUN",
    "SCHEDULER_TOPIC",
    "STARTED_TOPIC",
    "TASK_PREFIX",
    "BatchComputePlugin",
    "NewerScheduler",
    "cancel_job",
    "outcome_from_text",
    "outcome_text",
    "run_jobs",
    "take_over",
]

log = logging.getLogger(__name__)

PLUGIN_NAME = "batch-compute"
#: The event topic on which a worker announces each attempt it begins (``{"key", "worker"}``).
STARTED_TOPIC = "batch-compute-started"
#: The event topic on which a worker reports each attempt's outcome (``{"key", "outcome"}``,
#: the outcome as ``outcome_text``).
ENDED_TOPIC = "batch-compute-ended"
#: The event topic on which a server that begins to schedule names itself
#: (``{"blob_url", "scheduler", "term"}``, the term as ``[source, number]``): tasks another
#: server sent for that blob store are refused, unless this one's term precedes its.
SCHEDULER_TOPIC = "batch-compute-scheduler"
#: The text of the outcome a task of a server that no longer schedules answers with.
SUPERSEDED = "Not run: another server schedules the jobs now"
#: How long ``take_over`` waits for the attempts it stops to end.
TAKEOVER_WAIT_SECONDS = 30.0
#: How long a task waits for the plugin on a worker that has none (yet).
PLUGIN_WAIT_SECONDS = 30.0
#: The text of the outcome a task given again after its worker was lost answers with.
RERUN = "The Dask worker that had this attempt was lost"
_LOST_MEMORY = 100_000  # task keys of lost workers remembered
#: What the server registers for workers started without ours (a plain ``dask worker``).
FALLBACK_NAME = "batch-compute-fallback"
#: How the server's task keys begin (``batch-compute-<first job>-<count>-<nonce>``).
TASK_PREFIX = "batch-compute-"
_CANCELED_MEMORY = 10_000  # cancels remembered for jobs that reach this worker late
#: How long the plugin removed from a running worker keeps its pools for a successor.
HANDOVER_SECONDS = 5.0
#: The plugin removed from each running worker (by ``id``), until its successor takes over.
_handing_over: dict[int, BatchComputePlugin] = {}


class NewerScheduler(RuntimeError):
    """``take_over`` refused: a later holder of the lease schedules for the blob store."""


@attrs.frozen
class _Run:
    """An attempt running on this worker, and whose it is."""

    attempt: int
    blob_url: str
    scheduler: str  # the server that sent it (``SCHEDULER_TOPIC``)


class BatchComputePlugin(WorkerPlugin):
    """Makes a Dask worker ready for our jobs: its ``cpus``/``memory`` resources (from the
    machine unless given) and, per blob store, a warm ``LocalExecutor`` under ``data_dir``
    (default: the worker's local directory) whose jobs run in the ``sandbox`` (``auto``,
    ``bwrap`` or ``off``, as ``serve --sandbox``; ``job_network`` as ``--job-network``).

    Registered again (each server that starts registers it for plain workers), the new one
    takes over from the old what it knew of servers, cancels and lost workers, and, when their
    settings are the same, its pools with their running jobs; otherwise those pools close
    (their jobs end ``SHUTDOWN`` and run again) and the new settings apply. Removed for good,
    its pools close ``HANDOVER_SECONDS`` later."""

    def __init__(
        self,
        *,
        cpus: float | None = None,
        memory_bytes: int | None = None,
        data_dir: str | None = None,
        sandbox: str = "auto",
        job_network: bool = True,
        fallback: bool = False,
    ) -> None:
        self.cpus = cpus
        self.sandbox = sandbox
        self.job_network = job_network
        self.policy: SandboxPolicy | None = None
        self.memory_bytes = memory_bytes
        self.data_dir = data_dir
        self.fallback = fallback
        self.active = False
        self._executors: dict[str, LocalExecutor] = {}
        self._starting: dict[str, asyncio.Future[LocalExecutor]] = {}
        self._canceled: deque[str] = deque(maxlen=_CANCELED_MEMORY)
        self._running: dict[str, _Run] = {}  # by job id
        #: blob URL -> the term and name of the server that schedules for it
        self._schedulers: dict[str, tuple[Term, str]] = {}
        self._lost: dict[str, None] = {}  # keys of tasks that were on a lost worker (ordered)
        self._watch: Client | None = None
        self._listening_to: str | None = None  # the scheduler (its id) ``_watch`` listens to

    def __getstate__(self) -> dict[str, Any]:  # sent to workers before any state exists
        return {
            "cpus": self.cpus,
            "memory_bytes": self.memory_bytes,
            "data_dir": self.data_dir,
            "sandbox": self.sandbox,
            "job_network": self.job_network,
            "fallback": self.fallback,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    async def setup(self, worker: Any) -> None:
        if self.fallback and PLUGIN_NAME in worker.plugins:
            return  # a batch-compute worker: its own plugin serves
        previous = _handing_over.pop(id(worker), None)  # replaced by this one a moment ago?
        if previous is not None and previous.__getstate__() == self.__getstate__():
            self.__dict__.update(previous.__dict__)  # its pools run on, with their jobs
            return
        if previous is not None:  # other settings: they apply from now on
            await previous._close()
            self._canceled, self._schedulers = previous._canceled, previous._schedulers
            self._lost = previous._lost
        self.worker = worker
        status = probe(SandboxMode(self.sandbox), network=self.job_network)
        self.policy = status.policy
        log.info("batch-compute job sandbox: %s", status.detail)
        root = self.data_dir or os.path.join(worker.local_directory, "batch-compute")
        self.root = Path(root)
        self._watch = await Client(  # type: ignore[misc]
            worker.scheduler.address,
            asynchronous=True,
            set_as_default=False,
            name="batch-compute-watch",
            security=worker.security,
        )
        await self._listen()
        resources = worker.state.total_resources
        if "cpus" not in resources or "memory" not in resources:
            memory = self.memory_bytes or worker.memory_manager.memory_limit or machine_memory()
            await worker.set_resources(
                cpus=float(self.cpus or os.cpu_count() or 1), memory=float(memory)
            )
        self.active = True  # only now: a takeover must find the names the history holds

    async def _listen(self) -> None:
        """Hear lost workers and servers' names, and read the names given before (again
        after a scheduler restart, which this worker outlived: the scheduler kept the
        subscriptions in memory, and the client does not renew them)."""
        assert self._watch is not None
        self._listening_to = self._watch.scheduler_info().get("id")
        self._watch.subscribe_topic("all", self._heard)
        self._watch.subscribe_topic(SCHEDULER_TOPIC, self._heard_scheduler)
        for event in await self._watch.get_events(SCHEDULER_TOPIC):  # before we joined
            self._heard_scheduler(event)  # in any order with live ones: terms decide

    async def listen_anew(self) -> None:
        """``_listen`` again if the scheduler is another since (it restarted)."""
        if self._watch is not None and self._watch.scheduler_info().get("id") not in (
            None,
            self._listening_to,
        ):
            await self._listen()

    async def teardown(self, worker: Any) -> None:
        if not self.active:
            return
        if worker.status in (Status.running, Status.paused):
            # Removed from a worker that goes on: a server registering the plugin again
            # replaces it (``Worker.plugin_add``), and its successor takes the jobs over;
            # if none comes, the pools close after a moment.
            _handing_over[id(worker)] = self
            asyncio.get_running_loop().call_later(
                HANDOVER_SECONDS, lambda: asyncio.ensure_future(self._close_if_left(worker))
            )
            return
        await self._close()

    async def _close_if_left(self, worker: Any) -> None:
        if _handing_over.get(id(worker)) is self:
            del _handing_over[id(worker)]
            await self._close()

    async def _close(self) -> None:
        executors, self._executors = list(self._executors.values()), {}
        for executor in executors:
            await executor.shutdown(grace_s=1.0)
        if self._watch is not None:
            self._watch.unsubscribe_topic("all")  # the scheduler stops sending before we go
            self._watch.unsubscribe_topic(SCHEDULER_TOPIC)
            await self._watch.close()

    def _heard(self, event: tuple[float, Any]) -> None:
        """The scheduler's ``all`` topic: remember the tasks a lost worker had."""
        _, message = event
        if not isinstance(message, dict) or message.get("action") != "remove-worker":
            return
        for key in (*message.get("processing-tasks", ()), *message.get("lost-computed-tasks", ())):
            if isinstance(key, str) and key.startswith(TASK_PREFIX):
                self._lost[key] = None
        while len(self._lost) > _LOST_MEMORY:
            del self._lost[next(iter(self._lost))]

    def _heard_scheduler(self, event: tuple[float, Any]) -> None:
        """``SCHEDULER_TOPIC``: a server began to schedule for a blob store."""
        _, message = event
        if not isinstance(message, dict):
            return
        match message.get("term"):
            case [str(source), int(number)]:
                term = Term(source, number)
                self.supersede(str(message.get("blob_url")), str(message.get("scheduler")), term)

    def supersede(self, blob_url: str, scheduler: str, term: Term) -> list[str] | None:
        """``scheduler`` of ``term`` schedules for ``blob_url`` now: stop the attempts other
        servers began for it here (the job ids), and refuse their tasks from now on. None
        (and nothing done) if a later holder of the lease was named."""
        named = self._schedulers.get(blob_url)
        if named is not None and term.precedes(named[0]):
            return None
        self._schedulers[blob_url] = (term, scheduler)
        stale = [
            job_id
            for job_id, run in self._running.items()
            if run.blob_url == blob_url and run.scheduler != scheduler
        ]
        executor = self._executors.get(blob_url)
        for job_id in stale:
            if executor is not None:
                executor.cancel(job_id)
        return stale

    async def take_over(self, blob_url: str, scheduler: str, term: Term) -> list[str]:
        """``supersede`` until the stopped attempts have ended (up to
        ``TAKEOVER_WAIT_SECONDS``); the job ids of any still running. Raises
        ``NewerScheduler`` if a later holder of the lease was named."""
        deadline = time.monotonic() + TAKEOVER_WAIT_SECONDS
        while True:
            left = self.supersede(blob_url, scheduler, term)  # again: a cancel may be lost
            if left is None:
                newer = self._schedulers[blob_url][0]
                raise NewerScheduler(
                    f"a later holder of the scheduler lease (term {newer.number}, this "
                    f"server's is {term.number}) schedules for {blob_url}; if none runs any "
                    "more (the database was replaced), restart the Dask workers: they keep "
                    "the latest term they heard of"
                )
            if not left or time.monotonic() > deadline:
                return left
            await asyncio.sleep(0.05)

    def superseded(self, blob_url: str, scheduler: str) -> bool:
        """Whether another server than ``scheduler`` schedules for ``blob_url`` now."""
        named = self._schedulers.get(blob_url)
        return named is not None and named[1] != scheduler

    def was_on_a_lost_worker(self, key: str) -> bool:
        return key in self._lost

    def refused(self, job_id: str, attempt: int) -> bool:
        """Whether a cancel for this attempt reached this worker before the attempt did."""
        return _attempt_name(job_id, attempt) in self._canceled

    async def run(self, spec: JobSpec, blob_url: str, scheduler: str) -> JobOutcome:
        # Registered before the executor may still be starting (an await), so a cancel or a
        # takeover in that window finds the attempt; it is looked at again once it is ready.
        run = self._running[spec.job_id] = _Run(spec.attempt, blob_url, scheduler)
        try:
            executor = await self._executor(blob_url)
            if self.refused(spec.job_id, spec.attempt):
                return lost_outcome(spec.job_id, canceled=True)
            if self.superseded(blob_url, scheduler):
                return not_started(spec.job_id, StopReason.SHUTDOWN, SUPERSEDED)
            return await executor.run(spec)
        finally:
            if self._running.get(spec.job_id) is run:
                del self._running[spec.job_id]

    def cancel(self, job_id: str, attempt: int) -> bool:
        """Stop attempt ``attempt`` of the job if it runs here, or refuse it if it comes."""
        self._canceled.append(_attempt_name(job_id, attempt))
        run = self._running.get(job_id)
        if run is None or run.attempt != attempt:
            return False
        executor = self._executors.get(run.blob_url)
        return executor is not None and executor.cancel(job_id)

    async def _executor(self, blob_url: str) -> LocalExecutor:
        if blob_url in self._executors:
            return self._executors[blob_url]
        if blob_url not in self._starting:
            self._starting[blob_url] = asyncio.ensure_future(self._start_executor(blob_url))
        return await asyncio.shield(self._starting[blob_url])

    async def _start_executor(self, blob_url: str) -> LocalExecutor:
        name = hashlib.sha256(blob_url.encode()).hexdigest()[:12]
        executor = LocalExecutor(
            slots=max(1, int(self.worker.state.nthreads)),
            blobs=open_blobs(blob_url),
            scratch_dir=self.root / "scratch" / name,
            cache_dir=self.root / "cache" / name,
            drop_env=("BATCH_COMPUTE_JWT_SECRET", "DASK_*"),
            environments_dir=self.root / "envs",
            sandbox=self.policy,
        )
        await executor.start()
        self._executors[blob_url] = executor
        return executor


def _plugin(worker: Any) -> BatchComputePlugin | None:
    for name in (PLUGIN_NAME, FALLBACK_NAME):
        plugin = worker.plugins.get(name)
        if isinstance(plugin, BatchComputePlugin) and plugin.active:
            return plugin
    return None


async def _plugin_of(worker: Any) -> BatchComputePlugin:
    """The worker's plugin. A plain worker that joined a restarted Dask scheduler gets it from
    the server about a second later (``ROOM_CHECK_SECONDS``), and tasks may come first: they
    wait for it (up to ``PLUGIN_WAIT_SECONDS``) rather than fail as if the worker were lost."""
    deadline = time.monotonic() + PLUGIN_WAIT_SECONDS
    while (plugin := _plugin(worker)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError("this Dask worker has no batch-compute plugin")
        await asyncio.sleep(0.1)
    return plugin


async def run_jobs(
    specs: list[dict[str, Any]], blob_url: str, keys: list[str], task_key: str, scheduler: str
) -> list[JobOutcome]:
    """The task: job attempts of one function, one after another in one worker-resource
    slot (one Dask task for several jobs: the scheduler's per-task work, not the jobs, bounds
    short jobs). A coroutine, so Dask runs it on the worker's event loop (no thread).
    ``keys`` name the attempts in the events; ``task_key`` is the task's own key;
    ``scheduler`` names the server that sent it (``SCHEDULER_TOPIC``)."""
    worker = get_worker()
    plugin = await _plugin_of(worker)
    await plugin.listen_anew()
    rerun = plugin.was_on_a_lost_worker(task_key)
    outcomes = []
    for spec, key in zip(specs, keys, strict=True):
        if rerun:
            outcome = not_started(spec["job_id"], StopReason.WORKER_LOST, RERUN)
        elif plugin.refused(spec["job_id"], spec["attempt"]):
            outcome = not_started(spec["job_id"], StopReason.CANCEL, "Canceled")
        elif plugin.superseded(blob_url, scheduler):
            outcome = not_started(spec["job_id"], StopReason.SHUTDOWN, SUPERSEDED)
        else:
            worker.log_event(STARTED_TOPIC, {"key": key, "worker": worker.address})
            outcome = await plugin.run(JobSpec(**spec), blob_url, scheduler)
        # Reported on the batched stream (the server need not fetch the task's result), and
        # returned too, for a server that did not hear it.
        worker.log_event(ENDED_TOPIC, {"key": key, "outcome": outcome_text(outcome)})
        outcomes.append(outcome)
    return outcomes


def outcome_text(outcome: JobOutcome) -> str:
    """``outcome`` as JSON text, for ``ENDED_TOPIC``: Dask walks nested data in every message
    of its batched stream (to check and size it) and on the scheduler again, where one string
    costs it nothing. Its fields are plain data already, but for the enums."""
    message = attrs.asdict(outcome, recurse=False)
    message["status"] = outcome.status.value
    if outcome.stop_reason is not None:
        message["stop_reason"] = outcome.stop_reason.value
    return json.dumps(message)


def outcome_from_text(text: str) -> JobOutcome:
    """The outcome ``outcome_text`` wrote."""
    return JobOutcome(**json.loads(text))


def cancel_job(job_id: str, attempt: int, dask_worker: Any) -> bool:
    """Run on every worker (``Client.run``): stop the attempt if it runs or arrives here."""
    plugin = _plugin(dask_worker)
    return plugin.cancel(job_id, attempt) if plugin is not None else False


async def take_over(blob_url: str, scheduler: str, term: Term, dask_worker: Any) -> list[str]:
    """Run on every worker (``Client.run``) by a server that begins to schedule: stop the
    attempts other servers began here for ``blob_url``; the job ids of any not yet ended.
    Raises ``NewerScheduler`` if a later holder of the lease took over (``kernel.terms``)."""
    plugin = _plugin(dask_worker)
    if plugin is None:
        return []
    await plugin.listen_anew()
    return await plugin.take_over(blob_url, scheduler, term)


def _attempt_name(job_id: str, attempt: int) -> str:
    return f"{job_id}/{attempt}"
