"""Builds run in a child process, so an untrusted bundle cannot stall or bloat the server.

Compiling a hostile entrypoint (4 MB of one list literal, say) can take a minute and a GiB
of memory, and a malformed archive exercises decompressors; neither may happen inside the
server. ``build_in_child`` runs ``build.build_function`` in a fresh interpreter that first
limits itself (address space, CPU seconds, file size), and the parent waits with a wall-clock
deadline, killing the child's whole process group when it passes. Whatever the child does,
the caller gets a ``BuildResult``: the child's own, or a failure that says what happened.

The protocol is one JSON document each way: the request in ``argv[1]``, the result on stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ..kernel.timestamps import utc_now, z_timestamp
from .build import BuildResult, EnvironmentOptions, build_function
from .bundle import BundleLimits

__all__ = ["BuildLimits", "build_in_child", "child_main"]

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = (
    f"import sys; sys.path.append({_PACKAGE_ROOT!r}); "
    "from batch_compute_mock.builder.isolated import child_main; child_main()"
)
_MIB = 1024 * 1024


@dataclass(frozen=True)
class BuildLimits:
    """What one build may use; a build past a limit fails with a message naming it."""

    memory_mib: int = 1024  #: address space of the build process
    timeout_seconds: float = 600.0  #: wall-clock time, start to finish
    max_file_bytes: int = 512 * _MIB  #: any one file the build writes


def build_in_child(
    zip_path: Path,
    dest_dir: Path,
    bundle_limits: BundleLimits | None = None,
    limits: BuildLimits | None = None,
    environment: EnvironmentOptions | None = None,
) -> BuildResult:
    """``build_function(zip_path, dest_dir, bundle_limits, environment)`` in a limited child
    process (uv, run by it, inherits its limits)."""
    limits = limits or BuildLimits()
    with tempfile.TemporaryDirectory(prefix="build-progress-") as progress_dir:
        progress = Path(progress_dir) / "log"
        return _run_child(zip_path, dest_dir, bundle_limits, limits, environment, progress)


def _run_child(
    zip_path: Path,
    dest_dir: Path,
    bundle_limits: BundleLimits | None,
    limits: BuildLimits,
    environment: EnvironmentOptions | None,
    progress: Path,
) -> BuildResult:
    request = {
        "progress_path": str(progress),
        "zip_path": str(zip_path),
        "dest_dir": str(dest_dir),
        "bundle_limits": asdict(bundle_limits or BundleLimits()),
        "limits": asdict(limits),
        "environment": asdict(environment or EnvironmentOptions()),
    }
    process = subprocess.Popen(
        [sys.executable, "-P", "-c", _BOOT, json.dumps(request)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        cwd="/",
    )
    try:
        stdout, stderr = process.communicate(timeout=limits.timeout_seconds)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        process.communicate()
        return _failed(
            f"the build took longer than its limit of {limits.timeout_seconds:g} s and was stopped",
            progress,
        )
    finally:
        _kill_group(process.pid)  # anything the build left running
    try:
        answer = json.loads(stdout)
        return BuildResult(
            bool(answer["ok"]),
            str(answer["log"]),
            answer.get("reason"),
            answer.get("environment_spec"),
        )
    except (ValueError, KeyError, TypeError):
        return _failed(_died(process.returncode, stderr, limits), progress)


def _died(returncode: int, stderr: bytes, limits: BuildLimits) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else ""
        how = f"was killed by signal {-returncode} {name}".rstrip()
        if -returncode in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT):
            how += f"; it may have run out of memory (the build's limit is {limits.memory_mib} MiB)"
        if -returncode == signal.SIGXCPU:
            how = f"used more than {limits.timeout_seconds:g} s of CPU time"
        return f"the build process {how}"
    last = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
    return f"the build process exited with code {returncode} ({last[0][:500]})"


def _failed(reason: str, progress: Path | None = None) -> BuildResult:
    """A failed build's result: the log the child wrote so far, then the reason."""
    so_far = ""
    if progress is not None:
        with contextlib.suppress(OSError):
            so_far = progress.read_text(errors="replace")
    line = f"{z_timestamp(utc_now())} Build failed: {reason}\n"
    return BuildResult(False, so_far + line, reason)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


# The child ------------------------------------------------------------------------------------


def child_main() -> None:
    """Entry point of the build process: limit itself, build, print the result as JSON."""
    request = json.loads(sys.argv[1])
    limits = BuildLimits(**request["limits"])
    _limit(resource.RLIMIT_AS, limits.memory_mib * _MIB)
    _limit(resource.RLIMIT_CPU, max(1, int(limits.timeout_seconds)))
    _limit(resource.RLIMIT_FSIZE, limits.max_file_bytes)
    _limit(resource.RLIMIT_CORE, 0)
    progress = open(request["progress_path"], "a", encoding="utf-8")  # noqa: SIM115

    def echo(line: str) -> None:
        progress.write(line + "\n")
        progress.flush()

    try:
        result = build_function(
            Path(request["zip_path"]),
            Path(request["dest_dir"]),
            BundleLimits(**request["bundle_limits"]),
            EnvironmentOptions(**request["environment"]),
            echo,
        )
    except MemoryError:
        result = _failed(
            f"the build ran out of memory (its limit is {limits.memory_mib} MiB); the bundle "
            "is too large or its entrypoint too complex to compile",
            Path(request["progress_path"]),
        )
    sys.stdout.write(json.dumps(asdict(result)))
    sys.stdout.flush()


def _limit(kind: int, value: int) -> None:
    _soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))
