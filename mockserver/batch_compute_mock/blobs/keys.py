"""Where each kind of blob lives: the one place that knows a blob's key from an id.

    bundles/{function_id}.zip        the uploaded code bundle, as received
    build-logs/{function_id}.log     the build log, gzip-compressed as it is served
    job-logs/{job_id}.ndjson         a job's stdout/stderr, one JSON object per line
    results/{sha256(blob id)}        a job's result bytes (attributes are in the database)

Only a job's log grows while it is written (``BlobStore.open_appender``); ``can_grow`` tells a
store which keys may have the pieces of a growing blob to drop when they are written whole.

Keys are validated strictly because some of their parts (function and job ids) come from
clients: a key is one or more segments of ``[A-Za-z0-9_-]`` and ``.`` that do not start with a
dot, which also keeps keys from colliding with the ``.tmp-*`` files that atomic writes use.
"""

from __future__ import annotations

import hashlib
import re

__all__ = [
    "build_log_key",
    "bundle_key",
    "can_grow",
    "job_log_key",
    "key_segments",
    "result_key",
]

_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}")
_GROWING = "job-logs/"


def bundle_key(function_id: str) -> str:
    """Where a function's uploaded zip lives."""
    return f"bundles/{function_id}.zip"


def build_log_key(function_id: str) -> str:
    """Where a function's build log (gzip) lives."""
    return f"build-logs/{function_id}.log"


def job_log_key(job_id: str) -> str:
    """Where a job's NDJSON log lives."""
    return f"job-logs/{job_id}.ndjson"


def can_grow(key: str) -> bool:
    """Whether ``key`` is a blob that grows while it is written (a job's log)."""
    return key.startswith(_GROWING)


def result_key(blob_id: str) -> str:
    """A safe key for a result blob id such as ``compute/org:abc/F/J``.

    Blob ids contain ``:`` and ``/`` and are chosen partly by the client, so they are hashed
    rather than escaped: fixed length, one directory, no way to name another blob.
    """
    return "results/" + hashlib.sha256(blob_id.encode("utf-8")).hexdigest()


def key_segments(key: str) -> list[str]:
    """The validated segments of ``key``; ``ValueError`` for anything not plainly relative."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"blob key must be a non-empty string, got {key!r}")
    parts = key.split("/")
    for part in parts:
        if not _SEGMENT.fullmatch(part):
            raise ValueError(
                f"unsafe blob key {key!r}: segment {part!r} must be 1-255 characters of "
                "letters, digits, '_', '-' or '.', not starting with '.'"
            )
    return parts
