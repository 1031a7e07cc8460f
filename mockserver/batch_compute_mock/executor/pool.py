"""The parent side: ``WorkerPool`` runs ``JobSpec``s on warm worker processes (asyncio).

    pool = WorkerPool(max_workers=4)
    outcome = await pool.run(spec)      # JobOutcome; never raises for anything the job does
    pool.cancel(job_id)                 # True if the job was queued or running here
    await pool.shutdown(grace_s=5.0)    # kills running jobs; they end "canceled"
    pool.stats()                        # PoolStats(workers, busy, idle, queued, spawned)

Up to ``max_workers`` worker processes are started on demand and kept warm; ``run`` waits
(FIFO) for a free one. A worker is a supervisor process (``worker``) plus the warm executor
process it forks for one function (``child``); ``run`` prefers an idle worker whose executor is
warm for the job's (function id, bundle dir, memory), then any idle worker (which re-forks its
executor: a few ms), then a new worker. Each worker is a ``python -P`` child in its own session,
with the server environment minus secrets (``env``) and a socketpair control channel carrying
one length-prefixed JSON frame each way per job (``protocol``). The parent does no per-job
thread, process or pipe work: one write, one read, one timer (about 0.2 ms of parent CPU per
job, most of it the kernel waking the worker).

Timeouts and cancels are carried out by the worker, which tells them apart from crashes. The
pool keeps a backstop timer (``timeout + term_grace_s + backstop_s``): if a worker has not
answered by then it is killed and the job ends ``timeout``. A worker that dies mid-job ends the
job as ``failure`` (``StopReason.WORKER_LOST``) and is replaced on demand. Cancelling the task
awaiting ``run`` cancels the job.

The executor never touches the database: the scheduler records the returned outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from ..timestamps import format_timestamp, parse_timestamp
from .env import server_environment
from .limits import DEFAULT_FSIZE_CAP_BYTES, DEFAULT_MEMORY_HEADROOM_MIB, DEFAULT_NPROC_CAP
from .logs import DEFAULT_LOG_CAP_BYTES
from .outcome import JobOutcome, OutcomeStatus, StopReason
from .protocol import FrameDecoder, ProtocolError, encode_frame
from .spec import JobSpec

__all__ = ["PoolStats", "WorkerPool"]

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = (
    f"import sys; sys.path.append({_PACKAGE_ROOT!r}); "
    "from batch_compute_mock.executor.worker import main; main()"
)


@attrs.frozen
class PoolStats:
    workers: int  # worker processes alive
    busy: int  # jobs running
    idle: int  # workers waiting for a job
    queued: int  # run() calls waiting for a worker
    spawned: int  # worker processes started since the pool was created


class _Channel(asyncio.Protocol):
    """Socket events of one worker, forwarded to its handle."""

    def __init__(self, handle: _WorkerHandle) -> None:
        self._handle = handle
        self._decoder = FrameDecoder()

    def data_received(self, data: bytes) -> None:
        try:
            messages = self._decoder.feed(data)
        except ProtocolError:
            self._handle.kill()
            return
        for message in messages:
            self._handle.on_message(message)

    def connection_lost(self, exc: Exception | None) -> None:
        self._handle.on_lost()


class _WorkerHandle:
    """The parent's view of one worker process."""

    __slots__ = (
        "dead",
        "dispatched_at",
        "future",
        "job_id",
        "key",
        "lost_reason",
        "pid",
        "pool",
        "process",
        "timeout_s",
        "transport",
    )

    def __init__(self, pool: WorkerPool, process: asyncio.subprocess.Process) -> None:
        self.pool = pool
        self.process = process
        self.pid = process.pid
        self.transport: asyncio.Transport | None = None
        self.job_id: str | None = None
        self.key: tuple[str, str, int] | None = None  # the function its executor is warm for
        self.future: asyncio.Future[dict[str, Any]] | None = None
        self.dispatched_at = 0.0
        self.timeout_s = 0.0
        self.lost_reason: StopReason | None = None
        self.dead = False

    def send(self, message: dict[str, Any]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_frame(message))

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)
        if self.transport is not None:
            self.transport.close()

    def on_message(self, message: dict[str, Any]) -> None:
        if message.get("op") != "done":
            return
        future, job_id = self.future, self.job_id
        self.future = self.job_id = None
        self.pool._finished(self, job_id, future, message)

    def on_lost(self) -> None:
        if self.dead:
            return
        self.dead = True
        future, job_id = self.future, self.job_id
        self.future = self.job_id = None
        self.pool._lost(self, job_id, future)


class WorkerPool:
    """Runs jobs on up to ``max_workers`` warm worker processes; see the module docstring.

    ``base_env`` (default ``os.environ``) minus ``env.DEFAULT_DROP_PATTERNS`` and ``drop_env``
    is what every job starts from. ``log_cap_bytes`` caps each job log; ``fsize_cap_bytes``,
    ``nproc_cap`` and ``memory_headroom_mib`` are explained in ``limits``. ``term_grace_s`` > 0
    sends SIGTERM that long before SIGKILL on timeout/cancel/shutdown. ``watchdog_interval_s``
    is how often a running job's process group is counted. ``preload`` names modules every
    worker imports once at start (e.g. heavy libraries most functions use).
    """

    def __init__(
        self,
        *,
        max_workers: int,
        base_env: Mapping[str, str] | None = None,
        drop_env: Iterable[str] = (),
        log_cap_bytes: int = DEFAULT_LOG_CAP_BYTES,
        fsize_cap_bytes: int = DEFAULT_FSIZE_CAP_BYTES,
        nproc_cap: int = DEFAULT_NPROC_CAP,
        memory_headroom_mib: int = DEFAULT_MEMORY_HEADROOM_MIB,
        term_grace_s: float = 0.0,
        watchdog_interval_s: float = 0.1,
        backstop_s: float = 10.0,
        python: str | None = None,
        preload: Sequence[str] = (),
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self._env = server_environment(os.environ if base_env is None else base_env, drop_env)
        self._python = python or sys.executable
        self._term_grace = float(term_grace_s)
        self._backstop_s = float(backstop_s)
        self._config = {
            "log_cap_bytes": int(log_cap_bytes),
            "fsize_cap_bytes": int(fsize_cap_bytes),
            "nproc_cap": int(nproc_cap),
            "memory_headroom_mib": int(memory_headroom_mib),
            "term_grace_s": self._term_grace,
            "watchdog_interval_s": float(watchdog_interval_s),
            "preload": list(preload),
        }
        self._workers: set[_WorkerHandle] = set()
        self._idle: list[_WorkerHandle] = []
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self._queued: dict[str, asyncio.Future[Any]] = {}
        self._running: dict[str, _WorkerHandle] = {}
        self._spawning = 0
        self._spawned = 0
        self._closed = False

    async def __aenter__(self) -> WorkerPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    # Public API ---------------------------------------------------------------------------
    async def run(self, spec: JobSpec) -> JobOutcome:
        """Run one job attempt to its end and say how it ended.

        Raises only ``TypeError`` for arguments that are not JSON; whatever the job does ends
        in the returned outcome.
        """
        frame = encode_frame({"op": "run", "job": spec.to_message()})
        if self._closed:
            return _not_started(spec.job_id, StopReason.SHUTDOWN)
        while True:
            try:
                worker = await self._acquire(spec)
            except OSError as exc:
                return _not_started(spec.job_id, StopReason.WORKER_LOST, f"{exc}")
            if isinstance(worker, StopReason):
                return _not_started(spec.job_id, worker)
            if not worker.dead:  # it may have died between its release and now
                break
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        worker.job_id, worker.future = spec.job_id, future
        worker.key = _key(spec)
        worker.dispatched_at, worker.timeout_s = time.time(), float(spec.timeout_s)
        self._running[spec.job_id] = worker
        worker.transport.write(frame)  # type: ignore[union-attr]
        timer = loop.call_later(
            spec.timeout_s + self._term_grace + self._backstop_s,
            self._backstop,
            worker,
            spec.job_id,
        )
        try:
            message = await future
        except asyncio.CancelledError:
            self.cancel(spec.job_id)
            raise
        finally:
            timer.cancel()
        message.pop("op", None)
        return JobOutcome(**message)

    def cancel(self, job_id: str) -> bool:
        """Ask for a queued or running job to end ``canceled``; ``False`` if it is not here.

        A running job that finishes before the kill lands keeps its real outcome.
        """
        waiter = self._queued.pop(job_id, None)
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(StopReason.CANCEL)
            return True
        worker = self._running.get(job_id)
        if worker is None:
            return False
        worker.send({"op": "cancel", "job_id": job_id})
        return True

    async def shutdown(self, grace_s: float = 5.0) -> None:
        """Stop accepting jobs, kill running ones (they end ``canceled``), stop all workers."""
        self._closed = True
        for waiter in self._queued.values():
            if not waiter.done():
                waiter.set_result(StopReason.SHUTDOWN)
        self._queued.clear()
        self._waiters.clear()
        workers = list(self._workers)
        for worker in workers:
            worker.send({"op": "shutdown"} if worker.future else {"op": "exit"})
        waits = [asyncio.ensure_future(w.process.wait()) for w in workers]
        if waits:
            _, pending = await asyncio.wait(waits, timeout=grace_s + self._term_grace)
            for worker in workers:
                if worker.process.returncode is None:
                    worker.kill()
            if pending:
                await asyncio.wait(pending, timeout=5.0)
        for worker in workers:
            if worker.transport is not None:
                worker.transport.close()
            worker.on_lost()
        self._idle.clear()

    def stats(self) -> PoolStats:
        return PoolStats(
            workers=len(self._workers),
            busy=len(self._running),
            idle=len(self._idle),
            queued=len(self._queued),
            spawned=self._spawned,
        )

    # Worker bookkeeping -------------------------------------------------------------------
    async def _acquire(self, spec: JobSpec) -> _WorkerHandle | StopReason:
        """An idle worker warm for this function, else any idle one (it re-forks its executor,
        a few ms), else a new worker when below ``max_workers``, else the next one released."""
        if self._idle:
            key = _key(spec)
            for index in range(len(self._idle) - 1, -1, -1):
                if self._idle[index].key == key:
                    return self._idle.pop(index)
            return self._idle.pop(0)
        job_id = spec.job_id
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._queued[job_id] = waiter
        self._refill()
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                granted = waiter.result()
                if isinstance(granted, _WorkerHandle):
                    self._release(granted)
            raise
        finally:
            if self._queued.get(job_id) is waiter:
                del self._queued[job_id]

    def _refill(self) -> None:
        """Start workers for waiters while there is room."""
        while (
            len(self._waiters) > self._spawning
            and len(self._workers) + self._spawning < self.max_workers
        ):
            self._spawning += 1
            asyncio.get_running_loop().create_task(self._spawn_for_waiter())

    async def _spawn_for_waiter(self) -> None:
        try:
            worker = await self._spawn()
        except Exception as exc:
            self._spawning -= 1
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_exception(OSError(f"Could not start a worker process: {exc}"))
                    break
            return
        self._spawning -= 1
        self._release(worker)

    async def _spawn(self) -> _WorkerHandle:
        if not sys.platform.startswith("linux"):
            raise OSError("running jobs needs Linux (pidfd, prctl, /proc); use a Linux container")
        loop = asyncio.get_running_loop()
        parent, child = socket.socketpair()
        try:
            config = json.dumps({**self._config, "fd": child.fileno()})
            process = await asyncio.create_subprocess_exec(
                self._python,
                "-P",
                "-c",
                _BOOT,
                config,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                env=self._env,
                pass_fds=(child.fileno(),),
                start_new_session=True,
                cwd="/",
            )
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        worker = _WorkerHandle(self, process)
        try:
            transport, _ = await loop.create_unix_connection(lambda: _Channel(worker), sock=parent)
        except BaseException:
            worker.kill()
            parent.close()
            raise
        worker.transport = transport  # type: ignore[assignment]
        self._workers.add(worker)
        self._spawned += 1
        if self._closed:
            worker.send({"op": "exit"})
        return worker

    def _release(self, worker: _WorkerHandle) -> None:
        if worker.dead or self._closed:
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    def _finished(
        self,
        worker: _WorkerHandle,
        job_id: str | None,
        future: asyncio.Future[dict[str, Any]] | None,
        message: dict[str, Any],
    ) -> None:
        if job_id is not None:
            self._running.pop(job_id, None)
        if future is not None and not future.done():
            future.set_result(message)
        self._release(worker)

    def _lost(
        self,
        worker: _WorkerHandle,
        job_id: str | None,
        future: asyncio.Future[dict[str, Any]] | None,
    ) -> None:
        self._workers.discard(worker)
        if worker in self._idle:
            self._idle.remove(worker)
        if job_id is not None:
            self._running.pop(job_id, None)
            reason = worker.lost_reason or (
                StopReason.SHUTDOWN if self._closed else StopReason.WORKER_LOST
            )
            if future is not None and not future.done():
                future.set_result(_lost_message(job_id, reason, worker))
        if not self._closed:
            self._refill()

    def _backstop(self, worker: _WorkerHandle, job_id: str) -> None:
        """The worker missed its job's deadline by ``backstop_s``: kill the worker."""
        if worker.job_id == job_id and not worker.dead:
            worker.lost_reason = StopReason.TIMEOUT
            worker.kill()


_REASONS = {
    StopReason.CANCEL: (OutcomeStatus.CANCELED, "Canceled"),
    StopReason.SHUTDOWN: (OutcomeStatus.CANCELED, "Canceled: the server is shutting down"),
    StopReason.WORKER_LOST: (
        OutcomeStatus.FAILURE,
        "The worker process running the job died unexpectedly",
    ),
    StopReason.TIMEOUT: (OutcomeStatus.TIMEOUT, "Timed out"),
}


def _key(spec: JobSpec) -> tuple[str, str, int]:
    return (spec.function_id, str(spec.bundle_dir), int(spec.memory_mib))


def _stored(epoch: float) -> str:
    return format_timestamp(parse_timestamp(epoch))


def _not_started(job_id: str, reason: StopReason, detail: str = "") -> JobOutcome:
    status, text = _REASONS[reason]
    if reason is StopReason.WORKER_LOST:
        text = detail or "Could not start a worker process"
    now = time.time()
    return JobOutcome(
        job_id=job_id,
        status=status,
        exit_code=None,
        error_reason=text,
        started_at=None,
        ended_at=_stored(now),
        runtime=0,
        statistics=None,
        end_time=now,
        stop_reason=reason,
    )


def _lost_message(job_id: str, reason: StopReason, worker: _WorkerHandle) -> dict[str, Any]:
    status, text = _REASONS[reason]
    if reason is StopReason.TIMEOUT:
        text = f"Timed out after {worker.timeout_s:g} s (the worker stopped responding)"
    now = time.time()
    return {
        "job_id": job_id,
        "status": status,
        "exit_code": None,
        "error_reason": text,
        "started_at": _stored(worker.dispatched_at),
        "ended_at": _stored(now),
        "runtime": round(now - worker.dispatched_at),
        "statistics": None,
        "start_time": worker.dispatched_at,
        "end_time": now,
        "supervisor_pid": worker.pid,
        "stop_reason": reason,
    }
