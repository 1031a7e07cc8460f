"""SQL for the ``journal`` table: job events appended in order, read back by job or function."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from .schema import journal

__all__ = ["append_journal", "read_journal"]


def append_journal(conn: sa.Connection, events: Sequence[Mapping[str, Any]]) -> None:
    if events:
        conn.execute(journal.insert(), [dict(event) for event in events])


def read_journal(
    conn: sa.Connection, job_id: str | None = None, function_id: str | None = None
) -> list[sa.RowMapping]:
    query = sa.select(
        journal.c.time, journal.c.job_id, journal.c.function_id, journal.c.attempt, journal.c.event
    ).order_by(journal.c.id)
    if job_id is not None:
        query = query.where(journal.c.job_id == job_id)
    if function_id is not None:
        query = query.where(journal.c.function_id == function_id)
    return list(conn.execute(query).mappings())
