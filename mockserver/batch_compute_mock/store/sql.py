"""The ``Store`` on SQLAlchemy: SQLite by default, any SQLAlchemy database URL otherwise.

``SqlStore.read()``/``write()`` open a connection (a write: a transaction holding the write
lock) and wrap it in a ``SqlReader``/``SqlWriter``, whose methods delegate to one module per
table (``functions``, ``jobs``, ``results``, ``credentials``), to ``transitions`` for every
status change, and to ``search`` for searches.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from ..kernel.query import PagePosition, Query
from ..kernel.states import Edge, FunctionStatus, JobStatus
from . import (
    activity,
    credentials,
    functions,
    jobs,
    journal,
    results,
    server_keys,
    transitions,
    whole,
)
from .database import Database
from .dialects import search_dialect
from .lease import SchedulerLease, ask_holder, build_claim, holds_lease, notify_scheduler
from .protocol import OwnedIds, Page, Row, Start
from .search import Searcher
from .starts import StartRecords

__all__ = ["SqlReader", "SqlStore", "SqlWriter"]


class SqlReader:
    """The ``Reader`` of one connection."""

    def __init__(self, conn: sa.Connection, searcher: Searcher) -> None:
        self._conn = conn
        self._searcher = searcher

    # Functions
    def function(self, function_id: str, owner: str | None = None) -> Row | None:
        return functions.get_function(self._conn, function_id, owner)

    def functions(self, function_ids: Iterable[str]) -> dict[str, Row]:
        return dict(functions.get_functions(self._conn, function_ids))

    def function_ids_in_status(self, status: FunctionStatus) -> list[str]:
        return functions.function_ids_in_status(self._conn, status.value)

    def function_ids_named(self, name: str) -> list[str]:
        return functions.function_ids_named(self._conn, name)

    def job_status_counts(self, function_id: str) -> dict[str, int]:
        return functions.job_status_counts(self._conn, function_id)

    # Jobs
    def job(self, job_id: str, owner: str | None = None) -> Row | None:
        return jobs.get_job(self._conn, job_id, owner)

    def jobs(self, job_ids: Sequence[str]) -> list[Row]:
        return list(jobs.get_jobs(self._conn, job_ids))

    def job_statuses(self, job_ids: Sequence[str]) -> dict[str, str]:
        return jobs.get_job_statuses(self._conn, job_ids)

    def jobs_for_reference(self, owner: str, reference_id: str) -> list[Row]:
        return list(jobs.jobs_for_reference(self._conn, owner, reference_id))

    def count_jobs_in(self, function_id: str, statuses: Iterable[JobStatus]) -> int:
        return jobs.count_jobs_in(self._conn, function_id, [s.value for s in statuses])

    def job_ids_of_function(self, function_id: str) -> list[str]:
        return jobs.job_ids_of_function(self._conn, function_id)

    def existing_job_ids(self, job_ids: Iterable[str]) -> set[str]:
        return jobs.existing_job_ids(self._conn, job_ids)

    def job_rank(self, job_id: str) -> int:
        return jobs.job_rank(self._conn, job_id)

    def functions_with_pending_jobs(self) -> set[str]:
        return jobs.functions_with_pending_jobs(self._conn)

    def active_jobs(self) -> list[Row]:
        return list(jobs.active_jobs(self._conn))

    # Activity of one function
    def latest_completion(self, function_id: str) -> str | None:
        return activity.latest_completion(self._conn, function_id)

    def completions_between(self, function_id: str, edges: Sequence[str]) -> list[dict[str, int]]:
        return activity.completions_between(self._conn, function_id, edges)

    def runtime_counts(self, function_id: str) -> dict[int, int]:
        return activity.runtime_counts(self._conn, function_id)

    # Searches
    def search_page(self, query: Query, owner: str, position: PagePosition | None) -> Page:
        return self._searcher.page(self._conn, query, owner, position)

    def count(self, query: Query, owner: str) -> int:
        return self._searcher.count(self._conn, query, owner)

    def matching_rows(self, query: Query, owner: str) -> list[Row]:
        return list(self._searcher.matching_rows(self._conn, query, owner))

    # Results and credentials
    def result(self, blob_id: str, owner: str | None = None) -> Row | None:
        return results.get_result(self._conn, blob_id, owner)

    def existing_result_ids(self, blob_ids: Iterable[str]) -> set[str]:
        return results.existing_result_ids(self._conn, blob_ids)

    def credentials(self, owner: str) -> Row | None:
        return credentials.get_credentials(self._conn, owner)

    def all_credentials(self) -> list[Row]:
        return credentials.all_credentials(self._conn)

    def server_key(self, name: str) -> bytes | None:
        return server_keys.get_server_key(self._conn, name)

    # The journal and the whole state
    def journal(self, job_id: str | None = None, function_id: str | None = None) -> list[Row]:
        return list(journal.read_journal(self._conn, job_id, function_id))

    def owned_ids(self, owner: str) -> OwnedIds:
        return whole.owned_ids(self._conn, owner)

    def export_rows(self) -> dict[str, list[dict[str, Any]]]:
        return whole.export_rows(self._conn)


class SqlWriter(SqlReader):
    """The ``Writer`` of one write transaction."""

    # Functions
    def insert_function(self, row: Row) -> None:
        functions.insert_function(self._conn, row)

    def update_function(self, function_id: str, values: Row) -> None:
        functions.update_function(self._conn, function_id, values)

    def transition_function(
        self,
        edge: Edge[FunctionStatus],
        function_id: str,
        target: FunctionStatus,
        values: Row | None = None,
    ) -> bool:
        return transitions.transition_function(self._conn, edge, function_id, target, values)

    def delete_function(self, function_id: str) -> list[str]:
        """Delete the function and its jobs; returns the ids of the jobs deleted."""
        job_ids = jobs.job_ids_of_function(self._conn, function_id)
        jobs.delete_jobs_of_function(self._conn, function_id)
        functions.delete_function(self._conn, function_id)
        return job_ids

    # Jobs
    def insert_jobs(self, rows: Sequence[Row]) -> None:
        jobs.insert_jobs(self._conn, rows)

    def update_job(self, job_id: str, values: Row) -> None:
        jobs.update_job(self._conn, job_id, values)

    def transition_jobs(
        self,
        edge: Edge[JobStatus],
        job_ids: Sequence[str],
        target: JobStatus,
        values: Row | None = None,
    ) -> None:
        transitions.transition_jobs(self._conn, edge, job_ids, target, values)

    def transition_each(self, edge: Edge[JobStatus], rows: Sequence[Row]) -> None:
        transitions.transition_each(self._conn, edge, rows)

    def record_starts(self, starts: Sequence[Start]) -> set[str]:
        return transitions.record_starts(self._conn, starts)

    def delete_jobs(self, job_ids: Sequence[str]) -> None:
        jobs.delete_jobs(self._conn, job_ids)

    def pending_to_claim(
        self, function_id: str, limit: int, held: Collection[str]
    ) -> list[dict[str, Any]]:
        return jobs.pending_to_claim(self._conn, function_id, limit, held)

    # Results and credentials
    def put_results(self, rows: Sequence[Row]) -> None:
        results.put_results(self._conn, rows)

    def delete_results(self, blob_ids: Sequence[str]) -> None:
        results.delete_results(self._conn, blob_ids)

    def delete_results_of_jobs(self, job_ids: Sequence[str]) -> list[str]:
        return results.delete_results_of_jobs(self._conn, job_ids)

    def delete_results_of_function(self, function_id: str) -> list[str]:
        return results.delete_results_of_function(self._conn, function_id)

    def delete_results_expiring_before(self, moment: str) -> list[str]:
        return results.delete_results_expiring_before(self._conn, moment)

    def put_credentials(self, row: Row) -> None:
        credentials.put_credentials(self._conn, row)

    def ensure_server_key(self, name: str, candidate: bytes) -> bytes:
        return server_keys.ensure_server_key(self._conn, name, candidate)

    # The journal and the whole state
    def append_journal(self, events: Sequence[Row]) -> None:
        journal.append_journal(self._conn, events)

    def delete_owner(self, owner: str) -> None:
        whole.delete_owner(self._conn, owner)

    def delete_all(self) -> None:
        whole.delete_all(self._conn)

    def import_rows(self, rows: Mapping[str, Sequence[Row]]) -> None:
        whole.import_rows(self._conn, rows)

    def holds_scheduler_lease(self, session: tuple[int, str]) -> bool:
        return holds_lease(self._conn, session)


class SqlStore:
    """The ``Store`` over a ``Database``; its schema is migrated when it opens."""

    def __init__(self, url: str) -> None:
        self.database = Database(url)
        self._searcher = Searcher(search_dialect(self.database.dialect))
        self._start_records: StartRecords | None = None
        self._claims_engine: sa.Engine | None = None

    @contextmanager
    def read(self) -> Iterator[SqlReader]:
        with self.database.read() as conn:
            yield SqlReader(conn, self._searcher)

    @contextmanager
    def write(self) -> Iterator[SqlWriter]:
        with self.database.write() as conn:
            yield SqlWriter(conn, self._searcher)

    def ping(self) -> None:
        with self.database.read() as conn:
            conn.exec_driver_sql("SELECT 1")

    # Several servers on one database --------------------------------------------------------
    @property
    def shared(self) -> bool:
        """Whether several servers may use this database at once (PostgreSQL: yes; a SQLite
        file belongs to one server)."""
        return self.database.dialect == "postgresql"

    def open_lease(self) -> SchedulerLease:
        assert self.shared, "a SQLite database has one server, which always schedules"
        return SchedulerLease(self.database.url)

    def notify_scheduler(self, payload: str) -> None:
        with self.database.read() as conn:
            notify_scheduler(conn, payload)

    def ask_scheduler(self, kind: str, timeout: float) -> bool:
        assert self.shared, "a SQLite database's one server asks its own scheduler"
        return ask_holder(self._own_connections(), kind, timeout)

    @contextmanager
    def build_claim(self, function_id: str) -> Iterator[bool]:
        if not self.shared:
            yield True  # one server: nobody else builds
            return
        with build_claim(self._own_connections(), function_id) as mine:
            yield mine

    def _own_connections(self) -> sa.Engine:
        """Connections of their own (session locks, LISTEN), not from the pools."""
        if self._claims_engine is None:
            self._claims_engine = sa.create_engine(
                self.database.url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT"
            )
        return self._claims_engine

    def note_start(self, job_id: str, attempt: int) -> None:
        self._starts().note(job_id, attempt)

    def forget_starts(self, job_ids: Iterable[str]) -> None:
        self._starts().forget(job_ids)

    def noted_starts(self) -> dict[str, int]:
        return self._starts().noted()

    def clear_starts(self) -> None:
        self._starts().clear()

    def _starts(self) -> StartRecords:
        assert self.shared, "a SQLite database's one server keeps its start ledger in files"
        if self._start_records is None:
            self._start_records = StartRecords(self.database.url)
        return self._start_records

    def close(self) -> None:
        if self._start_records is not None:
            self._start_records.close()
        if self._claims_engine is not None:
            self._claims_engine.dispose()
        self.database.dispose()
