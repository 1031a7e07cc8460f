"""Building a function: check the bundle, check its requirements, unpack it; log every step.

The build log is what ``Function.build_log()`` shows the user, so it says what was checked
and, on failure, exactly why (last line ``Build failed: <reason>``). A bad bundle is an
outcome, not an error: ``build_function`` returns ``ok=False`` rather than raising.
"""

from __future__ import annotations

import gzip
import platform
from dataclasses import dataclass, field
from pathlib import Path

from batch_compute_mock.builder.bundle import (
    BundleError,
    BundleLimits,
    BundleReport,
    extract_bundle,
    inspect_bundle,
)
from batch_compute_mock.builder.requirements import check_requirements
from batch_compute_mock.kernel.timestamps import utc_now, z_timestamp

__all__ = ["BuildResult", "build_function", "gzip_log"]


@dataclass(frozen=True)
class BuildResult:
    """``reason`` is the one-line cause of a failure (also the log's last line), else None."""

    ok: bool
    log: str
    reason: str | None = None


@dataclass
class _Log:
    lines: list[str] = field(default_factory=list)

    def __call__(self, message: str) -> None:
        self.lines.append(f"{z_timestamp(utc_now())} {message}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def build_function(
    zip_path: Path, dest_dir: Path, limits: BundleLimits | None = None
) -> BuildResult:
    """Build the bundle at ``zip_path`` into ``dest_dir`` (replaced only on success)."""
    limits = limits or BundleLimits()
    zip_path, dest_dir = Path(zip_path), Path(dest_dir)
    log = _Log()
    try:
        size = f"{zip_path.stat().st_size} bytes"
    except OSError:
        size = "unreadable"
    log(f"Build started: bundle {zip_path.name} ({size}), Python {platform.python_version()}")

    def fail(reason: str) -> BuildResult:
        log(f"Build failed: {reason}")
        return BuildResult(False, log.text(), reason)

    log("Step 1/3: checking the bundle")
    try:
        report = inspect_bundle(zip_path, limits)
    except BundleError as exc:
        return fail(str(exc))
    _log_report(log, report)

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
    return BuildResult(True, log.text())


def _log_report(log: _Log, report: BundleReport) -> None:
    for check in report.checks:
        log(f"  ok: {check}")
    log(f"  Files ({len(report.files)}, {report.total_bytes} bytes):")
    for entry in report.files:
        log(f"    {entry.name} ({entry.size} bytes)")


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
