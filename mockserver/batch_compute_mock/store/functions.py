"""SQL for the ``functions`` table (status changes are in ``transitions``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from . import job_counts
from .schema import functions

__all__ = [
    "delete_function",
    "function_ids_in_status",
    "function_ids_named",
    "get_function",
    "get_functions",
    "insert_function",
    "job_status_counts",
    "update_function",
]

_CHUNK = 500
_FUNCTIONS = sa.select(functions).where(functions.c.id.in_(sa.bindparam("ids", expanding=True)))


def insert_function(conn: sa.Connection, values: Mapping[str, Any]) -> None:
    conn.execute(functions.insert().values(**values))


def get_function(
    conn: sa.Connection, function_id: str, owner: str | None = None
) -> sa.RowMapping | None:
    query = sa.select(functions).where(functions.c.id == function_id)
    if owner is not None:
        query = query.where(functions.c.owner == owner)
    return conn.execute(query).mappings().first()


def get_functions(conn: sa.Connection, function_ids: Iterable[str]) -> dict[str, sa.RowMapping]:
    """The function rows with these ids (missing ones are absent), by id."""
    ids = list(function_ids)
    found: dict[str, sa.RowMapping] = {}
    for start in range(0, len(ids), _CHUNK):
        for row in conn.execute(_FUNCTIONS, {"ids": ids[start : start + _CHUNK]}).mappings():
            found[row["id"]] = row
    return found


def update_function(conn: sa.Connection, function_id: str, values: Mapping[str, Any]) -> None:
    if "status" in values:
        raise ValueError("a function's status changes only through store.transitions")
    conn.execute(functions.update().where(functions.c.id == function_id).values(**values))


def delete_function(conn: sa.Connection, function_id: str) -> None:
    conn.execute(functions.delete().where(functions.c.id == function_id))


def job_status_counts(conn: sa.Connection, function_id: str) -> dict[str, int]:
    return job_counts.function_counts(conn, function_id)


def function_ids_named(conn: sa.Connection, name: str) -> list[str]:
    """Every owner's functions called ``name``."""
    return list(conn.execute(sa.select(functions.c.id).where(functions.c.name == name)).scalars())


def function_ids_in_status(conn: sa.Connection, status: str) -> list[str]:
    rows = conn.execute(sa.select(functions.c.id).where(functions.c.status == status))
    return [row.id for row in rows]
