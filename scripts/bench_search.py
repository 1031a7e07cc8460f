"""Search speed on 100,000 jobs for one owner (plus 10,000 for another), p50 over 50 runs.

Each figure covers parsing the query (or decoding its cursor) and running it through the store
(``Reader.search_page``), not HTTP or serialisation. Call ``bench_search(tmpdir)`` from
scripts/bench, or run this file: ``PYTHONPATH=mockserver python scripts/bench_search.py``.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from batch_compute_mock.service.queries import CursorCodec, parse_search_params
from batch_compute_mock.store import SqlStore

__all__ = ["bench_search"]

RUNS = 50
STATUSES = ("pending", "running", "success", "failure", "timeout", "canceled")


def bench_search(tmpdir: str | Path, jobs: int = 100_000, others: int = 10_000) -> dict[str, float]:
    """Milliseconds (p50) of typical searches over a fresh database in ``tmpdir``."""
    store = SqlStore(f"sqlite:///{Path(tmpdir) / 'bench-search.sqlite3'}")
    try:
        _fill(store, {"alice": jobs, "bob": others})
        return _measure(store)
    finally:
        store.close()


def _fill(store: SqlStore, counts: dict[str, int]) -> None:
    rng = random.Random(7)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    with store.write() as writer:
        for owner, count in counts.items():
            for n in range(count):
                moment = start + timedelta(seconds=n * 3 + rng.random())
                done = rng.random() < 0.7
                rows.append(
                    {
                        "id": f"{owner}-{n:07d}-{rng.getrandbits(32):08x}",
                        "function_id": f"fn{rng.randrange(20)}",
                        "owner": owner,
                        "creation_date": moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
                        "args": [n],
                        "kwargs": {},
                        "tags": rng.sample(["a", "b", "c", "d"], rng.randrange(3)),
                        "status": rng.choice(STATUSES),
                        "execution_count": 1 if done else 0,
                        "exit_code": 0 if done else None,
                        "runtime": rng.randrange(100) if done else None,
                    }
                )
                if len(rows) == 10_000:
                    writer.insert_jobs(rows)
                    rows.clear()
        if rows:
            writer.insert_jobs(rows)
    with store.database.writer_engine.begin() as conn:  # what a long-lived database has done
        conn.exec_driver_sql("ANALYZE")


def _measure(store: SqlStore) -> dict[str, float]:
    codec = CursorCodec(b"bench")
    status_filter = json.dumps([{"name": "status", "op": "eq", "val": "success"}])
    sorted_query = parse_search_params(
        "jobs", filter=status_filter, sort=["-creation_date"], page_size="100"
    )
    figures: dict[str, float] = {}
    with store.read() as reader:

        def first_page() -> Any:
            query = parse_search_params(
                "jobs", filter=status_filter, sort=["-creation_date"], page_size="100"
            )
            return reader.search_page(query, "alice", None)

        def count() -> Any:
            query = parse_search_params("jobs", filter=status_filter, limit="0")
            return reader.search_page(query, "alice", None)

        second = codec.encode(sorted_query, first_page().next_position, owner="alice")
        deep = first_page()
        for _ in range(50):  # 50 pages in
            deep = reader.search_page(sorted_query, "alice", deep.next_position)
        deep_cursor = codec.encode(sorted_query, deep.next_position, owner="alice")

        def next_page() -> Any:
            query, position = codec.decode(second, owner="alice")
            return reader.search_page(query, "alice", position)

        def deep_page() -> Any:
            query, position = codec.decode(deep_cursor, owner="alice")
            return reader.search_page(query, "alice", position)

        def unfiltered_page() -> Any:
            return reader.search_page(parse_search_params("jobs"), "alice", None)

        def tags_count() -> Any:
            tags = json.dumps([{"name": "tags", "op": "eq", "val": "a"}])
            query = parse_search_params("jobs", filter=tags, limit="0")
            return reader.search_page(query, "alice", None)

        for name, run in [
            ("first_page_status_sorted_ms", first_page),
            ("count_status_ms", count),
            ("next_page_status_sorted_ms", next_page),
            ("page_51_status_sorted_ms", deep_page),
            ("first_page_unfiltered_ms", unfiltered_page),
            ("count_tags_ms", tags_count),
        ]:
            figures[name] = _p50(run)
    return figures


def _p50(run: Callable[[], Any]) -> float:
    run()  # warm the statement cache
    timings = []
    for _ in range(RUNS):
        began = time.perf_counter()
        run()
        timings.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(timings), 2)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as directory:
        began = time.perf_counter()
        result = bench_search(directory)
        result["setup_and_run_s"] = round(time.perf_counter() - began, 1)
    json.dump(result, sys.stdout, indent=2)
    print()
