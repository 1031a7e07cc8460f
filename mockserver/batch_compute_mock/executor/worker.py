"""The warm worker process: waits for jobs and runs each in a fresh forked job process.

Started by the pool (``python -P -c ... <config-json>``) in a new session, with the server's
environment minus secrets and one end of a socketpair as its control channel (``protocol``).
It imports everything a job process needs once, then serves jobs one at a time:

1. create the scratch dir, a log pipe and a report pipe;
2. ``fork()``; the child becomes the job process (``child.run_job_process``), leading its own
   process group;
3. supervise it in a ``poll`` loop over the log pipe (written to the ndjson log as it arrives,
   see ``logs``), the report pipe, a pidfd for the job process, and the control socket
   (``cancel``/``shutdown``), waking for the deadline and the fork-bomb watchdog;
4. when the job process exits: SIGKILL whatever is left of its group, reap it (``wait4`` gives
   its CPU time and peak RSS), drain the pipes, remove the scratch dir, send one ``done``
   message.

Forking per job keeps warm-start speed (no interpreter start, imports already done) while
every job gets a fresh process: no state leaks between jobs, the environment, rlimits, cwd and
fds are set without being restored, per-job statistics come straight from ``wait4``, and a job
that crashes, times out or is killed takes nothing else down - the worker survives and serves
the next job. The worker is a child subreaper, so descendants orphaned by a job are reparented
to it (not to PID 1) and reaped.

A deliberate kill (timeout, cancel, shutdown, fork bomb) is decided before the signal is sent,
and only if the job process has not already exited: a job that finished first keeps its real
outcome. Timeouts and cancels send SIGTERM to the group first when ``term_grace_s`` > 0, then
SIGKILL.
"""

from __future__ import annotations

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
from .child import run_job_process
from .limits import MIB, nproc_backstop
from .logs import LogWriter
from .outcome import (
    OutcomeStatus,
    StopReason,
    describe_signal,
    job_statistics,
    signal_exit_code,
)
from .procs import count_group, kill_group, reap_orphans, signal_group
from .protocol import FrameDecoder, encode_frame, recv_frames

__all__ = ["Worker", "main"]

_PR_SET_CHILD_SUBREAPER = 36
_M_ARENA_MAX = -8
_READ_SIZE = 1 << 16


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``argv[1]`` is the JSON config written by the pool."""
    argv = sys.argv if argv is None else argv
    config = json.loads(argv[1])
    sock = socket.socket(fileno=int(config["fd"]))
    _prepare_process(config)
    Worker(sock, config).serve()


def _prepare_process(config: dict[str, Any]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    try:  # few malloc arenas: each reserves 64 MiB of address space, which RLIMIT_AS counts
        libc.mallopt(_M_ARENA_MAX, 2)
    except AttributeError:
        pass
    faulthandler.enable()  # a segfaulting job dumps its Python stack into its own log
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the server is the pool's business
    for name in config.get("preload", ()):
        __import__(name)


class Worker:
    """The worker's serve loop and the supervision of one job process at a time."""

    def __init__(self, sock: socket.socket, config: dict[str, Any]) -> None:
        self.sock = sock
        self.decoder = FrameDecoder()
        self.inbox: list[dict[str, Any]] = []
        self.exiting = False
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

    def _next_message(self) -> dict[str, Any] | None:
        while not self.inbox:
            messages = recv_frames(self.sock, self.decoder)
            if messages is None:
                return None
            self.inbox.extend(messages)
        return self.inbox.pop(0)

    # One job ----------------------------------------------------------------------------
    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        reap_orphans()
        os.makedirs(job["work_dir"], exist_ok=True)
        log_r, log_w = os.pipe()
        report_r, report_w = os.pipe()
        started = time.time()
        pid = os.fork()
        if pid == 0:  # the job process; never returns
            run_job_process(
                job,
                log_fd=log_w,
                report_fd=report_w,
                close_fds=(log_r, report_r, self.sock.fileno()),
                worker_pid=os.getppid(),
                limits=self.limits,
            )
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass  # the child got there first (or already exited)
        os.close(log_w)
        os.close(report_w)
        try:
            return self._supervise(job, pid, started, log_r, report_r)
        finally:
            os.close(log_r)
            os.close(report_r)
            shutil.rmtree(job["work_dir"], ignore_errors=True)

    def _supervise(
        self, job: dict[str, Any], pid: int, started: float, log_r: int, report_r: int
    ) -> dict[str, Any]:
        log = LogWriter(job["log_path"], self.log_cap)
        report = bytearray()
        pidfd = os.pidfd_open(pid)
        ctl = self.sock.fileno()
        poller = select.poll()
        for fd in (log_r, report_r, pidfd, ctl):
            poller.register(fd, select.POLLIN)
        begun = time.monotonic()
        deadline = begun + float(job["timeout_s"])
        next_watch = begun + self.watch_interval
        hard_kill_at: float | None = None
        stop: StopReason | None = None
        try:
            while True:
                now = time.monotonic()
                wake = min(deadline, next_watch) if stop is None else now + 1.0
                if hard_kill_at is not None:
                    wake = min(wake, hard_kill_at)
                events = poller.poll(max(0.0, wake - now) * 1000 + 1)
                ready = {fd for fd, _ in events}
                if pidfd in ready:
                    break
                if log_r in ready and not self._pump(log_r, log.feed):
                    poller.unregister(log_r)
                if report_r in ready and not self._pump(report_r, report.extend):
                    poller.unregister(report_r)
                if ctl in ready:
                    request = self._control(job["job_id"], poller, ctl)
                    if request is not None and stop is None:
                        if _exited(pidfd):
                            break
                        stop = request
                        hard_kill_at = self._stop(pid, request)
                now = time.monotonic()
                if hard_kill_at is not None and now >= hard_kill_at:
                    kill_group(pid)
                    hard_kill_at = None
                if stop is None and now >= deadline:
                    if _exited(pidfd):
                        break
                    stop = StopReason.TIMEOUT
                    hard_kill_at = self._stop(pid, stop)
                if stop is None and now >= next_watch:
                    next_watch = now + self.watch_interval
                    if count_group(pid, self.nproc_cap) > self.nproc_cap:
                        stop = StopReason.FORK_BOMB
                        kill_group(pid)
            signal_group(pid, signal.SIGKILL)  # stragglers; the leader is not reaped yet
            _, status, usage = os.wait4(pid, 0)
            ended = time.time()
            _drain(log_r, log.feed)
            _drain(report_r, report.extend)
        finally:
            os.close(pidfd)
            log.close()
        reap_orphans()
        outcome = self._judge(job, status, bytes(report), stop)
        if outcome["status"] != OutcomeStatus.SUCCESS or not outcome["result_written"]:
            _remove(job["result_path"])
        limit = int(job["memory_mib"]) * MIB
        outcome.update(
            job_id=job["job_id"],
            job_pid=pid,
            worker_pid=os.getpid(),
            start_time=started,
            end_time=ended,
            started_at=_stored(started),
            ended_at=_stored(ended),
            runtime=round(ended - started),
            log_truncated=log.truncated,
            stop_reason=stop,
            statistics=job_statistics(
                cpu_ns=int((usage.ru_utime + usage.ru_stime) * 1e9),
                wall_s=ended - started,
                peak_bytes=usage.ru_maxrss * 1024,
                limit_bytes=limit,
            ),
        )
        outcome["op"] = "done"
        return outcome

    def _pump(self, fd: int, sink: Any) -> bool:
        data = os.read(fd, _READ_SIZE)
        if not data:
            return False
        sink(data)
        return True

    def _control(self, job_id: str, poller: select.poll, ctl: int) -> StopReason | None:
        """Read control messages during a job; the stop they ask for, if any."""
        messages = recv_frames(self.sock, self.decoder)
        if messages is None:  # the pool went away: stop the job and leave
            poller.unregister(ctl)
            self.exiting = True
            return StopReason.SHUTDOWN
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

    def _stop(self, pid: int, reason: StopReason) -> float | None:
        """Start a deliberate stop; when to follow up with SIGKILL (``None``: already sent)."""
        if self.term_grace > 0:
            kill_group(pid, signal.SIGTERM)
            return time.monotonic() + self.term_grace
        kill_group(pid)
        return None

    def _judge(
        self, job: dict[str, Any], status: int, raw_report: bytes, stop: StopReason | None
    ) -> dict[str, Any]:
        exit_code = _exit_code(status)
        base: dict[str, Any] = {"exit_code": exit_code, "result_written": False}
        base["result_attributes"] = None
        if stop is StopReason.TIMEOUT:
            reason = f"Timed out after {float(job['timeout_s']):g} s"
            return {**base, "status": OutcomeStatus.TIMEOUT, "error_reason": reason}
        if stop is StopReason.CANCEL:
            return {**base, "status": OutcomeStatus.CANCELED, "error_reason": "Canceled"}
        if stop is StopReason.SHUTDOWN:
            return {
                **base,
                "status": OutcomeStatus.CANCELED,
                "error_reason": "Canceled: the server is shutting down",
            }
        if stop is StopReason.FORK_BOMB:
            return {
                **base,
                "status": OutcomeStatus.FAILURE,
                "error_reason": f"Fork bomb: the job ran more than {self.nproc_cap} processes "
                "at once and was killed",
            }
        report = _parse_report(raw_report)
        if os.WIFSIGNALED(status):
            signum = os.WTERMSIG(status)
            reason = describe_signal(signum)
            if signum in (signal.SIGKILL, signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS):
                reason += (
                    f"; if it ran out of memory, note the function's memory limit of "
                    f"{job['memory_mib']} MiB"
                )
            return {**base, "status": OutcomeStatus.FAILURE, "error_reason": reason}
        if report is None:
            if exit_code == 0:  # os._exit(0): the job ended cleanly without a return value
                return {**base, "status": OutcomeStatus.SUCCESS, "error_reason": None}
            return {
                **base,
                "status": OutcomeStatus.FAILURE,
                "error_reason": f"Exited with code {exit_code}",
            }
        if report.get("ok"):
            return {
                **base,
                "status": OutcomeStatus.SUCCESS,
                "error_reason": None,
                "result_written": bool(report.get("result")),
                "result_attributes": report.get("attributes") if report.get("result") else None,
            }
        return {
            **base,
            "status": OutcomeStatus.FAILURE,
            "error_reason": str(report.get("reason") or f"Exited with code {exit_code}"),
        }


def _exited(pidfd: int) -> bool:
    return bool(select.select([pidfd], [], [], 0)[0])


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return signal_exit_code(os.WTERMSIG(status))
    return os.waitstatus_to_exitcode(status)


def _drain(fd: int, sink: Any) -> None:
    """Read what is left in a pipe without waiting for writers that may never close it."""
    os.set_blocking(fd, False)
    while True:
        try:
            data = os.read(fd, _READ_SIZE)
        except BlockingIOError:
            return
        if not data:
            return
        sink(data)


def _parse_report(raw: bytes) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        report = json.loads(raw)
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


def _remove(path: str) -> None:
    for candidate in (path, path + ".partial"):
        try:
            os.unlink(candidate)
        except OSError:
            pass


def _stored(epoch: float) -> str:
    return format_timestamp(parse_timestamp(epoch))


if __name__ == "__main__":
    main()
