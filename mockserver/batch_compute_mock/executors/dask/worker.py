"""The worker side: ``BatchComputePlugin`` and the task functions the server sends.

A Dask worker with this plugin runs each job attempt on a ``LocalExecutor`` of its own (the
warm pool: a supervisor per slot, a warm job process per function), so a job on the cluster
gets exactly what it gets on one machine. The pool reads bundles and writes logs and results
through the blob store named by the task (the server's blob URL); the worker never sees the
database. Its slots are the worker's threads: Dask's ``cpus``/``memory`` resources decide how
many jobs it takes at once.

Worker loss: the task marks its attempt started in a Dask ``Event`` before running it. When a
worker dies mid-job the scheduler runs the task again elsewhere; that run sees the mark and
answers "worker lost" at once, so the attempt fails and the server's retry policy decides.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections import deque
from pathlib import Path
from typing import Any

from distributed import Event, WorkerPlugin, get_client, get_worker
from distributed.utils import sync

from ...blobs import open_blobs
from ...builder.sandbox import SandboxMode, SandboxPolicy, probe
from ..local.pool import LocalExecutor
from ..outcome import JobOutcome
from ..spec import JobSpec
from .outcomes import lost_outcome

__all__ = ["PLUGIN_NAME", "BatchComputePlugin", "cancel_job", "run_job"]

log = logging.getLogger(__name__)

PLUGIN_NAME = "batch-compute"
#: What the server registers for workers started without ours (a plain ``dask worker``).
FALLBACK_NAME = "batch-compute-fallback"
_CANCELED_MEMORY = 10_000  # cancels remembered for jobs that reach this worker late


class BatchComputePlugin(WorkerPlugin):
    """Makes a Dask worker ready for our jobs: its ``cpus``/``memory`` resources (from the
    machine unless given) and, per blob store, a warm ``LocalExecutor`` under ``data_dir``
    (default: the worker's local directory) whose jobs run in the ``sandbox`` (``auto``,
    ``bwrap`` or ``off``, as ``serve --sandbox``; ``job_network`` as ``--job-network``)."""

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
        self.active = True
        self.worker = worker
        status = probe(SandboxMode(self.sandbox), network=self.job_network)
        self.policy = status.policy
        log.info("batch-compute job sandbox: %s", status.detail)
        root = self.data_dir or os.path.join(worker.local_directory, "batch-compute")
        self.root = Path(root)
        resources = worker.state.total_resources
        if "cpus" not in resources or "memory" not in resources:
            memory = self.memory_bytes or worker.memory_manager.memory_limit or _machine_memory()
            await worker.set_resources(
                cpus=float(self.cpus or os.cpu_count() or 1), memory=float(memory)
            )

    async def teardown(self, worker: Any) -> None:
        executors, self._executors = list(self._executors.values()), {}
        for executor in executors:
            await executor.shutdown(grace_s=1.0)

    async def run(self, spec: JobSpec, blob_url: str) -> JobOutcome:
        if spec.job_id in self._canceled:
            return lost_outcome(spec.job_id, canceled=True)
        executor = await self._executor(blob_url)
        return await executor.run(spec)

    def cancel(self, job_id: str) -> bool:
        self._canceled.append(job_id)
        return any(executor.cancel(job_id) for executor in self._executors.values())

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


def _machine_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _plugin(worker: Any) -> BatchComputePlugin | None:
    for name in (PLUGIN_NAME, FALLBACK_NAME):
        plugin = worker.plugins.get(name)
        if isinstance(plugin, BatchComputePlugin) and plugin.active:
            return plugin
    return None


def run_job(spec: dict[str, Any], blob_url: str, started: str) -> JobOutcome:
    """The task: one job attempt on this worker (in a worker thread, on the worker's loop)."""
    worker = get_worker()
    plugin = _plugin(worker)
    if plugin is None:
        raise RuntimeError("this Dask worker has no batch-compute plugin")
    mark = Event(started, client=get_client())
    if mark.is_set():  # this attempt began on a worker that was lost
        return lost_outcome(spec["job_id"])
    mark.set()
    return sync(worker.loop, plugin.run, JobSpec(**spec), blob_url)


def cancel_job(job_id: str, dask_worker: Any) -> bool:
    """Run on every worker (``Client.run``): cancel the job if it runs or arrives here."""
    plugin = _plugin(dask_worker)
    return plugin.cancel(job_id) if plugin is not None else False
