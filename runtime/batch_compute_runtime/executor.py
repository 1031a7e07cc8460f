"""The job process: a warm interpreter that runs the jobs of one function, in turn, in-process.

Started by its supervisor (``batch_compute_mock.executors.local.supervisor``) as
``python -I -m batch_compute_runtime CONFIG`` (``frames.ExecutorConfig``) for one key
(function, bundle, memory), with fds 1 and 2 already on the log pipe the supervisor reads and
its own process group. It runs on whatever interpreter the function asked for, so this module
uses the standard library only and runs on Python 3.8 and newer.

At start it dies with the supervisor (``PR_SET_PDEATHSIG``), becomes a child subreaper (so
orphaned descendants of a job stay its children and are noticed), applies the rlimits
(``limits``; ``RLIMIT_AS`` from the key's memory), puts the bundle root first on ``sys.path``
and ``CLIENT_SHIMS_DIR`` last (stand-ins for ``descarteslabs.compute`` /
``earthdaily.earthone.compute`` that only count when the real client is not installed).

Then, per ``JobFrame`` read from the job pipe: reset the peak-RSS counter, lay the job's
environment over the base one and ``chdir`` into the scratch dir, import ``__dlentrypoint__``
(once; later jobs reuse the module, like any warm serverless runtime), call
``main(*args, **kwargs)``, serialise the return value (``serialize``) and write the bytes to
``result_path``, flush stdout/stderr, restore the environment and cwd, and send one
``ReportFrame``.

A process is tainted when the job left processes or threads running or hit ``MemoryError``;
the supervisor then kills its whole process group and starts a fresh one for the next job.
A job that kills the process (crash, ``os._exit``) is judged by the supervisor from the wait
status. Because the report is written after stdout/stderr are flushed, every byte of the job's
output is in the log pipe before the report arrives.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import importlib
import json
import os
import resource
import signal
import sys
import threading
import time
import traceback
from typing import Any, NoReturn

from .frames import ExecutorConfig, FrameDecoder, JobFrame, ReportFrame, encode_frame
from .limits import apply_job_limits
from .procs import reap_orphans
from .serialize import ResultError, serialize_return

__all__ = ["CLIENT_SHIMS_DIR", "ENTRYPOINT_MODULE", "Executor", "main"]

ENTRYPOINT_MODULE = "__dlentrypoint__"
#: ``ComputeResult`` / ``Serializable`` under the genuine clients' module names (standard library
#: only); appended to the END of a job's ``sys.path``, so an installed client always wins.
CLIENT_SHIMS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "client_shims")
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_SETUP_FAILED = 70  # EX_SOFTWARE
_libc = ctypes.CDLL(None, use_errno=True)


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: ``argv[1]`` is the ``ExecutorConfig`` as JSON; never returns."""
    code = _SETUP_FAILED
    try:
        config: ExecutorConfig = json.loads((sys.argv if argv is None else argv)[1])
        try:
            _enter(config)
        except BaseException as exc:  # tell the job it was given, then leave
            traceback.print_exc()
            _refuse(config, f"Job setup failed: {_summary(exc)}")
        else:
            Executor(config["job_fd"], config["report_fd"]).serve()
            code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _enter(config: ExecutorConfig) -> None:
    if config.get("own_group", True):
        with contextlib.suppress(OSError):  # the supervisor set the group before exec: same
            os.setpgid(0, 0)
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # die with the supervisor
    if os.getppid() != config["supervisor_pid"]:
        os._exit(_SETUP_FAILED)  # it died before we could tie ourselves to it
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the supervisor ignores it
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a sandbox's bwrap ignores it, we must not
    faulthandler.enable()  # a segfaulting job dumps its Python stack into its own log
    apply_job_limits(
        memory_mib=config["memory_mib"],
        headroom_mib=config["memory_headroom_mib"],
        fsize_cap_bytes=config["fsize_cap_bytes"],
        nproc_limit=config["nproc_limit"],
    )
    bundle_dir = config["bundle_dir"]
    sys.path[0:0] = [bundle_dir, *config["python_path"]]
    sys.path.append(CLIENT_SHIMS_DIR)
    sys.argv = [os.path.join(bundle_dir, ENTRYPOINT_MODULE + ".py")]
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # lines reach the log while the job runs
    for name in config["preload"]:
        importlib.import_module(name)


class Executor:
    """The job loop of the executor process."""

    def __init__(self, job_fd: int, report_fd: int) -> None:
        self.job_fd = job_fd
        self.report_fd = report_fd
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
            job: JobFrame = self.inbox.pop(0)  # type: ignore[assignment]
            report = self.run(job)
            _write_all(self.report_fd, encode_frame(report))

    def run(self, job: JobFrame) -> ReportFrame:
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
            report["taint"] = None
        finally:
            _flush()
            self._restore()
        report["taint"] = report.get("taint") or self._leftovers()
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


def _refuse(config: ExecutorConfig, reason: str) -> None:
    """The process could not be set up: answer the job it is given with why, so the job fails
    with a reason rather than a bare exit code."""
    decoder = FrameDecoder()
    while True:
        data = os.read(config["job_fd"], 1 << 16)
        if not data:
            return  # no job came
        if decoder.feed(data):
            break
    report: ReportFrame = {
        "ok": False,
        "exit_code": _SETUP_FAILED,
        "reason": reason,
        "taint": reason,
        "cpu_ns": 0,
        "cpu_total_ns": _cpu_ns(),
        "peak_bytes": 0,
    }
    _write_all(config["report_fd"], encode_frame(report))


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


def _call(job: JobFrame, my_pid: int) -> ReportFrame:
    try:
        if job.get("fault"):
            value = _act_out(job["fault"] or {})
        else:
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


class InjectedFault(Exception):
    """The failure a test asked for (``fail``)."""


def _act_out(fault: dict[str, Any]) -> Any:
    """Do what a test's fault says, the way a real job would fail: raise, exit, die by a
    signal, or run past the timeout (the supervisor then kills it)."""
    action = fault.get("action")
    print(f"Injected fault: {action}", file=sys.stderr)
    _flush()
    if action == "exit":
        os._exit(int(fault.get("code", 1)))
    if action == "signal":
        os.kill(os.getpid(), int(fault.get("signal", signal.SIGKILL)))
    if action in ("timeout", "signal"):
        while True:
            time.sleep(60)
    raise InjectedFault(f"this attempt fails on purpose ({action})")


def _forked_by_job(my_pid: int, code: int) -> None:
    """A process the job forked (without exec) came back here: it must not report."""
    if os.getpid() != my_pid:
        _flush()
        os._exit(code)


def _system_exit(exc: SystemExit) -> ReportFrame:
    code = exc.code
    if code is None or code == 0:
        return {"ok": True, "result": False, "attributes": None}
    if isinstance(code, int):
        return {"ok": False, "exit_code": code & 0xFF, "reason": f"Exited with code {code}"}
    print(code, file=sys.stderr)
    return {"ok": False, "exit_code": 1, "reason": f"SystemExit: {code}"}


def _memory_error(exc: MemoryError, memory_mib: int) -> ReportFrame:
    detail = str(exc)
    reason = (
        f"MemoryError: {detail + ': ' if detail else ''}the job exceeded the function's "
        f"memory limit of {memory_mib} MiB"
    )
    traceback.clear_frames(exc.__traceback__)  # free what the job allocated before formatting
    with contextlib.suppress(MemoryError):
        _print_traceback(exc)
    return {"ok": False, "exit_code": 1, "reason": reason, "taint": "MemoryError"}


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
