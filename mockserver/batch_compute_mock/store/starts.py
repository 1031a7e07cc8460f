"""SQL for the ``job_starts`` table: the start ledger of a database several servers share.

These statements run outside the write transactions (in autocommit, without the write lock):
an attempt is noted the moment a worker takes it, on the scheduler's event loop, and must
neither wait for a round's transaction nor be rolled back with one.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from .schema import job_starts

__all__ = ["clear_starts", "forget_starts", "note_start", "noted_starts"]


def note_start(conn: sa.Connection, job_id: str, attempt: int) -> None:
    statement = postgresql.insert(job_starts).values(job_id=job_id, attempt=attempt)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[job_starts.c.job_id], set_={"attempt": attempt}
        )
    )


def forget_starts(conn: sa.Connection, job_ids: Iterable[str]) -> None:
    ids = list(job_ids)
    if ids:
        conn.execute(job_starts.delete().where(job_starts.c.job_id.in_(ids)))


def noted_starts(conn: sa.Connection) -> dict[str, int]:
    rows = conn.execute(sa.select(job_starts.c.job_id, job_starts.c.attempt))
    return {job_id: attempt for job_id, attempt in rows}


def clear_starts(conn: sa.Connection) -> None:
    conn.execute(job_starts.delete())
