"""The ``job_counts`` table: how many jobs each (owner, function_id, status) holds, kept exact.

Counting a million matching jobs costs tens of milliseconds and grows with the jobs; reading
the maintained counts is a lookup. Every module that inserts, deletes or moves jobs between
statuses passes the change here in the same transaction (``jobs``, ``transitions``, ``whole``,
``SqlWriter.delete_function``), so a count is exact whenever the jobs are committed.

A change arrives as ``Deltas`` (+n/-n per key) aggregated over a whole batch and is applied
as one upsert per key it touched (``n_jobs = n_jobs + delta``, ``INSERT ... ON CONFLICT DO
UPDATE``): a bulk insert of 1,000 jobs to one function is one statement, and the increment
is atomic when several servers share a PostgreSQL database. Keys whose count falls to 0 keep
their row (they are few: owners x functions x statuses) until their function or owner goes.

Which searches may take their total from here is ``count_scope``'s to say.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .count_scope import CountScope
from .schema import job_counts

__all__ = [
    "Deltas",
    "add",
    "count_in",
    "forget_all",
    "forget_function",
    "forget_owner",
    "function_counts",
    "functions_with",
    "tally",
    "total_query",
]

#: Changes to the counts: (owner, function_id, status) -> jobs added (negative: removed).
Deltas = Counter[tuple[str, str, str]]

_KEY = ["owner", "function_id", "status"]


def tally(rows: Iterable[Mapping[str, object]]) -> Deltas:
    """+1 per row, by the row's owner, function_id and status (jobs inserted)."""
    return Counter((str(r["owner"]), str(r["function_id"]), str(r["status"])) for r in rows)


def add(conn: sa.Connection, deltas: Mapping[tuple[str, str, str], int]) -> None:
    """Apply ``deltas``: one upsert per key with a nonzero change, in key order."""
    params = [
        {"owner": owner, "function_id": function_id, "status": status, "n_jobs": change}
        for (owner, function_id, status), change in sorted(deltas.items())
        if change
    ]
    if params:
        conn.execute(_upsert(conn.dialect.name), params)


@functools.cache
def _upsert(dialect: str) -> sa.Executable:
    if dialect == "postgresql":
        on_postgresql = postgresql.insert(job_counts)
        added = job_counts.c.n_jobs + on_postgresql.excluded.n_jobs
        return on_postgresql.on_conflict_do_update(index_elements=_KEY, set_={"n_jobs": added})
    on_sqlite = sqlite.insert(job_counts)
    added = job_counts.c.n_jobs + on_sqlite.excluded.n_jobs
    return on_sqlite.on_conflict_do_update(index_elements=_KEY, set_={"n_jobs": added})


def forget_function(conn: sa.Connection, function_id: str) -> None:
    """Drop the function's counts (once its jobs are deleted, every one of them is 0)."""
    conn.execute(job_counts.delete().where(job_counts.c.function_id == function_id))


def forget_owner(conn: sa.Connection, owner: str) -> None:
    """Drop the owner's counts (once the owner's jobs are deleted)."""
    conn.execute(job_counts.delete().where(job_counts.c.owner == owner))


def forget_all(conn: sa.Connection) -> None:
    conn.execute(job_counts.delete())


def function_counts(conn: sa.Connection, function_id: str) -> dict[str, int]:
    """Status -> jobs of one function, statuses without jobs left out."""
    query = (
        sa.select(job_counts.c.status, sa.func.sum(job_counts.c.n_jobs))
        .where(job_counts.c.function_id == function_id)
        .group_by(job_counts.c.status)
    )
    return {status: int(n) for status, n in conn.execute(query) if n}


def count_in(conn: sa.Connection, function_id: str, statuses: Iterable[str]) -> int:
    """The function's jobs in any of ``statuses``."""
    query = sa.select(sa.func.coalesce(sa.func.sum(job_counts.c.n_jobs), 0)).where(
        job_counts.c.function_id == function_id, job_counts.c.status.in_(sorted(statuses))
    )
    return int(conn.execute(query).scalar_one())


def functions_with(conn: sa.Connection, status: str) -> set[str]:
    """The functions that have at least one job in ``status``."""
    query = sa.select(job_counts.c.function_id).where(
        job_counts.c.status == status, job_counts.c.n_jobs > 0
    )
    return set(conn.execute(query.distinct()).scalars())


def total_query(owner: str, scope: CountScope) -> sa.Select[tuple[int]]:
    """The number of the owner's jobs within ``scope``, as one statement."""
    query = sa.select(sa.func.coalesce(sa.func.sum(job_counts.c.n_jobs), 0)).where(
        job_counts.c.owner == owner
    )
    if scope.function_ids is not None:
        query = query.where(job_counts.c.function_id.in_(sorted(scope.function_ids)))
    if scope.statuses is not None:
        query = query.where(job_counts.c.status.in_(sorted(scope.statuses)))
    return query
