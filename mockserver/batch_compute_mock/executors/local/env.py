"""The environment a job starts from: the server's, minus its secrets.

A job sees ``base - dropped + function environment + job environment`` (later wins). Dropped
are names matching ``DEFAULT_DROP_PATTERNS`` or any name/pattern the caller adds (``fnmatch``
patterns, compared case-insensitively): the server's JWT/signing secrets and anything that looks
like a credential must not leak into user code. A function or job may still set such a name
explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

__all__ = ["DEFAULT_DROP_PATTERNS", "server_environment"]

DEFAULT_DROP_PATTERNS = (
    "BATCH_COMPUTE_JWT_SECRET",
    "*SECRET*",
    "*_TOKEN",
    "*PASSWORD*",
    "*_API_KEY",
    "*_PRIVATE_KEY",
)


def server_environment(base: Mapping[str, str], drop: Iterable[str] = ()) -> dict[str, str]:
    """``base`` without the variables matched by the default patterns or ``drop``."""
    patterns = [p.upper() for p in (*DEFAULT_DROP_PATTERNS, *drop)]
    return {
        name: value
        for name, value in base.items()
        if not any(fnmatchcase(name.upper(), pattern) for pattern in patterns)
    }
