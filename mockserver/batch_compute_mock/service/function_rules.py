"""The documented rules for a function's settings: allowed cpus, memory per cpu, image, limits.

The contract's schema already checks types and simple ranges; the rules that depend on two
fields at once (memory for a cpu count) or on a format (the image) live here, and report
every broken rule at once as ``{field: [messages]}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..kernel.errors import ValidationFailed
from .environment import environment_errors

__all__ = ["DEFAULTS", "MEMORY_OPTIONS_MIB", "check_function_settings", "with_defaults"]

GIB = 1024

#: Allowed memory (MiB) for each allowed cpu count, as documented.
MEMORY_OPTIONS_MIB: dict[float, tuple[int, ...]] = {
    0.25: (512, 1 * GIB, 2 * GIB),
    0.5: tuple(range(1 * GIB, 4 * GIB + 1, GIB)),
    1: tuple(range(2 * GIB, 8 * GIB + 1, GIB)),
    2: tuple(range(4 * GIB, 16 * GIB + 1, GIB)),
    4: tuple(range(8 * GIB, 30 * GIB + 1, GIB)),
    8: tuple(range(16 * GIB, 60 * GIB + 1, 4 * GIB)),
    16: tuple(range(32 * GIB, 120 * GIB + 1, 8 * GIB)),
}

#: What a created function gets for each setting the request leaves out; ``memory``
#: defaults to the smallest amount allowed for the function's cpus (see ``with_defaults``).
DEFAULTS: dict[str, Any] = {
    "cpus": 0.25,
    "maximum_concurrency": 10,
    "timeout": 900,
    "retry_count": 0,
    "enabled": True,
    "auto_start": True,
    "environment": None,
}

_IMAGE = re.compile(r"python3\.[0-9]{1,2}:[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def with_defaults(body: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a new function: the request's values, documented defaults for the rest."""
    settings = {**DEFAULTS, **{key: value for key, value in body.items() if value is not None}}
    if "environment" in body:
        settings["environment"] = body["environment"]
    if settings.get("memory") is None:
        options = MEMORY_OPTIONS_MIB.get(settings["cpus"])
        settings["memory"] = options[0] if options else 0
    return settings


def check_function_settings(settings: Mapping[str, Any]) -> None:
    """Raise ``ValidationFailed`` listing every rule the (complete) settings break."""
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    image = settings.get("image")
    if image is not None and not _IMAGE.fullmatch(image):
        fail(
            "image",
            f"{image!r} is not a supported image; use 'python3.X:tag', e.g. 'python3.11:latest'.",
        )
    name = settings.get("name")
    if name is not None and not name.strip():
        fail("name", "The name must not be blank.")
    cpus = settings["cpus"]
    if cpus not in MEMORY_OPTIONS_MIB:
        allowed = ", ".join(f"{c:g}" for c in MEMORY_OPTIONS_MIB)
        fail("cpus", f"{cpus!r} is not a supported number of cpus; choose one of {allowed}.")
    else:
        options = MEMORY_OPTIONS_MIB[cpus]
        if settings["memory"] not in options:
            fail(
                "memory",
                f"{settings['memory']} MiB is not available with {cpus:g} cpus; "
                f"choose one of {_describe(options)} MiB.",
            )
    for field in ("maximum_concurrency", "timeout"):
        if settings[field] < 1:
            fail(field, f"{field} must be a positive integer, got {settings[field]}.")
    if settings["retry_count"] < 0:
        fail("retry_count", f"retry_count must be zero or more, got {settings['retry_count']}.")
    for problem in environment_errors(settings.get("environment")):
        fail("environment", problem)
    if errors:
        raise ValidationFailed(errors)


def _describe(options: tuple[int, ...]) -> str:
    if len(options) <= 4:
        return ", ".join(str(o) for o in options)
    step = options[1] - options[0]
    return f"{options[0]} to {options[-1]} in steps of {step}"
