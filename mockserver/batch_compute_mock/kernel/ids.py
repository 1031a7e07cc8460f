"""Identifiers the API defines, built in one place."""

from __future__ import annotations

__all__ = ["result_blob_id"]


def result_blob_id(namespace: str, function_id: str, job_id: str) -> str:
    """The catalog storage id of a job's result: what the genuine clients compute and ask for."""
    return f"compute/{namespace}/{function_id}/{job_id}"
