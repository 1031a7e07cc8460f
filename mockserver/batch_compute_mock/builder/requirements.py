"""Checking a bundle's ``requirements.txt`` against the server's own Python environment.

Jobs run in the server's Python environment, and the server does not ``pip install`` at
build time (it must work without network access and must not change its own environment
under other functions' feet). So a requirement is *checked*, not installed: the build
succeeds only if every applicable requirement is already satisfied here.

Lines pip would accept but that cannot be checked are noted and skipped: pip options
(``-r``, ``--index-url``, ``-e`` ...), bare URLs and paths, and per-requirement options such
as ``--hash``. A ``name @ url`` requirement is checked by name only; the URL is not fetched.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
from dataclasses import dataclass
from enum import StrEnum

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = [
    "Outcome",
    "RequirementCheck",
    "check_requirements",
    "logical_lines",
    "requirements_satisfied",
]

_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|\.{1,2}/|/|~)")
_INLINE_COMMENT = re.compile(r"(?:^|\s+)#.*$")
_LINE_OPTIONS = re.compile(r"\s+--[A-Za-z].*$")


class Outcome(StrEnum):
    SATISFIED = "satisfied"
    MISSING = "missing"
    WRONG_VERSION = "wrong version"
    UNPARSABLE = "unparsable"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class RequirementCheck:
    """The verdict on one logical line of ``requirements.txt`` (``line_number`` is 1-based)."""

    line_number: int
    line: str
    outcome: Outcome
    message: str
    name: str | None = None
    installed: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome in (Outcome.MISSING, Outcome.WRONG_VERSION, Outcome.UNPARSABLE)


def requirements_satisfied(checks: list[RequirementCheck]) -> bool:
    """Whether a build may go ahead: nothing missing, wrong or unparsable."""
    return not any(check.failed for check in checks)


def check_requirements(text: str) -> list[RequirementCheck]:
    """One check per requirement, option or URL line; blank and comment lines give none."""
    return [_check_line(number, line) for number, line in logical_lines(text)]


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Non-empty lines with comments removed and ``\\`` continuations joined, as pip reads them."""
    result: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        line = _INLINE_COMMENT.sub("", pending + raw).strip()
        pending = ""
        if line:
            result.append((start, line))
    if pending.strip():
        line = _INLINE_COMMENT.sub("", pending).strip()
        if line:
            result.append((start, line))
    return result


def _check_line(number: int, line: str) -> RequirementCheck:
    if line.startswith("-"):
        return RequirementCheck(
            number, line, Outcome.SKIPPED, "pip option ignored: nothing is installed at build time"
        )
    if _URL.match(line):
        return RequirementCheck(
            number,
            line,
            Outcome.SKIPPED,
            "URL or path not installed: nothing is fetched at build time",
        )
    spec, options = line, ""
    if match := _LINE_OPTIONS.search(line):
        spec, options = line[: match.start()], match.group().strip()
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        return RequirementCheck(number, line, Outcome.UNPARSABLE, f"cannot be parsed: {exc}")
    notes = []
    if options:
        notes.append(f"options {options!r} ignored")
    if req.url:
        notes.append("URL not fetched; checked by name only")
    if req.extras:
        notes.append("extras not checked")
    if req.marker is not None:
        try:
            applies = req.marker.evaluate({"extra": ""})
        except Exception as exc:  # packaging raises several unrelated types here
            return RequirementCheck(
                number, line, Outcome.UNPARSABLE, f"marker cannot be evaluated: {exc}", req.name
            )
        if not applies:
            return RequirementCheck(
                number,
                line,
                Outcome.SKIPPED,
                f"marker '{req.marker}' does not apply here",
                req.name,
            )
    return _check_installed(number, line, req, "; ".join(notes))


def _check_installed(number: int, line: str, req: Requirement, notes: str) -> RequirementCheck:
    suffix = f" ({notes})" if notes else ""
    installed = _installed_version(req.name)
    if installed is None:
        return RequirementCheck(
            number, line, Outcome.MISSING, f"{req.name} is not installed{suffix}", req.name
        )
    wanted = str(req.specifier)
    if not wanted or _version_matches(req, installed):
        return RequirementCheck(
            number,
            line,
            Outcome.SATISFIED,
            f"{req.name} {installed} is installed{suffix}",
            req.name,
            installed,
        )
    return RequirementCheck(
        number,
        line,
        Outcome.WRONG_VERSION,
        f"{req.name} {installed} is installed, but {wanted} is required{suffix}",
        req.name,
        installed,
    )


def _version_matches(req: Requirement, installed: str) -> bool:
    """Whether ``installed`` meets the specifier; a ``+local`` label is tolerated."""
    try:
        version = Version(installed)
    except InvalidVersion:
        return False
    if req.specifier.contains(version, prereleases=True):
        return True
    return version.local is not None and req.specifier.contains(
        Version(version.public), prereleases=True
    )


def _installed_version(name: str) -> str | None:
    """The installed version of a distribution, matching names as PEP 503 normalises them."""
    wanted = canonicalize_name(name)
    for candidate in dict.fromkeys((name, wanted, wanted.replace("-", "_"))):
        try:
            return metadata.distribution(candidate).version
        except metadata.PackageNotFoundError:
            continue
    for dist in metadata.distributions():
        found = dist.metadata["Name"]
        if found and canonicalize_name(found) == wanted:
            return dist.version
    return None
