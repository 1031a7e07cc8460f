"""The scheduler's promises, checked from what jobs really did: concurrency limits (measured
from the jobs' own start and end times), retries, cancel racing completion, stopped functions,
claimed-ahead jobs handed back, and the graceful-stop re-queue."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.settings import Settings
from batch_compute_mock.store.engine import Database
from batch_compute_mock.store.tables import jobs
from support.inprocess import ORIGIN, create_ready_function, make_bundle, wait_for

JOBS = "/compute/v1/jobs"
TERMINAL = ("success", "failure", "timeout", "canceled")
ACTIVE = ("running", "cancel", "canceling")

# Each job reports when it ran, by its own clock.
SPAN = "import time\ndef main(i, seconds=0.3):\n    s = time.time()\n    time.sleep(seconds)\n"
SPAN += "    return [s, time.time()]\n"
# Touches a marker file when it starts, then sleeps.
MARKED = "import pathlib, time\ndef main(marker, seconds=60):\n"
MARKED += "    pathlib.Path(marker).touch()\n    time.sleep(seconds)\n    return 'done'\n"


@contextmanager
def serve(settings: Settings, **changes: Any) -> Iterator[TestClient]:
    running = attrs.evolve(settings, execute_jobs=True, **changes)
    with TestClient(create_app(running), base_url=ORIGIN) as client:
        yield client


def submit(client: TestClient, headers: dict, function_id: str, bulk_args: list) -> list[dict]:
    response = client.post(
        f"{JOBS}/bulk", json={"function_id": function_id, "bulk_args": bulk_args}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def statuses(client: TestClient, headers: dict, function_id: str) -> dict[str, int]:
    response = client.get(
        f"/compute/v1/functions/{function_id}",
        params={"include": "job.statistics"},
        headers=headers,
    )
    return response.json()["job_statistics"]  # type: ignore[no-any-return]


def job(client: TestClient, headers: dict, job_id: str) -> dict:
    return client.get(f"{JOBS}/{job_id}", headers=headers).json()  # type: ignore[no-any-return]


def wait_all_done(
    client: TestClient, headers: dict, function_id: str, count: int, timeout: float = 60
) -> None:
    wait_for(
        lambda: sum(statuses(client, headers, function_id)[s] for s in TERMINAL) == count,
        timeout=timeout,
    )


def result(client: TestClient, headers: dict, function: dict, job_id: str) -> Any:
    blob_id = f"compute/{function['namespace']}/{function['id']}/{job_id}"
    download = client.get(
        f"/catalog/v2/storage/download/{urllib.parse.quote(blob_id, safe='/')}", headers=headers
    )
    if download.status_code == 404:
        return None
    url = download.json()["data"]["attributes"]["resumable_url"]
    return json.loads(client.get(url.removeprefix(ORIGIN)).content)


def most_overlapping(spans: list[list[float]]) -> int:
    """The largest number of spans running at one instant (an end before a start at a tie)."""
    events = sorted([(end, -1) for _, end in spans] + [(start, 1) for start, _ in spans])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def test_function_maximum_concurrency_is_never_exceeded(settings: Settings, alice: dict) -> None:
    with serve(settings, workers=4) as client:
        function = create_ready_function(
            client, alice, bundle=make_bundle(SPAN), maximum_concurrency=2
        )
        created = submit(client, alice, function["id"], [[i] for i in range(12)])
        active_seen = 0

        def done() -> bool:
            nonlocal active_seen
            counts = statuses(client, alice, function["id"])
            active_seen = max(active_seen, sum(counts[s] for s in ACTIVE))
            return counts["success"] == len(created)

        wait_for(done, timeout=60)
        spans = [result(client, alice, function, j["id"]) for j in created]
    assert most_overlapping(spans) == 2
    # Claimed-ahead jobs count too: the database never shows more than the limit active.
    assert 1 <= active_seen <= 2


def test_global_slots_are_never_exceeded(settings: Settings, alice: dict) -> None:
    with serve(settings, workers=2) as client:
        functions = [
            create_ready_function(client, alice, bundle=make_bundle(SPAN), maximum_concurrency=5)
            for _ in range(2)
        ]
        created = {
            f["id"]: submit(client, alice, f["id"], [[i] for i in range(6)]) for f in functions
        }
        for function in functions:
            wait_all_done(client, alice, function["id"], 6)
        spans = [
            result(client, alice, function, j["id"])
            for function in functions
            for j in created[function["id"]]
        ]
    assert None not in spans
    assert most_overlapping(spans) == 2


def test_retries_are_counted(settings: Settings, alice: dict, tmp_path: Path) -> None:
    flaky = (
        "import pathlib\n"
        "def main(counter):\n"
        "    path = pathlib.Path(counter)\n"
        "    runs = int(path.read_text()) if path.exists() else 0\n"
        "    path.write_text(str(runs + 1))\n"
        "    if runs == 0:\n"
        "        raise RuntimeError('first attempt fails')\n"
        "    return runs + 1\n"
    )
    failing = "def main():\n    raise ValueError('always')\n"
    with serve(settings) as client:
        retried = create_ready_function(client, alice, bundle=make_bundle(flaky), retry_count=3)
        doomed = create_ready_function(client, alice, bundle=make_bundle(failing), retry_count=1)
        (recovered,) = submit(client, alice, retried["id"], [[str(tmp_path / "counter")]])
        (failed,) = submit(client, alice, doomed["id"], [[]])
        wait_all_done(client, alice, retried["id"], 1)
        wait_all_done(client, alice, doomed["id"], 1)
        recovered = job(client, alice, recovered["id"])
        failed = job(client, alice, failed["id"])
        assert (recovered["status"], recovered["execution_count"]) == ("success", 2)
        assert result(client, alice, retried, recovered["id"]) == 2
        assert (failed["status"], failed["execution_count"]) == ("failure", 2)
        assert "ValueError: always" in failed["error_reason"]


def test_cancel_racing_completion_never_sticks(settings: Settings, alice: dict) -> None:
    source = "import time\ndef main(i):\n    time.sleep((i % 5) * 0.01)\n    return i * 10\n"
    with serve(settings, workers=2) as client:
        function = create_ready_function(client, alice, bundle=make_bundle(source))
        created = submit(client, alice, function["id"], [[i] for i in range(60)])
        for index, submitted in enumerate(created):
            response = client.post(f"{JOBS}/{submitted['id']}/cancel", headers=alice)
            assert response.status_code in (200, 409), response.text
            if index % 3 == 0:
                time.sleep(0.01)
        wait_all_done(client, alice, function["id"], len(created), timeout=60)
        final = [job(client, alice, j["id"]) for j in created]
        assert {j["status"] for j in final} <= {"success", "canceled"}
        for index, ended in enumerate(final):
            value = result(client, alice, function, ended["id"])
            if ended["status"] == "success":
                assert value == index * 10, ended
            else:
                assert value is None, ended
        counts = statuses(client, alice, function["id"])
        assert sum(counts[s] for s in ("pending", *ACTIVE)) == 0


def test_stopped_function_jobs_wait_until_started(settings: Settings, alice: dict) -> None:
    with serve(settings, workers=2) as client:
        function = create_ready_function(
            client, alice, bundle=make_bundle(SPAN), maximum_concurrency=4
        )
        created = submit(client, alice, function["id"], [[i, 0.4] for i in range(10)])
        wait_for(lambda: statuses(client, alice, function["id"])["success"] >= 1)
        patch = client.patch(
            f"/compute/v1/functions/{function['id']}", json={"status": "stopped"}, headers=alice
        )
        assert patch.status_code == 200
        stopped_at = time.time()
        # What had started finishes; claimed jobs that had not started go back to pending.
        wait_for(
            lambda: sum(statuses(client, alice, function["id"])[s] for s in ACTIVE) == 0,
            timeout=10,
        )
        held = statuses(client, alice, function["id"])
        time.sleep(1.5)
        assert statuses(client, alice, function["id"]) == held
        assert held["pending"] >= 3
        waiting = [j for j in created if job(client, alice, j["id"])["status"] == "pending"]
        assert all(job(client, alice, j["id"])["execution_count"] == 0 for j in waiting)
        started = client.patch(
            f"/compute/v1/functions/{function['id']}", json={"status": "ready"}, headers=alice
        )
        assert started.status_code == 200
        released_at = time.time()
        wait_all_done(client, alice, function["id"], len(created))
        assert statuses(client, alice, function["id"])["success"] == len(created)
        later = [result(client, alice, function, j["id"]) for j in waiting]
    # None of the held jobs ran while the function was stopped.
    assert all(start >= released_at - 0.05 for start, _ in later), (stopped_at, later)


def test_cancel_of_a_claimed_job_that_has_not_started(
    settings: Settings, alice: dict, tmp_path: Path
) -> None:
    with serve(settings, workers=1) as client:
        function = create_ready_function(
            client, alice, bundle=make_bundle(MARKED), maximum_concurrency=5
        )
        markers = [tmp_path / f"started-{i}" for i in range(3)]
        created = submit(client, alice, function["id"], [[str(m)] for m in markers])
        wait_for(lambda: markers[0].exists())
        # One worker: the first runs, the other two are claimed ahead (running, queued).
        wait_for(lambda: statuses(client, alice, function["id"])["running"] == 3)
        canceled = client.post(f"{JOBS}/{created[2]['id']}/cancel", headers=alice)
        assert canceled.status_code == 200
        ended = wait_for(
            lambda: (j := job(client, alice, created[2]["id"]))["status"] == "canceled" and j
        )
        assert ended["execution_count"] == 0
        assert not markers[2].exists()
        for submitted in reversed(created[:2]):  # the queued one first, or it would start
            client.post(f"{JOBS}/{submitted['id']}/cancel", headers=alice)
        wait_all_done(client, alice, function["id"], 3)
        assert not markers[1].exists()


def test_lowering_maximum_concurrency_hands_claimed_jobs_back(
    settings: Settings, alice: dict, tmp_path: Path
) -> None:
    with serve(settings, workers=1) as client:
        function = create_ready_function(
            client, alice, bundle=make_bundle(MARKED), maximum_concurrency=4
        )
        markers = [tmp_path / f"started-{i}" for i in range(4)]
        created = submit(client, alice, function["id"], [[str(m)] for m in markers])
        wait_for(lambda: markers[0].exists())
        wait_for(lambda: statuses(client, alice, function["id"])["running"] == 4)
        client.patch(
            f"/compute/v1/functions/{function['id']}",
            json={"maximum_concurrency": 1},
            headers=alice,
        )
        wait_for(lambda: statuses(client, alice, function["id"])["pending"] == 3, timeout=5)
        assert statuses(client, alice, function["id"])["running"] == 1
        for submitted in reversed(created):  # pending ones first, or one would start
            client.post(f"{JOBS}/{submitted['id']}/cancel", headers=alice)
        wait_all_done(client, alice, function["id"], 4)
        assert [m.exists() for m in markers] == [True, False, False, False]


def test_graceful_stop_requeues_running_and_claimed_jobs(
    settings: Settings, alice: dict, tmp_path: Path
) -> None:
    markers = [tmp_path / f"started-{i}" for i in range(3)]
    with serve(settings, workers=1, shutdown_grace_seconds=0.5) as client:
        function = create_ready_function(
            client, alice, bundle=make_bundle(MARKED), maximum_concurrency=3
        )
        created = submit(client, alice, function["id"], [[str(m)] for m in markers])
        wait_for(lambda: markers[0].exists())
        wait_for(lambda: statuses(client, alice, function["id"])["running"] == 3)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 10
    db = Database(settings.resolved_database_url)
    try:
        with db.read() as conn:
            rows = conn.execute(
                sa.select(jobs.c.id, jobs.c.status, jobs.c.execution_count).where(
                    jobs.c.id.in_([j["id"] for j in created])
                )
            ).all()
    finally:
        db.dispose()
    assert sorted((status, count) for _, status, count in rows) == [("pending", 0)] * 3
    assert [m.exists() for m in markers] == [True, False, False]
