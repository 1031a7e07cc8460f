"""Rows to write straight into a store (``Writer.insert_function``) in store-level tests."""

from __future__ import annotations

from typing import Any

__all__ = ["function_row"]


def function_row(function_id: str, owner: str) -> dict[str, Any]:
    """A ready function of ``owner`` with the API's defaults, named after its id."""
    return {
        "id": function_id, "owner": owner, "namespace": owner, "name": function_id,
        "image": "python3.11:latest", "cpus": 1, "memory": 2048, "maximum_concurrency": 1,
        "timeout": 60, "retry_count": 0, "enabled": True, "auto_start": True,
        "environment": None, "status": "ready", "creation_date": "2024-05-01T00:00:00.000000+00:00",
        "modified_date": "2024-05-01T00:00:00.000000+00:00",
    }  # fmt: skip
