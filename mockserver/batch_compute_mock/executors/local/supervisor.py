"""The worker: a supervisor process that runs jobs, one at a time, on a warm job process.

Started by the pool (``python -P -c ... <config-json>``) in a new session, with the server's
environment minus secrets, one end of a socketpair as its control channel (``frames``) and a
log pipe it shares with the pool (the pool keeps a read end, to rescue a job's last output if
this process dies). It imports everything once, then serves "run" messages:

1. Make sure a job process (``batch_compute_runtime``) is alive for the job's key - function
   id, unpacked bundle, memory limit and environment - reusing the current one when the key
   matches, otherwise killing it and starting a new one: fork, join a new process group, die
   with us (``PR_SET_PDEATHSIG``), point fds 1 and 2 at the log pipe, exec
   ``python -I -m batch_compute_runtime`` on the function environment's interpreter (held
   with a shared lock against eviction while the process lives, and built first if this
   machine lacks it) or, without one, on the configured interpreter. The bundle comes from
   the blob store through the machine's ``BundleCache``.
2. Send the job down the job pipe and supervise in a ``poll`` loop over the log pipe (written
   to the job's log blob as it arrives, see ``logs``), the report pipe, a pidfd of the job
   process and the control socket (``cancel``/``shutdown``), waking for the deadline and for
   the fork-bomb watchdog, which counts the job process's group in /proc every
   ``watchdog_interval_s``.
3. End: on the report, drain the log pipe (the job process flushed before reporting, so all of
   the job's output is there), close the log, store the result bytes under the result key, and
   send one "done" message. On a deliberate stop (timeout, cancel, shutdown, fork bomb) kill
   the job process's group - SIGTERM first when ``term_grace_s`` > 0, then SIGKILL - so the
   job's subprocesses die with it. A job process that died by itself (segfault, ``os._exit``,
   OOM kill) is judged from its wait status.

With a heartbeat (``heartbeat``: a server sharing its database), a running job is killed and
the worker exits when the heartbeat goes stale: the server stopped proving it holds the
scheduler lease, and another server may soon run the job again.

A job process that was stopped, crashed, or reported itself tainted is never reused; its whole
process group is killed and the next job gets a fresh one. The supervisor is a child subreaper
and reaps whatever is reparented to it. A deliberate stop is decided before any signal is sent
and only while no report has arrived and the job process is still alive, so a job that
finished first keeps its real outcome.

Linux only: pidfd, prctl (PDEATHSIG, child subreaper) and /proc are required.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from batch_compute_runtime.frames import (
    ExecutorConfig,
    FrameDecoder,
    JobFrame,
    encode_frame,
    recv_frames,
)
from batch_compute_runtime.procs import count_group, kill_children, kill_group, reap_orphans

from ...blobs import BlobAppender, BlobStore, open_blobs
from ...builder.cache import BundleCache
from ...builder.environments import EnvironmentBuildError, EnvironmentSpec, EnvironmentStore
from ...builder.sandbox import SandboxPolicy, import_roots
from ...kernel.timestamps import stored_from_epoch
from ..outcome import (
    STOPPED_STATUS,
    OutcomeStatus,
    StopReason,
    describe_signal,
    job_statistics,
    signal_exit_code,
)
from .env import job_variables
from .heartbeat import CHECK_INTERVAL_SECONDS, heartbeat_age
from .limits import MIB, nproc_backstop
from .logs import LogWriter, UnopenedLog

__all__ = ["Supervisor", "main"]

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_SETUP_FAILED = 70  # EX_SOFTWARE
_READ_SIZE = 1 << 16
_libc = ctypes.CDLL(None, use_errno=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``argv[1]`` is the JSON config written by the pool."""
    argv = sys.argv if argv is None else argv
    config = json.loads(argv[1])
    sock = socket.socket(fileno=int(config["fd"]))
    # The pool passed these fds; a job process must inherit none of them (it would hold the
    # control channel, or keep the log pipe open).
    heartbeat = config.get("heartbeat") or {}
    for fd in (sock.fileno(), *config["log_fds"], *filter(None, [heartbeat.get("fd")])):
        os.set_inheritable(int(fd), False)
    _prepare_process()
    Supervisor(sock, config).serve()


def _prepare_process() -> None:
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the server is the pool's business


class _JobProcess:
    """The supervisor's handle on its current job process."""

    def __init__(
        self,
        pid: int,
        key: tuple[Any, ...],
        scratch: Path,
        job_w: int,
        report_r: int,
        hold: int | None = None,
    ):
        self.pid = pid
        self.hold = hold  #: a shared lock keeping its environment from eviction
        self.key = key
        self.scratch = scratch  #: this process's own: its jobs' working dirs and HOME
        self.job_w = job_w
        self.report_r = report_r
        self.pidfd = os.pidfd_open(pid)
        self.cpu_base_ns = 0  # lifetime CPU when the current job started
        self.decoder = FrameDecoder()
        self.reaped: tuple[int, Any] | None = None  # (wait status, rusage) once reaped

    def alive(self) -> bool:
        return self.reaped is None and not _readable(self.pidfd)

    def reap(self) -> tuple[int, Any]:
        """Kill the group (stragglers of a crashed job too, while the unreaped leader keeps the
        group id from being reused), then wait for the leader: (wait status, rusage)."""
        if self.reaped is None:
            kill_group(self.pid)
            _, status, usage = os.wait4(self.pid, 0)
            self.reaped = (status, usage)
        return self.reaped

    def kill(self) -> None:
        if self.reaped is None:
            kill_group(self.pid)

    def close(self) -> None:
        """Kill the whole group (subprocesses of the job die too), reap, release the fds."""
        self.reap()
        for fd in (self.job_w, self.report_r, self.pidfd):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.hold is not None:
            EnvironmentStore.release(self.hold)
            self.hold = None
        shutil.rmtree(self.scratch, ignore_errors=True)


class Supervisor:
    """The serve loop and the supervision of one job at a time."""

    def __init__(self, sock: socket.socket, config: dict[str, Any]) -> None:
        self.sock = sock
        self.decoder = FrameDecoder()
        self.inbox: list[dict[str, Any]] = []
        self.exiting = False
        self.process: _JobProcess | None = None
        self.log_r, self.log_w = int(config["log_fds"][0]), int(config["log_fds"][1])
        self.python = str(config["python"])
        self.python_path = list(config["python_path"])
        # One scratch dir per worker (the pool removes it if we die), one per job process
        # inside: a sandboxed process sees only its own.
        self.scratch = Path(config["scratch_dir"]) / f"w{os.getpid()}"
        self.started = 0
        self.job_env = dict(config["job_env"])
        sandbox = config.get("sandbox")
        self.sandbox = SandboxPolicy.from_json(sandbox) if sandbox else None
        self.roots: dict[tuple[str, ...], list[str]] = {}
        self.blobs: BlobStore = open_blobs(config["blob_url"])
        self.bundles = BundleCache(Path(config["cache_dir"]), self.blobs)
        envs_dir = config.get("envs_dir")
        self.envs = EnvironmentStore(Path(envs_dir), sandbox=self.sandbox) if envs_dir else None
        self.log_cap = int(config["log_cap_bytes"])
        self.term_grace = float(config["term_grace_s"])
        self.watch_interval = float(config["watchdog_interval_s"])
        self.nproc_cap = int(config["nproc_cap"])
        self.preload = list(config["preload"])
        self.memory_headroom_mib = int(config["memory_headroom_mib"])
        self.fsize_cap_bytes = int(config["fsize_cap_bytes"])
        runs_as = self.sandbox.uid if self.sandbox is not None else None
        self.nproc_limit = nproc_backstop(self.nproc_cap, uid=runs_as, share=config["slots"])
        heartbeat = config.get("heartbeat")
        self.heartbeat: tuple[int, float] | None = (
            (int(heartbeat["fd"]), float(heartbeat["limit_s"])) if heartbeat else None
        )

    # Serve loop -------------------------------------------------------------------------
    def serve(self) -> None:
        try:
            while not self.exiting:
                message = self._next_message()
                if message is None:
                    return
                op = message.get("op")
                if op == "run":
                    outcome = self.run(message["job"])
                    try:
                        self.sock.sendall(encode_frame(outcome))
                    except OSError:
                        return  # the pool is gone
                elif op in ("exit", "shutdown"):
                    return
                # a "cancel" for a job that already ended is ignored: it keeps its outcome
        finally:
            self._retire()
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _next_message(self) -> dict[str, Any] | None:
        while not self.inbox:
            messages = recv_frames(self.sock, self.decoder)
            if messages is None:
                return None
            self.inbox.extend(messages)
        return self.inbox.pop(0)

    # Job processes ----------------------------------------------------------------------
    def _process_for(self, job: dict[str, Any], log: LogWriter) -> _JobProcess:
        bundle_dir = str(self.bundles.ensure(job["function_id"], job["bundle_key"]))
        environment = job.get("python_environment")
        spec = EnvironmentSpec.from_json(environment) if environment else None
        env_key = spec.key if spec is not None else None
        key = (job["function_id"], bundle_dir, int(job["memory_mib"]), env_key)
        current = self.process
        if current is not None and current.key == key and current.alive():
            if self.envs is not None and env_key:
                self.envs.touch(env_key)
            return current
        self._retire()
        hold = None
        python, python_path = self.python, self.python_path
        if spec is not None:
            hold, python = self._environment(spec, log)
            python_path = []  # the environment holds everything its jobs import
        try:
            process = self._start_process(
                key, bundle_dir, int(job["memory_mib"]), python, python_path, hold
            )
        except BaseException:
            if hold is not None:
                EnvironmentStore.release(hold)
            raise
        self.process = process
        return process

    def _environment(self, spec: EnvironmentSpec, log: LogWriter) -> tuple[int, str]:
        """Hold the environment (so it is not evicted under the job) and return its
        interpreter, building it first if this machine lacks it (the cache cap removed it, or
        the function came from a snapshot or another server)."""
        if self.envs is None:
            raise RuntimeError("this worker has no environments directory")
        env_key = spec.key
        hold = self.envs.hold(env_key)
        try:
            if not self.envs.is_ready(env_key):
                log.feed(
                    f"Building environment {env_key} first: this machine does not have it "
                    "(removed past the cache cap, or the function came from elsewhere)\n".encode()
                )
                try:
                    self.envs.ensure(spec, lambda line: log.feed(f"{line}\n".encode()))
                except EnvironmentBuildError as error:
                    reason = f"the function's environment could not be built: {error}"
                    raise RuntimeError(reason) from None
            self.envs.attach_runtime(env_key)
        except BaseException:
            EnvironmentStore.release(hold)
            raise
        return hold, str(self.envs.python(env_key))

    def _start_process(
        self,
        key: tuple[Any, ...],
        bundle_dir: str,
        memory_mib: int,
        python: str,
        python_path: list[str],
        hold: int | None,
    ) -> _JobProcess:
        self.started += 1
        scratch = self.scratch / f"p{self.started}"
        self._private_dir(scratch)
        job_r, job_w = os.pipe()
        report_r, report_w = os.pipe()
        config: ExecutorConfig = {
            "job_fd": job_r,
            "report_fd": report_w,
            # In a sandbox our parent is bwrap, pid 1 of the job's own PID namespace.
            "supervisor_pid": os.getpid() if self.sandbox is None else 1,
            "own_group": self.sandbox is None,
            "bundle_dir": bundle_dir,
            "python_path": python_path,
            "memory_mib": memory_mib,
            "memory_headroom_mib": self.memory_headroom_mib,
            "fsize_cap_bytes": self.fsize_cap_bytes,
            "nproc_limit": self.nproc_limit,
            "preload": self.preload,
        }
        argv = [python, "-I", "-m", "batch_compute_runtime", json.dumps(config)]
        if self.sandbox is not None:
            read_only = [*self._import_roots(python, python_path), bundle_dir]
            argv = self.sandbox.wrap(argv, read_only=read_only, writable=[str(scratch)])
        env = {**self.job_env, "HOME": str(scratch), "TMPDIR": str(scratch)}
        pid = os.fork()
        if pid == 0:  # the job process to be; never returns
            sandboxed = self.sandbox is not None
            _exec_job_process(argv, env, (job_r, report_w), self.log_w, sandboxed)
        with contextlib.suppress(OSError):  # the child may get there first: same result
            os.setpgid(pid, pid)
        for fd in (job_r, report_w):
            os.close(fd)
        return _JobProcess(pid, key, scratch, job_w, report_r, hold)

    def _import_roots(self, python: str, python_path: list[str]) -> list[str]:
        """What the job's interpreter imports from (asked once per interpreter)."""
        key = (python, *python_path)
        if key not in self.roots:
            self.roots[key] = import_roots(python, python_path)
        return self.roots[key]

    def _private_dir(self, path: Path) -> None:
        """A directory only the job's user may enter (it is that user's, in a sandbox)."""
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.sandbox is not None and self.sandbox.uid is not None:
            gid = self.sandbox.uid if self.sandbox.gid is None else self.sandbox.gid
            os.chown(path, self.sandbox.uid, gid)

    def _retire(self) -> None:
        if self.process is not None:
            self.process.close()
            self.process = None
        kill_children()  # what escaped the job's group (setsid) and was adopted by us
        reap_orphans()

    # One job ----------------------------------------------------------------------------
    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        try:
            sink: BlobAppender = self.blobs.open_appender(job["log_key"])
        except OSError as error:  # the store failed: the job runs, its log is lost
            sink = UnopenedLog(error)
        log = LogWriter(sink, self.log_cap)
        started = time.time()
        try:
            process = self._process_for(job, log)
        except Exception as error:  # the bundle could not be fetched or unpacked
            log.feed(f"Job setup failed: {error}\n".encode())
            log.close()
            return _setup_failed(job, started, f"Job setup failed: {error}")
        work_dir = process.scratch / job["job_id"]
        result_path = process.scratch / f"{job['job_id']}.result"
        try:
            self._private_dir(work_dir)
            return self._run(job, process, log, started, str(work_dir), result_path)
        finally:
            result_path.unlink(missing_ok=True)
            try:
                work_dir.rmdir()  # the usual case: the job left its scratch dir empty
            except OSError:
                shutil.rmtree(work_dir, ignore_errors=True)

    def _run(
        self,
        job: dict[str, Any],
        process: _JobProcess,
        log: LogWriter,
        started: float,
        work_dir: str,
        result_path: Path,
    ) -> dict[str, Any]:
        _drain(self.log_r, lambda data: None)  # stray output between jobs is nobody's
        frame: JobFrame = {
            "job_id": job["job_id"],
            "args": job["args"],
            "kwargs": job["kwargs"],
            "environment": {
                **job_variables(job["job_id"], job["function_id"]),
                **job["environment"],
            },
            "work_dir": work_dir,
            "result_path": str(result_path),
            "memory_mib": int(job["memory_mib"]),
            "fault": _in_process(job.get("fault")),
        }
        with contextlib.suppress(BrokenPipeError):  # died while idle: the loop judges it
            _write_all(process.job_w, encode_frame(frame))
        try:
            report, stop = self._supervise(job, process, log)
        finally:
            _drain(self.log_r, log.feed)
            log.close()
        ended = time.time()
        outcome = self._judge(job, process, report, stop)
        if outcome["status"] == OutcomeStatus.SUCCESS and outcome["result_written"]:
            if (job.get("fault") or {}).get("action") == "lose_result":
                outcome.update(result_written=False, result_attributes=None)  # a test's fault
            else:
                outcome.update(self._store_result(job, result_path))
        if report is None or stop is not None or report.get("taint"):
            self._retire_after_job(process)  # its scratch dir goes too: the result is stored
        if report is not None and stop is None:
            cpu_ns, peak = int(report["cpu_ns"]), int(report["peak_bytes"])
            process.cpu_base_ns = int(report["cpu_total_ns"])
        else:
            _, usage = process.reap()
            total = int((usage.ru_utime + usage.ru_stime) * 1e9)
            cpu_ns, peak = max(0, total - process.cpu_base_ns), usage.ru_maxrss * 1024
        outcome.update(
            op="done",
            job_id=job["job_id"],
            worker_pid=process.pid,
            supervisor_pid=os.getpid(),
            start_time=started,
            end_time=ended,
            started_at=stored_from_epoch(started),
            ended_at=stored_from_epoch(ended),
            runtime=round(ended - started),
            log_truncated=log.truncated,
            stop_reason=stop,
            statistics=job_statistics(
                cpu_ns=cpu_ns,
                wall_s=ended - started,
                peak_bytes=peak,
                limit_bytes=int(job["memory_mib"]) * MIB,
            ),
        )
        return outcome

    def _store_result(self, job: dict[str, Any], result_path: Path) -> dict[str, Any]:
        """Hash and store the result bytes; a failure to store fails the job."""
        try:
            digest = hashlib.md5(usedforsecurity=False)
            with result_path.open("rb") as source:
                for chunk in iter(lambda: source.read(1 << 20), b""):
                    digest.update(chunk)
            size = self.blobs.put_file(job["result_key"], result_path)
        except OSError as error:
            return {
                "status": OutcomeStatus.FAILURE,
                "exit_code": 1,
                "error_reason": f"Could not store the result: {error}",
                "result_written": False,
                "result_attributes": None,
            }
        return {"result_size": size, "result_hash": digest.hexdigest()}

    def _retire_after_job(self, process: _JobProcess) -> None:
        if self.process is process:
            self._retire()
        else:
            process.close()

    def _supervise(
        self, job: dict[str, Any], process: _JobProcess, log: LogWriter
    ) -> tuple[dict[str, Any] | None, StopReason | None]:
        """Wait for the report or the job process's death; carry out stops. (report, stop)."""
        pid, pidfd, log_r, report_r = process.pid, process.pidfd, self.log_r, process.report_r
        ctl = self.sock.fileno()
        poller = select.poll()
        for fd in (log_r, report_r, pidfd, ctl):
            poller.register(fd, select.POLLIN)
        now = begun = time.monotonic()
        deadline = begun + float(job["timeout_s"])
        next_watch = begun + self.watch_interval
        next_heartbeat = begun + CHECK_INTERVAL_SECONDS if self.heartbeat else float("inf")
        hard_kill_at: float | None = None
        stop: StopReason | None = None
        early = self._early_stop(job["job_id"])
        while True:
            wake = min(deadline, next_watch, next_heartbeat) if stop is None else now + 1.0
            if early is not None:
                wake = now
            if hard_kill_at is not None:
                wake = min(wake, hard_kill_at)
            events = poller.poll(max(0.0, wake - now) * 1000 + 1)
            ready = {fd for fd, _ in events}
            if log_r in ready and not _pump(log_r, log.feed):
                poller.unregister(log_r)
            if report_r in ready and (report := self._read_report(process, poller)):
                return (None if stop else report), stop
            if pidfd in ready:
                process.reap()
                return None, stop
            request = self._control(job["job_id"], poller, ctl) if ctl in ready else None
            if early is not None:
                request, early = early, None
            now = time.monotonic()
            if hard_kill_at is not None and now >= hard_kill_at:
                process.kill()
                hard_kill_at = None
            if stop is None and now >= deadline:
                request = StopReason.TIMEOUT
            if stop is None and request is None and now >= next_watch:
                next_watch = now + self.watch_interval
                if count_group(pid, self.nproc_cap) > self.nproc_cap:
                    request = StopReason.FORK_BOMB
            orphaned = False
            if stop is None and request is None and now >= next_heartbeat:
                next_heartbeat = now + CHECK_INTERVAL_SECONDS
                if self._server_silent():
                    request, orphaned, self.exiting = StopReason.SHUTDOWN, True, True
            if stop is None and request is not None:
                # Finished first? Then the job keeps its real outcome.
                if _readable(report_r) and (report := self._read_report(process, poller)):
                    return report, None
                if _readable(pidfd):
                    process.reap()
                    return None, None
                stop = request
                if request is StopReason.FORK_BOMB or orphaned:
                    process.kill()
                else:
                    hard_kill_at = self._stop(process)

    def _server_silent(self) -> bool:
        """Whether the server's heartbeat is stale: the job must die now (``heartbeat``)."""
        if self.heartbeat is None:
            return False
        fd, limit_s = self.heartbeat
        return heartbeat_age(fd) > limit_s

    def _early_stop(self, job_id: str) -> StopReason | None:
        """A cancel or shutdown that arrived together with (or before) the job's run message
        and so sits in the inbox instead of on the socket."""
        waiting, self.inbox = self.inbox, []
        return self._sort_messages(job_id, waiting)

    def _sort_messages(self, job_id: str, messages: list[dict[str, Any]]) -> StopReason | None:
        """The stop ``messages`` ask for during job ``job_id``; the rest go to the inbox."""
        stop = None
        for message in messages:
            op = message.get("op")
            if op == "cancel" and message.get("job_id") == job_id:
                stop = stop or StopReason.CANCEL
            elif op in ("shutdown", "exit"):
                self.exiting = True
                stop = StopReason.SHUTDOWN
            else:
                self.inbox.append(message)
        return stop

    def _read_report(self, process: _JobProcess, poller: select.poll) -> dict[str, Any] | None:
        data = os.read(process.report_r, _READ_SIZE)
        if not data:
            poller.unregister(process.report_r)
            return None
        messages = process.decoder.feed(data)
        return messages[0] if messages else None

    def _control(self, job_id: str, poller: select.poll, ctl: int) -> StopReason | None:
        """Read control messages during a job; the stop they ask for, if any."""
        messages = recv_frames(self.sock, self.decoder)
        if messages is None:  # the pool went away: stop the job and leave
            poller.unregister(ctl)
            self.exiting = True
            return StopReason.SHUTDOWN
        return self._sort_messages(job_id, messages)

    def _stop(self, process: _JobProcess) -> float | None:
        """Start a deliberate stop; when to follow up with SIGKILL (``None``: already sent)."""
        if self.term_grace > 0:
            kill_group(process.pid, signal.SIGTERM)
            return time.monotonic() + self.term_grace
        process.kill()
        return None

    def _judge(
        self,
        job: dict[str, Any],
        process: _JobProcess,
        report: dict[str, Any] | None,
        stop: StopReason | None,
    ) -> dict[str, Any]:
        failed: dict[str, Any] = {
            "status": OutcomeStatus.FAILURE,
            "result_written": False,
            "result_attributes": None,
        }
        if report is not None:
            if report.get("ok"):
                written = bool(report.get("result"))
                return {
                    "status": OutcomeStatus.SUCCESS,
                    "exit_code": 0,
                    "error_reason": None,
                    "result_written": written,
                    "result_attributes": report.get("attributes") if written else None,
                }
            return {
                **failed,
                "exit_code": int(report["exit_code"]),
                "error_reason": report["reason"],
            }
        status, usage = process.reap()
        if self.sandbox is not None:
            status = _unwrapped(status)
        exit_code = _exit_code(status)
        if stop is StopReason.TIMEOUT:
            reason = f"Timed out after {float(job['timeout_s']):g} s"
            return {
                **failed,
                "status": STOPPED_STATUS[stop],
                "exit_code": exit_code,
                "error_reason": reason,
            }
        if stop in (StopReason.CANCEL, StopReason.SHUTDOWN):
            reason = (
                "Canceled" if stop is StopReason.CANCEL else "Canceled: the server is shutting down"
            )
            return {
                **failed,
                "status": STOPPED_STATUS[stop],
                "exit_code": exit_code,
                "error_reason": reason,
            }
        if stop is StopReason.FORK_BOMB:
            reason = (
                f"Fork bomb: the job ran more than {self.nproc_cap} processes at once "
                "and was killed"
            )
            return {**failed, "exit_code": exit_code, "error_reason": reason}
        if os.WIFSIGNALED(status):
            signum = os.WTERMSIG(status)
            reason = describe_signal(signum)
            near_limit = usage.ru_maxrss * 1024 >= 0.9 * int(job["memory_mib"]) * MIB
            if signum == signal.SIGKILL or near_limit:
                reason += (
                    f"; it may have run out of memory (the function's memory limit is "
                    f"{job['memory_mib']} MiB)"
                )
            return {**failed, "exit_code": exit_code, "error_reason": reason}
        if exit_code == 0:  # os._exit(0): the job ended the process cleanly, returning nothing
            return {**failed, "status": OutcomeStatus.SUCCESS, "exit_code": 0, "error_reason": None}
        return {**failed, "exit_code": exit_code, "error_reason": f"Exited with code {exit_code}"}


def _in_process(fault: dict[str, Any] | None) -> dict[str, Any] | None:
    """The part of a test's fault the job process acts out (``lose_result`` is ours)."""
    if fault is None or fault.get("action") == "lose_result":
        return None
    return fault


def _exec_job_process(
    argv: list[str], env: dict[str, str], keep: tuple[int, int], log_fd: int, sandboxed: bool
) -> None:
    """In the forked child: become the job process (never returns).

    In a sandbox, bwrap leads the job's process group and would die of the SIGTERM a stop
    with grace sends the group (taking the job with it at once): it ignores SIGTERM instead,
    and the job process puts the default action back for itself and its children.
    """
    try:
        if sandboxed:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.setpgid(0, 0)
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        for fd in keep:
            os.set_inheritable(fd, True)
        os.execve(argv[0], argv, env)
    except BaseException:
        os._exit(_SETUP_FAILED)


def _unwrapped(status: int) -> int:
    """The job's own wait status from bwrap's: bwrap exits with 128 + N when the job was
    killed by signal N (an ``os._exit(128 + N)`` of the job's own reads the same)."""
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        if 128 < code < 128 + signal.NSIG:
            return code - 128  # the wait status of death by that signal
    return status


def _setup_failed(job: dict[str, Any], started: float, reason: str) -> dict[str, Any]:
    ended = time.time()
    return {
        "op": "done",
        "job_id": job["job_id"],
        "status": OutcomeStatus.FAILURE,
        "exit_code": None,
        "error_reason": reason,
        "result_written": False,
        "result_attributes": None,
        "supervisor_pid": os.getpid(),
        "start_time": started,
        "end_time": ended,
        "started_at": stored_from_epoch(started),
        "ended_at": stored_from_epoch(ended),
        "runtime": 0,
        "statistics": None,
    }


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return signal_exit_code(os.WTERMSIG(status))
    return os.waitstatus_to_exitcode(status)


def _readable(fd: int) -> bool:
    return bool(select.select([fd], [], [], 0)[0])


def _pump(fd: int, sink: Any) -> bool:
    data = os.read(fd, _READ_SIZE)
    if not data:
        return False
    sink(data)
    return True


def _drain(fd: int, sink: Any) -> None:
    """Read what is in a pipe now, without waiting for writers that may never close it."""
    while select.select([fd], [], [], 0)[0]:
        try:
            data = os.read(fd, _READ_SIZE)
        except OSError:
            return
        if not data:
            return
        sink(data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


if __name__ == "__main__":
    main()
