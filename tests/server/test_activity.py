"""One function's activity (jobs finished per minute, runtimes), from the store's SQL to the
service's window and bins, on a real SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batch_compute_mock.kernel.errors import NotFound
from batch_compute_mock.service.activity import ActivityService, RuntimeBin, runtime_bins
from batch_compute_mock.service.identity import Identity
from batch_compute_mock.store import SqlStore
from support.rows import function_row

pytestmark = pytest.mark.both_databases

ALICE = Identity(owner="user:alice", namespace="alice")
BOB = Identity(owner="user:bob", namespace="bob")


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[SqlStore]:
    store = SqlStore(database_url or f"sqlite:///{tmp_path / 'activity.sqlite3'}")
    with store.write() as writer:
        for function_id, owner in (("f1", ALICE.owner), ("f2", ALICE.owner)):
            writer.insert_function(function_row(function_id, owner))
    yield store
    store.close()


def _job(job_id: str, function_id: str, status: str, finished: str | None, runtime: int | None):
    return {
        "id": job_id, "function_id": function_id, "owner": ALICE.owner,
        "creation_date": "2024-05-01T11:00:00.000000+00:00", "args": [], "kwargs": {},
        "tags": [], "status": status, "execution_count": 1,
        "last_completion_date": finished, "runtime": runtime,
    }  # fmt: skip


def _insert(store: SqlStore, rows: list[dict[str, Any]]) -> None:
    with store.write() as writer:
        writer.insert_jobs(rows)


def test_completions_are_counted_per_minute_and_status_for_one_function(store: SqlStore) -> None:
    _insert(
        store,
        [
            _job("a", "f1", "success", "2024-05-01T12:00:05.000000+00:00", 1),
            _job("b", "f1", "success", "2024-05-01T12:00:59.999999+00:00", 2),
            _job("c", "f1", "failure", "2024-05-01T12:00:30.000000+00:00", 2),
            _job("d", "f1", "success", "2024-05-01T12:03:00.000000+00:00", 40),
            _job("e", "f1", "pending", None, None),
            _job("r", "f1", "pending", "2024-05-01T12:01:00.000000+00:00", 9),  # to be retried
            _job("f", "f2", "success", "2024-05-01T12:00:10.000000+00:00", 7),  # another function
            _job("g", "f1", "success", "2024-05-01T11:58:59.000000+00:00", 1),  # before "since"
        ],
    )
    with store.read() as reader:
        assert reader.latest_completion("f1") == "2024-05-01T12:03:00.000000+00:00"
        assert reader.latest_completion("nothing") is None
        edges = [f"2024-05-01T{hour_minute}:00.000000+00:00" for hour_minute in
                 ("11:59", "12:00", "12:01", "12:02", "12:03", "12:04")]  # fmt: skip
        zero = {"success": 0, "failure": 0, "timeout": 0, "canceled": 0}
        assert reader.completions_between("f1", edges) == [
            zero,
            {**zero, "success": 2, "failure": 1},
            zero,
            zero,
            {**zero, "success": 1},
        ]
        assert reader.completions_between("f1", edges[:1]) == []
        assert reader.runtime_counts("f1") == {1: 2, 2: 2, 40: 1}
        assert reader.runtime_counts("f2") == {7: 1}


def test_the_activity_window_ends_at_the_latest_completion_with_empty_minutes(
    store: SqlStore,
) -> None:
    _insert(
        store,
        [
            _job("a", "f1", "success", "2024-05-01T12:00:05.000000+00:00", 0),
            _job("b", "f1", "timeout", "2024-05-01T12:02:00.000000+00:00", 60),
            _job("c", "f1", "canceled", "2024-05-01T10:00:00.000000+00:00", None),
        ],
    )
    activity = ActivityService(store).of_function(ALICE, "f1", minutes=5)
    assert [minute.start for minute in activity.minutes] == [
        "2024-05-01T11:58", "2024-05-01T11:59", "2024-05-01T12:00", "2024-05-01T12:01",
        "2024-05-01T12:02",
    ]  # fmt: skip
    assert [minute.total for minute in activity.minutes] == [0, 0, 1, 0, 1]
    assert activity.minutes[-1].counts == {"success": 0, "failure": 0, "timeout": 1, "canceled": 0}
    assert activity.finished == 2  # the canceled job never ran: it has no runtime
    assert activity.runtimes[0] == RuntimeBin(0, 5, 1)
    assert activity.runtimes[-1] == RuntimeBin(60, 65, 1)


def test_a_function_without_finished_jobs_has_no_activity(store: SqlStore) -> None:
    _insert(store, [_job("a", "f1", "pending", None, None)])
    activity = ActivityService(store).of_function(ALICE, "f1")
    assert activity.minutes == () and activity.runtimes == () and activity.finished == 0


def test_another_owners_function_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        ActivityService(store).of_function(BOB, "f1")


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({}, ()),
        ({0: 10}, (RuntimeBin(0, 1, 10),)),
        ({3: 1, 5: 2}, (RuntimeBin(3, 4, 1), RuntimeBin(4, 5, 0), RuntimeBin(5, 6, 2))),
        (
            {0: 1, 100: 1},
            (
                RuntimeBin(0, 10, 1),
                *(RuntimeBin(n, n + 10, 0) for n in range(10, 100, 10)),
                RuntimeBin(100, 110, 1),
            ),
        ),
    ],
)
def test_runtime_bins_have_a_round_width(
    counts: dict[int, int], expected: tuple[RuntimeBin, ...]
) -> None:
    assert runtime_bins(counts, bins=20) == expected


def test_runtime_bins_keep_every_job_within_about_the_asked_number_of_bins() -> None:
    counts = {runtime: runtime % 7 + 1 for runtime in range(13, 4000, 11)}
    bins = runtime_bins(counts, bins=20)
    assert sum(item.count for item in bins) == sum(counts.values())
    assert len(bins) <= 21
    assert {item.high - item.low for item in bins} == {200}
    assert bins[0].low <= 13 < bins[0].high and bins[-1].low <= max(counts) < bins[-1].high
