"""SQL for the ``results`` table: one row per stored job result (the bytes are blobs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from .schema import results

__all__ = [
    "delete_results",
    "delete_results_expiring_before",
    "delete_results_of_function",
    "delete_results_of_jobs",
    "existing_result_ids",
    "get_result",
    "put_results",
]

_CHUNK = 500
_RESULT_IDS = sa.select(results.c.id).where(results.c.id.in_(sa.bindparam("ids", expanding=True)))
_DELETE = results.delete().where(results.c.id.in_(sa.bindparam("ids", expanding=True)))


def get_result(conn: sa.Connection, blob_id: str, owner: str | None = None) -> sa.RowMapping | None:
    query = sa.select(results).where(results.c.id == blob_id)
    if owner is not None:
        query = query.where(results.c.owner == owner)
    return conn.execute(query).mappings().first()


def put_results(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert or replace result rows (the bytes are already stored), one statement each way."""
    if not rows:
        return
    delete_results(conn, [row["id"] for row in rows])
    conn.execute(results.insert(), [dict(row) for row in rows])


def delete_results(conn: sa.Connection, blob_ids: Sequence[str]) -> None:
    for start in range(0, len(blob_ids), _CHUNK):
        conn.execute(_DELETE, {"ids": list(blob_ids[start : start + _CHUNK])})


def delete_results_of_jobs(conn: sa.Connection, job_ids: Sequence[str]) -> list[str]:
    """Delete the rows of these jobs' results; returns their blob ids."""
    blob_ids: list[str] = []
    for start in range(0, len(job_ids), _CHUNK):
        chunk = results.c.job_id.in_(list(job_ids[start : start + _CHUNK]))
        blob_ids += conn.execute(sa.select(results.c.id).where(chunk)).scalars().all()
        conn.execute(results.delete().where(chunk))
    return blob_ids


def delete_results_of_function(conn: sa.Connection, function_id: str) -> list[str]:
    of_function = results.c.function_id == function_id
    blob_ids = list(conn.execute(sa.select(results.c.id).where(of_function)).scalars())
    conn.execute(results.delete().where(of_function))
    return blob_ids


def delete_results_expiring_before(conn: sa.Connection, moment: str) -> list[str]:
    past = results.c.expires < moment
    blob_ids = list(conn.execute(sa.select(results.c.id).where(past)).scalars())
    conn.execute(results.delete().where(past))
    return blob_ids


def existing_result_ids(conn: sa.Connection, blob_ids: Iterable[str]) -> set[str]:
    wanted = list(blob_ids)
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        found.update(conn.execute(_RESULT_IDS, {"ids": wanted[start : start + _CHUNK]}).scalars())
    return found
