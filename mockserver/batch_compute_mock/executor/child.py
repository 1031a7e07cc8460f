"""The executor process: a warm process that runs the jobs of one function, in turn, in-process.

Forked from the supervisor (``worker``) for one key (function, bundle, entrypoint mtime,
memory). At start it leads its own process group, dies with the supervisor
(``PR_SET_PDEATHSIG``), becomes a child subreaper (so orphaned descendants of a job stay its
children and are noticed), points fds 1 and 2 at the log pipe the supervisor reads (so
``print``, ``os.write(1, ...)``, C extensions and subprocesses are all captured), applies the
rlimits (``limits``; ``RLIMIT_AS`` from the key's memory), puts the bundle root first on
``sys.path`` and ``CLIENT_SHIMS_DIR`` last (stand-ins for ``descarteslabs.compute`` /
``earthdaily.earthone.compute`` that only count when the real client is not installed).

Then, per job frame read from the job pipe: reset the peak-RSS counter, lay the job's
environment over the base one and ``chdir`` into the scratch dir, import ``__dlentrypoint__``
(once; later jobs reuse the module, like any warm serverless runtime), call
``main(*args, **kwargs)``, serialise the return value (``results``) and write the bytes to
``result_path``, flush stdout/stderr, restore the environment and
cwd, and send one report frame:

    {"ok": true, "result": bool, "attributes": {...}|null, ...}
    {"ok": false, "exit_code": int, "reason": str, ...}
    ... "cpu_ns": job CPU, "cpu_total_ns": lifetime CPU, "peak_bytes": job peak RSS,
        "taint": null | why this process must not run another job

A process is tainted when the job left processes or threads running or hit ``MemoryError``;
the supervisor then kills its whole process group and forks a fresh executor for the next job.
A job that kills the process (crash, ``os._exit``) is judged by the supervisor from the wait
status. Because the report is written after stdout/stderr are flushed, every byte of the job's
output is in the log pipe before the report arrives.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import resource
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from .limits import apply_job_limits
from .procs import reap_orphans
from .protocol import FrameDecoder, encode_frame
from .results import ResultError, serialize_return

__all__ = ["CLIENT_SHIMS_DIR", "ENTRYPOINT_MODULE", "Executor", "executor_main"]

ENTRYPOINT_MODULE = "__dlentrypoint__"
#: ``ComputeResult`` / ``Serializable`` under the genuine clients' module names (standard library
#: only); appended to the END of a job's ``sys.path``, so an installed client always wins.
CLIENT_SHIMS_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "client_shims"
)
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_SETUP_FAILED = 70  # EX_SOFTWARE
_libc = ctypes.CDLL(None, use_errno=True)


def executor_main(
    *,
    job_fd: int,
    report_fd: int,
    log_fd: int,
    close_fds: Sequence[int],
    supervisor_pid: int,
    bundle_dir: str,
    memory_mib: int,
    limits: dict[str, Any],
) -> NoReturn:
    """Body of the forked executor process; never returns."""
    code = _SETUP_FAILED
    try:
        _enter(log_fd, close_fds, supervisor_pid, bundle_dir, memory_mib, limits)
        Executor(job_fd, report_fd, memory_mib).serve()
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _enter(
    log_fd: int,
    close_fds: Sequence[int],
    supervisor_pid: int,
    bundle_dir: str,
    memory_mib: int,
    limits: dict[str, Any],
) -> None:
    with contextlib.suppress(OSError):  # the supervisor's setpgid may win the race: same result
        os.setpgid(0, 0)
    _libc.prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0)  # SIGKILL when the supervisor dies
    if os.getppid() != supervisor_pid:
        os._exit(_SETUP_FAILED)
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the supervisor ignores it
    for fd in close_fds:
        os.close(fd)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    apply_job_limits(
        memory_mib=memory_mib,
        headroom_mib=limits["memory_headroom_mib"],
        fsize_cap_bytes=limits["fsize_cap_bytes"],
        nproc_limit=limits["nproc_limit"],
    )
    sys.path.insert(0, bundle_dir)
    sys.path.append(CLIENT_SHIMS_DIR)
    sys.argv = [os.path.join(bundle_dir, ENTRYPOINT_MODULE + ".py")]
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # lines reach the log while the job runs


class Executor:
    """The job loop of the executor process."""

    def __init__(self, job_fd: int, report_fd: int, memory_mib: int) -> None:
        self.job_fd = job_fd
        self.report_fd = report_fd
        self.memory_mib = memory_mib
        self.decoder = FrameDecoder()
        self.inbox: list[dict[str, Any]] = []
        self.base_env = dict(os.environ)
        self.base_threads = threading.active_count()
        # Kept open and re-read with pread: /proc files regenerate at offset 0.
        self.children_fd = _open_proc(f"/proc/self/task/{threading.get_native_id()}/children")
        self.status_fd = _open_proc("/proc/self/status")
        self.clear_refs = _open_proc("/proc/self/clear_refs", os.O_WRONLY)
        self.pid = os.getpid()

    def serve(self) -> None:
        while True:
            while not self.inbox:
                data = os.read(self.job_fd, 1 << 16)
                if not data:
                    return  # the supervisor closed the job pipe: retire
                self.inbox.extend(self.decoder.feed(data))
            report = self.run(self.inbox.pop(0))
            _write_all(self.report_fd, encode_frame(report))

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        cpu_before = _cpu_ns()
        if self.clear_refs is not None:
            try:
                os.write(self.clear_refs, b"5")  # reset VmHWM: the peak is this job's
            except OSError:
                self.clear_refs = None
        environment = dict(job["environment"])
        environment.setdefault("TMPDIR", job["work_dir"])
        try:
            os.environ.update(environment)
            os.chdir(job["work_dir"])
            report = _call(job, self.pid)
        except OSError as exc:  # the scratch dir vanished, or similar
            report = {"ok": False, "exit_code": 1, "reason": f"Job setup failed: {exc}"}
        finally:
            _flush()
            self._restore()
        report["taint"] = report.pop("memory_error", None) or self._leftovers()
        cpu_after = _cpu_ns()
        report["cpu_ns"] = cpu_after - cpu_before
        report["cpu_total_ns"] = cpu_after
        report["peak_bytes"] = _peak_bytes(self.status_fd)
        return report

    def _restore(self) -> None:
        os.chdir("/")
        if os.environ != self.base_env:
            for name in [n for n in os.environ if n not in self.base_env]:
                del os.environ[name]
            for name, value in self.base_env.items():
                if os.environ.get(name) != value:
                    os.environ[name] = value

    def _leftovers(self) -> str | None:
        """Why this process must not run another job, if the job left something behind."""
        reap_orphans()
        children = []
        if self.children_fd is not None:
            children = os.pread(self.children_fd, 1 << 16, 0).split()
        if children:
            _kill_escapees([int(pid) for pid in children])
            return f"the job left {len(children)} process(es) running"
        if threading.active_count() > self.base_threads:
            return "the job left threads running"
        return None


def _kill_escapees(pids: list[int]) -> None:
    """Kill children that left this process group (``setsid``, ``start_new_session``) with
    their own groups; the supervisor kills this group, which holds all the others."""
    own = os.getpgrp()
    for pid in pids:
        with contextlib.suppress(OSError):
            group = os.getpgid(pid)
            if group != own:
                os.killpg(group, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)


def _call(job: dict[str, Any], my_pid: int) -> dict[str, Any]:
    try:
        module = importlib.import_module(ENTRYPOINT_MODULE)
        main = getattr(module, "main", None)
        if not callable(main):
            raise AttributeError(f"{ENTRYPOINT_MODULE}.py does not define a callable 'main'")
        value = main(*job["args"], **job["kwargs"])
    except SystemExit as exc:
        _forked_by_job(my_pid, 1)
        return _system_exit(exc)
    except MemoryError as exc:
        _forked_by_job(my_pid, 1)
        return _memory_error(exc, job["memory_mib"])
    except BaseException as exc:
        _forked_by_job(my_pid, 1)
        _print_traceback(exc)
        return {"ok": False, "exit_code": 1, "reason": _summary(exc)}
    _forked_by_job(my_pid, 0)
    try:
        serialized = serialize_return(value)
        if serialized.data is not None:
            _write_result(job["result_path"], serialized.data)
    except ResultError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return {"ok": False, "exit_code": 1, "reason": str(exc)}
    except MemoryError as exc:
        return _memory_error(exc, job["memory_mib"])
    except OSError as exc:
        reason = f"Could not write the result: {_summary(exc)}"
        print(reason, file=sys.stderr)
        return {"ok": False, "exit_code": 1, "reason": reason}
    finally:
        value = None  # drop the return value before the next job
    return {"ok": True, "result": serialized.data is not None, "attributes": serialized.attributes}


def _forked_by_job(my_pid: int, code: int) -> None:
    """A process the job forked (without exec) came back here: it must not report."""
    if os.getpid() != my_pid:
        _flush()
        os._exit(code)


def _system_exit(exc: SystemExit) -> dict[str, Any]:
    code = exc.code
    if code is None or code == 0:
        return {"ok": True, "result": False, "attributes": None}
    if isinstance(code, int):
        return {"ok": False, "exit_code": code & 0xFF, "reason": f"Exited with code {code}"}
    print(code, file=sys.stderr)
    return {"ok": False, "exit_code": 1, "reason": f"SystemExit: {code}"}


def _memory_error(exc: MemoryError, memory_mib: int) -> dict[str, Any]:
    detail = str(exc)
    reason = (
        f"MemoryError: {detail + ': ' if detail else ''}the job exceeded the function's "
        f"memory limit of {memory_mib} MiB"
    )
    traceback.clear_frames(exc.__traceback__)  # free what the job allocated before formatting
    with contextlib.suppress(MemoryError):
        _print_traceback(exc)
    return {"ok": False, "exit_code": 1, "reason": reason, "memory_error": "MemoryError"}


def _summary(exc: BaseException) -> str:
    lines = traceback.format_exception_only(type(exc), exc)
    text = lines[-1].strip() if lines else type(exc).__name__
    if isinstance(exc, OSError) and exc.errno == 27:
        text += " (the job hit its file size limit)"
    return text[:10_000]


def _print_traceback(exc: BaseException) -> None:
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is _call.__code__:
        tb = tb.tb_next  # hide this module's frame
    traceback.print_exception(type(exc), exc, tb, file=sys.stderr)


def _write_result(path: str, data: bytes) -> None:
    """Written in place: the supervisor deletes the file unless the job is reported a success
    with a result, so a job killed mid-write leaves nothing behind."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, flags, 0o644)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _cpu_ns() -> int:
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return int((own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime) * 1e9)


def _open_proc(path: str, flags: int = os.O_RDONLY) -> int | None:
    try:
        return os.open(path, flags | os.O_CLOEXEC)
    except OSError:
        return None


def _peak_bytes(status_fd: int | None) -> int:
    """Peak RSS since the last clear_refs reset (VmHWM), else the lifetime peak."""
    if status_fd is not None:
        status = os.pread(status_fd, 1 << 13, 0)
        start = status.find(b"VmHWM:")
        if start >= 0:
            return int(status[start + 6 : status.index(b"kB", start)]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
