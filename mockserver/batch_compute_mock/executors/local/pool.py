"""The local executor: ``LocalExecutor`` runs ``JobSpec``s on warm worker processes (asyncio).

    executor = LocalExecutor(slots=4, blobs=blobs, scratch_dir=..., cache_dir=...)
    outcome = await executor.run(spec, on_start)   # JobOutcome; never raises for what the job does
    executor.cancel(job_id)                        # True if the job was queued or running here
    await executor.shutdown(grace_s=5.0)           # kills running jobs; they end "canceled"
    executor.stats()                               # PoolStats(workers, busy, idle, queued, spawned)

Up to ``slots`` worker processes are started on demand and kept warm; ``run`` waits (FIFO) for
a free one. A worker is a supervisor process (``supervisor``) plus the warm job process it
starts for one function (``batch_compute_runtime``); ``run`` prefers an idle worker whose job
process is warm for the job's (function id, memory, environment), then any idle worker (which
starts a new job process), then a new worker. Each worker is a ``python -P`` child in its own
session, with the server environment minus secrets (``env``; job processes get an allow-list
instead, and run in the ``sandbox`` when one is given), a socketpair control channel carrying
one length-prefixed JSON frame each way per job, and a log pipe whose read end this process
also keeps: if a worker dies mid-job, what the job printed last is still read and appended to
its log. The parent does no per-job thread, process or pipe work: one write, one read, one timer.

Timeouts and cancels are carried out by the worker, which tells them apart from crashes. The
pool keeps a backstop timer (``timeout + term_grace_s + backstop_s``): if a worker has not
answered by then it is killed and the job ends ``timeout``. A worker that dies mid-job ends the
job as ``failure`` (``StopReason.WORKER_LOST``) and is replaced on demand. Cancelling the task
awaiting ``run`` cancels the job.

With a ``heartbeat`` (a server sharing its database with others, ``heartbeat``), no job is
handed to a worker while the heartbeat is stale, and every worker kills its running job and
exits when it goes stale: the lease may be another server's by then.

The executor never touches the database: the scheduler records the returned outcome. Results
and logs go to the blob store under the spec's keys (the workers write them).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

import batch_compute_runtime
from batch_compute_runtime.frames import FrameDecoder, ProtocolError, encode_frame

from ...blobs import BlobStore
from ...builder.environments import EnvironmentSpec
from ...builder.sandbox import SandboxPolicy
from ...kernel.terms import Term
from ...kernel.timestamps import stored_from_epoch
from ..outcome import STOPPED_STATUS, JobOutcome, StopReason, not_started
from ..spec import JobSpec
from .env import job_base_environment, server_environment
from .heartbeat import Heartbeat
from .limits import DEFAULT_FSIZE_CAP_BYTES, DEFAULT_MEMORY_HEADROOM_MIB, DEFAULT_NPROC_CAP
from .logs import DEFAULT_LOG_CAP_BYTES, LogWriter

__all__ = ["LocalExecutor", "PoolStats"]

_ROOTS = [
    str(Path(__file__).resolve().parents[3]),
    str(Path(batch_compute_runtime.__file__).parents[1]),
]
#: How long a job waits before it is handed back unstarted while the heartbeat is stale.
_STALE_PAUSE_SECONDS = 0.2
_BOOT = (
    f"import sys; sys.path.extend({_ROOTS!r}); "
    "from batch_compute_mock.executors.local.supervisor import main; main()"
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
        "log_fd",
        "log_key",
        "lost_reason",
        "pid",
        "pool",
        "process",
        "timeout_s",
        "transport",
    )

    def __init__(self, pool: LocalExecutor, process: asyncio.subprocess.Process, log_fd: int):
        self.pool = pool
        self.process = process
        self.pid = process.pid
        self.log_fd = log_fd  # our read end of the worker's log pipe
        self.transport: asyncio.Transport | None = None
        self.job_id: str | None = None
        self.log_key: str | None = None  # the running job's log
        self.key: tuple[str, int, str | None] | None = None  # what its job process is warm for
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


class LocalExecutor:
    """Runs jobs on up to ``slots`` warm worker processes; see the module docstring.

    ``blobs`` holds the bundles, and receives the logs and results; ``scratch_dir`` holds the
    jobs' working directories and ``cache_dir`` the unpacked bundles (both on this machine).
    ``base_env`` (default ``os.environ``) minus ``env.DEFAULT_DROP_PATTERNS`` (but with what
    ``blobs.environment_patterns`` match) and ``drop_env``
    is the workers' environment; a job process starts from ``env.job_base_environment``
    (``PATH``, ``LANG`` and the ``job_env`` names of ``base_env``). ``sandbox``, when given,
    wraps every job process (see ``sandbox``). ``log_cap_bytes`` caps each job log;
    ``fsize_cap_bytes``, ``nproc_cap`` and ``memory_headroom_mib`` are explained in
    ``limits``. ``term_grace_s`` > 0 sends SIGTERM that long before SIGKILL on
    timeout/cancel/shutdown. ``watchdog_interval_s``
    is how often a running job's process group is counted. ``python`` is the interpreter job
    processes run on (default: the server's); it runs isolated (``-I``), so ``python_path``
    lists the directories jobs import from besides its own site-packages (default: the
    ``PYTHONPATH`` of ``base_env``, so jobs see what the server sees). ``preload`` names
    modules every job process imports once at start (e.g. heavy libraries most functions use).
    ``environments_dir`` holds the functions' environments: a job whose spec names one runs
    on that environment's interpreter instead (with ``python_path`` unused). ``heartbeat``:
    see the module docstring.
    """

    def __init__(
        self,
        *,
        slots: int,
        blobs: BlobStore,
        scratch_dir: Path,
        cache_dir: Path,
        base_env: Mapping[str, str] | None = None,
        drop_env: Iterable[str] = (),
        job_env: Iterable[str] = (),
        sandbox: SandboxPolicy | None = None,
        log_cap_bytes: int = DEFAULT_LOG_CAP_BYTES,
        fsize_cap_bytes: int = DEFAULT_FSIZE_CAP_BYTES,
        nproc_cap: int = DEFAULT_NPROC_CAP,
        memory_headroom_mib: int = DEFAULT_MEMORY_HEADROOM_MIB,
        term_grace_s: float = 0.0,
        watchdog_interval_s: float = 0.1,
        backstop_s: float = 10.0,
        python: str | None = None,
        python_path: Sequence[str] | None = None,
        preload: Sequence[str] = (),
        environments_dir: Path | None = None,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots = slots
        self._blobs = blobs
        self._scratch = Path(scratch_dir)
        base = os.environ if base_env is None else base_env
        self._env = server_environment(base, drop_env, blobs.environment_patterns)
        if python_path is None:
            python_path = [p for p in base.get("PYTHONPATH", "").split(os.pathsep) if p]
        self._term_grace = float(term_grace_s)
        self._backstop_s = float(backstop_s)
        self._log_cap = int(log_cap_bytes)
        self._config = {
            "python": python or sys.executable,
            "python_path": list(python_path),
            "blob_url": blobs.url,
            "scratch_dir": str(self._scratch),
            "cache_dir": str(cache_dir),
            "log_cap_bytes": int(log_cap_bytes),
            "fsize_cap_bytes": int(fsize_cap_bytes),
            "nproc_cap": int(nproc_cap),
            "memory_headroom_mib": int(memory_headroom_mib),
            "term_grace_s": self._term_grace,
            "watchdog_interval_s": float(watchdog_interval_s),
            "preload": list(preload),
            "slots": slots,
            "job_env": job_base_environment(base, job_env),
            "sandbox": sandbox.to_json() if sandbox is not None else None,
            "envs_dir": str(environments_dir) if environments_dir is not None else None,
            "heartbeat": None
            if heartbeat is None
            else {"fd": heartbeat.fd, "limit_s": heartbeat.limit_s},
        }
        self._heartbeat = heartbeat
        self._workers: set[_WorkerHandle] = set()
        self._idle: list[_WorkerHandle] = []
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self._queued: dict[str, asyncio.Future[Any]] = {}
        self._running: dict[str, _WorkerHandle] = {}
        self._spawning = 0
        self._spawned = 0
        self._closed = False

    async def __aenter__(self) -> LocalExecutor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    # Public API ---------------------------------------------------------------------------
    async def start(self, term: Term | None = None) -> None:
        """Workers start on demand; the scratch dir is emptied of what a crash left. (No
        ``term``: the workers are this server's children and die with it.)"""
        shutil.rmtree(self._scratch, ignore_errors=True)
        self._scratch.mkdir(parents=True, exist_ok=True)

    async def run(self, spec: JobSpec, on_start: Callable[[], None] = lambda: None) -> JobOutcome:
        """Run one job attempt to its end and say how it ended; ``on_start`` is called just
        before the job is handed to a worker (not at all if it never is).

        Raises only ``TypeError`` for arguments that are not JSON; whatever the job does ends
        in the returned outcome.
        """
        frame = encode_frame({"op": "run", "job": attrs.asdict(spec, recurse=False)})
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
        if self._heartbeat is not None and not self._heartbeat.fresh():
            # The lease may be another server's: start nothing (the lease thread decides).
            self._release(worker)
            await asyncio.sleep(_STALE_PAUSE_SECONDS)  # no busy loop of lanes meanwhile
            return _not_started(spec.job_id, StopReason.SHUTDOWN)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        worker.job_id, worker.future, worker.log_key = spec.job_id, future, spec.log_key
        worker.key = _key(spec)
        worker.dispatched_at, worker.timeout_s = time.time(), float(spec.timeout_s)
        self._running[spec.job_id] = worker
        on_start()
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
        a few ms), else a new worker when below ``slots``, else the next one released."""
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
            len(self._waiters) > self._spawning and len(self._workers) + self._spawning < self.slots
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
        log_r, log_w = os.pipe()
        try:
            config = json.dumps({**self._config, "fd": child.fileno(), "log_fds": [log_r, log_w]})
            shared = [] if self._heartbeat is None else [self._heartbeat.fd]
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-P",
                "-c",
                _BOOT,
                config,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                env=self._env,
                pass_fds=(child.fileno(), log_r, log_w, *shared),
                start_new_session=True,
                cwd="/",
            )
        except BaseException:
            parent.close()
            os.close(log_r)
            raise
        finally:
            child.close()
            os.close(log_w)
        os.set_blocking(log_r, False)
        worker = _WorkerHandle(self, process, log_r)
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
        self._rescue_log(worker, job_id)
        if job_id is not None:
            self._running.pop(job_id, None)
        shutil.rmtree(self._scratch / f"w{worker.pid}", ignore_errors=True)  # its scratch dirs
        if job_id is not None:
            reason = worker.lost_reason or (
                StopReason.SHUTDOWN if self._closed else StopReason.WORKER_LOST
            )
            if future is not None and not future.done():
                future.set_result(_lost_message(job_id, reason, worker))
        if not self._closed:
            self._refill()

    def _rescue_log(self, worker: _WorkerHandle, job_id: str | None) -> None:
        """Append what a lost worker's job wrote last (still in the log pipe) to its log."""
        fd, worker.log_fd = worker.log_fd, -1
        if fd < 0:
            return
        try:
            if job_id is None or worker.log_key is None:
                return
            chunks = []
            with contextlib.suppress(OSError):  # EAGAIN: nothing more is there
                while data := os.read(fd, 1 << 16):
                    chunks.append(data)
            if not chunks:
                return
            written = _blob_size(self._blobs, worker.log_key)
            log = LogWriter(
                self._blobs.open_appender(worker.log_key, truncate=False),
                self._log_cap,
                written_bytes=written,
            )
            for data in chunks:
                log.feed(data)
            log.close()
        finally:
            os.close(fd)

    def _backstop(self, worker: _WorkerHandle, job_id: str) -> None:
        """The worker missed its job's deadline by ``backstop_s``: kill the worker."""
        if worker.job_id == job_id and not worker.dead:
            worker.lost_reason = StopReason.TIMEOUT
            worker.kill()


_TEXTS = {
    StopReason.CANCEL: "Canceled",
    StopReason.SHUTDOWN: "Canceled: the server is shutting down",
    StopReason.WORKER_LOST: "The worker process running the job died unexpectedly",
    StopReason.TIMEOUT: "Timed out",
}


def _key(spec: JobSpec) -> tuple[str, int, str | None]:
    environment = spec.python_environment
    key = _environment_key(EnvironmentSpec.from_json(environment)) if environment else None
    return (spec.function_id, int(spec.memory_mib), key)


@functools.lru_cache(maxsize=256)
def _environment_key(environment: EnvironmentSpec) -> str:
    """``environment.key``, remembered: it hashes JSON, and every job asks for it twice."""
    return environment.key


def _blob_size(blobs: BlobStore, key: str) -> int:
    try:
        return blobs.size(key)
    except FileNotFoundError:
        return 0


def _not_started(job_id: str, reason: StopReason, detail: str = "") -> JobOutcome:
    text = _TEXTS[reason]
    if reason is StopReason.WORKER_LOST:
        text = detail or "Could not start a worker process"
    return not_started(job_id, reason, text)


def _lost_message(job_id: str, reason: StopReason, worker: _WorkerHandle) -> dict[str, Any]:
    text = _TEXTS[reason]
    if reason is StopReason.TIMEOUT:
        text = f"Timed out after {worker.timeout_s:g} s (the worker stopped responding)"
    now = time.time()
    return {
        "job_id": job_id,
        "status": STOPPED_STATUS[reason],
        "exit_code": None,
        "error_reason": text,
        "started_at": stored_from_epoch(worker.dispatched_at),
        "ended_at": stored_from_epoch(now),
        "runtime": round(now - worker.dispatched_at),
        "statistics": None,
        "start_time": worker.dispatched_at,
        "end_time": now,
        "supervisor_pid": worker.pid,
        "stop_reason": reason,
    }
