"""SQL for the ``jobs`` table: inserts in batches, lookups, claims (status changes are in
``transitions``). Inserts and deletes keep ``job_counts`` exact in the same transaction."""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ..kernel.states import ACTIVE_JOB_STATUSES, JobStatus
from . import job_counts
from .schema import functions, jobs

__all__ = [
    "active_jobs",
    "count_jobs_in",
    "delete_jobs",
    "delete_jobs_of_function",
    "existing_job_ids",
    "functions_with_pending_jobs",
    "get_job",
    "get_job_statuses",
    "get_jobs",
    "insert_jobs",
    "job_ids_of_function",
    "job_rank",
    "jobs_for_reference",
    "pending_to_claim",
    "update_job",
]


def insert_jobs(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """One executemany for the whole batch (a 1,000-job bulk is one statement).

    On SQLite the rows go to the driver's ``executemany`` as tuples, with the JSON columns
    encoded here exactly as SQLAlchemy's ``JSON`` type would (``json.dumps``; ``None`` as
    ``'null'``) but once per distinct object in the batch: SQLAlchemy's per-row parameter
    processing cost more than SQLite's insert itself.
    """
    if not rows:
        return
    job_counts.add(conn, job_counts.tally(rows))
    names = tuple(rows[0])
    if conn.dialect.paramstyle != "qmark" or not _plain_columns(names):
        conn.execute(jobs.insert(), [dict(row) for row in rows])
        return
    encoded: dict[int, str] = {}

    def to_json(value: Any) -> str:
        if value is None:
            return "null"
        text = encoded.get(id(value))
        if text is None:
            text = encoded[id(value)] = json.dumps(value)
        return text

    json_at = [index for index, name in enumerate(names) if name in _JSON_COLUMNS]
    params = []
    for row in rows:
        values = [row[name] for name in names]
        for index in json_at:
            values[index] = to_json(values[index])
        params.append(tuple(values))
    conn.exec_driver_sql(_insert_sql(names), params)


_JSON_COLUMNS = frozenset(c.name for c in jobs.columns if isinstance(c.type, sa.JSON))
# Columns whose values SQLite's driver takes as they are (no bind processing needed).
_PLAIN_COLUMNS = frozenset(
    c.name for c in jobs.columns if type(c.type) in (sa.String, sa.Integer, sa.JSON)
)
# Columns SQLAlchemy would fill in when a row leaves them out.
_DEFAULTED_COLUMNS = frozenset(c.name for c in jobs.columns if c.default is not None)


@functools.cache
def _plain_columns(names: tuple[str, ...]) -> bool:
    return set(names) <= _PLAIN_COLUMNS and set(names) >= _DEFAULTED_COLUMNS


@functools.cache
def _insert_sql(names: tuple[str, ...]) -> str:
    return f"INSERT INTO {jobs.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"


# Built once: constructing a select per call cost three times what SQLite takes to answer it.
_GET_JOB = sa.select(jobs).where(jobs.c.id == sa.bindparam("job_id"))
_GET_OWNED_JOB = _GET_JOB.where(jobs.c.owner == sa.bindparam("owner"))


def get_job(conn: sa.Connection, job_id: str, owner: str | None = None) -> sa.RowMapping | None:
    if owner is None:
        return conn.execute(_GET_JOB, {"job_id": job_id}).mappings().first()
    return conn.execute(_GET_OWNED_JOB, {"job_id": job_id, "owner": owner}).mappings().first()


def get_jobs(conn: sa.Connection, job_ids: Sequence[str]) -> list[sa.RowMapping]:
    """The jobs with these ids, in the order given."""
    found: dict[str, sa.RowMapping] = {}
    for start in range(0, len(job_ids), 500):
        chunk = list(job_ids[start : start + 500])
        for row in conn.execute(sa.select(jobs).where(jobs.c.id.in_(chunk))).mappings():
            found[row["id"]] = row
    return [found[job_id] for job_id in job_ids if job_id in found]


def get_job_statuses(conn: sa.Connection, job_ids: Sequence[str]) -> dict[str, str]:
    """Job id -> status, for those of these jobs that exist (the scheduler's journal asks this
    every round: the status alone, not whole rows with their JSON columns)."""
    found: dict[str, str] = {}
    for start in range(0, len(job_ids), 500):
        chunk = list(job_ids[start : start + 500])
        query = sa.select(jobs.c.id, jobs.c.status).where(jobs.c.id.in_(chunk))
        found.update((job_id, status) for job_id, status in conn.execute(query))
    return found


def jobs_for_reference(conn: sa.Connection, owner: str, reference_id: str) -> list[sa.RowMapping]:
    """The jobs an earlier bulk request with this ``reference_id`` created, in input order."""
    query = (
        sa.select(jobs)
        .where(jobs.c.owner == owner, jobs.c.reference_id == reference_id)
        .order_by(jobs.c.batch_index)
    )
    return list(conn.execute(query).mappings())


def update_job(conn: sa.Connection, job_id: str, values: Mapping[str, Any]) -> None:
    if "status" in values:
        raise ValueError("a job's status changes only through store.transitions")
    if _COUNTED_BY & set(values):
        raise ValueError("a job's owner and function never change (job_counts counts by them)")
    conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))


def count_jobs_in(conn: sa.Connection, function_id: str, statuses: Iterable[str]) -> int:
    return job_counts.count_in(conn, function_id, statuses)


def delete_jobs(conn: sa.Connection, job_ids: Sequence[str]) -> None:
    removed = job_counts.Deltas()
    for start in range(0, len(job_ids), 500):
        chunk = jobs.c.id.in_(list(job_ids[start : start + 500]))
        for owner, function_id, status, n in conn.execute(_KEYS_COUNTED.where(chunk)):
            removed[(owner, function_id, status)] -= n
        conn.execute(jobs.delete().where(chunk))
    job_counts.add(conn, removed)


def delete_jobs_of_function(conn: sa.Connection, function_id: str) -> None:
    """Delete every job of the function, and its counts with them."""
    conn.execute(jobs.delete().where(jobs.c.function_id == function_id))
    job_counts.forget_function(conn, function_id)


def job_ids_of_function(conn: sa.Connection, function_id: str) -> list[str]:
    rows = conn.execute(sa.select(jobs.c.id).where(jobs.c.function_id == function_id))
    return [row.id for row in rows]


_CHUNK = 500
_COUNTED_BY = frozenset({"owner", "function_id"})
#: The jobs per counted key among those a WHERE clause selects.
_KEYS_COUNTED = sa.select(
    jobs.c.owner, jobs.c.function_id, jobs.c.status, sa.func.count()
).group_by(jobs.c.owner, jobs.c.function_id, jobs.c.status)
_JOB_IDS = sa.select(jobs.c.id).where(jobs.c.id.in_(sa.bindparam("ids", expanding=True)))

#: The job columns a claim reads: what running it needs, what tells whether it changed before
#: it started, and what handing its attempt back restores.
CLAIM_COLUMNS = (
    "id",
    "creation_date",
    "args",
    "kwargs",
    "environment",
    "execution_count",
    "interruptions",
    "last_execution_date",
    "last_completion_date",
)
_PENDING_OF_FUNCTION = (
    sa.select(*(jobs.c[name] for name in CLAIM_COLUMNS))
    .where(
        jobs.c.function_id == sa.bindparam("function_id"),
        jobs.c.status == JobStatus.PENDING.value,
        jobs.c.id.not_in(sa.bindparam("held", expanding=True)),
    )
    .order_by(jobs.c.creation_date, jobs.c.id)
    .limit(sa.bindparam("limit"))
)


def pending_to_claim(
    conn: sa.Connection, function_id: str, limit: int, held: Collection[str]
) -> list[dict[str, Any]]:
    """The function's oldest ``limit`` pending jobs (``CLAIM_COLUMNS``) but those in ``held``
    (claimed already: a claim writes nothing, so they are pending too)."""
    params = {"function_id": function_id, "limit": limit, "held": list(held)}
    return [dict(row) for row in conn.execute(_PENDING_OF_FUNCTION, params).mappings()]


def existing_job_ids(conn: sa.Connection, job_ids: Iterable[str]) -> set[str]:
    """Which of these jobs exist."""
    wanted = list(job_ids)
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        found.update(conn.execute(_JOB_IDS, {"ids": wanted[start : start + _CHUNK]}).scalars())
    return found


def job_rank(conn: sa.Connection, job_id: str) -> int:
    """How many jobs of the same function were submitted before this one (0 for the first)."""
    job = sa.select(jobs.c.function_id, jobs.c.creation_date).where(jobs.c.id == job_id).subquery()
    earlier = (
        sa.select(sa.func.count())
        .select_from(jobs)
        .join(
            job,
            sa.and_(
                jobs.c.function_id == job.c.function_id, jobs.c.creation_date < job.c.creation_date
            ),
        )
    )
    return int(conn.execute(earlier).scalar_one())


def functions_with_pending_jobs(conn: sa.Connection) -> set[str]:
    return job_counts.functions_with(conn, JobStatus.PENDING.value)


def active_jobs(conn: sa.Connection) -> list[sa.RowMapping]:
    """Jobs a worker held (running, or being canceled), with their function's retry_count."""
    query = (
        sa.select(jobs, functions.c.retry_count)
        .join(functions, functions.c.id == jobs.c.function_id)
        .where(jobs.c.status.in_(sorted(ACTIVE_JOB_STATUSES)))
    )
    return list(conn.execute(query).mappings())
