"""How attempts are packed into Dask tasks: every slot of the cluster gets work, no task is
over ``MAX_BATCH``, and fuller tasks only while enough are queued."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from batch_compute_mock.executors.dask.batching import (
    MAX_BATCH,
    SPREAD,
    batch_sizes,
    cluster_room,
    enough_queued,
)

GIB = 2**30


def test_the_room_of_a_cluster_counts_what_fits_by_cpus_and_memory():
    workers = [
        {"resources": {"cpus": 4, "memory": 16 * GIB}},
        {"resources": {"cpus": 8, "memory": 4 * GIB}},  # memory-bound: 2 jobs of 2 GiB
        {"resources": {}},  # without our resources: nothing
    ]
    assert cluster_room(1, 2 * GIB, workers) == 4 + 2
    assert cluster_room(16, GIB, workers) == 0
    assert cluster_room(1, 2 * GIB, []) == 0


def test_a_burst_spreads_over_every_slot_and_fills_tasks_beyond_that():
    assert batch_sizes(2000, room=8) == [16] * 125  # 2,000 jobs: many tasks for 8 slots
    assert batch_sizes(64, room=8) == [4] * 16  # SPREAD tasks per slot
    assert batch_sizes(5, room=8) == [1] * 5  # fewer jobs than slots: one each
    assert batch_sizes(5, room=8, queued=16) == [5]  # every slot has queued work already
    assert batch_sizes(0, room=8) == []


@given(st.integers(0, 5000), st.integers(0, 500), st.integers(0, 5000))
def test_batch_sizes_cover_every_attempt_within_bounds(count, room, queued):
    sizes = batch_sizes(count, room, queued)
    assert sum(sizes) == count
    assert all(1 <= size <= MAX_BATCH for size in sizes)
    if queued == 0:  # nothing queued: as many tasks as slots allow, up to one per attempt
        assert len(sizes) >= min(count, SPREAD * max(room, 1))
    assert max(sizes, default=0) - min(sizes, default=0) <= 1  # even


def test_enough_is_queued_at_spread_attempts_per_slot():
    assert not enough_queued(2 * SPREAD - 1, room=2)
    assert enough_queued(2 * SPREAD, room=2)
