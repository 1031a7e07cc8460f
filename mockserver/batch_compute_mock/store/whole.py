"""The whole state at once: an owner's ids, deleting an owner or everything, and the rows of
every table out and back in (for the test controls' reset, snapshot and restore).

``job_counts`` is derived from ``jobs``, so it is not exported: deletes drop the counts with
the jobs, and an import counts the jobs it inserts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from . import job_counts
from .protocol import OwnedIds
from .schema import credentials, functions, jobs, journal, results

__all__ = ["TABLES", "delete_all", "delete_owner", "export_rows", "import_rows", "owned_ids"]

#: Every table of the state, in an order that inserts cleanly.
TABLES: Mapping[str, sa.Table] = {
    "functions": functions,
    "jobs": jobs,
    "results": results,
    "credentials": credentials,
    "journal": journal,
}
_CHUNK = 1000


def owned_ids(conn: sa.Connection, owner: str) -> OwnedIds:
    def ids(column: Any, owner_column: Any) -> list[str]:
        return list(conn.execute(sa.select(column).where(owner_column == owner)).scalars())

    return OwnedIds(
        function_ids=ids(functions.c.id, functions.c.owner),
        job_ids=ids(jobs.c.id, jobs.c.owner),
        result_ids=ids(results.c.id, results.c.owner),
    )


def delete_owner(conn: sa.Connection, owner: str) -> None:
    for table in TABLES.values():
        conn.execute(table.delete().where(table.c.owner == owner))
    job_counts.forget_owner(conn, owner)


def delete_all(conn: sa.Connection) -> None:
    for table in TABLES.values():
        conn.execute(table.delete())
    job_counts.forget_all(conn)


def export_rows(conn: sa.Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as plain dicts keyed by column name."""
    exported: dict[str, list[dict[str, Any]]] = {}
    for name, table in TABLES.items():
        ordered = sa.select(table).order_by(*table.primary_key)
        exported[name] = [dict(row) for row in conn.execute(ordered).mappings()]
    return exported


def import_rows(conn: sa.Connection, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Insert exported rows; columns a row lacks (an older export) get their defaults, and
    columns the schema does not know are refused (``ValueError``). Journal events get new
    ids in their old order (PostgreSQL's id sequence would not see ids inserted as they were)."""
    for name, table in TABLES.items():
        batch = list(rows.get(name, ()))
        known = set(table.c.keys())
        for row in batch:
            unknown = set(row) - known
            if unknown:
                raise ValueError(f"{name} rows have unknown columns {sorted(unknown)}")
        if table is journal:  # new ids in the old order: the database's counter stays ahead
            batch = [
                {key: value for key, value in row.items() if key != "id"}
                for row in sorted(batch, key=lambda row: row.get("id") or 0)
            ]
        for start in range(0, len(batch), _CHUNK):
            chunk = [dict(row) for row in batch[start : start + _CHUNK]]
            if chunk:
                conn.execute(table.insert(), chunk)
                if table is jobs:
                    job_counts.add(conn, job_counts.tally(chunk))
