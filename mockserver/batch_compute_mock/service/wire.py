"""Rows to the JSON objects the contract promises (openapi.yaml ``Function`` and ``Job``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["function_to_wire", "job_to_wire"]

_FUNCTION_FIELDS = (
    "id",
    "name",
    "image",
    "cpus",
    "memory",
    "maximum_concurrency",
    "timeout",
    "retry_count",
    "enabled",
    "auto_start",
    "environment",
    "namespace",
    "owner",
    "status",
    "creation_date",
    "modified_date",
)
_JOB_FIELDS = (
    "id",
    "function_id",
    "creation_date",
    "args",
    "kwargs",
    "environment",
    "tags",
    "status",
    "error_reason",
    "execution_count",
    "exit_code",
    "runtime",
    "last_execution_date",
    "last_completion_date",
    "statistics",
)


def function_to_wire(
    row: Mapping[Any, Any], job_statistics: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """A Function object; ``job_statistics`` is added only when it was asked for."""
    body = {field: row[field] for field in _FUNCTION_FIELDS}
    if job_statistics is not None:
        body["job_statistics"] = dict(job_statistics)
    return body


def job_to_wire(row: Mapping[Any, Any], timings: bool = False) -> dict[str, Any]:
    """A Job object; the timings are added only for ``include=timings``."""
    body = {field: row[field] for field in _JOB_FIELDS}
    if timings:
        body["provisioning_time"] = row["provisioning_time"]
        body["pull_time"] = row["pull_time"]
    return body
