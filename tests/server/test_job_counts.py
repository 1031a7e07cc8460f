"""The maintained job counts stay equal to counting the jobs, whatever the store is asked to do.

A random mix of the writes that add, move and remove jobs (bulk inserts, every edge through
``transition_jobs``, ``transition_each`` and ``record_starts``, deletes of jobs, functions and
owners, a snapshot restored) runs against a real database; after every step the
``job_counts`` table, read at the database itself, must equal ``count(*)`` per owner,
function and status, and the store's readers that use it must agree with counting.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_compute_mock.kernel.query import Query
from batch_compute_mock.kernel.states import JobEdge, JobStatus
from batch_compute_mock.service.queries import parse_query_body, parse_search_params
from batch_compute_mock.store import SqlStore, Start
from batch_compute_mock.store.count_scope import CountScope, count_scope
from batch_compute_mock.store.schema import job_counts, jobs
from support.rows import function_row

pytestmark = pytest.mark.both_databases

OWNERS = ("alice", "bob")
FUNCTIONS = {"fa1": "alice", "fa2": "alice", "fb1": "bob"}
STATUSES = [status.value for status in JobStatus]


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[SqlStore]:
    store = SqlStore(database_url or f"sqlite:///{tmp_path / 'counts.sqlite3'}")
    yield store
    store.close()


def _function(function_id: str) -> dict[str, Any]:
    return function_row(function_id, FUNCTIONS[function_id])


class Workload:
    """Random writes through the store's interface, as the services and the scheduler make."""

    def __init__(self, store: SqlStore, rng: random.Random) -> None:
        self.store = store
        self.rng = rng
        self.serial = 0

    def reset(self) -> None:
        with self.store.write() as writer:
            writer.delete_all()
            for function_id in FUNCTIONS:
                writer.insert_function(_function(function_id))

    def step(self) -> str:
        action = self.rng.choice(
            [self.insert] * 4
            + [self.transition, self.transition, self.each, self.starts, self.delete]
            + [self.delete_function, self.delete_owner, self.restore, self.edit]
        )
        action()
        return action.__name__

    def job_ids(self) -> list[str]:
        with self.store.read() as reader:
            return [row["id"] for row in reader.export_rows()["jobs"]]

    def some_ids(self) -> list[str]:
        ids = self.job_ids()
        chosen = self.rng.sample(ids, self.rng.randint(0, len(ids)))
        return [*chosen, "no-such-job"] if self.rng.random() < 0.3 else chosen

    def insert(self) -> None:
        function_id = self.rng.choice(list(FUNCTIONS))
        rows = []
        for _ in range(self.rng.randint(0, 40)):
            self.serial += 1
            status = "pending" if self.rng.random() < 0.7 else self.rng.choice(STATUSES)
            rows.append(
                {
                    "id": f"j{self.serial:05d}",
                    "owner": FUNCTIONS[function_id],
                    "function_id": function_id,
                    "creation_date": f"2024-05-01T12:00:{self.serial % 60:02d}.000000+00:00",
                    "tags": [],
                    "status": status,
                    "execution_count": 0,
                }
            )
        with self.store.write() as writer:
            writer.insert_jobs(rows)

    def transition(self) -> None:
        edge = self.rng.choice(JobEdge.ALL)
        target = self.rng.choice(sorted(edge.targets))
        with self.store.write() as writer:
            writer.transition_jobs(edge, self.some_ids(), target)

    def each(self) -> None:
        edge = self.rng.choice(JobEdge.ALL)
        rows = []
        for job_id in self.some_ids():
            row: dict[str, Any] = {"id": job_id, "status": self.rng.choice(sorted(edge.targets))}
            if self.rng.random() < 0.5:  # rows of two shapes in one call
                row["error_reason"] = "why"
            rows.append(row)
            if self.rng.random() < 0.2:  # the same job twice
                rows.append({"id": job_id, "status": self.rng.choice(sorted(edge.targets))})
        with self.store.write() as writer:
            writer.transition_each(edge, rows)

    def starts(self) -> None:
        with self.store.write() as writer:
            found = writer.jobs(self.some_ids())
            starts = [
                Start(
                    job_id=job["id"],
                    execution_count=job["execution_count"] + (self.rng.random() < 0.2),
                    last_completion_date=job["last_completion_date"],
                    started_at="2024-05-01T13:00:00.000000+00:00",
                )
                for job in found
            ]
            writer.record_starts(starts)

    def delete(self) -> None:
        with self.store.write() as writer:
            writer.delete_jobs(self.some_ids())

    def delete_function(self) -> None:
        function_id = self.rng.choice(list(FUNCTIONS))
        with self.store.write() as writer:
            writer.delete_function(function_id)
            writer.insert_function(_function(function_id))  # jobs may be submitted again

    def delete_owner(self) -> None:
        owner = self.rng.choice(OWNERS)
        with self.store.write() as writer:
            writer.delete_owner(owner)
            for function_id, function_owner in FUNCTIONS.items():
                if function_owner == owner:
                    writer.insert_function(_function(function_id))

    def restore(self) -> None:
        with self.store.read() as reader:
            snapshot = reader.export_rows()
        with self.store.write() as writer:
            writer.delete_all()
            writer.import_rows(snapshot)

    def edit(self) -> None:
        ids = self.job_ids()
        if ids:
            with self.store.write() as writer:
                writer.update_job(self.rng.choice(ids), {"tags": ["edited"]})


def maintained(store: SqlStore) -> dict[tuple[str, str, str], int]:
    with store.database.read() as conn:
        rows = conn.execute(sa.select(job_counts)).all()
    assert all(n >= 0 for *_, n in rows), rows
    return {(owner, function_id, status): n for owner, function_id, status, n in rows if n}


def counted(store: SqlStore) -> dict[tuple[str, str, str], int]:
    keys = (jobs.c.owner, jobs.c.function_id, jobs.c.status)
    with store.database.read() as conn:
        rows = conn.execute(sa.select(*keys, sa.func.count()).group_by(*keys)).all()
    return {(owner, function_id, status): n for owner, function_id, status, n in rows}


def check_readers(store: SqlStore, truth: dict[tuple[str, str, str], int]) -> None:
    """What the store answers from the counts, against the counts of the jobs themselves."""

    def jobs_where(owner: str | None, functions: set[str], statuses: set[str]) -> int:
        return sum(
            n
            for (o, f, s), n in truth.items()
            if (owner is None or o == owner) and f in functions and s in statuses
        )

    everything = set(STATUSES)
    with store.read() as reader:
        for function_id in FUNCTIONS:
            statistics = reader.job_status_counts(function_id)
            assert statistics == {
                s: n for s in STATUSES if (n := jobs_where(None, {function_id}, {s}))
            }
            active = {"running", "cancel", "canceling"}
            assert reader.count_jobs_in(function_id, [JobStatus(s) for s in active]) == (
                jobs_where(None, {function_id}, active)
            )
        assert reader.functions_with_pending_jobs() == {f for (_, f, s) in truth if s == "pending"}
        for owner in OWNERS:
            query = parse_search_params("jobs", status=["pending", "failure"], function_id="fa1")
            expected = jobs_where(owner, {"fa1"}, {"pending", "failure"})
            assert reader.count(query, owner) == expected
            assert reader.count(parse_search_params("jobs"), owner) == (
                jobs_where(owner, set(FUNCTIONS), everything)
            )


HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(deadline=None, max_examples=12, suppress_health_check=HEALTH)
@given(rng=st.randoms(use_true_random=False))
def test_the_maintained_counts_equal_counting_after_any_mix_of_writes(
    store: SqlStore, rng: random.Random
) -> None:
    workload = Workload(store, rng)
    workload.reset()
    done = []
    for _ in range(25):
        done.append(workload.step())
        truth = counted(store)
        assert maintained(store) == truth, done
        check_readers(store, truth)


def test_a_job_never_changes_owner_or_function(store: SqlStore) -> None:
    workload = Workload(store, random.Random(1))
    workload.reset()
    workload.insert()
    job_id = workload.job_ids()[0]
    for change in ({"function_id": "fa2"}, {"owner": "bob"}):
        with pytest.raises(ValueError, match="never change"), store.write() as writer:
            writer.update_job(job_id, change)


def _tamper(store: SqlStore, function_id: str, status: str, extra: int) -> None:
    """Skew one maintained count, to tell which answers read it."""
    with store.database.write() as conn:
        conn.execute(
            job_counts.update()
            .where(job_counts.c.function_id == function_id, job_counts.c.status == status)
            .values(n_jobs=job_counts.c.n_jobs + extra)
        )


def test_totals_filtered_by_function_and_status_only_come_from_the_counts(
    store: SqlStore,
) -> None:
    workload = Workload(store, random.Random(2))
    workload.reset()
    rows = [
        {
            "id": f"p{n:03d}",
            "owner": "alice",
            "function_id": "fa1",
            "creation_date": f"2024-05-01T12:00:00.{n:06d}+00:00",
            "tags": ["t"] if n % 2 else [],
            "status": "pending",
            "execution_count": 0,
        }
        for n in range(30)
    ]
    with store.write() as writer:
        writer.insert_jobs(rows)
    _tamper(store, "fa1", "pending", 1000)

    counted_queries: list[Query] = [
        parse_search_params("jobs"),
        parse_search_params("jobs", status=["pending"], function_id="fa1", page_size="10"),
        parse_search_params("jobs", sort=["-creation_date"], page_size="10"),
        parse_query_body(
            "jobs",
            {
                "filter": [
                    {"or": [{"name": "function_id", "op": "eq", "val": f} for f in ("fa1", "x")]},
                    {"and": [{"name": "status", "op": "eq", "val": "pending"}]},
                ]
            },
        ),
    ]
    either = (
        '[{"or": [{"name": "status", "op": "eq", "val": "pending"},'
        ' {"name": "function_id", "op": "eq", "val": "fa1"}]}]'
    )
    not_done = '[{"name": "status", "op": "ne", "val": "success"}]'
    counting_queries = {  # query -> the true number of matches
        parse_search_params("jobs", filter='[{"name": "tags", "op": "eq", "val": "t"}]'): 15,
        parse_search_params("jobs", filter=not_done): 30,
        parse_search_params("jobs", filter=either): 30,
    }
    with store.read() as reader:
        for query in counted_queries:
            assert reader.count(query, "alice") == 1030
            page = reader.search_page(query, "alice", None)
            if query.page_size < 30:  # a first page holding every match counts its rows
                assert (len(page.rows), page.total) == (query.page_size, 1030)
        assert reader.job_status_counts("fa1") == {"pending": 1030}
        for query, matches in counting_queries.items():
            assert reader.count(query, "alice") == matches
        assert reader.count(parse_search_params("jobs"), "bob") == 0


@pytest.mark.parametrize(
    ("filter", "scope"),
    [
        ([], CountScope()),
        (
            [{"name": "status", "op": "eq", "val": "pending"}],
            CountScope(None, frozenset({"pending"})),
        ),
        (
            [
                {"name": "function_id", "op": "eq", "val": "a"},
                {"or": [{"name": "status", "op": "eq", "val": s} for s in ("pending", "running")]},
            ],
            CountScope(frozenset({"a"}), frozenset({"pending", "running"})),
        ),
        (  # two equalities on one field: nothing matches both
            [
                {"name": "function_id", "op": "eq", "val": "a"},
                {"name": "function_id", "op": "eq", "val": "b"},
            ],
            CountScope(frozenset(), None),
        ),
        (
            [{"or": [{"name": "status", "op": "eq", "val": "pending"}, {"and": []}]}],
            CountScope(),
        ),
        ([{"name": "status", "op": "ne", "val": "pending"}], None),
        ([{"name": "tags", "op": "eq", "val": "t"}], None),
        (
            [
                {
                    "or": [
                        {"name": "status", "op": "eq", "val": "pending"},
                        {"name": "function_id", "op": "eq", "val": "a"},
                    ]
                }
            ],
            None,
        ),
    ],
)
def test_which_filters_the_counts_answer(filter: list[Any], scope: CountScope | None) -> None:
    query = parse_query_body("jobs", {"filter": filter})
    assert count_scope(query.filter) == scope
