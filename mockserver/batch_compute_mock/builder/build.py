"""Building a function: check the bundle, install (or check) its requirements, unpack it.

With ``EnvironmentOptions(mode="install")`` the requirements are installed with uv into the
function's environment (``environments``) on the Python its image names (``pythons``); with
``mode="check"`` (or no options) they are only checked against the server's own environment
and jobs run on the server's interpreter. Every step is logged.

The build log is what ``Function.build_log()`` shows the user, so it says what was checked
and, on failure, exactly why (last line ``Build failed: <reason>``). A bad bundle is an
outcome, not an error: ``build_function`` returns ``ok=False`` rather than raising.
"""

from __future__ import annotations

import gzip
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batch_compute_mock.builder.bundle import (
    BundleError,
    BundleLimits,
    BundleReport,
    extract_bundle,
    inspect_bundle,
)
from batch_compute_mock.builder.environments import (
    EnvironmentBuildError,
    EnvironmentSpec,
    EnvironmentStore,
)
from batch_compute_mock.builder.pythons import choose_python
from batch_compute_mock.builder.requirements import check_requirements
from batch_compute_mock.builder.sandbox import SandboxPolicy
from batch_compute_mock.kernel.timestamps import utc_now, z_timestamp

__all__ = ["BuildResult", "EnvironmentOptions", "build_function", "gzip_log"]


@dataclass(frozen=True)
class BuildResult:
    """``reason`` is the one-line cause of a failure (also the log's last line), else None;
    ``environment_spec`` is the environment jobs run in (``EnvironmentSpec.to_json()``;
    None: the server's own Python)."""

    ok: bool
    log: str
    reason: str | None = None
    environment_spec: dict[str, Any] | None = None


@dataclass(frozen=True)
class EnvironmentOptions:
    """How requirements are handled (``serve --requirements``); plain data, sent as JSON to
    the build process. ``root`` holds the environments, ``max_bytes`` caps them."""

    mode: str = "check"  #: "install" or "check"
    root: str = ""
    image: str = ""
    allow_downloads: bool = False
    max_bytes: int | None = None
    #: The ``SandboxPolicy`` (as JSON) uv runs in; None: unconfined.
    sandbox: dict[str, Any] | None = None


@dataclass
class _Log:
    lines: list[str] = field(default_factory=list)
    echo: Callable[[str], None] | None = None

    def __call__(self, message: str) -> None:
        line = f"{z_timestamp(utc_now())} {message}"
        self.lines.append(line)
        if self.echo is not None:
            self.echo(line)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def build_function(
    zip_path: Path,
    dest_dir: Path,
    limits: BundleLimits | None = None,
    environment: EnvironmentOptions | None = None,
    echo: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build the bundle at ``zip_path`` into ``dest_dir`` (replaced only on success);
    ``echo`` gets each log line as it is written (so a build that is killed keeps its log)."""
    limits = limits or BundleLimits()
    environment = environment or EnvironmentOptions()
    installing = environment.mode == "install"
    zip_path, dest_dir = Path(zip_path), Path(dest_dir)
    log = _Log(echo=echo)
    try:
        size = f"{zip_path.stat().st_size} bytes"
    except OSError:
        size = "unreadable"
    python = "" if installing else f", Python {platform.python_version()}"
    log(f"Build started: bundle {zip_path.name} ({size}){python}")

    def fail(reason: str) -> BuildResult:
        log(f"Build failed: {reason}")
        return BuildResult(False, log.text(), reason)

    log("Step 1/3: checking the bundle")
    try:
        report = inspect_bundle(zip_path, limits)
    except BundleError as exc:
        return fail(str(exc))
    _log_report(log, report)

    built = None
    if installing:
        log("Step 2/3: building the environment")
        try:
            built = _install_requirements(log, report.requirements, environment)
        except EnvironmentBuildError as exc:
            return fail(str(exc))
    else:
        log("Step 2/3: checking requirements")
        reason = _check_requirements(log, report.requirements)
        if reason is not None:
            return fail(reason)

    log("Step 3/3: unpacking the bundle")
    try:
        extract_bundle(zip_path, dest_dir, limits)
    except BundleError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"The bundle could not be unpacked ({exc.strerror or exc})")
    log(f"  Unpacked {len(report.files)} files")
    log("Build succeeded")
    return BuildResult(True, log.text(), environment_spec=built)


def _log_report(log: _Log, report: BundleReport) -> None:
    for check in report.checks:
        log(f"  ok: {check}")
    log(f"  Files ({len(report.files)}, {report.total_bytes} bytes):")
    for entry in report.files:
        log(f"    {entry.name} ({entry.size} bytes)")


def _install_requirements(
    log: _Log, text: str | None, options: EnvironmentOptions
) -> dict[str, Any]:
    """Build (or reuse) the environment for ``text`` on the image's Python; its spec."""
    uv = _uv()
    sandbox = SandboxPolicy.from_json(options.sandbox) if options.sandbox else None
    store = EnvironmentStore(
        Path(options.root), uv, allow_downloads=options.allow_downloads, sandbox=sandbox
    )
    choice = choose_python(options.image, uv, allow_downloads=options.allow_downloads)
    interpreter = choice.interpreter
    if choice.note is None:
        log(f"  Python {interpreter.version} ({interpreter.path}) for image {options.image}")
    else:
        log(
            f"  Python {interpreter.version} ({interpreter.path}) instead of the image's: "
            f"{choice.note}"
        )
    if text is None:
        log("  No requirements.txt: the environment has the job runtime only")
    spec = EnvironmentSpec.of(text, interpreter)
    for line in spec.requirements:
        log(f"  requirement: {line}")
    store.ensure(spec, log)
    if options.max_bytes is not None:
        store.evict(options.max_bytes, log, keep=spec.key)
    return spec.to_json()


def _uv() -> str:
    import uv

    return uv.find_uv_bin()


def _check_requirements(log: _Log, text: str | None) -> str | None:
    """Log each requirement's outcome; the failure reason, or None if all are satisfied."""
    if text is None:
        log("  No requirements.txt; nothing to check")
        return None
    log(
        "  Requirements are not installed: jobs run in the server's Python environment, "
        "so each must already be satisfied there"
    )
    checks = check_requirements(text)
    if not checks:
        log("  requirements.txt lists no requirements")
    for check in checks:
        log(f"  line {check.line_number}: {check.line}: {check.outcome} - {check.message}")
    failed = [check for check in checks if check.failed]
    if not failed:
        return None
    listed = "; ".join(f"{check.line} ({check.outcome})" for check in failed)
    return f"requirements not satisfied: {listed}"


def gzip_log(text: str) -> bytes:
    """The build log as the client expects it: gzip bytes of UTF-8 (wire protocol 5.6).

    ``mtime=0`` keeps the bytes identical for identical text.
    """
    return gzip.compress(text.encode("utf-8"), mtime=0)
