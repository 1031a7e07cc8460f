"""The scheduler's promises, checked from what jobs really did: concurrency limits (measured
from the jobs' own start and end times), retries, cancel racing completion, stopped functions,
``running`` only for jobs a worker has started (jobs claimed ahead stay ``pending``, and a
cancel, a delete or a lowered limit keeps them from starting), and the graceful-stop
re-queue."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.settings import Settings
from support.inprocess import ORIGIN, create_ready_function, make_bundle, wait_for
from support.store_moves import read_jobs

pytestmark = pytest.mark.both_databases

JOBS = "/compute/v1/jobs"
TERMINAL = ("success", "failure", "timeout", "canceled")
ACTIVE = ("running", "cancel", "canceling")

# Each job reports when it ran, by its own clock.
SPAN = "import time\ndef main(i, seconds=0.3):\n    s = time.time()\n    time.sleep(seconds)\n"
SPAN += "    return [s, time.time()]\n"
# Touches a marker file when it starts, then sleeps.
MARKED = "import pathlib, time\ndef main(marker, seconds=60):\n"
MARKED += "    pathlib.Path(marker).touch()\n    time.sleep(seconds)\n"
MARKED += "    pathlib.Path(marker + '.done').touch()\n    return 'done'\n"


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
    # The database never shows more than the limit active.
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
        # What had started finishes; claimed jobs that had not started stay pending.
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


def listed(client: TestClient, headers: dict, function_id: str) -> dict[str, str]:
    """Each job's status as GET /jobs lists it."""
    response = client.get(JOBS, params={"function_id": function_id, "limit": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return {j["id"]: j["status"] for j in response.json()["data"]}


def assert_one_running(client: TestClient, headers: dict, function_id: str, total: int) -> str:
    """Exactly one job is running, in GET /jobs and in job_statistics, the others pending;
    returns the running one."""
    counts = statuses(client, headers, function_id)
    assert (counts["running"], counts["pending"]) == (1, total - 1), counts
    shown = listed(client, headers, function_id)
    running = [job_id for job_id, status in shown.items() if status == "running"]
    assert len(running) == 1 and list(shown.values()).count("pending") == total - 1, shown
    return running[0]


def test_only_started_jobs_are_running_and_cancels_of_queued_ones_never_run(
    settings: Settings, alice: dict, tmp_path: Path
) -> None:
    with serve(settings, workers=1) as client:
        function = create_ready_function(
            client, alice, bundle=make_bundle(MARKED), maximum_concurrency=5
        )
        markers = [tmp_path / f"started-{i}" for i in range(5)]
        created = submit(client, alice, function["id"], [[str(m)] for m in markers])
        ids = [j["id"] for j in created]
        wait_for(lambda: markers[0].exists())
        # One slot: the others are claimed ahead (held in memory) but shown pending.
        wait_for(lambda: statuses(client, alice, function["id"])["running"] == 1)
        for _ in range(5):
            assert assert_one_running(client, alice, function["id"], 5) == ids[0]
            time.sleep(0.1)
        running = job(client, alice, ids[0])
        assert running["execution_count"] == 1 and running["last_execution_date"], running
        assert all(job(client, alice, i)["execution_count"] == 0 for i in ids[1:])

        # A queued job canceled: canceled at once, no attempt, and it never runs.
        queued = client.post(f"{JOBS}/{ids[2]}/cancel", headers=alice).json()
        assert (queued["status"], queued["execution_count"]) == ("canceled", 0), queued
        assert queued["last_execution_date"] is None, queued

        # The running job canceled: canceled, its attempt counted; the next one starts.
        client.post(f"{JOBS}/{ids[0]}/cancel", headers=alice)
        ended = wait_for(lambda: (j := job(client, alice, ids[0]))["status"] == "canceled" and j)
        assert ended["execution_count"] == 1 and ended["last_execution_date"], ended
        wait_for(lambda: markers[1].exists())
        wait_for(lambda: job(client, alice, ids[1])["status"] == "running")
        time.sleep(0.3)
        assert listed(client, alice, function["id"]) == {
            ids[0]: "canceled",
            ids[1]: "running",
            ids[2]: "canceled",
            ids[3]: "pending",
            ids[4]: "pending",
        }
        for job_id in (ids[4], ids[3], ids[1]):  # the queued ones first, or one would start
            client.post(f"{JOBS}/{job_id}/cancel", headers=alice)
        wait_all_done(client, alice, function["id"], 5)
        final = {j["id"]: j for j in (job(client, alice, i) for i in ids)}
        assert {j["status"] for j in final.values()} == {"canceled"}
        assert [final[i]["execution_count"] for i in ids] == [1, 1, 0, 0, 0]
        time.sleep(0.5)
    assert [m.exists() for m in markers] == [True, True, False, False, False]


def test_a_deleted_pending_job_held_by_the_scheduler_is_never_recorded(
    settings: Settings, alice: dict, tmp_path: Path
) -> None:
    with serve(settings, workers=1) as client:
        function = create_ready_function(
            client, alice, bundle=make_bundle(MARKED), maximum_concurrency=3
        )
        markers = [tmp_path / f"started-{i}" for i in range(3)]
        first, doomed, last = submit(
            client,
            alice,
            function["id"],
            [[str(markers[0])], [str(markers[1]), 1], [str(markers[2]), 0]],
        )
        wait_for(lambda: markers[0].exists())
        time.sleep(0.3)  # the other two are claimed ahead by now
        deleted = client.delete(f"{JOBS}/{doomed['id']}", headers=alice)
        assert deleted.status_code == 204, deleted.text
        client.post(f"{JOBS}/{first['id']}/cancel", headers=alice)
        finished = wait_for(
            lambda: (j := job(client, alice, last["id"]))["status"] == "success" and j
        )
        assert finished["execution_count"] == 1
        time.sleep(1.5)  # longer than the deleted job would have run
        assert client.get(f"{JOBS}/{doomed['id']}", headers=alice).status_code == 404
        assert result(client, alice, function, doomed["id"]) is None
        counts = statuses(client, alice, function["id"])
        assert (counts["canceled"], counts["success"]) == (1, 1), counts
        assert sum(counts.values()) == 2, counts
    # The deletion let go of the scheduler's claim: it never started.
    assert not markers[1].exists()


def test_lowering_maximum_concurrency_forgets_claimed_jobs(
    settings: Settings, alice: dict, tmp_path: Path
) -> None:
    with serve(settings, workers=2) as client:
        function = create_ready_function(
            client, alice, bundle=make_bundle(MARKED), maximum_concurrency=4
        )
        markers = [tmp_path / f"started-{i}" for i in range(4)]
        ids = [j["id"] for j in submit(client, alice, function["id"], [[str(m)] for m in markers])]
        wait_for(lambda: markers[0].exists() and markers[1].exists())
        wait_for(lambda: statuses(client, alice, function["id"])["running"] == 2)
        time.sleep(0.3)  # the other two are claimed ahead by now
        client.patch(
            f"/compute/v1/functions/{function['id']}",
            json={"maximum_concurrency": 1},
            headers=alice,
        )
        time.sleep(1.5)  # noticed within a second while the scheduler is otherwise idle
        # Two run on (they started before), so nothing more may start while either runs.
        client.post(f"{JOBS}/{ids[0]}/cancel", headers=alice)
        wait_for(lambda: job(client, alice, ids[0])["status"] == "canceled")
        time.sleep(1.0)
        assert [m.exists() for m in markers] == [True, True, False, False]
        counts = statuses(client, alice, function["id"])
        assert (counts["running"], counts["pending"]) == (1, 2), counts
        # Below the limit again: exactly one more starts.
        client.post(f"{JOBS}/{ids[1]}/cancel", headers=alice)
        wait_for(lambda: markers[2].exists())
        time.sleep(1.0)
        assert not markers[3].exists()
        counts = statuses(client, alice, function["id"])
        assert (counts["running"], counts["pending"]) == (1, 1), counts
        for job_id in (ids[3], ids[2]):  # the pending one first, or it would start
            client.post(f"{JOBS}/{job_id}/cancel", headers=alice)
        wait_all_done(client, alice, function["id"], 4)
    assert [m.exists() for m in markers] == [True, True, True, False]


def test_graceful_stop_requeues_running_jobs_and_forgets_claimed_ones(
    settings: Settings, alice: dict, tmp_path: Path
) -> None:
    markers = [tmp_path / f"started-{i}" for i in range(3)]
    with serve(settings, workers=1, shutdown_grace_seconds=0.5) as client:
        function = create_ready_function(
            client, alice, bundle=make_bundle(MARKED), maximum_concurrency=3
        )
        created = submit(client, alice, function["id"], [[str(m)] for m in markers])
        wait_for(lambda: markers[0].exists())
        wait_for(lambda: statuses(client, alice, function["id"])["running"] == 1)
        time.sleep(0.3)  # the other two are claimed ahead by now, and still pending
        assert statuses(client, alice, function["id"])["pending"] == 2
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 10
    rows = read_jobs(settings, [j["id"] for j in created])
    # The job that ran counts its attempt, cut short by the server (no retry used up); the
    # two claimed ahead never started.
    assert sorted((r["status"], r["execution_count"], r["interruptions"]) for r in rows) == [
        ("pending", 0, 0),
        ("pending", 0, 0),
        ("pending", 1, 1),
    ]
    assert [m.exists() for m in markers] == [True, False, False]


def test_editing_a_claimed_pending_job_runs_it_with_the_new_inputs(
    settings: Settings, alice: dict, tmp_path: Path
) -> None:
    source = MARKED.replace("return 'done'", "return pathlib.Path(marker).name")
    with serve(settings, workers=1) as client:
        function = create_ready_function(
            client, alice, bundle=make_bundle(source), maximum_concurrency=2
        )
        first_marker = tmp_path / "first"
        first, second = submit(
            client, alice, function["id"], [[str(first_marker)], [str(tmp_path / "old"), 0]]
        )
        wait_for(lambda: first_marker.exists())
        time.sleep(0.3)  # the second job is claimed ahead (held in memory) by now
        edited = client.patch(
            f"{JOBS}/{second['id']}", json={"args": [str(tmp_path / "new"), 0]}, headers=alice
        )
        assert edited.status_code == 200, edited.text
        client.post(f"{JOBS}/{first['id']}/cancel", headers=alice)
        done = wait_for(
            lambda: (j := job(client, alice, second["id"]))["status"] == "success" and j
        )
        assert result(client, alice, function, done["id"]) == "new"
    assert not (tmp_path / "old").exists()


# A database that refuses to mark any job running: every round that records a start fails.
_REFUSE_STARTS = {
    "sqlite": [
        "CREATE TRIGGER refuse_starts BEFORE UPDATE OF status ON jobs "
        "WHEN NEW.status = 'running' BEGIN SELECT RAISE(ABORT, 'starts refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_starts() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'starts refused'; END $$",
        "CREATE TRIGGER refuse_starts BEFORE UPDATE OF status ON jobs FOR EACH ROW "
        "WHEN (NEW.status = 'running') EXECUTE FUNCTION refuse_starts()",
    ],
}
_ALLOW_STARTS = {
    "sqlite": ["DROP TRIGGER refuse_starts"],
    "postgresql": ["DROP TRIGGER refuse_starts ON jobs", "DROP FUNCTION refuse_starts()"],
}


def _run_sql(settings: Settings, statements: dict[str, list[str]]) -> None:
    engine = sa.create_engine(settings.resolved_database_url)
    try:
        with engine.begin() as connection:
            for statement in statements[engine.dialect.name]:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_health_names_the_scheduler_while_its_rounds_keep_failing(
    settings: Settings, alice: dict
) -> None:
    with serve(settings) as client:
        function = create_ready_function(client, alice, bundle=make_bundle(SPAN))
        assert client.get("/healthz").status_code == 200
        _run_sql(settings, _REFUSE_STARTS)
        submit(client, alice, function["id"], [[1]])

        def unhealthy() -> bool:
            return client.get("/healthz").status_code == 503

        wait_for(unhealthy, timeout=30)
        problems = client.get("/healthz").json()["problems"]
        assert list(problems) == ["scheduler"]
        assert "rounds in a row failed" in problems["scheduler"]
        assert "starts refused" in problems["scheduler"]
        _run_sql(settings, _ALLOW_STARTS)
        wait_all_done(client, alice, function["id"], 1)
        assert client.get("/healthz").status_code == 200
