"""Dashboard page times over 100,000 jobs of one function, p50 over 30 runs.

A fresh data dir gets one function whose 100,000 jobs are written straight into the store
(``Writer.insert_jobs``, as ``bench_search.py`` does): finished ones spread over the last
hour with mixed outcomes and runtimes, some pending and running. The pages are then fetched
through the whole app in process (the ASGI stack, the session check, the services, the
templates), signed in as their owner, so each figure is what the server spends on a page.

Call ``bench_dashboard(tmpdir)`` from scripts/bench, or run this file:
``PYTHONPATH=mockserver:sdk .venv/bin/python scripts/bench_dashboard.py``.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.server import Server
from batch_compute_mock.service.identity import client_claims, identity_from_token, make_token
from batch_compute_mock.settings import Settings

__all__ = ["bench_dashboard"]

RUNS = 30
ORIGIN = "http://bench"
OUTCOMES = (("success", 0.75), ("failure", 0.1), ("timeout", 0.03), ("canceled", 0.02))


def bench_dashboard(
    tmpdir: str | Path,
    jobs: int = 100_000,
    database_url: str | None = None,
    settle: Callable[[], None] = lambda: None,
) -> dict[str, float]:
    """Milliseconds (p50) of the dashboard's pages over a function with ``jobs`` jobs
    (``settle`` runs between the fill and the measures)."""
    settings = Settings(
        data_dir=Path(tmpdir) / "data",
        database_url=database_url,
        public_url=ORIGIN,
        execute_jobs=False,
    )
    server = Server.create(settings)
    token = make_token(client_claims("bench"))
    function_id = _fill(server, token, jobs)
    settle()
    with TestClient(create_app(settings, server), base_url=ORIGIN) as client:
        form = client.get("/dashboard/signin").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf, form
        signed = client.post("/dashboard/signin", data={"token": token, "csrf": csrf[1]})
        assert signed.status_code == 200, signed.text
        base = f"/dashboard/functions/{function_id}"
        table = f"{base}?status=failure&sort=-runtime"
        first = client.get(table).text
        next_page = re.search(r'<a rel="next" href="([^"#]+)', first)
        assert next_page, "the filtered table has a second page"
        a_job = re.search(r'href="(/dashboard/jobs/[^"]+)"', first)
        assert a_job
        pages = {
            "functions_page_ms": "/dashboard/",
            "function_page_ms": base,
            "function_page_live_update_ms": f"{base}?part=live",
            "jobs_table_failure_by_runtime_ms": table,
            "jobs_table_next_page_ms": next_page[1].replace("&amp;", "&"),
            "job_page_ms": a_job[1],
        }
        return {name: _p50(client, path) for name, path in pages.items()}


def _fill(server: Server, token: str, count: int) -> str:
    identity = identity_from_token(token)
    function_id = "bench-function"
    now = datetime.now(UTC)
    stamp = (now - timedelta(hours=2)).isoformat()
    rng = random.Random(17)
    with server.store.write() as writer:
        writer.insert_function(
            {
                "id": function_id, "owner": identity.owner, "namespace": identity.namespace,
                "name": "bench", "image": "python3.11:latest", "cpus": 1, "memory": 2048,
                "maximum_concurrency": 100, "timeout": 900, "retry_count": 0, "enabled": True,
                "auto_start": True, "environment": None, "status": "ready",
                "creation_date": stamp, "modified_date": stamp,
            }
        )  # fmt: skip
        rows: list[dict[str, Any]] = []
        for n in range(count):
            created = now - timedelta(hours=1, seconds=-n * 3600 / count)
            status = _status(rng)
            finished = status not in ("pending", "running")
            runtime = rng.randrange(120) if finished and status != "canceled" else None
            rows.append(
                {
                    "id": f"{created.timestamp():.6f}-{n:07d}",
                    "function_id": function_id,
                    "owner": identity.owner,
                    "creation_date": _stored(created),
                    "args": [n],
                    "kwargs": {},
                    "tags": rng.sample(["a", "b", "c"], rng.randrange(2)),
                    "status": status,
                    "execution_count": 0 if status == "pending" else 1,
                    "exit_code": (1 if status == "failure" else 0) if finished else None,
                    "runtime": runtime,
                    "last_execution_date": None if status == "pending" else _stored(created),
                    "last_completion_date": _stored(created + timedelta(seconds=runtime or 0))
                    if finished
                    else None,
                    "error_reason": "ValueError: bench" if status == "failure" else None,
                }
            )
            if len(rows) == 10_000:
                writer.insert_jobs(rows)
                rows.clear()
        writer.insert_jobs(rows)
    return function_id


def _status(rng: random.Random) -> str:
    draw = rng.random()
    for status, share in OUTCOMES:
        if draw < share:
            return status
        draw -= share
    return "pending" if draw < 0.05 else "running"


def _stored(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _p50(client: TestClient, path: str) -> float:
    def fetch() -> None:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])

    return _median(fetch)


def _median(run: Callable[[], None]) -> float:
    run()  # warm the caches
    timings = []
    for _ in range(RUNS):
        began = time.perf_counter()
        run()
        timings.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(timings), 1)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as directory:
        began = time.perf_counter()
        figures = bench_dashboard(directory)
        figures["setup_and_run_s"] = round(time.perf_counter() - began, 1)
    json.dump(figures, sys.stdout, indent=2)
    print()
