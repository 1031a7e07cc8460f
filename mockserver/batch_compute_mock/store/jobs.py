"""SQL for the ``jobs`` table: inserts in batches, compare-and-set transitions, lookups."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from .tables import jobs

__all__ = [
    "count_jobs_in",
    "delete_jobs",
    "get_job",
    "get_jobs",
    "insert_jobs",
    "job_ids_of_function",
    "jobs_for_reference",
    "transition_job",
    "transition_jobs",
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


def jobs_for_reference(conn: sa.Connection, owner: str, reference_id: str) -> list[sa.RowMapping]:
    """The jobs an earlier bulk request with this ``reference_id`` created, in input order."""
    query = (
        sa.select(jobs)
        .where(jobs.c.owner == owner, jobs.c.reference_id == reference_id)
        .order_by(jobs.c.batch_index)
    )
    return list(conn.execute(query).mappings())


def update_job(conn: sa.Connection, job_id: str, values: Mapping[str, Any]) -> None:
    conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))


def transition_job(
    conn: sa.Connection, job_id: str, sources: Iterable[str], values: Mapping[str, Any]
) -> bool:
    """Compare-and-set: apply ``values`` only if the job is in one of ``sources``."""
    result = conn.execute(
        jobs.update().where(jobs.c.id == job_id, jobs.c.status.in_(list(sources))).values(**values)
    )
    return result.rowcount == 1


def transition_jobs(
    conn: sa.Connection, job_ids: Sequence[str], sources: Iterable[str], values: Mapping[str, Any]
) -> None:
    sources = list(sources)
    for start in range(0, len(job_ids), 500):
        chunk = list(job_ids[start : start + 500])
        conn.execute(
            jobs.update().where(jobs.c.id.in_(chunk), jobs.c.status.in_(sources)).values(**values)
        )


def count_jobs_in(conn: sa.Connection, function_id: str, statuses: Iterable[str]) -> int:
    query = sa.select(sa.func.count()).where(
        jobs.c.function_id == function_id, jobs.c.status.in_(list(statuses))
    )
    return int(conn.execute(query).scalar_one())


def delete_jobs(conn: sa.Connection, job_ids: Sequence[str]) -> None:
    for start in range(0, len(job_ids), 500):
        conn.execute(jobs.delete().where(jobs.c.id.in_(list(job_ids[start : start + 500]))))


def job_ids_of_function(conn: sa.Connection, function_id: str) -> list[str]:
    rows = conn.execute(sa.select(jobs.c.id).where(jobs.c.function_id == function_id))
    return [row.id for row in rows]
