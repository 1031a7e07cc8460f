"""Jobs really run: outcomes, results through the catalog slice, logs, retries, cancel."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from starlette.testclient import TestClient

from batch_compute_mock.app import create_app
from batch_compute_mock.settings import Settings
from support.inprocess import ORIGIN, create_ready_function, make_bundle, wait_for

JOBS = "/compute/v1/jobs"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    running = attrs.evolve(settings, execute_jobs=True)
    with TestClient(create_app(running), base_url=ORIGIN) as test_client:
        yield test_client


def run_job(client: TestClient, headers: dict, function_id: str, *args: object, **kw: object):
    job = client.post(
        JOBS, json={"function_id": function_id, "args": list(args), "kwargs": kw}, headers=headers
    ).json()

    def finished() -> dict | None:
        current = client.get(f"{JOBS}/{job['id']}", headers=headers).json()
        return (
            current if current["status"] in ("success", "failure", "timeout", "canceled") else None
        )

    return wait_for(finished, timeout=30)


def result_bytes(client: TestClient, headers: dict, function: dict, job: dict) -> bytes | None:
    blob_id = f"compute/{function['namespace']}/{function['id']}/{job['id']}"
    quoted = urllib.parse.quote(blob_id, safe="/")
    download = client.get(f"/catalog/v2/storage/download/{quoted}", headers=headers)
    if download.status_code == 404:
        return None
    url = download.json()["data"]["attributes"]["resumable_url"]
    data = client.get(url.removeprefix(ORIGIN))
    assert data.status_code == 200 and "content-encoding" not in data.headers
    return data.content


def test_success_result_and_log(client: TestClient, alice: dict) -> None:
    source = "def main(a, b=0):\n    print('adding', a, b)\n    return {'sum': a + b}\n"
    function = create_ready_function(client, alice, bundle=make_bundle(source))
    job = run_job(client, alice, function["id"], 2, b=3)
    assert job["status"] == "success", job
    assert (job["exit_code"], job["execution_count"]) == (0, 1)
    assert job["last_execution_date"] and job["last_completion_date"]
    assert json.loads(result_bytes(client, alice, function, job) or b"") == {"sum": 5}
    log = client.get(f"{JOBS}/{job['id']}/log", headers=alice).text.splitlines()
    assert [json.loads(line)["log"] for line in log] == ["adding 2 3"]
    assert all(json.loads(line)["date"].endswith("Z") for line in log)


def test_exception_fails_and_retries(client: TestClient, alice: dict) -> None:
    source = "def main():\n    raise ValueError('bad input')\n"
    function = create_ready_function(client, alice, bundle=make_bundle(source), retry_count=2)
    job = run_job(client, alice, function["id"])
    assert job["status"] == "failure"
    assert job["execution_count"] == 3
    assert job["exit_code"] == 1
    assert "ValueError: bad input" in job["error_reason"]
    assert result_bytes(client, alice, function, job) is None


def test_timeout(client: TestClient, alice: dict) -> None:
    source = "import time\ndef main():\n    time.sleep(60)\n"
    function = create_ready_function(client, alice, bundle=make_bundle(source), timeout=1)
    started = time.monotonic()
    job = run_job(client, alice, function["id"])
    assert job["status"] == "timeout"
    assert time.monotonic() - started < 15


def test_cancel_running_job(client: TestClient, alice: dict) -> None:
    source = "import time\ndef main():\n    time.sleep(60)\n"
    function = create_ready_function(client, alice, bundle=make_bundle(source))
    job = client.post(JOBS, json={"function_id": function["id"]}, headers=alice).json()
    wait_for(lambda: client.get(f"{JOBS}/{job['id']}", headers=alice).json()["status"] == "running")
    assert client.post(f"{JOBS}/{job['id']}/cancel", headers=alice).json()["status"] in (
        "cancel",
        "canceling",
        "canceled",
    )
    final = wait_for(
        lambda: (
            (j := client.get(f"{JOBS}/{job['id']}", headers=alice).json())["status"] == "canceled"
            and j
        )
    )
    assert final["status"] == "canceled"


def test_stopped_function_holds_jobs_until_started(client: TestClient, alice: dict) -> None:
    function = create_ready_function(client, alice, auto_start=False)
    job = client.post(
        JOBS, json={"function_id": function["id"], "args": [1, 1]}, headers=alice
    ).json()
    time.sleep(1.0)
    assert client.get(f"{JOBS}/{job['id']}", headers=alice).json()["status"] == "pending"
    client.patch(f"/compute/v1/functions/{function['id']}", json={"status": "ready"}, headers=alice)
    done = wait_for(
        lambda: (
            (j := client.get(f"{JOBS}/{job['id']}", headers=alice).json())["status"] == "success"
            and j
        )
    )
    assert done["status"] == "success"


def test_function_environment_and_job_environment(
    client: TestClient, alice: dict, tmp_path: Path
) -> None:
    source = "import os\ndef main():\n    return [os.environ.get('A'), os.environ.get('B')]\n"
    function = create_ready_function(
        client, alice, bundle=make_bundle(source), environment={"A": "fn", "B": "fn"}
    )
    job = client.post(
        JOBS, json={"function_id": function["id"], "environment": {"B": "job"}}, headers=alice
    ).json()
    done = wait_for(
        lambda: (
            (j := client.get(f"{JOBS}/{job['id']}", headers=alice).json())["status"] == "success"
            and j
        )
    )
    assert json.loads(result_bytes(client, alice, function, done) or b"") == ["fn", "job"]
