"""SQL for the ``functions`` table. Every query is scoped by owner where a caller is known."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from .tables import functions, jobs

__all__ = [
    "delete_function",
    "functions_in_status",
    "get_function",
    "insert_function",
    "job_status_counts",
    "set_function_status",
    "update_function",
]


def insert_function(conn: sa.Connection, values: Mapping[str, Any]) -> None:
    conn.execute(functions.insert().values(**values))


def get_function(
    conn: sa.Connection, function_id: str, owner: str | None = None
) -> sa.RowMapping | None:
    query = sa.select(functions).where(functions.c.id == function_id)
    if owner is not None:
        query = query.where(functions.c.owner == owner)
    return conn.execute(query).mappings().first()


def update_function(conn: sa.Connection, function_id: str, values: Mapping[str, Any]) -> None:
    conn.execute(functions.update().where(functions.c.id == function_id).values(**values))


def set_function_status(
    conn: sa.Connection,
    function_id: str,
    sources: Iterable[str],
    target: str,
    modified_date: str,
) -> bool:
    """Compare-and-set the status; False when the function was not in one of ``sources``."""
    result = conn.execute(
        functions.update()
        .where(functions.c.id == function_id, functions.c.status.in_(list(sources)))
        .values(status=target, modified_date=modified_date)
    )
    return result.rowcount == 1


def delete_function(conn: sa.Connection, function_id: str) -> None:
    conn.execute(functions.delete().where(functions.c.id == function_id))


def job_status_counts(conn: sa.Connection, function_id: str) -> dict[str, int]:
    rows = conn.execute(
        sa.select(jobs.c.status, sa.func.count())
        .where(jobs.c.function_id == function_id)
        .group_by(jobs.c.status)
    )
    return {status: count for status, count in rows}


def functions_in_status(conn: sa.Connection, status: str) -> list[str]:
    rows = conn.execute(sa.select(functions.c.id).where(functions.c.status == status))
    return [row.id for row in rows]
