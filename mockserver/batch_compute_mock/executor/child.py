"""The job process: forked from a warm worker, runs one job, reports, and exits.

Runs entirely between ``os.fork()`` and ``os._exit()``; it never returns into the worker loop.
Order of work: join its own process group; die with the worker (``PR_SET_PDEATHSIG``); point fds
1 and 2 at the job's log pipe (so ``print``, ``os.write(1, ...)``, C extensions and
subprocesses are all captured); apply rlimits; ``chdir`` into the scratch dir; lay the job's
environment over the inherited one; put the bundle root first on ``sys.path``; import
``__dlentrypoint__`` and call ``main(*args, **kwargs)``; write the result bytes to
``result_path`` (via a temporary file and a rename); send a JSON report down the report pipe.

The report is ``{"ok": true, "result": bool, "attributes": {...}|null}`` or
``{"ok": false, "exit_code": int, "reason": str}``. A job process that dies without one (crash,
``os._exit``) is judged by its wait status in the worker.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from .limits import apply_job_limits
from .results import ResultError, serialize_return

__all__ = ["ENTRYPOINT_MODULE", "run_job_process"]

ENTRYPOINT_MODULE = "__dlentrypoint__"
_PR_SET_PDEATHSIG = 1
_SETUP_FAILED = 70  # EX_SOFTWARE
_libc = ctypes.CDLL(None, use_errno=True)


def run_job_process(
    job: dict[str, Any],
    *,
    log_fd: int,
    report_fd: int,
    close_fds: Sequence[int],
    worker_pid: int,
    limits: dict[str, Any],
) -> NoReturn:
    code = _SETUP_FAILED
    report: dict[str, Any] = {"ok": False, "exit_code": code, "reason": "Worker setup failed"}
    try:
        _enter(job, log_fd=log_fd, close_fds=close_fds, worker_pid=worker_pid, limits=limits)
        report = _call(job, os.getpid())
        code = 0 if report["ok"] else int(report["exit_code"])
    except BaseException as exc:  # our own setup failed: say so rather than die silently
        report = {"ok": False, "exit_code": code, "reason": f"Worker setup failed: {exc!r}"}
    finally:
        _finish(report_fd, report)
        os._exit(code)


def _enter(
    job: dict[str, Any],
    *,
    log_fd: int,
    close_fds: Sequence[int],
    worker_pid: int,
    limits: dict[str, Any],
) -> None:
    try:
        os.setpgid(0, 0)
    except OSError:
        pass  # the worker's setpgid won the race: same result
    _libc.prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0)  # SIGKILL when the worker dies
    if os.getppid() != worker_pid:
        os._exit(_SETUP_FAILED)
    for fd in close_fds:
        os.close(fd)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    apply_job_limits(
        memory_mib=job["memory_mib"],
        headroom_mib=limits["memory_headroom_mib"],
        fsize_cap_bytes=limits["fsize_cap_bytes"],
        nproc_limit=limits["nproc_limit"],
    )
    work_dir = job["work_dir"]
    os.chdir(work_dir)
    environment = dict(job["environment"])
    environment.setdefault("TMPDIR", work_dir)
    os.environ.update(environment)
    bundle = job["bundle_dir"]
    sys.path.insert(0, bundle)
    sys.argv = [os.path.join(bundle, ENTRYPOINT_MODULE + ".py")]
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # lines reach the log while the job runs


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
    return {
        "ok": True,
        "result": serialized.data is not None,
        "attributes": serialized.attributes,
    }


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
    reason = (
        f"MemoryError: {str(exc) + ': ' if str(exc) else ''}the job exceeded the function's "
        f"memory limit of {memory_mib} MiB"
    )
    traceback.clear_frames(exc.__traceback__)  # free what the job allocated before formatting
    try:
        _print_traceback(exc)
    except MemoryError:
        pass
    return {"ok": False, "exit_code": 1, "reason": reason}


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
    partial = path + ".partial"
    try:
        handle = open(partial, "wb")
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle = open(partial, "wb")
    with handle:
        handle.write(data)
    os.replace(partial, path)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _finish(report_fd: int, report: dict[str, Any]) -> None:
    _flush()
    try:
        data = json.dumps(report).encode()
    except (TypeError, ValueError) as exc:
        data = json.dumps({"ok": False, "exit_code": 1, "reason": f"Bad report: {exc}"}).encode()
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(report_fd, view) :]
    except OSError:
        pass
