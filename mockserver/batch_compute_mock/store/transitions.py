"""Every status change, and nothing else: named edges applied as compare-and-set.

This is the only module that writes a ``status`` column (a test holds the code base to it).
Each function takes an ``Edge`` (``kernel.states``) and changes a row only if its current
status is one of the edge's sources, so a move the lifecycle does not allow, or one that lost
a race, changes nothing. The target must be one of the edge's targets.

A scheduler round records dozens of starts and outcomes at once, several times a second; one
``executemany`` per statement shape, with statements built once, keeps its cost to a handful
of statements per transaction instead of several per job.

Each job transition also moves the job between its keys in ``job_counts``, in the same
transaction: the jobs an UPDATE will change (and their statuses) are read first, which is
exact because a write transaction holds the database's write lock (``store.database``), and
the moves of the whole call are applied as one upsert per key touched.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ..kernel.states import Edge, FunctionStatus, JobEdge, JobStatus
from . import job_counts
from .protocol import Start
from .schema import functions, jobs

__all__ = ["record_starts", "transition_each", "transition_function", "transition_jobs"]

_CHUNK = 500

_PENDING_STATE = sa.select(
    jobs.c.id,
    jobs.c.execution_count,
    jobs.c.last_completion_date,
    jobs.c.owner,
    jobs.c.function_id,
    jobs.c.status,
).where(
    jobs.c.id.in_(sa.bindparam("ids", expanding=True)),
    jobs.c.status.in_(sorted(JobEdge.START.sources)),
)
#: Where each of some jobs is counted: id, owner, function_id, status.
_COUNTED_AT = sa.select(jobs.c.id, jobs.c.owner, jobs.c.function_id, jobs.c.status).where(
    jobs.c.id.in_(sa.bindparam("ids", expanding=True))
)


def _in_sources(sources: Iterable[str]) -> ColumnElement[bool]:
    """``status IN (...)`` with the (enum-valued) sources rendered inline: ``executemany``
    cannot expand a list parameter. They come from the edge table, never from a request."""
    values: list[ColumnElement[str]] = [
        sa.literal_column(f"'{JobStatus(source).value}'") for source in sorted(sources)
    ]
    return jobs.c.status.in_(values)


_START = (
    jobs.update()
    .where(jobs.c.id == sa.bindparam("v_id"), _in_sources(JobEdge.START.sources))
    .values(
        status=JobEdge.START.check_target(JobStatus.RUNNING),
        execution_count=sa.bindparam("v_execution_count"),
        last_execution_date=sa.bindparam("v_last_execution_date"),
    )
)


def transition_function(
    conn: sa.Connection,
    edge: Edge[FunctionStatus],
    function_id: str,
    target: FunctionStatus,
    values: Mapping[str, Any] | None = None,
) -> bool:
    """Move one function along ``edge`` to ``target``; False if it was not in a source."""
    result = conn.execute(
        functions.update()
        .where(functions.c.id == function_id, functions.c.status.in_(sorted(edge.sources)))
        .values({**(values or {}), "status": edge.check_target(target)})
    )
    return result.rowcount == 1


def transition_jobs(
    conn: sa.Connection,
    edge: Edge[JobStatus],
    job_ids: Sequence[str],
    target: JobStatus,
    values: Mapping[str, Any] | None = None,
) -> None:
    """Move every job of ``job_ids`` that is in one of the edge's sources to ``target``."""
    changes = {**(values or {}), "status": edge.check_target(target)}
    sources = sorted(edge.sources)
    moves = job_counts.Deltas()
    for start in range(0, len(job_ids), _CHUNK):
        chunk = list(job_ids[start : start + _CHUNK])
        for _, owner, function_id, status in conn.execute(
            _COUNTED_AT.where(jobs.c.status.in_(sources)), {"ids": chunk}
        ):
            moves[(owner, function_id, status)] -= 1
            moves[(owner, function_id, target.value)] += 1
        conn.execute(
            jobs.update().where(jobs.c.id.in_(chunk), jobs.c.status.in_(sources)).values(changes)
        )
    job_counts.add(conn, moves)


def transition_each(
    conn: sa.Connection, edge: Edge[JobStatus], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Per row, one ``executemany``: move job ``id`` along ``edge`` to the row's ``status``
    with the row's other values, if the job is in one of the edge's sources.

    Rows are grouped by their key set, so rows of different shapes may be mixed.
    """
    if not rows:
        return
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        edge.check_target(row["status"])
        keys = tuple(sorted(key for key in row if key != "id"))
        shapes.setdefault(keys, []).append({f"v_{key}": value for key, value in row.items()})
    # Replay the statements' effect on the counts, in the order they run (a job listed twice
    # moves the second time only if its first move left it in a source).
    counted = _counted_at(conn, [row["id"] for row in rows])
    moves = job_counts.Deltas()
    for params in shapes.values():
        for param in params:
            where = counted.get(param["v_id"])
            if where is not None and where[2] in edge.sources:
                target = str(param["v_status"])
                moves[where] -= 1
                moves[(where[0], where[1], target)] += 1
                counted[param["v_id"]] = (where[0], where[1], target)
    for keys, params in shapes.items():
        conn.execute(_each_statement(tuple(sorted(edge.sources)), keys), params)
    job_counts.add(conn, moves)


def _counted_at(conn: sa.Connection, job_ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
    """Job id -> (owner, function_id, status) of those of these jobs that exist."""
    ids = sorted(set(job_ids))
    found: dict[str, tuple[str, str, str]] = {}
    for start in range(0, len(ids), _CHUNK):
        for job_id, owner, function_id, status in conn.execute(
            _COUNTED_AT, {"ids": ids[start : start + _CHUNK]}
        ):
            found[job_id] = (owner, function_id, status)
    return found


@functools.lru_cache(maxsize=64)
def _each_statement(sources: tuple[str, ...], keys: tuple[str, ...]) -> sa.Update:
    return (
        jobs.update()
        .where(jobs.c.id == sa.bindparam("v_id"), _in_sources(sources))
        .values({key: sa.bindparam(f"v_{key}") for key in keys})
    )


def record_starts(conn: sa.Connection, starts: Sequence[Start]) -> set[str]:
    """``JobEdge.START`` for jobs a worker began; returns the ids recorded.

    A start is recorded only if the job is still pending and unchanged since it was claimed
    (a cancel and a rerun in between change its ``last_completion_date``), with one more
    attempt and its real start as ``last_execution_date``. Call it inside a write
    transaction, so nobody changes the jobs between the read and the write.
    """
    expected = {start.job_id: start for start in starts}
    ids = list(expected)
    marked: list[Start] = []
    moves = job_counts.Deltas()
    for begin in range(0, len(ids), _CHUNK):
        chunk = {"ids": ids[begin : begin + _CHUNK]}
        for row in conn.execute(_PENDING_STATE, chunk).mappings():
            start = expected[row["id"]]
            if (row["execution_count"], row["last_completion_date"]) == (
                start.execution_count,
                start.last_completion_date,
            ):
                marked.append(start)
                moves[(row["owner"], row["function_id"], row["status"])] -= 1
                moves[(row["owner"], row["function_id"], JobStatus.RUNNING.value)] += 1
    if marked:
        conn.execute(
            _START,
            [
                {
                    "v_id": start.job_id,
                    "v_execution_count": start.execution_count + 1,
                    "v_last_execution_date": start.started_at,
                }
                for start in marked
            ],
        )
        job_counts.add(conn, moves)
    return {start.job_id for start in marked}
