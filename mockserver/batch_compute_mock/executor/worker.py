"""The worker: a supervisor process that runs jobs on a warm executor process it forks.

Started by the pool (``python -P -c ... <config-json>``) in a new session, with the server's
environment minus secrets and one end of a socketpair as its control channel (``protocol``).
It imports everything once, then serves "run" messages one at a time:

1. Make sure an executor process (``child``) is alive for the job's key - function id, bundle
   dir, the entrypoint's mtime and the memory limit - reusing the current one when the key
   matches, otherwise killing it and forking a new one (a fork of this already-initialised
   process: a few ms, versus ~100 ms for a new interpreter).
2. Send the job down the executor's job pipe and supervise in a ``poll`` loop over the log pipe
   (the executor's fds 1 and 2; written to the job's ndjson log as it arrives, see ``logs``),
   the report pipe, a pidfd of the executor and the control socket (``cancel``/``shutdown``),
   waking for the deadline and for the fork-bomb watchdog, which counts the executor's process
   group in /proc every ``watchdog_interval_s``.
3. End: on the report, drain the log pipe (the executor flushed before reporting, so all of the
   job's output is there), close the log, send one "done" message. On a deliberate stop
   (timeout, cancel, shutdown, fork bomb) kill the executor's process group - SIGTERM first when
   ``term_grace_s`` > 0, then SIGKILL - so the job's subprocesses die with it. An executor that
   died by itself (segfault, ``os._exit``, OOM kill) is judged from its wait status.

An executor that was stopped, crashed, or reported itself tainted (see ``child``) is never
reused; its whole process group is killed and the next job gets a fresh fork. The supervisor is
a child subreaper and reaps whatever is reparented to it. A deliberate stop is decided before
any signal is sent and only while no report has arrived and the executor is still alive, so a
job that finished first keeps its real outcome.

Linux only: pidfd, prctl (PDEATHSIG, child subreaper) and /proc are required.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import json
import os
import select
import shutil
import signal
import socket
import sys
import time
from typing import Any

from ..timestamps import format_timestamp, parse_timestamp
from .child import ENTRYPOINT_MODULE, executor_main
from .limits import MIB, nproc_backstop
from .logs import LogWriter
from .outcome import (
    OutcomeStatus,
    StopReason,
    describe_signal,
    job_statistics,
    signal_exit_code,
)
from .procs import count_group, kill_children, kill_group, reap_orphans
from .protocol import FrameDecoder, encode_frame, recv_frames

__all__ = ["Supervisor", "main"]

_PR_SET_CHILD_SUBREAPER = 36
_M_ARENA_MAX = -8
_READ_SIZE = 1 << 16


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``argv[1]`` is the JSON config written by the pool."""
    argv = sys.argv if argv is None else argv
    config = json.loads(argv[1])
    sock = socket.socket(fileno=int(config["fd"]))
    _prepare_process(config)
    Supervisor(sock, config).serve()


def _prepare_process(config: dict[str, Any]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    # Few malloc arenas: each reserves 64 MiB of address space, which RLIMIT_AS counts.
    with contextlib.suppress(AttributeError):
        libc.mallopt(_M_ARENA_MAX, 2)
    faulthandler.enable()  # a segfaulting job dumps its Python stack into its own log
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the server is the pool's business
    for name in config.get("preload", ()):
        __import__(name)


class _ExecutorProcess:
    """The supervisor's handle on its current executor process."""

    def __init__(self, pid: int, key: tuple[Any, ...], job_w: int, report_r: int, log_r: int):
        self.pid = pid
        self.key = key
        self.job_w = job_w
        self.report_r = report_r
        self.log_r = log_r
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
        for fd in (self.job_w, self.report_r, self.log_r, self.pidfd):
            with contextlib.suppress(OSError):
                os.close(fd)


class Supervisor:
    """The serve loop and the supervision of one job at a time."""

    def __init__(self, sock: socket.socket, config: dict[str, Any]) -> None:
        self.sock = sock
        self.decoder = FrameDecoder()
        self.inbox: list[dict[str, Any]] = []
        self.exiting = False
        self.executor: _ExecutorProcess | None = None
        self.log_cap = int(config["log_cap_bytes"])
        self.term_grace = float(config["term_grace_s"])
        self.watch_interval = float(config["watchdog_interval_s"])
        self.nproc_cap = int(config["nproc_cap"])
        self.limits = {
            "memory_headroom_mib": int(config["memory_headroom_mib"]),
            "fsize_cap_bytes": int(config["fsize_cap_bytes"]),
            "nproc_limit": nproc_backstop(self.nproc_cap),
        }

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

    def _next_message(self) -> dict[str, Any] | None:
        while not self.inbox:
            messages = recv_frames(self.sock, self.decoder)
            if messages is None:
                return None
            self.inbox.extend(messages)
        return self.inbox.pop(0)

    # Executor lifecycle -----------------------------------------------------------------
    def _executor_for(self, job: dict[str, Any]) -> _ExecutorProcess:
        try:
            mtime = os.stat(os.path.join(job["bundle_dir"], ENTRYPOINT_MODULE + ".py")).st_mtime_ns
        except OSError:
            mtime = None
        key = (job["function_id"], job["bundle_dir"], mtime, int(job["memory_mib"]))
        current = self.executor
        if current is not None and current.key == key and current.alive():
            return current
        self._retire()
        self.executor = self._fork(job, key)
        return self.executor

    def _fork(self, job: dict[str, Any], key: tuple[Any, ...]) -> _ExecutorProcess:
        job_r, job_w = os.pipe()
        report_r, report_w = os.pipe()
        log_r, log_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the executor process; never returns
            executor_main(
                job_fd=job_r,
                report_fd=report_w,
                log_fd=log_w,
                close_fds=(job_w, report_r, log_r, self.sock.fileno()),
                supervisor_pid=os.getppid(),
                bundle_dir=job["bundle_dir"],
                memory_mib=int(job["memory_mib"]),
                limits=self.limits,
            )
        with contextlib.suppress(OSError):  # the child may get there first: same result
            os.setpgid(pid, pid)
        for fd in (job_r, report_w, log_w):
            os.close(fd)
        return _ExecutorProcess(pid, key, job_w, report_r, log_r)

    def _retire(self) -> None:
        if self.executor is not None:
            self.executor.close()
            self.executor = None
        kill_children()  # what escaped the executor's group (setsid) and was adopted by us
        reap_orphans()

    # One job ----------------------------------------------------------------------------
    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        os.makedirs(job["work_dir"], exist_ok=True)
        try:
            return self._run(job)
        finally:
            try:
                os.rmdir(job["work_dir"])  # the usual case: the job left its scratch dir empty
            except OSError:
                shutil.rmtree(job["work_dir"], ignore_errors=True)

    def _run(self, job: dict[str, Any]) -> dict[str, Any]:
        executor = self._executor_for(job)
        _drain(executor.log_r, lambda data: None)  # stray output between jobs is nobody's
        log = LogWriter(job["log_path"], self.log_cap)
        started = time.time()
        with contextlib.suppress(BrokenPipeError):  # died while idle: the loop judges it
            _write_all(executor.job_w, encode_frame(job))
        try:
            report, stop = self._supervise(job, executor, log)
        finally:
            _drain(executor.log_r, log.feed)
            log.close()
        ended = time.time()
        if report is None or stop is not None or report.get("taint"):
            self._retire_after_job(executor)
        outcome = self._judge(job, executor, report, stop)
        if outcome["status"] != OutcomeStatus.SUCCESS or not outcome["result_written"]:
            _remove(job["result_path"])
        if report is not None and stop is None:
            cpu_ns, peak = int(report["cpu_ns"]), int(report["peak_bytes"])
            executor.cpu_base_ns = int(report["cpu_total_ns"])
        else:
            _, usage = executor.reap()
            total = int((usage.ru_utime + usage.ru_stime) * 1e9)
            cpu_ns, peak = max(0, total - executor.cpu_base_ns), usage.ru_maxrss * 1024
        outcome.update(
            op="done",
            job_id=job["job_id"],
            worker_pid=executor.pid,
            supervisor_pid=os.getpid(),
            start_time=started,
            end_time=ended,
            started_at=_stored(started),
            ended_at=_stored(ended),
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

    def _retire_after_job(self, executor: _ExecutorProcess) -> None:
        if self.executor is executor:
            self._retire()
        else:
            executor.close()

    def _supervise(
        self, job: dict[str, Any], executor: _ExecutorProcess, log: LogWriter
    ) -> tuple[dict[str, Any] | None, StopReason | None]:
        """Wait for the report or the executor's death; carry out stops. (report, stop)."""
        pid, pidfd, log_r, report_r = (
            executor.pid,
            executor.pidfd,
            executor.log_r,
            executor.report_r,
        )
        ctl = self.sock.fileno()
        poller = select.poll()
        for fd in (log_r, report_r, pidfd, ctl):
            poller.register(fd, select.POLLIN)
        now = begun = time.monotonic()
        deadline = begun + float(job["timeout_s"])
        next_watch = begun + self.watch_interval
        hard_kill_at: float | None = None
        stop: StopReason | None = None
        early = self._early_stop(job["job_id"])
        while True:
            wake = min(deadline, next_watch) if stop is None else now + 1.0
            if early is not None:
                wake = now
            if hard_kill_at is not None:
                wake = min(wake, hard_kill_at)
            events = poller.poll(max(0.0, wake - now) * 1000 + 1)
            ready = {fd for fd, _ in events}
            if log_r in ready and not _pump(log_r, log.feed):
                poller.unregister(log_r)
            if report_r in ready and (report := self._read_report(executor, poller)):
                return (None if stop else report), stop
            if pidfd in ready:
                executor.reap()
                return None, stop
            request = self._control(job["job_id"], poller, ctl) if ctl in ready else None
            if early is not None:
                request, early = early, None
            now = time.monotonic()
            if hard_kill_at is not None and now >= hard_kill_at:
                executor.kill()
                hard_kill_at = None
            if stop is None and now >= deadline:
                request = StopReason.TIMEOUT
            if stop is None and request is None and now >= next_watch:
                next_watch = now + self.watch_interval
                if count_group(pid, self.nproc_cap) > self.nproc_cap:
                    request = StopReason.FORK_BOMB
            if stop is None and request is not None:
                # Finished first? Then the job keeps its real outcome.
                if _readable(report_r) and (report := self._read_report(executor, poller)):
                    return report, None
                if _readable(pidfd):
                    executor.reap()
                    return None, None
                stop = request
                if request is StopReason.FORK_BOMB:
                    executor.kill()
                else:
                    hard_kill_at = self._stop(executor)

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

    def _read_report(
        self, executor: _ExecutorProcess, poller: select.poll
    ) -> dict[str, Any] | None:
        data = os.read(executor.report_r, _READ_SIZE)
        if not data:
            poller.unregister(executor.report_r)
            return None
        messages = executor.decoder.feed(data)
        return messages[0] if messages else None

    def _control(self, job_id: str, poller: select.poll, ctl: int) -> StopReason | None:
        """Read control messages during a job; the stop they ask for, if any."""
        messages = recv_frames(self.sock, self.decoder)
        if messages is None:  # the pool went away: stop the job and leave
            poller.unregister(ctl)
            self.exiting = True
            return StopReason.SHUTDOWN
        return self._sort_messages(job_id, messages)

    def _stop(self, executor: _ExecutorProcess) -> float | None:
        """Start a deliberate stop; when to follow up with SIGKILL (``None``: already sent)."""
        if self.term_grace > 0:
            kill_group(executor.pid, signal.SIGTERM)
            return time.monotonic() + self.term_grace
        executor.kill()
        return None

    def _judge(
        self,
        job: dict[str, Any],
        executor: _ExecutorProcess,
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
        status, usage = executor.reap()
        exit_code = _exit_code(status)
        if stop is StopReason.TIMEOUT:
            reason = f"Timed out after {float(job['timeout_s']):g} s"
            return {
                **failed,
                "status": OutcomeStatus.TIMEOUT,
                "exit_code": exit_code,
                "error_reason": reason,
            }
        if stop in (StopReason.CANCEL, StopReason.SHUTDOWN):
            reason = (
                "Canceled"
                if stop is StopReason.CANCEL
                else ("Canceled: the server is shutting down")
            )
            return {
                **failed,
                "status": OutcomeStatus.CANCELED,
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


def _remove(path: str) -> None:
    for candidate in (path, path + ".partial"):
        with contextlib.suppress(OSError):
            os.unlink(candidate)


def _stored(epoch: float) -> str:
    return format_timestamp(parse_timestamp(epoch))


if __name__ == "__main__":
    main()
