"""Batched SQL for the scheduler: claims, many compare-and-set job updates, result rows.

A scheduler round records dozens of finished jobs and claims dozens more, several times a
second; one ``executemany`` per statement shape, and statements built once, keep its cost
to a handful of statements per transaction instead of several per job.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from .tables import functions, jobs, results

__all__ = ["CLAIM_COLUMNS", "claim_pending", "get_functions", "replace_results", "transition_each"]

_STATUS = re.compile(r"^[a-z_]+$")
_CHUNK = 500

#: The job columns a claim returns: what running it needs, and what handing it back restores.
CLAIM_COLUMNS = (
    "id",
    "args",
    "kwargs",
    "environment",
    "execution_count",
    "exit_code",
    "error_reason",
    "runtime",
    "statistics",
    "provisioning_time",
    "pull_time",
    "last_execution_date",
    "last_completion_date",
)

_PENDING_OF_FUNCTION = (
    sa.select(*(jobs.c[name] for name in CLAIM_COLUMNS))
    .where(jobs.c.function_id == sa.bindparam("function_id"), jobs.c.status == "pending")
    .order_by(jobs.c.creation_date, jobs.c.id)
    .limit(sa.bindparam("limit"))
)
_MARK_RUNNING = (
    jobs.update()
    .where(jobs.c.id.in_(sa.bindparam("ids", expanding=True)), jobs.c.status == "pending")
    .values(
        status="running",
        execution_count=jobs.c.execution_count + 1,
        last_execution_date=sa.bindparam("claimed_date"),
    )
)
_FUNCTIONS = sa.select(functions).where(functions.c.id.in_(sa.bindparam("ids", expanding=True)))
_DELETE_RESULTS = results.delete().where(results.c.id.in_(sa.bindparam("ids", expanding=True)))


def claim_pending(
    conn: sa.Connection, function_id: str, limit: int, claimed_date: str
) -> list[dict[str, Any]]:
    """Mark the function's oldest ``limit`` pending jobs ``running`` (one more attempt, run
    from ``claimed_date``); returns them as they were before (``CLAIM_COLUMNS``), oldest first.
    Call it inside a write transaction, so nobody changes them between the read and the write.
    """
    rows = [
        dict(row)
        for row in conn.execute(
            _PENDING_OF_FUNCTION, {"function_id": function_id, "limit": limit}
        ).mappings()
    ]
    for start in range(0, len(rows), _CHUNK):
        ids = [row["id"] for row in rows[start : start + _CHUNK]]
        conn.execute(_MARK_RUNNING, {"ids": ids, "claimed_date": claimed_date})
    return rows


def transition_each(
    conn: sa.Connection, sources: Iterable[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Compare-and-set per row, one ``executemany``: each row's values (every key but ``id``)
    are applied to job ``id`` only if that job is in one of ``sources``.

    Rows are grouped by their key set, so rows of different shapes may be mixed.
    """
    if not rows:
        return
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        keys = tuple(sorted(key for key in row if key != "id"))
        shapes.setdefault(keys, []).append({f"v_{key}": value for key, value in row.items()})
    for keys, params in shapes.items():
        conn.execute(_transition_statement(tuple(sources), keys), params)


@functools.lru_cache(maxsize=64)
def _transition_statement(sources: tuple[str, ...], keys: tuple[str, ...]) -> sa.Update:
    # executemany cannot expand an IN list of parameters, so the (fixed, enum-valued)
    # sources are rendered inline.
    if not all(_STATUS.match(status) for status in sources):
        raise ValueError(f"not a job status: {sources!r}")
    allowed = jobs.c.status.in_([sa.literal_column(f"'{status}'") for status in sources])
    return (
        jobs.update()
        .where(jobs.c.id == sa.bindparam("v_id"), allowed)
        .values({key: sa.bindparam(f"v_{key}") for key in keys})
    )


def replace_results(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert or replace result rows (the bytes are already written), one statement each way."""
    if not rows:
        return
    ids = [row["id"] for row in rows]
    for start in range(0, len(ids), _CHUNK):
        conn.execute(_DELETE_RESULTS, {"ids": ids[start : start + _CHUNK]})
    conn.execute(results.insert(), [dict(row) for row in rows])


def get_functions(conn: sa.Connection, function_ids: Iterable[str]) -> dict[str, sa.RowMapping]:
    """The function rows with these ids (missing ones are absent), by id."""
    ids = list(function_ids)
    found: dict[str, sa.RowMapping] = {}
    for start in range(0, len(ids), _CHUNK):
        for row in conn.execute(_FUNCTIONS, {"ids": ids[start : start + _CHUNK]}).mappings():
            found[row["id"]] = row
    return found
