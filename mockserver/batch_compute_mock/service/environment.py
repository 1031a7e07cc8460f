"""The rule for environment variables a function or a job sets: what ``execve`` can take.

A name is a shell identifier (letters, digits, ``_``; not starting with a digit) of at most
256 characters; a value is text without NUL (the C environment ends each string at NUL, so
``A=1\\0B=2`` would set something else than was asked). Checked when a function or a job is
created or edited, so a bad variable is a 4xx naming it, never a job that fails to start.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["environment_errors"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,255}")


def environment_errors(environment: Mapping[str, Any] | None) -> list[str]:
    """One message per variable that breaks the rule (empty when all are fine)."""
    problems = []
    for name, value in (environment or {}).items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            problems.append(
                f"{name!r} is not a valid environment variable name: use letters, digits and "
                "'_', not starting with a digit (at most 256 characters)."
            )
        elif not isinstance(value, str):
            problems.append(f"the value of {name} must be a string.")
        elif "\x00" in value:
            problems.append(f"the value of {name} contains a NUL character, which cannot be set.")
    return problems
